"""Stop 30's CPU cuts give the same answers as the computations they replace (tables of texts)."""

from __future__ import annotations

import json
from pathlib import Path

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
