"""``omnichannel demo``: the whole flow on one machine, with the sandboxes standing in for every channel.

Starts the Telegram, WhatsApp, X, Meta (Facebook + Instagram) and LAPOR! sandboxes on free loopback ports (plus Dovecot and an SMTP
sink when Dovecot is installed), a temporary SQLite store and the daemon with a config derived from
the shipped ``config.yaml`` (secrets only through the environment), plays the scripted day of
``omnichannel.demo.script``, prints a summary and leaves the HTTP API up until Ctrl-C. The
end-to-end test (``tests/test_end_to_end.py``) uses the same world, config and script.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import dataclasses
import logging
import secrets
import shutil
import signal
import socket
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import func, select

from omnichannel.demo import script
from omnichannel.demo.mail import ADDRESS, MailWorld
from omnichannel.errors import ConfigError
from omnichannel.models import Complaint, EnvelopeRow, OutboxRow
from omnichannel.sandbox.lapor import LaporSandbox
from omnichannel.sandbox.meta import MetaSandbox
from omnichannel.sandbox.telegram import TelegramSandbox
from omnichannel.sandbox.whatsapp import WhatsAppSandbox
from omnichannel.sandbox.x import XSandbox

OFFICER_AGENCIES = ("bpbd", "pupr", "dlh", "pdam", "disdukcapil")
OFFICER_GROUP = -1001234567890
SHIPPED = Path(__file__).resolve().parents[2] / "config.yaml"
if not SHIPPED.is_file():  # installed from a wheel: the packaged copy of the shipped config
    SHIPPED = Path(__file__).resolve().parents[1] / "default_config.yaml"


def free_port(preferred: int = 0) -> int:
    """``preferred`` when it is free on 127.0.0.1, else any free port."""
    for port in ((preferred, 0) if preferred else (0,)):
        with socket.socket() as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the daemon binds: TIME_WAIT is no obstacle
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return s.getsockname()[1]
    raise OSError("no free port")


class DemoWorld:
    """Every remote counterpart of the demo, in this process."""

    def __init__(self, http_port: int, account_username: str = "pemkot_contoh") -> None:
        self.http_port = http_port
        self.telegram = TelegramSandbox()
        self.officer_bot = TelegramSandbox("987654321:SANDBOX-officer-bot", username="petugas_sandbox_bot")
        self.whatsapp = WhatsAppSandbox(webhook_url=f"http://127.0.0.1:{http_port}/webhooks/whatsapp/whatsapp")
        self.meta = MetaSandbox(webhooks={p: f"http://127.0.0.1:{http_port}/webhooks/{p}/{p}"
                                          for p in ("facebook", "instagram")})
        self.x = XSandbox(account_username=account_username)
        self.lapor = LaporSandbox()
        self.mail: MailWorld | None = None
        self.mail_skipped: str | None = MailWorld.unavailable()

    async def start(self, with_mail: bool = True) -> DemoWorld:
        """Start the sandboxes, and email when it can run here."""
        for sandbox in (self.telegram, self.officer_bot, self.whatsapp, self.x, self.lapor, self.meta):
            await sandbox.start()
        if not with_mail:
            self.mail_skipped = "email left out on request"
        if self.mail_skipped is None:
            mail = MailWorld()
            try:
                await mail.start()
                self.mail = mail
            except Exception as exc:
                self.mail_skipped = f"Dovecot could not start here: {exc}"
        return self

    async def stop(self) -> None:
        """Stop everything started (safe twice)."""
        if self.mail is not None:
            await self.mail.stop()
            self.mail = None
        for sandbox in (self.meta, self.lapor, self.x, self.whatsapp, self.officer_bot, self.telegram):
            await sandbox.stop()


def derive_config(base_text: str, world: DemoWorld, data_dir: Path) -> tuple[str, dict[str, str], dict[str, str]]:
    """The demo config (YAML text), the environment holding its secrets, and the officers' tokens."""
    data = copy.deepcopy(yaml.safe_load(base_text))
    env: dict[str, str] = {}
    tokens = {code: f"petugas-{code}-{secrets.token_hex(4)}" for code in OFFICER_AGENCIES}
    tokens["*"] = f"koordinator-{secrets.token_hex(4)}"

    def secret(var: str, value: str) -> str:
        env[var] = value
        return "${" + var + "}"

    data["data_dir"] = str(data_dir)
    data["store"] = {**(data.get("store") or {}), "url": f"sqlite+aiosqlite:///{data_dir}/omnichannel.db"}
    data["http"] = {**(data.get("http") or {}), "host": "127.0.0.1", "port": world.http_port,
                    "coordinator_tokens": [secret("DEMO_COORDINATOR_TOKEN", tokens["*"])]}
    # a day of citizens compressed into seconds, all from this machine's address: like a load test, it
    # runs with the shipped rate limits switched off the way the shipped config allows
    env["OMNICHANNEL_RATE_LIMITS"] = "false"
    data["logging"] = {"level": "INFO", "format": "text"}
    data["daemon"] = {**(data.get("daemon") or {}), "router_interval": 0.3, "shutdown_deadline": 10}
    for agency in data.get("agencies") or []:
        code = agency["code"]
        agency["officer_tokens"] = [secret(f"DEMO_{code.upper()}_OFFICER_TOKEN", tokens[code])] \
            if code in tokens else []
    w = world
    for conn in data.get("connectors") or []:
        kind = conn["kind"]
        if kind not in ("webform", "telegram", "whatsapp", "x", "facebook", "instagram") and not (kind == "imap" and w.mail is not None):
            conn["enabled"] = False  # nothing outside this machine: only channels with a stand-in run
        if kind == "telegram":
            conn.update(enabled=True, token=secret("DEMO_TELEGRAM_TOKEN", w.telegram.token),
                        base_url=w.telegram.base_url, long_poll_timeout=2, poll_interval=0.5,
                        service_name="Pemerintah Kota Semarang")
        elif kind == "whatsapp":
            conn.update(enabled=True, access_token=secret("DEMO_WHATSAPP_TOKEN", w.whatsapp.access_token),
                        app_secret=secret("DEMO_WHATSAPP_SECRET", w.whatsapp.app_secret),
                        verify_token=secret("DEMO_WHATSAPP_VERIFY", "verifikasi-demo"),
                        phone_number_id=w.whatsapp.phone_number_id, graph_base_url=w.whatsapp.base_url)
        elif kind in ("facebook", "instagram"):
            conn.update(enabled=True, access_token=secret("DEMO_META_TOKEN", w.meta.access_token),
                        app_secret=secret("DEMO_META_SECRET", w.meta.app_secret),
                        verify_token=secret("DEMO_META_VERIFY", "verifikasi-demo"), page_id=w.meta.page_id,
                        graph_base_url=w.meta.base_url, poll_interval=2,
                        **({"instagram_account_id": w.meta.instagram_id} if kind == "instagram" else {}))
        elif kind == "x":
            conn.update(enabled=True, bearer_token=secret("DEMO_X_BEARER", w.x.bearer_token),
                        consumer_key=secret("DEMO_X_CONSUMER_KEY", w.x.consumer_key),
                        consumer_secret=secret("DEMO_X_CONSUMER_SECRET", w.x.consumer_secret),
                        access_token=secret("DEMO_X_ACCESS_TOKEN", w.x.access_token),
                        access_token_secret=secret("DEMO_X_ACCESS_SECRET", w.x.access_token_secret),
                        api_base_url=w.x.base_url, account_username=w.x.account_username,
                        reply_mode="public", poll_interval=1)
        elif kind == "imap" and w.mail is not None:
            conn.update(enabled=True, host="127.0.0.1", port=w.mail.imap_port, security="none", username=w.mail.user,
                        password=secret("DEMO_IMAP_PASSWORD", w.mail.password), poll_interval=0.5, idle=False,
                        own_addresses=[ADDRESS],
                        smtp={"host": "127.0.0.1", "port": w.mail.smtp_port, "security": "none",
                              "from_address": ADDRESS, "from_name": "Layanan Pengaduan Kota Semarang"})
    forwarders = data.setdefault("forwarders", [])
    for fw in forwarders:
        if fw["kind"] not in ("db", "lapor", "telegram"):
            fw["enabled"] = False  # a real agency mailbox, webhook or broker must not get demo tickets
        if fw["kind"] == "lapor":
            fw.update(enabled=True, base_url=w.lapor.base_url, wire="json", status_sync_interval=1,
                      token=secret("DEMO_LAPOR_TOKEN", next(iter(w.lapor.tokens))),
                      keytoken=secret("DEMO_LAPOR_KEYTOKEN", w.lapor.keytoken))
        elif fw["kind"] == "telegram":  # Telegram allows one getUpdates consumer per bot: its own bot
            fw.update(enabled=True, token=secret("DEMO_OFFICER_BOT_TOKEN", w.officer_bot.token),
                      base_url=w.officer_bot.base_url, long_poll_timeout=2)
    if not any(fw["kind"] == "telegram" for fw in forwarders):
        forwarders.append({"name": "grup-petugas", "kind": "telegram", "chat_id": OFFICER_GROUP,
                           "token": secret("DEMO_OFFICER_BOT_TOKEN", w.officer_bot.token),
                           "base_url": w.officer_bot.base_url, "long_poll_timeout": 2,
                           "item_types": ["ticket", "ticket_update"]})
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=120), env, tokens


