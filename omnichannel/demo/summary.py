"""What ``omnichannel demo`` prints: each message's fate and the day's numbers, in Bahasa Indonesia.

The reader is a Pemda operator, not a developer: channels, outcomes and reasons are said in their
words (``pesan masuk``, ``diabaikan``, ``dikarantina``), never the store's vocabulary. Every number
comes from the store, and the numbers add up by construction: ``day_numbers`` counts each message
once (by its outcome), the new complaints are exactly the ``aduan baru`` column, their breakdowns sum
to it. Nothing here depends on timing, so the same scripted day prints the same summary every run.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from omnichannel.models import (
    Case,
    Complaint,
    DeadLetter,
    EnvelopeRow,
    FollowUp,
    OutboxRow,
    Quarantine,
    Ticket,
)
from omnichannel.pii import mask

CHANNELS = {"telegram": "Telegram", "whatsapp": "WhatsApp", "x": "X", "email": "Email", "webform": "Formulir web",
            "web": "Formulir web", "facebook": "Facebook", "instagram": "Instagram"}
OUTCOMES = {"complaint": "aduan baru", "follow_up": "tambahan", "skipped": "diabaikan", "quarantined": "dikarantina"}
KINDS = {"pengaduan": "pengaduan", "informasi": "permintaan informasi", "aspirasi": "aspirasi",
         "bukan_aduan": "bukan aduan"}
FOLLOW_UPS = {"resend": "dikirim ulang", "cross_channel": "warga yang sama lewat kanal lain",
              "reply": "balasan atas pesan sebelumnya", "thread": "lanjutan percakapan yang sama",
              "edit": "pesan yang disunting", "ticket_ref": "menyebut nomor aduan"}
PURPOSES = {"ack": "tanda terima", "ack_followup": "tanda terima tambahan", "answer": "jawaban petugas",
            "closed": "pemberitahuan selesai"}
DELIVERY = {"done": "terkirim", "pending": "menunggu", "in_flight": "sedang dikirim", "held": "ditahan (perlu admin)",
            "dead": "gagal"}
FORWARDERS = {"db": "antrean OPD (/petugas)", "lapor": "SP4N-LAPOR!", "telegram": "grup Telegram petugas",
              "email": "email OPD", "webhook": "webhook OPD", "rabbitmq": "antrean RabbitMQ OPD",
              "redis": "antrean Redis OPD"}
WA_STATES = {"sent": "terkirim", "delivered": "sampai", "read": "dibaca", "failed": "gagal"}
# skip and quarantine reasons, by how the connector's reason starts
SKIPS = [("command /start", "perintah /start (dijawab dengan panduan)"), ("command /", "perintah bot"),
         ("message from a", "pesan di grup, bukan chat pribadi"), ("auto-reply", "balasan otomatis (mis. sedang cuti)"),
         ("automatic report", "laporan otomatis server email"), ("bounce", "pemberitahuan email gagal terkirim"),
         ("bulk mail", "email massal"), ("spam", "spam (ditandai server email)"),
         ("mail from our own address", "email dari alamat kita sendiri"), ("empty message", "pesan kosong"),
         ("retweet", "retweet"), ("own post", "kiriman akun kita sendiri"), ("edited command", "perintah yang disunting"),
         ("contact shared", "nomor HP dibagikan (dicatat ke pelapor)"), ("unsupported", "jenis pesan tidak didukung")]
QUARANTINES = [("malformed webhook body", "kiriman webhook rusak, tidak bisa dibaca"),
               ("unparseable", "pesan tidak bisa dibaca"), ("stored raw is not JSON", "pesan tersimpan tidak bisa dibaca"),
               ("message of", "pesan terlalu besar"), ("the parser process died", "pembaca pesan gagal pada pesan ini"),
               ("no message in the stored payload", "kiriman tanpa isi pesan")]
DAYS = ("Sen", "Sel", "Rab", "Kam", "Jum", "Sab", "Min")


def channel_label(channel: str) -> str:
    """How an operator calls the channel."""
    return CHANNELS.get(channel, channel)


def skip_reason(reason: str | None) -> str:
    """Why a message was set aside, in the operator's words."""
    text = reason or ""
    if text.startswith("status callback:"):
        state = text.split(":", 1)[1].split()[0] if text.split(":", 1)[1].split() else ""
        return f"laporan status pengiriman WhatsApp ({WA_STATES.get(state, state)})"
    return next((said for start, said in SKIPS if text.startswith(start)), "lainnya")


