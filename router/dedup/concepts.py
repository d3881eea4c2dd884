"""Domain knowledge for grouping: what problem a complaint is about, how it refers to earlier messages,
and who signed it — in the words citizens use (Indonesian, slang, Sundanese, Javanese).

*Problem classes* are coarse: a pipe that bursts (``bocor``, ``kebocoran``, ``muncrat``, ``pecah``) is a
leak whoever tells it; a street light that is ``mati``/``padam``/``pareum`` is a street light. Two
complaints whose classes are both known and share none are about different problems, whatever their words
share (a flood and a dark street at one address). Classes are a bit mask: the first 54 in bits 0..53 (54..58 are
HEDGE and the states), the classes after them from bit 64 on (a Python int; the index keeps two int64 words).

*Reference flags* read how a message points back: to the sender's own earlier report on another channel
("sudah saya WA tanggal 7 Mei", "ieu Ceu Popon nu tadi WA", "Menyusul pesan WhatsApp saya"), a follow-up
("[foto]", "masih", "belum"), a recurrence ("banjir lagi", "numpuk deui", "kembali padam") — after days of
quiet that is a new occurrence, not a reminder — or a fix ("sudah surut", "sudah diangkut").

*Identity keys* compare senders without a shared contact: the words of a display name (honorifics and
account words left out) and the prefixes of a handle ("@asepsun_" → asep, asepsu, …) meet "Asep Sunandar".

Every word list here was written by hand for this project.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Callable, Iterable
from datetime import UTC, datetime

from router.fastre import AnySearch

# problem class -> words (normalised tokens: the lexicon has already turned "cai" into "air",
# "pareum" into "mati", "runtah" into "sampah"; the raw regional word is listed too for texts the
# lexicon does not know)
_CLASS_WORDS: dict[str, str] = {
    "no_water": "kering pompa",
    # water that runs but cannot be used: another problem than no water or a leak
    "water_quality": "keruh butek kaporit kecoklatan kecokelatan coklat cokelat berpasir asin payau",
    # water that runs, but too little ("sudah nyala tapi keluarnya kecil, cuma netes"): not the same as none
    "water_pressure": "netes menetes",
    # ("pecah" alone is any breakage, "kloset pecah": a leak when a pipe was named just before, see _PIPE)
    "leak": "bocor kebocoran bocornya muncrat rembes merembes terbuang ngocor nyembur",
    "bill": "tagihan rekening tarif meteran",
    "flood": "banjir banjia kebanjiran tenggelam tenggelem caah genangan tergenang menggenang rob surut sepinggang selutut "
             "sepaha sebetis sedada merendam terendam ngaleut kerendem kelelep sedengkul",
    # (Banjar and Malay "tasumbat", their ter- written ta-; not "parit", as often the name of a place)
    "drain": "saluran selokan solokan got gorong drainase mampet tersumbat tasumbat tesumbat sumbat buntu sedimentasi "
             "dikeruk keruk pengerukan pendangkalan",
    # rubbish left uncollected (the object "sampah" alone is no problem: it also blocks drains and is burnt)
    "waste": "diangkut diangkuik pengangkutan tumpukan menumpuk numpuk menggunung segunung gunungan",
    "burning": "bakar membakar dibakar pembakaran ngobong diobong",  # (Javanese "ngobong sampah")
    # (Minang "tabaka", "kabakaran"; the eastern Malay "tabakar" is read by its "ta-", see _TA)
    "fire": "kebakaran terbakar tebakar tabaka kabakaran kahuruan seuneu hangus kobong kobongan karhutla",
    # (not "aspal": the object is named by a drain or a flood complaint too, "air naik ke aspal")
    "road": "berlubang berlobang lubang lobang bolong amblas ambles retak ngelupas mengelupas paving tambal jeglongan "
            "diaspal bergelombang becek licak semenisasi pengaspalan",
    "streetlight": "pju penerangan gelap peteng",
    # a park's own lamps ("lampu taman … mati"): the park's keeper, not the street's lights
    "park_light": "",
    "trafficlight": "apill bangjo",  # (Javanese "bangjo", "lampu abang ijo": red-green)
    "power": "pln listrik",
    "collapse": "ambruk roboh runtuh rubuh ambrol",
    "tree": "pohon tangkal dahan ranting tumbang doyong condong",
    # (and the shore the sea eats, "abrasi", "pantai kegerus": land lost along a stretch, told by its kelurahan)
    "landslide": "longsor urug tebing abrasi kegerus tergerus tagerus terkikis",
    "storm": "puting beliung",  # ("angin", the wind, is weak: the cause of a fallen tree, a season)
    "snake": "ular ula ulo sanca kobra",
    "wild_animal": "buaya buayo biawak",  # (rivers and swamps: another animal, another call-out)
    "bees": "tawon lebah vespa",
    "dog": "anjing",
    "mental": "odgj jiwa gila gilo",  # (Malay and Minang "gilo")
    "street_people": "pengemis pengamen ngamen ngemis mengemis gelandangan manusia silver punk",
    "elderly": "jompo terlantar telantar",
    "vendor": "pkl lapak",
    "parking": "parkir jukir parking parked",
    "transport": "angkot ngetem trayek bus",
    # river crossings: the boat, its passengers, its life jackets
    "crossing": "kelotok klotok ketek perahu penyeberangan pelampung speedboat",
    "noise": "bising berisik ribut musik music knalpot suara suaranya bunyi dentam dentum jedag jedug loud noise noisy bass",
    "sewage": "limbah tinja septic septik tai manhole ipal sedot tercemar pencemaran berminyak",  # (and what pollutes water)
    "dengue": "dbd demam berdarah fogging nyamuk jentik",
    "clinic": "antrean antrian antre",  # ("antri", "ngantri" are normalised to "antre": the verb of the queue)
    "hospital": "bpjs pasien",
    "civil_registry": "ktp kk akta dukcapil disdukcapil nik domisili",
    "welfare": "bansos bpnt pkh blt sembako dtks selimut tikar",
    # people made ill by smoke or haze (weak words, below: not the fire or the burning itself)
    "health": "ispa ispu",
    # pay withheld, and a dismissal: two complaints of one workforce ("buruh", "karyawan": weak, below)
    "labour": "thr gaji upah",
    "dismissal": "phk pesangon",
    "school_fee": "pungutan pungli lks seragam iuran sumbangan spp",
    "school_building": "atap plafon",  # and "ruang kelas" (below): "kelas 6" is a grade
    # a toilet (a school's, a puskesmas's, a market's) that is broken or dirty: not its roof, not its water
    "toilet": "wc toilet kloset jamban mck",
    "admission": "ppdb zonasi",
    "building": "bangunan pbg imb sempadan",
    "billboard": "reklame baliho spanduk",
    "digital": "aplikasi website web situs login otp wifi",
    # a vaccine or medicine out of stock at a health facility: not its queue, not its staff (appended last: the
    # bits of the classes above keep their places)
    "medicine": "vaksin vaksinasi imunisasi obat",
    # a camera that watches a street or a park: not its wifi, not its lamps
    "cctv": "cctv",
    # the paint on a road (a zebra crossing, lane lines): not its lights, not its holes
    "marking": "marka",
    # a park's or a stop's furniture (a broken bench): not its lamps, not its roof
    "furniture": "bangku",
    # cattle and goats loose on a road or in a park (Satpol PP's), a warning siren that fails or sounds by itself
    "livestock": "sapi kambing ternak",
    "siren": "sirine sirene",
    # a levy collected at a market, a terminal or a parking lot (twice, by the wrong people): not the traders
    "levy": "retribusi",
    # ---- from here on the second mask word (bits 64 and up; the classes above keep their bits) ----
    # the ground shaking, one event for a whole city ("gempa kuat barusan", "gempabumi"): told by what it did or
    # what failed during it (a shelter locked, a siren silent), whose other words differ
    "earthquake": "gempa gempabumi",
    # a telephone, internet or cable-TV line (a telecom operator's, not the power company's: "kabel wifi menjuntai" is
    # not "kabel listrik menjuntai"); named by pairs below ("kabel internet", "tiang telkom")
    "telecom": "telkom indihome fiber optik",
    # rubbish dumped where it should not be ("buang sampah sembarangan", "TPS liar"): the dumpers are the matter, not a
    # collection that is late ("sampah belum diangkut"); named by pairs below
    "dumping": "",
    # liquor sold or drunk where it disturbs ("warung miras", "orang mabuk tiap malam"; Javanese "ciu", Manado "mabo",
    # the palm wine "tuak", the Minahasa "cap tikus" below): Satpol PP's, not a noise or a vendor complaint
    "alcohol": "miras mabuk mabok mabo tuak ciu oplosan",
    # paint sprayed on a monument, a wall or a fence ("vandalisme", "dicoret pilox")
    "graffiti": "vandalisme vandal coretan dicoret corat pilox pylox grafiti graffiti",
    # a footbridge of planks ("titian ulin", "jembatan kayu"): its boards, not the road's holes
    "footbridge": "titian",
    # a refill water depot ("depot air isi ulang"): its hygiene is the health office's, not piped water
    "water_depot": "depot",
}
# two-word names of a problem (normalised): the second word is read after the first
_CLASS_PAIRS: dict[tuple[str, str], str] = {
    ("lampu", "jalan"): "streetlight", ("lampu", "merah"): "trafficlight", ("lampu", "abang"): "trafficlight", ("lampu", "lalu"): "trafficlight",
    ("lampu", "hijau"): "trafficlight", ("lampu", "kuning"): "trafficlight", ("lampu", "stopan"): "trafficlight", ("lampu", "taman"): "park_light", ("lintas", "light"): "trafficlight",
    ("air", "mati"): "no_water", ("pdam", "mati"): "no_water", ("tidak", "mengalir"): "no_water",
    ("tidak", "ngalir"): "no_water", ("belum", "mengalir"): "no_water", ("tidak", "keluar"): "no_water",
    # Manado Malay: "aer nyanda mangalir"
    ("nyanda", "mangalir"): "no_water", ("nyanda", "mengalir"): "no_water", ("tidak", "mangalir"): "no_water",
    ("belum", "mangalir"): "no_water",
    ("air", "bersih"): "no_water",
    # regional words for water: "banyu mati" (Javanese, Banjar), "aek"/"ayek" (Malay); the tide coming in is a flood
    ("banyu", "mati"): "no_water", ("aek", "mati"): "no_water", ("ayek", "mati"): "no_water", ("ledeng", "mati"): "no_water",
    ("air", "pasang"): "flood", ("banyu", "pasang"): "flood", ("aek", "pasang"): "flood", ("ayek", "pasang"): "flood",
    # the sea coming in by its waves ("gelombang pasang", "ombak pasang"), as the tide is
    ("gelombang", "pasang"): "flood", ("ombak", "pasang"): "flood",
    # water that reaches a body part ("sampai lutut", "sampe pinggang"): a flood's depth, as "selutut" is
    ("sampai", "lutut"): "flood", ("sampai", "pinggang"): "flood", ("sampai", "paha"): "flood",
    ("sampai", "betis"): "flood", ("sampai", "dada"): "flood", ("setinggi", "pinggang"): "flood",
    ("sak", "dengkul"): "flood", ("sampai", "dengkul"): "flood",  # (Javanese "dengkul", the knee)
    ("setinggi", "paha"): "flood", ("setinggi", "betis"): "flood", ("setinggi", "dada"): "flood",
    ("dapur", "umum"): "welfare",
    ("batang", "kayu"): "tree",
    ("keluarnya", "kecil"): "water_pressure", ("air", "kecil"): "water_pressure", ("airnya", "kecil"): "water_pressure",
    ("ngalir", "kecil"): "water_pressure", ("mengalir", "kecil"): "water_pressure", ("debit", "kecil"): "water_pressure",
    ("tekanan", "lemah"): "water_pressure", ("tekanan", "kecil"): "water_pressure",
    ("puting", "beliung"): "storm", ("angin", "puyuh"): "storm", ("angin", "ribut"): "storm", ("angin", "topan"): "storm",
    ("manusia", "silver"): "street_people", ("anak", "jalanan"): "street_people",
    ("anak", "jalan"): "street_people", ("minta", "minta"): "street_people",  # ("jalanan" is normalised to "jalan")
    ("kaki", "lima"): "vendor", ("ruang", "kelas"): "school_building", ("uang", "komite"): "school_fee", ("seperti", "gunung"): "waste", ("study", "tour"): "school_fee", ("kartu", "keluarga"): "civil_registry",
    ("bantuan", "beras"): "welfare", ("bantuan", "sosial"): "welfare", ("wi", "fi"): "digital",
    # oil on the water (a slick, a spill) pollutes it
    ("kabel", "telepon"): "telecom", ("kabel", "telpon"): "telecom", ("kabel", "internet"): "telecom",
    ("kabel", "wifi"): "telecom", ("kabel", "tv"): "telecom", ("kabel", "fo"): "telecom", ("tiang", "internet"): "telecom",
    ("buang", "sampah"): "dumping", ("membuang", "sampah"): "dumping", ("sampah", "liar"): "dumping",
    ("pembuangan", "liar"): "dumping", ("tps", "liar"): "dumping", ("buang", "sembarangan"): "dumping",
    ("dibuang", "sembarangan"): "dumping",
    ("cap", "tikus"): "alcohol", ("jembatan", "kayu"): "footbridge", ("jembatan", "ulin"): "footbridge",
    ("jembatan", "gantung"): "footbridge", ("jembatan", "bambu"): "footbridge", ("isi", "ulang"): "water_depot",
    ("lapisan", "minyak"): "sewage", ("tumpahan", "minyak"): "sewage", ("jalan", "rusak"): "road", ("jalan", "hancur"): "road", ("gang", "rusak"): "road", ("jalan", "ambrol"): "road", ("aspal", "ambrol"): "road",
}
# weak words: a by-product or a venue names a problem only when nothing else in the message does ("asap
# pabrik" is smoke from burning, but a house fire's report names the smoke too; "karaoke" is noise, but its
# guests' parking on the road is a parking complaint; "sudah ado yang ke puskesmas" is what the smoke did)
# (and traders: "pedagang" at a market are the ones a leak or an outage hurts, not street vendors)
_WEAK_WORDS: dict[str, str] = {"asap": "burning", "asapnya": "burning", "karaoke": "noise", "puskesmas": "clinic",
                               "rsud": "hospital", "pedagang": "vendor", "dagang": "vendor", "jualan": "vendor",
                               "berjualan": "vendor", "sesak": "health", "masker": "health", "pecah": "leak",
                               "sampah": "waste", "angin": "storm",  # ("penuh sampah kiriman", "angin kencang")
                               "damkar": "fire", "buruh": "labour", "karyawan": "labour", "pekerja": "labour",
                               # rubbish in English, as "sampah" ("plastic everywhere" on a beach, "trash piling up")
                               "trash": "waste", "garbage": "waste", "rubbish": "waste", "litter": "waste",
                               "plastic": "waste"}  # (the fire brigade also catches snakes and bees)
CLASSES: tuple[str, ...] = tuple(_CLASS_WORDS)
# bits 54..63 are HEDGE and the states (and room for more): the 55th class and those after it take bits 64 and up,
# so that every mask of stop 30 keeps its value; the index stores bits 0..63 and 64..126 as two int64 words
_LOW_CLASSES: int = 54
HIGH_SHIFT: int = 64
assert len(CLASSES) <= _LOW_CLASSES + 63, "bits 64..126 are the second word's classes"
_BIT = {name: 1 << (i if i < _LOW_CLASSES else i - _LOW_CLASSES + HIGH_SHIFT) for i, name in enumerate(CLASSES)}
_FLOOD = _BIT["flood"]
_WORD_MASK: dict[str, int] = {}
for _name, _words in _CLASS_WORDS.items():
    for _word in _words.split():
        _WORD_MASK[_word] = _WORD_MASK.get(_word, 0) | _BIT[_name]
_PAIR_MASK = {pair: _BIT[name] for pair, name in _CLASS_PAIRS.items()}
_WEAK_MASK = {word: _BIT[name] for word, name in _WEAK_WORDS.items()}
# smoke is what a fire gives off as much as a burning heap: "asap dari TPA" meets "sampah TPA terbakar" and "sampah
# dibakar" alike (alone; a message that names either says which)
_BURNT = _BIT["burning"] | _BIT["fire"]
_WEAK_MASK["asap"] = _WEAK_MASK["asapnya"] = _BURNT
_PAIR_FIRST = frozenset(first for first, _ in _CLASS_PAIRS)
CLASS_WORDS = frozenset(_WORD_MASK) | frozenset(_WEAK_MASK)

# States, kept apart from the classes (never "the same problem" by themselves): how the thing is wrong.
# A risk ("rawan longsor", "pohon miring mau tumbang", "mohon dipangkas") is another problem than the event
# it fears ("pohon tumbang"); a traffic light that is out is another problem than one whose timing is wrong.
EVENT = 1 << 55  # an event happened: fell, collapsed, slid, flooded
RISK = 1 << 56  # an event is feared, or a sign of one (leaning, rotten, to be pruned)
BROKEN = 1 << 57  # out, dead ("mati", "padam")
TIMING = 1 << 58  # the timing is wrong ("durasinya kelamaan")
STATES = EVENT | RISK | BROKEN | TIMING
_EVENT_WORDS = frozenset("tumbang roboh ambruk runtuh rubuh longsor banjir kebanjiran ambles amblas ambrol "
                         "patah jebol".split())
# "if the wind blows it will surely fall" (Indonesian, Javanese, Banjar and Malay conditionals): the event of
# the clause they open, a word further than a hedge's, is feared
_CONDITIONALS = frozenset("kalau kalo klo jika jikalau lamun nek yen".split())
_HEDGES = frozenset("rawan mau hampir nyaris berpotensi potensi terancam khawatir takut bisa sebelum bakal "
                     "takutnya khawatirnya kuatir kuatirnya dikhawatirkan "
                    "akan sakdurunge sadurunge selak mundhak wedi".split()) | frozenset(_CONDITIONALS)
_RISK_WORDS = frozenset("miring condong doyong lapuk keropos rapuh pangkas dipangkas pemangkasan "
                         "menyentuh nyentuh menjuntai tajuntai juntai".split())  # (touching, hanging: a sign)
# "belum tumbang", "nggak sampai roboh": the event has not happened (a risk); "bukan kebakaran": not that problem
_NOT_YET = frozenset("belum tidak".split())
# and "korban kebakaran kemarin butuh sembako", "bekas banjir", "pasca longsor": the event is the reference, the
# message is about what followed
# ("material longsor", "sisa banjir": what the event left, the message is about what it blocks or spoils)
_NOT_THAT = frozenset("bukan dudu sanes korban bekas puing pasca habis abis sehabis setelah sesudah lokasi material sisa".split())
# "habis"/"abis" before a passive verb is "wholly" ("trotoar abis dimakan PKL", "habis dibongkar"), not "after"
_COMPLETELY = frozenset("habis abis".split())
# "yg lobang itu", "nang ketimpa kemarin": the problem already told, named to say where this one is
_THAT_ONE = frozenset("itu tadi kemarin kemaren kmrn wingi kae kuwi iku".split())  # (Javanese "sing ambrol kuwi")
# a demonstrative between a hedge and its event does not end the hedge ("khawatir pohon tersebut tumbang")
_DEMONSTRATIVES = frozenset("tersebut tsb itu ini iki kuwi kae".split())
# "di lampu merah": the traffic light says where (beggars, vendors at it), not what is wrong
_AT = frozenset("di nang neng ning ing dekat deket dkt depan perempatan simpang at".split())
# "gudang yang kemarin terbakar": the earlier event names the place, it is not what this message is about
# (Javanese "sing biyen ana ula kae", "the one where there was a snake before", likewise)
_PAST = frozenset("kemarin tadi semalam dulu biyen mbiyen wingi".split())
_WHICH = frozenset("yang yg sing nang".split())
# "baunya sampai parkiran" (normalised "parkir"): the car park says where, not that parking is wrong (not
# after "di": "mobil di parkir di trotoar" is the complaint, written apart)
_LOTS = frozenset("parkir parkirnya".split())
# "warga butuh makanan & air bersih": clean water asked for as relief, not piped water that is off
_NEEDS = frozenset("butuh butuhkan membutuhkan perlu memerlukan kebutuhan minta bantuan".split())
_BESIDE = frozenset("depan dpn dekat deket dkt samping sebelah seberang belakang".split())
# what victims of a fire or a flood lack, asked for or missed ("butuh makanan, selimut, pakaian anak", "belum dapat
# makanan", "kekurangan makanan wan popok bayi", "idak ado makanan"): relief, as "selimut" and "tikar" are — a weak
# word, and only after a need or a lack ("makanan basi" at a food stall is no relief)
# open land, peat, scrub and forest: set on fire or caught fire, one event ("bakaran gambut", "lahan kebakar",
# "lahan gambut terbakar", "karhutla") — a land fire is both what the fire brigade and what the burning ban is for
_LAND = frozenset("lahan gambut hutan semak ilalang alang karhutla".split())
# a flood's depth by a body part ("sampai lutut"), not a body part hurt ("jatuh sampai lututnya luka")
_DEPTH = frozenset("sampai setinggi".split())
# a class word that counts people after a number ("23 KK", "ado 40 jiwa", "5 kepala keluarga"): how many are
# hit, not a family card or the mind
_HEADCOUNTS = frozenset("kk jiwa".split())
_RELIEF = frozenset("makanan pakaian popok logistik".split())
_LACKS = frozenset("dapat dapet kekurangan kurang ada tanpa".split())
_TOWARDS = frozenset("sampai sampe ke ka dekat deket dkt depan belakang samping".split())
# "karena asap kebakaran lahan tadi, tetangga sesak napas": the cause, an event told before, is the reference
_CAUSE = frozenset("karena karna krn akibat gara".split())
# "other than", "different from" (Indonesian, Javanese, Sundanese, eastern Malay, Minang) and the word for "from"
_DIFFERENT = frozenset("lain laen laeng beda berbeda bedo babeda seje benten sanes".split())
_FROM = frozenset("dari dr sama ama dengan dgn deng karo kaliyan kalih ro jo ti jeung kalawan ambek mbek".split())
_THERE_WAS = frozenset("ada ana ono onok".split())
_BROKEN_WORDS = frozenset("mati padam pareum".split())
# piped water, in the words regions use for it, and what else may be "mati" after it ("air … lampu mati")
_WATER = frozenset("air banyu aek ayek aia ledeng pdam".split())  # (Minang "aia")
# "sampah luber ke jalan", "TPS meluber": rubbish that overflows its bin is rubbish left uncollected, not a flood;
# water that overflows (a river, a drain, the rain) is one
_OVERFLOW = frozenset("meluap luap luber meluber ngeluap".split())
_RUBBISH = frozenset("sampah sampahnya tps kontainer container runtah".split())
_WATERS = _WATER | frozenset("sungai kali saluran got selokan drainase gorong parit hujan ujan rob".split())
_FLOWS = frozenset("mengalir ngalir mangalir mangalia mili".split())  # (Javanese "mili", Minang "mangalia": flows)
_STOPPED = frozenset("terhenti mandek".split())
_ALIVE = frozenset("metu iduik idup hidup".split())  # (after "not", in a water window: no water comes)
# (in a water window: unfit water, not none; unless a flood, a drain or sewage is named, whose water is dirty too)
_FOUL = frozenset("kotor berlumpur lumpur karuah kuniang".split())  # the supply stopped (not "berhenti": a truck stops)
_NONE = frozenset("tidak tak gak ga nggak ndak kada dak indak idak ora nyanda".split())  # (Bengkulu, Jambi "idak")
# "not" as the Malay of the east and other regions say it — Maluku "seng", Kupang "sonde"/"son", Papua "tra"/"trada",
# Manado and Maluku "tida", Makassar and Bugis "nda", Sundanese "teu", Acehnese "hana" — read only before the
# water's "flows" or "comes out" (before a problem word "seng" is a zinc roof: "atap seng bocor" leaks)
_NONE_FLOW = _NONE | frozenset("seng sonde son tra trada tara tida nda teu henteu hana".split())
# what water that is off does not do, straight after the water and a "not": "aer tra jalan", "air PDAM tida kaluar"
_COMES = frozenset("keluar kaluar kalua jalan".split())
_WEB = frozenset("web website situs online".split())
_PIPE = frozenset("pipa pipanya ledeng".split())
# what a pipe does when it bursts (any of them is a leak after the pipe is named; alone, "jebol" is a dike's or a
# ceiling's, "patah" a branch's)
_BURST = frozenset("pecah jebol patah putus bobol retak".split())
_PLACE_WORDS = frozenset("rt rw blok gang gg di ke nang neng ning ing perum perumahan komplek kompleks jalan jl kel "
                         "kelurahan desa kampung daerah wilayah kawasan".split())
_OTHER_SUBJECTS = frozenset("lampu listrik pln pju apill lalu merah tv hp".split())
_DARK = frozenset("gelap peteng".split())  # (the dark a lamp out leaves: a park's as well as a street's)
_TIMING_WORDS = frozenset("durasi durasinya kelamaan timer detik".split())
HEDGE = 1 << 54  # (not stored) a word that makes the next event words a risk
_STATE_OF = {**dict.fromkeys(_TIMING_WORDS, TIMING), **dict.fromkeys(_BROKEN_WORDS, BROKEN),
             **dict.fromkeys(_RISK_WORDS, RISK), **dict.fromkeys(_EVENT_WORDS, EVENT), **dict.fromkeys(_HEDGES, HEDGE)}
# events that cover an area: reports naming only the same kelurahan are about one event
AREA_CLASSES = sum(_BIT[name] for name in ("flood", "landslide", "storm", "fire", "dengue", "no_water", "power"))
# systems without a place: one outage told by many is one incident though nobody names a place
PLACELESS_CLASSES = _BIT["digital"]


def class_bit(name: str) -> int:
    """The bit of one problem class."""
    return _BIT[name]


def different_states(a: int, b: int) -> bool:
    """True when two problem masks say the thing is wrong in different ways: a feared event against the
    event itself, or states known on both sides that share none (out vs. badly timed)."""
    risk_a = a & RISK and not a & EVENT
    risk_b = b & RISK and not b & EVENT
    if (risk_a and b & EVENT and not b & RISK) or (risk_b and a & EVENT and not a & RISK):
        return True
    # a thing out ("lampu PJU mati") and a thing feared to fall ("tiang PJU miring mau roboh"): two call-outs
    if (risk_a and not a & BROKEN and b & BROKEN and not b & RISK) or \
            (risk_b and not b & BROKEN and a & BROKEN and not a & RISK):
        return True
    sa, sb = a & (BROKEN | TIMING), b & (BROKEN | TIMING)
    return bool(sa and sb and not sa & sb)


# a word of what is wrong that a negation denies ("tidak keruh tapi alirannya kecil", "kada bau"): that problem is
# not there (unlike "tidak mengalir", "tidak diangkut", which name one)
_DENIED_WORDS = frozenset("keruh kotor bau berbau macet mampet tersumbat bocor rusak banjir".split())


_SINCE = frozenset("sejak dari dr mulai semenjak".split())
_FIRE_BIT = _BIT["fire"]


def _told_event(token: str) -> bool:
    """A fire's word, in the "ter-" or the colloquial "ke-" form."""
    return bool(_WORD_MASK.get(token, 0) & _FIRE_BIT) or \
        (token.startswith("ke") and bool(_WORD_MASK.get("ter" + token[2:], 0) & _FIRE_BIT))


