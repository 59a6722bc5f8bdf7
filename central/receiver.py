"""Reference receiver: takes kiosk uplink batches and heartbeats, dedupes, stores.

Deprecated: ``central-server run`` (central/app.py, PostgreSQL) replaces it.
A province could still run it as is (``central-server receive --listen 0.0.0.0:8443 --cert … --key …``,
or the older ``kiosk receiver`` with the same options)
or treat it as the executable form of the contract in docs/uplink.md: events are
kept once per (site, seq) in a SQLite file, so a batch sent twice (its reply was
lost) changes nothing; the reply's ``last_seq`` is what the kiosk moves its cursor to.

Standard library only (``http.server``), so it runs on any machine with Python 3.11.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sqlite3
import ssl
import threading
import time
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from central import contract
from central.contract import MAX_BODY, SITE_RE, BadRequest

log = logging.getLogger(__name__)

ANY_SITE = "*"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    site TEXT NOT NULL, seq INTEGER NOT NULL, type TEXT NOT NULL, at TEXT NOT NULL,
    day TEXT, code TEXT, body TEXT NOT NULL, received_at REAL NOT NULL,
    PRIMARY KEY (site, seq)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS heartbeats (
    site TEXT PRIMARY KEY, received_at REAL NOT NULL, body TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS reports (
    site TEXT NOT NULL, day TEXT NOT NULL, received_at REAL NOT NULL, body TEXT NOT NULL,
    PRIMARY KEY (site, day)
);
CREATE TABLE IF NOT EXISTS conflicts (
    site TEXT NOT NULL, seq INTEGER NOT NULL, at TEXT NOT NULL, body TEXT NOT NULL,
    received_at REAL NOT NULL, PRIMARY KEY (site, seq, at)
);
CREATE TABLE IF NOT EXISTS batches (
    site TEXT NOT NULL, received_at REAL NOT NULL, first_seq INTEGER, last_seq INTEGER,
    stored INTEGER NOT NULL, duplicates INTEGER NOT NULL
);
"""


class SetupError(Exception):
    """Unusable receiver options (listen address, tokens, certificate); the message says what to fix."""


class ReceiverDB:
    """The receiver's SQLite file: events once per (site, seq), latest heartbeat per site."""

    def __init__(self, path: str | Path):
        self.path = str(path)
        self.conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=FULL")
        self.conn.executescript(_SCHEMA)
        self.lock = threading.Lock()

    def close(self) -> None:
        with self.lock:
            self.conn.close()

    def add_events(self, site: str, events: list[dict[str, Any]]) -> tuple[int, int, int]:
        """Store a batch in one transaction; returns (newly stored, duplicates, conflicts).

        A duplicate is a seq already held with the same ``type`` and ``at`` (a resend).
        A *conflict* is a seq already held by a different event: a kiosk whose database
        was restored from a backup numbers new events again from the backup's last seq.
        Conflicting events are kept aside in ``conflicts`` (never dropped silently) and
        counted in the reply and in /sites for someone to reconcile.
        """
        now = time.time()
        stored = conflicts = 0
        with self.lock:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                for e in events:
                    body = json.dumps(e, ensure_ascii=False, separators=(",", ":"))
                    cur = self.conn.execute(
                        "INSERT OR IGNORE INTO events(site, seq, type, at, day, code, body, received_at) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        (
                            site,
                            e["seq"],
                            e["type"],
                            e["at"],
                            e.get("day"),
                            e.get("code"),
                            body,
                            now,
                        ),
                    )
                    if cur.rowcount:
                        stored += 1
                        continue
                    held = self.conn.execute(
                        "SELECT type, at FROM events WHERE site = ? AND seq = ?", (site, e["seq"])
                    ).fetchone()
                    if tuple(held) != (e["type"], e["at"]):
                        conflicts += self.conn.execute(
                            "INSERT OR IGNORE INTO conflicts(site, seq, at, body, received_at) "
                            "VALUES (?, ?, ?, ?, ?)",
                            (site, e["seq"], e["at"], body, now),
                        ).rowcount
                self.conn.execute(
                    "INSERT INTO batches VALUES (?, ?, ?, ?, ?, ?)",
                    (site, now, events[0]["seq"], events[-1]["seq"], stored, len(events) - stored),
                )
                self.conn.execute("COMMIT")
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
        return stored, len(events) - stored, conflicts

    def set_heartbeat(self, site: str, doc: dict[str, Any]) -> None:
        with self.lock:
            self.conn.execute(
                "INSERT INTO heartbeats(site, received_at, body) VALUES (?, ?, ?) "
                "ON CONFLICT(site) DO UPDATE SET received_at = excluded.received_at, body = excluded.body",
                (site, time.time(), json.dumps(doc, ensure_ascii=False)),
            )

    def set_report(self, site: str, day: str, report: dict[str, Any]) -> None:
        """Keep the latest daily report a site sent for a day (a resend replaces it)."""
        with self.lock:
            self.conn.execute(
                "INSERT INTO reports(site, day, received_at, body) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(site, day) DO UPDATE SET received_at = excluded.received_at, "
                "body = excluded.body",
                (site, day, time.time(), json.dumps(report, ensure_ascii=False)),
            )

    def reports(self, site: str, first: str = "", last: str = "9999") -> list[dict[str, Any]]:
        with self.lock:
            rows = self.conn.execute(
                "SELECT day, body FROM reports WHERE site = ? AND day BETWEEN ? AND ? ORDER BY day",
                (site, first, last),
            ).fetchall()
        return [{"day": d, "report": json.loads(b)} for d, b in rows]

    def events(self, site: str, after: int = 0, limit: int = 1000) -> list[dict[str, Any]]:
        with self.lock:
            rows = self.conn.execute(
                "SELECT body FROM events WHERE site = ? AND seq > ? ORDER BY seq LIMIT ?",
                (site, after, limit),
            ).fetchall()
        return [json.loads(r[0]) for r in rows]

    def seqs(self, site: str) -> list[int]:
        with self.lock:
            return [
                r[0]
                for r in self.conn.execute(
                    "SELECT seq FROM events WHERE site = ? ORDER BY seq", (site,)
                )
            ]

    def heartbeat(self, site: str) -> dict[str, Any] | None:
        with self.lock:
            row = self.conn.execute(
                "SELECT received_at, body FROM heartbeats WHERE site = ?", (site,)
            ).fetchone()
        return {"received_at": row[0], **json.loads(row[1])} if row else None

    def sites(self) -> list[dict[str, Any]]:
        """One line per site: events held, last seq, gaps, last heartbeat."""
        with self.lock:
            rows = self.conn.execute(
                "SELECT site, COUNT(*), MIN(seq), MAX(seq), MAX(received_at) FROM events GROUP BY site"
            ).fetchall()
            hb = dict(self.conn.execute("SELECT site, received_at FROM heartbeats").fetchall())
            clash = dict(
                self.conn.execute("SELECT site, COUNT(*) FROM conflicts GROUP BY site").fetchall()
            )
        out = []
        for site, n, lo, hi, last in rows:
            out.append(
                {
                    "site": site,
                    "events": n,
                    "first_seq": lo,
                    "last_seq": hi,
                    # Seqs are consecutive on the kiosk; a hole means events still on their way.
                    "missing": hi - lo + 1 - n,
                    # Different events under seqs already held (a restored kiosk database).
                    "conflicts": clash.get(site, 0),
                    "last_event_received_at": last,
                    "heartbeat_received_at": hb.pop(site, None),
                }
            )
        for site, at in hb.items():
            out.append({"site": site, "events": 0, "heartbeat_received_at": at})
        return sorted(out, key=lambda d: d["site"])


