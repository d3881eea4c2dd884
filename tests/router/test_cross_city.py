"""Floors of the cross-city evaluation on the labelled cities (the fifteen marked held_out: true are held out).

The figures are what the router reached when this test was written; a change that loses ground on a
city it was not tuned on fails here. Raise the floors when the figures rise.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from router.eval.cities import DEFAULT_CONFIG, cross_city

CITIES = Path(__file__).resolve().parents[1] / "data" / "cities"
# the evaluation of thirty-three cities (each city's learned layer trained on the other thirty-two) takes ~12 minutes
# on a 2-core machine, inside the first test that asks for it: more than the suite's 600 s per test
pytestmark = pytest.mark.timeout(1800)

# city → (agency, kind, same-complaint F1, same-case F1, most hard-negative merges): floors two points under
# what main reached at the end of stop 30 (abc4bd8: grouping from h-same30, h-neg30 and h-inc30, tuned on fifteen
# tuning cities with three more as an unread check split), merges as measured, never lower than the floors before —
# except Banda Aceh's same-complaint F1 (0.825 at arrival, 0.800 at the end of stop 27: floor 0.79; 0.818 at the
# ends of stops 29 and 30), Mataram's merges (1 at the end of stop 27, 2 at the end of stop 28, 1 since) and Medan's
# merges (7 at the ends of stops 28 and 29, 8 at the end of stop 30: one look-alike this stop's grouping joins, while
# Ambon, Padang, Palangka Raya and Ternate lose five; nobody looked at which); the learned layer of each city is
# trained on all the others. Raise them when the figures rise.
FLOORS = {
    # HELD OUT (held_out: true; nobody who tuned opened their messages). Measured at the start of stop 26 (main with
    # the twenty-six-city data, 88ccf15) and at its end, never in between. Start: Surabaya 0.857 / 0.933 / 0.924 /
    # 0.833 / 3 of 43, Makassar 0.868 / 0.937 / 0.959 / 0.876 / 6 of 51, Medan 0.907 / 0.950 / 0.881 / 0.795 / 8 of
    # 47, Padang 0.884 / 0.944 / 0.894 / 0.751 / 6 of 47, Kupang 0.906 / 0.921 / 0.852 / 0.742 / 5 of 59, Mataram
    # 0.938 / 0.957 / 0.925 / 0.796 / 1 of 60, Pekanbaru 0.880 / 0.926 / 0.877 / 0.776 / 5 of 57, Ambon 0.902 / 0.945
    # / 0.757 / 0.762 / 13 of 67, Jambi 0.928 / 0.951 / 0.876 / 0.851 / 6 of 63, Kendari 0.902 / 0.955 / 0.961 / 0.895
    # / 8 of 57, Bandar Lampung 0.915 / 0.935 / 0.989 / 0.862 / 11 of 49 (mean of eleven 0.899 / 0.941 / 0.900 /
    # 0.813, 72 of 600 merged; end 0.910 / 0.948 / 0.903 / 0.818, 70 of 600). Stop 27, with the thirty-one cities'
    # data: the thirteen held-out cities at the start (8868122, stop 26's router) 0.904 / 0.947 / 0.897 / 0.791, 76
    # of 702 merged; at the end 0.905 / 0.956 / 0.899 / 0.798, 64 of 702. Stop 28, thirty-three cities: the fifteen
    # held-out cities from stop 27's end (and the two new ones' first figures) 0.904 / 0.956 / 0.896 / 0.781, 75 of 805
    # merged, to 0.905 / 0.955 / 0.898 / 0.789, 72 of 805 at the end (53cb72c). Stop 29: to 0.905 / 0.955 / 0.913 /
    # 0.805, 70 of 805 on ad41e53; 0.905 / 0.955 / 0.911 / 0.805, 70 of 805 at the end (47332b4). Stop 30: to 0.905 /
    # 0.955 / 0.916 / 0.818, 66 of 805 at the end (abc4bd8). Stop 31: 0.905 / 0.955 / 0.916 / 0.820, 66 of 805
    # (6eea6bc). Stop 32: 0.905 / 0.955 / 0.915 / 0.820, 65 of 805 (4d94c3c).
    "Kota Surabaya": (0.84, 0.93, 0.91, 0.83, 3),
    "Kota Makassar": (0.87, 0.94, 0.96, 0.91, 0),
    "Kota Medan": (0.89, 0.94, 0.91, 0.81, 8),
    "Kota Padang": (0.88, 0.94, 0.90, 0.76, 3),
    "Kota Kupang": (0.90, 0.92, 0.85, 0.76, 5),
    "Kota Mataram": (0.93, 0.95, 0.91, 0.81, 1),
    "Kota Pekanbaru": (0.86, 0.93, 0.90, 0.80, 4),
    "Kota Ambon": (0.89, 0.94, 0.82, 0.80, 10),
    "Kota Jambi": (0.91, 0.94, 0.89, 0.87, 5),
    # Kendari and Bandar Lampung were written in stop 26 (their first figures, above, are their start figures).
    "Kota Kendari": (0.89, 0.93, 0.94, 0.89, 7),
    "Kota Bandar Lampung": (0.90, 0.94, 0.98, 0.89, 6),
    # Banda Aceh and Jayapura were written in stop 27; first figures on 182c2d4 (stop 26's router), before any of
    # the stop's changes: Banda Aceh 0.824 / 0.916 / 0.825 / 0.622 / 4 of 52, Jayapura 0.926 / 0.965 / 0.904 /
    # 0.663 / 2 of 50.
    "Kota Banda Aceh": (0.81, 0.89, 0.79, 0.66, 4),
    "Kota Jayapura": (0.90, 0.94, 0.89, 0.72, 2),
    # Palangka Raya and Ternate were written in stop 28; first figures on a2aad1c (stop 27's router) with the
    # thirty-three cities beside them, before any of the stop's router changes: Palangka Raya 0.900 / 0.940 / 0.854 /
    # 0.698 / 6 of 51, Ternate 0.901 / 0.966 / 0.903 / 0.647 / 5 of 52.
    "Kota Palangka Raya": (0.88, 0.92, 0.84, 0.77, 5),
    "Kota Ternate": (0.88, 0.94, 0.92, 0.69, 2),
    # TUNING. Bandung and Semarang (the first); Yogyakarta, Denpasar, Palembang, Malang, Banjarmasin, Pontianak,
    # Manado, Balikpapan, Surakarta, Bogor, Samarinda, Palu and Cirebon (written apart, each untuned first figure in
    # tests/data/README.md). The hand-written adversarial sets' floors are in test_eval_cities.py.
    "Kota Bandung": (0.91, 0.96, 0.98, 0.95, 0),
    "Kota Semarang": (0.95, 0.96, 0.98, 0.94, 1),
    "Kota Yogyakarta": (0.92, 0.96, 0.96, 0.90, 1),
    "Kota Denpasar": (0.92, 0.93, 0.90, 0.89, 0),
    "Kota Palembang": (0.89, 0.93, 0.96, 0.95, 0),
    "Kota Malang": (0.92, 0.95, 0.95, 0.92, 0),
    "Kota Banjarmasin": (0.89, 0.93, 0.93, 0.91, 1),
    "Kota Pontianak": (0.91, 0.94, 0.91, 0.85, 0),
    "Kota Manado": (0.90, 0.94, 0.97, 0.92, 0),
    "Kota Balikpapan": (0.91, 0.94, 0.97, 0.94, 0),
    "Kota Surakarta": (0.89, 0.95, 0.96, 0.92, 0),
    "Kota Bogor": (0.91, 0.92, 0.96, 0.94, 2),
    "Kota Samarinda": (0.91, 0.95, 0.93, 0.91, 2),
    "Kota Palu": (0.90, 0.97, 0.89, 0.80, 3),
    "Kota Cirebon": (0.91, 0.94, 0.93, 0.87, 4),
    # Bengkulu, Tasikmalaya and Gorontalo were written in stop 27 and arrived after its tuning branches had started:
    # nobody read their rows (first figures on 8868122 in tests/data/README.md).
    "Kota Bengkulu": (0.88, 0.90, 0.80, 0.80, 1),
    "Kota Tasikmalaya": (0.93, 0.91, 0.95, 0.90, 0),
    "Kota Gorontalo": (0.88, 0.90, 0.83, 0.81, 1),
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


def test_every_labelled_city_has_floors(figures):
    """A city added to tests/data/cities gets its floors here when it arrives (its first figures in the README)."""
    assert sorted(figures) == sorted(FLOORS)
