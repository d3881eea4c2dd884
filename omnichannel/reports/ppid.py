"""The PPID's yearly report on public-information service (UU 14/2008; the Komisi Informasi's standard
for public-information service asks for these counts): requests, the time they took, granted, partly
granted and refused with the reason, and keberatan. Written as XLSX and as a printable HTML page."""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Any

from omnichannel.information import OBJECTION_REASONS, REFUSAL_REASONS
from omnichannel.reports.render import _sheet, num

REQUESTS = ["No", "PPID / Instansi", "Jumlah permohonan", "Dikabulkan seluruhnya", "Dikabulkan sebagian", "Ditolak",
            "Belum diputus", "Waktu rata-rata (hari kerja)", "Median (hari kerja)", "Dijawab ≤ 10 hari kerja",
            "Dijawab dalam perpanjangan (≤ 17 hari kerja)", "Melewati batas waktu"]
REFUSALS = ["No", "Alasan penolakan (UU 14/2008)", "Jumlah"]
OBJECTIONS = ["No", "Alasan keberatan (Pasal 35 ayat 1)", "Jumlah"]
OBJECTION_SUMMARY = ["Jumlah keberatan", "Ditanggapi", "Ditanggapi ≤ 30 hari kerja", "Belum ditanggapi",
                     "Melewati batas 30 hari kerja", "Diteruskan ke Komisi Informasi"]


def sections(report: dict[str, Any]) -> dict[str, list[list[Any]]]:
    """The report's tables as rows (numbers, not text)."""
    agencies = [a for a in report["agencies"] if a["information"]["requests"] or a["keberatan"]["filed"]]
    requests = []
    for n, a in enumerate(agencies, 1):
        i = a["information"]
        requests.append([n, a["name"], i["requests"], i["granted"], i["partly_granted"], i["refused"], i["undecided"],
                         i["working_days"]["mean"], i["working_days"]["median"], i["within_10_working_days"],
                         i["within_extension"], i["late"]])
    t, k = report["total"]["information"], report["total"]["keberatan"]
    requests.append(["", "Jumlah", t["requests"], t["granted"], t["partly_granted"], t["refused"], t["undecided"],
                     t["working_days"]["mean"], t["working_days"]["median"], t["within_10_working_days"],
                     t["within_extension"], t["late"]])
    refusals = [[n, text, t["refusal_reasons"].get(code, 0)] for n, (code, text) in enumerate(REFUSAL_REASONS.items(), 1)]
    objections = [[n, f"{code}. {text}", k["reasons"].get(code, 0)]
                  for n, (code, text) in enumerate(OBJECTION_REASONS.items(), 1)]
    summary = [[k["filed"], k["answered"], k["answered_within_30_working_days"], k["filed"] - k["answered"],
                k["overdue"], k["to_komisi_informasi"]]]
    return {"requests": requests, "refusals": refusals, "objections": objections, "objection_summary": summary}


def write_xlsx(report: dict[str, Any], path: Path | str, pemda: str = "") -> None:
    """One sheet per table of the yearly report."""
    from openpyxl import Workbook

    parts = sections(report)
    book = Workbook()
    book.remove(book.active)
    _sheet(book, "Permohonan informasi", REQUESTS, parts["requests"])
    _sheet(book, "Alasan penolakan", REFUSALS, parts["refusals"])
    _sheet(book, "Keberatan", OBJECTION_SUMMARY, parts["objection_summary"])
    _sheet(book, "Alasan keberatan", OBJECTIONS, parts["objections"])
    meta = book.create_sheet("Keterangan")
    meta.append(["Laporan layanan informasi publik", pemda])
    meta.append(["Periode", f"{report['period']['from']} s.d. {report['period']['to']}"])
    meta.append(["Per tanggal (UTC)", report["as_of"]])
    book.save(str(path))


def _table(headers: list[str], body: list[list[Any]]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    cells = "".join("<tr>" + "".join(f"<td>{escape(num(v) if isinstance(v, int | float) or v is None else str(v))}</td>"
                                     for v in row) + "</tr>" for row in body)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{cells}</tbody></table>"


def html(report: dict[str, Any], year: int, pemda: str = "") -> str:
    """A printable page (A4 landscape) with the same tables."""
    parts = sections(report)
    title = f"Laporan Layanan Informasi Publik Tahun {year}"
    return f"""<!doctype html>
<html lang="id"><head><meta charset="utf-8"><title>{escape(title)}</title>
<style>
@page {{ size: A4 landscape; margin: 15mm; }}
body {{ font-family: "DejaVu Sans", Arial, sans-serif; font-size: 11pt; color: #111; }}
h1 {{ font-size: 16pt; margin: 0 0 2mm; }} h2 {{ font-size: 12pt; margin: 8mm 0 2mm; }}
table {{ border-collapse: collapse; width: 100%; page-break-inside: avoid; }}
th, td {{ border: 1px solid #555; padding: 3px 6px; text-align: right; }}
th:nth-child(2), td:nth-child(2) {{ text-align: left; }} th {{ background: #eee; }}
tbody tr:last-child td {{ font-weight: bold; }} p.catatan {{ font-size: 9pt; color: #444; }}
</style></head><body>
<h1>{escape(title)}</h1>
<p>{escape(pemda)} &mdash; periode {escape(report['period']['from'])} s.d. {escape(report['period']['to'])}</p>
<h2>A. Rincian permohonan informasi publik</h2>
{_table(REQUESTS, parts['requests'])}
<h2>B. Alasan penolakan permohonan (seluruhnya atau sebagian)</h2>
{_table(REFUSALS, parts['refusals'])}
<h2>C. Keberatan atas keputusan PPID</h2>
{_table(OBJECTION_SUMMARY, parts['objection_summary'])}
<h2>D. Alasan keberatan</h2>
{_table(OBJECTIONS, parts['objections'])}
<p class="catatan">Waktu dihitung dalam hari kerja sejak permohonan diterima (tanpa Sabtu, Minggu, libur nasional
dan cuti bersama). Batas waktu: 10 hari kerja, dapat diperpanjang 7 hari kerja (Pasal 22 UU 14/2008); tanggapan atas
keberatan 30 hari kerja (Pasal 36). Data per {escape(report['as_of'][:10])}.</p>
</body></html>
"""
