"""Near-duplicate index over a sliding window of recent complaints, and the three dedup levels.

*resend* (same person, same channel) and *cross_channel* (same person, linked identity, another channel)
are checked against the person's own recent complaints; *incident* (different citizens, own words) uses
MinHash LSH. The LSH buckets are not datasketch's dict-of-sets (hundreds of bytes per band per entry at
1 M complaints) but sorted arrays behind a hash directory plus a small insert buffer (``dedup_buckets``).
A lookup reads small buckets whole and only the newest entries of crowded ones, and ranks what it read
by shared buckets weighed by their rarity, so it costs about the same at 10 k and at 1 M entries without
letting crowded buckets hide an older exact source. Place keys (kelurahan, street, RT/RW) with the agency
form extra bands: reports of the same thing at the same place meet even when their wording shares little.
Candidates are then verified exactly; a place conflict or an agency conflict keeps hard negatives apart.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from operator import is_
from typing import Any

import numpy as np

from router.dedup.buckets import Buckets, Ragged
from router.dedup.concepts import (
    AGAIN,
    ALSO,
    AREA_CLASSES,
    EVENT,
    FOLLOW,
    FRESH,
    HABITUAL,
    HIGH_SHIFT,
    LASTING,
    OTHER,
    PLACELESS_CLASSES,
    RECUR,
    SELF_REF,
    SETTLED,
    SETTLED_BUT,
    SHORT,
    STATES,
    channel_kind,
    class_bit,
    different_states,
    local_days,
)
from router.dedup.config import DedupConfig
from router.dedup.features import (
    ANOTHER_SPOT,
    Features,
    house_conflict,
    mentioned,
    name_hashes,
    parse_places,
    parsed_similarity,
    stable_hash,
)

log = logging.getLogger(__name__)

_FLOOD = class_bit("flood")
_FIRE = class_bit("fire")  # (a fire is an event too: out within the day, told as "tadi malam", "barusan")
_SEWAGE = class_bit("sewage")  # (waste water that overflows reads as a flood too)

DAY = 86400.0


@dataclass(slots=True)
class Match:
    """A merge decision: which level, how similar, with which indexed complaint."""

    level: str
    similarity: float
    candidate: int  # complaint id of the matched entry
    root: int  # the complaint it is a follow-up of (resend/cross_channel) or first of its case (incident)
    case_id: int | None
    slot: int = -1  # the matched entry's slot (``add(joined=…)`` files the new entry under its case's opener)
    identity: bool = False  # cross_channel through names/handles and a self-reference, not a shared contact

    def explain(self) -> dict[str, Any]:
        """The ``dedup`` part of a complaint's explanation."""
        out = {"level": self.level, "similarity": round(self.similarity, 3), "candidate": self.candidate}
        if self.identity:
            out["linked_by"] = "name and self-reference"
        return out


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


