"""router.fastre: regexes skipped where they cannot match give exactly the answers of running them."""

from __future__ import annotations

import re

import pytest

from router import places
from router.dedup import concepts
from router.fastre import Anchored, AnySearch, hints, literals, required, sub_where_possible
from router.normalise import _URL, normalise

TEXTS = [
    "sampah numpuk di psr. Johar, bau bgt",
    "depo sampah Pengok penuh sampai keluar pagar",
    "sampah numpuk di tanah kosong RT 5 Sei Buah, dekat Parit Tokaya dan Tukad Badung",
    "Jalan rusak di Gg. Mawar RT 03/RW 05 nomor 3. Sudah 2 minggu tidak diperbaiki.",
    "Sudah saya WA kemarin, laporan saya belum ditindaklanjuti",
    "sdh sy kirim lewat email tp blm ada kabar",
    "yg tadi saya lapor itu gmn min? kirim ulang ya",
    "Banjir di depan SD Negeri 5 dan SDN 7, juga SMP N 4 dan MAN 2 Kota",
    "sekolah dasar negeri 3 dan sekolah menengah pertama 12; MI N 1; Mts Neg 3; ma n 2",
    "Minggu ini lampu di Perumahan Griya Asri mati, masjid Al Ikhlas gelap, PKM tutup",
    "Kantor kelurahan Sukamaju dan kantor camat Cibeunying, balai kelurahan rusak",
    "Komplek Bumi Indah, mushola, Puskes. dekat kantor lurah",
    "lihat https://lapor.go.id/x atau www.example.com dan kab.go.id/aduan, link bit.ly/abc",
    "jalan/gang 3/4 rusak, RT/RW 3/5",
    "Kelurahan Sukamaju \u2014 SDN 5 \u263a masjid",
    "\u212aantor camat (Kelvin sign) dan \u017fudah saya WA",  # re.I folds these; str.lower does not
    "SUDAH SAYA LAPORKAN VIA WHATSAPP, MASJID RAYA DAN PERUM INDAH",
    "menyusul laporan kemarin: nu tadi kirim foto",
    "Jl. Gn. Malang dekat Gn Sari, bukan gunung-gunungan",
    "",
]


def _canonical_reference(text: str) -> str:
    """canonical_places as it was before the regexes were skipped: every pattern run."""
    low = text.lower()
    if "sd" in low or "sm" in low or "sekolah" in low or "mi" in low or "ma" in low:
        text = places._SCHOOL.compiled.sub(places._school, text)
    if "jl" in low or "jalan" in low:
        text = places._STREET.compiled.sub("jl ", text)
    if "gg" in low or "gang" in low:
        text = places._GANG.compiled.sub("gg ", text)
    for pattern, word in places._OTHER:
        text = pattern.sub(word, text)
    return text


@pytest.mark.parametrize("text", TEXTS)
def test_skipping_changes_no_answer(text):
    assert places.canonical_places(text) == _canonical_reference(text)
    assert AnySearch(concepts._SELF_REF)(text) == bool(concepts._SELF_REF.search(text))
    for pattern, word in places._OTHER:
        low = text.lower() if text.isascii() else None
        assert sub_where_possible(pattern, word, text, low, hints(pattern)) == pattern.sub(word, text)
    low = text.lower()
    if _URL.search(low):  # normalise runs _URL where it can match: a URL's marks are there
        assert "www." in low or "/" in low and any(m in low for m in (
            "://", ".com/", ".id/", ".net/", ".org/", ".ly/", ".me/"))
        assert "/" not in normalise(text) or "://" not in text


def test_the_examples_exercise_what_is_skipped():
    """Each skipped pattern matches some example (else the comparison above proves nothing)."""
    assert sum(AnySearch(concepts._SELF_REF)(t) for t in TEXTS) >= 5
    assert sum(bool(places._SCHOOL.search(t)) for t in TEXTS) >= 2
    for pattern, _ in places._OTHER:
        assert any(pattern.search(t) for t in TEXTS), pattern.pattern


