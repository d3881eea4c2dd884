"""What one batch of the email connector is: the plan (UIDs and resulting position), the batch as fetched,
the private ack token, and the checkpoint helpers. Shared by the connector and its fetch workers' path."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from connectors.email.pool import RawMail
from connectors.email.session import Fetched as FetchedMail
from omnichannel.types import Batch, Envelope, utcnow

log = logging.getLogger(__name__)


@dataclass(slots=True)
class AckToken:
    """Which UIDs of which folder a batch covers (private to the connector)."""

    folder: str
    uidvalidity: int
    uids: dict[str, int] = field(default_factory=dict)       # external id → uid
    absorbed: list[int] = field(default_factory=list)        # already stored before a UIDVALIDITY change
    checkpoint: dict[str, Any] | None = None


@dataclass(slots=True)
class Plan:
    """A batch decided on the connector's connection (its UIDs and resulting position), not fetched yet."""

    folder: str
    uidvalidity: int
    uids: list[int]
    state: dict[str, Any]       # the folder's state once the batch is acknowledged
    position: dict[str, Any]    # the position the batch was planned from
    resync: bool


@dataclass(slots=True)
class Fetched:
    """A batch as fetched: mail still to be parsed (``RawMail``) or already an envelope (parsed by a worker,
    or too large); or only its ``plan`` when the fetch workers are to read it."""

    batch: Batch
    items: list[Envelope | RawMail]
    resync: bool = False
    plan: Plan | None = None


def assemble(plan: Plan, max_bytes: int, fetched: list[tuple[FetchedMail, Envelope | None]]) -> Fetched:
    """The batch of what was fetched (``Envelope`` when already parsed) with its ack token and checkpoint."""
    token = AckToken(plan.folder, plan.uidvalidity)
    items: list[Envelope | RawMail] = []
    for item, env in fetched:
        external_id = f"{plan.folder}/{plan.uidvalidity}/{item.uid}"
        token.uids[external_id] = item.uid
        if item.truncated:
            items.append(Envelope(external_id=external_id, raw=item.raw,
                                  received_at=item.internal_date or utcnow(),
                                  error=(f"message of {item.size} bytes is over max_message_bytes ({max_bytes})"
                                         if item.size > max_bytes else f"message of {item.size} bytes could not "
                                         "be read in parts (its structure)") + "; header kept here, whole "
                                        "message moved to the quarantine folder"))
        else:
            items.append(env if env is not None else RawMail(item.raw, external_id, item.internal_date,
                                                                        item.parts))
    token.checkpoint = with_folder(plan.position, plan.folder, plan.state)
    log.debug("fetched %d messages of %s (UIDs %d-%d)", len(items), plan.folder, plan.uids[0], plan.uids[-1])
    return Fetched(Batch([], token.checkpoint, next_poll_in=0, ack_token=token), items, plan.resync)


def normalise(checkpoint: dict[str, Any] | None, rewind: bool = False) -> dict[str, Any]:
    """A private copy of a checkpoint without ``unacked`` marks (``rewind``: read those UIDs again)."""
    folders: dict[str, Any] = {}
    for name, state in ((checkpoint or {}).get("folders") or {}).items():
        state = dict(state)
        unacked = state.pop("unacked", None)
        if rewind and unacked:
            state["last_uid"] = min(int(state["last_uid"]), int(unacked[0]) - 1)
        folders[name] = state
    return {"folders": folders}


def with_folder(position: dict[str, Any], folder: str, state: dict[str, Any]) -> dict[str, Any]:
    """``position`` with ``folder``'s state replaced (a copy)."""
    out = normalise(position)
    out["folders"][folder] = state
    return out
