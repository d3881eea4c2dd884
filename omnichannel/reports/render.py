"""The report as a terminal table, CSV, XLSX (openpyxl) or JSON, with Indonesian column names."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

Row = dict[str, Any]
Getter = Callable[[Row], Any]


def pct(value: float | None) -> str:
    """``0.6667`` → ``"66,7 %"``; None → ``"-"``."""
    return "-" if value is None else f"{value * 100:.1f} %".replace(".", ",")


def local_time(report: dict[str, Any]) -> str:
    """The report's ``as_of`` in its calendar's zone, ``06-04-2026 10:00 WIB`` style."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    local = datetime.fromisoformat(report["as_of"]).astimezone(ZoneInfo(report.get("timezone") or "Asia/Jakarta"))
    return local.strftime("%d-%m-%Y %H:%M ") + (local.tzname() or "")


def num(value: float | int | None) -> str:
    """A number in Indonesian notation (decimal comma); None → ``"-"``."""
    if value is None:
        return "-"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:.2f}".rstrip("0").replace(".", ",")
    return str(int(value))


def _days(key: str, stat: str) -> Getter:
    return lambda row: row[key][stat]


# (column, value getter, formatter for the terminal): the published summary, one row per agency
COLUMNS: list[tuple[str, Getter, Callable[[Any], str]]] = [
    ("Kode", lambda r: r["agency"], str),
    ("Instansi", lambda r: r["name"], str),
    ("Diterima", lambda r: r["received"], num),
    ("Selesai", lambda r: r["completed"], num),
    ("Tingkat penyelesaian", lambda r: r["completion_rate"], pct),
    ("Respons pertama rata-rata (hari kerja)", _days("first_response_working_days", "mean"), num),
    ("Respons pertama median (hari kerja)", _days("first_response_working_days", "median"), num),
    ("Respons pertama p90 (hari kerja)", _days("first_response_working_days", "p90"), num),
    ("Penyelesaian rata-rata (hari kerja)", _days("completion_working_days", "mean"), num),
    ("Penyelesaian median (hari kerja)", _days("completion_working_days", "median"), num),
    ("Penyelesaian p90 (hari kerja)", _days("completion_working_days", "p90"), num),
    ("Tepat waktu (SLA)", lambda r: r["sla_met_rate"], pct),
    ("Terbuka", lambda r: r["open"], num),
    ("Terlambat", lambda r: r["overdue"], num),
    ("Dibuka kembali", lambda r: r["reopened"], num),
    ("Dialihkan ke sini", lambda r: r["reassigned"], num),
]
SHORT = {"Respons pertama rata-rata (hari kerja)": "Respons rata2", "Respons pertama median (hari kerja)": "median",
         "Respons pertama p90 (hari kerja)": "p90", "Penyelesaian rata-rata (hari kerja)": "Selesai rata2",
         "Penyelesaian median (hari kerja)": "median", "Penyelesaian p90 (hari kerja)": "p90",
         "Tingkat penyelesaian": "% selesai", "Tepat waktu (SLA)": "% tepat waktu", "Dibuka kembali": "Dibuka lagi",
         "Dialihkan ke sini": "Dialihkan"}

# SP4N-LAPOR! monev: follow-up and completion per instansi
MONEV: list[tuple[str, Getter]] = [
    ("Instansi", lambda r: r["name"]),
    ("Kode", lambda r: r["agency"]),
    ("Jumlah laporan", lambda r: r["received"]),
    ("Ditindaklanjuti", lambda r: r["first_response_working_days"]["count"]),
    ("Selesai", lambda r: r["completed"]),
    ("Persentase tindak lanjut", lambda r: round(r["first_response_working_days"]["count"] / r["received"], 4)
     if r["received"] else None),
    ("Persentase selesai", lambda r: r["completion_rate"]),
    ("Rata-rata waktu tindak lanjut (hari kerja)", _days("first_response_working_days", "mean")),
    ("Rata-rata waktu penyelesaian (hari kerja)", _days("completion_working_days", "mean")),
    ("Persentase tepat waktu", lambda r: r["sla_met_rate"]),
    ("Belum selesai", lambda r: r["open"]),
    ("Melewati batas waktu", lambda r: r["overdue"]),
]


def rows(report: dict[str, Any]) -> list[Row]:
    """Every agency's row, then the total's (code ``*``)."""
    return [*report["agencies"], {**report["total"], "agency": "*", "name": "Semua instansi"}]


def table(report: dict[str, Any]) -> str:
    """A plain-text table for the terminal."""
    headers = [SHORT.get(name, name) for name, _, _ in COLUMNS]
    body = [[fmt(get(row)) for _, get, fmt in COLUMNS] for row in rows(report)]
    widths = [max(len(h), *(len(line[i]) for line in body)) for i, h in enumerate(headers)]

    def line(cells: list[str]) -> str:
        return "  ".join(c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=True)))

    period = report["period"]
    out = [f"Laporan pengaduan {period['from']} s.d. {period['to']} (keadaan per {local_time(report)}; "
           "waktu dalam hari kerja)", "", line(headers), line(["-" * w for w in widths])]
    out += [line(cells) for cells in body[:-1]]
    out += [line(["-" * w for w in widths]), line(body[-1])]
    total = report["total"]
    c, d, info, keb = total["complaints"], total["dedup"], total["information"], total["keberatan"]
    out += ["", f"Aduan masuk: {c['received']} ({', '.join(f'{k} {v}' for k, v in c['by_channel'].items()) or '-'}); "
            f"dirutekan otomatis {c['routed_automatically']}, lewat meja triase {c['routed_by_triage']}, "
            f"bukan aduan {c['rejected']}",
            f"Duplikat terserap: {d['resends']} kiriman ulang, {d['cross_channel']} lintas kanal, "
            f"{d['follow_ups']} pesan lanjutan; {d['incident_joined']} laporan digabung ke kasus yang ada",
            f"Permohonan informasi: {info['requests']} (dikabulkan {info['granted']}, sebagian {info['partly_granted']}, "
            f"ditolak {info['refused']}); keberatan {keb['filed']}, ditanggapi {keb['answered']}"]
    return "\n".join(out) + "\n"


