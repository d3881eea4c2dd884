"""Learning from officers' corrections: a coordinator's reassignment over the real API changes where the next
similar message goes, in a router that was running before it (no restart) and in another router instance
that shares only the store; unrelated messages and the same problem elsewhere are not pulled; merges and
splits steer grouping; ``omnichannel train`` folds corrections in deterministically; the measurement runs."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from aiohttp import web
from aiohttp.test_utils import TestServer
from argon2 import PasswordHasher
from sqlalchemy import select

from omnichannel import users
from omnichannel.config import AgencyConfig, Config, ConnectorConfig, ForwarderConfig
from omnichannel.ingest import ingest_batch
from omnichannel.models import Complaint, Correction, Ticket, User
from omnichannel.sla import SlaConfig
from omnichannel.templates import Templates
from omnichannel.types import Batch, Envelope, Sender
from omnichannel.web.desk import routes
from router import pipeline_rows
from router.config import GazetteerConfig, Kecamatan, KindRules, Place, RoutingConfig, RuleSet
from router.dedup.config import DedupConfig
from router.delivery.desk import AnswerDesk
from router.pipeline import RouterPipeline
from tests.omnichannel.web.test_desk_api import Client

PASSWORD = "kata-sandi-rahasia-1"

ROUTING = RoutingConfig(
    agencies={
        "bpbd": RuleSet(words={"tumbang": 2, "banjir": 3}, phrases={"pohon tumbang": 2}),
        "perkim": RuleSet(words={"pju": 3, "taman": 2}, phrases={"lampu jalan": 3}),
        "pupr": RuleSet(words={"berlubang": 2, "lubang": 2, "aspal": 1.5, "got": 2}),
        "dlh": RuleSet(words={"sampah": 3, "bau": 1}),
    },
    kinds=KindRules(rules={"bukan_aduan": RuleSet(phrases={"terima kasih": 3}, words={"makasih": 3})},
                    agency_for_kind={"bukan_aduan": "triage"}),
    gazetteer=GazetteerConfig(kecamatan=[
        Kecamatan(name="Tembalang", kelurahan=[Place(name="Bulusan"), Place(name="Meteseh")]),
        Kecamatan(name="Banyumanik", kelurahan=[Place(name="Pudakpayung")]),
    ]),
)


def make_config(**routing: Any) -> Config:
    return Config(
        connectors=[ConnectorConfig(name="tg", kind="telegram")],
        forwarders=[ForwarderConfig(name="queue", kind="db", item_types=["ticket", "ticket_update"])],
        agencies=[AgencyConfig(code=c, name=n) for c, n in
                  [("triage", "Koordinator"), ("bpbd", "BPBD"), ("perkim", "Dinas Perkim"), ("pupr", "Dinas PUPR"),
                   ("dlh", "DLH")]],
        routing=ROUTING.model_copy(update=routing), dedup=DedupConfig(), sla=SlaConfig(),
    )


@pytest.fixture(autouse=True)
def _telegram_can_reply(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(pipeline_rows._REPLY_CACHE, "telegram", True)


_n = 0


async def send(store: Any, text: str, sender: str, at: str = "2026-03-02T09:00:00+07:00") -> None:
    global _n
    _n += 1
    env = Envelope(external_id=f"m{_n}", raw=f'{{"id": {_n}}}', text=text, sender=Sender(id=sender),
                   received_at=datetime.fromisoformat(at), origin={"chat_id": sender})
    await ingest_batch(store, "tg", "telegram", Batch([env]))


async def complaint(store: Any, text: str) -> Complaint:
    async with store.session() as s:
        return (await s.exec(select(Complaint).where(Complaint.text == text))).scalars().one()


async def ticket_of(store: Any, c: Complaint) -> Ticket:
    async with store.session() as s:
        return (await s.exec(select(Ticket).where(Ticket.case_id == c.case_id, Ticket.agency == c.agency))
                ).scalars().one()


@pytest_asyncio.fixture
async def desk(any_store: Any) -> AsyncIterator[tuple[TestServer, Any, Config]]:
    """The officers' desk (the daemon's routes) on a store, with a coordinator account ``kora``."""
    config = make_config()
    async with any_store.session() as s:
        users.check_account("kora", "koordinator", [], config)
        s.add(User(login="kora", name="Kora Wibowo", role="koordinator", agencies=[],
                   password_hash=PasswordHasher().hash(PASSWORD)))
        await s.commit()
    app = web.Application()
    app.router.add_routes(routes(any_store, config, Templates(), AnswerDesk()))
    server = TestServer(app)
    await server.start_server()
    try:
        yield server, any_store, config
    finally:
        await server.close()


async def coordinator(server: TestServer) -> tuple[Client, dict[str, str]]:
    client = Client(server)
    resp = await client.post("/api/v1/session", json={"login": "kora", "password": PASSWORD})
    assert resp.status == 200, await resp.text()
    return client, {"X-CSRF-Token": (await resp.json())["csrf"]}


TREE = "pohon tumbang di jl melati kelurahan bulusan menimpa pagar rumah warga"


async def test_a_reassignment_over_the_api_routes_the_next_similar_message_at_once(desk) -> None:
    server, store, config = desk
    running = RouterPipeline(config, store, Templates())  # the daemon's router, running before the correction
    await running.start()
    await send(store, TREE, "u1")
    assert await running.process_pending() == 1
    first = await complaint(store, TREE)
    assert first.agency == "bpbd"
    ticket = await ticket_of(store, first)

    kora, csrf = await coordinator(server)
    async with kora:
        resp = await kora.post(f"/api/v1/tickets/{ticket.ref}/reassign", headers=csrf,
                               json={"agency": "perkim", "reason": "pohon di jalan kota tugas DPKP"})
        assert resp.status == 201, await resp.text()
    async with store.session() as s:
        row = (await s.exec(select(Correction))).scalars().one()
    assert (row.kind, row.ticket_ref, row.agency_from, row.agency_to) == ("reassign", ticket.ref, "bpbd", "perkim")

    # another router instance, started before the correction, shares nothing with the web app but the store
    other = RouterPipeline(config, store, Templates())
    await other.start()
    paraphrase = "ada pohon tumbang di jalan melati bulusan, pagar rumah warga ketimpa"
    await send(store, paraphrase, "u2", at="2026-03-02T10:00:00+07:00")
    assert await running.process_pending() == 1  # no restart: the next batch read the correction
    routed = await complaint(store, paraphrase)
    agency = routed.explanation["agency"]
    assert routed.agency == "perkim"
    assert agency["chosen_by"] == "correction"
    assert agency["correction"]["ticket"] == ticket.ref and agency["correction"]["agency"] == "perkim"
    assert any("correction" in r[0] for r in agency["rules"])

    # the other instance learns it too, on its own next batch
    second = "pohon tumbang lagi di jl melati bulusan dekat pagar warga"
    await send(store, second, "u3", at="2026-03-02T11:00:00+07:00")
    other.dedup_cfg.enabled = False  # its index does not hold the first two; grouping is not what is tested here
    assert await other.process_pending() == 1
    assert (await complaint(store, second)).agency == "perkim"


async def test_unrelated_messages_and_the_same_street_elsewhere_are_not_pulled(desk) -> None:
    server, store, config = desk
    pipe = RouterPipeline(config, store, Templates())
    await pipe.start()
    await send(store, TREE, "u1")
    await pipe.process_pending()
    ticket = await ticket_of(store, await complaint(store, TREE))
    kora, csrf = await coordinator(server)
    async with kora:
        resp = await kora.post(f"/api/v1/tickets/{ticket.ref}/reassign", headers=csrf,
                               json={"agency": "perkim", "reason": "tugas DPKP"})
        assert resp.status == 201
    texts = {
        # another problem on the same street
        "sampah menumpuk di jl melati kelurahan bulusan, bau sekali": "dlh",
        "jalan berlubang di jl melati bulusan depan pagar rumah warga": "pupr",
        # a flood elsewhere
        "banjir setinggi lutut di kelurahan pudakpayung banyumanik": "bpbd",
        # the same words in another kecamatan: that correction was about a place in Tembalang
        "pohon tumbang di jl melati kelurahan pudakpayung menimpa pagar rumah warga": "bpbd",
    }
    for i, text in enumerate(texts):
        await send(store, text, f"v{i}", at=f"2026-03-02T1{i}:00:00+07:00")
    await pipe.process_pending()
    for text, want in texts.items():
        c = await complaint(store, text)
        assert c.agency == want, (text, c.explanation["agency"])
        assert c.explanation["agency"]["chosen_by"] != "correction"


async def test_a_merge_groups_the_next_similar_message_and_a_split_keeps_sides_apart(desk) -> None:
    server, store, config = desk
    pipe = RouterPipeline(config, store, Templates())
    await pipe.start()
    a = "got mampet di jl kenanga meteseh, air meluber ke rumah"
    b = "saluran depan sdn meteseh tersumbat sejak kemarin, becek parah"
    await send(store, a, "u1")
    await send(store, b, "u2", at="2026-03-02T09:30:00+07:00")
    await pipe.process_pending()
    ca, cb = await complaint(store, a), await complaint(store, b)
    assert ca.case_id != cb.case_id
    async with store.session() as s:
        from omnichannel.models import Case

        ref_a = (await s.get(Case, ca.case_id)).ref
        ref_b = (await s.get(Case, cb.case_id)).ref
    kora, csrf = await coordinator(server)
    try:
        resp = await kora.post(f"/api/v1/cases/{ref_b}/merge", headers=csrf, json={"into": ref_a})
        assert resp.status == 200, await resp.text()
    finally:
        await kora.close()
    c = "saluran di depan sdn meteseh tersumbat, becek parah sampai jalan"
    await send(store, c, "u3", at="2026-03-02T12:00:00+07:00")
    await pipe.process_pending()
    joined = await complaint(store, c)
    assert joined.case_id == ca.case_id, joined.explanation.get("dedup")
    assert joined.explanation["dedup"]["correction"] > 0

    # split b and its paraphrase out again: a fourth like them goes with them, not into the case they left
    kora, csrf = await coordinator(server)
    async with kora:
        resp = await kora.post(f"/api/v1/cases/{ref_a}/split", headers=csrf,
                               json={"complaints": [cb.ref, joined.ref]})
        assert resp.status == 201, await resp.text()
    d = "saluran depan sdn meteseh tersumbat lagi, becek parah"
    await send(store, d, "u4", at="2026-03-02T13:00:00+07:00")
    await pipe.process_pending()
    apart = await complaint(store, d)
    # the router's index still files b under its first case: the correction says where b is now
    assert apart.case_id != ca.case_id, apart.explanation["dedup"]
    assert apart.case_id == (await complaint(store, b)).case_id and apart.explanation["dedup"]["correction"] > 0


def _tiny_city(root: Path) -> Path:
    city = root / "cities" / "kota-uji"
    city.mkdir(parents=True)
    (city / "city.yaml").write_text("city: Kota Uji\nagencies:\n  - {code: pupr, name: PUPR, remit: jalan dan "
                                    "saluran}\n  - {code: dlh, name: DLH, remit: sampah dan kebersihan}\n",
                                    encoding="utf-8")
    rows = [("r1", "jalan berlubang di depan pasar", "pupr"), ("r2", "sampah menumpuk di tps", "dlh"),
            ("r3", "aspal jalan ngelupas", "pupr"), ("r4", "bau sampah dari tps", "dlh")]
    (city / "routing.jsonl").write_text("".join(json.dumps({"id": i, "text": t, "kind": "pengaduan", "agency": a})
                                                + "\n" for i, t, a in rows), encoding="utf-8")
    return root / "cities"


def test_train_folds_corrections_in_deterministically(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from router.train import main

    cities = _tiny_city(tmp_path)
    corrections = tmp_path / "corrections.jsonl"
    corrections.write_text(json.dumps({"id": "correction:00000001", "text": "pohon tumbang menimpa jalan",
                                       "kind": "pengaduan", "agency": "dlh"}) + "\n", encoding="utf-8")
    outs = []
    for name in ("a", "b"):
        out = tmp_path / f"{name}.npz"
        assert main([str(cities), "--corrections", str(corrections), "-o", str(out)]) == 0
        outs.append(out.read_bytes())
    assert outs[0] == outs[1]
    assert "corrections" in capsys.readouterr().out
    plain = tmp_path / "plain.npz"
    assert main([str(cities), "-o", str(plain)]) == 0
    assert plain.read_bytes() != outs[0]
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "tanpa agency"}\n', encoding="utf-8")
    assert main([str(cities), "--corrections", str(bad), "-o", str(tmp_path / "x.npz")]) == 2
    assert "bad.jsonl:1" in capsys.readouterr().err


async def test_corrections_exported_from_a_store_train_like_the_store_itself(desk, tmp_path: Path) -> None:
    server, store, config = desk
    pipe = RouterPipeline(config, store, Templates())
    await pipe.start()
    await send(store, TREE, "u1")
    await pipe.process_pending()
    ticket = await ticket_of(store, await complaint(store, TREE))
    kora, csrf = await coordinator(server)
    async with kora:
        assert (await kora.post(f"/api/v1/tickets/{ticket.ref}/reassign", headers=csrf,
                                json={"agency": "perkim", "reason": "tugas DPKP"})).status == 201
    from router.corrections import corrected_examples, read_examples

    async with store.session() as s:
        rows = await corrected_examples(s)
    assert [(r["agency"], r["kind"], r["ticket"]) for r in rows] == [("perkim", "pengaduan", ticket.ref)]
    path = tmp_path / "c.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    assert [(r["id"], r["text"], r["agency"]) for r in read_examples(path)] == \
        [(r["id"], r["text"], r["agency"]) for r in rows]

    # the commands: train --store, and --export-corrections then train --corrections, give the same bytes
    from omnichannel.cli import main as cli

    async def main(argv: list[str]) -> int:  # the command runs its own event loop
        import asyncio

        return await asyncio.to_thread(cli, argv)

    url = store.url
    cfg = tmp_path / "pemda.yaml"
    cfg.write_text(f"data_dir: {tmp_path}/data\nstore:\n  url: \"{url}\"\n  migrate_on_start: false\n"
                   "agencies:\n  - {code: triage, name: Koordinator}\n  - {code: perkim, name: Perkim}\n"
                   "  - {code: bpbd, name: BPBD}\n", encoding="utf-8")
    cities = _tiny_city(tmp_path)
    exported = tmp_path / "exported.jsonl"
    assert await main(["-c", str(cfg), "train", str(cities), "--export-corrections", str(exported)]) == 0
    assert [json.loads(line)["agency"] for line in exported.read_text(encoding="utf-8").splitlines()] == ["perkim"]
    assert await main(["-c", str(cfg), "train", str(cities), "--store", "-o", str(tmp_path / "a.npz")]) == 0
    assert await main(["-c", str(cfg), "train", str(cities), "--corrections", str(exported),
                 "-o", str(tmp_path / "b.npz")]) == 0
    assert (tmp_path / "a.npz").read_bytes() == (tmp_path / "b.npz").read_bytes()


def test_the_measurement_runs_on_a_measured_city() -> None:
    from router.eval.corrections import main, measure

    figures = measure(Path(__file__).resolve().parents[1] / "data" / "cities", Path(__file__).resolve().parents[2]
                      / "omnichannel" / "default_config.yaml", ["semarang"])
    assert [f.city for f in figures] == ["Kota Semarang"]
    f = figures[0]
    assert f.first_half + f.second_half == 322 and f.trained_on == ["Kota Bandung"]
    assert f.corrected + f.uncorrectable == f.first_half_wrong
    assert 0.5 < f.without <= 1 and 0.5 < f.with_corrections <= 1
    assert f.with_corrections - f.without == pytest.approx((f.fixed - f.broken) / f.second_half)
    assert main(["--city", "makassar"]) == 2  # never a held-out city


DAEMON_EXTRA = """
agencies:
  - {code: triage, name: Koordinator}
  - {code: bpbd, name: BPBD}
  - {code: perkim, name: Dinas Perkim}
  - {code: dlh, name: DLH}
