"""One citizen's same complaint, and their second matter (stop 30, h-same30).

A writer who tells a problem as a habit ("kelotok sering penuh") and days later writes "tadi sore penuh lagi" sends one
more instance of that complaint, not a new occurrence; a pointer to their own report by channel and day ("Saya sudah
melaporkan via WhatsApp (10 Mei) mengenai pohon …") finds it though the two name its street differently. What a text
says it differs from ("ini lain dari lampu tadi") is the matter already told, not its own problem; and an English
contraction after "banjar" ("Whole banjar can't sleep") names no banjar.
"""

from __future__ import annotations

import pytest

from router.dedup.concepts import (
    FOLLOW,
    HABITUAL,
    SELF_REF,
    class_names,
    identity_keys,
    problem_mask,
    reference_flags,
)
from router.dedup.features import extract_places
from router.normalise import normalise, tokens
from tests.router.dedup.replay import Stream


def _classes(text: str) -> list[str]:
    return class_names(problem_mask(tokens(normalise(text))))


@pytest.mark.parametrize(("text", "habit"), [
    ("Pak kelotok penyeberangan di dermaga Alalak jua sering penuh banar, kada ada pelampung", True),
    ("tiap malam karaoke di gang kami bising sampai jam 2", True),
    ("jalan depan pasar langganan banjir kalau hujan", True),
    ("saben sore PKL nutup trotoar", True),
    ("kelotok tadi sore penuh lagi, 20an orang", False),
    ("lampu jalan mati sejak kemarin", False),
])
def test_a_problem_told_as_a_habit(text: str, habit: bool) -> None:
    assert bool(reference_flags(text) & HABITUAL) == habit, text


@pytest.mark.parametrize(("first", "later", "days", "expected"), [
    # the writer said it happens often; days later "penuh lagi" is one more instance of the same complaint
    ("Sore min. Kelotok penyeberangan di dermaga Antasan Kecil Timur sering kelebihan penumpang, tadi hampir terbalik",
     "Min kelotok Antasan Kecil Timur tadi sore penuh lagi, 20an orang dalam satu kelotok kecil", 5, "resend"),
    ("Pak kelotok penyeberangan di dermaga Alalak Selatan ke Berangas jua sering penuh banar, kada ada pelampung",
     "pak kelotok dermaga Alalak Selatan ke Berangas tadi pagi penuh lagi, anak sekolah kada dapat pelampung", 4,
     "resend"),
    # told once, not as a habit: back days later is a new occurrence, as before
    ("Sore min. Kelotok penyeberangan di dermaga Antasan Kecil Timur kelebihan penumpang, tadi hampir terbalik",
     "Min kelotok Antasan Kecil Timur tadi sore penuh lagi, 20an orang dalam satu kelotok kecil", 5, "new"),
    # a habit told two weeks before (and sent home in between): back again is a new occurrence
    ("min ada ibu bawa 2 anak kecil ngemis di lampu merah simpang gatsu-cokroaminoto tiap siang, kasian",
     "min ibu yg bawa anak ngemis di simpang gatsu-cokroaminoto muncul lagi hari ini. minggu lalu kata dinsos sudah "
     "dipulangkan ke kampungnya, skrg balik lagi bawa bayi", 12, "new"),
])
def test_again_after_a_habit_of_ones_own(first: str, later: str, days: float, expected: str) -> None:
    s = Stream()
    s.send(first, person=1, name="Dewi Anggraini", channel="telegram")
    assert s.level(later, person=1, name="Dewi Anggraini", channel="telegram", hours=days * 24) == expected


def test_a_habit_of_another_citizen_does_not_make_again_the_same() -> None:
    s = Stream()
    s.send("Kelotok penyeberangan di dermaga Antasan Kecil Timur sering kelebihan penumpang, tadi hampir terbalik",
           person=1, name="Dewi Anggraini")
    assert s.level("Min kelotok Antasan Kecil Timur tadi sore penuh lagi, 20an orang dalam satu kelotok kecil",
                   person=2, name="Rahmat", hours=5 * 24) != "resend"


# 2026-05-10 19:00 WIB and 2026-05-11 09:30 WIB, in hours since 1970
_MAY_10_EVENING = 1778414400.0 / 3600


