"""features._starts_sentence reads what the _SENTENCE_END pattern says, looking back over spaces only (searching the
pattern from the text's start for every word took time quadratic in a long mail's length)."""

from __future__ import annotations

import random

from router.dedup.features import _SENTENCE_END, _starts_sentence, rare_words


def test_it_agrees_with_the_pattern_everywhere_in_generated_texts():
    rng = random.Random(5)
    pieces = list("abc ABC.!?:\n\t\"'(),-") + ["  ", "Jalan ", "Pasar "]
    for _ in range(3000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 30)))
        for start in range(len(text) + 1):
            assert _starts_sentence(text, start) == bool(_SENTENCE_END.search(text, 0, start)), (text, start)


def test_a_name_inside_a_sentence_is_cased_and_one_opening_a_sentence_is_not():
    rare, cased = rare_words("Parkir liar di depan Ngarsopuro. Ngarsopuro macet.\nTolong ditertibkan", [])
    assert "ngarsopuro" in rare and "ngarsopuro" in cased
    rare, cased = rare_words("Ngarsopuro macet total.  Ngarsopuro lagi", [])
    assert "ngarsopuro" in rare and "ngarsopuro" not in cased
