"""``omnichannel report``: the figures for a period, the PPID's yearly report, the SP4N-LAPOR! monev."""

from __future__ import annotations

import argparse
import asyncio
import io
import sys
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

from omnichannel.errors import ConfigError

FORMATS = ("table", "json", "csv", "xlsx")


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date (YYYY-MM-DD)") from None


def add_cli(subparsers: Any) -> None:
    """Register ``report`` (with ``ppid`` and ``lapor``) on the ``omnichannel`` parser."""
    p = subparsers.add_parser("report", help="figures for a period: follow-up and completion in working days, "
                                             "SLA compliance, backlog (also: report ppid, report lapor)")
    _period_args(p)
    p.add_argument("--format", choices=FORMATS, help="default: table on the terminal, or from -o's extension")
    sub = p.add_subparsers(dest="report_kind")
    q = sub.add_parser("ppid", help="the PPID's yearly public-information service report (XLSX and printable HTML)")
    q.add_argument("--year", type=int, required=True, help="the year reported (1 January to 31 December, local)")
    q.add_argument("-o", "--output", help="file name without extension (default: laporan-ppid-YEAR)")
    q.add_argument("--as-of", type=_date, help="count what was done up to the end of this day (default: now)")
    q = sub.add_parser("lapor", help="SP4N-LAPOR! monev figures per instansi (follow-up and completion rates)")
    _period_args(q)
    q.add_argument("--format", choices=("table", "json", "csv", "xlsx"),
                   help="default: table on the terminal, or from -o's extension")
    p.set_defaults(func=cmd_report)


def _period_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--from", dest="first", type=_date, help="first day received (YYYY-MM-DD, local time)")
    p.add_argument("--to", dest="last", type=_date, help="last day received (inclusive)")
    p.add_argument("--agency", help="one agency's code")
    p.add_argument("--as-of", type=_date, help="count what was done up to the end of this day (default: now)")
    p.add_argument("-o", "--output", help="write to this file instead of the terminal")


def _as_of(day: date | None) -> datetime | None:
    if day is None:
        return None
    from omnichannel.sla import WorkingCalendar

    zone = WorkingCalendar().zone
    return min(datetime.now(UTC), datetime.combine(day, time(23, 59, 59), tzinfo=zone).astimezone(UTC))


def cmd_report(args: argparse.Namespace) -> int:
    """Build the report the arguments ask for and write it."""
    from omnichannel.cli import load_cli_config

    config = load_cli_config(args)  # -c, else $OMNICHANNEL_CONFIG, else ./config.yaml, as every command
    if args.report_kind == "ppid":
        first, last = date(args.year, 1, 1), date(args.year, 12, 31)
        agency = None
    else:
        if args.first is None or args.last is None:
            print("omnichannel: report needs --from and --to (YYYY-MM-DD)", file=sys.stderr)
            return 2
        first, last, agency = args.first, args.last, args.agency
        if last < first:
            print(f"omnichannel: --to {last} is before --from {first}", file=sys.stderr)
            return 2
        if agency and config.agency(agency) is None:
            raise ConfigError("--agency", f"no agency {agency!r} in agencies (known: "
                              f"{', '.join(a.code for a in config.agencies) or 'none'})")
    report = asyncio.run(_build(config, first, last, agency, _as_of(args.as_of)))
    if args.report_kind == "ppid":
        return _write_ppid(report, args.year, args.output)
    return _write(report, args, monev=args.report_kind == "lapor")


async def _build(config: Any, first: date, last: date, agency: str | None, as_of: datetime | None) -> dict[str, Any]:
    from omnichannel.cli import _store
    from omnichannel.reports.figures import build_report

    store = await _store(config, existing=True)
    try:
        return await build_report(store, config, first, last, agency, as_of)
    finally:
        await store.close()


def _write(report: dict[str, Any], args: argparse.Namespace, monev: bool) -> int:
    from omnichannel.reports import render

    fmt = args.format
    if fmt is None:
        suffix = Path(args.output).suffix.lower().lstrip(".") if args.output else ""
        fmt = suffix if suffix in FORMATS else "table"
    if fmt == "xlsx":
        if not args.output:
            print("omnichannel: --format xlsx needs -o FILE.xlsx", file=sys.stderr)
            return 2
        render.write_xlsx(report, args.output, monev=monev)
        print(f"wrote {args.output}", file=sys.stderr)
        return 0
    out = io.StringIO()
    if fmt == "json":
        render.dump_json(report, out)
    elif fmt == "csv":
        render.write_csv(report, out, render.MONEV if monev else None)
    elif monev:
        out.write(render.monev_table(report))
    else:
        out.write(render.table(report))
    if args.output:
        Path(args.output).write_text(out.getvalue(), encoding="utf-8")
        print(f"wrote {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(out.getvalue())
    return 0


def _write_ppid(report: dict[str, Any], year: int, output: str | None) -> int:
    from omnichannel.reports import ppid

    base = Path(output or f"laporan-ppid-{year}")
    if base.suffix.lower() in (".xlsx", ".html"):
        base = base.with_suffix("")
    ppid.write_xlsx(report, base.with_suffix(".xlsx"))
    base.with_suffix(".html").write_text(ppid.html(report, year), encoding="utf-8")
    print(f"wrote {base.with_suffix('.xlsx')} and {base.with_suffix('.html')}", file=sys.stderr)
    return 0
