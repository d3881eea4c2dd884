"""Catch-up after downtime: conversations and comments since the checkpoint, through the Graph API.

Each item read is rebuilt as the webhook event Meta would have sent (same ids), so what webhooks already
delivered is absorbed by the store's unique key and the envelopes look the same either way. The
checkpoint ``{"since": <unix time>, "seen": [ids at that time]}`` points *after* the last item returned:
items older than ``since``, or at ``since`` and already seen, are not returned again.

Reads: ``GET /{page-id}/conversations?platform=messenger|instagram`` (newest first, by ``updated_time``)
then ``GET /{conversation-id}/messages`` (newest first) until older than ``since``; comments come from the
platform (``recent_comments``). Our own messages are not returned: they are not the citizens'.
Limitation: comments on posts older than the ``catch_up_posts`` most recent ones come by webhook only.
"""

from __future__ import annotations

import time
from typing import Any

from connectors.meta.parse import parse_payload, when
from omnichannel.types import Batch

# ``conn`` below is the MetaConnector; typed ``Any`` because connector.py imports this module
MESSAGE_FIELDS = "id,created_time,from,to,message,attachments{id,mime_type,name,size,image_data,video_data,file_url}"
CONVERSATIONS = 200
MESSAGES = 500


def resume(conn: Any, checkpoint: dict[str, Any] | None) -> None:
    """Set the position from a stored checkpoint, or ``catch_up_lookback_hours`` ago on a first start."""
    checkpoint = checkpoint or {}
    try:
        conn.since = float(checkpoint["since"])
        conn.seen = {str(i) for i in checkpoint.get("seen") or []}
    except (KeyError, TypeError, ValueError):
        conn.since = time.time() - conn.config.catch_up_lookback_hours * 3600
        conn.seen = set()


def _attachments(message: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for att in (message.get("attachments") or {}).get("data") or []:
        mime = str(att.get("mime_type") or "")
        url = ((att.get("image_data") or {}).get("url") or (att.get("video_data") or {}).get("url")
               or att.get("file_url"))
        kind = "image" if mime.startswith("image/") else "video" if mime.startswith("video/") else \
            "audio" if mime.startswith("audio/") else "file"
        if url:
            out.append({"type": kind, "payload": {"url": url}})
    return out


async def conversations(conn: Any, since: float) -> list[tuple[float, str, dict[str, Any]]]:
    """Citizens' direct messages since ``since``, as (time, mid, webhook ``messaging`` event)."""
    platform = "instagram" if conn.kind == "instagram" else "messenger"
    own = {conn.config.page_id, conn.account_id}
    found: list[tuple[float, str, dict[str, Any]]] = []
    threads = await conn.graph.pages(f"{conn.config.page_id}/conversations", CONVERSATIONS, platform=platform,
                                     fields="id,updated_time", limit=50)
    for thread in threads:
        if when(thread.get("updated_time")).timestamp() < since:
            break
        messages = await conn.graph.pages(f"{thread['id']}/messages", MESSAGES, fields=MESSAGE_FIELDS, limit=100)
        for message in messages:
            at = when(message.get("created_time")).timestamp()
            if at < since:
                break
            sender = str((message.get("from") or {}).get("id") or "")
            if not sender or sender in own:
                continue
            event: dict[str, Any] = {"sender": {"id": sender}, "recipient": {"id": conn.account_id},
                                     "timestamp": int(at * 1000),
                                     "message": {"mid": str(message["id"]), "text": message.get("message") or None}}
            attachments = _attachments(message)
            if attachments:
                event["message"]["attachments"] = attachments
            found.append((at, str(message["id"]), {"messaging": event}))
    return found


async def poll(conn: Any) -> Batch:
    """The next envelopes after the checkpoint, oldest first, at most ``batch_size`` (ties kept together)."""
    since, seen = conn.since, conn.seen
    items = await conversations(conn, since) + await conn.recent_comments(since)
    items = sorted((i for i in items if i[0] > since or (i[0] == since and i[1] not in seen)),
                   key=lambda i: (i[0], i[1]))
    if not items:
        return Batch()
    batch = items[:conn.config.batch_size]
    last = batch[-1][0]
    batch += [i for i in items[len(batch):] if i[0] == last]
    envelopes = []
    for _, _, event in batch:
        key, item = next(iter(event.items()))
        payload = {"object": conn.webhook_object, "entry": [{"id": conn.account_id, "time": int(time.time() * 1000),
                                                             key: [item]}]}
        parsed = parse_payload(payload, conn.webhook_object)
        await conn.complete(parsed)
        for env in parsed.envelopes:
            env.meta["via"] = "catch-up"
        envelopes.extend(parsed.envelopes)
    ids = {i[1] for i in batch if i[0] == last} | (seen if last == since else set())
    # the position moves in ``ack``, after the commit: a failed commit re-reads the same items
    return Batch(envelopes, checkpoint={"since": last, "seen": sorted(ids)}, ack_token=(last, ids))
