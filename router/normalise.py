"""Indonesian-aware text normalisation for matching only (the original text is always kept)."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from pathlib import Path

from router.fastre import Anchored

LEXICON_PATH = Path(__file__).with_name("data") / "lexicon.tsv"

# placeholders written by omnichannel.pii.mask: they carry no meaning for matching
_PII_PLACEHOLDER = re.compile(r"\[(?:NIK|TELEPON|EMAIL)\]")
_URL = re.compile(r"(?:https?://|www\.)\S+|\b[\w.-]+\.(?:com|id|net|org|go\.id|co\.id|ly|me)/\S*")
_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
# "RT/RW 03/05", "rt/rw: 3 / 5" → "rt 3 rw 5" (before punctuation is dropped)
_RT_RW_PAIR = re.compile(r"\brt\s*[/.\\-]\s*rw\s*[.:]?\s*(\d{1,3})\s*[/.\\-]\s*(\d{1,3})\b")
# "rt03", "rw.05", "rt:3" → "rt 03" (the number loses its zeros later with every other number)
_RT_RW_GLUED = re.compile(r"\b(rt|rw)\s*[.:]?\s*(?=\d)")
# ("(?<=\d)[.,]…" written with the separator first: re then skips to each "." or "," instead of trying every
# position; the same matches)
_THOUSANDS = re.compile(r"[.,](?<=\d[.,])(?=\d{3}\b)")
# everything that is not a letter, digit or whitespace: punctuation, symbols, emojis, marks
_NON_WORD = re.compile(r"[^\w\s]|_")
_ELONGATED = re.compile(r"([a-z])\1{2,}")
_REDUPLICATED = re.compile(r"\b([a-z]{2,})2([a-z]{1,3})?\b")
_LEADING_ZEROS = re.compile(r"\b0+(?=\d)")
_DIGIT_LETTER = re.compile(r"\b(rt|rw|no|km|rp)(\d)")
# tried only where one of their words begins (router.fastre: the same text)
_RT_RW_PAIR, _RT_RW_GLUED, _DIGIT_LETTER = map(Anchored, (_RT_RW_PAIR, _RT_RW_GLUED, _DIGIT_LETTER))  # type: ignore[assignment]

# words whose double letter is real: "maaaaf" collapses to "maf", then back to "maaf"
_DOUBLE_LETTER_WORDS = ("maaf", "saat", "taat", "manfaat", "jumaat", "sesaat", "siaap", "kooperatif",
                        "koordinasi", "koordinator", "zoom", "google", "facebook", "keenam", "tiktok")


def _load_lexicon(path: Path) -> dict[str, str]:
    lexicon: dict[str, str] = {}
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if not line.strip() or line.startswith("#"):
                continue
            key, _, value = line.rstrip("\n").partition("\t")
            lexicon[key.strip()] = value.strip()
    return lexicon


@lru_cache(maxsize=1)
def default_lexicon() -> dict[str, str]:
    """The shipped slang/abbreviation lexicon (informal → standard), loaded once."""
    return _load_lexicon(LEXICON_PATH)


def _collapsed_doubles() -> dict[str, str]:
    return {_ELONGATED.sub(r"\1", re.sub(r"([a-z])\1", r"\1\1\1", w)): w for w in _DOUBLE_LETTER_WORDS}


_DOUBLES = _collapsed_doubles()
_merged_cache: dict[int, tuple[dict[str, str], dict[str, str]]] = {}


def _lexicon_with(extra: dict[str, str] | None) -> dict[str, str]:
    base = default_lexicon()
    if not extra:
        return base
    cached = _merged_cache.get(id(extra))
    if cached is not None and cached[0] is extra:
        return cached[1]
    merged = {**base, **{k.casefold(): v.casefold() for k, v in extra.items()}}
    if len(_merged_cache) > 16:
        _merged_cache.clear()
    _merged_cache[id(extra)] = (extra, merged)
    return merged


def _elongation(match: re.Match[str]) -> str:
    return match.group(1)


def _reduplication(match: re.Match[str]) -> str:
    # "anak2" → "anak anak", "kos2an" → "kos kosan", "sampah2nya" → "sampah sampahnya"
    word, suffix = match.group(1), match.group(2) or ""
    return f"{word} {word}{suffix}"


def normalise(text: str, extra_lexicon: dict[str, str] | None = None) -> str:
    """Normalise ``text`` for matching: NFKC, casefold, no URLs/emojis, slang expanded, RT/RW unified."""
    if not text:
        return ""
    # each pattern runs only when the literal characters it needs occur (the same result, less work)
    if "[" in text:
        text = _PII_PLACEHOLDER.sub(" ", text)
    text = text.lower() if text.isascii() else unicodedata.normalize("NFKC", text).casefold()
    if ("/" in text and ("://" in text or ".com/" in text or ".id/" in text or ".net/" in text or ".org/" in text
                         or ".ly/" in text or ".me/" in text)) or "www." in text:  # what _URL needs
        text = _URL.sub(" ", text)
    if "@" in text:
        text = _EMAIL.sub(" ", text)
    rt, rw = "rt" in text, "rw" in text
    if rt and rw:
        text = _RT_RW_PAIR.sub(r" rt \1 rw \2 ", text)
    if rt or rw:
        text = _RT_RW_GLUED.sub(r"\1 ", text)
    if "." in text or "," in text:
        text = _THOUSANDS.sub("", text)
    text = _NON_WORD.sub(" ", text)
    text = _ELONGATED.sub(_elongation, text)
    if "2" in text:
        text = _REDUPLICATED.sub(_reduplication, text)
    text = _DIGIT_LETTER.sub(r"\1 \2", text)
    if "0" in text:
        text = _LEADING_ZEROS.sub("", text)
    lexicon = _lexicon_with(extra_lexicon)
    out: list[str] = []
    for token in text.split():
        if token in _DOUBLES:
            token = _DOUBLES[token]
        replacement = lexicon.get(token)
        if replacement is None:
            out.append(token)
        elif replacement:
            out.append(replacement)
    return " ".join(out)


def tokens(norm: str) -> list[str]:
    """The tokens of a normalised text (whitespace split; multi-word lexicon values become several)."""
    return norm.split()
