"""Dedup index work done once and remembered, or ranked without a full sort: the same keys and the same candidates
as computing everything on every message."""

from __future__ import annotations

import pytest

from router.dedup import index as ix
from router.dedup.concepts import class_bit
from router.dedup.features import Features, stable_hash
from router.dedup.index import _LOW_63, STATES, _bits, mention_keys, place_keys, rare_keys

_MASKED = str.maketrans("aiueo", "*****")


def _place_keys_computed(f: Features) -> list[int]:
    """``place_keys`` as computed before it remembered keys (stop 28): the reference."""
    keys = []
    problems = f.problems & ~STATES
    classes = _bits(problems & _LOW_63) if problems else []
    for place in f.places:
        if not place.startswith(("rt:", "rw:", "hn:", "ref:", "not:", "num-")):
            keys.append((stable_hash(place) << 32) | 0x9E3779B9)
            for bit in classes:
                keys.append((stable_hash(f"{place}|p{bit}") << 32) | 0x9E3779B9)
            if " " in place and not place.startswith("street:"):
                keys.append((stable_hash(place.replace(" ", "")) << 32) | 0x9E3779B9)
            if place.startswith("lm-sekolah:") and place.count(" ") >= 2:
                keys.append((stable_hash(" ".join(place.split()[:2])) << 32) | 0x9E3779B9)
            if place.startswith("street:") and " " in place:
                words = place[7:].split()
                for word in {words[0], words[-1]} - {"gg", "raya"}:
                    if not word.isdigit():
                        keys.append((stable_hash(f"street:{word}") << 32) | 0x9E3779B9)
                keys.append((stable_hash("street:" + "".join(words)) << 32) | 0x9E3779B9)
            if place.startswith(("street:", "lm-", "kel:")):
                for word in place.partition(":")[2].split():
                    if len(word) >= 4 and not word.isdigit():
                        keys.append((stable_hash("w:" + word) << 32) | 0x9E3779B9)
                        if len(word) >= 6:  # (stop 31: the word with its vowels masked, "m*st*f*")
                            keys.append((stable_hash("w~:" + word.translate(_MASKED)) << 32) | 0x9E3779B9)
    return keys


def _features(places: frozenset[str], problems: int = 0, rare: tuple[str, ...] = (), cased: tuple[str, ...] = (),
              mentions: str = " ") -> Features:
    return Features(content=frozenset(), places=places, problems=problems, mentions=mentions, rare=rare, cased=cased)


PLACES = [
    frozenset(),
    frozenset({"rt:3", "rw:5"}),  # no keys of their own
    frozenset({"street:ahmad yani", "rt:2"}),
    frozenset({"street:fatmawati raya", "kel:sukamaju"}),
    frozenset({"lm-sekolah:smp 3 semarang", "kel:mandala krida"}),
    frozenset({"street:gg 5", "lm-pasar:kranggan", "not:kel:beting", "hn:12"}),
    frozenset({"street:12 raya", "lm-simpang:tugu"}),
]


@pytest.mark.parametrize("places", PLACES)
@pytest.mark.parametrize("problems", [0, class_bit("power"), class_bit("power") | STATES])
def test_place_keys_remembered_are_the_computed_ones(places, problems):
    f = _features(places, problems)
    for _ in range(2):  # the first call computes and remembers, the second reads what it remembered
        assert place_keys(f) == _place_keys_computed(f)


def test_place_keys_when_the_memory_is_full(monkeypatch):
    monkeypatch.setattr(ix, "_REMEMBERED", 2)
    monkeypatch.setattr(ix, "_PLACE_KEYS", {})
    monkeypatch.setattr(ix, "_CLASS_KEYS", {})
    f = _features(PLACES[4] | PLACES[3], class_bit("power"))
    for _ in range(3):
        assert place_keys(f) == _place_keys_computed(f)
    assert len(ix._PLACE_KEYS) <= 2 and len(ix._CLASS_KEYS) <= 2


def test_rare_and_mention_keys_remembered_are_the_computed_ones():
    f = _features(frozenset(), rare=("ngarsopuro", "sarijadi"), cased=("ngarsopuro",),
                  mentions=" parkir liar di ngarsopuro 2024 sarijadi ")
    expected_rare = [(stable_hash(f"r:{w}") << 32) | 0x85EBCA6B for w in f.rare] + \
        [(stable_hash(f"R:{w}") << 32) | 0x85EBCA6B for w in f.cased]
    expected_mentions = {(stable_hash("w:" + w) << 32) | 0x9E3779B9 for w in ("parkir", "liar", "ngarsopuro", "sarijadi")} | \
        {(stable_hash("w~:" + w) << 32) | 0x9E3779B9 for w in ("p*rk*r", "ng*rs*p*r*", "s*r*j*d*")}
    for _ in range(2):
        assert rare_keys(f) == expected_rare
        assert sorted(mention_keys(f)) == sorted(expected_mentions)


def test_every_not_word_holds_one_of_the_substrings_checked_first():
    """extract_places searches _NOT_WORDS only in a text holding one of _NOT_HINTS: every match holds one."""
    from router.dedup.features import _NOT_HINTS, _NOT_WORDS

    pattern = _NOT_WORDS.pattern
    assert pattern.startswith(r"\b(?:") and pattern.endswith(r")\b")
    for alternative in pattern[5:-3].split("|"):
        assert any(hint in alternative.replace(r"\s+", " ") for hint in _NOT_HINTS), alternative
    for text in ("itu bukan jalan kami", "ora  sing RT 4", "cuman lewat", "jarene wis", "mungkin besok", "Bukan"):
        assert bool(_NOT_WORDS.search(text.lower())) <= any(hint in text.lower() for hint in _NOT_HINTS)
