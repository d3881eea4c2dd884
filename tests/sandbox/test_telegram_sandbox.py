"""The Telegram sandbox speaks the Bot API: offsets, long polls, sends, edits, callbacks, files, webhooks."""

from __future__ import annotations

import asyncio
import json

import aiohttp
import pytest
from aiohttp import web
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, Conflict, Forbidden, InvalidToken, RetryAfter

from omnichannel.sandbox.telegram import TelegramSandbox


@pytest.fixture
async def sandbox():
    async with TelegramSandbox() as sb:
        yield sb


@pytest.fixture
async def bot(sandbox):
    b = Bot(sandbox.token, base_url=f"{sandbox.base_url}/bot", base_file_url=f"{sandbox.base_url}/file/bot")
    async with b:
        yield b


async def call(sandbox, method, token=None, **params):
    async with aiohttp.ClientSession() as s:
        url = f"{sandbox.base_url}/bot{token or sandbox.token}/{method}"
        async with s.post(url, data={k: v if isinstance(v, str) else json.dumps(v) for k, v in params.items()}) as r:
            return r.status, await r.json()


async def test_updates_stay_until_a_higher_offset_confirms_them(sandbox):
    sandbox.say(42, "jalan rusak")
    sandbox.say(42, "lampu mati")
    status, body = await call(sandbox, "getUpdates")
    ids = [u["update_id"] for u in body["result"]]
    assert status == 200 and body["ok"] and len(ids) == 2
    _, again = await call(sandbox, "getUpdates", offset=str(ids[0]))
    assert [u["update_id"] for u in again["result"]] == ids  # offset == first id confirms nothing
    _, later = await call(sandbox, "getUpdates", offset=str(ids[1]))
    assert [u["update_id"] for u in later["result"]] == ids[1:]
    _, empty = await call(sandbox, "getUpdates", offset=str(ids[1] + 1))
    assert empty["result"] == [] and sandbox.pending == []


async def test_limit_negative_offset_and_allowed_updates(sandbox):
    for i in range(5):
        sandbox.say(42, f"pesan {i}")
    sandbox.press(42, 1, "x")
    _, body = await call(sandbox, "getUpdates", limit="2", allowed_updates=["message"])
    assert len(body["result"]) == 2 and all("message" in u for u in body["result"])
    _, last = await call(sandbox, "getUpdates", offset="-1")
    assert len(last["result"]) == 1 and len(sandbox.pending) == 1


async def test_long_poll_returns_as_soon_as_an_update_arrives(sandbox, bot):
    task = asyncio.create_task(bot.get_updates(timeout=10))
    await asyncio.sleep(0.1)
    assert not task.done()
    sandbox.say(42, "banjir")
    updates = await asyncio.wait_for(task, 5)
    assert updates[0].message.text == "banjir"


async def test_second_long_poll_terminates_the_first_with_409(sandbox, bot):
    first = asyncio.create_task(bot.get_updates(timeout=10))
    await asyncio.sleep(0.1)
    second = asyncio.create_task(call(sandbox, "getUpdates", timeout="1"))  # another bot instance
    with pytest.raises(Conflict):
        await asyncio.wait_for(first, 5)
    assert await second == (200, {"ok": True, "result": []})


