"""Incidents told by different citizens in their own words (stop 29): the problem a rubbish bin's overflow
names, the verb of a queue, a street name in its old spelling mentioned without a keyword. Every text here
was written for this test (not taken from the data files)."""

from __future__ import annotations

import pytest

from router.dedup.features import extract_places

from .replay import Stream, classes


@pytest.mark.parametrize(("text", "named", "not_named"), [
    # rubbish that overflows its bin or its TPS is rubbish left uncollected, not a flood
    ("sampah di kontainer pasar udah luber ke jalan", "waste", "flood"),
    ("TPS Cempaka meluber lagi hari ini", "waste", "flood"),
    ("runtah di TPS ngeluap ka jalan", "waste", "flood"),
    # water that overflows is a flood, rubbish in it or not
    ("sungai meluap masuk rumah warga", "flood", "waste"),
    ("got depan rumah meluap, sampahnya nyangkut", "flood", None),
    ("air meluap masuk rumah", "flood", None),
    # a queue, by its verb ("antri", "ngantri", "antre") as by its noun
    ("antri di puskesmas dari jam 7 belum dipanggil", "clinic", None),
    ("ngantri 4 jam di loket pendaftaran", "clinic", None),
    ("antrean pasien panjang sekali", "clinic", None),
])
def test_problem_words(text, named, not_named):
    found = classes(text)
    assert named in found, (text, found)
    assert not_named is None or not_named not in found, (text, found)


@pytest.mark.parametrize(("first", "second"), [
    # a street named in its old spelling, without "Jl.", is the street the other report names with it
    ("Pohon besar tumbang di Jl. Sukarno Hatta dekat pasar, jalan ketutup dua lajur",
     "Baru lewat Soekarno-Hatta ada pohon tumbang nimpa mobil, macet total"),
    ("Lampu PJU di Jl. Juanda mati semua dari kemarin, gelap sekali",
     "lampu jalan sepanjang djuanda mati semua, rawan begal"),
    # a house number both give does not stop the street from being mentioned by name
    ("Pohon trembesi di trotoar Jl. Kenanga depan rumah nomor 12 miring ke jalan, akarnya angkat trotoar",
     "pohon gede di kenanga depan no 12 wes doyong, akare njebol trotoar. tolong dipangkas"),
])
def test_a_street_mentioned_without_a_keyword_is_the_place_of_another_report(first, second):
    s = Stream()
    assert s.level(first, person=1) == "new"
    assert s.level(second, person=2, channel="x", hours=2) == "incident"


@pytest.mark.parametrize("text", [
    # water that is off, with "not" as each region says it
    "aer seng kaluar dari pagi",  # Maluku
    "air sonde mengalir su dua hari",  # Kupang
    "aer tra jalan 3 hari",  # Papua
    "air PDAM tida kaluar dari kemarin",  # Manado, Maluku
    "aia indak mangalia dari subuah",  # Minang
    "air PDAM macet dua hari",  # stopped
])
def test_water_off_in_regional_words(text):
    assert "no_water" in classes(text), text


@pytest.mark.parametrize(("text", "not_named"), [
    ("atap seng kelas 3 bocor kalau hujan", None),  # a zinc roof leaks: "seng" is no "not" there
    ("jalan macet parah tiap sore", "no_water"),  # a traffic jam is no water stopped
    ("banjir, air naik, mobil tidak jalan", "no_water"),  # the water's "not … jalan" only straight after it
])
def test_regional_not_is_read_only_before_the_water_flowing(text, not_named):
    found = classes(text)
    assert not_named is None or not_named not in found, (text, found)
    if "seng" in text:
        assert "leak" in found, (text, found)


def test_a_kelurahan_report_naming_the_others_street_without_a_keyword_is_the_same_spot():
    s = Stream()
    assert s.level("Lampu PJU di Jl. Kenari Kelurahan Sukamaju mati lima tiang sejak minggu lalu, rawan begal",
                   person=1) == "new"
    # (Javanese, in other words: the kelurahan named with its keyword, the street without "Jl.")
    assert s.level("kelurahan sukamaju peteng ndhedhet, sing nang kenari kabeh ora murup", person=2, channel="x",
                   hours=3) == "incident"


@pytest.mark.parametrize(("text", "named"), [
    # the "ter-" of eastern Malay, Minang and Banjar is "ta-"
    ("rumah papan tabakar di lorong belakang pasar", "fire"),
    ("jalan depan sekolah tagenang air sampai lutut", "flood"),
    ("jalan talobang besar depan gereja", "road"),
    # Minang words of a problem
    ("pasar tabaka malam tadi, api gadang", "fire"),
    ("banjia gadang di kampuang kami", "flood"),
    ("sarok di pasa indak diangkuik dari sapakan", "waste"),
    ("jalan ancur parah, tiap hari ada yang jatuh", "road"),
])
def test_problem_words_of_the_regions(text, named):
    assert named in classes(text), (text, classes(text))


