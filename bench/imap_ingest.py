"""Email ingest benchmark: a mailbox end to end (fetch, parse, store, ack), without and with routing,
beside a raw imapclient FETCH of the same mailbox in the same run.

Run: .venv/bin/python bench/imap_ingest.py [--messages 5000] [--batch-size 500] [--disk] [--route-workers N]
         [--route | --no-route | --route-process] [--texts incident|cities]
     .venv/bin/python bench/imap_ingest.py --host imap.example.id --port 993 --security tls --user NAME \
         [--password PW | env OMNI_BENCH_PASSWORD] [--folder INBOX]
Without ``--host`` a local Dovecot is started and seeded with ``--messages`` realistic mails; the Maildir
and the SQLite store live on /dev/shm (tmpfs) unless --disk is given. With ``--host`` any mailbox is read
as it is (nothing is appended; the end-to-end runs set \\Seen as the connector does, each starting from
the first UID with a fresh store). Each end-to-end run is timed three times over the same mailbox: plain
(fetch, parse, store, ack); with the router pipeline (normalise, classify, dedup, cases, tickets,
outbox rows; the shipped default config's taxonomy and agencies) run over the stored complaints after
each batch, in the same process and event loop, as a daemon with both roles does; and with the router in
a process of its own beside the intake (``daemon.route_process: true``), woken after each commit, the
run ending when it has routed every complaint. ``--route``, ``--no-route`` or ``--route-process`` runs
one of them only. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from connectors.email.config import ImapConfig  # noqa: E402
from connectors.email.connector import ImapConnector  # noqa: E402
from omnichannel.ingest import ingest_batch  # noqa: E402
from omnichannel.protocols import PluginContext  # noqa: E402
from omnichannel.search import SearchIndexer, pending  # noqa: E402
from omnichannel.store import Store  # noqa: E402
from tests.connectors.email.dovecot import cleanup, dovecot_missing_reason, start_dovecot  # noqa: E402

PHOTO = base64.encodebytes(b"\xff\xd8\xff\xe0" + bytes(range(256)) * 120).decode()  # ~30 KB "JPEG"
DOVECOT_PROCESSES = {"dovecot", "imap", "imap-login", "anvil", "log", "config", "auth", "stats"}
PLACES = ["Jl. Merdeka", "Kel. Sukamaju", "Kec. Cibeunying", "Gg. Mawar RT 03/RW 05", "Perumahan Indah"]


# --texts cities: the labelled cities' messages instead of one complaint at five places
CITY_TEXTS: list[str] = []


def city_texts() -> list[str]:
    """Every routing message of the labelled tuning cities (tests/data/cities/*/routing.jsonl, not those whose
    city.yaml says held_out: true), in a fixed order: citizens' own words on every subject, where the default
    mails are one complaint at five places (so every mail is a look-alike of every other, the grouping's worst
    case)."""
    import json

    import yaml

    out = []
    for path in sorted((ROOT / "tests" / "data" / "cities").glob("*/routing.jsonl")):
        facts = yaml.safe_load((path.parent / "city.yaml").read_text(encoding="utf-8")) or {}
        if facts.get("held_out"):
            continue
        out += [json.loads(line)["text"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return out


def mail(i: int) -> bytes:
    """A realistic mix: 60% text+HTML, 25% plain, 10% with a photo, 5% replies quoting our answer."""
    place = PLACES[i % len(PLACES)]
    if CITY_TEXTS:
        text = f"{CITY_TEXTS[i % len(CITY_TEXTS)]}\n\nTerima kasih,\nWarga {i}"
    else:
        text = (f"Selamat siang, saya mau melaporkan jalan berlubang di {place} nomor {i}. Sudah 2 minggu "
                f"tidak diperbaiki dan sering ada pengendara motor jatuh. Mohon segera ditindaklanjuti.\n\n"
                f"Terima kasih,\nWarga {i}")
    head = (f"From: Warga {i} <warga{i % 1500}@example.id>\r\nTo: pengaduan@kab-contoh.go.id\r\n"
            f"Subject: Jalan rusak di {place}\r\nDate: Mon, 05 Jan 2026 08:15:00 +0700\r\n"
            f"Message-ID: <bench-{i}@example.id>\r\nMIME-Version: 1.0\r\n")
    kind = i % 20
    if kind < 12:
        html = "<html><body>" + "".join(f"<p>{line}</p>" for line in text.split("\n")) + "</body></html>"
        body = (f'Content-Type: multipart/alternative; boundary="alt{i}"\r\n\r\n--alt{i}\r\n'
                f"Content-Type: text/plain; charset=UTF-8\r\n\r\n{text}\r\n--alt{i}\r\n"
                f"Content-Type: text/html; charset=UTF-8\r\n\r\n{html}\r\n--alt{i}--\r\n")
    elif kind < 17:
        body = f"Content-Type: text/plain; charset=UTF-8\r\n\r\n{text}\r\n"
    elif kind < 19:
        body = (f'Content-Type: multipart/mixed; boundary="mix{i}"\r\n\r\n--mix{i}\r\n'
                f"Content-Type: text/plain; charset=UTF-8\r\n\r\n{text}\r\n--mix{i}\r\n"
                f'Content-Type: image/jpeg; name="foto{i}.jpg"\r\nContent-Disposition: attachment; '
                f'filename="foto{i}.jpg"\r\nContent-Transfer-Encoding: base64\r\n\r\n{PHOTO}--mix{i}--\r\n')
    else:
        quoted = "\n".join("> " + line for line in text.split("\n"))
        body = (f"In-Reply-To: <ack-{i}@kab-contoh.go.id>\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\n"
                f"Belum ada perbaikan sampai hari ini.\n\nPada Sen, 5 Jan 2026, Layanan menulis:\n{quoted}\r\n")
    return (head + body).encode()


def descendants_cpu() -> dict[tuple[int, str], float]:
    """CPU seconds (user + system) of each live process below this one: worker processes, Dovecot."""
    parents: dict[int, int] = {}
    cpu: dict[int, float] = {}
    names: dict[int, str] = {}
    tick = os.sysconf("SC_CLK_TCK")
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                head, _, tail = f.read().rpartition(")")
            fields = tail.split()
        except OSError:
            continue
        comm = head.partition("(")[2]
        names[int(entry)] = "Dovecot" if comm in DOVECOT_PROCESSES else \
            "the router's prepare workers" if comm == "omni-prepare" else "workers"
        parents[int(entry)] = int(fields[1])
        cpu[int(entry)] = (int(fields[11]) + int(fields[12])) / tick
    me, out = os.getpid(), {}
    for pid in cpu:
        parent = parents.get(pid)
        while parent and parent != me:
            parent = parents.get(parent)
        if parent == me and pid != me:
            out[(pid, names[pid])] = cpu[pid]
    return out


def raw_fetch(box, batch_size: int, folder: str = "INBOX") -> tuple[float, int, int]:
    """Seconds to FETCH BODY.PEEK[] of every message, in chunks of ``batch_size``; bytes and messages read."""
    client = box.client()
    try:
        client.select_folder(folder, readonly=True)
        uids = client.search(["ALL"])
        started, size = time.perf_counter(), 0
        for start in range(0, len(uids), batch_size):
            for data in client.fetch(uids[start:start + batch_size], [b"BODY.PEEK[]"]).values():
                size += len(data[b"BODY[]"])
        return time.perf_counter() - started, size, len(uids)
    finally:
        client.logout()


@dataclass
class Remote:
    """A mailbox given on the command line (``--host``): read as it is."""

    host: str
    port: int
    user: str
    password: str
    security: str

    def client(self):
        """A logged-in imapclient connection."""
        from imapclient import IMAPClient

        client = IMAPClient(self.host, port=self.port, ssl=self.security == "tls", timeout=60)
        if self.security == "starttls":
            client.starttls()
        client.login(self.user, self.password)
        return client


ROUTE_WORKERS = 0  # --route-workers: routing.workers of the routing runs
DUMP: Path | None = None  # --dump-decisions: where each routing run's stored decisions are written


async def dump_decisions(store: Store, path: Path) -> None:
    """The routing decisions a run stored, one JSON line per row in id order and without times or random refs:
    each complaint's status, kind, agency, confidence, location, explanation, case and duplicate links, the
    cases, tickets, follow-ups and outbox rows. Two runs over the same mailbox that decide alike write the
    same bytes (compare them with ``cmp``)."""
    import json

    from sqlalchemy import select

    from omnichannel.models import Case, Complaint, FollowUp, OutboxRow, Ticket

    tables = [
        ("complaint", select(Complaint.id, Complaint.status, Complaint.kind, Complaint.agency, Complaint.confidence,
                             Complaint.location, Complaint.explanation, Complaint.case_id, Complaint.duplicate_of,
                             Complaint.dedup_level, Complaint.similarity, Complaint.kecamatan, Complaint.text_norm)
         .order_by(Complaint.id)),
        ("case", select(Case.id, Case.title, Case.location, Case.complaint_count, Case.reporter_count)
         .order_by(Case.id)),
        ("ticket", select(Ticket.id, Ticket.case_id, Ticket.agency, Ticket.kind, Ticket.status, Ticket.routed_agency)
         .order_by(Ticket.id)),
        ("follow_up", select(FollowUp.id, FollowUp.complaint_id, FollowUp.envelope_id, FollowUp.reason,
                             FollowUp.similarity).order_by(FollowUp.id)),
        ("outbox", select(OutboxRow.id, OutboxRow.item_type, OutboxRow.destination, OutboxRow.idempotency_key)
         .order_by(OutboxRow.id)),
    ]
    with path.open("w", encoding="utf-8") as out:
        async with store.session() as session:
            for name, q in tables:
                for row in (await session.exec(q)).all():
                    out.write(json.dumps([name, *row], ensure_ascii=False, sort_keys=True, default=str) + "\n")


def bench_config():
    """The shipped default config (dummy values for its required secrets), with ``routing.workers`` set."""
    from omnichannel.config import load_config

    env = {**os.environ, "OMNICHANNEL_RATE_LIMITS": "false", **{k: os.environ.get(k, "bench") for k in (
        "TELEGRAM_BOT_TOKEN", "WHATSAPP_ACCESS_TOKEN", "WHATSAPP_APP_SECRET", "WHATSAPP_VERIFY_TOKEN",
        "IMAP_PASSWORD", "X_BEARER_TOKEN", "SMTP_PASSWORD")}}
    config = load_config(ROOT / "omnichannel" / "default_config.yaml", env=env)
    return config.model_copy(update={"routing": config.routing.model_copy(update={"workers": ROUTE_WORKERS})})


def router_pipeline(store: Store):
    """The router pipeline with the shipped default config."""
    from omnichannel.templates import Templates
    from router.pipeline import RouterPipeline

    config = bench_config()
    return RouterPipeline(config, store, Templates(config.templates, config.templates_dir))


def router_process(url: str):
    """The router in a process of its own (``daemon.route_process``) on the store at ``url``."""
    from omnichannel.daemon import Daemon
    from omnichannel.router_process import RouterProcess

    config = bench_config()
    config = config.model_copy(update={"store": config.store.model_copy(update={"url": url}),
                                       "logging": config.logging.model_copy(update={"level": "WARNING"})})
    return RouterProcess(Daemon, config, "bench")


async def received(store: Store) -> int:
    """Complaints not routed yet."""
    from sqlalchemy import func, select

    from omnichannel.models import Complaint

    async with store.session() as session:
        return (await session.exec(select(func.count()).where(Complaint.status == "received"))).one()[0]


async def end_to_end(box, work: Path, batch_size: int, route: bool | str = False,
                     **options) -> tuple[float, dict[str, float], int]:
    """Seconds for poll → ingest_batch → ack (→ route) until drained, the time per phase, and envelopes stored.

    ``route``: True routes after each batch in this process and event loop; ``"process"`` routes in a process
    of its own beside it (``daemon.route_process``), woken after each commit, and the run ends when it has
    routed everything."""
    url = f"sqlite+aiosqlite:///{work}/bench.db"
    store = Store(url)
    await store.open(migrate=True)
    name = "email"  # the default config's mailbox: routing queues its acknowledgements as it would live
    config = ImapConfig(name=name, host=box.host, port=box.port, security=getattr(box, "security", "none"),
                        username=box.user, password=box.password, idle=False, batch_size=batch_size, **options)
    connector = ImapConnector(name, config)
    ctx = PluginContext(name=name, data_dir=work, attachments_dir=work / "attachments", extra={"store": store})
    phases = {"start": 0.0, "poll (fetch+parse)": 0.0, "store": 0.0, "ack": 0.0}
    pipeline = router_pipeline(store) if route is True else None
    router = router_process(url) if route == "process" else None
    if pipeline is not None:
        phases["route"], routed = 0.0, 0
    if router is not None:
        phases["wait for the router process"] = 0.0
    stored, waited = 0, 0.0
    # the officers' search index is filled in the background after the commits, as in the daemon: its work
    # counts in these figures, and how long search took to catch up after the last batch is reported
    indexer, stop_indexer = SearchIndexer(store), asyncio.Event()
    indexing = asyncio.create_task(indexer.run_forever(stop_indexer))
    if router is not None:  # not timed, as building the in-process pipeline (imports, config, rules) is not
        await router.start()
        while router.state == "starting" and router.process.is_alive():  # it has rebuilt its index
            await asyncio.sleep(0.005)
    started, cpu, others = time.perf_counter(), time.process_time(), descendants_cpu()
    await connector.start(ctx, None)
    if pipeline is not None:
        await pipeline.start()
    phases["start"] = time.perf_counter() - started
    try:
        while True:
            t = time.perf_counter()
            batch = await connector.poll()
            phases["poll (fetch+parse)"] += time.perf_counter() - t
            if not batch.envelopes and batch.checkpoint is None:
                break
            t = time.perf_counter()
            result = await ingest_batch(store, name, "email", batch)
            phases["store"] += time.perf_counter() - t
            stored += result.new
            t = time.perf_counter()
            await connector.ack(batch, result)
            phases["ack"] += time.perf_counter() - t
            if router is not None and result.new:
                router.wake()
            if pipeline is not None:
                t = time.perf_counter()
                while (done := await pipeline.process_pending(batch_size)) > 0:
                    routed += done
                phases["route"] += time.perf_counter() - t
        if pipeline is not None:
            print(f"routed {routed} complaints")
        if router is not None:
            t = time.perf_counter()
            # the router process catches up: its batch reports say when it may have (no store queries meanwhile,
            # they would cost this process CPU that the run then counts)
            looked = 0.0
            while router.process.is_alive() and time.perf_counter() - t < 300:
                if router.routed >= stored or time.perf_counter() - looked > 0.1:  # not every mail is a complaint
                    looked = time.perf_counter()
                    if not await received(store):
                        break
                await asyncio.sleep(0.005)
            phases["wait for the router process"] = time.perf_counter() - t
            print(f"routed {stored - await received(store)} complaints in the router process")
        last = time.perf_counter()
        for _ in range(3000):  # bounded: 30 s
            if not await pending(store):
                break
            await asyncio.sleep(0.01)
        waited = time.perf_counter() - last  # not counted in the run's time (nothing else runs meanwhile)
        print(f"search index: {indexer.indexed} complaints indexed in the background; searchable "
              f"{waited:.2f} s after the last batch was stored")
        phases["cpu of this process"] = time.process_time() - cpu
        after = descendants_cpu()
        if router is not None:  # counted before it stops (its CPU is gone from /proc after)
            pid = router.process.pid
            phases["cpu of the router process"] = sum(v - others.get(key, 0.0) for key, v in after.items()
                                                     if key[0] == pid)
            after = {key: v for key, v in after.items() if key[0] != pid}
        for kind in ("workers", "the router's prepare workers", "Dovecot"):
            phases[f"cpu of {kind}"] = sum(v - others.get(key, 0.0) for key, v in after.items() if key[1] == kind)
        if DUMP is not None and route:  # not counted in the run's time either
            t = time.perf_counter()
            await dump_decisions(store, DUMP.with_name(f"{DUMP.stem}-{'process' if route == 'process' else 'route'}"
                                                         f"{DUMP.suffix}"))
            waited += time.perf_counter() - t
    finally:
        stop_indexer.set()
        await indexing
        await connector.stop()
        if pipeline is not None:
            await pipeline.stop()
        if router is not None:
            await router.stop(20)
        await store.close()
    return time.perf_counter() - started - waited, phases, stored


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=5000, help="mails seeded into the local Dovecot")
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--disk", action="store_true", help="keep the store in /tmp instead of /dev/shm")
    parser.add_argument("--parse-workers", type=int, default=None, help="parser processes (default: the config's, 0)")
    parser.add_argument("--no-prefetch", action="store_true", help="fetch the next batch only when asked")
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--route", action="store_true", help="only the run that also routes the stored complaints")
    which.add_argument("--route-process", action="store_true",
                       help="only the run that routes in a process of its own (daemon.route_process)")
    which.add_argument("--no-route", action="store_true", help="only the run without routing")
    parser.add_argument("--host", help="read this IMAP server's mailbox instead of a seeded local Dovecot")
    parser.add_argument("--port", type=int, default=None, help="default 993 with --security tls, else 143")
    parser.add_argument("--security", choices=["none", "tls", "starttls"], default="none")
    parser.add_argument("--user", help="the mailbox's login (with --host)")
    parser.add_argument("--password", help="its password (or the environment: OMNI_BENCH_PASSWORD)")
    parser.add_argument("--folder", default="INBOX")
    parser.add_argument("--texts", choices=["incident", "cities"], default="incident",
                        help="the seeded mails' words: one pothole at five places (default: every mail a "
                             "look-alike of the others) or the labelled cities' messages in turn")
    parser.add_argument("--route-workers", type=int, default=0,
                        help="routing.workers: processes preparing each batch's messages beside the router (default 0)")
    parser.add_argument("--dump-decisions", type=Path, default=None, metavar="FILE",
                        help="write each routing run's stored decisions to FILE with -route or -process before "
                             "its suffix (JSON lines without times: compare two versions' runs byte for byte)")
    args = parser.parse_args()
    global ROUTE_WORKERS, DUMP
    ROUTE_WORKERS, DUMP = args.route_workers, args.dump_decisions
    if args.texts == "cities":
        CITY_TEXTS.extend(city_texts())
    server = None
    if args.host:
        if not args.user:
            sys.exit("--host needs --user (and --password or OMNI_BENCH_PASSWORD)")
        box = Remote(args.host, args.port or (993 if args.security == "tls" else 143), args.user,
                     args.password or os.environ.get("OMNI_BENCH_PASSWORD", ""), args.security)
    else:
        reason = dovecot_missing_reason()
        if reason:
            sys.exit(reason)
        server = start_dovecot()
    work = Path(tempfile.mkdtemp(prefix="omni-bench-", dir=None if args.disk else "/dev/shm"))
    try:
        if server is not None:
            box = server.add_user()
            mails = [mail(i) for i in range(args.messages)]
            t = time.perf_counter()
            box.append(mails)
            print(f"seeded {args.messages} mails ({sum(map(len, mails)) / 1e6:.1f} MB) with MULTIAPPEND in "
                  f"{time.perf_counter() - t:.2f} s; Maildir on {server.mail_root}, store in {work}")
            del mails
        else:
            print(f"reading {args.user}@{args.host}:{box.port} folder {args.folder} as it is; store in {work}")
        print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} cores")
        raws = [raw_fetch(box, args.batch_size, args.folder)]
        options = {"prefetch": not args.no_prefetch, "folders": [args.folder]}
        if args.parse_workers is not None:
            options["parse_workers"] = args.parse_workers
        runs = [True] if args.route else [False] if args.no_route else ["process"] if args.route_process \
            else [False, True, "process"]
        results = []
        for route in runs:
            run_dir = work / {False: "plain", True: "route", "process": "route-process"}[route]
            run_dir.mkdir()
            results.append((route, *asyncio.run(end_to_end(box, run_dir, args.batch_size, route, **options))))
            raws.append(raw_fetch(box, args.batch_size, args.folder))
        raw = min(r[0] for r in raws)
        count, size = raws[0][2], raws[0][1]
        print(f"raw imapclient FETCH BODY.PEEK[] of {count} mails (chunks of {args.batch_size}): "
              + ", ".join(f"{count / r[0]:,.0f}" for r in raws) + f" msg/s ({size / raw / 1e6:.0f} MB/s at best)")
        for route, elapsed, phases, stored in results:
            how = {False: "", True: ", route", "process": ", route in a process of its own"}[route]
            print(f"end to end (fetch, parse, store via ingest_batch, ack{how}; "
                  f"batch {args.batch_size}, parse_workers {args.parse_workers or 0}, prefetch {not args.no_prefetch}"
                  + (f", routing.workers {args.route_workers}" if route and args.route_workers else "") + ")"
                  f": {stored} stored in {elapsed:.2f} s = {stored / elapsed:,.0f} msg/s "
                  f"({stored / (elapsed - phases['start']):,.0f} msg/s after start); "
                  f"ratio to the best raw FETCH {stored / elapsed / (count / raw):.3f}")
            print("  seconds the loop spent in each call: " + ", ".join(f"{k} {v:.2f} s" for k, v in phases.items()))
            cpu = sum(v for k, v in phases.items() if k.startswith("cpu of"))
            print(f"  per CPU second (this process, workers{', the router process' if route == 'process' else ''} "
                  f"and Dovecot: {cpu:.2f} s): {stored / cpu:,.0f} msg; "
                  "on a shared machine this, not the wall clock, is what the code costs")
        print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    finally:
        if server is not None:
            cleanup(server)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
