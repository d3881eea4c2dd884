"""Weighted rules of many labels compiled into one token index, and the suffix stemming they match with."""

from __future__ import annotations

import logging
import re
from collections import defaultdict

from router.config import RuleSet
from router.fastre import AnySearch, split_alternatives
from router.normalise import normalise

log = logging.getLogger(__name__)

Label = tuple[str, str]              # ("agency", "pupr") or ("kind", "aspirasi")
Hit = tuple[Label, str, float]       # (label, rule name, weight)


# suffixes stripped from a token that is not itself a rule word ("jalannya" → "jalan"; Sumatran Malay says -nya
# as -nyo, "aspalnyo", and Sundanese as -na, "aspalna", "limbahna")
_SUFFIXES = ("nya", "nyo", "lah", "kah", "na")


class RuleMatcher:
    """Rules of many labels compiled into one token index (words and phrases) and a short regex list."""

    def __init__(self, rulesets: dict[Label, RuleSet], lexicon: dict[str, str]) -> None:
        words: dict[str, list[Hit]] = defaultdict(list)
        phrases: dict[str, list[tuple[tuple[str, ...], Hit]]] = defaultdict(list)
        regexes: dict[str, list[Hit]] = defaultdict(list)
        seen: set[tuple[Label, tuple[str, ...]]] = set()
        # (label, rule name) → the token a word or phrase rule starts with (regexes have none)
        self.first_token: dict[tuple[Label, str], str] = {}
        # (label, rule name) → the normalised tokens of a word or phrase rule
        self.tokens: dict[tuple[Label, str], tuple[str, ...]] = {}
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
                self.first_token[(label, name)] = toks[0]
                self.tokens[(label, name)] = toks
                if len(toks) == 1:
                    words[toks[0]].append((label, name, weight))
                else:
                    phrases[toks[0]].append((toks, (label, name, weight)))
            for pattern, weight in rules.regexes.items():
                regexes[pattern].append((label, f"regex:{pattern}", weight))
        # one lookup per token gives both the words and the phrases that start with it, the phrases by their
        # second token (a common first word such as "jalan" starts dozens of phrases: only those that go on
        # with the text's next token are compared)
        self.index: dict[str, tuple[tuple[Hit, ...], dict[str, tuple[tuple[tuple[str, ...], Hit], ...]]]] = {}
        for tok in set(words) | set(phrases):
            by_second: dict[str, list[tuple[tuple[str, ...], Hit]]] = defaultdict(list)
            for seq, hit in sorted(phrases.get(tok, ()), key=lambda item: -len(item[0])):
                by_second[seq[1]].append((seq, hit))
            self.index[tok] = (tuple(words.get(tok, ())), {k: tuple(v) for k, v in by_second.items()})
        # a regex runs only when one of the literal words it must start with occurs in the text
        # (and then where it can match: router.fastre.AnySearch gives re's answer without trying every position)
        self.regexes = [(AnySearch(re.compile(p)), tuple(hits), _leading_words(p) or _prefilter(_leading_literals(p)))
                        for p, hits in regexes.items()]
        self.known = set(self.index)
        # the regexes that need one of a few whole words, by word (the text's words then name the few worth
        # trying), and the others, each tried after its literal check
        self._by_word: dict[str, list[tuple[AnySearch, tuple[Hit, ...]]]] = defaultdict(list)
        self._unindexed = []
        for regex, regex_hits, needed in self.regexes:
            if isinstance(needed, frozenset):
                for word in needed:
                    self._by_word[word].append((regex, regex_hits))
            else:
                self._unindexed.append((regex, regex_hits, needed))
        self._by_word = dict(self._by_word)

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
            if phrase_hits and i + 1 < n:
                for seq, hit in phrase_hits.get(toks[i + 1], ()):
                    k = len(seq)
                    if i + k <= n and tuple(toks[i:i + k]) == seq:
                        hits.add(hit)
        # (hits is a set: which regex is tried first does not matter)
        if self._by_word:  # those that need one of the text's words, each once
            by_word = self._by_word
            tried: set[int] = set()
            for word in by_word.keys() & norm.split():
                for regex, regex_hits in by_word[word]:
                    if id(regex) not in tried:
                        tried.add(id(regex))
                        if regex(norm):
                            hits.update(regex_hits)
        for regex, regex_hits, needed in self._unindexed:
            if needed is not None and (needed not in norm if isinstance(needed, str) else
                                       not any(map(norm.__contains__, needed))):
                continue
            if regex(norm):
                hits.update(regex_hits)
        return hits


