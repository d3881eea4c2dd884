"""Kind, agency and location of a complaint from weighted rules, with a confidence and an explanation."""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path
from typing import Any

from router.config import KINDS, ChannelDefault, RoutingConfig, RuleSet
from router.corrections import problem_words
from router.normalise import normalise
from router.places import Gazetteer
from router.remit import RemitIndex, addressed, addressee_index, agency_remits
from router.rounding import rounded as round  # every round() here is remembered (router.rounding: why)
from router.rules import Hit, Label, RuleMatcher, _leading_literals, stem  # noqa: F401 (re-exported)

log = logging.getLogger(__name__)


@dataclass
class Decision:
    """What the classifier decided for one message, and why."""

    kind: str
    agency: str
    confidence: float
    location: dict[str, Any] | None
    explanation: dict[str, Any] = field(default_factory=dict)


def _margin(scores: dict[str, float]) -> float:
    ranked = sorted((max(v, 0.0) for v in scores.values()), reverse=True)
    return ranked[0] - (ranked[1] if len(ranked) > 1 else 0.0) if ranked else 0.0


# a question: the clause before a "?" (after the previous sentence's end)
QUESTION_SUBJECT = 1.0
# the most words after a question's "?" that are only its closing formula ("terima kasih banyak pak")
_CLOSING_WORDS = 5
_QUESTION = re.compile(r"[^.!?\n]*\?")
# words ending in -kah that ask nothing: "semoga berkah", "mohon segera ambil langkah", "baru menikah"
_NOT_ASKING_KAH = ("langkah", "tingkah", "berkah", "nikah", "sedekah", "rekah", "bongkah")
_WORD = re.compile(r"\w+")
# "di mana", "ke mana", "dari mana": the preposition belongs to the question word it precedes
_WHERE_PREPOSITIONS = frozenset({"di", "ke", "dari"})
# a message of more than one clause: its unmarked last words are no question ("warga bingung mau makamin di mana")
_CLAUSE_BREAK = re.compile(r"[.,;:!\n]\s")
# what may follow a question's last word in a chat message: @mentions, #hashtags, emoji, closing punctuation
_TRAILER = re.compile(r"(?:[\s.!,;:)]|[@#]\w+|[^\w\s?])*$")


# the end of a sentence before a question: "." or "!" before a space, or a line break ("Jl." and the like excepted)
_SENTENCE_END = re.compile(r"(\w*)[.!]+(?=\s)|\n")
# the end of a clause: punctuation before a space, a line break, "!" or "?"
_CLAUSE_END = re.compile(r"[,.;:!?\n]\s|[!?\n]")
# abbreviations written with a period inside a sentence ("di Jl. Karya Baru", "Yth. Camat")
_ABBREVIATIONS = frozenset("jl jln gg no kel kec kab kav yth bpk sdr sdri dr drs ir prof tgl kp ds".split())


def _words_before_question(text: str) -> int:
    """How many words the sentences before the text's first question have: 0 when it opens with its question."""
    mark = text.find("?")
    if mark < 0:
        return 0
    end = 0
    for found in _SENTENCE_END.finditer(text, 0, mark):
        if (found.group(1) or "").lower() not in _ABBREVIATIONS:
            end = found.end()
    return len(_WORD.findall(text, 0, end)) if end else 0


def _opening_clause(text: str) -> str:
    """The text's first clause of three words or more (a vocative or a greeting before it is skipped: "Pak, …")."""
    start = 0
    for found in _CLAUSE_END.finditer(text):
        if len(_WORD.findall(text, start, found.start())) >= 3:
            return text[start:found.end()].rstrip()
        start = found.end()
    return text[start:]


def _asks_with_kah(word: str) -> bool:
    """Whether ``word`` is an interrogative in -kah ("apakah", "bisakah", "benarkah"), not a word that merely ends so."""
    return len(word) > 5 and word.endswith("kah") and not word.endswith(_NOT_ASKING_KAH)


def _is_word(char: str) -> bool:
    return char.isalnum() or char == "_"  # what re's \w matches in a str


def _without_trailer(text: str) -> str:
    """``_TRAILER.sub("", text)``, read from the text's end: the trailer is every character from the end back to a
    "?" or a word not after "@" or "#" (what the regex's characters and mentions cover). The regex tries every
    position of the text and, at each, runs to its end: ~75 us for a long mail; this reads the trailer alone."""
    i = len(text)
    while i:
        char = text[i - 1]
        if _is_word(char):
            start = i - 1
            while start and _is_word(text[start - 1]):
                start -= 1
            if not start or text[start - 1] not in "@#":
                break  # a word of the text ("… Warga 7"), not a @mention or #hashtag
            i = start - 1
        elif char == "?":
            break
        else:
            i -= 1
    return text[:i] if i < len(text) else text


def _top(probabilities: dict[str, float], n: int = 3) -> dict[str, float]:
    # (reverse=True keeps equal values in their order, as sorting by the negated value did; a C key function)
    return {k: round(v, 3) for k, v in sorted(probabilities.items(), key=itemgetter(1), reverse=True)[:n]}


_MODELS: dict[str, Any] = {}


def _load_model(routing: RoutingConfig) -> Any:
    """The configured model (or the shipped one), loaded once per file; None when off or absent."""
    settings = routing.model
    if not settings.enabled:
        return None
    from router.model import MODEL_PATH, Model

    path = Path(settings.path) if settings.path else MODEL_PATH
    if not path.is_file():
        if settings.path:
            log.warning("routing.model.path %s does not exist; routing with the rules alone", path)
        return None
    key = str(path.resolve())
    if key not in _MODELS:
        _MODELS[key] = Model.load(path)
    return _MODELS[key]


