"""A real ``kiosk web`` (uvicorn) on 127.0.0.1 over a temporary store, with two clerks."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from kiosk.core import staff
from kiosk.core.config import Config, load
from kiosk.core.pgstore import PgStore
from kiosk.core.queue import Queue
from kiosk.core.store import Store
from tests.conftest import EXAMPLE, ROOT

PINS = {"lan": "2468", "minh": "1357"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    url: str
    db: Any  # the SQLite file, or a postgresql:// URL
    cfg: Config
    proc: subprocess.Popen[bytes]

    def queue(self) -> Queue:
        if str(self.db).startswith("postgresql://"):
            return Queue(self.cfg, PgStore(self.db))
        return Queue(self.cfg, Store(self.db))

    def client(self, user: str | None = None) -> httpx.Client:
        c = httpx.Client(base_url=self.url, timeout=10)
        if user:
            r = httpx.post(self.url + "/api/login", json={"user": user, "pin": PINS[user]})
            assert r.status_code == 200, r.text
            c.cookies.set("kiosk_session", r.cookies["kiosk_session"])
        return c


def start_server(tmp: Path, config: Path = EXAMPLE, url: str | None = None) -> Server:
    """``kiosk web`` on a new SQLite store in ``tmp``, or on the PostgreSQL database ``url``."""
    db: Any = url or tmp / "queue.db"
    cfg = load(config)
    if url or not db.exists():
        store: Any = PgStore(url) if url else Store(db)
        staff.add(cfg, store, "lan", PINS["lan"], [1, 2])
        staff.add(cfg, store, "minh", PINS["minh"], [3])
        store.close()
    for attempt in range(3):
        try:
            return _start(db, cfg, config)
        except PortTaken:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


class PortTaken(Exception):
    pass


def _start(db: Any, cfg: Config, config: Path) -> Server:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "kiosk.cli", "web", "--db", str(db), "--config", str(config)]
        + ["--listen", f"127.0.0.1:{port}"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(url + "/api/status", timeout=2).status_code == 200:
                break
        except httpx.TransportError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            err = proc.stderr.read().decode() if proc.stderr else ""
            if "already in use" in err:
                raise PortTaken(err)  # another program took the free port first
            raise AssertionError(f"kiosk web did not start: {err}")
        time.sleep(0.1)
    return Server(url, db, cfg, proc)


def stop_server(s: Server) -> None:
    s.proc.terminate()
    try:
        s.proc.wait(10)
    except subprocess.TimeoutExpired:
        s.proc.kill()
        s.proc.wait()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    s = start_server(tmp_path)
    yield s
    stop_server(s)
