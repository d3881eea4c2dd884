"""One citizen's same complaint on two channels without a shared contact (stop 29, h-group29b).

The writer says where their earlier report went ("sudah saya WA tadi pagi", "Sehubungan pesan WhatsApp saya …",
"I have tweeted you as @…"): their message on that channel, linked by a name or an account, is the report they
point to, whatever other words or problem class each uses. Without such a pointer, a name alone still links
nothing, and a pointer to another channel does not make the message theirs on this one.
"""

from __future__ import annotations

import pytest

from router.dedup.concepts import (
    ALSO,
    OTHER,
    SELF_REF,
    channel_kind,
    identity_keys,
    reference_flags,
    referenced_channels,
    referenced_days,
)
from tests.router.dedup.replay import Stream


@pytest.mark.parametrize(("text", "channels"), [
    ("Saya sudah melaporkan via WhatsApp (10 Mei) mengenai pohon di trotoar", {"whatsapp"}),
    ("Lampu taman masih mati, sudah saya post di IG kemarin", {"instagram"}),
    ("Sehubungan pesan WhatsApp saya pada 2 Desember, seorang lansia masih di halte", {"whatsapp"}),
    ("I have tweeted you several times as @warga_malam. The bar keeps playing loud music", {"x"}),
    ("Rumput setinggi pinggang. Sudah saya WA tadi pagi. Salam, Harno", {"whatsapp"}),
    ("pak ulun Norhalimah nang lapor di LAPOR! soal rumah nenek", {"lapor"}),
    ("barusan udah isi form pengaduan juga, pengungsi belum makan", {"webform"}),
    ("email saya tanggal 3 Mei belum dibalas, jalan masih berlubang", {"email"}),
])
def test_the_channel_a_self_reference_names(text: str, channels: set[str]) -> None:
    assert reference_flags(text) & SELF_REF, text
    assert referenced_channels(text) == channels


@pytest.mark.parametrize("text", [
    "email saya: warga@contoh.id, jalan di depan rumah berlubang",  # a contact, not an earlier report
    "pipa PDAM bocor di Jl. Kenari sejak subuh, tolong cek WA grup RT",
    "ini petugas yang bisa di WA kalau ada banjir?",
])
def test_no_self_reference(text: str) -> None:
    assert not reference_flags(text) & SELF_REF, text


@pytest.mark.parametrize(("channel", "kind"), [("imap", "email"), ("mail", "email"), ("web", "webform"),
                                               ("webform", "webform"), ("WhatsApp", "whatsapp"), ("x", "x")])
def test_channel_kind(channel: str, kind: str) -> None:
    assert channel_kind(channel) == kind


def test_a_whole_account_name_given_in_the_text_meets_that_account() -> None:
    stored, _ = identity_keys(["Mike T."], ["x:@warga_malam"])
    _, probe = identity_keys(["Michael Turner"], ["warga_malam"])
    assert stored & probe
    # (a short or digit-only handle is no account name to meet)
    stored, _ = identity_keys([], ["tg:1234567"])
    _, probe = identity_keys([], ["1234567"])
    assert not stored & probe


# (first, first channel, first name, later, later channel, later name, expected level)
CASES = [
    # the pointer names the first's channel: one complaint, though the words name another problem class
    ("Pak, makam Bonoloyo saiki kaya alas, sukete sak pinggang, kijing-kijing padha ambruk, dalan mlebune ledhok "
     "kebak banyu. Mbok dirumat", "whatsapp", "Pak Harno",
     "Mohon dinas memperhatikan makam Bonoloyo. Rumput setinggi pinggang, jalan masuk tergenang. Sudah saya WA tadi "
     "pagi. Salam, Harno", "facebook", "Harno Wiyono", "cross_channel"),
    ("pak, rumah panggung nenek di Mantuil RT 03 tiangnya sudah lapuk dan miring ke sungai, lantai papan bolong. "
     "Mohon masuk program bedah rumah", "lapor", "Norhalimah",
     "pak ulun Norhalimah nang lapor di LAPOR! bedah rumah nenek di Mantuil RT 03, tiangnya tambah miring wayah "
     "banyu pasang", "whatsapp", "Halimah", "cross_channel"),
]


@pytest.mark.parametrize(("first", "ch1", "name1", "later", "ch2", "name2", "expected"), CASES)
def test_a_pointer_to_the_writers_report_on_that_channel(first: str, ch1: str, name1: str, later: str, ch2: str,
                                                         name2: str, expected: str) -> None:
    s = Stream()
    s.send(first, person=1, channel=ch1, name=name1)
    assert s.level(later, person=2, channel=ch2, name=name2, hours=3) == expected


