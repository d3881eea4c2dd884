"""The daemon: wires connectors, the router, forwarders and the HTTP server; stops gracefully."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections import Counter
from functools import partial
from typing import Any

from aiohttp import web
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import func, select

from omnichannel import redact, registry
from omnichannel.committer import GroupCommitter
from omnichannel.config import Config
from omnichannel.errors import OmnichannelError
from omnichannel.leadership import ROUTER, Lease, LeaseLost, once_per_period
from omnichannel.lifecycle import serve_until_signalled
from omnichannel.metrics import Metrics
from omnichannel.models import Complaint, EnvelopeRow, OutboxRow
from omnichannel.protocols import PluginContext
from omnichannel.search import SearchIndexer
from omnichannel.status import complaint_status
from omnichannel.store import Store
from omnichannel.supervisor import ConnectorRunner, Health
from omnichannel.templates import Templates
from omnichannel.types import IngestResult

log = logging.getLogger(__name__)

# what a connector kind is called as a channel in the store
CHANNELS = {"imap": "email"}
ROUTE_BATCH = 100
ROUTE_BATCH_OWN = 500  # in a router process of its own (daemon.route_process)
# while the intake is busy (a commit in the last INTAKE_HOT seconds) the router takes small slices and
# at most ROUTE_SHARE of the event loop: citizens get their acknowledgement first, routing catches up
INTAKE_HOT = 0.2
ROUTE_BATCH_HOT = 20
ROUTE_SHARE = 0.25
SLA_INTERVAL = 300.0  # seconds between overdue marks
# /readyz counts envelopes in the store; a count is reused this long unless this process committed since
ENVELOPE_COUNT_TTL = 1.0


class Daemon:
    """Everything that runs in one process; ``start`` then ``wait`` then ``stop``."""

    def __init__(self, config: Config, replica_id: str | None = None, worker: tuple[int, str, Any] | None = None,
                 router_pipe: Any = None) -> None:
        self.config = config
        # in the router process of a daemon with ``daemon.route_process`` (omnichannel.router_process): the pipe
        # to the daemon; this process then only routes
        self.router_pipe = router_pipe
        self.router_process: Any = None  # the daemon's RouterProcess when daemon.route_process is on
        # (index, primary's internal URL, pipe) in an HTTP worker process (omnichannel.web.workers)
        self.worker = worker
        self.workers: Any = None  # the primary's WorkerPool when http.workers > 0
        self._reserved: socket.socket | None = None  # the public port, held (not listened on) for the workers
        self.replica_id = replica_id or config.daemon.replica_id or f"{socket.gethostname()}:{os.getpid()}"
        # no name given: ``start`` takes a stable one (omnichannel.replica) so a restart after a crash
        # releases the claims of the process it replaces
        self._name_slot: Any = None if (replica_id or config.daemon.replica_id or worker or router_pipe) else False
        self.metrics = Metrics()
        self.templates = Templates(config.templates, config.templates_dir)
        self.store: Store | None = None
        self.ready = False
        self.connectors: dict[str, Any] = {}
        self.runners: dict[str, ConnectorRunner] = {}
        self.unavailable: dict[str, str] = {}
        self.forwarders: dict[str, Any] = {}
        self.committers: dict[str, GroupCommitter] = {}
        self.extra_routes: list[web.RouteDef] = []
        self.pipeline: Any = None
        self.router_lease: Lease | None = None  # only the replica holding it routes (omnichannel.leadership)
        self.job_runs: Counter[str] = Counter()  # periodic jobs run here (each runs once per period overall)
        self.dispatcher: Any = None
        self.search_indexer: SearchIndexer | None = None  # the officers' full-text index, after each commit
        self.router_state = "disabled"
        self.dispatcher_state = "disabled"
        self.scheduler: AsyncIOScheduler | None = None
        self.http_runner: web.AppRunner | None = None
        self.http_port: int | None = None
        self._tasks: list[asyncio.Task[Any]] = []
        self._inflight: set[asyncio.Task[Any]] = set()
        self._route_wakeup = asyncio.Event()
        self._stop = asyncio.Event()
        self._last_intake = float("-inf")  # loop time of the last commit of new envelopes
        self._envelope_counts: tuple[float, dict[str, int]] | None = None  # (loop time, connector → stored)

    # -- wiring ---------------------------------------------------------------------------------
    def _context(self, name: str, submit: Any = None, channel: str | None = None) -> PluginContext:
        data_dir = self.config.data_dir
        return PluginContext(
            name=name, data_dir=data_dir, attachments_dir=data_dir / "attachments", submit=submit,
            status_lookup=partial(self.status_lookup, channel=channel), templates=self.templates,
            logger=logging.getLogger(f"omnichannel.plugin.{name}"))

    async def status_lookup(self, ref: str, sender_id: str | None = None, channel: str | None = None,
                            access: str | None = None) -> Any:
        """Citizen-safe status (see ``omnichannel.status``)."""
        assert self.store is not None
        return await complaint_status(self.store, self.config, ref, sender_id=sender_id,
                                      channel=channel if sender_id else None, access=access)

    def _stored(self, connector: str, result: IngestResult, here: bool = True) -> None:
        """Count a commit and wake the router (``here``: the intake ran in this process, not a worker's)."""
        if self.worker is not None:  # the primary keeps the metrics and wakes its router
            # counts, not items: a message under PIPE_BUF is written whole, so a worker killed while
            # sending cannot leave the primary blocked on half a message
            counts = Counter((i.new, i.outcome) for i in result.items)
            self.worker[2].send(("stored", connector, sorted(counts.items())))  # names: 63 chars at most
            return
        for item in result.items:
            if item.new:
                self.metrics.envelopes.labels(connector, item.outcome).inc()
                if item.outcome == "complaint":
                    self.metrics.complaints.labels(connector).inc()
                elif item.outcome == "quarantined":
                    self.metrics.quarantined.labels(connector).inc()
            else:
                self.metrics.duplicates.labels(connector).inc()
        if result.new:
            self._envelope_counts = None  # /readyz reads the store afresh
            if here:  # a worker's intake has its own core: the router need not yield to it
                self._last_intake = asyncio.get_running_loop().time()
            self._route_wakeup.set()
            if self.router_process is not None:
                self.router_process.wake()

    async def _start_connectors(self) -> None:
        d = self.config.daemon
        for cfg in self.config.connectors:
            if not cfg.enabled:
                continue
            channel = CHANNELS.get(cfg.kind, cfg.kind)
            try:
                cls = registry.load(registry.CONNECTORS[cfg.kind][0])
            except (ImportError, AttributeError) as exc:
                self.unavailable[cfg.name] = f"kind {cfg.kind!r} unavailable: {exc}"
                log.error("connector %s disabled: %s", cfg.name, self.unavailable[cfg.name])
                continue
            if self.worker is not None and hasattr(cls, "poll"):
                continue  # pull connectors (and their webhooks) stay with the primary
            committer = GroupCommitter(self.store, cfg.name, channel, d.ingest_batch_max, self._stored)
            self.committers[cfg.name] = committer
            connector = cls(cfg.name, cfg)
            self.connectors[cfg.name] = connector
            ctx = self._context(cfg.name, committer.submit, channel)
            ctx.extra["config"] = self.config
            ctx.extra["store"] = self.store
            if hasattr(connector, "poll"):
                ctx.extra["wake"] = self._waker(cfg.name)  # "new data is waiting": poll now, from any thread
            if hasattr(connector, "poll"):
                self.runners[cfg.name] = ConnectorRunner(
                    connector, cfg.name, cfg.kind, ctx, self.store, committer.submit,
                    poll_timeout=cfg.poll_timeout, backoff_initial=d.backoff_initial, backoff_max=d.backoff_max,
                    owner=self.replica_id, lease_ttl=d.lease_ttl, metrics=self.metrics)
                self.metrics.declare(cfg.name)  # up is the poller's to say (a standby replica polls nothing)
            else:
                checkpoint = await self.store.load_checkpoint(cfg.name)
                await connector.start(ctx, checkpoint)
                self.extra_routes.extend(connector.routes())
                self.metrics.declare(cfg.name, up=True)  # its webhook listens from here on
            if hasattr(connector, "routes") and hasattr(connector, "poll"):
                if hasattr(connector, "attach"):  # its webhooks and replies work before the first poll (and
                    connector.attach(ctx)         # on replicas without the poll lease): Facebook, Instagram
                self.extra_routes.extend(connector.routes())  # e.g. Telegram in webhook mode

    async def _start_forwarders(self) -> None:
        for cfg in self.config.forwarders:
            if not cfg.enabled:
                continue
            try:
                cls = registry.load(registry.FORWARDERS[cfg.kind][0])
                forwarder = cls(cfg.name, cfg)
                ctx = self._context(cfg.name)
                ctx.extra.update(config=self.config, store=self.store)
                await forwarder.start(ctx)
            except Exception as exc:
                self.unavailable[cfg.name] = f"{type(exc).__name__}: {exc}"
                log.error("forwarder %s not started: %s", cfg.name, self.unavailable[cfg.name])
                continue
            self.forwarders[cfg.name] = forwarder
            if hasattr(forwarder, "routes"):
                self.extra_routes.extend(forwarder.routes())

    def _optional(self, target: str) -> Any:
        try:
            return registry.load(target)
        except (ImportError, AttributeError) as exc:
            log.warning("%s is not available: %s", target, exc)
            return None

    async def start(self) -> None:
        """Open the store, start every enabled plugin, the router, the dispatcher and the server."""
        redact.register_config(self.config)
        if self._name_slot is False:
            from omnichannel.replica import take_slot

            taken = take_slot(self.config.data_dir)
            if taken is not None:
                self.replica_id, self._name_slot = taken
        self.store = Store(self.config.store.url, echo=self.config.store.echo)
        await self.store.open(migrate=self.config.store.migrate_on_start)
        if self.worker is not None:
            await self._start_worker()
            return
        if self.router_pipe is not None:
            await self._start_router()
            return
        await self._start_connectors()
        await self._start_forwarders()
        pipeline_cls = self._optional(registry.PIPELINE) if self.config.daemon.route else None
        if pipeline_cls is not None and self.config.daemon.route_process:
            from omnichannel.router_process import RouterProcess

            self.router_process = RouterProcess(type(self), self.config, self.replica_id,
                                                on_routed=self._routed_elsewhere, on_state=self._router_state_is)
            await self.router_process.start()
            self.router_state = "starting"
            pipeline_cls = None
        if pipeline_cls is not None:
            await self._hold_router(pipeline_cls)
            self._tasks.append(asyncio.create_task(self._route_loop(), name="router"))
        dispatcher_cls = self._optional(registry.DISPATCHER) if self.config.daemon.dispatch else None
        if dispatcher_cls is not None:
            targets: dict[str, Any] = dict(self.forwarders)
            for name, connector in self.connectors.items():
                if hasattr(connector, "reply"):
                    targets[f"reply:{name}"] = connector
            self.dispatcher = dispatcher_cls(self.store, self.config, targets, owner=self.replica_id)
            if hasattr(self.dispatcher, "metrics"):
                self.dispatcher.metrics = self.metrics
            self.dispatcher_state = "running"
            self._tasks.append(asyncio.create_task(self.dispatcher.run_forever(self._stop), name="dispatcher"))
        # complaints are indexed for the officers' search after the commits that stored them (omnichannel.search)
        self.search_indexer = SearchIndexer(self.store)
        self._tasks.append(asyncio.create_task(self.search_indexer.run_forever(self._stop), name="search-index"))
        from omnichannel.web.ui import routes as page_routes

        self.extra_routes.extend(page_routes(self.config))
        for target in ("omnichannel.web.desk:routes", "omnichannel.web.ppid_api:routes",
                       "omnichannel.web.keberatan:routes"):
            officer_routes = self._optional(target)
            if officer_routes is not None:
                self.extra_routes.extend(officer_routes(self.store, self.config, self.templates,
                                                        self._optional(registry.ANSWERS)))
        dashboard = self._optional("omnichannel.web.dashboard:routes")
        if dashboard is not None:
            self.extra_routes.extend(dashboard(self.store, self.config))
        self._start_scheduler()
        if self.config.http.enabled:
            self.http_runner = web.AppRunner(self._build_app(), access_log=None,
                                             shutdown_timeout=self.config.daemon.shutdown_deadline / 2,
                                             keepalive_timeout=self.config.http.header_timeout)
            await self.http_runner.setup()
            if self.config.http.workers:
                await self._start_workers()
            else:
                await self._listen()
            log.info("listening on http://%s:%s", self.config.http.host, self.http_port)
            from omnichannel.web.accounts import announce

            await announce(self.store, self.config, self.config.http.public_url
                           or f"http://{self.config.http.host}:{self.http_port}")
        self.ready = True
        log.info("daemon %s started: %d connectors, %d forwarders", self.replica_id, len(self.connectors),
                 len(self.forwarders))

    async def _hold_router(self, pipeline_cls: Any) -> None:
        """The pipeline and the router lease: routing if this replica holds it, else standing by."""
        assert self.store is not None
        self.pipeline = pipeline_cls(self.config, self.store, self.templates)
        self.router_lease = Lease(self.store, ROUTER, self.replica_id, self.config.daemon.lease_ttl)
        self.pipeline.fence = self.router_lease.fence
        if await self.router_lease.hold():
            await self.pipeline.start()
            self.router_state = "running"
        else:
            self.router_state = "standby"
            log.info("router standing by: another replica routes")

    async def _start_router(self) -> None:
        """The router process of a daemon with ``daemon.route_process``: the pipeline and its lease, nothing else."""
        assert self.store is not None
        pipeline_cls = self._optional(registry.PIPELINE)
        if pipeline_cls is None:
            raise OmnichannelError("daemon.route_process: the router pipeline cannot be loaded")
        await self._hold_router(pipeline_cls)
        asyncio.get_running_loop().add_reader(self.router_pipe.fileno(), self._from_daemon)
        self._tasks.append(asyncio.create_task(self._route_loop(), name="router"))
        self.ready = True
        log.info("router process %d of %s started", os.getpid(), self.replica_id)

    def _from_daemon(self) -> None:
        """The router process: the daemon committed new envelopes (or is gone)."""
        try:
            self.router_pipe.recv()
        except (EOFError, OSError):
            asyncio.get_running_loop().remove_reader(self.router_pipe.fileno())
            self.request_stop()
            return
        self._route_wakeup.set()
        self._tell_daemon(("woken",))

    def _tell_daemon(self, message: tuple[Any, ...]) -> None:
        try:
            self.router_pipe.send(message)
        except (OSError, ValueError):
            pass  # the daemon is gone: PR_SET_PDEATHSIG stops this process

    def _routed_elsewhere(self, count: int) -> None:
        """The daemon: its router process routed ``count`` complaints."""
        self.metrics.routed.inc(count)
        if self.dispatcher is not None and hasattr(self.dispatcher, "wake"):
            self.dispatcher.wake()  # new outbox rows: deliver now, not at the next sweep

    def _router_state_is(self, state: str, held: bool) -> None:
        self.router_state = state

    def _cannot_listen(self, exc: OSError) -> OmnichannelError:
        return OmnichannelError(f"cannot listen on {self.config.http.host}:{self.config.http.port}: "
                                f"{exc.strerror or exc} (change http.port or stop the other process)")

    async def _listen(self, reuse_port: bool = False) -> None:
        assert self.http_runner is not None
        port = self.http_port if self.http_port is not None else self.config.http.port
        site = web.TCPSite(self.http_runner, self.config.http.host, port, reuse_address=True,
                           reuse_port=reuse_port or None)
        try:
            await site.start()
        except OSError as exc:
            raise self._cannot_listen(exc) from None
        self.http_port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def _start_workers(self) -> None:
        """Primary: hold the public port for the workers, listen on loopback for what they pass on, start them.

        The primary does not answer on the public port itself: its core is left to the router, the
        dispatcher and the pull connectors, and the workers' cores to the intake.
        """
        from omnichannel.web.workers import WorkerPool

        assert self.http_runner is not None
        family = socket.AF_INET6 if ":" in self.config.http.host else socket.AF_INET
        held = socket.socket(family, socket.SOCK_STREAM)
        held.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        held.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        try:
            held.bind((self.config.http.host, self.config.http.port))  # bound, never listening: gets no connections
        except OSError as exc:
            held.close()
            raise self._cannot_listen(exc) from None
        self._reserved = held
        self.http_port = held.getsockname()[1]
        internal = web.TCPSite(self.http_runner, "127.0.0.1", 0)
        await internal.start()
        port = internal._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.workers = WorkerPool(self, f"http://127.0.0.1:{port}", self.http_port)
        await self.workers.start(self.config.http.workers)
        log.info("%d http worker processes answer on port %s", self.config.http.workers, self.http_port)

    async def _start_worker(self) -> None:
        """HTTP worker: push connectors' routes here, everything else passed on to the primary."""
        from omnichannel.web.server import make_app
        from omnichannel.web.workers import Proxy

        assert self.worker is not None
        await self._start_connectors()
        app = make_app(self.config.http)
        app.router.add_routes(self.extra_routes)
        proxy = Proxy(self.worker[1])
        app.router.add_route("*", "/{tail:.*}", proxy.forward)
        app.on_shutdown.append(proxy.end_streams)
        app.on_cleanup.append(proxy.close)
        self.http_runner = web.AppRunner(app, access_log=None,
                                         shutdown_timeout=self.config.daemon.shutdown_deadline / 2,
                                         keepalive_timeout=self.config.http.header_timeout)
        await self.http_runner.setup()
        await self._listen(reuse_port=True)
        self.ready = True

    def _build_app(self) -> web.Application:
        from omnichannel.web.server import build_app

        return build_app(self)

    def _start_scheduler(self) -> None:
        self.scheduler = AsyncIOScheduler(job_defaults={"coalesce": True, "max_instances": 1,
                                                        "misfire_grace_time": 30})
        for name, runner in self.runners.items():
            interval = self.config.connector(name).poll_interval
            self.scheduler.add_job(self._tracked, "interval", args=[runner.tick], seconds=interval,
                                   id=f"poll:{name}", name=f"poll:{name}", next_run_time=_now())
        jobs: list[tuple[str, float, Any]] = []
        mark_overdue = self._optional("omnichannel.sla:mark_overdue")
        if mark_overdue is not None and self.config.sla is not None:
            jobs.append(("sla", SLA_INTERVAL, partial(mark_overdue, self.store, self.config)))
        for name, forwarder in self.forwarders.items():
            for job_id, seconds, job in getattr(forwarder, "periodic_jobs", lambda: [])():
                jobs.append((f"{name}:{job_id}", seconds, job))
        for job_id, seconds, job in jobs:  # each runs once per period across the replicas
            self.scheduler.add_job(self._tracked, "interval", args=[self._periodic(job_id, seconds, job)],
                                   seconds=seconds, id=job_id, next_run_time=_now())
        digest = self._optional("omnichannel.reports.digest:schedule")
        if digest is not None:  # a weekly cron job; its outbox key makes it one delivery across replicas
            send = self._optional("omnichannel.reports.digest:send_digest")
            digest(self.scheduler, partial(self._tracked, partial(send, self.store, self.config)), self.config)
        self.scheduler.start()

    def _waker(self, name: str) -> Any:
        """A thread-safe callable that makes ``name``'s runner poll at once (e.g. IMAP IDLE saw new mail)."""
        loop = asyncio.get_running_loop()

        def wake() -> None:
            try:
                loop.call_soon_threadsafe(self._wake, name)
            except RuntimeError:  # the loop is closed: the daemon has stopped
                pass

        return wake

    def _wake(self, name: str) -> None:
        runner = self.runners.get(name)
        if runner is not None and self.scheduler is not None and not self._stop.is_set():
            asyncio.ensure_future(self._tracked(runner.tick))

    def _periodic(self, job_id: str, seconds: float, job: Any) -> Any:
        guarded = once_per_period(self.store, job_id, seconds, self.replica_id, job)

        async def run() -> None:
            if await guarded():
                self.job_runs[job_id] += 1

        return run

    async def _tracked(self, job: Any) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._inflight.add(task)
        try:
            await job()
        except Exception:
            log.exception("periodic job failed")
        finally:
            self._inflight.discard(task)

    async def _route_loop(self) -> None:
        assert self.router_lease is not None
        # the lease is looked at (and renewed) at least three times per lease_ttl, idle or not
        interval = min(self.config.daemon.router_interval, self.config.daemon.lease_ttl / 3)
        told = None
        while not self._stop.is_set():
            if self.router_pipe is not None and told != (self.router_state, self.router_lease.held):
                told = (self.router_state, self.router_lease.held)  # the router process: what the daemon shows
                self._tell_daemon(("state", *told))
            try:
                await asyncio.wait_for(self._route_wakeup.wait(), interval)
            except TimeoutError:
                pass
            self._route_wakeup.clear()
            if self._stop.is_set():
                break
            loop = asyncio.get_running_loop()
            if not await self.router_lease.hold():
                await self._stand_by()
                continue
            try:
                while not self._stop.is_set():
                    # routing is CPU work on the event loop: while the intake is busy it yields
                    hot = loop.time() - self._last_intake < INTAKE_HOT
                    # a router process has a core of its own: it takes what is there in the pipeline's batches
                    limit = ROUTE_BATCH_OWN if self.router_pipe is not None else ROUTE_BATCH_HOT if hot else ROUTE_BATCH
                    started = loop.time()
                    done = await self.pipeline.process_pending(limit)
                    if done and self.router_pipe is not None:
                        self._tell_daemon(("routed", done))
                    if done:
                        self.metrics.routed.inc(done)
                        if self.dispatcher is not None and hasattr(self.dispatcher, "wake"):
                            self.dispatcher.wake()  # new outbox rows: deliver now, not at the next sweep
                    if done < limit:
                        break
                    pause = (loop.time() - started) * (1 / ROUTE_SHARE - 1) if hot else 0
                    await asyncio.sleep(pause)
                if self.router_state != "running":
                    log.info("router running" if self.router_state in ("standby", "starting") else "router recovered")
                self.router_state = "running"
            except LeaseLost as exc:
                log.warning("router: %s; the batch was rolled back", exc)
                await self._stand_by()
            except Exception as exc:
                if self.router_state == "running":
                    log.exception("router failing: %s", exc)
                self.router_state = f"failing: {type(exc).__name__}"
                await asyncio.sleep(min(30, interval * 5))

    async def _stand_by(self) -> None:
        """Another replica routes: drop the dedup index (rebuilt from the store when the lease comes back)."""
        if self.router_state != "standby":
            log.info("router standing by: another replica routes")
            self.router_state = "standby"
            await self.pipeline.stop()

    def replica_view(self) -> dict[str, Any]:
        """What ``/readyz`` shows of this replica: its name, its roles and the leases it holds now."""
        leases = sorted(name for name, runner in self.runners.items() if runner._has_lease)
        if self.router_lease is not None and self.router_lease.held:
            leases.insert(0, self.router_lease.key)
        elif self.router_process is not None and self.router_process.held:
            leases.insert(0, ROUTER)
        d = self.config.daemon
        roles = [role for role, on in (("route", d.route), ("dispatch", d.dispatch),
                                       ("intake", self.config.http.enabled)) if on]
        view = {"id": self.replica_id, "roles": roles, "leases": leases, "jobs_run": dict(self.job_runs)}
        if self.router_process is not None:
            view["router_process"] = self.router_process.health()
        return view

    # -- health and gauges ----------------------------------------------------------------------
    def connector_health(self) -> dict[str, Any]:
        """Per-connector state for ``/readyz``."""
        out: dict[str, Any] = {n: r.health.as_dict() for n, r in self.runners.items()}
        for name in self.connectors:
            out.setdefault(name, Health(state="running").as_dict())
        for name, why in self.unavailable.items():
            out[name] = {"state": "unavailable", "last_error": why}
        return out

    async def envelope_counts(self) -> dict[str, int] | None:
        """Envelopes stored per connector, counted in the store (every replica, since the store began).

        Reused for ``ENVELOPE_COUNT_TTL`` seconds unless this process committed new envelopes since;
        None when the store does not answer.
        """
        if self.store is None:
            return None
        now = asyncio.get_running_loop().time()
        cached = self._envelope_counts
        if cached is not None and now - cached[0] < ENVELOPE_COUNT_TTL:
            return cached[1]
        try:
            async with self.store.session() as session:
                q = select(EnvelopeRow.connector, func.count()).group_by(EnvelopeRow.connector)
                counts = {name: n for name, n in (await session.exec(q)).all()}
        except Exception as exc:
            log.debug("envelope counts unavailable: %s", exc)
            return None
        self._envelope_counts = (now, counts)
        return counts

    async def refresh_gauges(self) -> None:
        """Outbox depth by status and the router's backlog (read at scrape time)."""
        if self.store is None:
            return
        try:
            async with self.store.session() as session:
                q = select(OutboxRow.status, func.count()).group_by(OutboxRow.status)
                counts = dict((await session.exec(q)).all())
                q = select(func.count()).select_from(Complaint).where(Complaint.status == "received")
                backlog = (await session.exec(q)).scalar_one()
        except Exception:
            return
        self.metrics.replica.labels(self.replica_id).set(1)
        held = set(self.replica_view()["leases"])
        for key in [ROUTER] + list(self.runners):
            self.metrics.lease_held.labels(self.replica_id, key).set(1 if key in held else 0)
        for status in ("pending", "in_flight", "done", "dead", "held"):
            self.metrics.outbox_depth.labels(status).set(counts.get(status, 0))
        self.metrics.router_backlog.set(backlog)

    # -- lifecycle ------------------------------------------------------------------------------
    def request_stop(self) -> None:
        """Ask the daemon to stop (signal handlers call this)."""
        self._stop.set()

    async def wait(self) -> None:
        """Block until ``request_stop``."""
        await self._stop.wait()

    async def stop(self) -> None:
        """Drain in-flight work within ``shutdown_deadline``, then close everything."""
        self._stop.set()
        self.ready = False
        deadline = self.config.daemon.shutdown_deadline
        log.info("stopping: draining in-flight work (deadline %.0fs)", deadline)
        if self.scheduler is not None:
            self.scheduler.pause()
        for runner in self.runners.values():
            runner.interrupt()  # a connector waiting in IDLE or a long poll returns now, not at the deadline
        if self.workers is not None:  # they pass requests on to us: stop them first
            await self.workers.stop(deadline)
        if self.router_process is not None:  # it finishes its batch and releases the router lease
            await self.router_process.stop(deadline)
        if self._reserved is not None:
            self._reserved.close()
        if self.http_runner is not None:
            await self.http_runner.cleanup()  # stops accepting, lets open requests finish
        pending = [t for t in self._inflight | set(self._tasks) if not t.done()]
        if pending:
            done, still = await asyncio.wait(pending, timeout=deadline)
            for task in still:
                task.cancel()
            if still:
                log.warning("stop deadline reached: cancelled %d tasks", len(still))
                await asyncio.gather(*still, return_exceptions=True)
        for runner in self.runners.values():
            await runner.stop()
        for name, connector in self.connectors.items():
            if name not in self.runners or (hasattr(connector, "attach") and not self.runners[name].started):
                try:
                    await connector.stop()
                except Exception as exc:
                    log.warning("connector %s stop failed: %s", name, exc)
        for name, forwarder in self.forwarders.items():
            try:
                await forwarder.stop()
            except Exception as exc:
                log.warning("forwarder %s stop failed: %s", name, exc)
        if self.pipeline is not None and hasattr(self.pipeline, "stop"):
            await self.pipeline.stop()
        if self.router_lease is not None:
            await self.router_lease.release()  # a standby replica routes at once
        if self.scheduler is not None:
            self.scheduler.shutdown(wait=False)
            await asyncio.sleep(0)
        if self.store is not None:
            await self.store.close()
        if self._name_slot:
            self._name_slot.close()  # the name is free for the next start
            self._name_slot = False
        log.info("stopped")


def _now() -> Any:
    from datetime import datetime

    return datetime.now().astimezone()


async def run_daemon(config: Config) -> int:
    """Run until SIGTERM/SIGINT; exit status 0 after a graceful stop."""
    await serve_until_signalled(Daemon(config))
    return 0