async def counts(store: Any) -> dict[str, Any]:
    """Envelopes per connector, complaints waiting for the router, deliveries not yet made."""
    async with store.session() as session:
        stored = dict((await session.exec(select(EnvelopeRow.connector, func.count())
                                          .group_by(EnvelopeRow.connector))).all())
        waiting = (await session.exec(select(func.count()).select_from(Complaint)
                                      .where(Complaint.status == "received"))).scalar_one()
        pending = (await session.exec(select(func.count()).select_from(OutboxRow)
                                      .where(OutboxRow.status.in_(("pending", "in_flight"))))).scalar_one()
        pending_env = (await session.exec(select(func.count()).select_from(EnvelopeRow)
                                          .where(EnvelopeRow.outcome == "pending"))).scalar_one()
    return {"stored": stored, "waiting": waiting + pending_env, "pending": pending}


async def settle(store: Any, traffic: script.Traffic, wait: float, until: Callable[[], bool] | None = None,
                 report: Callable[[str], None] | None = None, poll: float = 0.1) -> bool:
    """Wait until every expected envelope is stored, routed and delivered (and ``until()``); False on timeout."""
    deadline, last = time.monotonic() + wait, ""
    while True:
        c = await counts(store)
        got = sum(min(c["stored"].get(k, 0), n) for k, n in traffic.expected.items())
        want = sum(traffic.expected.values())
        line = f"  tersimpan {got}/{want}, menunggu router {c['waiting']}, menunggu dikirim {c['pending']}"
        if report is not None and line != last:
            report(line)
            last = line
        if got >= want and not c["waiting"] and not c["pending"] and (until is None or until()):
            return True
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(poll)


