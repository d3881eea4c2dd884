"""The weekly digest: last week's figures, the oldest overdue tickets, the change; queued once a week."""

from __future__ import annotations

from sqlalchemy import select

from omnichannel.models import OutboxRow
from omnichannel.reports.digest import send_digest
from tests.omnichannel.reports.timelines import build, report_config, wib

DIGEST = """
        forwarders:
          - {name: pimpinan, kind: webhook, url: "http://127.0.0.1:9/x", item_types: [digest]}
        reports:
          digest: {enabled: true, weekday: 0, hour: 7, to: [pimpinan]}
"""


async def test_digest_of_last_week_goes_through_the_outbox_once(store, tmp_path):
    await build(store)
    config = report_config(tmp_path)
    assert await send_digest(store, config, now=wib(3, 16, 7)) is None  # off by default
    from tests.omnichannel.helpers import minimal_config

    config = minimal_config(tmp_path, extra=DIGEST + """
        agencies:
          - {code: pupr, name: Dinas PUPR}
          - {code: dlh, name: Dinas Lingkungan Hidup}
          - {code: ppid, name: PPID Diskominfo}
        sla:
          cuti_bersama: [2026-03-18, 2026-03-20, 2026-03-23, 2026-03-24]
        """)
    # Monday 16 March 07:00: last week is 9-15 March. Received: T4 (PUPR, open), T8 (DLH, answered only
    # at 08:00), I2 and I3 (PPID, I3 done). T3 (due 13 March, closed only on 20 March) is 1 working day late.
    text = await send_digest(store, config, now=wib(3, 16, 7))
    assert "2026-03-09 s.d. 2026-03-15" in text
    assert "- Dinas PUPR: 1 diterima, 0 selesai (0,0 %)" in text
    assert "- PPID Diskominfo: 2 diterima, 1 selesai (50,0 %), respons pertama rata-rata 1 hari kerja" in text
    assert "- T3 (Dinas PUPR): batas waktu 2026-03-13, terlambat 1 hari kerja" in text
    # the week before (2-8 March): T1, T3, T6, I1, I4 received; T1, T6 and I1 done by 16 March 07:00
    assert "diterima 4 (minggu sebelumnya 5); selesai 1 (minggu sebelumnya 3)" in text
    await send_digest(store, config, now=wib(3, 16, 7, 5))  # a second replica, or a restart: no second row
    async with store.session() as s:
        rows = (await s.exec(select(OutboxRow).where(OutboxRow.item_type == "digest"))).scalars().all()
    assert [(r.item_ref, r.destination) for r in rows] == [("2026-W11", "pimpinan")]
    assert rows[0].payload["subject"] == "Ringkasan mingguan layanan pengaduan 09-03-2026 s.d. 15-03-2026"
    assert rows[0].payload["text"] == text


def test_the_daemon_schedules_the_digest_in_jakarta_time(tmp_path):
    from apscheduler.schedulers.asyncio import AsyncIOScheduler

    from omnichannel.reports.digest import schedule
    from tests.omnichannel.helpers import minimal_config

    scheduler = AsyncIOScheduler()

    async def job() -> None:
        return None

    assert not schedule(scheduler, job, minimal_config(tmp_path))
    assert schedule(scheduler, job, minimal_config(tmp_path, extra=DIGEST))
    trigger = scheduler.get_job("digest").trigger
    assert str(trigger.timezone) == "Asia/Jakarta"
    assert {f.name: str(f) for f in trigger.fields}["day_of_week"] == "mon"
    assert {f.name: str(f) for f in trigger.fields}["hour"] == "7"
