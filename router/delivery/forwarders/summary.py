"""Short officer-facing descriptions shared by forwarders: location, SLA deadline in Asia/Jakarta."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

JAKARTA = ZoneInfo("Asia/Jakarta")


def describe_location(location: Any) -> str | None:
    """``{"kelurahan", "kecamatan", "rt", "rw", "text"}`` → ``"Jl. X, Kel. Y, Kec. Z, RT 01/RW 02"``."""
    if not location:
        return None
    if not isinstance(location, dict):
        return str(location)
    parts = [str(location[k]) for k in ("text", "label") if location.get(k)]
    if location.get("kelurahan"):
        parts.append(f"Kel. {location['kelurahan']}")
    if location.get("kecamatan"):
        parts.append(f"Kec. {location['kecamatan']}")
    rt, rw = location.get("rt"), location.get("rw")
    if rt or rw:
        parts.append("/".join(p for p in (f"RT {rt}" if rt else "", f"RW {rw}" if rw else "") if p))
    return ", ".join(parts) or None


def describe_deadline(sla_due: str | None) -> str:
    """ISO 8601 UTC → ``"10-03-2026 16:00 WIB"``; ``"-"`` when unknown."""
    if not sla_due:
        return "-"
    try:
        when = datetime.fromisoformat(sla_due)
    except ValueError:
        return sla_due
    return when.astimezone(JAKARTA).strftime("%d-%m-%Y %H:%M WIB")