async def officers_act(world: DemoWorld, store: Any, traffic: script.Traffic, report: Callable[[str], None],
                       settled: Callable[[Callable[[], bool] | None], Any] | None = None) -> dict[str, Any]:
    """Phase three: an officer answers the flood, another closes a ticket, LAPOR! sends a tindak lanjut.

    ``settled(until)`` (optional) is awaited after each action, so each one's replies go out before the next.
    """
    done: dict[str, Any] = {}

    async def wait(until: Callable[[], bool] | None = None) -> None:
        if settled is not None:
            await settled(until)

    flood = await ticket_of(store, "telegram", str(script.CITIZENS[script.INCIDENT[0]].telegram))
    if flood is not None:
        answer = await traffic.officer("POST", f"/api/v1/tickets/{flood['ref']}/reply",
                                       traffic.token_for(flood["agency"]), {"text": script.ANSWER_TEXT})
        done["answered"], done["answered_by"] = flood["ref"], flood["agency"]
        on_page = flood["reporters"] - answer["replies"]
        report(f"  petugas {flood['agency'].upper()} menjawab {flood['ref']} ({flood['reporters']} pelapor): jawaban "
               f"dikirim ke {answer['replies']} warga lewat kanal masing-masing"
               + (f", {on_page} membacanya di halaman status aduan" if on_page > 0 else ""))
        await wait()
    rubbish = await ticket_of(store, "whatsapp", script.CITIZENS["budi"].whatsapp or "")
    if rubbish is not None:
        await traffic.officer("POST", f"/api/v1/tickets/{rubbish['ref']}/status", traffic.token_for(rubbish["agency"]),
                              {"status": "selesai", "note": script.CLOSE_NOTE})
        done["closed"] = rubbish["ref"]
        report(f"  petugas {rubbish['agency'].upper()} menutup {rubbish['ref']} (selesai)")
        await wait()
    road = await ticket_of(store, "telegram", str(script.CITIZENS[script.LAPOR_ANSWERED].telegram))
    if road is not None and road["lapor_tracking_id"]:
        world.lapor.force_status(road["lapor_tracking_id"], "ditindaklanjuti", text=script.LAPOR_TEXT,
                                 author="Dinas Pekerjaan Umum dan Penataan Ruang")
        done["lapor"] = road["lapor_tracking_id"]
        report(f"  SP4N-LAPOR! #{road['lapor_tracking_id']} ({road['ref']}): tindak lanjut dari Dinas PUPR, "
               f"diteruskan ke {script.CITIZENS[script.LAPOR_ANSWERED].name} di Telegram")
        await wait(lambda: lapor_answer_arrived(world))
    return done


