"""X connector against the X API v2 sandbox: resume, pagination, rate limits, threads, skips, public replies."""

from __future__ import annotations

import asyncio
import json
import logging
import time

import pytest
from sqlalchemy import update
from sqlmodel import select

from connectors.x.config import XConfig
from connectors.x.connector import XConnector
from omnichannel.errors import AuthError, ConfigError, PermanentDeliveryError, RetryableError
from omnichannel.ingest import ingest_batch
from omnichannel.models import EnvelopeRow, OutboxRow
from omnichannel.outbox import enqueue
from omnichannel.sandbox.x import XSandbox
from omnichannel.templates import Templates
from omnichannel.types import OutboxItem
from tests.contract.connector_contract import PullConnectorContract, make_context

BEARER = "bearer-for-x-tests-0f9a"
OAUTH = {"consumer_key": "ck-x-tests", "consumer_secret": "cs-x-tests-77", "access_token": "at-x-tests",
         "access_token_secret": "ats-x-tests-91"}


class Clock:
    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
async def sandbox(clock):
    sb = XSandbox(bearer_token=BEARER, clock=clock, **OAUTH)
    await sb.start()
    yield sb
    await sb.stop()


def make_config(sandbox: XSandbox, name: str = "x", **overrides) -> XConfig:
    values = {"name": name, "kind": "x", "bearer_token": BEARER, "account_username": sandbox.account_username,
              "api_base_url": sandbox.base_url, "max_results": 10, "rate_limit_backoff_initial": 10,
              "rate_limit_backoff_max": 40, **overrides}
    return XConfig.model_validate(values)


@pytest.fixture
async def connectors(sandbox, store, tmp_path, clock):
    """``await start(name, **config)`` → a started connector; all are stopped at the end."""
    started: list[XConnector] = []

    async def start(name: str = "x", **overrides) -> XConnector:
        connector = XConnector(name, make_config(sandbox, name, **overrides))
        ctx = make_context(store, tmp_path, "x")
        ctx.extra["clock"] = clock
        await connector.start(ctx, await store.load_checkpoint(name))
        started.append(connector)
        return connector

    yield start
    for connector in started:
        await connector.stop()


async def drain(connector: XConnector, store, max_polls: int = 50):
    """Poll → store → ack until an empty batch; returns every IngestResult item."""
    items = []
    for _ in range(max_polls):
        batch = await connector.poll()
        if not batch.envelopes and batch.checkpoint is None:
            return items
        result = await ingest_batch(store, connector.name, "x", batch)
        await connector.ack(batch, result)
        items += result.items
    raise AssertionError("connector never ran dry")


async def stored(store, connector: str = "x") -> list[EnvelopeRow]:
    async with store.session() as s:
        return list((await s.exec(select(EnvelopeRow).where(EnvelopeRow.connector == connector)
                                  .order_by(EnvelopeRow.external_id))).all())


class TestXContract(PullConnectorContract):
    @pytest.fixture
    def contract_channel(self):
        return "x"

    @pytest.fixture
    def contract_secrets(self):
        return [BEARER, *OAUTH.values()]

    @pytest.fixture
    def contract_make_connector(self, sandbox):
        async def make():
            return XConnector("contract", make_config(sandbox, "contract", reply_mode="public", **OAUTH))
        return make

    @pytest.fixture
    def contract_feed(self, sandbox):
        counter = iter(range(10_000))

        async def feed(n: int) -> None:
            for _ in range(n):
                i = next(counter)
                sandbox.post_mention(f"Lampu jalan mati di gang {i}, RT {i % 9 + 1}", f"warga_{i}")
        return feed


async def test_resume_after_restart_across_pages_without_gaps_or_repeats(sandbox, store, connectors):
    posted = [sandbox.post_mention(f"Jalan rusak nomor {i}", f"warga{i}")["id"] for i in range(25)]
    first = await connectors(max_pages=2)  # 20 of 25 this poll; the checkpoint remembers where it stopped
    batch = await first.poll()
    assert len(batch.envelopes) == 20
    result = await ingest_batch(store, "x", "x", batch)
    await first.ack(batch, result)
    checkpoint = await store.load_checkpoint("x")
    assert set(checkpoint["sources"]["mentions"]) == {"newest_id", "next_token"}
    await first.stop()
    posted += [sandbox.post_mention(f"Drainase tersumbat {i}", f"baru{i}")["id"] for i in range(3)]
    second = await connectors(max_pages=2)
    items = await drain(second, store)
    assert all(item.new for item in items) and len(items) == 8
    assert sorted(r.external_id for r in await stored(store)) == sorted(posted)
    assert (await store.load_checkpoint("x"))["sources"]["mentions"] == {"since_id": posted[-1]}
    await second.stop()
    third = await connectors()
    assert await drain(third, store) == []
    last = sandbox.requests[-1][1]
    assert last["since_id"] == posted[-1] and "pagination_token" not in last


