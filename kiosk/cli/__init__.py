"""The ``kiosk`` command: staff and technician operations on the configured store.

Every command takes ``--config`` and ``--db``; data commands take ``--json``.
Exit codes: 0 done, 1 refused in the current state (e.g. nothing to recall),
2 bad input (unknown service or counter, invalid site file), 70 internal error.
Users never see a traceback unless they pass ``--debug``.

One module per command group adds its commands with ``register(subparsers)``
(:data:`GROUPS`). Building the parser imports only those light modules; each
command imports the printer, screen, network or metrics code it needs inside its
handler, so ``kiosk call 3`` loads the core and nothing else
(tests/kiosk/cli/test_startup.py, bench/bench_cli.py).
"""

from __future__ import annotations

import argparse
import logging
import sys
import traceback
from collections.abc import Sequence

from kiosk import __version__
from kiosk.cli import (
    doctor,
    office,
    printing,
    queue_cmds,
    receiver,
    run,
    sim,
    staff,
    time_cmds,
    web,
)
from kiosk.cli.common import (
    EXIT_INTERNAL,
    EXIT_OK,
    EXIT_REFUSED,
    EXIT_USAGE,
    UsageError,
    common,
    emit,
    open_queue,
)
from kiosk.core.config import ConfigError
from kiosk.core.queue import QueueError, UnknownName
from kiosk.core.store import StoreError

__all__ = [
    "EXIT_INTERNAL",
    "EXIT_OK",
    "EXIT_REFUSED",
    "EXIT_USAGE",
    "UsageError",
    "build_parser",
    "common",
    "emit",
    "main",
    "open_queue",
]

#: The command groups, in the order ``kiosk --help`` lists their commands.
GROUPS = (
    queue_cmds.register,  # issue, call, recall, skip, finish, transfer, rate, close-day, prune, status, events, check-config
    run.register,  # kiosk run (touchscreen)
    receiver.register,  # kiosk receiver: deprecated reference receiver (code in central/)
    office.register,  # kiosk uplink, metrics, checkin, bookings, report
    sim.register,  # kiosk sim (simulator)
    doctor.register,  # kiosk doctor, kiosk backup (deployment)
    printing.register,  # kiosk print, print-test, ticket-preview (printer/)
    staff.register,  # kiosk staff add/list/remove (web accounts)
    web.register,  # kiosk web (staff panel, JSON API, tablets, phone pages, board)
    time_cmds.register,  # kiosk time set (a technician sets the clock)
)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="kiosk", description="Queue-ticket kiosk: issue, call and report on tickets."
    )
    p.add_argument("--version", action="version", version=f"kiosk {__version__}")
    p.add_argument("--debug", action="store_true", help="show tracebacks and debug logs")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    for register in GROUPS:
        register(sub)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.debug else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_USAGE
    try:
        return int(args.func(args) or 0)
    except ConfigError as e:
        for line in e.problems:
            print(line, file=sys.stderr)
        n = len(e.problems)
        print(
            f"{n} problem{'s' if n != 1 else ''} in the site file; nothing was changed.",
            file=sys.stderr,
        )
        return EXIT_USAGE
    except (UnknownName, UsageError) as e:
        print(f"kiosk: {e}", file=sys.stderr)
        return EXIT_USAGE
    except (QueueError, StoreError) as e:
        print(f"kiosk: {e}", file=sys.stderr)
        return EXIT_REFUSED
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except Exception as e:
        if args.debug:
            traceback.print_exc()
        print(
            f"kiosk: internal error: {type(e).__name__}: {e} (run again with --debug for details)",
            file=sys.stderr,
        )
        return EXIT_INTERNAL


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
