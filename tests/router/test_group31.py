"""Grouping, stop 31: room for more problem classes (a second mask word), the classes the tuning cities' misses
needed, and general rules for the incidents they missed and the look-alikes they merged. Every text here was written
for this test (other places, people and wordings than the data files); each rule has its hard negative beside it."""

from __future__ import annotations

from router.dedup.concepts import CLASSES, HIGH_SHIFT, STATES, class_bit
from router.dedup.features import Features
from router.dedup.index import place_keys
from tests.router.dedup.replay import Stream, classes

HOUR = 3600.0



# ---- room for more classes ---------------------------------------------------------------------------------------


def test_the_classes_past_the_first_word_take_bits_from_64_and_keep_the_old_bits():
    # the first 54 classes keep the bits they had (stop 30's masks are unchanged); HEDGE and the states stay in 54..58
    assert class_bit(CLASSES[0]) == 1 and class_bit(CLASSES[53]) == 1 << 53
    assert all(class_bit(name) >= 1 << HIGH_SHIFT for name in CLASSES[54:])
    assert len(CLASSES) > 54  # (the test means something only once a class is past the first word)
    bits = [class_bit(name) for name in CLASSES]
    assert len(set(bits)) == len(bits) and not any(bit & STATES for bit in bits)
    assert all(bit < 1 << 127 for bit in bits)  # (the index's second int64 word holds bits 64..126)


def test_the_index_keeps_a_class_of_the_second_word():
    # an earthquake report and a siren report at one spot: both classes known, none shared — another problem. With
    # the second word dropped by the index, the earthquake's class would be read back as unknown and they would merge
    s = Stream()
    s.send("gempa di Kel. Mekarsari tadi malam, warga panik keluar rumah semua, tolong dicek", person=1,
           location={"kelurahan": "Mekarsari"})
    found = s.send("sirine di Kel. Mekarsari tadi malam, warga panik keluar rumah semua, tolong dicek", person=2,
                   hours=1, location={"kelurahan": "Mekarsari"})
    assert found.match is None
    assert found.rejected is not None and found.rejected["kept_apart"] == "different problem"
    slot = 0
    stored = int(s.index._problems_of[slot]) | int(s.index._problems_hi[slot]) << HIGH_SHIFT
    assert stored & ~STATES == class_bit("earthquake")


def test_the_place_keys_carry_a_class_of_the_second_word():
    # the blocking key "this place with this class" exists for a second-word class as for a first-word one
    base = Features(content=frozenset(), places=frozenset({"kel:mekarsari"}))
    quake = Features(content=frozenset(), places=frozenset({"kel:mekarsari"}), problems=class_bit("earthquake"))
    flood = Features(content=frozenset(), places=frozenset({"kel:mekarsari"}), problems=class_bit("flood"))
    assert len(place_keys(quake)) == len(place_keys(base)) + 1
    assert set(place_keys(quake)) - set(place_keys(base)) != set(place_keys(flood)) - set(place_keys(base))


# ---- new classes -------------------------------------------------------------------------------------------------


def test_an_earthquake_is_a_problem_class():
    assert "earthquake" in classes("gempa kuat barusan, warga panik keluar rumah")
    assert "earthquake" in classes("gempabumi tadi malam terasa sampai sini")
    # after the quake ("abis gempa semalam"): the event is the reference, the message is about what followed
    assert "earthquake" not in classes("dinding rumah retak abis gempa semalam")


# ---- one place, named by its acronym, its other name in brackets, or in English -----------------------------------


def test_a_malls_acronym_is_its_name():
    from router.dedup.features import extract_places, landmark_acronyms

    assert "lm-mall:ktm" in extract_places("PKL di trotoar depan Kenari Trade Mall makin banyak")
    assert landmark_acronyms("antrean di Mal Pelayanan Publik sudah habis") == ["mpp"]
    assert "ais" in landmark_acronyms("lampu Taman Ade Irma Suryani mati")
    # (a single word before the kind gives no acronym: "Grage Mall" is not "GM")
    assert landmark_acronyms("parkir liar depan Grage Mall") == []
    s = Stream()
    s.send("PKL di trotoar Jl. Merdeka depan KTM makin banyak, pejalan kaki turun ke jalan", person=1)
    assert s.level("Trotoar depan Kenari Trade Mall penuh lapak PKL, orang jalan kaki turun ke jalan", person=2,
                   hours=20) == "incident"
    # the other way round: the acronym alone, after the whole name
    s = Stream()
    s.send("angkot ngetem sembarangan depan Kenari Trade Mall, macet total", person=1)
    assert s.level("sore ini angkot ngetem 3 lapis depan KTM, macet parah", person=2, hours=2) == "incident"


