"""Near-duplicate index over a sliding window of recent complaints, and the three dedup levels.

*resend* (same person, same channel) and *cross_channel* (same person, linked identity, another channel)
are checked against the person's own recent complaints; *incident* (different citizens, own words) uses
MinHash LSH. The LSH buckets are not datasketch's dict-of-sets (hundreds of bytes per band per entry at
1 M complaints) but one sorted ``uint64`` array of band keys with a parallel ``int32`` slot array, probed
with ``searchsorted`` (O(b log n)), plus a small insert buffer (dict) merged in when it grows. Each bucket
is read newest-first and capped, so a lookup costs the same at 10 k and at 1 M entries. Place keys
(kelurahan, street, RT/RW) with the agency form extra bands: reports of the same thing at the same place
meet even when their wording shares little. Candidates are then verified exactly; a place conflict or an
agency conflict keeps hard negatives apart.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np

from router.dedup_config import DedupConfig
from router.dedup_features import Features, content_similarity, place_similarity, stable_hash

log = logging.getLogger(__name__)

DAY = 86400.0
_MASK32 = np.uint64(0xFFFFFFFF)


@dataclass(slots=True)
class Match:
    """A merge decision: which level, how similar, with which indexed complaint."""

    level: str
    similarity: float
    candidate: int  # complaint id of the matched entry
    root: int  # the complaint it is a follow-up of (resend/cross_channel) or first of its case (incident)
    case_id: int | None

    def explain(self) -> dict[str, Any]:
        """The ``dedup`` part of a complaint's explanation."""
        return {"level": self.level, "similarity": round(self.similarity, 3), "candidate": self.candidate}


@dataclass(slots=True)
class Lookup:
    """What a lookup found: the match (or None) and the closest candidate that was kept apart, with why."""

    match: Match | None
    rejected: dict[str, Any] | None = None

    def explain(self) -> dict[str, Any]:
        """The ``dedup`` explanation: level/similarity/candidate, or null level plus the nearest rejection."""
        if self.match is not None:
            return self.match.explain()
        out: dict[str, Any] = {"level": None, "similarity": None, "candidate": None}
        if self.rejected:
            out["nearest"] = self.rejected
        return out


class _Buckets:
    """LSH buckets: sorted (key, slot) arrays plus an insert buffer; read newest-first, capped."""

    def __init__(self) -> None:
        self.keys = np.empty(0, dtype=np.uint64)
        self.slots = np.empty(0, dtype=np.int32)
        self.buffer: dict[int, list[int]] = {}
        self.buffered = 0

    def add(self, keys: list[int], slot: int) -> None:
        for key in keys:
            self.buffer.setdefault(key, []).append(slot)
        self.buffered += len(keys)

    def remove_from(self, keys: list[int], first_slot: int) -> None:
        for key in keys:
            slots = self.buffer.get(key)
            while slots and slots[-1] >= first_slot:
                slots.pop()
                self.buffered -= 1
            if slots is not None and not slots:
                del self.buffer[key]

    def probe(self, keys: np.ndarray, cap: int) -> list[np.ndarray]:
        """The newest ``cap`` slots of each key's bucket (sorted arrays: one vectorised gather)."""
        parts: list[np.ndarray] = []
        if len(self.keys):
            lo = np.searchsorted(self.keys, keys, "left")
            hi = np.searchsorted(self.keys, keys, "right")
            start = np.maximum(lo, hi - cap)
            lengths = hi - start
            total = int(lengths.sum())
            if total:
                ends = np.cumsum(lengths)
                parts.append(self.slots[np.repeat(start - ends + lengths, lengths) + np.arange(total)])
        if self.buffer:
            get = self.buffer.get
            newer = [slot for key in keys.tolist() for slot in get(key, ())[-cap:]]
            if newer:
                parts.append(np.array(newer, dtype=np.int32))
        return parts

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
        self.keys, self.slots = keys[order], slots[order]
        self.buffer, self.buffered = {}, 0

    def nbytes(self) -> int:
        # a buffered entry costs about 70 bytes (dict slot, list slot, int objects)
        return self.keys.nbytes + self.slots.nbytes + 70 * self.buffered


class _Ragged:
    """A growable list of small integer arrays stored as one data array plus offsets."""

    def __init__(self, dtype: Any) -> None:
        self.data = np.zeros(4096, dtype=dtype)
        self.offsets = np.zeros(1025, dtype=np.int64)
        self.n = 0

    def append(self, values: Any) -> None:
        values = np.asarray(values, dtype=self.data.dtype)
        start = int(self.offsets[self.n])
        end = start + len(values)
        while end > len(self.data):
            self.data = np.concatenate([self.data, np.zeros(len(self.data), dtype=self.data.dtype)])
        if self.n + 2 > len(self.offsets):
            self.offsets = np.concatenate([self.offsets, np.zeros(len(self.offsets), dtype=np.int64)])
        self.data[start:end] = values
        self.n += 1
        self.offsets[self.n] = end

    def get(self, i: int) -> list[int]:
        return self.data[self.offsets[i]:self.offsets[i + 1]].tolist()

    def truncate(self, n: int) -> None:
        self.n = n

    def nbytes(self) -> int:
        return int(self.offsets[self.n]) * self.data.itemsize + (self.n + 1) * 8