async def test_all_pages_are_followed_before_since_id_advances(sandbox, store, connectors):
    ids = [sandbox.post_tweet(f"Sampah menumpuk #LaporWalikota {i}", f"w{i}")["id"] for i in range(23)]
    connector = await connectors(mentions=False, search_queries=["#LaporWalikota"])
    batch = await connector.poll()
    assert [e.external_id for e in batch.envelopes] == ids  # oldest first
    assert batch.checkpoint == {"sources": {"search:#LaporWalikota": {"since_id": ids[-1]}}}
    pages = [q for e, q in sandbox.requests if e == "search"]
    assert len(pages) == 3 and "next_token" not in pages[0] and all("next_token" in p for p in pages[1:])


async def test_rate_limit_mid_pagination_keeps_progress(sandbox, store, connectors, clock):
    ids = [sandbox.post_mention(f"Air PDAM keruh {i}", f"v{i}")["id"] for i in range(25)]
    connector = await connectors()
    sandbox.rate_limit_storm("mentions", 1, reset_in=300, after=1)  # the second page is refused
    batch = await connector.poll()
    assert [e.external_id for e in batch.envelopes] == ids[-10:]
    assert set(batch.checkpoint["sources"]["mentions"]) == {"newest_id", "next_token"}
    await connector.ack(batch, await ingest_batch(store, "x", "x", batch))
    with pytest.raises(RetryableError) as exc:  # the only source waits for the reset, without asking
        await connector.poll()
    assert 299 <= exc.value.retry_after <= 302 and sandbox.count("mentions") == 2
    clock.now += 302
    items = await drain(connector, store)
    assert len(items) == 15 and all(i.new for i in items)
    assert sorted(r.external_id for r in await stored(store)) == sorted(ids)
    assert (await store.load_checkpoint("x"))["sources"]["mentions"] == {"since_id": ids[-1]}


async def test_429_storm_on_one_endpoint_while_other_sources_and_connectors_keep_polling(sandbox, store,
                                                                                         connectors, clock):
    connector = await connectors(search_queries=["#LaporWalikota"])
    other = await connectors("x-other", mentions=True)
    sandbox.rate_limit_storm("search", 1000, reset_in=600)
    sandbox.post_tweet("Pohon tumbang #LaporWalikota", "andi")
    for round_ in range(3):
        sandbox.post_mention(f"Lampu lalu lintas mati {round_}", f"m{round_}")
        assert [i.outcome for i in await drain(connector, store)] == ["complaint"]
        assert len(await drain(other, store)) == 1
    assert sandbox.count("search") == 1  # remembered the reset; not asked again
    assert sandbox.count("mentions") >= 6
    assert 0 < connector.limits.wait("search") <= 601 and connector.limits.wait("mentions") == 0
    assert other.limits.wait("search") == 0  # another connector has its own memory
    clock.now += 602
    sandbox._storms.clear()
    items = await drain(connector, store)
    assert [i.outcome for i in items] == ["complaint"] and sandbox.count("search") > 1


async def test_429_without_headers_backs_off_exponentially(sandbox, store, connectors, clock):
    connector = await connectors()
    sandbox.rate_limit_storm("mentions", 4, headers=False)
    waits = []
    for _ in range(4):
        requests = sandbox.count("mentions")
        with pytest.raises(RetryableError) as exc:
            await connector.poll()
        assert sandbox.count("mentions") == requests + 1
        waits.append(exc.value.retry_after)
        clock.now += exc.value.retry_after - 1
        with pytest.raises(RetryableError):  # still backing off: no request made
            await connector.poll()
        assert sandbox.count("mentions") == requests + 1
        clock.now += 1
    assert waits == [10, 20, 40, 40]
    sandbox.post_mention("Jembatan retak", "w")
    assert len(await drain(connector, store)) == 1
    sandbox.rate_limit_storm("mentions", 1, headers=False)
    with pytest.raises(RetryableError) as exc:
        await connector.poll()
    assert exc.value.retry_after == 10  # a success reset the backoff