class DedupIndex:
    """The sliding-window index and the three-level decision."""

    _COLUMNS = ("_ts", "_alive", "_ids", "_roots", "_cases", "_person_of", "_agency_of", "_channel_of",
                "_prev_own", "_problems_of", "_problems_hi", "_flags_of", "_opener_of")

    def __init__(self, cfg: DedupConfig) -> None:
        self.cfg = cfg
        rng = np.random.default_rng(cfg.seed)
        self._a = rng.integers(1, 2**63, cfg.num_perm, dtype=np.uint64) | np.uint64(1)
        self._b = rng.integers(0, 2**63, cfg.num_perm, dtype=np.uint64)
        self._mix = rng.integers(1, 2**63, (cfg.bands, cfg.rows), dtype=np.uint64) | np.uint64(1)
        self._salt = rng.integers(0, 2**63, cfg.bands, dtype=np.uint64)
        self._buckets = Buckets()
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
        self._prev_own = np.zeros(cap, dtype=np.int32)  # the same person's previous slot, -1 = none
        self._problems_of = np.zeros(cap, dtype=np.int64)  # problem class bit masks: bits 0..63
        self._problems_hi = np.zeros(cap, dtype=np.int64)  # … and bits 64..126 (concepts.HIGH_SHIFT), shifted down
        self._flags_of = np.zeros(cap, dtype=np.int16)  # reference flags
        self._opener_of = np.zeros(cap, dtype=np.int32)  # slot of the first complaint of the entry's group
        self._content = Ragged(np.uint32)
        self._ident = Ragged(np.uint32)  # identity keys of the sender (name words, handle prefixes)
        self._denied = Ragged(np.uint32)  # content hashes of what the text says it is not ("bukan galian")
        self._places = Ragged(np.int32)
        self._codes: dict[str, int] = {"": 0}  # agency, channel and place names -> small ints
        self._names: list[str] = [""]
        self._pending: dict[int, tuple[int, list[int]]] = {}  # complaint id -> (slot, band keys) until commit
        # person -> their newest slot; older ones through _prev_own (plain ints: no list per person for
        # every garbage collection to walk)
        self._last_own: dict[int, int] = {}
        self._parent: dict[int, int] = {}
        self._newest = 0.0
        self._place_sets: dict[tuple[int, ...], dict[str, tuple[str, ...]]] = {}
        self._view_cache: tuple[tuple[np.ndarray, ...], tuple[memoryview, ...]] | None = None  # (_views)
        self._levels = {name: (getattr(cfg, name).threshold, getattr(cfg, name).window_days * DAY)
                        for name in ("resend", "cross_channel", "incident")}

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
        keys += place_keys(f) + rare_keys(f)
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
        merged = sorted(self._own(gone) + self._own(keep))[-self.cfg.per_person:]
        self._last_own.pop(gone, None)
        if merged:
            previous = -1
            for slot in merged:
                self._prev_own[slot], previous = previous, slot
            self._last_own[keep] = merged[-1]

    def _own(self, person: int | None) -> list[int]:
        """The person's newest ``per_person`` slots, newest first."""
        slot = self._last_own.get(person, -1) if person is not None else -1
        if slot < 0:
            return []
        prev = memoryview(self._prev_own)  # type: ignore[arg-type]
        own = [slot]
        for _ in range(self.cfg.per_person - 1):
            slot = prev[slot]
            if slot < 0:
                break
            own.append(slot)
        return own

    # ---- decisions -----------------------------------------------------------------------------------
    def lookup(self, f: Features, person_only: bool = False) -> Lookup:
        """Decide whether ``f`` repeats an indexed complaint (resend, cross_channel, incident) or is new.

        ``person_only`` skips the incident level (a message that is not a complaint may still be a
        citizen's follow-up of their own complaint, but never joins someone else's case).
        """
        own = self._own(self.person(f.person))
        if not person_only:
            rare = self._rare(f)
            # a text that refers back to its writer's report ("Sehubungan pesan WhatsApp saya …") is checked
            # against the newest messages of the accounts its name meets too, not only the closest in words
            linked = self._linked(f) if f.flags & SELF_REF else []
            return self.verify(f, own + self._candidates(f) + sorted(rare, reverse=True) + linked, rare=rare)
        # "saya Yuni yang tadi WA, kasusnya nambah satu": not a complaint, but perhaps the same citizen's
        # follow-up from another account, linked by name as a complaint would be (never another's case)
        return self.verify(f, own + self._linked(f), incident=False)

    def _linked(self, f: Features) -> list[int]:
        """The newest slots whose sender's identity keys meet ``f``'s (a name, a handle): another account."""
        if not (f.ident_probe and self.cfg.identity_links):
            return []
        keys = [(k << 32) | 0x7F4A7C15 for k in f.ident_probe]
        found = {slot for _, slots in self._buckets.probe(keys, self.cfg.bucket_whole, self.cfg.bucket_cap)
                 for slot in slots}
        return sorted(found, reverse=True)[: self.cfg.max_candidates]

    def _names_in(self, f: Features, lo: int, hi: int, kinds: tuple[str, ...] | None = None) -> bool:
        """True when every word of one of ``f``'s named places (of ``kinds``, when given) is among the content
        words of slot ``lo:hi``."""
        words = set(self._content.data[lo:hi].tolist())
        places = f.places if kinds is None else [key for key in f.places if key.startswith(kinds)]
        return any(name <= words for name in name_hashes(places))

    def _rare(self, f: Features) -> set[int]:
        """The alive slots that share with ``f`` a word no lexicon knows, written as a name (a capital inside a
        sentence, or a place's name) on at least one side, that at most ``_RARE_MAX`` cases in the window
        use: a place or a thing two citizens name alike without a keyword ("Ngarsopuro", "prapatan Tugu")."""
        if not f.rare:
            return set()
        keys = [_rare_key("r", word) for word in f.cased] + [_rare_key("R", word) for word in f.rare]
        alive, cases, roots = memoryview(self._alive), memoryview(self._cases), memoryview(self._roots)  # type: ignore[arg-type]
        found: set[int] = set()
        for size, slots in self._buckets.probe(keys, self.cfg.bucket_whole, self.cfg.bucket_cap):
            if size > self.cfg.bucket_whole:
                continue  # only the newest slots of a crowded bucket are read: a word that many use is no name
            live = [slot for slot in slots if alive[slot]]
            # (counted by case: many reports of one incident do not make its place's name a common word)
            if len({cases[slot] or -roots[slot] for slot in live}) <= _RARE_MAX:
                found.update(live)
        return found

    def verify(self, f: Features, slots: list[int], incident: bool = True,
               rare: set[int] | frozenset[int] = frozenset()) -> Lookup:
        """The decision among ``slots`` only (in order: on equal similarity the first wins); also for benches.
        Without ``incident``, only the sender's own complaints (or another account's, linked by name) match.

        A candidate is kept apart by a conflicting place (street, numbered gang, landmark of one kind, school
        level and number, RT/RW, kelurahan, side "wetan/kulon", house number for a problem that does not
        spread), by problem classes that are both known and share none, by another state of one thing (a
        risk vs the event, out vs badly timed), by another agency where no problem class is shared, and by a
        recurrence ("banjir lagi") some days after it. Another citizen's complaint joins a case only at a
        place both name (kelurahan or finer; the kecamatan or RW for an area event). Otherwise:

        * the sender's own complaint (resend, cross_channel) is the same complaint when the texts say the same
          thing (content similarity at the level's threshold) or name the same problem class, or when the
          new one is a reminder (names no problem but the place, or is a bare "[foto] belum ada perbaikan"),
          unless it says it adds another complaint ("sekalian …", "giliran …");
        * another sender's complaint on another channel is the same citizen's (cross_channel) when their
          names or handles meet and the message refers back to an earlier report or names the same problem;
        * otherwise it joins the case (incident) when wording, place and problem class together reach the
          incident threshold.
        """
        if not slots:
            return Lookup(None, None)
        person = self.person(f.person)
        cfg = self.cfg
        # per-slot reads through memoryviews: a dozen slots cost less than a dozen numpy gathers
        alive, times, ids, persons, channels, agencies, problems, openers, flags_of, c_off, content_data, p_off, \
            place_data, i_off, ident_data, d_off, denied_data, roots, problems_hi = self._views()
        own_roots: set[int] = set()  # the complaints the sender's own messages on this channel belong to
        own_slots: list[int] = []  # the sender's own messages among ``slots``, in order
        f_denied = f.negated
        # an alive slot's person always has an entry in _last_own: a person without one matches nobody
        check_person = person is not None and person in self._last_own
        names, levels = self._names, self._levels
        w_place, w_problem, unknown = cfg.place_weight, cfg.problem_weight, cfg.unknown_problem
        w_content = max(0.0, 1.0 - w_place - w_problem)
        content, f_places, f_agency, ts, f_channel = f.content, f.places, f.agency, f.ts, f.channel
        f_states, probe, f_mentions = f.problems, f.ident_probe, f.mentions
        f_problems = f_states & ~STATES  # the classes; the states only say how the thing is wrong
        f_flags = f.flags
        # "banjir lagi" is a new occurrence; "meluap lagi, udah seminggu lebih" is the same one going on
        again, self_ref = f_flags & AGAIN and not f_flags & LASTING, f_flags & SELF_REF
        recurrence = cfg.recurrence_days * DAY
        fresh_event = f_flags & FRESH and (f_states & EVENT or f_problems & _FIRE) and \
            not f_flags & (FOLLOW | SELF_REF | LASTING)
        link_ids = cfg.identity_links and bool(probe)
        refers, refers_days = f.refers, f.refers_days
        n_content = len(content)
        f_parsed: dict[str, tuple[str, ...]] | None = None
        compared: dict[int, tuple[dict[str, tuple[str, ...]], tuple[float, str | None]]] = {}
        bounded: dict[int, str | None] = {}  # opener slot → why its places keep f apart (None: they do not)
        best: Match | None = None
        # (pointed to, of the day it gives, rank, names its problem when pointed to, similarity): a message on the channel
        # the text says the
        # earlier report went to comes first ("barusan udah isi form pengaduan juga" is the form's report, not the
        # writer's other post on this channel), and of those, one of the same problem ("sudah lapor via WA" about
        # the wifi is not the WA "satu lagi, lampu taman … ini beda ya sama wifi nya")
        best_key: tuple[int, int, int, int, float] = (-1, -1, -1, -1, 0.0)
        rejected: dict[str, Any] | None = None
        for slot in dict.fromkeys(slots):  # each slot once, first position kept
            if not alive[slot]:
                continue
            mine = check_person and self.person(persons[slot]) == person
            same_channel = names[channels[slot]] == f_channel
            linked = False
            if mine:
                level = "resend" if same_channel else "cross_channel"
                own_slots.append(slot)
                if same_channel:
                    own_roots.add(roots[slot])
            elif link_ids and not same_channel and i_off[slot + 1] > i_off[slot] and \
                    not probe.isdisjoint(ident_data[i_off[slot]:i_off[slot + 1]].tolist()):
                level, linked = "cross_channel", True
            else:
                level = "incident"
            threshold, window = levels[level]
            age = ts - times[slot]
            if abs(age) > window:
                continue
            if f.flags & OTHER and not (mine and self_ref):
                rejected = _nearer(rejected, 0.0, ids[slot], "the text says it is another one")
                continue
            if (again or (f_flags & SHORT and f_flags & AGAIN and age >= _WEEK)) and age >= recurrence and \
                    not (self_ref and level != "incident") and not (mine and flags_of[slot] & HABITUAL and age < _WEEK):
                # ("penuh lagi, sudah 3 hari tidak diangkut" a week or more after a report: those days are of
                # another occurrence)
                # (not the writer's own report it points back to: "saya yang kirim surat …, tadi ada truk
                # terguling lagi" is more of that complaint; nor the writer's own report of a habit, "kelotok sering
                # penuh", of which "tadi sore penuh lagi" days later is one more instance — within a week)
                rejected = _nearer(rejected, 0.0, ids[slot], "the problem is back: a new occurrence")
                continue
            if f_flags & RECUR and not flags_of[slot] & RECUR:
                # "pecah lagi, padahal tanggal 22 sudah diperbaiki": whatever the days between, reports from
                # before the fix are another occurrence (another report of the recurrence is not)
                rejected = _nearer(rejected, 0.0, ids[slot], "the problem is back after it was dealt with")
                continue
            other_states = problems[slot]
            high = problems_hi[slot]
            if high:
                other_states |= high << HIGH_SHIFT
            other_problems = other_states & ~STATES
            shared = bool(f_problems & other_problems)
            if fresh_event and (other_states & EVENT or other_problems & _FIRE) and \
                    f_problems & other_problems & ~_FLOOD and age >= recurrence:
                # "pohon tumbang di Jl. Pemuda tadi sore" days after another report of a fallen tree there: the
                # event told as just happened is another one (not a flood, which lasts, nor a follow-up)
                rejected = _nearer(rejected, 0.0, ids[slot], "the event is told as just happened: a new occurrence")
                continue
            content_sim = 0.0
            c_lo, c_hi = c_off[slot], c_off[slot + 1]
            if n_content and c_hi > c_lo:
                inter = len(content.intersection(content_data[c_lo:c_hi].tolist()))
                if inter:
                    n_other = c_hi - c_lo
                    jaccard = inter / (n_content + n_other - inter)
                    containment = inter / (min(n_content, n_other) + 1)
                    content_sim = 0.5 * jaccard + 0.5 * containment
            d_lo, d_hi = d_off[slot], d_off[slot + 1]
            if (f_denied and c_hi > c_lo and not f_denied.isdisjoint(content_data[c_lo:c_hi].tolist())) or \
                    (d_hi > d_lo and n_content and not content.isdisjoint(denied_data[d_lo:d_hi].tolist())):
                # "gorong-gorong … bukan tersumbat tapi amblas" / "gorong2 … mampet": the one says it is not
                # what the other is about (a denial names another complaint of one object, one place)
                rejected = _nearer(rejected, content_sim, ids[slot], "the text says it is not that one")
                continue
            p_lo, p_hi = p_off[slot], p_off[slot + 1]
            both = bool(f_places) and p_hi > p_lo
            if linked and not shared and content_sim < threshold and not self_ref:
                # a name alone says nothing about which complaint: compared as another citizen's
                level, linked = "incident", False
                threshold = levels[level][0]
            rank = 2 if mine else 1 if linked else 0
            # the writer says they reported it before on this candidate's channel ("sudah saya WA tadi pagi" on
            # Facebook, "Sehubungan pesan WhatsApp saya …" by e-mail), and it is theirs or their name's: the report
            # they point to, whatever other words or problem class each uses for it
            named_back = rank >= 1 and not same_channel and bool(refers) and channel_kind(names[channels[slot]]) in refers
            # (and of those, the one of the day it gives: "udah lapor via WA tgl 21", "sudah saya WA kemarin")
            dated = named_back and bool(refers_days) and not refers_days.isdisjoint(local_days(times[slot]))
            if not incident and (rank == 0 or (rank == 1 and not self_ref)):
                continue  # (not a complaint: another account's only when it says it wrote before)
            if rank == 0:
                if both or f_mentions:
                    # the most the places and the problem can add (classes known on both sides and none
                    # shared: kept apart anyway)
                    bound = 1.0 if shared else 0.0 if f_problems and other_problems else unknown
                    ceiling = w_content * content_sim + w_place + w_problem * bound
                else:
                    ceiling = content_sim
                if ceiling < threshold:
                    continue  # cannot reach the threshold whatever the places say
            elif rank == 2 and not shared and content_sim < threshold and f_problems and other_problems and \
                    not self_ref:
                rejected = _nearer(rejected, content_sim, ids[slot], "below threshold")
                continue  # names a problem its sender's earlier complaint does not, in other words
            if f_flags & SETTLED and (f_problems & ~other_problems or (rank >= 1 and f_flags & SETTLED_BUT and
                                                                     not f_problems)) and \
                    content_sim < threshold and not (rank >= 1 and self_ref):
                # "air sudah normal, tapi tagihan melonjak", "ayek la surut, tapi sampah numpuk": the earlier
                # complaint is dealt with, the problem it did not name is another complaint
                rejected = _nearer(rejected, content_sim, ids[slot], "the earlier one is dealt with: another problem")
                continue
            if best is not None and (named_back, named_back, rank, named_back, 1.0) <= best_key:
                continue  # cannot beat the match in hand
            if both:
                if f_parsed is None:
                    f_parsed = parse_places(f_places)
                other_parsed = self._place_set(place_data, p_lo, p_hi)
                # candidates share place sets (the cached parse): each compared once per lookup (the entry
                # holds the set, so its id stays its own meanwhile)
                seen = compared.get(id(other_parsed))
                if seen is None or seen[0] is not other_parsed:
                    seen = compared[id(other_parsed)] = (other_parsed, parsed_similarity(f_parsed, other_parsed))
                place_score, why = seen[1]
                if why is None and f_flags & SETTLED and not place_score and _finer(f_parsed) and \
                        _finer(other_parsed):
                    # "lampu Alun-alun Kapuas udah nyala, tp lampu Taman Akcaya mati": dealt with there (the
                    # words name it), wrong at another place
                    why = "the earlier one is dealt with: another place"
                if not place_score and why is None and f_mentions and ("near" not in f_parsed or rank >= 1) and \
                        not (f_parsed.keys() & other_parsed.keys()) - _UNNAMED_KINDS:
                    # nothing named alike ("simpang Sudirman Gatot Subroto" / "Jl. Sudirman - Jl. Gatot Subroto");
                    # not words of a reference point ("dekat Pasar Kranggan" is not at the market)
                    place_score = mentioned(other_parsed, f.mentions, not _finer(f_parsed))
                elif place_score == 0.6 and why is None and f_mentions and rank == 0 and not _finer(f_parsed) and \
                        "near" not in f_parsed and mentioned(other_parsed, f_mentions, False) >= 1.0:
                    # one kelurahan, and this text, which names nothing finer with a keyword, names the other's
                    # street or landmark without one ("pipa pecah nang Slamet Riyadi cedhak Kerten" / "Jl. Slamet
                    # Riyadi depan Kerten"): the same spot, told at two precisions
                    place_score = 1.0
                elif place_score == 0.6 and why is None and rank == 0 and not _finer(other_parsed) and \
                        "near" not in f_parsed and _finer(f_parsed) and self._names_in(f, c_lo, c_hi, _FINE_NAMES):
                    # the same the other way round: the other names only the kelurahan, and this text's street or
                    # landmark without a keyword ("runtah di handapeun sasak Cikapundung Babakan Ciamis" / "sampah di
                    # sungai cikapundung babakan ciamis")
                    place_score = 1.0
            elif f_mentions and p_hi > p_lo:  # no place named with a keyword: perhaps mentioned in passing
                other_parsed = self._place_set(place_data, p_lo, p_hi)
                place_score, why = mentioned(other_parsed, f_mentions), None
            else:
                place_score, why, other_parsed = 0.0, None, None
            if rank == 0 and why is None and place_score < 0.6 and slot in rare and p_hi == p_lo and \
                    f_problems & other_problems and (not f_places or self._names_in(f, c_lo, c_hi)):
                # one problem class and a rare name both use ("parkir di Ngarsopuro" / "jukir liar depan
                # Ngarsopuro"; "TPS sarijadi penuh" / "sampah di sarijadi blm diangkut"), where the other names
                # no place with a keyword: the place, named without one (every word of one of this text's place
                # names: "simpang Jambu Dua" is not "simpang Warung Jambu")
                place_score = 0.6
            if why == ANOTHER_SPOT and rank >= 1:
                place_score, why = 1.0, None  # the sender's own: "depan hotel" then "dekat simpang" is one hole
            if why is None and rank == 2 and both and not place_score and not self_ref and content_sim < threshold \
                    and not f_flags & FOLLOW and _named(f_parsed) and _named(other_parsed):
                # the writer's earlier complaint at a place this one does not name at all (a street, a school,
                # a kelurahan on either side, none shared): another complaint of his, elsewhere
                why = "the writer's complaint elsewhere"
            opener = openers[slot]
            if why is None and f_places and opener != slot and p_off[opener + 1] > p_off[opener]:
                if f_parsed is None:
                    f_parsed = parse_places(f_places)
                # the group's first complaint bounds it too: "Jl. Pahlawan RT 2 RW 4" joined a case opened in
                # Sidomulyo is no match for the same street number in Tanjung Sari (once per opener and lookup)
                if opener not in bounded:
                    bounded[opener] = parsed_similarity(
                        f_parsed, self._place_set(place_data, p_off[opener], p_off[opener + 1]))[1]
                why = bounded[opener]
            if why is not None and rank >= 1 and dated and shared and self_ref and \
                    (rank == 2 or self._names_in(f, c_lo, c_hi)):
                # "Saya sudah melaporkan via WhatsApp (10 Mei) mengenai pohon di trotoar Jl. Ir. H. Juanda" / the
                # writer's WhatsApp of the 10th (their own number) about a tree on "jl dago atas": the report it
                # points to by channel and day, of the same problem — its place told in other names (a street's
                # old or popular name). Linked by a name only, when that report names this one's place too
                # ("Lampu taman Zero Point masih mati, sudah saya post di IG kemarin" / "Lampu taman di Taman
                # Kesatuan Bangsa dekat Zero Point mati semua"); a name alone crosses no other place conflict
                place_score, why = max(place_score, 0.6), None
            if why is None and f_problems and other_problems and not shared and not named_back and \
                    not (rank >= 1 and self_ref and place_score >= 0.6):  # "melanjutkan WA saya tadi" at one place
                why = "different problem"
            if why is None and rank == 0 and shared and f_problems & ~other_problems and other_problems & ~f_problems \
                    and content_sim < _FEW_WORDS and not f_problems & other_problems & DAMAGING:
                # "saluran … ambrol, lubangnya besar" / "banjir lagi, kapan salurannya dibenahi?": one thing or
                # one class in common, but each names a problem the other does not, in words that hardly meet —
                # another citizen's other complaint about the same object, not more of the same one
                why = "another problem of one thing"
            if why is None and not named_back and different_states(f_states, other_states):
                why = "different problem (how it is wrong)"
            if why is None and both and house_conflict(f_parsed, other_parsed) and (  # type: ignore[arg-type]
                    not f_problems & other_problems & SPREADING):
                why = "different house number"
            agency = names[agencies[slot]]
            same_agency = bool(f_agency) and agency == f_agency
            # a terse follow-up of one's own complaint, or one that says it follows up, has a guessed agency
            # (the sender's own: another agency guessed for a text that says the same words or names the same
            # place is a reminder, not another complaint)
            if why is None and f_agency and agency and not same_agency and not shared and \
                    not (rank == 2 and (self_ref or not f_problems or not other_problems or place_score >= 0.6
                                        or content_sim >= threshold)) and \
                    not (rank == 1 and self_ref and (place_score >= 0.6 or named_back)):
                why = f"different agency ({agency} vs {f_agency})"
            if why:
                rejected = _nearer(rejected, content_sim, ids[slot], why)
                continue
            # the problem: a shared class, or (one side's class unknown) the same agency chosen by the rules
            problem = 1.0 if shared else unknown if same_agency and not (f_problems and other_problems) else 0.0
            if both or place_score:
                if both and shared and place_score >= 0.6 and f_problems & other_problems & AREA_CLASSES and \
                        (not _finer(f_parsed) or not _finer(other_parsed)) and \
                        not (f_problems ^ other_problems) & _SEWAGE:
                    # a flood, a landslide, a fire told by kelurahan: the kelurahan is the place (not for a sewer that
                    # overflows, "IPAL … limbah meluap", which only one names: its flood is the sewer's, at one spot)
                    place_score = 1.0
                sim = w_content * content_sim + w_place * place_score + w_problem * problem
            else:
                sim = content_sim
            if rank == 2:
                # a reminder that names no problem ("kumaha laporan gang RT 02 RW 04 Binong?") is about the
                # complaint at the place it names; a bare follow-up ("[foto] belum ada perbaikan") that names
                # neither problem nor place, about the sender's latest complaint
                reminder = not f_flags & (ALSO | SETTLED) and (
                    (not f_problems and ((place_score >= 0.3 and (f_flags & (FOLLOW | AGAIN | SELF_REF) or
                                                   content_sim >= _FEW_WORDS or n_content <= _TERSE or
                                                   age <= _SOON)) or
                                         (not f_places and (f_flags & FOLLOW or (
                        incident and same_channel and age <= _SOON)))))
                    or (not other_problems and place_score >= 0.6 and f_flags & FOLLOW))  # named only the second time
                if f_flags & ALSO and content_sim < threshold and not self_ref:
                    rejected = _nearer(rejected, sim, ids[slot], "adds another complaint")
                    continue
                if not shared and content_sim < threshold and not self_ref and not reminder and (f_flags & ALSO or not (
                        place_score >= 1.0 or (place_score >= 0.6 and f_flags & FOLLOW))):
                    rejected = _nearer(rejected, sim, ids[slot], "below threshold")
                    continue
                if shared and content_sim < _NO_WORDS and place_score < 0.6 and not self_ref and \
                        not f_flags & FOLLOW and not reminder:
                    # "tagihan saya naik, tolong cek meterannya" then, days later, "meteran depan rumah dicopot
                    # maling, air muncrat": one class in common, hardly a word, no place met, no word of a
                    # follow-up — the writer's other complaint (a resend says the same thing)
                    rejected = _nearer(rejected, sim, ids[slot], "the writer's other complaint")
                    continue
                sim = max(sim, content_sim)  # the sender's own: the same problem or the same words
            elif rank == 1:
                # another account of the same citizen: it says it wrote before, or the same problem at the
                # same place
                if not (self_ref or (shared and place_score >= 0.6)):
                    rank, level, threshold = 0, "incident", levels["incident"][0]
            if rank == 0 and not (place_score >= 0.6 or (place_score and f_problems & other_problems & AREA_CLASSES)
                                  or (not both and f_problems & other_problems & PLACELESS_CLASSES)):
                # another citizen's complaint joins a case only at a place both name (a kelurahan or finer;
                # for a flood or an outage, the same kecamatan or RW will do): look-alike wording about no
                # shared place is another complaint ("KTP saya belum jadi", "THR di PT … belum dibayar")
                rejected = _nearer(rejected, sim, ids[slot], "no shared place")
            elif rank == 0 and place_score < 1.0 and both and not f_problems & other_problems & AREA_CLASSES and \
                    _other_spots(_spot(f_parsed), (_spot(other_parsed), self._opener_spot(openers[slot]))):
                # "lampu dalan gang RT 02 mati" / "lampu Jl. Tendean mati" (or a reminder of it that names only
                # the kelurahan), one kelurahan: a lamp, a hole is at one spot, and the one names its RT's gang,
                # the other's case a street (no RT) — two spots
                rejected = _nearer(rejected, sim, ids[slot], "another spot in the kelurahan")
            elif rank == 0 and sim < threshold:
                rejected = _nearer(rejected, sim, ids[slot], "below threshold")
            elif best is None or (named_back, dated, rank, named_back and shared, sim) > best_key:
                best = Match(level, sim, ids[slot], int(self._roots[slot]), self._case(slot), slot, rank == 1)
                best_key = (named_back, dated, rank, named_back and shared, sim)
        if best is not None and best.level == "incident" and own_slots and not f_flags & (OTHER | ALSO):
            # another citizen's report of the case the writer has already reported ("gorong-gorong ciwaringin tea
            # acan dibersihkeun" after their own and a neighbour's): the writer's complaint again, not a new one of
            # the case (the newest of theirs in that group, within its level's window)
            group, case = openers[best.slot], best.case_id
            for slot in own_slots:
                level = "resend" if names[channels[slot]] == f_channel else "cross_channel"
                if abs(ts - times[slot]) <= levels[level][1] and \
                        (openers[slot] == group or (case is not None and self._case(slot) == case)):
                    best = Match(level, best.similarity, ids[slot], int(self._roots[slot]), self._case(slot), slot)
                    if level == "resend":
                        own_roots.add(roots[slot])
                    break
        if best is not None and best.level == "cross_channel" and best.root in own_roots:
            # the closest is the writer's message on another channel, but the complaint it follows up is theirs
            # on this one ("pak kelas 2 … masih kebanjiran" on WA after "td sudah WA" on Telegram): a resend
            best.level = "resend"
        return Lookup(best, None if best else rejected)

    def _views(self) -> tuple[memoryview[bool], memoryview[float], memoryview, memoryview, memoryview, memoryview,
                              memoryview, memoryview, memoryview, memoryview, memoryview, memoryview, memoryview,
                              memoryview, memoryview, memoryview, memoryview, memoryview, memoryview]:
        """Memoryviews of the columns ``verify`` reads (they see every write), made again only when an array was
        replaced (grown, or a new index): nineteen memoryviews a lookup cost more than comparing the arrays."""
        arrays = (self._alive, self._ts, self._ids, self._person_of, self._channel_of, self._agency_of,
                  self._problems_of, self._opener_of, self._flags_of, self._content.offsets, self._content.data,
                  self._places.offsets, self._places.data, self._ident.offsets, self._ident.data,
                  self._denied.offsets, self._denied.data, self._roots, self._problems_hi)
        cached = self._view_cache
        if cached is None or not all(map(is_, arrays, cached[0])):
            cached = self._view_cache = (arrays, tuple(map(memoryview, arrays)))  # type: ignore[arg-type]
        return cached[1]  # type: ignore[return-value]  # (_alive is bool, _ts float)

    def _opener_spot(self, opener: int) -> str | None:
        """``_spot`` of a group's first complaint."""
        offsets = self._places.offsets
        lo, hi = int(offsets[opener]), int(offsets[opener + 1])
        return _spot(self._place_set(memoryview(self._places.data), lo, hi)) if hi > lo else None  # type: ignore[arg-type]

    def _case(self, slot: int) -> int | None:
        return int(self._cases[slot]) or None

    def _place_set(self, data: memoryview, lo: int, hi: int) -> dict[str, tuple[str, ...]]:
        """The place names of one entry grouped by kind (parsed once per distinct code tuple, cached)."""
        codes = tuple(data[lo:hi].tolist())
        parsed = self._place_sets.get(codes)
        if parsed is None:
            if len(self._place_sets) > 65_536:
                self._place_sets.clear()
            parsed = self._place_sets[codes] = parse_places([self._names[c] for c in codes])
        return parsed

    def _candidates(self, f: Features) -> list[int]:
        """The slots most worth verifying: shared buckets weighed by rarity, most evidence first, then newest.

        A bucket of n entries counts 1/sqrt(n): a band key shared with few complaints is strong evidence,
        one shared with thousands (two common problem words) hardly any. Counting every shared bucket
        alike let the newest entries of crowded buckets push an older exact source out of the top
        ``max_candidates`` (measured: at 1 M indexed, the source was cut there for 31% of near-duplicates).
        """
        cfg = self.cfg
        scores: dict[int, float] = {}
        get = scores.get
        keys = self.band_keys(f) + mention_keys(f)
        if f.ident_probe and cfg.identity_links:
            keys = keys + [(k << 32) | 0x7F4A7C15 for k in f.ident_probe]
        for size, slots in self._buckets.probe(keys, cfg.bucket_whole, cfg.bucket_cap):
            weight = size ** -0.5
            for slot in slots:
                scores[slot] = get(slot, 0.0) + weight
        if not scores:
            return []
        alive, want = memoryview(self._alive), cfg.max_candidates  # type: ignore[arg-type]
        # the top ``want`` by (score, newest) without sorting every entry: only those at or above the
        # want-th best score are sorted; a dead slot among them (expired, not yet compacted) means
        # looking further down, by sorting everything
        cut = sorted(scores.values())[-want] if len(scores) > want else 0.0
        top = sorted([(score, slot) for slot, score in scores.items() if score >= cut], reverse=True)
        out = [slot for _, slot in top if alive[slot]][:want]
        if len(out) < want and len(top) < len(scores):
            ranked = sorted(((score, slot) for slot, score in scores.items()), reverse=True)
            out = [slot for _, slot in ranked if alive[slot]][:want]
        return out

    # ---- maintenance ---------------------------------------------------------------------------------
    def add(self, f: Features, complaint_id: int, root: int | None = None, case_id: int | None = None,
            keys: list[int] | None = None, joined: Match | None = None) -> int:
        """Index a complaint (kept in the insert buffer until ``commit``); returns its slot. ``joined``: the
        match that put it in an existing group (its places then also bound who may join that group)."""
        keys = self.band_keys(f) if keys is None else keys
        if f.ident:
            keys = keys + [(k << 32) | 0x7F4A7C15 for k in f.ident]
        slot = self._append(f, complaint_id, root, case_id)
        if joined is not None and 0 <= joined.slot < slot:
            self._opener_of[slot] = self._opener_of[joined.slot]
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
        self._ident.append(sorted(f.ident))
        self._denied.append(sorted(f.negated))
        self._problems_of[slot], self._flags_of[slot] = f.problems & _LOW_63, f.flags & (0x7F | HABITUAL)  # (SETTLED is not kept)
        self._problems_hi[slot] = f.problems >> HIGH_SHIFT
        self._opener_of[slot] = slot
        person = self.person(f.person)
        if person is not None:
            self._prev_own[slot] = self._last_own.get(person, -1)
            self._last_own[person] = slot
        else:
            self._prev_own[slot] = -1
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
            if person is not None and self._last_own.get(person) == slot:
                previous = int(self._prev_own[slot])
                if previous >= 0:
                    self._last_own[person] = previous
                else:
                    del self._last_own[person]
            self._alive[slot] = False
            del self._pending[cid]
        self._n = mark
        self._content.truncate(mark)
        self._places.truncate(mark)
        self._ident.truncate(mark)
        self._denied.truncate(mark)

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
        return self._buckets.buffered > max(20_000, self.cfg.compact_ratio * len(self._buckets))

    def compact(self) -> None:
        """Merge the insert buffer into the sorted bucket arrays (numpy sort; releases the GIL)."""
        self._buckets.rebuild(*self._buckets.entries(), self._alive)

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
        # each complaint is filed under its case's first complaint (its root's, without a case), as ``add``
        # filed it when it joined that case: the opener's places bound who may join the case after a restart too
        openers: dict[tuple[bool, int], int] = {}
        for f, cid, root, case in items:
            slot = self._append(f, cid, root, case)
            self._opener_of[slot] = openers.setdefault((True, case) if case else (False, root or cid), slot)
            # the keys ``band_keys`` adds to the bands (places, rare words and names), then identity, as ``add``
            extra = place_keys(f) + rare_keys(f) + [(k << 32) | 0x7F4A7C15 for k in f.ident]
            extra_keys += extra
            extra_slots += [slot] * len(extra)
        slots = np.repeat(np.arange(first, self._n, dtype=np.int32), self.cfg.bands)
        old_keys, old_slots = self._buckets.entries()
        keys = np.concatenate([old_keys, band.reshape(-1), np.array(extra_keys, dtype=np.uint64)])
        slots = np.concatenate([old_slots, slots, np.array(extra_slots, dtype=np.int32)])
        self._buckets.rebuild(keys, slots, self._alive)

    def __len__(self) -> int:
        return int(self._alive[: self._n].sum())

    def memory_bytes(self) -> int:
        """Approximate bytes held by the index's arrays (the bench also measures the whole process)."""
        per_slot = sum(getattr(self, name).itemsize for name in self._COLUMNS)
        return (per_slot * self._n + self._buckets.nbytes() + self._content.nbytes() + self._places.nbytes()
                + self._ident.nbytes() + self._denied.nbytes())

    def _grow(self) -> None:
        for name in self._COLUMNS:
            old = getattr(self, name)
            new = np.zeros(len(old) * 2, dtype=old.dtype)
            new[: len(old)] = old
            setattr(self, name, new)


