"""Floors of the cross-city evaluation on the labelled cities (Surabaya is held out from tuning).

The figures are what the router reached when this test was written; a change that loses ground on a
city it was not tuned on fails here. Raise the floors when the figures rise.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from router.eval.cities import DEFAULT_CONFIG, cross_city

CITIES = Path(__file__).resolve().parents[1] / "data" / "cities"

# held-out city → (agency, kind, same-complaint F1, same-case F1, most hard-negative merges)
FLOORS = {
    # same-complaint F1 fell from 0.09 / 0.078 with the email branch's stricter resend rule (threshold
    # 0.60, the reporter's own name no longer counts as content): these cities' resends are mostly
    # follow-ups in other words, which neither threshold catches (issue 13, item 7)
    "Kota Surabaya": (0.83, 0.91, 0.05, 0.25, 2),
    "Kota Bandung": (0.88, 0.90, 0.03, 0.33, 0),
    "Kota Semarang": (0.96, 0.98, 0.92, 0.79, 3),
    # written apart and added untuned; first recorded at 0.856 / 0.916 / 0.085 / 0.286 / 3 of 51
    "Kota Makassar": (0.85, 0.91, 0.08, 0.28, 3),
}


@pytest.fixture(scope="module")
def figures():
    found, _ = cross_city(CITIES, DEFAULT_CONFIG)
    return {f.city: f for f in found}


@pytest.mark.parametrize("city", sorted(FLOORS))
def test_held_out_city_keeps_its_floors(figures, city):
    f = figures[city]
    agency, kind, complaint, case, merges = FLOORS[city]
    assert f.learned and city not in f.trained_on
    assert f.agency >= agency and f.kind >= kind
    assert f.same_complaint_f1 >= complaint and f.same_case_f1 >= case
    assert f.hard_negative_merges <= merges
