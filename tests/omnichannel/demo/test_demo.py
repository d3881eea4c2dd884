"""``omnichannel demo`` as README's first command runs it: email without the dev extra, the same day every run,
a summary in an operator's Bahasa Indonesia whose numbers add up."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from omnichannel.demo import script
from omnichannel.demo.summary import channel_label
from omnichannel.sandbox.dovecot import dovecot_missing_reason
from tests.conftest import free_port

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[3]
# the demo as installed by `pip install -e .`: the dev extra's SMTP server cannot be imported
BLOCK_DEV_SMTP = ("import sys; sys.modules['aiosmtpd'] = None; from omnichannel.cli import main; "
                  "sys.exit(main(sys.argv[1:]))")
JARGON = ["envelope", "handed over", "ack:", "dead letter", "Unterminated", "line 1 column", "outbox", "follow_up",
          "quarantined", "skipped", "Summary", "stored", "purpose"]


async def _demo(cwd: Path) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OMNICHANNEL_")} | {"PYTHONPATH": str(REPO)}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", BLOCK_DEV_SMTP, "demo", "--exit", "--port", str(free_port()),
        "-c", str(REPO / "config.yaml"), cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    out = (await asyncio.wait_for(proc.communicate(), 300))[0].decode()
    assert proc.returncode == 0, out[-4000:]
    return out


def _day(out: str) -> str:
    """From the first phase to the end of the summary: everything but paths, ports, tokens and the duration."""
    return out[out.index("[1/3]"):out.index("(hari demo selesai")]


def _number(pattern: str, text: str) -> int:
    match = re.search(pattern, text, re.MULTILINE)
    assert match, f"{pattern!r} not in the summary"
    return int(match.group(1))


def _parts(line: str) -> Counter[str]:
    """``"18 diteruskan ke OPD, 3 bukan aduan"`` → Counter({"diteruskan ke OPD": 18, "bukan aduan": 3})."""
    return Counter({m.group(2): int(m.group(1)) for m in re.finditer(r"(\d+) ([^,\d]+?)(?=,|$)", line)})


def _check_adds_up(out: str, with_mail: bool) -> None:
    summary = out[out.index("== Ringkasan"):]
    lines = summary.splitlines()
    head = lines.index(next(line for line in lines if line.strip().startswith("kanal")))
    rows = {}
    for line in lines[head + 1:]:
        cells = re.split(r"\s{2,}", line.strip())
        if len(cells) != 6:
            break
        rows[cells[0]] = [int(c) for c in cells[1:]]
    total = rows.pop("Jumlah")
    for channel, (new, extra, skipped, quarantined, count) in rows.items():
        assert new + extra + skipped + quarantined == count, channel
    assert [sum(col) for col in zip(*rows.values(), strict=True)] == total
    # the script decides which channels speak and how many messages end where; the router decides only
    # among new complaints
    steps = [s for _, phase in script.PHASES for s in phase if with_mail or s.special != "autoreply"]
    spoken = {channel_label(s.channel if with_mail or s.channel != "email" else "web") for s in steps}
    assert set(rows) == spoken and "Formulir web" in spoken and ("Email" in spoken) == with_mail
    expect = Counter(s.expect for s in steps)
    assert total == [expect["complaint"] + expect["rejected"], expect["follow_up"], expect["skipped"],
                     expect["quarantined"], len(steps) - expect["none"]]
    assert _number(r"^Pesan masuk: (\d+), semuanya tersimpan", summary) == total[4]

    new_line = next(line for line in lines if line.startswith("Aduan baru:"))
    assert _number(r"^Aduan baru: (\d+)", summary) == total[0]
    split = _parts(new_line.split("—", 1)[1])
    assert sum(split.values()) == total[0] and split["bukan aduan"] == expect["rejected"]
    kinds = _parts(next(line for line in lines if line.strip().startswith("jenis:")).split(":", 1)[1])
    assert sum(kinds.values()) == total[0]
    extra_line = next(line for line in lines if line.startswith("Tambahan untuk aduan"))
    assert _number(r"^Tambahan untuk aduan yang sudah ada: (\d+)", summary) == total[1]
    assert sum(_parts(extra_line.split("—", 1)[1]).values()) == total[1]
    assert _number(r"^Dikarantina: (\d+)", summary) == total[3]
    assert _number(r"^Diabaikan: (\d+)", summary) == total[2]
    skipped_at = next(i for i, line in enumerate(lines) if line.startswith("Diabaikan:"))
    assert len([line for line in lines[skipped_at + 1:skipped_at + 1 + total[2]] if line.startswith("  ")]) == total[2]

    tickets = _number(r"^Tiket untuk OPD: (\d+)", summary)
    assert len(re.findall(r"^  TIK-\d{4}-\d{6}  ", summary, re.MULTILINE)) == tickets
    per_agency = next(line for line in lines if line.strip().startswith("per OPD:"))
    assert sum(int(n) for n in re.findall(r" (\d+)(?:,|$)", per_agency)) == tickets
    assert tickets == _number(r"^Kasus: (\d+)", summary)  # one agency per case in this day
    flood = re.search(r"^  (KAS-\d{4}-\d{6}): (\d+) warga", summary, re.MULTILINE)
    assert flood and int(flood.group(2)) == len(script.INCIDENT)
    assert re.search(r"^Pengiriman yang gagal permanen: 0$", summary, re.MULTILINE)


async def test_the_demo_tells_the_same_day_twice_with_email_and_no_dev_extra(tmp_path: Path) -> None:
    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()
    first = await _demo(tmp_path / "one")
    second = await _demo(tmp_path / "two")
    with_mail = dovecot_missing_reason() is None
    if with_mail:
        assert "email: Dovecot di 127.0.0.1:" in first and "aiosmtpd" not in first
        assert re.search(r"^  Email\s+\d+ tanda terima.*diterima warga: [1-9]", first, re.MULTILINE), first
    else:
        assert "email: tidak ikut" in first
    # the same refs, tickets, SP4N-LAPOR! ids and counts, line for line
    assert _day(first) == _day(second)
    for word in JARGON:
        assert word not in _day(first), f"{word!r} in what the operator reads"
    _check_adds_up(first, with_mail)
    # every step's fate is told: a ref, a ticket, or why not
    assert "Tari            kejadian banjir (pelapor 1/5) → ADU-" in first
    assert re.search(r"Ahmad Fauzi .* → ADU-\d{4}-\d{6}, tiket (TIK-\d{4}-\d{6}) untuk \w+, 5 pelapor", first)
    # it ends with a short report of the day and where the dashboard is, with how to log in
    tail = first[first.index("Laporan hari demo"):]
    assert re.search(r"tiket diterima, \d+ selesai", tail), tail[:600]
    assert re.search(r"dasbor kinerja +http://127\.0\.0\.1:\d+/dasbor +\(masuk dengan akun koordinator", tail), tail
    assert re.search(r"^  koordinator +\S+", tail, re.MULTILINE), tail
