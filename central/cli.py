"""``central-server``: the province's central server and its site and user commands.

    central-server run --listen 0.0.0.0:8443 --db postgresql:///central --cert C --key K
    central-server migrate --db …
    central-server site add nghia-tan --name "UBND phường Nghĩa Tân"   (prints the token once)
    central-server site list | revoke SITE | rotate SITE
    central-server user add NAME | list | remove NAME                 (dashboard logins)
    central-server receive --listen 127.0.0.1:8787 --db receiver.db --token T
                          (the reference receiver: SQLite, standard library; the same as
                           ``kiosk receiver``)

``--db`` is a libpq connection string or URL; without it, libpq's own variables are
used (``PGHOST``, ``PGSERVICE`` with ``~/.pg_service.conf``, ``PGPASSFILE``), so no
password needs to be on the command line. Exit codes: 0 done, 1 refused or the
database unreachable, 2 bad input.
"""

from __future__ import annotations

import argparse
import getpass
import logging
import os
import sys
from collections.abc import Sequence
from typing import Any

EXIT_OK, EXIT_REFUSED, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """Bad command-line input (exit 2)."""


def _db(args: argparse.Namespace, migrate: bool = False) -> Any:
    from central.db import CentralDB

    db = CentralDB(args.db if args.db is not None else os.environ.get("CENTRAL_DB", ""), tz=args.tz)
    db.open()
    if migrate:
        for name in db.migrate():
            print(f"applied migration {name}", file=sys.stderr)
    else:
        from central.db import latest_version

        have = db.schema_version()
        if have < latest_version():
            db.close()
            raise UsageError(
                f"the database is at schema {have}, this program needs {latest_version()}: "
                "run `central-server migrate` first"
            )
    return db


def _site_id(value: str) -> str:
    from central.contract import SITE_RE

    if not SITE_RE.match(value):
        raise UsageError(
            f"site id {value!r} must be 1-64 letters, digits, - or _ (the kiosk's [site] id)"
        )
    return value


def cmd_run(args: argparse.Namespace) -> int:
    import uvicorn

    from central.app import Settings, create_app

    host, _, port = args.listen.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise UsageError(f'--listen "{args.listen}" must look like 0.0.0.0:8443 (port 1-65535)')
    if bool(args.cert) != bool(args.key):
        raise UsageError("give both --cert and --key for HTTPS (or neither for plain HTTP)")
    for f in (args.cert, args.key):
        if f and not os.path.isfile(f):
            raise UsageError(f"cannot read {f}: no such file")
    db = _db(args, migrate=True)
    app = create_app(db, Settings(tz=args.tz, rate=args.rate, burst=args.burst))
    scheme = "https" if args.cert else "http"
    print(f"central server on {scheme}://{args.listen} (Ctrl+C stops)", flush=True)
    try:
        uvicorn.run(
            app,
            host=host.strip("[]"),
            port=int(port),
            ssl_certfile=args.cert,
            ssl_keyfile=args.key,
            proxy_headers=bool(args.forwarded_allow_ips),
            forwarded_allow_ips=args.forwarded_allow_ips or None,
            log_level="warning",
            access_log=False,
        )
    finally:
        db.close()
    return EXIT_OK


def cmd_receive(args: argparse.Namespace) -> int:
    from central.receiver import SetupError, run

    try:
        return run(args)
    except SetupError as e:
        raise UsageError(str(e)) from None


def cmd_migrate(args: argparse.Namespace) -> int:
    db = _db(args, migrate=True)
    print(f"schema {db.schema_version()}")
    db.close()
    return EXIT_OK


def cmd_site(args: argparse.Namespace) -> int:
    db = _db(args)
    try:
        if args.action == "list":
            for s in db.sites():
                state = f"revoked {s.revoked_at:%Y-%m-%d}" if s.revoked_at else "active"
                print(f"{s.id:<24} {state:<18} {s.name}")
            return EXIT_OK
        if not args.site:
            raise UsageError(f"site {args.action} needs the site id")
        site = _site_id(args.site)
        if args.action == "add":
            if not args.name or not args.name.strip():
                raise UsageError('site add needs --name "the office\'s name", e.g. "UBND phường …"')
            token = db.add_site(site, args.name.strip())
        elif args.action == "rotate":
            token = db.rotate_site(site)
        else:
            db.revoke_site(site)
            print(f"site {site} revoked: its token no longer works")
            return EXIT_OK
        print(f"site {site}: token (shown once, put it in the kiosk's [uplink] token):")
        print(token)
        return EXIT_OK
    finally:
        db.close()


