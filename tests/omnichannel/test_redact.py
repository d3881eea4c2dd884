"""Secrets from the config are scrubbed from every log record, at every level."""

from __future__ import annotations

import io
import logging

from omnichannel import redact
from omnichannel.config import parse_config
from omnichannel.logs import setup_logging


def test_config_secrets_and_the_store_password_never_reach_a_log_line():
    config = parse_config("store: {url: '${URL}'}\nhttp: {coordinator_tokens: ['${TOK}']}\n",
                          env={"URL": "postgresql+asyncpg://omni:p%40ss-w0rd-9@db/omni", "TOK": "coordinator-secret-9"})
    redact.register_config(config)
    stream = io.StringIO()
    setup_logging("DEBUG", stream=stream)
    log = logging.getLogger("tests.redact")
    try:
        log.debug("connecting to %s", config.store.url)
        log.error("refused token %s", "coordinator-secret-9")
        try:
            raise RuntimeError("token coordinator-secret-9 in a library's message")
        except RuntimeError:
            log.warning("with a traceback", exc_info=True)
    finally:
        logging.getLogger().handlers = [h for h in logging.getLogger().handlers if not getattr(h, "_omnichannel", False)]
    text = stream.getvalue()
    assert "coordinator-secret-9" not in text and "p%40ss-w0rd-9" not in text and "p@ss-w0rd-9" not in text
    assert text.count("***") == 4 and "postgresql+asyncpg://omni:***@db/omni" in text
