"""Editable Bahasa Indonesia texts that citizens and officers read.

A Pemda overrides any of them in ``config.yaml`` (``templates:``) or with files in
``templates_dir`` named ``<name>.txt``. Values are filled with ``str.format_map``; unknown
placeholders are left visible rather than raising, so a typo in a Pemda's template never
drops a message.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

DEFAULTS: dict[str, str] = {
    "ack": (
        "Terima kasih, aduan Anda telah kami terima dengan nomor {ref}. "
        "Simpan nomor ini untuk menanyakan perkembangannya. Kami akan menindaklanjuti "
        "dan mengabari Anda melalui saluran ini."
    ),
    "ack_followup": (
        "Terima kasih, pesan Anda kami catat sebagai tambahan untuk aduan {ref}."
    ),
    "ack_webform": "Aduan Anda telah diterima dengan nomor {ref}. Simpan nomor ini untuk memantau statusnya.",
    # appended to a private acknowledgement when the citizens' status page is public (http.public_url)
    "ack_status_link": "Pantau status dan tanggapan instansi di tautan ini (jangan dibagikan): {url}",
    # a citizen's keberatan (UU 14/2008 Pasal 35-36) against the decision on an information request
    "keberatan_ack": (
        "Keberatan Anda atas permohonan informasi {ref} telah kami terima dengan nomor {keberatan} "
        "pada {filed_at}, dengan alasan: {reason}. Atasan PPID wajib memberikan tanggapan tertulis paling "
        "lambat {due_at} (30 hari kerja, UU 14/2008 Pasal 36). Bila Anda tidak puas dengan tanggapan tersebut, "
        "Anda dapat mengajukan penyelesaian sengketa informasi kepada Komisi Informasi."
    ),
    # under a forwarded ticket mail whose files did not all fit (email forwarder: max_attachment_bytes)
    "officer_files_left": "Lampiran yang tidak disertakan di email ini (lihat di Meja Petugas): {files}.",
    # the citizen form's upload refusals (the whole report is not sent; the page shows the text)
    "upload_too_many": "Lampiran terlalu banyak: paling banyak {max} berkas untuk satu laporan.",
    "upload_too_big": "Berkas {berkas} terlalu besar: paling besar {batas} per berkas.",
    "upload_bad_type": "Berkas {berkas} tidak dapat diterima: isinya bukan {jenis}.",
    "upload_empty": "Berkas {berkas} kosong.",
    "ack_public": "Terima kasih, laporan Anda tercatat dengan nomor {ref}. Petugas akan menindaklanjutinya.",
    # public answers under a Facebook / Instagram comment: the ref only, the details go by private message
    "ack_comment_public": "Terima kasih, laporan Anda kami terima dengan nomor {ref}, detail kami kirim lewat pesan.",
    "answer_comment_public": "Aduan {ref} sudah ditanggapi, detail kami kirim lewat pesan.",
    "start_help": (
        "Selamat datang di layanan pengaduan {pemda}. Tuliskan aduan, aspirasi, atau permintaan "
        "informasi Anda dalam satu pesan: apa yang terjadi, di mana (kelurahan/kecamatan, RT/RW), "
        "dan sejak kapan. Anda boleh melampirkan foto atau lokasi. "
        "Untuk menanyakan status, kirim: /status NOMOR-ADUAN"
    ),
    "status": "Status aduan {ref}: {status_text}. Instansi: {agency}. {extra}",
    "status_unknown": "Nomor aduan {ref} tidak kami temukan. Periksa kembali nomornya.",
    "status_usage": "Kirim /status diikuti nomor aduan Anda, misalnya: /status ADU-2026-000123",
    "status_detail": "Nomor tiket {ticket}, batas waktu tindak lanjut {sla_due}.",
    "answer": "Tanggapan atas aduan {ref} dari {agency}:\n\n{answer}",
    "answer_public": "Aduan {ref} telah ditanggapi oleh {agency}. Silakan cek tautan atau hubungi kami lewat pesan pribadi.",
    "closed": "Aduan {ref} telah dinyatakan selesai. Terima kasih atas partisipasi Anda.",
    "rejected": "Aduan {ref} tidak dapat ditindaklanjuti oleh {agency}.\n\nAlasan: {reason}",
    "rejected_public": "Aduan {ref} telah ditinjau oleh {agency}. Keterangan lengkap kami kirim lewat pesan pribadi.",
    "reopened": "Aduan {ref} dibuka kembali oleh {agency} dan sedang ditindaklanjuti lagi. {note}",
    "reopened_public": "Aduan {ref} dibuka kembali dan sedang ditindaklanjuti lagi oleh {agency}.",
    "unreachable": "Warga tidak dapat dihubungi melalui {channel}: {reason}",
    "officer_ticket": (
        "Tiket baru {ticket} ({kind}) untuk {agency}\n"
        "Lokasi: {location}\nPelapor: {reporters} warga\nBatas waktu: {sla_due}\n\n{summary}"
    ),
    "ticket_update_reporters": "Tiket {ticket}: kini {reporters} warga melaporkan kejadian yang sama ({complaints} aduan).",
    "escalation": "Tiket {ticket} untuk {agency} melewati batas waktu ({sla_due}). Mohon segera ditindaklanjuti.",
    "digest_subject": "Ringkasan mingguan layanan pengaduan {period_from} s.d. {period_to}",
    "digest": (
        "Ringkasan mingguan layanan pengaduan, tiket yang diterima {period_from} s.d. {period_to} "
        "(waktu dalam hari kerja).\n\nPer instansi:\n{agencies}\n\nTiket terlambat terlama:\n{overdue}\n\n"
        "Dibanding minggu sebelumnya: {changes}"
    ),
    "digest_agency": (
        "- {agency}: {received} diterima, {completed} selesai ({completion_rate}), respons pertama rata-rata "
        "{first_response} hari kerja, tepat waktu {sla_met_rate}, {overdue} terlambat"
    ),
    "digest_overdue": "- {ticket} ({agency}): batas waktu {sla_due}, terlambat {days} hari kerja",
    "digest_change": (
        "diterima {received}; selesai {completed}; tingkat penyelesaian {completion_rate}; "
        "respons pertama rata-rata {first_response} hari kerja; terlambat {overdue}."
    ),
    "officer_ticket_update": "Pembaruan tiket {ticket}: status {status_text}, {reporters} warga melapor. {note}",
    "officer_status_changed": "Tiket {ticket} {status_text} (oleh {officer}).",
    "officer_answer_recorded": "Tanggapan untuk tiket {ticket} dicatat dan dikirim ke {replies} warga.",
    "officer_not_allowed": "Anda tidak dapat mengubah tiket {ticket} dari grup ini.",
    "stuck_summary": (
        "Ada {count} pengiriman yang tertunda atau gagal. Status pengiriman tiap tiket terlihat di halaman "
        "tiketnya pada meja petugas; mohon sampaikan kepada admin sistem untuk memeriksa dan mengirim ulang."
    ),
    "email_reply_subject": "Re: {subject} [{ref}]",
    "email_new_subject": "Aduan {ref}",
    "email_footer": (
        "--\nEmail ini dikirim oleh layanan pengaduan. Jika ingin menambahkan keterangan, balas email ini "
        "tanpa mengubah nomor aduan [{ref}] pada baris subjek."
    ),
}

STATUS_TEXT: dict[str, str] = {
    "received": "diterima, sedang diverifikasi",
    "routed": "diteruskan ke instansi terkait",
    "merged": "digabungkan dengan aduan lain tentang hal yang sama",
    "rejected": "bukan aduan",
    "baru": "diteruskan ke instansi terkait",
    "diterima": "diterima oleh instansi",
    "diproses": "sedang ditindaklanjuti",
    "ditindaklanjuti": "sedang ditindaklanjuti",
    "selesai": "selesai",
    "ditolak": "ditolak",
    "dialihkan": "dialihkan ke instansi lain",
    "digabung": "digabungkan dengan tiket lain tentang hal yang sama",
}


class _Keep(dict):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


class Templates:
    """Renders templates by name: config overrides, then files, then the defaults above."""

    def __init__(self, overrides: dict[str, str] | None = None, directory: Path | None = None) -> None:
        self._texts = dict(DEFAULTS)
        if directory is not None and directory.is_dir():
            for path in directory.glob("*.txt"):
                self._texts[path.stem] = path.read_text(encoding="utf-8").strip()
        self._texts.update(overrides or {})

    def __call__(self, name: str, **values: Any) -> str:
        """Render template ``name`` with ``values``."""
        try:
            text = self._texts[name]
        except KeyError:
            raise KeyError(f"no template named {name!r}") from None
        return text.format_map(_Keep(values))

    def names(self) -> list[str]:
        """Every template name known."""
        return sorted(self._texts)


def status_text(status: str) -> str:
    """Bahasa Indonesia wording of a complaint or ticket status."""
    return STATUS_TEXT.get(status, status)