def test_literals_are_read_off_the_pattern():
    assert literals(r"\b(?:perumahan|perum|komplek)\b\.?") == ("perumahan", "perum", "komplek")
    assert literals(r"\b(?:kantor (?:ke)?lurah(?:an)?|balai kelurahan)\b") == ("kantor ", "balai kelurahan")
    assert literals(r"\bfotos?\b") == ("foto",)  # the optional last letter is not required
    # an optional leading group: a match begins with one of its words or with what follows it
    assert literals(r"\b(?:ab|cd)?x") == ("ab", "cd", "x") and literals(r"\b(?:di)??(?:ada|pasang)kan") == (
        "di", "ada", "pasang")
    assert literals(r"\b(?:ab|cd)?\sx") is None and literals(r"\b(?:ab|cd)*x") is None  # nothing read after it
    assert literals(r"\[foto\]") is None and literals(r"\b(?s:jl)") is None and literals(r"[Jj]?alan") is None
    # a case-insensitive group, one letter in either case, no leading \b: read lower-cased all the same
    assert literals(r"\b(?i:jl|Gg)") == ("jl", "gg") and literals(r"\b[Jj]alan\s") == ("jalan",)
    assert literals(r"(?:sd|smp)\s*n|sekolah") == ("sd", "smp") and hints(re.compile("(?:sd|smp)n|sekolah")) == (
        "sd", "smp", "sekolah")
    assert hints(re.compile(r"\bpasar\b|\b(?:taman|kampung)\s+\w+")) == ("pasar", "taman", "kampung")
    assert hints(re.compile(r"\bpasar\b|[A-Z]\w+")) is None  # one unreadable alternative: always run


def test_required_letters_are_those_outside_groups_and_quantifiers():
    assert required(r"(?:^|[,.;:!?\n]\s*|\b(?:pak|bu)\s+)satu\s+lagi\b") == ("satu", "lagi")
    assert required(r"abc?d") == ("ab", "d") and required(r"ab{0,2}cD") == ("a", "cd")
    assert required(r"(?:x)yz+w*") == ("yz",) and required(r"a\sb") == ("a", "b")
    assert required(r"\\nx") == ("nx",)  # an escaped backslash, then letters
    assert required(r"\x41bc") == () and required(r"\u00e9t") == ()  # escapes that hold letters: not read
    assert required(r"[satu]\(\s*(?:bukan|dudu)") == () and required("a b", re.VERBOSE) == ()
    assert literals(r"\b(?:oh|(?:sampaikan|laporkan)\s+juga)\b") == ("oh", "sampaikan", "laporkan")
    assert literals(r"\b(?:oh|(?:sampaikan|laporkan)?\s+juga)\b") is None  # the group may be absent


def test_an_alternative_searched_whole_is_skipped_only_without_its_letters():
    search = AnySearch(re.compile(r"(?:^|[,.]\s*)satu\s+lagi\b|\bmasih\b", re.I))
    assert search("Pak, SATU LAGI ya") and search("satu lagi") and not search("satu  lagu, lagi satu")
    assert search.parts[0][2] == ("satu", "lagi")


def test_a_skipped_alternative_is_one_whose_words_are_absent():
    search = AnySearch(re.compile(r"\bmasih\b|\bbelum\s+ada\b", re.I))
    assert search("BELUM ADA perbaikan") and search("masih rusak") and not search("belumada masihan")


