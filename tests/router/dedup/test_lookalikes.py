"""Look-alike classes found on the fourth and fifth tuning cities (Denpasar, Palembang): each is a kind of
message that shares place and problem words with an earlier one but is another complaint. Every text here
was written for this test (other places and wordings than the data files).
"""

from __future__ import annotations

import pytest

from router.dedup.concepts import class_names
from router.dedup.features import extract_places, make_features, place_similarity
from router.normalise import normalise, tokens
from tests.router.dedup.replay import Stream, classes

# ---- the problem is back after it was dealt with -----------------------------------------------------

def test_a_recurrence_after_a_fix_is_a_new_occurrence_whatever_the_hours():
    s = Stream()
    s.send("Pipa PDAM di Jl. Kenari depan warung pecah, air muncrat ke jalan", person=1)
    # the same day, the same sender: still a new occurrence, the earlier one was repaired
    assert s.level("pipa di jl kenari depan warung pecah lagi, padahal siang tadi sudah diperbaiki petugas",
                   person=1, hours=8) == "new"
    # another citizen telling the recurrence joins the recurrence, not the first leak
    found = s.send("Jl. Kenari depan warung pipanya pecah lagi, katanya tadi siang udah dibenerin", person=2,
                   channel="x", hours=9)
    assert found.match is not None and found.match.candidate == 2


def test_a_fix_that_holds_is_no_recurrence():
    s = Stream()
    s.send("Lampu jalan di Jl. Cempaka mati semua sejak kemarin", person=1)
    # "nyala lagi" is the fix itself: the sender's thanks stay with the complaint
    assert s.level("Lampu jalan Jl. Cempaka sudah nyala lagi malam ini, terima kasih", person=1,
                   hours=30) == "resend"


def test_back_after_an_officers_visit_in_english():
    s = Stream()
    s.send("The cafe on Jl. Kenanga plays loud music until 3am, nobody can sleep", person=1, channel="x")
    assert s.level("Since Satpol PP visited it was fine, but the cafe on Jl. Kenanga is back to loud music "
                   "tonight", person=1, channel="x", hours=20) == "new"


# ---- the earlier complaint is settled, the message is about another problem ----------------------------

def test_settled_then_another_problem_is_the_next_complaint():
    s = Stream()
    s.send("Air PDAM di Perum Puri Asri mati dari kemarin sore, satu blok kering", person=1)
    assert s.level("Air di Perum Puri Asri sudah normal, makasih. Tapi tagihan bulan ini naik jadi 500 ribu, "
                   "mohon dicek meterannya", person=1, hours=40) == "new"
    s = Stream()
    s.send("banjir di RW 04 Kelurahan Sukamaju setinggi pinggang, warga butuh perahu", person=1)
    assert s.level("banjir di RW 04 Sukamaju sudah surut, tapi sampah sisa banjir numpuk di gang, tolong "
                   "diangkut", person=1, hours=30) == "new"


def test_a_closure_or_a_partial_fix_stays_with_the_complaint():
    s = Stream()
    s.send("banjir di RW 04 Kelurahan Sukamaju setinggi pinggang, warga butuh perahu", person=1)
    assert s.level("Alhamdulillah banjir RW 04 Sukamaju sudah surut pagi ini. Terima kasih BPBD", person=1,
                   hours=30) == "resend"
    s = Stream()
    s.send("sampah di TPS Jl. Kenari numpuk seminggu belum diangkut", person=1)
    assert s.level("makasih pak, TPS Jl. Kenari sudah diangkut tapi cuma sebagian, masih numpuk", person=1,
                   hours=30) == "resend"


# ---- an aside names the complaint already made ------------------------------------------------------

def test_besides_the_first_problem_another_one():
    text = "selain lubang, got di Jl. Kenari juga mampet"
    assert class_names(make_features(tokens(normalise(text)), text).problems) == ["drain"]
    s = Stream()
    s.send("Jalan di Jl. Kenari depan masjid berlubang besar, motor sering jatuh", person=1)
    assert s.level("Pak, selain lubang, got di Jl. Kenari depan masjid juga mampet, air naik ke jalan",
                   person=1, hours=5) == "new"
    s = Stream()
    s.send("Atap ruang kelas 4 SDN 7 Sukamaju bocor tiap hujan", person=1)
    assert s.level("selain atap kelas, jalan depan SDN 7 Sukamaju juga berlubang, anak-anak jatuh", person=2,
                   hours=5) == "new"


# ---- the text says it is another one ----------------------------------------------------------------

@pytest.mark.parametrize(("first", "second"), [
    ("Pohon besar di Jl. Cempaka dahannya condong ke jalan, mohon dipangkas",
     "Pohon di Jl. Cempaka tumbang menutup jalan. Ini pohon yang lain, bukan yang condong kemarin saya laporkan"),
    ("Talud kali di Dusun Krajan, Sukamaju jebol sepanjang 5 meter",
     "Talud kali di Sukamaju jebol juga, berbeda lokasi dengan Dusun Krajan, ini di hilirnya"),
])
def test_a_message_that_says_it_is_another_one(first, second):
    s = Stream()
    s.send(first, person=1)
    assert s.level(second, person=1, hours=20) == "new"


# ---- an event not (yet) happened, a problem denied, an earlier event as a reference --------------------

