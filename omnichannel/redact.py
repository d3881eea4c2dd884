"""Secrets never shown: every configured secret is known here and replaced by ``***`` wherever text
leaves the process (log records at every level, ``/readyz``, error answers).

Libraries put credentials in their messages (python-telegram-bot's ``InvalidToken`` names the bot
token, URLs carry it in their path, a database URL its password): scrubbing at the boundary
catches what no call site can be trusted to leave out.
"""

from __future__ import annotations

import re
import threading
from typing import Any
from urllib.parse import unquote, urlsplit

from pydantic import BaseModel, SecretStr

MASK = "***"
MIN_LENGTH = 6  # shorter values would mask ordinary words (config load refuses blank secrets anyway)

_lock = threading.Lock()
_known: set[str] = set()
_pattern: re.Pattern[str] | None = None


def register(*values: str | SecretStr | None) -> None:
    """Remember secret values to scrub from now on."""
    global _pattern
    added = False
    with _lock:
        for value in values:
            raw = value.get_secret_value() if isinstance(value, SecretStr) else value
            if raw and len(raw.strip()) >= MIN_LENGTH and raw not in _known:
                _known.add(raw)
                added = True
        if added:
            ordered = sorted(_known, key=len, reverse=True)  # the longest first: no half-masked secret
            _pattern = re.compile("|".join(re.escape(v) for v in ordered))


def url_password(url: str) -> str | None:
    """The password in ``scheme://user:password@host/...``, if any."""
    try:
        password = urlsplit(url).password
    except ValueError:
        return None
    return unquote(password) if password else None


def register_config(config: Any) -> None:
    """Every ``SecretStr`` in a config tree, and the password of ``store.url``."""
    found: list[SecretStr | str | None] = []

    def walk(node: Any) -> None:
        if isinstance(node, SecretStr):
            found.append(node)
        elif isinstance(node, BaseModel):
            for _, value in node:
                walk(value)
        elif isinstance(node, (list, tuple)):
            for item in node:
                walk(item)
        elif isinstance(node, dict):
            for item in node.values():
                walk(item)

    walk(config)
    store = getattr(config, "store", None)
    if store is not None and getattr(store, "url", None):
        password = url_password(store.url)
        found.extend([password, password and urlsplit(store.url).password])
    register(*found)


def scrub(text: str) -> str:
    """``text`` with every known secret replaced by ``***``."""
    pattern = _pattern
    if pattern is None or not text:
        return text
    return pattern.sub(MASK, text)