_LEADING = re.compile(r"\\b([a-z ]+)(.?)")
_LEADING_AFTER_SKIP = re.compile(r"(?:\\b)?([a-z ]+)(.?)")


# a leading "^", "up to n words" ("^(?:\\w+ ){0,3}") and a group of plain alternatives ("\\b(?:mohon|tolong) ")
_SKIPPED = re.compile(r"\^?(?:\(\?:\\w\+ \)(?:\{\d*,\d+\}|\?|\*))?")
_WORD_GROUP = re.compile(r"(?:\\b)?\(\?:([a-z ]+(?:\|[a-z ]+)*)\)(?![?*{])")


_WHOLE = re.compile(r"(?:\\b|\s(?![?*{])|\$)")  # (a space made optional would let the word run on)


def _leading_words(pattern: str) -> frozenset[str] | None:
    """The words one of which every match must contain as a whole word (a leading plain word followed by a space,
    or a leading group of plain words followed by a word boundary, a space or the end), or None."""
    words: set[str] = set()
    for alternative in split_alternatives(pattern):
        skipped = _SKIPPED.match(alternative).end()  # type: ignore[union-attr]
        rest = alternative[skipped:]
        group = _WORD_GROUP.match(rest)
        if group is not None:
            found = group.group(1).split("|")
            after = rest[group.end():]
        else:
            leading = (_LEADING_AFTER_SKIP if skipped else _LEADING).match(rest)
            if leading is None or " " in leading.group(1).strip() or not leading.group(1).endswith(" ") \
                    or leading.group(2) in ("?", "*", "{"):
                return None
            found, after = [leading.group(1)], " "
        if not after or not _WHOLE.match(after) or not all(w.strip() and " " not in w.strip() for w in found):
            return None
        words.update(w.strip() for w in found)
    return frozenset(words) or None


def _prefilter(literals: tuple[str, ...] | None) -> str | tuple[str, ...] | None:
    """What must occur in a text for a regex to be tried: one literal, or any of several. Several are looked for
    one by one (``in``: a fast substring search each), not as one alternation regex, which ``re`` tries at every
    position of the text (5-10 us a message each, for the same answer)."""
    if literals is None or len(literals) == 1:
        return literals[0] if literals else None
    return tuple(dict.fromkeys(literals))


def _leading_literals(pattern: str) -> tuple[str, ...] | None:
    """Literal text every match must contain: the plain words after the leading ``\\b`` of each
    alternative (or each word of a leading group of plain words, after a leading "^" and "up to n words"),
    or None (always run the regex) when some alternative does not start that way."""
    literals: list[str] = []
    for alternative in split_alternatives(pattern):
        skipped = _SKIPPED.match(alternative).end()  # type: ignore[union-attr]  # (it matches "" at worst)
        rest = alternative[skipped:]
        group = _WORD_GROUP.match(rest)
        if group is not None:
            literals += [word for word in group.group(1).split("|") if word.strip()]
            if not all(word.strip() for word in group.group(1).split("|")):
                return None
            continue
        found = (_LEADING_AFTER_SKIP if skipped else _LEADING).match(rest)
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
    """Tokens with -nya/-nyo/-na/-lah/-kah dropped where the token is unknown but its stem is a known rule word."""
    out = toks
    for i, tok in enumerate(toks):
        if tok in known or len(tok) < 6:
            continue
        for suffix in _SUFFIXES:
            if tok.endswith(suffix) and tok[:-len(suffix)] in known:
                if out is toks:
                    out = list(toks)
                out[i] = tok[:-len(suffix)]
                break
    return out
