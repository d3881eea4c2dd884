"""Look-alikes of issue 13's generalisation round: numbered and lettered units and houses, and a thing out
against the same thing feared to fall. Written for this test from a probe of generic look-alikes (no city's
data); each test fails on the rules of main 06cfcd1.
"""

from __future__ import annotations

from router.dedup.features import extract_places
from tests.router.dedup.replay import Stream, classes
from tests.router.dedup.test_grouping import similarity


def test_a_kilometre_marker_is_a_unit_of_a_long_road():
    assert "unit-km:4" in extract_places("jalan retak di Jl. Lintas Timur km 4 arah bandara")
    assert similarity("saluran tersumbat di Jl. Lintas Timur km 4", "saluran tersumbat di Jl. Lintas Timur km 11")[1] \
        is not None
    assert similarity("saluran tersumbat di Jl. Lintas Timur km 4", "got mampet Jl. Lintas Timur km 4")[1] is None


def test_a_lettered_building_is_a_unit_in_capitals_only():
    assert "unit-gedung:c" in extract_places("lift Gedung C rusak, pasien naik tangga")
    assert not any(p.startswith("unit-gedung") for p in extract_places("gedung a.k.a balai warga bocor"))
    assert similarity("atap Gedung B RSUD bocor", "atap Gedung E RSUD bocor")[1] is not None


def test_a_numbered_house_in_an_estate():
    assert "hn:27" in extract_places("rumah no 27 di Perum Griya Permai kebanjiran")
    s = Stream()
    s.send("rumah nomor 8 di Perumahan Taman Sari kemasukan ular kobra, tolong", person=1)
    assert s.level("rumah nomor 31 di Perumahan Taman Sari ada ular kobra masuk dapur", person=2, hours=3) == "new"


def test_a_lamp_out_and_its_pole_about_to_fall_are_two_call_outs():
    leaning = classes("tiang PJU di tikungan Kenari miring, mau roboh")
    assert "streetlight" in leaning and "risk" in leaning and "broken" not in leaning
    assert "broken" in classes("PJU di tikungan Kenari padam")
    s = Stream()
    s.send("PJU di Jl. Kenari padam sejak kemarin, gelap", person=1)
    assert s.level("tiang PJU di Jl. Kenari miring, mau roboh, bahaya", person=2, hours=4) == "new"
    assert s.level("lampu PJU Jl. Kenari mati, gelap gulita", person=3, hours=6) == "incident"


def test_a_bridge_numbered_in_roman_numerals():
    assert "unit-jembatan:3" in extract_places("Jembatan III Sungai Musi pagar pembatasnya patah")
    assert similarity("pagar Jembatan II Sungai Deli patah", "pagar Jembatan V Sungai Deli patah")[1] is not None


def test_a_vaccine_out_of_stock_is_not_the_queue_of_the_same_clinic():
    assert classes("imunisasi di puskesmas Cempaka kosong, vaksin habis") == ["medicine"]
    s = Stream()
    s.send("puskesmas Cempaka vaksin BCG kosong dari minggu lalu", person=1)
    assert s.level("puskesmas Cempaka antrean panjang, petugas datang siang", person=2, hours=5) == "new"
    assert s.level("vaksin BCG di puskesmas Cempaka habis, bayi belum diimunisasi", person=3, hours=7) == "incident"


def test_the_spoken_in_forms_of_a_fix_make_a_recurrence():
    from router.dedup.concepts import RECUR, reference_flags
    assert reference_flags("PKL balik lagi, padahal minggu kemarin udah ditertibin") & RECUR
    assert reference_flags("jukirnya udah ditegur, sekarang narik 10 ribu lagi") & RECUR


def test_a_lettered_gang_and_a_phase_of_an_estate():
    assert "gg:7c" in extract_places("Gang 7C Jl. Merbabu tergenang")
    assert "gg:7" in extract_places("gang 7 Jl. Merbabu tergenang")
    assert similarity("saluran Gang 7A Jl. Merbabu mampet", "saluran Gang 7D Jl. Merbabu mampet")[1] is not None
    assert "unit-tahap:2" in extract_places("Perum Bumi Asri tahap 2 jalannya rusak")
    assert similarity("Perum Bumi Asri tahap 2 jalannya rusak", "Perum Bumi Asri tahap 4 jalannya rusak")[1] is not None
