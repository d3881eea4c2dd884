"""Incidents told by different citizens in their own words (stop 29): the problem a rubbish bin's overflow
names, the verb of a queue, a street name in its old spelling mentioned without a keyword. Every text here
was written for this test (not taken from the data files)."""

from __future__ import annotations

import pytest

from router.dedup.concepts import class_names, problem_mask
from router.dedup.features import stem
from router.normalise import normalise, tokens

from .test_grouping import Stream


def classes(text: str) -> list[str]:
    """The problem classes of a text as the grouping reads them."""
    return class_names(problem_mask(tokens(normalise(text)), stem))


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
