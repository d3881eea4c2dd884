"""Driving the LAPOR! sandbox from another process: ``/_sandbox/lapor/...`` routes and a standalone server.

    python -m omnichannel.sandbox.lapor_control --port 8083   # or: omnichannel sandbox serve (all four)
    curl -X POST localhost:8083/_sandbox/lapor/advance -d '{"days": 3}'
    curl -X POST localhost:8083/_sandbox/lapor/force -d '{"tracking_id": "4107001", "status": "ditindaklanjuti",
                                                          "text": "Sudah kami perbaiki."}'
    curl -X POST localhost:8083/_sandbox/lapor/failures -d '{"rate": 0.3, "delay": 0, "fail_next": 0}'
    curl localhost:8083/_sandbox/lapor/reports
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

# The sandbox a set of routes drives is typed ``Any``: its module imports this one to mount the routes.



def control_routes(sandbox: Any) -> list[web.RouteDef]:
    """Control routes for a ``LaporSandbox`` (tests in other processes, demos)."""

    async def body(request: web.Request) -> dict[str, Any]:
        return await request.json() if request.body_exists else {}

    async def advance(request: web.Request) -> web.Response:
        data = await body(request)
        sandbox.advance(float(data.get("seconds", 0)) + 86400.0 * float(data.get("days", 0)))
        return web.json_response({"now": sandbox.now()})

    async def force(request: web.Request) -> web.Response:
        data = await body(request)
        try:
            report = sandbox.force_status(str(data["tracking_id"]), str(data["status"]), data.get("text"),
                                          author=data.get("author", "Dinas terkait"), freeze=bool(data.get("freeze")))
        except (KeyError, ValueError) as exc:
            return web.json_response({"error": str(exc)}, status=400)
        return web.json_response(report.public(sandbox.base_url))

    async def failures(request: web.Request) -> web.Response:
        data = await body(request)
        sandbox.clear_failures()
        sandbox.failure_rate = float(data.get("rate", 0.0))
        sandbox.delay = float(data.get("delay", 0.0))
        if data.get("fail_next"):
            sandbox.fail_next(int(data["fail_next"]), int(data.get("status", 503)), data.get("retry_after"))
        if data.get("lose_next"):
            sandbox.lose_next_answers(int(data["lose_next"]), data.get("mode", "504"))
        return web.json_response({"rate": sandbox.failure_rate, "delay": sandbox.delay})

    async def reports(request: web.Request) -> web.Response:
        return web.json_response({"reports": [sandbox.progress(r).public(sandbox.base_url)
                                              | {"followups": r.followups} for r in sandbox.reports.values()],
                                  "submissions": len(sandbox.submissions), "calls": sandbox.calls})

    return [web.post("/_sandbox/lapor/advance", advance), web.post("/_sandbox/lapor/force", force),
            web.post("/_sandbox/lapor/failures", failures), web.get("/_sandbox/lapor/reports", reports)]