def test_a_dated_pointer_to_ones_own_report_finds_it_under_another_street_name() -> None:
    # "Jl. Ir. H. Juanda" is what the town calls "jl dago": the report the writer points to by channel and day
    s = Stream()
    s.send("pohon di trotoar jl dago atas (deket terminal dago) udh doyong bgt ke jalan, akarnya nongol. sebelum "
           "tumbang tolong dipangkas", person=1, name="Arief", hours=_MAY_10_EVENING)
    found = s.send("Yth. DPKP Kota Bandung\n\nDengan hormat,\nSaya sudah melaporkan via WhatsApp (10 Mei) mengenai pohon "
                   "di trotoar Jl. Ir. H. Juanda atas dekat Terminal Dago yang condong ke jalan dan akarnya terangkat. "
                   "Mohon pemeriksaan dan pemangkasan sebelum tumbang.\n\nHormat saya,\nArief W.", person=1,
                   channel="email", name="Arief Wicaksono", hours=_MAY_10_EVENING + 14.5)
    assert found.match is not None and found.match.level == "cross_channel" and found.match.candidate == 1, \
        found.explain()


def test_an_undated_pointer_still_keeps_another_street_apart() -> None:
    # no day given: the street conflict stands (the writer may have reported trees on two streets)
    s = Stream()
    s.send("pohon di trotoar jl dago atas udh doyong bgt ke jalan, tolong dipangkas", person=1, name="Arief",
           hours=_MAY_10_EVENING)
    assert s.level("Dengan hormat, saya sudah melaporkan via WhatsApp mengenai pohon di trotoar Jl. Merdeka yang "
                   "condong ke jalan. Hormat saya, Arief W.", person=1, channel="email", name="Arief Wicaksono",
                   hours=_MAY_10_EVENING + 14.5) == "new"


@pytest.mark.parametrize(("text", "absent"), [
    ("Pak satu lagi, got di Jl. Pomorow depan rumah torang so tasumbat. Ini lain dari lampu tadi", "streetlight"),
    ("min satu lagi, lampu taman sebelah timur mati semua. ini beda ya sama wifi nya", "digital"),
    ("iki got mampet nang gang 3, bedo karo lampu sing wingi", "streetlight"),
])
def test_what_a_text_differs_from_is_not_its_problem(text: str, absent: str) -> None:
    assert absent not in _classes(text), _classes(text)


def test_a_pointer_finds_the_report_of_that_problem_not_the_writers_second_matter() -> None:
    # the writer's WhatsApp: the lamps, then "satu lagi, got … ini lain dari lampu tadi"; the letter about the lamps
    # that follows up "laporan kami melalui WhatsApp tadi malam" is the lamps' report
    s = Stream()
    s.send("Slamat malam pak, lampu jalan di Jl. Pomorow Karombasan Selatan so mati 6 tiang dari depan kios sampe "
           "tikungan. Gelap skali", person=1, name="Johny Rumengan", hours=12)
    s.send("Pak satu lagi, got di Jl. Pomorow depan rumah torang so tasumbat, aer ujan tadi sore nae ka jalan. Ini lain "
           "dari lampu tadi", person=1, name="Johny Rumengan", hours=12.6)
    found = s.send("Dengan hormat, Menyambung laporan kami melalui WhatsApp tadi malam, enam titik lampu penerangan jalan "
                   "di Jl. Pomorow, Kelurahan Karombasan Selatan, padam. Mohon Dinas Perkim menindaklanjuti. Hormat "
                   "kami, Johny Rumengan", person=1, channel="email", name="Johny Rumengan", hours=23.75)
    assert found.match is not None and found.match.candidate == 1, found.explain()


def test_an_english_contraction_names_no_banjar() -> None:
    places = extract_places("Bar on Jl. Danau Tamblingan Sanur blasting bass until 2am AGAIN. Whole banjar can't sleep.",
                            None)
    assert not any(p.startswith("sub:") for p in places), places
    assert "sub:semawang" in extract_places("I live in Banjar Semawang with my family.", None)


