"""Every forwarder kind of this package validates through the daemon's config loader; secrets only from env."""

from __future__ import annotations

import pytest

from omnichannel.config import parse_config
from omnichannel.errors import ConfigError

YAML = """
forwarders:
  - {name: queue, kind: db}
  - {name: hook, kind: webhook, url: "https://pupr.example.id/hook", secret: "${HOOK_SECRET}", max_in_flight: 8}
  - {name: mail, kind: email, host: smtp.example.id, port: 587, username: ops, password: "${SMTP_PASSWORD}",
     start_tls: true, item_types: [ticket, notification]}
  - {name: mq, kind: rabbitmq, password: "${MQ_PASSWORD}", queue: dpupr-tickets}
  - {name: rs, kind: redis, url: "redis://127.0.0.1:6379/1", password: "${REDIS_PASSWORD}"}
"""
ENV = {"HOOK_SECRET": "s1", "SMTP_PASSWORD": "s2", "MQ_PASSWORD": "s3", "REDIS_PASSWORD": "s4"}


def test_all_kinds_parse_with_secrets_from_env() -> None:
    config = parse_config(YAML, env=ENV)
    kinds = {f.name: type(f).__name__ for f in config.forwarders}
    assert kinds == {"queue": "DbQueueConfig", "hook": "WebhookConfig", "mail": "EmailForwarderConfig",
                     "mq": "RabbitMQConfig", "rs": "RedisStreamConfig"}
    assert config.forwarders[1].secret.get_secret_value() == "s1"
    assert "s1" not in str(config.redacted()) and "s2" not in str(config.redacted())


@pytest.mark.parametrize(("needle", "replacement", "key"), [
    ('"${HOOK_SECRET}"', "plain", "forwarders[1].secret"),
    ('"${SMTP_PASSWORD}"', "plain", "forwarders[2].password"),
    ("port: 587", "port: 587, tls_everywhere: true", "forwarders[2].tls_everywhere"),
    ('url: "https://pupr.example.id/hook"', 'url: "ftp://x"', "forwarders[1].url"),
])
def test_bad_forwarder_config_names_the_key(needle: str, replacement: str, key: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(YAML.replace(needle, replacement), env=ENV)
    assert info.value.path == key
