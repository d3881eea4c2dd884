"""Personal data: NIK structure, phone numbers in E.164, emails, masking."""

from __future__ import annotations

import pytest

from omnichannel.pii import PiiMatches, find, mask, mask_name, valid_nik

MALE = "3374011208900003"    # Jawa Tengah (33), Kota Semarang (74), kec 01, born 12-08-1990
FEMALE = "3374015208900003"  # same, day + 40 = woman born 12-08-1990


@pytest.mark.parametrize("nik", [MALE, FEMALE, "3171012902000001", "9601010101990001"])
def test_valid_nik(nik: str) -> None:
    assert valid_nik(nik)


@pytest.mark.parametrize(("nik", "why"), [
    ("1074011208900003", "province 10 does not exist"),
    ("3300011208900003", "regency 00"),
    ("3374001208900003", "district 00"),
    ("3374013208900003", "day 32"),
    ("3374017208900003", "day 72 (woman 32)"),
    ("3374011213900003", "month 13"),
    ("3374013002900003", "30 February"),
    ("3374012902010003", "29 February 2001"),
    ("3374011208900000", "serial 0000"),
    ("337401120890003", "15 digits"),
])
def test_invalid_nik(nik: str, why: str) -> None:
    assert not valid_nik(nik), why


def test_find_everything() -> None:
    text = (f"NIK saya {MALE}, istri {FEMALE[:4]} {FEMALE[4:8]} {FEMALE[8:12]} {FEMALE[12:]}. "
            "HP 0812-3456-7890 / +62 813 1234 5678 / 6285712345678, kantor (024) 7601234, "
            "email Budi.Santoso@Example.co.id")
    found = find(text)
    assert found == PiiMatches(niks=[MALE, FEMALE],
                               phones=["+6281234567890", "+6281312345678", "+6285712345678", "+62247601234"],
                               emails=["budi.santoso@example.co.id"])


@pytest.mark.parametrize("text", [
    "rapat tanggal 12-03-2026 jam 08.30 di rt 03 rw 05",
    "bayar Rp 1.500.000 dan 250.000",
    "nomor rekening 1234567890123456",         # 16 digits without a NIK's structure
    "tahun 2025 ada 120 laporan",
    "kode pos 50275",
])
def test_no_false_positives(text: str) -> None:
    assert not find(text)
    assert mask(text) == text


def test_same_value_listed_once() -> None:
    assert find("0812 3456 7890 atau +6281234567890").phones == ["+6281234567890"]


def test_mask() -> None:
    text = f"nik {MALE} hp 081234567890 mail a.b@c.id"
    assert mask(text) == "nik [NIK] hp [TELEPON] mail [EMAIL]"


def test_mask_keeps_everything_else() -> None:
    text = "Jalan rusak di RT 3, hubungi saya di 0812-3456-7890 ya min 🙏"
    assert mask(text) == "Jalan rusak di RT 3, hubungi saya di [TELEPON] ya min 🙏"


def test_nik_is_not_read_as_a_phone() -> None:
    assert find(f"NIK: {MALE}").phones == []


@pytest.mark.parametrize(("name", "masked"), [
    ("Budi Santoso", "B*** S******"), ("Siti", "S***"), ("", ""), (None, ""), ("  Ani   Lestari ", "A** L******"),
])
def test_mask_name(name: str | None, masked: str) -> None:
    assert mask_name(name) == masked


def test_text_without_digits_or_at_is_returned_as_is() -> None:
    text = "tidak ada data pribadi di sini"
    assert mask(text) is text
