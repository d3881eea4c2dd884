"""Acceptance: the demo's scripted day through the real daemon *process* and the sandboxes.

The daemon runs as ``python -m omnichannel.cli -c <demo config> run`` (secrets only in its
environment); the sandboxes and the citizens live in this process. Checks the invariants of
ARCHITECTURE.md: counts reconcile, nothing is delivered or submitted twice, every decision is
explained, every citizen who can be answered gets the answer on their own channel, and no personal
data reaches the log above DEBUG or a public reply. Email takes part when Dovecot is installed.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import func, select

from omnichannel.demo import photo, script
from omnichannel.demo.runner import SHIPPED, DemoWorld, derive_config, play_day
from omnichannel.models import (
    Case,
    Complaint,
    EnvelopeRow,
    FollowUp,
    OutboxRow,
    Quarantine,
    Ticket,
)
from omnichannel.store import Store
from tests.conftest import free_port
from tests.ready import wait_ready

pytestmark = pytest.mark.slow
OUTCOMES = {"complaint", "follow_up", "skipped", "quarantined"}


async def _stop(proc: subprocess.Popen[bytes], wait: float = 45) -> int:
    """SIGTERM, then wait without blocking the loop (the sandboxes in this process must keep answering)."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + wait
    while proc.poll() is None and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    if proc.poll() is None:
        proc.kill()
        proc.wait(10)
        return -9
    return proc.returncode


@pytest.mark.parametrize("with_mail", [True, False], ids=["every-channel", "email-absent"])
async def test_scripted_day_through_the_daemon_process(tmp_path: Path, with_mail: bool) -> None:
    """With Dovecot absent (or left out) the email citizens use the web form and the day still reconciles."""
    port = free_port()
    world = await DemoWorld(port).start(with_mail=with_mail)
    text, env, tokens = derive_config(SHIPPED.read_text(encoding="utf-8"), world, tmp_path / "data")
    (tmp_path / "config.yaml").write_text(text, encoding="utf-8")
    log = tmp_path / "daemon.log"
    child_env = {k: v for k, v in os.environ.items() if not k.startswith("OMNICHANNEL_")} | env
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "omnichannel.cli", "-c", str(tmp_path / "config.yaml"),
                                 "run"], cwd=tmp_path, env=child_env, stdout=out, stderr=subprocess.STDOUT)
    store = Store(f"sqlite+aiosqlite:///{tmp_path}/data/omnichannel.db")
    try:
        await wait_ready(f"http://127.0.0.1:{port}", proc, log=log)
        await store.open(migrate=False)
        officers = {k: v for k, v in tokens.items() if k != "*"}
        async with script.Traffic(world, f"http://127.0.0.1:{port}", officers, tokens["*"]) as traffic:
            day = await play_day(world, store, traffic, lambda line: None, wait=90)
            assert day["settled"] == [True, True, True], f"not settled: {day}\n{log.read_text()[-3000:]}"
            await _check_store(store, world, traffic, day, tmp_path / "data")
            async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{port}/readyz") as resp:
                health = (await resp.json())["connectors"]
            # /readyz counts what the store holds, push connectors (web, WhatsApp) included
            assert set(traffic.expected) <= set(health)
            assert {name: h["envelopes"] for name, h in health.items()} == {
                name: traffic.expected.get(name, 0) for name in health}
    finally:
        code = await _stop(proc)
        await store.close()
        await world.stop()
    assert code == 0, log.read_text()[-3000:]
    _check_no_personal_data(log.read_text(encoding="utf-8"), world)


