"""Classification and routing with the shipped taxonomy in config.yaml, and its explanation."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from router.classify import Classifier
from router.config import RoutingConfig
from router.eval.routing import classifier_from, evaluate, load_labelled, load_routing_config, split_of

REPO = Path(__file__).resolve().parents[2]
LABELLED = REPO / "tests" / "data" / "routing_labelled.jsonl"


@pytest.fixture(scope="module")
def config():
    """The shipped config.yaml (only its routing sections when a channel library is missing here)."""
    return load_routing_config(REPO / "config.yaml")


@pytest.fixture(scope="module")
def classifier(config) -> Classifier:
    return classifier_from(config)


AGENCY_EXAMPLES = [
    ("jln depan pasar bolong2 gede bgt, udh makan korban", "pupr"),
    ("sampah di tps udh seminggu gk diangkut, bau bgt", "dlh"),
    ("ngantri di puskesmas dr subuh, dokternya blm dateng", "dinkes"),
    ("anak sy gk keterima ppdb padahal rumah deket sekolah", "disdik"),
    ("rekam ktp udh 2 bulan blm jadi, blangko habis katanya", "disdukcapil"),
    ("lampu merah perempatan mati, semrawut", "dishub"),
    ("pkl jualan di trotoar sampe nutup jalan buat pejalan kaki", "satpolpp"),
    ("bansos keluarga kami gk cair padahal terdaftar dtks", "dinsos"),
    ("air pdam mati 3 hari", "pdam"),
    ("lampu jalan di gang kami mati semua, gelap", "perkim"),
    ("banjir sepinggang, air masuk rumah", "bpbd"),
    ("ada kebakaran di gudang, tolong kirim pemadam", "damkar"),
    ("gaji di bawah umr dan thr gk dibayar", "disnaker"),
    ("website pemkot gk bisa diakses dr kemarin", "diskominfo"),
    ("pak rt minta uang buat surat pengantar", "kecamatan"),
]


@pytest.mark.parametrize(("text", "agency"), AGENCY_EXAMPLES)
def test_each_agency(classifier: Classifier, text: str, agency: str) -> None:
    decision = classifier.classify(text, channel="whatsapp")
    assert decision.agency == agency, decision.explanation
    assert decision.kind == "pengaduan"
    assert decision.confidence >= classifier.cfg.threshold


def test_every_configured_agency_has_rules(config) -> None:
    codes = {a.code for a in config.agencies}
    assert set(config.routing.agencies) == codes - {"triage"}
    assert {"pupr", "dlh", "dinkes", "disdik", "disdukcapil", "dishub", "satpolpp", "dinsos", "pdam", "perkim",
            "bpbd", "damkar", "disnaker", "diskominfo", "kecamatan", "triage"} == codes


def test_explanation_lists_rules_scores_threshold_and_location(classifier: Classifier) -> None:
    decision = classifier.classify("jalan rusak parah di RT 03 RW 05 kelurahan Sendangmulyo")
    agency = decision.explanation["agency"]
    assert decision.agency == "pupr"
    assert ["pupr:phrase:jalan rusak", 3.0] in agency["rules"]
    assert all(isinstance(rule, str) and isinstance(weight, float) for rule, weight in agency["rules"])
    assert agency["threshold"] == classifier.cfg.threshold
    assert agency["score"] == agency["scores"]["pupr"] > 0
    assert agency["chosen_by"] == "rules"
    assert decision.explanation["kind"]["label"] == "pengaduan"
    assert decision.explanation["location"]["matched"] == [["sendangmulyo", "kelurahan"]]
    assert decision.location == {"kelurahan": "Sendangmulyo", "kecamatan": "Tembalang", "rt": "3", "rw": "5"}


def test_below_threshold_goes_to_triage_or_the_channel_default(classifier: Classifier) -> None:
    text = "tolong pak saya ditipu orang, uang dibawa kabur"
    decision = classifier.classify(text)
    assert (decision.kind, decision.agency) == ("pengaduan", "triage")
    assert decision.explanation["agency"]["chosen_by"] == "below_threshold"
    assert classifier.classify(text, default_agency="satpolpp").agency == "satpolpp"


def test_competing_evidence_lowers_confidence(classifier: Classifier) -> None:
    clear = classifier.classify("jalan rusak berlubang")
    mixed = classifier.classify("jalan rusak berlubang depan puskesmas")
    assert mixed.agency == clear.agency == "pupr"
    assert mixed.confidence < clear.confidence


def test_information_request_goes_to_the_ppid_of_the_agency_it_is_about(classifier: Classifier) -> None:
    decision = classifier.classify("Sesuai UU No. 14 Tahun 2008 saya memohon salinan dokumen kontrak proyek jalan")
    assert (decision.kind, decision.agency) == ("informasi", "pupr")
    assert decision.explanation["agency"]["chosen_by"] == "ppid_pelaksana"
    decision = classifier.classify("min mau tanya berapa tagihan air pdam kalau pasang baru?")
    assert (decision.kind, decision.agency) == ("informasi", "pdam")


def test_information_request_about_no_agency_goes_to_the_ppid_utama(classifier: Classifier) -> None:
    decision = classifier.classify("Dengan hormat, sesuai UU 14 tahun 2008 saya memohon informasi publik berupa "
                                   "salinan LKPJ Wali Kota tahun 2025.")
    assert (decision.kind, decision.agency) == ("informasi", "diskominfo")
    assert decision.explanation["agency"]["chosen_by"] == "ppid_utama"


def test_suggestion(classifier: Classifier) -> None:
    decision = classifier.classify("usul pak, sebaiknya ditambah halte di depan pasar")
    assert (decision.kind, decision.agency) == ("aspirasi", "dishub")


@pytest.mark.parametrize("text", ["halo min", "tes", "terima kasih pak, jalannya sudah diperbaiki 🙏",
                                  "slot gacor maxwin hari ini, link di bio", "🙏🙏"])
def test_not_a_complaint(classifier: Classifier, text: str) -> None:
    assert classifier.classify(text).kind == "bukan_aduan"


def test_complaint_with_thanks_stays_a_complaint(classifier: Classifier) -> None:
    decision = classifier.classify("sampah di tps belum diangkut seminggu, mohon segera. terima kasih")
    assert (decision.kind, decision.agency) == ("pengaduan", "dlh")


def test_long_message_without_evidence_is_not_rejected(classifier: Classifier) -> None:
    assert classifier.classify("mohon bantuannya sudah lama menunggu tapi tidak ada kejelasan").kind == "pengaduan"


def test_location_by_kecamatan_and_variant(classifier: Classifier) -> None:
    assert classifier.classify("banjir di smg utara").location == {"kecamatan": "Semarang Utara"}
    assert classifier.classify("pju mati di kec. Tembalang").location == {"kecamatan": "Tembalang"}
    assert classifier.classify("pju mati di kel. tembalang").location == {"kelurahan": "Tembalang",
                                                                          "kecamatan": "Tembalang"}


def test_ambiguous_kelurahan_is_resolved_by_its_kecamatan(classifier: Classifier) -> None:
    alone = classifier.classify("air mati di Purwosari")
    assert alone.location == {"kelurahan": "Purwosari"}
    assert alone.explanation["location"]["ambiguous"] == ["Mijen", "Semarang Utara"]
    both = classifier.classify("air mati di Purwosari kecamatan Mijen")
    assert both.location == {"kelurahan": "Purwosari", "kecamatan": "Mijen"}


def test_common_word_place_needs_context(classifier: Classifier) -> None:
    assert classifier.classify("pohon beringin tumbang nutup jalan").location is None
    assert classifier.classify("pohon tumbang di kelurahan beringin").location == {
        "kelurahan": "Beringin", "kecamatan": "Ngaliyan"}


def test_place_strengthens_local_administration(classifier: Classifier) -> None:
    decision = classifier.classify("surat pengantar di kelurahan Pedalangan dipersulit")
    assert decision.agency == "kecamatan"
    assert ["kecamatan:location", 1.0] in decision.explanation["agency"]["rules"]
    # a place alone does not send a road complaint to the kecamatan
    assert classifier.classify("jalan rusak di kelurahan Pedalangan").agency == "pupr"


def test_channel_default_kind(classifier: Classifier) -> None:
    text = "Dengan hormat, bersama surel ini saya sampaikan keadaan lingkungan kami yang memprihatinkan."
    assert classifier.classify(text, channel="email").kind == "pengaduan"


def test_norm_argument_is_used(classifier: Classifier) -> None:
    decision = classifier.classify("text ignored when norm is given", norm="air pdam mati")
    assert decision.agency == "pdam"


def test_routing_config_rejects_unknown_keys_and_bad_regexes() -> None:
    with pytest.raises(ValidationError):
        RoutingConfig.model_validate({"agencies": {}, "treshold": 0.3})
    with pytest.raises(ValidationError):
        RoutingConfig.model_validate({"agencies": {"pupr": {"regexes": {"(unclosed": 1}}}})
    with pytest.raises(ValidationError):
        RoutingConfig.model_validate({"kinds": {"rules": {"keluhan": {}}}})


def test_duplicate_evidence_counts_once() -> None:
    routing = RoutingConfig.model_validate({"agencies": {"dlh": {"words": {"sampah": 3, "uwuh": 3}}},
                                            "kinds": {"agency_for_kind": {}}})
    decision = Classifier(routing, ["dlh"]).classify("uwuh numpuk")
    assert decision.explanation["agency"]["score"] == 3.0


def test_split_is_stable_and_about_thirty_percent() -> None:
    rows = load_labelled(LABELLED)
    share = sum(split_of(r["id"]) == "test" for r in rows) / len(rows)
    assert 0.2 < share < 0.4
    assert split_of("r001") == split_of("r001")


def test_labelled_set_shape() -> None:
    rows = load_labelled(LABELLED)
    assert len(rows) >= 300
    assert {r["kind"] for r in rows} == {"pengaduan", "aspirasi", "informasi", "bukan_aduan"}
    assert len({r["channel"] for r in rows}) >= 5
    assert len({r["id"] for r in rows}) == len(rows)


# Floors slightly below the figures reached (see the router note): all 0.984/0.991, held-out test 0.979/0.989.
@pytest.mark.parametrize(("split", "agency_floor", "kind_floor"), [("all", 0.95, 0.96), ("test", 0.93, 0.95)])
def test_quality_floor(classifier: Classifier, split: str, agency_floor: float, kind_floor: float) -> None:
    report = evaluate(classifier, load_labelled(LABELLED, split))
    assert report.agency_accuracy >= agency_floor, report.errors
    assert report.kind_accuracy >= kind_floor, report.errors


def test_regex_prefilter_literals():
    from router.classify import _leading_literals

    assert _leading_literals(r"\bjalan (?:\w+ ){0,3}(?:rusak|retak)\b") == ("jalan ",)
    assert _leading_literals(r"\bcara(?:nya)? x\b|\bbagaimana (?:\w+ )?cara") == ("cara", "bagaimana ")
    assert _leading_literals(r"\bjalans?\b") == ("jalan",)  # the quantified letter is not required
    # a leading group of plain words: one of them must occur; so after "^" and "up to n words"
    assert _leading_literals(r"\b(?:sudah|alhamdulillah)\b.*\bterima kasih\b") == ("sudah", "alhamdulillah")
    assert _leading_literals(r"^(?:\w+ ){0,3}(?:mohon|tolong) (?:\w+ ){0,6}pasang") == ("mohon", "tolong")
    assert _leading_literals(r"^(?:\w+ )?selamat (?:hari|hut)") == ("selamat ",)
    # an alternative that does not start with plain words (or an optional group): the regex always runs
    assert _leading_literals(r"\b(?:di)?(?:ada|tambah)in\b") is None
    assert _leading_literals(r"\bair\b|[0-9]+ liter") is None


def test_several_agencies_with_none_primary_go_to_triage(classifier: Classifier) -> None:
    text = ("jalan depan rumah berlubang parah, sampah numpuk tidak diangkut seminggu, lampu merah perempatan "
            "mati, pkl jualan di trotoar. semuanya dibiarkan")
    decision = classifier.classify(text)
    assert decision.agency == "triage"
    assert decision.explanation["agency"]["chosen_by"] == "several_agencies"
    assert classifier.classify("jalan depan rumah berlubang parah, aspal hancur").agency == "pupr"


def test_a_short_question_about_nothing_a_pemda_holds_is_not_an_information_request(config) -> None:
    routing = config.routing.model_copy(deep=True)
    routing.model.enabled = False  # the rules alone
    classifier = Classifier(routing, list(config.agencies))
    decision = classifier.classify("admin ini jam berapa aktifnya?")
    assert (decision.kind, decision.agency) == ("bukan_aduan", "triage")
    assert decision.explanation["kind"]["chosen_by"] == "no_subject"
    assert classifier.classify("mau tanya syarat bikin KTP apa aja ya?").kind == "informasi"


def _rules_only(config) -> Classifier:
    routing = config.routing.model_copy(deep=True)
    routing.model.enabled = False
    return Classifier(routing, list(config.agencies))


@pytest.mark.parametrize("text", [
    "jam layanan dukcapil hari sabtu buka ga?",             # a polar tag ends the question
    "tarif parkir resmi tepi jalan berapa sih?",            # how much
    "kantor kelurahan dinten Saptu buka teu nya? bade nyandak surat pengantar",  # Sundanese tag and particle
    "KTP rusak bisa cetak ulang di kecamatan ga? atau harus ke dukcapil",
])
def test_what_a_question_asks_makes_an_information_request(config, text) -> None:
    decision = _rules_only(config).classify(text)
    assert decision.kind == "informasi", decision.explanation["kind"]
    assert any(name.startswith("informasi:question:") for name, _ in decision.explanation["kind"]["rules"])


def test_question_rules_count_only_inside_the_question(config) -> None:
    classifier = _rules_only(config)
    # the same words with no question mark are no question: the polar tag does not fire
    decision = classifier.classify("jam layanan dukcapil hari sabtu buka ga. antre panjang")
    assert not any(name.startswith("informasi:question:") for name, _ in decision.explanation["kind"]["rules"])
    # a rhetorical question complains, also when its particle is one normalisation drops ("kok")
    assert classifier.classify("jalan berlubang depan pasar sampai kapan dibiarkan begini?").kind == "pengaduan"
    kok = classifier.classify("depo sampah kok ditutup, warga disuruh buang sampah ke mana?")
    assert kok.kind == "pengaduan" and ["pengaduan:question:particle:kok", 1.5] in kok.explanation["kind"]["rules"]


def test_question_rules_can_be_switched_off(config) -> None:
    routing = config.routing.model_copy(deep=True)
    routing.model.enabled = False
    routing.kinds.question_rules = {}
    decision = Classifier(routing, list(config.agencies)).classify("jam layanan dukcapil hari sabtu buka ga?")
    assert not any(name.startswith("informasi:question:") for name, _ in decision.explanation["kind"]["rules"])


@pytest.mark.parametrize("text", [
    "laporan saya yg kemarin gimana ya min? blm ada kabar",   # a bare follow-up on one's own report
    "Dear Sir/Madam, we offer SEO services to boost your website ranking. Reply for a free quote.",
    "terima kasih buat petugas kebersihan di jalan kami, rajin sekali",
    "Selamat Hari Jadi Kota Semarang ke-479! Warga bangga 🎉 #HUTSemarang",   # wishes for an anniversary
    "selamat HUT ke-80 RI, merdeka!",
])
def test_follow_ups_thanks_and_foreign_spam_are_not_complaints(config, text) -> None:
    decision = _rules_only(config).classify(text)
    assert (decision.kind, decision.agency) == ("bukan_aduan", "triage"), decision.explanation["kind"]


@pytest.mark.parametrize("text", [
    "trotoar jl. dipatiukur kalo bisa dilebarin, pejalan kaki numpuk di pinggir jalan",
    "mending bikin sumur resapan lebih banyak daripada tiap tahun banjir",
    "bikin aplikasi cek pemakaian air harian dong, biar kalo ada pipa bocor ketauan cepet",
])
def test_proposals_in_everyday_words(config, text) -> None:
    assert _rules_only(config).classify(text).kind == "aspirasi"


def test_a_landmark_names_where_not_what(config) -> None:
    classifier = _rules_only(config)
    decision = classifier.classify("pohon besar depan sd keropos dan miring ke jalan, takut tumbang")
    assert decision.agency == "dlh", decision.explanation["agency"]
    assert any("(landmark)" in name for name, _ in decision.explanation["agency"]["rules"])
    routing = config.routing.model_copy(deep=True)
    routing.model.enabled = False
    routing.landmark_weight = 1.0  # off: the school's word counts in full
    off = Classifier(routing, list(config.agencies)).classify("pohon besar depan sd keropos dan miring ke jalan, takut tumbang")
    assert not any("(landmark)" in name for name, _ in off.explanation["agency"]["rules"])


def test_a_fallen_tree_and_a_tree_at_risk(config) -> None:
    classifier = _rules_only(config)
    assert classifier.classify("pohon tumbang menutup jalan, motor tertimpa").agency == "bpbd"
    assert classifier.classify("pohon di pinggir jalan rawan tumbang, batangnya keropos").agency == "dlh"


def test_people_at_a_traffic_light_are_not_a_traffic_light_fault(config) -> None:
    classifier = _rules_only(config)
    assert classifier.classify("di lampu merah ada pengamen maksa minta duit, ngancem").agency == "satpolpp"
    assert classifier.classify("lampu merah perempatan mati, semrawut").agency == "dishub"


def test_information_about_the_ppid_utamas_own_service_stays_with_it(config) -> None:
    decision = _rules_only(config).classify("wifi gratis di balai RW masih ada gak? passwordnya apa ya")
    assert (decision.kind, decision.agency) == ("informasi", "diskominfo"), decision.explanation["agency"]
    # words that only ask for information do not make the request the PPID utama's own
    other = _rules_only(config).classify("Dengan hormat, berdasarkan UU 14/2008 tentang keterbukaan informasi publik "
                                         "saya memohon salinan kontrak proyek perbaikan jalan berlubang tahun 2025.")
    assert (other.kind, other.agency) == ("informasi", "pupr"), other.explanation["agency"]


LETTER = ("Dengan hormat,\nMelalui surat ini kami laporkan bahwa telah terjadi pergerakan tanah dan longsor kecil di "
          "RT 02 RW 10. Tiga rumah retak dindingnya. Mohon kaji cepat dan penanganan darurat.\n\nHormat kami,\n"
          "Lurah Banyumanik (tembusan Camat Banyumanik)")


def test_a_letters_signature_names_who_writes_not_what_is_wrong(config) -> None:
    decision = _rules_only(config).classify(LETTER)
    assert decision.agency == "bpbd", decision.explanation["agency"]
    assert not any(name.startswith("kecamatan:word:lurah") for name, _ in decision.explanation["agency"]["rules"])
    routing = config.routing.model_copy(deep=True)
    routing.model.enabled = False
    routing.signature_markers = []
    unsigned = Classifier(routing, list(config.agencies)).classify(LETTER)
    assert any(name.startswith("kecamatan:word:lurah") for name, _ in unsigned.explanation["agency"]["rules"])
    # "hormat kami" early in a text is no signature: nothing is cut
    early = _rules_only(config).classify("hormat kami kepada pak lurah, tapi surat pengantar kami ditolak tanpa alasan "
                                         "padahal syarat sudah lengkap dan antre dari pagi di kantor kelurahan")
    assert early.agency == "kecamatan"


class _SureModel:
    """A stand-in for the learned layer that is sure of one agency."""

    def __init__(self, agency: str) -> None:
        self.agency = agency

    def predict(self, toks):
        return {"pengaduan": 0.9, "aspirasi": 0.05, "informasi": 0.03, "bukan_aduan": 0.02}, {self.agency: 0.95}


def test_the_learned_fallback_never_sends_a_vague_complaint_to_the_ppid_utama(config) -> None:
    text = "pelayanan pemkot makin hari makin buruk, kecewa berat"
    vague = Classifier(config.routing, list(config.agencies), model=_SureModel("diskominfo")).classify(text)
    assert vague.agency == "triage" and vague.explanation["agency"]["chosen_by"] != "model"
    sure = Classifier(config.routing, list(config.agencies), model=_SureModel("dinsos")).classify(text)
    assert (sure.agency, sure.explanation["agency"]["chosen_by"]) == ("dinsos", "model")


@pytest.mark.parametrize("text", [
    "tolong jaringan pipa dipanjangin sampai perumahan kami, warga masih pakai sumur",   # Jakarta -in
    "pak, kalo pacak jalan ke pasar tu dilebarke, sempit nian",                          # Palembang -ke, "if it can"
    "adain lagi pasar murah di kecamatan dong, kemarin cepet habis",                    # a programme again
    "warga usulkan taman baca di balai RW, anak-anak butuh tempat belajar",            # active "usul"
])
def test_proposals_in_spoken_affixes_and_regional_openers(config, text) -> None:
    decision = _rules_only(config).classify(text)
    assert decision.kind == "aspirasi", decision.explanation["kind"]
    assert any(name.startswith("aspirasi:regex:") for name, _ in decision.explanation["kind"]["rules"])


def test_a_proposal_made_long_ago_and_ignored_is_a_complaint(config) -> None:
    # the passive "sudah diusulkan" is no proposal now: the road is still broken
    decision = _rules_only(config).classify("jalan lingkungan kami rusak parah dan becek, sudah diusulkan di "
                                            "musrenbang dua kali tapi belum juga diperbaiki")
    assert decision.kind == "pengaduan", decision.explanation["kind"]


@pytest.mark.parametrize("text", [
    "retribusi sampah per bulan brp ya",                                  # how much, then a softener
    "perpanjang izin reklame ke kantor mana ya min",                      # where, softener and vocative
    "jadwal posyandu bulan ini udah keluar belum ya @dinkes_kota 🙏",     # polar tag, softener, mention, emoji
    "pembuatan akta kelahiran di kecamatan bisakah",                      # an interrogative in -kah
])
def test_a_chat_question_without_its_question_mark(config, text) -> None:
    decision = _rules_only(config).classify(text)
    assert decision.kind == "informasi", decision.explanation["kind"]
    assert ["informasi:question_mark", 0.7] in decision.explanation["kind"]["rules"]
    routing = config.routing.model_copy(deep=True)
    routing.model.enabled = False
    routing.kinds.question_tags, routing.kinds.question_tags_softened = [], []  # off: no "?", no question
    off = Classifier(routing, list(config.agencies)).classify(text)
    assert ["informasi:question_mark", 0.7] not in off.explanation["kind"]["rules"]


@pytest.mark.parametrize("text", [
    "lampu jalan depan rumah mati sampai sekarang belum",            # a polar word alone closes a complaint
    "jalan rusak parah, warga bingung mau lapor ke mana",            # a complaint's aside, not a question
    "tolong segera diperbaiki ya min",                               # a softener after a request
    "lampu jalan mati, mohon ambil langkah",                         # a word in -kah that asks nothing: a step
    "sampah di tps sudah diangkut, terima kasih dlh semoga berkah",  # … a blessing
    "KK belum jadi padahal mau menikah",                             # … to marry
])
def test_unmarked_words_that_ask_nothing(config, text) -> None:
    decision = _rules_only(config).classify(text)
    assert not [name for name, _ in decision.explanation["kind"]["rules"] if "question" in name], decision.explanation


def test_a_word_that_merely_ends_in_kah_is_no_question_cue(config) -> None:
    rules = _rules_only(config).classify("lampu jalan mati sudah seminggu, kapan pemkot ambil langkah?") \
        .explanation["kind"]["rules"]
    assert not [name for name, _ in rules if "kah" in name], rules
    rules = _rules_only(config).classify("lampu jalan mati sudah seminggu, bisakah segera diganti?") \
        .explanation["kind"]["rules"]
    assert [name for name, _ in rules if "kah" in name], rules


# issue 13 (kinds by sentence structure): texts written for these tests, not taken from the labelled cities
STRUCTURE_KINDS = [
    # a complaint word as the topic of a question is no complaint
    ("nomor call center pengaduan pemkot berapa ya?", ("informasi", "bukan_aduan")),
    ("mohon data jumlah aduan warga per kecamatan tahun lalu", ("informasi",)),
    # a request for something new is an aspiration; a request for a repair is a complaint
    ("mohon dipasang halte beratap di depan pasar baru, penumpang kehujanan", ("aspirasi",)),
    ("tolong buka loket kependudukan hari minggu, warga yang kerja susah izin", ("aspirasi",)),
    ("tolong diperbaiki lampu jalan di gang kami, sudah seminggu mati", ("pengaduan",)),
    # asking where to take a grievance, or whether what was told is allowed, complains
    ("upah lembur saya tidak dibayar dua bulan, bisa mengadu ke mana?", ("pengaduan",)),
    ("pak RT minta uang 200 ribu buat surat pengantar, apakah itu boleh?", ("pengaduan",)),
    ("apa saja syarat membuat akta kelahiran?", ("informasi",)),
]


@pytest.mark.parametrize(("text", "kinds"), STRUCTURE_KINDS)
def test_kind_by_sentence_structure(classifier: Classifier, text: str, kinds: tuple[str, ...]) -> None:
    assert classifier.classify(text).kind in kinds


@pytest.mark.parametrize(("text", "agency"), [
    ("jalan di depan SD negeri 4 berlubang besar, anak sekolah sering jatuh dari sepeda", "pupr"),
    ("warung di gang kami jual miras ke anak sekolah, warga resah", "satpolpp"),
])
def test_schoolchildren_are_who_is_affected_not_the_school(classifier: Classifier, text: str, agency: str) -> None:
    assert classifier.classify(text).agency == agency


@pytest.mark.parametrize(("text", "kind"), [
    ("permisi, ini nomor wa resmi kelurahan bukan ya?", "bukan_aduan"),
    ("nomor ini buka hari minggu tidak?", "bukan_aduan"),
    ("sudah tiga minggu urus akta belum jadi juga, bagaimana ini min", "pengaduan"),
])
def test_a_question_about_the_channel_itself_is_no_request(classifier: Classifier, text: str, kind: str) -> None:
    assert classifier.classify(text).kind == kind


def test_regex_prefilter_whole_words():
    from router.rules import _leading_words

    assert _leading_words(r"\bjalan (?:\w+ ){0,3}(?:rusak|retak)\b") == {"jalan"}
    assert _leading_words(r"^(?:\w+ ){0,3}(?:mohon|tolong) (?:\w+ ){0,6}pasang") == {"mohon", "tolong"}
    # a prefix ("cara" of "caranya"), an optional group or a phrase is no whole word: the substring check stays
    assert _leading_words(r"\bcara(?:nya)? x\b") is None
    assert _leading_words(r"\b(?:di)?(?:ada|tambah)in\b") is None
    assert _leading_words(r"\bterima kasih\b") is None
    assert _leading_words(r"\b(?:ada|usul) ?nya\b") is None and _leading_words(r"\bada ?nya\b") is None


def test_the_trailer_is_cut_as_the_regex_cuts_it() -> None:
    """classify._without_trailer reads the trailer from the text's end instead of running the regex: the same text."""
    import random

    from router.classify import _TRAILER, _without_trailer

    pieces = ["kapan", "ya", "min", "@dinas_pu", "#jalan", "7", " ", "  ", "\n", ".", "!", "?", ")", ":)", "\U0001f64f",
              "@", "#", "_", "é", "a@b", "x#1", "٣"]
    rng = random.Random(1616)
    texts = ["", "kapan ya", "kapan ya @dinas", "kapan ya?", "Warga 7", "Warga 7\n", "a #b c", "@akun"]
    texts += ["".join(rng.choice(pieces) for _ in range(rng.randint(1, 8))) for _ in range(5000)]
    cut = 0
    for text in texts:
        assert _without_trailer(text) == _TRAILER.sub("", text), repr(text)
        cut += _TRAILER.sub("", text) != text
    assert cut > 1000  # the trailer was there to cut, often


