"""The weekly digest: last week's figures per agency, the oldest overdue tickets and what changed,
to the leaders' email or Telegram group through the outbox (one row per destination and week, so
replicas running the job at once send it once)."""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from typing import Any

from pydantic import Field, field_validator

from omnichannel.config import Model, forwarder_names
from omnichannel.outbox import enqueue
from omnichannel.reports.figures import build_report, sla_config
from omnichannel.reports.render import num, pct
from omnichannel.sla import WorkingCalendar
from omnichannel.templates import Templates
from omnichannel.types import utcnow

log = logging.getLogger(__name__)


class DigestConfig(Model):
    """When the weekly digest goes out (in the SLA calendar's zone, Asia/Jakarta) and to whom."""

    enabled: bool = Field(False, description="send the weekly digest")
    weekday: int = Field(0, ge=0, le=6, description="0 = Monday … 6 = Sunday")
    hour: int = Field(7, ge=0, le=23, description="local hour")
    minute: int = Field(0, ge=0, le=59)
    to: list[str] = Field(default_factory=list, description=(
        "forwarder names (email to the leaders, a Telegram group); each must take item type 'digest'"))
    oldest_overdue: int = Field(5, ge=0, le=50, description="how many of the oldest overdue tickets to list")

    @field_validator("to")
    @classmethod
    def _names(cls, value: list[str]) -> list[str]:
        return forwarder_names(value)


class ReportsConfig(Model):
    """The ``reports:`` section."""

    digest: DigestConfig = Field(default_factory=DigestConfig)


def reports_config(config: Any) -> ReportsConfig:
    """The config's ``reports`` section as a model (defaults when absent)."""
    section = getattr(config, "reports", None)
    return section if isinstance(section, ReportsConfig) else ReportsConfig.model_validate(section or {})


def last_week(calendar: WorkingCalendar, now: datetime) -> tuple[date, date]:
    """Monday .. Sunday of the full week before ``now``'s (local dates)."""
    today = calendar.local_date(now)
    monday = today - timedelta(days=today.weekday() + 7)
    return monday, monday + timedelta(days=6)


def _change(now: int | float | None, before: int | float | None, percent: bool = False) -> str:
    shown = pct(now) if percent else num(now)
    was = pct(before) if percent else num(before)
    return f"{shown} (minggu sebelumnya {was})"


def compose(report: dict[str, Any], previous: dict[str, Any], templates: Templates) -> str:
    """The digest's text from last week's report and the week before's."""
    lines = []
    for a in report["agencies"]:
        if not (a["received"] or a["open"]):
            continue
        lines.append(templates("digest_agency", agency=a["name"], received=a["received"], completed=a["completed"],
                               completion_rate=pct(a["completion_rate"]),
                               first_response=num(a["first_response_working_days"]["mean"]),
                               sla_met_rate=pct(a["sla_met_rate"]), overdue=a["overdue"]))
    overdue = [templates("digest_overdue", ticket=o["ticket"], agency=o["name"], days=o["working_days_overdue"],
                         sla_due=(o["sla_due"] or "")[:10]) for o in report.get("oldest_overdue", [])]
    t, p = report["total"], previous["total"]
    changes = templates("digest_change", received=_change(t["received"], p["received"]),
                        completed=_change(t["completed"], p["completed"]),
                        completion_rate=_change(t["completion_rate"], p["completion_rate"], percent=True),
                        first_response=_change(t["first_response_working_days"]["mean"],
                                               p["first_response_working_days"]["mean"]),
                        overdue=_change(t["overdue"], p["overdue"]))
    return templates("digest", period_from=report["period"]["from"], period_to=report["period"]["to"],
                     agencies="\n".join(lines) or "Tidak ada tiket pada minggu ini.",
                     overdue="\n".join(overdue) or "Tidak ada tiket yang terlambat.", changes=changes)


async def send_digest(store: Any, config: Any, now: datetime | None = None) -> str | None:
    """Queue last week's digest to every configured destination; returns the text (None when off)."""
    digest = reports_config(config).digest
    if not digest.enabled or not digest.to:
        return None
    now = now or utcnow()
    calendar = WorkingCalendar(sla_config(config))
    first, last = last_week(calendar, now)
    report = await build_report(store, config, first, last, as_of=now, with_trend=True)
    report["oldest_overdue"] = report.get("oldest_overdue", [])[:digest.oldest_overdue]
    previous = await build_report(store, config, first - timedelta(days=7), last - timedelta(days=7), as_of=now)
    templates = Templates(getattr(config, "templates", None) or {}, getattr(config, "templates_dir", None))
    text = compose(report, previous, templates)
    subject = templates("digest_subject", period_from=first.strftime("%d-%m-%Y"), period_to=last.strftime("%d-%m-%Y"))
    week = f"{first.isocalendar().year}-W{first.isocalendar().week:02d}"
    async with store.session() as session:
        for destination in digest.to:
            await enqueue(session, "digest", week, destination, {"subject": subject, "text": text, "week": week})
        await session.commit()
    log.info("weekly digest %s queued to %s", week, ", ".join(digest.to))
    return text


def schedule(scheduler: Any, run: Any, config: Any) -> bool:
    """Add the digest's weekly job to an APScheduler (``run`` is the coroutine function to call)."""
    digest = reports_config(config).digest
    if not digest.enabled or not digest.to:
        return False
    days = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    scheduler.add_job(run, "cron", day_of_week=days[digest.weekday], hour=digest.hour, minute=digest.minute,
                      timezone=sla_config(config).timezone, id="digest", name="digest")
    return True
