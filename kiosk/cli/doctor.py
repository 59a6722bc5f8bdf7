"""Deployment commands: ``kiosk doctor`` (check everything, say what to fix) and ``kiosk backup``.

The checks (:mod:`kiosk.doctor.checks`) and the backup (:mod:`kiosk.office.backup`)
load only when their command runs.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from kiosk.cli.common import UsageError, common, emit
from kiosk.core.config import load
from kiosk.doctor import CHECK_NAMES

NAMES = list(CHECK_NAMES)


def cmd_doctor(args: argparse.Namespace) -> int:
    import socket

    from kiosk.doctor.checks import format_line, run_checks

    results = run_checks(args.config, args.db, args.only)
    failed = [c for c in results if c.failed]
    if args.json:
        print(
            json.dumps(
                {
                    "ok": not failed,
                    "host": socket.gethostname(),
                    "at": time.time(),
                    "checks": [asdict(c) for c in results],
                },
                ensure_ascii=False,
            )
        )
    else:
        for c in results:
            print(format_line(c))
        if failed:
            print(
                f"{len(failed)} problem(s): fix the lines marked FAIL, then run kiosk doctor again."
            )
        else:
            print("All checks passed.")
    return 1 if failed else 0


def register_doctor(sub: Any) -> None:
    sp = sub.add_parser(
        "doctor",
        help="check the site file, store, printer, display link, screen, ... and say what to fix",
        description="Check everything the kiosk needs; exit 0 only when nothing fails.",
    )
    common(sp)
    sp.add_argument(
        "--only",
        action="append",
        choices=NAMES,
        metavar="CHECK",
        help=f"run only this check (repeatable): {', '.join(NAMES)}",
    )
    sp.set_defaults(func=cmd_doctor)


def cmd_backup(args: argparse.Namespace) -> int:
    from kiosk.office.backup import backup

    if args.keep < 1:
        raise UsageError(f"--keep must be 1 or more, not {args.keep}")
    db = Path(args.db) if args.db else Path(load(args.config).storage.path)
    dest = Path(args.dest) if args.dest else db.parent / "backups"
    copy, deleted = backup(db, dest, args.keep)
    emit(
        args,
        {"backup": str(copy), "bytes": copy.stat().st_size, "deleted": [str(p) for p in deleted]},
        f"backed up {db} to {copy} ({copy.stat().st_size // 1024} KiB); "
        f"{len(deleted)} old cop{'y' if len(deleted) == 1 else 'ies'} deleted",
    )
    return 0


def register_backup(sub: Any) -> None:
    sp = sub.add_parser(
        "backup",
        help="copy the queue database safely while the kiosk runs",
        description="Copy the queue database (consistent while the kiosk runs) and keep the newest N copies.",
    )
    common(sp)
    sp.add_argument(
        "--dest", metavar="DIR", help="backup folder (default: backups/ beside the database)"
    )
    sp.add_argument("--keep", type=int, default=14, metavar="N", help="copies to keep (default 14)")
    sp.set_defaults(func=cmd_backup)


def register(sub: Any) -> None:
    """Add ``kiosk doctor`` and ``kiosk backup`` to ``sub`` (the ``kiosk`` subparsers)."""
    register_doctor(sub)
    register_backup(sub)