# content similarity below which two reports that each name a problem the other does not are two complaints
_FEW_WORDS = 0.2
# … and below which the writer's own two messages, with only a problem class in common, say different things
_NO_WORDS = 0.1
# a writer's message this soon after their complaint on one channel, naming neither problem nor place, is more of it
# ("Pak tolong cepat, aek terus naik, kami la di atas lemari" twenty minutes after the flood report) — when it is a
# complaint itself: a thank-you or a greeting is no follow-up by its time alone ("terima kasih min, mantap 👍")
_SOON = 3 * 3600.0
# content words of a terse message ("kumaha laporan gang RT 02 RW 04 Binong?"): a reminder of the complaint at the
# place it names; a longer one that names no known problem there, in words that hardly meet the earlier ("gempa
# kuat barusan, kami lari ke shelter tsunami dekat Malabero tapi gerbangnyo digembok" two days after the writer's
# abrasion report there), tells another matter — unless it comes soon after ("pak cepet nggih, ulane ndhelik …")
_TERSE = 6
_WEEK = 7 * DAY  # a stated duration of a few days is of another occurrence when the earlier report is this old
_AREA_KINDS = frozenset(("kel", "kec", "rt", "rw"))
# kinds of place that name no street or landmark: sharing only these, one text may still mention the other's by
# name without a keyword (a house number, "depan no 12", is a spot on a street either names or not)
_UNNAMED_KINDS = _AREA_KINDS | {"hn", "end"}  # (and the end of a street, "ujung utara": no name of its own)
_FINE_NAMES = ("street:", "lm-", "gg:")  # the kinds of place named finer than a kelurahan, by a name
# a storm or a landslide is told by what it wrecked, which each witness names differently ("pohon tumbang", "atap
# terbang", "rumah ambruk"): sharing one, two reports that each name other damage are one event, not two problems
DAMAGING = class_bit("storm") | class_bit("landslide")
# problems that spread along a street past many houses: two house numbers are one event
SPREADING = AREA_CLASSES & ~class_bit("power")  # "kabel listrik" is an object, not an outage