def test_rule_matcher_finds_every_phrase_a_plain_scan_finds() -> None:
    """RuleMatcher looks phrases up by their first two tokens: it finds what a scan of every configured phrase
    at every token finds, on texts made of the shipped rules' own phrase words."""
    import random
    from pathlib import Path

    from router.eval.routing import load_routing_config
    from router.normalise import normalise

    shipped = load_routing_config(Path(__file__).resolve().parents[2] / "config.yaml")
    routing = shipped.routing
    classifier = Classifier(routing, list(shipped.agencies))
    rulesets = {("agency", code): rs for code, rs in routing.agencies.items() if code in classifier.agencies}
    rulesets.update({("kind", kind): rs for kind, rs in routing.kinds.rules.items()})
    # (a word rule may normalise to two tokens: "dimana" is "di mana")
    phrases = {(label, tuple(normalise(p, routing.lexicon).split())) for label, rs in rulesets.items()
               for p in (*rs.phrases, *rs.words)}
    phrases = {(label, seq) for label, seq in phrases if len(seq) > 1}
    assert len(phrases) > 50
    vocab = sorted({t for _, seq in phrases for t in seq} | {"di", "x"})
    ordered = sorted(phrases)
    rng = random.Random(1617)
    found = 0
    for _ in range(3000):
        toks = [rng.choice(vocab) for _ in range(rng.randint(1, 12))]
        if rng.random() < 0.5:  # a whole phrase inside
            seq = rng.choice(ordered)[1]
            at = rng.randint(0, len(toks))
            toks[at:at] = list(seq)
        expected = {(label, seq) for label, seq in phrases
                    if any(tuple(toks[i:i + len(seq)]) == seq for i in range(len(toks)))}
        got = {(label, tuple(normalise(name.partition(":")[2], routing.lexicon).split()))
               for label, name, _ in classifier.rules.match(toks, " ".join(toks)) if not name.startswith("regex:")}
        assert {(label, seq) for label, seq in got if len(seq) > 1} == expected, toks  # (one word: a word rule)
        found += bool(expected)
    assert found > 1000


