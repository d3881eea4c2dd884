"""The per-message half of routing, and worker processes that run it beside the router (``routing.workers``).

Routing one complaint is two halves. The first — mask personal data, normalise, classify (rules, remits,
model, officers' reassignments), build the dedup features — depends on the message alone and on the
configuration; the second — look the features up in the dedup index, join or open a case, write the rows —
depends on every complaint routed before it and runs in arrival order in one place. The first half is more
than half of the router's CPU (docs/operations.md has the figures). ``Preparer`` is that half;
``PrepareWorkers`` runs it in worker processes, so that a batch's messages are prepared on several cores at once while the router keeps the
second half. Both give the same result for the same message: the workers build the same classifier from
the same configuration, and the router sends them each reassignment it learns (``CorrectionMemory.changes``)
before the batch that must see it. A worker that dies or answers wrongly costs nothing but time: the
router prepares that part itself and starts the worker again for the next batch.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import multiprocessing
import signal
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

from omnichannel import pii
from router.classify import Classifier, Decision
from router.config import RoutingConfig
from router.corrections import CorrectionMemory
from router.dedup.features import Features, make_features, without_names
from router.normalise import normalise, tokens

log = logging.getLogger(__name__)

# what the router knows of one complaint before preparing it: (text with its subject, the channel key of the
# routing rules, the channel, the connector's default agency, reporter id, received at (epoch seconds), the
# reporter's name words)
Item = tuple[str, str, str, "str | None", "int | None", float, "frozenset[str] | None"]


@dataclass(slots=True)
class Prepared:
    """One complaint after the per-message half of routing."""

    masked: str
    norm: str
    toks: list[str]
    decision: Decision
    features: Features


class Preparer:
    """Mask, normalise, classify and build the dedup features of one complaint."""

    def __init__(self, classifier: Classifier, routing: RoutingConfig) -> None:
        self.classifier = classifier
        self.routing = routing

    def item(self, text: str, subject: str | None, connector: str, channel: str, default_agency: str | None,
             reporter: int | None, ts: float, names: frozenset[str] | None) -> Item:
        """What ``prepare`` needs of a complaint (plain values: it crosses to a worker process)."""
        if subject and subject not in text:
            text = f"{subject}\n{text}"
        key = connector if connector in self.routing.channel_defaults else channel
        return (text, key, channel, default_agency, reporter, ts, names)

    def prepare(self, item: Item) -> Prepared:
        text, key, channel, default_agency, reporter, ts, names = item
        masked = pii.mask(text)
        norm = normalise(masked, self.classifier.lexicon)
        decision = self.classifier.classify(masked, norm=norm, channel=key, default_agency=default_agency)
        compare = decision.agency if decision.agency != self.routing.triage_agency and \
            decision.confidence >= self.routing.threshold else None
        toks = tokens(norm)
        feats = make_features(without_names(toks, names), masked, location=decision.location, agency=compare,
                              person=reporter, channel=channel, ts=ts, names=names or ())
        return Prepared(masked, norm, toks, decision, feats)

    def prepare_all(self, items: Sequence[Item]) -> list[Prepared]:
        return [self.prepare(item) for item in items]


def _worker_main(routing: RoutingConfig, agencies: list[Any], logging_cfg: tuple[str, str] | None,
                 pipe: Connection) -> None:
    """A worker process: build the classifier once, then prepare what the router sends until it says stop."""
    from omnichannel.web.workers import _stop_with_parent

    _stop_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C stops the daemon, which stops its workers
    _name_process(b"omni-prepare")
    if logging_cfg is not None:  # the daemon's format and its masking of personal data and secrets
        from omnichannel.logs import setup_logging

        setup_logging(*logging_cfg)
    classifier = Classifier(routing, agencies)
    memory = CorrectionMemory(classifier, routing.corrections)
    if routing.corrections.enabled:
        classifier.corrections = memory
    preparer = Preparer(classifier, routing)
    gc.freeze()  # the classifier lives as long as the worker: out of the collector's scans, as in the router
    pipe.send("ready")
    while True:
        try:
            message = pipe.recv()
        except (EOFError, OSError):
            return
        if message is None:
            return
        changes, items = message
        try:
            if changes is not None:
                memory.apply(changes)
            pipe.send(preparer.prepare_all(items))
        except Exception as exc:  # noqa: BLE001 - the router prepares these itself and logs why
            pipe.send(RuntimeError(f"{type(exc).__name__}: {exc}"))


def _name_process(name: bytes) -> None:
    """The name ``ps``/``top`` show for this process (Linux prctl PR_SET_NAME; elsewhere nothing)."""
    try:
        import ctypes

        ctypes.CDLL(None).prctl(15, ctypes.c_char_p(name), 0, 0, 0)  # 15 = PR_SET_NAME
    except (OSError, AttributeError):
        pass


class _Worker:
    def __init__(self, process: Any, pipe: Connection) -> None:
        self.process = process
        self.pipe = pipe
        self.known: tuple[int, int] = (-1, 0)  # the correction memory's (epoch, added) it has seen


class PrepareWorkers:
    """``count`` worker processes that prepare parts of each batch while the router prepares its own part."""

    def __init__(self, routing: RoutingConfig, agencies: list[Any], count: int,
                 logging_cfg: tuple[str, str] | None = None) -> None:
        self.routing = routing
        self.agencies = list(agencies)
        self.logging_cfg = logging_cfg
        self.count = count
        self.workers: list[_Worker] = []
        self.failures = 0

    async def start(self) -> None:
        """Start the workers and wait until each has built its classifier."""
        ctx = multiprocessing.get_context("spawn")
        started = []
        for n in range(self.count - len(self.workers)):
            ours, theirs = ctx.Pipe(duplex=True)
            process = ctx.Process(target=_worker_main, args=(self.routing, self.agencies, self.logging_cfg, theirs),
                                  name=f"omnichannel-prepare-{n + 1}", daemon=True)
            process.start()
            theirs.close()
            started.append(_Worker(process, ours))
        for worker in started:
            try:  # building the classifier takes a second or two; one that never says ready is not waited for
                ready = await asyncio.to_thread(worker.pipe.recv) \
                    if await asyncio.to_thread(worker.pipe.poll, self.START_TIMEOUT) else None
            except (EOFError, OSError):
                ready = None
            if ready == "ready":
                self.workers.append(worker)
            else:
                log.warning("router: a prepare worker did not start (exit code %s); routing goes on without it",
                            worker.process.exitcode)
                self._end(worker)
        if self.workers:
            log.info("router: %d prepare workers started", len(self.workers))

    async def stop(self) -> None:
        for worker in self.workers:
            try:
                worker.pipe.send(None)
            except (OSError, ValueError):
                pass
        for worker in self.workers:
            await asyncio.to_thread(worker.process.join, 5)
            self._end(worker)
        self.workers = []

    @staticmethod
    def _end(worker: _Worker) -> None:
        if worker.process.is_alive():
            worker.process.kill()
        worker.pipe.close()

    START_TIMEOUT = 120.0  # seconds a worker may take to build its classifier
    TIMEOUT = 60.0  # seconds a worker may take over one chunk before it is given up on
    CHUNK = 25  # messages a worker prepares per message it is sent
    AHEAD = 2  # chunks a worker holds at once (one it works on, one waiting)

    async def stream(self, preparer: Preparer, memory: CorrectionMemory,
                     items: Sequence[Item]) -> AsyncIterator[list[Prepared]]:
        """Every item prepared, in order, a chunk at a time: the router decides the first chunks while the
        workers prepare the next. Chunks go to the workers from the front; whenever the next chunk in order is
        not back yet, the router prepares one from the back itself instead of waiting."""
        if len(self.workers) < self.count and self.failures:
            await self.start()  # one that died is started again, one batch later
        if not self.workers or len(items) < 2 * self.CHUNK:  # a handful: sending them costs more than it saves
            yield preparer.prepare_all(items)
            return
        batch = _Batch(self, preparer, memory, [items[i:i + self.CHUNK] for i in range(0, len(items), self.CHUNK)])
        try:
            for worker in list(self.workers):
                batch.send(worker)
            for i in range(len(batch.chunks)):
                yield await batch.collect(i)
        finally:  # the router stopped early (an error): answers still under way would answer the next batch
            for worker, waiting in list(batch.queue.items()):
                if waiting:
                    batch.failed(worker, "batch abandoned")

    def _drop(self, worker: _Worker, why: str) -> None:
        """A worker that failed is ended (and started again before the next batch)."""
        self.failures += 1
        log.warning("router: a prepare worker failed (%s); its messages are prepared here", why)
        if worker in self.workers:
            self.workers.remove(worker)
        self._end(worker)


class _Batch:
    """One batch's chunks on their way through the workers."""

    def __init__(self, pool: PrepareWorkers, preparer: Preparer, memory: CorrectionMemory,
                 chunks: list[Sequence[Item]]) -> None:
        self.pool, self.preparer, self.memory, self.chunks = pool, preparer, memory, chunks
        self.done: dict[int, list[Prepared]] = {}
        self.at: dict[int, _Worker] = {}  # chunk → the worker preparing it
        self.queue: dict[_Worker, list[int]] = {w: [] for w in pool.workers}  # a worker's chunks, in order
        self.front, self.back = 0, len(chunks)  # chunks[front:back] are neither sent nor done

    def send(self, worker: _Worker) -> None:
        """Top the worker up with chunks from the front."""
        while self.front < self.back and len(self.queue[worker]) < self.pool.AHEAD:
            try:
                worker.pipe.send((self.memory.changes(*worker.known), self.chunks[self.front]))
            except (OSError, ValueError):
                self.failed(worker, "send")
                return
            worker.known = self.memory.version()
            self.at[self.front] = worker
            self.queue[worker].append(self.front)
            self.front += 1

    def failed(self, worker: _Worker, why: str) -> None:
        for j in self.queue.pop(worker, []):
            self.at.pop(j, None)
        self.pool._drop(worker, why)

    def here(self, j: int) -> None:
        self.done[j] = self.preparer.prepare_all(self.chunks[j])

    async def collect(self, i: int) -> list[Prepared]:
        """Chunk ``i`` prepared: from its worker (preparing chunks from the back meanwhile), or here."""
        while i not in self.done:
            worker = self.at.get(i)
            if worker is None:  # never sent (no worker left) or its worker failed
                self.here(i)
                self.front = max(self.front, i + 1)
                break
            if not worker.pipe.poll() and self.front < self.back:
                self.back -= 1  # not back yet: prepare the last chunk here meanwhile
                self.here(self.back)
                continue
            try:  # a worker that hangs is given up on as one that died
                result = await asyncio.to_thread(worker.pipe.recv) \
                    if await asyncio.to_thread(worker.pipe.poll, self.pool.TIMEOUT) else TimeoutError()
            except (EOFError, OSError) as exc:
                result = exc
            j = self.queue[worker].pop(0)
            del self.at[j]
            if isinstance(result, list) and len(result) == len(self.chunks[j]):
                self.done[j] = result
                self.send(worker)
            else:
                self.failed(worker, type(result).__name__)
                self.here(j)
        return self.done.pop(i)