def _finer(parsed: dict[str, tuple[str, ...]] | None) -> bool:
    """True when a place set names something finer than a kelurahan (a street, a landmark, a banjar)."""
    # a river runs through kelurahan: naming it is no finer than naming the kelurahan
    return bool(parsed) and any(kind in ("street", "sub") or (kind.startswith("lm-") and kind != "lm-sungai")
                                for kind in parsed)  # type: ignore[union-attr]


def _named(parsed: dict[str, tuple[str, ...]] | None) -> bool:
    """True when a place set names a kelurahan, a street, a gang or a landmark (not only an RT or a kecamatan)."""
    return bool(parsed) and any(kind in ("kel", "street", "gg", "sub") or kind.startswith("lm-")
                                for kind in parsed)  # type: ignore[union-attr]


def _spot(parsed: dict[str, tuple[str, ...]] | None) -> str | None:
    """"rt" for a place set that names an RT and nothing finer that has a name (no street, gang, landmark),
    "street" for one that names a street and no RT; otherwise None."""
    if not parsed:
        return None
    named = any(kind in ("street", "gg", "sub", "blok") or kind.startswith("lm-") for kind in parsed)
    if "rt" in parsed:
        return None if named else "rt"
    return "street" if "street" in parsed else None


def _other_spots(mine: str | None, theirs: tuple[str | None, ...]) -> bool:
    """One names an RT's gang, the other (or its case's first report) a street."""
    return mine is not None and ({"rt", "street"} - {mine}) <= set(theirs)


