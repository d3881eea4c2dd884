"""The daemon's one aiohttp server: ops endpoints, intake and webhooks, the officer API."""

from __future__ import annotations

import logging
from typing import Any, Protocol

from aiohttp import web

log = logging.getLogger(__name__)


@web.middleware
async def json_errors(request: web.Request, handler: web.Handler) -> web.StreamResponse:
    """Unexpected errors become a JSON 500 without internals; HTTP errors keep their status."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status >= 400 and exc.content_type != "application/json":
            return web.json_response({"error": exc.reason}, status=exc.status, headers={
                k: v for k, v in exc.headers.items() if k.lower() == "allow"})
        raise
    except Exception:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return web.json_response({"error": "internal error; the request was not stored"}, status=500)


class Served(Protocol):
    """What the server reads of the daemon (``omnichannel.daemon.Daemon``; a protocol, so this module does
    not import the daemon that imports it)."""

    config: Any
    store: Any
    ready: bool
    router_state: str
    dispatcher_state: str
    workers: Any
    metrics: Any
    extra_routes: list[web.RouteDef]

    def connector_health(self) -> dict[str, Any]: ...

    def replica_view(self) -> dict[str, Any]: ...

    async def envelope_counts(self) -> dict[str, int] | None: ...

    async def refresh_gauges(self) -> None: ...


def build_app(daemon: Served) -> web.Application:
    """Mount every route the daemon serves."""
    app = web.Application(client_max_size=daemon.config.http.max_body_bytes, middlewares=[json_errors])

    async def healthz(_: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def readyz(_: web.Request) -> web.Response:
        store_ok = await daemon.store.ping() if daemon.store else False
        connectors = daemon.connector_health()
        stored = await daemon.envelope_counts() if store_ok else None
        for name, health in connectors.items():
            # what the store holds for the connector (every replica, push and pull alike), not what this
            # process happened to count since it started
            health["envelopes"] = None if stored is None else stored.get(name, 0)
        body = {"ready": daemon.ready and store_ok, "store": "ok" if store_ok else "unreachable",
                "connectors": connectors, "router": daemon.router_state,
                "dispatcher": daemon.dispatcher_state, "replica": daemon.replica_view()}
        if daemon.workers is not None:
            body["http_workers"] = daemon.workers.health()
        return web.json_response(body, status=200 if body["ready"] else 503)

    async def metrics(_: web.Request) -> web.Response:
        await daemon.refresh_gauges()
        return web.Response(body=daemon.metrics.render(),
                            headers={"Content-Type": "text/plain; version=0.0.4; charset=utf-8"})

    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics)
    app.router.add_routes(daemon.extra_routes)
    return app
