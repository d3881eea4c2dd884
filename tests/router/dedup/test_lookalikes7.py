"""Look-alikes of the sixth grouping round (issue 13, from the error classes of the tuning cities Bogor and
Samarinda, checked on the eleven older ones): general discriminators, not these cities' phrasings. Every
text here was written for this test (other places, people and wordings than the data files); each test
fails on the rules of main 361543e.
"""

from __future__ import annotations

from router.config import GazetteerConfig, Kecamatan, Place
from router.dedup.concepts import (
    AGAIN,
    ALSO,
    OTHER,
    RECUR,
    SELF_REF,
    class_names,
    problem_mask,
    reference_flags,
)
from router.dedup.features import _without_area_names, extract_places, stem
from router.normalise import normalise, tokens
from router.places import Gazetteer
from tests.router.dedup.replay import Stream, classes
from tests.router.dedup.test_grouping import similarity

# ---- places --------------------------------------------------------------------------------------------


def _gazetteer() -> Gazetteer:
    cfg = GazetteerConfig(kecamatan=[Kecamatan(name="Kali Barat", kelurahan=[Place(name="Wangun"),
                                                                             Place(name="Sukarasa")])])
    return Gazetteer(cfg, {})


def test_a_water_company_named_after_a_kelurahan_is_not_that_kelurahan():
    text = "PDAM Tirta Wangun, air di Sukarasa mati dari pagi"
    location, _ = _gazetteer().locate(tokens(normalise(text)), normalise(text))
    assert location["kelurahan"] == "Sukarasa"
    location, _ = _gazetteer().locate(tokens(normalise("air mati di Wangun")), "air mati di wangun")
    assert location["kelurahan"] == "Wangun"


def test_a_verb_after_kelurahan_is_no_kelurahan():
    places = extract_places("Titian kayu di RT 4 Kel. Sukarasa patah. Mohon kelurahan tindaklanjuti")
    assert not any(key.startswith("kel:") and key != "kel:sukarasa" for key in places)
    assert "kel:sukarasa" in extract_places("banjir di kelurahan sukarasa")


def test_a_titled_street_is_named_by_the_name_after_the_title():
    assert "street:hidayat" in extract_places("lubang di jalan Jl. Pangeran Hidayat depan toko")
    assert similarity("Jl. P. Hidayat depan apotek berlubang", "jl pangeran hidayat depan apotek bolong")[1] is None
    assert similarity("Jl. Pangeran Hidayat berlubang", "Jl. Pangeran Kusuma berlubang")[1] is not None


def test_one_digit_after_a_street_numbers_the_street():
    assert similarity("PJU Jl. Teuku Umar 1 mati", "PJU di Jl. Teuku Umar 3 mati")[1] is not None
    assert similarity("PJU Jl. Teuku Umar 2 mati", "PJU Jl. Teuku Umar II mati semua")[1] is None
    assert similarity("PJU di jalan Teuku Umar mati", "PJU Jl. Teuku Umar 2 mati")[1] is None


# ---- what the writer says about the earlier one ---------------------------------------------------------


def test_a_regional_reminder_and_a_growing_problem_are_not_back_again():
    assert not reference_flags("bu ngingetkeun deui, jalan gang RT 5 tea") & AGAIN
    assert not reference_flags("retakan dinding nambahan deui sabada hujan") & AGAIN
    assert reference_flags("sampah numpuk deui di TPS") & AGAIN


def test_the_writer_who_posted_elsewhere_refers_to_it():
    assert reference_flags("pak saya yang tadi ngetwit soal truk tanah di Jl. Mawar") & SELF_REF
    assert reference_flags("punten, abdi nu nyerat di IG, solokan di RT 3 mampet keneh") & SELF_REF
    assert not reference_flags("pak ada truk tanah parkir di Jl. Mawar") & SELF_REF


def test_not_the_one_near_the_other_landmark_is_another():
    assert reference_flags("lubang besar di Jl. Mawar depan gang 4, bukan yang dekat masjid") & OTHER


def test_banjar_again_after_a_fix_is_a_recurrence():
    flags = reference_flags("lampu jalan yang sudah dibaiki kemarin mati pulang")
    assert flags & AGAIN and flags & RECUR
    assert not reference_flags("anak pulang sekolah lewat jalan gelap") & AGAIN


