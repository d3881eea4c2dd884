"""Agencies' remits (their duties in plain Indonesian, from config) as routing evidence.

A remit is read the way an officer reads the Perwal on OPD duties: the words and word pairs of its
clauses are what the agency is for. A word shared by many remits says little (weight 1/number of
remits that hold it); a clause that excludes something ("Taman dan pohon tidak termasuk", "bukan di
sini melainkan melalui kelurahan") counts against the agency instead. Words are compared by light
stems with the nasal of me-/pe- restored both ways ("pemangkasan" ~ "dipangkas", "pengangkutan" ~
"diangkut"), so a remit written formally still meets a message written in slang after normalisation.
No rule is written per city: two configs whose remits give one problem to different agencies route
the same text differently. What a remit lists as "bukan kewenangan Pemerintah Kota" at all (national roads,
SMA/SMK, the provincial bus, PLN) is the agency's that passes such messages on, whoever else's rules fire.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from router.normalise import normalise
from router.rounding import rounded

# function words and the administrative words every remit uses ("urusan", "pelayanan", "kota")
STOPWORDS = frozenset("""
dan atau serta yang di ke dari untuk dengan pada dalam oleh sebagai melalui bersama terhadap lainnya
lain para seluruh setiap semua tiap juga termasuk antara lain yaitu yakni adalah ialah ini itu tersebut
urusan bidang sub pelayanan layanan pengelolaan penanganan pembinaan pengawasan pengendalian
penyelenggaraan pelaksanaan penyediaan pemeliharaan pembangunan penataan fasilitasi koordinasi
kebijakan program kegiatan tugas fungsi kewenangan wewenang skala tingkat kota kabupaten daerah
pemerintah pemkot pemda pemkab dinas badan kantor satuan unit upt uptd perangkat perumda opd
masyarakat warga umum milik terkait sesuai bagi agar secara baik tidak bukan ada sini melainkan
kecuali hanya saja tetap lagi sudah akan dapat bisa menerima diterima dulu awal utama
kota kab jl no saya aku kami kita anda dia mereka belum jelas sekaligus beberapa mana hal
bapak ibu admin seperti misalnya contohnya
""".split())
# ("bapak", "ibu", "admin": how writers address the desk; a remit's "BPK" (volunteer fire brigades) normalises to
# "bapak" too, and every "Pak, …" would otherwise be evidence for it)
# a clause that says what the agency does NOT do
_EXCLUSION = re.compile(r"\b(?:bukan|tidak termasuk|tidak menangani|tidak mencakup|kecuali|melainkan|"
                        r"kewenangan (?!pemerintah kota|pemkot|kota)\w+|diserahkan ke|ditangani oleh)\b"
                        r"|\bada di \w+$|\b(?:melalui|lewat) \w+$")
# a remit's clause names where its matter is after these ("pengemis di lampu merah"): those words are weak
# evidence and never make the agency the owner of a rule ("lampu merah" stays the traffic lights')
_LOCATIVE = frozenset(("di", "pada", "sekitar", "sepanjang"))
_CLAUSES = re.compile(r"[.;:,()\n]|\s-\s|\s–\s")
# "… atau bukan kewenangan Pemerintah Kota Malang (jalan nasional/provinsi, SMA/SMK, PLN) untuk diteruskan", or
# "… bukan kewenangan Pemerintah Kota Manado: jalan nasional/provinsi (Jl. Ringroad), SMA/SMK, PLN …": what the
# Pemda does not handle at all, listed by whoever receives such messages to pass them on
_NOT_THE_PEMDAS = re.compile(r"\bbukan (?:kewenangan|urusan|wewenang)\b", re.IGNORECASE)
_PASSED_ON = re.compile(r"\buntuk diteruskan\b[^:]*$", re.IGNORECASE)


def _not_the_pemdas(text: str) -> list[str]:
    """The lists of things a remit says are not the Pemda's: in parentheses right after "bukan kewenangan
    Pemerintah Kota X", or after the colon that follows it (to the end, less "untuk diteruskan …")."""
    out = []
    for found in _NOT_THE_PEMDAS.finditer(text):
        rest = text[found.end():].split("\n", 1)[0]  # the remit's own text, not the name appended to it
        paren, colon, stop = rest.find("("), rest.find(":"), rest.find(". ")
        stop = len(rest) if stop < 0 else stop
        if 0 <= paren < stop and (colon < 0 or paren < colon):
            close = rest.find(")", paren)
            out.append(rest[paren + 1:close if close >= 0 else len(rest)])
        elif colon >= 0:
            out.append(_PASSED_ON.sub("", rest[colon + 1:]))
    return out