# issue 13, generalisation round of stop 26: cues of any Indonesian writer, texts written for these tests
@pytest.mark.parametrize(("text", "kind"), [
    # what happened against what should have ("padahal"), what one was told ("katanya", "disuruh")
    ("puskesmas sudah tutup jam 11 padahal jadwalnya sampai jam 2", "pengaduan"),
    ("urus akta kelahiran disuruh balik besok terus, katanya blangkonya kosong. bagaimana ini?", "pengaduan"),
    ("THR karyawan dicicil empat kali, katanya perusahaan sedang sulit. boleh begitu?", "pengaduan"),
    # a proposal says what it is for, or what not to do
    ("muatan lokal bahasa daerah diajarkan lagi di SD, biar anak-anak paham budayanya", "aspirasi"),
    ("lowongan proyek besar utamakan pekerja lokal, jangan semua didatangkan dari luar kota", "aspirasi"),
])
def test_discourse_cues_of_kind(config, text: str, kind: str) -> None:
    assert _rules_only(config).classify(text).kind == kind, _rules_only(config).classify(text).explanation["kind"]


@pytest.mark.parametrize("text", [
    "terima kasih @pemkot, taman kota sekarang bersih dan adem",
    "Tes. Tes aplikasi",
])
def test_thanks_or_a_test_naming_an_agencys_matter_is_no_complaint(config, text: str) -> None:
    decision = _rules_only(config).classify(text)
    assert (decision.kind, decision.agency) == ("bukan_aduan", "triage"), decision.explanation["kind"]


