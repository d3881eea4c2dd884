"""router.rounding.rounded gives what round gives, value and type, for every kind of number (it remembers floats)."""

import math

import pytest

from router.rounding import rounded


@pytest.mark.parametrize(("number", "ndigits", "why"), [
    (0.123456789, 3, "a float, remembered"),
    (0.1235, 3, "a tie in decimal that is not one in binary"),
    (2.5, 0, "round half to even"),
    (0.0, 3, "zero: not remembered"),
    (-0.0, 3, "minus zero keeps its sign (a dict would take it for 0.0)"),
    (1, 3, "an int stays an int (a dict would take 1 for 1.0)"),
    (True, 3, "a bool is an int"),
    (float("inf"), 3, "infinity"),
    (1e300, -2, "negative digits"),
    (-1e-300, 6, "a tiny negative float rounds to minus zero"),
    (0.7, None, "no digits: an int"),
])
def test_rounded_is_round(number: float, ndigits: int | None, why: str) -> None:
    for _ in range(2):  # computed, then remembered
        got = rounded(number) if ndigits is None else rounded(number, ndigits)
        want = round(number) if ndigits is None else round(number, ndigits)
        assert type(got) is type(want) and repr(got) == repr(want), why


def test_nan_stays_nan() -> None:
    assert math.isnan(rounded(float("nan"), 3))