async def ticket_of(store: Any, connector: str, sender: str) -> dict[str, Any] | None:
    """The ticket of the case that the sender's first complaint on ``connector`` belongs to."""
    from omnichannel.models import Case, Ticket

    async with store.session() as session:
        q = (select(Ticket, Case.reporter_count).join(Case, Case.id == Ticket.case_id)
             .join(Complaint, Complaint.case_id == Ticket.case_id)
             .join(EnvelopeRow, EnvelopeRow.id == Complaint.envelope_id)
             .where(EnvelopeRow.connector == connector, EnvelopeRow.sender_id == sender)
             .order_by(Complaint.id, Ticket.id).limit(1))
        row = (await session.exec(q)).first()
    if row is None:
        return None
    t, reporters = row
    return {"ref": t.ref, "agency": t.agency, "lapor_tracking_id": t.lapor_tracking_id, "reporters": reporters}


def lapor_answer_arrived(world: DemoWorld) -> bool:
    """True once the LAPOR! tindak lanjut reached its citizen on Telegram."""
    chat = script.CITIZENS[script.LAPOR_ANSWERED].telegram
    return any(m["chat"]["id"] == chat and script.LAPOR_TEXT in m["text"] for m in world.telegram.sent)


async def play_day(world: DemoWorld, store: Any, traffic: script.Traffic,
                   report: Callable[[str], None], wait: float = 90.0) -> dict[str, Any]:
    """Play the scripted day one step at a time, each stored, routed and delivered before the next.

    One step at a time, not a phase at once: channels deliver at their own pace (a webhook at once,
    Telegram at its next long poll, X at its next poll), so a burst would be stored, numbered and
    routed in a different order on every run. Step by step, complaint refs, tickets and SP4N-LAPOR!
    tracking ids come out the same every time. ``wait`` bounds each phase.
    """
    from omnichannel.demo.summary import channel_label, fate

    result: dict[str, Any] = {"settled": []}
    phases = len(script.PHASES) + 1
    last = 0
    for n, (title, phase) in enumerate(script.PHASES, start=1):
        report(f"[{n}/{phases}] {title}")
        deadline = time.monotonic() + wait
        ok = True
        for step in phase:
            if step.channel == "email" and world.mail is None:
                if step.special == "autoreply":
                    continue  # only mail has auto-replies
                step = dataclasses.replace(step, channel="web", what=step.what + " (lewat formulir web: tanpa email)")
            await traffic.play(step)
            ok = await settle(store, traffic, max(0.0, deadline - time.monotonic())) and ok
            last, what = await fate(store, last)
            report(f"  {channel_label(step.channel):<13} {script.CITIZENS[step.who].name:<15} {step.what} → "
                   + ("; ".join(what) or "tidak disimpan lagi (sudah diterima)"))
        result["settled"].append(ok)
    report(f"[{phases}/{phases}] {script.CLOSING}")
    deadline = time.monotonic() + wait
    outcome: list[bool] = []

    async def settled(until: Callable[[], bool] | None) -> None:
        outcome.append(await settle(store, traffic, max(0.0, deadline - time.monotonic()), until=until))

    result["officers"] = await officers_act(world, store, traffic, report, settled)
    result["settled"].append(all(outcome) and await settle(store, traffic, max(0.0, deadline - time.monotonic())))
    web = next((who for who in script.INCIDENT if who in traffic.web), None)
    if web is not None:
        result["web_answer"] = (script.CITIZENS[web].name, (await traffic.web_status(web)).get("answer"))
    return result


