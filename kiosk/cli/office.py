"""Office-service commands: ``kiosk uplink``, ``metrics``, ``checkin``, ``bookings``, ``report``.

The services themselves are in :mod:`kiosk.office`; requests, prometheus_client
and the report's charts load only inside the command that needs them.
"""

from __future__ import annotations

import argparse
import time
from datetime import date
from pathlib import Path
from typing import Any

from kiosk.cli.common import UsageError, common, emit, open_queue
from kiosk.core.echo import echo
from kiosk.core.queue import QueueError

# ---------------------------------------------------------------------- uplink


def cmd_uplink(args: Any) -> int:
    from kiosk.core import events
    from kiosk.office.uplink import Uplink, UplinkError, UplinkSettings, _iso, backlog

    q = open_queue(args)
    store = q.store
    row = events.cursor_row(store, events.UPLINK_CURSOR)
    data: dict[str, Any] = {
        "enabled": q.cfg.uplink.enabled,
        "url": q.cfg.uplink.url,
        "site": q.cfg.site.id,
        "last_seq": store.last_seq(),
        "acknowledged_seq": row[0] if row else None,
        "acknowledged_at": _iso(row[1]) if row and row[0] else None,
        "backlog": backlog(store) if row else store.last_seq(),
    }
    lines = [
        f"uplink {'on' if data['enabled'] else 'off'} → {data['url'] or '(no url)'} as {data['site']}",
        f"  {data['backlog']} event(s) waiting; the central server has up to seq "
        f"{data['acknowledged_seq'] or 0} of {data['last_seq']}"
        + (f" (last ack {data['acknowledged_at']})" if data["acknowledged_at"] else ""),
    ]
    if args.send or args.heartbeat:
        up = Uplink(store, UplinkSettings.from_config(q.cfg), cfg=q.cfg)
        try:
            if args.heartbeat:
                data["heartbeat"] = up.heartbeat()
                lines.append("  heartbeat sent")
            if args.send:
                data["sent"] = up.run_once()
                data["backlog"] = backlog(store)
                lines.append(f"  sent {data['sent']} event(s); {data['backlog']} left")
        except UplinkError as e:
            raise QueueError(f"uplink: {e}") from None
    emit(args, data, "\n".join(lines))
    return 0


def register_uplink(sub: Any) -> None:
    """``kiosk uplink [--send] [--heartbeat]``: backlog and last acknowledgement; send now."""
    help = "show what the central server has received; --send and --heartbeat send now"
    sp = sub.add_parser("uplink", help=help, description=help)
    common(sp)
    sp.add_argument("--send", action="store_true", help="send every waiting event now")
    sp.add_argument("--heartbeat", action="store_true", help="send one heartbeat now")
    sp.set_defaults(func=cmd_uplink)


# ---------------------------------------------------------------------- metrics


def cmd_metrics(args: argparse.Namespace) -> int:
    from kiosk.office.metrics import MetricsConsumer

    q = open_queue(args)
    m = MetricsConsumer(q.store, q.cfg)
    if not args.serve:
        print(m.exposition(), end="")
        return 0
    listen = args.listen or q.cfg.metrics.listen
    try:
        host, port = m.serve(listen)
    except (OSError, ValueError) as e:
        raise UsageError(f"cannot listen on {listen}: {e}") from None
    print(f"metrics on http://{host}:{port}/metrics (Ctrl+C stops)", flush=True)
    m.start()
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        m.stop()
    return 0


def register_metrics(sub: Any) -> None:
    """``kiosk metrics``: print the Prometheus page once, or serve it."""
    help = "print the Prometheus metrics once, or serve them (--serve)"
    sp = sub.add_parser("metrics", help=help, description=help)
    common(sp, json_output=False)
    sp.add_argument("--serve", action="store_true", help="serve on [metrics] listen until Ctrl+C")
    sp.add_argument("--listen", metavar="HOST:PORT", help="override [metrics] listen")
    sp.set_defaults(func=cmd_metrics)


# ---------------------------------------------------------------------- bookings


def cmd_checkin(args: argparse.Namespace) -> int:
    from kiosk.office.bookings import check_in, normalise

    q = open_queue(args)
    r = check_in(q, args.code)
    svc = q.service(r.ticket.service)
    data = {
        "code": r.ticket.code,
        "booking": normalise(args.code),
        "service": svc.id,
        "service_name": svc.name,
        "priority": r.ticket.priority,
        "ahead": r.ahead,
        "wait_minutes": r.wait_minutes,
        "day": r.ticket.day,
        "seq": r.seq,
    }
    wait = f", about {r.wait_minutes} min" if r.wait_minutes is not None else ""
    emit(args, data, f"{r.ticket.code}  {svc.name}  ({r.ahead} ahead{wait})")
    return 0


