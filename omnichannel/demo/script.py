"""The scripted day of ``omnichannel demo`` and the end-to-end test: citizens, their messages, officers.

Everything a citizen or officer writes is informal Bahasa Indonesia with places of Kota Semarang from
the shipped gazetteer. ``Traffic`` plays a phase through the sandboxes (and the daemon's HTTP API for
the web form and the officers) and counts the envelopes each connector must end up storing, so the
counts can be reconciled against the store. The names, phone numbers, NIK and addresses are invented.
"""

from __future__ import annotations

import email.message
import email.utils
from dataclasses import dataclass
from typing import Any

import aiohttp

from omnichannel.demo.photo import pothole


@dataclass(frozen=True)
class Citizen:
    """One invented citizen and the addresses they write from."""

    name: str
    telegram: int | None = None
    whatsapp: str | None = None   # wa_id: the phone number in international digits
    x: str | None = None          # X username
    email: str | None = None
    phone: str | None = None      # as typed into the web form
    facebook: str | None = None   # page-scoped id (Messenger)
    instagram: str | None = None  # Instagram-scoped id; ``name`` is the username


CITIZENS = {
    "rina": Citizen("Rina", telegram=5010001),
    "joko": Citizen("Joko", telegram=5010002),
    "hendra": Citizen("Hendra", telegram=5010003),
    "tari": Citizen("Tari", telegram=5010004),
    "anon_tg": Citizen("Warga", telegram=5010005),
    "baru": Citizen("Putri", telegram=5010006),
    "budi": Citizen("Budi Santoso", whatsapp="6281229001001", phone="0812-2900-1001"),
    "wati": Citizen("Wati", whatsapp="6285740013003"),
    "lina": Citizen("Lina", whatsapp="6281575014004"),
    "yanto": Citizen("Yanto", whatsapp="6289630015005"),
    "sari": Citizen("Sari", x="sari_smg"),
    "eko": Citizen("Eko", x="eko_pdrgn"),
    "fajar": Citizen("Fajar", x="fajar_kaligawe"),
    "spammer": Citizen("Promo", x="gacor_maxwin88"),
    "agus": Citizen("Agus Wibowo", email="agus.wibowo@contoh.co.id"),
    "nina": Citizen("Nina Kurnia", email="nina.kurnia@contoh.net"),
    "maya": Citizen("Maya Anggraini", email="maya.anggraini@contoh.ac.id"),
    "siti": Citizen("Siti Rahayu", email="siti.rahayu@contoh.or.id"),
    "dewi": Citizen("Dewi Lestari", email="dewi.lestari@contoh.id", phone="081390012002"),
    "ahmad": Citizen("Ahmad Fauzi", email="ahmad.fauzi@contoh.web.id"),
    "tono": Citizen("Tono"),
    "nur": Citizen("Nur Hidayah", facebook="7000000000000101"),
    "ikhsan": Citizen("ikhsan_smg", instagram="5800000000000201", phone="0813-2500-7007"),
}
NIK = "3374012507900003"
# personal data that must never show in logs above DEBUG or in a public reply
PERSONAL_DATA = sorted({NIK, "0812-3456-7001", "081234567001"}
                       | {c.email for c in CITIZENS.values() if c.email}
                       | {c.whatsapp for c in CITIZENS.values() if c.whatsapp}
                       | {c.phone for c in CITIZENS.values() if c.phone})


@dataclass(frozen=True)
class Step:
    """One thing that happens: a citizen writes, or something odd arrives."""

    channel: str                 # telegram | whatsapp | x | email | web | facebook | instagram
    who: str                     # key of CITIZENS
    text: str = ""
    what: str = "aduan"          # what it is, in the progress lines (Bahasa Indonesia: the operator reads them)
    subject: str | None = None
    special: str | None = None   # start, group, broken, status, autoreply, retry, anonymous
    expect: str = "complaint"    # complaint | follow_up | skipped | quarantined | rejected | none
    photo: bool = False          # a Telegram step sent as a photo with the text as its caption


INCIDENT = ("tari", "yanto", "fajar", "siti", "ahmad")   # five citizens, one flood
LAPOR_ANSWERED = "rina"  # her ticket gets a tindak lanjut in LAPOR!, synced back to her

