"""Place names as citizens write them: a shortened generic first word ("Gn." for Gunung, "Sei" for Sungai,
"Tj." for Tanjung), a part number as digit, Roman numeral or word, a glued official name written in two words,
"Hulu" for "Ulu" — each found as the official kelurahan, so two reports of one place meet on one place key,
while two parts of one place ("… Satu" / "… Dua") stay two places."""

from __future__ import annotations

import pytest

from router.classify import Classifier
from router.config import GazetteerConfig, RoutingConfig
from router.dedup.features import extract_places

_CLASSIFIERS: dict[str, Classifier] = {}


def _located(region: str, text: str) -> dict | None:
    if region not in _CLASSIFIERS:
        _CLASSIFIERS[region] = Classifier(RoutingConfig(gazetteer=GazetteerConfig(region=region)), ["pupr"])
    return _CLASSIFIERS[region].classify(text).location


# (Kemendagri region, text, kelurahan found)
FOUND = [
    # the generic first word shortened
    ("64.72", "jalan berlubang di Gn Lingai depan masjid", "Gunung Lingai"),
    ("64.72", "banjir lagi di gn. kelua sejak subuh", "Gunung Kelua"),
    ("64.72", "sampah menumpuk di Sei Dama belum diangkut", "Sungai Dama"),
    ("64.72", "lampu jalan mati di kel. sei pinang dalam", "Sungai Pinang Dalam"),
    ("64.72", "drainase tersumbat di Ps. Pagi", "Pasar Pagi"),
    ("71.71", "pohon tumbang di Tj Batu menutup jalan", "Tanjung Batu"),
    ("71.71", "air PDAM mati di tg. batu dari kemarin", "Tanjung Batu"),
    # a part number as digit, Roman numeral or word
    ("71.71", "sampah di Sindulang II belum diangkut", "Sindulang Dua"),
    ("71.71", "sampah di Sindulang 2 belum diangkut", "Sindulang Dua"),
    ("71.71", "sampah di sindulang dua belum diangkut", "Sindulang Dua"),
    ("71.71", "sampah di Sindulang I belum diangkut", "Sindulang Satu"),
    ("71.71", "jalan rusak di Paal 4 dekat gereja", "Paal IV"),
    ("71.71", "jalan rusak di paal empat dekat gereja", "Paal IV"),
    ("71.71", "lampu mati di Malalayang 2", "Malalayang Dua"),
    # a glued official name written in two words, shortened too
    ("16.71", "banjir di Sungai Buah sampai selutut", "Sungaibuah"),
    ("16.71", "banjir di sei buah sampai selutut", "Sungaibuah"),
    ("16.71", "jalan rusak di bukit lama dekat kampus", "Bukitlama"),
    # "Hulu" for "Ulu"
    ("64.72", "banjir di Karang Asam Hulu", "Karang Asam Ulu"),
]


@pytest.mark.parametrize(("region", "text", "kelurahan"), FOUND)
def test_a_place_written_the_citizens_way_is_the_official_kelurahan(region, text, kelurahan):
    location = _located(region, text)
    assert location is not None and location.get("kelurahan") == kelurahan


# two parts or neighbours of one name stay apart; a junction is not a kelurahan
APART = [
    ("71.71", "sampah di Sindulang I belum diangkut", "sampah di Sindulang II belum diangkut"),
    ("71.71", "lampu mati di Malalayang 1", "lampu mati di Malalayang 2"),
    ("64.72", "banjir di Karang Asam Ilir", "banjir di Karang Asam Hulu"),
]


@pytest.mark.parametrize(("region", "one", "other"), APART)
def test_two_parts_of_one_name_stay_two_places(region, one, other):
    a, b = _located(region, one), _located(region, other)
    assert a and b and a["kelurahan"] != b["kelurahan"]
    keys_a = {k for k in extract_places(one, a) if k.startswith("kel:")}
    keys_b = {k for k in extract_places(other, b) if k.startswith("kel:")}
    assert keys_a and keys_b and not keys_a & keys_b


@pytest.mark.parametrize("text", ["lampu lalu lintas simpang III mati", "macet di simpang iii arah bandara"])
def test_a_junction_numbered_is_not_kelurahan_simpang_tiga(text):
    location = _located("64.72", text) or {}
    assert location.get("kelurahan") != "Simpang Tiga"


# two reports of one place in two spellings meet on one kelurahan key
SAME = [
    ("64.72", "jalan rusak di Gn. Lingai", "jalan rusak parah di kelurahan Gunung Lingai"),
    ("71.71", "sampah di Sindulang II", "sampah di kel Sindulang Dua"),
    ("16.71", "banjir di Sei Buah", "banjir di Sungaibuah"),
]


@pytest.mark.parametrize(("region", "one", "other"), SAME)
def test_two_spellings_meet_on_one_place_key(region, one, other):
    keys_a = {k for k in extract_places(one, _located(region, one)) if k.startswith("kel:")}
    keys_b = {k for k in extract_places(other, _located(region, other)) if k.startswith("kel:")}
    assert keys_a & keys_b