_LOW_63 = (1 << 63) - 1  # the bits ``_problems_of`` keeps (classes, HEDGE and the states use none above 58)


def _bits(mask: int) -> list[int]:
    """The set bits of a non-negative ``mask``, lowest first (what testing each of 63 bits gives, by its set bits
    alone)."""
    out: list[int] = []
    while mask:
        low = mask & -mask
        out.append(low.bit_length() - 1)
        mask ^= low
    return out


def place_keys(f: Features) -> list[int]:
    """Blocking keys: each place (not a bare RT/RW) alone and with each problem class, so that reports of
    one thing at one place meet however little their wording shares, whichever agency the classifier picked
    for each (the class key is the rarer, stronger evidence where a place is crowded)."""
    keys: list[int] = []
    problems = f.problems & ~STATES
    classes = _bits(problems) if problems else []
    for place in f.places:
        found = _PLACE_KEYS.get(place)
        if found is None:
            found = _place_keys(place)
        if found:
            keys.append(found[0])
            for bit in classes:
                key = _CLASS_KEYS.get((place, bit))
                if key is None:
                    if len(_CLASS_KEYS) >= _REMEMBERED:
                        _CLASS_KEYS.clear()
                    key = _CLASS_KEYS[(place, bit)] = (stable_hash(f"{place}|p{bit}") << 32) | 0x9E3779B9
                keys.append(key)
            keys += found[1]
    return keys