async def test_server_errors_on_one_endpoint_do_not_stop_the_other(sandbox, store, connectors):
    connector = await connectors(search_queries=["#LaporWalikota"])
    sandbox.fail("search", 503)
    sandbox.post_mention("Selokan mampet", "w")
    sandbox.post_tweet("Parkir liar #LaporWalikota", "p")
    assert len(await drain(connector, store)) == 1
    assert connector.limits.wait("search") > 0


async def test_retweets_and_own_posts_are_stored_as_skips(sandbox, store, connectors):
    mention = sandbox.post_mention("Banjir di Kelurahan Sukamaju", "budi")
    sandbox.post_tweet("", "sari", retweet_of=mention["id"])
    sandbox.post_tweet("Info layanan #LaporWalikota", sandbox.account_username)
    connector = await connectors(search_queries=["#LaporWalikota"])
    items = await drain(connector, store)
    assert sorted((i.outcome, i.reason) for i in items) == [("complaint", None), ("skipped", "own post"),
                                                           ("skipped", "retweet")]


async def test_a_thread_becomes_follow_ups_of_one_complaint(sandbox, store, connectors):
    root = sandbox.post_mention("Jalan berlubang di Jl. Melati", "budi")
    more = sandbox.post_tweet("lubangnya makin besar, sudah 2 motor jatuh", "budi", in_reply_to=root["id"])
    other = sandbox.post_mention("saya juga lewat situ, bahaya", "sari", in_reply_to=root["id"])
    quote = sandbox.post_mention("mohon segera ditindaklanjuti", "budi", quote_of=root["id"])
    connector = await connectors()
    items = {i.external_id: i for i in await drain(connector, store)}
    assert items[root["id"]].outcome == "complaint"
    ref = items[root["id"]].complaint_ref
    assert (items[more["id"]].outcome, items[more["id"]].complaint_ref) == ("follow_up", ref)
    assert (items[quote["id"]].outcome, items[quote["id"]].complaint_ref) == ("follow_up", ref)
    assert items[other["id"]].outcome == "complaint"  # another citizen files their own complaint
    later = sandbox.post_tweet("@pemkot_contoh sudah seminggu belum diperbaiki", "budi", in_reply_to=more["id"])
    items = await drain(connector, store)
    assert [(i.external_id, i.outcome, i.complaint_ref) for i in items] == [(later["id"], "follow_up", ref)]


async def test_a_reply_to_our_acknowledgement_is_a_follow_up(sandbox, store, connectors):
    connector = await connectors(reply_mode="public", **OAUTH)
    mention = sandbox.post_mention("Pungli di kantor kelurahan", "budi")
    [item] = await drain(connector, store)
    payload = {"origin": {"tweet_id": mention["id"]}, "complaint": item.complaint_ref, "purpose": "ack",
               "text": Templates()("ack_public", ref=item.complaint_ref), "public": True}
    async with store.session() as s:
        await enqueue(s, "reply", f"{item.complaint_ref}#ack", "reply:x", payload)
        await s.commit()
    receipt = await connector.reply(OutboxItem(1, "reply", f"{item.complaint_ref}#ack", "reply:x", payload), "k")
    async with store.session() as s:
        await s.exec(update(OutboxRow).values(remote_ref=receipt.remote_ref, status="done"))
        await s.commit()
    answer = sandbox.post_tweet("terima kasih, ini fotonya", "budi", in_reply_to=receipt.remote_ref)
    items = await drain(connector, store)
    assert [(i.external_id, i.outcome, i.complaint_ref, i.reason) for i in items] == [
        (answer["id"], "follow_up", item.complaint_ref, "reply")]  # linked through our reply's tweet id


PERSONAL = ["Budi Santoso", "081234567890", "budi@example.com", "3201010101010001", "Jalan Melati 5"]


