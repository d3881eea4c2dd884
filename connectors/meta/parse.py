"""Messenger / Instagram webhook JSON → envelopes (no I/O here).

Shape (Meta "Webhooks for Pages", Messenger Platform and Instagram webhook references)::

    {"object": "page" | "instagram",
     "entry": [{"id": <Page or Instagram account id>, "time": <ms>,
                "messaging": [{"sender": {"id"}, "recipient": {"id"}, "timestamp": <ms>,
                               "message" | "message_edit" | "postback" | "read" | "delivery" | "reaction": {...}}],
                "changes": [{"field": "feed" | "mention" | "comments" | "live_comments" | "mentions",
                             "value": {...}}]}]}

Direct messages are keyed by their ``mid``, comments and posts by their Graph id, edits by
``edit:<id>:<n or digest>``, deletions by ``deleted:<id>``: Meta's repeated deliveries and the
catch-up's re-reads are absorbed by the store's unique key. Every envelope's ``raw`` is a one-event
payload of the same shape, so ``reparse`` reads it alone. Comment and mention parsing is in
``connectors.meta.comments``.
"""

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


def _attachments(message: dict[str, Any], env: Envelope, parsed: Parsed, index: int) -> None:
    links: list[dict[str, Any]] = []
    for att in message.get("attachments") or []:
        if not isinstance(att, dict):
            continue
        kind, payload = str(att.get("type") or ""), att.get("payload") or {}
        url = payload.get("url") if isinstance(payload, dict) else None
        if kind == "story_mention":
            env.meta["story_mention"] = True
        if kind in MEDIA and url and not payload.get("sticker_id"):
            parsed.media.append(MediaRef(index, str(url), kind, MEDIA[kind]))
        elif kind in ("share", "fallback", "template", "ig_post", "location") or payload.get("sticker_id"):
            links.append({"type": "sticker" if payload.get("sticker_id") else kind,
                          "url": url, "title": payload.get("title") or att.get("title")})
    if links:
        env.meta["links"] = links


def _message(event: dict[str, Any], platform: str, raw: str, index: int, parsed: Parsed) -> Envelope:
    message = event["message"]
    mid = str(message["mid"])
    user = str((event.get("sender") or {}).get("id") or "")
    stamp = when(event.get("timestamp"))
    if message.get("is_echo"):
        return Envelope(external_id=mid, raw=raw, received_at=stamp, message_id=mid,
                        meta={"platform": platform, "echo": True},
                        skip_reason="echo of the Pemda's own message")
    if message.get("is_deleted"):
        parsed.marks.append((mid, {"deleted_at": stamp.isoformat()}))
        return Envelope(external_id=f"deleted:{mid}", raw=raw, received_at=stamp, meta={"platform": platform},
                        skip_reason="message deleted by the citizen (the stored copy is kept, marked deleted)")
    text = message.get("text")
    quick = message.get("quick_reply") if isinstance(message.get("quick_reply"), dict) else None
    sender = contact_sender(user, " ".join(str(t) for t in (text, (quick or {}).get("payload")) if t))
    env = Envelope(external_id=mid, raw=raw, received_at=stamp, message_id=mid, sender=sender, text=text,
                   origin={"type": "message", "platform": platform, "recipient_id": user, "message_id": mid},
                   meta={"platform": platform})
    if quick:
        env.meta["quick_reply"] = quick.get("payload")
    reply_to = message.get("reply_to") if isinstance(message.get("reply_to"), dict) else {}
    if reply_to.get("mid"):
        env.reply_to = [str(reply_to["mid"])]
    if isinstance(reply_to.get("story"), dict):
        env.meta["story_reply"] = {k: reply_to["story"].get(k) for k in ("id", "url")}
    _attachments(message, env, parsed, index)
    if message.get("is_unsupported"):
        env.skip_reason = "unsupported message type"
    elif not text and not any(m.index == index for m in parsed.media):
        links = env.meta.get("links") or []
        if links and all(link["type"] == "sticker" for link in links):
            env.skip_reason = "sticker"
        elif links:
            env.text = " ".join(str(link.get("title") or link.get("url") or "") for link in links).strip() or None
    return env


