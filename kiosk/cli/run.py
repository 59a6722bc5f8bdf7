"""``kiosk run``: the entrance kiosk process (touchscreen, inputs and consumers).

The wiring is :func:`kiosk.ui.run.run_kiosk`; pygame and the consumers load only
when this command runs.
"""

from __future__ import annotations

import argparse
from typing import Any

from kiosk.cli.common import UsageError, common, open_queue


def cmd_run(args: argparse.Namespace) -> int:
    from kiosk.compose import Overrides
    from kiosk.ui.app import parse_size
    from kiosk.ui.run import run_kiosk

    try:
        size = parse_size(args.size) if args.size else None
    except ValueError as e:
        raise UsageError(str(e)) from None
    q = open_queue(args, create=True)  # the kiosk itself starts a new office's store
    try:
        return run_kiosk(
            q.cfg,
            q,
            size=size,
            fullscreen=False if args.windowed else None,
            staff_keys=True if args.staff_keys else None,
            gpio=False if args.no_gpio else None,
            overrides=Overrides(printer_uri=args.printer, display_port=args.display_port),
        )
    finally:
        q.store.close()


def register(sub: Any) -> None:
    help = "run the entrance kiosk: touchscreen, buttons, printer and hall-display link"
    sp = sub.add_parser("run", help=help, description=help)
    common(sp, json_output=False)
    sp.add_argument("--windowed", action="store_true", help="a window instead of the whole screen")
    sp.add_argument("--size", metavar="WxH", help="window size, e.g. 1024x600 (default: [ui])")
    sp.add_argument(
        "--staff-keys",
        action="store_true",
        help="keyboard keys for counter buttons (F1–F12, N, R, S, T)",
    )
    sp.add_argument("--no-gpio", action="store_true", help="do not read GPIO buttons")
    sp.add_argument("--printer", metavar="URI", help="printer URI instead of [printer] uri")
    sp.add_argument(
        "--display-port", metavar="PORT", help="hall-display port instead of [display] port"
    )
    sp.set_defaults(func=cmd_run)
