"""Floors of the cross-city evaluation on the labelled cities (the seven marked held_out: true are held out).

The figures are what the router reached when this test was written; a change that loses ground on a
city it was not tuned on fails here. Raise the floors when the figures rise.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from router.eval.cities import DEFAULT_CONFIG, cross_city

CITIES = Path(__file__).resolve().parents[1] / "data" / "cities"

# city → (agency, kind, same-complaint F1, same-case F1, most hard-negative merges): floors two points under
# what main reached at the end of stop 24 (issue 13's routing round and fourth and fifth grouping rounds), merges
# as measured; the learned layer of each city is trained on all the others. Raise them when the figures rise.
FLOORS = {
    # HELD OUT (held_out: true; nobody who tuned opened their messages). Surabaya and Makassar measured after
    # every round; Medan and Padang after rounds of earlier stops; Kupang, Mataram and Pekanbaru (written in
    # stop 24) only at their arrival and here. At the start of stop 24 (main with the sixteen-city data, d74d5aa
    # for Mataram and Pekanbaru): Surabaya 0.851 / 0.919 / 0.906 / 0.777 / 3 of 43, Makassar 0.863 / 0.934 / 0.911
    # / 0.810 / 8 of 51, Medan 0.921 / 0.937 / 0.898 / 0.714 / 7 of 47, Padang 0.880 / 0.936 / 0.879 / 0.714 / 7 of
    # 47, Kupang 0.909 / 0.921 / 0.850 / 0.706 / 6 of 59, Mataram 0.930 / 0.946 / 0.886 / 0.725 / 1 of 60, Pekanbaru
    # 0.866 / 0.901 / 0.883 / 0.761 / 7 of 57. Medan's merges went from 7 to 8 in this stop (its floor follows the
    # measurement: nobody may tune on it to win the merge back).
    "Kota Surabaya": (0.83, 0.90, 0.90, 0.81, 3),
    "Kota Makassar": (0.85, 0.91, 0.93, 0.83, 6),
    "Kota Medan": (0.89, 0.92, 0.86, 0.77, 8),
    "Kota Padang": (0.86, 0.92, 0.87, 0.72, 7),
    "Kota Kupang": (0.88, 0.90, 0.82, 0.70, 6),
    "Kota Mataram": (0.91, 0.93, 0.89, 0.76, 1),
    "Kota Pekanbaru": (0.86, 0.90, 0.85, 0.76, 5),
    # TUNING. Bandung and Semarang (the first); Yogyakarta, Denpasar, Palembang, Malang, Banjarmasin, Pontianak
    # (written apart, each untuned first figure in tests/data/README.md); Manado, Balikpapan, Surakarta (written
    # apart in stop 24; untuned first on 06219e3: 0.885 / 0.899 / 0.926 / 0.692 / 2 of 64, 0.921 / 0.917 / 0.887 /
    # 0.756 / 6 of 62, 0.888 / 0.937 / 0.836 / 0.664 / 14 of 67). The hand-written adversarial sets' floors are in
    # test_eval_cities.py. Issue 13's generalisation round (branch h-tune) raised the floors of the tuning cities
    # whose figures rose (still two points under; Semarang's kind, 0.994 -> 0.981, keeps its floor).
    "Kota Bandung": (0.90, 0.94, 0.97, 0.94, 0),
    "Kota Semarang": (0.95, 0.97, 0.98, 0.94, 1),
    "Kota Yogyakarta": (0.90, 0.95, 0.94, 0.86, 1),
    "Kota Denpasar": (0.90, 0.91, 0.83, 0.87, 0),
    "Kota Palembang": (0.88, 0.93, 0.95, 0.90, 0),
    "Kota Malang": (0.90, 0.95, 0.95, 0.91, 1),
    "Kota Banjarmasin": (0.84, 0.93, 0.86, 0.83, 1),
    "Kota Pontianak": (0.88, 0.94, 0.86, 0.77, 1),
    "Kota Manado": (0.87, 0.90, 0.90, 0.80, 0),
    "Kota Balikpapan": (0.90, 0.92, 0.93, 0.86, 0),
    "Kota Surakarta": (0.88, 0.94, 0.92, 0.86, 0),
}


@pytest.fixture(scope="module")
def figures():
    found, _ = cross_city(CITIES, DEFAULT_CONFIG, jobs=os.cpu_count() or 1)
    return {f.city: f for f in found}


@pytest.mark.parametrize("city", sorted(FLOORS))
def test_held_out_city_keeps_its_floors(figures, city):
    f = figures[city]
    agency, kind, complaint, case, merges = FLOORS[city]
    assert f.learned and city not in f.trained_on
    assert f.agency >= agency and f.kind >= kind
    assert f.same_complaint_f1 >= complaint and f.same_case_f1 >= case
    assert f.hard_negative_merges <= merges