def quarantine_reason(reason: str | None) -> str:
    """Why a message could not be processed, in the operator's words (details: ``omnichannel quarantine show``)."""
    text = reason or ""
    return next((said for start, said in QUARANTINES if text.startswith(start)), "tidak bisa diproses")


def _table(header: list[str], rows: list[list[Any]], indent: str = "  ") -> list[str]:
    cells = [header, *[[str(c) for c in r] for r in rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    return [indent + "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in cells]


def _count(counter: Counter[str], labels: dict[str, str]) -> str:
    return ", ".join(f"{n} {labels.get(k, k)}" for k, n in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0])))


def _due(when: Any, tz: ZoneInfo) -> str:
    if when is None:
        return "-"
    local = when.astimezone(tz)
    return f"{DAYS[local.weekday()]} {local.strftime('%d-%m-%Y %H.%M')}"


async def day_numbers(store: Any) -> dict[str, Any]:
    """Everything the summary counts, read from the store; each message counted once, by its outcome."""
    async with store.session() as s:
        envelopes = (await s.exec(select(EnvelopeRow.id, EnvelopeRow.connector, EnvelopeRow.channel,
                                         EnvelopeRow.outcome, EnvelopeRow.reason)
                                  .order_by(EnvelopeRow.id))).all()
        new = (await s.exec(select(Complaint.status, Complaint.kind)
                            .join(EnvelopeRow, EnvelopeRow.id == Complaint.envelope_id)
                            .where(EnvelopeRow.outcome == "complaint"))).all()
        follow = dict((await s.exec(select(FollowUp.envelope_id, FollowUp.reason))).all())
        cases = (await s.exec(select(Case).order_by(Case.id))).scalars().all()
        tickets = (await s.exec(select(Ticket, Case.reporter_count).join(Case, Case.id == Ticket.case_id)
                                .order_by(Ticket.id))).all()
        outbox = (await s.exec(select(OutboxRow.item_type, OutboxRow.destination, OutboxRow.status,
                                      OutboxRow.payload).order_by(OutboxRow.id))).all()
        quarantine = dict((await s.exec(select(Quarantine.envelope_id, Quarantine.id))).all())
        dead = (await s.exec(select(DeadLetter).order_by(DeadLetter.id))).scalars().all()
    table: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    skipped, quarantined = [], []
    follow_ups: Counter[str] = Counter()
    for eid, connector, channel, outcome, reason in envelopes:
        table[(connector, channel)][outcome] += 1
        if outcome == "skipped":
            skipped.append((channel, skip_reason(reason)))
        elif outcome == "quarantined":
            quarantined.append((quarantine.get(eid), channel, quarantine_reason(reason)))
        elif outcome == "follow_up":
            follow_ups[follow.get(eid, "lainnya")] += 1
    status = Counter("rejected" if st == "rejected" else "received" if st == "received" else "routed"
                     for st, _ in new)
    replies: dict[str, Counter[str]] = defaultdict(Counter)
    deliveries: dict[str, Counter[str]] = defaultdict(Counter)
    for item_type, destination, st, payload in outbox:
        if item_type == "reply":
            replies[destination.removeprefix("reply:")][(payload or {}).get("purpose", "lainnya")] += 1
            replies[destination.removeprefix("reply:")][f"status:{st}"] += 1
        else:
            deliveries[destination][st] += 1
    return {"table": table, "new_status": status, "new_kinds": Counter(k or "-" for _, k in new),
            "follow_ups": follow_ups, "skipped": skipped, "quarantined": quarantined, "cases": cases,
            "tickets": tickets, "replies": replies, "deliveries": deliveries, "dead": dead}


