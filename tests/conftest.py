"""Shared fixtures: the example site, a fresh store per test, a clock tests move."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

from kiosk.core.config import Config, load  # noqa: E402
from kiosk.core.queue import Queue  # noqa: E402
from kiosk.core.store import Store  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "config" / "example.toml"


class Clock:
    """A clock tests set and move by hand (seconds since the epoch)."""

    def __init__(self, t: float):
        self.t = t

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds

    def set_local(self, cfg: Config, iso: str) -> None:
        self.t = datetime.fromisoformat(iso).replace(tzinfo=cfg.tz).timestamp()


@pytest.fixture
def cfg() -> Config:
    return load(EXAMPLE)


@pytest.fixture
def clock(cfg: Config) -> Clock:
    c = Clock(0)
    c.set_local(cfg, "2026-11-30T08:00:00")  # a Monday, office open
    return c


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store(tmp_path / "queue.db")
    yield s
    s.close()


@pytest.fixture
def queue(cfg: Config, store: Store, clock: Clock) -> Queue:
    return Queue(cfg, store, clock)


# ------------------------------------------------------------------ PostgreSQL


@pytest.fixture(scope="session")
def pg() -> Iterator[Any]:
    """One real PostgreSQL cluster per test worker (about a second to start; tests/pg.py)."""
    from tests.pg import Cluster

    c = Cluster()
    yield c
    c.destroy()


@pytest.fixture
def db_url(pg: Any) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test."""
    import psycopg

    name = "t_" + uuid.uuid4().hex[:12]
    with psycopg.connect(pg.url, autocommit=True) as c:
        c.execute(f'CREATE DATABASE "{name}"')
    yield pg.url.replace("/test?", f"/{name}?")
    with psycopg.connect(pg.url, autocommit=True) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