def _load_embeddings(routing: RoutingConfig, head: Any) -> tuple[Any, Any]:
    """(embedding head, embedder) when ``routing.embeddings`` is on, else (None, None)."""
    settings = routing.embeddings
    if not settings.enabled:
        return None, None
    from router import embed
    from router.embed_head import HEAD_PATH, EmbeddingHead

    if head is None:
        path = Path(settings.path) if settings.path else HEAD_PATH
        key = f"head:{path.resolve()}"
        if key not in _MODELS:
            if not path.is_file():
                log.warning("routing.embeddings is on but %s does not exist (omnichannel train --embeddings); "
                            "routing without embeddings", path)
                return None, None
            _MODELS[key] = EmbeddingHead.load(path)
        head = _MODELS[key]
    return head, embed.shared()


def _mix(a: dict[str, float], b: dict[str, float], weight: float) -> dict[str, float]:
    """(1 − weight) × a + weight × b over the labels of both."""
    return {k: (1 - weight) * a.get(k, 0.0) + weight * b.get(k, 0.0) for k in dict.fromkeys([*a, *b])}


def _confidence(top: float, second: float, half: float) -> float:
    if top <= 0:
        return 0.0
    return round((top / (top + max(second, 0.0))) * (top / (top + half)), 4)

# words after "jalan" that name no road: prepositions, demonstratives and a small road's size ("jalan di gang …",
# "jalan kecil")
_ROAD_GLUE = frozenset("di ke dari dalam masuk menuju dekat depan samping belakang yang yg nya ini itu tersebut dan atau "
                       "kecil sempit".split())