class Receiver:
    """The contract of docs/uplink.md as one function of a request; HTTP-server agnostic."""

    def __init__(self, db: ReceiverDB, tokens: Mapping[str, str]):
        #: token -> the site it may speak for ("*" = any site).
        self.db = db
        self.tokens = dict(tokens)

    def handle(
        self, method: str, target: str, headers: Mapping[str, str], body: bytes
    ) -> tuple[int, dict[str, Any]]:
        """(status, JSON reply) for one request; never raises for bad input."""
        try:
            return self._handle(method, target, headers, body)
        except BadRequest as e:
            return e.status, {"ok": False, "error": str(e)}

    def _auth(self, headers: Mapping[str, str]) -> str:
        value = ""
        for k, v in headers.items():
            if k.lower() == "authorization":
                value = v
        if not value.startswith("Bearer ") or value[7:].strip() not in self.tokens:
            raise BadRequest(401, "missing or unknown bearer token")
        return self.tokens[value[7:].strip()]

    def _handle(
        self, method: str, target: str, headers: Mapping[str, str], body: bytes
    ) -> tuple[int, dict[str, Any]]:
        url = urlsplit(target)
        path = url.path.rstrip("/")
        routes = {
            "/events": ("POST", "GET"),
            "/heartbeat": ("POST",),
            "/report": ("POST",),
            "/reports": ("GET",),
            "/sites": ("GET",),
        }
        ending = next((r for r in routes if path.endswith(r)), None)
        if ending is None:
            raise BadRequest(
                404, f"no such endpoint {url.path}; use /events, /heartbeat, /report or /sites"
            )
        if method not in routes[ending]:
            raise BadRequest(405, f"{method} is not allowed on {ending}")
        allowed = self._auth(headers)
        if method == "GET":
            q = parse_qs(url.query)
            if ending == "/sites":
                sites = self.db.sites()
                if allowed != ANY_SITE:
                    sites = [s for s in sites if s["site"] == allowed]
                return 200, {"ok": True, "sites": sites}
            site = q.get("site", [""])[0]
            self._check_site(site, allowed)
            if ending == "/reports":
                first, last = q.get("from", [""])[0], q.get("to", ["9999"])[0]
                return 200, {
                    "ok": True,
                    "site": site,
                    "reports": self.db.reports(site, first, last),
                }
            try:
                after = int(q.get("after", ["0"])[0])
                limit = min(10000, int(q.get("limit", ["1000"])[0]))
            except ValueError:
                raise BadRequest(400, "after and limit must be whole numbers") from None
            return 200, {"ok": True, "site": site, "events": self.db.events(site, after, limit)}
        doc = contract.document(body)
        site = str(doc["site"])
        self._check_site(site, allowed)
        if ending == "/heartbeat":
            self.db.set_heartbeat(site, doc)
            return 200, {"ok": True, "site": site}
        if ending == "/report":
            day, report = contract.report(doc)
            self.db.set_report(site, day, report)
            return 200, {"ok": True, "site": site, "day": day}
        events = contract.events(doc)
        stored, dup, conflicts = self.db.add_events(site, events)
        return 200, {
            "ok": True,
            "site": site,
            "received": len(events),
            "stored": stored,
            "duplicates": dup,
            "conflicts": conflicts,
            "last_seq": events[-1]["seq"],
        }

    def _check_site(self, site: str, allowed: str) -> None:
        if allowed not in (ANY_SITE, site):
            raise BadRequest(403, f"this token is for site {allowed!r}, not {site!r}")


