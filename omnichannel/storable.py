"""What a channel sends, made storable on SQLite and PostgreSQL without losing the raw bytes.

PostgreSQL refuses NUL in text and JSON (``\\u0000``), both databases refuse a lone surrogate
(``\\ud800``, which JSON can carry but UTF-8 cannot), PostgreSQL's JSON refuses ``NaN`` and
``Infinity``, and a ``VARCHAR(512)`` refuses 513 characters. One such message must not sink the
transaction it shares with other citizens' messages, so every parsed field is cleaned here
before the batch is written: NUL and lone surrogates become U+FFFD, non-finite numbers ``null``,
an over-long key its SHA-256. The envelope's ``raw`` keeps what arrived exactly (see ``raw_bytes``).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import re
from typing import Any

from omnichannel.types import Attachment, Envelope, Sender

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
REPLACEMENT = "\ufffd"
KEY_CHARS = 512      # envelopes.external_id, thread_id, message_id
ADDRESS_CHARS = 320  # envelopes.sender_id, identities.address


def _clean(value: str) -> bool:
    """True when ``value`` has neither NUL nor a lone surrogate (the fast checks first: ~0.1 us)."""
    if "\x00" in value:
        return False
    if value.isascii():
        return True
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def text(value: str | None) -> str | None:
    """``value`` with NUL and lone surrogates replaced by U+FFFD (None stays None)."""
    if value is None or not isinstance(value, str) or _clean(value):
        return value
    return _UNSTORABLE.sub(REPLACEMENT, value)


def key(value: str | None, limit: int = KEY_CHARS) -> str | None:
    """A lookup key that fits its column: cleaned, and replaced by its SHA-256 when too long."""
    value = text(value)
    if value is None or len(value) <= limit:
        return value
    return "sha256:" + hashlib.sha256(value.encode("utf-8")).hexdigest()


def data(value: Any) -> Any:
    """JSON-like ``value`` with every string cleaned and non-finite floats as None."""
    if isinstance(value, str):
        return text(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {text(str(k)): data(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [data(v) for v in value]
    return value


def raw_bytes(raw: bytes | str | dict | list) -> bytes:
    """The envelope's raw payload as bytes, exactly: JSON for structured payloads.

    A string with a lone surrogate is encoded with ``surrogatepass`` (decoding the bytes the same way
    gives back the same string); a structured payload holding one is written with ``\\uXXXX`` escapes,
    which is how it travelled (JSON on the wire cannot carry it otherwise).
    """
    if isinstance(raw, bytes):
        return raw
    if isinstance(raw, str):
        try:
            return raw.encode("utf-8")
        except UnicodeEncodeError:
            return raw.encode("utf-8", "surrogatepass")
    try:
        return json.dumps(raw, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(raw, ensure_ascii=True, separators=(",", ":")).encode("ascii")


def _sender(sender: Sender | None) -> Sender | None:
    if sender is None:
        return None
    return dataclasses.replace(sender, id=key(sender.id, ADDRESS_CHARS), name=text(sender.name),
                               username=text(getattr(sender, "username", None)),
                               phone=key(sender.phone, ADDRESS_CHARS), email=key(sender.email, ADDRESS_CHARS))


def _attachment(att: Attachment) -> Attachment:
    return dataclasses.replace(att, **{f.name: data(getattr(att, f.name)) for f in dataclasses.fields(att)
                                       if isinstance(getattr(att, f.name), (str, float))})


def _data_ok(value: Any) -> bool:
    kind = type(value)  # exact types first: this runs for every envelope's origin and meta
    if kind is str:
        return ("\x00" not in value and value.isascii()) or _clean(value)
    if kind is dict:
        for key_, item in value.items():
            if not (type(key_) is str and _clean(key_) and _data_ok(item)):
                return False
        return True
    if kind is float:
        return math.isfinite(value)
    if kind is list or kind is tuple:
        for item in value:
            if not _data_ok(item):
                return False
        return True
    if isinstance(value, (str, float, dict, list, tuple)):  # subclasses
        return _data_ok(data(value)) and data(value) == value
    return True


def _fits(value: str | None, limit: int) -> bool:
    return value is None or (len(value) <= limit and _clean(value))


def storable_as_is(env: Envelope) -> bool:
    """True when every field of ``env`` is already storable (the common case: no copy is made)."""
    sender = env.sender
    if sender is not None and not (_fits(sender.id, ADDRESS_CHARS) and _fits(sender.name, 1 << 30)
                                   and _fits(sender.username, 1 << 30) and _fits(sender.phone, ADDRESS_CHARS)
                                   and _fits(sender.email, ADDRESS_CHARS)):
        return False
    return (_fits(env.external_id, KEY_CHARS) and _fits(env.text, 1 << 30) and _fits(env.subject, 1 << 30)
            and _fits(env.thread_id, KEY_CHARS) and _fits(env.message_id, KEY_CHARS) and _fits(env.edit_of, KEY_CHARS)
            and _fits(env.ticket_ref, 32) and _fits(env.skip_reason, 1 << 30) and _fits(env.error, 1 << 30)
            and all(_fits(r, KEY_CHARS) for r in env.reply_to)
            and _data_ok(env.origin) and _data_ok(env.meta)
            and all(_fits(a.filename, 1 << 30) and _fits(a.content_type, 1 << 30) and _fits(a.skipped_reason, 1 << 30)
                    and _fits(a.path, 1 << 30) for a in env.attachments))


def envelope(env: Envelope) -> Envelope:
    """``env`` itself when it is storable as it is, else a copy whose every stored field both databases
    accept (``raw`` untouched)."""
    if storable_as_is(env):
        return env
    return dataclasses.replace(
        env, external_id=key(env.external_id) or "", sender=_sender(env.sender), text=text(env.text),
        subject=text(env.subject), reply_to=[key(r) or "" for r in env.reply_to], ticket_ref=key(env.ticket_ref, 32),
        edit_of=key(env.edit_of), thread_id=key(env.thread_id), message_id=key(env.message_id),
        origin=data(env.origin), meta=data(env.meta), attachments=[_attachment(a) for a in env.attachments],
        skip_reason=text(env.skip_reason), error=text(env.error))
