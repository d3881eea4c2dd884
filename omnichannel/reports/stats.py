"""Mean, median and p90 of a histogram of whole working days (what the SQL returns)."""

from __future__ import annotations

import math
from collections import Counter


def _nth(items: list[tuple[int, int]], index: int) -> int:
    """The value at ``index`` (0-based) of the sorted sample the histogram stands for."""
    seen = 0
    for value, count in items:
        seen += count
        if index < seen:
            return value
    raise IndexError(index)


def summary(histogram: Counter[int] | dict[int, int]) -> dict[str, float | int | None]:
    """``{"count", "mean", "median", "p90"}``; median of an even count is the mean of the middle two,
    p90 is the nearest-rank percentile (the smallest value at or below which 90 % of the sample lies)."""
    items = sorted((v, c) for v, c in histogram.items() if c > 0)
    n = sum(c for _, c in items)
    if n == 0:
        return {"count": 0, "mean": None, "median": None, "p90": None}
    mean = sum(v * c for v, c in items) / n
    if n % 2:
        median: float = _nth(items, n // 2)
    else:
        median = (_nth(items, n // 2 - 1) + _nth(items, n // 2)) / 2
    p90 = _nth(items, math.ceil(0.9 * n) - 1)
    return {"count": n, "mean": round(mean, 2), "median": median, "p90": p90}


def rate(part: int, whole: int) -> float | None:
    """``part / whole`` rounded to 4 places, None when ``whole`` is 0."""
    return round(part / whole, 4) if whole else None
