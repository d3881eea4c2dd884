"""Address parsing: the shortcut for ``Name <addr>`` answers what the stdlib parser answers."""

from __future__ import annotations

import random
from email.utils import getaddresses

from connectors.email.address import _SIMPLE, parse_addresses


def _candidates(count: int) -> list[str]:
    rng = random.Random(7)
    out = []
    for _ in range(count):
        words = [rng.choice(["Budi", "A1", "x", "Warga 12", "9", "A.", "O'Neil", "\"Q\""]) for _ in range(rng.randint(0, 3))]
        local = rng.choice(["a", "a.b", "a_b", "a+b", "a-b", "A.B.C", "a..b", ".a", "a.", "a b", "a\"b"])
        domain = rng.choice(["x.id", "x-y.co.id", "x", "-x.id", "X.ID", "x..id", "[1.2.3.4]"])
        opener = rng.choice([" <", "<", "  <", " < "])
        address = f"{local}@{domain}"
        out.append(f"{' '.join(words)}{opener}{address}>" if words else rng.choice([address, f"<{address}>"]))
    return out


def test_shortcut_agrees_with_getaddresses():
    shortcut = 0
    for value in ["Warga 5 <warga5@example.id>", "warga5@example.id", "<a.b@c.d>", *_candidates(20_000)]:
        simple = _SIMPLE.fullmatch(value)
        if simple:
            shortcut += 1
            assert [(simple.group(1) or "", simple.group(2))] == getaddresses([value]), value
    assert shortcut > 1000


def test_shortcut_and_stdlib_paths_give_the_same_pairs():
    assert parse_addresses("Budi Santoso <Budi@Example.ID>") == (("Budi Santoso", "budi@example.id"),)
    assert parse_addresses('"Santoso, Budi" <budi@example.id>') == (("Santoso, Budi", "budi@example.id"),)
