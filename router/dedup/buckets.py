"""Storage of the near-duplicate index: LSH buckets as sorted arrays (CSR) and growable ragged arrays.

The buckets are one sorted array of *distinct* band keys, an offsets array and the slots of every bucket
(sorted by key, then slot), plus a small insert buffer (dict) merged in when it grows. A key is found
through an open-addressing hash directory (``int32`` positions into the distinct keys, linear probing,
at most half full) read from Python through memoryviews: one or two cache misses per key instead of the
~22 of a binary search over millions of keys, and no numpy call per lookup. A probe reads a small bucket
whole and only the newest entries of a crowded one, and reports every bucket's size so that the caller
can weigh rare band keys above common ones.
"""

from __future__ import annotations

from typing import Any

import numpy as np

_NO_KEYS = np.empty(0, dtype=np.uint64)
_NO_DIRECTORY = np.full(1, -1, dtype=np.int32)


def _home(keys: np.ndarray, mask: int) -> np.ndarray:
    """Home position of each key in a directory of ``mask + 1`` entries (same formula as ``Buckets.probe``)."""
    # place keys carry a constant in their low 32 bits: fold the high half in
    return ((keys ^ (keys >> np.uint64(32))) & np.uint64(mask)).astype(np.int64)


# a directory's size is at least this many times its keys (a power of two): at most half full. At 2/3 a probe walked
# ~6 entries on average (Python steps, ~0.13 us each; ~20 us of each lookup's ~30 us), at 1/3 ~2 (~8 us); the
# table costs 4 bytes an entry, up to twice that of a 2/3-full one for some key counts
_SPREAD = 2


def build_directory(ukeys: np.ndarray) -> np.ndarray:
    """An open-addressing table (power-of-two size, linear probing) of positions into ``ukeys``; -1 = empty."""
    n = len(ukeys)
    size = 16
    while size < n * _SPREAD:
        size *= 2
    mask = size - 1
    table = np.full(size, -1, dtype=np.int32)
    home = _home(ukeys, mask)
    pending = np.arange(n, dtype=np.int64)
    step = 0
    # each round every key not yet placed tries the next position of its probe sequence; where several
    # want the same free position the first (lowest index) wins. A key placed at home + k has found
    # home .. home + k - 1 taken, which is what a lookup walking from home relies on.
    while len(pending):
        pos = (home[pending] + step) & mask
        free = table[pos] < 0
        taken, first = np.unique(pos[free], return_index=True)
        table[taken] = pending[free][first]
        pending = pending[table[pos] != pending]
        step += 1
    return table


