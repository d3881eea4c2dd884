"""Floors of the cross-city evaluation on the labelled cities (Surabaya and Makassar are held out from tuning).

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
    # issue 13 item 7 (grouping in citizens' words, branch `grouping`): tuned on Semarang and Bandung only;
    # Surabaya and Makassar were measured once, at the end: same-complaint F1 0.056 → 0.796 and 0.085 →
    # 0.810, same-case F1 0.251 → 0.674 and 0.286 → 0.695 — and hard-negative merges rose from 2 to 9 of 43
    # and from 3 to 13 of 51. The ceilings below record that regression; they are not a target.
    # Tried after it: incident 0.50, place 0.2, problem 0.1 (the only setting with no look-alike merged in
    # either tuning city) merged 4 of 43 and 4 of 51 but fell to same-case F1 0.420 / 0.598 on the held-out
    # cities, 0.690 / 0.797 on the tuning ones, and no longer joined three citizens' report of one incident
    # in the hand-written pipeline and grouping tests; so the weights above stay.
    "Kota Surabaya": (0.83, 0.91, 0.78, 0.65, 9),
    # Generalising vetoes (branch h-group): tuned on Bandung, Semarang, Kota Yogyakarta (a third tuning city,
    # written apart; its untuned figure was 0.780 / 0.606 / 10 of 55 merged) and the hand-written adversarial
    # sets tests/data/dedup_adversarial*.jsonl (floors in test_eval_cities.py). Routing (branch h-route):
    # question rules, kind markers in everyday words, landmark words, trees at risk and people at traffic
    # lights, tuned on Bandung, Semarang and then Yogyakarta (untuned there first: 0.869 / 0.932).
    "Kota Bandung": (0.91, 0.95, 0.99, 0.96, 0),
    "Kota Semarang": (0.97, 0.99, 0.98, 0.95, 1),
    # (agency 0.910 -> 0.896 once Denpasar and Palembang's routing rows join the learned layer's training set:
    # the same code with --exclude denpasar --exclude palembang gives 0.910 / 0.959)
    "Kota Yogyakarta": (0.89, 0.95, 0.96, 0.84, 1),
    # Tuning cities from a70ddb2/3a93282 (written apart, like Yogyakarta). Untuned first: routing Denpasar
    # 0.876 / 0.879, Palembang 0.871 / 0.893; grouping Denpasar 0.761 / 0.748 / 10 of 51 merged, Palembang
    # 0.870 / 0.693 / 8 of 50. Branches h-route2 and h-group2 tuned on them.
    "Kota Denpasar": (0.87, 0.88, 0.85, 0.83, 0),
    "Kota Palembang": (0.86, 0.92, 0.94, 0.77, 0),
    # Tuning cities for grouping from h-group3 (written apart by three writers; round 3 tuned on them one at a
    # time). Untuned (this branch's rules when they arrived, d058711): Malang 0.836 / 0.750 / 14 of 58 merged,
    # Banjarmasin 0.746 / 0.667 / 14 of 57, Pontianak 0.687 / 0.575 / 13 of 55. Agency/kind as measured, untuned.
    "Kota Malang": (0.88, 0.92, 0.93, 0.86, 1),
    "Kota Banjarmasin": (0.81, 0.88, 0.81, 0.76, 4),
    "Kota Pontianak": (0.86, 0.91, 0.78, 0.68, 4),
    "Kota Makassar": (0.85, 0.91, 0.79, 0.67, 13),
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