_NASAL = (("meng", "k"), ("peng", "k"), ("meny", "s"), ("peny", "s"), ("mem", "p"), ("pem", "p"),
          ("men", "t"), ("pen", "t"))
# "nge-"/"ng-"/"ny-" are the everyday active prefixes (Jakarta, Javanese, Sundanese): "ngamen", "ngemis"
_PREFIXES = ("memper", "diper", "meng", "meny", "peng", "peny", "ber", "ter", "per", "mem", "men", "pem", "pen",
             "nge", "me", "pe", "di", "ke", "se", "ng", "ny")
_SUFFIXES = ("nya", "kan", "an", "i")
_VOWELS = frozenset("aeiou")


@lru_cache(maxsize=100_000)
def stems(word: str, nasal: bool = False) -> tuple[str, ...]:
    """Candidate stems of a word (one suffix and one prefix dropped); with ``nasal``, also the root a
    me-/pe- prefix assimilated ("pemangkasan" → "pangkas"). Remit words get the nasal roots, messages
    do not: "memohon" must not become "pohon"."""
    if len(word) <= 4 or word.isdigit():
        return (word,)
    base = word
    for suffix in _SUFFIXES:
        if base.endswith(suffix) and len(base) - len(suffix) >= 4:
            base = base[: -len(suffix)]
            break
    out = {base}
    for prefix in _PREFIXES:
        if base.startswith(prefix) and len(base) - len(prefix) >= 4:
            rest = base[len(prefix):]
            out.add(rest)
            for nasal_prefix, initial in _NASAL:
                if nasal and prefix == nasal_prefix and rest[0] in _VOWELS:
                    out.add(initial + rest)
            break
    return tuple(sorted(out))


def _with_synonyms(remits: dict[str, str], synonyms: list[list[str]],
                   lexicon: dict[str, str] | None) -> dict[str, str]:
    """Remits with the everyday names of what they name formally, one clause each: a remit's "Penerangan Jalan
    Umum (PJU)" is the writer's "lampu jalan" (each group of ``synonyms`` names one thing). Only clauses that
    say what the agency does count (not "… tidak termasuk", nor where after "di")."""
    groups = [[f" {normalise(name, lexicon)} " for name in group] for group in synonyms]
    groups = [[name for name in group if name.strip()] for group in groups]
    if not groups:
        return remits
    out = {}
    for code, text in remits.items():
        clauses = [_before_locative(normalise(raw, lexicon)) for raw in _CLAUSES.split(text or "")]
        said = " | ".join(f" {clause} " for clause in clauses if clause and not _EXCLUSION.search(clause))
        extra = [name.strip() for group in groups if any(name in said for name in group) for name in group
                 if name not in said]
        out[code] = f"{text}\n" + "\n".join(extra) if extra else text
    return out


def _before_locative(clause: str) -> str:
    tokens = clause.split()
    at = next((i for i, w in enumerate(tokens) if w in _LOCATIVE), len(tokens))
    return " ".join(tokens[:at])


def _after(landmarks: frozenset[str], toks: list[str], i: int) -> bool:
    """Whether one of the two tokens before position ``i`` is a landmark word ("depan", "belakang")."""
    if not landmarks:
        return False
    return (i >= 1 and toks[i - 1] in landmarks) or (i >= 2 and toks[i - 2] in landmarks)


def _add(found: dict[str, list[str]], code: str, term: str) -> None:
    terms = found.setdefault(code, [])
    if term not in terms:
        terms.append(term)


@dataclass(frozen=True)
class RemitHit:
    """Evidence one remit gives a message: the agency, its score and the remit words that matched."""

    agency: str
    score: float
    terms: tuple[str, ...]


