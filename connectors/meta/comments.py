"""Comments, visitor posts and mentions (webhook ``changes``) → envelopes (no I/O here).

Facebook ``feed`` values: ``{"item": "comment" | "post" | "status" | "photo" | "reaction" | ...,
"verb": "add" | "edited" | "remove" | "hide" | "unhide", "comment_id", "post_id", "parent_id",
"from": {"id", "name"}, "message", "created_time"}``; ``mention`` values: ``{"item": "post" | "comment",
"verb", "post_id", "comment_id", "sender_id", "sender_name", "message"}``.
Instagram ``comments`` / ``live_comments`` values: ``{"id", "text", "from": {"id", "username"},
"media": {"id", "media_product_type"}, "parent_id"}``; ``mentions`` values: ``{"media_id", "comment_id"}``
only — the text is read through the Graph API (``Lookup``).

A comment's origin says how to answer it: a public reply under it and a private reply to its author
(``connectors.meta.reply``). The Pemda's own comments are skipped as echoes; an edit is a follow-up of
the comment it edits; a deletion is recorded and marks the stored comment deleted (its text is kept).
"""

from __future__ import annotations

from typing import Any

from connectors.meta.shapes import Lookup, Parsed, digest, when
from omnichannel.types import Envelope, Sender

POST_ITEMS = {"post", "status", "photo", "video", "share"}


def _sender(who: Any) -> Sender | None:
    if not isinstance(who, dict) or not who.get("id"):
        return None
    return Sender(id=str(who["id"]), name=who.get("name"), username=who.get("username"))


def _origin(platform: str, kind: str, object_id: str, author: str | None, **more: Any) -> dict[str, Any]:
    return {"type": kind, "platform": platform, "object_id": object_id, "author_id": author,
            **{k: v for k, v in more.items() if v is not None}}


def _feed(value: dict[str, Any], account: str, raw: str, parsed: Parsed) -> Envelope:
    item, verb = str(value.get("item") or ""), str(value.get("verb") or "")
    sender = _sender(value.get("from"))
    stamp = when(value.get("created_time"))
    if item not in POST_ITEMS | {"comment"}:
        return Envelope(external_id=f"event:{digest(value)}", raw=raw, received_at=stamp,
                        skip_reason=f"feed event: {item or 'unknown'} {verb}".strip())
    object_id = str(value["comment_id"] if item == "comment" else value["post_id"])
    kind = "comment" if item == "comment" else "post"
    own = sender is not None and sender.id == account
    base = {"raw": raw, "received_at": stamp, "meta": {"platform": "facebook", "item": item, "verb": verb,
                                                         "post_id": value.get("post_id")}}
    if verb == "remove":
        parsed.marks.append((object_id, {"deleted_at": stamp.isoformat(), "deleted_by": "page" if own else "author"}))
        return Envelope(external_id=f"deleted:{object_id}", **base,
                        skip_reason=f"{kind} deleted by {'the Page' if own else 'its author'} "
                                    "(the stored copy is kept, marked deleted)")
    if verb in ("hide", "unhide"):
        parsed.marks.append((object_id, {"hidden": verb == "hide"}))
        return Envelope(external_id=f"{verb}:{object_id}:{digest(value)[:12]}", **base,
                        skip_reason=f"{kind} {'hidden' if verb == 'hide' else 'shown again'} by the Page")
    if own:
        return Envelope(external_id=object_id if verb == "add" else f"edit:{object_id}:{digest(value)[:12]}",
                        **base, skip_reason="the Pemda's own comment or post")
    origin = _origin("facebook", kind, object_id, sender.id if sender else None, post_id=value.get("post_id"),
                     created_time=int(stamp.timestamp()))
    env = Envelope(external_id=object_id, sender=sender, text=value.get("message"), message_id=object_id,
                   origin=origin, **base)
    if value.get("photo"):
        env.meta["photo"] = value["photo"]
    if verb == "edited":
        env.external_id, env.edit_of = f"edit:{object_id}:{digest(value.get('message'))[:12]}", object_id
        parsed.marks.append((object_id, {"edited_at": stamp.isoformat()}))
    elif item == "comment" and value.get("parent_id") and value["parent_id"] != value.get("post_id"):
        env.reply_to = [str(value["parent_id"])]
    return env