def test_a_pointer_to_another_channel_is_no_link_to_this_one() -> None:
    # the writer says they wrote on Telegram; their name's message on e-mail about another problem is not it
    s = Stream()
    s.send("Dengan hormat, jalan di depan SDN 3 Kenari berlubang besar dan membahayakan murid.", person=1,
           channel="email", name="Harno Wiyono")
    level = s.level("Pak, makam Bonoloyo rumputnya setinggi pinggang, kijing ambruk. Sudah saya kirim lewat telegram "
                    "kemarin. Salam, Harno", person=2, channel="facebook", name="Harno", hours=3)
    assert level == "new"


def test_a_name_alone_links_no_other_problem() -> None:
    # the same name on another channel, no pointer back: another complaint (a writer's two complaints stay two)
    s = Stream()
    s.send("Pak, makam Bonoloyo rumputnya setinggi pinggang, kijing ambruk, mohon dirawat", person=1,
           channel="whatsapp", name="Pak Harno")
    level = s.level("Lampu jalan di Jl. Kenari Kadipiro mati semua sejak tiga hari. Salam, Harno", person=2,
                    channel="facebook", name="Harno Wiyono", hours=3)
    assert level == "new"


def test_a_self_reference_finds_the_writers_message_among_many() -> None:
    # the writer's WhatsApp message is not among the closest in words (others share more), but it is theirs
    s = Stream()
    s.send("Punten, aya bapa-bapa sepuh katingalna ODGJ ngagoler di halte payuneun kampus tos tilu dinten, teu tuang. "
           "Tiasa dibantos dinsos?", person=1, channel="whatsapp", name="Bu Heni", agency="dinsos")
    for i in range(12):
        s.send(f"Pak ada lansia terlantar di halte Jl. Siliwangi nomor {i + 1}, kondisi lemah, mohon dijangkau dinas "
               "sosial", person=10 + i, channel="whatsapp", name=f"Warga {i}", hours=0.5 + i * 0.1, agency="dinsos")
    found = s.send("Dengan hormat, Kepala Dinas Sosial. Sehubungan pesan WhatsApp saya pada 2 Desember, seorang lansia "
                   "yang diduga ODGJ masih berada di halte depan kampus, dalam kondisi lemah. Mohon segera dijangkau. "
                   "Hormat saya, Heni Marliani", person=2, channel="email", name="Heni Marliani", hours=20,
                   agency="dinsos")
    assert found.match is not None and found.match.level == "cross_channel" and found.match.candidate == 1, \
        found.explain()


# ---- the writer's own messages on one channel ------------------------------------------------------------

def test_settled_but_something_else_in_unknown_words_is_another_complaint() -> None:
    # "cai geus ngocor, tapi …": the water runs again, what follows the "but" is another matter, though no problem
    # class knows the words ("koneng", "keusik")
    s = Stream()
    s.send("Air PDAM di RT 04 RW 02 sudah dua hari tidak mengalir, mohon kepastian", person=1, name="Euis")
    assert s.level("pak ayeuna cai geus ngocor di rt 04 rw 02, tapi warna na koneng jeung aya keusik", person=1,
                   name="Euis", hours=30) == "new"
    # (without the "but" it is no other matter: a closure, as before)
    s = Stream()
    s.send("Air PDAM di RT 04 RW 02 sudah dua hari tidak mengalir, mohon kepastian", person=1, name="Euis")
    assert s.level("Air di RT 04 RW 02 masih belum mengalir pak, gimana?", person=1, name="Euis", hours=30) == "resend"


@pytest.mark.parametrize(("later", "hours", "expected"), [
    ("Pak tolong cepat, aek terus naik, kami la di atas lemari", 0.4, "resend"),  # minutes later: more of it
    ("Pak tolong cepat, aek terus naik, kami la di atas lemari", 20, "new"),  # a day later, it says nothing of which
    ("Pak, lampu jalan di gang kami mati semua", 0.4, "new"),  # soon, but another problem
])
def test_a_message_soon_after_ones_own_complaint(later: str, hours: float, expected: str) -> None:
    s = Stream()
    s.send("Pak BPBD tolong, aek Sungai Bengkulu meluap, rumah kami di RT 06 Sukamerindu la kerendam sedado. Ado "
           "nenek lumpuh samo bayi. Perahu karet pak", person=1, name="Pak Anwar")
    assert s.level(later, person=1, name="Pak Anwar", hours=hours) == expected