class Classifier:
    """Decides kind, agency and location of one message from the routing config."""

    def __init__(self, routing: RoutingConfig, agencies: list[Any], model: Any = None,
                 embed_head: Any = None) -> None:
        """``agencies``: codes, or agency configs (objects or dicts with ``code`` and optional ``remit``);
        ``model``: a trained ``router.model.Model`` (default: the configured or shipped one, if any);
        ``embed_head``: a ``router.embed_head.EmbeddingHead`` (default: the shipped one when
        ``routing.embeddings`` is on)."""
        self.cfg = routing
        codes, remits, self.names, addressees = agency_remits(agencies)
        self.agencies = set(codes) | {routing.triage_agency}
        self.lexicon = routing.lexicon or None
        unknown = set(routing.agencies) - self.agencies
        if unknown:
            log.warning("routing rules for unconfigured agencies ignored: %s", ", ".join(sorted(unknown)))
        rules: dict[Label, RuleSet] = {("agency", code): rs for code, rs in routing.agencies.items()
                                       if code in self.agencies}
        rules.update({("kind", kind): rs for kind, rs in routing.kinds.rules.items()})
        self.rules = RuleMatcher(rules, routing.lexicon)
        self.signatures: dict[str, list[tuple[str, ...]]] = defaultdict(list)
        for marker in routing.signature_markers:
            seq = tuple(normalise(marker, routing.lexicon).split())
            if seq:
                self.signatures[seq[0]].append(seq)
        self._several_phrases = [normalise(cue, routing.lexicon) for cue in routing.several_agencies.listed_cues]
        self._several_phrases = [cue for cue in self._several_phrases if cue]
        self._several_cues = frozenset(cue.split()[0] for cue in self._several_phrases)
        self.landmark_words = frozenset(normalise(" ".join(routing.landmark_words), routing.lexicon).split()) \
            if routing.landmark_weight < 1 else frozenset()
        self._tags = frozenset(routing.kinds.question_tags)
        self._soft_tags = frozenset(routing.kinds.question_tags_softened)
        self._softeners = frozenset(routing.kinds.question_softeners)
        self._question_words = frozenset(w for t in routing.kinds.question_words
                                         for w in normalise(t, routing.lexicon).split()) - _WHERE_PREPOSITIONS
        self._patterns: dict[str, re.Pattern[str]] = {}
        self.questions = RuleMatcher({("kind", kind): rs for kind, rs in routing.kinds.question_rules.items()},
                                     routing.lexicon) if routing.kinds.question_rules else None
        self.gazetteer = Gazetteer(routing.gazetteer, routing.lexicon, common=self.rules.known)
        self._no_channel = ChannelDefault()  # type: ignore[call-arg]  # (pydantic Field defaults)
        self._known = self.rules.known | set(self.gazetteer.index)
        settings = routing.remits
        self.remits = RemitIndex(remits if settings.enabled else {}, routing.lexicon, weight=settings.weight,
                                 pair_weight=settings.pair_weight, max_score=settings.max_score,
                                 exclusion_weight=settings.exclusion_weight, place_weight=settings.place_weight,
                                 synonyms=settings.synonyms)
        self.owner = self._owners(rules, routing.lexicon) if settings.transfer else {}
        self._road_classes = sorted({tuple(normalise(c, routing.lexicon).split()) for c in settings.road_classes} - {()})
        self._road_firsts = frozenset(c[0] for c in self._road_classes)
        self._damage_words = frozenset(w for t in settings.road_damage_words for w in normalise(t, routing.lexicon).split())
        # after "jalan", the words that do not make it a named road: a small road's class ("jalan gang", "jalan
        # setapak"), its damage ("jalan berlubang") or a preposition ("jalan di gang mawar")
        self._not_a_road_name = self._road_firsts | self._damage_words | _ROAD_GLUE | \
            {c[1] for c in self._road_classes if len(c) > 1 and c[0] == "jalan"}
        self.addressed = addressee_index(addressees, routing.lexicon) if settings.enabled else {}
        self.model = model if model is not None else _load_model(routing)
        self.embed_head: Any
        self.embedder: Any
        # consulted with the learned layer only: without a model, no embedder is loaded
        self.embed_head, self.embedder = _load_embeddings(routing, embed_head) if self.model is not None \
            else (None, None)
        info = routing.kinds.rules.get("informasi")
        self._info_terms = {normalise(t, routing.lexicon) for t in [*info.words, *info.phrases]} if info else set()
        self._info_words = {w for t in self._info_terms for w in t.split()}
        self._asking_words = frozenset(routing.kinds.asking_words)
        self.ppid_utama = routing.kinds.ppid_utama if routing.kinds.ppid_utama in self.agencies \
            else routing.triage_agency
        # officers' corrections (``router.corrections.CorrectionMemory``), set by whoever loads them
        self.corrections: Any = None

    def profile(self, text: str) -> tuple[list[str], list[tuple[str, str, float]], dict[str, Any] | None]:
        """(stemmed tokens, agency rule hits as (agency, rule, weight), location) of a text: what a correction
        remembers of the complaint it corrected."""
        norm = normalise(text, self.lexicon)
        toks = self._stem(norm.split())
        location, _ = self.gazetteer.locate(toks, norm)
        hits = [(label, name, weight) for (group, label), name, weight in sorted(self.rules.match(toks, norm))
                if group == "agency"]
        return toks, hits, location

    def _owners(self, rulesets: dict[Label, RuleSet],
                lexicon: dict[str, str]) -> dict[tuple[str, str], tuple[str, ...]]:
        """(agency, rule name) → the agencies whose remits own what the rule recognises, where that is others.

        The rules say what the problem is ("lampu jalan"); the remits say whose it is in this Pemda. A rule
        of an agency with a remit moves to the one other agency whose remit names every word of the rule
        when its own remit does not name them; when its own remit excludes them, it is shared among the
        agencies whose remits name them.
        """
        moved: dict[tuple[str, str], tuple[str, ...]] = {}
        remits = self.remits
        for (group, code), rules in rulesets.items():
            if group != "agency" or code not in remits.agencies:
                continue
            for name, text in [(f"word:{w}", w) for w in rules.words] + [(f"phrase:{p}", p) for p in rules.phrases]:
                weight = rules.words.get(text, rules.phrases.get(text, 0))
                # (not "in (code, *names)": mypyc 2.4 cannot compile a starred item in a tuple tested with "in")
                if weight < 1.0 or text.lower() == code or text.lower() in str(self.names.get(code, "")).lower().split():
                    continue  # weak hints stay; so do an agency's own code and name
                owners, excluders = remits.owners(normalise(text, lexicon).split())
                if code in owners:
                    continue
                owners &= self.agencies
                if code in excluders and owners:
                    moved[(code, name)] = tuple(sorted(owners))
                elif len(owners) == 1 and not self._names(code, text, lexicon):
                    moved[(code, name)] = tuple(owners)
        return moved

    def _road_owners(self, toks: list[str], landmarks: set[str] | None) -> dict[str, tuple[str, ...]]:
        """Agency → the agencies whose remits name the class of small road the text is about ("gang", "jalan
        setapak"), for each agency whose remit does not: the remits say whose such a road is in this Pemda."""
        owners: set[str] = set()
        n = len(toks)
        if any(t == "jalan" and i + 1 < n and toks[i + 1] not in self._not_a_road_name and not toks[i + 1].isdigit()
               for i, t in enumerate(toks)):
            return {}  # a named road beside the small one ("jalan raya … di mulut gang 5", "jl merdeka"): the text
            # may be about either, and a named road's damage stays with the agency whose rules say so
        for road in self._road_classes:
            k = len(road)
            for i in range(n - k + 1):
                if tuple(toks[i:i + k]) == road and not (landmarks and toks[i] in landmarks):
                    named, _ = self.remits.owners(list(road))
                    owners |= named & self.agencies
                    break
        if not owners:
            return {}
        moved = tuple(sorted(owners))
        return {code: moved for code in self.agencies if code not in owners}

    def _damage_rule(self, label: Label, name: str, norm: str) -> bool:
        """Whether an agency rule names a road's surface or its damage (road_damage_words), or a small road itself."""
        damage = self._damage_words
        if name.startswith("regex:"):
            pattern = self._patterns.get(name)
            if pattern is None:
                pattern = self._patterns[name] = re.compile(name[6:])
            return any(not damage.isdisjoint(m.group().split()) for m in pattern.finditer(norm))
        toks = self.rules.tokens.get((label, name), ())
        return not damage.isdisjoint(toks) or toks in self._road_classes

    def _names(self, code: str, text: str, lexicon: dict[str, str]) -> bool:
        """Whether ``code``'s remit names the first word of ``text`` (then a partial match keeps the rule home)."""
        owners, _ = self.remits.owners(normalise(text, lexicon).split()[:1])
        return code in owners

    def _stem(self, toks: list[str]) -> list[str]:
        return stem(toks, self._known)

    def classify(self, text: str, *, norm: str | None = None, channel: str | None = None,
                 default_agency: str | None = None) -> Decision:
        """Classify ``text`` (or its already normalised form ``norm``) arriving on ``channel``."""
        cfg = self.cfg
        if norm is None:
            norm = normalise(text, self.lexicon)
        toks = self._stem(norm.split())
        channel_cfg = cfg.channel_defaults.get(channel or "", self._no_channel)

        # location first: it can add evidence for the kecamatan office
        location, location_how = self.gazetteer.locate(toks, norm)
        if self.signatures and ("hormat" in norm or "wassalam" in norm):
            toks, norm = self._unsigned(toks, norm)

        scores: dict[str, float] = defaultdict(float)
        rules: list[list[Any]] = []
        for code, prior in channel_cfg.prior.items():
            if code in self.agencies:
                scores[code] += prior
                rules.append([f"{code}:channel_prior:{channel}", prior])
        kind_hits: list[Hit] = []
        by_rules: dict[str, float] = defaultdict(float)  # what the rules alone would say
        landmarks = self._landmarks(toks) if self.landmark_words else None
        credited: list[tuple[str, str, float, tuple[str, ...]]] = []  # (agency, rule, weight, counted for)
        # thanks that only close a question or a letter ("… nomor berapa? terima kasih", "atas perhatiannya kami
        # ucapkan terima kasih") are politeness, not a message of thanks
        closing = "terima kasih" in norm and self._closing_thanks(text, norm)
        road = self._road_owners(toks, landmarks) if self._road_classes and not self._road_firsts.isdisjoint(toks) \
            else None
        for hit in sorted(self.rules.match(toks, norm)):  # a fixed order: float sums alike in every process
            (group, label), name, weight = hit
            if group == "kind":
                if not (closing and label == "bukan_aduan" and weight > 0 and "terima kasih" in name):
                    kind_hits.append(hit)
                continue
            owners = self.owner.get((label, name)) if self.owner else None
            shown = name
            if road and label in road and weight > 0 and self._damage_rule((group, label), name, norm):
                owners, shown = road[label], f"{name} (road class)"
            if landmarks and self.rules.first_token.get(((group, label), name)) in landmarks:
                weight *= cfg.landmark_weight  # "depan sekolah": where it is, not what is wrong
                shown = f"{name} (landmark)"
            by_rules[label] += weight
            if owners is not None:
                share = weight / len(owners)
                for owner in owners:
                    scores[owner] += share
                    rules.append([f"{owner}:{shown} (remit; rule of {label})", share])
                credited.append((label, name, weight, owners))
                continue
            scores[label] += weight
            rules.append([f"{label}:{shown}", weight])
            credited.append((label, name, weight, (label,)))
        rules_only = max(by_rules, key=by_rules.__getitem__) if by_rules else None
        asked = self._unmarked_question(text)
        remit_terms: dict[str, list[str]] = {}
        for remit in self.remits.match(toks):
            if remit.agency in self.agencies:
                scores[remit.agency] += remit.score
                remit_terms[remit.agency] = list(remit.terms[:6])
                rules.append([f"{remit.agency}:remit:{', '.join(remit.terms[:3])}", remit.score])
        outside = self.remits.outside(toks, self.landmark_words) if cfg.remits.outside_weight else {}
        for code, terms in outside.items():
            if code in self.agencies:
                self._outside(code, terms, scores, rules)
                # a thing named that is not the Pemda's is a matter all the same (for the kind: "SMKN 2 minta
                # sumbangan komite" complains of a school the city does not run)
                by_rules[code] += cfg.remits.outside_weight * min(len(terms), 2)
        if self.addressed:  # "@dinsoskotabdg …", "Yth. Kepala Dinas Lingkungan Hidup": the writer chose
            for code in sorted(addressed(self.addressed, toks)):  # a set: the same order in every process
                if code in self.agencies:
                    scores[code] += cfg.remits.addressee_weight
                    rules.append([f"{code}:addressed", cfg.remits.addressee_weight])
        if location and ("kecamatan" in location or "kelurahan" in location):
            for code, bonus in cfg.gazetteer.location_bonus.items():
                if scores.get(code, 0.0) > 0:
                    scores[code] += bonus
                    rules.append([f"{code}:location", bonus])
        ranked = sorted(((round(s, 6), c) for c, s in scores.items() if s > 0), reverse=True)  # sums in any order tie alike
        top_score, top_agency = ranked[0] if ranked else (0.0, cfg.triage_agency)
        second = ranked[1][0] if len(ranked) > 1 else 0.0
        confidence = _confidence(top_score, second, cfg.confidence_half_score)

        # whether it is a complaint at all is for the rules to say; the remits only say whose it is
        rules_score = max(by_rules.values(), default=0.0)
        # a question about something an agency holds (its rules, its remit, its account addressed) asks for it
        subject = rules_score > 0 or top_score >= QUESTION_SUBJECT
        if self.questions is not None and subject and "?" in asked:
            kind_hits += self._question_hits(asked, norm, toks)
        # (a question whose subject only the remits or an addressed account name has that much of one)
        subject_score = min(top_score, rules_score) if rules_score > 0 else \
            min(top_score, QUESTION_SUBJECT) if subject and "?" in asked else 0.0
        question = "?" in asked and subject
        # a question asked after telling something ("… asapnya nutupin jalan. kena denda ga sih?")
        told = question and bool(cfg.kinds.question_mark_after_statement) \
            and _words_before_question(asked) >= cfg.kinds.statement_min_words
        proposed = bool(cfg.kinds.proposal_first) and any(
            label == ("kind", "aspirasi") and weight > 0 for label, _, weight in kind_hits) and self._proposes(text)
        if cfg.kinds.unasked_informasi_factor < 1 and "?" not in asked:
            kind_hits = self._unasked(kind_hits)
        if self._question_words:
            kind_hits = self._one_per_question_word(kind_hits, norm)
        kind_args = (kind_hits, len(toks), subject_score, channel_cfg, question, told, proposed)
        kind, kind_explained = self._kind(*kind_args)
        correction, decided = None, False
        if self.corrections:  # an officer corrected a message like this one: it weighs in (router.corrections)
            before = top_agency if ranked else None
            correction = self._corrected(toks, location, credited, scores, rules, kind)
            if correction is not None:
                ranked = sorted(((round(s, 6), c) for c, s in scores.items() if s > 0), reverse=True)
                top_score, top_agency = ranked[0] if ranked else (0.0, cfg.triage_agency)
                second = ranked[1][0] if len(ranked) > 1 else 0.0
                confidence = _confidence(top_score, second, cfg.confidence_half_score)
                # it decided when it changed the answer (a correction that agrees with the rules is not why)
                decided = top_agency == correction.entry.agency_to != before
        # the learned layer is asked only where the rules are weak: no agency, or a close call on the kind
        learned = head = None
        model_cfg = cfg.model
        if self.model is not None and (confidence < model_cfg.agency_confidence or _margin(kind_explained["scores"])
                                       < model_cfg.kind_margin):
            learned = self.model.predict(toks)
            if self.embed_head is not None:
                head = self.embed_head.predict(self.embedder.one(text))  # (kind, agency) beliefs of the head alone
                learned = self._with_embedding(learned, head)
            by_rules_kind = kind
            kind, kind_explained = self._kind(*kind_args, learned[0])
            if head is not None:  # the mix decided; what the embedding head alone believed
                kind_explained["embedding_head"] = _top(head[0])
            if kind != by_rules_kind:
                kind_explained["chosen_by"] = "model"
            agency_weight = model_cfg.agency_weight if self.embed_head is None else cfg.embeddings.agency_weight
            if agency_weight and confidence < model_cfg.agency_confidence and ranked:
                # a close call between agencies: the model's belief weighs like one more rule
                for code, p in learned[1].items():
                    if code in self.agencies and p * agency_weight >= 0.1:
                        scores[code] += p * agency_weight
                        rules.append([f"{code}:model", round(p * agency_weight, 3)])
                ranked = sorted(((round(s, 6), c) for c, s in scores.items() if s > 0), reverse=True)  # sums in any order tie alike
                top_score, top_agency = ranked[0]
                second = ranked[1][0] if len(ranked) > 1 else 0.0
                confidence = _confidence(top_score, second, cfg.confidence_half_score)

        listed = bool(self._several_cues) and not self._several_cues.isdisjoint(norm.split()) \
            and self._listed(norm)
        forced = cfg.kinds.agency_for_kind.get(kind)
        if forced is not None:
            agency, chosen_by = forced, f"kind:{kind}"
            confidence = kind_explained["confidence"]
        elif kind == "informasi" and ranked and ranked[0][1] in outside and ranked[0][1] != self.ppid_utama \
                and ranked[0][0] >= 2 * second:
            # information about what the remits say is not the Pemda's (a national bridge, a market another body
            # runs): no PPID of this Pemda holds it, whoever passes such things on does
            agency, chosen_by = ranked[0][1], "outside_pemda"
            confidence = kind_explained["confidence"]
        elif kind == "informasi":
            agency, chosen_by = self._ppid(ranked, self._asking(rules, remit_terms))
            confidence = kind_explained["confidence"]
        elif self._several(ranked, listed) and not (correction is not None and top_agency == correction.entry.agency_to):
            agency, chosen_by = cfg.triage_agency, "several_agencies"
        elif confidence >= cfg.threshold and top_agency in self.agencies:
            agency = top_agency
            if correction is not None and top_agency == correction.entry.agency_to and (decided or self._several(ranked, listed)):
                chosen_by = "correction"  # it changed the answer, or settled what several agencies shared
            else:
                chosen_by = "remit" if top_agency != rules_only and (
                    top_agency in remit_terms or any("(remit;" in r[0] for r in rules)) else "rules"
        elif learned is not None and self._learned_agency(learned[1]) is not None:
            agency, confidence = self._learned_agency(learned[1])  # type: ignore[misc]
            chosen_by = "model"
        elif default_agency:
            agency, chosen_by = default_agency, "default_agency"
        elif channel_cfg.agency:
            agency, chosen_by = channel_cfg.agency, "channel_default"
        else:
            agency, chosen_by = cfg.triage_agency, "below_threshold"
        rules.sort(key=lambda r: -r[1])
        explanation = {
            "kind": kind_explained,
            "agency": {"rules": rules, "scores": {c: round(s, 3) for s, c in ranked},
                       "score": round(top_score, 3), "best": top_agency if ranked else None,
                       "threshold": cfg.threshold, "confidence": confidence, "chosen_by": chosen_by,
                       "remit": remit_terms.get(agency, []),
                       **({"model": _top(learned[1])} if learned else {}),
                       # with the embed extra, "model" is the mix; what the embedding head alone believed:
                       **({"embedding_head": _top(head[1]), "embedding_weight": cfg.embeddings.weight} if head else {}),
                       **({"correction": correction.explain()} if correction is not None else {})},
            "location": location_how,
        }
        return Decision(kind=kind, agency=agency, confidence=confidence, location=location,
                        explanation=explanation)

    def _with_embedding(self, learned: tuple[dict[str, float], dict[str, float]],
                        head: tuple[dict[str, float], dict[str, float]]) -> tuple[dict[str, float], dict[str, float]]:
        """The n-gram model's beliefs mixed with the embedding head's (``routing.embeddings.weight``)."""
        weight = self.cfg.embeddings.weight
        kind, agency = head
        return _mix(learned[0], kind, weight), _mix(learned[1], agency, weight)

    def _outside(self, code: str, terms: list[str], scores: dict[str, float], rules: list[list[Any]]) -> None:
        """Credit ``code`` with the things the text names that its remit lists as not the Pemda's (the Jembatan
        Ampera, SMA/SMK, the national road) and take ``outside_discount`` of every other agency's evidence."""
        settings = self.cfg.remits
        weight = settings.outside_weight * min(len(terms), 2)
        if settings.outside_discount:
            for other in list(scores):
                if other != code and scores[other] > 0:
                    cut = scores[other] * settings.outside_discount
                    scores[other] -= cut
                    rules.append([f"{other}:outside_pemda", -round(cut, 3)])
        scores[code] += weight
        rules.append([f"{code}:outside_pemda:{', '.join(terms[:3])}", weight])

    def _unsigned(self, toks: list[str], norm: str) -> tuple[list[str], str]:
        """A letter without its signature block ("Hormat kami, Lurah Palasari"): who signs is not what is wrong."""
        n = len(toks)
        for i in range(n - 1, n // 2 - 1, -1):
            for seq in self.signatures.get(toks[i], ()):
                if tuple(toks[i:i + len(seq)]) == seq:
                    return toks[:i], " ".join(norm.split()[:i])
        return toks, norm

    def _unasked(self, hits: list[Hit]) -> list[Hit]:
        """``hits`` with informasi's word rules (less its asking words) weighed ``unasked_informasi_factor``: a text that
        asks nothing names information ("jadwal", "info", "syarat") without requesting it."""
        kinds = self.cfg.kinds
        out: list[Hit] = []
        for label, name, weight in hits:
            if label == ("kind", "informasi") and weight > 0 and name.startswith("word:") \
                    and name[5:] not in self._asking_words:
                weight = round(weight * kinds.unasked_informasi_factor, 6)
            out.append((label, name, weight))
        return out

    def _proposes(self, text: str) -> bool:
        """Whether the text's opening clause proposes (aspirasi evidence of at least ``proposal_first_min``) and
        complains of nothing (no pengaduan evidence): "@akun tolong pasang sirine banjir di kali, …"."""
        opening = _opening_clause(text)
        if opening.endswith("?"):  # "job fair … jadi diadain?" asks whether it is held
            return False
        clause = normalise(opening, self.lexicon)
        if not clause:
            return False
        found: dict[str, float] = defaultdict(float)
        for (group, label), _, weight in sorted(self.rules.match(self._stem(clause.split()), clause)):
            if group == "kind":
                found[label] += weight
        return found["aspirasi"] >= self.cfg.kinds.proposal_first_min and found["pengaduan"] <= 0

    @staticmethod
    def _closing_thanks(text: str, norm: str) -> bool:
        """Whether the text's thanks close a request: a few words after its last question mark ("… jadwalnya
        bulan apa ya? terima kasih", "kumaha carana? hatur nuhun"), or a letter's "atas perhatian(nya)"."""
        if "atas perhatian" in norm:
            return True
        last = text.rfind("?")
        if last < 0:
            return False
        after = _WORD.findall(text[last + 1:])
        return 0 < len(after) <= _CLOSING_WORDS

    def _landmarks(self, toks: list[str]) -> set[str] | None:
        """Tokens that only come right after a landmark word ("depan", "dekat"): places, not problems."""
        words = self.landmark_words
        if words.isdisjoint(toks):  # most texts: no landmark word at all
            return None
        after = {toks[i] for i in range(1, len(toks)) if toks[i - 1] in words}
        if not after:
            return None
        after.difference_update(toks[i] for i in range(len(toks)) if i == 0 or toks[i - 1] not in words)
        return after or None

    def _unmarked_question(self, text: str) -> str:
        """``text``, with a "?" after it when it is a one-clause chat question written without one: its last words, less
        @mentions, hashtags, emoji and softeners ("ya", "sih", "min"), end in a question tag ("brp ya",
        "perlu izin ke mana ya", "bisa online ga ya", "udah ditetapkan belum ya @akun")."""
        kinds = self.cfg.kinds
        if "?" in text or not (kinds.question_tags or kinds.question_tags_softened):
            return text
        tail = _without_trailer(text)
        if _CLAUSE_BREAK.search(tail):  # "…ga bisa tidur. izinnya sampe jam berapa sih": a complaint's aside
            return text
        words = _WORD.findall(tail[-80:].lower())
        softened = False
        while words and words[-1] in self._softeners:
            words.pop()
            softened = True
        if words and (words[-1] in self._tags or (softened and words[-1] in self._soft_tags)
                      or _asks_with_kah(words[-1])):  # "bisakah", "adakah"
            return tail.rstrip() + "?"
        return text

    def _question_hits(self, text: str, norm: str, toks: list[str]) -> list[Hit]:
        """Kind rules matched inside the text's questions (each rule once): what is asked, not that it is."""
        found: set[Hit] = set()
        whole = text.rstrip().rstrip("?")
        particles = self.cfg.kinds.question_particles
        for clause in _QUESTION.findall(text):
            if particles:
                words = set(_WORD.findall(clause.lower()))
                found.update((("kind", kind), f"particle:{word}", weight) for kind, table in particles.items()
                             for word, weight in table.items() if word in words)
            if clause.rstrip("?") == whole:  # the text is one question: its normal form is at hand
                found |= self.questions.match(toks, norm)  # type: ignore[union-attr]
                continue
            clause_norm = normalise(clause, self.lexicon)
            if clause_norm:
                found |= self.questions.match(self._stem(clause_norm.split()), clause_norm)  # type: ignore[union-attr]
        return [(label, f"question:{name}", weight) for label, name, weight in sorted(found)]

    def _question_word(self, toks: tuple[str, ...] | list[str]) -> str | None:
        """The question word ``toks`` consist of ("apakah", "di mana", "bisakah"), or None when they say more."""
        words = [t for t in toks if t not in _WHERE_PREPOSITIONS]
        if len(words) != 1:
            return None
        word = words[0]
        return word if word in self._question_words or _asks_with_kah(word) else None

    def _cue_word(self, label: Label, name: str, norm: str) -> str | None:
        """The one question word a kind rule matched (its rule text, or every match of its regex), or None."""
        bare = name.removeprefix("question:")
        matcher = self.questions if bare != name else self.rules
        if bare.startswith("regex:"):
            pattern = self._patterns.get(bare)
            if pattern is None:
                pattern = self._patterns[bare] = re.compile(bare[6:])
            found = {self._question_word(m.group().split()) for m in pattern.finditer(norm)}
            return found.pop() if len(found) == 1 else None
        return None if matcher is None else None if (toks := matcher.tokens.get((label, bare))) is None \
            else self._question_word(toks)

    def _one_per_question_word(self, hits: list[Hit], norm: str) -> list[Hit]:
        """``hits`` with one piece of evidence per kind and question word: "apakah" is a word rule, a question rule and
        the -kah regex of informasi at once, yet one word asks once (the strongest of its cues counts)."""
        if self._question_words.isdisjoint(norm.split()) and "kah" not in norm:
            return hits
        words = [self._cue_word(label, name, norm) if weight > 0 else None for label, name, weight in hits]
        best: dict[tuple[Label, str], Hit] = {}
        for hit, word in zip(hits, words, strict=True):
            if word is not None:
                kept = best.get((hit[0], word))
                if kept is None or (hit[2], hit[1]) > (kept[2], kept[1]):
                    best[(hit[0], word)] = hit
        return [hit for hit, word in zip(hits, words, strict=True) if word is None or best[(hit[0], word)] == hit]

    def _corrected(self, toks: list[str], location: dict[str, Any] | None,
                   credited: list[tuple[str, str, float, tuple[str, ...]]], scores: dict[str, float],
                   rules: list[list[Any]], kind: str) -> Any:
        """Weigh in the nearest officer's correction, if any: the shared rules count for the agency it chose,
        plus its own weight × similarity. Returns the correction consulted (or None)."""
        hits = frozenset((label, name) for label, name, weight, _ in credited if weight >= 1.0)
        found = self.corrections.consult(toks, location, hits, kind)
        if found is None:
            return None
        entry, settings = found.entry, self.corrections.settings
        to, ref = entry.agency_to, entry.ticket or f"#{entry.id}"
        if to not in self.agencies:
            return None
        for label, name, weight, owners in credited:
            # the rules that misled the corrected complaint (or name its problem's words) count for ``to``
            if owners == (to,) or ((label, name) not in entry.rules and not (
                    found.tier == "problem" and entry.agency_from in owners
                    and problem_words(frozenset([(label, name)])) <= entry.problem)):
                continue
            share = weight / len(owners)
            for owner in owners:
                if owner == to:
                    continue
                scores[owner] -= share
                scores[to] += share
                rules.append([f"{owner}:{name} (moved by correction {ref})", -round(share, 3)])
                rules.append([f"{to}:{name} (correction {ref}; rule of {label})", round(share, 3)])
        weight = (settings.text_weight if found.tier == "text" else settings.problem_weight) * found.similarity
        if weight > 0:
            scores[to] += weight
            rules.append([f"{to}:correction:{ref}", round(weight, 3)])
        return found

    def _asking(self, rules: list[list[Any]], remit_terms: dict[str, list[str]]) -> float:
        """How much of the PPID utama's agency score only says that information is asked for: its rules and
        remit terms that are information-request words too ("PPID", "informasi publik")."""
        utama, words = self.ppid_utama, self._info_words
        prefix = f"{utama}:"
        out = 0.0
        for name, weight in rules:
            if not name.startswith(prefix):
                continue
            _, how, what = (name.split(":", 2) + ["", ""])[:3]
            if how == "remit":
                if any(w in words for term in remit_terms.get(utama, ()) for w in term.split()):
                    out += weight
            elif how in ("word", "phrase") and what in self._info_terms:
                out += weight
        return out

    def _ppid(self, ranked: list[tuple[float, str]], asking: float = 0.0) -> tuple[str, str]:
        """Where an information request goes: the PPID pelaksana of the agency the text is about, else the
        PPID utama (UU 14/2008; the SLA is the information one either way, by kind).

        The PPID utama's own evidence is not compared: "informasi publik", "PPID", "UU 14/2008" say what
        kind of message it is, not which agency holds the information.
        """
        kinds = self.cfg.kinds
        candidates = [(score, code) for score, code in ranked if code != self.cfg.triage_agency]
        for i, (score, code) in enumerate(candidates):
            if code == self.ppid_utama:
                # its own service (the website, public Wi-Fi) when its evidence, less the words that only ask
                # for information, dwarfs every other agency's
                rest = candidates[i + 1][0] if i + 1 < len(candidates) else 0.0
                if i == 0 and score - asking >= kinds.ppid_utama_margin * max(rest, kinds.informasi_min_score):
                    return code, "ppid_utama"
                continue
            if score >= kinds.informasi_min_score:
                return code, "ppid_pelaksana"
            break
        return self.ppid_utama, "ppid_utama"

    def _listed(self, norm: str) -> bool:
        """Whether the text says it lists several problems ("banyak masalah: …", "semua rusak", "sekaligus")."""
        padded = f" {norm} "
        return any(f" {cue} " in padded for cue in self._several_phrases)

    def _several(self, ranked: list[tuple[float, str]], listed: bool = False) -> bool:
        """Several agencies with strong evidence and none primary: a coordinator must split the work. A text that
        says it lists several problems needs less evidence of each (``listed_min_score``, ``listed_share``)."""
        rule = self.cfg.several_agencies
        if rule.min_agencies <= 1 or len(ranked) < rule.min_agencies:
            return False
        top = ranked[0][0]
        least, share = (rule.listed_min_score, rule.listed_share) if listed else (rule.min_score, rule.share)
        strong = [s for s, c in ranked if c != self.cfg.triage_agency and s >= least and s >= share * top]
        return len(strong) >= rule.min_agencies

    def _learned_agency(self, probabilities: dict[str, float]) -> tuple[str, float] | None:
        """The model's agency and probability where it is sure enough: never triage itself, nor the PPID utama,
        which the model learns as the catch-all of texts about "the Pemkot" (information requests about no
        agency go there) and would otherwise receive vague complaints ("pelayanan pemkot makin buruk")."""
        code = max(probabilities, key=probabilities.__getitem__)
        p = probabilities[code]
        if p >= self.cfg.model.agency_threshold and code in self.agencies \
                and code not in (self.cfg.triage_agency, self.ppid_utama):
            return code, round(p, 4)
        return None

    def _kind(self, hits: list[Hit], n_tokens: int, agency_score: float,
              channel_cfg: ChannelDefault, question: bool = False, told: bool = False, proposed: bool = False,
              learned: dict[str, float] | None = None) -> tuple[str, dict[str, Any]]:
        kinds_cfg = self.cfg.kinds
        scores = {k: kinds_cfg.prior.get(k, 0.0) for k in KINDS}
        rules: list[list[Any]] = []
        evidence = 0.0
        for (_, label), name, weight in hits:
            scores[label] += weight
            evidence += abs(weight)
            rules.append([f"{label}:{name}", weight])
        if learned:  # the model's calibrated belief, weighed like one more rule per kind
            weight = self.cfg.model.kind_weight
            for label, p in learned.items():
                if label in scores and p * weight >= 0.05:
                    scores[label] += p * weight
                    rules.append([f"{label}:model", round(p * weight, 3)])
        if question:  # a question mark is evidence, not proof: "kapan diperbaiki??" is a complaint
            marks = kinds_cfg.question_mark_after_statement if told else kinds_cfg.question_mark
            for label, weight in marks.items():
                scores[label] += weight
                rules.append([f"{label}:question_mark{' (after a statement)' if told else ''}", weight])
        if proposed:  # it opens with what it proposes; the grievance after it says why
            for label, weight in kinds_cfg.proposal_first.items():
                scores[label] += weight
                rules.append([f"{label}:proposal_first", weight])
        others = max(scores[k] for k in KINDS if k != "bukan_aduan")
        not_complaint = scores["bukan_aduan"]
        if not_complaint > 0 and not_complaint >= others and (
                agency_score < kinds_cfg.bukan_aduan_max_agency_score
                or (not_complaint >= kinds_cfg.bukan_aduan_strong and n_tokens <= kinds_cfg.bukan_aduan_strong_max_tokens)
                or (not_complaint - others >= kinds_cfg.bukan_aduan_margin
                    and n_tokens <= kinds_cfg.bukan_aduan_margin_max_tokens)):
            kind, chosen_by = "bukan_aduan", "rules"
        elif kinds_cfg.empty_is_bukan_aduan and evidence == 0 and agency_score <= 0 \
                and n_tokens <= kinds_cfg.bukan_aduan_max_tokens:
            kind, chosen_by = "bukan_aduan", "no_evidence"
        elif evidence == 0 and channel_cfg.kind:
            kind, chosen_by = channel_cfg.kind, "channel_default"
        else:
            kind = max(("pengaduan", "aspirasi", "informasi"), key=lambda k: scores[k])
            chosen_by = "rules"
            if kind == "informasi" and agency_score <= 0 and n_tokens <= kinds_cfg.subjectless_max_tokens \
                    and scores["informasi"] < kinds_cfg.subjectless_max_score:
                # "admin ini jam berapa aktifnya?": a short question about nothing a Pemda holds
                kind, chosen_by = "bukan_aduan", "no_subject"
        positive = sum(max(s, 0.0) for s in scores.values())
        confidence = round(max(scores[kind], 0.0) / positive, 4) if positive > 0 else 0.0
        if chosen_by in ("no_evidence", "no_subject"):
            confidence = 0.5
        rules.sort(key=lambda r: -r[1])
        return kind, {"label": kind, "scores": {k: round(v, 3) for k, v in scores.items() if v},
                      "rules": rules, "confidence": confidence, "chosen_by": chosen_by}