def test_a_question_about_what_only_a_remit_names_asks_for_information(config) -> None:
    routing = config.routing.model_copy(deep=True)
    routing.model.enabled = False
    agencies = [{"code": a.code, "name": a.name, "remit": a.remit} for a in config.agencies if a.code != "perkim"]
    agencies.append({"code": "perkim", "name": "Dinas Perumahan",
                     "remit": "Layanan penyedotan lumpur tinja dan pengelolaan IPAL komunal."})
    decision = Classifier(routing, agencies).classify("layanan sedot tinja pemkot berapa biayanya?")
    assert (decision.kind, decision.agency) == ("informasi", "perkim"), decision.explanation


@pytest.mark.parametrize(("text", "kind"), [
    # thanks that close a question or a letter are politeness: the question is the message
    ("angkot ke terminal sekarang nomor berapa? terima kasih banyak", "informasi"),
    ("terima kasih pak, sampah di gang kami sudah diangkut", "bukan_aduan"),
    # "how about if" in a regional language proposes ("kumaha mun", "piye nek")
    ("kumaha mun di unggal RW disadiakeun tempat sampah pilah?", "aspirasi"),
    # what was built is told, not asked for; a proposal nothing came of complains
    ("jembatan kayu yang dibangun tahun lalu sudah patah-patah", "pengaduan"),
    ("usulan perbaikan gang kami di musrenbang tidak pernah direalisasi, jalannya makin hancur", "pengaduan"),
])
def test_closing_formulas_regional_proposals_and_told_works(config, text: str, kind: str) -> None:
    decision = _rules_only(config).classify(text)
    assert decision.kind == kind, decision.explanation["kind"]