def problem_mask(tokens: Iterable[str], stem: Callable[[str], str] | None = None) -> int:
    """The problem classes named by normalised ``tokens``, as a bit mask (0 = none recognised); a word
    not listed is looked up again by its ``stem`` ("kebocorannya" → "bocor")."""
    mask = 0
    previous = ""
    lamp = False
    water = 0  # tokens left in which "mati" still says the water is off
    pipe = 0  # tokens left in which "pecah" is a burst pipe
    words = _WORD_MASK
    hedged = 0  # tokens left that a hedge ("rawan", "mau", "hampir") still covers
    states = _STATE_OF
    before = ""  # the token before ``previous``
    weak = 0
    third = ""  # the token before ``before``
    need = 0  # tokens left that a need word ("butuh makanan & air bersih") still covers
    dark_street = False  # a street light named as such ("PJU", "lampu jalan"), not only "gelap"
    reference = 0  # tokens left that an earlier event's reference ("bekas", "setelah", "korban") still covers
    overflow = flood = False  # the flood class named by an overflow word ("luber"), by another flood word
    foul = False  # dirt said of piped water ("air PDAM kotor")
    tokens = tokens if isinstance(tokens, list) else list(tokens)
    told = {i for i in range(1, len(tokens) - 1) if tokens[i + 1] in _THAT_ONE and tokens[i - 1] in _WHICH}
    if not _DIFFERENT.isdisjoint(tokens):
        # "Ini lain dari lampu tadi", "ini beda ya sama wifi nya": what this one differs from is the matter already
        # told, named to set this one apart, not this one's problem
        for i, token in enumerate(tokens):
            if token in _DIFFERENT:
                j = next((j for j in range(i + 1, min(i + 3, len(tokens))) if tokens[j] in _FROM), None)
                if j is not None:
                    told.update(range(j + 1, min(j + 3, len(tokens))))
    if not _PAST.isdisjoint(tokens):
        # "yg kebakar di gg nurali belakang kemaren, sekarang puingnya nutup parit": the fire a past word closes a
        # few words on, after "the one that", is the one told before, named to say where this one is ("terbakar
        # sejak kemarin" is how long, not which; a fallen tree still lying is still the complaint, so only fires)
        told |= {i for i in range(1, len(tokens) - 1) if tokens[i - 1] in _WHICH and _told_event(tokens[i]) and
                 any(t in _PAST and tokens[j - 1] not in _SINCE for j, t in enumerate(tokens[i + 1:i + 6], i + 1))}
    if "form" in tokens or "formulir" in tokens:  # "sudah isi web form": the channel, not a broken website
        told |= {i for i, t in enumerate(tokens) if t in _WEB and (
            tokens[i + 1:i + 2] in (["form"], ["formulir"]) or tokens[i - 1:i] in (["form"], ["formulir"]))}
    for i, token in enumerate(tokens):
        if told and i in told:
            third, before, previous = before, previous, token
            continue
        # ("sebelah pohon yg tumbang … masih ada 2 pohon miring": the fallen one is where the leaning ones stand;
        # not "kos sebelah tiap malem ribut", the neighbours)
        if (previous in _NOT_THAT and not (previous in _COMPLETELY and token.startswith("di") and len(token) > 5)) or \
                previous in _CAUSE and not _PAST.isdisjoint(tokens[i:i + 6]) or previous == "sebelah" and token in words:
            reference = 3  # "bekas pohon tumbang", "setelah pohon angsana tumbang": the event's words that follow
        # "Bukan lampu merahnya, yang lampu jalan": a pair whose first word the reference covered is not named
        reference_pair = reference and before in _NOT_THAT
        if reference:
            reference -= 1
            if token in words or token in states or token in _WEAK_MASK or \
                    stem is not None and words.get(stem(token)) is not None:
                third, before, previous = before, previous, token
                continue
        if (before in _WHICH and previous in _PAST) or \
                (third in _WHICH and before in _PAST and previous in _THERE_WAS):
            third, before, previous = before, previous, token
            continue  # "bukan kebakaran", "yang kemarin terbakar": not this message's problem
        if token in _HEADCOUNTS and previous.isdigit():
            third, before, previous = before, previous, token
            continue
        state = states.get(token)
        if state == EVENT and previous in _NOT_YET:
            state = RISK
        if state is not None:
            if state == HEDGE:
                hedged = 4 if token in _CONDITIONALS else 3  # the next two tokens (three after "if")
            elif state == EVENT:
                mask |= RISK if hedged else EVENT
            else:
                mask |= state
        if hedged and token not in _DEMONSTRATIVES:
            hedged -= 1
        bit = words.get(token)
        if bit is not None and (token in _DENIED_WORDS or stem is not None and stem(token) in _DENIED_WORDS) and \
                (previous in _NONE or previous == "bukan" or (previous == "ada" and before in _NONE)):
            third, before, previous = before, previous, token
            continue  # "tidak keruh", "tidak ada kebocoran": that problem is not there
        if token in _LOTS and previous in _TOWARDS:
            weak |= _BIT["parking"]
            third, before, previous = before, previous, token
            continue
        if bit is not None and previous in _BESIDE:
            # "PKL sampai depan baliho", "numpuk dekat saluran": a thing named as where, a problem only when
            # nothing else is named
            weak |= bit
            bit = None
        elif bit is None and (token in _WEAK_MASK or token.endswith(("nya", "nyo", "nye")) and token[:-3] in _WEAK_MASK):
            weak |= _WEAK_MASK[token if token in _WEAK_MASK else token[:-3]]  # ("sampahnya", Malay "sampahnyo")
        elif bit is None and len(token) > 5:
            # "amblasnya", "bocornya", Malay "muncratnyo", "ularnye"
            bit = words.get(token[:-3]) if token.endswith(("nya", "nyo", "nye")) else None
            if bit is None and token.startswith("ke"):
                # the colloquial passive "ke-" is "ter-" ("lahan kebakar", "ruko kebakar" = terbakar: a fire, not the
                # burning of "bakar"), tried before the stem that would read "bakar"
                bit = words.get("ter" + token[2:])
            if bit is None and stem is not None:
                bit = words.get(stem(token))
            if bit is None and token.startswith("ta"):
                # the "ter-" of Malay in the east, Minang and Banjar is "ta-": "tabakar", "tagenang", "talobang"
                bit = words.get("ter" + token[2:]) or words.get(token[2:])
        if bit is not None and bit & _FLOOD:
            if token in _OVERFLOW or stem is not None and stem(token) in _OVERFLOW:
                overflow = True
            else:
                flood = True
        if bit is not None:
            mask |= bit
            if bit == _BIT["streetlight"] and token not in _DARK:
                dark_street = True
        if token in _RELIEF and (need or previous in _LACKS):
            weak |= _BIT["welfare"]
        if token in _NEEDS:
            need = 4
        elif need:
            need -= 1
        if previous in _PAIR_FIRST and not reference_pair:
            pair = _PAIR_MASK.get((previous, token), 0)
            if need and previous == "air" and token == "bersih":
                pair = 0
            if not pair and token.endswith("nya") and len(token) > 5 and previous not in _DEPTH:  # "lampu merahnya"
                pair = _PAIR_MASK.get((previous, token[:-3]), 0)
            if pair == _BIT["trafficlight"] and before in _AT:
                weak |= pair  # "pengamen di lampu merah Jl. Veteran": a place unless nothing else is named
            else:
                mask |= pair
            if pair == _BIT["streetlight"]:
                dark_street = True
            if pair and previous == "lampu":
                lamp = False  # the lamp was a traffic light (or a street light) named by the pair
        elif token == "lampu" and not reference:  # "bukan lampu yg masalah": not a lamp complaint
            lamp = True
        if token in _PIPE:
            pipe = 6
        elif pipe:
            pipe -= 1
            if token in _BURST:
                mask |= _BIT["leak"]  # "pipa PDAM di Jl. Tukad Musi pecah", "pipa jebol", "pipa induk patah"
        if token in _FLOWS and previous in _NONE_FLOW:
            mask |= _BIT["no_water"]  # "dak ngalir", "ora mili", "gak ngalir": any region's "not" before "flows"
        elif previous in _WATER and token == "macet" or token in _COMES and previous in _NONE_FLOW and before in _WATER:
            mask |= _BIT["no_water"]  # "air PDAM macet" (stopped), "aer seng kaluar", "air tra jalan"
        if token in _WATER:
            if previous in ("ada", "ado") and before in _NONE_FLOW and not (before == "seng" and third == "atap"):
                mask |= _BIT["no_water"]  # "gak ada air sama sekali", "kada ada banyu", "sonde ada aer"
            water = 5  # "banyu pdam nang tlogosari kulon mati": the place between the water and "mati"
        elif water:
            if token in _BROKEN_WORDS or token in _STOPPED or (token in _ALIVE and previous in _NONE_FLOW):
                # ("aliran air PDAM di lingkungan kami terhenti"; Javanese "banyu PDAM gak metu", Minang "aia indak
                # iduik": does not come out, is not alive)
                mask |= _BIT["no_water"]
            elif token in _FOUL and previous not in _NONE_FLOW:
                foul = True  # "air PDAM di Kel. … kotor berlumpur", Minang "aia karuah"
            if token in _OTHER_SUBJECTS:
                water = 0
            elif not token.isdigit() and token not in _PLACE_WORDS and len(token) > 1:
                # "air di RT 10 RW 3 mati", "air di perum X blok D mati", "Air PDAM di Perum Griya Asri kel. Tanjung
                # Sari mati": the words that say where are no distance (a name's words still are)
                water -= 1
        third, before, previous = before, previous, token
    if lamp and not mask & (_BIT["trafficlight"] | _BIT["streetlight"]):
        mask |= _BIT["streetlight"]  # "lampu gegerkalong hilir mati": a lamp out in the street
    if mask & _BIT["park_light"] and mask & _BIT["streetlight"] and not dark_street:
        mask &= ~_BIT["streetlight"]  # "lampu taman mati, malem gelap": the dark is the park's
    if overflow and not flood and not _RUBBISH.isdisjoint(tokens) and _WATERS.isdisjoint(tokens):
        mask = mask & ~_FLOOD | _BIT["waste"]  # "sampah di bak kontainer udah luber ke jalan"
    if foul and not mask & (_FLOOD | _BIT["drain"] | _BIT["sewage"]):
        mask |= _BIT["water_quality"]
    if weak and not mask & ~STATES:
        mask |= weak
    if mask & _BURNT and not _LAND.isdisjoint(tokens) and _RUBBISH.isdisjoint(tokens):
        # land or peat on fire is one thing, whether told as burning or as a fire (not rubbish burnt on a plot)
        mask |= _BURNT
    return mask


