"""Incident recall of the eleventh grouping round (stop 28): reports of one incident in other words.

Two tables. The first replays (earlier, later) messages of two citizens and says whether the later joins the
earlier's case ("same") or stays apart ("apart"): a place named by a rare word with no keyword ("parkir di
Karangtelu"), met when one side writes it as a name, only for one problem class, only when the word is rare in
the window and, when the later text names its own place with a keyword, only for all of that name's words. The
second says which problem class a regional wording names. Every text here was written for this test (invented
places and people, not those of the data files).
"""

from __future__ import annotations

import pytest

from router.dedup.concepts import class_names, problem_mask
from router.dedup.features import stem
from router.normalise import normalise, tokens
from tests.router.dedup.replay import Stream

# (earlier, later, others in between, expected, reason)
CASES: list[tuple[str, str, tuple[str, ...], str, str]] = [
    ("jukir liar depan Karangtelu narik 5rb/motor tanpa karcis, ngakunya resmi",
     "parkir di karangtelu sekarang 5 ribu, ga dikasih karcis, tukang parkirnya ga pake rompi", (), "same",
     "one class, a name written with a capital on one side and no keyword on either"),
    ("jukir liar depan karangtelu narik 5rb/motor tanpa karcis, ngakunya resmi",
     "parkir di karangtelu sekarang 5 ribu, ga dikasih karcis, tukang parkirnya ga pake rompi", (), "apart",
     "the word is written as a name on neither side: any unknown word, not a place"),
    ("jukir liar depan Karangtelu narik 5rb/motor tanpa karcis, ngakunya resmi",
     "sampah numpuk di karangtelu sudah seminggu tidak diangkut", (), "apart",
     "one name, two problem classes: two complaints there"),
    ("sampah di kebonarum blm diangkut hampir seminggu, numpuk di pinggir jalan",
     "TPS kebonarum penuh, sampah numpuk sampai ke jalan, belum diangkut", (), "same",
     "a place named with a keyword ('TPS …') is a name whatever its case"),
    ("lampu merah di simpang Warung Kelor mati dari subuh, macet ke mana-mana",
     "lampu merah simpang Kelor Dua mati dari subuh, macet parah", (), "apart",
     "the later names its own place with a keyword: all of its words ('Kelor Dua') must be in the earlier"),
    ("jukir liar depan Karangtelu narik 5rb/motor tanpa karcis, ngakunya resmi",
     "parkir di karangtelu sekarang 5 ribu, ga dikasih karcis, tukang parkirnya ga pake rompi",
     ("lampu jalan di Karangtelu mati semua", "banjir di Karangtelu sebetis", "ada ular masuk rumah di Karangtelu",
      "pohon tumbang di Karangtelu nutup jalan", "got mampet di Karangtelu, bau"), "apart",
     "a word that complaints of five other cases use in the window is no name of one spot"),
]


@pytest.mark.parametrize(("earlier", "later", "others", "expected", "reason"), CASES)
def test_incident_by_a_rare_name(earlier: str, later: str, others: tuple[str, ...], expected: str,
                                 reason: str) -> None:
    s = Stream()
    s.send(earlier, person=1)
    for i, text in enumerate(others):
        s.send(text, person=10 + i, hours=0.1 * (i + 1))
    found = s.send(later, person=2, hours=3)
    got = "same" if found.match is not None and found.match.candidate == 1 else "apart"
    assert got == expected, f"{reason}: {found.explain()}"


@pytest.mark.parametrize(("text", "cls", "named", "reason"), [
    ("Ayek ledeng di kampung kami la tigo hari dak ngalir", "no_water", True, "Malay 'dak' is 'not'"),
    ("banyu PDAM ora mili wiwit wingi sore", "no_water", True, "Javanese 'ora mili'"),
    ("Pak PDAM, aek di kampung kami idak ngalir dari kemarin sore", "no_water", True, "Bengkulu Malay 'idak'"),
    ("airnya idak keruh lagi, tapi tekanannya kecil", "water_quality", False, "'idak keruh' denies it"),
    ("parit kecik di gang kami tesumbat samo sampah", "drain", True, "Malay te- for ter-"),
    ("anak sungai di belakang pasar pendangkalan parah, sedimen nutup aliran", "drain", True, "silting"),
    ("saben sore ana wong ngobong sampah plastik, asepe mlebu omah", "burning", True, "Javanese 'ngobong'"),
    ("Wi-Fi gratis di taman kota tidak bisa terhubung", "digital", True, "'Wi-Fi' written with a hyphen"),
    ("ada lapisan minyak di perairan dekat permukiman atas air", "sewage", True, "an oil slick pollutes water"),
    ("harga minyak goreng di pasar naik terus", "sewage", False, "cooking oil is no pollution"),
])
def test_problem_words(text: str, cls: str, named: bool, reason: str) -> None:
    assert (cls in class_names(problem_mask(tokens(normalise(text)), stem))) == named, reason