# -- the command ----------------------------------------------------------------------------------
def add_cli(subparsers: Any) -> None:
    """Register ``omnichannel demo``."""
    p = subparsers.add_parser(
        "demo", help="the whole flow on this machine with the sandboxes",
        description="Start local stand-ins of Telegram, WhatsApp, Facebook, Instagram, X and SP4N-LAPOR! (and "
                    "email when Dovecot is installed), run the daemon on a temporary SQLite store with a config derived from "
                    "config.yaml, play a scripted day of citizen complaints, print a summary in Bahasa "
                    "Indonesia, and serve the citizens' form and the officers' inbox until Ctrl-C. No account "
                    "anywhere is needed.")
    p.add_argument("--exit", action="store_true", help="exit after the summary instead of serving until Ctrl-C")
    p.add_argument("--port", type=int, default=8080, help="HTTP port of the daemon (another is taken if busy)")
    p.add_argument("--keep", metavar="DIR", help="keep the store and config in DIR (default: a temporary dir)")
    p.set_defaults(func=cmd_demo)


def cmd_demo(args: argparse.Namespace) -> int:
    """Run the demo."""
    from omnichannel.logs import setup_logging

    setup_logging(args.log_level or "WARNING")
    if not args.log_level:  # a poll outlasting its interval is normal with long polls: not news here
        for name in ("apscheduler", "apscheduler.scheduler", "apscheduler.executors.default"):
            logging.getLogger(name).setLevel(logging.ERROR)
    return asyncio.run(run_demo(args))


def workspace(args: argparse.Namespace) -> tuple[Path, Path | None, Path]:
    """(config to derive from, directory to keep or None, working directory)."""
    from omnichannel.cli import config_source

    base, packaged = config_source(args)
    base = SHIPPED if packaged else base
    if not base.is_file():
        raise ConfigError("", f"config file {base} not found: the demo derives its config from it")
    keep = Path(args.keep).resolve() if args.keep else None
    work = keep or Path(tempfile.mkdtemp(prefix="omnichannel-demo-"))
    work.mkdir(parents=True, exist_ok=True)
    return base, keep, work