async def _check_store(store: Store, world: DemoWorld, traffic: script.Traffic, day: dict, data: Path) -> None:
    async with store.session() as s:
        envelopes = (await s.exec(select(EnvelopeRow))).scalars().all()
        complaints = (await s.exec(select(Complaint))).scalars().all()
        follow_ups = (await s.exec(select(FollowUp))).scalars().all()
        quarantine = (await s.exec(select(Quarantine))).scalars().all()
        tickets = (await s.exec(select(Ticket))).scalars().all()
        cases = (await s.exec(select(Case))).scalars().all()
        outbox = (await s.exec(select(OutboxRow))).scalars().all()
        distinct_keys = (await s.exec(select(func.count(func.distinct(OutboxRow.idempotency_key))))).scalar_one()

    # 1. nothing lost: every envelope a sandbox handed over is stored, and ends in one of four outcomes
    assert dict(Counter(e.connector for e in envelopes)) == traffic.expected
    assert {e.outcome for e in envelopes} <= OUTCOMES
    outcomes = Counter(e.outcome for e in envelopes)
    assert outcomes["quarantined"] == traffic.outcomes["quarantined"] == len(quarantine)
    assert outcomes["skipped"] == traffic.outcomes["skipped"]
    assert all(e.reason for e in envelopes if e.outcome == "skipped")
    assert outcomes["follow_up"] == traffic.outcomes["follow_up"] == len(follow_ups)
    assert {f.reason for f in follow_ups} == {"resend", "cross_channel"}
    assert all(q.reason and q.raw for q in quarantine)
    by_envelope = {c.envelope_id: c for c in complaints}
    for e in envelopes:
        if e.outcome in ("complaint", "follow_up") and e.id not in {f.envelope_id for f in follow_ups}:
            assert e.id in by_envelope, f"envelope {e.connector}/{e.external_id} has no complaint"
    assert Counter(c.status for c in complaints)["rejected"] == traffic.outcomes["rejected"]
    assert not [c.ref for c in complaints if c.status == "received"]

    # 2. nothing twice: one outbox row per key, all delivered, one LAPOR! report per ticket
    assert distinct_keys == len(outbox)
    assert {r.status for r in outbox} == {"done"}, [(r.idempotency_key, r.status, r.last_error) for r in outbox]
    assert len({(t.case_id, t.agency) for t in tickets}) == len(tickets)
    refs = Counter(r.external_ref for r in world.lapor.reports.values())
    assert set(refs) == {t.ref for t in tickets} and max(refs.values()) == 1
    assert {t.lapor_tracking_id for t in tickets} == set(world.lapor.reports)
    done = Counter(r.destination for r in outbox if r.item_type == "reply")
    assert len(world.telegram.sent) == done["reply:telegram"] + 1  # + the /start help, answered directly
    assert len(world.whatsapp.sent) == done["reply:whatsapp"]
    assert len(world.x.replies) == done["reply:x"]
    assert len(world.meta.sent) == done["reply:facebook"] + done["reply:instagram"] >= 2  # DMs, private replies
    if world.mail is not None:
        assert len(world.mail.received) == done["reply:email"]

    # the photo Rina sent on Telegram is a file in the shared attachment store, linked to her envelope
    photos = [a for e in envelopes if e.connector == "telegram" for a in e.attachments]
    assert [(a["content_type"], a["skipped_reason"]) for a in photos] == [("image/png", None)]
    assert (data / "attachments" / photos[0]["path"]).read_bytes() == photo.pothole()

    # 3. every decision explained
    for c in complaints:
        assert c.explanation and {"kind", "agency", "dedup"} <= set(c.explanation), (c.ref, c.explanation)
        assert c.kind and c.agency, c.ref

    # the incident: five citizens on five channels, one case, one ticket, answered on each one's channel
    flood = next(c for c in cases if c.reporter_count == 5)
    assert [t.ref for t in tickets if t.case_id == flood.id] == [day["officers"]["answered"]]
    _check_answers(world, traffic, day)


def _check_answers(world: DemoWorld, traffic: script.Traffic, day: dict) -> None:
    c = script.CITIZENS
    answer = script.ANSWER_TEXT
    tg = {m["chat"]["id"]: [] for m in world.telegram.sent}
    for m in world.telegram.sent:
        tg[m["chat"]["id"]].append(m["text"])
    wa = {}
    for m in world.whatsapp.sent:
        wa.setdefault(m["to"], []).append(m["text"]["body"])
    assert any(answer in t for t in tg[c["tari"].telegram])
    assert any(answer in t for t in wa[c["yanto"].whatsapp])
    public = [r for r in world.x.replies if r["in_reply_to_tweet_id"] == traffic.tweets["fajar"]]
    assert any("ditanggapi" in r["text"] for r in public) and not any(answer in r["text"] for r in public)
    assert day["web_answer"][1] == answer  # the first incident reporter on the web form reads it there
    if world.mail is not None:
        mails = [m for m in world.mail.received if m["To"].addresses[0].addr_spec == c["siti"].email]
        assert any(answer in m.get_content() for m in mails)
    assert any(script.LAPOR_TEXT in t for t in tg[c[script.LAPOR_ANSWERED].telegram])
    assert any("selesai" in t for t in wa[c["budi"].whatsapp])
    # every citizen with a new complaint on a channel that can answer got its ref there
    for who in ("rina", "joko", "hendra", "tari"):
        assert any("ADU-" in t for t in tg[c[who].telegram]), who
    for who in ("budi", "wati", "lina", "yanto"):
        assert any("ADU-" in t for t in wa[c[who].whatsapp]), who
    for who in ("sari", "eko", "fajar"):
        assert any(r["in_reply_to_tweet_id"] == traffic.tweets[who] and "ADU-" in r["text"]
                   for r in world.x.replies), who
    assert not any(r["in_reply_to_tweet_id"] == traffic.tweets["spammer"] for r in world.x.replies)
    # Facebook: the ref by Messenger; Instagram: the ref publicly under the comment, the details privately
    assert any("ADU-" in m["message"]["text"] for m in world.meta.sent if m["to"] == c["nur"].facebook)
    comment = traffic.comments["ikhsan"]
    assert [p["object_id"] for p in world.meta.public] == [comment] and "ADU-" in world.meta.public[0]["message"]
    assert any(m["recipient"] == {"comment_id": comment} and "ADU-" in m["message"]["text"] for m in world.meta.sent)


def _check_no_personal_data(log_text: str, world: DemoWorld) -> None:
    assert "omnichannel.daemon" in log_text and "DEBUG" not in log_text  # the daemon ran at INFO
    leaked = [p for p in script.PERSONAL_DATA if p in log_text]
    assert not leaked, f"personal data in the daemon log: {leaked}"
    texts = [s.text for _, phase in script.PHASES for s in phase if s.text]
    for reply in [r["text"] for r in world.x.replies] + [p["message"] for p in world.meta.public]:
        assert not [p for p in script.PERSONAL_DATA if p in reply], reply
        assert not any(t[:40] in reply for t in texts), reply