@pytest.mark.parametrize("purpose,text", [
    ("ack", "Terima kasih Budi Santoso (081234567890), aduan ADU-2026-000007 diterima"),
    ("answer-3", "Tanggapan atas aduan ADU-2026-000007 dari Dinas PUPR:\n\nBapak Budi Santoso di Jalan Melati 5, "
                 "NIK 3201010101010001, silakan hubungi budi@example.com"),
    ("answer-4", "Aduan ADU-2026-000007 telah ditanggapi oleh Dinas PUPR. Silakan cek tautan atau hubungi kami "
                 "lewat pesan pribadi."),
    ("closed", "ADU-2026-000007 selesai untuk Budi Santoso 081234567890"),
    ("ack_followup", "Terima kasih Budi Santoso, pesan Anda kami catat sebagai tambahan untuk aduan ADU-2026-000007."),
])
async def test_a_public_reply_never_contains_personal_data(sandbox, connectors, purpose, text):
    connector = await connectors(reply_mode="public", **OAUTH)
    mention = sandbox.post_mention("Jalan rusak depan rumah saya di Jalan Melati 5", "budi")
    complaint = "ADU-2026-000099" if purpose == "ack_followup" else "ADU-2026-000007"  # merged into 000007
    payload = {"origin": {"tweet_id": mention["id"]}, "complaint": complaint, "purpose": purpose,
               "text": text, "public": True}
    receipt = await connector.reply(OutboxItem(1, "reply", "ADU-2026-000007#x", "reply:x", payload), "key")
    [posted] = sandbox.replies
    assert posted["id"] == receipt.remote_ref and posted["in_reply_to_tweet_id"] == mention["id"]
    assert "ADU-2026-000007" in posted["text"]
    for secret in [*PERSONAL, mention["text"], "budi"]:
        assert secret.lower() not in posted["text"].lower()
    if purpose == "answer-4":
        assert "Dinas PUPR" in posted["text"]


async def test_unsafe_or_disabled_replies_are_refused_and_not_posted(sandbox, store, tmp_path, connectors):
    mention = sandbox.post_mention("Sampah", "budi")

    def item(purpose="ack", ref="ADU-2026-000001"):
        return OutboxItem(1, "reply", f"{ref}#{purpose}", "reply:x",
                          {"origin": {"tweet_id": mention["id"]}, "complaint": ref, "purpose": purpose, "text": ""})

    off = await connectors()
    with pytest.raises(PermanentDeliveryError, match="reply_mode"):
        await off.reply(item(), "k")
    public = await connectors("x-public", reply_mode="public", **OAUTH)
    with pytest.raises(PermanentDeliveryError, match="purpose"):
        await public.reply(item("status"), "k")
    with pytest.raises(PermanentDeliveryError, match="ref"):
        await public.reply(item(ref="Budi 0812"), "k")
    ctx = make_context(store, tmp_path, "x")
    ctx.templates = Templates({"ack_public": "Aduan {ref} diterima. Info: 0812-3456-7890 / humas@kota.go.id"})
    await public.start(ctx, None)
    with pytest.raises(PermanentDeliveryError, match="phone|email"):
        await public.reply(item(), "k")
    assert sandbox.replies == []


async def test_repeated_reply_counts_as_delivered(sandbox, connectors):
    connector = await connectors(reply_mode="public", **OAUTH)
    mention = sandbox.post_mention("Sampah", "budi")
    item = OutboxItem(1, "reply", "ADU-2026-000001#ack", "reply:x",
                      {"origin": {"tweet_id": mention["id"]}, "complaint": "ADU-2026-000001", "purpose": "ack"})
    first = await connector.reply(item, "k")
    again = await connector.reply(item, "k")  # e.g. the first answer was lost in a timeout
    assert first.remote_ref and again.detail["duplicate"] and len(sandbox.replies) == 1


async def test_reply_rate_limit_is_retryable_with_the_reset(sandbox, connectors, clock):
    connector = await connectors(reply_mode="public", **OAUTH)
    mention = sandbox.post_mention("Sampah", "budi")
    sandbox.rate_limit_storm("tweets", 1, reset_in=120)
    item = OutboxItem(1, "reply", "ADU-2026-000001#ack", "reply:x",
                      {"origin": {"tweet_id": mention["id"]}, "complaint": "ADU-2026-000001", "purpose": "ack"})
    with pytest.raises(RetryableError) as exc:
        await connector.reply(item, "k")
    assert 119 <= exc.value.retry_after <= 121
    assert connector.limits.wait("mentions") == 0


async def test_wrong_bearer_token_is_an_auth_error(sandbox, store, tmp_path):
    connector = XConnector("x", make_config(sandbox, bearer_token="nope"))
    with pytest.raises(AuthError):
        await connector.start(make_context(store, tmp_path, "x"), None)  # looking the account up
    await connector.stop()
    with_id = XConnector("x", make_config(sandbox, bearer_token="nope", account_user_id=sandbox.account_id))
    await with_id.start(make_context(store, tmp_path, "x"), None)
    try:
        with pytest.raises(AuthError):
            await with_id.poll()
    finally:
        await with_id.stop()