def _edit(event: dict[str, Any], platform: str, raw: str) -> Envelope:
    edit = event["message_edit"]
    mid, text = str(edit["mid"]), edit.get("text")
    user = str((event.get("sender") or {}).get("id") or "")
    n = edit.get("num_edit") or digest(text)[:12]
    return Envelope(external_id=f"edit:{mid}:{n}", raw=raw, received_at=when(event.get("timestamp")),
                    sender=contact_sender(user, text), text=text, edit_of=mid,
                    origin={"type": "message", "platform": platform, "recipient_id": user, "message_id": mid},
                    meta={"platform": platform, "edit": n})


def _postback(event: dict[str, Any], platform: str, raw: str) -> Envelope:
    postback = event["postback"]
    user = str((event.get("sender") or {}).get("id") or "")
    key = str(postback.get("mid") or f"postback:{digest(event)}")
    return Envelope(external_id=key, raw=raw, received_at=when(event.get("timestamp")),
                    sender=Sender(id=user), text=postback.get("title"),
                    origin={"type": "message", "platform": platform, "recipient_id": user},
                    meta={"platform": platform, "postback": postback.get("payload")})


def messaging_event(event: dict[str, Any], platform: str, raw: str, index: int, parsed: Parsed) -> Envelope:
    """One ``messaging`` item as an envelope."""
    if "message" in event:
        return _message(event, platform, raw, index, parsed)
    if "message_edit" in event:
        return _edit(event, platform, raw)
    if "postback" in event:
        return _postback(event, platform, raw)
    kind = next((k for k in SKIPPED_EVENTS if k in event), None)
    return Envelope(external_id=f"event:{digest(event)}", raw=raw, received_at=when(event.get("timestamp")),
                    skip_reason=f"{SKIPPED_EVENTS[kind]} event" if kind else "messaging event not handled")


def items(container: dict[str, Any], key: str, whole: str, parsed: Parsed) -> list[Any]:
    """The list under ``key``; anything else there is quarantined and yields nothing."""
    value = container.get(key)
    if value is None or isinstance(value, list):
        return value or []
    parsed.envelopes.append(bad(value, whole, key))
    return []


def parse_payload(payload: dict[str, Any], expected_object: str) -> Parsed:
    """Every message, comment and mention of one delivery, as envelopes (never raises on a bad part)."""
    from connectors.meta.comments import change_envelope

    parsed = Parsed()
    whole = json.dumps(payload, ensure_ascii=False, default=str)
    obj = payload.get("object")
    if obj != expected_object:
        parsed.envelopes.append(Envelope(external_id=f"event:{digest(payload)}", raw=whole,
                                         skip_reason=f"webhook object {obj!r} not handled"))
        return parsed
    platform = OBJECTS[expected_object]
    for entry in items(payload, "entry", whole, parsed):
        if not isinstance(entry, dict):
            parsed.envelopes.append(bad(entry, whole, "entry"))
            continue
        account = str(entry.get("id") or "")
        for key in ("messaging", "standby"):
            for event in items(entry, key, whole, parsed):
                raw = one(payload, entry, key, event)
                if key == "standby":  # another app owns the thread (handover protocol)
                    parsed.envelopes.append(Envelope(external_id=f"standby:{digest(event)}", raw=raw,
                                                     skip_reason="standby event (another app owns the thread)"))
                    continue
                try:
                    parsed.envelopes.append(messaging_event(event, platform, raw, len(parsed.envelopes), parsed))
                except (KeyError, TypeError, AttributeError, ValueError) as exc:
                    parsed.envelopes.append(bad(event, raw, "messaging event", exc))
        for change in items(entry, "changes", whole, parsed):
            raw = one(payload, entry, "changes", change)
            try:
                parsed.envelopes.append(change_envelope(change, platform, account, raw, len(parsed.envelopes),
                                                        parsed))
            except (KeyError, TypeError, AttributeError, ValueError) as exc:
                parsed.envelopes.append(bad(change, raw, "change", exc))
    return parsed


def filename(ref: MediaRef, content_type: str) -> str:
    """The stored attachment's name: kind stem plus an extension from the content type."""
    return ref.filename + EXTENSIONS.get(content_type.split(";")[0].strip(), ".bin")
