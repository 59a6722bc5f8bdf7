"""Metrics: the Prometheus page on a store with a long history.

The first start folds the whole event log into durable totals (once, in the consumer's
thread); after that a scrape reads only the new events plus a few indexed gauges, so
its cost does not grow with the history. Uses the same cached history store as
bench_core (1,000,000 served tickets, 3,000,000 events; 20,000 with --quick), copied.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

from bench.bench_core import CACHE, _history
from bench.common import Row, percentile
from kiosk.core.config import load
from kiosk.core.store import SCHEMA_VERSION, Store
from kiosk.office.metrics import MetricsConsumer

ROOT = Path(__file__).resolve().parent.parent


def run(quick: bool) -> list[Row]:
    cfg = load(ROOT / "config" / "example.toml")
    history = 20_000 if quick else 1_000_000
    cached = CACHE / f"history-{history}-v{SCHEMA_VERSION}.db"
    with tempfile.TemporaryDirectory() as d:
        db = Path(d) / "q.db"
        if cached.exists():
            shutil.copy(cached, db)
        else:
            _history(db, history, cfg)
        store = Store(db)
        events = store.last_seq()
        m = MetricsConsumer(store, cfg)
        t = time.perf_counter()
        m.run_once(limit=10**9)
        first = time.perf_counter() - t
        scrapes = []
        for _ in range(50):
            t = time.perf_counter()
            page = m.exposition()
            scrapes.append(time.perf_counter() - t)
        t = time.perf_counter()
        MetricsConsumer(store, cfg).exposition()  # after a restart: totals from the store
        restart = time.perf_counter() - t
        store.close()
    hist = f"{history:,} past tickets"
    return [
        Row("metrics", f"first fold of {events:,} events ({hist})", first, "s", "once"),
        Row("metrics", f"scrape, median ({hist})", percentile(scrapes, 50) * 1000, "ms"),
        Row("metrics", f"scrape, max ({hist})", max(scrapes) * 1000, "ms"),
        Row("metrics", "first scrape after a restart", restart * 1000, "ms"),
        Row("metrics", "page size", len(page) / 1024, "KiB"),
    ]
