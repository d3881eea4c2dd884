"""The gazetteer loaded for a Pemda by its Kemendagri code, extended by hand; landmarks and streets
spelled one way so that grouping compares places, not spellings."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from pydantic import ValidationError

from omnichannel.cli import main
from router.classify import Classifier
from router.config import GazetteerConfig, RoutingConfig
from router.dedup.config import DedupConfig
from router.dedup.features import extract_places
from router.eval.dedup import evaluate
from router.places import canonical_places, merged_places, region_places


def test_region_code_loads_every_kecamatan_and_kelurahan():
    kota, kecamatan = region_places("33.74")
    assert kota == "Kota Semarang"
    assert len(kecamatan) == 16
    assert sum(len(kels) for _, kels in kecamatan) == 177
    _, bandung = region_places("3273")  # undotted codes too
    assert len(bandung) == 30 and any(name == "Coblong" for name, _ in bandung)


def test_a_place_nobody_listed_is_found_from_the_region():
    bare = Classifier(RoutingConfig(gazetteer=GazetteerConfig()), ["pupr"])
    loaded = Classifier(RoutingConfig(gazetteer=GazetteerConfig(region="33.74")), ["pupr"])
    text = "jalan rusak berlubang di kelurahan Miroto dekat pasar"
    assert bare.classify(text).location is None
    assert loaded.classify(text).location == {"kecamatan": "Semarang Tengah", "kelurahan": "Miroto"}
    # two-word names are found written as one word too
    assert loaded.classify("banjir di srondolkulon").location["kelurahan"] == "Srondol Kulon"


def test_a_numbered_kelurahan_is_found_written_with_digits():
    # Kota Palembang's kelurahan are numbered in words in the dataset ("Tiga-belas Ulu"), in digits by citizens
    loaded = Classifier(RoutingConfig(gazetteer=GazetteerConfig(region="16.71")), ["pdam"])
    assert loaded.classify("ledeng di 13 ulu mati dari subuh").location["kelurahan"] == "Tiga-belas Ulu"
    assert loaded.classify("air mati di tiga belas ulu").location["kelurahan"] == "Tiga-belas Ulu"
    assert loaded.classify("banjir di 36 Ilir").location["kelurahan"] == "Tiga-puluh-enam Ilir"


def test_hand_listed_places_and_variants_extend_the_region():
    cfg = GazetteerConfig(region="33.74", kecamatan=[
        {"name": "Banyumanik", "variants": ["bnyumanik"],
         "kelurahan": [{"name": "Srondol Wetan", "variants": ["srondol wtn"]},
                       {"name": "Perumahan Graha Estetika", "variants": ["graha estetika"]}]},
        {"name": "Kampung Baru", "kelurahan": [{"name": "Kali Kecil"}]},
    ])
    kota, places = merged_places(cfg)
    by_name = {kec.name: kec for kec in places}
    assert kota == "Kota Semarang" and len(places) == 17
    assert "bnyumanik" in by_name["Banyumanik"].variants
    kels = {kel.name: kel for kel in by_name["Banyumanik"].kelurahan}
    assert "srondol wtn" in kels["Srondol Wetan"].variants and "Perumahan Graha Estetika" in kels
    classifier = Classifier(RoutingConfig(gazetteer=cfg), ["pupr"])
    assert classifier.classify("selokan mampet di srondol wtn").location == {"kecamatan": "Banyumanik",
                                                                            "kelurahan": "Srondol Wetan"}
    assert classifier.classify("jalan rusak di bnyumanik").location == {"kecamatan": "Banyumanik"}


def test_a_region_name_that_is_a_common_word_needs_context():
    classifier = Classifier(RoutingConfig(gazetteer=GazetteerConfig(region="33.74")), ["pupr"])
    # "Candi" (a kelurahan of Candisari) is also a word
    assert classifier.classify("candi itu bagus").location is None
    assert classifier.classify("jalan rusak di kelurahan candi").location == {"kecamatan": "Candisari",
                                                                             "kelurahan": "Candi"}


def test_an_unknown_region_code_is_a_config_error_naming_the_key(tmp_path, capsys):
    with pytest.raises(ValidationError, match="region"):
        GazetteerConfig(region="99.99")
    config = tmp_path / "config.yaml"
    config.write_text("connectors: []\nrouting:\n  gazetteer:\n    region: '33.99'\n")
    assert main(["-c", str(config), "check"]) == 2
    assert "routing.gazetteer.region" in capsys.readouterr().err


@pytest.mark.parametrize("spelling", ["SDN 5 Sukaluyu", "SD 5 sukaluyu", "SD Negeri 5 Sukaluyu", "SD N 05 Sukaluyu",
                                      "Sekolah Dasar Negeri 5 Sukaluyu"])
def test_school_spellings_are_one_place(spelling):
    assert extract_places(f"atap {spelling} bocor") == {"lm-sekolah:sd 5 sukaluyu"}


def test_streets_and_landmarks_are_one_key():
    assert extract_places("jln melati banjir") == extract_places("jalan Melati banjir") == {"street:melati"}
    assert extract_places("Jl. Melati no 4 banjir") == {"street:melati", "hn:4"}  # and a house on it
    assert extract_places("jalan rusak parah") == set()  # a road, not a street's name
    assert canonical_places("mesjid Al Ikhlas") == "masjid Al Ikhlas"
    assert canonical_places("depan kantor lurah Sukaluyu") == "depan kelurahan Sukaluyu"
    assert extract_places("atap SD Negeri 6 Sukaluyu bocor") != extract_places("atap SDN 5 Sukaluyu bocor")


def _row(n, hours, sender, text, case, expect, hard=None):
    ts = (datetime(2026, 5, 4, 8) + timedelta(hours=hours)).isoformat() + "+07:00"
    return {"id": f"t{n}", "ts": ts, "channel": "whatsapp", "sender": sender, "name": None, "phone": None,
            "email": None, "text": text, "case": case, "expect": expect, "hard_negative": hard}


def test_one_incident_told_with_differently_spelled_landmarks_is_grouped_and_another_school_is_not():
    rows = [
        _row(1, 0, "wa:1", "Atap ruang kelas SDN 5 Sukaluyu ambruk pagi ini, murid dipulangkan", "A", "new"),
        _row(2, 2, "wa:2", "atap kelas SD Negeri 5 Sukaluyu ambruk td pagi, anak2 dipulangkan", "A", "incident"),
        _row(3, 3, "wa:3", "atap ruang kelas SD 6 Sukaluyu ambruk, murid dipulangkan", "B", "new", "school"),
    ]
    report = evaluate(rows, DedupConfig(), None)
    assert report.links[1] == ("t2", "t1", "incident")
    assert report.links[2] == ("t3", None, "new")


def test_a_one_word_kelurahan_written_as_two_words():
    from router.config import GazetteerConfig
    from router.normalise import normalise
    from router.places import Gazetteer

    gazetteer = Gazetteer(GazetteerConfig(kecamatan=[{"name": "Gandus", "kelurahan": [{"name": "Pulokerto"}]}]), {})
    for text in ("lahan di pulo kerto terbakar", "lahan di Pulokerto terbakar"):
        norm = normalise(text)
        assert gazetteer.locate(norm.split(), norm)[0] == {"kelurahan": "Pulokerto", "kecamatan": "Gandus"}
    norm = normalise("jalan pulo rusak")
    assert gazetteer.locate(norm.split(), norm)[0] is None