def class_names(mask: int) -> list[str]:
    """The names of the classes in ``mask`` (for explanations and tests)."""
    return [name for name, bit in _BIT.items() if mask & bit] + \
        [name for name, bit in (("event", EVENT), ("risk", RISK), ("broken", BROKEN), ("timing", TIMING)) if mask & bit]


# ---- how a message refers back ------------------------------------------------------------------------

SELF_REF = 1  # points to the sender's own earlier report ("sudah saya WA", "nu tadi WA", "laporan saya")
AGAIN = 2  # the problem happened again ("banjir lagi", "numpuk deui", "kembali padam")
FOLLOW = 4  # a follow-up ("[foto]", "masih", "belum", "gimana")
LASTING = 16  # says how long the problem has lasted ("udah seminggu lebih"): ongoing, not back again
OTHER = 8  # says it is another one ("beda sama yg tadi", "beda gang", "bukan yang kemarin")
ALSO = 32  # adds another complaint of the same writer ("sekalian", "selain itu", "satu lagi")
# the problem is back after it was dealt with ("pecah lagi, padahal tanggal 22 sudah diperbaiki"): a new
# occurrence, whatever the days between; it joins only another report of the recurrence
RECUR = 64
# (not stored in the index) the earlier matter was dealt with or restored ("air sudah normal", "la surut"):
# what else the message names is another complaint, not more of the earlier one
SETTLED = 128
# (not stored) settled, and then a "but" ("cai geus ngocor, tapi warnana koneng"): what follows is another matter,
# even in words no problem class knows
SETTLED_BUT = 1024
# (not stored) the duration it gives is a few days ("sudah 3 hari tidak diangkut lagi"): ongoing for those days
# only, so a report from a week or more before is of an earlier occurrence
SHORT = 256
# (stored) the problem is told as a habit ("sering penuh", "tiap malam", "langganan banjir", Javanese "saben", Sundanese
# "unggal"): a later "penuh lagi" of the same writer is another instance of that complaint, not a new occurrence
HABITUAL = 2048
_HABITUAL = re.compile(r"\b(?:sering|seringkali|sering2|selalu|slalu|kerap|acap|langganan|saben|unggal|salawasna|"
                       r"(?:tiap|setiap|tiok|saban)\s+(?:hari|malam|malem|sore|pagi|siang|minggu|hujan|ujan|musim|subuh)|"
                       r"terus[- ]?terusan|berulang(?:\s+kali|[- ]ulang)?)\b", re.I)
