"""The Meta sandbox speaks Meta's shapes: signed deliveries, Graph errors, messaging rules, paging, controls."""

from __future__ import annotations

import hashlib
import hmac
import json

import aiohttp
import pytest
from aiohttp import web

from omnichannel.sandbox.meta import DEFAULT_ACCESS_TOKEN, MetaSandbox

AUTH = {"Authorization": f"Bearer {DEFAULT_ACCESS_TOKEN}"}


@pytest.fixture
async def sandbox():
    async with MetaSandbox() as sb:
        yield sb


@pytest.fixture
async def receiver(sandbox):
    """A webhook receiver that records what Meta (the sandbox) posts."""
    got: list[tuple[dict, bytes]] = []

    async def hook(request: web.Request) -> web.Response:
        got.append((dict(request.headers), await request.read()))
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}/hook"  # type: ignore[union-attr]
    sandbox.webhooks.update(facebook=url, instagram=url)
    yield got
    await runner.cleanup()


async def graph(sandbox, method, path, **kw):
    async with aiohttp.ClientSession() as s, s.request(method, f"{sandbox.base_url}/v21.0/{path}", **kw) as r:
        return r.status, await r.json(), r.headers


async def test_deliveries_are_signed_and_shaped_like_meta(sandbox, receiver):
    user = sandbox.user("instagram", "rina")
    await sandbox.dm("instagram", user, "Halo")
    await sandbox.comment("facebook", sandbox.user("facebook", "Budi"), "Jalan rusak")
    (h1, dm), (_, comment) = receiver
    expected = "sha256=" + hmac.new(sandbox.app_secret.encode(), dm, hashlib.sha256).hexdigest()
    assert h1["X-Hub-Signature-256"] == expected
    dm_doc, comment_doc = json.loads(dm), json.loads(comment)
    event = dm_doc["entry"][0]["messaging"][0]
    assert dm_doc["object"] == "instagram" and dm_doc["entry"][0]["id"] == sandbox.instagram_id
    assert event["sender"] == {"id": user} and event["message"]["text"] == "Halo" and event["message"]["mid"]
    change = comment_doc["entry"][0]["changes"][0]
    assert comment_doc["object"] == "page" and change["field"] == "feed"
    assert {"item", "verb", "comment_id", "post_id", "from", "message", "created_time"} <= set(change["value"])


async def test_graph_errors_and_token_expiry(sandbox):
    status, body, _ = await graph(sandbox, "GET", sandbox.page_id)
    assert status == 400 and body["error"]["code"] == 190 and body["error"]["type"] == "OAuthException"
    assert (await graph(sandbox, "GET", sandbox.page_id, headers=AUTH))[1]["name"] == sandbox.page_name
    sandbox.expire_token()
    status, body, _ = await graph(sandbox, "GET", sandbox.page_id, headers=AUTH)
    assert (body["error"]["code"], body["error"]["error_subcode"]) == (190, 463)
    sandbox.renew_token()
    sandbox.throttle(1, code=80001, minutes=4)
    status, body, headers = await graph(sandbox, "GET", f"{sandbox.page_id}/conversations", headers=AUTH)
    usage = json.loads(headers["X-Business-Use-Case-Usage"])
    assert body["error"]["code"] == 80001 and usage[sandbox.page_id][0]["estimated_time_to_regain_access"] == 4
    status, body, _ = await graph(sandbox, "GET", "999", headers=AUTH)
    assert body["error"]["code"] == 100 and body["error"]["error_subcode"] == 33


async def test_messaging_window_tag_and_private_reply_rules(sandbox):
    user = sandbox.user("facebook", "Ani")
    await sandbox.dm("facebook", user, "Halo", deliver=False)
    send = {"recipient": {"id": user}, "messaging_type": "RESPONSE", "message": {"text": "Baik"}}
    status, body, _ = await graph(sandbox, "POST", f"{sandbox.page_id}/messages", json=send, headers=AUTH)
    assert status == 200 and body["recipient_id"] == user and body["message_id"].startswith("m_")
    sandbox.advance(25 * 3600)
    status, body, _ = await graph(sandbox, "POST", f"{sandbox.page_id}/messages", json=send, headers=AUTH)
    assert (body["error"]["code"], body["error"]["error_subcode"]) == (10, 2018278)
    tagged = {**send, "messaging_type": "MESSAGE_TAG", "tag": "HUMAN_AGENT"}
    assert (await graph(sandbox, "POST", f"{sandbox.page_id}/messages", json=tagged, headers=AUTH))[0] == 200
    comment_id, _ = await sandbox.comment("facebook", user, "Lampu mati", deliver=False)
    private = {"recipient": {"comment_id": comment_id}, "message": {"text": "Detail"}}
    assert (await graph(sandbox, "POST", f"{sandbox.page_id}/messages", json=private, headers=AUTH))[0] == 200
    status, body, _ = await graph(sandbox, "POST", f"{sandbox.page_id}/messages", json=private, headers=AUTH)
    assert body["error"]["code"] == 10900
    old, _ = await sandbox.comment("facebook", user, "Lama", deliver=False, at=sandbox.now() - 8 * 86400)
    private["recipient"] = {"comment_id": old}
    assert (await graph(sandbox, "POST", f"{sandbox.page_id}/messages", json=private, headers=AUTH))[1][
        "error"]["code"] == 10903


async def test_lists_are_paged_newest_first(sandbox):
    for n in range(5):
        await sandbox.dm("instagram", sandbox.user("instagram", f"u{n}"), f"pesan {n}", deliver=False,
                         at=sandbox.now() + n)
    status, first, _ = await graph(sandbox, "GET", f"{sandbox.page_id}/conversations", headers=AUTH,
                                   params={"platform": "instagram", "limit": "2"})
    assert len(first["data"]) == 2 and first["paging"]["next"]
    async with aiohttp.ClientSession() as s, s.get(first["paging"]["next"], headers=AUTH) as r:
        second = await r.json()
    stamps = [c["updated_time"] for c in first["data"] + second["data"]]
    assert stamps == sorted(stamps, reverse=True) and len(second["data"]) == 2
    status, none, _ = await graph(sandbox, "GET", f"{sandbox.page_id}/conversations", headers=AUTH,
                                  params={"platform": "messenger"})
    assert none["data"] == []


async def test_control_api_drives_the_sandbox(sandbox, receiver):
    base = f"{sandbox.base_url}/_sandbox/meta"
    async with aiohttp.ClientSession() as s:
        async with s.post(f"{base}/dm", json={"platform": "facebook", "name": "Budi", "text": "Jalan rusak"}) as r:
            dm = await r.json()
        async with s.post(f"{base}/comment", json={"platform": "instagram", "text": "Sampah"}) as r:
            comment = await r.json()
        async with s.post(f"{base}/dm", json={"platform": "facebook"}) as r:
            assert r.status == 400
        async with s.post(f"{base}/expire") as r:
            assert r.status == 200
        async with s.get(f"{base}/state") as r:
            state = await r.json()
    assert dm["status"] == 200 and comment["status"] == 200 and len(receiver) == 2
    assert state["token_expired"] is True and state["page_id"] == sandbox.page_id
