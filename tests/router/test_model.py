"""The learned layer: built deterministically from files, calibrated, consulted where the rules are weak,
and named in the explanation when it decided."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from omnichannel.cli import main
from router.classify import Classifier
from router.config import RoutingConfig, RuleSet
from router.model import Model, train

AGENCIES = ["triage", "pdam", "dlh", "dishub"]
ROWS = [
    {"id": f"r{i}", "text": text, "kind": kind, "agency": agency}
    for i, (text, kind, agency) in enumerate([
        ("sedot tinja penuh septic tank rumah meluap", "pengaduan", "pdam"),
        ("mobil sedot tinja tidak datang sudah seminggu", "pengaduan", "pdam"),
        ("layanan sedot tinja terjadwal kapan datang", "pengaduan", "pdam"),
        ("tinja meluap dari septic tank tetangga", "pengaduan", "pdam"),
        ("sampah numpuk di tps pasar bau sekali", "pengaduan", "dlh"),
        ("tps penuh sampah belum diangkut", "pengaduan", "dlh"),
        ("truk sampah tidak lewat seminggu", "pengaduan", "dlh"),
        ("angkot ngetem sembarangan bikin macet", "pengaduan", "dishub"),
        ("angkot trayek kami hilang tidak ada lagi", "pengaduan", "dishub"),
        ("usul trayek angkot baru ke perumahan kami", "aspirasi", "dishub"),
        ("usul tps baru di ujung gang kami", "aspirasi", "dlh"),
        ("terima kasih sudah diangkut sampahnya", "bukan_aduan", "triage"),
        ("terima kasih admin cepat sekali", "bukan_aduan", "triage"),
        ("berapa tarif sedot tinja sekarang", "informasi", "pdam"),
        ("jadwal truk sampah hari apa saja", "informasi", "dlh"),
    ] * 3)
]
REMITS = [{"code": "pdam", "remit": "Air minum perpipaan dan layanan lumpur tinja terjadwal (sedot tinja)."},
          {"code": "dlh", "remit": "Pengangkutan sampah, TPS dan TPA."},
          {"code": "dishub", "remit": "Angkutan umum, trayek angkot, parkir dan lalu lintas."}]


@pytest.fixture(scope="module")
def model() -> Model:
    return train(ROWS, REMITS)


def test_training_is_deterministic(model, tmp_path):
    again = train(list(reversed(ROWS)), REMITS)  # the order of the rows does not matter either
    for head, other in ((model.kind, again.kind), (model.agency, again.agency)):
        assert head.labels == other.labels and head.temperature == other.temperature
        assert np.array_equal(head.weights, other.weights) and np.array_equal(head.bias, other.bias)
    model.save(tmp_path / "m.npz")
    loaded = Model.load(tmp_path / "m.npz")
    toks = "sedot tinja belum datang".split()
    kinds, agencies = loaded.predict(toks)
    want_kinds, want_agencies = model.predict(toks)
    assert max(agencies, key=agencies.get) == max(want_agencies, key=want_agencies.get) == "pdam"
    assert abs(agencies["pdam"] - want_agencies["pdam"]) < 0.01  # float16 storage


def test_probabilities_are_distributions(model):
    kinds, agencies = model.predict("angkot ngetem di depan pasar".split())
    assert abs(sum(kinds.values()) - 1) < 1e-6 and abs(sum(agencies.values()) - 1) < 1e-6
    assert max(agencies, key=agencies.get) == "dishub"


def test_the_cached_prediction_is_the_sum_over_every_feature(model):
    # words, bigrams, and where the text starts and ends ("s:terima", "e:kasih"): predict's per-word cache and
    # the featurizer the model was trained with must agree, or the weights are read at the wrong places
    for text in ("terima kasih admin cepat sekali", "berapa tarif sedot tinja sekarang", "usul"):
        toks = text.split()
        ids = model.featurizer.ids(toks)
        kinds, agencies = model.predict(toks)
        assert np.allclose([kinds[k] for k in model.kind.labels], model.kind.probabilities(ids), atol=1e-5)
        assert np.allclose([agencies[k] for k in model.agency.labels], model.agency.probabilities(ids), atol=1e-5)
    first, last = model.featurizer.ids(["usul", "tps"]), model.featurizer.ids(["tps", "usul"])
    assert set(first.tolist()) != set(last.tolist())  # the same words in another order start and end otherwise


def test_the_model_decides_where_the_rules_are_silent_and_says_so(model):
    routing = RoutingConfig(agencies={"dlh": RuleSet(words={"sampah": 3})})
    routing.model.agency_threshold = 0.5
    with_model = Classifier(routing, AGENCIES, model=model)
    rules_only = Classifier(routing.model_copy(update={"model": routing.model.model_copy(update={"enabled": False})}),
                            AGENCIES)
    text = "mobil sedot tinja gak dateng2, septic tank udah meluap"
    assert rules_only.classify(text).agency == "triage"
    decision = with_model.classify(text)
    assert decision.agency == "pdam"
    assert decision.explanation["agency"]["chosen_by"] == "model"
    assert decision.explanation["agency"]["model"]["pdam"] == decision.confidence
    # where the rules are sure, they decide
    assert with_model.classify("sampah numpuk").explanation["agency"]["chosen_by"] == "rules"


def test_below_the_model_threshold_it_is_triage(model):
    routing = RoutingConfig(agencies={"dlh": RuleSet(words={"sampah": 3})})
    routing.model.agency_threshold = 0.999
    assert Classifier(routing, AGENCIES, model=model).classify("septic tank meluap").agency == "triage"


def test_train_command_builds_the_model_from_city_files(tmp_path, capsys):
    for city, code in (("alpha", "32.73"), ("beta", "33.74")):
        directory = tmp_path / "cities" / city
        directory.mkdir(parents=True)
        (directory / "city.yaml").write_text(json.dumps({"city": city, "region_code": code,
                                                         "agencies": [dict(r, name=r["code"]) for r in REMITS]}))
        (directory / "routing.jsonl").write_text("\n".join(json.dumps(r) for r in ROWS) + "\n")
    out = tmp_path / "model.npz"
    assert main(["train", str(tmp_path / "cities"), "--exclude", "beta", "-o", str(out)]) == 0
    assert "trained on 45 messages of alpha" in capsys.readouterr().out
    assert Model.load(out).sources["alpha"]["rows"] == 45


def test_a_held_out_city_stays_out_of_the_shipped_model_unless_asked(tmp_path, capsys):
    for city, code, held_out in (("alpha", "32.73", False), ("gamma", "35.78", True)):
        directory = tmp_path / "cities" / city
        directory.mkdir(parents=True)
        facts = {"city": city, "region_code": code, "agencies": [dict(r, name=r["code"]) for r in REMITS]}
        if held_out:
            facts["shipped_model"] = False
        (directory / "city.yaml").write_text(json.dumps(facts))
        (directory / "routing.jsonl").write_text("\n".join(json.dumps(r) for r in ROWS) + "\n")
    out = tmp_path / "model.npz"
    assert main(["train", str(tmp_path / "cities"), "-o", str(out)]) == 0
    printed = capsys.readouterr()
    assert "left out (shipped_model: false in city.yaml): gamma" in printed.err
    assert set(Model.load(out).sources) == {"alpha"}
    assert main(["train", str(tmp_path / "cities"), "--include-held-out", "-o", str(out)]) == 0
    assert set(Model.load(out).sources) == {"alpha", "gamma"}


def test_the_shipped_model_is_what_the_train_command_builds_from_the_repository(tmp_path, capsys):
    """router/data/model.npz is reproduced byte for byte by `omnichannel train` from the labelled cities: a change
    to the rules, the lexicon or the data that moves the model's features must come with the retrained file."""
    shipped = Path(__file__).resolve().parents[2] / "router" / "data" / "model.npz"
    out = tmp_path / "model.npz"
    assert main(["train", "-o", str(out)]) == 0
    capsys.readouterr()
    assert out.read_bytes() == shipped.read_bytes(), "run `omnichannel train` and commit router/data/model.npz"