class RemitIndex:
    """Every agency's remit compiled into stem and stem-pair lookups with specificity weights."""

    def __init__(self, remits: dict[str, str], lexicon: dict[str, str] | None = None, *,
                 weight: float = 1.0, pair_weight: float = 2.0, max_score: float = 4.0,
                 exclusion_weight: float = 1.0, place_weight: float = 1.0,
                 synonyms: list[list[str]] | None = None) -> None:
        self.max_score = max_score
        remits = _with_synonyms(remits, synonyms or [], lexicon)
        positive: dict[str, set[str]] = defaultdict(set)   # term → agencies whose remit holds it
        negative: dict[str, set[str]] = defaultdict(set)
        where: dict[str, set[str]] = defaultdict(set)      # named only as where the agency's matter is
        # stem → (agency, clause number) of the positive remit words: a rule of several words is owned by a
        # remit that names them in one clause ("lampu lalu lintas" and "parkir tepi jalan" own no "lampu jalan")
        self.clauses_of: dict[str, set[tuple[str, int]]] = defaultdict(set)
        for code, text in remits.items():
            for number, raw in enumerate(_CLAUSES.split(text or "")):
                clause = normalise(raw, lexicon)
                excluded = _EXCLUSION.search(clause) is not None
                # "gepeng termasuk di lampu merah dan objek wisata": what follows "di" is where, not what
                tokens = clause.split()
                at = next((i for i, w in enumerate(tokens) if w in _LOCATIVE), len(tokens))
                for part, target in ((tokens[:at], negative if excluded else positive),
                                     (tokens[at + 1:], negative if excluded else where)):
                    words = [w for w in part if len(w) >= 3 and w not in STOPWORDS and not w.isdigit()]
                    for word in words:
                        target[word].add(code)
                        if target is positive:
                            for stem_ in stems(word, True):
                                self.clauses_of[stem_].add((code, number))
                    for first, second in zip(words, words[1:], strict=False):
                        if first != second:  # "gorong-gorong" is one word written twice, not a pair
                            target[f"{first} {second}"].add(code)
        for term, codes in where.items():  # the agency's own word elsewhere in its remit stays its own
            codes -= positive.get(term, set())
        # term → [(agency, weight)]; pairs are keyed by each side's stems
        self.words: dict[str, list[tuple[str, str, float]]] = defaultdict(list)
        self.pairs: dict[tuple[str, str], list[tuple[str, str, float]]] = defaultdict(list)
        for target, sign in ((positive, 1.0), (negative, -exclusion_weight), (where, place_weight)):
            for term, codes in target.items():
                is_pair = " " in term
                base = pair_weight if is_pair else weight
                holders = len(positive.get(term, set()) | where.get(term, set())) or len(codes)
                for code in sorted(codes):
                    if sign < 0 and not is_pair and code in positive.get(term, ()):
                        continue  # "jalan kota" theirs, "jalan lingkungan" not: the exclusion is in the pair
                    w = sign * base / holders
                    if is_pair:
                        first, second = term.split(" ", 1)
                        for a in stems(first, True):
                            for b in stems(second, True):
                                self.pairs[(a, b)].append((code, term, w))
                    else:
                        for s in stems(term, True):
                            self.words[s].append((code, term, w))
        self._outside(remits, lexicon, positive)
        self._outside_firsts = frozenset(a for a, _ in self.outside_pairs)
        self._outside_seconds = frozenset(b for _, b in self.outside_pairs)
        self._outside_tokens: dict[str, tuple[tuple[tuple[str, str], ...], tuple[str, ...], tuple[str, ...]]] = {}
        self.empty = not self.words and not self.pairs
        self._firsts = {a for a, _ in self.pairs}
        self._tokens: dict[str, tuple[tuple[str, ...] | None, dict[tuple[str, str], float], tuple[str, ...]]] = {}
        self.agencies = set(remits)
        # stem → agencies whose remit holds / excludes a word with that stem (who owns a problem)
        self.owners_of: dict[str, set[str]] = defaultdict(set)
        self.excluders_of: dict[str, set[str]] = defaultdict(set)
        for target, out in ((positive, self.owners_of), (negative, self.excluders_of)):
            for term, codes in target.items():
                if " " not in term:  # (sets of codes: order does not matter here)
                    for s in stems(term, True):
                        out[s].update(codes)

    def _outside(self, remits: dict[str, str], lexicon: dict[str, str] | None,
                 positive: dict[str, set[str]]) -> None:
        """Index what a remit lists as not the Pemda's at all: its word pairs, and its acronyms ("SMA", "PLN",
        "LRT") that no other remit names. Words most remits hold (the city's name) are left out."""
        self.outside_words: dict[str, list[tuple[str, str]]] = defaultdict(list)
        self.outside_pairs: dict[tuple[str, str], list[tuple[str, str]]] = defaultdict(list)
        for code, text in sorted(remits.items()):
            for listed in _not_the_pemdas(text or ""):
                for raw in _CLAUSES.split(_SLASHED.sub(r"\1 \2, \1 \3", listed)):
                    for acronym in _CAPS_WORD.findall(raw):
                        word = normalise(acronym, lexicon)
                        if " " not in word and len(word) >= 2 and not positive.get(word, set()) - {code}:
                            self.outside_words[word].append((code, word))
                    # (word, written with a capital): a pair is two names ("Pasar Klewer") or two common
                    # words ("jalan nasional"), never a common word and a name ("pintu air Sungai …")
                    words = [(w if len(w) >= 3 and w not in STOPWORDS and not w.isdigit() else "", raw_word[:1].isupper())
                             for raw_word in _RAW_WORD.findall(raw) for w in normalise(raw_word, lexicon).split()]
                    for (first, named), (second, also_named) in zip(words, words[1:], strict=False):
                        if first and second and first != second and named == also_named \
                                and not positive.get(f"{first} {second}", set()) - {code}:
                            for a in stems(first, True):
                                for b in stems(second, True):
                                    self.outside_pairs[(a, b)].append((code, f"{first} {second}"))

    def outside(self, toks: list[str], landmarks: frozenset[str] = frozenset()) -> dict[str, list[str]]:
        """Agency → the things the text names that its remit lists as not the Pemda's (pairs before words);
        one that comes within two words after a landmark word ("depan SMA 5", "belakang Jl. Marsma Iswahyudi")
        says where, not what, and is skipped."""
        if not self.outside_words and not self.outside_pairs:
            return {}
        found: dict[str, list[str]] = {}
        cache, pairs = self._outside_tokens, self.outside_pairs
        previous: tuple[str, ...] = ()
        for i, tok in enumerate(toks):
            entry = cache.get(tok)
            if entry is None:
                entry = self._outside_token(tok)
            listed, starts, ends = entry
            if listed and not _after(landmarks, toks, i):
                for code, term in listed:
                    _add(found, code, term)
            if previous and ends and not _after(landmarks, toks, i - 1):
                for a in previous:
                    for b in ends:
                        for code, term in pairs.get((a, b), ()):
                            _add(found, code, term)
            previous = starts
        return found

    def _outside_token(self, tok: str) -> tuple[tuple[tuple[str, str], ...], tuple[str, ...], tuple[str, ...]]:
        """(listed acronyms it is, stems that begin a listed pair, stems that end one) of a token; SMAN is SMA
        Negeri."""
        words = self.outside_words
        listed = tuple(words.get(tok) or (words.get(tok[:-1]) if tok.endswith("n") else None) or ())
        cands = stems(tok) if len(tok) >= 3 and tok not in STOPWORDS else ()
        entry = (listed, tuple(c for c in cands if c in self._outside_firsts),
                 tuple(c for c in cands if c in self._outside_seconds))
        if len(self._outside_tokens) < 200_000:
            self._outside_tokens[tok] = entry
        return entry

    def owners(self, words: list[str]) -> tuple[set[str], set[str]]:
        """(agencies whose remit names every content word of a rule, agencies whose remit excludes one)."""
        content = [w for w in words if len(w) >= 3 and w not in STOPWORDS and not w.isdigit()]
        if not content:
            return set(), set()
        owners: set[str] | None = None
        named: set[str] | None = None  # the same over the words some remit names ("pohon" of "pohon keropos")
        excluders: set[str] = set()
        for word in content:
            found = set().union(*(self.owners_of.get(s, set()) for s in stems(word)))
            owners = found if owners is None else owners & found
            if found:
                named = found if named is None else named & found
            excluders |= set().union(*(self.excluders_of.get(s, set()) for s in stems(word)))
        if owners and len(content) > 1:
            together: set[tuple[str, int]] | None = None
            for word in content:
                found_in = set().union(*(self.clauses_of.get(s, set()) for s in stems(word)))
                together = found_in if together is None else together & found_in
            owners = {code for code, _ in together or ()}
        if not owners and excluders and named:
            # a remit excludes a word of the rule and no remit names all of them: the remits that name what
            # is named own it ("Taman dan pohon tidak termasuk" moves "pohon keropos" to who holds "pohon")
            owners = named
        return owners or set(), excluders - (owners or set())

    def match(self, toks: list[str]) -> list[RemitHit]:
        """The agencies whose remits the tokens speak of, strongest first (each remit term counted once)."""
        if self.empty:
            return []
        found: dict[tuple[str, str], float] = {}
        pairs = self.pairs
        cache = self._tokens
        previous: tuple[str, ...] = ()
        for tok in toks:
            entry = cache.get(tok)
            if entry is None:
                entry = self._token(tok)
            cands, hits, starts = entry
            if hits:
                found.update(hits)
            if cands is None:  # a stopword or too short: pairs do not reach across it
                previous = ()
                continue
            for a in previous:
                for b in cands:
                    for code, term, w in pairs.get((a, b), ()):
                        found[(code, term)] = w
            previous = starts
        if not found:
            return []
        per_agency: dict[str, list[tuple[float, str]]] = defaultdict(list)
        for (code, term), w in found.items():
            per_agency[code].append((w, term))
        hits_out = []
        top = self.max_score
        for code, items in per_agency.items():
            score = sum([w for w, _ in items])  # (the same float additions, in the same order, as a generator's)
            score = max(min(score, top), -top)
            if abs(score) >= 0.05:  # (the terms of a score too small to count are not sorted)
                terms = (items[0][1],) if len(items) == 1 else \
                    tuple([term for _, term in sorted(items, key=_strongest_first)])
                hits_out.append(RemitHit(code, rounded(score, 3), terms))
        return sorted(hits_out, key=lambda h: -h.score)

    def _token(self, tok: str) -> tuple[tuple[str, ...] | None, dict[tuple[str, str], float], tuple[str, ...]]:
        """(stems or None for a stopword, the word hits, the stems that start a remit pair) of one token."""
        if len(tok) < 3 or tok in STOPWORDS:
            entry: tuple[tuple[str, ...] | None, dict[tuple[str, str], float], tuple[str, ...]] = (None, {}, ())
        else:
            cands = stems(tok)
            hits = {(code, term): w for s in cands for code, term, w in self.words.get(s, ())}
            entry = (cands, hits, tuple(s for s in cands if s in self._firsts))
        if len(self._tokens) < 200_000:
            self._tokens[tok] = entry
        return entry