# place keys and rare-word keys, remembered (the same places and words come back message after message; a
# crc32 of a new string each time cost ~30 us a message): key -> its hash, forgotten all at once when full
_REMEMBERED = 100_000
_PLACE_KEYS: dict[str, tuple[int, tuple[int, ...]] | tuple[()]] = {}
_CLASS_KEYS: dict[tuple[str, int], int] = {}
_RARE_KEYS: dict[str, dict[str, int]] = {"r": {}, "R": {}}
_MENTION_KEYS: dict[str, int] = {}  # a mentioned word -> its "w:" key


def _place_keys(place: str) -> tuple[int, tuple[int, ...]] | tuple[()]:
    """The keys ``place_keys`` gives ``place`` whatever the problem: () for a place it gives none, else the
    place's own key first, then those that follow its problem class keys (remembered)."""
    keys: list[int] = []
    if not place.startswith(("rt:", "rw:", "hn:", "ref:", "not:", "num-", "end:")):
        keys.append((stable_hash(place) << 32) | 0x9E3779B9)
        if " " in place and not place.startswith("street:"):  # "Mandala Krida" meets "Mandalakrida"
            keys.append((stable_hash(place.replace(" ", "")) << 32) | 0x9E3779B9)
        if place.startswith("lm-sekolah:") and place.count(" ") >= 2:  # "SMP 3 Semarang" meets "SMPN 03"
            keys.append((stable_hash(" ".join(place.split()[:2])) << 32) | 0x9E3779B9)
        if place.startswith("street:") and " " in place:
            # "Ahmad Yani" meets "Yani" ("Jl. A. Yani"), "Fatmawati Raya" meets "Fatmawati"
            words = place[7:].split()
            for word in {words[0], words[-1]} - {"gg", "raya"}:
                if not word.isdigit():
                    keys.append((stable_hash(f"street:{word}") << 32) | 0x9E3779B9)
            keys.append((stable_hash("street:" + "".join(words)) << 32) | 0x9E3779B9)
        if place.startswith(("street:", "lm-", "kel:", "near:")):
            # the name's words, met by another text that mentions it without a keyword ("karaoke di
            # sosrowijayan" / "Jl Sosrowijayan"): see mention_keys (a landmark a report is near, by its name
            # without its kind: "deket Pasar Klewer" / "dekat Klewer")
            words = place.partition(":")[2].split()
            for word in words[1:] if place.startswith("near:") and len(words) >= 2 else words:
                if len(word) >= 4 and not word.isdigit():
                    keys.append((stable_hash("w:" + word) << 32) | 0x9E3779B9)
                    if len(word) >= 6:  # ("Mustofa" met by "mustafa": mentioned() reads one vowel apart too)
                        keys.append((stable_hash("w~:" + word.translate(_VOWEL)) << 32) | 0x9E3779B9)
    found: tuple[int, tuple[int, ...]] | tuple[()] = (keys[0], tuple(keys[1:])) if keys else ()
    if len(_PLACE_KEYS) >= _REMEMBERED:
        _PLACE_KEYS.clear()
    _PLACE_KEYS[place] = found
    return found


