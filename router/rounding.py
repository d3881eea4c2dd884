"""``round`` remembered: the classifier rounds a few dozen scores a message, and ``round(x, n)`` of a float costs
~0.5 us (a correctly rounded decimal conversion), while the same few hundred values come back message after
message (rule weights and their sums)."""

from __future__ import annotations

import builtins
from typing import Any

_round = builtins.round
_CACHE: dict[int, dict[float, float]] = {}
_LIMIT = 65_536  # values remembered per number of digits (then forgotten all at once)


def rounded(number: Any, ndigits: int | None = None) -> Any:
    """``round(number, ndigits)``: the same value and type. Floats other than zero (whose sign a dict would not
    tell apart) are remembered per ``ndigits``."""
    if ndigits is None or number.__class__ is not float or not number:
        return _round(number) if ndigits is None else _round(number, ndigits)
    cache = _CACHE.get(ndigits)
    if cache is None:
        cache = _CACHE[ndigits] = {}
    found = cache.get(number)
    if found is None:
        if len(cache) >= _LIMIT:
            cache.clear()
        found = cache[number] = _round(number, ndigits)
    return found
