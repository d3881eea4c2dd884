"""Kind, agency and location of a complaint from weighted rules, with a confidence and an explanation."""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from router.config import KINDS, ChannelDefault, GazetteerConfig, RoutingConfig, RuleSet
from router.normalise import normalise

log = logging.getLogger(__name__)

_RT = re.compile(r"\brt (\d{1,3})\b")
_RW = re.compile(r"\brw (\d{1,3})\b")
# suffixes stripped from a token that is not itself a rule word ("jalannya" → "jalan")
_SUFFIXES = ("nya", "lah", "kah")


@dataclass
class Decision:
    """What the classifier decided for one message, and why."""

    kind: str
    agency: str
    confidence: float
    location: dict[str, Any] | None
    explanation: dict[str, Any] = field(default_factory=dict)


Label = tuple[str, str]              # ("agency", "pupr") or ("kind", "aspirasi")
Hit = tuple[Label, str, float]       # (label, rule name, weight)


class RuleMatcher:
    """Rules of many labels compiled into one token index (words and phrases) and a short regex list."""

    def __init__(self, rulesets: dict[Label, RuleSet], lexicon: dict[str, str]) -> None:
        words: dict[str, list[Hit]] = defaultdict(list)
        phrases: dict[str, list[tuple[tuple[str, ...], Hit]]] = defaultdict(list)
        regexes: dict[str, list[Hit]] = defaultdict(list)
        seen: set[tuple[Label, tuple[str, ...]]] = set()
        for label, rules in rulesets.items():
            entries = [(f"word:{w}", w, weight) for w, weight in rules.words.items()]
            entries += [(f"phrase:{p}", p, weight) for p, weight in rules.phrases.items()]
            for name, text, weight in entries:
                toks = tuple(normalise(text, lexicon).split())
                if not toks:
                    log.warning("routing rule %s of %s is empty after normalisation; ignored", name, label)
                    continue
                if (label, toks) in seen:  # "uwuh" and "sampah" normalise alike: count the evidence once
                    continue
                seen.add((label, toks))
                if len(toks) == 1:
                    words[toks[0]].append((label, name, weight))
                else:
                    phrases[toks[0]].append((toks, (label, name, weight)))
            for pattern, weight in rules.regexes.items():
                regexes[pattern].append((label, f"regex:{pattern}", weight))
        # one lookup per token gives both the words and the phrases that start with it
        self.index: dict[str, tuple[tuple[Hit, ...], tuple[tuple[tuple[str, ...], Hit], ...]]] = {
            tok: (tuple(words.get(tok, ())), tuple(sorted(phrases.get(tok, ()), key=lambda item: -len(item[0]))))
            for tok in set(words) | set(phrases)
        }
        # a regex runs only when one of the literal words it must start with occurs in the text
        self.regexes = [(re.compile(p), tuple(hits), _leading_literals(p)) for p, hits in regexes.items()]
        self.known = set(self.index)

    def match(self, toks: list[str], norm: str) -> set[Hit]:
        """Every rule that matches (each counted once)."""
        hits: set[Hit] = set()
        n = len(toks)
        index = self.index
        for i, tok in enumerate(toks):
            entry = index.get(tok)
            if entry is None:
                continue
            word_hits, phrase_hits = entry
            hits.update(word_hits)
            for seq, hit in phrase_hits:
                k = len(seq)
                if i + k <= n and tuple(toks[i:i + k]) == seq:
                    hits.add(hit)
        for regex, regex_hits, literals in self.regexes:
            if (literals is None or any(literal in norm for literal in literals)) and regex.search(norm):
                hits.update(regex_hits)
        return hits


_LEADING = re.compile(r"\\b([a-z ]+)(.?)")


def _split_alternatives(pattern: str) -> list[str]:
    """The top-level ``|`` alternatives of a pattern (not those inside groups or classes)."""
    parts, depth, start, i, in_class = [], 0, 0, 0, False
    while i < len(pattern):
        char = pattern[i]
        if char == "\\":
            i += 2
            continue
        if in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "|" and depth == 0:
            parts.append(pattern[start:i])
            start = i + 1
        i += 1
    parts.append(pattern[start:])
    return parts


def _leading_literals(pattern: str) -> tuple[str, ...] | None:
    """Literal text every match must contain: the plain words after the leading ``\\b`` of each
    alternative, or None (always run the regex) when some alternative does not start that way."""
    literals = []
    for alternative in _split_alternatives(pattern):
        found = _LEADING.match(alternative)
        if found is None:
            return None
        literal, after = found.groups()
        if after in ("?", "*", "{"):  # a quantifier applies to the literal's last character
            literal = literal[:-1]
        if not literal.strip():
            return None
        literals.append(literal)
    return tuple(literals)


