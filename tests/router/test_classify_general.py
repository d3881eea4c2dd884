"""The kind read from how a message is built (general cues of how citizens write), by the shipped rules alone.

One table: each case is a text written for this test (not taken from a city's rows), the kind it must get, and
the cue it exercises. The learned layer is off, so the rules and their structure are what is tested.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from router.classify import Classifier, _words_before_question
from router.eval.routing import load_routing_config

REPO = Path(__file__).resolve().parents[2]

CASES = [
    # a question asked after sentences that told a grievance complains
    ("pompa air di rumah pompa kampung kami rusak sejak minggu lalu, genangan tidak surut. siapa yang harus "
     "memperbaikinya?", "pengaduan", "question after a statement"),
    ("truk proyek lewat tiap malam dan jalan kampung jadi retak. apakah boleh truk besar masuk gang?",
     "pengaduan", "question after a statement"),
    ("anak saya digigit kucing liar di taman kota, katanya puskesmas tidak punya vaksin. harus berobat ke mana?",
     "pengaduan", "question after a statement"),
    # … while one that opens with its question, or says it asks, still asks for information
    ("syarat pindah domisili apa saja? saya baru pindah dari luar kota bulan lalu", "informasi",
     "question first"),
    ("Saya warga baru di kelurahan ini dan ingin mengurus KK. Mau tanya, syaratnya apa saja?", "informasi",
     "says it asks"),
    # a text that asks nothing names information without requesting it …
    ("jadwal pengangkutan sampah di RW kami tidak sesuai pengumuman, truk baru datang jam 11 malam", "pengaduan",
     "information named, not asked for"),
    ("layar informasi di halte depan kampus mati sudah seminggu", "pengaduan", "information named, not asked for"),
    # … while one that requests it in so many words asks, with or without a question mark
    ("Dengan hormat, kami memohon data jumlah penerima bantuan sosial per kelurahan tahun 2025 untuk penelitian",
     "informasi", "a formal request"),
    ("mohon info jadwal posyandu balita bulan ini", "informasi", "a request in so many words"),
    # a situation supposed at the start of a question asks what to do in it
    ("kalau lampu penerangan di gang mati, lapornya ke dinas mana ya?", "informasi", "a supposition asked about"),
    # … but "kalau hujan" says when a grievance recurs, and "gimana kalau" proposes
    ("kalau hujan sedikit saja langsung banjir, kapan selokannya dikeruk?", "pengaduan", "a recurring grievance"),
    ("@pemkot gimana kalau tiap RW dikasih tong komposter?", "aspirasi", "how about"),
    # a message that says what it is only for, or that it reached the wrong number, complains of nothing
    ("Halo min, saya cuma mau kasih kabar kami sekeluarga sudah sampai di kampung dengan selamat", "bukan_aduan",
     "only for news of oneself"),
    ("sore pak, cuma mau bilang makasih banyak ya buat bapak-bapak petugas kemarin", "bukan_aduan",
     "only for thanks"),
    ("Pagi semua, salam kenal, kami keluarga baru di perumahan sebelah", "bukan_aduan", "a greeting"),
    ("eh ini bukan nomor bengkel Jaya Motor ya? saya mau tanya harga servis", "bukan_aduan", "the wrong number"),
    ("Maaf, bukan grup arisan RT 3 ya? kayaknya saya salah masuk", "bukan_aduan", "the wrong group"),
    # a message that opens with what it proposes; the grievance after it says why
    ("kalau bisa bikin taman bacaan di balai RW kami, anak-anak tidak ada tempat belajar dan main hp terus",
     "aspirasi", "proposal first"),
    ("Pak, menawi saged dipun pasang lampu ing lapangan voli, sakmenika peteng sanget yen latihan dalu",
     "aspirasi", "proposal first (Javanese)"),
    # a wish that something existed: a desire or evaluative modal + "ada" + a noun
    ("perlu ada lampu di jembatan kampung, gelap banget kalau malam", "aspirasi", "modal + ada"),
    ("pengen banget ada perpustakaan keliling yang mampir ke kampung kami", "aspirasi", "wish + ada"),
    ("bagusnya ada posko kesehatan di pasar induk", "aspirasi", "evaluative + ada"),
    # … while a condition imposed ("harus ada …") is told in a grievance
    ("katanya harus ada surat pengantar RT dulu, padahal saya sudah bawa KTP dan KK", "pengaduan",
     "a condition imposed"),
    # … but a building "dibangun" where it should not be is told, not proposed (the passive alone does not make an
    # opening proposal)
    ("ruko dibangun di atas trotoar depan pasar, pejalan kaki terpaksa turun ke jalan, bahaya", "pengaduan",
     "a passive that tells"),
]


@pytest.fixture(scope="module")
def classifier() -> Classifier:
    config = load_routing_config(REPO / "config.yaml")
    routing = config.routing.model_copy(deep=True)
    routing.model.enabled = False
    return Classifier(routing, list(config.agencies))


@pytest.mark.parametrize(("text", "kind", "cue"), CASES)
def test_kind_from_how_the_message_is_built(classifier: Classifier, text: str, kind: str, cue: str) -> None:
    decision = classifier.classify(text, channel="whatsapp")
    assert decision.kind == kind, (cue, decision.explanation["kind"])


def test_words_before_the_first_question() -> None:
    assert _words_before_question("kapan dibuka? saya mau daftar") == 0
    assert _words_before_question("jalan rusak parah. kapan diperbaiki?") == 3
    # an abbreviation's period ends no sentence
    assert _words_before_question("Pak, jam berapa truk sampah lewat di Jl. Melati? saya kerja pagi") == 0



# regional forms of the possessive and of question words (router.rules.stem, router/data/lexicon.tsv): (text, kind,
# agency, why)
REGIONAL_FORMS = [
    ("Jalan kota ka arah terminal rusak parah, aspalna tos leungit, ngan kantun batu", "pengaduan", "pupr",
     "Sundanese -na is -nya: aspalna is the road's asphalt"),
    ("jalur evakuasi banjir dari kampung kami ke arah mano? posko terdekat di mano?", "informasi", "bpbd",
     "Sumatran Malay mano is mana: where the evacuation route goes"),
    ("Pak, aturan ternak dilepas di jalan tu ado perdanyo idak? Dendonyo berapo?", "informasi", "satpolpp",
     "Sumatran Malay ado, idak, berapo; perdanyo is the Perda"),
]


@pytest.mark.parametrize(("text", "kind", "agency", "why"), REGIONAL_FORMS)
def test_regional_forms_of_the_possessive_and_question_words(text, kind, agency, why):
    config = load_routing_config(REPO / "config.yaml")
    routing = config.routing.model_copy(deep=True)
    routing.model.enabled = False
    decision = Classifier(routing, list(config.agencies)).classify(text)
    assert (decision.kind, decision.agency) == (kind, agency), (why, decision.explanation)


@pytest.mark.parametrize(("tokens", "stemmed"), [
    (["aspalnyo"], ["aspal"]), (["aspalna"], ["aspal"]), (["limbahna"], ["limbah"]),
    (["bencana", "rencana"], ["bencana", "rencana"]),   # words that only end like -na stay whole
])
def test_regional_possessive_suffixes_are_stemmed(tokens, stemmed):
    from router.rules import stem

    assert stem(tokens, {"aspal", "limbah"}) == stemmed
