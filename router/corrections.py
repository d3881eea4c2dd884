"""Learning from officers' corrections at once: a memory of corrected complaints the router consults.

A coordinator's reassignment (``omnichannel.corrections.reassign``) and an officer's merge or split of
cases each write a ``corrections`` row. The router keeps the corrected complaints' profiles in memory —
their content words, the agency rules that fired on them and their place — and weighs them in for every
later message (``Classifier.classify`` asks ``CorrectionMemory.consult``):

* a **text neighbour** (content words overlap by ``routing.corrections.text_similarity``, Dice) counts
  ``text_weight`` × similarity for the agency the coordinator chose;
* a **problem neighbour** (the same agency rules fire, Jaccard ≥ ``problem_similarity``, and the words
  overlap at least ``min_overlap``) moves the shared rules' scores to that agency — the rules recognised
  the problem, the correction says whose it is here — and adds ``problem_weight`` × similarity;
* a **place veto** keeps both apart when the two name different kecamatan or kelurahan: a correction
  about a street in one kecamatan does not pull a message about another place.

The rules, remits and the model still count; the correction is evidence with a weight, and the routing
explanation names it (``agency.correction`` with the correction's id and ticket ref; ``chosen_by:
correction`` when it decided). Merges and splits feed grouping (``regroup``): a message that is a text
neighbour of a merged pair joins the merged case (inside the dedup window); a message that is a neighbour
of one side of a split is never merged into the other side's case.

Across processes and replicas the store is the only channel: ``refresh`` runs at the start of every
routed batch and reads the rows with an id above the last seen, plus those of the last
``recheck_seconds`` (on PostgreSQL a transaction may commit a lower id after a higher one was read);
an index on the primary key and on ``at`` keeps that one query cheap. No restart, no message bus.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import or_, select

from omnichannel import pii
from omnichannel.models import Case, Complaint, Correction
from omnichannel.types import utcnow
from router.config import CorrectionSettings
from router.dedup.index import Lookup, Match
from router.remit import STOPWORDS

log = logging.getLogger(__name__)

# words that say nothing about the problem or the place, beyond the remits' function words
_FILLER = frozenset("""min admin mimin pak bu bapak ibu mas mbak kak tolong mohon segera minta lapor laporan
kapan gimana bagaimana apa kenapa udah udh sdh blm belum tdk gak ga nggak enggak nih sih dong deh kok kak
terima kasih makasih tks thx yth hormat dengan hari ini kemarin kmrn tadi pagi siang sore malam banget bgt
""".split())


def content(toks: list[str] | tuple[str, ...]) -> frozenset[str]:
    """The words of a tokenised text that say what and where: no function words, fillers or one-letter tokens
    (numbers stay: RT 03, SD 5)."""
    return frozenset(t for t in toks if t.isdigit() or (len(t) >= 3 and t not in STOPWORDS and t not in _FILLER))


def dice(a: frozenset[str], b: frozenset[str]) -> float:
    """2|a∩b| / (|a|+|b|)."""
    if not a or not b:
        return 0.0
    return 2 * len(a & b) / (len(a) + len(b))


def _place(location: dict[str, Any] | None) -> tuple[str | None, str | None]:
    if not location:
        return None, None
    kec, kel = location.get("kecamatan"), location.get("kelurahan")
    return (str(kec).lower() if kec else None), (str(kel).lower() if kel else None)


def elsewhere(a: tuple[str | None, str | None], b: tuple[str | None, str | None]) -> bool:
    """True when two places are known and differ (kecamatan, or kelurahan)."""
    return bool((a[0] and b[0] and a[0] != b[0]) or (a[1] and b[1] and a[1] != b[1]))


@dataclass(slots=True)
class Entry:
    """One corrected complaint's profile and what the correction said about it."""

    id: int
    kind: str  # reassign, merge, split
    ticket: str | None
    agency_from: str | None
    agency_to: str | None
    words: frozenset[str]
    rules: frozenset[tuple[str, str]]  # (agency, rule name) of the agency rules that fired
    place: tuple[str | None, str | None]
    problem: frozenset[str] = frozenset()  # the words of those rules
    complaint_kind: str | None = None  # the corrected ticket's kind (a problem neighbour must share it)
    complaint_id: int | None = None
    case_id: int | None = None  # merge: the merged case; split: this side's case
    other_case: int | None = None  # split: the other side's case
    root: int | None = None  # merge: the merged case's first complaint
    ts: float = 0.0  # when the complaint came in (merges join only inside the dedup window)
    side: int = 0  # split: 0 the complaints that stayed, 1 those split out

    def explain(self, similarity: float, tier: str) -> dict[str, Any]:
        """The ``correction`` part of an explanation."""
        out: dict[str, Any] = {"id": self.id, "kind": self.kind, "ticket": self.ticket, "similarity": round(similarity, 3),
                               "match": tier}
        if self.kind == "reassign":
            out.update({"agency_from": self.agency_from, "agency": self.agency_to})
        return out


