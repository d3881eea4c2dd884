"""Wiring shared by the Facebook and Instagram connector tests: configs, a started connector behind a real server."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from connectors.meta.config import FacebookConfig, InstagramConfig
from connectors.meta.facebook import FacebookConnector
from connectors.meta.instagram import InstagramConnector
from omnichannel.ingest import ingest_batch
from omnichannel.models import EnvelopeRow
from omnichannel.protocols import PluginContext
from omnichannel.sandbox.meta import DEFAULT_ACCESS_TOKEN, DEFAULT_APP_SECRET, IG_ID, PAGE_ID
from omnichannel.templates import Templates
from tests.contract.connector_contract import NAME

VERIFY = "verify-meta-123"
PLATFORMS = ("facebook", "instagram")


def make_config(platform: str, base_url: str = "http://127.0.0.1:9", **kw: Any) -> FacebookConfig | InstagramConfig:
    values: dict[str, Any] = {"name": NAME, "kind": platform, "path": f"/webhooks/{platform}/test",
                              "verify_token": VERIFY, "app_secret": DEFAULT_APP_SECRET,
                              "access_token": DEFAULT_ACCESS_TOKEN, "page_id": PAGE_ID,
                              "graph_base_url": base_url, "max_media_bytes": 1000, **kw}
    if platform == "instagram":
        values.setdefault("instagram_account_id", IG_ID)
        return InstagramConfig(**values)
    return FacebookConfig(**values)


def make_connector(platform: str, base_url: str = "http://127.0.0.1:9", **kw: Any) -> Any:
    cls = InstagramConnector if platform == "instagram" else FacebookConnector
    return cls(NAME, make_config(platform, base_url, **kw))


def context(store: Any, tmp_path: Path, platform: str) -> PluginContext:
    async def submit(batch):
        return await ingest_batch(store, NAME, platform, batch)

    return PluginContext(name=NAME, data_dir=tmp_path, attachments_dir=tmp_path / "att", submit=submit,
                         templates=Templates(), extra={"store": store})


async def open_connector(sandbox: Any, store: Any, tmp_path: Path, platform: str, checkpoint: Any = None,
                         **kw: Any) -> tuple[Any, TestClient]:
    """A started connector whose webhook the sandbox delivers to."""
    conn = make_connector(platform, sandbox.base_url, **kw)
    await conn.start(context(store, tmp_path, platform), checkpoint)
    app = web.Application()
    app.router.add_routes(conn.routes())
    client = TestClient(TestServer(app))
    await client.start_server()
    sandbox.webhooks[platform] = str(client.make_url(conn.path))
    return conn, client


async def rows(store: Any) -> list[EnvelopeRow]:
    async with store.session() as s:
        return list((await s.exec(select(EnvelopeRow).order_by(EnvelopeRow.id))).scalars())
