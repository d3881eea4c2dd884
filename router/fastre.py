"""Regexes run only where they can match: the same answers, less scanning.

Python's ``re`` tries every alternative of a pattern at every position of a text; a pattern such as
``\\b(?:perumahan|perum|komplek)\\b`` costs a few microseconds per message even when the text holds none
of its words. For ASCII text (where case-insensitive matching is plain ASCII case folding) the words an
alternative starts with can be looked for as substrings of the lower-cased text first: where none occurs
the alternative cannot match. The literals are read off the pattern itself at first use (so a pattern
edited later stays right); an alternative whose start cannot be read (not ``\\b`` followed by letters or a
``(?:…|…)`` group of them) is always run. Non-ASCII text always runs the whole pattern.
"""

from __future__ import annotations

import re
from functools import lru_cache

_GROUP_REF = re.compile(r"\\([1-9])(?![0-9])")  # \10 and the like: left to Match.expand


@lru_cache(maxsize=128)
def _template(repl: str) -> tuple[str, ...] | None:
    """A replacement string split into literal text (even places) and group numbers (odd places), or None
    where it holds any other escape (``\\g<name>``, ``\\n``): ``Match.expand`` parses its template on every
    call, a few microseconds each in a loop over every match of every message."""
    parts = tuple(_GROUP_REF.split(repl))
    return None if any("\\" in literal for literal in parts[::2]) else parts


def _expanded(m: re.Match[str], parts: tuple[str, ...]) -> str:
    return "".join(part if i % 2 == 0 else m.group(int(part)) or "" for i, part in enumerate(parts))


def _structure(pattern: str, start: int = 0):
    """(index, character, depth after it) of each character of ``pattern`` from ``start`` that is neither
    escaped nor inside a character class: where groups open and close and alternatives split."""
    depth, i, in_class = 0, start, False
    while i < len(pattern):
        char = pattern[i]
        if char == "\\":
            i += 2
            continue
        if in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
        else:
            depth += (char == "(") - (char == ")")
            yield i, char, depth
        i += 1


def split_alternatives(pattern: str) -> list[str]:
    """The top-level ``|`` alternatives of a pattern (not those inside groups or classes)."""
    parts, start = [], 0
    for i, char, depth in _structure(pattern):
        if char == "|" and depth == 0:
            parts.append(pattern[start:i])
            start = i + 1
    parts.append(pattern[start:])
    return parts


_LETTERS = re.compile(r"[A-Za-z ]+")  # read lower-cased: found in the lower-cased text, a capital matches it too
_CASE_PAIR = re.compile(r"\[([A-Za-z])([A-Za-z])\](?![?*{])")  # one letter in either case
_OPTIONAL = ("?", "*", "{")


def _group_end(pattern: str, start: int) -> int:
    """Index of the ``)`` that closes the ``(`` at ``start`` (escapes and classes skipped), or -1."""
    return next((i for i, char, depth in _structure(pattern, start) if char == ")" and depth == 0), -1)


def _leading(text: str) -> str | None:
    found = _LETTERS.match(text)
    if found is None:
        return None
    literal = found.group(0)
    if text[found.end():found.end() + 1] in _OPTIONAL:  # a quantifier applies to the last letter
        literal = literal[:-1]
    return literal.lower() if literal.strip() else None


