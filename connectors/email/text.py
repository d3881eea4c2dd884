"""Text helpers for mail: charset fallbacks, header decoding, HTML to safe text, quote and signature stripping.

Everything here takes whatever real mail contains (mislabelled or unknown charsets, raw 8-bit bytes,
lone surrogates from ``surrogateescape``, NUL bytes) and returns clean ``str`` that the store accepts.
"""

from __future__ import annotations

import codecs
import functools
import html
import re
from collections.abc import Callable
from email.header import decode_header

import nh3

# charsets mail clients declare that Python does not know, or knows by a narrower relative
_CHARSET_ALIASES = {
    "ks_c_5601-1987": "cp949", "ks_c_5601": "cp949", "euc-kr": "cp949", "gb2312": "gb18030", "gbk": "gb18030",
    "x-gbk": "gb18030", "cn-gb": "gb18030", "iso-8859-8-i": "iso-8859-8", "iso-8859-6-i": "iso-8859-6",
    "windows-874": "cp874", "x-mac-roman": "mac_roman", "macintosh": "mac_roman", "x-sjis": "shift_jis",
    "shift-jis": "shift_jis", "ms932": "cp932", "windows-31j": "cp932", "x-euc-jp": "euc_jp",
    "unicode-1-1-utf-7": "utf-7", "x-unicode-2-0-utf-7": "utf-7", "iso-8859-1": "cp1252", "latin1": "cp1252",
    "latin-1": "cp1252", "iso_8859-1": "cp1252", "us-ascii": "ascii", "ansi_x3.4-1968": "ascii",
    "tis-620": "cp874", "cp-850": "cp850", "x-cp1252": "cp1252", "big5": "big5hkscs",
}
# single-byte charsets that valid UTF-8 is often mislabelled as
_WESTERN = {"ascii", "cp1252", "latin_1", "iso8859_15", "iso8859_2", "cp1250", "iso8859_9", "cp1254"}
_SURROGATES = re.compile(r"[\ud800-\udfff]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_FOLD = re.compile(r"[\r\n]+(?=[ \t])")
_SPACES = re.compile(r"\s+")
_BLANKS = re.compile(r"[ \t]+")
_BLANK_LINES = re.compile(r"\n{3,}")
# the charset to try for raw 8-bit header bytes, or a function that finds it (called only when needed)
Hint = str | Callable[[], str | None] | None


def normalise_charset(name: str | None) -> str | None:
    """A codec Python knows for a declared charset name, or None when it is absent or unknown."""
    if not name:
        return None
    name = str(name).strip().strip("\"'").lower()[:60]
    for candidate in (name, name.removeprefix("x-"), name.removeprefix("iso-"), _family(name)):
        candidate = _CHARSET_ALIASES.get(candidate, candidate)
        if not candidate:
            continue
        try:
            info = codecs.lookup(candidate)
        except (LookupError, ValueError):
            continue
        if getattr(info, "_is_text_encoding", True):  # not zlib, base64, rot13...: codecs, not charsets
            return info.name
    return None


def _family(name: str) -> str | None:
    """A codec for a misspelt name that clearly names its family (``iso-gb2312``, ``utf8mb4``)."""
    for needle, codec in (("utf8", "utf-8"), ("utf-8", "utf-8"), ("gb2312", "gb18030"), ("gbk", "gb18030"),
                          ("big5", "big5hkscs"), ("1252", "cp1252"), ("8859-1", "cp1252"), ("latin", "cp1252"),
                          ("shift", "shift_jis"), ("2022-jp", "iso2022_jp"), ("euc-kr", "cp949"), ("koi8", "koi8_r")):
        if needle in name:
            return codec
    return None


def decode_bytes(data: bytes, declared: str | None = None) -> str:
    """Decode body or header bytes; never raises.

    UTF-8 is tried before the declared charset (the usual mislabel; non-ASCII text that is valid UTF-8 by
    accident is vanishingly rare). Stateful and wide charsets (ISO-2022-JP, UTF-7, UTF-16) go first since
    their bytes can also be plain ASCII. A declared multi-byte charset (GB2312, Shift_JIS) comes next.
    Otherwise mixed text is decoded as UTF-8 where it is valid and byte by byte in the declared single-byte
    charset (or Windows-1252) where it is not.
    """
    charset = normalise_charset(declared)
    if b"\x80" in data and data.count(b"\x80") * 4 >= len(data):
        # NUL bytes as Dovecot serves them (0x80, RFC 3501 forbids NUL in a literal): here every other byte,
        # i.e. UTF-16 text of a Latin script; without them the text reads again
        data = data.replace(b"\x80", b"")
        if charset and charset.startswith(("utf_16", "utf-16", "utf_32", "utf-32")):
            charset = None
    if charset and charset.startswith(("iso2022", "utf-7", "utf-16", "utf-32", "hz")):
        try:
            return data.decode(charset)
        except (UnicodeDecodeError, LookupError):
            pass
    if data.isascii():
        if b"\x1b$B" in data or b"\x1b(J" in data:  # undeclared ISO-2022-JP
            try:
                return data.decode("iso2022_jp")
            except UnicodeDecodeError:
                pass
        return data.decode("ascii")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    if b"\x80" in data and charset in (None, "ascii", "utf-8"):
        try:  # stray NULs served as 0x80 in ASCII or UTF-8 text (a lone 0x80 is never valid UTF-8)
            return data.replace(b"\x80", b"").decode("utf-8")
        except UnicodeDecodeError:
            pass
    if charset and charset not in ("ascii", "utf-8") and not _single_byte(charset):
        try:
            return data.decode(charset)
        except (UnicodeDecodeError, LookupError):
            return data.decode(charset, errors="replace")
    single = charset if charset and charset not in ("ascii", "utf-8") else "cp1252"
    return data.decode("utf-8", errors=_fallback_handler(single))


@functools.lru_cache(maxsize=64)
def _single_byte(charset: str) -> bool:
    try:
        return len(bytes(range(256)).decode(charset, errors="replace")) == 256
    except LookupError:
        return False


@functools.lru_cache(maxsize=64)
def _fallback_handler(charset: str) -> str:
    """Register (once) a codec error handler that decodes each invalid byte in ``charset``."""
    name = f"omnichannel-bytewise-{charset}"

    def handler(err: UnicodeError) -> tuple[str, int]:
        byte = err.object[err.start:err.start + 1]  # type: ignore[attr-defined]
        try:
            char = byte.decode(charset)
        except UnicodeDecodeError:
            char = byte.decode("latin-1")
        return char, err.start + 1  # type: ignore[attr-defined]

    codecs.register_error(name, handler)
    return name


def needs_hint(text: str) -> bool:
    """True when ``clean`` would consult its charset hint for ``text`` (raw 8-bit bytes or ESC in it)."""
    return "\x1b" in text or bool(_SURROGATES.search(text))


def clean(text: str | None, hint: Hint = None) -> str:
    """Repair raw 8-bit bytes (read as ``surrogateescape``; ``hint`` is the charset to try) and ISO-2022-JP
    escapes, then drop NUL and other control characters."""
    if not text:
        return ""
    if _SURROGATES.search(text) or "\x1b" in text:
        text = decode_bytes(text.encode("utf-8", "surrogateescape"), hint() if callable(hint) else hint)
        text = _SURROGATES.sub("\ufffd", text)
    return _CONTROL.sub("", text)


def unfold(value: str) -> str:
    """Join folded header lines (RFC 5322 2.2.3) and trim."""
    if "\r" not in value and "\n" not in value:
        return value.strip()
    return _FOLD.sub("", value).replace("\r", "").replace("\n", " ").strip()


def decode_header_value(value: str | None, limit: int = 4000, hint: Hint = None) -> str:
    """Decode RFC 2047 encoded-words with charset fallbacks; raw 8-bit text is repaired (trying ``hint``,
    the message's own charset, first); long values are cut after decoding."""
    if not value:
        return ""
    value = clean(unfold(str(value)[:max(limit * 20, 20_000)]), hint)
    if "=?" not in value:
        return _SPACES.sub(" ", value).strip()[:limit]
    try:
        parts = decode_header(value)
    except Exception:  # the stdlib decoder rejects some broken encoded-words: keep the text as it is
        return _SPACES.sub(" ", value).strip()[:limit]
    out = []
    for chunk, charset in parts:
        if isinstance(chunk, bytes):
            chunk = decode_bytes(chunk, charset)
        out.append(chunk)
    return _SPACES.sub(" ", clean("".join(out))).strip()[:limit]


_BLOCK_TAGS = re.compile(r"<\s*(br|/p|/div|/tr|/li|/h[1-6]|/table|/blockquote|hr|p|div|li|tr)\b[^>]*>", re.I)


def html_to_text(markup: str) -> str:
    """Safe plain text from HTML: every tag dropped (nh3), scripts/styles/head removed, blocks become lines."""
    markup = _BLOCK_TAGS.sub(lambda m: "\n" + m.group(0), markup)
    text = nh3.clean(markup, tags=set(), clean_content_tags={"script", "style", "head", "title"},
                     strip_comments=True)
    text = html.unescape(text).replace("\xa0", " ")
    lines = [_BLANKS.sub(" ", line).strip() for line in text.splitlines()]
    return tidy("\n".join(lines))


def tidy(text: str) -> str:
    """Normalise line endings, trim trailing spaces and collapse runs of blank lines."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = "\n".join(line.rstrip() for line in text.split("\n"))
    return _BLANK_LINES.sub("\n\n", text).strip()


# where a quoted earlier message starts, in the languages our citizens' clients use
_QUOTE_HEADERS = [re.compile(p, re.I) for p in (
    r"^\s*on\b.{0,200}\bwrote:\s*$",                    # Gmail, Apple Mail, Thunderbird (en)
    r"^\s*pada\b.{0,200}\b(menulis|wrote)\s*:\s*$",       # Gmail (id)
    r"^\s*am\b.{0,200}\bschrieb.{0,80}:\s*$",             # de
    r"^\s*le\b.{0,200}\ba écrit\s*:\s*$",                 # fr
    r"^\s*-{2,}\s*(original message|pesan asli|ursprüngliche nachricht|forwarded message|pesan yang diteruskan)"
    r"\s*-{2,}\s*$",
    r"^\s*_{20,}\s*$",                                    # Outlook separator line
    r"^\s*(from|dari|von)\s*:\s.+$",                      # Outlook header block (checked with the next line)
)]
# any of them (one scan per line; the list above says which one and is only consulted on a hit)
_ANY_QUOTE_HEADER = re.compile("|".join(f"(?:{p.pattern})" for p in _QUOTE_HEADERS), re.I)
_ON_LINE = re.compile(r"^\s*(on|pada)\b", re.I)
_WROTE_END = re.compile(r"\b(wrote|menulis)\s*:\s*$", re.I)
_OUTLOOK_NEXT = re.compile(r"^\s*(sent|dikirim|gesendet|date|tanggal|to|kepada|subject|perihal)\s*:", re.I)
_SIGNATURE = re.compile(
    r"^\s*(--\s*|sent from my .{1,40}|dikirim dari .{1,60}|get outlook for .{1,30}|"
    r"sent from (yahoo|outlook|mail for windows).{0,40}|kirim(an)? dari .{1,40})$", re.I)


def strip_quotes_and_signature(text: str) -> str:
    """The new part of a reply, for matching: quoted history, quote markers and the signature removed."""
    lines = text.split("\n")
    cut = len(lines)
    for i, line in enumerate(lines):
        if len(line) > 400:
            continue
        for n, pattern in enumerate(_QUOTE_HEADERS if _ANY_QUOTE_HEADER.match(line) else ()):
            if pattern.match(line):
                is_outlook = n == len(_QUOTE_HEADERS) - 1
                if is_outlook and not (i + 1 < len(lines) and _OUTLOOK_NEXT.match(lines[i + 1])):
                    continue
                cut = i
                break
        if cut != len(lines):
            break
        # "On <date>, <name>" folded by the client onto two lines before "wrote:"
        if i + 1 < len(lines) and _ON_LINE.match(line) and _WROTE_END.search(lines[i + 1]):
            cut = i
            break
    kept = [line for line in lines[:cut] if not line.lstrip().startswith(">")]
    for i, line in enumerate(kept):
        if _SIGNATURE.match(line) and i > 0:
            kept = kept[:i]
            break
    return tidy("\n".join(kept))