def write_csv(report: dict[str, Any], fh: IO[str], columns: list[tuple[str, Getter]] | None = None) -> None:
    """One row per agency and the total, Indonesian headers, plain numbers (rates as fractions)."""
    columns = columns or [(name, get) for name, get, _ in COLUMNS]
    writer = csv.writer(fh)
    writer.writerow([name for name, _ in columns])
    for row in rows(report):
        writer.writerow(["" if (v := get(row)) is None else v for _, get in columns])


def _sheet(book: Any, title: str, headers: list[str], data: list[list[Any]], percent: set[int] = frozenset()) -> None:
    from openpyxl.styles import Font

    sheet = book.create_sheet(title)
    sheet.append(headers)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for values in data:
        sheet.append(values)
    for col in percent:
        for (cell,) in sheet.iter_rows(min_row=2, min_col=col + 1, max_col=col + 1):
            cell.number_format = "0.0%"
    for i, header in enumerate(headers, 1):
        width = max([len(str(header))] + [len(str(v[i - 1])) for v in data if v[i - 1] is not None])
        sheet.column_dimensions[sheet.cell(row=1, column=i).column_letter].width = min(48, width + 2)
    sheet.freeze_panes = "A2"


def write_xlsx(report: dict[str, Any], path: Path | str, monev: bool = False) -> None:
    """The summary (or the LAPOR! monev) sheet, then complaints by channel and by kecamatan."""
    from openpyxl import Workbook

    book = Workbook()
    book.remove(book.active)
    columns = MONEV if monev else [(name, get) for name, get, _ in COLUMNS]
    names = [name for name, _ in columns]
    percent = {i for i, name in enumerate(names) if name.startswith(("Persentase", "Tingkat", "Tepat"))}
    _sheet(book, "Monev SP4N-LAPOR!" if monev else "Ringkasan", names,
           [[get(row) for _, get in columns] for row in rows(report)], percent)
    channels = sorted({ch for row in rows(report) for ch in row["complaints"]["by_channel"]})
    _sheet(book, "Saluran", ["Instansi", "Aduan masuk", *channels],
           [[row["name"], row["complaints"]["received"], *(row["complaints"]["by_channel"].get(ch, 0) for ch in channels)]
            for row in rows(report)])
    _sheet(book, "Kecamatan", ["Kecamatan", "Aduan"], [[k, v] for k, v in report["total"]["complaints"]["by_kecamatan"].items()])
    meta = book.create_sheet("Keterangan")
    meta.append(["Periode", f"{report['period']['from']} s.d. {report['period']['to']}"])
    meta.append(["Per tanggal (UTC)", report["as_of"]])
    meta.append(["Satuan waktu", "hari kerja (tanpa Sabtu, Minggu, libur nasional, cuti bersama)"])
    book.save(str(path))


def dump_json(report: dict[str, Any], fh: IO[str]) -> None:
    """The report as JSON (UTF-8, indented)."""
    json.dump(report, fh, ensure_ascii=False, indent=2)
    fh.write("\n")


def monev_table(report: dict[str, Any]) -> str:
    """The SP4N-LAPOR! monev figures as a plain-text table."""
    headers = [name for name, _ in MONEV]
    body = []
    for row in rows(report):
        cells = []
        for name, get in MONEV:
            value = get(row)
            cells.append(pct(value) if name.startswith("Persentase") else (num(value) if not isinstance(value, str)
                                                                              else value))
        body.append(cells)
    widths = [max(len(h), *(len(c[i]) for c in body)) for i, h in enumerate(headers)]
    lines = ["  ".join(c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=True)))
             for cells in [headers, *body]]
    period = report["period"]
    return f"Monev SP4N-LAPOR! {period['from']} s.d. {period['to']}\n\n" + "\n".join(lines) + "\n"


def brief(report: dict[str, Any], title: str = "Laporan hari ini") -> str:
    """A few lines per agency: what the demo prints at the end of its day."""
    t = report["total"]
    out = ["", f"== {title} ({report['period']['from']}, waktu dalam hari kerja) " + "=" * 20,
           f"  {t['received']} tiket diterima, {t['completed']} selesai ({pct(t['completion_rate'])}), "
           f"respons pertama rata-rata {num(t['first_response_working_days']['mean'])} hari kerja, "
           f"{t['overdue']} terlambat; {t['complaints']['received']} aduan masuk, "
           f"{t['dedup']['resends'] + t['dedup']['cross_channel'] + t['dedup']['follow_ups']} pesan duplikat/lanjutan "
           f"terserap, {t['dedup']['incident_joined']} laporan digabung ke kasus"]
    shown = [a for a in report["agencies"] if a["received"]]
    width = max((len(a["name"]) for a in shown), default=0)
    for a in shown:
        out.append(f"  {a['name']:<{width}}  {a['received']:>3} diterima {a['completed']:>3} selesai  "
                   f"respons {num(a['first_response_working_days']['mean']):>4} hari kerja")
    return "\n".join(out)
