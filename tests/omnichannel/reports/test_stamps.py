"""Working-day stamps: a report stamps new tickets, restamps a ticket whose times change and every ticket
when the calendar changes, and its figures follow."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from omnichannel.models import Ticket
from omnichannel.reports import stamps
from omnichannel.reports.figures import build_report, sla_config
from omnichannel.sla import WorkingCalendar
from tests.omnichannel.helpers import minimal_config
from tests.omnichannel.reports.timelines import AS_OF, build, report_config, wib


async def _stamps(store, ref: str) -> tuple:
    async with store.session() as s:
        t = (await s.exec(select(Ticket).where(Ticket.ref == ref))).scalars().one()
        return t.received_wd, t.response_days, t.completion_days, t.wd_calendar


async def test_new_and_changed_tickets_are_stamped_by_the_next_report(any_store, tmp_path):
    await build(any_store)
    config = report_config(tmp_path)
    assert (await _stamps(any_store, "T1"))[3] is None  # written without a stamp
    await build_report(any_store, config, date(2026, 3, 1), date(2026, 3, 31), as_of=AS_OF)
    key = stamps.fingerprint(WorkingCalendar(sla_config(config)))
    received, response, completion, stamp = await _stamps(any_store, "T1")
    assert (response, completion, stamp) == (1, 3, key)  # 2 Mar -> 3 Mar, 5 Mar (timelines' numbers)
    # T2: received 17 Mar, closed 26 Mar (2 working days across Nyepi and cuti bersama); close it a day later
    async with any_store.session() as s:
        t2 = (await s.exec(select(Ticket).where(Ticket.ref == "T2"))).scalars().one()
        t2.closed_at = wib(3, 27)
        s.add(t2)
        await s.commit()
    assert (await _stamps(any_store, "T2"))[3] is None  # the change took the stamp away
    report = await build_report(any_store, config, date(2026, 3, 1), date(2026, 3, 31), as_of=AS_OF)
    assert (await _stamps(any_store, "T2"))[2:] == (3, key)
    pupr = next(a for a in report["agencies"] if a["agency"] == "pupr")
    assert pupr["completion_working_days"]["count"] == 4 and pupr["completion_working_days"]["mean"] == 4.5


async def test_a_calendar_change_restamps_every_ticket(any_store, tmp_path):
    await build(any_store)
    await build_report(any_store, report_config(tmp_path), date(2026, 3, 1), date(2026, 3, 31), as_of=AS_OF)
    # without the cuti bersama of 18, 20, 23 and 24 March, T2 (17 -> 26 March) takes 6 working days, not 2
    plain = minimal_config(tmp_path, extra="""
        agencies:
          - {code: pupr, name: Dinas PUPR}
          - {code: dlh, name: Dinas Lingkungan Hidup}
          - {code: ppid, name: PPID Diskominfo}
        """)
    report = await build_report(any_store, plain, date(2026, 3, 1), date(2026, 3, 31), as_of=AS_OF)
    assert (await _stamps(any_store, "T2"))[2:] == (6, stamps.fingerprint(WorkingCalendar(sla_config(plain))))
    pupr = next(a for a in report["agencies"] if a["agency"] == "pupr")
    # T1 3, T6 5, T2 6, T3 9 (6 -> 20 March: 7 with the cuti bersama)
    assert pupr["completion_working_days"] == {"count": 4, "mean": 5.75, "median": 5.5, "p90": 9}


def test_ordinal_differences_are_working_days_between():
    calendar = WorkingCalendar()
    ordinals = stamps.Ordinals(calendar)
    for a, b in ((date(2026, 3, 17), date(2026, 3, 26)), (date(2025, 12, 24), date(2026, 1, 5)),
                 (date(2026, 3, 14), date(2026, 3, 16))):
        assert ordinals.of(b) - ordinals.of(a) == calendar.working_days_between(a, b)
    assert ordinals.of(date(1999, 12, 31)) is None