async def summary(store: Any, config: Any, world: Any, traffic: Any, day: dict[str, Any]) -> str:
    """The end-of-day summary for the operator."""
    n = await day_numbers(store)
    tz = ZoneInfo(config.timezone or "Asia/Jakarta")
    out = ["", "== Ringkasan hari demo " + "=" * 60]
    table = n["table"]
    total = Counter[str]()
    rows = []
    for connector, channel in sorted(table, key=lambda k: (channel_label(k[1]), k[0])):
        counts = table[(connector, channel)]
        total.update(counts)
        rows.append([channel_label(channel), *(counts[o] for o in OUTCOMES), sum(counts.values())])
    stored, sent = sum(total.values()), sum(traffic.expected.values())
    out.append(f"Pesan masuk: {stored}" + (", semuanya tersimpan" if stored == sent else
                                           f" — PERHATIAN: warga mengirim {sent}, tersimpan {stored}"))
    out += _table(["kanal", *OUTCOMES.values(), "jumlah"],
                  [*rows, ["Jumlah", *(total[o] for o in OUTCOMES), stored]])
    if world.mail is None:
        out.append(f"  (Email tidak ikut: {world.mail_skipped}; warga email memakai formulir web)")

    new, status = total["complaint"], n["new_status"]
    parts = [f"{status['routed']} diteruskan ke OPD", f"{status['rejected']} bukan aduan"]
    if status["received"]:
        parts.append(f"{status['received']} masih menunggu")
    out += ["", f"Aduan baru: {new} — " + ", ".join(parts), f"  jenis: {_count(n['new_kinds'], KINDS)}"]
    follow = n["follow_ups"]
    out.append(f"Tambahan untuk aduan yang sudah ada: {total['follow_up']}"
               + (f" — {_count(follow, FOLLOW_UPS)}" if follow else ""))
    cases = n["cases"]
    multi = [c for c in cases if c.reporter_count > 1]
    out.append(f"Kasus: {len(cases)} (dari {status['routed']} aduan yang diteruskan; aduan tentang kejadian yang "
               f"sama digabung)")
    for c in multi:
        out.append(f"  {c.ref}: {c.reporter_count} warga, {c.complaint_count} aduan, {_place(c.location)} — "
                   f"\"{_snippet(mask(c.title or ''), 60)}\"")

    tickets = n["tickets"]
    zone = {"Asia/Jakarta": "WIB", "Asia/Makassar": "WITA", "Asia/Jayapura": "WIT"}.get(tz.key, tz.key)
    out += ["", f"Tiket untuk OPD: {len(tickets)} (batas waktu dalam {zone})"]
    out += _table(["tiket", "OPD", "jenis", "status", "batas waktu", "pelapor", "no. SP4N-LAPOR!"],
                  [[t.ref, t.agency.upper(), KINDS.get(t.kind, t.kind), t.status, _due(t.sla_due, tz), reporters,
                    t.lapor_tracking_id or "-"] for t, reporters in tickets])
    per_agency = Counter(t.agency.upper() for t, _ in tickets)
    out.append("  per OPD: " + ", ".join(f"{a} {k}" for a, k in sorted(per_agency.items())))

    kinds = {fw.name: fw.kind for fw in config.forwarders}
    out += ["", "Diteruskan ke OPD dan SP4N-LAPOR!"]
    for dest, counts in sorted(n["deliveries"].items()):
        label = FORWARDERS.get(kinds.get(dest, ""), dest)
        out.append(f"  {label} ({dest}): {_count(counts, DELIVERY)}")
    out.append(f"  sandbox SP4N-LAPOR! menerima {len(world.lapor.reports)} laporan untuk "
               f"{len({r.external_ref for r in world.lapor.reports.values()})} tiket; grup Telegram petugas "
               f"menerima {len(world.officer_bot.sent)} pesan")

    out += ["", "Balasan ke warga, di kanal masing-masing"]
    seen = {"telegram": len(world.telegram.sent), "whatsapp": len(world.whatsapp.sent), "x": len(world.x.replies),
            "email": len(world.mail.received) if world.mail else 0}
    meta = getattr(world, "meta", None)
    public: dict[str, int] = {}
    if meta is not None:  # a comment is answered twice: the ref in public under it, the details privately
        for platform in ("facebook", "instagram"):
            public[platform] = sum(1 for p in meta.public if p.get("platform") == platform)
            seen[platform] = sum(1 for m in meta.sent if m.get("platform") == platform) + public[platform]
    channel_of = {connector: channel for connector, channel in table}
    for connector, counts in sorted(n["replies"].items(), key=lambda kv: channel_label(channel_of.get(kv[0], kv[0]))):
        channel = channel_of.get(connector, connector)
        purposes = Counter({k: v for k, v in counts.items() if not k.startswith("status:")})
        states = Counter({k.removeprefix("status:"): v for k, v in counts.items() if k.startswith("status:")})
        line = f"  {channel_label(channel):<13} {_count(purposes, PURPOSES)} — {_count(states, DELIVERY)}"
        if channel in seen:
            line += f"; diterima warga: {seen[channel]}"
            extra = seen[channel] - sum(purposes.values())
            if public.get(channel):
                line += (f" ({public[channel]} balasan publik di bawah komentar berisi nomor aduan saja, "
                         f"{seen[channel] - public[channel]} pesan pribadi)")
            elif extra > 0:
                line += f" (termasuk {extra} jawaban langsung bot, mis. panduan /start)"
        out.append(line)
    if day.get("web_answer"):
        name, answer = day["web_answer"]
        out.append(f"  {'Formulir web':<13} tanpa kanal balasan: {name} membaca jawaban di halaman status aduan "
                   f"(nomor aduan + kode akses): {'tampil' if answer else 'TIDAK tampil'}")

    out += ["", f"Dikarantina: {total['quarantined']}"
            + (" (disimpan utuh; lihat `omnichannel quarantine list`)" if total["quarantined"] else "")]
    out += [f"  #{qid} {channel_label(ch)}: {why}" for qid, ch, why in n["quarantined"]]
    out.append(f"Diabaikan: {total['skipped']}" + (" (disimpan, tidak menjadi aduan)" if total["skipped"] else ""))
    out += [f"  {channel_label(ch)}: {why}" for ch, why in n["skipped"]]
    out.append(f"Pengiriman yang gagal permanen: {len(n['dead'])}"
               + (" (lihat `omnichannel outbox dead`)" if n["dead"] else ""))
    out += [f"  {d.destination}: {d.reason[:100]}" for d in n["dead"]]

    officers = day.get("officers", {})
    done = []
    if officers.get("answered"):
        done.append(f"{officers['answered']} dijawab petugas {officers.get('answered_by', '').upper()}".rstrip())
    if officers.get("closed"):
        done.append(f"{officers['closed']} ditutup (selesai)")
    if officers.get("lapor"):
        done.append(f"tindak lanjut SP4N-LAPOR! #{officers['lapor']} diteruskan ke pelapornya")
    out.append("Tindakan petugas: " + ("; ".join(done) if done else "-"))
    if not all(day.get("settled", [True])):
        out.append("PERHATIAN: ada tahap yang belum selesai tepat waktu; angka di atas mungkin belum lengkap")
    return "\n".join(out)


