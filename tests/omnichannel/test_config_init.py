"""``omnichannel init --region CODE``: the shipped config with another Pemda's gazetteer and time zone."""

from __future__ import annotations

import yaml

from omnichannel.cli import main
from omnichannel.config import load_config


def test_init_for_another_region_locates_its_places_and_not_semarangs(tmp_path, capsys):
    from router.eval.dedup import sections

    assert main(["init", str(tmp_path), "--region", "52.71"]) == 0
    out = capsys.readouterr().out
    assert "Kota Mataram (52.71)" in out and "Asia/Makassar" in out and "agencies[].remit" in out
    path = tmp_path / "config.yaml"
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert raw["routing"]["gazetteer"]["region"] == "52.71" and raw["routing"]["gazetteer"]["kecamatan"] == []
    assert "# SLA in working days" in path.read_text(encoding="utf-8")  # the shipped comments stay
    config = load_config(path)
    assert config.sla.timezone == "Asia/Makassar"
    _, classifier = sections(path)
    assert classifier.classify("jalan berlubang di kelurahan Ampenan Tengah").location == {
        "kelurahan": "Ampenan Tengah", "kecamatan": "Ampenan"}
    assert classifier.classify("lampu jalan mati di Banyumanik, Ngesrep").location is None  # Semarang's


def test_init_names_a_bad_region_and_writes_nothing(tmp_path, capsys):
    assert main(["init", str(tmp_path), "--region", "99.99"]) == 2
    assert "'99.99' is not a Kemendagri kabupaten/kota code" in capsys.readouterr().err
    assert not (tmp_path / "config.yaml").exists()
    assert main(["init", str(tmp_path), "--region", "91.71"]) == 0  # Kota Jayapura: WIT
    assert load_config(tmp_path / "config.yaml").sla.timezone == "Asia/Jayapura"


def test_init_without_region_writes_the_shipped_config_unchanged(tmp_path):
    from importlib import resources

    assert main(["init", str(tmp_path)]) == 0
    shipped = resources.files("omnichannel").joinpath("default_config.yaml").read_text(encoding="utf-8")
    assert (tmp_path / "config.yaml").read_text(encoding="utf-8") == shipped