_HABITUAL_WORDS = frozenset("sering seringkali selalu slalu kerap acap langganan saben unggal salawasna tiap setiap tiok "
                            "saban terus terusan berulang".split())
# (not stored) the text tells the event as just happened ("tumbang tadi sore", "longsor semalam", "ambruk pagi
# ini"): days after another report of that event, it is another one
FRESH = 512

_CHANNEL = r"(?:wa|whatsapp|whats app|watsap|email|e-mail|surel|telegram|tele|dm|twitter|x|lapor|sms|telp|telepon)"
_SELF_REF = re.compile(
    # ("already" in the regions too: su/so in the east, alah in Minang, la/lah in Malay, geus/atos in Sundanese,
    # sampun in Javanese)
    r"\b(?:udah|udh|sudah|sdh|dah|telah|pernah|tos|wis|uwis|wes|su|so|alah|la|lah|geus|atos|sampun|uda)\s+"
    r"(?:\w+\s+){0,2}?"
    r"(?:wa|whatsapp|kirim|ngirim|kirimkan|lapor|laporkan|laporin|melapor|melaporkan|ngelapor|ngadu|mengadu|"
    r"sampaikan|menyampaikan|email|"
    # ("sudah saya post di IG kemarin", "kemarin udah aku tulis di X juga": the writer's post elsewhere; "udah gw DM";
    # Javanese "wes tak laporno", "wis tak laporke")
    r"post|posting|posted|tulis|nulis|tuliskan|dm|laporno|laporke|laporake|laporne|dilaporke|dilaporno)\b"
    # (not "sudah lapor ke kelian banjar / pak RT / lurah": told to someone local, not to this service)
    r"(?!\s+(?:ke|sama|ama|pada|kepada)\s+(?:pak\s+|bu\s+|ibu\s+|bapak\s+)?(?:rt|rw|kelian|klian|lurah|kades|kadus|kaling|"
    r"kepala\s+lingkungan|ketua|polisi|polsek|satpam|security|pengelola|pemilik|bos|mandor|linmas|babinsa|pecalang)\b)"
    r"|\b(?:menyusul|melanjutkan|menindaklanjuti|menyambung|sebagaimana|lanjutan)\b"
    r"|\b(?:nu|yang|yg)\s+(?:tadi|tos|kantos|kemarin|kmrn|semalem|semalam)\s+(?:\w+\s+)?(?:wa|kirim|lapor|ngirim)\b"
    r"|\blaporan\s+(?:saya|sy|kami|abdi|ambo|ulun|beta|aku|awak|kita|torang)\b|\b(?:saya|sy|abdi)\s+(?:lapor|laporkan)\s+(?:kemarin|kmrn|tadi|semalam)\b"
    r"|\b(?:via|lewat|melalui|ngalangkungan)\s+" + _CHANNEL + r"\b"
    r"|\bkirim\s+ulang\b|\bmengirim\s+ulang\b|\bmenanyakan\s+lagi\b|\bnanya\s+lagi\b"
    # "saya Lukman yang lapor di Telegram tadi pagi", "yang tadi sore mention di twitter", "sudah isi web form":
    # the writer's own report on another channel, named with "di" or as the form filled in
    r"|\b(?:lapor|melapor|kirim|ngirim|mention|ngemention|nge-mention|ngetag|ngetwit|posting|dm)\s+(?:\w+\s+){0,2}?di\s+"
    r"(?:telegram|twitter|ig|instagram|fb|facebook|wa|whatsapp|email|web\s*form|webform|lapor)\b"
    r"|\b(?:isi|mengisi|ngisi)\s+(?:web\s*form|webform|formulir|form)\b"
    # the writer counts their reports: "ini laporan ketiga kali", "so ka-2 kali kita lapor", "kita lapor ulang"
    r"|\b(?:lapor|laporan|melapor|ngelapor)\s+(?:ulang|ke-?\s*(?:2|3|4|5|dua|tiga|empat|lima)|kedua|ketiga|keempat|kelima)\b"
    r"|\b(?:ke|ka)-?\s*(?:2|3|4|5|dua|tiga|empat|lima)\s+kali\s+(?:(?:saya|sy|kami|kita|torang|aku|ulun|kamek)\s+)?(?:lapor|melapor|laporkan|kirim)\b"
    # "saya yang tadi ngetwit", "abdi … nu nyerat di FB", "saya Tono yg kirim surat": the writer's own post or
    # letter on another channel
    r"|\b(?:yang|yg|nu)\s+(?:tadi\s+|tos\s+|kemarin\s+|kmrn\s+)?(?:ngetwit|ngetweet|nge-tweet|twit|tweet|posting|"
    r"ngepost|nulis|menulis|nyerat|kirim\s+surat|ngirim\s+surat|mengirim\s+surat)\b"
    # "saya Yusuf yang WA tadi siang", "saya Agus dari Sangkrah RT 03/RW 10 yang tadi malam telepon dan WA": the writer
    # is the one who wrote or called before (their own words name them; "warga yang lapor" is someone else)
    # (and "ini/ieu Ebet nu WA tgl 15": this is the one who wrote)
    # (and "I" in the regions: awak, sa, kita in the east, isun, gue, lon)
    r"|\b(?:saya|sy|aku|ulun|ambo|abdi|kulo|kula|tiang|beta|awak|sa|kita|isun|gue|gua|lon|ini|ieu|iki|niki)\s+"
    r"(?:(?!(?:tetangga|warga|orang|org|teman|temen|kawan|anak|suami|istri|dengar|denger|lihat|liat)\b)\S+\s+){0,8}?"
    r"(?:yang|yg|nang|nu|sing)\s+"
    # (not "petugas yang bisa di WA", "nang grup WA": who can be reached, or where, is no report of one's own)
    r"(?:(?!(?:bisa|bs|dapat|dpt|harus|hrs|mau|boleh|punya|ada|di|grup|group|nomor|nomer|no)\b)\w+\s+){0,3}?"
    r"(?:wa|whatsapp|telepon|telpon|nelpon|email|sms|dm|chat|lapor|melapor|ngadu|mengadu)\b"
    # the writer's own message on a channel, or of a day: "Sehubungan pesan WhatsApp saya pada 2 Desember", "postingan
    # IG saya kemarin", "email saya tanggal 3 Mei" (not "email saya: …", a contact)
    r"|\b(?:pesan|chat|laporan|aduan|pengaduan|postingan|unggahan|cuitan|twit|tweet|kiriman|dm)\s+(?:di\s+|via\s+|lewat\s+)?"
    r"(?:wa|whatsapp|telegram|ig|instagram|fb|facebook|twitter|x|email|e-mail|surel)\s+(?:saya|sy|kami|aku)\b"
    r"|\b(?:pesan|email|e-mail|surel|surat|twit|cuitan|postingan|laporan|aduan)\s+(?:saya|sy|kami)\s+"
    r"(?:tanggal|tgl|pada|kemarin|kmrn|sebelumnya|terdahulu|tadi|minggu\s+lalu)\b"
    # English: "I have tweeted you several times", "I already reported"
    r"|\b(?:i|we)\s+(?:have\s+|had\s+|already\s+)*(?:tweeted|reported|emailed|messaged|written|wrote|posted|sent)\b"
    r"|\bas\s+(?:i|we)\s+(?:mentioned|said|wrote|reported)\b|\bin\s+(?:my|our)\s+(?:previous\s+|earlier\s+|last\s+)?"
    r"(?:email|e-mail|message|tweet|post|dm|report)\b"
    # "still the same" as the writer told it: "Masih sama, banyak yg balik kecewa …", "tetep sama pak", Javanese "podo
    # wae", "sami mawon", Sundanese "sarua keneh", "still the same"
    r"|(?:^|[.,;:!?\n]\s*)(?:masih|msh|tetap|tetep|ttp)\s+sama\b(?!\s+\w+nya\b)|\b(?:podo|padha|sami)\s+(?:wae|bae|mawon)\b"
    r"|\bsarua\s+(?:keneh|keneh\s+wae)\b|\bstill\s+the\s+same\b",
    re.I)