MORNING = [
    Step("telegram", "rina", "min jln Kedungmundu Raya dkt Tembalang berlubang gede bgt, udh 2 minggu gk "
         "diperbaiki. semalem ada yg jatuh dr motor 😢 tlg segera ditambal", photo=True),
    Step("whatsapp", "budi", "Assalamualaikum. sampah di TPS Pedurungan Kidul numpuk udh seminggu gk diangkut, "
         "baunya sampe ke rumah warga. mohon segera diangkut"),
    Step("x", "sari", "lampu PJU sepanjang jln Srondol Wetan Banyumanik mati semua udh 5 hari, gelap bgt & "
         "rawan begal #LaporWalikota"),
    Step("email", "agus", "Selamat siang. Saya mau mengadukan pelayanan di Puskesmas Ngaliyan. Kemarin saya "
         "antre dari jam 7 pagi baru dipanggil jam 12 siang, dokternya cuma satu. Mohon dievaluasi.\n\n"
         "Terima kasih,\nAgus Wibowo\nHP 0812-3456-7001", subject="Pelayanan Puskesmas Ngaliyan lambat"),
    Step("web", "dewi", "Anak sy ditolak PPDB jalur zonasi di SMPN padahal rmh kami cuma 500 m dr sekolah, "
         "di Kel. Srondol Kulon Banyumanik. tolong dicek min"),
    Step("instagram", "ikhsan", "min taman Simpang Lima kotor bgt, sampah berserakan & tempat sampahnya rusak "
         "smua. tlg dibersihin ya, bisa hub sy di 0813-2500-7007", what="komentar Instagram"),
    Step("facebook", "nur", "Selamat pagi. Pagar jembatan kecil di Kel. Bendan Ngisor, Gajahmungkur patah, "
         "bahaya untuk pejalan kaki malam hari. Mohon diperbaiki.", what="pesan Facebook"),
    Step("telegram", "joko", f"udh 3 bln blangko KTP-el kosong trs, sy blm bisa cetak KTP. NIK {NIK}, "
         "domisili Gayamsari. kpn bisa dicetak min?"),
    Step("x", "eko", "lampu merah perempatan Kalibanteng mati dr pagi, macet parah smp bundaran. tlg dishub "
         "turun @pemkot_contoh"),
    Step("whatsapp", "wati", "ibu sy lansia udh gk dpt bansos PKH lg sejak Januari, pdhl msh terdaftar DTKS. "
         "kami di Sambiroto Tembalang. mohon dicek min"),
    Step("email", "nina", "Air PDAM di Tlogosari Kulon, Pedurungan sudah 3 hari tidak mengalir sama sekali. "
         "Kami sudah telepon call center tapi belum ada tindak lanjut.", subject="Air PDAM mati 3 hari"),
    Step("web", "tono", "PKL jualan di trotoar Jl. Pandanaran depan Pekunden, pejalan kaki hrs turun ke jalan. "
         "bahaya bgt, mohon ditertibkan", special="anonymous"),
    Step("telegram", "hendra", "pohon besar tumbang nutup jln di Sampangan Gajahmungkur, mobil gk bisa lewat. "
         "tlg segera dipotong min"),
    Step("whatsapp", "lina", "ada sarang tawon gede bgt di pohon depan rmh, Kel. Jatingaleh Candisari. anak2 "
         "takut keluar. bisa dibantu damkar min?"),
    Step("email", "maya", "Dengan hormat, sesuai UU 14 tahun 2008 saya mengajukan permohonan informasi publik "
         "berupa salinan dokumen rincian anggaran perbaikan jalan di Kecamatan Tembalang tahun 2025. Mohon "
         "informasi prosedur dan jadwal pengambilannya.\n\nHormat saya,\nMaya Anggraini",
         what="permintaan informasi", subject="Permohonan informasi publik"),
    Step("telegram", "tari", "banjir lg di Jl. Kaligawe Raya, Gayamsari! air udh selutut, motor pd mogok, air "
         "msk rmh warga. pompa nya gk nyala ya min?", what="kejadian banjir (pelapor 1/5)"),
    Step("telegram", "baru", "/start", what="/start: minta panduan", special="start", expect="skipped"),
    Step("telegram", "anon_tg", "halo min, tes", what="sapaan saja", expect="rejected"),
    Step("telegram", "hendra", "info grup RT: kerja bakti minggu pagi", what="pesan di grup RT", special="group",
         expect="skipped"),
    Step("whatsapp", "budi", what="laporan status pengiriman", special="status", expect="skipped"),
]