def _strongest_first(item: tuple[float, str]) -> float:
    return -abs(item[0])


# ---- how a config names its agencies ------------------------------------------------------------------

_CAPS = re.compile(r"\b[A-Z][A-Z]{2,}\b")
_CAPS_WORD = re.compile(r"\b[A-Z]{2,}\b")
# "jalan nasional/provinsi": the first word goes with each alternative
_RAW_WORD = re.compile(r"[\w-]+")
_SLASHED = re.compile(r"\b(\w+) (\w+)/(\w+)\b")


def addressee_index(addressees: dict[str, list[str]], lexicon: dict[str, str]
                     ) -> dict[str, list[tuple[tuple[str, ...], str]]]:
    """First token → [(tokens, agency)] of the names, abbreviations and accounts only one agency has."""
    owners: dict[tuple[str, ...], set[str]] = defaultdict(set)
    for code, names in addressees.items():
        for name in names:
            toks = tuple(normalise(name, lexicon).split())
            if toks and (len(toks) > 1 or len(toks[0]) >= 3):
                owners[toks].add(code)
    index: dict[str, list[tuple[tuple[str, ...], str]]] = defaultdict(list)
    for toks, codes in owners.items():
        if len(codes) == 1:
            index[toks[0]].append((toks, next(iter(codes))))
    return dict(index)


