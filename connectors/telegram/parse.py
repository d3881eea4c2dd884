"""Bot API update JSON → Envelope, with the files to fetch and the command to answer (no I/O here).

External ids are built from the chat and message ids (``msg:<chat>:<message>``), not from
``update_id``: they stay the same whether an update arrives by getUpdates or by webhook, and the
Bot API may restart ``update_id`` at a random number after a week without updates
(https://core.telegram.org/bots/api#update).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import phonenumbers

from omnichannel.types import Envelope, Sender

MESSAGE_KINDS = ("message", "edited_message")
MEDIA_KINDS = {  # message field -> (default filename, default content type)
    "document": ("dokumen", "application/octet-stream"),
    "voice": ("suara.ogg", "audio/ogg"),
    "audio": ("audio.mp3", "audio/mpeg"),
    "video": ("video.mp4", "video/mp4"),
    "video_note": ("video.mp4", "video/mp4"),
    "animation": ("animasi.mp4", "video/mp4"),
}
UNSUPPORTED_CONTENT = ("sticker", "dice", "poll", "game", "story", "invoice", "successful_payment")
CONTENT_COMMANDS = {"lapor", "aduan"}  # "/lapor <text>" files <text> as a complaint


@dataclass(slots=True)
class FileRef:
    """A file the message carries; ``choices`` are (file_id, declared size) from largest to smallest."""

    filename: str
    content_type: str
    choices: list[tuple[str, int | None]]


@dataclass(slots=True)
class Command:
    """A bot command to answer after the envelope is stored."""

    name: str
    argument: str
    chat_id: int
    message_id: int
    sender_id: str


@dataclass(slots=True)
class Parsed:
    """What one update became."""

    envelope: Envelope
    files: list[FileRef] = field(default_factory=list)
    command: Command | None = None


def normalise_phone(raw: str) -> str | None:
    """E.164 form of a shared phone number (Telegram sends digits, sometimes without ``+``)."""
    text = raw.strip()
    if text and text[0].isdigit() and not text.startswith("0"):
        text = "+" + text
    try:
        number = phonenumbers.parse(text, "ID")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _sender(user: dict[str, Any] | None, chat: dict[str, Any]) -> Sender:
    user = user or {}
    name = " ".join(p for p in (user.get("first_name"), user.get("last_name")) if p) or None
    return Sender(id=str(user.get("id", chat.get("id"))), name=name, username=user.get("username"))


def _received_at(message: dict[str, Any]) -> datetime:
    stamp = message.get("edit_date") or message.get("date")
    return datetime.fromtimestamp(int(stamp), UTC) if stamp else datetime.now(UTC)


def _choice(item: dict[str, Any]) -> tuple[str, int | None]:
    """(file_id, declared size) of one file object; a malformed one raises (the update is quarantined)."""
    file_id, size = item["file_id"], item.get("file_size")
    if not isinstance(file_id, str) or not (size is None or isinstance(size, int)):
        raise TypeError("file_id or file_size of the wrong type")
    return file_id, size


def _files(message: dict[str, Any]) -> list[FileRef]:
    files = []
    if message.get("photo"):
        sizes = sorted(message["photo"], key=lambda p: (_choice(p)[1] or 0, p.get("width") or 0), reverse=True)
        files.append(FileRef("foto.jpg", "image/jpeg", [_choice(p) for p in sizes]))
    for kind, (default_name, default_type) in MEDIA_KINDS.items():
        item = message.get(kind)
        if item:
            files.append(FileRef(str(item.get("file_name") or default_name),
                                 str(item.get("mime_type") or default_type), [_choice(item)]))
    return files


def parse_update(update: dict[str, Any], raw: str | None = None, *, private_only: bool = True) -> Parsed:
    """Turn one update into an envelope; unknown kinds and non-complaints become skips with a reason, and
    an update this code cannot read becomes a quarantined envelope (it must never stop the connector)."""
    raw = raw if raw is not None else json.dumps(update, ensure_ascii=False)
    try:
        return _parse(update, raw, private_only)
    except (KeyError, TypeError, ValueError, AttributeError, IndexError, OverflowError) as exc:
        digest = hashlib.sha256(json.dumps(update, sort_keys=True, default=str).encode()).hexdigest()[:40]
        return Parsed(Envelope(external_id=f"bad:{digest}", raw=raw,
                               error=f"unparseable update: {type(exc).__name__}: {exc}"))


def _parse(update: dict[str, Any], raw: str, private_only: bool) -> Parsed:
    if not isinstance(update, dict):
        raise TypeError("update is not an object")
    kind = next((k for k in update if k != "update_id"), "")
    if kind not in MESSAGE_KINDS:
        return Parsed(Envelope(external_id=f"update:{update.get('update_id')}:{kind or 'empty'}", raw=raw,
                               skip_reason=f"unsupported update type: {kind or 'none'}", meta={"update_type": kind}))
    message = update[kind]
    if not isinstance(message, dict):
        raise TypeError(f"{kind} is not an object")
    chat = message.get("chat") or {}
    chat_id, message_id = chat.get("id"), message.get("message_id")
    if chat_id is None or message_id is None:
        return Parsed(Envelope(external_id=f"update:{update.get('update_id')}:{kind}", raw=raw,
                               error="message without chat.id or message_id"))
    sender = _sender(message.get("from"), chat)
    own_id = f"{chat_id}:{message_id}"
    env = Envelope(external_id=f"msg:{own_id}", raw=raw, received_at=_received_at(message), sender=sender,
                   message_id=own_id, origin={"chat_id": chat_id, "message_id": message_id},
                   meta={"update_type": kind, "chat_type": chat.get("type")})
    if kind == "edited_message":
        env.external_id = f"edit:{own_id}:{message.get('edit_date', 0)}"
        env.message_id = None
        env.edit_of = own_id
    if message.get("reply_to_message"):
        env.reply_to = [f"{chat_id}:{message['reply_to_message'].get('message_id')}"]
    env.text = message.get("text") or message.get("caption")
    if env.text is not None and not isinstance(env.text, str):
        raise TypeError("text or caption is not a string")
    parsed = Parsed(env, _files(message))
    if private_only and chat.get("type") != "private":
        env.skip_reason = f"message from a {chat.get('type', 'unknown')} chat"
        parsed.files = []
        return parsed
    contact = message.get("contact")
    if contact:
        if contact.get("user_id") is not None and str(contact["user_id"]) == sender.id:
            sender.phone = normalise_phone(str(contact.get("phone_number", "")))
            env.skip_reason = "contact shared: phone number linked to the sender"
        else:
            env.skip_reason = "contact of another person shared"
        return parsed
    location = message.get("location")
    if location:
        place = {"lat": location.get("latitude"), "lon": location.get("longitude")}
        venue = message.get("venue") or {}
        place.update({k: venue[k] for k in ("title", "address") if venue.get(k)})
        env.meta["location"] = place
        if not env.text:
            words = ", ".join(str(v) for v in (venue.get("title"), venue.get("address")) if v)
            env.text = f"Lokasi: {place['lat']}, {place['lon']}" + (f" ({words})" if words else "")
    unsupported = next((k for k in UNSUPPORTED_CONTENT if k in message), None)
    if unsupported and not env.text:
        env.skip_reason = f"unsupported message content: {unsupported}"
        return parsed
    text = message.get("text") or ""
    entities = message.get("entities") or []
    if kind == "edited_message" and text.startswith("/"):
        env.skip_reason = "edited command"
        return parsed
    if kind == "message" and text.startswith("/") and any(
            e.get("type") == "bot_command" and e.get("offset") == 0 for e in entities):
        head, _, argument = text.partition(" ")
        name = head[1:].split("@", 1)[0].lower()
        if name in CONTENT_COMMANDS and argument.strip():
            env.text = argument.strip()
            return parsed
        env.skip_reason = f"command /{name}"
        parsed.command = Command(name, argument.strip(), chat_id, message_id, sender.id)
        return parsed
    if not env.text and not parsed.files:
        env.skip_reason = "service message" if not any(k in message for k in ("text", "caption")) else None
    return parsed