def _read_password(user: str) -> str:
    if sys.stdin.isatty():
        pw = getpass.getpass(f"password for {user}: ")
        if getpass.getpass("again: ") != pw:
            raise UsageError("the two passwords differ; nothing was changed")
    else:
        pw = sys.stdin.readline().rstrip("\r\n")
    if len(pw) < 10:
        raise UsageError("the password must have at least 10 characters; nothing was changed")
    return pw


def cmd_user(args: argparse.Namespace) -> int:
    db = _db(args)
    try:
        if args.action == "list":
            for name in db.users():
                print(name)
            return EXIT_OK
        if not args.name:
            raise UsageError(f"user {args.action} needs the user's name")
        if args.action == "add":
            new = db.set_user(args.name, _read_password(args.name))
            print(f"user {args.name} {'added' if new else 'password changed'}")
        elif not db.remove_user(args.name):
            print(f"central-server: no user {args.name}", file=sys.stderr)
            return EXIT_REFUSED
        else:
            print(f"user {args.name} removed")
        return EXIT_OK
    finally:
        db.close()


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="central-server",
        description="The province's central server: every office's uplink, a dashboard, metrics.",
    )
    p.add_argument("--debug", action="store_true", help="show tracebacks and debug logs")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    def add(name: str, fn: Any, help: str) -> argparse.ArgumentParser:
        sp = sub.add_parser(name, help=help, description=help)
        sp.add_argument(
            "--db",
            metavar="URL",
            help="PostgreSQL connection (libpq URL or 'service=NAME'; default $CENTRAL_DB, "
            "then libpq's PG* variables)",
        )
        sp.add_argument(
            "--tz", default="Asia/Ho_Chi_Minh", help="time zone of the offices' business days"
        )
        sp.set_defaults(func=fn)
        return sp

    sp = add("run", cmd_run, "serve the uplink API, the dashboard and /metrics")
    sp.add_argument("--listen", default="127.0.0.1:8443", metavar="HOST:PORT")
    sp.add_argument("--cert", metavar="PEM", help="TLS certificate chain (serve HTTPS)")
    sp.add_argument("--key", metavar="PEM", help="TLS private key")
    sp.add_argument("--rate", type=float, default=5.0, help="requests per second per site")
    sp.add_argument("--burst", type=int, default=30, help="requests a site may make at once")
    sp.add_argument(
        "--forwarded-allow-ips",
        default="127.0.0.1",
        metavar="IPS",
        help="comma-separated addresses of the reverse proxy whose X-Forwarded-For/-Proto "
        "headers are believed (default 127.0.0.1; '' believes none; '*' any: never on a "
        "public address)",
    )
    add("migrate", cmd_migrate, "create or upgrade the database schema")
    sp = add("site", cmd_site, "register offices and their tokens")
    sp.add_argument("action", choices=("add", "list", "revoke", "rotate"))
    sp.add_argument("site", nargs="?", help="the office's [site] id")
    sp.add_argument("--name", help="the office's name (site add)")
    sp = add("user", cmd_user, "people who may read the dashboard and /metrics")
    sp.add_argument("action", choices=("add", "list", "remove"))
    sp.add_argument("name", nargs="?", help="user name")
    from central.receiver_options import add_receive_arguments

    help = (
        "deprecated reference receiver (SQLite; stores kiosk uplink batches);"
        " use `central-server run` instead"
    )
    sp = sub.add_parser("receive", help=help, description=help)
    add_receive_arguments(sp)
    sp.set_defaults(func=cmd_receive)
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
    from central.db import DatabaseError, SiteError

    try:
        return int(args.func(args) or 0)
    except UsageError as e:
        print(f"central-server: {e}", file=sys.stderr)
        return EXIT_USAGE
    except (DatabaseError, SiteError) as e:
        print(f"central-server: {e}", file=sys.stderr)
        return EXIT_REFUSED
    except KeyboardInterrupt:
        return 130
    except Exception as e:
        if args.debug:
            raise
        print(
            f"central-server: internal error: {type(e).__name__}: {e} (run again with --debug)",
            file=sys.stderr,
        )
        return 70


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