@pytest.mark.parametrize("text", ["tanah kosong di belakang rumah", "tangga rumah susun", "tabung gas bantuan"])
def test_a_word_that_only_starts_with_ta_names_no_problem(text):
    assert classes(text) == [], (text, classes(text))


@pytest.mark.parametrize("text", ["abrasi pantai makin parah, tinggal 3 meter ke rumah",
                                  "pantai belakang rumah kami makin kegerus ombak"])
def test_the_shore_the_sea_eats_is_land_lost(text):
    assert "landslide" in classes(text), (text, classes(text))


@pytest.mark.parametrize(("text", "leak"), [
    ("pipa pdam jebol di depan pasar, air nyembur", True),
    ("pipa induk patah kena alat berat proyek", True),
    ("pipa PDAM retak, air rembes ke jalan", True),
    ("tanggul sungai jebol, air masuk kampung", False),  # a dike's breach is no leak
    ("dahan pohon patah nimpa motor", False),
])
def test_a_pipe_that_bursts_in_any_word_leaks(text, leak):
    assert ("leak" in classes(text)) == leak, (text, classes(text))


@pytest.mark.parametrize(("text", "not_a_place"), [
    # eastern Malay "so"/"su" (sudah), Palembang "semalem", running verbs: no landmark's name
    ("TPS depan masjid so penuh sampe ka jalan", "lm-masjid:so"),
    ("jalan depan greja lobang dalam skali, tadi pagi anak SMP jatuh", "lm-sekolah:smp jatuh"),
    ("warung dekat jembatan jual cap tikus sampe jam 2 malam", "near:jembatan jual"),
    ("asap tpa sukawinatan semalem tebel nian", "lm-tpa:sukawinatan semalem"),
    ("sampah TPS meluber, anak2 SD lewat tutup hidung", "lm-sekolah:sd lewat"),
])
def test_running_words_of_the_regions_name_no_landmark(text, not_a_place):
    assert not_a_place not in extract_places(text), (text, extract_places(text))


def test_a_landmark_keeps_its_name_before_a_running_word():
    assert "lm-tpa:sukawinatan" in extract_places("asap tpa sukawinatan semalem tebel nian")


@pytest.mark.parametrize(("text", "off"), [
    ("sonde ada aer dari kemarin sore", True),  # Kupang
    ("tra ada air 3 hari di kompleks", True),  # Papua
    ("seng ada aer di rumah dari pagi", True),  # Maluku
    ("atap seng ada air netes ke kelas", False),  # a zinc roof that drips
])
def test_no_water_in_the_regions_not_there_is(text, off):
    assert ("no_water" in classes(text)) == off, (text, classes(text))


@pytest.mark.parametrize(("a", "b"), [
    # the weak "e" of a first syllable written or left out names one spot
    ("kebakaran di Jl. Bali dekat kelenteng", "kebakaran jl bali dekat klenteng"),
    # "dpn" ends a street's name as "depan" does
    ("jl sudirman dpn greja", "Jl. Sudirman depan gereja"),
])
def test_one_spot_in_two_spellings(a, b):
    pa = {p for p in extract_places(a) if p.startswith(("ref:", "street:"))}
    pb = {p for p in extract_places(b) if p.startswith(("ref:", "street:"))}
    assert pa == pb, (pa, pb)


def test_a_fire_near_one_temple_in_two_spellings_is_one_incident():
    s = Stream()
    assert s.level("Pak damkar kebakaran di Jl. Bali dekat klenteng! Rumah papan, apinya besar, cepat pak",
                   person=1) == "new"
    assert s.level("min ada kebakaran dekat kelenteng jl bali, 2 rumah udah kena. damkar udh jalan?", person=2,
                   channel="telegram", hours=0.3) == "incident"


@pytest.mark.parametrize(("a", "b"), [
    # the east's spelling of a landmark's kind names the same landmark ("pante", "greja")
    ("sampah di pante Malalayang banyak skali", "Pantai Malalayang penuh sampah plastik"),
    ("jalan depan greja Sentrum lobang dalam", "jalan depan Gereja Sentrum berlubang"),
])
def test_a_landmark_kind_in_the_easts_spelling(a, b):
    la = {p for p in extract_places(a) if p.startswith("lm-")}
    assert la and la == {p for p in extract_places(b) if p.startswith("lm-")}, (a, b)


def test_the_prayer_house_of_minang_and_aceh_is_a_masjid():
    assert "lm-masjid:nurul iman" in extract_places("atap surau Nurul Iman bocor")
    assert "lm-masjid:baiturrahman" in extract_places("meunasah Baiturrahman kebanjiran")


@pytest.mark.parametrize(("text", "named"), [
    ("gang rt 11 becek, anak sekolah sepatunya belumpur tiap hari", "road"),
    ("gang di RT 11 licak banar kalo hujan, semenisasi belum dikerjakan", "road"),
    ("kampung kami tenggelam, air sepinggang", "flood"),
])
def test_more_words_of_a_problem(text, named):
    assert named in classes(text), (text, classes(text))
