"""Acceptance: every figure of a report over known timelines equals the value computed by hand.

The timelines and the working-day numbers they are computed with are in ``timelines.py``.
"""

from __future__ import annotations

from datetime import date

from omnichannel.reports.figures import build_report
from tests.omnichannel.reports import timelines
from tests.omnichannel.reports.timelines import AS_OF, build, report_config


def by_code(report):
    return {a["agency"]: a for a in report["agencies"]}


async def test_every_figure_matches_the_hand_computed_value(any_store, tmp_path):
    await build(any_store)
    config = report_config(tmp_path)
    report = await build_report(any_store, config, date(2026, 3, 1), date(2026, 3, 31), as_of=AS_OF)
    assert report["period"] == {"from": "2026-03-01", "to": "2026-03-31"}
    assert [a["agency"] for a in report["agencies"]] == ["dlh", "pupr", "triage", "ppid"]
    assert [a["name"] for a in report["agencies"]] == ["Dinas Lingkungan Hidup", "Dinas PUPR", "Meja triase",
                                                       "PPID Diskominfo"]
    agencies = by_code(report)

    pupr = agencies["pupr"]  # T1-T6 (T0 is February's)
    assert (pupr["received"], pupr["completed"], pupr["open"], pupr["overdue"]) == (6, 4, 2, 1)
    assert pupr["completion_rate"] == round(4 / 6, 4)
    # first response: T1 1, T2 1 (over Nyepi and cuti bersama), T3 0, T5 1, T6 0
    assert pupr["first_response_working_days"] == {"count": 5, "mean": 0.6, "median": 1, "p90": 1}
    # completion: T2 2, T1 3, T6 5, T3 7 (reopened, closed again on a cuti bersama day)
    assert pupr["completion_working_days"] == {"count": 4, "mean": 4.25, "median": 4.0, "p90": 7}
    # on time: T1, T2, T6; known outcomes: 4 closed + T4 open past its deadline
    assert (pupr["sla_met"], pupr["sla_met_rate"]) == (3, 0.6)
    assert pupr["backlog_age_working_days"] == {"count": 2, "mean": 9.5, "median": 9.5, "p90": 15}
    assert (pupr["reopened"], pupr["reassigned"]) == (1, 1)
    assert pupr["complaints"] == {
        "received": 7, "by_channel": {"email": 2, "telegram": 2, "webform": 1, "whatsapp": 1, "x": 1},
        "by_kind": {"aspirasi": 1, "pengaduan": 6}, "by_kecamatan": {"Coblong": 2, "Sukajadi": 1},
        "routed_automatically": 5, "routed_by_triage": 0, "rejected": 0, "unrouted": 0}
    assert pupr["dedup"] == {"resends": 1, "cross_channel": 1, "follow_ups": 1, "incident_joined": 0}

    dlh = agencies["dlh"]  # T8; its "dialihkan" ticket of T6's case is not counted
    assert (dlh["received"], dlh["completed"], dlh["open"], dlh["overdue"], dlh["reassigned"]) == (1, 1, 0, 0, 0)
    assert dlh["completion_rate"] == 1.0 and dlh["sla_met_rate"] == 1.0
    assert dlh["first_response_working_days"] == {"count": 1, "mean": 1.0, "median": 1, "p90": 1}
    assert dlh["completion_working_days"] == {"count": 1, "mean": 3.0, "median": 3, "p90": 3}
    assert dlh["complaints"]["received"] == 3 and dlh["complaints"]["by_channel"] == {"telegram": 1, "whatsapp": 2}
    assert dlh["complaints"]["by_kecamatan"] == {"Coblong": 2}
    assert dlh["dedup"] == {"resends": 0, "cross_channel": 0, "follow_ups": 0, "incident_joined": 1}

    triage = agencies["triage"]  # T9, received on Nyepi, never answered
    assert (triage["received"], triage["completed"], triage["open"], triage["overdue"]) == (1, 0, 1, 1)
    assert triage["completion_rate"] == 0.0 and triage["sla_met_rate"] == 0.0
    assert triage["first_response_working_days"] == {"count": 0, "mean": None, "median": None, "p90": None}
    assert triage["backlog_age_working_days"]["median"] == 9
    assert triage["complaints"]["routed_by_triage"] == 1 and triage["complaints"]["rejected"] == 1
    assert triage["complaints"]["by_kind"] == {"bukan_aduan": 1, "pengaduan": 1}

    ppid = agencies["ppid"]
    assert (ppid["received"], ppid["completed"], ppid["open"], ppid["overdue"]) == (5, 4, 1, 0)
    assert ppid["first_response_working_days"] == {"count": 4, "mean": 0.75, "median": 1.0, "p90": 1}
    assert ppid["completion_working_days"] == {"count": 4, "mean": 8.5, "median": 9.5, "p90": 14}
    assert (ppid["sla_met"], ppid["sla_met_rate"]) == (3, 0.75)
    assert ppid["information"] == {
        "requests": 5, "decided": 4, "undecided": 1, "granted": 1, "partly_granted": 1, "refused": 2,
        "no_decision_recorded": 0, "refusal_reasons": {"belum_dikuasai": 1, "pasal17a": 1, "pasal17h": 1},
        "refusal_categories": {"belum_dikuasai": 1, "dikecualikan": 2},
        "within_10_working_days": 2, "within_extension": 1, "late": 1,
        "working_days": {"count": 4, "mean": 8.5, "median": 9.5, "p90": 14}}
    assert ppid["keberatan"] == {
        "filed": 2, "answered": 1, "answered_within_30_working_days": 1, "overdue": 0, "to_komisi_informasi": 0,
        "reasons": {"a": 1, "e": 1}, "outcomes": {"ditolak": 1},
        "working_days": {"count": 1, "mean": 4.0, "median": 4, "p90": 4}}

    total = report["total"]
    assert (total["received"], total["completed"], total["open"], total["overdue"]) == (13, 9, 4, 2)
    assert total["completion_rate"] == round(9 / 13, 4)
    # pupr 0 0 1 1 1, dlh 1, ppid 0 1 1 1: ten responses, seven of them after 1 working day
    assert total["first_response_working_days"] == {"count": 10, "mean": 0.7, "median": 1.0, "p90": 1}
    assert total["completion_working_days"] == {"count": 9, "mean": 6.0, "median": 5, "p90": 14}
    assert total["sla_met_rate"] == round(7 / 11, 4)
    assert total["backlog_age_working_days"] == {"count": 4, "mean": 8.25, "median": 7.0, "p90": 15}
    assert (total["reopened"], total["reassigned"]) == (1, 1)
    assert total["complaints"]["received"] == 17
    assert total["complaints"]["by_kecamatan"] == {"Coblong": 4, "Cicendo": 1, "Sukajadi": 1}
    assert total["dedup"] == {"resends": 1, "cross_channel": 1, "follow_ups": 1, "incident_joined": 1}
    assert total["information"]["refused"] == 2 and total["keberatan"]["filed"] == 2