def test_not_yet_fallen_is_a_risk():
    assert "event" not in classes("pohon di jl cempaka miring, belum tumbang tapi bahaya")
    assert "risk" in classes("pohon di jl cempaka miring, belum tumbang tapi bahaya")
    s = Stream()
    s.send("Pohon tumbang di Jl. Cempaka depan kantor pos, menutup dua lajur", person=1)
    assert s.level("Di Jl. Cempaka masih ada dua pohon miring, belum tumbang tapi bahaya", person=2, channel="x",
                   hours=3) == "new"


def test_a_denied_or_past_problem_is_not_the_message_s_problem():
    assert "fire" not in classes("gudang yang kemarin terbakar sekarang tiap sore bakar kabel, ini bukan kebakaran")
    s = Stream()
    s.send("Kebakaran gudang rongsok di Jl. Kenari, asapnya hitam masuk rumah warga", person=1)
    assert s.level("gudang rongsok di Jl. Kenari yang kemarin terbakar sekarang tiap malam bakar kabel, "
                   "asapnya bau. Ini bukan kebakaran", person=1, hours=48) == "new"


# ---- a venue or a by-product names a problem only when nothing else does --------------------------------

def test_a_venue_word_is_weak_evidence_of_the_problem():
    assert classes("karaoke di jl kenari masih buka jam 2") == ["noise"]
    assert classes("tamu karaoke jl kenari parkir di badan jalan") == ["parking"]
    # (weak words name their classes together when nothing else is named: smoke — of a burning heap or of a fire,
    # either gives it off — and the people it makes ill)
    assert classes("asap pabrik bikin sesak napas") == ["burning", "fire", "health"]
    assert classes("kebakaran rumah, asapnya tebal") == ["fire"]
    s = Stream()
    s.send("karaoke di jl kenari jam 2 masih buka, suaranya keras", person=1, channel="telegram")
    assert s.level("mobil tamu karaoke jl kenari parkir di badan jalan sampai dua lapis, macet tiap malam",
                   person=1, channel="telegram", hours=48) == "new"


# ---- places below a kelurahan, numbered street names, a street's side ---------------------------------

@pytest.mark.parametrize(("text", "key"), [
    ("di Banjar Sekar Kaja, Sumerta ada 3 warga kena DB", "sub:sekar kaja"),
    ("Br. Kelod, Sumerta kebanjiran", "sub:kelod"),
    ("Jalan di Sumerta br Diaspal sudah rusak", None),  # "br" is also "baru": lower case in a text with capitals
    ("air mati di br kelod sumerta", "sub:kelod"),
    ("jalan rusak di Dusun Krajan", "sub:krajan"),
    ("warga Lingkungan IV kebanjiran", "sub:4"),
    ("lapor ke Dinas Lingkungan Hidup", None),
    ("balai banjar kami bocor", None),
])
def test_named_units_below_a_kelurahan(text, key):
    subs = {p for p in extract_places(text) if p.startswith("sub:")}
    assert subs == ({key} if key else set())


def test_another_banjar_of_one_kelurahan_is_another_place():
    s = Stream()
    s.send("Di Banjar Sekar Kaja, Sumerta sudah 4 anak kena demam berdarah, mohon fogging", person=1)
    assert s.level("di banjar dangin sumerta juga ada 2 warga kena DB, belum ada fogging", person=2,
                   hours=20) == "new"
    assert s.level("banjar sekar kaja sumerta DB nya nambah, mohon fogging segera", person=3,
                   hours=22) == "incident"


def test_a_number_in_a_street_name():
    assert extract_places("pipa bocor di Jl. Pemuda 28 dekat simpang") == {"street:pemuda 28"}
    assert place_similarity(frozenset(extract_places("Jl. Pemuda 28")), frozenset(extract_places("jalan Pemuda 10")))[0] == 0
    s = Stream()
    s.send("pipa PDAM pecah di Jalan Pemuda 28 depan SPBU, air muncrat", person=1)
    assert s.level("@pdam pipa air pecah di Jl. Pemuda 10 dekat simpang, air nyembur ke jalan", person=2,
                   channel="x", hours=2) == "new"


def test_a_street_with_a_compass_word_is_another_street():
    a = frozenset(extract_places("genangan di Jl. Diponegoro Barat depan dealer"))
    b = frozenset(extract_places("depan toko kami di Jl. Diponegoro juga tergenang"))
    assert place_similarity(a, b) == (0.0, "different street (one side of it)")
    s = Stream()
    s.send("banjir di Jl. Diponegoro Barat depan dealer setinggi lutut, got mampet", person=1)
    assert s.level("Depan toko kami di Jl. Diponegoro (dekat bundaran) juga tergenang 30 cm", person=2,
                   channel="x", hours=1) == "new"


def test_a_landmark_named_as_a_reference_point_is_not_the_place():
    assert extract_places("rumah warga terbakar dekat Pasar Gading, apinya dari dapur") == {"near:pasar gading"}
    s = Stream()
    s.send("Pasar Gading terbakar, api besar di los sayur, tolong damkar!", person=1)
    assert s.level("ada rumah kebakaran dekat Pasar Gading, apinya dari dapur, tolong", person=2, channel="x",
                   hours=1) == "new"
    # two reports near the same landmark still meet
    s = Stream()
    s.send("pohon tumbang dekat Pasar Gading, jalan tertutup", person=1)
    assert s.level("ada pohon tumbang deket pasar gading, ga bisa lewat", person=2, channel="x", hours=1) == "incident"
