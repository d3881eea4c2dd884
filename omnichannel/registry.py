"""Kind → "module:Class" maps, imported lazily so a missing optional library disables only that kind."""

from __future__ import annotations

import importlib
from typing import Any

# kind -> (plugin class, config class)
CONNECTORS: dict[str, tuple[str, str]] = {
    "webform": ("connectors.webform:WebformConnector", "connectors.webform:WebformConfig"),
    "telegram": ("connectors.telegram:TelegramConnector", "connectors.telegram_config:TelegramConfig"),
    "whatsapp": ("connectors.whatsapp:WhatsAppConnector", "connectors.whatsapp_config:WhatsAppConfig"),
    "x": ("connectors.x:XConnector", "connectors.x_config:XConfig"),
    "imap": ("connectors.imap:ImapConnector", "connectors.imap_config:ImapConfig"),
}

FORWARDERS: dict[str, tuple[str, str]] = {
    "db": ("router.forwarders.db:DbQueueForwarder", "router.forwarders.db:DbQueueConfig"),
    "email": ("router.forwarders.email:EmailForwarder", "router.forwarders.email:EmailForwarderConfig"),
    "telegram": (
        "router.forwarders.telegram:TelegramGroupForwarder",
        "router.forwarders.telegram:TelegramGroupConfig",
    ),
    "webhook": ("router.forwarders.webhook:WebhookForwarder", "router.forwarders.webhook:WebhookConfig"),
    "rabbitmq": ("router.forwarders.rabbitmq:RabbitMQForwarder", "router.forwarders.rabbitmq:RabbitMQConfig"),
    "redis": ("router.forwarders.redis:RedisStreamForwarder", "router.forwarders.redis:RedisStreamConfig"),
    "lapor": ("router.forwarders.lapor:LaporForwarder", "router.forwarders.lapor:LaporConfig"),
}

# top-level config sections whose schema belongs to another package
SECTIONS: dict[str, str] = {
    "routing": "router.config:RoutingConfig",
    "dedup": "router.dedup_config:DedupConfig",
    "sla": "omnichannel.sla:SlaConfig",
}

# the router pipeline the daemon runs over received complaints
PIPELINE = "router.pipeline:RouterPipeline"


def load(target: str) -> Any:
    """Import ``"module:Attr"`` and return the attribute (raises ImportError/AttributeError)."""
    module_name, _, attr = target.partition(":")
    module = importlib.import_module(module_name)
    return getattr(module, attr)