# "again" in the regions, read only after what went wrong (each is another word elsewhere): Banjar "pulang" ("mati
# pulang", not "pulang kerja"), Manado "ulang" ("mati ulang", not "kirim ulang"), Ambon and Kupang Malay "lai",
# Balinese "buin", Minang "baliak", Sasak "malik" (also a name: "pak Malik")
_AGAIN_AFTER_STATE = r"\b(?:mati|padam|pareum|bocor|numpuk|penuh|banjir|macet|rusak|mampet|tersumbat|meluap|meluber|" \
                     r"longsor|tumbang|keruh|bolong|berlubang|tergenang)\s+(?:pulang|ulang|lai|buin|baliak|malik)\b"
# said outright: "terulang", "kumat", "untuk kedua kalinya" (not "ketiga kalinya saya lapor": the writer repeats
# a report), "minggu lalu juga begini", "kemarin juga pernah terjadi"
# (not denied or wished away, "biar ga terulang"; not the count of reports, "laporan ketiga kali", "ke-3 kali ulun
# melapor")
_AGAIN_SAID = r"(?<!\bga )(?<!\bgak )(?<!\btak )(?<!tidak )(?<!nggak )(?<!\bndak )(?<!\bkada )(?<!jangan )(?<!\bbiar )" \
              r"(?<!\bagar )(?<!supaya )\b(?:terulang|kumat|kambuh)\b" \
              r"|(?<!laporan )(?<!aduan )(?<!\bsurat )\b(?:kedua|ketiga|keempat|kelima|kesekian|ke-?\s?[2-9])\s+kali(?:nya)?\b" \
              r"(?!\s+(?:\w+\s+){0,2}?(?:lapor|melapor|melaporkan|laporkan|dilaporkan|mengadu|ngadu|kirim|mengirim|" \
              r"menyampaikan|sampaikan|mengingatkan|menanyakan|tanya|nanya|wa|email|menghubungi|hubungi|dm|nelpon|" \
              r"telepon|telpon|chat|ngechat|pesan|tulis|menulis|nulis|posting|tweet|twit|komplain|protes|datang|" \
              r"mendatangi)\b)" \
              r"|\b(?:minggu|bulan|pekan|tahun)\s+(?:lalu|kemarin|kemaren|kmrn)\s+(?:juga|jg)\s+(?:begini|begitu|gini|" \
              r"gitu|terjadi|kejadian|pernah)\b|\b(?:juga|jg)\s+pernah\s+(?:terjadi|kejadian|begini|begitu|gini|gitu)\b"
_AGAIN = re.compile(r"\b(?:lagi|lg|deui|kembali|balik\s+lagi|maning|meneh|maneh|agik|again)\b|" + _AGAIN_AFTER_STATE +
                    "|" + _AGAIN_SAID, re.I)
_FOLLOW = re.compile(r"\[foto\]|\bfoto(?:nya)?\b|\b(?:masih|msh|belum|blm|teu\s+acan|tetep|tetap|gimana|gmn|"
                     r"kapan|sampe\s+skrg|sampai\s+sekarang|beuki|makin|"
                     # getting worse since it was told: "tambah parah", "bertambah lebar" (not "tolong tambah lampu")
                     r"(?:ber)?tambah\s+(?:parah|rusak|besar|lebar|dalam|miring|luas|meluas|bau|kotor|deras|tinggi|gelap))\b",
                     re.I)
