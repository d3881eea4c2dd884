"""Storage of the near-duplicate index: LSH buckets as sorted arrays (CSR) and growable ragged arrays.

The buckets are one sorted array of *distinct* band keys, an offsets array and the slots of every bucket
(sorted by key, then slot), plus a small insert buffer (dict) merged in when it grows. A probe is one
``searchsorted`` over the distinct keys (about a quarter of all entries, so fewer cache misses than
searching every entry twice) and one vectorised gather of the newest ``cap`` slots of each bucket.
"""

from __future__ import annotations

from typing import Any

import numpy as np

_NO_KEYS = np.empty(0, dtype=np.uint64)


class Buckets:
    """LSH buckets: distinct sorted keys, bucket offsets, slots; read newest-first, capped."""

    def __init__(self) -> None:
        self.ukeys = _NO_KEYS
        self.starts = np.zeros(1, dtype=np.int64)
        self.slots = np.empty(0, dtype=np.int32)
        self.buffer: dict[int, list[int]] = {}
        self.buffered = 0

    def __len__(self) -> int:
        """Entries in the sorted arrays (the buffer not counted)."""
        return len(self.slots)

    def add(self, keys: list[int], slot: int) -> None:
        """Put ``slot`` in the buckets of ``keys`` (insert buffer)."""
        buffer = self.buffer
        for key in keys:
            bucket = buffer.get(key)
            if bucket is None:
                buffer[key] = [slot]
            else:
                bucket.append(slot)
        self.buffered += len(keys)

    def remove_from(self, keys: list[int], first_slot: int) -> None:
        """Take slots ``>= first_slot`` out of the buffered buckets of ``keys`` (a rolled-back batch)."""
        for key in keys:
            slots = self.buffer.get(key)
            while slots and slots[-1] >= first_slot:
                slots.pop()
                self.buffered -= 1
            if slots is not None and not slots:
                del self.buffer[key]

    def probe(self, keys: np.ndarray, cap: int, key_list: list[int] | None = None) -> list[np.ndarray]:
        """The newest ``cap`` slots of each key's bucket (one searchsorted, one vectorised gather)."""
        parts: list[np.ndarray] = []
        ukeys = self.ukeys
        if len(ukeys):
            pos = np.searchsorted(ukeys, keys)
            np.minimum(pos, len(ukeys) - 1, out=pos)
            hi = self.starts[pos + 1]
            lo = np.maximum(self.starts[pos], hi - cap)
            lengths = np.where(ukeys[pos] == keys, hi - lo, 0)
            ends = np.cumsum(lengths)
            total = int(ends[-1]) if len(ends) else 0
            if total:
                parts.append(self.slots[np.repeat(lo - ends + lengths, lengths) + np.arange(total)])
        if self.buffer:
            get = self.buffer.get
            newer = [slot for key in (key_list if key_list is not None else keys.tolist())
                     for slot in get(key, ())[-cap:]]
            if newer:
                parts.append(np.array(newer, dtype=np.int32))
        return parts

    def entries(self) -> tuple[np.ndarray, np.ndarray]:
        """Every sorted entry as parallel (key, slot) arrays (for a rebuild)."""
        return np.repeat(self.ukeys, np.diff(self.starts)), self.slots

    def rebuild(self, keys: np.ndarray, slots: np.ndarray, alive: np.ndarray) -> None:
        """Merge the buffer into the sorted arrays, dropping dead slots; sorted by (key, slot)."""
        if self.buffer:
            bkeys = np.fromiter((k for k, v in self.buffer.items() for _ in v), dtype=np.uint64, count=self.buffered)
            bslots = np.fromiter((s for v in self.buffer.values() for s in v), dtype=np.int32, count=self.buffered)
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
            self.starts = np.append(heads, len(keys)).astype(np.int64)
        else:
            self.ukeys, self.starts = _NO_KEYS, np.zeros(1, dtype=np.int64)
        self.buffer, self.buffered = {}, 0

    def nbytes(self) -> int:
        """Bytes held (a buffered entry costs about 70 bytes: dict slot, list slot, int objects)."""
        return self.ukeys.nbytes + self.starts.nbytes + self.slots.nbytes + 70 * self.buffered


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