def test_another_malls_acronym_stays_apart():
    s = Stream()
    s.send("angkot ngetem sembarangan depan Kenari Trade Mall, macet total", person=1)
    assert s.level("sore ini angkot ngetem 3 lapis depan KSM, macet parah", person=2, hours=2) == "new"
    s = Stream()
    s.send("PKL di trotoar depan Kenari Trade Mall makin banyak, pejalan kaki turun ke jalan", person=1)
    assert s.level("PKL di trotoar depan Kenari Square Mall makin banyak, pejalan kaki turun ke jalan", person=2,
                   hours=2) == "new"


def test_a_service_halls_acronym_meets_its_name():
    s = Stream()
    s.send("antrian dukcapil di MPP jam 7 udah abis kuotanya", person=1)
    assert s.level("Kuota antrean Disdukcapil di Mal Pelayanan Publik sudah habis jam 07.00", person=2,
                   hours=1) == "incident"
    # another hall's acronym: no shared place
    s = Stream()
    s.send("antrian dukcapil di MPK jam 7 udah abis kuotanya", person=1)
    assert s.level("Kuota antrean Disdukcapil di Mal Pelayanan Publik sudah habis jam 07.00", person=2,
                   hours=1) == "new"


def test_a_streets_name_in_brackets_is_the_same_street():
    from router.dedup.features import extract_places

    assert {"street:basuki rahmat", "street:kayutangan"} <= extract_places(
        "lampu PJU di Jl. Basuki Rahmat (Kayutangan) mati")
    # a kelurahan in brackets is no street
    assert "street:kedung badak" not in extract_places("gorong-gorong Jl Pemuda (Kedung Badak) amblas",
                                                       {"kelurahan": "Kedung Badak"})
    s = Stream()
    s.send("Pak lampu PJU di Jl. Basuki Rahmat (Kayutangan) tiang nomor 14 mati, yang lain nyala", person=1)
    assert s.level("min lampu jalan kayutangan ada yg mati satu, gelap", person=2, hours=1) == "incident"
    # the hard negative: another street's lamp
    s = Stream()
    s.send("Pak lampu PJU di Jl. Basuki Rahmat (Kayutangan) tiang nomor 14 mati, yang lain nyala", person=1)
    assert s.level("min lampu jalan kahuripan ada yg mati satu, gelap", person=2, hours=1) == "new"


def test_a_crossing_named_by_a_streets_old_name_in_brackets():
    s = Stream()
    s.send("genangan di perempatan jl riau - jl banda udah selutut, mobil kecil mogok", person=1)
    assert s.level("Genangan setinggi lutut di simpang Jl. RE Martadinata (Riau) - Jl. Banda pagi ini", person=2,
                   hours=0.3) == "incident"
    s = Stream()
    s.send("genangan di perempatan jl riau - jl aceh udah selutut, mobil kecil mogok", person=1)
    assert s.level("Genangan setinggi lutut di simpang Jl. RE Martadinata (Riau) - Jl. Banda pagi ini", person=2,
                   hours=0.3) == "new"


def test_a_landmark_named_in_english():
    from router.dedup.features import extract_places

    assert "lm-pantai:kuta" in extract_places("Kuta beach full of trash this morning")
    assert "lm-pasar:badung" in extract_places("Badung market parking is a mess")
    assert extract_places("the beach near the main market is dirty") == set()
    assert "waste" in classes("Kuta beach this morning, plastic everywhere")
    assert "noise" in classes("bar blasting bass until 2am again")
    s = Stream()
    s.send("sampah di pantai kuta banyak bgt hari ini, sampah kiriman", person=1)
    assert s.level("Kuta beach this morning, plastic everywhere, please send the cleaners", person=2,
                   hours=20) == "incident"
    # another beach
    s = Stream()
    s.send("sampah di pantai kuta banyak bgt hari ini, sampah kiriman", person=1)
    assert s.level("Legian beach this morning, plastic everywhere, please send the cleaners", person=2,
                   hours=20) == "new"


# ---- look-alikes that stay apart ---------------------------------------------------------------------------------


