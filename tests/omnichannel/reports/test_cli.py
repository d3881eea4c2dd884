"""``omnichannel report`` on the timelines' store: the JSON shape, CSV, XLSX, the PPID report and monev."""

from __future__ import annotations

import asyncio
import csv
import json

import pytest

from omnichannel.cli import main
from omnichannel.store import Store
from tests.omnichannel.reports.timelines import CUTI_BERSAMA, build

CONFIG = """
data_dir: {data}
store: {{url: "sqlite+aiosqlite:///{data}/omnichannel.db"}}
agencies:
  - {{code: pupr, name: Dinas PUPR}}
  - {{code: dlh, name: Dinas Lingkungan Hidup}}
  - {{code: ppid, name: PPID Diskominfo}}
sla:
  cuti_bersama: [{cuti}]
"""


async def _prepare(url: str) -> None:
    store = Store(url)
    await store.open(migrate=True)
    try:
        await build(store)
    finally:
        await store.close()


@pytest.fixture
def config_file(tmp_path):
    data = tmp_path / "data"
    path = tmp_path / "config.yaml"
    path.write_text(CONFIG.format(data=data, cuti=", ".join(CUTI_BERSAMA)))
    asyncio.run(_prepare(f"sqlite+aiosqlite:///{data}/omnichannel.db"))
    return str(path)


def run(config_file, *argv):
    return main(["-c", config_file, "report", *argv])


def test_json_has_the_published_shape(config_file, tmp_path, capsys):
    assert run(config_file, "--from", "2026-03-01", "--to", "2026-03-31", "--as-of", "2026-04-07",
               "--format", "json") == 0
    report = json.loads(capsys.readouterr().out)
    assert report["period"] == {"from": "2026-03-01", "to": "2026-03-31"}
    keys = {"agency", "name", "received", "completed", "completion_rate", "first_response_working_days",
            "completion_working_days", "sla_met_rate", "open", "overdue"}
    for agency in report["agencies"]:
        assert keys <= set(agency)
        assert set(agency["first_response_working_days"]) >= {"mean", "median", "p90"}
    pupr = next(a for a in report["agencies"] if a["agency"] == "pupr")
    # as of the end of 7 April: T5 (due 8 April) is still not overdue
    assert (pupr["received"], pupr["completed"], pupr["overdue"]) == (6, 4, 1)
    assert report["total"]["received"] == 13


def test_table_csv_and_xlsx_with_indonesian_columns(config_file, tmp_path, capsys):
    assert run(config_file, "--from", "2026-03-01", "--to", "2026-03-31", "--agency", "pupr") == 0
    out = capsys.readouterr().out
    assert "Dinas PUPR" in out and "Diterima" in out and "hari kerja" in out
    target = tmp_path / "r.csv"
    assert run(config_file, "--from", "2026-03-01", "--to", "2026-03-31", "-o", str(target)) == 0
    rows = list(csv.DictReader(target.open(encoding="utf-8")))
    assert rows[-1]["Instansi"] == "Semua instansi" and rows[-1]["Diterima"] == "13"
    assert {r["Kode"] for r in rows} == {"pupr", "dlh", "triage", "ppid", "*"}
    book_path = tmp_path / "r.xlsx"
    assert run(config_file, "--from", "2026-03-01", "--to", "2026-03-31", "-o", str(book_path)) == 0
    from openpyxl import load_workbook

    book = load_workbook(book_path)
    sheet = book["Ringkasan"]
    header = [c.value for c in sheet[1]]
    assert header[:4] == ["Kode", "Instansi", "Diterima", "Selesai"]
    assert [c.value for c in sheet[sheet.max_row]][1:4] == ["Semua instansi", 13, 9]


def test_ppid_yearly_report_and_lapor_monev(config_file, tmp_path, capsys):
    base = tmp_path / "ppid-2026"
    assert run(config_file, "ppid", "--year", "2026", "--as-of", "2026-04-07", "-o", str(base)) == 0
    from openpyxl import load_workbook

    book = load_workbook(base.with_suffix(".xlsx"))
    rows = [[c.value for c in row] for row in book["Permohonan informasi"].iter_rows()]
    assert rows[0][2:6] == ["Jumlah permohonan", "Dikabulkan seluruhnya", "Dikabulkan sebagian", "Ditolak"]
    assert rows[1][1:7] == ["PPID Diskominfo", 5, 1, 1, 2, 1]
    refusals = {r[1]: r[2] for r in book["Alasan penolakan"].iter_rows(min_row=2, values_only=True)}
    assert refusals["Informasi belum dikuasai"] == 1 and sum(refusals.values()) == 3
    summary = [c.value for c in book["Keberatan"][2]]
    assert summary == [2, 1, 1, 1, 0, 0]
    page = base.with_suffix(".html").read_text()
    assert "Laporan Layanan Informasi Publik Tahun 2026" in page and "PPID Diskominfo" in page
    assert run(config_file, "lapor", "--from", "2026-03-01", "--to", "2026-03-31", "--format", "csv") == 0
    monev = list(csv.DictReader(capsys.readouterr().out.splitlines()))
    pupr = next(r for r in monev if r["Kode"] == "pupr")
    assert (pupr["Jumlah laporan"], pupr["Ditindaklanjuti"], pupr["Selesai"]) == ("6", "5", "4")


def test_bad_arguments_exit_2_with_the_reason(config_file, capsys):
    assert run(config_file, "--from", "2026-03-31", "--to", "2026-03-01") == 2
    assert "before" in capsys.readouterr().err
    assert run(config_file, "--from", "2026-03-01", "--to", "2026-03-31", "--agency", "nope") == 2
    assert "nope" in capsys.readouterr().err
    assert run(config_file, "--to", "2026-03-01") == 2
    with pytest.raises(SystemExit) as exit_info:
        run(config_file, "--from", "kemarin", "--to", "2026-03-01")
    assert exit_info.value.code == 2



def test_the_config_is_found_as_every_command_finds_it(config_file, tmp_path, monkeypatch, capsys):
    """Without -c: $OMNICHANNEL_CONFIG, then ./config.yaml (report once read only -c and failed without it)."""
    argv = ["report", "--from", "2026-03-01", "--to", "2026-03-31", "--as-of", "2026-04-07", "--format", "json"]
    monkeypatch.setenv("OMNICHANNEL_CONFIG", config_file)
    assert main(argv) == 0
    assert {a["agency"] for a in json.loads(capsys.readouterr().out)["agencies"]} >= {"pupr", "dlh"}
    monkeypatch.delenv("OMNICHANNEL_CONFIG")
    monkeypatch.chdir(tmp_path)  # config_file is tmp_path/config.yaml
    assert main(argv) == 0
    assert {a["agency"] for a in json.loads(capsys.readouterr().out)["agencies"]} >= {"pupr", "dlh"}