def _snippet(text: str, limit: int) -> str:
    """``text`` cut at a word boundary within ``limit`` characters."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0].rstrip(",.;:!?") + " …"


def _place(location: Any) -> str:
    if not isinstance(location, dict):
        return "lokasi tidak diketahui"
    return ", ".join(str(location[k]) for k in ("kelurahan", "kecamatan") if location.get(k)) or "lokasi tidak diketahui"


async def fate(store: Any, after_id: int) -> tuple[int, list[str]]:
    """What became of the envelopes stored after ``after_id``: (highest id, one line each), for the progress."""
    async with store.session() as s:
        rows = (await s.exec(select(EnvelopeRow.id, EnvelopeRow.outcome, EnvelopeRow.reason, Complaint.ref,
                                    Complaint.status, Complaint.case_id)
                             .outerjoin(Complaint, Complaint.id == EnvelopeRow.complaint_id)
                             .where(EnvelopeRow.id > after_id).order_by(EnvelopeRow.id))).all()
        lines, last = [], after_id
        for eid, outcome, reason, ref, status, case_id in rows:
            last = max(last, eid)
            if outcome == "complaint" and status == "rejected":
                lines.append(f"{ref}: bukan aduan")
            elif outcome == "complaint":
                ticket = (await s.exec(select(Ticket.ref, Ticket.agency, Case.reporter_count)
                                       .join(Case, Case.id == Ticket.case_id).where(Ticket.case_id == case_id)
                                       .order_by(Ticket.id))).first()
                if ticket is None:
                    lines.append(f"{ref}")
                else:
                    joined = f", {ticket[2]} pelapor" if ticket[2] > 1 else ""
                    lines.append(f"{ref}, tiket {ticket[0]} untuk {ticket[1].upper()}{joined}")
            elif outcome == "follow_up":
                parent = (await s.exec(select(FollowUp.reason, Complaint.ref)
                                       .join(Complaint, Complaint.id == FollowUp.complaint_id)
                                       .where(FollowUp.envelope_id == eid))).first()
                lines.append(f"tambahan untuk {parent[1]} ({FOLLOW_UPS.get(parent[0], parent[0])})" if parent
                             else "tambahan untuk aduan yang sudah ada")
            elif outcome == "skipped":
                lines.append(f"diabaikan: {skip_reason(reason)}")
            else:
                lines.append(f"dikarantina: {quarantine_reason(reason)}")
    return last, lines


def endpoints(port: int, tokens: dict[str, str], world: Any, config_path: Path, kept: bool) -> str:
    """Where to look next, with the officers' tokens."""
    base = f"http://127.0.0.1:{port}"
    out = ["", "== Silakan dicoba " + "=" * 65,
           f"  formulir warga      {base}/",
           f"  kotak masuk petugas {base}/petugas",
           f"  dasbor kinerja      {base}/dasbor   (masuk dengan akun koordinator di bawah; token juga bisa)",
           f"  kesehatan / metrik  {base}/readyz   {base}/metrics",
           f"  sandbox SP4N-LAPOR! {world.lapor.base_url}/pengaduan/<no. SP4N-LAPOR!>",
           f"  config demo         {config_path}" + ("" if kept else " (dihapus saat keluar; --keep DIR menyimpannya)"),
           f"Akun petugas di {base}/petugas (nama pengguna → kata sandi; juga token API: Authorization: Bearer …)"]
    out += [f"  {'koordinator' if code == '*' else code:<12} {token}" for code, token in sorted(tokens.items())]
    some = next(code for code in tokens if code != "*")
    out.append(f"  contoh: curl -s -H 'Authorization: Bearer {tokens[some]}' {base}/api/v1/agencies/{some}/tickets")
    return "\n".join(out)


async def day_report(store: Any, config: Any) -> str:
    """The figures of the demo's day (``omnichannel report`` for today), in a few lines."""
    from omnichannel.reports.figures import build_report, sla_config
    from omnichannel.reports.render import brief
    from omnichannel.sla import WorkingCalendar
    from omnichannel.types import utcnow

    today = WorkingCalendar(sla_config(config)).local_date(utcnow())
    return brief(await build_report(store, config, today, today), "Laporan hari demo")