@dataclass(slots=True)
class Consulted:
    """The correction that weighs in on one message."""

    entry: Entry
    similarity: float
    tier: str  # "text" or "problem"

    def explain(self) -> dict[str, Any]:
        """What an explanation says about it."""
        return self.entry.explain(self.similarity, self.tier)


@dataclass(slots=True)
class CorrectedMatch(Match):
    """An incident match made by a merge correction (its explanation names the correction)."""

    correction: int = 0

    def explain(self) -> dict[str, Any]:
        """The dedup explanation with the correction's id."""
        return {**Match.explain(self), "correction": self.correction}


@dataclass
class _Postings:
    by_word: dict[str, list[int]] = field(default_factory=dict)
    by_set: dict[frozenset[str], list[int]] = field(default_factory=dict)  # problem words → entries, oldest first
    sets_by_word: dict[str, set[frozenset[str]]] = field(default_factory=dict)

    def add(self, i: int, entry: Entry) -> None:
        for w in entry.words:
            self.by_word.setdefault(w, []).append(i)
        if entry.problem:
            self.by_set.setdefault(entry.problem, []).append(i)
            for w in entry.problem:
                self.sets_by_word.setdefault(w, set()).add(entry.problem)


class CorrectionMemory:
    """The corrections the router has seen, as profiles it can match new messages against."""

    COMMON = 64  # a word in more profiles than this makes no text-neighbour candidates (it still counts)

    def __init__(self, classifier: Any, settings: CorrectionSettings | None = None) -> None:
        self.classifier = classifier
        self.settings = settings or CorrectionSettings()
        self.epoch = -1
        self.reset()

    def reset(self) -> None:
        """Forget everything (``load`` reads it back)."""
        self.routing: list[Entry] = []
        self.grouping: list[Entry] = []
        self._routing_postings = _Postings()
        self.merged_into: dict[int, tuple[int, int]] = {}  # a merged case → (the case it joined, correction id)
        self.split_out: dict[int, tuple[int, int]] = {}  # a complaint split out → (its new case, correction id)
        self.seen: set[int] = set()
        self.last_id = 0
        self.epoch += 1  # a reset starts a new epoch (prepare workers start over)
        self.added = 0  # reassignments learned in this epoch (prepare workers are sent the ones they lack)

    def __bool__(self) -> bool:
        return bool(self.routing or self.grouping or self.merged_into or self.split_out)

    def groups(self) -> bool:
        """Whether any merge or split was learned (else ``regroup`` has nothing to do)."""
        return bool(self.grouping or self.merged_into or self.split_out)

    # ---- profiles ------------------------------------------------------------------------------------
    def profile(self, text: str) -> tuple[frozenset[str], frozenset[tuple[str, str]], tuple[str | None, str | None]]:
        """(content words, agency rules that fire, place) of a complaint's text, as the classifier sees it."""
        toks, hits, location = self.classifier.profile(pii.mask(text))
        return content(toks), signature(hits), _place(location)

    def add_reassign(self, cid: int, ticket: str | None, agency_from: str | None, agency_to: str,
                     text: str, kind: str | None = None) -> Entry | None:
        """Remember that ``text`` belongs to ``agency_to`` (a coordinator said so)."""
        if agency_to not in self.classifier.agencies:
            log.warning("correction %s: agency %s is not configured; not learned", cid, agency_to)
            return None
        words, rules, place = self.profile(text)
        if not words:
            return None
        entry = Entry(cid, "reassign", ticket, agency_from, agency_to, words, rules, place,
                      problem=problem_words(rules), complaint_kind=kind)
        self._adopt(entry)
        return entry

    def _adopt(self, entry: Entry) -> None:
        self._routing_postings.add(len(self.routing), entry)
        self.routing.append(entry)
        self.added += 1
        if len(self.routing) > self.settings.max_entries > 0:
            self._trim()

    # ---- prepare workers (router.prepare): the same reassignments in every process -----------------------
    def version(self) -> tuple[int, int]:
        return self.epoch, self.added

    def changes(self, epoch: int, added: int) -> tuple[str, tuple[Entry, ...]] | None:
        """What a memory that has seen ``(epoch, added)`` of this one lacks: None, the reassignments learned since
        (``add``), or all of them (``reset``: it saw another epoch, or more was learned than is still held)."""
        if epoch == self.epoch and added == self.added:
            return None
        if epoch == self.epoch and 0 <= self.added - added <= len(self.routing):
            return "add", tuple(self.routing[len(self.routing) - (self.added - added):])
        return "reset", tuple(self.routing)

    def apply(self, changes: tuple[str, tuple[Entry, ...]]) -> None:
        """Take in another memory's ``changes``: the reassignments end up the same, in the same order."""
        how, entries = changes
        if how == "reset":
            self.reset()
        for entry in entries:
            self._adopt(entry)

    def add_group(self, entry: Entry) -> None:
        """Remember one side of a merge or split."""
        if entry.words:
            self.grouping.append(entry)
            if len(self.grouping) > self.settings.max_entries > 0:
                del self.grouping[: len(self.grouping) - self.settings.max_entries]

    def _trim(self) -> None:
        keep = self.routing[-self.settings.max_entries:]
        self.routing, self._routing_postings = [], _Postings()
        for entry in keep:
            self._routing_postings.add(len(self.routing), entry)
            self.routing.append(entry)

    # ---- routing -------------------------------------------------------------------------------------
    def consult(self, toks: list[str], location: dict[str, Any] | None,
                hits: frozenset[tuple[str, str]], kind: str | None = None) -> Consulted | None:
        """The correction nearest to a message (tokens, place, agency rules that fired, kind by the rules), if one
        is near enough: a text neighbour first, else the closest problem neighbour, the newest on a tie.

        A problem neighbour must be an information request if and only if the corrected ticket was one: a
        request reassigned to a PPID says nothing about whose a complaint on the same problem is.
        """
        if not self.routing:
            return None
        s = self.settings
        words = content(toks)
        if not words:
            return None
        place = _place(location)
        found = self._text_neighbour(words, place)
        if found is not None:
            return found
        problem = problem_words(hits)
        if not problem:
            return None
        postings = self._routing_postings
        sets: set[frozenset[str]] = set()
        for w in problem:
            sets.update(postings.sets_by_word.get(w, ()))
        scored = sorted(((problem_similarity(p, problem), p) for p in sets), key=lambda sp: -sp[0])
        informasi = kind == "informasi"
        best: Consulted | None = None
        for sim, p in scored:
            if sim < s.problem_similarity or (best is not None and sim < best.similarity):
                break
            for i in reversed(postings.by_set[p]):  # the newest first
                entry = self.routing[i]
                if kind is not None and entry.complaint_kind is not None and \
                        informasi != (entry.complaint_kind == "informasi"):
                    continue
                if elsewhere(place, entry.place) or dice(words, entry.words) < s.min_overlap:
                    continue
                if best is None or (sim, entry.id) > (best.similarity, best.entry.id):
                    best = Consulted(entry, sim, "problem")
                break
        return best

    def _text_neighbour(self, words: frozenset[str], place: tuple[str | None, str | None]) -> Consulted | None:
        """The closest corrected complaint whose words overlap the message's by ``text_similarity`` (candidates
        are those sharing a word that few corrected complaints have: a neighbour that close shares one)."""
        postings = self._routing_postings
        shared: Counter[int] = Counter()
        skipped = 0
        for w in words:
            found = postings.by_word.get(w)
            if found is not None:
                if len(found) <= self.COMMON:
                    shared.update(found)
                else:
                    skipped += 1
        if not shared:
            return None
        limit, n = self.settings.text_similarity, len(words)
        best: Consulted | None = None
        for i, count in shared.items():
            entry = self.routing[i]
            if 2 * (count + skipped) < limit * (n + len(entry.words)):  # cannot reach it: most end here
                continue
            if elsewhere(place, entry.place):
                continue
            sim = dice(words, entry.words)
            if sim >= limit and (best is None or (sim, entry.id) > (best.similarity, best.entry.id)):
                best = Consulted(entry, sim, "text")
        return best

    # ---- grouping ------------------------------------------------------------------------------------
    def regroup(self, toks: list[str], location: dict[str, Any] | None, found: Lookup, ts: float,
                window: float, complaint: bool = True) -> Lookup:
        """Apply merges and splits to a dedup lookup: join a merged case, keep a split pair apart."""
        if not self.groups():
            return found
        words = content(toks)
        place = _place(location)
        limit = self.settings.text_similarity
        match = found.match
        if match is not None and match.case_id is not None:
            match = self._moved(match)
            found = Lookup(match, found.rejected) if match is not found.match else found
            # a split: the message is nearer the side that left the matched case than the side that stayed
            near: dict[tuple[int, int], float] = {}
            for e in self.grouping:
                if e.kind == "split" and not elsewhere(place, e.place) and match.case_id in (e.case_id, e.other_case):
                    near[(e.id, e.side)] = max(near.get((e.id, e.side), 0.0), dice(words, e.words))
            for e in self.grouping:
                if e.kind != "split" or e.other_case != match.case_id:
                    continue
                mine, theirs = near.get((e.id, e.side), 0.0), near.get((e.id, 1 - e.side), 0.0)
                if mine >= limit and mine > theirs:
                    return Lookup(None, {"similarity": round(match.similarity, 3), "candidate": match.candidate,
                                         "kept_apart": f"split by correction {e.id}"})
            return found
        if match is not None or not complaint:
            return found
        best: tuple[float, int] | None = None
        chosen: Entry | None = None
        for e in self.grouping:
            if e.kind != "merge" or e.case_id is None or e.root is None or abs(ts - e.ts) > window:
                continue
            if elsewhere(place, e.place):
                continue
            sim = dice(words, e.words)
            if sim >= limit and (best is None or (sim, e.id) > best):
                best, chosen = (sim, e.id), e
        if chosen is None or best is None:
            return found
        return Lookup(CorrectedMatch("incident", best[0], chosen.complaint_id or chosen.root, chosen.root,
                                     chosen.case_id, correction=chosen.id))

    def _moved(self, match: Match) -> Match:
        """The match with the case its candidate is in now: a router's index does not see officers move
        complaints (a split moves them to a new case; a merge moves a whole case into another)."""
        case, correction = match.case_id, 0
        if match.candidate in self.split_out:
            case, correction = self.split_out[match.candidate]
        for _ in range(16):  # merged into a case that was merged in turn
            if case not in self.merged_into:
                break
            case, correction = self.merged_into[case]
        if case == match.case_id:
            return match
        return CorrectedMatch(match.level, match.similarity, match.candidate, match.root, case, correction=correction)

    # ---- the store -----------------------------------------------------------------------------------
    async def load(self, session: Any) -> int:
        """Read every correction (the newest ``max_entries``) from the store; returns how many were learned."""
        self.reset()
        return await self.refresh(session)

    async def refresh(self, session: Any) -> int:
        """Learn the corrections committed since the last look (one indexed query when there are none)."""
        if not self.settings.enabled:
            return 0
        recent = utcnow() - timedelta(seconds=self.settings.recheck_seconds)
        q = (select(Correction).where(or_(Correction.id > self.last_id, Correction.at >= recent))
             .order_by(Correction.id))
        rows = [r for r in (await session.exec(q)).scalars().all() if r.id not in self.seen]
        if not rows:
            return 0
        if self.settings.max_entries and len(rows) > self.settings.max_entries:
            rows = rows[-self.settings.max_entries:]
        learned = 0
        for row in rows:
            self.seen.add(row.id)
            self.last_id = max(self.last_id, row.id)
            try:
                learned += await self._learn(session, row)
            except Exception:  # one odd row must not stop routing
                log.exception("correction %s could not be learned", row.id)
        if learned:
            log.info("router: learned %d corrections (up to id %d)", learned, self.last_id)
        return learned

    async def _learn(self, session: Any, row: Correction) -> int:
        detail = row.detail or {}
        if row.kind == "reassign":
            found = await _complaints(session, refs=[row.complaint_ref] if row.complaint_ref else [])
            if not found or not row.agency_to:
                return 0
            c = found[0]
            kind = detail.get("kind") or c.kind
            return int(self.add_reassign(row.id, row.ticket_ref, row.agency_from, row.agency_to, _text(c), kind)
                       is not None)
        if row.kind == "merge":
            into = await _case_id(session, detail.get("into"))
            source_case = await _case_id(session, row.case_ref)
            if into is None:
                return 0
            if source_case is not None:
                self.merged_into[source_case] = (into, row.id)
            first = [row.complaint_ref] if row.complaint_ref else []
            source = await _complaints(session, refs=first)
            target = await _complaints(session, case_id=into, exclude=first, limit=3)
            everyone = source + target
            if not everyone:
                return 0
            root = min(everyone, key=lambda c: c.id)
            for c in everyone:
                words, rules, place = self.profile(_text(c))
                self.add_group(Entry(row.id, "merge", None, None, None, words, rules, place, complaint_id=c.id,
                                     case_id=into, root=root.id, ts=_ts(c)))
            return 1
        if row.kind == "split":
            stayed_case = await _case_id(session, row.case_ref)
            left_case = await _case_id(session, detail.get("new_case"))
            moved = [r for r in detail.get("complaints") or [] if isinstance(r, str)]
            if stayed_case is None or left_case is None or not moved:
                return 0
            for cid in (await session.exec(select(Complaint.id).where(Complaint.ref.in_(moved)))).scalars().all():
                self.split_out[cid] = (left_case, row.id)
            sides = ((0, stayed_case, left_case, await _complaints(session, case_id=stayed_case, exclude=moved,
                                                                    limit=3)),
                     (1, left_case, stayed_case, await _complaints(session, refs=moved[:3])))
            for side, case_id, other, complaints in sides:
                for c in complaints:
                    words, rules, place = self.profile(_text(c))
                    self.add_group(Entry(row.id, "split", None, None, None, words, rules, place, complaint_id=c.id,
                                         case_id=case_id, other_case=other, ts=_ts(c), side=side))
            return 1
        return 0


