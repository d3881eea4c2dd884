"""``omnichannel outbox list|retry|dead``: what is waiting, what failed, and putting dead letters back."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any

from router.delivery import outbox as outbox_ops


def add_cli(subparsers: Any) -> None:
    """Register the ``outbox`` command on the ``omnichannel`` parser."""
    p = subparsers.add_parser(
        "outbox", help="deliveries: list, retry dead letters, record a found LAPOR! report, show dead letters",
        description="Deliveries to agencies, SP4N-LAPOR! and citizens (the outbox): what is waiting, failing, "
                    "held for an admin or dead-lettered, and putting rows back to pending.")
    sub = p.add_subparsers(dest="action", required=True, metavar="ACTION", title="actions")
    q = sub.add_parser("list", help="rows not yet done (or --status)")
    q.add_argument("--status", choices=["pending", "in_flight", "done", "dead", "held"],
                   help="only rows in this status (default: every row not done)")
    q.add_argument("--destination", metavar="NAME", help="only rows for this forwarder or reply:<connector>")
    q.add_argument("--limit", type=int, default=100, help="at most this many rows (default: 100)")
    q.add_argument("--json", action="store_true", help="print JSON instead of a table")
    q = sub.add_parser("retry", help="put dead letters (or the given rows, also held ones) back to pending")
    q.add_argument("ids", type=int, nargs="*", metavar="ID", help="outbox row ids (default: every dead row)")
    q.add_argument("--destination", metavar="NAME", help="only rows for this forwarder or reply:<connector>")
    q.add_argument("--held", action="store_true", help="also rows held for an admin")
    q = sub.add_parser("found", help="a held SP4N-LAPOR! report exists: record its tracking id and finish the row "
                                     "without sending again")
    q.add_argument("ticket", help="ticket ref, e.g. TIK-2026-000042")
    q.add_argument("tracking_id", help="the report's LAPOR! tracking id")
    q.add_argument("--destination", default="lapor", help="the LAPOR! forwarder's name (default: lapor)")
    q = sub.add_parser("dead", help="dead letters with their reasons")
    q.add_argument("--all", action="store_true", help="include ones already retried")
    q.add_argument("--limit", type=int, default=100, help="at most this many (default: 100)")
    q.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(func=cmd_outbox)


def cmd_outbox(args: argparse.Namespace) -> int:
    """Run one ``outbox`` action against the configured store."""
    from omnichannel.cli import load_cli_config

    config = load_cli_config(args)
    return asyncio.run(_run(args, config))


async def _run(args: argparse.Namespace, config: Any) -> int:
    from omnichannel.store import Store

    store = Store(config.store.url)
    await store.open(migrate=config.store.migrate_on_start)
    try:
        if args.action == "list":
            rows = await outbox_ops.list_rows(store, args.status, args.destination, args.limit)
            if args.json:
                print(json.dumps(rows, ensure_ascii=False, indent=2))
                return 0
            for r in rows:
                print(f"{r['id']:>7}  {r['status']:<9} {r['destination']:<20} {r['item_type']:<13} "
                      f"{r['item_ref']:<28} tries={r['attempts']:<3} next={r['next_attempt_at'][:19]}  "
                      f"{(r['last_error'] or '')[:80]}")
            tally = await outbox_ops.counts(store)
            for destination, by_status in sorted(tally.items()):
                print(f"{destination}: " + ", ".join(f"{s}={n}" for s, n in sorted(by_status.items())),
                      file=sys.stderr)
        elif args.action == "retry":
            n = await outbox_ops.retry(store, args.ids or None, args.destination, include_held=args.held)
            print(f"{n} rows back to pending")
        elif args.action == "found":
            from sqlalchemy import select

            from omnichannel.models import OutboxRow
            from router.delivery.forwarders.lapor import record_tracking_id

            ticket = args.ticket.upper()
            async with store.session() as session:
                q = select(OutboxRow.id).where(OutboxRow.item_type == "ticket", OutboxRow.item_ref == ticket,
                                               OutboxRow.destination == args.destination,
                                               OutboxRow.status.in_(("held", "dead")))
                ids = list((await session.exec(q)).scalars())
            if not ids:
                print(f"no held or dead {args.destination} row for {ticket}", file=sys.stderr)
                return 1
            await record_tracking_id(store, ticket, args.tracking_id, actor="cli", forwarder=args.destination)
            n = await outbox_ops.retry(store, ids, args.destination, include_held=True)
            print(f"{ticket}: tracking id {args.tracking_id} recorded; {n} row(s) will complete without sending again")
        elif args.action == "dead":
            rows = await outbox_ops.dead_letters(store, include_retried=args.all, limit=args.limit)
            if args.json:
                print(json.dumps(rows, ensure_ascii=False, indent=2))
                return 0
            for r in rows:
                print(f"{r['outbox_id']:>7}  {r['destination']:<20} {r['item_type']:<13} {r['item_ref']:<28} "
                      f"tries={r['attempts']:<3} {r['created_at'][:19]}  {r['reason'][:100]}")
            print(f"{len(rows)} dead letters", file=sys.stderr)
        return 0
    finally:
        await store.close()
