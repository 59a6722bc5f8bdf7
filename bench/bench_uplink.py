"""Uplink to the central server: a day-long outage, then catch-up, measured.

A busy office day (2,000 tickets: issued, called, served, most rated, printed)
is written to a real store while the receiver is unreachable (connection refused on
loopback). 24 hours of the uplink's retry schedule are played on a simulated clock:
every attempt is a real ``run_once()`` against the dead port, only the waiting between
attempts is simulated. Then the reference receiver comes up on 127.0.0.1 (plain HTTP,
and HTTPS with a throwaway CA when trustme is installed) and the backlog is sent for
real; the receiver's rows are checked: nothing lost, nothing duplicated, order kept.
"""

from __future__ import annotations

import json
import random
import socket
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from bench.common import Row, percentile
from central.receiver import Receiver, ReceiverDB, make_server
from kiosk.core.config import load
from kiosk.core.queue import Queue
from kiosk.core.store import Store
from kiosk.office.uplink import Uplink, UplinkSettings, backlog

ROOT = Path(__file__).resolve().parent.parent
DAY = 86400.0


class _Clock:
    def __init__(self, t: float):
        self.t = t

    def __call__(self) -> float:
        return self.t


def _office_day(q: Queue, clock: _Clock, tickets: int, rng: random.Random) -> None:
    services = [s.id for s in q.cfg.services]
    counters = [c.id for c in q.cfg.counters]
    for i in range(tickets):
        r = q.issue(services[i % len(services)], priority=rng.random() < 0.08)
        q.record_print(r.ticket.id, True)
        clock.t += 12
        c = counters[i % len(counters)]
        if q.call_next(c) is not None and rng.random() < 0.6:
            q.finish(c)
            q.rate(c, rng.choices([3, 2, 1], [82, 16, 2])[0])
    q.close_day()


def _dead_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens now: connection refused, as when the central server is down
    return int(port)


def _serve(db: ReceiverDB, certfile: str | None = None) -> Any:
    server = make_server("127.0.0.1", 0, Receiver(db, {"t": "*"}), certfile)
    threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    ).start()
    return server


def _catch_up(store: Store, url: str, ca: str = "") -> tuple[float, int]:
    """Drain the backlog for real; returns (seconds, requests)."""
    up = Uplink(store, UplinkSettings(url=url, token="t", site="bench", ca_bundle=ca))
    t0 = time.perf_counter()
    requests = 0
    while backlog(store):
        up.send_batch()
        requests += 1
    return time.perf_counter() - t0, requests


def run(quick: bool) -> list[Row]:
    tickets = 200 if quick else 2000
    cfg = load(ROOT / "config" / "example.toml")
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as tmp:
        tmpd = Path(tmp)
        store = Store(tmpd / "queue.db")
        start = datetime.fromisoformat("2026-11-30T07:31:00").replace(tzinfo=cfg.tz).timestamp()
        clock = _Clock(start)
        q = Queue(cfg, store, clock)
        t0 = time.perf_counter()
        _office_day(q, clock, tickets, random.Random(3))
        gen = time.perf_counter() - t0
        events = store.last_seq()
        size = sum(
            len(json.dumps(e.as_dict(), ensure_ascii=False).encode())
            for e in store.events_since(0, limit=10_000_000)
        )

        # -- 24 hours offline: the uplink loop's rounds (Uplink.step) on a simulated
        # monotonic clock; every request is real (refused by the dead port).
        dead = f"http://127.0.0.1:{_dead_port()}/k"
        settings = UplinkSettings(url=dead, token="t", site="bench", timeout=2.0)
        up = Uplink(store, settings, clock=clock, rng=random.Random(11))
        sim = [0.0]
        tried: list[tuple[float, str]] = []
        real_post = up._post

        def post(path: str, doc: dict[str, Any]) -> dict[str, Any]:
            tried.append((sim[0], path))
            return real_post(path, doc)

        up._post = post  # type: ignore[method-assign]
        cpu0 = time.process_time()
        while sim[0] < DAY:
            sim[0] += max(0.01, up.step(sim[0]))
        cpu = time.process_time() - cpu0
        retries = [t for t, p in tried if p == "events"]
        probes = [t for t, p in tried if p == "heartbeat"]
        gaps = [b - a for a, b in zip(retries, retries[1:], strict=False)]
        # The link comes back at a random instant: the next request (event retry or
        # heartbeat probe) gets through, and a probe that does ends the backoff.
        rng = random.Random(5)
        moments = sorted(t for t, _ in tried)
        waits = []
        for _ in range(2000):
            back = rng.uniform(3600, DAY - 600)
            waits.append(next(t for t in moments if t >= back) - back)
        assert backlog(store) == events and store.cursor("uplink") == 0

        # -- the link is back: send the backlog for real.
        db = ReceiverDB(tmpd / "receiver.db")
        server = _serve(db)
        secs, reqs = _catch_up(store, f"http://127.0.0.1:{server.server_address[1]}/k")
        server.shutdown()
        server.server_close()
        seqs = db.seqs("bench")
        ok = seqs == list(range(1, events + 1))
        db.close()
        rows += [
            Row("uplink", f"office day written offline ({tickets} tickets)", events, "events"),
            Row("uplink", "backlog as JSON", size / 1024, "KiB"),
            Row("uplink", "event retries during a 24 h outage", len(retries), "requests"),
            Row("uplink", "heartbeat probes during it", len(probes), "requests", "one a minute"),
            Row("uplink", "CPU for all those requests", cpu * 1000, "ms"),
            Row("uplink", "retry interval at the cap, median", percentile(gaps[-100:], 50), "s"),
            Row("uplink", "retry interval, max", max(gaps), "s", "max_backoff 300 s"),
            Row("uplink", "link back → backlog moving, mean", sum(waits) / len(waits), "s"),
            Row("uplink", "link back → backlog moving, max", max(waits), "s"),
            Row("uplink", "catch-up over loopback HTTP", secs, "s", f"{reqs} requests of 200"),
            Row("uplink", "catch-up throughput", events / secs, "events/s"),
            Row(
                "uplink",
                "receiver holds every event once, in order",
                1.0 if ok else 0.0,
                "1 = yes",
            ),
        ]

        # -- the same over HTTPS with the province's own CA (when trustme is installed).
        try:
            import trustme
        except ImportError:
            trustme = None
        if trustme is not None:
            ca = trustme.CA()
            cert, ca_file = tmpd / "server.pem", tmpd / "ca.pem"
            ca.issue_cert("127.0.0.1").private_key_and_cert_chain_pem.write_to_path(str(cert))
            ca.cert_pem.write_to_path(str(ca_file))
            with store.transaction() as tx:
                tx.c.execute("UPDATE cursors SET seq = 0 WHERE name = 'uplink'")
            db = ReceiverDB(tmpd / "receiver-tls.db")
            server = _serve(db, str(cert))
            secs, reqs = _catch_up(
                store, f"https://127.0.0.1:{server.server_address[1]}/k", str(ca_file)
            )
            server.shutdown()
            server.server_close()
            db.close()
            rows.append(
                Row("uplink", "catch-up over loopback HTTPS", secs, "s", f"{reqs} requests")
            )
        rows.append(Row("uplink", "(writing the day itself)", gen, "s"))
        store.close()
    return rows
