"""Staff accounts: ``kiosk staff add USER --counter N``, ``kiosk staff list``,
``kiosk staff remove USER``.

The PIN is read from the terminal (typed twice, not shown) or, when stdin is not a
terminal, from its first line (``echo 1234 | kiosk staff add lan --counter 1``), never
from the command line where ``ps`` and the shell history would keep it.
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from typing import Any

from kiosk.cli.common import EXIT_OK, UsageError, common, emit, open_queue


def _read_pin(user: str) -> str:
    if sys.stdin is not None and sys.stdin.isatty():
        import getpass

        pin = getpass.getpass(f"PIN / mật khẩu cho {user}: ")
        again = getpass.getpass("Nhập lại / again: ")
        if pin != again:
            raise UsageError("the two PINs differ; nothing was changed")
        return pin
    line = sys.stdin.readline() if sys.stdin is not None else ""
    pin = line.rstrip("\r\n")
    if not pin:
        raise UsageError(
            "no PIN given; type it when asked, or pipe it on stdin "
            "(echo PIN | kiosk staff add USER --counter N)"
        )
    return pin


def cmd_add(args: argparse.Namespace) -> int:
    from kiosk.core import staff

    q = open_queue(args)
    try:
        staff.check_user(args.user)
        pin = _read_pin(args.user)
        acc = staff.add(q.cfg, q.store, args.user, pin, args.counter)
    except staff.StaffError as e:
        raise UsageError(str(e)) from None
    counters = ", ".join(str(c) for c in acc.counters)
    emit(
        args,
        {"user": acc.user, "counters": list(acc.counters)},
        f"{acc.user}: may act at counter(s) {counters}",
    )
    return EXIT_OK


def cmd_list(args: argparse.Namespace) -> int:
    from kiosk.core import staff

    q = open_queue(args)
    accs = staff.accounts(q.store)
    rows = [
        f"{a.user:<24} counters {', '.join(str(c) for c in a.counters):<12} "
        f"since {datetime.fromtimestamp(a.created_at, q.cfg.tz):%Y-%m-%d}"
        for a in accs
    ]
    emit(
        args,
        [{"user": a.user, "counters": list(a.counters)} for a in accs],
        "\n".join(rows)
        if rows
        else "no staff accounts yet; add one: kiosk staff add USER --counter N",
    )
    return EXIT_OK


def cmd_remove(args: argparse.Namespace) -> int:
    from kiosk.core import staff

    q = open_queue(args)
    try:
        staff.remove(q.store, args.user)
    except staff.StaffError as e:
        raise UsageError(str(e)) from None
    emit(args, {"user": args.user, "removed": True}, f"{args.user}: removed")
    return EXIT_OK


def register(sub: Any) -> None:
    p = sub.add_parser(
        "staff",
        help="staff accounts for the web panel (add, list, remove)",
        description="Staff accounts for kiosk web: each may act only at its counters.",
    )
    ssub = p.add_subparsers(dest="staff_command", metavar="ACTION", required=True)
    sp = ssub.add_parser("add", help="add an account or change its PIN and counters")
    common(sp)
    sp.add_argument("user", help="user name, e.g. lan.nguyen")
    sp.add_argument(
        "--counter",
        type=int,
        action="append",
        required=True,
        metavar="N",
        help="a counter this person may act at (repeat for several)",
    )
    sp.set_defaults(func=cmd_add)
    sp = ssub.add_parser("list", help="list the accounts and their counters")
    common(sp)
    sp.set_defaults(func=cmd_list)
    sp = ssub.add_parser("remove", help="remove an account (its sessions end at once)")
    common(sp)
    sp.add_argument("user")
    sp.set_defaults(func=cmd_remove)