_OTHER = re.compile(r"\bbeda\s+(?:sama|dengan|dgn|dari|dr|ama|jeung|ti|karo|gang|pabrik|sekolah|jalan|jl|rt|rw|"
                    r"tempat|lokasi|titik|simpang|perempatan|pertigaan|lorong|blok|kampung|kelurahan|desa|dusun|banjar|taman|gedung|"
                    r"masjid|pasar|rumah|kasus|kejadian|urusan|hal|masalah|soal|laporan|keluhan|perkara)\b|\bbukan\s+(?:yang|yg)\s+(?:tadi|kemarin|kmrn|di)\b"
                    r"|\b(?:bukan|lain|sanes)\s+(?:yang|yg|nu)\s+(?:dekat|deket|dkt|deukeut|parak|depan|di)\b"
                    r"|\b(?:kejadian|kasus|peristiwa)\s+(?:baru|lain)\b|\blain\s+(?:lagi|tempat|lokasi)\b|\bsanes\s+nu\b|\blain\s+(?:lah\s+|pula\s+|pulang\s+)?(?:dengan|dgn|lawan|sama|dari)\b"
                    # "ini pohon yang lain", "bukan yang rapuh kemarin", "banjar yang berbeda dengan Br. Kaja"
                    r"|\b(?:ini|itu|ni)\s+(?:\w+\s+){0,2}?(?:yang|yg)\s+(?:lain|berbeda|beda)\b"
                    r"|\bbukan\s+(?:yang|yg)\s+(?:\w+\s+){1,3}?(?:tadi|kemarin|kmrn|kemaren|dulu|kapan)\b"
                    # "jangan cuma Moewardi yg dibenerin", "aja mung RT 01 sing dipikir": this one is another (not "jangan cuma
                    # diurus yang RT 3 aja", the writer's own place again)
                    r"|\b(?:jangan|jgn|aja|ojo|ojok)\s+(?:cuma|cuman|hanya|mung)\s+(?!di)(?:\w+\s+){1,3}?(?:yang|yg|sing)\b"
                    r"|\bberbeda\s+(?:\w+\s+)?(?:dengan|dari|dgn|dr)\b|\b(?:another|a\s+different)\s+(?:one|place|spot|street|bar|location)\b"
                    # the neighbour of the thing reported: "pohon sebelah yg kemarin tumbang itu juga miring", "tiang
                    # yang sebelah tiang kemaren", "pohon di sebelahnya … sekarang ikut miring"
                    r"|\bsebelah(?:nya)?\s+(?:yang|yg|nu|sing)\s+(?:\w+\s+)?(?:kemarin|kemaren|kmrn|tadi|wingi|dilaporkan|dilaporin)\b"
                    r"|\b(?:yang|yg|nu|sing)\s+(?:di\s+)?sebelah(?:nya)?\s+(?:\w+\s+){0,2}?(?:kemarin|kemaren|kmrn|tadi|wingi)\b"
                    r"|\bsebelahnya\b[^.\n]{0,40}?\bikut\b"
                    # a new matter, said outright: "ini masalah baru", "laporan terpisah ya pak", "tidak terkait dengan
                    # laporan saya kemarin", "di luar laporan sebelumnya", "yang ini beda"
                    r"|\b(?:laporan|aduan|keluhan|masalah|persoalan|urusan)\s+(?:yang\s+|yg\s+)?(?:baru|berbeda|terpisah)\b"
                    r"(?=\s*(?:[,.;:!?\n)]|$|lagi\b|ya\b|yah\b|pak\b|bu\b|min\b|nih\b|ini\b|dari\b|dengan\b|dgn\b|yaitu\b|yakni\b|soal\b|tentang\b))"
                    r"|\b(?:tidak|tdk|gak|ga|nggak|ndak|bukan)\s+(?:ada\s+)?(?:terkait|hubungan(?:nya)?|berhubungan|nyambung)\s+"
                    r"(?:dengan|dgn|sama|ama|ke)\s+(?:laporan|aduan|yang|yg|pesan)\b"
                    r"|\bdi\s+luar\s+(?:laporan|aduan|keluhan|yang|yg)\b"
                    r"|\b(?:yang|yg|sing|nu)\s+ini\s+(?:beda|lain|laen|bedo|seje|benten|sanes)\b"
                    # "different from" in the regions: Javanese bedo/seje karo, benten kaliyan; Manado, Ambon laeng deng;
                    # Minang babeda jo
                    r"|\b(?:bedo|benten|babeda|seje|laeng|laen)\s+(?:karo|kaliyan|kalih|sama|dengan|deng|jo|ro|dari|ama|"
                    r"kalawan|jeung|ambek|mbek)\b",
                    re.I)
_LASTING = re.compile(r"\b(?:udah|udh|sudah|sdh|tos|wis|dah|la)\s+(?:\d+|se|sa|satu|dua|duo|tiga|tigo|empat|ampek|lima|"
                      r"berapa)\s*"
                      r"(?:hari|hr|minggu|mg|bulan|bln|dinten|minggon|malem|malam)\b(?!\s+(?:lalu|kemarin|kamari|"
                      r"kapengker|kemaren))|\b(?:seminggu|sebulan|dua minggu)\s+lebih\b", re.I)
_SHORT = re.compile(r"\b(?:udah|udh|sudah|sdh|tos|wis|dah|la)\s+(?:[1-4]|se|sa|satu|dua|duo|tiga|tigo|empat|ampek)\s*"
                    r"(?:hari|hr|dinten|malem|malam)\b(?!\s+(?:lalu|kemarin|kamari|kapengker|kemaren))", re.I)
# "again" that is not a recurrence: "sekali lagi", "lagi2", a plea repeated
# "mengingatkan kembali", "kami tanyakan lagi": the writer repeats, the problem is not back
_AGAIN_NOT = re.compile(r"\b(?:sekali|sekali-kali)\s+lagi\b|\blagi\s+(?:dong|donk|pls|please)\b"
                        r"|\b(?:mengingatkan|ingatkan|menanyakan|tanyakan|nanya|nanyain|mengirimkan|kirimkan|kirim|"
                        r"menyampaikan|sampaikan|mengulang|ulang)\s+(?:lagi|kembali|lg)\b"
                        # a reminder in a regional language ("ngingetan deui", "ngelingke maneh"), and a problem
                        # that grows ("retakan nambahan deui", "makin parah lagi"): the same one going on
                        r"|\b(?:ngingetan|ngingetkeun|ngingetin|ingetin|ngelingke|ngelingi|ngelingno)\s+(?:lagi|lg|deui|maning|meneh|maneh)\b"
                        r"|\b(?:nambah|nambahan|bertambah|melebar|ngalegaan|meluas)\s+(?:lagi|lg|deui|maning|meneh)\b"
                        # restored or no longer wrong: "sudah nyala lagi", "ngalir lagi", "udah ndak asin agik"
                        r"|\b(?:nyala|menyala|ngalir|mengalir|normal|idup|hidup|lancar|surut)\s+(?:lagi|lg|agik|deui|maning|meneh)\b"
                        r"|\b(?:sudah|udah|udh|sdh|dah|la|lah|wis|wes|so|tos)\s+(?:dak|tidak|tdk|gak|ga|nggak|ndak|ora|teu|enggak|nyanda|kada)\s+"
                        r"(?:\w+\s+)?(?:lagi|lg|agik|deui|maning|meneh)\b"
                        # one more victim of the same thing: "ada ibu2 jatuh lagi", "motor nabrak lagi"
                        r"|\b(?:jatuh|jatoh|labuh|tijatuh|nabrak|tabrakan|kecelakaan|celaka|terperosok|kejeblos|keblusuk|"
                        r"kepeleset|tergelincir|korban)\s+(?:lagi|lg|agik|deui|maning|meneh)\b",
                        re.I)


# words without which a pattern above cannot match: a message is searched only for the patterns it may hold
_SELF_REF_WORDS = frozenset("""
wa whatsapp kirim ngirim kirimkan lapor laporkan laporin ngelapor melapor melaporkan ngadu mengadu sampaikan
menyampaikan email
menyusul melanjutkan menindaklanjuti menyambung sebagaimana lanjutan laporan via lewat melalui ngalangkungan
ulang lagi ngetwit ngetweet nge tweet twit posting ngepost nulis menulis nyerat surat ngelapor
mention ngemention ngetag dm isi mengisi ngisi telepon telpon nelpon sms chat
tweeted reported emailed messaged written wrote posted sent post tulis tuliskan laporno laporke laporake laporne
dilaporke dilaporno mentioned said sama podo padha sami sarua same
pesan aduan pengaduan postingan unggahan cuitan tweet kiriman
""".split())
_AGAIN_WORDS = frozenset("lagi lg deui kembali balik maning meneh maneh agik again pulang ulang lai buin baliak malik "
                          "terulang kumat kambuh kali kalinya begini begitu gini gitu terjadi kejadian pernah".split())
_FOLLOW_WORDS = frozenset("foto fotonya masih msh belum blm acan tetep tetap gimana gmn kapan sampe sampai beuki "
                          "makin tambah bertambah".split())
_OTHER_WORDS = frozenset("beda bukan lain sanes berbeda jangan jgn mung ojo ojok another different kejadian kasus peristiwa "
                         "sebelah sebelahnya laporan aduan keluhan masalah persoalan urusan terkait hubungan "
                         "hubungannya berhubungan nyambung luar bedo benten babeda seje laeng laen".split())
# "lokasi terpisah", "(bukan alkid)", "kali ini di …", "giliran …": the writer's next complaint, elsewhere
_ALSO = re.compile(r"\(\s*(?:bukan|dudu|sanes)\s+\w+|\b(?:lokasi|tempat|tempatnya)\s+(?:terpisah|berbeda|lain)\b|"
                   r"\bkali\s+ini\s+(?:di|nang|neng)\b|\bgiliran\b"
                   # "Pak, satu lagi": one more matter; not "tetangga satu lagi panas tinggi", one more person
                   # (and "Pak, ada lagi": "manusia silver ada lagi" is the same ones back)
                   r"|(?:^|[,.;:!?\n]\s*|\b(?:pak|bu|min|kak|mas|mbak|bang|bli|om|sam|kang|teh|dan|terus|trus|ada|ado|onok)\s+)satu\s+lagi\b"
                   r"|(?:^|[,.;:!?\n]\s*|\b(?:pak|bu|min|kak|mas|mbak|bang|bli|om|sam|kang|teh|dan|terus|trus)\s+)ada\s+lagi\b"
                   # Javanese "Lan malih, akta …", "lan maneh": and one more thing
                   r"|(?:^|[,.;:!?\n]\s*)(?:lan|dan)\s+(?:malih|maneh)\b"
                   # "saya juga mau lapor …", "mau ngadu hal lain", "laporan tambahan soal …": one more matter
                   r"|\b(?:juga|jg)\s+(?:mau|ingin|pengen|pingin|hendak|mo)\s+(?:lapor|melapor|melaporkan|laporin|ngadu|mengadu|"
                   r"menyampaikan|nyampein|sampaikan)\b"
                   r"|\b(?:mau|ingin|pengen|hendak|mo)\s+(?:lapor|melaporkan|ngadu|laporin)\s+(?:\w+\s+)?(?:lain|satu\s+lagi)\b"
                   r"|\blaporan\s+tambahan\s+(?:soal|tentang|mengenai)\b"
                   r"|\b(?:sekalian|sakalian|selain\s+itu|laporan\s+lain|masalah\s+lain|hal\s+lain|"
                   r"tambahan\s+lagi|oh\s+iya|oya|btw|(?:sampaikan|laporkan|informasikan)\s+(?:pula|juga))\b"
                   # "selain atap kelas, jalan … juga berlubang": besides the first complaint, another
                   r"|\bselain\s+(?!laporan|itu\b)[^,.;:\n]{2,50},"
                   # thanks close the earlier complaint, "but" opens another ("air sudah normal, suksma. Tapi
                   # tagihan …"), unless what follows says it is not quite done ("… tapi masih numpuk")
                   r"|\b(?:terima\s*kasih|makasih|trims|suksma|thanks|thank\s+you|matur\s+(?:nuwun|suwun)|hatur\s+nuhun|"
                   r"terimo\s+kasih)\b[^\n]{0,60}?\b(?:tapi|tp|tpi|namun|but|however)\b(?![^.\n]*\b(?:masih|msh|belum|blm|"
                   r"still|cuma|hanya|sebagian|setengah)\b)", re.I)