async def test_probe_checks_account_and_user_credentials(sandbox, connectors):
    connector = XConnector("x", make_config(sandbox, reply_mode="public", **OAUTH))
    description = await connector.probe()
    assert f"@{sandbox.account_username}" in description and "user credentials OK" in description
    bad = XConnector("x", make_config(sandbox, reply_mode="public", **{**OAUTH, "access_token_secret": "no"}))
    with pytest.raises(AuthError):
        await bad.probe()


async def test_reparse_rebuilds_the_envelope(sandbox, store, connectors):
    root = sandbox.post_mention("Jalan rusak", "budi")
    sandbox.post_tweet("fotonya", "budi", in_reply_to=root["id"])
    connector = await connectors()
    batch = await connector.poll()
    envelope = batch.envelopes[0]
    again = XConnector.reparse(envelope.raw.encode(), envelope.external_id)
    assert (again.text, again.sender, again.thread_id, again.reply_to, again.origin, again.received_at) == (
        envelope.text, envelope.sender, envelope.thread_id, envelope.reply_to, envelope.origin, envelope.received_at)
    broken = XConnector.reparse(json.dumps({"data": {"id": "5"}}).encode(), "5")
    assert broken.error and "unparseable" in broken.error


def test_config_rules():
    base = {"name": "x", "kind": "x", "bearer_token": "t", "account_username": "@pemkot"}
    assert XConfig.model_validate(base).account_username == "pemkot"
    assert XConfig.model_validate(base).acknowledge is False
    assert XConfig.model_validate({**base, "reply_mode": "public", **OAUTH}).acknowledge is True
    for broken in ({**base, "reply_mode": "public"}, {**base, "consumer_key": "k"},
                   {**base, "mentions": False}, {**base, "account_username": None},
                   {**base, "acknowledge": True}, {**base, "search_queries": [""]},
                   {**base, "api_base_url": "ftp://x"}):
        with pytest.raises(ValueError):
            XConfig.model_validate(broken)


async def test_logs_carry_no_secrets_and_no_tweet_text_above_debug(sandbox, store, connectors, caplog):
    caplog.set_level(logging.DEBUG)
    connector = await connectors(reply_mode="public", search_queries=["#LaporWalikota"], **OAUTH)
    mention = sandbox.post_mention("Jalan rusak depan rumah Budi 081234567890 #LaporWalikota", "budi_s")
    sandbox.fail("search", 503)
    [item, *_] = await drain(connector, store)
    await connector.reply(OutboxItem(1, "reply", f"{item.complaint_ref}#ack", "reply:x",
                                     {"origin": {"tweet_id": mention["id"]}, "complaint": item.complaint_ref,
                                      "purpose": "ack"}), "k")
    assert any("Authorization" in r.getMessage() for r in caplog.records)  # tweepy did log its headers
    for record in caplog.records:
        message = record.getMessage()
        # consumer key and access token are identifiers OAuth 1.0a sends in clear (oauthlib logs them at DEBUG)
        assert all(s not in message for s in (BEARER, OAUTH["consumer_secret"], OAUTH["access_token_secret"]))
        if record.levelno > logging.DEBUG:
            assert all(s not in message for s in OAUTH.values())
            assert "081234567890" not in message and "Jalan rusak" not in message and "budi_s" not in message


