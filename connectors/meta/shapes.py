"""The records and helpers the Meta webhook parsers share (no I/O here)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from omnichannel import pii
from omnichannel.types import Envelope, Sender

# attachment type -> the file name stem officers see
MEDIA = {"image": "foto", "video": "video", "audio": "audio", "file": "berkas", "story_mention": "story",
         "ig_reel": "reel", "reel": "reel", "ig_post": "postingan"}
EXTENSIONS = {"image/jpeg": ".jpg", "image/png": ".png", "image/gif": ".gif", "image/webp": ".webp",
              "video/mp4": ".mp4", "audio/mpeg": ".mp3", "audio/mp4": ".m4a", "audio/aac": ".aac",
              "application/pdf": ".pdf"}
OBJECTS = {"page": "facebook", "instagram": "instagram"}
SKIPPED_EVENTS = {"read": "read receipt", "delivery": "delivery receipt", "reaction": "reaction",
                  "optin": "opt-in", "referral": "referral", "account_linking": "account linking",
                  "pass_thread_control": "handover", "take_thread_control": "handover"}


@dataclass(slots=True)
class MediaRef:
    """An attachment URL to download for the envelope at ``index``."""

    index: int
    url: str
    kind: str
    filename: str


@dataclass(slots=True)
class Lookup:
    """A mention whose content must be read through the Graph API for the envelope at ``index``."""

    index: int
    media_id: str | None
    comment_id: str | None


@dataclass(slots=True)
class Parsed:
    """What one delivery holds: envelopes, downloads, notes to put on stored envelopes, mentions to read."""

    envelopes: list[Envelope] = field(default_factory=list)
    media: list[MediaRef] = field(default_factory=list)
    marks: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    lookups: list[Lookup] = field(default_factory=list)


def digest(obj: Any) -> str:
    """A stable short hash of a JSON value."""
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()[:40]


def when(stamp: Any) -> datetime:
    """A webhook time: milliseconds or seconds since the epoch, or an ISO 8601 string; now if unreadable."""
    try:
        if isinstance(stamp, str) and not stamp.isdigit():
            return datetime.fromisoformat(stamp.replace("+0000", "+00:00").replace("Z", "+00:00")).astimezone(UTC)
        value = float(stamp)
        return datetime.fromtimestamp(value / 1000 if value > 1e11 else value, UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return datetime.now(UTC)


def one(payload: dict[str, Any], entry: dict[str, Any], key: str, item: Any) -> str:
    """A one-event payload of the delivery's own shape (an envelope's ``raw``)."""
    single = {"object": payload.get("object"), "entry": [{"id": entry.get("id"), "time": entry.get("time"),
                                                          key: [item]}]}
    return json.dumps(single, ensure_ascii=False, separators=(",", ":"))


def bad(obj: Any, raw: str, what: str, exc: Exception | None = None) -> Envelope:
    """A part this code cannot read: quarantined whole; the rest of the delivery goes on."""
    reason = f"malformed {what}" + (f": {type(exc).__name__}: {exc}" if exc is not None else "")
    return Envelope(external_id=f"bad:{digest(obj)}", raw=raw, error=reason)


def contact_sender(user_id: str, text: str | None, **names: Any) -> Sender:
    """The citizen; a phone number or email they typed in a private message links them like on other channels."""
    found = pii.find(text or "")
    return Sender(id=user_id, phone=found.phones[0] if found.phones else None,
                  email=found.emails[0] if found.emails else None, **names)


def items(container: dict[str, Any], key: str, whole: str, parsed: Parsed) -> list[Any]:
    """The list under ``key``; anything else there is quarantined and yields nothing."""
    value = container.get(key)
    if value is None or isinstance(value, list):
        return value or []
    parsed.envelopes.append(bad(value, whole, key))
    return []