# a word shared by complaints of more cases than this in the window is no name of one place or thing
_RARE_MAX = 4


def _rare_key(kind: str, word: str) -> int:
    """The index key of ``word`` as a rare word ("r") or a name ("R"), remembered: ``rare_keys`` and
    ``DedupIndex._rare`` ask for most of a text's twice."""
    known = _RARE_KEYS[kind]
    key = known.get(word)
    if key is None:
        if len(known) >= _REMEMBERED:
            known.clear()
        key = known[word] = (stable_hash(f"{kind}:{word}") << 32) | 0x85EBCA6B
    return key


def rare_keys(f: Features) -> list[int]:
    """Index keys of a text's rare words (``Features.rare``: "r:"), and of those written as names
    ("R:"): ``DedupIndex._rare`` meets a name on one side with the word, in any case, on the other."""
    return [_rare_key("r", word) for word in f.rare] + [_rare_key("R", word) for word in f.cased]


def mention_keys(f: Features) -> list[int]:
    """Lookup keys of the longer words of a text that names no place with a keyword: they meet the name
    words another complaint's places were indexed under (``place_keys``)."""
    if f.places:
        return []
    known = _MENTION_KEYS
    if len(known) >= _REMEMBERED:
        known.clear()
    words = [word for word in set(f.mentions.split()) if len(word) >= 4 and not word.isdigit()]
    return [known.get(word) or known.setdefault(word, (stable_hash("w:" + word) << 32) | 0x9E3779B9)
            for word in words] + \
        [known.get("~" + word) or known.setdefault("~" + word, (stable_hash("w~:" + word.translate(_VOWEL)) << 32) |
                                                  0x9E3779B9) for word in words if len(word) >= 6]


_VOWEL = str.maketrans("aiueo", "*****")  # (a name's word with its vowels masked: "mustofa", "mustafa" → "m*st*f*")


def _nearer(current: dict[str, Any] | None, sim: float, candidate: int, why: str) -> dict[str, Any]:
    if current is None or sim > current["similarity"]:
        return {"similarity": round(sim, 3), "candidate": candidate, "kept_apart": why}
    return current