# ---- names that tell nobody apart --------------------------------------------------------------------------

@pytest.mark.parametrize(("a", "b", "meet"), [
    ("Putu Gede", "Putu Hendra", False),  # Balinese birth-order names: half the island is a Putu
    ("Ni Luh Dewi", "Ni Luh Ayu", False),
    ("Muhammad Rizki", "Muhammad Fauzan", False),
    ("Komunitas Tepian", "Tepian Lover", False),  # community pages: many people write as them
    ("Hayam Wuruk Update", "Hendra Wuruk", False),
    ("Putu Hendra", "Hendra Wijaya", True),  # the given name still meets
    ("Euis Komariah", "Bu Euis", True),
])
def test_name_words_that_identify(a: str, b: str, meet: bool) -> None:
    stored, _ = identity_keys([a])
    _, probe = identity_keys([b])
    assert bool(stored & probe) == meet


def test_two_writers_sharing_a_birth_order_name_are_two_citizens() -> None:
    s = Stream()
    s.send("Saya admin akun Hayam Wuruk Update. Tiang PJU miring di Jl. Hayam Wuruk dekat Simpang Kreneng sudah kami "
           "laporkan sejak tgl 21, belum ditangani", person=1, channel="x", name="Putu Hendra",
           handle="x:@hayamwuruk_hendra")
    found = s.send("bli tiang lampu jalan di hayam wuruk dekat kreneng itu hampir nyentuh atap mobil kalau lewat, "
                   "bahaya", person=2, channel="whatsapp", name="Putu Gede", hours=1)
    assert found.match is None or found.match.level == "incident", found.explain()


@pytest.mark.parametrize(("text", "refers"), [
    ("Pak, beta su kirim WA kemarin soal air di Oebobo, sampe sekarang belum ada yang datang", True),  # Kupang, Ambon
    ("torang so lapor kemarin, lampu jalan masih mati", True),  # Manado, Ternate: so
    ("ambo alah kirim email tanggal 3, jalan di Ulak Karang masih balubang", True),  # Minang: alah
    ("kami la lapor via WA minggu lalu, parit masih tesumbat", True),  # Malay: la
    ("abdi geus ngalaporkeun? tos kirim WA ka admin", True),  # Sundanese: tos
    ("sa yang kemarin WA pak, jalan di Abepura masih rusak", True),  # Papuan Malay: sa
    ("laporan ambo kemarin alun ado tanggapan", True),
    ("su lapor ke pak RT tapi belum ada tindakan", False),  # told to someone local, not to this service
    ("air PDAM di Oebobo mati su tiga hari", False),
])
def test_regional_self_references(text: str, refers: bool) -> None:
    assert bool(reference_flags(text) & SELF_REF) == refers


@pytest.mark.parametrize(("text", "flag"), [
    ("Pak, ini masalah baru ya, lampu jalan di gang Melati mati", OTHER),
    ("laporan terpisah pak: trotoar depan pasar amblas", OTHER),
    ("Tidak terkait dengan laporan saya kemarin, sekarang got di depan rumah mampet", OTHER),
    ("di luar laporan sebelumnya, ada pohon miring di Jl. Kenari", OTHER),
    ("yang ini beda pak, di RT 05, bukan RT 03", OTHER),
    ("lampune bedo karo sing wingi, iki nang gang 3", OTHER),
    ("iki laeng deng yang kemarin, di lingkungan 4", OTHER),
    ("Saya juga mau lapor soal parkir liar di depan pasar", ALSO),
    ("mau ngadu hal lain pak, PJU depan masjid mati", ALSO),
    ("laporan tambahan soal got mampet di gang sebelah", ALSO),
])
def test_another_matter_said_outright(text: str, flag: int) -> None:
    assert reference_flags(text) & flag, text


@pytest.mark.parametrize("text", [
    "laporan saya baru dibalas tadi, tapi jalan masih berlubang",  # 'baru' is 'only just'
    "masalah baru ditangani sebagian, air masih keruh",
    "lampu jalan di gang Melati masih mati, saya juga sudah lapor ke pak RT",
])
def test_no_other_matter(text: str) -> None:
    assert not reference_flags(text) & (OTHER | ALSO), text