def stem(toks: list[str], known: set[str]) -> list[str]:
    """Tokens with -nya/-lah/-kah dropped where the token is unknown but its stem is a known rule word."""
    out = toks
    for i, tok in enumerate(toks):
        if tok in known or len(tok) < 6:
            continue
        for suffix in _SUFFIXES:
            if tok.endswith(suffix) and tok[:-3] in known:
                if out is toks:
                    out = list(toks)
                out[i] = tok[:-3]
                break
    return out


class Gazetteer:
    """Kecamatan and kelurahan names (with variants) matched on tokens."""

    def __init__(self, cfg: GazetteerConfig, lexicon: dict[str, str]) -> None:
        self.kota = cfg.kota
        self.context = {t for w in cfg.context_words for t in normalise(w, lexicon).split()}
        # first token → [(tokens, level, kecamatan, kelurahan, needs_context)]
        self.index: dict[str, list[tuple[tuple[str, ...], str, str, str | None, bool]]] = defaultdict(list)
        for kec in cfg.kecamatan:
            for variant in {kec.name, *kec.variants}:
                self._add(variant, "kecamatan", kec.name, None, kec.needs_context, lexicon)
            for kel in kec.kelurahan:
                for variant in {kel.name, *kel.variants}:
                    self._add(variant, "kelurahan", kec.name, kel.name, kel.needs_context, lexicon)
        for first in self.index:
            self.index[first].sort(key=lambda item: -len(item[0]))

    def _add(self, variant: str, level: str, kec: str, kel: str | None, needs_context: bool,
             lexicon: dict[str, str]) -> None:
        toks = tuple(normalise(variant, lexicon).split())
        if toks:
            self.index[toks[0]].append((toks, level, kec, kel, needs_context))

    def locate(self, toks: list[str], norm: str) -> tuple[dict[str, Any] | None, dict[str, Any]]:
        """The location named in the tokens, and how it was found."""
        kec_hits: list[str] = []
        kel_hits: list[tuple[str, str]] = []  # (kelurahan, kecamatan) — one name may exist in two kecamatan
        matched: list[list[str]] = []
        i, n = 0, len(toks)
        while i < n:
            entries = self.index.get(toks[i])
            if not entries:
                i += 1
                continue
            prev = toks[i - 1] if i else ""
            best_len = 0
            found: list[tuple[str, str, str | None]] = []
            for seq, level, kec, kel, needs_context in entries:
                k = len(seq)
                if k < best_len or i + k > n or tuple(toks[i:i + k]) != seq:
                    continue
                if needs_context and prev not in self.context:
                    continue
                best_len = k
                found.append((level, kec, kel))
            if not found:
                i += 1
                continue
            levels = {level for level, _, _ in found}
            if len(levels) == 2:  # "Tembalang" is a kecamatan and one of its kelurahan
                want = "kelurahan" if prev in ("kelurahan", "desa") else "kecamatan"
                found = [f for f in found if f[0] == want]
            for level, kec, kel in found:
                if level == "kecamatan":
                    kec_hits.append(kec)
                elif kel is not None:
                    kel_hits.append((kel, kec))
            matched.append([" ".join(toks[i:i + best_len]), found[0][0]])
            i += best_len
        location: dict[str, Any] = {}
        how: dict[str, Any] = {}
        if kel_hits:
            names = [kel for kel, _ in kel_hits]
            kel_name = names[0]
            candidates = sorted({kec for kel, kec in kel_hits if kel == kel_name})
            location["kelurahan"] = kel_name
            inside = [kec for kec in candidates if kec in kec_hits]
            if inside or len(candidates) == 1:
                location["kecamatan"] = (inside or candidates)[0]
            else:
                how["ambiguous"] = candidates
                if kec_hits:
                    location["kecamatan"] = kec_hits[0]
        elif kec_hits:
            location["kecamatan"] = kec_hits[0]
        if "rt " in norm or "rw " in norm:
            rt, rw = _RT.search(norm), _RW.search(norm)
            if rt:
                location["rt"] = rt.group(1)
            if rw:
                location["rw"] = rw.group(1)
        if matched:
            how["matched"] = matched
        return (location or None), how


def _confidence(top: float, second: float, half: float) -> float:
    if top <= 0:
        return 0.0
    return round((top / (top + max(second, 0.0))) * (top / (top + half)), 4)