async def test_send_edit_and_callback_round_trip(sandbox, bot):
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Terima", callback_data="take:1")]])
    sent = await bot.send_message(-1001, "Tiket baru", reply_markup=keyboard)
    assert sandbox.sent[-1]["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "take:1"
    assert sandbox.sent[-1]["chat"]["type"] == "supergroup"
    query_id = sandbox.press(-1001, sent.message_id, "take:1")
    updates = await bot.get_updates()
    assert updates[0].callback_query.data == "take:1" and updates[0].callback_query.message.message_id == sent.message_id
    assert await bot.answer_callback_query(query_id, text="Diterima")
    assert sandbox.callback_answers == [{"callback_query_id": query_id, "text": "Diterima", "show_alert": False}]
    edited = await bot.edit_message_text("Tiket diterima", chat_id=-1001, message_id=sent.message_id)
    assert edited.text == "Tiket diterima" and sandbox.message(-1001, sent.message_id)["text"] == "Tiket diterima"
    with pytest.raises(BadRequest, match="not modified"):
        await bot.edit_message_text("Tiket diterima", chat_id=-1001, message_id=sent.message_id)
    assert "reply_markup" not in sandbox.message(-1001, sent.message_id)  # an edit without markup drops it
    done = InlineKeyboardMarkup([[InlineKeyboardButton("Selesai", callback_data="done:1")]])
    await bot.edit_message_reply_markup(chat_id=-1001, message_id=sent.message_id, reply_markup=done)
    assert sandbox.message(-1001, sent.message_id)["reply_markup"]["inline_keyboard"][0][0]["text"] == "Selesai"
    with pytest.raises(BadRequest, match="query"):
        await bot.answer_callback_query("nope")


async def test_reply_to_and_citizen_edit(sandbox, bot):
    asked = sandbox.say(42, "jalan berlubang")
    answer = await bot.send_message(42, "Terima kasih", reply_to_message_id=asked["message_id"])
    assert answer.reply_to_message.message_id == asked["message_id"]
    sandbox.edit(42, asked["message_id"], "jalan berlubang besar")
    kinds = [u.edited_message is not None for u in await bot.get_updates()]
    assert kinds == [False, True]


async def test_errors_have_the_bot_api_shape(sandbox, bot):
    status, body = await call(sandbox, "getMe", token="1:wrong")
    assert status == 401 and body == {"ok": False, "error_code": 401, "description": "Unauthorized"}
    sandbox.storm(2, retry_after=3, methods=["sendMessage"])
    status, body = await call(sandbox, "sendMessage", chat_id="42", text="x")
    assert status == 429 and body["parameters"] == {"retry_after": 3}
    with pytest.raises(RetryAfter):
        await bot.send_message(42, "x")
    assert (await bot.send_message(42, "lagi")).text == "lagi"
    sandbox.blocked.add(43)
    with pytest.raises(Forbidden):
        await bot.send_message(43, "x")
    with pytest.raises(BadRequest, match="empty"):
        await bot.send_message(42, " ")
    status, _ = await call(sandbox, "noSuchMethod")
    assert status == 404
    with pytest.raises(InvalidToken):
        async with Bot("1:wrong", base_url=f"{sandbox.base_url}/bot"):
            pass


async def test_files_are_served_through_getfile_and_download(sandbox, bot):
    big, small = b"B" * 5000, b"s" * 50
    sandbox.say(42, caption="foto jalan", photo=[small, big])
    sandbox.say(42, document=b"%PDF-1.4 ...", filename="surat.pdf")
    photo_msg, doc_msg = [u.message for u in await bot.get_updates()]
    assert [p.file_size for p in photo_msg.photo] == [50, 5000] and photo_msg.caption == "foto jalan"
    remote = await bot.get_file(photo_msg.photo[-1].file_id)
    assert bytes(await remote.download_as_bytearray()) == big
    doc = await bot.get_file(doc_msg.document.file_id)
    assert doc_msg.document.file_name == "surat.pdf" and bytes(await doc.download_as_bytearray()) == b"%PDF-1.4 ..."
    huge = sandbox.add_file(b"", suffix=".bin")
    sandbox._files[huge["file_id"]][1]["file_size"] = 25 * 1024 * 1024
    with pytest.raises(BadRequest, match="too big"):
        await bot.get_file(huge["file_id"])


async def test_webhook_delivery_with_secret_and_retries(sandbox, bot):
    seen, statuses = [], [500]

    async def hook(request):
        seen.append((request.headers.get("X-Telegram-Bot-Api-Secret-Token"), await request.json()))
        return web.Response(status=statuses.pop(0) if statuses else 200)

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    try:
        sandbox.say(42, "sampah menumpuk")
        assert await bot.set_webhook(f"http://127.0.0.1:{port}/hook", secret_token="s3cret_-OK")
        with pytest.raises(Conflict):
            await bot.get_updates()
        for _ in range(100):
            if sandbox.webhook_deliveries:
                break
            await asyncio.sleep(0.05)
        assert len(seen) == 2 and seen[0] == seen[1]  # the failed delivery was repeated
        assert seen[0][0] == "s3cret_-OK" and seen[0][1]["message"]["text"] == "sampah menumpuk"
        info = await bot.get_webhook_info()
        assert info.url.endswith("/hook") and info.pending_update_count == 0 and "500" in info.last_error_message
        with pytest.raises(BadRequest, match="unallowed"):
            await bot.set_webhook(f"http://127.0.0.1:{port}/hook", secret_token="bad token!")
        assert await bot.delete_webhook()
        assert (await bot.get_webhook_info()).url == ""
    finally:
        await runner.cleanup()


async def test_control_api_drives_a_running_sandbox(sandbox):
    async with aiohttp.ClientSession() as s:
        async with s.post(f"{sandbox.base_url}/_sandbox/telegram/say", json={"chat_id": 42, "text": "/start"}) as r:
            message = await r.json()
        assert message["entities"][0]["type"] == "bot_command"
        async with s.get(f"{sandbox.base_url}/_sandbox/telegram/state") as r:
            assert (await r.json())["pending"] == 1