def signature(hits: Any) -> frozenset[tuple[str, str]]:
    """The agency rules that fired with weight (a weak hint is no signature of the problem)."""
    return frozenset((label, name) for label, name, weight in hits if weight >= 1.0)


def problem_words(rules: frozenset[tuple[str, str]]) -> frozenset[str]:
    """The words of the rules that fired ("phrase:pohon tumbang" → pohon, tumbang; a regex counts as one word)."""
    out: set[str] = set()
    for _, name in rules:
        how, _, text = name.partition(":")
        if how in ("word", "phrase"):
            out.update(text.split())
        else:
            out.add(name)
    return frozenset(out)


def problem_similarity(corrected: frozenset[str], new: frozenset[str]) -> float:
    """How much a message shares a corrected complaint's problem: the mean of how much of the corrected
    complaint's problem words it contains and their Jaccard (the message may name more besides)."""
    if not corrected or not new:
        return 0.0
    inter = len(corrected & new)
    return 0.5 * inter / len(corrected) + 0.5 * inter / len(corrected | new)


def _text(c: Complaint) -> str:
    return c.text if not c.subject or c.subject in c.text else f"{c.subject}\n{c.text}"


def _ts(c: Complaint) -> float:
    at = c.created_at
    if at is None:
        return 0.0
    from datetime import UTC

    return (at if at.tzinfo else at.replace(tzinfo=UTC)).timestamp()


