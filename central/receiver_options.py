"""The reference receiver's command-line options, shared by ``central-server receive`` and
``kiosk receiver``.

argparse only: ``kiosk`` builds its parser from this on every start, so it must not pull
in the receiver's server code (:mod:`central.receiver`) or the central server's.
"""

from __future__ import annotations

import argparse


def add_receive_arguments(sp: argparse.ArgumentParser) -> None:
    """Add ``--listen``, ``--db``, ``--token``, ``--tokens-file``, ``--cert``, ``--key``."""
    sp.add_argument("--listen", default="127.0.0.1:8787", metavar="HOST:PORT")
    sp.add_argument("--db", default="receiver.db", metavar="PATH", help="SQLite file to store into")
    sp.add_argument(
        "--token",
        action="append",
        default=[],
        metavar="TOKEN",
        help="a bearer token accepted for any site (repeatable)",
    )
    sp.add_argument(
        "--tokens-file", metavar="FILE", help="lines 'SITE TOKEN': each token speaks for one site"
    )
    sp.add_argument("--cert", metavar="PEM", help="TLS certificate chain (serve HTTPS)")
    sp.add_argument("--key", metavar="PEM", help="TLS private key")
