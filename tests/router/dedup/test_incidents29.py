"""Incidents told by different citizens in their own words (stop 29): the problem a rubbish bin's overflow
names, the verb of a queue, a street name in its old spelling mentioned without a keyword. Every text here
was written for this test (not taken from the data files)."""

from __future__ import annotations

import pytest

from router.dedup.concepts import class_names, problem_mask
from router.dedup.features import stem
from router.normalise import normalise, tokens


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