def test_a_telecom_cable_is_not_a_power_cable():
    assert "telecom" in classes("kabel internet putus menjuntai ke jalan")
    assert "telecom" in classes("kabel telkom melintang rendah di gang")
    assert "telecom" not in classes("kabel listrik PLN menjuntai rendah")
    s = Stream()
    s.send("kabel listrik PLN menjuntai rendah di Jl. Cendana depan masjid, bahaya", person=1)
    assert s.level("kabel internet menjuntai rendah di Jl. Cendana depan masjid, bahaya", person=2, hours=3) == "new"
    # one cable told twice joins
    s = Stream()
    s.send("kabel internet menjuntai rendah di Jl. Cendana depan masjid, bahaya", person=1)
    assert s.level("kabel telkom melintang rendah banget di Jl. Cendana depan masjid", person=2, hours=3) == "incident"


def test_dumped_rubbish_is_not_rubbish_left_uncollected():
    assert classes("warga buang sampah sembarangan di lahan kosong") == ["dumping"]
    assert classes("Sampah liar di lahan kosong pinggir jalan") == ["dumping"]
    assert classes("sampah di TPS belum diangkut 3 hari") == ["waste"]
    s = Stream()
    s.send("sampah di TPS Jl. Cendana belum diangkut 4 hari, numpuk sampai jalan", person=1)
    assert s.level("ada yang buang sampah sembarangan tiap malam di Jl. Cendana dekat TPS", person=2, hours=5) == "new"
    s = Stream()
    s.send("ada yang buang sampah sembarangan tiap malam di lahan kosong Jl. Cendana", person=1)
    assert s.level("lahan kosong Jl. Cendana jadi tempat sampah liar, warga luar buang sampah di situ", person=2,
                   hours=5) == "incident"


def test_a_numbered_building_is_not_the_one_without_the_number():
    from router.dedup.features import extract_places, place_similarity

    def conflict(a: str, b: str) -> str | None:
        return place_similarity(frozenset(extract_places(a)), frozenset(extract_places(b)))[1]

    assert conflict("antrean di Puskesmas Kenari penuh", "antrean di Puskesmas Kenari II penuh") is not None
    assert conflict("TPS Kenari 2 penuh", "TPS Kenari penuh") is not None
    # one number written two ways, or the first written without its number: one building
    assert conflict("antrean di Puskesmas Kenari 2 penuh", "antrean di Puskesmas Kenari II penuh") is None
    assert conflict("antrean di Puskesmas Kenari I penuh", "antrean di Puskesmas Kenari penuh") is None
    # (a river's number is its kelurahan's: "Sungai Kedukan 7 Ulu" is the river Kedukan)
    assert conflict("Sungai Kedukan 7 Ulu meluap", "sungai kedukan meluap") is None
    s = Stream()
    s.send("antrean di Puskesmas Kenari panjang sekali, pasien menunggu 4 jam", person=1)
    assert s.level("antrean di Puskesmas Kenari II panjang sekali, pasien menunggu 4 jam", person=2, hours=2) == "new"


def test_the_two_ends_of_one_street_are_two_places():
    from router.dedup.features import extract_places

    assert "end:utara" in extract_places("jalan berlubang di ujung utara Jl. Pemuda")
    assert not any(p.startswith("end:") for p in extract_places("lampu Jl. Pemuda mati dari ujung ke ujung"))
    s = Stream()
    s.send("jalan berlubang besar di ujung utara Jl. Pemuda, motor jatuh", person=1)
    assert s.level("jalan berlubang besar di ujung selatan Jl. Pemuda, motor jatuh", person=2, hours=2) == "new"
    s = Stream()
    s.send("jalan berlubang besar di pangkal Jl. Pemuda, motor jatuh", person=1)
    assert s.level("Jl. Pemuda ujung berlubang besar, motor jatuh", person=2, hours=2) == "new"
    # the same end, in other words
    s = Stream()
    s.send("jalan berlubang besar di ujung utara Jl. Pemuda, motor jatuh", person=1)
    assert s.level("Jl. Pemuda ujung lor bolong gede, motor jatuh", person=2, hours=2) == "incident"


# ---- a landmark's name typed otherwise -----------------------------------------------------------------------------