def test_a_welfare_request_written_out_is_welfare() -> None:
    # "bantuan sosial" is "bansos": the fire's victims' need of aid, another complaint than the fire
    assert "welfare" in _classes("korban kebakaran masih di masjid, kekurangan makanan. Bantuan sosial belum datang")
    s = Stream()
    s.send("Kebakaran di Kampung Baru Tengah dekat masjid, sudah 4 rumah! Tolong segera!!", person=1, name="Nur Aini")
    assert s.level("Pian, bubuhan korban kebakaran di Baru Tengah masih di masjid, kekurangan makanan wan popok bayi. "
                   "Bantuan sosial belum datang.", person=1, name="Nur Aini", hours=11) == "new"


def test_a_dated_pointer_by_name_finds_the_report_that_names_its_place_too() -> None:
    # linked by name only: "Taman Zero Point" / "Taman Kesatuan Bangsa dekat Zero Point" — that report names this
    # one's place as where it is (a name alone crosses no other place conflict, test_grouping)
    s = Stream()
    s.send("Lampu taman di Taman Kesatuan Bangsa dekat Zero Point mati semua, malem gelap jadi tempat orang mabuk "
           "@perkim.kotamanado", person=1, channel="instagram", name="Nona Manado", handle="ig:nona_manado", hours=9)
    found = s.send("Lampu taman Zero Point masih mati, sudah saya post di IG kemarin @perkimmanado", person=2,
                   channel="x", name="Nona Manado", handle="x:@nonamdo", hours=35)
    assert found.match is not None and found.match.level == "cross_channel" and found.match.candidate == 1, \
        found.explain()
    # (another park the earlier report does not name: apart)
    s = Stream()
    s.send("Lampu taman di Taman Kesatuan Bangsa mati semua, malem gelap jadi tempat orang mabuk", person=1,
           channel="instagram", name="Nona Manado", handle="ig:nona_manado", hours=9)
    assert s.level("Lampu taman Zero Point masih mati, sudah saya post di IG kemarin @perkimmanado", person=2,
                   channel="x", name="Nona Manado", handle="x:@nonamdo", hours=35) == "new"


def test_a_denied_sense_the_text_affirms_in_another_form_denies_nothing() -> None:
    # "Ini bukan kebakaran, sengaja dibakar": burning on purpose, not a fire — the writer's "bakar kabel lagi" days
    # later is that complaint again, not one its denial keeps apart
    s = Stream()
    s.send("Bli, gudang rongsok di Jl. Cargo Sari tiap sore bakar kabel di halaman belakang buat ambil tembaga, asapnya "
           "hitam bau. Ini bukan kebakaran, sengaja dibakar", person=1, name="Ni Luh Dewi")
    assert s.level("Bli sore kemarin mereka bakar kabel lagi di belakang gudang Cargo Sari, asapnya masuk rumah",
                   person=1, name="Ni Luh Dewi", hours=89) == "resend"


def test_a_denial_of_the_same_word_said_as_a_place_still_stands() -> None:
    # "dekat tangga itu … Ini bukan soal tangga lagi": the stairs say where; the landslide is another complaint
    s = Stream()
    s.send("Tangga lorong di Bumi Beringin lingkungan 2 so ancor, anak tangga banyak yang patah, oma-oma susah turun",
           person=1, name="Imelda")
    assert s.level("Pak tolong, di Bumi Beringin lingk 2 dekat tangga itu skarang tanah longsor abis ujan semalam, tanah "
                   "deng batu jatuh ka atap rumah bawah. Ini bukan soal tangga lagi, orang perlu dievakuasi", person=1,
                   name="Imelda", hours=45) == "new"


@pytest.mark.parametrize(("later", "hours", "expected"), [
    # days later, no known problem, words that hardly meet: the writer's second matter in that kelurahan
    ("Pak gempa kuat barusan, kami lari ke shelter tsunami di Kelurahan Malabero tapi gerbangnyo digembok, idak pacak "
     "naik. Cak mano kalu tsunami betulan", 60, "new"),
    # terse, or soon after: still a reminder of the complaint there
    ("Pak gimana Kelurahan Malabero?", 60, "resend"),
    ("Pak cepat nian, rumah kami di Kelurahan Malabero la dekat nian ke bibir pantai, takut malam ni", 1, "resend"),
])
def test_a_message_naming_no_known_problem_at_ones_own_complaints_place(later: str, hours: float,
                                                                       expected: str) -> None:
    s = Stream()
    s.send("Pak abrasi di Kelurahan Malabero tambah parah, semalam ombak pasang lagi. Belum ado petugas datang",
           person=1, name="Pak Zulkifli")
    assert s.level(later, person=1, name="Pak Zulkifli", hours=hours) == expected