def cmd_bookings(args: argparse.Namespace) -> int:
    from kiosk.office.bookings import FetchError, bookings_of_day, fetch

    q = open_queue(args)
    day = q.today()
    fetched: dict[str, Any] | None = None
    lines = []
    if args.fetch:
        try:
            counts, problems = fetch(q.cfg, q.store, day)
        except FetchError as e:
            raise QueueError(f"bookings not fetched: {e}") from None
        fetched = {**counts, "problems": problems}
        lines.append(
            f"fetched {counts['listed']} booking(s), {counts['new']} new, "
            f"{counts['cancelled']} cancelled"
        )
        lines += [f"  skipped: {p}" for p in problems]
    items = bookings_of_day(q.store, day)
    for b in items:
        state = (
            "cancelled"
            if b.cancelled
            else "checked in"
            if b.ticket_id is not None
            else "claimed"
            if b.claimed_at is not None
            else "waiting"
        )
        lines.append(f"  {b.slot or '--:--'}  {b.code:<14} {b.service:<10} {state}")
    if not items:
        lines.append(f"no bookings cached for {day}")
    emit(
        args,
        {"day": day, "fetched": fetched, "bookings": [b.__dict__ for b in items]},
        "\n".join(lines),
    )
    return 0


def register_bookings(sub: Any) -> None:
    """``kiosk checkin CODE`` and ``kiosk bookings [--fetch]``."""
    help = "give a ticket for an online booking code (service and priority from the booking)"
    sp = sub.add_parser("checkin", help=help, description=help)
    common(sp)
    sp.add_argument("code", help="booking code as typed or scanned")
    sp.set_defaults(func=cmd_checkin)
    help = "list today's cached online bookings; --fetch downloads them first"
    sp = sub.add_parser("bookings", help=help, description=help)
    common(sp)
    sp.add_argument("--fetch", action="store_true", help="fetch from [appointments] url first")
    sp.set_defaults(func=cmd_bookings)


# ---------------------------------------------------------------------- report


def _day(value: str, flag: str) -> str:
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        raise UsageError(
            f'{flag} "{echo(value)}" is not a date; write it like 2026-11-30'
        ) from None


def _month(value: str) -> str:
    """The first day of a ``--month YYYY-MM``, or a usage error with a month as example."""
    try:
        if len(value) != 7 or value[4] != "-":
            raise ValueError(value)
        return date(int(value[:4]), int(value[5:]), 1).isoformat()
    except ValueError:
        raise UsageError(
            f'--month "{echo(value)}" is not a month; write it like 2026-11 (year, then month 01-12)'
        ) from None


def cmd_report(args: argparse.Namespace) -> int:
    from kiosk.office.report import build, chart, month_bounds, text, write_csv, write_html

    q = open_queue(args)
    today = q.today()
    if args.month:
        if args.from_ or args.to:
            raise UsageError("give --month, or --from/--to, not both")
        first, last = month_bounds(_month(args.month))
    else:
        last = _day(args.to, "--to") if args.to else today
        first = _day(args.from_, "--from") if args.from_ else last
    if first > last:
        raise UsageError(f"--from {first} is after --to {last}; swap them")
    rep = build(q.cfg, q.store, first, last)
    png = None
    try:
        if args.png or args.html:
            png = chart(rep)
        if args.png:
            Path(args.png).write_bytes(png or b"")
        if args.html:
            write_html(rep, args.html, png)
        if args.csv:
            write_csv(rep, args.csv)
    except OSError as e:
        raise UsageError(f"cannot write {e.filename}: {e.strerror}") from None
    emit(args, rep.as_dict(), text(rep).rstrip())
    return 0


def register_report(sub: Any) -> None:
    """``kiosk report``: figures of a period as text, CSV, PNG charts and HTML."""
    help = "report per service, counter, hour and day: issued, served, no-show, waits, satisfaction"
    sp = sub.add_parser("report", help=help, description=help)
    common(sp)
    sp.add_argument("--from", dest="from_", metavar="DATE", help="first business day (YYYY-MM-DD)")
    sp.add_argument("--to", metavar="DATE", help="last business day (default: today)")
    sp.add_argument("--month", metavar="YYYY-MM", help="a whole month, e.g. 2026-11")
    sp.add_argument("--csv", metavar="FILE", help="write the figures as CSV (opens in Excel)")
    sp.add_argument("--png", metavar="FILE", help="write the charts as a PNG image")
    sp.add_argument("--html", metavar="FILE", help="write a self-contained HTML report")
    sp.set_defaults(func=cmd_report)


def register(sub: Any) -> None:
    """Add the office-service commands to ``sub`` (the ``kiosk`` subparsers)."""
    register_uplink(sub)
    register_metrics(sub)
    register_bookings(sub)
    register_report(sub)
