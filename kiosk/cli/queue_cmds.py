"""Queue commands: issue, call, recall, skip, finish, transfer, rate, close-day, prune,
status, events, init and check-config.

They need only the core (config, store, queue); nothing here imports a printer,
a screen or the network, so a clerk's ``kiosk call 3`` starts fast.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from typing import Any

from kiosk.cli.common import EXIT_OK, common, emit, open_queue, store_spec
from kiosk.core.config import load
from kiosk.core.queue import Queue
from kiosk.core.storage import open_store
from kiosk.core.store import StoreError, redact


def cmd_issue(args: argparse.Namespace) -> int:
    q = open_queue(args)
    r = q.issue(args.service, priority=args.priority, source="cli")
    svc = q.service(args.service)
    data = {
        "code": r.ticket.code,
        "service": svc.id,
        "service_name": svc.name,
        "ahead": r.ahead,
        "wait_minutes": r.wait_minutes,
        "priority": r.ticket.priority,
        "day": r.ticket.day,
        "seq": r.seq,
    }
    wait = f", about {r.wait_minutes} min" if r.wait_minutes is not None else ""
    emit(args, data, f"{r.ticket.code}  {svc.name}  ({r.ahead} ahead{wait})")
    return EXIT_OK


def _counter_result(
    args: argparse.Namespace, q: Queue, t: Any, verb: str, extra: dict[str, Any] | None = None
) -> None:
    c = q.counter(args.counter)
    data = {
        "counter": c.id,
        "ticket": t.code if t else None,
        "service": t.service if t else None,
        **(extra or {}),
    }
    text = f"{c.name}: {verb} {t.code}" if t else f"{c.name}: nobody is waiting"
    emit(args, data, text)


def cmd_call(args: argparse.Namespace) -> int:
    q = open_queue(args)
    t = q.call(args.counter, args.code) if args.code else q.call_next(args.counter)
    _counter_result(args, q, t, "calling")
    return EXIT_OK


def cmd_hold(args: argparse.Namespace) -> int:
    q = open_queue(args)
    t = q.hold(args.counter)
    _counter_result(args, q, t, "holding")
    return EXIT_OK


def cmd_return(args: argparse.Namespace) -> int:
    q = open_queue(args)
    t = q.return_held(args.counter, args.code)
    _counter_result(args, q, t, "back at the front of the queue:")
    return EXIT_OK


def cmd_restore(args: argparse.Namespace) -> int:
    q = open_queue(args)
    t = q.restore(args.counter, args.code)
    _counter_result(args, q, t, "waiting again at the front of the queue:")
    return EXIT_OK


def cmd_recall(args: argparse.Namespace) -> int:
    q = open_queue(args)
    t = q.recall(args.counter)
    _counter_result(args, q, t, "calling again", {"recall_count": t.recall_count})
    return EXIT_OK


def cmd_skip(args: argparse.Namespace) -> int:
    q = open_queue(args)
    skipped, nxt = q.skip(args.counter)
    c = q.counter(args.counter)
    data = {"counter": c.id, "skipped": skipped.code, "ticket": nxt.code if nxt else None}
    text = f"{c.name}: {skipped.code} did not come; " + (
        f"calling {nxt.code}" if nxt else "nobody else is waiting"
    )
    emit(args, data, text)
    return EXIT_OK


def cmd_transfer(args: argparse.Namespace) -> int:
    q = open_queue(args)
    t = q.transfer(args.counter, args.service)
    c = q.counter(args.counter)
    emit(
        args,
        {"counter": c.id, "ticket": t.code, "service": t.service},
        f"{c.name}: {t.code} moved to {q.service(t.service).name}",
    )
    return EXIT_OK


def cmd_finish(args: argparse.Namespace) -> int:
    q = open_queue(args)
    t = q.finish(args.counter)
    _counter_result(args, q, t, "finished")
    return EXIT_OK


def cmd_rate(args: argparse.Namespace) -> int:
    q = open_queue(args)
    t = q.rate(args.counter, args.score, args.reason)
    _counter_result(args, q, t, f"rated {args.score} for", {"rating": args.score})
    return EXIT_OK


def cmd_close_day(args: argparse.Namespace) -> int:
    q = open_queue(args)
    expired = q.close_day()
    emit(
        args,
        {"day": q.today(), "expired": [t.code for t in expired]},
        f"day {q.today()} closed; {len(expired)} waiting ticket(s) expired",
    )
    return EXIT_OK


def cmd_prune(args: argparse.Namespace) -> int:
    q = open_queue(args)
    protect = list(args.protect)
    if q.cfg.uplink.enabled:  # unsent events stay even if the uplink never ran yet
        protect.append("uplink")
    tickets, events = q.prune(tuple(protect))
    emit(
        args,
        {"tickets": tickets, "events": events},
        f"removed {tickets} old ticket(s) and {events} old event(s) "
        f"(keeping {q.cfg.storage.retention_days} days and every unsent event)",
    )
    return EXIT_OK


def cmd_status(args: argparse.Namespace) -> int:
    q = open_queue(args)
    s = q.status()
    counts = "".join(f", {k} {v}" for k, v in sorted(s["by_status"].items()))
    lines = [f"{s['site']} — {s['day']}: {s['issued']} issued{counts}"]
    for c in s["counters"]:
        lines.append(
            f"  {c['name']:<10} {'open' if c['open'] else 'closed':<7} {c['current'] or '—'}"
        )
    for sv in s["services"]:
        pr = f" ({sv['waiting_priority']} priority)" if sv["waiting_priority"] else ""
        lines.append(f"  {sv['name']:<36} waiting {sv['waiting']}{pr}")
    if s["print_pending"]:
        lines.append(f"  {s['print_pending']} ticket(s) not printed yet")
    if s["not_printed"]:
        lines.append(
            f"  {len(s['not_printed'])} ticket(s) not printed (stale); `kiosk print CODE` prints one:"
        )
        for t in s["not_printed"]:
            lines.append(f"    {t['code']:<6} {t['detail'] or t['reason']}")
    emit(args, s, "\n".join(lines))
    return EXIT_OK


def cmd_events(args: argparse.Namespace) -> int:
    q = open_queue(args)
    since = args.since
    shown = 0
    while args.limit is None or shown < args.limit:
        batch = q.store.events_since(
            since, limit=500 if args.limit is None else min(500, args.limit - shown)
        )
        if not batch:
            break
        for ev in batch:
            d = ev.as_dict()
            if args.json:
                print(json.dumps(d, ensure_ascii=False))
            else:
                extra = {k: v for k, v in ev.payload.items() if k not in ("ticket_id",)}
                print(
                    f"{ev.seq:>7} {d['at']} {ev.type:<20} {ev.code or '':<6} {json.dumps(extra, ensure_ascii=False)}"
                )
            shown += 1
        since = batch[-1].seq
    return EXIT_OK


def cmd_init(args: argparse.Namespace) -> int:
    """Create the queue database (or say it exists); nothing else makes one by accident."""
    cfg = load(args.config)
    spec = store_spec(args, cfg)
    try:
        existing = open_store(spec)
    except StoreError:
        existing = None
    if existing is not None:
        version = existing.schema_version
        existing.close()
        emit(
            args,
            {"store": spec_name(spec), "created": False, "schema": version},
            f"{spec_name(spec)} exists already (schema {version}); nothing was changed",
        )
        return EXIT_OK
    store = open_store(spec, create=True)
    version = store.schema_version
    store.close()
    emit(
        args,
        {"store": spec_name(spec), "created": True, "schema": version},
        f"created the queue database {spec_name(spec)} (schema {version})",
    )
    return EXIT_OK


def spec_name(spec: str) -> str:
    return redact(spec)


def cmd_check_config(args: argparse.Namespace) -> int:
    from kiosk.office.procedures import load_guide

    cfg = load(args.path or args.config)
    guide = load_guide(cfg)  # ConfigError names the guide file's problems too
    more = "" if guide is None else f"; guide {guide.source}: {len(guide)} procedures"
    print(f"OK {cfg.source}: {cfg.summary()}{more}")
    return EXIT_OK


def register(sub: Any) -> None:
    """Add the queue commands to ``sub`` (the ``kiosk`` subparsers)."""

    def add(
        name: str, fn: Callable[[argparse.Namespace], int], help: str, json_output: bool = True
    ) -> argparse.ArgumentParser:
        sp = sub.add_parser(name, help=help, description=help)
        common(sp, json_output)
        sp.set_defaults(func=fn)
        return sp

    sp = add("issue", cmd_issue, "issue a ticket for a service")
    sp.add_argument("service", help="service id, e.g. hotich")
    sp.add_argument(
        "--priority",
        action="store_true",
        help="priority ticket (elderly, disabled, pregnant, người có công)",
    )
    sp = add("call", cmd_call, "finish the counter's current citizen and call the next")
    sp.add_argument("counter", help="counter number")
    sp.add_argument("--code", metavar="CODE", help="call this waiting ticket instead, e.g. A012")
    sp = add("hold", cmd_hold, "park the current ticket (the citizen steps away)")
    sp.add_argument("counter", help="counter number")
    sp = add("return", cmd_return, "put the ticket this counter holds back first in its queue")
    sp.add_argument("counter", help="counter number")
    sp.add_argument("--code", metavar="CODE", help="which held ticket (default: the last held)")
    sp = add("restore", cmd_restore, "a skipped ticket of today waits again, first in its queue")
    sp.add_argument("counter", help="counter number")
    sp.add_argument("code", help="ticket code, e.g. A012")
    for name, fn, help in (
        ("recall", cmd_recall, "call the counter's current ticket again"),
        ("skip", cmd_skip, "mark the current ticket as a no-show and call the next"),
        ("finish", cmd_finish, "finish the counter's current citizen without calling another"),
    ):
        add(name, fn, help).add_argument("counter", help="counter number")
    sp = add(
        "transfer", cmd_transfer, "move the counter's current ticket to another service's queue"
    )
    sp.add_argument("counter", help="counter number")
    sp.add_argument("service", help="service id to move the ticket to")
    sp = add(
        "rate",
        cmd_rate,
        "record satisfaction for the counter's citizen (3 very satisfied, 2 satisfied, 1 not satisfied)",
    )
    sp.add_argument("counter", help="counter number")
    sp.add_argument("score", type=int, help="1–3, or 1–5 with [rating] scale = 5")
    sp.add_argument("--reason", default="", help="one of [rating] reasons (a low score)")
    add("close-day", cmd_close_day, "expire every ticket still waiting today")
    sp = add("prune", cmd_prune, "forget tickets and events older than [storage] retention_days")
    sp.add_argument(
        "--protect",
        action="append",
        default=[],
        metavar="CURSOR",
        help="a consumer cursor whose unsent events must be kept even if it never ran (e.g. uplink)",
    )
    add("status", cmd_status, "show counters and waiting queues")
    sp = add("events", cmd_events, "print the event log")
    sp.add_argument(
        "--since", type=int, default=0, metavar="SEQ", help="only events after this sequence number"
    )
    sp.add_argument("--limit", type=int, default=None, metavar="N", help="print at most N events")
    add("init", cmd_init, "create the queue database named by --db or [storage]")
    sp = add("check-config", cmd_check_config, "validate a site file", json_output=False)
    sp.add_argument(
        "path", nargs="?", help="site file to check (default: the one the kiosk would use)"
    )
