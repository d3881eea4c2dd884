"""Cloud API webhook JSON → envelopes (no I/O here).

Payload shape (Meta's "messages" webhook reference): ``{"object": "whatsapp_business_account",
"entry": [{"id": WABA, "changes": [{"field": "messages", "value": {"metadata": {...},
"contacts": [...], "messages": [...] | "statuses": [...] | "errors": [...]}}]}]}``. One delivery
may carry several messages; each becomes an envelope whose ``raw`` is a one-message payload of the
same shape, so it can be parsed again alone. Messages are keyed by wamid, status callbacks by
``status:<wamid>:<status>``: a redelivered webhook is absorbed by the store's unique key.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from omnichannel.types import Envelope, Sender

MEDIA_TYPES = {"image": "foto", "document": "dokumen", "audio": "audio", "video": "video"}
EXTENSIONS = {"image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp", "application/pdf": ".pdf",
              "audio/ogg": ".ogg", "audio/mpeg": ".mp3", "audio/aac": ".aac", "audio/amr": ".amr",
              "video/mp4": ".mp4", "video/3gpp": ".3gp"}
SKIPPED_TYPES = {"sticker": "sticker", "reaction": "reaction", "contacts": "contact card shared",
                 "system": "system notice", "request_welcome": "chat opened", "order": "order"}


@dataclass(slots=True)
class MediaRef:
    """Media to fetch through the Graph API for the envelope at ``index``."""

    index: int
    media_id: str
    mime_type: str
    filename: str
    sha256: str | None


def _digest(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True).encode()).hexdigest()[:40]


def _when(stamp: Any) -> datetime:
    try:
        return datetime.fromtimestamp(int(stamp), UTC)
    except (TypeError, ValueError):
        return datetime.now(UTC)


def _one(payload: dict[str, Any], entry: dict[str, Any], change: dict[str, Any], **value: Any) -> str:
    base = {k: v for k, v in (change.get("value") or {}).items() if k not in ("messages", "statuses", "errors")}
    single = {"object": payload.get("object"),
              "entry": [{"id": entry.get("id"), "changes": [{"value": {**base, **value}, "field": change.get("field")}]}]}
    return json.dumps(single, ensure_ascii=False, separators=(",", ":"))


def _message(msg: dict[str, Any], value: dict[str, Any], raw: str, index: int) -> tuple[Envelope, MediaRef | None]:
    wa_id = str(msg.get("from", ""))
    profile = next((c.get("profile", {}) for c in value.get("contacts", []) if str(c.get("wa_id")) == wa_id), {})
    phone_id = value.get("metadata", {}).get("phone_number_id")
    wamid = str(msg["id"])
    env = Envelope(external_id=wamid, raw=raw, received_at=_when(msg.get("timestamp")), message_id=wamid,
                   sender=Sender(id=wa_id, name=profile.get("name"), phone=f"+{wa_id}" if wa_id.isdigit() else None),
                   origin={"wa_id": wa_id, "phone_number_id": phone_id, "message_id": wamid},
                   meta={"type": msg.get("type")})
    context = msg.get("context") or {}
    if context.get("id"):
        env.reply_to = [str(context["id"])]
    kind = msg.get("type", "")
    body = msg.get(kind) if isinstance(msg.get(kind), dict) else {}
    media = None
    if kind == "text":
        env.text = body.get("body")
    elif kind in MEDIA_TYPES:
        env.text = body.get("caption")
        mime = str(body.get("mime_type") or "application/octet-stream")
        filename = body.get("filename") or MEDIA_TYPES[kind] + EXTENSIONS.get(mime.split(";")[0].strip(), ".bin")
        if body.get("id"):
            media = MediaRef(index, str(body["id"]), mime, filename, body.get("sha256"))
        if kind == "audio":
            env.meta["voice"] = bool(body.get("voice"))
    elif kind == "location":
        place = {"lat": body.get("latitude"), "lon": body.get("longitude")}
        place.update({k: body[k] for k in ("name", "address") if body.get(k)})
        env.meta["location"] = place
        words = ", ".join(str(body[k]) for k in ("name", "address") if body.get(k))
        env.text = f"Lokasi: {place['lat']}, {place['lon']}" + (f" ({words})" if words else "")
    elif kind == "interactive":
        reply_type = body.get("type", "")
        choice = body.get(reply_type) or {}
        env.meta["interactive"] = {"type": reply_type, "id": choice.get("id"), "title": choice.get("title")}
        env.text = " — ".join(str(choice[k]) for k in ("title", "description") if choice.get(k)) or None
        if not env.text:
            env.skip_reason = f"unsupported interactive reply: {reply_type or 'none'}"
    elif kind == "button":
        env.meta["button"] = {"payload": body.get("payload"), "text": body.get("text")}
        env.text = body.get("text")
    elif kind in SKIPPED_TYPES:
        env.skip_reason = f"unsupported message type: {SKIPPED_TYPES[kind]}"
    else:
        codes = ",".join(str(e.get("code")) for e in msg.get("errors", []))
        env.skip_reason = f"unsupported message type: {kind or 'none'}" + (f" (error {codes})" if codes else "")
    if msg.get("errors"):
        env.meta["errors"] = msg["errors"]
    return env, media


def _bad(obj: Any, raw: str, what: str, exc: Exception | None = None) -> Envelope:
    """A part of a delivery this code cannot read: quarantined, kept whole, the rest of the delivery goes on."""
    reason = f"malformed {what}" + (f": {type(exc).__name__}: {exc}" if exc is not None else "")
    return Envelope(external_id=f"bad:{_digest(obj)}", raw=raw, error=reason)


def _status(status: dict[str, Any], raw: str) -> Envelope:
    state = status.get("status", "unknown")
    codes = ",".join(str(e.get("code")) for e in status.get("errors") or [])
    return Envelope(external_id=f"status:{status.get('id')}:{state}", raw=raw, received_at=_when(status.get("timestamp")),
                    meta={"status": status}, skip_reason=f"status callback: {state}" + (f" (error {codes})" if codes else ""))


def _error(error: dict[str, Any], raw: str) -> Envelope:
    return Envelope(external_id=f"error:{_digest(error)}", raw=raw,
                    skip_reason=f"error notice {error.get('code')}: {error.get('title')}")


def _items(container: dict[str, Any], key: str, raw: str, envelopes: list[Envelope]) -> list[Any]:
    """The list under ``key``; anything else there is quarantined (not silently dropped) and yields nothing."""
    value = container.get(key)
    if value is None or isinstance(value, list):
        return value or []
    envelopes.append(_bad(value, raw, key))
    return []


def parse_payload(payload: dict[str, Any]) -> tuple[list[Envelope], list[MediaRef]]:
    """Every message, status callback and error notice of one delivery, as envelopes.

    A part whose shape this code cannot read becomes a quarantined envelope (``bad:<digest>``); it never
    makes the whole delivery fail, so the good messages beside it are stored and Meta gets its 200.
    """
    envelopes: list[Envelope] = []
    media: list[MediaRef] = []
    whole = json.dumps(payload, ensure_ascii=False)
    if payload.get("object") != "whatsapp_business_account":
        return [Envelope(external_id=f"event:{_digest(payload)}", raw=whole,
                         skip_reason=f"webhook object {payload.get('object')!r} not handled")], []
    for entry in _items(payload, "entry", whole, envelopes):
        if not isinstance(entry, dict):
            envelopes.append(_bad(entry, whole, "entry"))
            continue
        for change in _items(entry, "changes", whole, envelopes):
            value = (change.get("value") or {}) if isinstance(change, dict) else None
            if not isinstance(value, dict) or change.get("value") == []:
                envelopes.append(_bad(change, whole, "change"))
                continue
            if change.get("field") != "messages":
                envelopes.append(Envelope(external_id=f"event:{_digest(change)}", raw=_one(payload, entry, change),
                                          skip_reason=f"webhook field {change.get('field')!r} not handled"))
                continue
            for msg in _items(value, "messages", whole, envelopes):
                raw = _one(payload, entry, change, messages=[msg])
                try:
                    env, ref = _message(msg, value, raw, len(envelopes))
                except (KeyError, TypeError, AttributeError, ValueError) as exc:
                    env, ref = _bad(msg, raw, "message", exc), None
                envelopes.append(env)
                if ref is not None:
                    media.append(ref)
            for key, build in (("statuses", _status), ("errors", _error)):
                for item in _items(value, key, whole, envelopes):
                    raw = _one(payload, entry, change, **{key: [item]})
                    try:
                        envelopes.append(build(item, raw))
                    except (KeyError, TypeError, AttributeError, ValueError) as exc:
                        envelopes.append(_bad(item, raw, key, exc))
    return envelopes, media
