"""The dashboard's HTML (Bahasa Indonesia): figures, SVG charts each with its table, pickers."""

from __future__ import annotations

from datetime import date, timedelta
from html import escape
from typing import Any

from omnichannel.reports.render import local_time, num, pct
from omnichannel.web import charts
from omnichannel.web.charts import Series

CHANNELS = {"email": "Email", "telegram": "Telegram", "whatsapp": "WhatsApp", "x": "X", "webform": "Formulir web",
            "facebook": "Facebook", "instagram": "Instagram"}

STYLE = """
*{box-sizing:border-box} body{margin:0;font-family:system-ui,sans-serif;color:#1b1f24;background:#f6f8fa}
header{background:#0b3d91;color:#fff;padding:12px 16px;display:flex;flex-wrap:wrap;gap:8px;align-items:center;
justify-content:space-between} header h1{font-size:1.2rem;margin:0} header form{margin:0}
main{max-width:1180px;margin:0 auto;padding:12px} .pemilih{display:flex;flex-wrap:wrap;gap:8px;align-items:end;
background:#fff;border:1px solid #d0d7de;border-radius:8px;padding:12px} .pemilih label{display:flex;
flex-direction:column;font-size:.85rem;gap:2px} .pemilih input,.pemilih select,button{font:inherit;padding:6px 8px}
.cepat a{margin-right:10px;font-size:.9rem} .kartu-kartu{display:grid;grid-template-columns:repeat(auto-fit,
minmax(150px,1fr));gap:8px;margin:12px 0} .kartu{background:#fff;border:1px solid #d0d7de;border-radius:8px;
padding:10px} .kartu b{display:block;font-size:1.5rem} .kartu span{font-size:.85rem;color:#57606a}
.grafik-grafik{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(100%,520px),1fr));gap:12px}
figure{margin:0;background:#fff;border:1px solid #d0d7de;border-radius:8px;padding:10px;min-width:0}
figcaption{font-weight:600;margin-bottom:6px} svg.grafik{width:100%;height:auto;display:block}
.tabel{overflow-x:auto;max-width:100%} table{border-collapse:collapse;width:100%;font-size:.85rem;background:#fff}
th,td{border:1px solid #d0d7de;padding:4px 6px;text-align:right} th:first-child,td:first-child{text-align:left}
details{margin-top:6px} section{margin:16px 0} h2{font-size:1.05rem} .galat{color:#b3261e;font-weight:600}
.catatan{font-size:.85rem;color:#57606a}
@media (max-width:600px){header h1{font-size:1rem} .kartu b{font-size:1.2rem}}
"""


def page(title: str, body: str, who: str | None = None, csrf: str | None = None) -> str:
    """The page around ``body``; ``csrf``: the login session's token, which the log-out form carries."""
    hidden = f'<input type="hidden" name="csrf" value="{escape(csrf)}">' if csrf else ""
    logout = (f'<form method="post" action="/dasbor/keluar">{hidden}<button id="keluar" type="submit">Keluar</button>'
              "</form>" if who else "")
    return (f'<!doctype html><html lang="id"><head><meta charset="utf-8"><meta name="viewport" '
            f'content="width=device-width,initial-scale=1"><title>{escape(title)}</title><style>{STYLE}</style></head>'
            f'<body><header><h1>{escape(title)}</h1>{f"<span>{escape(who)}</span>" if who else ""}{logout}</header>'
            f"<main>{body}</main></body></html>")


def login(error: str | None = None) -> str:
    """The log-in form: a personal account; a token for machine access folded away."""
    message = f'<p id="galat-masuk" class="galat">{escape(error)}</p>' if error else ""
    return page("Dasbor Kinerja Pengaduan", f"""
<section><h2>Masuk</h2>{message}
<form id="masuk-akun" method="post" action="/dasbor/masuk" class="pemilih">
<label>Nama pengguna<input id="login" name="login" autocomplete="username" required></label>
<label>Kata sandi<input id="sandi" name="password" type="password" autocomplete="current-password" required></label>
<button id="tombol-masuk" type="submit">Masuk</button></form>
<p class="catatan">Masuk dengan akun petugas Anda (koordinator, admin, pimpinan; petugas melihat instansinya
sendiri). Dasbor hanya menampilkan angka; tidak ada yang dapat diubah dari halaman ini.</p>
<details><summary>Masuk dengan token API</summary>
<form id="masuk-token" method="post" action="/dasbor/masuk" class="pemilih">
<label>Token petugas atau koordinator<input id="token" name="token" type="password" autocomplete="off" required></label>
<button id="tombol-token" type="submit">Masuk</button></form></details></section>""")


