"""Normalisation rules, one test each, and the shipped slang lexicon."""

from __future__ import annotations

import pytest

from router.normalise import LEXICON_PATH, default_lexicon, normalise, tokens


def test_nfkc_and_casefold() -> None:
    assert normalise("ＪＡＬＡＮ Rusak") == "jalan rusak"
    assert normalise("SAMPAH") == "sampah"


def test_urls_are_removed() -> None:
    assert normalise("lihat https://t.co/abc123 dan www.contoh.go.id/x jalan") == "lihat dan jalan"


def test_mentions_and_hashtags_keep_the_word() -> None:
    assert normalise("@dishub_kota #LampuMerah mati") == "dishub kota lampumerah mati"


def test_emojis_and_punctuation_are_removed() -> None:
    assert normalise("banjir!!! 😭😭🌧️ tolong...") == "banjir tolong"


@pytest.mark.parametrize(("raw", "expected"), [
    ("parahhh", "parah"), ("bangeeet", "banget"), ("tolonggg", "tolong"), ("maaaaf", "maaf"),
    ("sampahhh", "sampah"),
])
def test_elongated_letters_collapse(raw: str, expected: str) -> None:
    assert normalise(raw) == expected


def test_real_double_letters_stay() -> None:
    assert normalise("maaf saat itu") == "maaf saat itu"


@pytest.mark.parametrize("raw", [
    "rt 03 rw 5", "RT.3/RW.05", "rt03/rw05", "RT/RW 003/005", "Rt. 3 Rw. 5", "rt:03 rw:05", "RT 3 / RW 5",
])
def test_rt_rw_forms(raw: str) -> None:
    assert normalise(raw) == "rt 3 rw 5"


def test_numbers_lose_leading_zeros_and_thousand_separators() -> None:
    assert normalise("no 007 bayar Rp 1.500.000") == "no 7 bayar rp 1500000"


def test_reduplication_with_2() -> None:
    assert normalise("anak2 kos2an") == "anak anak kos kosan"


@pytest.mark.parametrize(("raw", "expected"), [
    ("jln", "jalan"), ("gk", "tidak"), ("ga", "tidak"), ("gak", "tidak"), ("nggak", "tidak"), ("tdk", "tidak"),
    ("udh", "sudah"), ("sdh", "sudah"), ("bgt", "banget"), ("dgn", "dengan"), ("yg", "yang"), ("blm", "belum"),
    ("krn", "karena"), ("gaada", "tidak ada"),
    # Javanese, Sundanese, Betawi
    ("ora", "tidak"), ("uwuh", "sampah"), ("dalan", "jalan"), ("runtah", "sampah"), ("caah", "banjir"),
    ("teu", "tidak"), ("kagak", "tidak"), ("udeh", "sudah"),
])
def test_lexicon_entries(raw: str, expected: str) -> None:
    assert normalise(raw) == expected


def test_particles_are_dropped() -> None:
    assert normalise("min tolong dong ya") == "admin tolong"


def test_sentence() -> None:
    text = "Jln RUSAK parahhh bgt 😡 di RT.3/RW.05 kel. Tembalang, udh 3 bln gk dibenerin https://x.co/a"
    assert normalise(text) == ("jalan rusak parah banget di rt 3 rw 5 kelurahan tembalang sudah 3 bulan tidak "
                               "diperbaiki")


def test_extra_lexicon_from_config_wins() -> None:
    assert normalise("jlnnya rsk", {"jlnnya": "jalan"}) == "jalan rusak"
    assert normalise("jlnnya rsk") == "jlnnya rusak"


def test_pii_placeholders_carry_no_meaning() -> None:
    assert normalise("NIK [NIK] hp [TELEPON] email [EMAIL]") == "nik hp email"


def test_empty() -> None:
    assert normalise("") == ""
    assert normalise("😀🙏") == ""


def test_tokens() -> None:
    assert tokens(normalise("gaada air")) == ["tidak", "ada", "air"]


def test_lexicon_size_and_shape() -> None:
    lexicon = default_lexicon()
    real = {k: v for k, v in lexicon.items() if k != v}
    assert len(real) >= 500
    for key in lexicon:
        assert key == key.casefold() and " " not in key and key.isprintable(), key
    assert LEXICON_PATH.exists()


def test_lexicon_keys_survive_normalisation() -> None:
    """Every key must still be one token after the earlier steps, or the entry could never match."""
    from router import normalise as module

    unreachable = []
    for key in default_lexicon():
        text = module._NON_WORD.sub(" ", key.casefold())
        text = module._ELONGATED.sub(r"\1", text)
        if text.split() != [key]:
            unreachable.append(key)
    assert unreachable == []