routing:
  model: {enabled: false}
  agencies:
    bpbd:
      words: {tumbang: 2, banjir: 3}
      phrases: {pohon tumbang: 2}
    perkim:
      words: {taman: 2}
    dlh:
      words: {sampah: 3}
"""


async def test_the_running_daemon_follows_a_reassignment_made_on_its_desk(tmp_path: Path) -> None:
    import asyncio

    import aiohttp

    from omnichannel.daemon import Daemon
    from tests.omnichannel.helpers import minimal_config

    daemon = Daemon(minimal_config(tmp_path, DAEMON_EXTRA))
    await daemon.start()
    try:
        store = daemon.store
        async with store.session() as s:
            s.add(User(login="kora", name="Kora Wibowo", role="koordinator", agencies=[],
                       password_hash=PasswordHasher().hash(PASSWORD)))
            await s.commit()
        base = f"http://127.0.0.1:{daemon.http_port}"

        async def routed(text: str) -> Complaint:
            async with aiohttp.ClientSession() as http, http.post(f"{base}/api/v1/complaints",
                                                                  json={"text": text}) as resp:
                assert resp.status == 201, await resp.text()
            for _ in range(100):
                c = await complaint(store, text)
                if c.status != "received":
                    return c
                await asyncio.sleep(0.1)
            raise AssertionError(f"not routed: {text}")

        first = await routed("pohon tumbang di taman kota menimpa pagar rumah warga")
        assert first.agency == "bpbd"
        ticket = await ticket_of(store, first)
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
            async with http.post(f"{base}/api/v1/session", json={"login": "kora", "password": PASSWORD}) as resp:
                assert resp.status == 200, await resp.text()
                csrf = (await resp.json())["csrf"]
            async with http.post(f"{base}/api/v1/tickets/{ticket.ref}/reassign", headers={"X-CSRF-Token": csrf},
                                 json={"agency": "perkim", "reason": "pohon di taman kota tugas DPKP"}) as resp:
                assert resp.status == 201, await resp.text()
        later = await routed("ada pohon tumbang lagi di taman kota, pagar rumah warga ketimpa")
        assert later.agency == "perkim"
        assert later.explanation["agency"]["correction"]["ticket"] == ticket.ref
        other = await routed("sampah menumpuk di taman kota")
        assert other.agency == "dlh"
    finally:
        await asyncio.wait_for(daemon.stop(), 10)


def _memory() -> Any:
    from router.classify import Classifier
    from router.corrections import CorrectionMemory

    config = make_config()
    classifier = Classifier(config.routing.model_copy(update={"model": config.routing.model.model_copy(
        update={"enabled": False})}), list(config.agencies))
    memory = CorrectionMemory(classifier, config.routing.corrections)
    classifier.corrections = memory
    return classifier, memory


def test_a_problem_neighbour_follows_a_correction_but_not_across_kinds_and_an_agreeing_one_decides_nothing() -> None:
    classifier, memory = _memory()
    # the division of labour: fallen trees are Perkim's here, wherever they fall
    memory.add_reassign(1, "TIK-2026-000001", "bpbd", "perkim", "pohon tumbang di taman depan sekolah", "pengaduan")
    moved = classifier.classify("tolong pohon tumbang menghalangi taman bermain anak")
    assert moved.agency == "perkim" and moved.explanation["agency"]["correction"]["match"] == "problem"
    assert any("moved by correction TIK-2026-000001" in r[0] for r in moved.explanation["agency"]["rules"])
    # a question about trees is an information request: that correction was about a complaint
    asked = classifier.classify("berapa jumlah pohon tumbang di taman tahun ini? mohon informasi datanya")
    assert asked.kind == "informasi" and asked.agency == "bpbd" and "correction" not in asked.explanation["agency"]
    # a correction that says what the rules say anyway is named, but it is not why
    memory.add_reassign(2, "TIK-2026-000002", "triage", "dlh", "sampah menumpuk di pinggir jalan raya", "pengaduan")
    same = classifier.classify("sampah menumpuk di pinggir jalan raya dekat pasar")
    assert same.agency == "dlh" and same.explanation["agency"]["chosen_by"] == "rules"
    assert same.explanation["agency"]["correction"]["ticket"] == "TIK-2026-000002"
