"""``kiosk receiver``: the deprecated reference receiver, kept as a kiosk command.

``central-server run`` (central/app.py, PostgreSQL) replaces it.

The receiver is not kiosk code: it lives in :mod:`central.receiver` (also run as
``central-server receive``, same options). This module is the one place where
``kiosk`` reaches into ``central``: the options (argparse only) to build the parser, the
server code only when the command runs.
"""

from __future__ import annotations

import argparse
from typing import Any

from kiosk.cli.common import UsageError


def cmd_receiver(args: argparse.Namespace) -> int:
    from central.receiver import SetupError, run

    try:
        return run(args)
    except SetupError as e:
        raise UsageError(str(e)) from None


def register(sub: Any) -> None:
    """``kiosk receiver``: run the deprecated reference receiver."""
    from central.receiver_options import add_receive_arguments  # argparse only

    help = (
        "deprecated reference receiver (stores kiosk uplink batches in SQLite);"
        " the province runs `central-server run` instead"
    )
    sp = sub.add_parser("receiver", help=help, description=help)
    add_receive_arguments(sp)
    sp.set_defaults(func=cmd_receiver)