def test_a_letters_closing_thanks_are_no_message_of_thanks(config) -> None:
    decision = _rules_only(config).classify("Dengan hormat, mohon informasi persyaratan izin reklame. Atas "
                                            "perhatiannya kami ucapkan terima kasih.")
    assert "bukan_aduan" not in decision.explanation["kind"]["scores"], decision.explanation["kind"]


def test_the_public_information_law_is_no_school_card(config) -> None:
    # "UU KIP" (Keterbukaan Informasi Publik), not the KIP of schoolchildren (Kartu Indonesia Pintar)
    decision = _rules_only(config).classify("Sesuai UU KIP, kami memohon salinan LKPJ Wali Kota tahun lalu.")
    assert (decision.kind, decision.agency) == ("informasi", "diskominfo"), decision.explanation


@pytest.mark.parametrize(("text", "kind"), [
    # proposals: active and -kan request verbs, "why not" (Javanese "mbok"), "as other cities do", "consider"
    ("mohon dibangunkan sumur resapan di kampung kami, tiap hujan air menggenang", "aspirasi"),
    ("tolong pertimbangkan jalur sepeda di jalan protokol", "aspirasi"),
    ("tolong program lampu jalan tenaga surya kayak kota lain", "aspirasi"),
    ("mbok ana taman bacaan nang kampung kene", "aspirasi"),
    # whose job it is, or where to report, asked after a grievance
    ("sampah di pasar menumpuk, ini urusan siapa sih?", "pengaduan"),
    ("di-PHK sepihak tanpa pesangon. mau lapor di mana?", "pengaduan"),
])
def test_proposal_verbs_and_outraged_questions(config, text: str, kind: str) -> None:
    decision = _rules_only(config).classify(text)
    assert decision.kind == kind, decision.explanation["kind"]


