"""The WhatsApp sandbox: Graph API errors and sends, media endpoints, signed webhook deliveries."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json

import aiohttp
import pytest
from aiohttp import web

from omnichannel.sandbox.base import sign
from omnichannel.sandbox.whatsapp import WhatsAppSandbox

TOKEN = "EAAG-sandbox-access-token"


@pytest.fixture
async def receiver():
    """A webhook receiver that records raw bodies and headers."""
    seen: list[tuple[bytes, dict[str, str]]] = []

    async def hook(request):
        seen.append((await request.read(), dict(request.headers)))
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}/hook", seen
    await runner.cleanup()


@pytest.fixture
async def sandbox(receiver):
    async with WhatsAppSandbox(webhook_url=receiver[0]) as sb:
        yield sb


async def post(sandbox, body, token=TOKEN, phone=None):
    url = f"{sandbox.base_url}/v21.0/{phone or sandbox.phone_number_id}/messages"
    async with aiohttp.ClientSession() as s, s.post(url, json=body, headers={"Authorization": f"Bearer {token}"}) as r:
        return r.status, await r.json()


TEXT = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": "6281234567890", "type": "text",
        "text": {"preview_url": False, "body": "Aduan Anda diterima"}}


async def test_deliveries_are_signed_over_the_raw_body(sandbox, receiver):
    wamid, status = await sandbox.say("6281234567890", "jalan rusak di Jl. Merdeka", name="Budi")
    assert status == 200 and wamid.startswith("wamid.")
    body, headers = receiver[1][0]
    expected = hmac.new(b"sandbox-app-secret", body, hashlib.sha256).hexdigest()
    assert headers["X-Hub-Signature-256"] == f"sha256={expected}" == sign(body, sandbox.app_secret)
    payload = json.loads(body)
    value = payload["entry"][0]["changes"][0]["value"]
    assert payload["object"] == "whatsapp_business_account" and payload["entry"][0]["changes"][0]["field"] == "messages"
    assert value["metadata"]["phone_number_id"] == sandbox.phone_number_id
    assert value["contacts"] == [{"profile": {"name": "Budi"}, "wa_id": "6281234567890"}]
    assert value["messages"][0] | {"timestamp": "t"} == {"from": "6281234567890", "id": wamid, "timestamp": "t",
                                                        "type": "text", "text": {"body": "jalan rusak di Jl. Merdeka"}}
    await sandbox.deliver(sandbox.text_payload("62811", "x"), signature=None)
    await sandbox.deliver(sandbox.text_payload("62811", "x"), signature="sha256=00")
    assert "X-Hub-Signature-256" not in receiver[1][1][1] and receiver[1][2][1]["X-Hub-Signature-256"] == "sha256=00"


async def test_payload_builders_follow_the_documented_shapes(sandbox):
    image = sandbox.media_payload("62812", "image", b"jpeg", "image/jpeg", caption="foto")
    msg = image["entry"][0]["changes"][0]["value"]["messages"][0]
    assert set(msg["image"]) == {"mime_type", "sha256", "id", "caption"} and msg["image"]["id"] in sandbox.media
    loc = sandbox.location_payload("62812", -6.2, 106.8, name="Pasar", address="Jl. A")
    assert loc["entry"][0]["changes"][0]["value"]["messages"][0]["location"]["latitude"] == -6.2
    button = sandbox.interactive_payload("62812", "ya", "Ya", context="wamid.X")
    msg = button["entry"][0]["changes"][0]["value"]["messages"][0]
    assert msg["interactive"] == {"type": "button_reply", "button_reply": {"id": "ya", "title": "Ya"}}
    assert msg["context"]["id"] == "wamid.X"
    status = sandbox.status_payload("wamid.Y", "delivered", "62812")["entry"][0]["changes"][0]["value"]
    assert "messages" not in status and status["statuses"][0]["recipient_id"] == "62812"
    unsupported = sandbox.unsupported_payload("62812")["entry"][0]["changes"][0]["value"]["messages"][0]
    assert unsupported["type"] == "unsupported" and unsupported["errors"][0]["code"] == 131047 + 4


async def test_messages_endpoint_checks_token_window_and_parameters(sandbox):
    status, body = await post(sandbox, TEXT, token="wrong")
    assert status == 401 and body["error"]["code"] == 190 and body["error"]["type"] == "OAuthException"
    status, body = await post(sandbox, TEXT)  # the citizen never wrote: outside the window
    assert status == 400 and body["error"]["code"] == 131047
    assert "24 hours" in body["error"]["error_data"]["details"]
    template = {**TEXT, "type": "template", "template": {"name": "tanggapan_aduan", "language": {"code": "id"}}}
    template.pop("text")
    status, body = await post(sandbox, template)
    assert status == 200 and body["messages"][0]["message_status"] == "accepted"
    await sandbox.say("6281234567890", "halo")
    status, body = await post(sandbox, TEXT)
    assert status == 200 and body["contacts"] == [{"input": "6281234567890", "wa_id": "6281234567890"}]
    assert sandbox.sent[-1]["wamid"] == body["messages"][0]["id"] and sandbox.sent[-1]["text"]["body"] == TEXT["text"]["body"]
    sandbox.storm(2)
    assert [(await post(sandbox, TEXT))[1]["error"]["code"] for _ in range(2)] == [130429, 130429]
    assert (await post(sandbox, TEXT))[0] == 200
    assert (await post(sandbox, {**TEXT, "text": {}}))[0] == 400
    assert (await post(sandbox, TEXT, phone="999"))[1]["error"]["code"] == 100


async def test_window_errors_the_meta_way_arrive_as_a_failed_status(receiver):
    async with WhatsAppSandbox(webhook_url=receiver[0], window_errors="webhook") as sb:
        status, body = await post(sb, TEXT)
        assert status == 200
        for _ in range(100):
            if receiver[1]:
                break
            await asyncio.sleep(0.02)
    statuses = json.loads(receiver[1][0][0])["entry"][0]["changes"][0]["value"]["statuses"]
    assert statuses[0]["status"] == "failed" and statuses[0]["errors"][0]["code"] == 131047
    assert statuses[0]["id"] == body["messages"][0]["id"]


async def test_media_lookup_and_download_need_the_token(sandbox):
    media_id = sandbox.add_media(b"\x89PNG....", "image/png")
    auth = {"Authorization": f"Bearer {TOKEN}"}
    async with aiohttp.ClientSession() as s:
        async with s.get(f"{sandbox.base_url}/v21.0/{media_id}", headers=auth) as r:
            info = await r.json()
        assert info["file_size"] == 8 and info["mime_type"] == "image/png"
        assert info["sha256"] == hashlib.sha256(b"\x89PNG....").hexdigest()
        async with s.get(info["url"]) as r:
            assert r.status == 401
        async with s.get(info["url"], headers=auth) as r:
            assert await r.read() == b"\x89PNG...."
        async with s.get(f"{sandbox.base_url}/v21.0/424242", headers=auth) as r:
            assert r.status == 404 and (await r.json())["error"]["code"] == 100
        form = aiohttp.FormData()
        form.add_field("messaging_product", "whatsapp")
        form.add_field("file", b"%PDF", filename="a.pdf", content_type="application/pdf")
        async with s.post(f"{sandbox.base_url}/v21.0/{sandbox.phone_number_id}/media", data=form, headers=auth) as r:
            uploaded = (await r.json())["id"]
        assert sandbox.media[uploaded][0] == b"%PDF"
        async with s.get(f"{sandbox.base_url}/v21.0/{sandbox.phone_number_id}", headers=auth) as r:
            assert (await r.json())["display_phone_number"] == sandbox.display_phone_number


async def test_control_api_sends_a_signed_message(sandbox, receiver):
    async with aiohttp.ClientSession() as s:
        async with s.post(f"{sandbox.base_url}/_sandbox/whatsapp/say",
                          json={"wa_id": "6285700000000", "text": "banjir"}) as r:
            answer = await r.json()
    assert answer["status"] == 200 and json.loads(receiver[1][0][0])["entry"][0]["changes"][0]["value"][
        "messages"][0]["id"] == answer["wamid"]
