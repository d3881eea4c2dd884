"""Synthetic but realistic informal-Indonesian complaints for the router benchmarks (seeded, reproducible)."""

from __future__ import annotations

import random

PROBLEMS = {
    "pupr": ["jalan berlubang parah", "aspal rusak banyak lubang", "jembatan retak mau ambruk", "got mampet air meluap",
             "drainase tersumbat sampah", "jalan ambles dalam", "trotoar rusak ubin lepas"],
    "dlh": ["sampah menumpuk gk diangkut", "bau sampah busuk bgt", "asap pembakaran sampah tiap sore",
            "limbah pabrik dibuang ke sungai", "tps penuh sampah berserakan"],
    "perkim": ["lampu jalan mati", "pju padam udh seminggu", "tiang lampu miring mau roboh"],
    "pdam": ["air pdam gk ngalir", "air pdam keruh dan bau", "pipa pdam bocor air muncrat"],
    "dishub": ["lampu lalu lintas mati", "parkir liar bikin macet", "angkot ngetem sembarangan", "rambu lalu lintas hilang"],
    "satpolpp": ["pkl jualan di trotoar", "bangunan liar di bantaran kali", "reklame liar dipasang sembarangan"],
    "bpbd": ["banjir setinggi lutut", "pohon tumbang nutup jalan", "tanah longsor dekat rumah warga"],
    "dinkes": ["antrian puskesmas lama bgt", "pelayanan rsud kurang ramah", "obat di puskesmas kosong"],
    "disdukcapil": ["ktp el blm jadi", "kk blm dicetak", "akta kelahiran lama diproses"],
    "dinsos": ["bansos blm cair", "pkh gk tepat sasaran", "bantuan beras lansia gk merata"],
}
SYLLABLES = ["su", "ka", "ma", "ja", "di", "ci", "ra", "wa", "ti", "sa", "ri", "ba", "ng", "la", "mu", "ko", "pa",
             "se", "to", "ne", "gi", "ro", "tu", "an", "ha", "yu", "ke", "bo", "lu", "de"]
FLOWERS = ["melati", "mawar", "kenanga", "cempaka", "anggrek", "dahlia", "flamboyan", "kamboja", "teratai", "tulip",
           "sudirman", "diponegoro", "kartini", "ahmad yani", "gatot subroto", "pahlawan", "merdeka", "veteran",
           "pemuda", "gajah mada", "hayam wuruk", "cendana", "cemara", "beringin", "asia afrika", "braga"]
OPENERS = ["", "", "min ", "pak ", "selamat pagi, ", "assalamualaikum, ", "lapor min, ", "tolong ", "MOHON PERHATIAN "]
CLOSERS = ["", "", " mohon segera diperbaiki", " tolong dong", " udh 3 hari", " sudah seminggu", " bahaya bgt",
           " 🙏", " kapan ditindak??", " warga resah", " anak2 susah lewat"]


class Generator:
    """Makes complaint texts about (problem, place) pairs, and near-duplicates of them."""

    def __init__(self, seed: int = 7, streets: int = 4000, kelurahan: int = 300) -> None:
        self.rng = random.Random(seed)
        r = self.rng
        names = {f"{r.choice(FLOWERS)} {self._word()}" if r.random() < 0.5 else self._word() for _ in range(streets * 2)}
        self.streets = sorted(names)[:streets]
        self.kelurahan = sorted({self._word() + r.choice(["", " jaya", " baru", " asri", " indah"])
                                 for _ in range(kelurahan * 2)})[:kelurahan]
        self.agencies = sorted(PROBLEMS)

    def _word(self) -> str:
        return "".join(self.rng.choice(SYLLABLES) for _ in range(self.rng.randint(2, 4)))

    def text(self) -> str:
        """One fresh complaint."""
        r = self.rng
        problem = r.choice(PROBLEMS[r.choice(self.agencies)])
        street = r.choice(self.streets)
        street_form = r.choice(["Jl. {}", "jln {}", "jalan {}", "Gg. {}", "jl {}"]).format(
            street.title() if r.random() < 0.5 else street)
        rt, rw = r.randint(1, 15), r.randint(1, 12)
        rt_form = r.choice(["", "", f"RT {rt:02d}/RW {rw:02d}", f"rt {rt} rw {rw}", f"RT.{rt}"])
        kel = r.choice(self.kelurahan)
        kel_form = r.choice(["", f"kel. {kel.title()}", f"kelurahan {kel}", ""])
        text = f"{r.choice(OPENERS)}{problem} di {street_form} {rt_form} {kel_form}{r.choice(CLOSERS)}"
        return " ".join(text.split())

    def near_duplicate(self, text: str) -> str:
        """A resend-like variant: a word dropped, a plea added or the opener changed."""
        r = self.rng
        words = text.split()
        if len(words) > 6 and r.random() < 0.6:
            del words[r.randrange(len(words))]
        if r.random() < 0.5:
            words = ["min", "tolong", "dong", *words]
        if r.random() < 0.3:
            words.append("udh lama bgt")
        return " ".join(words)