def literals(alternative: str) -> tuple[str, ...] | None:
    """Lower-case texts one of which begins every match of ``alternative``, or None (not readable)."""
    rest = alternative[2:] if alternative.startswith("\\b") else alternative
    if rest.startswith("(?:"):
        start = 3
    elif rest.startswith("(?i:"):  # (its words lower-cased, as every other)
        start = 4
    elif rest.startswith("(") and not rest.startswith("(?"):  # a capturing group
        start = 1
    else:
        pair = _CASE_PAIR.match(rest)  # "[Jj]alan"
        if pair is not None and pair.group(1).lower() == pair.group(2).lower():
            literal = pair.group(1).lower() + (_leading(rest[pair.end():]) or "")
            return (literal,)
        literal = _leading(rest)
        return (literal,) if literal else None
    end = _group_end(rest, 0)
    if end < 0:  # unclosed
        return None
    if rest[end + 1:end + 2] == "?" and start != 1:
        # an optional prefix ("\b(?:di)?(?:ada|pasang)kan"): a match begins with one of its words or, without
        # it, with one of the words of what follows it
        head, tail = literals("\\b" + rest[:end + 1]), literals("\\b" + rest[end + 2:].lstrip("?+"))
        return None if head is None or tail is None else head + tail
    if rest[end + 1:end + 2] in _OPTIONAL:  # the group may be absent (or repeat)
        return None
    out: list[str] = []
    for inner in split_alternatives(rest[start:end]):
        literal = _leading(inner)
        if literal is None:
            # a group of words of its own ("(?:sampaikan|laporkan)\\s+juga"): one of its words begins it
            nested = literals("\\b" + inner)
            if nested is None:
                return None
            out.extend(nested)
            continue
        out.append(literal)
    return tuple(out)


_NOT_LITERAL = re.compile(r"\\[xuUN0-7]")  # escapes whose letters or digits are not matched as written


def required(alternative: str, flags: int = 0) -> tuple[str, ...]:
    """Lower-case runs of letters that every match of ``alternative`` contains: those outside any group,
    class or escape and not made optional by a quantifier (``()`` when none can be read)."""
    if flags & re.VERBOSE or _NOT_LITERAL.search(alternative):
        return ()
    runs: list[str] = []
    run, end = "", -1  # the run of letters being read, and the index just past its last letter
    for i, char, depth in _structure(alternative):
        if char == "|" and depth == 0:  # not one alternative: read nothing
            return ()
        if depth == 0 and char.isascii() and char.isalpha():
            if i != end and run:
                runs.append(run)
                run = ""
            run, end = run + char, i + 1
            continue
        if char in _OPTIONAL and i == end:  # the quantifier applies to the run's last letter
            run = run[:-1]
        if run:
            runs.append(run)
        run, end = "", -1
    if run:
        runs.append(run)
    return tuple(r.lower() for r in runs)


def hints(pattern: re.Pattern[str]) -> tuple[str, ...] | None:
    """Literals one of which occurs (lower-cased) in every ASCII text ``pattern`` matches, or None."""
    if pattern.pattern.startswith("(?") and not pattern.pattern.startswith("(?:"):
        return None  # global inline flags or a lookaround: not read
    found: list[str] = []
    for alternative in split_alternatives(pattern.pattern):
        these = literals(alternative)
        if these is None:
            return None
        found.extend(these)
    return tuple(found)


class AnySearch:
    """``bool(pattern.search(text))``, trying each top-level alternative only where one of its words begins
    (``match`` at that position: ``\\b`` still sees the character before it)."""

    def __init__(self, pattern: re.Pattern[str]) -> None:
        self.pattern = pattern
        whole = pattern.pattern
        # (regex, the words one of which begins each match, or None: the letters every match holds instead)
        self.parts: list[tuple[re.Pattern[str], tuple[str, ...] | None, tuple[str, ...]]] | None = None
        if not (whole.startswith("(?") and not whole.startswith("(?:")) and "\\1" not in whole:
            self.parts = [(re.compile(alt, pattern.flags), literals(alt), required(alt, pattern.flags))
                          for alt in split_alternatives(whole)]

    def __call__(self, text: str) -> bool:
        if self.parts is None or not text.isascii():
            return self.pattern.search(text) is not None
        low = text.lower()
        # (most words occur nowhere: filter(low.__contains__) passes over them without a Python step each)
        contains = low.__contains__
        for regex, words, letters in self.parts:
            if words is None:
                # searched whole, unless the text lacks letters every match holds ("... satu lagi")
                if all(run in low for run in letters) and regex.search(text) is not None:
                    return True
                continue
            # a match of this alternative begins where one of its words does: try it there only
            for word in filter(contains, words):
                at = low.find(word)
                while at >= 0:
                    if regex.match(text, at) is not None:
                        return True
                    at = low.find(word, at + 1)
        return False