def _facebook_mention(value: dict[str, Any], raw: str, index: int, parsed: Parsed) -> Envelope:
    object_id = str(value.get("comment_id") or value["post_id"])
    sender = Sender(id=str(value["sender_id"]), name=value.get("sender_name")) if value.get("sender_id") else None
    env = Envelope(external_id=object_id, raw=raw, received_at=when(value.get("created_time")), sender=sender,
                   text=value.get("message"), message_id=object_id,
                   origin=_origin("facebook", "mention", object_id, sender.id if sender else None,
                                  post_id=value.get("post_id")),
                   meta={"platform": "facebook", "mention": value.get("item")})
    if value.get("verb") not in (None, "add"):
        env.external_id, env.skip_reason = f"mention:{value.get('verb')}:{object_id}", "mention removed or edited"
    elif not env.text:
        parsed.lookups.append(Lookup(index, None, object_id))
    return env


def _instagram_comment(value: dict[str, Any], account: str, raw: str, field: str) -> Envelope:
    sender = _sender(value.get("from"))
    comment_id = str(value["id"])
    media = value.get("media") if isinstance(value.get("media"), dict) else {}
    meta = {"platform": "instagram", "media_id": media.get("id"), "media_product_type": media.get("media_product_type"),
            "live": field == "live_comments"}
    if sender is not None and (sender.id == account or value.get("from", {}).get("self_ig_scoped_id") == account):
        return Envelope(external_id=comment_id, raw=raw, meta=meta, skip_reason="the Pemda's own comment")
    env = Envelope(external_id=comment_id, raw=raw, sender=sender, text=value.get("text"), message_id=comment_id,
                   origin=_origin("instagram", "comment", comment_id, sender.id if sender else None,
                                  media_id=media.get("id")), meta=meta)
    if value.get("timestamp"):
        env.received_at = when(value["timestamp"])
    env.origin["created_time"] = int(env.received_at.timestamp())
    if value.get("parent_id"):
        env.reply_to = [str(value["parent_id"])]
    return env


def _instagram_mention(value: dict[str, Any], raw: str, index: int, parsed: Parsed) -> Envelope:
    comment_id, media_id = value.get("comment_id"), value.get("media_id")
    object_id = str(comment_id or media_id)
    parsed.lookups.append(Lookup(index, str(media_id) if media_id else None, str(comment_id) if comment_id else None))
    return Envelope(external_id=object_id, raw=raw, message_id=object_id,
                    origin=_origin("instagram", "mention", object_id, None, media_id=media_id,
                                   comment_id=comment_id),
                    meta={"platform": "instagram", "mention": "comment" if comment_id else "caption"})


def change_envelope(change: dict[str, Any], platform: str, account: str, raw: str, index: int,
                    parsed: Parsed) -> Envelope:
    """One ``changes`` item as an envelope."""
    field, value = change.get("field"), change["value"]
    if not isinstance(value, dict):
        raise TypeError("change value is not an object")
    if platform == "facebook" and field == "feed":
        return _feed(value, account, raw, parsed)
    if platform == "facebook" and field == "mention":
        return _facebook_mention(value, raw, index, parsed)
    if platform == "instagram" and field in ("comments", "live_comments"):
        return _instagram_comment(value, account, raw, str(field))
    if platform == "instagram" and field == "mentions":
        return _instagram_mention(value, raw, index, parsed)
    return Envelope(external_id=f"event:{digest(change)}", raw=raw, skip_reason=f"webhook field {field!r} not handled")


def fill_mention(env: Envelope, found: dict[str, Any]) -> None:
    """Complete a mention envelope with the comment or caption read through the Graph API."""
    who = found.get("from") if isinstance(found.get("from"), dict) else {}
    author = str(who.get("id") or found.get("username") or "")
    env.text = found.get("text") or found.get("caption") or found.get("message")
    if author:
        env.sender = Sender(id=author, username=found.get("username") or who.get("username"), name=who.get("name"))
        env.origin["author_id"] = author
    if found.get("timestamp") or found.get("created_time"):
        env.received_at = when(found.get("timestamp") or found.get("created_time"))
    env.meta["mentioned"] = {k: found.get(k) for k in ("id", "permalink", "media_type") if found.get(k)}