class _Handler(BaseHTTPRequestHandler):
    receiver: Receiver
    server_version = "kiosk-receiver/1"

    def _serve(self) -> None:
        length = self.headers.get("Content-Length")
        body = b""
        if length:
            try:
                n = int(length)
            except ValueError:
                return self._send(400, {"ok": False, "error": "bad Content-Length"})
            if n > MAX_BODY:
                return self._send(413, {"ok": False, "error": f"body over {MAX_BODY} bytes"})
            body = self.rfile.read(n)
        status, doc = self.receiver.handle(self.command, self.path, dict(self.headers), body)
        self._send(status, doc)

    def _send(self, status: int, doc: dict[str, Any]) -> None:
        data = json.dumps(doc, ensure_ascii=False).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = _serve

    def log_message(self, format: str, *args: Any) -> None:
        log.info("%s %s", self.address_string(), format % args)


class _Server(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        # A kiosk that lost power mid-request is routine, not a traceback on the console.
        log.info("connection from %s ended abruptly", client_address[0])


def make_server(
    host: str,
    port: int,
    receiver: Receiver,
    certfile: str | None = None,
    keyfile: str | None = None,
) -> ThreadingHTTPServer:
    """A threaded HTTP(S) server bound to (host, port); call ``serve_forever()``."""
    handler = type("Handler", (_Handler,), {"receiver": receiver})
    server = _Server((host, port), handler)
    server.daemon_threads = True
    if certfile:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(certfile, keyfile)
        server.socket = ctx.wrap_socket(server.socket, server_side=True)
    return server


def read_tokens(args: argparse.Namespace) -> dict[str, str]:
    tokens = {t: ANY_SITE for t in args.token}
    if args.tokens_file:
        for n, line in enumerate(Path(args.tokens_file).read_text("utf-8").splitlines(), 1):
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            parts = line.split()
            if len(parts) != 2 or not (SITE_RE.match(parts[0]) or parts[0] == ANY_SITE):
                raise SetupError(
                    f"{args.tokens_file}:{n}: expected 'SITE TOKEN' (or '* TOKEN' for every site)"
                )
            tokens[parts[1]] = parts[0]
    return tokens


def run(args: argparse.Namespace) -> int:
    """Serve until Ctrl+C with the options of :func:`central.cli.add_receive_arguments`.

    Raises :class:`SetupError` for options it cannot use, before anything is served.
    """
    host, _, port = args.listen.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise SetupError(
            f'--listen "{args.listen}" must look like 127.0.0.1:8787 (a port from 1 to 65535)'
        )
    if bool(args.cert) != bool(args.key):
        raise SetupError("give both --cert and --key for HTTPS (or neither for plain HTTP)")
    for flag, path in (("--cert", args.cert), ("--key", args.key)):
        if path and not os.path.isfile(path):
            raise SetupError(f"{flag} {path}: no such file; give the PEM file's path")
    try:
        tokens = read_tokens(args)
    except OSError as e:
        raise SetupError(f"cannot read {args.tokens_file}: {e.strerror}") from None
    if not tokens:
        raise SetupError("give at least one --token (or --tokens-file) the kiosks will send")
    db = ReceiverDB(args.db)
    try:
        server = make_server(host.strip("[]"), int(port), Receiver(db, tokens), args.cert, args.key)
    except OSError as e:
        raise SetupError(f"cannot listen on {args.listen}: {e.strerror}") from None
    except ssl.SSLError as e:
        raise SetupError(f"cannot load --cert/--key: {e}") from None
    scheme = "https" if args.cert else "http"
    print(f"receiving on {scheme}://{args.listen} into {args.db} (Ctrl+C stops)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        db.close()
    return 0
