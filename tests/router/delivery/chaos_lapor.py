"""The LAPOR! sandbox as a destination of the dispatcher chaos test (``test_dispatch_chaos.py``)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from omnichannel.sandbox.lapor import LaporSandbox

TOKEN = "chaos-lapor-token"


class LaporDestination:
    """A ``ChaosDestination`` (duck-typed; that class lives in the test module): LAPOR! on the JSON wire.

    5 % of calls fail with 5xx and 20 answers are lost after the report was stored (504), so some
    submissions must be reconciled by looking the ticket ref up; SIGKILLs add more of those.
    """

    name = "lapor"

    def __init__(self) -> None:
        self.sandbox = LaporSandbox(tokens=(TOKEN,))
        self.sandbox.failure_rate = 0.05

    def forwarder(self) -> dict[str, Any]:
        return {"name": self.name, "kind": "lapor", "base_url": self.sandbox.base_url, "token": "${CHAOS_LAPOR_TOKEN}",
                "wire": "json", "timeout": 2, "max_in_flight": 8, "max_attempts": 1000}

    def env(self) -> dict[str, str]:
        return {"CHAOS_LAPOR_TOKEN": TOKEN}

    async def start(self) -> None:
        await self.sandbox.start()
        self.sandbox.lose_next_answers(20, mode="504")

    async def stop(self) -> None:
        await self.sandbox.stop()

    def activity(self) -> int:
        return self.sandbox.calls

    async def check(self, keys: list[str]) -> dict[str, Any]:
        per_ref = Counter(r.external_ref for r in self.sandbox.reports.values())
        duplicates = {ref: n for ref, n in per_ref.items() if n > 1}
        assert not duplicates, f"LAPOR! holds duplicate reports: {dict(list(duplicates.items())[:5])}"
        wanted = {key.split(":")[1] for key in keys}
        missing = wanted - set(per_ref)
        assert not missing, f"{len(missing)} tickets never reached LAPOR!, e.g. {sorted(missing)[:3]}"
        assert set(per_ref) == wanted
        return {"reports": len(self.sandbox.reports), "submissions": len(self.sandbox.submissions),
                "calls": self.sandbox.calls, "lost_answers_left": len(self.sandbox._lost_answers)}