async def test_one_agency_and_an_earlier_as_of(any_store, tmp_path):
    await build(any_store)
    config = report_config(tmp_path)
    # as of 13 March 17:00: T1 and T6 are closed; T3 was closed on 10 Mar and reopened (the store keeps
    # its last closing, 20 Mar, so it counts as open); neither T3 (due 13 Mar 23:59) nor T4 (16 Mar) is overdue
    as_of = timelines.wib(3, 13, 17)
    report = await build_report(any_store, config, date(2026, 3, 1), date(2026, 3, 13), agency="pupr", as_of=as_of)
    assert [a["agency"] for a in report["agencies"]] == ["pupr"]
    pupr = report["agencies"][0]
    assert (pupr["received"], pupr["completed"], pupr["open"], pupr["overdue"]) == (4, 2, 2, 0)
    # T1 1, T3 0, T6 0; T4 has had no response
    assert pupr["first_response_working_days"] == {"count": 3, "mean": 0.33, "median": 0, "p90": 1}
    assert pupr["completion_working_days"] == {"count": 2, "mean": 4.0, "median": 4.0, "p90": 5}
    # open as of 13 Mar (number 10): T3 10 - 5 = 5, T4 10 - 6 = 4
    assert pupr["backlog_age_working_days"] == {"count": 2, "mean": 4.5, "median": 4.5, "p90": 5}


async def test_an_empty_period_has_no_figures(any_store, tmp_path):
    report = await build_report(any_store, report_config(tmp_path), date(2025, 1, 1), date(2025, 1, 31))
    assert report["agencies"] == []
    assert report["total"]["received"] == 0 and report["total"]["completion_rate"] is None


async def test_the_demo_prints_a_brief_of_its_day(store, tmp_path):
    from omnichannel.reports.render import brief

    await build(store)
    report = await build_report(store, report_config(tmp_path), date(2026, 3, 2), date(2026, 3, 2), as_of=AS_OF)
    text = brief(report, "Laporan hari demo")
    # 2 March: T1 and I1, I4 received; T1 and I1 done by the time of the report, I4 too (27 March)
    assert "Laporan hari demo (2026-03-02" in text
    assert "3 tiket diterima, 3 selesai (100,0 %)" in text
    assert "1 pesan duplikat/lanjutan terserap" in text
    assert "Dinas PUPR" in text and "PPID Diskominfo" in text


async def test_the_trend_counts_tickets_per_local_day(any_store, tmp_path):
    await build(any_store)
    report = await build_report(any_store, report_config(tmp_path), date(2026, 3, 1), date(2026, 3, 10),
                                as_of=AS_OF, with_trend=True)
    trend = {row["day"]: (row["received"], row["completed"]) for row in report["trend"]}
    # 2 March: T1, I1, I4 (all closed by 7 April); 4 March: T6; 6 March: T3; 9 March: T4 (open); 10 March: I2
    assert trend == {"2026-03-02": (3, 3), "2026-03-04": (1, 1), "2026-03-06": (1, 1), "2026-03-09": (1, 0),
                     "2026-03-10": (1, 1)}
    # open at 7 April 10:00 and past the deadline, oldest deadline first: T4 (16 March, 21 - 11 = 10 working
    # days late), then T9 (31 March, 21 - 17 = 4)
    assert [(o["ticket"], o["working_days_overdue"]) for o in report["oldest_overdue"]] == [("T4", 10), ("T9", 4)]


async def test_a_long_period_counts_the_same_rows(any_store, tmp_path):
    # a year reads the tables straight through on SQLite (not through the time index): same figures
    await build(any_store)
    config = report_config(tmp_path)
    march = await build_report(any_store, config, date(2026, 3, 1), date(2026, 3, 31), as_of=AS_OF)
    year = await build_report(any_store, config, date(2026, 1, 1), date(2026, 12, 31), as_of=AS_OF)
    assert year["total"]["received"] == march["total"]["received"] + 1  # T0, 27 February
    assert year["total"]["complaints"]["received"] == march["total"]["complaints"]["received"] + 1
    pupr = by_code(year)["pupr"]
    assert pupr["completion_working_days"]["count"] == 5 and pupr["reassigned"] == 1