async def test_daemon_acknowledges_a_mention_with_a_public_reply(sandbox, tmp_path):
    from omnichannel.config import parse_config
    from omnichannel.daemon import Daemon

    text = f"""
data_dir: {tmp_path}/data
http: {{host: 127.0.0.1, port: 0}}
daemon: {{router_interval: 0.1, shutdown_deadline: 5}}
connectors:
  - name: x
    kind: x
    bearer_token: ${{XB}}
    consumer_key: ${{XCK}}
    consumer_secret: ${{XCS}}
    access_token: ${{XAT}}
    access_token_secret: ${{XATS}}
    account_username: {sandbox.account_username}
    api_base_url: {sandbox.base_url}
    reply_mode: public
    poll_interval: 0.1
"""
    env = {"XB": BEARER, "XCK": OAUTH["consumer_key"], "XCS": OAUTH["consumer_secret"],
           "XAT": OAUTH["access_token"], "XATS": OAUTH["access_token_secret"]}
    mention = sandbox.post_mention("Lampu PJU di Jl. Merdeka mati, saya Budi 081234567890", "budi")
    sandbox.clock = time.time  # the daemon's scheduler runs on real time
    daemon = Daemon(parse_config(text, env=env))
    await daemon.start()
    try:
        for _ in range(200):  # wait for the loop mention → complaint → ack row → public reply
            if sandbox.replies:
                break
            await asyncio.sleep(0.05)
    finally:
        await asyncio.wait_for(daemon.stop(), 10)
    [reply] = sandbox.replies
    assert reply["in_reply_to_tweet_id"] == mention["id"] and "ADU-" in reply["text"]
    assert "Budi" not in reply["text"] and "0812" not in reply["text"] and "PJU" not in reply["text"]


async def test_unknown_account_is_a_config_error(sandbox, store, tmp_path):
    for overrides, key in (({"account_username": "tidak_ada"}, "account_username"),
                           ({"account_user_id": "42"}, "account_user_id")):
        connector = XConnector("x", make_config(sandbox, **overrides))
        try:
            with pytest.raises(ConfigError, match=key):
                await connector.start(make_context(store, tmp_path, "x"), None)
                await connector.poll()
        finally:
            await connector.stop()


def test_an_oddly_shaped_tweet_in_a_page_is_quarantined_and_its_neighbours_parsed():
    from connectors.x.tweets import envelope_from_document, page_documents

    good = {"id": "1800000000000000010", "text": "@pemkot_contoh jalan rusak", "author_id": "2000000001",
            "referenced_tweets": [{"type": "replied_to", "id": "1800000000000000001"}]}
    body = {"data": [good, "junk", {"id": "1800000000000000011", "text": "x", "author_id": "2000000002",
                                    "referenced_tweets": "not a list"}, None],
            "includes": {"users": ["junk", {"id": "2000000001", "username": "warga"}], "tweets": [7]},
            "meta": {"result_count": 4}}
    docs = page_documents(body, "1500000000000000001", "mentions")
    envelopes = [envelope_from_document(doc, tid) for tid, doc in docs]
    assert len(envelopes) == 4
    assert envelopes[0].error is None and envelopes[0].sender.username == "warga"
    assert all(e.error for e in envelopes[1:])
    assert len({e.external_id for e in envelopes}) == 4


async def test_a_mention_with_photos_stores_them_and_a_video_as_metadata(sandbox, store, connectors, tmp_path):
    from tests.images import EXE, JPEG

    sandbox.post_mention("Jalan berlubang di Jl. Melati, fotonya", "budi", photos=[JPEG, EXE], videos=1)
    sandbox.post_mention("Lampu jalan mati", "sari")
    connector = await connectors()
    await drain(connector, store)
    with_media, plain = (r[0] if isinstance(r, tuple) else r for r in await stored(store))
    photo, disguised, video = with_media.attachments
    assert photo["content_type"] == "image/jpeg" and photo["size"] == len(JPEG) and photo["skipped_reason"] is None
    assert (tmp_path / "attachments" / photo["path"]).read_bytes() == JPEG
    assert disguised["path"] is None and disguised["skipped_reason"] == "type application/x-msdownload not accepted"
    assert video["path"] is None and video["skipped_reason"] == "video: not downloaded (only photos are)"
    assert plain.attachments == [] and "media" not in json.loads(plain.raw)["includes"]
    assert json.loads(with_media.raw)["includes"]["media"][0]["type"] == "photo"  # kept whole for a re-parse
    assert not any(BEARER in str(req) for _, req in sandbox.requests if "media" in str(req))


async def test_a_photo_the_cdn_cannot_serve_is_kept_as_metadata_with_the_reason(sandbox, store, connectors):
    from tests.images import JPEG

    tweet = sandbox.post_mention("Sampah menumpuk, lihat foto", "budi", photos=[JPEG])
    sandbox.media_bytes.pop(tweet["attachments"]["media_keys"][0])  # gone from the CDN
    connector = await connectors()
    await drain(connector, store)
    (row,) = (r[0] if isinstance(r, tuple) else r for r in await stored(store))
    assert row.outcome == "complaint" and row.attachments[0]["skipped_reason"] == "media download failed: HTTP 404"
