"""Grouping round 32 (issue 13): rules read from how citizens write, not from one city's words.

* A handle's later run is no name: "@lembah2sanding" and "Sanding Walker" (@sandingwalker) are two people who
  like one coast, not one citizen on two channels; the run that begins a handle still is ("@asepsun_" for Asep).
* A street numbered by one digit in lower case ("jln cempaka indah 2") is the street the capitalised form names
  ("Jl. Cempaka Indah 2"), another than "Jl. Cempaka Indah 1"; a count after the digit ("jl mawar 2 hari") is no number.
* Waste water that overflows ("tinja meluap") reads as a flood too: a flood told by kelurahan takes the kelurahan as
  its place, a sewer's overflow and a flood that only one names the sewer of do not.

Every text here was written for this test (invented places and people).
"""

from __future__ import annotations

import pytest

from router.dedup.features import extract_places
from tests.router.dedup.replay import Stream


def test_a_later_run_of_a_handle_links_nobody() -> None:
    s = Stream()
    s.send("Pantai Karang pagi ini penuh sampah plastik, anak-anak main di situ. Tolong dibersihkan @dlh_kota",
           person=1, channel="x", name="Jess", handle="@lembah2sanding")
    found = s.send("pantai karang masih kotor min, sampahnya numpuk di garis pasang, saya lihat tadi pagi",
                   person=2, channel="telegram", hours=5, name="Sanding Walker", handle="sandingwalker")
    assert found.match is not None and found.match.level == "incident"


def test_the_run_that_begins_a_handle_still_links() -> None:
    s = Stream()
    s.send("Lampu jalan di Jl. Kenari depan masjid mati semua sejak kemarin", person=1, channel="whatsapp",
           name="Asep Sunandar")
    found = s.send("sudah saya WA kemarin, lampu jalan Jl. Kenari depan masjid masih mati", person=2, channel="x",
                   hours=20, name="Asep S.", handle="@asepsun_")
    assert found.match is not None and found.match.level == "cross_channel"


@pytest.mark.parametrize(("text", "key"), [
    ("lampu jln cempaka indah 2 masih mati pak", "street:cempaka indah 2"),
    ("lampu jl cempaka indah 2 mati", "street:cempaka indah 2"),
    ("Lampu jalan di Jl. Cempaka Indah 1 mati", "street:cempaka indah 1"),
    ("lampu jl cempaka indah 2 hari mati", "street:cempaka indah"),
    ("Lampu di Jl. Cempaka Indah 3 tiang mati", "street:cempaka indah"),
])
def test_a_street_numbered_by_one_digit_in_lower_case(text: str, key: str) -> None:
    assert key in extract_places(text)


def test_lower_case_numbered_street_kept_apart_from_the_other_number() -> None:
    s = Stream()
    s.send("Lampu jalan di Jl. Cempaka Indah 1 depan ruko mati 3 tiang", person=1)
    assert s.level("lampu jln cempaka indah 2 masih mati pak, gelap", person=2, hours=3) == "new"


# ---- waste water that overflows ("limbah meluap") reads as a flood too: the kelurahan alone, the place of a flood,
# is no place of a sewer's overflow
def test_a_sewage_overflow_is_no_flood_of_the_kelurahan() -> None:
    s = Stream()
    s.send("IPAL komunal Kel. Tanjung Lumut mampet, tinja meluap sampai gang", person=1)
    assert s.level("Ombak pasang naik di pesisir Kel. Tanjung Lumut, dapur-dapur rumah papan rusak", person=2,
                   hours=4) == "new"


def test_two_floods_told_by_kelurahan_still_join() -> None:
    s = Stream()
    s.send("Banjir di Kel. Tanjung Lumut, air masuk rumah sepinggang", person=1)
    assert s.level("Ombak pasang naik di pesisir Kel. Tanjung Lumut, dapur-dapur rumah papan rusak", person=2,
                   hours=4) == "incident"