_ALSO_WORDS = frozenset("sekalian sakalian selain satu ada malih maneh laporan masalah hal tambahan oh oya btw bukan dudu sanes lokasi "
                        "sampaikan laporkan informasikan juga jg mau ingin pengen hendak mo "
                        "tempat tempatnya kali giliran terima kasih makasih trims suksma thanks thank matur hatur suwun "
                        "terimo".split())
# dealt with: "sudah diperbaiki", "udah dibenerin", "padahal baru ditambal", "la surut", "wis dikeruk",
# "fogging sudah tanggal 17", "since Satpol PP visited"
_FIX_VERBS = (r"(?:di\s*)?(?:perbaiki|betulkan|benerin|benahi|tambal|angkut|fogging|foging|tangani|tindak|tertibkan|"
              r"pangkas|tebang|bersihkan|keruk|segel|razia|ganti|tutup|evakuasi)|diperbaiki|dibetulkan|dibenerin|"
              r"ditambal|diangkut|difogging|ditangani|ditindak|ditertibkan|dipangkas|ditebang|dibersihkan|dikeruk|"
              r"disegel|dirazia|diganti|dibaiki|baiki|normal|bersih|surut|nyala|menyala|idup|hidup|ngalir|mengalir|ngocor|beres|selesai|"
              r"nangkep|ditangkap|diambil|diambe|"
              # Javanese, Malay and Banjar: "wes didandani", "la dibaiki", "wingi wes disedot"
              r"didandani|dibenakke|dibenerke|dibenakno|dibaiki|dibaikin|disedot|dikuras|diresiki|dibersihke|dipotong|"
              # the spoken -in forms of the -kan verbs above ("udah ditertibin", "baru dibersihin"), and what Satpol
              # PP and social services do to end a nuisance: warn, coach, reach out, seize, clear away
              r"ditertibin|dibersihin|dibetulin|dibenahin|ditanganin|ditebangin|ditegur|dibina|dijangkau|disita|"
              r"digusur|dibongkar|sepi")
# (not "sudah mulai surut", "udah agak ngalir": only partly dealt with, the matter goes on)
# (Manado Malay "so" is "sudah": "ular so diambe", taken away)
_FIXED = re.compile(r"\b(?:sudah|udah|udh|sdh|dah|telah|la|lah|wis|wes|uwis|tos|geus|atos|parantos|so|baru|padahal|sempat)\s+"
                    r"(?:(?!mulai\b|agak\b|sedikit\b|sebagian\b|setengah\b)\w+\s+)?"
                    r"(?:" + _FIX_VERBS + r")\b|\b(?:fogging|foging)\s+(?:sudah|udah|udh|sdh)\b"
                    r"|\bsince\b[^.\n]{0,40}\bvisited\b|\b(?:quieter|fixed|repaired|resolved)\b"
                    # a patch that gave way: "tambalan wingi wes mrotol"
                    r"|\btambalan(?:nya|e)?\b"
                    # thanks for what was done: "Terima kasih atas perbaikan atap …", "makasih untuk pemadamannya"
                    r"|\b(?:terima\s*kasih|terimo\s+kasih|makasih|matur\s+nuwun|hatur\s+nuhun|suksma)\s+(?:atas|untuk|buat|kanggo)\s+"
                    r"(?:perbaikan|penanganan|pemadaman|pembersihan|pengangkutan|pengerukan|penambalan|penertiban)"
                    # (then another problem: thanks closing a new complaint, "Terima kasih atas penanganannya.", are
                    # thanks in advance)
                    r"(?=[^\n]{0,100}?\b(?:namun|tapi|tetapi|tp|tpi|cuma|hanya)\b)"
                    # a fire that is out: "yang kemaren udah padam", "api lahan … sudah padam"
                    r"|\b(?:api|apinya|kebakaran|kemaren|kemarin|semalam|semalem|tadi)\b[^.\n]{0,40}?\b(?:sudah|udah|udh|sdh|dah|la|telah)\s+padam\b",
                    re.I)
FIXED = _FIXED  # (dedup.features: the place of a settled matter is not the new complaint's)
_THANKS = re.compile(r"\b(?:terima\s*kasih|makasih|trims|suksma|thanks|thank\s+you|matur\s+(?:nuwun|suwun)|hatur\s+nuhun|"
                     r"terimo\s+kasih|alhamdulillah)\b", re.I)
_BUT = re.compile(r"\b(?:tapi|tp|tpi|namun|but|however|sekarang|skrg|skarang|now|nanging|saiki)\b", re.I)
# (and "tetap/tetep", "ga ada perubahan": nothing changed since, the same one going on)
_PERSISTS = re.compile(r"\b(?:masih|msh|still|tetap|tetep|ttp)\b|\b(?:ga|gak|nggak|tidak|tdk|tak|belum|blm|belom)\s+ada\s+"
                       r"perubahan\b", re.I)
_STILL = re.compile(r"\b(?:masih|msh|belum|blm|still)\b", re.I)
_FIXED_WORDS = frozenset("sudah udah udh sdh dah telah la lah wis wes uwis tos geus atos parantos so baru padahal sempat "
                         "fogging foging kasih makasih nuwun nuhun suksma "
                         "since quieter fixed repaired resolved tambalan tambalannya tambalane padam".split())
# the problem is back: "again"/"lagi" after a word that is not a fix ("nyala lagi", "ngalir lagi" are
# the fix) nor a negation ("dak muncrat lagi"); "back to loud music"
_BACK = re.compile(r"\b(?!(?:nyala|menyala|ngalir|mengalir|normal|idup|hidup|aman|lancar|bersih)\b)"
                   r"(?!(?:dak|tidak|tdk|gak|ga|nggak|ndak|ora|teu|ndak|enggak)\b)([a-z]+)\s+(?:lagi|lg|deui|maning|meneh|maneh|agik|again)\b"
                   r"|\b(?:is|are|was)\s+back\b|" + _AGAIN_AFTER_STATE, re.I)
_NEGATED = re.compile(r"\b(?:dak|tidak|tdk|gak|ga|nggak|ndak|ora|teu|enggak)\s+\w+\s+(?:lagi|lg|deui)\b", re.I)


# when the event happened, said as just now (Indonesian, Javanese "wingi sore", Sundanese "tadi peuting", Manado and
# Ambon "tadi malang", "barusan")
_FRESH = re.compile(r"\b(?:tadi\s+(?:malam|malem|malang|pagi|siang|sore|subuh|peuting|isuk|esuk|bengi)|semalam|"
                    r"(?:pagi|siang|sore|malam|subuh)\s+ini|barusan|baru\s+saja|subuh\s+tadi|dini\s+hari\s+tadi|"
                    r"kemarin\s+(?:malam|sore|siang|pagi)|wingi\s+(?:sore|bengi|esuk))\b", re.I)
# (searched only when one of these words occurs, or "ini" with a time of day: "ini" alone is in most messages)
_FRESH_WORDS = frozenset("tadi semalam barusan baru kemarin wingi".split())
_FRESH_TIMES = frozenset("pagi siang sore malam subuh".split())
# land and forest: a fire there burns for days and is told each day as "tadi malam api membesar" (not a new one)
_LAND = frozenset("lahan hutan gambut karhutla semak ilalang alang kebun".split())


# "selain atap kelas, jalan … juga berlubang": the problem after "selain" is the one already told
_ASIDE = re.compile(r"\bselain\s+(?!laporan|itu\b)([^,.;:\n]{2,50}),", re.I)


def without_aside(mask: int, text: str, words: frozenset[str] | set[str]) -> int:
    """``mask`` without the classes named only in an aside ("selain lubang, gorong-gorong … tersumbat" is
    about the drain), unless nothing else is left."""
    if "selain" not in words:
        return mask
    aside = 0
    for match in _ASIDE.finditer(text):
        aside |= problem_mask(match.group(1).lower().split())
    rest = mask & ~(aside & ~STATES)
    if aside & STATES & rest:
        rest = _states_outside_aside(rest, aside, text)
    return rest if rest & ~STATES else mask


def _states_outside_aside(mask: int, aside: int, text: str) -> int:
    """"Selain mati, tiang PJU … miring": the state told only in the aside (out) is not this complaint's."""
    outside = problem_mask(re.findall(r"[a-z]+", _ASIDE.sub(",", text).lower())) & STATES
    return mask & ~(aside & STATES & ~outside)


# whether each pattern matches, tried only where one of its words begins (router.fastre: the same answers)
_self_ref, _again, _again_not, _follow, _other, _lasting, _also, _fixed = map(
    AnySearch, (_SELF_REF, _AGAIN, _AGAIN_NOT, _FOLLOW, _OTHER, _LASTING, _ALSO, _FIXED))


