"""Who reported, and how to reach them again, for the ticket view of the officers' desk.

The owning agency's officers (and coordinators and admins with a personal account) read each reporter's name,
phone, email and channel handle to call them back; anyone else who may see the ticket (a machine coordinator
token, a PPID of every agency) reads them masked, as they read names in the texts masked. A reporter who asked
for anonymity is masked for everybody.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from omnichannel.models import EnvelopeRow, Identity, Reporter
from omnichannel.pii import mask_name
from omnichannel.users import ALL_AGENCIES

# identity channel → what the page calls it (phone-like addresses are phone numbers)
KINDS = {"phone": "telepon", "whatsapp": "whatsapp", "email": "email", "telegram": "telegram", "x": "x",
         "instagram": "instagram", "facebook": "facebook"}
PHONE_LIKE = ("phone", "whatsapp")


def full_view(caller: Any, agency: str) -> bool:
    """True when ``caller`` reads personal data of ``agency``'s tickets unmasked."""
    return caller.owns(agency) or (caller.login is not None and caller.role in ALL_AGENCIES)


def mask_value(kind: str, value: str) -> str:
    """A contact with most of it hidden: a number keeps its last three digits, an email its domain."""
    if kind in PHONE_LIKE or value.lstrip("+").isdigit():
        return "*" * max(0, len(value) - 3) + value[-3:] if len(value) > 3 else "***"
    if "@" in value and not value.startswith("@"):
        local, _, domain = value.partition("@")
        return (local[:1] + "***@" + domain) if local else "***@" + domain
    handle = value.lstrip("@")
    return ("@" if value.startswith("@") else "") + (handle[:1] + "***" if handle else "***")


def _handle(raw: bytes | None) -> str | None:
    """The sender's @username as the channel sent it (Telegram ``from.username``, X ``username``), if any."""
    if not raw or len(raw) > 200_000:
        return None
    try:
        doc = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return None
    stack: list[tuple[Any, int]] = [(doc, 0)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            sender = node.get("from") or node.get("author") or node.get("user")
            if isinstance(sender, dict) and isinstance(sender.get("username"), str) and sender["username"]:
                return "@" + sender["username"].lstrip("@")
            if depth < 4:
                stack.extend((v, depth + 1) for v in node.values() if isinstance(v, (dict, list)))
        elif isinstance(node, list) and depth < 4:
            stack.extend((v, depth + 1) for v in node[:20] if isinstance(v, (dict, list)))
    return None


async def reporters(session: Any, complaints: list[Any]) -> dict[int, dict[str, Any]]:
    """reporter id → {"name", "contacts": [{"kind", "value"}]} unmasked (``shown`` masks them)."""
    ids = {c.reporter_id for c in complaints if c.reporter_id is not None}
    if not ids:
        return {}
    out: dict[int, dict[str, Any]] = {rid: {"name": None, "contacts": []} for rid in ids}
    for rid, name in (await session.exec(select(Reporter.id, Reporter.display_name).where(
            Reporter.id.in_(ids)))).all():
        out[rid]["name"] = name
    rows = (await session.exec(select(Identity.reporter_id, Identity.channel, Identity.address, Identity.name)
                               .where(Identity.reporter_id.in_(ids)).order_by(Identity.id))).all()
    for rid, channel, address, name in rows:
        entry = out[rid]
        entry["name"] = entry["name"] or name
        kind = KINDS.get(channel)
        if kind is None or not address:  # a web form session or an internal link is no way to reach anyone
            continue
        if channel == "whatsapp" and not address.startswith("+"):
            address = "+" + address
        if {"kind": kind, "value": address} not in entry["contacts"]:
            entry["contacts"].append({"kind": kind, "value": address})
    envelopes = [c.envelope_id for c in complaints if c.envelope_id is not None and c.reporter_id is not None]
    if envelopes:
        by_env = {c.envelope_id: c.reporter_id for c in complaints if c.envelope_id is not None}
        for eid, channel, raw in (await session.exec(select(EnvelopeRow.id, EnvelopeRow.channel, EnvelopeRow.raw)
                                                     .where(EnvelopeRow.id.in_(envelopes[:50])))).all():
            handle = _handle(raw) if channel in ("telegram", "x", "instagram") else None
            entry = out.get(by_env.get(eid, -1))
            if handle and entry is not None and {"kind": channel, "value": handle} not in entry["contacts"]:
                entry["contacts"].append({"kind": channel, "value": handle})
    return out


def shown(found: dict[str, Any] | None, full: bool, anonymous: bool) -> dict[str, Any] | None:
    """A reporter as this viewer may read them."""
    if found is None:
        return None
    if full and not anonymous:
        return {"name": found["name"], "contacts": list(found["contacts"]), "masked": False}
    return {"name": mask_name(found["name"]) if found["name"] else None, "masked": True,
            "contacts": [{"kind": c["kind"], "value": mask_value(c["kind"], c["value"])} for c in found["contacts"]]}