def test_an_optional_prefix_is_tried_where_its_words_or_the_next_ones_begin():
    """"\b(?:di)?(?:ada|pasang)(?:in|kan)\b": tried where "di", "ada" or "pasang" begins instead of searched whole,
    with re's answers (and Anchored's matches) for the prefix there or not, glued or not, at the text's edges."""
    pattern = re.compile(r"\b(?:di)?(?:ada|pasang|bangun)(?:in|kan|ke)\b|\bny(?:iap|edia)in\b", re.I)
    search, anchored = AnySearch(pattern), Anchored(pattern)
    assert search.parts is not None and search.parts[0][1] == ("di", "ada", "pasang", "bangun")
    texts = ["mohon diadakan lampu", "tolong adain", "pasangin dong", "dibangunkan jembatan", "didiadakan x",
             "adakan", "kadakan", "di adakan", "diada", "sudah dipasangkan, diadain, bangunke", "DIPASANGIN",
             "nyiapin tempat", "dipasang kan", "gadiadain", "tidak ada", ""]
    for text in texts:
        assert search(text) == bool(pattern.search(text)), text
        assert anchored.findall(text) == pattern.findall(text), text
    assert sum(search(t) for t in texts) >= 6


def test_capital_letters_are_read_lower_cased_and_anchored_search_finds_what_search_finds():
    """Words written with capitals ("MTsN", "Kali") are looked for lower-cased (a superset of where they occur);
    ``Anchored.search(text, pos)`` gives ``re.Pattern.search``'s match from any position, in any case."""
    import random

    from router.dedup import features

    assert literals(r"\b(?:MTsN|Kali|pasar)\b") == ("mtsn", "kali", "pasar")
    landmark = features._LANDMARK
    assert isinstance(landmark, Anchored) and "mtsn" in landmark.words and "rumah sakit" in landmark.words
    plain = landmark.compiled
    vocab = ["pasar", "Pasar", "PASAR", "MTsN", "mtsn", "MI", "mi", "Kali", "kali", "rumah sakit", "Rumah Sakit",
             "alun-alun", "alun2", "jl", "SD", "sdn", "taman", "Taman", "rusun", "rusunawa", "bumi", "Bumi", "3", "12",
             "baru", "Indah", "pt.", "kampung", "musholla", "di", "dekat", "kamis", "semarang", "smpn", "tps"]
    rng = random.Random(27)
    glue = [" ", " ", " ", ". ", ", ", "\n", "-", "'"]
    found = 0
    for text in TEXTS + ["".join(rng.choice(vocab) + rng.choice(glue) for _ in range(rng.randint(1, 10)))
                         for _ in range(1500)]:
        for pos in (0, 1, len(text) // 2):
            expected, got = plain.search(text, pos), landmark.search(text, pos)
            assert (got and (got.span(), got.groups())) == (expected and (expected.span(), expected.groups())), text
            found += expected is not None
    assert found > 1000


def test_random_texts_of_the_patterns_words_get_the_same_answers():
    """Texts made of the patterns' own words (in any case, glued to punctuation, digits and underscores)."""
    import random

    patterns = [concepts._SELF_REF, concepts._AGAIN, concepts._AGAIN_NOT, concepts._FOLLOW, concepts._OTHER,
                concepts._LASTING]
    vocab = sorted({w for p in patterns for part in (hints(p) or ()) for w in part.split()}
                   | {"wa", "email", "kirim", "ulang", "lagi", "dong", "tadi", "kemarin", "hari", "minggu", "2",
                      "lapor", "saya", "yg", "jeung", "gang", "lebih", "[foto]", "fotonya", "skrg", "acan", "tempat"})
    rng = random.Random(16)
    glue = [" ", " ", " ", "  ", ", ", ". ", "\n", "-", "_", "/", "2", "(", ")"]
    checked = 0
    # (12,000 texts: the patterns' words grew with the regional self-references and "another matter" of stop 29, and
    # 3000 texts of the larger vocabulary matched 854 times; stop 30's recurrence words, said outright and in the
    # regions, and its self-references grew it again: 4000 texts matched 440 times)
    searches = [(pattern, AnySearch(pattern)) for pattern in patterns]
    for _ in range(12000):
        words = [rng.choice(vocab) for _ in range(rng.randint(1, 9))]
        words = [w.upper() if rng.random() < 0.1 else w.title() if rng.random() < 0.2 else w for w in words]
        text = "".join(w + rng.choice(glue) for w in words)
        for pattern, search in searches:
            assert search(text) == bool(pattern.search(text)), (pattern.pattern[:40], text)
            checked += bool(pattern.search(text))
    assert checked > 1000  # the texts do match, often


def test_settled_and_another_matter_get_the_same_answers():
    """reference_flags' _ALSO and _FIXED (alternatives searched whole, or where their words begin) on texts of
    their own words, in any case and glued to punctuation, against the plain patterns."""
    import random

    patterns = [concepts._ALSO, concepts._FIXED]
    vocab = sorted({w for p in patterns for _, words, letters in AnySearch(p).parts
                    for part in (words or ()) + letters for w in part.split()}
                   | {"kasih", "tapi", "tp", "masih", "satu", "lagi", "ada", "lan", "malih", "maneh", "pula",
                      "juga", "ini", "di", "terpisah", "berbeda", "tempatnya", "since", "quieter", "lain", "itu", "diperbaiki", "ditambal", "mulai", "sudah",
                      "udah", "padam", "api", "visited", "bukan", "(", ",", "sampaikan", "you", "nuwun"}
                   # phrases: the alternatives of several words
                   | {"kali ini", "kali ini di", "satu lagi", "ada lagi", "pak satu lagi", "lan malih", "dan maneh",
                      "(bukan", "( sanes", "tempat lain", "lokasi terpisah", "sampaikan juga", "selain itu",
                      "sudah diperbaiki", "udah mau ditambal", "fogging sudah", "since they visited", "api sudah padam",
                      "terima kasih tapi", "makasih, tp", "tambalannya", "terima kasih atas perbaikan",
                      "makasih untuk penanganan", "geus ngocor",
                      # (stop 29: one more matter said outright)
                      "juga mau lapor", "mau ngadu hal lain", "laporan tambahan soal"})
    rng = random.Random(1616)
    glue = [" ", " ", " ", "  ", ", ", ". ", "\n", "-", "_", "/", "2", "(", ")", "!"]
    # each alternative alone too: one that matched only where another did would prove nothing of its own
    alternatives = [re.compile(part.pattern, p.flags) for p in patterns for part, _, _ in AnySearch(p).parts]
    searches = [(p, AnySearch(p)) for p in patterns + alternatives]
    matched = {id(p): 0 for p, _ in searches}
    for _ in range(6000):
        words = [rng.choice(vocab) for _ in range(rng.randint(1, 9))]
        words = [w.upper() if rng.random() < 0.1 else w.title() if rng.random() < 0.2 else w for w in words]
        text = "".join(w + rng.choice(glue) for w in words)
        for pattern, search in searches:
            expected = bool(pattern.search(text))
            assert search(text) == expected, (pattern.pattern[:40], text)
            matched[id(pattern)] += expected
    assert min(matched[id(p)] for p in patterns) > 300  # the texts do match, often
    assert min(matched.values()) >= 3, [p.pattern[:40] for p, _ in searches if matched[id(p)] < 3]


def test_anchored_findall_lists_what_the_pattern_finds():
    """extract_places' patterns (wrapped in Anchored) against the plain compiled patterns, on texts made of
    their own words, names, numbers and punctuation in any case (and a non-ASCII one, run whole)."""
    import random

    from router.dedup import features
    from router.fastre import Anchored

    wrapped = [getattr(features, n) for n in ("_RT_RW", "_RT", "_RW", "_ABBREV_STREET", "_JALAN_LOWER", "_AREA",
                                              "_BLOK", "_NUMBERED", "_GANG_NUMBER", "_HOUSE", "_LANDMARK", "_COMPARED",
                                              "_LONG_STREET", "_LETTERED", "_SLASH_STREET",
                                              "_NUMBERED_STREET", "_DIGIT_STREET")]
    wrapped += [places._STREET, places._GANG]
    assert all(isinstance(w, Anchored) for w in wrapped)
    vocab = sorted({w for a in wrapped for w in a.words} | {
        "Merdeka", "sukamaju", "Ir.", "H.", "Juanda", "raya", "no", "3", "03", "/", "rw.", "rt:", "Al-Ikhlas",
        "Griya", "asri", "kel.", "Kec.", "Blok", "C2", "di", "rusak", "simpang", "kircon-jakarta", "alun-alun",
        "alun2", "Kantor", "pos", "RT/RW", "rt/rw:", "03/05", "2 / 5", "\u00e9", "gg", "Gg", "jl", "II", "iv", "12",
        "gg3", "Mawar", "gg mawar 3", "Gg Kenanga 12", "jl Merdeka II", "JL raya Sukamaju iv", "gg 7",
        "RT/RW 03/05", "rt/rw 3 / 5", "nomor", "No.", "jl Merdeka nomor 7", "Gg Mawar No 12", "B", "c",
        "jalan kelayan B", "Jalan", "Gang", "jl Prawirotaman/Parangtritis", "dekat RT 6", "yg SD 3", "bukan",
        "ora sing", "SDN", "sd n", "smpneg", "lorong", "Lr.", "sekolah", "Pasar", "MTsN", "Rumah Sakit",
        "jl Merdeka 12", "jl Mawar 3"})
    rng = random.Random(160)
    glue = [" ", " ", "  ", ", ", ". ", ".", "\n", "-", "_", "/", ":"]
    hits = {id(a): 0 for a in wrapped}
    for _ in range(3000):
        words = [rng.choice(vocab) for _ in range(rng.randint(1, 10))]
        words = [w.upper() if rng.random() < 0.1 else w.title() if rng.random() < 0.2 else w for w in words]
        text = "".join(w + rng.choice(glue) for w in words)
        for anchored in wrapped:
            expected = anchored.compiled.findall(text)
            assert anchored.findall(text) == expected, (anchored.pattern[:40], text)
            assert [(m.span(), m.groups()) for m in anchored.finditer(text)] == \
                [(m.span(), m.groups()) for m in anchored.compiled.finditer(text)], (anchored.pattern[:40], text)
            expected_one = anchored.compiled.search(text, len(text) // 3)
            found_one = anchored.search(text, len(text) // 3)
            assert (found_one and found_one.span()) == (expected_one and expected_one.span()), (anchored.pattern, text)
            hits[id(anchored)] += bool(expected)
    assert min(hits.values()) >= 10, hits  # every pattern found something often: the comparison means something
    assert features._RT_RW.sub(" ", "RT/RW 03/05 jalan") == features._RT_RW.compiled.sub(" ", "RT/RW 03/05 jalan")
    for text in TEXTS + ["Jalan Merdeka, gang 3, GANG Mawar, JALAN Raya, jalan kecil, Lorong 7, lr. 9 gg.Mawar"]:
        assert places._STREET.sub("jl ", text) == places._STREET.compiled.sub("jl ", text)
        assert places._GANG.sub("gg ", text) == places._GANG.compiled.sub("gg ", text)


def test_anchored_sub_writes_what_the_pattern_writes():
    """normalise's RT/RW and number-glued patterns (lower-case text, as normalise has it by then)."""
    import random

    from router import normalise as n

    cases = [(n._RT_RW_PAIR, r" rt \1 rw \2 "), (n._RT_RW_GLUED, r"\1 "), (n._DIGIT_LETTER, r"\1 \2"),
             (n._DIGIT_LETTER, lambda m: m.group(0).upper()), (n._DIGIT_LETTER, "~"), (n._DIGIT_LETTER, r"\2<\1>"),
             (n._RT_RW_GLUED, r"[\g<0>]\n")]  # a plain string, groups swapped, escapes Match.expand reads
    vocab = ["rt", "rw", "no", "km", "rp", "rt03", "rw.5", "rt:3", "rt/rw", "no5", "km12", "rp5000", "nomor",
             "3", "03", "/", "-", ".", ":", "jalan", "sekarang", "bro", "rtx", "xrt", "\u00e9"]
    rng = random.Random(1600)
    changed = 0
    for _ in range(3000):
        text = "".join(rng.choice(vocab) + rng.choice(["", " ", "  ", "/", "."]) for _ in range(rng.randint(1, 10)))
        for anchored, repl in cases:
            expected = anchored.compiled.sub(repl, text)
            assert anchored.sub(repl, text) == expected, (anchored.pattern, text)
            changed += expected != text
    assert changed > 2000


def _example(pattern: str, rng) -> str:
    """A text the pattern probably matches, written from its parsed form (lookarounds and anchors ignored)."""
    from re import _constants as c
    from re import _parser

    def write(items) -> str:
        out = []
        for op, av in items:
            if op is c.LITERAL:
                out.append(chr(av))
            elif op is c.NOT_LITERAL or op is c.ANY:
                out.append(rng.choice(" a1"))
            elif op is c.IN:
                choices = [chr(a) if o is c.LITERAL else chr(rng.randint(*a)) if o is c.RANGE
                           else {c.CATEGORY_DIGIT: "7", c.CATEGORY_SPACE: " "}.get(a, "k") if o is c.CATEGORY
                           else None for o, a in av]
                out.append(rng.choice(" a1,") if any(x is None for x in choices) else rng.choice(choices))
            elif op is c.CATEGORY:
                out.append({c.CATEGORY_DIGIT: "3", c.CATEGORY_SPACE: " "}.get(av, "kota"))
            elif op is c.BRANCH:
                out.append(write(rng.choice(av[1])))
            elif op is c.SUBPATTERN:
                out.append(write(av[3]))
            elif op in (c.MAX_REPEAT, c.MIN_REPEAT):
                low, high, inner = av
                out.extend(write(inner) for _ in range(rng.randint(low, min(high, low + 2))))
        return "".join(out)

    return write(_parser.parse(pattern))


def test_the_routing_rules_regexes_get_the_same_answers():
    """The shipped rules' regexes (RuleMatcher runs them through AnySearch) against the plain patterns, on texts
    written from each pattern (so that most match) amid other rules' words, and on those texts cut short;
    every regex must match several of them, or the comparison proves nothing."""
    import random
    from pathlib import Path

    from router.classify import Classifier
    from router.eval.routing import load_routing_config

    shipped = load_routing_config(Path(__file__).resolve().parents[2] / "config.yaml")
    classifier = Classifier(shipped.routing, list(shipped.agencies))
    searches = [search for matcher in (classifier.rules, classifier.questions)
                for search, _, _ in matcher.regexes]
    assert len(searches) > 10 and all(isinstance(s, AnySearch) for s in searches)
    vocab = sorted({w for s in searches for _, words, letters in s.parts or ()
                    for part in (words or ()) + letters for w in part.split()} | {"di", "ke", "saya", "7"})
    rng = random.Random(16016)
    texts = [normalise(t) for t in TEXTS]
    for search in searches:
        for _ in range(40):
            example = _example(search.pattern.pattern, rng)
            around = [" ".join(rng.choice(vocab) for _ in range(rng.randint(0, 3))) for _ in range(2)]
            text = f"{around[0]} {example} {around[1]}".strip() if rng.random() < 0.7 else example
            texts += [text, text[:rng.randint(0, len(text))], text.upper() if rng.random() < 0.1 else text[1:]]
    matched = {id(s): 0 for s in searches}
    for text in texts:
        for search in searches:
            expected = search.pattern.search(text) is not None
            assert search(text) == expected, (search.pattern.pattern[:60], text)
            matched[id(search)] += expected
    assert min(matched.values()) >= 5, [s.pattern.pattern[:60] for s in searches if matched[id(s)] < 5]


# patterns of stop 29 tried where their words begin, or written so that re skips to where they can match
MORE_TEXTS = TEXTS + [
    "RT 09 s.d. RT 12 banjir, rt.3-5 juga, RT 1 sampai 4, rt05 sd 07; RW 2 hingga RW 3",
    "jembatan II ambrol, Gedung IV bocor, Menara X, pintu air III macet, Dermaga V, Tower VIII",
    "sampah di depan ruang 3, dekat pos 02, ke kelas 6, di blok 12, samping Pos III, arah terminal 2",
    "harga naik 1.000.000 jadi 2,500 lalu 12.34 dan 1.2345, rp.10.000,- 3.000m, .500 ,250 x1,000",
    "Ke (Sukamaju), lalu /Tugu dan -Bumijo, Jalan Merdeka; bukan JALAN",
    "rt 3 rw 5 kel sukamaju", "rw 12 saja", "srt 4 rwt 2",
    "Rusak di Jembatan III dan Gedung II. Banjir dekat RT 4 - 6, lampu mati di depan kantor 2 dan 3",
]


@pytest.mark.parametrize("text", MORE_TEXTS + [t.upper() for t in MORE_TEXTS] + [t.lower() for t in MORE_TEXTS])
def test_anchored_patterns_answer_as_the_whole_pattern(text):
    from router.dedup import features
    from router.normalise import _THOUSANDS

    for anchored in (features._RT_RANGE, features._ROMAN_UNIT, features._NUM_AFTER_WHERE):
        assert isinstance(anchored, Anchored)
        assert anchored.findall(text) == anchored.compiled.findall(text)
    assert places._SCHOOL.sub(places._school, text) == places._SCHOOL.compiled.sub(places._school, text)
    for anchored in (places._RT, places._RW):
        found, expected = anchored.search(text.lower()), anchored.compiled.search(text.lower())
        assert (found and (found.span(), found.groups())) == (expected and (expected.span(), expected.groups()))
    assert bool(features._TITLE_WORD.search(text)) == bool(re.search(r"(?<=[ (/,-])[A-Z][a-z]{2,}", text))
    assert _THOUSANDS.sub("", text) == re.sub(r"(?<=\d)[.,](?=\d{3}\b)", "", text)


def test_the_new_examples_exercise_them():
    from router.dedup import features

    for anchored in (features._RT_RANGE, features._ROMAN_UNIT, features._NUM_AFTER_WHERE):
        assert sum(bool(anchored.compiled.search(t)) for t in MORE_TEXTS) >= 2
    assert sum(bool(re.search(r"(?<=\d)[.,](?=\d{3}\b)", t)) for t in MORE_TEXTS) >= 1
    assert sum(bool(re.search(r"(?<=[ (/,-])[A-Z][a-z]{2,}", t)) for t in MORE_TEXTS) >= 2


@pytest.mark.parametrize("text", MORE_TEXTS + [
    "lampu taman Alun-alun Kapuas udah nyala, tp lampu taman di Taman Akcaya mati",
    "Terima kasih atas perbaikan atap, tapi talang masih bocor", "api lahan kemarin sudah padam tapi asap masih",
    "fogging sudah, tapi nyamuk masih banyak", "since the last report nobody visited", "tambalane wes mrotol",
    "SUDAH DIPERBAIKI TAPI RUSAK LAGI", "la dibaiki, tp", "so diambe ular itu"])
def test_fixed_anchored_finds_the_leftmost_match(text):
    from router.dedup import features
    from router.dedup.concepts import FIXED

    for variant in (text, text.lower(), text.upper()):
        found, expected = features._FIXED_WORDS.search(variant), FIXED.search(variant)
        assert (found and found.span()) == (expected and expected.span())