def addressed(index: dict[str, list[tuple[tuple[str, ...], str]]], toks: list[str]) -> set[str]:
    """The agencies a tokenised text addresses by one of their names or accounts."""
    found: set[str] = set()
    n = len(toks)
    for i, tok in enumerate(toks):
        for seq, code in index.get(tok, ()):
            if i + len(seq) <= n and tuple(toks[i:i + len(seq)]) == seq:
                found.add(code)
    return found


def agency_remits(agencies: list[Any]) -> tuple[list[str], dict[str, str], dict[str, str], dict[str, list[str]]]:
    """Codes, remits (remit text with the agency's name and aliases), names and the ways a writer addresses
    each agency (its name before any parenthesis, abbreviations in capitals, accounts) of agency configs,
    dicts or bare codes."""
    codes: list[str] = []
    remits: dict[str, str] = {}
    names: dict[str, str] = {}
    addressees: dict[str, list[str]] = {}
    for agency in agencies:
        if isinstance(agency, str):
            codes.append(agency)
            continue
        get = agency.get if isinstance(agency, dict) else lambda key, a=agency: getattr(a, key, None)
        code: Any = get("code")
        codes.append(code)
        names[code] = get("name") or ""
        remit = get("remit") or ""
        name = get("name") or ""
        if remit.strip():
            aliases = " ".join(get("aliases") or [])
            remits[code] = f"{remit}\n{name}\n{aliases}"
            plain = re.split(r"\s[-–(]|\(", name)[0].strip()
            addressees[code] = [*(get("aliases") or []), *_CAPS.findall(name), *([plain] if " " in plain else [])]
    return codes, remits, names, addressees