def reference_flags(text: str, words: frozenset[str] | set[str] | None = None) -> int:
    """SELF_REF | AGAIN | FOLLOW | OTHER | LASTING | ALSO as found in ``text`` (raw or masked; case does not matter).
    ``words``: the text's lower-case words, when the caller has them (each pattern then runs only when one
    of the words it needs occurs)."""
    if words is None:
        words = set(re.findall(r"[a-z]+", text.lower()))
    flags = 0
    # a self-reference inside an aside is the complaint already told ("Selain pohon miring yang sudah saya
    # laporkan, paving trotoar … amblas"): it does not make this one a follow-up
    own = _ASIDE.sub(",", text) if "selain" in words else text
    if not words.isdisjoint(_SELF_REF_WORDS) and _self_ref(own):
        flags |= SELF_REF
    if not words.isdisjoint(_AGAIN_WORDS) and _again(text) and not _again_not(text):
        flags |= AGAIN
    if (not words.isdisjoint(_FOLLOW_WORDS) or "[foto]" in text) and _follow(text):
        flags |= FOLLOW
    if not words.isdisjoint(_OTHER_WORDS) and _other(text):
        flags |= OTHER
    if not words.isdisjoint(_ALSO_WORDS) and _also(text):
        flags |= ALSO
    if not words.isdisjoint(_HABITUAL_WORDS) and _HABITUAL.search(text):
        flags |= HABITUAL
    if flags & AGAIN and (_lasting(text) or _PERSISTS.search(text)):
        # "udah seminggu lebih", "atap masih bocor, tadi malam hujan lagi": the problem goes on, it is not back
        # (not "belum": "numpuk lagi, belum diangkut" is back again)
        flags |= LASTING
        if _SHORT.search(text):
            flags |= SHORT
    if (not words.isdisjoint(_FRESH_WORDS) or ("ini" in words and not words.isdisjoint(_FRESH_TIMES))) and \
            words.isdisjoint(_LAND) and _FRESH.search(text):
        flags |= FRESH
    if not words.isdisjoint(_FIXED_WORDS) and _fixed(text):
        # (a closure that only thanks for the fix, or says part is still not done, adds no other complaint)
        if not _STILL.search(text) and (_BUT.search(text) or not _THANKS.search(text)):
            flags |= SETTLED
            if _BUT.search(text):
                flags |= SETTLED_BUT
        back = _BACK.search(text)
        if back and not _NEGATED.search(text, max(0, back.start() - 12), back.end()):
            flags |= RECUR
    return flags


# the channel a word names ("sudah saya WA", "via e-mail", "post di IG", "I have tweeted", "isi web form", "di LAPOR!")
_CHANNEL_WORDS = re.compile(
    r"\b(?P<whatsapp>wa|whatsapp|whats\s+app|watsap|japri)\b|\b(?P<email>e-?mail|emailed|surel)\b"
    r"|\b(?P<telegram>telegram|tele)\b|\b(?P<x>twitter|twit|twitt|tweet|tweeted|ngetwit|ngetweet|cuitan|"
    r"(?<=di\s)x|(?<=via\s)x)\b|\b(?P<instagram>ig|instagram|insta)\b|\b(?P<facebook>fb|facebook|messenger)\b"
    r"|\b(?P<webform>web\s*form|formulir|form|website)\b|(?P<lapor>\blapor!|\bsp4n\b|\blapor\.go\.id\b|"
    r"\b(?<=di\s)lapor\b|\b(?<=via\s)lapor\b)", re.I)
# the kinds the connectors and the evaluation give a channel, by the name a text would use
_CHANNEL_KIND = {"imap": "email", "mail": "email", "smtp": "email", "web": "webform", "form": "webform",
                 "twitter": "x", "ig": "instagram", "fb": "facebook", "messenger": "facebook", "tg": "telegram",
                 "wa": "whatsapp"}


def channel_kind(channel: str) -> str:
    """The channel kind ``channel`` (a connector kind or a label) is, as ``referenced_channels`` names them."""
    low = (channel or "").lower()
    return _CHANNEL_KIND.get(low, low)


def referenced_channels(text: str) -> frozenset[str]:
    """The channels a text that refers back to its writer's own report names ("Saya sudah melaporkan via
    WhatsApp", "sudah saya post di IG kemarin", "Sehubungan pesan WhatsApp saya"): where that report is."""
    return frozenset(name for match in _CHANNEL_WORDS.finditer(text) for name, value in match.groupdict().items()
                     if value)


# the day a pointer back gives its report: "tanggal 21", "tgl 3 Mei", "pada 2 Desember", "(10 Mei)"; "kemarin",
# "semalam" (the day before); "tadi pagi", "barusan" (today)
_REF_DATE = re.compile(r"\b(?:tanggal|tgl|tg|pada|on)\.?\s*(\d{1,2})\b|\(\s*(\d{1,2})\s+(?:jan|feb|mar|apr|mei|may|jun|jul|"
                       r"agu|aug|sep|okt|oct|nov|des|dec)[a-z]*\b|\b(\d{1,2})\s+(?:januari|februari|maret|april|mei|juni|"
                       r"juli|agustus|september|oktober|november|desember)\b", re.I)
# ("kemarin2", "kemarin-kemarin" are some days ago)
_YESTERDAY = re.compile(r"\b(?:kemarin|kmrn|kemaren|kmren|kamari|wingi|semalam|semalem|tadi\s+malam|td\s+malam|"
                        r"yesterday)\b(?![-\d])", re.I)
_TODAY = re.compile(r"\b(?:tadi|td|barusan|this\s+morning|today|earlier)\b", re.I)
_DAY = 86400.0
# the local day of a time: Indonesia is seven to nine hours ahead of UTC (WIB, WITA, WIT)
_ZONES = (7 * 3600.0, 8 * 3600.0, 9 * 3600.0)


def local_days(ts: float) -> frozenset[int]:
    """The day of the month ``ts`` (seconds since the epoch) falls on in one of Indonesia's three time zones."""
    return frozenset(datetime.fromtimestamp(ts + zone, UTC).day for zone in _ZONES)


def referenced_days(text: str, ts: float) -> frozenset[int]:
    """The days of the month a pointer back to the writer's report gives it ("sudah saya kirim email tanggal 3",
    "WA kemarin", "tadi pagi"), ``ts`` being when the text was written."""
    days = {int(next(g for g in match.groups() if g)) for match in _REF_DATE.finditer(text)}
    days = {d for d in days if 1 <= d <= 31}
    # "yesterday", "earlier" only beside the channel it names ("sudah saya WA tadi pagi"; not "hari ini masih ada")
    for match in _CHANNEL_WORDS.finditer(text):
        near = text[max(0, match.start() - 30):match.end() + 30]
        if _YESTERDAY.search(near):
            days |= local_days(ts - _DAY)
        if _TODAY.search(near):
            days |= local_days(ts)
    return frozenset(days)


# ---- who signed it -------------------------------------------------------------------------------------

# titles, kinship terms and account words: they say nothing about which person it is
_NOT_NAME = frozenset("""
pak bapak bpk pa bu ibu bunda neng kang akang aa teh teteh ceu euceu mang emang mamah mama mah abah ema
mas mbak mba dik adik kak kakak om tante bang abang haji hajah ustadz ustad kyai dr drs ir prof
ketua rt rw warga info informasi update news berita kita kota bandung official admin komunitas forum
dan the of team tim grup group ortu orang tua murid wali kelas pengurus
wayan made nyoman ketut putu gede kadek komang nengah luh ni gusti ngurah
muhammad muhamad mohammad mohamad moh muh
sdr sdri saudara saudari nyonya tuan bli mbok jro gus gek acil julak angah uma cak ning mbah mbakyu pakde pakdhe bude
budhe eyang kakek nenek aki nini bibi paman opa oma nyong tete nene pace mace usi bung ayuk ayah daeng uda uni etek
amang inang ompung tulang koh cik encik engku wak atok datuk komite lpm
""".split())
# (and the forms of address of the regions: Sdr/Saudara, Balinese Bli/Mbok/Jro, Banjar Acil/Julak, Javanese Cak/Mbah/
# Pakde, Manado Opa/Oma, Papuan Pace/Mace, Palembang Ayuk, Minang Uda/Uni, Batak Amang/Inang/Ompung, Makassar Daeng,
# Chinese-Indonesian Koh/Cik: "Acil Ipah" and "Acil Norma" are two women)
# Balinese birth-order names (Wayan, Putu, Gede, Made, Kadek, Nyoman, Komang, Ketut, Ni Luh) and "Muhammad": half a
# city's writers share them, they tell nobody apart

# an account of a community, a page or a news feed ("Komunitas Tepian", "Tepian Lover", "Hayam Wuruk Update"): many
# people write as it, so none of its words is a person's name
_GROUP_ACCOUNT = frozenset("""
komunitas forum info informasi update updates news berita official lover lovers fans peduli grup group paguyuban
""".split())


def _key(text: str) -> int:
    return zlib.crc32(text.encode("utf-8"))


def identity_keys(names: Iterable[str | None], handles: Iterable[str | None] = (),
                  exclude: Iterable[str] = ()) -> tuple[frozenset[int], frozenset[int]]:
    """(stored, probe) keys of a sender: a name word stores ``n:word``; a handle stores its prefixes of
    three letters or more as ``h:prefix``. Two senders may be one person when one's probe meets the other's
    stored keys (a shared name word, or a name word that begins the other's handle). Words in ``exclude``
    (the places the message names: "Warga Malabar", "Ujungberung Info") are not names."""
    skip = set(exclude)
    words: set[str] = set()
    for name in names:
        found = re.findall(r"[a-z]+", (name or "").lower())
        if not _GROUP_ACCOUNT.isdisjoint(found):
            continue
        for word in found:
            if len(word) >= 3 and word not in _NOT_NAME and word not in skip:
                words.add(word)
    prefixes: set[str] = set()
    accounts: set[str] = set()
    for handle in handles:
        handle = (handle or "").lower().rpartition(":")[2]
        # the whole account name, given on another channel ("I have tweeted you as @sanur_nightowl", "IG saya
        # @nona_manado"): the same account whatever its runs of letters
        account = handle.lstrip("@").strip(".")
        if len(account) >= 5 and re.search(r"[a-z]", account):
            accounts.add(account)
        for run in re.findall(r"[a-z]+", handle):
            if run in _NOT_NAME or run in skip:
                continue
            prefixes.update(run[:n] for n in range(3, len(run) + 1))
            # only the first run that may be a name (the one that begins the handle, past words such as "pak"): a
            # later one is as often a place or a hobby as a name
            # ("@ubud2sanur", "@sanurbeachwalker": two people who like one beach)
            break
    stored = {_key("n:" + w) for w in words} | {_key("h:" + p) for p in prefixes} | {_key("a:" + a) for a in accounts}
    probe = {_key("n:" + w) for w in words} | {_key("h:" + w) for w in words} | \
        {_key("n:" + p) for p in prefixes} | {_key("a:" + a) for a in accounts}
    return frozenset(stored), frozenset(probe)