class DedupIndex:
    """The sliding-window index and the three-level decision."""

    _COLUMNS = ("_ts", "_alive", "_ids", "_roots", "_cases", "_person_of", "_agency_of", "_channel_of")

    def __init__(self, cfg: DedupConfig) -> None:
        self.cfg = cfg
        rng = np.random.default_rng(cfg.seed)
        self._a = rng.integers(1, 2**63, cfg.num_perm, dtype=np.uint64) | np.uint64(1)
        self._b = rng.integers(0, 2**63, cfg.num_perm, dtype=np.uint64)
        self._mix = rng.integers(1, 2**63, (cfg.bands, cfg.rows), dtype=np.uint64) | np.uint64(1)
        self._salt = rng.integers(0, 2**63, cfg.bands, dtype=np.uint64)
        self._buckets = _Buckets()
        self._n = 0
        cap = 1024
        self._ts = np.zeros(cap, dtype=np.float64)
        self._alive = np.zeros(cap, dtype=bool)
        self._ids = np.zeros(cap, dtype=np.int64)
        self._roots = np.zeros(cap, dtype=np.int64)
        self._cases = np.zeros(cap, dtype=np.int64)
        self._person_of = np.zeros(cap, dtype=np.int64)
        self._agency_of = np.zeros(cap, dtype=np.int16)
        self._channel_of = np.zeros(cap, dtype=np.int16)
        self._content = _Ragged(np.uint32)
        self._places = _Ragged(np.int32)
        self._codes: dict[str, int] = {"": 0}  # agency, channel and place names -> small ints
        self._names: list[str] = [""]
        self._pending: dict[int, tuple[int, list[int]]] = {}  # complaint id -> (slot, band keys) until commit
        self._persons: dict[int, list[int]] = {}
        self._parent: dict[int, int] = {}
        self._newest = 0.0

    def _code(self, name: str | None) -> int:
        if not name:
            return 0
        code = self._codes.get(name)
        if code is None:
            code = self._codes[name] = len(self._names)
            self._names.append(name)
        return code

    # ---- hashing -------------------------------------------------------------------------------------
    def signatures(self, shingles: np.ndarray, offsets: np.ndarray) -> np.ndarray:
        """MinHash signatures (n x num_perm) of n shingle sets given as one array plus n+1 offsets."""
        n = len(offsets) - 1
        out = np.empty((n, self.cfg.num_perm), dtype=np.uint64)
        step = max(1, 262_144 // max(1, self.cfg.num_perm // 8))
        doc = 0
        while doc < n:
            last = int(np.searchsorted(offsets, offsets[doc] + step, "right")) - 1
            last = min(max(last, doc + 1), n)
            chunk = shingles[offsets[doc]:offsets[last]]
            values = (chunk[:, None] * self._a + self._b) >> np.uint64(32)
            out[doc:last] = np.minimum.reduceat(values, offsets[doc:last] - offsets[doc], axis=0)
            doc = last
        return out

    def band_keys(self, f: Features, sig: np.ndarray | None = None) -> list[int]:
        """The LSH band keys of ``f`` plus its place-and-agency blocking keys (cached on ``f``)."""
        if sig is None and f.keys is not None:
            return f.keys
        if sig is None:
            shingles = f.shingles if len(f.shingles) else np.array([0xFFFFFFFF], dtype=np.uint64)
            sig = (shingles[:, None] * self._a + self._b).min(axis=0) >> np.uint64(32)
        rows = sig[: self.cfg.bands * self.cfg.rows].reshape(self.cfg.bands, self.cfg.rows)
        keys = ((rows * self._mix).sum(axis=1) ^ self._salt).tolist()
        agency = f.agency or "-"
        for place in f.places:
            if not place.startswith(("rt:", "rw:")):
                keys.append((stable_hash(f"{place}|{agency}") << 32) | 0x9E3779B9)
        f.keys = keys
        return keys

    # ---- persons -------------------------------------------------------------------------------------
    def person(self, reporter: int | None) -> int | None:
        """The person (union of linked reporters) ``reporter`` belongs to."""
        if reporter is None:
            return None
        parent = self._parent
        root = reporter
        while parent.get(root, root) != root:
            root = parent[root]
        while parent.get(reporter, reporter) != root:
            parent[reporter], reporter = root, parent[reporter]
        return root

    def link(self, a: int, b: int) -> None:
        """Record that reporters ``a`` and ``b`` are the same person (shared phone/email, officer link)."""
        ra, rb = self.person(a), self.person(b)
        if ra is None or rb is None or ra == rb:
            return
        keep, gone = (ra, rb) if ra < rb else (rb, ra)
        self._parent[gone] = keep
        merged = sorted(self._persons.pop(gone, []) + self._persons.get(keep, []))
        if merged:
            self._persons[keep] = merged[-self.cfg.per_person:]

    # ---- decisions -----------------------------------------------------------------------------------
    def lookup(self, f: Features, person_only: bool = False) -> Lookup:
        """Decide whether ``f`` repeats an indexed complaint (resend, cross_channel, incident) or is new.

        ``person_only`` skips the incident level (a message that is not a complaint may still be a
        citizen's follow-up of their own complaint, but never joins someone else's case).
        """
        best: Match | None = None
        rejected: dict[str, Any] | None = None
        person = self.person(f.person)
        own = self._persons.get(person, []) if person is not None else []
        slots = list(reversed(own)) if person_only else [*reversed(own), *self._candidates(f)]
        weight = self.cfg.place_weight
        seen: set[int] = set()
        for slot in slots:
            if slot in seen or not self._alive[slot]:
                continue
            seen.add(slot)
            mine = person is not None and self.person(int(self._person_of[slot])) == person
            if mine:
                level = "resend" if self._names[self._channel_of[slot]] == f.channel else "cross_channel"
            else:
                level = "incident"
            lcfg = getattr(self.cfg, level)
            if abs(f.ts - self._ts[slot]) > lcfg.window_days * DAY:
                continue
            content = content_similarity(f.content, frozenset(self._content.get(slot)))
            both = bool(f.places) and self._places.offsets[slot + 1] > self._places.offsets[slot]
            if (1 - weight) * content + weight < lcfg.threshold if both else content < lcfg.threshold:
                continue  # cannot reach the threshold whatever the places say
            places = self._place_set(slot)
            agency = self._names[self._agency_of[slot]]
            place_score, why = place_similarity(f.places, places) if both else (0.0, None)
            if f.agency and agency and f.agency != agency:
                why = f"different agency ({agency} vs {f.agency})"
            sim = (1 - weight) * content + weight * place_score if both else content
            if why:
                rejected = _nearer(rejected, sim, int(self._ids[slot]), why)
            elif sim < lcfg.threshold:
                rejected = _nearer(rejected, sim, int(self._ids[slot]), "below threshold")
            elif best is None or (mine, sim) > (best.level != "incident", best.similarity):
                best = Match(level, sim, int(self._ids[slot]), int(self._roots[slot]), self._case(slot))
        return Lookup(best, None if best else rejected)

    def _case(self, slot: int) -> int | None:
        return int(self._cases[slot]) or None

    def _place_set(self, slot: int) -> frozenset[str]:
        codes = self._places.get(slot)
        return _place_names(tuple(codes), self._names) if codes else frozenset()

    def _candidates(self, f: Features) -> list[int]:
        keys = np.array(self.band_keys(f), dtype=np.uint64)
        parts = self._buckets.probe(keys, self.cfg.bucket_cap)
        if not parts:
            return []
        slots = parts[0] if len(parts) == 1 else np.concatenate(parts)
        slots = slots[self._alive[slots]]
        if not len(slots):
            return []
        found, counts = np.unique(slots, return_counts=True)
        # most shared bands first, then newest
        order = np.lexsort((-found, -counts))[: self.cfg.max_candidates]
        return found[order].tolist()

    # ---- maintenance ---------------------------------------------------------------------------------
    def add(self, f: Features, complaint_id: int, root: int | None = None, case_id: int | None = None,
            keys: list[int] | None = None) -> int:
        """Index a complaint (kept in the insert buffer until ``commit``); returns its slot."""
        keys = self.band_keys(f) if keys is None else keys
        slot = self._append(f, complaint_id, root, case_id)
        self._buckets.add(keys, slot)
        self._pending[complaint_id] = (slot, keys)
        return slot

    def _append(self, f: Features, complaint_id: int, root: int | None, case_id: int | None) -> int:
        slot = self._n
        if slot == len(self._ts):
            self._grow()
        self._n += 1
        self._ts[slot], self._alive[slot] = f.ts, True
        self._ids[slot], self._roots[slot], self._cases[slot] = complaint_id, root or complaint_id, case_id or 0
        self._person_of[slot] = -1 if f.person is None else f.person
        self._agency_of[slot], self._channel_of[slot] = self._code(f.agency), self._code(f.channel)
        self._content.append(sorted(f.content))
        self._places.append([self._code(p) for p in sorted(f.places)])
        person = self.person(f.person)
        if person is not None:
            own = self._persons.setdefault(person, [])
            own.append(slot)
            if len(own) > self.cfg.per_person:
                del own[0]
        self._newest = max(self._newest, f.ts)
        return slot

    def set_case(self, complaint_id: int, case_id: int) -> None:
        """Record the case a complaint of the current batch opened or joined."""
        pending = self._pending.get(complaint_id)
        if pending is not None:
            self._cases[pending[0]] = case_id

    def mark(self) -> int:
        """A point to roll back to if the transaction that follows fails."""
        return self._n

    def commit(self) -> None:
        """The batch's transaction committed: its entries stay."""
        self._pending.clear()

    def rollback(self, mark: int) -> None:
        """Forget every complaint added since ``mark`` (its transaction was rolled back)."""
        for cid, (slot, keys) in sorted(self._pending.items(), key=lambda item: -item[1][0]):
            if slot < mark:
                continue
            self._buckets.remove_from(keys, slot)
            person = self.person(int(self._person_of[slot])) if self._person_of[slot] >= 0 else None
            own = self._persons.get(person) if person is not None else None
            if own and own[-1] == slot:
                own.pop()
            self._alive[slot] = False
            del self._pending[cid]
        self._n = mark
        self._content.truncate(mark)
        self._places.truncate(mark)

    def expire(self, now: float | None = None) -> int:
        """Drop entries older than the longest window; compact when the insert buffer is large."""
        now = self._newest if now is None else now
        cutoff = now - self.cfg.max_window_days() * DAY
        old = self._alive[: self._n] & (self._ts[: self._n] < cutoff)
        dropped = int(old.sum())
        if dropped:
            self._alive[: self._n][old] = False
        if self.needs_compaction():
            self.compact()
        return dropped

    def needs_compaction(self) -> bool:
        """True when the insert buffer has grown past its share of the sorted arrays."""
        return self._buckets.buffered > max(20_000, self.cfg.compact_ratio * len(self._buckets.keys))

    def compact(self) -> None:
        """Merge the insert buffer into the sorted bucket arrays (numpy sort; releases the GIL)."""
        self._buckets.rebuild(self._buckets.keys, self._buckets.slots, self._alive)

    def bulk_load(self, items: list[tuple[Features, int, int | None, int | None]]) -> None:
        """Index many complaints at once (start-up rebuild): vectorised signatures, one sort."""
        if not items:
            return
        lengths = np.fromiter((max(1, len(f.shingles)) for f, *_ in items), dtype=np.int64, count=len(items))
        offsets = np.zeros(len(items) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        shingles = np.concatenate([f.shingles if len(f.shingles) else np.array([0xFFFFFFFF], dtype=np.uint64)
                                   for f, *_ in items])
        sigs = self.signatures(shingles, offsets)
        rows = sigs[:, : self.cfg.bands * self.cfg.rows].reshape(len(items), self.cfg.bands, self.cfg.rows)
        band = (rows * self._mix).sum(axis=2) ^ self._salt
        first = self._n
        extra_keys: list[int] = []
        extra_slots: list[int] = []
        for f, cid, root, case in items:
            slot = self._append(f, cid, root, case)
            agency = f.agency or "-"
            for place in f.places:
                if not place.startswith(("rt:", "rw:")):
                    extra_keys.append((stable_hash(f"{place}|{agency}") << 32) | 0x9E3779B9)
                    extra_slots.append(slot)
        slots = np.repeat(np.arange(first, self._n, dtype=np.int32), self.cfg.bands)
        keys = np.concatenate([self._buckets.keys, band.reshape(-1), np.array(extra_keys, dtype=np.uint64)])
        slots = np.concatenate([self._buckets.slots, slots, np.array(extra_slots, dtype=np.int32)])
        self._buckets.rebuild(keys, slots, self._alive)

    def __len__(self) -> int:
        return int(self._alive[: self._n].sum())

    def memory_bytes(self) -> int:
        """Approximate bytes held by the index's arrays (the bench also measures the whole process)."""
        per_slot = sum(getattr(self, name).itemsize for name in self._COLUMNS)
        return per_slot * self._n + self._buckets.nbytes() + self._content.nbytes() + self._places.nbytes()

    def _grow(self) -> None:
        for name in self._COLUMNS:
            old = getattr(self, name)
            new = np.zeros(len(old) * 2, dtype=old.dtype)
            new[: len(old)] = old
            setattr(self, name, new)


def _place_names(codes: tuple[int, ...], names: list[str]) -> frozenset[str]:
    return frozenset(names[c] for c in codes)


def _nearer(current: dict[str, Any] | None, sim: float, candidate: int, why: str) -> dict[str, Any]:
    if current is None or sim > current["similarity"]:
        return {"similarity": round(sim, 3), "candidate": candidate, "kept_apart": why}
    return current
