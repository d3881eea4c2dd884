"""``omnichannel sandbox``: serve runs all four sandboxes; the x and lapor subcommands drive running ones."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys

import aiohttp
import pytest

from omnichannel.sandbox.base import SandboxServer
from omnichannel.sandbox.cli import main
from omnichannel.sandbox.lapor import LaporSandbox
from omnichannel.sandbox.telegram import TelegramSandbox
from omnichannel.sandbox.whatsapp import WhatsAppSandbox
from omnichannel.sandbox.x import XSandbox


async def test_serve_starts_all_five_and_stops_on_sigterm():
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "omnichannel.sandbox.cli", "serve", "--telegram-port", "0", "--whatsapp-port", "0",
        "--lapor-port", "0", "--x-port", "0", "--meta-port", "0", stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        lines = [(await asyncio.wait_for(proc.stdout.readline(), 30)).decode() for _ in range(6)]
        urls = dict(re.findall(r"^(\w+) sandbox:\s+\w+ (http://\S+)", "".join(lines), re.M))
        assert set(urls) == {"telegram", "whatsapp", "lapor", "x", "meta"}, lines
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http:
            async with http.get(urls["x"] + "/_sandbox/x/state") as resp:
                assert resp.status == 200
                assert (await resp.json())["account"]["username"] == "pemkot_contoh"
            async with http.get(urls["lapor"] + "/_sandbox/lapor/reports") as resp:
                assert resp.status == 200
                assert (await resp.json())["reports"] == []
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), 30) == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


async def test_x_mention_and_replies(capsys):
    async with XSandbox() as x:
        assert await asyncio.to_thread(main, ["x", "mention", "sampah menumpuk di pasar", "--author", "warga_bdg",
                                              "--url", x.base_url]) == 0
        tweet = next(t for t in x.tweets.values() if "sampah" in t["text"])
        assert tweet["text"].startswith("@pemkot_contoh ")
        assert x.users[tweet["author_id"]]["username"] == "warga_bdg"
        answer = x.post_tweet("Terima kasih, aduan Anda kami terima.", x.account_username, in_reply_to=tweet["id"],
                              auto_mentions=False)
        x.replies.append({**answer, "in_reply_to_tweet_id": tweet["id"]})  # as POST /2/tweets records it
        capsys.readouterr()
        assert await asyncio.to_thread(main, ["x", "replies", "--url", x.base_url]) == 0
        assert f"→ {tweet['id']}] Terima kasih" in capsys.readouterr().out
    assert main(["x", "mention", "--url", "http://127.0.0.1:9"]) == 2  # no text


async def test_lapor_reports_advance_force(capsys):
    async with LaporSandbox() as lapor:
        report = lapor._create("json", {"text": "Jalan berlubang di Jl. Merdeka", "external_ref": "TIK-2026-000001"})
        assert await asyncio.to_thread(main, ["lapor", "advance", "--days", "2.5", "--url", lapor.base_url]) == 0
        assert lapor.progress(report).status == "terverifikasi"
        assert await asyncio.to_thread(main, ["lapor", "force", report.tracking_id, "ditindaklanjuti",
                                              "--text", "Sudah kami perbaiki.", "--url", lapor.base_url]) == 0
        assert report.status == "ditindaklanjuti" and report.followups[-1]["isi"] == "Sudah kami perbaiki."
        capsys.readouterr()
        assert await asyncio.to_thread(main, ["lapor", "reports", "--url", lapor.base_url]) == 0
        out = capsys.readouterr().out
        assert f"#{report.tracking_id} ditindaklanjuti" in out and "TIK-2026-000001" in out
    assert main(["lapor", "force", "4100001"]) == 2  # no status


@pytest.mark.parametrize("make", [TelegramSandbox, WhatsAppSandbox, XSandbox, LaporSandbox])
async def test_every_sandbox_restarts_on_its_port_and_stops_twice(make):
    sandbox = make()
    assert isinstance(sandbox, SandboxServer)
    await sandbox.start()
    url = sandbox.base_url
    await sandbox.stop()
    await sandbox.stop()
    async with sandbox:
        assert sandbox.base_url == url
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http:
            async with http.get(url + "/nothing-here") as resp:
                assert resp.status in (404, 405)
    with pytest.raises(aiohttp.ClientConnectionError):
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http:
            async with http.get(url + "/nothing-here"):
                pass


async def test_meta_dm_comment_and_sent(capsys):
    from omnichannel.sandbox.meta import MetaSandbox

    async with MetaSandbox() as meta:
        # no daemon listens: the delivery fails, the command says so, the message stays for catch-up
        assert await asyncio.to_thread(main, ["meta", "dm", "jalan rusak di Jl. Pemuda", "--name", "Budi",
                                              "--webhook", "http://127.0.0.1:9/webhooks/facebook/fb",
                                              "--url", meta.base_url]) == 1
        assert await asyncio.to_thread(main, ["meta", "comment", "sampah menumpuk", "--platform", "instagram",
                                              "--name", "rina_smg", "--url", meta.base_url]) == 1
        assert len(meta.undelivered) == 2 and any(c["text"] == "sampah menumpuk" for c in meta.comments.values())
        user = next(u for u, v in meta.users.items() if v.get("name") == "Budi")
        meta.sent.append({"recipient": {"id": user}, "message": {"text": "Aduan ADU-2026-000001 diterima"},
                          "platform": "facebook", "to": user, "kind": "RESPONSE"})
        capsys.readouterr()
        assert await asyncio.to_thread(main, ["meta", "sent", "--url", meta.base_url]) == 0
        assert f"[facebook → {user} RESPONSE] Aduan ADU-2026-000001 diterima" in capsys.readouterr().out
    assert main(["meta", "dm", "--url", "http://127.0.0.1:9"]) == 2  # no text