@pytest.mark.parametrize(("text", "refers"), [
    ("as I mentioned in my email, the bar is still loud", True),
    ("udah gw DM kemarin, lampu masih mati", True),
    ("wes tak laporno nang WA, dalane isih bolong", True),  # Javanese "laporno", "laporke"
    ("Masih sama, banyak yg balik kecewa dari Puskesmas siang ini", True),  # still the same as told
    ("podo wae pak, sampahe durung diangkut", True),
    ("sarua keneh pak, jalan teu acan dibenerkeun", True),
    ("anak masih sama neneknya di rumah, air belum ngalir", False),  # "sama" is "with"
    ("jalan rusak masih sama parahnya dengan jalan sebelah", False),
])
def test_more_self_references(text: str, refers: bool) -> None:
    assert bool(reference_flags(text) & SELF_REF) == refers, text


def test_still_the_same_is_the_writers_complaint_again() -> None:
    # the writer's "Masih sama" an hour and a half later names the puskesmas only by another weak word
    s = Stream()
    s.send("@dinkes_smd Puskesmas Temindung tutup jam 11 padahal jadwal sampe jam 12. Pasien disuruh balik besok",
           person=1, channel="x", name="Mhs Unmul", handle="x:@mahasiswa_unmul")
    assert s.level("Masih sama, banyak yg balik kecewa dari Puskesmas Temindung siang ini @dinkes_smd", person=1,
                   channel="x", name="Mhs Unmul", handle="x:@mahasiswa_unmul", hours=1.5) == "resend"


@pytest.mark.parametrize(("a", "b", "meet"), [
    ("Acil Ipah", "Acil Norma", False),  # forms of address of the regions tell nobody apart
    ("Sdr. Budi Santoso", "Sdr. Andi", False),
    ("Opa Yantje Ratu", "Opa Hein", False),
    ("Cak Mat", "Cak Kholiq", False),
    ("Ayuk Melati", "Ayuk Sari", False),
    ("Acil Ipah", "Ipah Norhayati", True),  # the name itself still meets
    ("Sdr. Budi Santoso", "Budi S.", True),
])
def test_forms_of_address_are_no_names(a: str, b: str, meet: bool) -> None:
    stored, _ = identity_keys([a])
    _, probe = identity_keys([b])
    assert bool(stored & probe) == meet


def test_two_citizens_addressed_alike_are_not_linked_by_a_self_reference() -> None:
    s = Stream()
    s.send("pak, rumah panggung di Mantuil RT 03 tiangnya sudah lapuk dan miring ke sungai", person=1,
           channel="whatsapp", name="Acil Ipah")
    assert s.level("Sudah saya WA tadi pagi: jalan di Kelayan B gang 5 berlubang besar, mohon ditambal", person=2,
                   channel="facebook", name="Acil Norma", hours=3) == "new"


@pytest.mark.parametrize(("text", "follows"), [
    ("mohon segera ditindaklanjuti, jembatan rw 3 bendungan tambah parah, kemarin ada anak kakinya masuk", True),
    ("lubangnya bertambah lebar pak, sudah dua motor jatuh", True),
    ("tolong tambah lampu di gang kami, gelap", False),
    ("mohon ditambah jam layanan puskesmas", False),
])
def test_getting_worse_is_a_follow_up(text: str, follows: bool) -> None:
    assert bool(reference_flags(text) & FOLLOW) == follows, text


def test_the_writers_bridge_getting_worse_a_day_later_is_their_complaint_again() -> None:
    """A reminder a day after that names the place and says it is getting worse ("tambah parah"), in words that
    hardly meet the first report's, is the writer's complaint again (the hand-written adversarial set, adv-d090)."""
    s = Stream()
    s.send("Jembatan kayu penghubung RT 02 dan RT 05 RW 03 Bendungan papannya banyak yang patah", person=1,
           channel="telegram")
    assert s.level("mohon segera ditindaklanjuti, jembatan rw 3 bendungan tambah parah, kemarin ada anak kakinya "
                   "masuk", person=1, channel="telegram", hours=30) == "resend"
