"""Facebook and Instagram through the whole daemon: webhooks in, acknowledgements back, downtime caught up, parking."""

from __future__ import annotations

import asyncio
from textwrap import dedent

from omnichannel.config import parse_config
from omnichannel.daemon import Daemon
from omnichannel.sandbox.meta import MetaSandbox
from tests.conftest import free_port
from tests.ready import readyz


def config(tmp_path, port, sb):
    return parse_config(dedent(f"""
        data_dir: {tmp_path}/data
        http: {{host: 127.0.0.1, port: {port}}}
        daemon: {{router_interval: 0.2, shutdown_deadline: 5}}
        connectors:
          - {{name: fb, kind: facebook, verify_token: "${{META_VERIFY}}", app_secret: "${{META_SECRET}}",
              access_token: "${{META_TOKEN}}", page_id: "{sb.page_id}", graph_base_url: "{sb.base_url}",
              poll_interval: 0.3}}
          - {{name: ig, kind: instagram, verify_token: "${{META_VERIFY}}", app_secret: "${{META_SECRET}}",
              access_token: "${{META_TOKEN}}", page_id: "{sb.page_id}", instagram_account_id: "{sb.instagram_id}",
              graph_base_url: "{sb.base_url}", poll_interval: 0.3}}
        """), env={"META_VERIFY": "verify", "META_SECRET": sb.app_secret, "META_TOKEN": sb.access_token})


async def wait_for(check, seconds=15.0):
    for _ in range(int(seconds / 0.05)):
        if check():
            return True
        await asyncio.sleep(0.05)
    return False


async def test_both_platforms_through_the_daemon(tmp_path):
    port = free_port()
    hooks = {"facebook": f"http://127.0.0.1:{port}/webhooks/facebook/fb",
             "instagram": f"http://127.0.0.1:{port}/webhooks/instagram/ig"}
    async with MetaSandbox(webhooks=hooks) as sb:
        budi, rina = sb.user("facebook", "Budi"), sb.user("instagram", "rina_smg")
        daemon = Daemon(config(tmp_path, port, sb))
        await daemon.start()
        try:
            assert await wait_for(lambda: all(r.started for r in daemon.runners.values()))
            assert (await sb.dm("facebook", budi, "Jalan berlubang besar di Jl. Merdeka dekat pasar"))[1] == 200
            comment_id, status = await sb.comment("instagram", rina, "Sampah menumpuk di TPS Jl. Melati, bau sekali")
            assert status == 200
            assert await wait_for(lambda: len(sb.sent) >= 2 and len(sb.public) >= 1)
        finally:
            await asyncio.wait_for(daemon.stop(), 15)
        dm = next(m for m in sb.sent if m["recipient"] == {"id": budi})
        assert "ADU-" in dm["message"]["text"] and dm["messaging_type"] == "RESPONSE"
        private = next(m for m in sb.sent if m["recipient"] == {"comment_id": comment_id})
        (public,) = sb.public
        assert public["object_id"] == comment_id and "ADU-" in public["message"] and "rina" not in public["message"]
        assert private["message"]["text"].startswith("Terima kasih, aduan Anda telah kami terima")

        # the daemon is down: what citizens write meanwhile is not delivered, and is caught up at restart
        missed, _ = await sb.dm("instagram", rina, "Tambahan: lampu jalan di depan TPS juga mati")
        late, _ = await sb.comment("facebook", budi, "Got mampet di gang 3, mohon dicek")
        assert len(sb.undelivered) == 2
        before = len(sb.sent)
        daemon = Daemon(config(tmp_path, port, sb))
        await daemon.start()
        try:
            assert await wait_for(lambda: len(sb.sent) >= before + 2)
            sb.expire_token()  # and then the Page token expires: the connectors park, say so, no hot loop
            assert await wait_for(lambda: all(r.health.state == "parked" for r in daemon.runners.values()))
            health = (await readyz(f"http://127.0.0.1:{port}"))["connectors"]
            assert health["fb"]["state"] == "parked" and "190" in health["fb"]["last_error"]
            calls = sb.calls
            await asyncio.sleep(1)
            assert sb.calls == calls
            # webhooks are still stored while parked
            assert (await sb.dm("facebook", budi, "Satu lagi: trotoar rusak"))[1] == 200
        finally:
            await asyncio.wait_for(daemon.stop(), 15)
        texts = [m["message"]["text"] for m in sb.sent[before:]]
        assert sum("ADU-" in t for t in texts) >= 2
        assert any(m["recipient"] == {"comment_id": late} for m in sb.sent[before:])
        assert any(m["recipient"] == {"id": rina} for m in sb.sent[before:]), missed


async def test_webhooks_and_replies_work_on_a_replica_without_the_catch_up_lease(tmp_path):
    """Another replica holds the poll lease: this one never starts catch-up, but stores and answers."""
    from omnichannel.store import Store
    from omnichannel.supervisor import acquire_lease

    port = free_port()
    hooks = {"facebook": f"http://127.0.0.1:{port}/webhooks/facebook/fb",
             "instagram": f"http://127.0.0.1:{port}/webhooks/instagram/ig"}
    async with MetaSandbox(webhooks=hooks) as sb:
        cfg = config(tmp_path, port, sb)
        (tmp_path / "data").mkdir(exist_ok=True)
        store = Store(f"sqlite+aiosqlite:///{tmp_path}/data/omnichannel.db")
        await store.open(migrate=True)
        try:
            for name in ("fb", "ig"):
                assert await acquire_lease(store, name, "the-other-replica", 600)
        finally:
            await store.close()
        daemon = Daemon(cfg)
        await daemon.start()
        try:
            budi, rina = sb.user("facebook", "Budi"), sb.user("instagram", "rina")
            assert (await sb.dm("facebook", budi, "Jalan berlubang besar di Jl. Pemuda dekat pasar, mohon "
                                                  "segera diperbaiki"))[1] == 200
            assert (await sb.dm("instagram", rina, "Sampah menumpuk di TPS Jl. Melati sudah seminggu, bau "
                                                   "sekali"))[1] == 200
            assert await wait_for(lambda: len(sb.sent) >= 2)
            assert not any(r.started for r in daemon.runners.values())
            assert {r.health.state for r in daemon.runners.values()} <= {"standby", "starting"}
        finally:
            await asyncio.wait_for(daemon.stop(), 15)
    assert {m["to"] for m in sb.sent} == {budi, rina} and all("ADU-" in m["message"]["text"] for m in sb.sent)
