"""Queue core: issue and call latency on an empty store and on one with 1,000,000 past tickets.

Budget (design brief §6): issue p99 ≤ 2 ms with fsync; p99 with a full history
within 20 % of an empty store. Every operation is a real fsynced WAL commit.
"""

from __future__ import annotations

import json
import random
import shutil
import sqlite3
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from bench.common import Row, percentile
from kiosk.core.config import load
from kiosk.core.queue import Queue
from kiosk.core.store import SCHEMA_VERSION, Store

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "bench" / "results"


def _history(path: Path, tickets: int, cfg) -> None:  # type: ignore[no-untyped-def]
    """Fill a store with ``tickets`` served tickets (and their three events each) on past days."""
    Store(path).close()
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA synchronous=OFF")
    con.execute("BEGIN")
    per_day = 2500
    services = cfg.services
    day0 = date(2026, 11, 1) - timedelta(days=tickets // per_day + 1)
    rng = random.Random(7)
    t_rows, e_rows, seq_rows = [], [], {}
    for i in range(tickets):
        d = (day0 + timedelta(days=i // per_day)).isoformat()
        s = services[i % len(services)]
        n = seq_rows.get((d, s.id), 0) + 1
        seq_rows[(d, s.id)] = n
        at = 1_700_000_000 + i * 10.0
        t_rows.append(
            (
                i + 1,
                d,
                s.id,
                n,
                s.code(n),
                s.id,
                s.id,
                0,
                "served",
                at,
                at,
                at + 60,
                at + 60 + rng.uniform(60, 900),
                1,
            )
        )
        p = json.dumps({"ticket_id": i + 1, "service": s.id, "number": n, "priority": False})
        e_rows += [
            (at, d, "ticket_issued", s.code(n), p),
            (at + 60, d, "ticket_called", s.code(n), p),
            (at + 600, d, "ticket_served", s.code(n), p),
        ]
        if len(t_rows) >= 50_000:
            _flush(con, t_rows, e_rows)
    _flush(con, t_rows, e_rows)
    con.executemany(
        "INSERT INTO sequences(day, key, last) VALUES (?, ?, ?)",
        [(d, k, n) for (d, k), n in seq_rows.items()],
    )
    con.execute("COMMIT")
    con.execute("ANALYZE")
    con.close()


def _flush(con: sqlite3.Connection, t_rows: list, e_rows: list) -> None:  # type: ignore[type-arg]
    con.executemany(
        "INSERT INTO tickets(id, day, seq_key, number, code, service, first_service, priority, status, queue_key, "
        "issued_at, called_at, served_at, counter) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        t_rows,
    )
    con.executemany("INSERT INTO events(at, day, type, code, payload) VALUES (?,?,?,?,?)", e_rows)
    t_rows.clear()
    e_rows.clear()


def _measure(paths: list[Path], ops: int) -> list[tuple[list[float], list[float]]]:
    """Issue and call on every store in turn, so machine noise hits them alike."""
    cfg = load(ROOT / "config" / "example.toml")
    rng = random.Random(1)
    stores = [Store(p) for p in paths]
    base = time.time()
    t0 = time.monotonic()
    queues = [Queue(cfg, s, clock=lambda: base + (time.monotonic() - t0)) for s in stores]
    for q in queues:
        q.issue("hotich")  # open the business day outside the measurement
    services = [s.id for s in cfg.services]
    counters = [c.id for c in cfg.counters]
    out: list[tuple[list[float], list[float]]] = [([], []) for _ in queues]
    for i in range(ops):
        service, counter = rng.choice(services), rng.choice(counters)
        for q, (issue, call) in zip(queues, out, strict=True):
            t = time.perf_counter()
            q.issue(service)
            issue.append(time.perf_counter() - t)
            if i % 2:
                t = time.perf_counter()
                q.call_next(counter)
                call.append(time.perf_counter() - t)
    for s in stores:
        s.close()
    return out


def run(quick: bool = False) -> list[Row]:
    cfg = load(ROOT / "config" / "example.toml")
    history = 20_000 if quick else 1_000_000
    ops = 300 if quick else 2000
    CACHE.mkdir(parents=True, exist_ok=True)
    cached = CACHE / f"history-{history}-v{SCHEMA_VERSION}.db"
    t_build = 0.0
    if not cached.exists():
        t = time.perf_counter()
        _history(cached.with_suffix(".tmp"), history, cfg)
        cached.with_suffix(".tmp").rename(cached)
        t_build = time.perf_counter() - t
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as d:
        empty = Path(d) / "empty.db"
        full = Path(d) / "full.db"
        shutil.copy(cached, full)
        (ei, ec), (fi, fc) = _measure([empty, full], ops)
    hist = f"{history:,} past"
    for label, samples in (("issue", (ei, fi)), ("call next", (ec, fc))):
        for store_name, s in zip(("empty", hist), samples, strict=True):
            rows.append(
                Row("core", f"{label} p50, {store_name} store", percentile(s, 50) * 1000, "ms", "")
            )
            budget = "≤ 2 ms (fsync included)" if label == "issue" else ""
            rows.append(
                Row(
                    "core",
                    f"{label} p99, {store_name} store",
                    percentile(s, 99) * 1000,
                    "ms",
                    budget,
                )
            )
        ratio = percentile(samples[1], 99) / percentile(samples[0], 99)
        rows.append(Row("core", f"{label} p99 ratio, {hist} / empty", ratio, "×", "≤ 1.20"))
    if t_build:
        rows.append(
            Row("core", f"building the {hist}-ticket history (once, cached)", t_build, "s", "")
        )
    return rows