async def demo_accounts(store: Any, config: Any, tokens: dict[str, str],
                        accounts: dict[str, str] | None = None) -> dict[str, str]:
    """Personal accounts (login → password) for the coordinator (login: koordinator) and every agency that has
    demo officers or tickets in the store (login: its code); an agency with a demo token gets that token as its
    password, any other a fresh one. Called again after the day, it adds the agencies the day gave tickets to
    and keeps the accounts already made (``accounts``). ``endpoints`` prints them."""
    from sqlalchemy import select

    from omnichannel import users
    from omnichannel.models import Ticket

    made = dict(accounts or {})
    async with store.session() as session:
        with_tickets = set((await session.exec(select(Ticket.agency).distinct())).scalars().all())
        wanted = ["*", *sorted(c for c in tokens if c != "*"),
                  *sorted(c for c in with_tickets if c not in tokens and config.agency(c) is not None)]
        for code in wanted:
            login = "koordinator" if code == "*" else code
            if login in made or await users.find_user(session, login) is not None:
                continue
            password = tokens.get(code) or f"petugas-{code}-{secrets.token_hex(4)}"
            if code == "*":
                await users.add_user(session, login, "Koordinator Pengaduan", "koordinator", [], password, "demo")
            else:
                await users.add_user(session, login, f"Petugas {config.agency(code).name}", "petugas", [code],
                                     password, "demo")
            made[login] = password
        await session.commit()
    return made


async def run_demo(args: argparse.Namespace) -> int:
    """Sandboxes, daemon, the scripted day, the summary; then serve until Ctrl-C (or exit with --exit)."""
    from omnichannel.config import parse_config
    from omnichannel.daemon import Daemon
    from omnichannel.demo.summary import day_report, endpoints, summary

    base, keep, work = workspace(args)
    started = time.monotonic()
    world = DemoWorld(free_port(args.port))
    await world.start()
    daemon = None
    try:
        text, env, tokens = derive_config(base.read_text(encoding="utf-8"), world, work / "data")
        (work / "demo-config.yaml").write_text(text, encoding="utf-8")
        config = parse_config(text, env=env)
        print(f"omnichannel demo — config diturunkan dari {base}, data di {work / 'data' / 'omnichannel.db'}")
        print(f"email: Dovecot di 127.0.0.1:{world.mail.imap_port}, balasan ke warga lewat SMTP sandbox "
              f"127.0.0.1:{world.mail.smtp_port}" if world.mail else
              f"email: tidak ikut — {world.mail_skipped}; warga email memakai formulir web")
        if world.http_port != args.port:
            print(f"port {args.port} sedang dipakai: daemon mendengarkan di {world.http_port}")
        daemon = Daemon(config)
        await daemon.start()
        accounts = await demo_accounts(daemon.store, config, tokens)
        async with script.Traffic(world, f"http://127.0.0.1:{daemon.http_port}",
                                  {k: v for k, v in tokens.items() if k != "*"}, tokens["*"]) as traffic:
            day = await play_day(world, daemon.store, traffic, print)
        print(await summary(daemon.store, config, world, traffic, day))
        print(await day_report(daemon.store, config))
        print(f"(hari demo selesai dalam {time.monotonic() - started:.0f} detik)")
        accounts = await demo_accounts(daemon.store, config, tokens, accounts)  # agencies the day gave tickets to
        print(endpoints(daemon.http_port, tokens, world, work / "demo-config.yaml", keep is not None, accounts))
        if not args.exit:
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, stop.set)
            print("Daemon tetap berjalan; tekan Ctrl-C untuk berhenti.")
            await stop.wait()
        return 0 if all(day["settled"]) else 1
    finally:
        if daemon is not None:
            await daemon.stop()
        await world.stop()
        if keep is None:
            shutil.rmtree(work, ignore_errors=True)
        sys.stdout.flush()
