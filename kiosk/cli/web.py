"""``kiosk web``: the office network's server (staff panel, JSON API, counter tablets,
phone ticket pages, public board) on uvicorn. Starlette, uvicorn and Jinja2 are
imported only here, inside the command, so ``kiosk call`` stays fast."""

from __future__ import annotations

import argparse
import re
from typing import Any

from kiosk.cli.common import EXIT_OK, UsageError, common, store_spec


def parse_listen(value: str) -> tuple[str, int]:
    m = re.fullmatch(r"\[?([A-Za-z0-9.:-]+?)\]?:(\d{1,5})", value.strip())
    if not m or not 0 < int(m.group(2)) < 65536:
        raise UsageError(
            f'--listen "{value}" is not an address:port; use e.g. 0.0.0.0:8080 or 127.0.0.1:8080'
        )
    return m.group(1), int(m.group(2))


def cmd_web(args: argparse.Namespace) -> int:
    from kiosk.core.config import load

    cfg = load(args.config)
    host, port = parse_listen(args.listen or str(cfg.web.listen))
    from kiosk.web.server import ListenError, serve

    try:
        serve(cfg, store_spec(args, cfg), host, port)
    except ListenError as e:
        raise UsageError(str(e)) from None
    return EXIT_OK


def register(sub: Any) -> None:
    p = sub.add_parser(
        "web",
        help="serve the staff panel, JSON API, counter tablets, phone ticket pages and board",
        description="Serve the office network pages ([web] in the site file; docs/web-api.md).",
    )
    common(p, json_output=False)
    p.add_argument("--listen", metavar="HOST:PORT", help="address and port (default: [web] listen)")
    p.set_defaults(func=cmd_web)