async def _case_id(session: Any, ref: Any) -> int | None:
    if not isinstance(ref, str) or not ref:
        return None
    return (await session.exec(select(Case.id).where(Case.ref == ref))).scalars().first()


async def _complaints(session: Any, refs: list[str] | None = None, case_id: int | None = None,
                      exclude: list[str] | None = None, limit: int = 3) -> list[Complaint]:
    q = select(Complaint)
    if refs is not None:
        if not refs:
            return []
        q = q.where(Complaint.ref.in_(refs))
    if case_id is not None:
        q = q.where(Complaint.case_id == case_id)
    if exclude:
        q = q.where(Complaint.ref.not_in(exclude))
    return list((await session.exec(q.order_by(Complaint.id).limit(limit))).scalars().all())


async def corrected_examples(session: Any) -> list[dict[str, Any]]:
    """Every reassigned complaint as a labelled example for ``omnichannel train``: its masked text, its kind and
    the agency the (last) coordinator chose, in correction id order; a row ``{id, text, kind, agency, ticket}``."""
    rows = (await session.exec(select(Correction).where(Correction.kind == "reassign", Correction.agency_to.is_not(None),
                                                        Correction.complaint_ref.is_not(None))
                               .order_by(Correction.id))).scalars().all()
    last: dict[str, Correction] = {}
    for row in rows:  # a ticket reassigned twice: the last word counts
        last.pop(row.complaint_ref, None)
        last[row.complaint_ref] = row
    complaints = {c.ref: c for c in await _complaints(session, refs=list(last), limit=max(len(last), 1))}
    out = []
    for ref, row in last.items():
        c = complaints.get(ref)
        if c is None:
            continue
        kind = (row.detail or {}).get("kind") or c.kind or "pengaduan"
        out.append({"id": f"correction:{row.id:08d}", "text": pii.mask(_text(c)), "kind": kind,
                    "agency": row.agency_to, "ticket": row.ticket_ref})
    return out


def read_examples(path: Any) -> list[dict[str, Any]]:
    """Corrections exported as JSON Lines (``omnichannel train --export-corrections``); each row needs text and
    agency (kind defaults to pengaduan). Raises ValueError naming the line of a bad row."""
    import json
    from pathlib import Path

    out = []
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}:{n}: not JSON ({exc.msg})") from None
        if not isinstance(row, dict) or not isinstance(row.get("text"), str) or not isinstance(row.get("agency"), str):
            raise ValueError(f"{path}:{n}: a correction needs text and agency")
        out.append({"id": str(row.get("id") or f"correction:{n:08d}"), "text": row["text"],
                    "kind": row.get("kind") or "pengaduan", "agency": row["agency"]})
    return out
