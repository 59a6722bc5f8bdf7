"""A large centre: several kiosks and many counters on one PostgreSQL store.

Each kiosk runs its real consumers (kiosk.compose) with its own virtual printer; the
centre keeps one numbering, each ticket is printed once by the kiosk it was issued at,
and a PostgreSQL restart in the middle of the day loses and doubles nothing.
"""

from __future__ import annotations

import random
import threading
import time
import tomllib
from pathlib import Path
from typing import Any

import pytest

from kiosk.compose import Overrides, start_consumers, stop_consumers
from kiosk.core.config import Config, validate
from kiosk.core.pgstore import PgStore
from kiosk.core.queue import Queue, QueueError
from kiosk.core.store import StoreError
from tests.conftest import EXAMPLE

SERVICES = ("hotich", "chungthuc", "datdai")


def site(kiosk_id: str) -> Config:
    raw = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    raw["kiosk"] = {"id": kiosk_id}
    raw["display"]["enabled"] = False
    return validate(raw, f"{kiosk_id}.toml")


def printed(folder: Path) -> list[str]:
    """Codes of the tickets a virtual png: printer has printed (files NNNN-CODE.png)."""
    return sorted(p.stem.split("-", 1)[1] for p in folder.glob("*.png"))


def wait_until(check: Any, seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_two_kiosks_print_each_ticket_once_at_the_kiosk_it_was_issued(db_url: str, tmp_path):
    kiosks = {}
    for name in ("cong-chinh", "cong-phu"):
        cfg = site(name)
        q = Queue(cfg, PgStore(db_url))
        out = tmp_path / name
        consumers = start_consumers(
            cfg, q, Overrides(printer_uri=f"png:{out}", extra={"no_display": True})
        )
        kiosks[name] = (q, out, consumers)
    try:
        issued: dict[str, list[str]] = {name: [] for name in kiosks}
        for i in range(12):
            name = ("cong-chinh", "cong-phu")[i % 2]
            issued[name].append(kiosks[name][0].issue(SERVICES[i % 3]).ticket.code)
        for name, (_, out, _) in kiosks.items():
            wait_until(lambda out=out, name=name: printed(out) == sorted(issued[name]))
        time.sleep(0.5)  # nothing more arrives later, from the other kiosk
        for name, (_, out, _) in kiosks.items():
            assert printed(out) == sorted(issued[name])
        everyone = sorted(issued["cong-chinh"] + issued["cong-phu"])
        assert len(set(everyone)) == 12  # one numbering for the whole centre
    finally:
        for q, _, consumers in kiosks.values():
            stop_consumers(consumers)
            q.store.close()


def test_two_kiosks_and_thirty_counters_through_a_restart_lose_and_double_nothing(
    db_url: str, pg
) -> None:
    stores = [PgStore(db_url) for _ in range(4)]
    kiosk_queues = [Queue(site(f"k{i}"), stores[i]) for i in range(2)]
    counter_queues = [Queue(site("staff"), stores[2 + i % 2]) for i in range(2)]
    counters = [c.id for c in counter_queues[0].cfg.counters]
    stop = threading.Event()
    issued: list[str] = []
    called: list[str] = []
    refused = {"issue": 0, "call": 0}
    lock = threading.Lock()

    def kiosk(q: Queue, seed: int) -> None:
        rng = random.Random(seed)
        while not stop.is_set():
            try:
                code = q.issue(rng.choice(SERVICES)).ticket.code
                with lock:
                    issued.append(code)
            except StoreError:
                with lock:
                    refused["issue"] += 1
                time.sleep(0.05)

    def clerk(q: Queue, n: int) -> None:
        counter = counters[n % len(counters)]
        while not stop.is_set():
            try:
                t = q.call_next(counter)
                if t is not None:
                    with lock:
                        called.append(t.code)
            except (StoreError, QueueError):
                with lock:
                    refused["call"] += 1
            time.sleep(0.02)

    threads = [threading.Thread(target=kiosk, args=(q, i)) for i, q in enumerate(kiosk_queues)]
    threads += [threading.Thread(target=clerk, args=(counter_queues[n % 2], n)) for n in range(30)]
    for t in threads:
        t.start()
    try:
        time.sleep(1.5)
        pg.restart(down_seconds=1.0)
        time.sleep(3.0)
    finally:
        stop.set()
        for t in threads:
            t.join(30)
    check = PgStore(db_url)
    try:
        evs = check.events_since(0, 1_000_000)
        seqs = [e.seq for e in evs]
        assert seqs == list(range(1, len(seqs) + 1))  # no hole, no double, in order
        logged = [e.code for e in evs if e.type == "ticket_issued"]
        # A commit whose reply was lost in the restart is in the log though its caller
        # saw an error; everything a caller was told was issued is there exactly once.
        assert len(logged) == len(set(logged)) and set(issued) <= set(logged)
        first_calls = [
            e.code for e in evs if e.type == "ticket_called" and not e.payload.get("recall")
        ]
        assert len(first_calls) == len(set(first_calls))  # no citizen called twice
        assert set(called) <= set(first_calls)
        after = [e for e in evs if e.type == "ticket_issued"]
        assert refused["issue"] > 0 or refused["call"] > 0, "the restart was not felt"
        assert len(after) > 10
    finally:
        check.close()
        for s in stores:
            s.close()


@pytest.mark.parametrize("kiosk_id", ["có dấu", "x" * 33])
def test_a_kiosk_id_that_is_not_a_plain_name_is_refused(kiosk_id: str) -> None:
    from kiosk.core.config import ConfigError

    with pytest.raises(ConfigError, match="kiosk.id"):
        site(kiosk_id)


def test_each_kiosks_metrics_fold_the_shared_log_into_totals_of_their_own(db_url: str) -> None:
    from kiosk.office.metrics import MetricsConsumer

    store = PgStore(db_url)
    try:
        q = Queue(site("cong-chinh"), store)
        for _ in range(3):
            q.issue("hotich")
        a = MetricsConsumer(store, site("cong-chinh"))
        b = MetricsConsumer(store, site("cong-phu"))
        assert (a.name, b.name) == ("metrics@cong-chinh", "metrics@cong-phu")
        a.run_once()
        b.run_once()
        again = MetricsConsumer(store, site("cong-chinh"))  # a restart keeps its own totals
        assert again.totals == a.totals == b.totals
        assert a.totals != MetricsConsumer(store, site("")).totals  # the unnamed one has none
    finally:
        store.close()
