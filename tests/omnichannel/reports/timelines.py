"""A store with known timelines in March 2026, around Nyepi, Idul Fitri and their cuti bersama.

Working days on the test's calendar (weekends, national holidays, and the cuti bersama configured
below) numbered from Monday 2 March = 1; a duration is the difference of two numbers:

    Mar  2:1  3:2  4:3  5:4  6:5 | 9:6 10:7 11:8 12:9 13:10 | 16:11 17:12
         18 cuti bersama, 19 Nyepi, 20 cuti bersama, 21-22 Idul Fitri (weekend), 23-24 cuti bersama
    Mar 25:13 26:14 27:15 | 30:16 31:17 | Apr 1:18 2:19, 3 Good Friday | 6:20 7:21 8:22 ...

The report is taken as of Tuesday 7 April 2026 10:00 WIB (working day 21).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

from omnichannel.config import Config
from omnichannel.models import Case, Complaint, EnvelopeRow, FollowUp, Objection, Ticket
from tests.omnichannel.helpers import minimal_config

WIB = timezone(timedelta(hours=7))
AS_OF = datetime(2026, 4, 7, 10, 0, tzinfo=WIB)
CUTI_BERSAMA = ["2026-03-18", "2026-03-20", "2026-03-23", "2026-03-24"]


def wib(month: int, day: int, hour: int = 9, minute: int = 0) -> datetime:
    """A time in 2026, Jakarta."""
    return datetime(2026, month, day, hour, minute, tzinfo=WIB).astimezone(UTC)


def end_of(month: int, day: int) -> datetime:
    """The SLA deadline falling on that day (23:59:59 WIB)."""
    return datetime(2026, month, day, 23, 59, 59, tzinfo=WIB).astimezone(UTC)


def report_config(tmp_path: Path, url: str | None = None) -> Config:
    """Three agencies, the triage desk, and the cuti bersama of March 2026."""
    return minimal_config(tmp_path, url=url, extra=f"""
        agencies:
          - {{code: pupr, name: Dinas PUPR}}
          - {{code: dlh, name: Dinas Lingkungan Hidup}}
          - {{code: ppid, name: PPID Diskominfo}}
        sla:
          cuti_bersama: [{", ".join(CUTI_BERSAMA)}]
        """)


# (ticket ref, agency, kind, channel, router's agency, received, first response, closed, due, extra)
TICKETS = [
    # pupr: answered the next day, done in 3 working days, on time
    ("T1", "pupr", "pengaduan", "telegram", "pupr", wib(3, 2), wib(3, 3, 10), wib(3, 5, 15), end_of(3, 9), {}),
    # across Nyepi and the cuti bersama: response after 1 working day, done in 2
    ("T2", "pupr", "pengaduan", "whatsapp", "pupr", wib(3, 17, 8), wib(3, 25), wib(3, 26), end_of(3, 31), {}),
    # closed 10 Mar, reopened, closed again on a cuti bersama day (20 Mar = number 12): 7 working days, late
    ("T3", "pupr", "pengaduan", "email", "pupr", wib(3, 6, 14), wib(3, 6, 16), wib(3, 20, 11), end_of(3, 13),
     {"reopened": 1}),
    # never answered, overdue since 16 Mar; open for 21 - 6 = 15 working days
    ("T4", "pupr", "pengaduan", "x", "pupr", wib(3, 9, 10), None, None, end_of(3, 16), {}),
    # answered 1 Apr, open, due 8 Apr: not overdue; open for 21 - 17 = 4 working days
    ("T5", "pupr", "aspirasi", "webform", "pupr", wib(3, 31, 11), wib(4, 1), None, end_of(4, 8), {}),
    # the router sent it to DLH; it was moved to PUPR (DLH's ticket closed as "dialihkan"): reassigned,
    # recorded as the ticket's routed_agency (dlh) differing from its agency (pupr)
    ("T6", "pupr", "pengaduan", "telegram", "dlh", wib(3, 4, 10), wib(3, 4, 11), wib(3, 11), end_of(3, 11), {}),
    # dlh: received on a Saturday; answered Monday 16 Mar (1), done 25 Mar (13 - 10 = 3)
    ("T8", "dlh", "pengaduan", "whatsapp", "dlh", wib(3, 14, 10), wib(3, 16, 8), wib(3, 25), end_of(3, 27), {}),
    # the triage desk: received on Nyepi, never answered, overdue since 31 Mar; open 21 - 12 = 9 working days
    ("T9", "triage", "pengaduan", "webform", "triage", wib(3, 19), None, None, end_of(3, 31), {}),
    # information requests (10 working days, + 7 once)
    ("I1", "ppid", "informasi", "email", "ppid", wib(3, 2), wib(3, 2, 10), wib(3, 12), end_of(3, 16),
     {"info_outcome": "dikabulkan"}),
    ("I2", "ppid", "informasi", "webform", "ppid", wib(3, 10), wib(3, 11), wib(4, 1), end_of(4, 10),
     {"info_outcome": "dikabulkan_sebagian", "refusal_reason": "pasal17h", "sla_extended": True}),
    ("I3", "ppid", "informasi", "email", "ppid", wib(3, 12), wib(3, 13), wib(3, 13, 15), end_of(3, 26),
     {"info_outcome": "ditolak", "refusal_reason": "belum_dikuasai"}),
    ("I4", "ppid", "informasi", "telegram", "ppid", wib(3, 2, 13), wib(3, 3), wib(3, 27), end_of(3, 16),
     {"info_outcome": "ditolak", "refusal_reason": "pasal17a", "status": "ditolak"}),
    ("I5", "ppid", "informasi", "webform", "ppid", wib(3, 30), None, None, end_of(4, 14), {}),
    # outside the period (27 Feb): in no figure
    ("T0", "pupr", "pengaduan", "telegram", "pupr", wib(2, 27), wib(2, 27, 11), wib(3, 2), end_of(3, 6), {}),
]
KECAMATAN = {"T1": "Coblong", "T2": "Coblong", "T3": "Sukajadi", "T8": "Coblong", "T9": "Cicendo"}


async def build(store) -> dict[str, int]:
    """Write the timelines above; returns ticket ref → ticket id."""
    ids: dict[str, int] = {}
    async with store.session() as s:
        for n, (ref, agency, kind, channel, routed_to, received, first, closed, due, extra) in enumerate(TICKETS, 1):
            s.add(Case(id=n, ref=f"KAS-{n}", created_at=received, updated_at=received))
            location = {"kecamatan": KECAMATAN[ref]} if ref in KECAMATAN else None
            s.add(Complaint(id=n, ref=f"ADU-{ref}", connector=channel, channel=channel, text="…", status="routed",
                            kind=kind, agency=routed_to, location=location, kecamatan=KECAMATAN.get(ref), case_id=n,
                            created_at=received,
                            routed_at=received + timedelta(seconds=5)))
            status = extra.pop("status", "selesai" if closed else ("diproses" if first else "baru"))
            s.add(Ticket(id=n, ref=ref, case_id=n, agency=agency, routed_agency=routed_to, kind=kind, status=status,
                         sla_due=due,
                         received_at=received, created_at=received + timedelta(seconds=5), updated_at=received,
                         first_response_at=first, closed_at=closed, **extra))
            ids[ref] = n
        await s.flush()
        # DLH's ticket for T6's case, closed when the case moved to PUPR: not counted for DLH
        s.add(Ticket(id=100, ref="T6-DLH", case_id=ids["T6"], agency="dlh", routed_agency="dlh", kind="pengaduan",
                     status="dialihkan",
                     sla_due=end_of(3, 11), received_at=wib(3, 4, 10), closed_at=wib(3, 4, 12)))
        # complaints that made no ticket: a resend of T1, the same citizen on another channel about T2,
        # a second citizen about T8's incident, a message that is no complaint
        merged = [(201, "resend", "telegram", "pupr", ids["T1"], wib(3, 2, 9, 30)),
                  (202, "cross_channel", "email", "pupr", ids["T2"], wib(3, 17, 12))]
        for cid, level, channel, agency, case_id, at in merged:
            s.add(Complaint(id=cid, ref=f"ADU-{cid}", connector=channel, channel=channel, text="…", status="merged",
                            kind="pengaduan", agency=agency, case_id=case_id, duplicate_of=case_id,
                            dedup_level=level, created_at=at))
        s.add(Complaint(id=203, ref="ADU-203", connector="whatsapp", channel="whatsapp", text="…", status="routed",
                        kind="pengaduan", agency="dlh", case_id=ids["T8"], dedup_level="incident",
                        location={"kecamatan": "Coblong"}, kecamatan="Coblong", created_at=wib(3, 16, 9)))
        s.add(Complaint(id=204, ref="ADU-204", connector="webform", channel="webform", text="…", status="rejected",
                        kind="bukan_aduan", agency="triage", created_at=wib(3, 5)))
        await s.flush()
        # follow-ups: the two merges above, and a citizen's email reply on T3 at intake
        for eid, cid, reason, at in ((301, ids["T1"], "resend", wib(3, 2, 9, 30)),
                                     (302, ids["T2"], "cross_channel", wib(3, 17, 12)),
                                     (303, ids["T3"], "reply", wib(3, 7))):
            s.add(EnvelopeRow(id=eid, connector="c", channel="email", external_id=str(eid), received_at=at, raw=b"",
                              outcome="follow_up", complaint_id=cid))
            await s.flush()
            s.add(FollowUp(envelope_id=eid, complaint_id=cid, reason=reason, created_at=at))
        # keberatan: against I4's refusal (answered after 20 - 16 = 4 working days), against I2 (pending)
        s.add(Objection(ref="KEB-1", ticket_id=ids["I4"], reason="a", filed_at=wib(3, 30, 10),
                        due_at=end_of(5, 15), answered_at=wib(4, 6, 14), answer="…", outcome="ditolak", actor="t"))
        s.add(Objection(ref="KEB-2", ticket_id=ids["I2"], reason="e", filed_at=wib(3, 31, 10),
                        due_at=end_of(5, 18), actor="t"))
        await s.commit()
    return ids