def test_a_text_that_says_it_lists_several_problems_goes_to_the_coordinator(config) -> None:
    classifier = _rules_only(config)
    listed = classifier.classify("banyak masalah di gang kami: jalan rusak, lampu mati, sampah numpuk")
    assert listed.agency == "triage", listed.explanation["agency"]
    # one problem with a word of another agency's is still that problem's
    one = classifier.classify("jalan berlubang di depan TPS, sampah numpuk juga")
    assert one.agency != "triage", one.explanation["agency"]


@pytest.mark.parametrize(("text", "kind"), [
    ("sudah seminggu belum ada tanggapan", "bukan_aduan"),      # a bare follow-up
    ("mana tindak lanjutnya?", "bukan_aduan"),
    # one that restates its problem is a complaint
    ("lampu jalan di gang kami mati sebulan, sudah lapor ke kelurahan tapi belum ada tanggapan sampai sekarang",
     "pengaduan"),
])
def test_a_bare_follow_up_on_an_unanswered_report(config, text: str, kind: str) -> None:
    decision = _rules_only(config).classify(text)
    assert decision.kind == kind, decision.explanation["kind"]


def test_someone_trapped_is_a_rescue_wherever_they_are(config) -> None:
    decision = _rules_only(config).classify("anak tetangga kecemplung sumur tua di belakang rumah, tolong cepat")
    assert decision.agency == "damkar", decision.explanation["agency"]


