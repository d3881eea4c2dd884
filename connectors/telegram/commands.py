"""Answers to the bot's chat commands (``/start``, ``/status ADU-…``)."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

from connectors.telegram.parse import Command

REF = re.compile(r"^ADU-\d{4}-\d{6,}$")
StatusLookup = Callable[..., Awaitable[dict[str, Any] | None]]


async def command_answer(command: Command, templates: Callable[..., str], status_lookup: StatusLookup | None,
                         service_name: str) -> str:
    """The Bahasa Indonesia answer to ``command``; ``/status`` only reveals the sender's own complaint."""
    if command.name != "status":
        return templates("start_help", pemda=service_name)
    ref = command.argument.split()[0].upper() if command.argument else ""
    if not REF.match(ref):
        return templates("status_usage")
    status = await status_lookup(ref, sender_id=command.sender_id) if status_lookup else None
    if status is None:  # unknown, or not this citizen's own complaint: the same answer
        return templates("status_unknown", ref=ref)
    extra = templates("status_detail", ticket=status["ticket"], sla_due=status.get("sla_due") or "-") \
        if status.get("ticket") else ""
    return templates("status", ref=status["complaint"], status_text=status["status_text"],
                     agency=status.get("agency") or "-", extra=extra).strip()
