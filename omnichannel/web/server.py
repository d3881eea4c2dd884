"""The daemon's one aiohttp server: ops endpoints, intake and webhooks, the officer API."""

from __future__ import annotations

import asyncio
import json
import logging
import traceback
import uuid
from typing import Any, Protocol

from aiohttp import web

from omnichannel.redact import scrub
from omnichannel.web.body import BODY_TIMEOUT, BodyError
from omnichannel.web.limits import RATE_LIMITER, RateLimiter

log = logging.getLogger(__name__)


@web.middleware
async def json_errors(request: web.Request, handler: web.Handler) -> web.StreamResponse:
    """Client faults keep their 4xx (as JSON, without a traceback); anything unexpected becomes a JSON 500
    with a request id, logged as one ERROR line with that id (the traceback follows at DEBUG)."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status >= 400 and exc.content_type != "application/json":
            return web.json_response({"error": exc.reason}, status=exc.status, headers={
                k: v for k, v in exc.headers.items() if k.lower() in ("allow", "retry-after")})
        raise
    except BodyError as exc:
        return exc.response()
    except (asyncio.CancelledError, KeyboardInterrupt, SystemExit):
        raise
    except ConnectionResetError:  # the client went away: nobody to answer
        log.info("%s %s: the client closed the connection", request.method, request.path)
        raise
    except Exception as exc:
        request_id = uuid.uuid4().hex[:16]
        where = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
        log.error("unhandled error on %s %s (request %s): %s at %s:%s", request.method, request.path, request_id,
                  type(exc).__name__, where.filename.rsplit("/", 2)[-1] if where else "?", where.lineno if where else "?")
        log.debug("request %s traceback", request_id, exc_info=exc)
        return web.json_response({"error": "internal error; the request was not stored", "request_id": request_id},
                                 status=500, headers={"X-Request-Id": request_id})


def make_app(http: Any, trust_loopback: bool = False) -> web.Application:
    """An application with the daemon's limits: body size, body timeout, rate limits, the catch-all.

    ``trust_loopback``: the primary behind HTTP workers believes their ``X-Forwarded-For``."""
    app = web.Application(client_max_size=http.max_body_bytes, middlewares=[json_errors])
    if trust_loopback:
        http = http.model_copy(update={"trusted_proxies": [*http.trusted_proxies, "127.0.0.1/32"]})
    app[RATE_LIMITER] = RateLimiter(http)
    app[BODY_TIMEOUT] = float(http.body_timeout)
    return app


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
    app = make_app(daemon.config.http, trust_loopback=bool(daemon.config.http.workers))

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
        # a library's error text can carry a credential (a bot token in a URL): never shown here
        return web.Response(text=scrub(json.dumps(body)), content_type="application/json",
                            status=200 if body["ready"] else 503)

    async def metrics(_: web.Request) -> web.Response:
        await daemon.refresh_gauges()
        return web.Response(body=daemon.metrics.render(),
                            headers={"Content-Type": "text/plain; version=0.0.4; charset=utf-8"})

    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics)
    app.router.add_routes(daemon.extra_routes)
    for route in daemon.extra_routes:  # a long-lived handler (the desk's event stream) ends its streams first
        hook = getattr(route.handler, "on_shutdown", None)
        if hook is not None:
            app.on_shutdown.append(hook)
    return app