class Classifier:
    """Decides kind, agency and location of one message from the routing config."""

    def __init__(self, routing: RoutingConfig, agencies: list[str]) -> None:
        self.cfg = routing
        self.agencies = set(agencies) | {routing.triage_agency}
        self.lexicon = routing.lexicon or None
        unknown = set(routing.agencies) - self.agencies
        if unknown:
            log.warning("routing rules for unconfigured agencies ignored: %s", ", ".join(sorted(unknown)))
        rules: dict[Label, RuleSet] = {("agency", code): rs for code, rs in routing.agencies.items()
                                       if code in self.agencies}
        rules.update({("kind", kind): rs for kind, rs in routing.kinds.rules.items()})
        self.rules = RuleMatcher(rules, routing.lexicon)
        self.gazetteer = Gazetteer(routing.gazetteer, routing.lexicon)
        self._no_channel = ChannelDefault()
        self._known = self.rules.known | set(self.gazetteer.index)

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

        scores: dict[str, float] = defaultdict(float)
        rules: list[list[Any]] = []
        for code, prior in channel_cfg.prior.items():
            if code in self.agencies:
                scores[code] += prior
                rules.append([f"{code}:channel_prior:{channel}", prior])
        kind_hits: list[Hit] = []
        for hit in self.rules.match(toks, norm):
            (group, label), name, weight = hit
            if group == "kind":
                kind_hits.append(hit)
                continue
            scores[label] += weight
            rules.append([f"{label}:{name}", weight])
        if location and ("kecamatan" in location or "kelurahan" in location):
            for code, bonus in cfg.gazetteer.location_bonus.items():
                if scores.get(code, 0.0) > 0:
                    scores[code] += bonus
                    rules.append([f"{code}:location", bonus])
        ranked = sorted(((s, c) for c, s in scores.items() if s > 0), reverse=True)
        top_score, top_agency = ranked[0] if ranked else (0.0, cfg.triage_agency)
        second = ranked[1][0] if len(ranked) > 1 else 0.0
        confidence = _confidence(top_score, second, cfg.confidence_half_score)

        kind, kind_explained = self._kind(kind_hits, len(toks), top_score, channel_cfg)

        forced = cfg.kinds.agency_for_kind.get(kind)
        if forced is not None:
            agency, chosen_by = forced, f"kind:{kind}"
            confidence = kind_explained["confidence"]
        elif confidence >= cfg.threshold and top_agency in self.agencies:
            agency, chosen_by = top_agency, "rules"
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
                       "threshold": cfg.threshold, "confidence": confidence, "chosen_by": chosen_by},
            "location": location_how,
        }
        return Decision(kind=kind, agency=agency, confidence=confidence, location=location,
                        explanation=explanation)

    def _kind(self, hits: list[Hit], n_tokens: int, agency_score: float,
              channel_cfg: ChannelDefault) -> tuple[str, dict[str, Any]]:
        kinds_cfg = self.cfg.kinds
        scores = {k: kinds_cfg.prior.get(k, 0.0) for k in KINDS}
        rules: list[list[Any]] = []
        evidence = 0.0
        for (_, label), name, weight in hits:
            scores[label] += weight
            evidence += abs(weight)
            rules.append([f"{label}:{name}", weight])
        others = max(scores[k] for k in KINDS if k != "bukan_aduan")
        not_complaint = scores["bukan_aduan"]
        if not_complaint > 0 and not_complaint >= others and (
                agency_score < kinds_cfg.bukan_aduan_max_agency_score
                or not_complaint >= kinds_cfg.bukan_aduan_strong):
            kind, chosen_by = "bukan_aduan", "rules"
        elif kinds_cfg.empty_is_bukan_aduan and evidence == 0 and agency_score <= 0 \
                and n_tokens <= kinds_cfg.bukan_aduan_max_tokens:
            kind, chosen_by = "bukan_aduan", "no_evidence"
        elif evidence == 0 and channel_cfg.kind:
            kind, chosen_by = channel_cfg.kind, "channel_default"
        else:
            kind = max(("pengaduan", "aspirasi", "informasi"), key=lambda k: scores[k])
            chosen_by = "rules"
        positive = sum(max(s, 0.0) for s in scores.values())
        confidence = round(max(scores[kind], 0.0) / positive, 4) if positive > 0 else 0.0
        if chosen_by == "no_evidence":
            confidence = 0.5
        rules.sort(key=lambda r: -r[1])
        return kind, {"label": kind, "scores": {k: round(v, 3) for k, v in scores.items() if v},
                      "rules": rules, "confidence": confidence, "chosen_by": chosen_by}
