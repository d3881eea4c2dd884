"""Model.predict's cached sums give the very probabilities of the plain sums (bit for bit)."""

import math

import numpy as np
import pytest

from router.classify import _load_model
from router.config import RoutingConfig
from router.model import _ends, _softmax
from router.normalise import normalise


def _plain(model, toks: list[str]) -> tuple[dict[str, float], dict[str, float]]:
    """predict as written before the caches of the end words and the stacking by concatenate."""
    vectors, count = [], 0
    for tok in dict.fromkeys(toks):
        ids = model.featurizer.word(tok)
        vectors.append(model._weights[ids].sum(axis=0, dtype=np.float64))
        count += len(ids)
    if toks:
        vectors.append(model._weights[_ends(toks)].sum(axis=0, dtype=np.float64))
        count += 2
    if len(toks) > 1:
        bigrams = [model._pair(pair) for pair in zip(toks, toks[1:], strict=False)]
        vectors.append(model._weights[bigrams].sum(axis=0, dtype=np.float64))
        count += len(bigrams)
    logits = (np.add.reduce(vectors) * (1.0 / math.sqrt(max(count, 1))) + model._bias).tolist()
    return _softmax(logits[:model._split], model.kind), _softmax(logits[model._split:], model.agency)


@pytest.mark.parametrize(("text", "why"), [
    ("jalan berlubang di depan sekolah sudah dua minggu", "a complaint"),
    ("jalan", "one word: its first and last word are one"),
    ("mohon info jadwal vaksin di puskesmas terdekat terima kasih", "a question closed by thanks"),
    ("jalan jalan jalan rusak rusak", "repeated words (counted once) and repeated bigrams"),
    ("Selamat siang, saya mau melaporkan jalan berlubang di Jl. Merdeka nomor 17", "the IMAP bench's mail"),
    ("xqzvw plorf 12345", "words the model never saw"),
])
def test_predict_is_the_plain_sum(text: str, why: str) -> None:
    model = _load_model(RoutingConfig())
    if model is None:
        pytest.skip("no shipped model")
    toks = normalise(text).split()
    for _ in range(2):  # computed, then from the caches
        assert model.predict(toks) == _plain(model, toks), why


@pytest.mark.parametrize("tok", ["jalan", "berlubang", "rt", "a", "", "03", "kec.", "ngarsopuro", "jl2", "<x>",
                                 "sanés", "kaké", "müller", "ŋ", "jalan😀"])
def test_word_ids_hashed_as_bytes_are_those_of_the_strings(tok):
    """Featurizer.word hashes an ASCII word's n-grams as bytes: the ids of hashing each n-gram string."""
    from router.model import _CHAR_SIZES, Featurizer, _hash

    padded = f"<{tok}>"
    grams = {f"w:{tok}"}
    for n in _CHAR_SIZES:
        grams.update(f"c:{padded[i:i + n]}" for i in range(max(len(padded) - n + 1, 0)))
    expected = np.array(sorted({_hash(g) for g in grams}), dtype=np.int64)
    found = Featurizer().word(tok)
    assert found.dtype == expected.dtype and found.tolist() == expected.tolist()


def test_top_keeps_ties_in_order():
    from router.classify import _top

    probabilities = {"a": 0.1, "b": 0.3, "c": 0.3, "d": 0.05, "e": 0.3, "f": -0.0, "g": 0.0}
    assert list(_top(probabilities)) == ["b", "c", "e"]
    assert list(_top(probabilities, 7)) == ["b", "c", "e", "a", "d", "f", "g"]
    assert list(_top({"x": 0.0, "y": -0.0, "z": 0.0}, 3)) == ["x", "y", "z"]
