"""Personal data in free text: NIK, phone numbers, emails — find them and mask them."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, field

import phonenumbers

# Province codes (the first two NIK digits), Kemendagri numbering incl. the 2022 Papua provinces.
PROVINCE_CODES = frozenset({
    11, 12, 13, 14, 15, 16, 17, 18, 19, 21, 31, 32, 33, 34, 35, 36, 51, 52, 53,
    61, 62, 63, 64, 65, 71, 72, 73, 74, 75, 76, 81, 82, 91, 92, 93, 94, 95, 96,
})

_ANY = re.compile(r"[\d@]")
# 16 digits, possibly written in groups of four ("3374 0123 4567 0001")
_NIK = re.compile(r"(?<![\d+])(\d{4})[ .-]?(\d{4})[ .-]?(\d{4})[ .-]?(\d{4})(?![\d])")
# +62 / 62 / 0 followed by 8-12 more digits with optional separators and an optional (0xx) area code
_PHONE = re.compile(r"(?<![\w+])(?:\+62|62|0)[\s.-]?\(?\d{2,4}\)?(?:[\s.-]?\d{2,5}){1,4}(?![\w])"
                    r"|\(0\d{2,3}\)[\s.-]?\d{3,4}[\s.-]?\d{3,5}(?![\w])")
_EMAIL = re.compile(r"(?<![\w.+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_NON_DIGIT = re.compile(r"\D")

PLACEHOLDERS = {"nik": "[NIK]", "phone": "[TELEPON]", "email": "[EMAIL]"}


@dataclass
class PiiMatches:
    """Personal data found in one text: NIKs, phones in E.164 and emails, in order of appearance."""

    niks: list[str] = field(default_factory=list)
    phones: list[str] = field(default_factory=list)
    emails: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.niks or self.phones or self.emails)


def valid_nik(digits: str) -> bool:
    """True when 16 digits have a NIK's structure: province, regency, district, birth date, serial."""
    if len(digits) != 16 or not digits.isdigit():
        return False
    if int(digits[0:2]) not in PROVINCE_CODES or digits[2:4] == "00" or digits[4:6] == "00":
        return False
    day, month, year = int(digits[6:8]), int(digits[8:10]), int(digits[10:12])
    if day > 40:  # women: day + 40
        day -= 40
    if not 1 <= month <= 12 or day < 1:
        return False
    # the two-digit year cannot say whether 00 is a leap year; allow 29 Feb for every year ≡ 0 mod 4
    leap_year = 2000 + year if year % 4 == 0 else 2001
    if day > calendar.monthrange(leap_year, month)[1]:
        return False
    return digits[12:16] != "0000"


def _phone_e164(candidate: str) -> str | None:
    digits = _NON_DIGIT.sub("", candidate)
    if not 8 <= len(digits) <= 15:
        return None
    try:
        number = phonenumbers.parse(candidate, "ID")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _scan(text: str) -> list[tuple[int, int, str, str]]:
    """Spans of personal data as (start, end, kind, value), sorted, without overlaps."""
    if not text or not _ANY.search(text):
        return []
    spans: list[tuple[int, int, str, str]] = []
    taken: list[tuple[int, int]] = []

    def free(start: int, end: int) -> bool:
        return all(end <= s or start >= e for s, e in taken)

    if "@" in text:
        for m in _EMAIL.finditer(text):
            spans.append((m.start(), m.end(), "email", m.group(0).lower()))
            taken.append(m.span())
    for m in _NIK.finditer(text):
        digits = "".join(m.groups())
        if valid_nik(digits) and free(*m.span()):
            spans.append((m.start(), m.end(), "nik", digits))
            taken.append(m.span())
    for m in _PHONE.finditer(text):
        if not free(*m.span()):
            continue
        e164 = _phone_e164(m.group(0).strip())
        if e164:
            spans.append((m.start(), m.end(), "phone", e164))
            taken.append(m.span())
    spans.sort()
    return spans


def find(text: str) -> PiiMatches:
    """Every NIK, phone number (E.164) and email address in ``text``."""
    found = PiiMatches()
    for _, _, kind, value in _scan(text):
        target = found.niks if kind == "nik" else found.phones if kind == "phone" else found.emails
        if value not in target:
            target.append(value)
    return found


def mask(text: str, names: list[str] | tuple[str, ...] | None = None) -> str:
    """``text`` with NIKs, phone numbers and emails replaced by ``[NIK]``, ``[TELEPON]``, ``[EMAIL]``.

    ``names`` (a reporter's known names) are replaced by ``[NAMA]`` too: the whole name and each of
    its words of three letters or more, whole words only, any case.
    """
    if names:
        text = _mask_names(text, names)
    spans = _scan(text)
    if not spans:
        return text
    parts: list[str] = []
    last = 0
    for start, end, kind, _ in spans:
        parts.append(text[last:start])
        parts.append(PLACEHOLDERS[kind])
        last = end
    parts.append(text[last:])
    return "".join(parts)


def mask_name(name: str | None) -> str:
    """A name with every word reduced to its first letter and stars: "Budi Santoso" → "B*** S******"."""
    if not name:
        return ""
    return " ".join(word[0] + "*" * (len(word) - 1) for word in name.split())


def _mask_names(text: str, names: list[str] | tuple[str, ...]) -> str:
    words: set[str] = set()
    for name in names:
        if name and name.strip():
            words.add(name.strip())
            words.update(w for w in re.split(r"\s+", name.strip()) if len(w) >= 3)
    if not words:
        return text
    pattern = re.compile(r"(?<!\w)(" + "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
                         + r")(?!\w)", re.IGNORECASE)
    return pattern.sub("[NAMA]", text)


_ANONYMOUS = re.compile(
    r"\b(anonim|anonymous|tanpa nama|(jangan|jgn|tdk usah|tidak usah) (di)?(sebut|cantumkan|tampilkan|tulis)(kan)? nama|"
    r"sembunyikan (identitas|nama)|(identitas|nama) (saya |sy |pelapor )?(mohon |tolong )?(di)?rahasiakan)\b",
    re.IGNORECASE)
_CONFIDENTIAL = re.compile(r"\b(rahasia|dirahasiakan|rahasiakan|konfidensial)\b", re.IGNORECASE)
_ANONYMITY_WORDS = ("anonim", "anonymous", "nama", "identitas", "rahasia", "konfidensial")


def anonymity_request(text: str | None) -> tuple[bool, bool]:
    """(anonymous, confidential) as the citizen asked in their own words ("anonim", "mohon dirahasiakan").

    Asking for secrecy ("rahasia") is taken as both: hide the identity and keep the report non-public,
    the safer reading of what a citizen means by it.
    """
    if not text:
        return False, False
    # every phrase of both patterns holds one of these words: most texts skip the regexes (~5 us a mail)
    folded = text.casefold()
    if not any(word in folded for word in _ANONYMITY_WORDS):
        return False, False
    confidential = bool(_CONFIDENTIAL.search(text))
    return confidential or bool(_ANONYMOUS.search(text)), confidential