def _pickers(first: date, last: date, agency: str | None, choices: list[tuple[str, str]], today: date) -> str:
    options = "".join(f'<option value="{escape(code)}"{" selected" if code == (agency or "semua") else ""}>'
                      f"{escape(name)}</option>" for code, name in choices)
    quick = {"7 hari": (today - timedelta(days=6), today), "30 hari": (today - timedelta(days=29), today),
             "Bulan ini": (today.replace(day=1), today), "Tahun ini": (today.replace(month=1, day=1), today)}
    suffix = f"&instansi={escape(agency)}" if agency else ""
    links = "".join(f'<a href="/dasbor?dari={a}&sampai={b}{suffix}">{escape(label)}</a>' for label, (a, b) in quick.items())
    return f"""<form id="pemilih" method="get" action="/dasbor" class="pemilih">
<label>Dari<input id="dari" name="dari" type="date" value="{first}"></label>
<label>Sampai<input id="sampai" name="sampai" type="date" value="{last}"></label>
<label>Instansi<select id="instansi" name="instansi">{options}</select></label>
<button id="tampilkan" type="submit">Tampilkan</button>
<div class="cepat">{links}</div></form>"""


def _weeks(trend: list[dict[str, Any]]) -> list[tuple[str, int, int]]:
    weeks: dict[date, list[int]] = {}
    for row in trend:
        day = date.fromisoformat(row["day"])
        monday = day - timedelta(days=day.weekday())
        w = weeks.setdefault(monday, [0, 0])
        w[0] += row["received"]
        w[1] += row["completed"]
    return [(monday.strftime("%d/%m"), r, c) for monday, (r, c) in sorted(weeks.items())]


def _figure(fid: str, title: str, svg: str, headers: list[str], rows: list[list[Any]]) -> str:
    return (f'<figure id="{fid}"><figcaption>{escape(title)}</figcaption>{svg}'
            f'<details><summary>Lihat sebagai tabel</summary><div class="tabel">'
            f"{charts.table(fid + '-tabel', headers, rows)}</div></details></figure>")


