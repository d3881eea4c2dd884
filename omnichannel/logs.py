"""Logging setup: text or JSON lines, the connector and external id on every record, personal data masked."""

from __future__ import annotations

import contextvars
import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from omnichannel.redact import scrub

_connector: contextvars.ContextVar[str] = contextvars.ContextVar("connector", default="-")
_external_id: contextvars.ContextVar[str] = contextvars.ContextVar("external_id", default="-")


@contextmanager
def log_context(connector: str | None = None, external_id: str | None = None) -> Iterator[None]:
    """Within the block, every log record carries this connector name and external id."""
    tokens = []
    if connector is not None:
        tokens.append((_connector, _connector.set(connector)))
    if external_id is not None:
        tokens.append((_external_id, _external_id.set(external_id)))
    try:
        yield
    finally:
        for var, token in reversed(tokens):
            var.reset(token)


def _mask(text: str) -> str:
    try:
        from omnichannel import pii
    except ImportError:  # pragma: no cover - pii ships with the package
        return text
    return pii.mask(text)


class ContextFilter(logging.Filter):
    """Adds ``connector``/``external_id``, scrubs secrets from every record and masks personal data
    in records above DEBUG."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Annotate (and mask) the record; never drops it."""
        if not hasattr(record, "connector"):
            record.connector = _connector.get()
        if not hasattr(record, "external_id"):
            record.external_id = _external_id.get()
        message = record.getMessage()
        # secrets (a bot token in a library's message, a URL's password) at every level
        cleaned = scrub(message)
        if record.levelno > logging.DEBUG:
            cleaned = _mask(cleaned)
        if cleaned != message or record.args:
            record.msg, record.args = cleaned, None
        if record.exc_info or record.exc_text:  # another handler may have cached the unmasked traceback
            text = scrub(record.exc_text or logging.Formatter().formatException(record.exc_info))
            record.exc_text = _mask(text) if record.levelno > logging.DEBUG else text
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line."""

    def format(self, record: logging.LogRecord) -> str:
        """Serialise the record."""
        doc = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "connector": getattr(record, "connector", "-"),
            "external_id": getattr(record, "external_id", "-"),
            "message": record.getMessage(),
        }
        if record.exc_info:
            doc["exc"] = record.exc_text or self.formatException(record.exc_info)
        return json.dumps(doc, ensure_ascii=False)


class LongPollFilter(logging.Filter):
    """Drops APScheduler's "skipped: maximum number of running instances" for poll jobs.

    A long-polling connector (Telegram getUpdates, IMAP IDLE) is busy for longer than its interval by
    design; the supervisor's ``max_instances=1`` is what keeps polls from overlapping, not a fault.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """False for the expected skip of a ``poll:`` job."""
        message = record.getMessage()
        return not ("maximum number of running instances" in message and 'poll:' in message)


TEXT_FORMAT = "%(asctime)s %(levelname)-7s %(name)s [%(connector)s %(external_id)s] %(message)s"


def setup_logging(level: str = "INFO", fmt: str = "text", stream: object = None) -> None:
    """Configure the root logger once for the daemon or a CLI command."""
    handler = logging.StreamHandler(stream or sys.stderr)  # type: ignore[arg-type]
    handler.addFilter(ContextFilter())
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT))
    handler._omnichannel = True  # type: ignore[attr-defined]
    root = logging.getLogger()
    for old in list(root.handlers):  # replace our own earlier handler; leave others' (e.g. pytest's) alone
        if getattr(old, "_omnichannel", False):
            root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    logging.getLogger("apscheduler.scheduler").addFilter(LongPollFilter())
    for noisy in ("httpx", "apscheduler.scheduler", "apscheduler.executors.default", "aiosqlite",
                  "asyncio", "alembic"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLevelName(level)))
