"""Look-alikes of the seventh grouping round (issue 13, from the error classes of the fifteen tuning cities, Palu
and Cirebon new): general discriminators, not these cities' phrasings. Every text here was written for this test
(other places, people and wordings than the data files); each test fails on the rules of main 88ccf15.
"""

from __future__ import annotations

from router.dedup.features import extract_places
from tests.router.dedup.test_grouping import Stream, classes, similarity

# ---- places --------------------------------------------------------------------------------------------


def test_the_raya_of_a_street_is_not_its_numbered_branch():
    assert "street:kenari raya" in extract_places("Jl. Kenari Raya depan toko berlubang")
    # "Jl. Kenari Raya" is the main road, "Jl. Kenari 2" a side street: two places
    assert similarity("Jl. Kenari Raya depan toko berlubang", "jalan Kenari 2 dekat mushola bolong")[1] is not None
    # a bare "Jl. Kenari" may be either: no conflict
    assert similarity("Jl. Kenari Raya berlubang", "jl kenari berlubang dalam")[1] is None
    assert similarity("Jl. Kenari Raya berlubang", "Jl Kenari Raya bolong besar")[0] == 1.0
    # "Jl. Raya Kenari" is the street's name, as before
    assert "street:kenari" in extract_places("Jl. Raya Kenari berlubang")


def test_a_house_number_written_nomer_is_a_house_number():
    assert "hn:41" in extract_places("ada sarang tawon di rumah Jl. Cendana nomer 41")
    assert "hn:8" in extract_places("tawon di Jl. Cendana nmr 8")
    assert similarity("sarang tawon di Jl. Cendana nomer 41", "tawon gede di Jl. Cendana No. 14")[1] is None
    s = Stream()
    s.send("Damkar tolong, sarang tawon besar di rumah Jl. Cendana nomer 41", person=1)
    assert s.send("ada sarang tawon di atap rumah Jl. Cendana No. 14, tolong damkar", person=2, hours=2).match is None


# ---- problems --------------------------------------------------------------------------------------------


def test_a_problem_the_writer_says_is_not_there_is_not_named():
    assert classes("air PDAM keruh sejak pagi, tidak ada kebocoran") == ["water_quality"]
    assert "flood" not in classes("gak ada banjir, cuma got mampet")
    assert "leak" in classes("ada kebocoran pipa di depan rumah")


def test_a_camera_and_a_levy_are_problems_of_their_own():
    assert "cctv" in classes("CCTV di alun-alun mati semua")
    assert "digital" not in classes("CCTV di alun-alun mati")
    assert classes("retribusi pasar ditarik dua kali") == ["levy"]
    assert classes("anak saya diminta bayar uang komite tiap semester") == ["school_fee"]
