"""The store on PostgreSQL beside SQLite, on this machine (a large centre's choice).

- issue and call-next p50/p99 on each store, empty and with past tickets (1,000,000;
  100,000 with ``--quick``), measured alternately so machine noise hits both alike;
- throughput of a centre: 4 kiosks and 30 clerks at once on one PostgreSQL store;
- a PostgreSQL restart: seconds from the restart command to the first ticket issued again.

PostgreSQL runs on a unix socket in a cluster this benchmark starts (tests/pg.py), with
fsync on, as in production (the test suite turns fsync off for speed).
"""

from __future__ import annotations

import random
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

import psycopg

from bench.common import Row, percentile

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kiosk.core.config import load  # noqa: E402
from kiosk.core.pgstore import PgStore  # noqa: E402
from kiosk.core.queue import Queue, QueueError  # noqa: E402
from kiosk.core.store import Store, StoreError  # noqa: E402
from tests.pg import Cluster  # noqa: E402

CFG = load(ROOT / "config" / "example.toml")


def past_tickets_sqlite(path: Path, n: int) -> None:
    Store(path).close()  # schema
    import sqlite3

    con = sqlite3.connect(path)
    con.execute("BEGIN")
    con.execute(
        "WITH RECURSIVE g(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM g WHERE i < ?) "
        "INSERT INTO tickets(day, seq_key, number, code, service, first_service, priority, "
        "status, queue_key, issued_at, called_at, served_at, counter) "
        "SELECT date('2020-01-01', '+' || (i / 500) || ' days'), 'hotich', i % 500 + 1, "
        "'A' || (i % 500 + 1), 'hotich', 'hotich', 0, 'served', 1.7e9 + i * 10, "
        "1.7e9 + i * 10, 1.7e9 + i * 10 + 60, 1.7e9 + i * 10 + 600, 1 FROM g",
        (n,),
    )
    con.execute("COMMIT")
    con.execute("ANALYZE")
    con.close()


def past_tickets_pg(url: str, n: int) -> None:
    PgStore(url).close()  # schema
    with psycopg.connect(url) as c:
        c.execute(
            "INSERT INTO tickets(day, seq_key, number, code, service, first_service, priority, "
            "status, queue_key, issued_at, called_at, served_at, counter) "
            "SELECT to_char(date '2020-01-01' + (i / 500), 'YYYY-MM-DD'), 'hotich', i %% 500 + 1, "
            "'A' || (i %% 500 + 1), 'hotich', 'hotich', 0, 'served', 1.7e9 + i * 10, "
            "1.7e9 + i * 10, 1.7e9 + i * 10 + 60, 1.7e9 + i * 10 + 600, 1 "
            "FROM generate_series(1, %s) i",
            (n,),
        )
        c.execute("ANALYZE")


def measure(queues: dict[str, Queue], ops: int) -> dict[str, tuple[list[float], list[float]]]:
    rng = random.Random(1)
    services = [s.id for s in CFG.services]
    counters = [c.id for c in CFG.counters]
    out: dict[str, tuple[list[float], list[float]]] = {k: ([], []) for k in queues}
    for q in queues.values():
        q.issue("hotich")  # the business day opened outside the measurement
    for i in range(ops):
        service, counter = rng.choice(services), rng.choice(counters)
        for name, q in queues.items():
            t = time.perf_counter()
            q.issue(service)
            out[name][0].append(time.perf_counter() - t)
            if i % 2:
                t = time.perf_counter()
                q.call_next(counter)
                out[name][1].append(time.perf_counter() - t)
    return out


def centre(url: str, seconds: float) -> tuple[int, int]:
    """4 kiosks and 30 clerks for ``seconds``: (tickets issued, citizens called)."""
    stop = threading.Event()
    counts = {"issued": 0, "called": 0}
    lock = threading.Lock()
    counters = [c.id for c in CFG.counters]

    def kiosk() -> None:
        q = Queue(CFG, PgStore(url))
        rng = random.Random()
        while not stop.is_set():
            q.issue(rng.choice([s.id for s in CFG.services]))
            with lock:
                counts["issued"] += 1
        q.store.close()

    def clerk(n: int) -> None:
        q = Queue(CFG, PgStore(url, pool_size=1))
        while not stop.is_set():
            try:
                if q.call_next(counters[n % len(counters)]) is not None:
                    with lock:
                        counts["called"] += 1
            except QueueError:
                pass
            time.sleep(0.01)
        q.store.close()

    threads = [threading.Thread(target=kiosk) for _ in range(4)]
    threads += [threading.Thread(target=clerk, args=(n,)) for n in range(30)]
    for t in threads:
        t.start()
    time.sleep(seconds)
    stop.set()
    for t in threads:
        t.join(30)
    return counts["issued"], counts["called"]


def run(quick: bool = False) -> list[Row]:
    history = 100_000 if quick else 1_000_000
    ops = 100 if quick else 400
    work = Path(tempfile.mkdtemp(prefix="bench-pg-"))
    pg = Cluster(fsync=True)
    rows: list[Row] = []
    try:
        urls = {}
        with psycopg.connect(pg.url, autocommit=True) as c:
            for name in ("empty", "big", "centre"):
                c.execute(f"CREATE DATABASE {name}")
                urls[name] = pg.url.replace("/test?", f"/{name}?")
        past_tickets_pg(urls["big"], history)
        past_tickets_sqlite(work / "big.db", history)
        queues = {
            "SQLite, empty": Queue(CFG, Store(work / "empty.db")),
            "PostgreSQL, empty": Queue(CFG, PgStore(urls["empty"])),
            f"SQLite, {history:,} past": Queue(CFG, Store(work / "big.db")),
            f"PostgreSQL, {history:,} past": Queue(CFG, PgStore(urls["big"])),
        }
        got = measure(queues, ops)
        for name, (issue, call) in got.items():
            rows.append(Row("store", f"issue p50, {name}", percentile(issue, 50) * 1000, "ms"))
            rows.append(
                Row("store", f"issue p99, {name}", percentile(issue, 99) * 1000, "ms", "≤ 10")
            )
            rows.append(Row("store", f"call next p99, {name}", percentile(call, 99) * 1000, "ms"))
        for q in queues.values():
            q.store.close()
        seconds = 5.0 if quick else 15.0
        issued, called = centre(urls["centre"], seconds)
        rows.append(
            Row(
                "store",
                "PostgreSQL centre: 4 kiosks + 30 clerks, tickets/s",
                issued / seconds,
                "1/s",
            )
        )
        rows.append(Row("store", "PostgreSQL centre: calls/s", called / seconds, "1/s"))
        q = Queue(CFG, PgStore(urls["centre"]))
        q.issue("hotich")
        t0 = time.perf_counter()
        pg.restart()
        while True:
            try:
                q.issue("hotich")
                break
            except StoreError:
                time.sleep(0.05)
        rows.append(
            Row(
                "store",
                "PostgreSQL restart → first ticket issued again",
                time.perf_counter() - t0,
                "s",
                "seconds",
            )
        )
        q.store.close()
    finally:
        pg.destroy()
        shutil.rmtree(work, ignore_errors=True)
    return rows


if __name__ == "__main__":
    from bench.common import format_table

    print(format_table(run(quick="--quick" in sys.argv)))