AFTERNOON = [
    Step("telegram", "joko", "udh 3 bln blangko KTP-el kosong trs, sy blm bisa cetak KTP. domisili Gayamsari. "
         "kpn bisa dicetak min??", what="mengirim ulang aduannya", expect="follow_up"),
    Step("web", "budi", "Sampah di TPS Pedurungan Kidul sudah seminggu tidak diangkut, baunya sampai ke rumah "
         "warga. Mohon segera diangkut.", what="aduan yang sama lewat kanal lain (nomor HP sama)", expect="follow_up"),
    Step("whatsapp", "yanto", "Kaligawe banjir parah lg min, air masuk rmh warga di Gayamsari, jln Kaligawe Raya "
         "gk bisa dilewatin motor", what="kejadian banjir (pelapor 2/5)"),
    Step("x", "fajar", "Jl. Kaligawe Raya Gayamsari banjir lg, air msk rumah warga, motor pd mogok "
         "@pemkot_contoh #LaporWalikota", what="kejadian banjir (pelapor 3/5)"),
    Step("email", "siti", "Jalan Kaligawe Raya di Gayamsari banjir lagi sejak subuh, air masuk ke rumah warga "
         "setinggi lutut. Mohon pompa segera dinyalakan.", what="kejadian banjir (pelapor 4/5)",
         subject="Banjir Kaligawe"),
    Step("web", "ahmad", "Banjir di Jl. Kaligawe Raya, Gayamsari. Air masuk rumah warga, jalan tidak bisa "
         "dilewati motor.", what="kejadian banjir (pelapor 5/5)"),
    Step("web", "dewi", what="formulir terkirim dua kali (Idempotency-Key sama)", special="retry", expect="none"),
    Step("whatsapp", "wati", what="kiriman webhook rusak", special="broken", expect="quarantined"),
    Step("email", "agus", "Saya sedang cuti sampai 20 Juni dan akan membalas email Anda setelah kembali.",
         what="balasan otomatis", subject="Balasan otomatis: sedang cuti", special="autoreply", expect="skipped"),
    Step("x", "spammer", "slot gacor maxwin hr ini!! deposit 10rb bonus 100%, cek bio @pemkot_contoh",
         what="promosi judi (spam)", expect="rejected"),
    Step("whatsapp", "lina", "terima kasih min, sudah ditangani, mantap 👍", what="ucapan terima kasih",
         expect="rejected"),
]

ANSWER_TEXT = ("Tim BPBD sudah menyalakan 3 pompa portabel di Jl. Kaligawe Raya sejak pukul 10.00 dan "
               "menyiagakan perahu karet. Genangan diperkirakan surut sore ini. Warga yang perlu dievakuasi "
               "silakan menghubungi posko di Kantor Kelurahan Kaligawe.")
LAPOR_TEXT = ("Lubang di Jl. Kedungmundu Raya sudah ditambal oleh tim UPTD Jalan pada pagi ini. Terima kasih "
              "atas laporannya.")
CLOSE_NOTE = "Sampah di TPS Pedurungan Kidul sudah diangkut dua truk pagi ini."
PHASES = [("Pagi: aduan masuk dari semua kanal", MORNING),
          ("Siang: aduan dikirim ulang, satu warga di dua kanal, banjir dilaporkan lima warga, spam, pesan rusak",
           AFTERNOON)]
CLOSING = "Sore: petugas menjawab dan menutup tiket, SP4N-LAPOR! mengirim tindak lanjut"
CONNECTORS = {"telegram": "telegram", "whatsapp": "whatsapp", "x": "x", "email": "email", "web": "web"}


def mail_bytes(citizen: Citizen, subject: str, text: str, autoreply: bool = False) -> bytes:
    """An RFC 5322 message from the citizen to the complaint mailbox."""
    msg = email.message.EmailMessage()
    msg["From"] = email.utils.formataddr((citizen.name, citizen.email or ""))
    msg["To"] = "pengaduan@semarangkota.go.id"
    msg["Subject"] = subject
    msg["Date"] = email.utils.formatdate(localtime=True)
    msg["Message-ID"] = email.utils.make_msgid(domain="contoh.id")
    if autoreply:
        msg["Auto-Submitted"] = "auto-replied"
    msg.set_content(text)
    return bytes(msg)