def test_a_fall_that_has_not_happened_is_no_disaster(config) -> None:
    decision = _rules_only(config).classify("pohon asam di pinggir jalan itu sudah miring, kalau hujan angin bisa "
                                            "tumbang ke rumah warga")
    assert decision.agency != "bpbd", decision.explanation["agency"]


def test_a_parks_lamp_is_the_parks_and_a_pole_is_where_a_banner_hangs(config) -> None:
    classifier = _rules_only(config)
    lamp = classifier.classify("lampu taman di alun-alun mati semua, malam jadi gelap")
    assert lamp.agency == "dlh", lamp.explanation["agency"]
    banner = classifier.classify("spanduk pinjol ditempel di tiang-tiang lampu sepanjang jalan protokol")
    assert banner.agency != "perkim", banner.explanation["agency"]


def test_a_neighbours_quarrel_the_rt_did_not_settle_goes_to_the_kelurahan(config) -> None:
    decision = _rules_only(config).classify("tetangga bikin kandang ayam nempel tembok rumah, bau sekali, sudah "
                                            "ditegur tidak digubris, RT angkat tangan")
    assert decision.agency == "kecamatan", decision.explanation["agency"]


@pytest.mark.parametrize("text", [
    "ada kakek tidur di emperan toko dekat pasar sudah tiga malam, sepertinya tidak punya keluarga",
    "nenek sebatang kara tinggal di gubuk reyot, makan dari belas kasihan tetangga",
])
def test_someone_with_nowhere_and_no_one_is_for_social_services(config, text: str) -> None:
    decision = _rules_only(config).classify(text)
    assert decision.agency == "dinsos", decision.explanation["agency"]


def test_a_silted_river_is_for_public_works(config) -> None:
    decision = _rules_only(config).classify("kali di belakang kampung sudah dangkal sekali, penuh sedimen, kapan dikeruk?")
    assert decision.agency == "pupr", decision.explanation["agency"]


