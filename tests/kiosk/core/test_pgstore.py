"""The store on a real PostgreSQL server: numbering across kiosks, a commit-ordered event
log, LISTEN/NOTIFY wake-ups, and a server that restarts under the office.

(The queue rules themselves run on both stores in tests/kiosk/core/test_queue.py.)
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from kiosk.core.config import Config
from kiosk.core.pgstore import SCHEMA_VERSION, PgStore
from kiosk.core.queue import Queue
from kiosk.core.store import StoreError, redact
from tests.conftest import EXAMPLE

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def pgstore(db_url: str) -> Iterator[PgStore]:
    s = PgStore(db_url)
    yield s
    s.close()


def test_two_kiosks_issuing_at_once_get_unique_gap_free_numbers(db_url: str, cfg: Config):
    stores = [PgStore(db_url) for _ in range(4)]
    codes: list[str] = []
    lock = threading.Lock()

    def kiosk(s: PgStore) -> None:
        q = Queue(cfg, s)
        for _ in range(15):
            code = q.issue("hotich").ticket.code
            with lock:
                codes.append(code)

    threads = [threading.Thread(target=kiosk, args=(s,)) for s in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    try:
        assert sorted(codes) == [f"A{n:03d}" for n in range(1, 61)]
        issued = [e.code for e in stores[0].events_since(0, 1000, types=["ticket_issued"])]
        assert sorted(issued) == sorted(codes)  # each number has exactly one event
    finally:
        for s in stores:
            s.close()


def test_event_seqs_become_visible_in_commit_order_so_a_consumer_never_skips_one(
    db_url: str,
) -> None:
    """A PostgreSQL sequence would let a later transaction commit seq 2 while seq 1 is
    still open; a consumer reading seq > cursor would move past 1 and never see it."""
    first, second, reader = PgStore(db_url), PgStore(db_url), PgStore(db_url)
    opened, go_on = threading.Event(), threading.Event()
    done: list[int] = []

    def slow_writer() -> None:
        with first.transaction() as tx:
            done.append(tx.append_event("slow", time.time(), None, None, {}))
            opened.set()
            go_on.wait(10)

    def fast_writer() -> None:
        with second.transaction() as tx:
            done.append(tx.append_event("fast", time.time(), None, None, {}))

    try:
        a = threading.Thread(target=slow_writer)
        a.start()
        assert opened.wait(10)
        b = threading.Thread(target=fast_writer)
        b.start()
        # While the slow transaction is open, nobody sees any event: not seq 2 before seq 1.
        seen_meanwhile = []
        for _ in range(20):
            seen_meanwhile += [e.seq for e in reader.events_since(0)]
            time.sleep(0.01)
        assert seen_meanwhile == [] and b.is_alive()
        go_on.set()
        a.join(10)
        b.join(10)
        assert [(e.seq, e.type) for e in reader.events_since(0)] == [(1, "slow"), (2, "fast")]
    finally:
        for s in (first, second, reader):
            s.close()


def test_another_process_commit_wakes_a_waiting_consumer_through_listen_notify(
    pgstore: PgStore, db_url: str
) -> None:
    woke: list[float] = []
    pgstore.wait_for_events(0, timeout=0.01)  # starts the listener
    time.sleep(0.3)

    def wait() -> None:
        if pgstore.wait_for_events(0, timeout=10):
            woke.append(time.monotonic())

    t = threading.Thread(target=wait)
    t.start()
    time.sleep(0.2)
    code = (
        "import sys; from kiosk.core.pgstore import PgStore; s = PgStore(sys.argv[1]);\n"
        "with s.transaction() as tx: tx.append_event('x', 0.0, None, None, {})\n"
        "import time; print(time.monotonic()); s.close()"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, db_url], capture_output=True, text=True, timeout=60, cwd=ROOT
    )
    assert out.returncode == 0, out.stderr
    t.join(10)
    assert woke, "the waiting consumer was not woken"
    assert woke[0] - float(out.stdout.strip()) < 1.0


def test_a_server_restart_refuses_with_a_message_then_resumes_by_itself(
    pgstore: PgStore, pg, cfg: Config
) -> None:
    q = Queue(cfg, pgstore)
    assert q.issue("hotich").ticket.code == "A001"
    pg.stop()
    try:
        with pytest.raises(StoreError) as e:
            q.issue("hotich")
        assert "cannot be reached" in str(e.value) and "nothing was changed" in str(e.value)
    finally:
        pg.start()
    deadline = time.monotonic() + 15
    while True:
        try:
            code = q.issue("hotich").ticket.code
            break
        except StoreError:
            assert time.monotonic() < deadline, "did not resume within 15 s"
            time.sleep(0.2)
    assert code == "A002"  # nothing issued twice, nothing lost


def test_a_kiosk_killed_while_issuing_leaves_no_gap_and_no_duplicate(db_url: str, cfg: Config):
    code = (
        "import sys; from kiosk.core.config import load; from kiosk.core.pgstore import PgStore\n"
        "from kiosk.core.queue import Queue\n"
        f"q = Queue(load({str(EXAMPLE)!r}), PgStore(sys.argv[1]))\n"
        "print('ready', flush=True)\n"
        # At most 300 a life: a fast machine must not run out of numbers (999 a day) and
        # make the test about its speed; a kill after the last one is still a valid kill.
        "for _ in range(300): q.issue('hotich')\n"
        "import time; time.sleep(3600)\n"
    )
    for delay in (0.05, 0.15, 0.3):  # early and later kills, mid-stream on any machine
        p = subprocess.Popen(
            [sys.executable, "-c", code, db_url], stdout=subprocess.PIPE, cwd=ROOT, text=True
        )
        assert p.stdout is not None and p.stdout.readline().strip() == "ready"
        time.sleep(delay)
        os.kill(p.pid, signal.SIGKILL)
        p.wait()
    s = PgStore(db_url)
    try:
        q = Queue(cfg, s)
        last = q.issue("hotich").ticket.number
        numbers = sorted(
            e.payload["number"] for e in s.events_since(0, 100000, types=["ticket_issued"])
        )
        assert numbers == list(range(1, last + 1))
        seqs = [e.seq for e in s.events_since(0, 100000)]
        assert seqs == list(range(1, len(seqs) + 1))  # the log has no hole either
    finally:
        s.close()


def test_schema_is_migrated_once_and_a_newer_one_is_refused(pgstore: PgStore, db_url: str):
    assert pgstore.schema_version == SCHEMA_VERSION
    with pgstore.transaction() as tx:
        tx.set_meta("schema_version", "99")
    with pytest.raises(StoreError, match="newer kiosk version"):
        PgStore(db_url)


def test_both_stores_are_at_the_same_schema_version():
    from kiosk.core import pgstore
    from kiosk.core import store as sqlite_store

    assert SCHEMA_VERSION == sqlite_store.SCHEMA_VERSION
    assert len(sqlite_store.MIGRATIONS) == len(pgstore.MIGRATIONS) == SCHEMA_VERSION


def test_a_password_never_appears_in_messages():
    assert redact("postgresql://kiosk:secret@db.example/q") == "postgresql://kiosk:***@db.example/q"
    with pytest.raises(StoreError) as e:
        PgStore("postgresql://kiosk:secret@127.0.0.1:1/q", connect_timeout=1)
    assert "secret" not in str(e.value)
