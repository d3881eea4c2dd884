"""Stop 30's CPU cuts give the same answers as the computations they replace (tables of texts)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml

from router import places

CITIES = Path(__file__).resolve().parents[1] / "data" / "cities"
TUNING = ("bandung", "semarang", "yogyakarta", "pontianak", "manado")

TEXTS = [
    "Jalan berlubang di Jl. Merdeka depan SDN 5, dekat mesjid Al Ikhlas",
    "SD Negeri Jetis 1 banjir, SMP 3 udah libur, SMP 23 kok masih masuk",
    "gang mawar RT 03/RW 05 lampu mati, kantor lurah Sukaluyu tutup",
    "Sei Buah meluap, Jl. Gn. Malang tergenang, depo sampah penuh",
    "selain di dekat pasar, bukan Kampung Beting, jalan rusak juga",
    "",
    "LAMPU JALAN KEBUN BUNGA RT 11 MATI",
    "sampah di perum indah belum diangkut \u212aantor camat",
]


def _city_texts() -> list[str]:
    out = []
    for city in TUNING:
        path = CITIES / city / "routing.jsonl"
        if path.exists():
            out += [json.loads(line)["text"] for line in path.read_text(encoding="utf-8").splitlines()
                    if line.strip()][:150]
    return out


def test_tuning_cities_are_not_held_out():
    for city in TUNING:
        facts = CITIES / city / "city.yaml"
        if facts.exists():
            assert not (yaml.safe_load(facts.read_text(encoding="utf-8")) or {}).get("held_out")


@pytest.mark.parametrize("rounds", [1, 3])
def test_canonical_places_remembered_is_computed(rounds):
    """The remembered answer is the computed one, asked once or again, in and out of the remembered few."""
    texts = TEXTS + _city_texts()
    for _ in range(rounds):
        for i, text in enumerate(texts):
            assert places.canonical_places(text) == places._canonical_places(text)
            # a text asked again after others (as extract_places asks after its snippets)
            earlier = texts[i // 2]
            assert places.canonical_places(earlier) == places._canonical_places(earlier)
    assert len(places._CANONICAL) <= places._CANONICAL_KEPT


def _model():
    from router.classify import _load_model
    from router.config import RoutingConfig

    model = _load_model(RoutingConfig())
    if model is None:
        pytest.skip("no shipped model")
    return model


def test_word_ids_carried_crc_are_those_of_the_strings():
    """Featurizer.word's crc32 carried on from "c:"/"w:" gives the ids of hashing each n-gram string."""
    from router.model import _CHAR_SIZES, Featurizer, _hash
    from router.normalise import normalise

    words = sorted({w for text in TEXTS + _city_texts() for w in normalise(text).split()})
    words += ["", "a", "ab", "abc", "abcd", "jalan😀", "sanés", "<x>"]
    assert len(words) > 500
    featurizer = Featurizer()
    for tok in words:
        padded = f"<{tok}>"
        grams = {f"w:{tok}"}
        for n in _CHAR_SIZES:
            grams.update(f"c:{padded[i:i + n]}" for i in range(max(len(padded) - n + 1, 0)))
        expected = np.array(sorted({_hash(g) for g in grams}), dtype=np.int64)
        found = featurizer.word(tok)
        assert found.dtype == expected.dtype and found.tobytes() == expected.tobytes(), tok


def test_summed_rows_are_the_indexed_sum_bit_for_bit():
    from router.model import _summed

    weights = _model()._weights
    rng = np.random.default_rng(30)
    cases = [rng.integers(0, len(weights), int(rng.integers(1, 120))) for _ in range(400)]
    cases += [np.zeros(0, dtype=np.int64), np.array([7]), [3, 3, 3], list(rng.integers(0, len(weights), 40))]
    for ids in cases:
        expected = weights[ids].sum(axis=0, dtype=np.float64)
        found = _summed(weights, ids)
        assert found.dtype == expected.dtype and found.shape == expected.shape
        assert found.tobytes() == expected.tobytes()


def test_predict_on_tuning_texts_is_the_plain_sum():
    """Model.predict (cached words, carried crc32, _summed) against the plain sums of test_model_predict."""
    from router.normalise import normalise
    from tests.router.test_model_predict import _plain

    model = _model()
    for text in TEXTS + _city_texts()[::3]:
        toks = normalise(text).split()
        assert model.predict(toks) == _plain(model, toks), text


@pytest.mark.parametrize("n", [1, 7, 700, 5000, 12_000, 40_000])
def test_bucket_directory_half_full_finds_what_a_dict_finds(n):
    """The directory is at most half full, and a probe reads for every key (found, missing, buffered) what
    a plain dict of the buckets gives."""
    from router.dedup.buckets import Buckets

    rng = np.random.default_rng(n)
    distinct = np.unique(np.concatenate([
        rng.integers(0, 2**64 - 1, n, dtype=np.uint64),
        (rng.integers(1, 2**32 - 1, n // 3 + 1, dtype=np.uint64) << np.uint64(32)) | np.uint64(0x9E3779B9)]))
    keys = np.repeat(distinct, rng.integers(1, 5, len(distinct)))  # buckets of one to four slots
    slots = rng.permutation(len(keys)).astype(np.int32)
    buckets = Buckets()
    buckets.rebuild(keys, slots, np.ones(len(keys), dtype=bool))
    assert len(buckets.directory) >= 2 * len(buckets.ukeys)
    reference: dict[int, list[int]] = {}
    for key, slot in sorted(zip(keys.tolist(), slots.tolist(), strict=True)):
        reference.setdefault(key, []).append(slot)
    buffered = distinct[: max(1, len(distinct) // 10)].tolist()
    for i, key in enumerate(buffered):
        buckets.add([key], len(keys) + i)
        reference[key].append(len(keys) + i)
    missing = rng.integers(0, 2**64 - 1, 2000, dtype=np.uint64).tolist()
    asked = distinct.tolist()[::3] + missing + buffered
    expected = [(len(reference[k]), reference[k]) for k in asked if k in reference]
    assert buckets.probe(asked, whole=64, cap=8) == expected