class Traffic:
    """Plays steps through the sandboxes and the daemon's HTTP API; counts what must be stored."""

    def __init__(self, world: Any, http_url: str, officer_tokens: dict[str, str], coordinator_token: str) -> None:
        self.world, self.http_url = world, http_url
        self.officer_tokens, self.coordinator_token = officer_tokens, coordinator_token
        self.expected: dict[str, int] = {}       # connector → envelopes it must store
        self.outcomes: dict[str, int] = {}       # expected outcome → steps
        self.web: dict[str, dict[str, Any]] = {}  # citizen → the web form's 201 answer
        self.tweets: dict[str, str] = {}          # citizen → their tweet id
        self.comments: dict[str, str] = {}        # citizen → their Instagram comment id
        self.web_keys: dict[str, str] = {}
        self.session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> Traffic:
        self.session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self.session is not None:
            await self.session.close()

    def _count(self, step: Step, stored: int) -> None:
        if stored:
            name = CONNECTORS.get(step.channel, step.channel)  # facebook, instagram: the kind is the name
            self.expected[name] = self.expected.get(name, 0) + stored
        self.outcomes[step.expect] = self.outcomes.get(step.expect, 0) + 1

    async def play(self, step: Step) -> None:
        """Send one step; raises if a channel refuses what it should take."""
        who = CITIZENS[step.who]
        w = self.world
        if step.channel == "telegram":
            chat = -1001555000111 if step.special == "group" else who.telegram
            w.telegram.say(chat, None if step.photo else step.text, user=w.telegram.user(who.telegram, who.name),
                           chat_type="supergroup" if step.special == "group" else None,
                           title="Warga RT 03" if step.special == "group" else None,
                           photo=pothole() if step.photo else None, caption=step.text if step.photo else None)
            self._count(step, 1)
        elif step.channel == "whatsapp":
            if step.special == "broken":
                body = b'{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"value":{"messag'
                status = await w.whatsapp.deliver(body)
            elif step.special == "status":
                wamid = w.whatsapp.sent[-1]["wamid"] if w.whatsapp.sent else w.whatsapp.new_wamid()
                status = await w.whatsapp.deliver(w.whatsapp.status_payload(wamid, "read", who.whatsapp))
            else:
                status = (await w.whatsapp.say(who.whatsapp, step.text, name=who.name))[1]
            if status != 200:
                raise RuntimeError(f"the WhatsApp webhook answered {status}")
            self._count(step, 1)
        elif step.channel in ("facebook", "instagram"):
            user = w.meta.user(step.channel, who.name, who.facebook or who.instagram)
            if step.channel == "facebook":
                status = (await w.meta.dm("facebook", user, step.text))[1]
            else:
                self.comments[step.who], status = await w.meta.comment("instagram", user, step.text)
            if status != 200:
                raise RuntimeError(f"the {step.channel} webhook answered {status}")
            self._count(step, 1)
        elif step.channel == "x":
            self.tweets[step.who] = w.x.post_tweet(step.text, who.x)["id"]
            self._count(step, 1)
        elif step.channel == "email":
            await w.mail.deliver(mail_bytes(who, step.subject or "Aduan", step.text, step.special == "autoreply"))
            self._count(step, 1)
        elif step.channel == "web":
            self._count(step, await self._web(step, who))

    async def _web(self, step: Step, who: Citizen) -> int:
        assert self.session is not None
        if step.special == "retry":
            body, key = self.web[step.who]["_body"], self.web_keys[step.who]
        else:
            body = {"text": step.text, "name": who.name}
            if step.special == "anonymous":
                body = {"text": step.text, "anonymous": True, "location": "Pekunden, Semarang Tengah"}
            else:
                body.update({k: v for k, v in (("email", who.email), ("phone", who.phone),
                                                ("subject", step.subject)) if v})
            key = self.web_keys.setdefault(step.who, f"demo-{step.who}-{len(self.web_keys) + 1}")
        async with self.session.post(f"{self.http_url}/api/v1/complaints", json=body,
                                     headers={"Idempotency-Key": key}) as resp:
            answer = await resp.json()
            if resp.status not in (200, 201):
                raise RuntimeError(f"the web form answered {resp.status}: {answer}")
        if resp.status == 201:
            self.web[step.who] = {**answer, "_body": body}
        return 1 if resp.status == 201 else 0

    async def officer(self, method: str, path: str, token: str, body: dict[str, Any] | None = None) -> Any:
        """Call the officer API; returns the JSON answer (raises on an error status)."""
        assert self.session is not None
        async with self.session.request(method, f"{self.http_url}{path}", json=body,
                                        headers={"Authorization": f"Bearer {token}"}) as resp:
            data = await resp.json()
            if resp.status >= 400:
                raise RuntimeError(f"officer API {method} {path}: {resp.status} {data}")
            return data

    async def web_status(self, who: str) -> dict[str, Any]:
        """What the citizen sees on the web status page with the access key of their 201 answer."""
        assert self.session is not None
        async with self.session.get(f"{self.http_url}{self.web[who]['status_url']}") as resp:
            return await resp.json()

    def token_for(self, agency: str) -> str:
        """The agency officer's token, or the coordinator's when the agency has none."""
        return self.officer_tokens.get(agency, self.coordinator_token)
