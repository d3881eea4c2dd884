"""``omnichannel users ...`` (officers' accounts) and ``omnichannel tickets reassign`` (a coordinator's
correction from the shell); added to the CLI through ``registry.CLI_EXTENSIONS``."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys
from typing import Any

from omnichannel import users


def _password(args: argparse.Namespace) -> str:
    """A password from the prompt (asked twice) or, when stdin is not a terminal, its first line."""
    if not sys.stdin.isatty():
        line = sys.stdin.readline().rstrip("\r\n")
        if not line:
            raise users.AccountError("no password on stdin")
        return line
    first = getpass.getpass(f"Kata sandi untuk {args.login}: ")
    if getpass.getpass("Ulangi kata sandi: ") != first:
        raise users.AccountError("the two passwords differ")
    return first


def _actor() -> str:
    return f"cli:{os.environ.get('USER') or os.environ.get('LOGNAME') or 'unknown'}"


async def _with_store(args: argparse.Namespace, work: Any, existing: bool = False) -> int:
    from omnichannel.cli import _config, _store

    config = _config(args)
    store = await _store(config, existing=existing)
    try:
        async with store.session() as session:
            code = await work(session, config)
            await session.commit()
        return code
    finally:
        await store.close()


def cmd_users(args: argparse.Namespace) -> int:
    """Add, list, disable an officer account or reset its password."""
    from omnichannel.errors import OmnichannelError

    async def work(session: Any, config: Any) -> int:
        if args.action == "add":
            password = _password(args)
            user = await users.add_user(session, args.login, args.name, args.role, args.agency or [], password,
                                        _actor(), config)
            where = "/dasbor (read only)" if user.role == "pimpinan" else "/petugas (figures: /dasbor)"
            print(f"account {user.login} ({user.role}{': ' + ', '.join(user.agencies) if user.agencies else ''}) "
                  f"created; log in at {where}")
        elif args.action == "list":
            rows = await users.list_users(session)
            for u in rows:
                state = "disabled" if u.disabled else ("locked" if u.locked_until and u.locked_until > _now()
                                                       else "active")
                print(f"{u.login}\t{u.role}\t{','.join(u.agencies) or '-'}\t{state}\t{u.name}")
            if not rows:
                print("no accounts; add one with: omnichannel users add LOGIN --name NAME --role ROLE")
        elif args.action == "disable":
            await users.disable_user(session, args.login, _actor())
            print(f"account {args.login} disabled; its sessions ended")
        elif args.action == "reset-password":
            password = _password(args)
            await users.reset_password(session, args.login, password, _actor())
            print(f"password of {args.login} reset; lockout lifted; its sessions ended")
        return 0

    try:
        # only the first account may be made before the daemon ever ran; the others change an existing store
        return asyncio.run(_with_store(args, work, existing=args.action != "add"))
    except users.AccountError as exc:
        raise OmnichannelError(str(exc)) from None


def cmd_tickets(args: argparse.Namespace) -> int:
    """Reassign a ticket to another agency (closed as dialihkan, a new ticket opened, deliveries queued)."""
    from sqlalchemy import select

    from omnichannel import corrections, registry
    from omnichannel.errors import OmnichannelError
    from omnichannel.models import Ticket
    from omnichannel.templates import Templates

    try:
        answers = registry.load(registry.ANSWERS)
    except (ImportError, AttributeError):
        raise OmnichannelError("reassigning needs the router package, which is not installed") from None

    async def work(session: Any, config: Any) -> int:
        ticket = (await session.exec(select(Ticket).where(Ticket.ref == args.ref.upper()))).scalars().first()
        if ticket is None:
            raise OmnichannelError(f"no ticket {args.ref}")
        try:
            new, _ = await corrections.reassign(session, answers, ticket, args.agency, args.reason, _actor(), config,
                                                Templates(config.templates, config.templates_dir))
        except ValueError as exc:
            raise OmnichannelError(str(exc)) from None
        print(f"{ticket.ref} closed as dialihkan; {new.ref} opened for {new.agency}")
        return 0

    return asyncio.run(_with_store(args, work, existing=True))  # a ticket lives in the daemon's store


def _now() -> Any:
    from omnichannel.types import utcnow

    return utcnow()


def add_cli(sub: Any) -> None:
    """Add ``users`` and ``tickets`` to the CLI's subcommands."""
    p = sub.add_parser("users", help="officers' accounts for the /petugas desk")
    usub = p.add_subparsers(dest="action", required=True)
    a = usub.add_parser("add", help="create an account (password from a prompt or stdin's first line)")
    a.add_argument("login", help="the name the person logs in with (lowercase letters, digits, . _ -)")
    a.add_argument("--name", required=True, help="the person's name as officers see it")
    a.add_argument("--role", required=True, choices=users.ROLES,
                   help="petugas: officer of --agency; koordinator: every agency (triage); ppid: information "
                        "requests; admin: every agency and canned replies; pimpinan: dashboards only")
    a.add_argument("--agency", action="append", metavar="CODE", help="an agency code (repeat for several)")
    usub.add_parser("list", help="every account with role, agencies and state")
    a = usub.add_parser("disable", help="disable an account and end its sessions")
    a.add_argument("login", help="the account's login")
    a = usub.add_parser("reset-password", help="set a new password (prompt or stdin), lift a lockout")
    a.add_argument("login", help="the account's login")
    p.set_defaults(func=cmd_users)
    p = sub.add_parser("tickets", help="corrections to tickets")
    tsub = p.add_subparsers(dest="action", required=True)
    a = tsub.add_parser("reassign", help="move a ticket to another agency (closed as dialihkan, new ticket)")
    a.add_argument("ref", help="ticket ref, e.g. TIK-2026-000042")
    a.add_argument("agency", help="code of the agency that should handle it")
    a.add_argument("--reason", required=True, help="why (recorded as a correction for the router to learn from)")
    p.set_defaults(func=cmd_tickets)
