"""The central server under a province's load, with its faults (not run in CI).

Sites each send one office day (2,000 tickets, about 9,000 events) at once through the
kiosk's real uplink code (``kiosk.office.uplink.Uplink``) to ``central-server run`` on
loopback, backed by a PostgreSQL cluster this benchmark starts itself (tests/pg.py).
In the middle of the load PostgreSQL is restarted and the server is killed with
SIGKILL and started again; afterwards every site's events must be stored exactly once,
seqs 1..N with no hole. Then the dashboard is timed with 300 sites × 30 days of tickets.

``BENCH_CENTRAL_SITES`` sets the number of sending sites (default 60; 20 with
``--quick``; the issue's figure is 300, which takes several minutes here).
"""

from __future__ import annotations

import base64
import logging
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg
import requests

from bench.common import Row, percentile

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kiosk.core.config import load  # noqa: E402
from kiosk.core.queue import Queue  # noqa: E402
from kiosk.core.store import Store  # noqa: E402
from kiosk.office.uplink import Uplink, UplinkError, UplinkSettings  # noqa: E402
from tests.pg import Cluster  # noqa: E402

EXAMPLE = ROOT / "config" / "example.toml"
logging.getLogger("psycopg.pool").setLevel(logging.ERROR)  # reconnect attempts during the fault


class Clock:
    def __init__(self, t: float):
        self.t = t

    def __call__(self) -> float:
        return self.t