class Buckets:
    """LSH buckets: distinct sorted keys (hash directory), bucket offsets, slots, and an insert buffer."""

    def __init__(self) -> None:
        self.ukeys = _NO_KEYS
        self.starts = np.zeros(1, dtype=np.int64)
        self.slots = np.empty(0, dtype=np.int32)
        self.directory = _NO_DIRECTORY
        self._clear_buffer()
        self._views()

    def _clear_buffer(self) -> None:
        # key -> its buffered slots, oldest first; a bucket of one is a plain int (most buffered keys are
        # rare ones: no list object for every full garbage collection to walk)
        self.buffer: dict[int, int | list[int]] = {}
        self.buffered = 0

    def _views(self) -> None:
        # memoryviews give Python ints without a numpy call per element
        self._mask = len(self.directory) - 1 if len(self.ukeys) else -1
        self._table, self._keys = memoryview(self.directory), memoryview(self.ukeys)  # type: ignore[arg-type]
        self._starts, self._slots = memoryview(self.starts), memoryview(self.slots)  # type: ignore[arg-type]

    def __len__(self) -> int:
        """Entries in the sorted arrays (the buffer not counted)."""
        return len(self.slots)

    def add(self, keys: list[int], slot: int) -> None:
        """Put ``slot`` in the buckets of ``keys`` (insert buffer)."""
        buffer = self.buffer
        for key in keys:
            bucket = buffer.get(key)
            if bucket is None:
                buffer[key] = slot
            elif bucket.__class__ is int:
                buffer[key] = [bucket, slot]  # type: ignore[list-item]
            else:
                bucket.append(slot)  # type: ignore[union-attr]
        self.buffered += len(keys)

    def remove_from(self, keys: list[int], first_slot: int) -> None:
        """Take slots ``>= first_slot`` out of the buffered buckets of ``keys`` (a rolled-back batch)."""
        for key in keys:
            slots = self.buffer.get(key)
            if slots.__class__ is int:
                slots = [slots]  # type: ignore[list-item]
                self.buffer[key] = slots
            while slots and slots[-1] >= first_slot:  # type: ignore[index]
                slots.pop()  # type: ignore[union-attr]
                self.buffered -= 1
            if slots is not None and not slots:
                del self.buffer[key]

    def probe(self, keys: list[int], whole: int, cap: int) -> list[tuple[int, list[int]]]:
        """(size, slots read) of each non-empty bucket of ``keys``: all its slots when it holds at most
        ``whole``, else its newest ``cap``. Buffered slots are always newer than sorted ones."""
        out: list[tuple[int, list[int]]] = []
        mask, table, ukeys, starts, slots = self._mask, self._table, self._keys, self._starts, self._slots
        get = self.buffer.get
        for key in keys:
            lo = hi = 0
            if mask >= 0:
                pos = (key ^ (key >> 32)) & mask
                while (i := table[pos]) >= 0:
                    if ukeys[i] == key:
                        lo, hi = starts[i], starts[i + 1]
                        break
                    pos = (pos + 1) & mask
            newer = get(key)
            if newer is None:
                fresh = 0
            elif newer.__class__ is int:
                newer, fresh = [newer], 1  # type: ignore[list-item]
            else:
                fresh = len(newer)  # type: ignore[arg-type]
            size = hi - lo + fresh
            if not size:
                continue
            if size <= whole:
                read = slots[lo:hi].tolist()
                if fresh:
                    read += newer  # type: ignore[arg-type]
            elif fresh >= cap:
                read = newer[-cap:]  # type: ignore[index]
            else:
                read = slots[max(lo, hi - cap + fresh):hi].tolist()
                if fresh:
                    read += newer  # type: ignore[arg-type]
            out.append((size, read))
        return out

    def entries(self) -> tuple[np.ndarray, np.ndarray]:
        """Every sorted entry as parallel (key, slot) arrays (for a rebuild)."""
        return np.repeat(self.ukeys, np.diff(self.starts)), self.slots

    def rebuild(self, keys: np.ndarray, slots: np.ndarray, alive: np.ndarray) -> None:
        """Merge the buffer into the sorted arrays, dropping dead slots; sorted by (key, slot)."""
        if self.buffer:
            buckets = [[v] if v.__class__ is int else v for v in self.buffer.values()]
            counts = np.fromiter(map(len, buckets), dtype=np.int64, count=len(buckets))  # type: ignore[arg-type]
            bkeys = np.repeat(np.fromiter(self.buffer, dtype=np.uint64, count=len(buckets)), counts)
            bslots = np.fromiter((s for v in buckets for s in v), dtype=np.int32, count=self.buffered)  # type: ignore[union-attr]
            keys, slots = np.concatenate([keys, bkeys]), np.concatenate([slots, bslots])
        keep = alive[slots]
        keys, slots = keys[keep], slots[keep]
        order = np.argsort(slots, kind="stable")
        keys, slots = keys[order], slots[order]
        order = np.argsort(keys, kind="stable")
        keys, self.slots = keys[order], slots[order]
        if len(keys):
            first = np.empty(len(keys), dtype=bool)
            first[0] = True
            np.not_equal(keys[1:], keys[:-1], out=first[1:])
            heads = np.flatnonzero(first)
            self.ukeys = keys[heads]
            self.starts = np.append(heads, len(keys)).astype(np.int32 if len(keys) < 2**31 else np.int64)
            self.directory = build_directory(self.ukeys)
        else:
            self.ukeys, self.starts, self.directory = _NO_KEYS, np.zeros(1, dtype=np.int64), _NO_DIRECTORY
        self._clear_buffer()
        self._views()

    def nbytes(self) -> int:
        """Bytes held (a buffered entry costs about 70 bytes: dict slot, list slot, int objects)."""
        return (self.ukeys.nbytes + self.starts.nbytes + self.slots.nbytes + self.directory.nbytes
                + 70 * self.buffered)


class Ragged:
    """A growable list of small integer arrays stored as one data array plus offsets."""

    def __init__(self, dtype: Any) -> None:
        self.data = np.zeros(4096, dtype=dtype)
        self.offsets = np.zeros(1025, dtype=np.int64)
        self.n = 0

    def append(self, values: Any) -> None:
        """Add one array (any sequence of ints)."""
        start = int(self.offsets[self.n])
        end = start + len(values)
        while end > len(self.data):
            self.data = np.concatenate([self.data, np.zeros(len(self.data), dtype=self.data.dtype)])
        if self.n + 2 > len(self.offsets):
            self.offsets = np.concatenate([self.offsets, np.zeros(len(self.offsets), dtype=np.int64)])
        if end > start:
            self.data[start:end] = values
        self.n += 1
        self.offsets[self.n] = end

    def get(self, i: int) -> list[int]:
        """The ``i``-th array as a list."""
        return self.data[self.offsets[i]:self.offsets[i + 1]].tolist()

    def truncate(self, n: int) -> None:
        """Forget every array from the ``n``-th on."""
        self.n = n

    def nbytes(self) -> int:
        """Bytes held by the used part."""
        return int(self.offsets[self.n]) * self.data.itemsize + (self.n + 1) * 8
