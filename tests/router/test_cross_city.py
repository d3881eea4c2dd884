"""Floors of the cross-city evaluation on the labelled cities (Surabaya, Makassar, Medan and Padang are held out).

The figures are what the router reached when this test was written; a change that loses ground on a
city it was not tuned on fails here. Raise the floors when the figures rise.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from router.eval.cities import DEFAULT_CONFIG, cross_city

CITIES = Path(__file__).resolve().parents[1] / "data" / "cities"

# city → (agency, kind, same-complaint F1, same-case F1, most hard-negative merges): floors two points under
# what main reached at the end of issue 13's third round (bb04b22), merges as measured; the learned layer of
# each city is trained on all the others. Raise them when the figures rise.
FLOORS = {
    # HELD OUT (nobody who tuned opened their messages). Surabaya and Makassar: measured after every round;
    # Medan (written this stop) measured after rounds, never tuned on; Padang (written during round 3) measured
    # only at its arrival and here. At the start of this stop (3353ec7): Surabaya 0.833 / 0.914 / 0.796 / 0.674 /
    # 9 of 43, Makassar 0.856 / 0.916 / 0.810 / 0.695 / 13 of 51, Medan 0.897 / 0.927 / 0.904 / 0.677 / 13 of 47,
    # Padang 0.864 / 0.912 / 0.772 / 0.624 / 8 of 47.
    "Kota Surabaya": (0.82, 0.89, 0.88, 0.75, 3),
    "Kota Makassar": (0.84, 0.90, 0.89, 0.79, 8),
    "Kota Medan": (0.89, 0.91, 0.87, 0.69, 7),
    "Kota Padang": (0.86, 0.91, 0.85, 0.69, 7),
    # TUNING. Bandung and Semarang (the first); Yogyakarta (written apart; untuned first: routing 0.869 / 0.932,
    # grouping 0.780 / 0.606 / 10 of 55); Denpasar and Palembang (untuned first: routing 0.876 / 0.879 and
    # 0.871 / 0.893, grouping 0.761 / 0.748 / 10 of 51 and 0.870 / 0.693 / 8 of 50); Malang, Banjarmasin and
    # Pontianak (grouping only, untuned first: 0.836 / 0.750 / 14 of 58, 0.746 / 0.667 / 14 of 57, 0.687 /
    # 0.575 / 13 of 55). The hand-written adversarial sets' floors are in test_eval_cities.py. Grouping floors of
    # Yogyakarta, Denpasar, Palembang, Malang, Banjarmasin and Pontianak raised by h-group (issue 13, fourth
    # round: 0.968 / 0.870 / 1, 0.859 / 0.893 / 0, 0.971 / 0.870 / 0, 0.977 / 0.932 / 1, 0.859 / 0.841 / 1,
    # 0.884 / 0.799 / 1); agency and kind raised to two points under the routing round of the same stop (h-route:
    # remits' "bukan kewenangan" lists, remit pairs, kinds by sentence structure), Semarang's unchanged. Raised
    # again by h-group2 (fifth round): Yogyakarta case 0.880, Palembang case 0.898, Banjarmasin 0.874 / 0.855.
    "Kota Bandung": (0.90, 0.93, 0.97, 0.94, 0),
    "Kota Semarang": (0.95, 0.97, 0.98, 0.94, 1),
    "Kota Yogyakarta": (0.90, 0.95, 0.94, 0.86, 1),
    "Kota Denpasar": (0.90, 0.90, 0.83, 0.87, 0),
    "Kota Palembang": (0.88, 0.92, 0.95, 0.87, 0),
    "Kota Malang": (0.89, 0.93, 0.95, 0.91, 1),
    "Kota Banjarmasin": (0.83, 0.91, 0.85, 0.83, 1),
    "Kota Pontianak": (0.88, 0.92, 0.86, 0.77, 1),
    # Manado, Balikpapan and Surakarta (written apart, tuning from their arrival; untuned first on 06219e3 in
    # tests/data/README.md): two points under what the two tuning branches reached, merges as measured; grouping
    # raised by h-group2 (issue 13, fifth round: from 0.909 / 0.726 / 2, 0.905 / 0.776 / 6, 0.877 / 0.767 / 15
    # to 0.924 / 0.829 / 0, 0.959 / 0.880 / 0, 0.943 / 0.880 / 0)
    "Kota Manado": (0.87, 0.88, 0.90, 0.80, 0),
    "Kota Balikpapan": (0.90, 0.90, 0.93, 0.86, 0),
    "Kota Surakarta": (0.88, 0.91, 0.92, 0.86, 0),
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