def dashboard(report: dict[str, Any], first: date, last: date, agency: str | None,
              choices: list[tuple[str, str]], today: date, who: str, error: str | None = None,
              csrf: str | None = None) -> str:
    """The whole dashboard page."""
    t = report["total"]
    cards = [("Diterima", num(t["received"])), ("Selesai", f"{num(t['completed'])} ({pct(t['completion_rate'])})"),
             ("Respons pertama, rata-rata", f"{num(t['first_response_working_days']['mean'])} hari kerja"),
             ("Penyelesaian, median", f"{num(t['completion_working_days']['median'])} hari kerja"),
             ("Tepat waktu", pct(t["sla_met_rate"])), ("Terbuka", num(t["open"])), ("Terlambat", num(t["overdue"]))]
    cards_html = "".join(f'<div class="kartu"><b>{escape(v)}</b><span>{escape(k)}</span></div>' for k, v in cards)
    weeks = _weeks(report.get("trend", []))
    week_labels = [w[0] for w in weeks]
    figs = [_figure("tren", "Tren per minggu: diterima dan selesai",
                    charts.columns("grafik-tren", "Tiket diterima dan selesai per minggu", week_labels,
                                   [Series("Diterima", [w[1] for w in weeks], "#1f6feb"),
                                    Series("Selesai", [w[2] for w in weeks], "#2da44e")]),
                    ["Minggu mulai", "Diterima", "Selesai"], [list(w) for w in weeks])]
    agencies = [a for a in report["agencies"] if a["received"]]
    figs.append(_figure("instansi", "Instansi berdampingan: penyelesaian dan ketepatan waktu",
                        charts.bars("grafik-instansi", "Tingkat penyelesaian dan ketepatan waktu per instansi",
                                    [a["name"] for a in agencies],
                                    [Series("Selesai", [a["completion_rate"] or 0.0 for a in agencies], "#2da44e"),
                                     Series("Tepat waktu", [a["sla_met_rate"] or 0.0 for a in agencies], "#1f6feb")],
                                    percent=True),
                        ["Instansi", "Diterima", "Selesai", "% selesai", "% tepat waktu", "Respons rata-rata (hari kerja)"],
                        [[a["name"], a["received"], a["completed"], pct(a["completion_rate"]), pct(a["sla_met_rate"]),
                          num(a["first_response_working_days"]["mean"])] for a in agencies]))
    channels = sorted(t["complaints"]["by_channel"].items(), key=lambda kv: -kv[1])
    figs.append(_figure("saluran", "Aduan per saluran",
                        charts.bars("grafik-saluran", "Aduan per saluran", [CHANNELS.get(c, c) for c, _ in channels],
                                    [Series("Aduan", [n for _, n in channels], "#8250df")]),
                        ["Saluran", "Aduan"], [[CHANNELS.get(c, c), n] for c, n in channels]))
    kec = list(t["complaints"]["by_kecamatan"].items())[:12]
    figs.append(_figure("kecamatan", "Aduan per kecamatan (12 terbanyak)",
                        charts.bars("grafik-kecamatan", "Aduan per kecamatan", [k for k, _ in kec],
                                    [Series("Aduan", [n for _, n in kec], "#bf8700")]),
                        ["Kecamatan", "Aduan"], [[k, n] for k, n in kec]))
    info, keb, dedup, comp = t["information"], t["keberatan"], t["dedup"], t["complaints"]
    overdue_rows = "".join(
        f"<tr><td>{escape(o['ticket'])}</td><td>{escape(o['name'])}</td><td>{escape(o['kind'] or '')}</td>"
        f"<td>{escape((o['sla_due'] or '')[:10])}</td><td>{o['working_days_overdue']}</td></tr>"
        for o in report.get("oldest_overdue", []))
    message = f'<p id="galat" class="galat">{escape(error)}</p>' if error else ""
    body = f"""{message}{_pickers(first, last, agency, choices, today)}
<p class="catatan" id="keterangan">Tiket yang diterima {first.strftime('%d-%m-%Y')} s.d. {last.strftime('%d-%m-%Y')},
keadaan per {escape(local_time(report))}. Waktu dalam hari kerja (tanpa akhir pekan, libur nasional, cuti bersama).</p>
<div class="kartu-kartu" id="angka">{cards_html}</div>
<div class="grafik-grafik">{"".join(figs)}</div>
<section><h2>Per instansi</h2><div class="tabel">{_agency_table(report)}</div></section>
<section id="dedup"><h2>Aduan masuk dan duplikat</h2><p>{comp['received']} aduan masuk: {comp['routed_automatically']}
dirutekan otomatis, {comp['routed_by_triage']} lewat meja triase, {comp['rejected']} bukan aduan. Duplikat terserap:
{dedup['resends']} kiriman ulang, {dedup['cross_channel']} lintas kanal, {dedup['follow_ups']} pesan lanjutan;
{dedup['incident_joined']} laporan digabung ke kasus yang sudah ada.</p></section>
<section id="informasi"><h2>Permohonan informasi publik</h2><p>{info['requests']} permohonan: dikabulkan {info['granted']},
sebagian {info['partly_granted']}, ditolak {info['refused']}, belum diputus {info['undecided']}. Dijawab ≤ 10 hari kerja:
{info['within_10_working_days']}, dalam perpanjangan: {info['within_extension']}, terlambat: {info['late']}.
Keberatan: {keb['filed']} diajukan, {keb['answered']} ditanggapi ({keb['answered_within_30_working_days']} dalam 30 hari
kerja).</p></section>
<section><h2>Tiket terlambat terlama</h2><div class="tabel"><table id="terlambat"><thead><tr><th>Tiket</th>
<th>Instansi</th><th>Jenis</th><th>Batas waktu</th><th>Hari kerja terlambat</th></tr></thead><tbody>{overdue_rows}
</tbody></table></div></section>"""
    return page("Dasbor Kinerja Pengaduan", body, who, csrf)


def _agency_table(report: dict[str, Any]) -> str:
    headers = ["Instansi", "Diterima", "Selesai", "% selesai", "Respons rata-rata", "Respons median", "Respons p90",
               "Selesai rata-rata", "Selesai median", "Selesai p90", "% tepat waktu", "Terbuka", "Terlambat"]
    rows = []
    for a in [*report["agencies"], {**report["total"], "name": "Semua instansi"}]:
        fr, done = a["first_response_working_days"], a["completion_working_days"]
        rows.append([a["name"], a["received"], a["completed"], pct(a["completion_rate"]), num(fr["mean"]),
                     num(fr["median"]), num(fr["p90"]), num(done["mean"]), num(done["median"]), num(done["p90"]),
                     pct(a["sla_met_rate"]), a["open"], a["overdue"]])
    return charts.table("tabel-instansi", headers, rows)
