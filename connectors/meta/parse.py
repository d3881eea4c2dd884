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
payload of the same shape, so ``reparse`` reads it alone. Direct messages are read in
``connectors.meta.messaging``, comments and mentions in ``connectors.meta.comments``.
"""

from __future__ import annotations

import json
from typing import Any

from connectors.meta.comments import change_envelope
from connectors.meta.messaging import messaging_event
from connectors.meta.shapes import (
    EXTENSIONS,
    OBJECTS,
    Lookup,
    MediaRef,
    Parsed,
    bad,
    digest,
    items,
    one,
    when,
)
from omnichannel.types import Envelope

__all__ = ["Lookup", "MediaRef", "Parsed", "filename", "parse_payload", "when"]


def parse_payload(payload: dict[str, Any], expected_object: str) -> Parsed:
    """Every message, comment and mention of one delivery, as envelopes (never raises on a bad part)."""
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