def test_a_school_the_city_does_not_run_is_passed_on(config) -> None:
    routing = config.routing.model_copy(deep=True)
    routing.model.enabled = False
    agencies = [{"code": a.code, "name": a.name, "remit": a.remit} for a in config.agencies if a.code != "triage"]
    agencies.append({"code": "triage", "name": "Koordinator Pengaduan",
                     "remit": "Menerima pengaduan yang belum jelas atau bukan kewenangan Pemerintah Kota (jalan "
                              "nasional, SMA/SMK, PLN) untuk diteruskan."})
    classifier = Classifier(routing, agencies)
    high = classifier.classify("kami orang tua siswa SMA negeri mengeluhkan pungutan study tour yang diwajibkan sekolah")
    assert (high.kind, high.agency) == ("pengaduan", "triage"), high.explanation
    primary = classifier.classify("kami orang tua siswa SD negeri mengeluhkan pungutan study tour yang diwajibkan sekolah")
    assert primary.agency == "disdik", primary.explanation["agency"]


def test_a_crocodile_is_caught_by_the_rescue_service(config) -> None:
    decision = _rules_only(config).classify("ada buaya masuk parit belakang rumah, anak-anak takut, tolong ditangkap")
    assert decision.agency == "damkar", decision.explanation["agency"]


@pytest.mark.parametrize(("text", "agency"), [
    ("ada anak kecil tidur di stasiun tiap malam tanpa orang tua, tolong ditangani", "dinsos"),
    ("Wi-Fi publik di balai warga tidak bisa terhubung sejak seminggu", "diskominfo"),
])
def test_a_child_sleeping_rough_and_wi_fi_written_with_its_hyphen(config, text: str, agency: str) -> None:
    decision = _rules_only(config).classify(text)
    assert decision.agency == agency, decision.explanation["agency"]


@pytest.mark.parametrize("text", [
    "pedagang kaki lima menutup trotoar depan pasar, petugas ke mana?",
    "sudah antre dari subuh, nomor antrean habis, buat apa daftar online?",
    "warung dekat sekolah jual rokok ke anak, bukannya dilarang?",
])
def test_the_rhetorical_questions_of_one_wronged(config, text: str) -> None:
    decision = _rules_only(config).classify(text)
    assert decision.kind == "pengaduan", decision.explanation["kind"]


@pytest.mark.parametrize(("text", "kind"), [
    # a map asked for, or a plan told, is what the asker needs the answer for
    ("ada peta rawan longsor terbaru? mau beli rumah, takut kena longsor", "informasi"),
    ("min kalau mau pasang spanduk acara di jalan kota izinnya ke mana?", "informasi"),
    # a condition someone else imposes is told, not supposed
    ("perusahaan menahan ijazah, kalau mau keluar harus bayar denda", "pengaduan"),
])
def test_a_supposition_or_a_plan_asks_for_information(config, text: str, kind: str) -> None:
    decision = _rules_only(config).classify(text)
    assert decision.kind == kind, decision.explanation["kind"]


def test_information_about_what_is_not_the_pemdas_goes_to_who_passes_it_on(config) -> None:
    routing = config.routing.model_copy(deep=True)
    routing.model.enabled = False
    agencies = [{"code": a.code, "name": a.name, "remit": a.remit} for a in config.agencies if a.code != "triage"]
    agencies.append({"code": "triage", "name": "Koordinator Pengaduan",
                     "remit": "Menerima pengaduan yang belum jelas atau bukan kewenangan Pemerintah Kota (Jembatan "
                              "Layang Nasional, Pasar Induk Provinsi, PLN) untuk diteruskan."})
    decision = Classifier(routing, agencies).classify("jam buka Pasar Induk Provinsi hari minggu sampai jam berapa?")
    assert (decision.kind, decision.agency) == ("informasi", "triage"), decision.explanation


# one question word is one piece of evidence per kind (kinds.question_words): each row is a text, the question word,
# and why; the word's informasi cues (its word rule, its question rule, the -kah regex) count once, the strongest
QUESTION_WORD_ONCE = [
    ("pak RT minta uang 200 ribu buat surat pengantar, apakah itu boleh?", "apakah",
     "a word rule, a question rule and the -kah regex of one word"),
    ("retribusi sampah per bulan berapa?", "berapa", "a word rule and a question rule"),
    ("kalau lampu jalan mati, lapornya di mana?", "mana", "a phrase (di mana), a word rule (dimana) and a question word"),
]


@pytest.mark.parametrize(("text", "word", "why"), QUESTION_WORD_ONCE)
def test_a_question_word_counts_once_per_kind(config, text: str, word: str, why: str) -> None:
    rules = _rules_only(config).classify(text).explanation["kind"]["rules"]
    on_word = [name for name, weight in rules if name.startswith("informasi:") and weight > 0
               and (name.endswith(f":{word}") or name.endswith(f"di {word}") or "kah" in name)]
    assert len(on_word) == 1, (why, rules)
    routing = config.routing.model_copy(deep=True)
    routing.model.enabled = False
    routing.kinds.question_words = []  # off: every cue of the word counts
    off = Classifier(routing, list(config.agencies)).classify(text).explanation["kind"]["rules"]
    assert len([n for n, w in off if n.startswith("informasi:") and w > 0
                and (n.endswith(f":{word}") or n.endswith(f"di {word}") or "kah" in n)]) > 1, (why, off)


@pytest.mark.parametrize(("text", "kind", "why"), [
    ("pak RT minta uang 200 ribu buat surat pengantar, apakah itu boleh?", "pengaduan",
     "money asked for a letter, then whether that is allowed: an extortion complaint, however it is asked"),
    ("apakah pembuatan KTP elektronik di kecamatan dipungut biaya?", "informasi",
     "one question word still asks: an information request"),
])
def test_the_question_word_collapse_keeps_the_kind(config, text: str, kind: str, why: str) -> None:
    assert _rules_only(config).classify(text).kind == kind, why