def sub_where_possible(pattern: re.Pattern[str], repl: str, text: str, low: str | None,
                       words: tuple[str, ...] | None) -> str:
    """``pattern.sub(repl, text)``, skipped when ``text`` is ASCII (``low``: its lower case, else None) and
    holds none of ``words`` (``hints(pattern)``)."""
    if low is not None and words is not None and not any(map(low.__contains__, words)):
        return text
    return pattern.sub(repl, text)


class Anchored:
    """A compiled pattern whose ``findall`` and ``sub`` try a match only where one of its words begins (ASCII
    text): the same results as ``re.Pattern``'s, which try every position. Everything else is the pattern's."""

    def __init__(self, pattern: re.Pattern[str]) -> None:
        self.compiled = pattern
        self._words: tuple[str, ...] | None | bool = False  # read off the pattern at first use

    @property
    def words(self) -> tuple[str, ...] | None:
        if self._words is False:
            self._words = hints(self.compiled)
        return self._words  # type: ignore[return-value]

    def __getattr__(self, name: str):
        return getattr(self.compiled, name)

    def _matches(self, text: str) -> list[re.Match[str]] | None:
        """The matches ``finditer`` gives (ASCII text), or None where this cannot tell (run the pattern)."""
        words = self.words
        if words is None or not text.isascii():
            return None
        low = text.lower()
        starts: set[int] = set()
        for word in filter(low.__contains__, words):  # (the words that occur at all)
            at = low.find(word)
            while at >= 0:
                starts.add(at)
                at = low.find(word, at + 1)
        found: list[re.Match[str]] = []
        match = self.compiled.match
        last = 0
        for at in sorted(starts):
            if at < last:
                continue
            m = match(text, at)
            if m is None:
                continue
            if m.end() == at:  # an empty match: re's own rules for those
                return None
            found.append(m)
            last = m.end()
        return found

    def search(self, text: str, pos: int = 0) -> re.Match[str] | None:
        """``re.Pattern.search(text, pos)``: the leftmost match from ``pos`` on, tried only where one of the
        pattern's words begins (ASCII text)."""
        words = self.words
        if words is None or not text.isascii():
            return self.compiled.search(text, pos)
        low = text.lower()
        starts: set[int] = set()
        for word in filter(low.__contains__, words):  # (the words that occur at all)
            at = low.find(word, pos)
            while at >= 0:
                starts.add(at)
                at = low.find(word, at + 1)
        match = self.compiled.match
        for at in sorted(starts):
            m = match(text, at)
            if m is not None:
                return m
        return None

    def finditer(self, text: str):
        """The matches ``re.Pattern.finditer`` gives (the same spans and groups)."""
        found = self._matches(text)
        return self.compiled.finditer(text) if found is None else iter(found)

    def findall(self, text: str) -> list:
        found = self._matches(text)
        if found is None:
            return self.compiled.findall(text)
        groups = self.compiled.groups
        return [m.group(0) if groups == 0 else m.group(1) or "" if groups == 1 else m.groups("") for m in found]

    def sub(self, repl, text: str) -> str:
        found = self._matches(text)
        if found is None:
            return self.compiled.sub(repl, text)
        if not found:
            return text
        template = None if callable(repl) else _template(repl)
        parts, last = [], 0
        for m in found:
            parts.append(text[last:m.start()])
            parts.append(repl(m) if callable(repl) else _expanded(m, template) if template is not None
                         else m.expand(repl))
            last = m.end()
        parts.append(text[last:])
        return "".join(parts)