def test_the_report_on_the_channel_pointed_to_comes_before_the_writers_other_post() -> None:
    # a Facebook post, then the WhatsApp report; on Facebook again: "nu tadi WA tea" is the WhatsApp report, not
    # the writer's earlier Facebook post about a road
    s = Stream()
    s.send("jalan Bangbarung 2 deukeut masjid Al-Ikhlas bolong, mobil sok nyangsang. PU mangga dicek", person=1,
           channel="facebook", name="Jajang Nurjaman")
    s.send("pak kali di cibuluh rt2 rw6 bau haseum, limbah tahu", person=2, channel="whatsapp", name="Jajang Nurjaman",
           hours=200)
    found = s.send("Jajang ti Cibuluh, nu tadi WA tea. kali di rt 02 rw 06 masih bau, warga mual. DLH kamana?",
                   person=1, channel="facebook", name="Jajang Nurjaman", hours=220)
    assert found.match is not None and found.match.candidate == 2, found.explain()


def test_of_the_reports_on_the_channel_pointed_to_the_one_of_the_day_it_gives() -> None:
    # two WhatsApp reports of one writer at one field; "udah lapor via WA tgl 21" is the one of the 21st, not the
    # next day's "satu lagi … lampu taman … ini beda ya sama wifi nya"
    # (hours from 1 January 1970 00:00 UTC: 483 is the 21st, 10:00 local time)
    s = Stream()
    s.send("min wifi gratis di lapangan puputan badung ga bisa konek sejak minggu lalu, padahal tiap sore dipake anak2 "
           "SMP", person=1, channel="whatsapp", name="Bli Kadek Suar", hours=483)
    s.send("min satu lagi di lapangan puputan badung, lampu taman sebelah timur mati semua, malem gelap jadi tempat "
           "mojok. ini beda ya sama wifi nya", person=1, channel="whatsapp", name="Bli Kadek Suar", hours=483 + 24)
    found = s.send("wifi publik di Lapangan Puputan Badung masih mati, udah lapor via WA tgl 21 #Denpasar", person=2,
                   channel="x", name="Kadek Suar", handle="x:@kadeksuar", hours=483 + 100)
    assert found.match is not None and found.match.candidate == 1, found.explain()


# 2026-11-25 12:00 WITA (04:00 UTC)
_NOON_25 = 1795579200.0


@pytest.mark.parametrize(("text", "days"), [
    ("wifi publik masih mati, udah lapor via WA tgl 21", {21}),
    ("Sehubungan pesan WhatsApp saya pada 2 Desember, lansia masih di halte", {2}),
    ("Saya sudah melaporkan via WhatsApp (10 Mei) mengenai pohon", {10}),
    ("Sudah saya WA kemarin, lampu masih mati", {24}),
    ("Sudah saya WA tadi pagi, lampu masih mati", {25}),
    ("saya agus yg wa kemarin2 soal pengemis. hari ini masih ada", set()),  # some days ago; today is not the report's
])
def test_the_day_a_pointer_gives_its_report(text: str, days: set[int]) -> None:
    assert referenced_days(text, _NOON_25) == days


def test_joining_a_case_the_writer_reported_is_their_complaint_again() -> None:
    # the writer and a neighbour report one blocked culvert; three days later the writer's "masih mampet, banjir
    # deui" comes closest to the neighbour's words, but it is the writer's own complaint again, not a new one
    s = Stream()
    s.send("pak gorong2 di Jl. Ciwaringin deket pasar ketutup sampah, hujan sore langsung banjir selutut", person=1,
           name="Cecep Hidayat", agency="dlh")
    s.send("@dlh.kotabogor gorong2 di jl ciwaringin deket pasar mampet sampah, banjir tiap ujan", person=2,
           channel="instagram", name="Sarah A.", handle="ig:sarah.amel", hours=0.7, agency="dlh")
    found = s.send("pak gorong-gorong jl ciwaringin tea acan dibersihkeun, caah deui", person=1, name="Cecep Hidayat",
                   hours=72.25, agency="dlh")
    assert found.match is not None and found.match.level == "resend" and found.match.candidate == 1, found.explain()


def test_another_citizens_case_the_writer_never_reported_stays_an_incident() -> None:
    s = Stream()
    s.send("pak lampu jalan di Jl. Kenari mati semua sejak kemarin", person=1, name="Cecep Hidayat")
    s.send("gorong2 di jl ciwaringin deket pasar mampet sampah, banjir tiap ujan", person=2, name="Sarah A.", hours=1)
    found = s.send("pak gorong-gorong di jl ciwaringin deket pasar mampet sampah, banjir selutut", person=1,
                   name="Cecep Hidayat", hours=2)
    assert found.match is None or found.match.level == "incident", found.explain()