def office_day(path: Path, tickets: int) -> int:
    """A store holding one busy office day; returns its number of events."""
    cfg = load(EXAMPLE)
    from datetime import datetime

    clock = Clock(datetime(2026, 11, 30, 7, 30, tzinfo=cfg.tz).timestamp())
    rng = random.Random(1)
    with Store(path) as store:
        q = Queue(cfg, store, clock)
        services = [s.id for s in cfg.services]
        counters = [c.id for c in cfg.counters]
        for i in range(tickets):
            q.issue(rng.choice(services), priority=i % 10 == 0)
            clock.t += 12
            c = counters[i % len(counters)]
            if q.call_next(c) is not None and i % 3 == 0:
                q.rate(c, rng.choice((2, 3, 3, 3)))
        q.close_day()
        return store.last_seq()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    def __init__(self, db_url: str, port: int):
        self.cmd = [
            sys.executable,
            "-m",
            "central.cli",
            "run",
            "--listen",
            f"127.0.0.1:{port}",
            "--db",
            db_url,
            "--rate",
            "1000",
            "--burst",
            "1000",
        ]
        self.url = f"http://127.0.0.1:{port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(self.cmd, stdout=subprocess.DEVNULL, cwd=ROOT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if requests.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.1)
        raise RuntimeError("central-server did not start")

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def run(quick: bool = False) -> list[Row]:
    sites = int(os.environ.get("BENCH_CENTRAL_SITES", "20" if quick else "60"))
    tickets = 300 if quick else 2000
    work = Path(tempfile.mkdtemp(prefix="bench-central-"))
    pg = Cluster()
    server: Server | None = None
    rows: list[Row] = []
    try:
        template = work / "day.db"
        n_events = office_day(template, tickets)
        with psycopg.connect(pg.url, autocommit=True) as c:
            c.execute("CREATE DATABASE central")
        db_url = pg.url.replace("/test?", "/central?")
        subprocess.run(
            [sys.executable, "-m", "central.cli", "migrate", "--db", db_url],
            check=True,
            capture_output=True,
            cwd=ROOT,
        )
        # One site through the command a province officer types, the rest through its API.
        out = subprocess.run(
            [
                sys.executable,
                "-m",
                "central.cli",
                "site",
                "add",
                "site-000",
                "--name",
                "Phường 0",
                "--db",
                db_url,
            ],
            check=True,
            capture_output=True,
            text=True,
            cwd=ROOT,
        )
        tokens = {"site-000": out.stdout.strip().splitlines()[-1]}
        from central.db import CentralDB

        cdb = CentralDB(db_url)
        cdb.open()
        for i in range(1, sites):
            tokens[f"site-{i:03d}"] = cdb.add_site(f"site-{i:03d}", f"Phường {i}")
        server = Server(db_url, free_port())
        server.start()
        assert server.proc is not None
        cpu0 = cpu_seconds(server.proc.pid)
        latencies: list[float] = []
        lat_lock = threading.Lock()
        errors: dict[str, int] = {}

        def send(site: str) -> None:
            path = work / f"{site}.db"
            shutil.copy(template, path)
            store = Store(path)
            settings = UplinkSettings(
                url=server.url + "/uplink", token=tokens[site], site=site, timeout=30
            )
            up = Uplink(store, settings, clock=time.time, rng=random.Random(site))
            deadline = time.monotonic() + 900
            while store.cursor("uplink") < n_events and time.monotonic() < deadline:
                t0 = time.perf_counter()
                try:
                    up.send_batch()
                    with lat_lock:
                        latencies.append(time.perf_counter() - t0)
                except UplinkError as e:
                    with lat_lock:
                        errors[e.kind] = errors.get(e.kind, 0) + 1
                    time.sleep(0.5)
            store.close()
            path.unlink()

        t0 = time.perf_counter()
        with ThreadPoolExecutor(max_workers=min(32, sites)) as pool:
            futures = [pool.submit(send, f"site-{i:03d}") for i in range(sites)]
            # The faults, in the middle of the load.
            time.sleep(3 if quick else 8)
            pg.restart(down_seconds=1.0)
            time.sleep(2)
            cpu_before_kill = cpu_seconds(server.proc.pid) - cpu0
            mem = rss_mb(server.proc.pid)
            server.kill()
            time.sleep(1.0)
            server.start()
            cpu0 = cpu_seconds(server.proc.pid)
            for f in futures:
                f.result()
        elapsed = time.perf_counter() - t0
        cpu = cpu_before_kill + cpu_seconds(server.proc.pid) - cpu0
        mem = max(mem, rss_mb(server.proc.pid))
        # Exactly once, in order: seqs 1..n_events for every site.
        with psycopg.connect(db_url) as c:
            bad = c.execute(
                "SELECT site, COUNT(*), MIN(seq), MAX(seq) FROM events GROUP BY site "
                "HAVING COUNT(*) <> %s OR MIN(seq) <> 1 OR MAX(seq) <> %s",
                (n_events, n_events),
            ).fetchall()
            held = c.execute("SELECT COUNT(DISTINCT site) FROM events").fetchone()
        total = sites * n_events
        area = "central"
        rows += [
            Row(area, f"{sites} sites × {n_events} events sent at once", total, "events"),
            Row(
                area,
                "events stored per second (PostgreSQL restart and SIGKILL inside)",
                total / elapsed,
                "ev/s",
            ),
            Row(area, "batch of 200, p50", percentile(latencies, 50) * 1000, "ms"),
            Row(area, "batch of 200, p99", percentile(latencies, 99) * 1000, "ms"),
            Row(area, "server CPU over the load", cpu, "s"),
            Row(area, "server RSS", mem, "MB"),
            Row(
                area, "retries met (refused, 5xx, timeouts)", sum(errors.values()), "", str(errors)
            ),
            Row(
                area,
                "sites whose log is not exactly 1..N after the faults",
                len(bad) + (sites - (held[0] if held else 0)),
                "",
                "0",
            ),
        ]
        # Dashboard with 300 sites × 30 days of tickets.
        with psycopg.connect(db_url) as c:
            c.execute(
                "INSERT INTO sites (id, name, token_hash) SELECT 'dash-' || g, 'Phường ' || g, "
                "md5(g::text) FROM generate_series(1, %s) g",
                (max(0, 300 - sites),),
            )
            c.execute(
                """
                INSERT INTO tickets (site, day, ticket_id, code, service, issued_at, called_at,
                                     state, rating, rating_scale)
                SELECT s.id, d::date, n, 'A' || n, 'hotich',
                       d + interval '8 hours' + n * interval '10 seconds',
                       d + interval '8 hours 10 minutes' + n * interval '10 seconds',
                       CASE WHEN n %% 9 = 0 THEN 'waiting' ELSE 'served' END,
                       CASE WHEN n %% 3 = 0 THEN 3 END, 3
                FROM sites s,
                     generate_series(current_date - 29, current_date, interval '1 day') d,
                     generate_series(1, %s) n
                ON CONFLICT DO NOTHING
                """,
                (100 if quick else 300,),
            )
            c.execute(
                """
                INSERT INTO day_counts (site, day, issued, waiting, served, rated, satisfied)
                SELECT site, day, COUNT(*), COUNT(*) FILTER (WHERE state = 'waiting'),
                       COUNT(*) FILTER (WHERE state = 'served'), COUNT(rating), COUNT(rating)
                FROM tickets WHERE site LIKE 'dash-%%' GROUP BY site, day
                ON CONFLICT DO NOTHING
                """
            )
            c.execute("ANALYZE")
        cdb.set_user("bench", "bench-password-1")
        auth = {"Authorization": "Basic " + base64.b64encode(b"bench:bench-password-1").decode()}
        times = []
        office = "/office/site-000"  # a sending office, with its month of tickets
        for path in ["/", "/api/offices"] * (5 if quick else 20) + [office] * 5:
            t = time.perf_counter()
            r = requests.get(server.url + path, headers=auth, timeout=30)
            assert r.status_code == 200, (path, r.status_code)
            times.append((path, time.perf_counter() - t))
        page = [t for p, t in times if p == "/"]
        rows += [
            Row(area, "dashboard, 300 sites × 30 days, p50", percentile(page, 50) * 1000, "ms"),
            Row(
                area,
                "dashboard, 300 sites × 30 days, p95",
                percentile(page, 95) * 1000,
                "ms",
                "≤ 300",
            ),
            Row(
                area,
                "one office page (month chart), p50",
                percentile([t for p, t in times if p.startswith("/office")], 50) * 1000,
                "ms",
            ),
        ]
        cdb.close()
    finally:
        if server is not None:
            server.stop()
        pg.destroy()
        shutil.rmtree(work, ignore_errors=True)
    return rows


if __name__ == "__main__":
    from bench.common import format_table

    print(format_table(run(quick="--quick" in sys.argv)))
