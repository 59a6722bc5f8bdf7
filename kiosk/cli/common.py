"""What every ``kiosk`` command shares: the common options, opening the queue, output, exit codes.

Exit codes: 0 done, 1 refused in the current state (e.g. nothing to recall),
2 bad input (unknown service or counter, invalid site file), 70 internal error.
Light on purpose: each command-group module imports this at parser-build time.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from kiosk.core.config import load
from kiosk.core.queue import Queue
from kiosk.core.storage import open_store

EXIT_OK, EXIT_REFUSED, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 70


class UsageError(Exception):
    """Bad command-line input (exit 2)."""


def common(p: argparse.ArgumentParser, json_output: bool = True) -> None:
    p.add_argument(
        "--config",
        metavar="PATH",
        help="site file (default: $KIOSK_CONFIG, /boot/firmware/kiosk.toml, /etc/kiosk/kiosk.toml, the example)",
    )
    p.add_argument(
        "--db", metavar="PATH", help="queue database (default: [storage] path of the site file)"
    )
    if json_output:
        p.add_argument("--json", action="store_true", help="print data as JSON")


def store_spec(args: argparse.Namespace, cfg: Any) -> str:
    """The store this command works on: ``--db``, else ``[storage] url``, else ``path``."""
    if args.db is not None:
        if not args.db.strip():
            raise UsageError(
                "--db is empty; give the queue database's path or postgresql:// URL, "
                "or leave --db out to use the site file's [storage]"
            )
        return str(args.db)
    return str(cfg.storage.url or cfg.storage.path)


def open_queue(args: argparse.Namespace, create: bool = False) -> Queue:
    """The configured queue; only ``create`` (kiosk init, kiosk run) may make a new store."""
    cfg = load(args.config)
    return Queue(cfg, open_store(store_spec(args, cfg), create=create))


def emit(args: argparse.Namespace, data: Any, text: str) -> None:
    if getattr(args, "json", False):
        print(json.dumps(data, ensure_ascii=False))
    else:
        print(text)
