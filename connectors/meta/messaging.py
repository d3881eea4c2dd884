"""Direct messages (webhook ``messaging`` events) → envelopes (no I/O here).

``message`` (text, attachments, quick replies, replies to a message or a story, echoes, deletions),
``message_edit`` and ``postback`` become envelopes; receipts, reactions and the like are skipped with
their reason. A phone number or email a citizen types in a private message links them to their
identities on other channels.
"""

from __future__ import annotations

from typing import Any

from connectors.meta.shapes import MEDIA, SKIPPED_EVENTS, MediaRef, Parsed, contact_sender, digest, when
from omnichannel.types import Envelope, Sender


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
