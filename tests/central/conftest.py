"""Fixtures for the central server: a real PostgreSQL cluster and a real uvicorn on loopback."""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn

from central.app import Settings, create_app
from central.db import CentralDB


@pytest.fixture
def cdb(db_url: str) -> Iterator[CentralDB]:
    db = CentralDB(db_url, max_size=4, timeout=2.0)
    db.open()
    db.migrate()
    yield db
    db.close()


class Served:
    """A real uvicorn serving an ASGI app on 127.0.0.1 from a thread."""

    def __init__(self, app: Any):
        self.config = uvicorn.Config(
            app,
            host="127.0.0.1",
            port=0,
            log_level="warning",
            lifespan="off",
            timeout_graceful_shutdown=1,
        )
        self.server = uvicorn.Server(self.config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.01)
        sock = self.server.servers[0].sockets[0]
        self.port = sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(5)


@pytest.fixture
def make_server(cdb: CentralDB) -> Iterator[Any]:
    made: list[Served] = []

    def make(**kw: Any) -> Served:
        s = Served(create_app(cdb, Settings(**kw)))
        made.append(s)
        return s

    yield make
    for s in made:
        s.stop()


@pytest.fixture
def server(make_server: Any) -> Served:
    return make_server()


@pytest.fixture
def viewer(cdb: CentralDB) -> dict[str, str]:
    """Authorization header of a dashboard user."""
    cdb.set_user("tinh-it", "mat-khau-dai-du")
    token = base64.b64encode(b"tinh-it:mat-khau-dai-du").decode()
    return {"Authorization": f"Basic {token}"}
