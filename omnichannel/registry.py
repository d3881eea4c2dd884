"""Kind → "module:Class" maps, imported lazily so a missing optional library disables only that kind."""

from __future__ import annotations

import importlib
from typing import Any

# kind -> (plugin class, config class)
CONNECTORS: dict[str, tuple[str, str]] = {
    "webform": ("connectors.webform.connector:WebformConnector", "connectors.webform.connector:WebformConfig"),
    "telegram": ("connectors.telegram.connector:TelegramConnector", "connectors.telegram.config:TelegramConfig"),
    "whatsapp": ("connectors.whatsapp.connector:WhatsAppConnector", "connectors.whatsapp.config:WhatsAppConfig"),
    "x": ("connectors.x.connector:XConnector", "connectors.x.config:XConfig"),
    "imap": ("connectors.email.connector:ImapConnector", "connectors.email.config:ImapConfig"),
    "facebook": ("connectors.meta.facebook:FacebookConnector", "connectors.meta.config:FacebookConfig"),
    "instagram": ("connectors.meta.instagram:InstagramConnector", "connectors.meta.config:InstagramConfig"),
}

FORWARDERS: dict[str, tuple[str, str]] = {
    "db": ("router.delivery.forwarders.db:DbQueueForwarder", "router.delivery.forwarders.db:DbQueueConfig"),
    "email": ("router.delivery.forwarders.email:EmailForwarder", "router.delivery.forwarders.email:EmailForwarderConfig"),
    "telegram": (
        "router.delivery.forwarders.telegram:TelegramGroupForwarder",
        "router.delivery.forwarders.telegram:TelegramGroupConfig",
    ),
    "webhook": ("router.delivery.forwarders.webhook:WebhookForwarder", "router.delivery.forwarders.webhook:WebhookConfig"),
    "rabbitmq": ("router.delivery.forwarders.rabbitmq:RabbitMQForwarder", "router.delivery.forwarders.rabbitmq:RabbitMQConfig"),
    "redis": ("router.delivery.forwarders.redis:RedisStreamForwarder", "router.delivery.forwarders.redis:RedisStreamConfig"),
    "lapor": ("router.delivery.forwarders.lapor:LaporForwarder", "router.delivery.forwarders.lapor:LaporConfig"),
}

# top-level config sections whose schema belongs to another package
SECTIONS: dict[str, str] = {
    "routing": "router.config:RoutingConfig",
    "dedup": "router.dedup.config:DedupConfig",
    "sla": "omnichannel.sla:SlaConfig",
    "reports": "omnichannel.reports.digest:ReportsConfig",
}

# the router pipeline the daemon runs over received complaints
PIPELINE = "router.pipeline:RouterPipeline"
# the dispatcher that hands outbox rows to forwarders and connectors' repliers
DISPATCHER = "router.delivery.dispatcher:Dispatcher"
# officers' answers and status changes (omnichannel.protocols.AnswerDesk), for the officer API
ANSWERS = "router.delivery.desk:AnswerDesk"
# ``omnichannel eval``: routing and grouping quality on labelled files
EVAL_ROUTING = "router.eval.routing:main"
EVAL_DEDUP = "router.eval.dedup:main"
EVAL_CITIES = "router.eval.cities:main"
EVAL_CORRECTIONS = "router.eval.corrections:main"
# subcommands other packages add to the CLI (each ``add_cli(subparsers)``)
CLI_EXTENSIONS = ("router.delivery.outbox_cli:add_cli", "omnichannel.sandbox.cli:add_cli",
                  "omnichannel.demo.runner:add_cli", "omnichannel.reports.cli:add_cli", "router.train:add_cli",
                  "omnichannel.desk_cli:add_cli")


def load(target: str) -> Any:
    """Import ``"module:Attr"`` and return the attribute (raises ImportError/AttributeError)."""
    module_name, _, attr = target.partition(":")
    module = importlib.import_module(module_name)
    return getattr(module, attr)