def test_a_name_typed_without_some_vowels_is_the_same_name():
    from router.dedup.features import _compatible

    assert _compatible(("btu ampar",), ("batu ampar",))
    assert _compatible(("sltn agung",), ("sultan agung",))
    # another word, or no word kept whole: another name
    assert not _compatible(("btu asri",), ("batu ampar",))
    assert not _compatible(("bta ampar",), ("batu ampar",))
    s = Stream()
    s.send("kontainer sampah di Terminal Batu Ampar sudah 3 hari tidak diangkut, bau banget", person=1)
    assert s.level("TPS terminal Btu Ampar udah kayak gunung, kasian pedagang", person=2, hours=20) == "incident"
    s = Stream()
    s.send("kontainer sampah di Terminal Batu Asri sudah 3 hari tidak diangkut, bau banget", person=1)
    assert s.level("TPS terminal Btu Ampar udah kayak gunung, kasian pedagang", person=2, hours=20) == "new"


def test_a_street_mentioned_with_another_vowel_is_mentioned():
    s = Stream()
    s.send("Trotoar Jl. HZ Mustofa penuh lapak PKL, pejalan kaki terpaksa turun ke jalan", person=1)
    assert s.level("PKL di HZ Mustafa beuki loba, nu leumpang kapaksa di jalan", person=2, hours=20) == "incident"
    # two vowels apart is another name
    s = Stream()
    s.send("Trotoar Jl. HZ Mustofa penuh lapak PKL, pejalan kaki terpaksa turun ke jalan", person=1)
    assert s.level("PKL di HZ Mistafi beuki loba, nu leumpang kapaksa di jalan", person=2, hours=20) == "new"


# ---- more problem classes (second mask word) -----------------------------------------------------------------------


def test_liquor_graffiti_footbridges_and_refill_depots_are_problems_of_their_own():
    assert "alcohol" in classes("warung jual miras sampai jam 2, anak muda mabuk tiap malam")
    assert "alcohol" in classes("warung cap tikus rame orang mabo")
    assert "graffiti" in classes("monumen dicoret pilox semalam, pagarnya juga")
    assert "footbridge" in classes("titian ulin di RT 15 sudah rapuh")
    assert "footbridge" in classes("jembatan kayu gang kami papannya bolong")
    assert "water_depot" in classes("depot air isi ulang galonnya berlumut")
    # a bridge that is a place, not the problem
    assert "footbridge" not in classes("sampah nyangkut di bawah jembatan, banjir")
    s = Stream()
    s.send("Warung di Malendeng dekat jembatan jual miras sampai jam 2 malam, anak muda mabuk berkelahi",
           person=1, location={"kelurahan": "Malendeng"})
    assert s.level("td ada yg berantem lagi, org mabok rame tiap malem di warung dkt jembatan Malendeng", person=2,
                   hours=20, location={"kelurahan": "Malendeng"}) == "incident"
    # the same warung's loud music is another complaint
    s = Stream()
    s.send("Warung di Malendeng dekat jembatan jual miras sampai jam 2 malam, anak muda mabuk berkelahi tiap malam",
           person=1, location={"kelurahan": "Malendeng"})
    assert s.level("Warung di Malendeng dekat jembatan musiknya keras sampai jam 2 malam, bising tiap malam",
                   person=2, hours=50, location={"kelurahan": "Malendeng"}) == "new"


def test_a_landmark_a_report_is_near_is_mentioned_by_its_name():
    from router.dedup.features import mentioned, parse_places

    parsed = parse_places({"near:pasar klewer"})
    assert mentioned(parsed, " anak tidur di emperan ruko dekat klewer ") == 0.6
    assert mentioned(parsed, " anak tidur di emperan ruko dekat gede ") == 0.0
    s = Stream()
    s.send("ada anak kecil tidur di emperan toko deket Pasar Klewer tiap malem, ga ada ortunya", person=1)
    assert s.level("tiap malam ada anak kecil tidur sendirian di emperan ruko dekat Klewer, ga ada ortunya",
                   person=2, hours=12) == "incident"
    s = Stream()
    s.send("ada anak kecil tidur di emperan toko deket Pasar Klewer tiap malem, ga ada ortunya", person=1)
    assert s.level("tiap malam ada anak kecil tidur sendirian di emperan ruko dekat Gading, ga ada ortunya",
                   person=2, hours=12) == "new"


def test_a_crossing_named_after_an_officer_is_named_by_the_name():
    from router.dedup.features import extract_places

    assert "lm-simpang:mashudi" in extract_places("Lampu merah simpang Letjen Mashudi - Siliwangi mati")
    assert "lm-simpang:mashudi" in extract_places("lampu merah simpang Mashudi mati")
    # (the nobility's title begins a name: "Parit Pangeran" is not "Parit")
    assert any(p.startswith("lm-sungai:pangeran") for p in extract_places("banjir di Parit Pangeran Siantan"))
