"""One batch read ahead: fetched and parsed while the core stores the batch before it.

The read-ahead starts from the position the connector will have once the batch just handed out is
acknowledged. It is handed out only if that is the position the connector has when it is next asked;
otherwise (the batch was not stored, the poll was retried, the connector restarted) it is dropped and
the mail is read again from the checkpoint. Nothing is flagged on the server before an ack, so a
dropped read-ahead costs a second FETCH and nothing else.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")


class ReadAhead(Generic[T]):
    """At most one piece of work running ahead, tied to the position it started from."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._basis: Any = None
        self._task: asyncio.Task[T | None] | None = None

    def start(self, basis: Any, work: Callable[[], Awaitable[T | None]]) -> None:
        """Run ``work()`` now; its result belongs to ``basis`` (a copy the caller does not change)."""
        self.drop()

        async def run() -> T | None:
            return await work()

        self._basis = basis
        self._task = asyncio.get_running_loop().create_task(run(), name=f"{self.name}-read-ahead")
        self._task.add_done_callback(_retrieve)

    async def take(self, position: Any) -> T | None:
        """The result if it was started from ``position``, else None; a failure counts as None."""
        task, basis = self._task, self._basis
        self._task = self._basis = None
        if task is None:
            return None
        if basis != position:
            task.cancel()
            return None
        try:
            return await task
        except Exception as exc:  # the work is simply done again, the normal way
            log.debug("%s: read-ahead failed (%s: %s); reading again", self.name, type(exc).__name__, exc)
            return None

    def drop(self) -> None:
        """Forget any read-ahead (cancelled; work already in a thread finishes unseen)."""
        task, self._task, self._basis = self._task, None, None
        if task is not None:
            task.cancel()


def _retrieve(task: asyncio.Task[Any]) -> None:
    """Mark a read-ahead's failure as seen: a dropped read-ahead is not an error."""
    if not task.cancelled():
        task.exception()
