"""What deduplication compares: content tokens (hashed), place keys, agency, person, channel and time.

Place keys come from the classifier's gazetteer location (kelurahan, kecamatan) and from the text itself
(RT/RW numbers, street and gang names, numbered gangs ``gg:3``, house numbers ``hn:12``, landmarks
``lm-<kind>:<name>`` with schools as ``lm-sekolah:<level> <number> [kelurahan]``, and places named with a
compass word ``arah:<name> <side>``). They are kept apart from the content tokens so that "the same
wording about a different place" and "a different problem at the same place" can both be told apart.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np

from router.dedup.concepts import (
    CLASS_WORDS,
    FIXED,
    SELF_REF,
    identity_keys,
    problem_mask,
    reference_flags,
    referenced_channels,
    referenced_days,
    without_aside,
)
from router.fastre import Anchored
from router.places import MALAY_NUMBERS, NUMBER_WORDS, canonical_places
from router.regions import city_words

# Words that carry no meaning for "is this the same complaint": greetings, pleas, fillers, particles.
# They are what a citizen adds when resending ("min tolong dong", "mohon segera ditindak").
FILLERS = frozenset("""
min mimin admin kak kakak pak bapak bu ibu mas mbak bang gan sis om tante bro sob pakde bude
tolong mohon minta dong donk deh sih nih ya yah yaa kok loh lho kan lah pun aja saja juga lagi
segera cepat secepatnya buruan please plis pls tlg thx terima kasih makasih trims maaf permisi
selamat pagi siang sore malam assalamualaikum salam halo hai hallo hi
hormat yth kepada petugas wassalamualaikum mengganggu bantuan bantuannya
yang dan atau di ke dari ini itu ada sudah udah belum blm sdh tidak tak gak ga nggak enggak kagak
dengan untuk pada oleh karena krn jadi sangat banget bgt sekali amat agak cukup masih sedang
saya aku gue gw kami kita kamu anda dia mereka kalian warga kami nya
tindak lanjut ditindaklanjuti ditindak lanjuti diperhatikan perhatian respon direspon ditanggapi
depan dekat samping belakang sebelah seberang ujung pinggir sekitar arah daerah wilayah area
bantu bantuannya bisa dapat akan mau ingin harap harapannya berharap
lagi kembali ulang sekali lagi sebelumnya kemarin tadi hari ini sejak sampai hingga
apa kapan bagaimana gimana kenapa mengapa kok
""".split())

_RT_RW = re.compile(r"\brt\s*/\s*rw\.?\s*:?\s*0*(\d{1,3})\s*/\s*0*(\d{1,3})", re.I)
_RT = re.compile(r"\brt\.?\s*:?\s*0*(\d{1,3})(?:\s*/\s*(?:rw\.?\s*:?\s*)?0*(\d{1,3}))?", re.I)
_RW = re.compile(r"\brw\.?\s*:?\s*0*(\d{1,3})", re.I)
_RT_RANGE = re.compile(r"\brt\.?\s*0*(\d{1,3})\s*(?:-|s\.?\s*d\.?|s/d|sampai|sampe|hingga|sd)\s*(?:rt\.?\s*)?0*(\d{1,3})\b", re.I)
# (a second word is never the next street's keyword: "Jl. Gajahmada Gg. Anggrek" names two)
# (not "jl" itself: "jalan Jl. Pangeran Antasari" writes the street word twice)
_NAME = r"(?!(?:jl|jln|gg)\b)([a-z][a-z0-9'\-]*)(?:\s+(?!(?:jl|jln|gg)\b)([a-z][a-z0-9'\-]*))?"
# titles before a street's name: "Jl. Ir. H. Juanda" is Juanda, "Jl. KH. Ahmad Dahlan" is Ahmad Dahlan
# and initials: "Jl. A. Yani" is Yani, "Jl. R.E. Martadinata" is Martadinata
_TITLES = r"(?:(?:ir|h|hj|dr|kh|k\.h|prof|kol|let|lett|letnan|jend|mayjen|mayjend|letjen|letjend|brigjen|brigjend|kapt|kapten|mayor|letkol|kolonel|jenderal|jendral|laksamana|marsekal|pangeran|raden|teuku|tengku|kyai|kiai|syekh)\.?\s+|(?:[a-z]\.\s*){1,3}(?=[a-z]{3}))*"
_ABBREV_STREET = re.compile(r"\b(jl|jln|gg)\b\.?\s*(?:raya\s+)?" + _TITLES + _NAME, re.I)
_LONG_STREET = re.compile(r"\b(?:[Jj]alan|[Gg]ang)\s+(?:Raya\s+)?([A-Z][a-z][a-z0-9'\-]*)(?:\s+([A-Z][a-z][a-z0-9'\-]*))?")
# landmarks citizens name: "TPS Pasar Baru", "Perum Griya Asri", "SDN 3 Margahayu", "masjid Al Ikhlas"
_LANDMARK = re.compile(r"\b(pasar|perum|perumahan|terminal|masjid|mesjid|musala|musholla|gereja|sdn|sd|smpn|smp|sman|sma|"
                       r"smkn|smk|MTsN|MTs|MTS|MIN|MI|MA|puskesmas|rsud|rsia|rsi|rs|rumah sakit|taman|stasiun|kantor pos|"
                       r"alun alun|alun-alun|alun2|kampung|komplek|kompleks|perumnas|griya|bumi|simpang|tpu|tps|tpa|halte|"
                       r"sungai|Kali|Tukad|Parit|Kanal|Handil|Anjir|lapangan|rusunawa|rusun|pt|cv|jembatan|gor|stadion|kampus|"
                       r"pantai|pante|greja|surau|meunasah|dermaga|pelabuhan|bundaran|tugu|monumen|danau|waduk|siring|villa|vila|puri|graha|wisma|pondok|asrama|cluster|klaster)"
                       r"\b\.?\s*(\d{1,3}|[a-z][a-z'\-]*)(?:\s+([a-z][a-z'\-]*))?",
                       re.I)
_LANDMARK_TYPE = {"perumahan": "perum", "griya": "perum", "bumi": "perum", "perumnas": "perum", "komplek": "perum",
                  "kompleks": "perum", "mesjid": "masjid", "musholla": "masjid", "musala": "masjid", "sdn": "sd",
                  "smpn": "smp", "sman": "sma", "smkn": "smk", "alun-alun": "alun", "alun alun": "alun",
                  "alun2": "alun", "rusun": "rusunawa", "cv": "usaha", "pt": "usaha",
                  "rsud": "rs", "rsia": "rs", "rsi": "rs", "rumah sakit": "rs", "kali": "sungai",
                  # a river or canal by its regional word: Balinese "tukad", Malay "parit"/"handil"/"anjir"
                  "tukad": "sungai", "parit": "sungai", "kanal": "sungai", "handil": "sungai", "anjir": "sungai",
                  "pelabuhan": "dermaga", "monumen": "tugu", "waduk": "danau",
                  # the head words of housing estates in any city ("Villa Ria Indah", "Puri Kencana", "Graha
                  # Prima", "Pondok Hijau"): an estate, as "Perum"/"Griya"/"Bumi" are
                  "villa": "perum", "vila": "perum", "puri": "perum", "graha": "perum", "wisma": "perum",
                  "pondok": "perum",
                  # a gated part of an estate ("Perumahan Citra Land Cluster Alamanda"): one cluster is not another
                  "klaster": "cluster",
                  # the east's spelling ("greja", "pante": Manado, Maluku, Papua) and the prayer house of Minang
                  # ("surau") and Aceh ("meunasah")
                  "greja": "gereja", "pante": "pantai", "surau": "masjid", "meunasah": "masjid"}
# schools are one kind of landmark: "SD 5" and "SMP 5" are two schools, as are "SD 5" and "SD 15"
_SCHOOL_KINDS = {"sd": "sd", "sdn": "sd", "smp": "smp", "smpn": "smp", "sma": "sma", "sman": "sma", "smk": "smk",
                 "smkn": "smk", "mi": "mi", "min": "mi", "mts": "mts", "mtsn": "mts", "ma": "ma"}
_LANDMARK_WORD = re.compile(r"pasar|terminal|masjid|stasiun|puskesmas|rsud|rs|taman|perum|perumahan|alun|sd|smp|"
                            r"sma|smk|sdn|smpn|sman|smkn|gor|stadion|kampus|jembatan|halte|tps|tugu|monumen", re.I)
# written in capitals only: in lower case they are words ("mi ayam", "ma", "kali ini")
_CASED_KINDS = frozenset(("mi", "min", "mts", "mtsn", "ma", "kali", "tukad", "parit", "kanal", "handil", "anjir"))
_CASED_NAMES = frozenset(("kali", "tukad", "parit", "kanal", "handil", "anjir"))  # "Kali Code", "Parit Tokaya"
# landmark kinds whose next word is often running text ("deket jembatan berlubang", "simpang tiga macet")
_LOOSE_LANDMARKS = frozenset(("simpang", "jembatan", "tpu", "gor", "stadion", "kampus", "pt", "cv", "pantai", "pante", "surau",
                              "meunasah", "dermaga",
                              "pelabuhan", "bundaran", "tugu", "monumen", "danau", "waduk", "siring"))
# their names are often a description ("jembatan kayu", "PT" + a trade name): they agree, never conflict
_SOFT_KINDS = frozenset(("lm-jembatan", "lm-usaha", "lm-kampus", "lm-gor", "lm-stadion"))
# a numbered unit of a place ("koridor 2", "trayek C10", "lantai 3", "tiang PJU nomor 23", "loket 4"): the same
# label with another number is another place (another bus line, floor, lamp post)
_UNIT = re.compile(r"\b(koridor|trayek|jalur|lantai|lt|tiang(?:\s+(?:pju|listrik|lampu|telkom))?|loket|peron|kios|los|"
                   r"gerbang|pintu\s+air|rumah\s+pompa|km|gedung|dermaga|menara|tower|tahap|fase)\b\.?\s*(?:no\.?\s*|nomor\s*)?"
                   r"([a-z]{0,2}\d{1,3}[a-z]?)\b"
                   r"(?!\s*(?:-|sampai|sd|s/d|dan|&|,)\s*\d)", re.I)  # not a range: "lantai 3-5"
# … or lettered, written in capitals ("Gedung A", "Tower B", "Zona C"; "gedung a" in lower case is running text)
_LETTERED_UNIT = re.compile(r"\b([Gg]edung|[Tt]ower|[Mm]enara|[Zz]ona|[Ss]ektor)\s+([A-H])\b(?![\w'\-])")
# a bridge, building or floodgate numbered in capital Roman numerals ("Jembatan II", "Gedung IV", "Pintu Air III")
_ROMAN_UNIT = re.compile(r"\b([Jj]embatan|[Gg]edung|[Mm]enara|[Tt]ower|[Pp]intu\s+[Aa]ir|[Dd]ermaga)\s+"
                         r"(I|II|III|IV|V|VI|VII|VIII|IX|X)\b(?![\w'\-])")
_UNIT_LABEL = {"lt": "lantai", "peron": "jalur", "tower": "menara"}
# Any other thing numbered as a place: a number after a noun said where ("di pos 3", "ke ruang kelas 6",
# "depan pintu 2") or written as a name ("Pos 3", "Ruang IV"). The same noun with another number is another place
# (another post, classroom, gate), whatever the noun; a number followed by what it counts ("3 hari", "40 orang",
# "50 cm") is a quantity, and the nouns below say when, how much or which grade of a thing, not where.
_MEASURES = (r"hari|hr|jam|jm|menit|mnt|detik|orang|org|jiwa|kk|meter|mtr|m|cm|mm|km|kg|ton|liter|ltr|rb|ribu|jt|juta|"
             r"miliar|persen|tahun|thn|th|bulan|bln|minggu|mgg|mg|kali|x|lapis|rumah|unit|buah|bh|titik|lokasi|ekor|"
             r"batang|pohon|motor|mobil|kendaraan|anak|warga|siswa|murid|pasien|keluarga|hektar|ha|lembar|lbr|paket|"
             r"karung|truk|rit|gerobak|kantong|sak|malam|malem|pagi|sore|siang|subuh|wib|wita|wit|an|kilo|senti|"
             r"derajat|rupiah|pcs|bungkus|porsi|kursi|ruang|kelas|kios|lantai|tiang|bangunan|kamar|pintu|an")
# (a list or range names each: "kelas 3 dan 4")
_NUM_TAIL = r"(?:\s*(?:dan|&|,|-|s/d|sampai)\s*0*(\d{1,3}))?\b(?![.,:/\-]\d)(?!\s*(?:%|(?:" + _MEASURES + r")\b))"
_NUM_AFTER_WHERE = re.compile(r"\b(?:di|ke|dari|dr|depan|dpn|dekat|dkt|deket|samping|sebelah|belakang|seberang|nang|neng|"
                              r"ning|ing|arah|menuju|area|kawasan|sekitar|ruang|ruangan)\s+([a-z]{3,12})\s+0*(\d{1,3})"
                              + _NUM_TAIL, re.I)
_NUM_NAME = re.compile(r"\b([A-Z][a-z]{2,11})\s+(?:0*(\d{1,3})|(II|III|IV|VI|VII|VIII|IX|V|X))" + _NUM_TAIL)
# the number that ends a place's name ("Kel. Malalayang 1", "Kelurahan Tanjung Raya II", "Perum Griya Asri 2"): another
# number is another place (a quantity, "Kel. Sukajadi 3 hari", "Pasar Baru 2 tiang", is no part of it)
_PLACE_NUMBER = re.compile(r"\s+(?:0*([1-9])|(II|III|IV|VI|V))\b(?![.,:/\-]\d)(?!\s*(?:%|(?i:" + _MEASURES +
                           r"|lampu|pju)\b))")
_PLACE_TAIL = re.compile(r"\s+([A-Z][a-z]{2,})\b")
_NOT_NUM_LABEL = frozenset("""
jam pukul tanggal tgl hari bulan tahun thn umur usia siaga level status antrian antrean antri nomor nomer nmr lebih
kurang sekitar hampir cuma hanya sudah udah udh sdh sejak selama sampai sampe ada baru tinggal kali per sebanyak total
dari hingga pada lagi sisa harga bayar biaya tarif ribu dan atau yang kel kec kelurahan kecamatan desa covid tipe type
versi angka skor nilai ranking peringkat juara kode pin nik ktp npwp telp telepon ext mulai tiap setiap sama dengan dgn
kira jumlah sebesar capai mencapai semua seluruh korban luka meninggal tewas tinggi setinggi dalam sedalam panjang lebar
luas berat suhu ukuran diameter kecepatan rute atas bawah luar tengah ujung kawasan area jalan gang lorong blok kota kabupaten kab provinsi pasal nopol plat
senin selasa rabu kamis jumat sabtu minggu ahad januari februari maret april mei juni juli agustus september oktober
november desember jan feb mar apr jun jul agu agt sep okt nov des gelombang tahap fase periode kloter angkatan
""".split())
_UNIT_WORDS = frozenset("koridor trayek jalur lantai lt tiang loket peron kios los gerbang pintu rumah km gedung dermaga "
                        "menara tower zona sektor jembatan tahap fase".split())
# a block of a housing estate or a flat ("Blok C"): two blocks are two places
_BLOK = re.compile(r"\bblok\s*([a-z]{1,2}\d{0,2}|\d{1,2})\b", re.I)
_MALL = re.compile(r"\b([A-Za-z][a-z]{2,})\s+(?:[Mm]all|[Mm]al|[Pp]laza)\b")
# a mall's whole name, two or three capitalised words before its kind ("Palembang Indah Mall", "Bogor Trade Mall")
_MALL_NAME = re.compile(r"\b((?:[A-Z][a-z]{2,}\s+){2,3})([Mm]all|[Mm]al|[Pp]laza|[Ss]quare)\b")
# a landmark whose kind comes first and whose name is two or three capitalised words ("Mal Pelayanan Publik", "Taman
# Ade Irma Suryani", "Gelanggang Olahraga Bumi Sriwijaya"): shortened to the initials, with or without the kind's
_KIND_FIRST_NAME = re.compile(r"\b(Mal|Mall|Pasar|Taman|Terminal|Stasiun|Gedung|Balai|Bandara|Pelabuhan|Gelanggang|"
                              r"Universitas|Politeknik|Rumah\s+Sakit)\s+((?:[A-Z][a-z]{2,}\s*){2,3})")
# (a village by its regional name, "Nagari Koto Tangah", "Gampong Lampulo", is a kelurahan)
# (the second word is never the next area's keyword: "Desa Sukamaju Kec. Cibeber" names the kecamatan too)
_AREA = re.compile(r"\b(kel(?:urahan)?|desa|nagari|gampong|kec(?:amatan)?)\b\.?\s+([a-z][a-z\-]+(?:\s+(?!(?:kel|kelurahan|"
                   r"desa|nagari|gampong|kec|kecamatan|kab|kabupaten|kota)\b)[a-z][a-z\-]+)?)", re.I)
_NOT_A_NAME = frozenset("""
no nomor rt rw kel kelurahan kec kecamatan dekat dkt deket dpn depan samping belakang sebelah seberang ujung pinggir arah
sehingga padahal pdhl anak sy jl jln makin yg dgn buat untuk
mati padam numpuk menumpuk penuh mampet bau banjir longsor roboh ambruk terbakar kebakaran sering
kios kios2 baru2 bikin tiap kalau kalo mau udh td tadi sejak dr dari sampai
rusak berlubang bolong ambles amblas retak hancur licin gelap banjir tergenang macet penuh rawan sempit
di ke yang yg dan dari ini itu nya utama raya tol masuk menuju depan dekat dkt samping belakang arah
kampung desa kota sudah udah blm belum gak ga tidak tdk sangat parah banyak lagi sering mulu terus
sepanjang umum total ketutup tertutup
""".split())
# Sundanese, Javanese and slang function words that follow a place name in running text ("Jl. Sekeloa teu
# acan", "Masjid Pajajaran deket warung"): never part of the name
_RUNNING = frozenset("""
teu tos acan aya nu ka ti di sareng jeung dugi payun caket deket dket palih beulah handapeun luhur gigireun
tukangeun hareupeun deui pisan mah teh atuh euy wae oge ge kanggo ku ieu eta ayeuna tadi enjing wengi sonten
isuk kamari minggu dinten poe jam subuh pagi siang sore malem malam
kok wis wes ora ning nang karo neng cedhak ngarep mburi
sama ama ampe sampe sampai dari dr arah jg juga trs terus skrg sekarang udah udh blm belum masih msh
pas lagi lg mulu banget bgt parah hilang rusak ana ono onok muncul bareng barengan
gang jalan jl jln gg kaki setapak tol lingkar no nomor blok rt rw kel kec kelurahan kecamatan
so su la ado deng dg nian semalem semalam kemarin kemaren tiap lewat jatuh jual buka tutup penuh
""".split())
# (the Malay of Manado, Maluku and Kupang says "so"/"su" for "sudah", "deng" for "dengan"; Palembang and Minang "la",
# "ado", "nian": "masjid so penuh", "SMP jatuh", "jembatan jual cap tikus" name no masjid So, no SMP Jatuh)
# (searched only for whether it occurs: the character before the capital is matched, not looked behind at, so that
# re skips to the few places where one of them occurs instead of trying every position)
_TITLE_WORD = re.compile(r"[ (/,-][A-Z][a-z]{2,}")
# a verb or noun with an Indonesian affix ("dipersulit", "tersumbat", "kebanjiran"): running text, not a name
# words after "kelurahan"/"kecamatan" that are never its name ("lurah/kelurahan setempat", "kelurahan perbaiki")
_AREA_RUNNING = frozenset("setempat perbaiki memperbaiki perbaikan tindaklanjuti menindaklanjuti tolong mohon segera "
                          "cek mengecek kami kita ini itu tsb tersebut sudah belum tidak harus agar untuk dan atau juga "
                          "bisa dapat mau akan".split())
_AFFIXED = re.compile(r"^(?:di|ter|ber|mem|men|meng|meny|per)[a-z]{4,}$|^(?:ke|pe)[a-z]{3,}an$")
_JALAN_LOWER = re.compile(r"\b(jalan|gang)\s+([a-z][a-z'\-]+)(?:\s+([a-z][a-z'\-]+))?")
# a street named with a letter after it ("jalan kelayan B", "jalan kelayan a"): the letter tells two streets apart
_LETTERED = re.compile(r"\b(?:jalan|gang)\s+([a-z]{4,})\s+([A-Ea-e])\b(?![\w'\-])")
# a kelurahan written after the RT/RW without "kel.": "RT 02/RW 04 Sidomulyo" (capitalised only)
_AFTER_RW = re.compile(r"\b[Rr][Ww]\.?\s*:?\s*0*\d{1,3}\s*,?\s+([A-Z][a-z]{3,})(?:\s+([A-Z][a-z]{3,}))?")
# a place named with a compass word ("Pojok Beteng Wetan", "jokteng kulon", "Srondol Wetan"): the same name
# with another direction is another place
_COMPASS = {"wetan": "timur", "kulon": "barat", "lor": "utara", "kidul": "selatan"}
_COMPASS_CASED = re.compile(r"(?<![Aa]rah )(?<![Ss]ebelah )(?<![Ss]isi )(?<![Ss]isih )\b([A-Z][a-z]{2,}(?:\s+[A-Z][a-z]{2,})?)\s+"
                            r"(Wetan|Kulon|Lor|Kidul|Timur|Barat|Utara|Selatan)\b")
_COMPASS_LOWER = re.compile(r"(?<!arah )(?<!sebelah )(?<!sisi )(?<!sisih )(?<!palih )\b([a-z]{3,})\s+"
                            r"(wetan|kulon|lor|kidul|timur|barat|utara|selatan)\b")
_COMPASS_WORDS = frozenset("wetan kulon lor kidul timur barat utara selatan".split())
# named units below a kelurahan, as RT/RW are numbered ones: a Balinese banjar ("Banjar Tohpati", "Br. Kaja"),
# a dusun, a lingkungan ("Lingkungan V"): another unit of one kelurahan is another place
# (and the other regions' names of a neighbourhood: "LK 2"/"RK 05" for a lingkungan or rukun kampung, a Minang
# "jorong"/"korong")
_SUB = re.compile(r"(?<!kota )(?<!kab )(?<!kabupaten )(?<!dinas )\b(banjar|br|dusun|dsn|lingkungan|ling|lingk|lk|rk|jorong|"
                  r"korong)\b\.?\s+"
                  r"(?:dinas\s+|adat\s+)?([A-Za-z][a-z'\-]*|\d{1,2}\b)(?:\s+([A-Za-z][a-z'\-]+))?", re.I)
_SUB_WORDS = frozenset("banjar br dusun dsn lingkungan ling lingk lk rk jorong korong".split())
# the second word of a unit's name when it is a side: Balinese kaja/kelod/kangin/kauh, Javanese and Indonesian
_SIDES = frozenset("kaja kelod kangin kauh tengah kawan kaler delod wetan kulon lor kidul timur barat utara selatan "
                   "anyar baru".split())
# the spot on a street a citizen points at ("Jl. Sudirman depan Pasar Cinde", "dkt pom bensin"): on one long
# street, two spots named with no word in common are two places
_REF = re.compile(r"\b(?:depan|dpn|dekat|dkt|deket|samping|sebelah|seberang|belakang|cedhak|ngarep)\s+"
                  r"([A-Za-z][A-Za-z0-9'\-]*)(?:[ \t]+([A-Za-z][A-Za-z0-9'\-]*))?", re.I)  # (not past a line break)
_NEAR = re.compile(r"\b(?:dekat|deket|dkt|cedhak|cedak|sebelah|samping|near)\s+$", re.I)
_REF_WORDS = frozenset("depan dpn dekat dkt deket samping sebelah seberang belakang cedhak ngarep".split())
# what stands on every street: no spot of its own
_REF_SKIP = frozenset("rumah toko warung kantor gerbang pintu gang jalan simpang kafe cafe kami saya sini situ "
                      "sana tempat lokasi persis pas ruko kampus sekolah masjid mesjid pasar hotel mall minimarket "
                      "bank apotek klinik puskesmas gereja lapangan taman halte terminal stasiun jembatan "
                      "perumahan perum komplek kompleks dealer bengkel umah selain "
                      "judul isi".split())  # (the labels of a LAPOR! report: "Judul: … Isi: …")
_REF_SKIP = _REF_SKIP | {re.sub(r"^([bcdfgkmnpst])e([lr])(?=[aiueo])", r"\1\2", word) for word in _REF_SKIP}
ANOTHER_SPOT = "another spot on the street"  # (a conflict for another citizen's report only)
_REF_SAME = {"pom": "spbu", "bensin": "spbu", "pertamina": "spbu"}
# the weak "e" of a first syllable is written or left out ("kelenteng"/"klenteng", "gereja"/"greja"): one spot
_PEPET = re.compile(r"^([bcdfgkmnpst])e([lr])(?=[aiueo])")
_SLASH_STREET = re.compile(r"\b(?:jl|jln)\b\.?\s*[A-Za-z][a-z'\-]+\s*/\s*([A-Za-z][a-z'\-]{3,})", re.I)
# "Gang Mawar II" / "gg mawar 2": the number is part of the name ("Mawar IV" is another gang); "gang 3",
# "lorong 7": a numbered gang (places.canonical_places has written gang and lorong as "gg")
_ROMAN = {"ii": 2, "iii": 3, "iv": 4, "v": 5, "vi": 6, "vii": 7, "viii": 8, "ix": 9, "x": 10}
_NUMBERED = re.compile(r"\b(jl|gg)\s+(?:raya\s+)?([A-Za-z][a-z'\-]+(?:\s+[A-Za-z][a-z'\-]+)?)\s+"
                       r"(II|III|IV|VI|VII|VIII|IX|V|X|ii|iii|iv|vi|vii|viii|ix)\b"
                       r"|\b(gg)\s+([a-z][a-z'\-]+)\s+(\d{1,2})\b(?!\s*[/.:]\s*\d)", re.I)
# a two-digit number after a one-word street name is part of the name ("Jl. Angkatan 45" and "Jl. Angkatan 66"
# are two streets); a house number is written after "no"/"nomor"
_NUMBERED_STREET = re.compile(r"\bjl\s+(?:raya\s+)?([A-Za-z][a-z'\-]{3,})\s+(\d{2})\b(?!\s*[/.:,\-]\s*\d)", re.I)
# (in lower case too, "jln wahid hasyim 2", unless a count follows: "jl mawar 2 hari mati" is two days)
_DIGIT_STREET = re.compile(r"\bjl\s+([A-Za-z][a-z'\-]+(?:\s+[A-Za-z][a-z'\-]+)?)\s+([1-9])\b(?!\s*[/.:,\-]?\s*\d)"
                           r"(?!\s*(?:hari|hr|minggu|mgg|bulan|bln|tahun|thn|jam|kali|x\b|titik|tiang|meter|m\b|km|"
                           r"rumah|unit|orang|org|lampu|lubang|truk|mobil|motor|ekor|buah|kios|ruko|lantai|lembar))")
_GANG_NUMBER = re.compile(r"\bgg\s*(\d{1,3}(?:[a-e]\b)?)\b(?!\s*[/.:]\s*\d)", re.I)  # ("Gang 3A" is not "Gang 3B")
# a house number on a street ("Jl. Pandanaran No. 12"), unless it is the writer's own address ("warga Jl. …")
_HOUSE = re.compile(r"\b(?:jl|gg)\s+[A-Za-z][^,;()\n]{0,40}?\b(?:no|nomor|nomer|nmr)\b\.?\s*(\d{1,4})\b"
                    # a house or shop numbered in an estate or a row ("rumah no 15 di Perum …", "ruko nomor 3")
                    r"|\b(?:rumah|ruko)\s+(?:no|nomor|nomer|nmr)\b\.?\s*(\d{1,4})\b"
                    # the house a spot is in front of ("pipa bocor depan no 27", "dpn nomor 5")
                    r"|\b(?:depan|dpn|samping|sebelah|seberang|belakang)\s+(?:no|nomor|nomer|nmr)\b\.?\s*(\d{1,4})\b", re.I)
_OWN_ADDRESS = re.compile(r"\b(?:warga|alamat|beralamat|tinggal|domisili|rumah\s+(?:saya|kami|sy))\b[^.\n]{0,25}$", re.I)
# old spelling in street names ("Soedarto" = "Sudarto", "Achmad" = "Ahmad", "Djuanda" = "Juanda")
_OLD_SPELLING = (("oe", "u"), ("dj", "j"), ("tj", "c"), ("sj", "sy"), ("ch", "h"))
_LOCATION_KEYS = {"kelurahan": "kel", "desa": "kel", "village": "kel", "kecamatan": "kec", "district": "kec",
                  "street": "street", "jalan": "street", "rt": "rt", "rw": "rw"}


# a number word that begins a landmark's name, in Indonesian or Malay spelling ("TPS Limo Ilir")
_NAME_NUMBERS = {**NUMBER_WORDS, **{malay: NUMBER_WORDS[word] for malay, word in MALAY_NUMBERS.items()}}


# Different citizens name one problem differently; these stems count as the same word for matching.
SYNONYMS = {
    "ambruk": "roboh", "runtuh": "roboh", "rubuh": "roboh", "tumbang": "roboh", "ambles": "roboh",
    "amblas": "roboh", "padam": "mati", "mampet": "sumbat", "got": "saluran", "selokan": "saluran",
    "drainase": "saluran", "gorong": "saluran", "numpuk": "tumpuk", "gunung": "tumpuk", "bolong": "lubang",
    "bangjo": "apill", "traffic": "apill", "pju": "lampu", "terang": "lampu", "situs": "web", "website": "web",
    "laman": "web", "down": "error", "eror": "error", "kali": "sungai", "bantaran": "sungai", "pkl": "dagang",
    "jual": "dagang", "kebakar": "bakar", "api": "bakar", "kering": "alir", "genang": "banjir", "luap": "banjir", "luber": "banjir",
    "tebing": "longsor", "jukir": "parkir", "simpang": "perempatan", "busuk": "bau", "sesak": "asap",
    "berkas": "dokumen", "unggah": "upload", "daftar": "daftar", "hancur": "rusak", "kelupas": "rusak",
    "elupas": "rusak", "motor": "kendara", "mobil": "kendara", "truk": "kendara", "pengendara": "kendara",
}
_PREFIXES = ("memper", "diper", "meng", "meny", "peng", "peny", "ber", "ter", "per", "mem", "men", "pem", "pen",
             "me", "di", "ke", "se", "ng", "ny")
_SUFFIXES = ("nya", "nyo", "nye", "kan", "lah", "an", "i")  # (-nyo, -nye: Palembang, Minang, Pontianak)


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """A light Indonesian affix stripper (one suffix, one prefix) plus the synonym map above."""
    if word in SYNONYMS:
        return SYNONYMS[word]
    if len(word) > 5:
        for suffix in _SUFFIXES:
            if word.endswith(suffix) and len(word) - len(suffix) >= 4:
                word = word[: -len(suffix)]
                break
        for prefix in _PREFIXES:
            if word.startswith(prefix) and len(word) - len(prefix) >= 4:
                word = word[len(prefix):]
                break
    return SYNONYMS.get(word, word)


def stable_hash(text: str) -> int:
    """A 32-bit hash that is the same in every process (Python's ``hash`` is salted per run)."""
    return zlib.crc32(text.encode("utf-8"))


def _clean_name(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", name.lower()).strip()


# the words a landmark regex match starts with (a text without one is not searched); the weak ones are words
# in lower case ("kali ini", "rumah", "mi ayam") and searched only when written as a landmark
_LANDMARK_KINDS = frozenset("""
pasar perum perumahan terminal masjid mesjid musala musholla gereja sdn sd smpn smp sman sma smkn smk mtsn mts min
mi ma puskesmas rsud rsia rsi rs rumah taman stasiun kantor alun alun2 kampung komplek kompleks perumnas griya bumi
simpang tpu tps tpa halte sungai kali lapangan rusunawa rusun pt cv jembatan gor stadion kampus
tukad parit kanal handil anjir pantai pante greja surau meunasah dermaga pelabuhan bundaran tugu monumen danau waduk siring
villa vila puri graha wisma pondok asrama cluster klaster
""".split())
_WEAK_KINDS = frozenset("kali mi ma min rumah tukad parit kanal handil anjir".split())
_WEAK_KIND = re.compile(r"\b(?:MI|MA|MIN|Kali|Tukad|Parit|Kanal|Handil|Anjir)\b|[Rr]umah [Ss]akit")
# their findall tries a match only where one of the pattern's words begins (router.fastre: the same lists)
# (_LANDMARK is searched match by match behind its own word check, _LANDMARK_KINDS, and tried where a kind begins:
# searched whole, its ~60 kinds in any case cost ~40 us a search on the bench mails, ~20 us anchored)
_RT_RW, _RT, _RW, _ABBREV_STREET, _JALAN_LOWER, _AREA, _BLOK, _NUMBERED, _GANG_NUMBER, _HOUSE, _LANDMARK = map(  # type: ignore
    Anchored, (_RT_RW, _RT, _RW, _ABBREV_STREET, _JALAN_LOWER, _AREA, _BLOK, _NUMBERED, _GANG_NUMBER, _HOUSE, _LANDMARK))


# a place named as a comparison or a reference point: "takut longsor kayak RT 6", "dekat RT 02", "sing SD 1
# wes didandani, sing iki kapan"
_COMPARED = re.compile(r"\b(?:kayak|kaya|kyk|seperti|spt|koyok|koyo|kados|mirip|like|dekat|deket|dkt|cedhak|cedak|"
                       r"sebelah|samping|sing|yang|yg)\s+((?:rt|rw|sd|sdn|smp|smpn|sma|sman|smk|smkn)\b\.?\s*\d{1,3}\b)",
                       re.I)
_COMPARED = Anchored(_COMPARED)  # type: ignore[assignment]
# (and these, case-insensitive: every position tried costs more than finding their words first)
_RT_RANGE, _ROMAN_UNIT, _NUM_AFTER_WHERE = map(  # type: ignore[assignment]
    Anchored, (_RT_RANGE, _ROMAN_UNIT, _NUM_AFTER_WHERE))
# a place set against the text's own: "jauh dari RT 3", "beda jalur pipa samo RT 12", "yang kemarin difogging tu
# RW 2", "skrg SMPN 6 yg roboh, kemarin SMP 5" (the one dealt with or reported before) — how any writer says which
# neighbouring unit is not theirs
_CONTRAST = re.compile(r"\b(?:jauh\s+(?:dari|dr|ti|tina|karo|sama|samo)\s+|beda\s+(?:[a-z]+\s+){0,3}?(?:sama|samo|ama|"
                       r"dengan|dgn|dari|dr|karo|kalih|jeung|sareng|kaliyan)\s+|(?:yang|yg|nu|sing)\s+(?:kemarin|kemaren|"
                       r"kmrn|kmarin|tadi|td|wingi|kamari|kapungkur|sudah|udah|udh|sdh|la|lah|wis|wes|tos|geus)"
                       r"\s+(?:[a-z]+\s+){0,3}?|(?<=[,.;]\s)(?:kemarin|kemaren|kmrn|wingi|kamari)\s+)"
                       r"((?:rt|rw|sd|sdn|smp|smpn|sma|sman|smk|smkn)\b\.?\s*\d{1,3}\b)", re.I)
_SETTLED_SCHOOL = re.compile(r"\b((?:sd|smp|sma|smk)\s+\d{1,3})\s+(?:udah|sudah|udh|sdh|wes|wis|la)\s+", re.I)
_COMPARED_KINDS = ("rt:", "rw:", "lm-", "gg:", "street:", "kel:")
# "Selain di dekat gang 5, Jalan Kelayan A dekat mulut gang 9 juga rusak": the aside names the place already told
# the place a text says it is not, in Indonesian and Javanese ("bukan Kampung X", "dudu SD 15, iki SD 51",
# "Punika RW 06, sanes RW 04", "ora sing RT 04"), or whose neglect it protests ("aja mung RT 01 sing dipikir",
# "jangan cuma Moewardi yg dibenerin")
_NOT_PLACE = re.compile(r"\b(?:bukan|dudu|sanes|ora\s+sing|(?:jangan|aja|ojo|ojok)\s+(?:cuma|hanya|mung|cuman))\s+"
                        r"(?:di\s+|nang\s+|ing\s+)?((?:[A-Za-z]+\s+){0,3}(?:[A-Za-z]+\s+\d{1,3}\b|[A-Za-z0-9]+))", re.I)
# the place of another report the text says was sent already ("RT 7 jare wis lapor, iki RT 8", "Blok B katanya
# sudah dilaporkan"): a place of the kind it names for its own
_REPORTED_PLACE = re.compile(r"\b((?:rt|rw|blok|sd|smp|sma|smk|gang|gg)\.?\s*[a-z0-9]{1,3})\s+(?:jare|jarene|katanya|"
                             r"kabarnya)\s+(?:wis|wes|sudah|udah|sampun|sdh)\s+(?:di)?(?:lapor|laporkan|lapurke|lapurake|"
                             r"dilaporkan|dilapurke)", re.I)
# (whole words: "mung" is in "mungkin")
_NOT_WORDS = re.compile(r"\b(?:bukan|dudu|sanes|ora\s+sing|cuma|cuman|hanya|mung|jare|jarene|katanya|kabarnya)\b")
# (these too: tried where one of their words begins, router.fastre)
# (_NOT_WORDS stays whole: its words are common enough that trying each costs more than one search; but a text
# holding none of them anywhere, most texts, is not searched: ~18 us a long mail, ~1 us for the substrings)
_NOT_HINTS = ("bukan", "dudu", "sanes", "ora", "cuma", "hanya", "mung", "jare", "katanya", "kabarnya")
_LONG_STREET, _LETTERED, _SLASH_STREET, _NUMBERED_STREET, _DIGIT_STREET = map(  # type: ignore[assignment]
    Anchored, (_LONG_STREET, _LETTERED, _SLASH_STREET, _NUMBERED_STREET, _DIGIT_STREET))
_ASIDE_PLACE = re.compile(r"\bselain\s+(?:di\s+)?(?:dekat\s+|depan\s+)?([^,.;:\n]{2,30}),", re.I)


def extract_places(text: str, location: Mapping[str, Any] | None = None) -> set[str]:
    """Place keys (``kel:…``, ``kec:…``, ``street:…``, ``rt:N``, ``rw:N``) from the text and the gazetteer."""
    places = {_numbered_kelurahan(key) if key.startswith(("kel:", "lm-")) else key
              for key in _extract_places(text, location)}
    low = text.lower()
    places = _street_before_kelurahan(places, low)
    if "tapi" in low or "tp" in low or "namun" in low or "but" in low:
        places = _after_settled(text, places, location)
    found = _COMPARED.findall(text) if ("rt" in low or "rw" in low or "sd" in low or "sm" in low) else []
    if "sd" in low or "sm" in low:  # "SMP 3 udah libur, SMP 23 kok masih masuk": the first is the reference
        found += _SETTLED_SCHOOL.findall(canonical_places(text))
    if "selain" in low:
        found += _ASIDE_PLACE.findall(canonical_places(text))
    if "jauh" in low or "beda" in low or "yang" in low or "yg" in low or "nu " in low or "sing" in low or \
            "kemar" in low or "kmrn" in low or "wingi" in low or "kamari" in low:
        found += _CONTRAST.findall(text)
    if any(map(low.__contains__, _NOT_HINTS)) and _NOT_WORDS.search(low):  # "RT 05 … Jl. Tanjung Raya 1, bukan Kampung Beting": not there
        canonical = canonical_places(text)
        for snippet in _NOT_PLACE.findall(canonical) + _REPORTED_PLACE.findall(canonical):
            negated = _extract_places(snippet, None) & places
            if negated and places - negated:
                places -= negated
                places.update("not:" + key for key in negated)  # kept apart from a report there
    if found:
        # drop a compared or reference place when the text names another of its kind (its own)
        for snippet in found:
            for key in _extract_places(snippet, None):
                if key.startswith(_COMPARED_KINDS) and key in places:
                    kind = key.partition(":")[0]
                    if any(other != key and other.partition(":")[0] == kind and
                           not (kind == "lm-sekolah" and other.startswith(key + " ")) for other in places):
                        places.discard(key)
    return places


def _street_before_kelurahan(places: set[str], low: str) -> set[str]:
    """"Jl. A. Yani Karang Rejo" is Jl. A. Yani in Karang Rejo: a street name that took the kelurahan's first
    word ("yani karang") loses it."""
    if "lampu jalan " in low:
        # "lampu jalan Kebun Bunga RT 11": the street light of kelurahan Kebun Bunga, not a street of that name
        places = {key for key in places if not (key.startswith("street:") and "kel:" + key[7:] in places and
                                                f"lampu jalan {key[7:]}" in low)}
    kelurahan = [key[4:] for key in places if key.startswith("kel:")]
    if not kelurahan:
        return places
    out = set()
    for key in places:
        if key.startswith("street:") and " " in key:
            head, _, last = key[7:].rpartition(" ")
            if any(kel.startswith(last + " ") and f"{head} {kel}" in low for kel in kelurahan):
                key = "street:" + head
        elif key.startswith("lm-") and not key.startswith("lm-sekolah:") and " " in key:
            # a landmark's name took the kelurahan after it, one word or the first of two ("sungai cikapundung
            # babakan ciamis", "bar di danau tamblingan sanur", "Pantai Sindhu Sanur"): the landmark is in it
            kind, _, name = key.partition(":")
            head, _, last = name.rpartition(" ")
            if any((kel == last or kel.startswith(last + " ")) and f"{head} {kel}" in low for kel in kelurahan):
                key = f"{kind}:{head}"
        out.add(key)
    return out


def _numbered_kelurahan(key: str) -> str:
    """"kel:tumumpa ii", "kel:tumumpa dua" → "kel:tumumpa 2" (a kelurahan split in two, named either way; a
    landmark too: "TPS Sindulang Satu" is "TPS Sindulang 1")."""
    head, _, last = key.rpartition(" ")
    number = NUMBER_WORDS.get(last) or _ROMAN.get(last)
    return f"{head} {number}" if head and number else key


# (FIXED, tried only where one of its words begins: its case-insensitive alternatives cost ~120 us a text at
# every position, ~65 us there; the same leftmost match)
_FIXED_WORDS = Anchored(FIXED)
_SETTLED_BUT = re.compile(r"\b(?:tapi|tp|tpi|namun|but)\b", re.I)
_FINE_KINDS = ("street:", "lm-", "gg:", "rt:", "sub:", "blok:", "unit-")


def _after_settled(text: str, places: set[str], location: Mapping[str, Any] | None) -> set[str]:
    """"lampu taman Alun-alun Kapuas udah nyala, tp lampu taman di Taman Akcaya mati": the place of the settled
    matter (before "tapi") is not where the new complaint is, when the rest names a place of its own."""
    fixed = _FIXED_WORDS.search(text)
    if fixed is None:
        return places
    but = _SETTLED_BUT.search(text, fixed.end())
    if but is None:
        return places
    # (the classifier's location is the whole text's: the tail must name a place of its own in its words)
    tail = _extract_places(text[but.end():], None)
    if not any(key.startswith(_FINE_KINDS) for key in tail):
        return places
    if not location:
        return tail
    # (the location's RT, RW or street is the settled matter's when the tail names one of that kind itself)
    kinds = {key.partition(":")[0] for key in tail}
    return tail | {key for key in _extract_places("", location) if key.partition(":")[0] not in kinds}


def _extract_places(text: str, location: Mapping[str, Any] | None = None) -> set[str]:
    places: set[str] = set()
    match: re.Match[str] | None  # the loops' and the landmark search's (declared for mypy/mypyc)
    # written with capitals (names capitalised, not only acronyms): a lower-case word after a name is running text
    cased = not text.islower() and _TITLE_WORD.search(text) is not None
    text = canonical_places(text)  # "SD Negeri 5" = "SDN 5" = "SD 5"; "Jl."/"jln" = "jl"
    # ASCII text: a regex runs only when its literal words occur (re.I and str.lower agree on ASCII)
    low = text.lower() if text.isascii() else None
    text_words = set(_WORD.findall(low)) if low is not None else set()
    if low is None or "rt" in low or "rw" in low:
        pairs = _RT_RW.findall(text)
        for rt, rw in pairs:
            places.update((f"rt:{int(rt)}", f"rw:{int(rw)}"))
        text_rest = _RT_RW.sub(" ", text) if pairs else text
        for rt, rw in _RT.findall(text_rest):
            places.add(f"rt:{int(rt)}")
            if rw:
                places.add(f"rw:{int(rw)}")
        for rw in _RW.findall(text_rest):
            places.add(f"rw:{int(rw)}")
        for first, last in _RT_RANGE.findall(text_rest):  # "RT 09 s.d. RT 12": the RTs between too
            if 0 < int(last) - int(first) <= 20:
                places.update(f"rt:{n}" for n in range(int(first), int(last) + 1))
    if low is None or "jl" in low or "gg" in low:
        for kind, first, second in _ABBREV_STREET.findall(text):
            # a gang and a street of one name are two places ("Gg. Kenanga" off "Jl. Kenanga")
            if kind.lower() == "gg":
                _add_gang(places, first, second, cased)
            else:
                _add_name(places, "street", first, second, cased)
    if low is None or "jalan" in low or "gang" in low:
        for first, second in _LONG_STREET.findall(text.title() if text.isupper() else text):
            _add_name(places, "street", first, second, cased)
        if low is None or "jalan " in low or "gang " in low:  # "jalan sekeloa": a street unless a common word
            common = _common_words()
            lettered = dict(_LETTERED.findall(text))
            for kind, first, second in _JALAN_LOWER.findall(text):
                if first in lettered and first not in common:  # "jalan kelayan B": a name, though it looks affixed
                    _add_name(places, "street", first, lettered[first], False)
                elif first not in common and not _AFFIXED.match(first) and len(first) >= 4:
                    if kind == "gang":
                        _add_gang(places, first, second, cased)
                    else:
                        _add_name(places, "street", first, second, cased)
    if low is None or "gg" in low or "jl" in low:
        _numbered(places, text)
        _numbered_by_digit(places, text)
        if "/" in text:
            for first in _SLASH_STREET.findall(text):  # "Jl Prawirotaman/Parangtritis": two streets
                _add_name(places, "street", first, "", cased)
    if low is None or not text_words.isdisjoint(_COMPASS_WORDS):
        lower = low if low is not None else text.lower()
        for name, direction in (_COMPASS_CASED.findall(text) if cased else []) + _COMPASS_LOWER.findall(lower):
            words = [w for w in name.lower().split() if w not in _NOT_A_NAME and w not in FILLERS]
            if words and not any(w in _RUNNING or w in CLASS_WORDS for w in words) and \
                    (name[:1].isupper() or direction in ("wetan", "kulon", "lor", "kidul") or
                     words[0] not in _common_words()):
                places.add(f"arah:{''.join(words)} {_COMPASS.get(direction.lower(), direction.lower())}")
    if low is None or " no " in low or " no." in low or "nomor" in low or "nomer" in low or " nmr" in low:
        for match in _HOUSE.finditer(text):
            if not _OWN_ADDRESS.search(text, max(0, match.start() - 40), match.start()):
                places.add(f"hn:{int(match.group(1) or match.group(2) or match.group(3))}")
    if low is None or "kel" in low or "kec" in low or "desa" in low or "nagari" in low or "gampong" in low:
        for match in _AREA.finditer(text):
            kind, name = match.groups()
            if name.partition(" ")[0].lower() in _AREA_RUNNING:
                continue
            first, _, second = name.partition(" ")
            _add_numbered(places, "kec" if kind.lower().startswith("kec") else "kel", _clean_name(first),
                          second.strip(), cased, text, match.end())
    if cased and (low is None or "rw" in low):
        for first, second in _AFTER_RW.findall(text):
            if first.lower() not in ("kel", "kelurahan", "desa", "kec", "kecamatan"):
                _add_name(places, "kel", first, second, cased)
    if low is None or "mall" in low or "plaza" in low or " mal " in low:
        # a mall is named before its kind ("Grage Mall", "Big Mall", "depan mega mall"), by the word before it
        # ("Palu Grand Mall" is "grand": the words before that may be running text, "parak Big Mall")
        for name in _MALL.findall(text):
            name = name.lower()
            if name not in _NOT_A_NAME and name not in FILLERS and name not in _REF_WORDS and \
                    name not in _LANDMARK_KINDS and name not in _common_words():  # ("simpang Mall Lembuswana")
                places.add("lm-mall:" + name)
        # and by the initials of its capitalised words and its kind ("Palembang Indah Mall" is "PIM", "Bogor Trade
        # Mall" "BTM"): the name citizens shorten it to, kept beside the word before the kind
        for words, kind in _MALL_NAME.findall(text):
            short = _acronym(words.split() + [kind])
            if short:
                places.add("lm-mall:" + short)
    kinds = text_words & _LANDMARK_KINDS
    if low is None or (kinds and (not kinds <= _WEAK_KINDS or _WEAK_KIND.search(text))):
        pos = 0
        while (match := _LANDMARK.search(text, pos)) is not None:
            kind, first, second = match.group(1), match.group(2), match.group(3) or ""
            pos = match.start(2)  # "TPS di pasar Cicadas": a landmark may follow in the words read as a name
            if text[max(0, match.start() - 3):match.start()].lower() == "jl ":
                continue  # "Jl. Taman Siswa", "Jl. Pasar Kembang": a street's name
            if len(kind) >= 5 and text[match.end(1):match.end(1) + 1] == ".":
                continue  # "dipindah ke musala. Kayu kasau …": the sentence ends, no name follows
            if _LANDMARK_WORD.fullmatch(first):
                continue  # "TPS Pasar Baru", "Halte Terminal Mangkang": the inner landmark names it
            if kind.lower() == "bumi" and not kind[0].isupper():
                continue  # Sundanese "bumi" is a house ("cai tos lebet ka bumi"), not Perumahan Bumi …
            if kind.lower() in _CASED_KINDS and not (kind[:2].isupper() if kind.lower() not in _CASED_NAMES else
                                                     kind[0].isupper() and first[:1].isupper()):
                continue
            kind = kind.lower()
            level = _SCHOOL_KINDS.get(kind)
            if level is not None:
                if first.isdigit():
                    # the word after the number: the school's kelurahan ("SDN 3 Cibiru"), unless an
                    # abbreviation ("SMPN 3 Smg") or running text
                    found: set[str] = set()
                    if second and len(second) > 3 and second.lower() not in city_words():
                        _add_name(found, "x", "n", second, cased)
                    extra = next((key[4:] for key in found if key.startswith("x:n ")), "")
                    places.add(f"lm-sekolah:{level} {int(first)}{' ' + extra if extra else ''}")
                else:
                    found = set()
                    _add_name(found, "x", first, second, cased)
                    places.update(f"lm-sekolah:{level} {key[2:]}" for key in found)
                continue
            if kind in _LOOSE_LANDMARKS and (first.lower() in _common_words() or
                                             (not first[:1].isupper() and _AFFIXED.match(first.lower()))):
                continue
            if second and kind.lower() == "simpang" and first.lower().rstrip(".") in _RANKS and \
                    second.lower() not in _common_words():
                # "simpang Letjen Mashudi": a crossing named after an officer is named by the name, as the street is
                # ("Jl. Letjen Mashudi" is Mashudi)
                first, second = second, ""
            if kind in ("griya", "bumi"):  # part of the estate's name: "Griya Asri"
                first, second = f"{kind} {first.lower()}", ""
            elif kind == "simpang" and first.lower() in ("3", "4", "5", "tiga", "empat"):
                # "simpang 4 Jl. A - Jl. B", "simpang tiga Rapak": how many roads meet, not a name ("Simpang
                # Lima" is one) — the name, if any, is the next word
                if not second:
                    continue
                first, second = second, ""
            if kind == "simpang" and "-" in first.strip("-"):  # "simpang kircon-jakarta": two streets meet
                for part in first.strip("-").split("-"):
                    _add_name(places, "lm-simpang", part, "", cased)
                continue
            if _NEAR.search(text, max(0, match.start() - 9), match.start()):
                # "rumah kebakaran di Bumijo dekat Pasar Kranggan": a reference point, not the place itself
                found = set()
                if first.lower() in _NOT_A_NAME or first.lower() in FILLERS:
                    continue  # "deket pasar mati sejak semalam": the landmark unnamed, the water is "mati"
                _add_name(found, "near", _LANDMARK_TYPE.get(kind, kind) + " " + first.lower(), "", cased)
                places.update(found)
                continue
            if kind != "simpang" and second and first.lower() in _NAME_NUMBERS:
                # "TPS Limo Ilir", "TPS Lima Ilir" and "TPS 5 Ilir" are one TPS: the number of its name as a digit
                first = str(_NAME_NUMBERS[first.lower()])
            _add_numbered(places, "lm-" + _LANDMARK_TYPE.get(kind, kind), first, second, cased, text,
                          -1 if first.isdigit() else match.end() if second else match.end(2))
    if low is None or not text_words.isdisjoint(_UNIT_WORDS):
        for label, number in _UNIT.findall(text) + _LETTERED_UNIT.findall(text):
            label = label.lower().split()[0]
            places.add(f"unit-{_UNIT_LABEL.get(label, label)}:{number.lower().lstrip('0') or '0'}")
        for label, roman in _ROMAN_UNIT.findall(text):  # "Jembatan II" = "jembatan 2"
            label = label.lower().split()[0]
            places.add(f"unit-{_UNIT_LABEL.get(label, label)}:{_ROMAN.get(roman.lower(), 1)}")
    if low is None or any(map(str.isdigit, text)) or (cased and ("I" in text or "V" in text or "X" in text)):
        _numbered_labels(places, text, cased)
    if (low is None or not text_words.isdisjoint(_REF_WORDS)) and any(p.startswith("street:") for p in places):
        _spots(places, text)
    if low is None or not text_words.isdisjoint(_SUB_WORDS):
        for match in _SUB.finditer(text):
            _sub_unit(places, match)
    if low is None or "blok" in low:
        places.update(f"blok:{name.lower()}" for name in _BLOK.findall(text))
    if location:
        for key, value in location.items():
            prefix = _LOCATION_KEYS.get(str(key).lower())
            if prefix and isinstance(value, str) and value.strip():
                name = _clean_name(value)
                for cut in ("kelurahan ", "kecamatan ", "desa ", "kel ", "kec "):
                    name = name.removeprefix(cut)
                places.add(f"{prefix}:{int(name) if prefix in ('rt', 'rw') and name.isdigit() else name}")
    if "(" in text and any(key.startswith("street:") for key in places):
        _bracket_aliases(places, text)
    if low is None or "ujung" in low or "pangkal" in low:
        _street_ends(places, text)
    if low is None or not text_words.isdisjoint(_ENGLISH_KINDS):
        _english_landmarks(places, text)
    if any(key.startswith("arah:") for key in places):
        _drop_area_sides(places)
    if any(key.startswith("kel:") for key in places):
        _drop_area_from_streets(places)
    return places


# the end of a street a report is at ("ujung utara Jl. Pemuda", "pangkal Jl. Pemuda", "Jl. Pemuda ujung selatan"): the
# two ends of one long street are two places; "dari ujung ke ujung" is the whole street, "ujung gang" a gang's end
_STREET_END = re.compile(r"\b(ujung|pangkal)\b(?:\s+(utara|selatan|timur|barat|wetan|kulon|lor|kidul|atas|bawah))?"
                         r"(?!\s+(?:ke|sampai|sampe|hingga|gang|gg|blok|parit|lorong)\b)", re.I)
_END_SIDE = {"wetan": "timur", "kulon": "barat", "lor": "utara", "kidul": "selatan"}


def _street_ends(places: set[str], text: str) -> None:
    """``end:<side>`` for the end of a street a report names (the side, else "ujung" or "pangkal")."""
    if not any(key.startswith("street:") for key in places) or re.search(r"\bke\s+ujung\b", text, re.I):
        return
    for end, side in _STREET_END.findall(text):
        side = side.lower()
        places.add("end:" + (_END_SIDE.get(side, side) if side else end.lower()))


# a street's other name in brackets after it ("Jl. Basuki Rahmat (Kayutangan)", "Jl. RE Martadinata (Riau)"): the
# name many citizens still use, as another street key of the same place (not a kelurahan or a kecamatan in
# brackets, "Jl. Pemuda (Kedung Badak)", which the area keys already hold)
_BRACKET_ALIAS = re.compile(r"\bjl\b\.?\s*[A-Za-z][^()\n,;:]{1,40}?\s*\(\s*([A-Za-z][a-z'\-]{2,}(?:\s+[A-Za-z][a-z'\-]{2,})?)"
                            r"\s*\)", re.I)


def _bracket_aliases(places: set[str], text: str) -> None:
    """``street:<alias>`` for a street's bracketed other name."""
    common = _common_words()
    areas = {key.partition(":")[2] for key in places if key.startswith(("kel:", "kec:"))}
    for alias in _BRACKET_ALIAS.findall(text):
        name = _clean_name(alias)
        words = name.split()
        if not words or name in areas or any(w in common or w in _STREET_TITLES or w.isdigit() for w in words):
            continue
        places.add("street:" + name)


# a landmark named in English after its name ("Sindhu beach", "Badung market"): the kind it is in Indonesian
_ENGLISH_KIND = {"beach": "pantai", "market": "pasar", "mosque": "masjid", "bridge": "jembatan", "park": "taman",
                 "river": "sungai", "church": "gereja", "hospital": "rs", "station": "stasiun"}
_ENGLISH_KINDS = frozenset(_ENGLISH_KIND)
_ENGLISH_LANDMARK = re.compile(r"\b([A-Za-z][a-z]{2,})\s+(beach|market|mosque|bridge|park|river|church|hospital|"
                               r"station)\b", re.I)
_ENGLISH_FILLERS = frozenset("the this that our my your a an at on in near by of to from main public local big old new "
                             "city town".split())


def _english_landmarks(places: set[str], text: str) -> None:
    """``lm-<kind>:<name>`` for a landmark named in English ("Sindhu beach" is "pantai Sindhu")."""
    common = _common_words()
    for name, kind in _ENGLISH_LANDMARK.findall(text):
        low = name.lower()
        if low in _ENGLISH_FILLERS or low in common or low in _LANDMARK_KINDS:
            continue
        places.add(f"lm-{_ENGLISH_KIND[kind.lower()]}:{low}")


def _drop_area_from_streets(places: set[str]) -> None:
    """"Jl. Sisingamangaraja Brontokusuman" is the street Sisingamangaraja in the kelurahan Brontokusuman."""
    areas = {key[4:] for key in places if key.startswith("kel:")}
    for key in [key for key in places if key.startswith("street:") and " " in key]:
        name, _, last = key[7:].rpartition(" ")
        if last in areas and name and not name.startswith("gg"):
            places.discard(key)
            places.add(f"street:{name}")


def _drop_area_sides(places: set[str]) -> None:
    """A compass name that is a kelurahan's or kecamatan's own ("Kuin Utara", "Srondol Wetan") says no more
    than the area: not a finer place two reports can agree on."""
    areas = set()
    for key in places:
        kind, _, name = key.partition(":")
        if kind in ("kel", "kec") and " " in name:
            base, _, side = name.rpartition(" ")
            areas.add(f"{base.replace(' ', '')} {_COMPASS.get(side, side)}")
    places.difference_update([key for key in places if key.startswith("arah:") and key[5:] in areas])


@lru_cache(maxsize=1)
def _common_words() -> frozenset[str]:
    """Words that are never a place name's second word in lower-case text: fillers, running words, the
    problem words and every word of the slang lexicon (either side)."""
    from router.normalise import default_lexicon

    lexicon = default_lexicon()
    words = {w for value in lexicon.values() for w in value.split()} | set(lexicon)
    return frozenset(words | FILLERS | _NOT_A_NAME | _RUNNING | CLASS_WORDS | _OBJECTS)


# things complained about: never a place name's second word in lower-case text ("jl fatmawati pipa pdam pecah")
_OBJECTS = frozenset("""
pipa kabel tiang lampu air sampah trotoar aspal paving pju motor mobil truk rumah toko warung sekolah kantor
pohon got selokan saluran lubang jembatan pdam pln listrik genangan macet parkir pedagang lapak
lt lantai koridor trayek loket kios los blok tiang
""".split())


def _numbered(places: set[str], text: str) -> None:
    """Numbered gangs and streets: "gg 3"; "Gang Mawar II" = "gg mawar 2" replaces the unnumbered key."""
    for number in _GANG_NUMBER.findall(text):
        digits = number.rstrip("abcdeABCDE")  # "gang 1" of some street: another numbered gang is another place
        places.add(f"gg:{int(digits)}{number[len(digits):].lower()}")
    for kind, name, roman, gkind, gname, digits in _NUMBERED.findall(text):
        kind = (kind or gkind).lower()
        name = " ".join(_street_word(word) for word in (name or gname).lower().split())
        if name.partition(" ")[0] in _NOT_A_NAME or name in FILLERS or name in _RUNNING:
            continue
        number = _ROMAN[roman.lower()] if roman else int(digits)
        prefix = "street:gg " if kind == "gg" else "street:"
        places.discard(prefix + name)
        if roman:
            places.discard(f"{prefix}{name} {roman.lower()}")
        places.add(f"{prefix}{name} {number}")
    for name, digits in _NUMBERED_STREET.findall(text):
        name = _street_word(name.lower())
        if name in _NOT_A_NAME or name in FILLERS or name in _RUNNING or name in _common_words():
            continue
        places.discard("street:" + name)
        places.add(f"street:{name} {int(digits)}")


def _numbered_by_digit(places: set[str], text: str) -> None:
    """"Jl. Wahid Hasyim 1" and "Jl. Wahid Hasyim 2" (= "II") are two streets: one digit right after a
    street's name, not after "no", numbers the street (a house number is written "No. 2" or has more
    digits); it replaces the unnumbered key as a Roman numeral does."""
    for name, digit in _DIGIT_STREET.findall(text):
        words = [_street_word(word) for word in name.lower().split()]
        if words[0] in _STREET_TITLES and len(words) > 1:
            words = words[1:]
        if words[0] in _NOT_A_NAME or words[0] in FILLERS or words[0] in _RUNNING or words[-1] in _NOT_A_NAME:
            continue
        key = "street:" + " ".join(words)
        if key in places or "street:" + words[0] in places:
            places.discard(key)
            places.discard("street:" + words[0])
            places.add(f"{key} {digit}")


def _spots(places: set[str], text: str) -> None:
    """``ref:<name>`` for the named spot a street complaint points at ("depan Pasar Cinde" → cinde, "dkt pom
    bensin" → spbu); a kind of building alone ("depan kampus", "depan ruko") names no spot."""
    common = _common_words()
    street_words = {w for p in places if p.startswith("street:") for w in p[7:].split()}
    for first, second in _REF.findall(text):
        for word in (first.lower().rstrip("0123456789"), second.lower().rstrip("0123456789")):
            spot = _REF_SAME.get(word) or _PEPET.sub(r"\1\2", word)
            if len(word) >= 3 and word not in common and spot not in _REF_SKIP and word not in street_words and \
                    word not in _STREET_TITLES and \
                    word not in _COMPASS_WORDS and not _AFFIXED.match(word):
                places.add("ref:" + spot)


def _sub_unit(places: set[str], match: re.Match[str]) -> None:
    """``sub:<name>`` for "Banjar Sekar Kangin", "Br. Kaja", "Dusun Krajan", "Lingkungan V" (= "lingkungan 5")."""
    unit, first, second = match.group(1), match.group(2), match.group(3) or ""
    if unit.lower() in ("ling", "lingk", "dsn", "lk", "rk") and not (first[:1].isupper() or first.isdigit()):
        return  # an abbreviation is a unit's only before a name written as one
    if unit.lower() in ("lk", "rk") and not unit.isupper():
        return  # ("lk" is also "laki-laki"): in capitals only
    if unit == "br" and match.string[:match.start()].lower() != match.string[:match.start()]:
        return  # "br" is also "baru": in lower case only in a text written all in lower case
    if first.isdigit() or (first.isupper() and (first.lower() in _ROMAN or first == "I")):
        places.add(f"sub:{int(first) if first.isdigit() else _ROMAN.get(first.lower(), 1)}")
        return
    if first.lower() in NUMBER_WORDS:  # "lingkungan empat" is "lingk 4"
        places.add(f"sub:{NUMBER_WORDS[first.lower()]}")
        return
    name = first.lower()
    if name in _common_words() or name in _SUB_WORDS or len(name) < 3 or "'" in name[-3:]:
        # (and an English contraction: "Whole banjar can't sleep" names no banjar)
        return  # "balai banjar kami", "lingkungan sekitar"
    if second.lower() in _SIDES or (second[:1].isupper() and second.lower() in _TOPONYM_WORDS):
        name += " " + second.lower()  # ("Jorong Koto Tuo" is not "Jorong Koto Baru")
    places.add(f"sub:{name}")


# military and academic ranks before a name (not the nobility's "Pangeran", "Raden", which often begin the name itself:
# "Parit Pangeran")
_RANKS = frozenset("ir dr prof kol let lett letnan jend mayjen mayjend letjen letjend brigjen brigjend kapt kapten mayor "
                   "letkol kolonel jenderal jendral laksamana marsekal".split())

# compass words abbreviated in a street's name ("Jl. Kalibaru Sltn" = "Kalibaru Selatan")
_COMPASS_ABBREV = {"sltn": "selatan", "slt": "selatan", "utr": "utara", "brt": "barat", "tmr": "timur"}


def _street_word(word: str) -> str:
    word = _COMPASS_ABBREV.get(word, word)
    for old, new in _OLD_SPELLING:
        if old in word:
            word = word.replace(old, new)
    return word


# a street's second word that makes it another street of the same first name ("Cempaka Besar"/"Cempaka Kecil",
# "Kelayan Dalam", "Sungai Andai Hulu"): part of the name though it is a common word
_STREET_QUALIFIERS = frozenset("besar kecil dalam luar hulu hilir ujung tengah atas bawah lama".split())
_LANDMARK_FIRST = frozenset("taman pasar kampung stasiun terminal masjid".split())
_STREET_TITLES = frozenset("ir h hj haji hajjah dr kh prof kol let lett letnan jend mayjen mayjend letjen letjend brigjen "
                           "brigjend kapt kapten mayor letkol kolonel jenderal "
                           "jendral laksamana marsekal pangeran raden teuku tengku kyai kiai syekh".split())


# words of many places' names that are common words as well (new, old, long, yellow, salty …; Minang "tuo", Javanese
# "anyar", "gede"): a capitalised one after a name is part of it
_TOPONYM_WORDS = frozenset("baru lama tua tuo anyar gede panjang pendek kuning merah putih hitam hijau biru asin manis "
                           "jaya indah permai asri makmur lestari tinggi rendah lebar".split())
_RING = frozenset(("lingkar",))
# regional particles that follow a name in running text, never its second word: Malay "la"/"lah" (sudah), "tu", "ni"
# ("tps kinibalu la tigo hari idak diangkut"), Makassar "mi", "ji", "ki"; as a first word they may be a name's
# ("Jl. La Ode …")
_PARTICLES = frozenset("la lah tu ni nih tuh kah pun mi ji ki".split())


def _add_name(places: set[str], kind: str, first: str, second: str, cased: bool = False) -> None:
    """Add ``kind:first second`` (or ``kind:first``); a shorter name is compatible with its longer form.

    ``cased``: the text uses capitals, so a lower-case second word ("Jl. Sekeloa teu acan") is running text.
    A street's name is written one way: old spelling ("Soedarto") as now, a leading title or initials
    ("Prof. Sudarto", "MT Haryono", "A. Yani") left out.
    """
    if cased and second and not second[:1].isupper():
        second = ""
    # "Jl. Kali Baru", "Jalan Pasir Panjang", "Jorong Koto Tuo": a word of place names that is a common word too,
    # written with a capital in a text that uses them, is the name's second word ("Kali Baru" is not "Kali Asin")
    named_second = cased and second[:1].isupper() and second.lower() in _TOPONYM_WORDS
    first, second = first.lower(), second.lower()
    if kind == "street":
        first, second = _street_word(first), _street_word(second)
        if second and not second.isdigit() and (first in _STREET_TITLES or (len(first) <= 2 and not first.isdigit())):
            first, second = second, ""
    if "-" in first.strip("-"):  # "Al-Furqon" = "Al Furqon"; "kircon-jakarta" names two
        first, _, second = first.strip("-").partition("-")
    if kind == "street" and first in _RING and second and (second not in _common_words() or second in _COMPASS_WORDS):
        # "Jl. Lingkar Utara", "jalan lingkar barat": a ring road is named by its side (a bare "jalan lingkar" is
        # any ring road)
        places.add(f"{kind}:{first} {_COMPASS.get(second, second)}")
        return
    if not first or first in _NOT_A_NAME or first in FILLERS or first in _RUNNING or \
            (len(first) > 5 and first.endswith(("nya", "nye"))):  # "jalan gangnye berlobang": running text
        return
    common = _common_words()
    if kind == "street" and (second in _STREET_QUALIFIERS or (second == "raya" and first not in _LANDMARK_FIRST)):
        # "Jl. Cempaka Besar" and "Jl. Cempaka Kecil" are two streets; "Jl. Bangbarung Raya" is the main road,
        # not "Jl. Bangbarung 2" (each still meets a bare "Jl. Bangbarung", which may be either)
        places.add(f"{kind}:{first} {second}")
        return
    if second and not named_second and (second in common or second.isdigit() or second in _PARTICLES or (not cased and _AFFIXED.match(second)) or
                   (len(second) > 5 and second.endswith("nya"))) and \
            not (kind == "street" and first in _LANDMARK_FIRST):  # "Jl. Taman Siswa", "jl pasar kembang"
        second = ""
    if second:
        places.add(f"{kind}:{first} {second}")
    else:
        places.add(f"{kind}:{first}")


def _add_numbered(places: set[str], kind: str, first: str, second: str, cased: bool, text: str, end: int) -> None:
    """``_add_name``, with the number that follows the name at ``end`` in ``text`` (if any, and not a quantity of
    a thing) as its last word: "Kel. Malalayang 1" is not "Kel. Malalayang 2", either meets a bare "Malalayang"."""
    tail = _PLACE_TAIL.match(text, end) if end >= 0 and second[:1].isupper() else None
    if tail is not None and tail.group(1).lower() in _TOPONYM_WORDS:
        # "Komplek Pondok Hijau Permai" is not "Pondok Hijau Indah": an estate's third word, when it is one of these
        found: set[str] = set()
        _add_name(found, kind, first, second, cased)
        places.update(f"{key} {tail.group(1).lower()}" if key.endswith(" " + second.lower()) else key for key in found)
        return
    number = _PLACE_NUMBER.match(text, end) if end >= 0 else None
    if number is None:
        _add_name(places, kind, first, second, cased)
        return
    found = set()
    _add_name(found, kind, first, second, cased)
    n = number.group(1) or str(_ROMAN[number.group(2).lower()])
    # (only right after the name: "Pasar Bulu lantai 2" numbers the floor, the running word was dropped; a capitalised
    # one is the name's though it was left out, "Kelurahan Tanjung Raya 2")
    after_name = not second or second[:1].isupper()
    places.update(f"{key} {n}" if after_name or key.endswith(" " + second.lower()) else key for key in found)


def _add_gang(places: set[str], first: str, second: str, cased: bool) -> None:
    """A gang is a street named ``gg …``: never the same place as the street of that name, and a street
    and a gang of other names conflict as two streets do."""
    found: set[str] = set()
    _add_name(found, "street", first, second, cased)
    places.update(f"street:gg {key.partition(':')[2]}" for key in found)


def _abbreviates(short: str, long: str) -> bool:
    """``short`` is a syllable abbreviation of the one-word name ``long`` ("kircon" for "kiaracondong"):
    five letters or more, the same first two, every letter in order, and clearly shorter."""
    if len(short) < 5 or " " in short or " " in long or len(long) * 2 < len(short) * 3 or short[:2] != long[:2]:
        return False
    rest = iter(long[2:])
    return all(ch in rest for ch in short[2:])


def _initials(short: str, long: str) -> bool:
    """``short`` is the initials of the name ``long`` ("ais" for "ade irma suryani")."""
    words = long.split()
    # (a name is kept to two words: "ade irma" stands for "Ade Irma Suryani")
    return len(words) >= 2 and " " not in short and 3 <= len(short) <= len(words) + 1 and \
        short.startswith("".join(w[0] for w in words))


_VOWELS = frozenset("aiueo")


def _acronym(words: list[str]) -> str:
    """The lower-case initials of ``words`` when they make a name's acronym (three to five letters), else ""."""
    short = "".join(word[0] for word in words if word).lower()
    return short if 3 <= len(short) <= 5 and short.isalpha() else ""


def landmark_acronyms(text: str) -> list[str]:
    """The acronyms a text's landmark names shorten to: "Palembang Indah Mall" → pim, "Mal Pelayanan Publik" →
    mpp, "Taman Ade Irma Suryani" → tais and ais. Another text may name the landmark by them alone ("depan PIM",
    "antrian di MPP")."""
    out: list[str] = []
    if "Mal" in text or "Plaza" in text or "Square" in text or "mall" in text or "plaza" in text:
        for words, kind in _MALL_NAME.findall(text):
            out.append(_acronym(words.split() + [kind]))
    for kind, words in _KIND_FIRST_NAME.findall(text):
        names = words.split()
        out.append(_acronym(kind.split() + names))
        if len(names) >= 3:
            out.append(_acronym(names))
    return [short for short in dict.fromkeys(out) if short]


def _one_vowel(x: str, y: str) -> bool:
    """Two spellings of one name: as long, six letters or more, and one vowel apart (names from Arabic or a
    regional language are written with either vowel: "Mustofa"/"Mustafa", "Kinibalu"/"Kinabalu")."""
    if len(x) != len(y) or len(x) < 6 or x == y:
        return False
    diff = [(p, q) for p, q in zip(x, y, strict=True) if p != q]
    return len(diff) == 1 and diff[0][0] in _VOWELS and diff[0][1] in _VOWELS


def _vowels_dropped(short: str, long: str) -> bool:
    """``short`` is the name ``long`` with inner vowels of a word left out, as hasty typing writes it ("btu ampar" for
    "batu ampar", "jl sltn agung"): word for word, each the same or the other without some vowels after its first
    letter, at least one word the same (four letters or more) and at least one shortened."""
    sw, lw = short.split(), long.split()
    if len(sw) != len(lw) or len(sw) < 2:
        return False
    same = shortened = False
    for s_word, l_word in zip(sw, lw, strict=True):
        if s_word == l_word:
            same = same or len(s_word) >= 4
            continue
        if len(s_word) < 2 or len(s_word) >= len(l_word) or s_word[0] != l_word[0] or \
                s_word != l_word[0] + "".join(ch for ch in l_word[1:] if ch not in _VOWELS) and \
                not _subsequence_without_vowels(s_word, l_word):
            return False
        shortened = True
    return same and shortened


def _subsequence_without_vowels(short: str, long: str) -> bool:
    """``short`` is ``long`` with some (not all) of the vowels after its first letter left out."""
    i = 1
    for ch in long[1:]:
        if i < len(short) and short[i] == ch:
            i += 1
        elif ch not in _VOWELS:
            return False
    return i == len(short)


def _compatible(a: Iterable[str], b: Iterable[str], suffix: bool = False) -> bool:
    """True when some name in ``a`` equals or extends (word-wise) some name in ``b``; with ``suffix`` (streets)
    also when one ends with the other ("Ahmad Yani" / "Yani", written "Jl. A. Yani")."""
    for x in a:
        for y in b:
            if x == y or x.startswith(y + " ") or y.startswith(x + " ") or _abbreviates(x, y) or _abbreviates(y, x):
                return True
            if _initials(x, y) or _initials(y, x):  # "Taman AIS" = "Taman Ade Irma Suryani"
                return True
            if (" " in x or " " in y) and (_abbreviates(x.replace(" ", ""), y.replace(" ", "")) or
                                           _abbreviates(y.replace(" ", ""), x.replace(" ", ""))):
                return True  # "Suhat" for "Sukarno Hatta", "Kom Yos" for "Komodor Yos"
            if x.replace(" ", "") == y.replace(" ", ""):  # "Taman Siswa" = "Tamansiswa", "Mandala Krida"
                return True
            if _one_vowel(x, y):  # "Mustofa" = "Mustafa", "Kinibalu" = "Kinabalu"
                return True
            if _vowels_dropped(x, y) or _vowels_dropped(y, x):  # "Btu Ampar" = "Batu Ampar" (typed in haste)
                return True
            if suffix and not x.startswith("gg ") and not y.startswith("gg ") and \
                    (x.endswith(" " + y) and not y.isdigit() or y.endswith(" " + x) and not x.isdigit()):
                return True
    return False


def _numbered_labels(places: set[str], text: str, cased: bool) -> None:
    """``num-<noun>:<n>`` for a thing numbered as a place ("di pos 3", "Ruang IV"), unless the noun is a kind
    read above (a school, a gang, a unit), a word of a place's name ("Jl. Mawar 5") or not a place's label."""
    found = _NUM_AFTER_WHERE.findall(text) + ([(w, n or str(_ROMAN.get(r.lower(), 1)), more)
                                               for w, n, r, more in _NUM_NAME.findall(text)] if cased else [])
    if not found:
        return
    named = place_words(places)
    for label, number, more in found:
        label = label.lower()
        if label in _NOT_NUM_LABEL or label in FILLERS or label in _LANDMARK_KINDS or \
                label in _SCHOOL_KINDS or label in _SUB_WORDS or label in named or label in _NOT_A_NAME or \
                _AFFIXED.match(label):
            continue
        if any(key.startswith(f"unit-{_UNIT_LABEL.get(label, label)}:") for key in places):
            continue  # (read above as a unit: "lantai 3", "pintu air 2")
        places.add(f"num-{label}:{int(number)}")
        if more:
            places.add(f"num-{label}:{int(more)}")


def place_words(places: Iterable[str]) -> set[str]:
    """The words of place names (removed from the content so place and problem are compared apart)."""
    words: set[str] = set()
    for key in places:
        kind, _, name = key.partition(":")
        if kind in ("kel", "kec", "street", "sub") or kind.startswith("lm-"):
            words.update(name.split())
            if kind.startswith("lm-") and kind != "lm-sungai":  # "sungai" says what, as "banjir" does
                words.add(kind[3:])
    return words


def parse_places(places: Iterable[str]) -> dict[str, tuple[str, ...]]:
    """Place keys grouped by kind (``street``, ``kel``, ``kec``, ``rt``, ``rw``, ``lm-pasar``, …).

    Tuples, not frozensets: a cache of these (the index keeps one per distinct place set) is then
    untracked by the garbage collector instead of adding objects for every full collection to walk.
    """
    out: dict[str, list[str]] = {}
    for key in sorted(places):
        kind, _, name = key.partition(":")
        names = out.get(kind)
        if names is None:
            out[kind] = [name]
        elif name not in names:
            names.append(name)
    return {kind: tuple(names) for kind, names in out.items()}


_LABELS = {"kel": "kelurahan", "kec": "kecamatan", "street": "street", "gg": "gang", "sub": "banjar/dusun/lingkungan"}


def place_similarity(a: frozenset[str], b: frozenset[str]) -> tuple[float, str | None]:
    """(agreement 0..1, conflict reason or None) between two sets of place keys."""
    if not a or not b:
        return 0.0, None
    return parsed_similarity(parse_places(a), parse_places(b))


def _same_base(a: str, b: str) -> bool:
    """One name of a place before its compass word: equal, one ends the other ("beteng"/"pojokbeteng") or a
    syllable abbreviation of it ("jokteng" for "pojokbeteng")."""
    if a == b:
        return True
    short, long = (a, b) if len(a) <= len(b) else (b, a)
    if len(short) < 5:
        return False
    if long.endswith(short):
        return True
    if len(long) * 10 < len(short) * 14:
        return False
    rest = iter(long)
    return all(ch in rest for ch in short)


def _directions(a: tuple[str, ...], b: tuple[str, ...]) -> bool | None:
    """True when a name is on the same side in both, False when only on different sides, None when no name
    is shared."""
    verdict = None
    for x in a:
        base_x, _, side_x = x.rpartition(" ")
        for y in b:
            base_y, _, side_y = y.rpartition(" ")
            if _same_base(base_x, base_y):
                if side_x == side_y:
                    return True
                verdict = False
    return verdict


def _side_only(pa: Mapping[str, tuple[str, ...]], pb: Mapping[str, tuple[str, ...]]) -> bool:
    """``pa`` names a place with a side ("Teuku Umar Barat") and ``pb`` a street of that name without one
    ("Jl. Teuku Umar"): in most cities the street with a compass word is another street."""
    sides, streets = pa.get("arah"), pb.get("street")
    if not sides or not streets or pb.get("arah"):
        return False
    return any(_same_base(base, street.replace(" ", "")) or base == street.rpartition(" ")[2]
               for base in (side.rpartition(" ")[0] for side in sides) for street in streets
               if street.rpartition(" ")[2] not in _COMPASS_WORDS)  # ("Jl. Kalibaru Sltn" names its side)


def house_conflict(pa: Mapping[str, tuple[str, ...]], pb: Mapping[str, tuple[str, ...]]) -> bool:
    """Both name a house number on a street and the numbers differ ("Jl. Pandanaran No. 12" / "No. 88")."""
    a, b = pa.get("hn"), pb.get("hn")
    return bool(a and b and not _meet(a, b))


def _meet(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    return any(x in b for x in a)


def _same_block(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    """"Blok C7" is a house in "Blok C" (and "Blok C no 7")."""
    return any(x[len(y):].isdigit() or y[len(x):].isdigit() for x in a for y in b
               if x.startswith(y) or y.startswith(x))


def _negated(negated: tuple[str, ...], other: Mapping[str, tuple[str, ...]]) -> bool:
    """One text says "…, bukan Kampung Beting" and the other names Kampung Beting."""
    for key in negated:
        kind, _, name = key.partition(":")
        if kind in other and _compatible((name,), other[kind], kind == "street"):
            return True
    return False


def _crossing(parsed: Mapping[str, tuple[str, ...]]) -> tuple[str, ...]:
    """The streets a place set names, a crossing's ("simpang Gatsu-Cokroaminoto") included."""
    return parsed.get("street", ()) + parsed.get("lm-simpang", ())


def _other_crossing(pa: Mapping[str, tuple[str, ...]], pb: Mapping[str, tuple[str, ...]]) -> bool:
    """Both name a crossing (two streets, whether as "Jl. A - Jl. B" or "simpang A-B") and only one of its
    streets meets: "simpang Gatsu - Jl. Nangka" is not "simpang Gatsu-Cokroaminoto"."""
    if "lm-simpang" not in pa and "lm-simpang" not in pb:
        return False  # two streets each: the street rule below
    a, b = _crossing(pa), _crossing(pb)
    return len(a) >= 2 and len(b) >= 2 and sum(_compatible((x,), b, True) for x in a) < 2


# a school run by a foundation is numbered apart from the state ones: "SMP Muhammadiyah 4" is not "SMPN 4"
_FOUNDATIONS = frozenset("muhammadiyah aisyiyah pgri kristen katolik islam it nu maarif advent tamansiswa "
                         "muslimat".split())


# buildings that a city numbers when it has two of one name ("Puskesmas Kenari II", "Pasar Baru 2", "TPS Kenari 2"; not
# a river, a beach or an estate, whose number is often the kelurahan's: "Sungai Kedukan 7 Ulu")
_NUMBERED_BUILDINGS = frozenset("lm-puskesmas lm-pasar lm-masjid lm-gereja lm-rs lm-tps lm-halte lm-terminal lm-stasiun "
                                "lm-rusunawa lm-mall".split())


def _unit_number(name: str) -> tuple[str, int]:
    """A landmark's name and its number: "kenari 2" and "kenari ii" are (kenari, 2); "kenari", "kenari i" (kenari, 1)."""
    base, _, last = name.rpartition(" ")
    if base and last.isdigit():
        return base, int(last)
    if base and (last in _ROMAN or last == "i"):
        return base, _ROMAN.get(last, 1)
    return name, 1


def _other_number(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    """One landmark name and another number ("Puskesmas Kenari" / "Puskesmas Kenari II", "Pasar Baru 2"): the second
    of two buildings of one name, unless a name of the one also meets the other's with its number."""
    other = False
    for x in a:
        base_x, number_x = _unit_number(x)
        for y in b:
            base_y, number_y = _unit_number(y)
            if base_x == base_y:
                if number_x == number_y:
                    return False
                other = True
    return other


def _private_only(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    """Every school of ``a`` that meets one of ``b`` by name meets it only across a foundation's word."""
    met = False
    for x in a:
        fx = _FOUNDATIONS.intersection(x.split())
        for y in b:
            if _compatible((x,), (y,)):
                if fx == _FOUNDATIONS.intersection(y.split()):
                    return False
                met = True
    return met


def _street_of_landmark(pa: Mapping[str, tuple[str, ...]], pb: Mapping[str, tuple[str, ...]]) -> bool:
    """``pa`` names a landmark whose kind word and name are the name of a street ``pb`` names: "bar di danau
    tamblingan" is on "Jl. Danau Tamblingan", "Tukad Pakerisan" is "Jl. Tukad Pakerisan" (streets are named so)."""
    streets = pb.get("street")
    if not streets:
        return False
    for kind, names in pa.items():
        if kind.startswith("lm-") and kind not in ("lm-sekolah", "lm-mall"):
            words = {kind[3:]} | {word for word, typ in _LANDMARK_TYPE.items() if typ == kind[3:]}
            if any(f"{word} {name}" in streets for word in words for name in names):
                return True
    return False


def parsed_similarity(pa: dict[str, tuple[str, ...]], pb: dict[str, tuple[str, ...]]) -> tuple[float, str | None]:
    """``place_similarity`` of two non-empty place sets already grouped by ``parse_places``."""
    if _other_crossing(pa, pb):
        return 0.0, "different crossing"
    if ("not" in pa and _negated(pa["not"], pb)) or ("not" in pb and _negated(pb["not"], pa)):
        return 0.0, "the place it says it is not"
    agree = set()
    for kind in sorted(pa.keys() & pb.keys()):  # sorted: the same conflict named in every process
        if kind in ("rt", "rw", "hn", "ref", "not"):
            continue
        if kind == "near":  # two reports near one landmark agree; near it and at it neither agree nor conflict
            if _meet(pa[kind], pb[kind]):
                agree.add(kind)
            continue
        if kind == "end":  # "ujung utara" / "ujung selatan", "ujung" / "pangkal": the two ends of one street
            if not _meet(pa[kind], pb[kind]):
                return 0.0, "different end of the street"
            continue
        if kind == "arah":  # only the same name with another direction conflicts ("jokteng wetan"/"jokteng kulon")
            met = _directions(pa[kind], pb[kind])
            if met is False:
                return 0.0, "different side (wetan/kulon, lor/kidul)"
            if met:
                agree.add(kind)
            continue
        a, b = pa[kind], pb[kind]
        if kind.startswith("num-"):  # "di pos 3" / "di pos 5": another post; the same one counts as a kelurahan
            if not _meet(a, b):
                return 0.0, f"different {kind[4:]}"
            agree.add("num")
            continue
        if kind == "lm-sekolah" and _private_only(a, b):
            return 0.0, "different school (a foundation's and a state one)"
        if kind in _NUMBERED_BUILDINGS and _other_number(a, b):
            return 0.0, f"different {kind[3:]} (another number)"
        if kind in _SOFT_KINDS:  # "jembatan kayu" / "Jembatan Gantung": agreement counts, a difference does not
            if _compatible(a, b):
                agree.add(kind)
            continue
        if len(a) >= 2 and len(b) >= 2 and kind == "street":
            # two crossings that share one street are two places: both streets must meet
            if sum(_compatible((x,), b, True) for x in a) >= 2:
                agree.add(kind)
            else:
                return 0.0, "different crossing"
        # (a crossing is named by its streets or its kelurahan, whole or by the last word: "simpang Rapak" is
        # "simpang Muara Rapak", as "Jl. A. Yani" is "Jl. Ahmad Yani")
        elif _compatible(a, b, kind in ("street", "lm-simpang")) or (kind == "blok" and _same_block(a, b)):
            agree.add(kind)
        elif kind == "kel" and (_compatible(a, pb.get("street", ())) or _compatible(b, pa.get("street", ()))):
            # "RT 05 RW 02 Cemara" / "Kelurahan Sidorejo … Jl. Cemara": the name after the RW was the street, as many
            # streets share a kelurahan's name — neither a conflict nor an agreement
            continue
        else:
            return 0.0, f"different {_LABELS.get(kind) or kind.partition('-')[2] or kind}"
    if not agree - {"kel", "kec", "num"} and (_street_of_landmark(pa, pb) or _street_of_landmark(pb, pa)):
        agree.add("street")
    if "street" in agree and not agree - {"street", "kel", "kec", "num"} and pa.get("ref") and pb.get("ref") and \
            not _meet(pa["ref"], pb["ref"]):
        return 0.0, ANOTHER_SPOT
    if _side_only(pa, pb) or _side_only(pb, pa):
        return 0.0, "different street (one side of it)"
    rt_a, rt_b = pa.get("rt", ()), pb.get("rt", ())
    rw_a, rw_b = pa.get("rw", ()), pb.get("rw", ())
    same_rw = _meet(rw_a, rw_b)
    if rw_a and rw_b and not same_rw:
        return 0.0, "different RW"
    same_rt = _meet(rt_a, rt_b)
    if rt_a and rt_b and not same_rt and (same_rw or not (rw_a or rw_b)):
        return 0.0, "different RT"
    if agree - {"kel", "kec", "num"} or (same_rt and same_rw):
        return 1.0, None
    if "kel" in agree or "num" in agree:
        return 0.6, None
    if same_rw or ("kec" in agree and not (rt_a and rt_b and not same_rt)):
        return 0.3, None  # (one kecamatan is no shared place for two reports from RTs of other numbers)
    return 0.0, None


@dataclass(slots=True)
class Features:
    """One complaint as dedup sees it."""

    content: frozenset[int]
    places: frozenset[str]
    agency: str | None = None
    person: int | None = None
    channel: str = ""
    ts: float = 0.0
    shingles: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.uint64))
    keys: list[int] | None = None  # LSH band keys, computed once by the index
    problems: int = 0  # problem classes (router.dedup.concepts bit mask)
    flags: int = 0  # how the text refers back (SELF_REF, AGAIN, FOLLOW)
    ident: frozenset[int] = frozenset()  # the sender's identity keys (name words, handle prefixes)
    ident_probe: frozenset[int] = frozenset()  # what meets another sender's ``ident``
    mentions: str = ""  # the text's words, " "-separated and padded (places mentioned without a keyword)
    negated: frozenset[int] = frozenset()  # content hashes of what the text says it is not ("bukan galian")
    # words no lexicon knows (a name: "Ngarsopuro", "sarijadi", "scaffolding") and those of them written with a
    # capital inside a sentence or named as a place: two reports sharing one that few others use meet
    rare: tuple[str, ...] = ()
    cased: tuple[str, ...] = ()
    # the channels the writer says their earlier report went to ("sudah saya WA", "via e-mail"; router.dedup.concepts
    # .referenced_channels), only when the text refers back to it
    refers: frozenset[str] = frozenset()
    refers_days: frozenset[int] = frozenset()  # the days of the month it gives that report (referenced_days)


_WORD = re.compile(r"[a-z0-9]+")


def mentioned(parsed: Mapping[str, tuple[str, ...]], words: str, partial: bool = True) -> float:
    """How well a text's ``words`` (``Features.mentions``) name one of the places in ``parsed``: 1.0 for a
    street or landmark whose name's words all occur (both streets of a crossing), 0.6 for a kelurahan or
    (``partial``: the text names no street or landmark of its own) one street of a crossing, else 0."""
    score = 0.0
    for kind, names in parsed.items():
        if kind == "street" or kind.startswith("lm-"):
            value = 1.0
        elif kind in ("kel", "ref", "near"):  # (a spot on a street, "depan Transmart": named without its street)
            value = 0.6
        else:
            continue
        if value <= score:
            continue
        found = 0
        for name in names:
            parts = name.split()
            if parts and (parts[0] == "gg" or kind == "near" and len(parts) >= 2):
                # (a landmark a report is near, "deket Pasar Klewer", is mentioned by its name: "dekat Klewer")
                parts = parts[1:]
            if parts and not parts[0].isdigit() and all(f" {w} " in words or (w.isdigit() and any(
                    f" {spelt} " in words for spelt in _SPELT.get(w, ()))) or _spelt_otherwise(w, words)
                                                        for w in parts):
                found += 1
        # a crossing (two streets named) is mentioned with both its streets; one of them counts as the area
        if found >= (2 if kind == "street" and len(names) >= 2 else 1):
            score = value
        elif found and partial:
            score = max(score, 0.6)
    return score


def _spelt_otherwise(word: str, words: str) -> bool:
    """A name's word the text writes with another vowel ("HZ Mustafa" for "Jl. HZ Mustofa", "Kinabalu" for
    "Kinibalu"): six letters or more, the same length and one vowel apart (``_one_vowel``)."""
    if len(word) < 6:
        return False
    n = len(word)
    return any(len(other) == n and _one_vowel(word, other) for other in words.split())


# a place's number as a text may write it ("Malalayang 1" mentioned as "malalayang satu" or "malalayang I")
_SPELT = {str(n): (word, roman) for word, n in NUMBER_WORDS.items()
          for roman in [next((r for r, m in _ROMAN.items() if m == n), "i" if n == 1 else "")]}

_TOKEN_HASH: dict[str, int | None] = {}


def _token_hash(token: str) -> int | None:
    """The content hash of one normalised token (its stem's), or None for a filler; remembered."""
    if len(token) < 2 or token in FILLERS or token.isdigit() or token in ("rt", "rw", "jalan", "jl", "gang"):
        h = None
    else:
        h = stable_hash(stem(token))
    if len(_TOKEN_HASH) >= 200_000:
        _TOKEN_HASH.clear()
    _TOKEN_HASH[token] = h
    return h


# "bukan tersumbat tapi amblas", "bukan THR, gaji pokok", "ini bukan soal tangga lagi", "dudu lampune": the
# word after the denial names what this complaint is not (another complaint that says it is that one is
# another complaint); the words that only shade the denial are skipped, those that make it no denial of a
# thing stop it ("bukan cuma", "bukan main", "bukan yang kemarin": an OTHER flag, "bukan laporan baru")
_DENIALS = frozenset("bukan dudu sanes".split())
_THE_ONE = frozenset("yang yg nu sing anu".split())
_DENIAL_TOPICS = frozenset("soal masalah urusan perkara karena krn akibat gara hanya".split())
_NOT_DENIED = frozenset("""
main cuma cuman sekedar sekadar saja aja doang hanya melulu laporan lapor aduan pengaduan keluhan kasus kejadian
hal baru pertama kali salah berarti tapi tp namun sih kah punya milik orang satu dua seperti kayak gitu begitu begini
""".split())


def denied(tokens: list[str], skip: set[str] | frozenset[str] = frozenset()) -> frozenset[int]:
    """The content hashes of the words ``tokens`` deny ("bukan galian" → galian), place words left out."""
    out = set()
    for i, token in enumerate(tokens):
        if token not in _DENIALS:
            continue
        j = i + 1
        if j < len(tokens) and tokens[j] in _THE_ONE:  # "bukan yg parkir": not the one about parking
            j += 1
        if j < len(tokens) and tokens[j] in _DENIAL_TOPICS:  # "bukan soal tangga"
            j += 1
        word = tokens[j] if j < len(tokens) else ""
        if not word or word in _NOT_DENIED or word in skip or word in _DENIALS:
            continue
        h = _TOKEN_HASH.get(word, -1)
        if h == -1:
            h = _token_hash(word)
        if h is not None and not _said_elsewhere(tokens, j, h):
            out.add(h)
    return frozenset(out)


def _said_elsewhere(tokens: list[str], at: int, h: int) -> bool:
    """True when another form of the word ``tokens[at]`` has the hash ``h``: "Ini bukan kebakaran, sengaja dibakar"
    denies one sense of a word its text affirms in another (a later "bakar kabel lagi" is that complaint, not the
    denied one). The same form again is no other sense ("dekat tangga itu … bukan soal tangga lagi")."""
    word = tokens[at]
    for token in tokens:
        if token != word:  # (a denial is rare: its text's words are hashed again only then)
            other = _TOKEN_HASH.get(token, -1)
            if other == -1:
                other = _token_hash(token)
            if other == h:
                return True
    return False


def _without_area_names(tokens: list[str], places: Iterable[str]) -> list[str]:
    """``tokens`` with the words of a kelurahan or kecamatan name of two words or more blanked: "simpang Air
    Hitam" names a place, not water; "Sungai Pinang Dalam" no river."""
    names = [key[4:].split() for key in places if key[:4] in ("kel:", "kec:") and " " in key]
    if not names:
        return tokens
    out = list(tokens)
    for name in names:
        k = len(name)
        for i in range(len(out) - k + 1):
            if out[i:i + k] == name:
                out[i:i + k] = ["_"] * k
    return out


# Sundanese, Javanese and Balinese spell é/è where Indonesian writes e ("sanés" = "sanes", "ogé" = "oge", "kénéh"):
# one letter with or without its accent, as any writer may type it (same length: offsets stay valid)
_FOLD = str.maketrans("áàâäéèêëíìîïóòôöúùûüÁÀÂÄÉÈÊËÍÌÎÏÓÒÔÖÚÙÛÜ", "aaaaeeeeiiiioooouuuuAAAAEEEEIIIIOOOOUUUU")


def _fold(text: str) -> str:
    """``text`` with the accents of Latin letters dropped (ASCII text is returned as it is)."""
    return text if text.isascii() else text.translate(_FOLD)


# the writer names themselves in the text: "saya Yusuf yang WA tadi", "ambo Ahmad Fauzan", "(nama Ayuk Melati)",
# "Pelapor Zulkifli", "Hormat saya, Wawan (pemilik)", "twit saya (@fikri_rmd)", "as @sanur_nightowl" — who wrote,
# as a display name or an account says it (a name is capitalised; the words of a title or a role are no name)
_SELF_NAME = re.compile(r"(?:\b(?:[Ss]aya|[Ss]y|[Aa]ku|[Aa]mbo|[Uu]lun|[Aa]bdi|[Kk]ulo|[Kk]ula|[Tt]iang|[Bb]eta)\s+"
                        r"(?:(?:[Ii]bu|[Bb]u|[Bb]apak|[Pp]ak|[Mm]as|[Mm]bak|[Kk]ak|[Cc]eu|[Tt]eh|[Kk]ang|[Bb]li|[Nn]i)\.?\s+)?|"
                        r"\b(?:[Nn]ama|[Pp]elapor|[Aa]tas\s+nama|a\.n\.?)\s*:?\s*|"
                        r"\b(?:[Hh]ormat\s+(?:saya|kami)|[Rr]egards)\s*,?\s+)"
                        r"([A-Z][a-z]{2,}(?:\s+[A-Z][a-z]{2,})?)")
_SELF_HANDLE = re.compile(r"\b(?:saya|sy|aku|akun|as|sebagai|[Xx]|twitter|ig|instagram|tiktok)\s*\(?\s*@([A-Za-z0-9_.]{3,})")


# a school, a youth group or volunteers sign for many people ("Ortu SDN 2 …", "guru_sdn2skm", "Karang Taruna …"):
# no one person's name (kept out here, not in concepts' list, which the eval's gold pairs also read)
_GROUP_WORDS = frozenset("guru sekolah sd sdn smp smpn sma sman smk smkn mts osis bem mahasiswa karang taruna pemuda "
                         "relawan peduli siaga".split())


def _self_names(text: str) -> tuple[list[str], list[str]]:
    """The names and account handles the writer gives for themselves in ``text``."""
    # "Saya Mohon …", "Saya Sudah WA": a capitalised common word after "saya" is no name
    common = _common_words()
    names = [name for name in _SELF_NAME.findall(text) if not all(w.lower() in common for w in name.split())]
    handles = _SELF_HANDLE.findall(text) if "@" in text else []
    return names, handles


def make_features(tokens: Iterable[str], text: str, *, location: Mapping[str, Any] | None = None,
                  agency: str | None = None, person: int | None = None, channel: str = "",
                  ts: float = 0.0, names: Iterable[str | None] = (), handles: Iterable[str | None] = ()) -> Features:
    """Build features from normalised tokens, the original text and the classifier's location.

    ``names`` (display names, signatures) and ``handles`` (account names) of the sender give the identity
    keys that link one citizen's messages on two channels without a shared phone or e-mail.
    """
    tokens = tokens if isinstance(tokens, list) else list(tokens)
    if not text.isascii():
        text = _fold(text)
        tokens = [_fold(token) for token in tokens]
    places = extract_places(text, location)
    skip = place_words(places)
    content: set[int] = set()
    shingles: set[int] = set()
    hashes = _TOKEN_HASH
    for token in tokens:
        h = hashes.get(token, -1)
        if h == -1:
            h = _token_hash(token)
        if h is None:
            continue
        shingles.add(h)
        if token not in skip:
            content.add(h)
    for key in places:
        shingles.add(stable_hash(key))
    negated = denied(tokens, skip) if not _DENIALS.isdisjoint(tokens) else frozenset()
    if negated:
        content -= negated  # (what the text says it is not is no likeness to a complaint about it)
    # a text may mention a place without a keyword ("trotoar dalem kaum", "simpang Sudirman Gatot Subroto"):
    # its words are kept to be looked up against another complaint's place names
    low = text.lower()
    found = _WORD.findall(low)
    words = set(found)
    flags = reference_flags(text, words)
    # (only a text that says it wrote before: the name links it to that report, not to anyone of that name)
    own_names, own_handles = _self_names(text) if flags & SELF_REF else ([], [])
    if own_names or own_handles:
        names, handles = [*names, *own_names], [*handles, *own_handles]
    ident, probe = identity_keys(names, handles, skip | _GROUP_WORDS) if names or handles else (frozenset(), frozenset())
    if not words.isdisjoint(("bukan", "dudu", "sanes", "cuma", "hanya", "mung")):  # "bukan Kampung Beting": not mentioned
        found = _WORD.findall(_NOT_PLACE.sub(" ", low))
    # (in the spelling street names are keyed by: "Soekarno-Hatta" mentions "Jl. Sukarno Hatta", "Djuanda" "Juanda")
    mentions = f" {' '.join(map(_street_word, found))} "  # a string, not a set: an index rebuilt at start holds many
    rare, cased = rare_words(text, places)
    short = landmark_acronyms(text)
    if short:
        # a landmark's acronym is mentioned as its name is ("Palembang Indah Mall" mentions "PIM"), and is a name
        mentions += " ".join(short) + " "
        rare = (*rare, *(word for word in short if word not in rare))
        cased = (*cased, *(word for word in short if word not in cased))
    return Features(content=frozenset(content), places=frozenset(places), agency=agency, person=person,
                    channel=channel, ts=ts, shingles=np.fromiter(shingles, dtype=np.uint64, count=len(shingles)),
                    problems=without_aside(problem_mask(_without_area_names(tokens, places), stem), text, words),
                    flags=flags,
                    ident=ident, ident_probe=probe,
                    mentions=mentions, negated=negated, rare=rare, cased=cased,
                    refers=referenced_channels(text) if flags & SELF_REF else frozenset(),
                    refers_days=referenced_days(text, ts) if flags & SELF_REF else frozenset())


# a word with its case, outside handles, hashtags and links (their words are an account's, not the text's)
_CASED_WORD = re.compile(r"(?<![@#\w/.])([A-Za-z][a-z]{3,}|[A-Z]{4,})(?![\w@])")
_ACRONYM_WORD = re.compile(r"(?<![@#\w/.\-])([A-Z]{3})(?![\w@\-])")
_SENTENCE_END = re.compile(r"(?:^|[.!?\n:]\s*|[\"'(]\s*)$")  # what _starts_sentence reads, as a pattern (tests)


def _starts_sentence(text: str, start: int) -> bool:
    """Whether the word at ``start`` opens a sentence: the text's start, or after ". ! ? :", a line break, a quote or
    an opening parenthesis and any spaces. Looks back only over the spaces (the pattern, searched from 0, took time
    quadratic in the text's length)."""
    i = start
    while i > 0 and text[i - 1].isspace():
        if text[i - 1] == "\n":
            return True
        i -= 1
    if i == 0:
        return start == 0
    return text[i - 1] in ".!?:\"'("


def name_hashes(places: Iterable[str]) -> list[frozenset[int]]:
    """The content hashes of each named place's words (a kelurahan, a street, a landmark, a gang)."""
    out = []
    for key in places:
        if key.startswith(("kel:", "street:", "lm-", "gg:")):
            # (a name's number as the text may spell it: "simpang Kelor Dua" is keyed "kelor 2")
            hashes = frozenset(h for word in key.partition(":")[2].split()
                               if (h := _token_hash(_SPELT[word][0] if word in _SPELT else word)) is not None)
            if hashes:
                out.append(hashes)
    return out


def rare_words(text: str, places: Iterable[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The words of ``text`` that no lexicon knows (four letters or more, not a problem word), and those of
    them written with a capital inside a sentence or named as a place: a name, said the same way by two
    citizens who may name it with no keyword ("parkir di Ngarsopuro" / "jukir depan Ngarsopuro")."""
    if "http" in text:
        text = re.sub(r"https?://\S+", " ", text)
    common = _common_words()
    rare: dict[str, None] = {}
    cased: dict[str, None] = {}
    for match in _CASED_WORD.finditer(text):
        word = match.group(1)
        low = word.lower()
        if low in common or low in CLASS_WORDS:
            continue
        rare[low] = None
        if word[0].isupper() and not _starts_sentence(text, match.start()):
            cased[low] = None
    for word in _ACRONYM_WORD.findall(text):
        # a three-letter acronym no lexicon knows ("depan BTM", "antrian di MPP"): a landmark's short name
        low = word.lower()
        if low not in common and low not in CLASS_WORDS:
            rare[low] = cased[low] = None
    names = {word for key in places if key.startswith(("kel:", "street:", "lm-", "gg:"))
             for word in key.partition(":")[2].split()}
    for name in names:  # (a place named with a keyword is a name, whatever its case)
        if len(name) >= 4 and name.isalpha() and name not in common:
            cased[name] = None
            rare[name] = None
    return tuple(rare), tuple(cased)


def name_words(name: str | None) -> set[str]:
    """The lower-case words (three letters or more) of a person's name."""
    return {w for w in re.findall(r"\w+", (name or "").lower()) if len(w) >= 3 and not w.isdigit()}


def without_names(tokens: Iterable[str], names: frozenset[str] | set[str] | None) -> Iterable[str]:
    """``tokens`` less the reporter's own name words: a signature says who wrote, not what about, and two
    different complaints of one reporter must not look alike because both are signed."""
    if not names:
        return tokens
    return [t for t in tokens if t not in names]


def phone_key(raw: str) -> str:
    """A phone number reduced to digits with the Indonesian country code (``0812…`` → ``62812…``)."""
    digits = re.sub(r"\D", "", raw)
    if digits.startswith("0"):
        digits = "62" + digits[1:]
    return digits


def decided_agency(decision: Any) -> str | None:
    """The agency to compare for hard negatives: only one the rules chose (not triage or a fallback)."""
    if decision is None:
        return None
    chosen = (decision.explanation.get("agency") or {}).get("chosen_by", "rules")
    if chosen != "rules" or decision.agency == "triage":
        return None
    return decision.agency


def features_for(text: str, toks: Iterable[str], decision: Any, *, person: int | None, channel: str,
                 ts: float, names: Iterable[str | None] = (), handles: Iterable[str | None] = ()) -> Features:
    """Features of one complaint from its (masked) text, normalised tokens and the classifier's decision."""
    location = decision.location if decision is not None else None
    return make_features(toks, text, location=location, agency=decided_agency(decision), person=person,
                         channel=channel, ts=ts, names=names, handles=handles)