def test_sundanese_while_i_am_at_it_adds_another_complaint():
    assert reference_flags("sakalian, KK abdi salah nami") & ALSO


def test_a_denied_problem_word_names_no_problem():
    assert "water_quality" not in classes("air PDAM tidak keruh tapi ngalirnya kecil sekali")
    assert "water_quality" in classes("air PDAM keruh banget")


def test_sundanese_dead_water_is_no_water():
    assert "no_water" in classes("cai PDAM paeh ti kamari")


# ---- grouping --------------------------------------------------------------------------------------------


def test_two_numbered_streets_of_one_name_are_two_complaints():
    s = Stream()
    s.send("lampu jalan di Jl. Teuku Umar 2 mati 4 tiang, gelap", person=1)
    assert s.level("lampu jalan di Jl. Teuku Umar 1 dekat ruko mati 3 tiang", person=2, hours=5) == "new"


def test_the_writer_who_wrote_a_letter_and_tells_of_another_accident_follows_it_up():
    s = Stream()
    s.send("Yth. Dishub, mohon rambu di tanjakan dekat SDN 4 Cibening, sering truk terguling", person=1,
           channel="email", name="Dadang Sutisna")
    assert s.level("pak saya Dadang yg kirim surat ke dishub, tanjakan dekat SDN 4 Cibening tadi truk terguling lagi",
                   person=1, channel="whatsapp", hours=6 * 24, name="Dadang Sutisna") != "new"


def test_banjar_not_flowing_is_no_water():
    assert "no_water" in classes("banyu ledeng di gang kami kada mengalir dari kemarin")


def test_a_branch_touching_the_wires_is_a_risk_not_the_fall():
    s = Stream()
    s.send("Dahan pohon mahoni di Jl. Kenari ujung Sukarasa menutupi lampu jalan dan menyentuh kabel.", person=1)
    assert s.level("Pohon mahoni di Jl. Kenari ujung Sukarasa tumbang siang ini, menutup jalan.", person=1,
                   hours=40) == "new"


def test_a_kelurahan_named_after_water_names_no_water_problem():
    places = {"kel:air hitam", "kec:kali barat"}
    assert "no_water" not in class_names(problem_mask(
        _without_area_names(tokens(normalise("lampu lalin simpang air hitam mati")), places), stem))
    assert "no_water" in classes("air mati di simpang")


def test_the_state_told_in_an_aside_is_the_earlier_complaint():
    s = Stream()
    s.send("PJU di Jl. Kenari mati 4 tiang, gelap", person=1)
    assert s.level("Selain mati, satu tiang PJU di Jl. Kenari miring mau roboh, kabel kelihatan", person=2,
                   hours=30) == "new"


def test_a_lower_case_kelurahan_name_is_still_a_kelurahan():
    assert "kel:sukarasa" in extract_places("Lampu PJU mati di Jl. Kenari kelurahan sukarasa")


def test_a_supply_that_stopped_is_no_water():
    assert "no_water" in classes("aliran air PDAM di gang kami terhenti sejak Senin")
    assert "no_water" not in classes("truk air berhenti di depan pasar")


def test_a_hanging_cable_is_another_complaint_than_the_lamps_out():
    s = Stream()
    s.send("lampu jalan di Jl. Kenari mati total seminggu, gelap", person=1)
    assert s.level("di Jl. Kenari ada kabel PJU menjuntai ke jalan, bahaya", person=2, hours=48) == "new"


def test_the_writers_complaint_at_a_place_the_new_one_does_not_name_is_another():
    s = Stream()
    s.send("jalan di Jl. Kenari depan minimarket berlubang besar, motor jatuh", person=1)
    assert s.level("tanjakan dekat SDN 4 Sukarasa jalannya berlubang, tolong diaspal", person=1, hours=30) == "new"
    # the same writer's reminder that names the place again is still his complaint
    assert s.level("jalan Jl. Kenari masih berlubang pak, kapan ditambal", person=1, hours=50) == "resend"


def test_the_labels_of_a_lapor_report_are_no_spot():
    places = extract_places("Judul: Jalan rusak di Jl. Kenari dekat sekolah\nIsi: Aspal Jl. Kenari berlubang")
    assert not any(key.startswith("ref:") for key in places)
