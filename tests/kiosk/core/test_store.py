"""The store: durability settings, migrations, cursors, wake-ups, and consumers."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from kiosk.core.consumer import Consumer
from kiosk.core.queue import Queue
from kiosk.core.store import SCHEMA_VERSION, Event, Store, StoreError

ROOT = Path(__file__).resolve().parents[3]


def test_store_uses_wal_and_full_sync(store: Store) -> None:
    assert store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store.conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL


def test_new_store_is_at_current_schema_and_reopening_keeps_data(
    tmp_path: Path, cfg, clock
) -> None:
    with Store(tmp_path / "q.db") as s:
        assert s.schema_version == SCHEMA_VERSION
        Queue(cfg, s, clock).issue("hotich")
    with Store(tmp_path / "q.db") as s:
        assert s.schema_version == SCHEMA_VERSION
        assert Queue(cfg, s, clock).issue("hotich").ticket.code == "A002"


def test_database_from_newer_software_is_refused_with_advice(tmp_path: Path) -> None:
    with Store(tmp_path / "q.db") as s:
        with s.transaction() as tx:
            tx.set_meta("schema_version", str(SCHEMA_VERSION + 1))
    with pytest.raises(StoreError, match="newer kiosk version"):
        Store(tmp_path / "q.db")


def test_unwritable_database_folder_is_explained(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(StoreError, match=r"--db PATH"):
        Store(blocker / "sub" / "q.db")


def test_indexes_keep_call_next_off_a_full_scan(store: Store) -> None:
    plan = store.conn.execute(
        "EXPLAIN QUERY PLAN SELECT id FROM tickets WHERE day = ? AND status = 'waiting' AND service IN (?, ?) "
        "ORDER BY priority DESC, queue_key, id LIMIT 1",
        ("2026-11-30", "a", "b"),
    ).fetchall()
    assert any("tickets_waiting" in str(r) for r in plan), plan


def test_cursor_never_moves_backwards(store: Store) -> None:
    store.set_cursor("x", 10)
    store.set_cursor("x", 5)
    assert store.cursor("x") == 10


def test_wait_for_events_wakes_at_once_for_a_commit_in_this_process(queue: Queue) -> None:
    start = queue.store.last_seq()
    woke: list[float] = []

    def waiter() -> None:
        t0 = time.monotonic()
        assert queue.store.wait_for_events(start, timeout=60, poll=60)
        woke.append(time.monotonic() - t0)

    th = threading.Thread(target=waiter)
    th.start()
    time.sleep(0.05)
    queue.issue("hotich")
    th.join(60)
    # poll is 60 s: only the condition variable wakes it sooner (bound loose for busy machines)
    assert woke and woke[0] < 20


def test_wait_for_events_notices_another_process_commit(queue: Queue, tmp_path: Path) -> None:
    db = queue.store.path
    start = queue.store.last_seq()
    t0 = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-m", "kiosk.cli", "issue", "hotich", "--db", str(db)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    assert queue.store.wait_for_events(start, timeout=20, poll=0.05)
    assert proc.wait(20) == 0
    assert time.monotonic() - t0 < 20
    assert queue.store.events_since(start)[-1].type == "ticket_issued"


def test_wait_for_events_times_out_when_nothing_happens(store: Store) -> None:
    t0 = time.monotonic()
    assert not store.wait_for_events(store.last_seq(), timeout=0.2, poll=0.05)
    assert 0.15 < time.monotonic() - t0 < 10  # waited, and returned


class Recorder(Consumer):
    name = "recorder"
    types = ("ticket_issued",)

    def __init__(self, store: Store, fail_times: int = 0):
        super().__init__(store)
        self.seen: list[str | None] = []
        self.fail_times = fail_times

    def handle(self, event: Event) -> None:
        if self.fail_times > 0:
            self.fail_times -= 1
            raise OSError("printer unplugged")
        self.seen.append(event.code)


def test_consumer_resumes_from_its_durable_cursor(queue: Queue) -> None:
    queue.issue("hotich")
    queue.issue("hotich")
    c = Recorder(queue.store)
    assert c.run_once() == 2
    queue.issue("hotich")
    c2 = Recorder(queue.store)  # a restarted process: same cursor name
    c2.run_once()
    assert c.seen == ["A001", "A002"] and c2.seen == ["A003"]


def test_a_store_closed_under_a_running_consumer_ends_its_thread_quietly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    crashes: list[BaseException] = []
    monkeypatch.setattr(threading, "excepthook", lambda a: crashes.append(a.exc_value))
    store = Store(tmp_path / "q.db")
    c = Recorder(store)
    c.idle_wait = 0.05
    c.start()
    time.sleep(0.2)
    store.close()  # shutdown in the wrong order, as a test teardown or a crash may do
    c._thread.join(5)  # type: ignore[union-attr]
    assert not c._thread.is_alive() and crashes == []  # type: ignore[union-attr]


def test_failing_consumer_keeps_cursor_on_the_failed_event_and_retries(queue: Queue) -> None:
    queue.issue("hotich")
    c = Recorder(queue.store, fail_times=2)
    c.min_backoff = 0.01
    with pytest.raises(OSError):
        c.run_once()
    assert c.seen == []
    c.start()
    deadline = time.monotonic() + 60  # a hang, never a busy machine, reaches it
    while not c.seen and time.monotonic() < deadline:
        time.sleep(0.01)
    queue.issue("hotich")
    while len(c.seen) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    c.stop()
    assert c.seen == ["A001", "A002"]
    assert c.failures == 0


def test_transaction_rolls_back_tables_and_events_together(store: Store) -> None:
    before = store.last_seq()
    with pytest.raises(RuntimeError):
        with store.transaction() as tx:
            tx.append_event("x", 0.0, None, None, {})
            tx.next_number("2026-11-30", "a", 1)
            raise RuntimeError("crash inside")
    assert store.last_seq() == before
    with store.transaction() as tx:
        assert tx.next_number("2026-11-30", "a", 1) == 1


def test_busy_store_waits_for_lock_instead_of_failing(tmp_path: Path) -> None:
    a = Store(tmp_path / "q.db")
    other = sqlite3.connect(tmp_path / "q.db", isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    timer = threading.Timer(0.3, lambda: other.execute("COMMIT"))
    timer.start()
    with a.transaction() as tx:
        tx.set_meta("k", "v")
    timer.join()
    a.close()


def test_prune_keeps_recent_days_and_events_not_yet_consumed(queue: Queue, cfg, clock) -> None:
    queue.issue("hotich")
    queue.call_next(1)
    queue.finish(1)
    old_seq = queue.store.last_seq()
    clock.advance(500 * 86400)
    queue.issue("hotich")  # rolls the day over
    store = queue.store
    store.set_cursor("printer", store.last_seq())
    store.set_cursor("uplink", 2)  # the uplink has sent only two events
    tickets, events = queue.prune()
    assert tickets == 1 and events == 2  # only what every consumer has seen
    assert [e.seq for e in store.events_since(0)][0] == 3
    store.set_cursor("uplink", old_seq)
    assert queue.prune(("display",)) == (0, 0)  # a protected cursor that never ran keeps everything
    assert queue.prune()[1] == old_seq - 2
    assert queue.issue("hotich").ticket.code == "A002"  # today's numbering untouched


def test_retention_forgets_old_id_hashes_with_their_tickets_and_bookings(
    queue: Queue, clock
) -> None:
    from kiosk.core.citizen import Citizen
    from kiosk.core.store import Booking

    old_day = queue.today()
    h = queue.citizen_key.hash("001099012345")
    queue.issue("hotich", citizen=Citizen(h))
    with queue.store.transaction() as tx:
        tx.save_booking(Booking(old_day, "BK1", "hotich", citizen=h), clock())
    queue.close_day()
    clock.advance((queue.cfg.storage.retention_days + 2) * 86400)
    queue.issue("hotich")
    queue.prune()
    with queue.store.read() as tx:
        assert tx.count_citizen_tickets(old_day, h) == 0
        assert tx.booking_by_citizen(old_day, h) is None
        assert tx.booking(old_day, "BK1") is None


def test_full_disk_is_explained_and_leaves_store_usable(queue: Queue) -> None:
    queue.issue("hotich")
    pages = queue.store.conn.execute("PRAGMA page_count").fetchone()[0]
    queue.store.conn.execute(f"PRAGMA max_page_count = {pages}")  # SQLite's own "disk full" seam
    with pytest.raises(StoreError, match="is full; nothing was changed"):
        for _ in range(200):
            queue.issue("hotich")
    queue.store.conn.execute("PRAGMA max_page_count = 1073741823")
    queue.issue("hotich")  # works again once there is space
    with queue.store.read() as tx:
        numbers = [t.number for t in tx.tickets_of_day(queue.today())]
    assert numbers == list(range(1, len(numbers) + 1))  # no gap from the failed attempt


def test_locked_database_is_explained(tmp_path: Path) -> None:
    a = Store(tmp_path / "q.db", busy_timeout_ms=100)
    other = sqlite3.connect(tmp_path / "q.db", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    with pytest.raises(StoreError, match="busy"):
        with a.transaction() as tx:
            tx.set_meta("k", "v")
    other.execute("ROLLBACK")
    with a.transaction() as tx:
        tx.set_meta("k", "v")
    a.close()


def test_consumer_moves_its_cursor_over_unwanted_events_once_per_pass(queue: Queue) -> None:
    queue.issue("hotich")
    for _ in range(5):
        queue.call_next(1)
        queue.issue("hotich")
    queue.call_next(1)  # the log ends with events this consumer does not want
    c = Recorder(queue.store)
    writes: list[int] = []
    real = queue.store.set_cursor
    queue.store.set_cursor = lambda name, seq: (writes.append(seq), real(name, seq))[1]  # type: ignore[method-assign]
    assert c.run_once() == 6
    assert c.cursor == queue.store.last_seq()
    assert len(writes) == 6 + 1  # one per handled ticket, one to pass the calls at the end


def test_read_only_open_creates_nothing_and_writes_nothing(tmp_path: Path, queue: Queue) -> None:
    missing = tmp_path / "none.db"
    with pytest.raises(StoreError, match="unable to open"):
        with Store.read_only(missing) as tx:
            tx.last_seq()
    assert not missing.exists()
    queue.issue("hotich")
    with Store.read_only(queue.store.path) as tx:
        assert tx.quick_check() == "ok"
        assert tx.last_seq() == queue.store.last_seq()
    with pytest.raises(StoreError, match="readonly"):  # errors leave the block as StoreError
        with Store.read_only(queue.store.path) as tx:
            tx.set_meta("x", "y")


def test_read_only_open_of_a_file_that_is_not_a_database_says_so(tmp_path: Path) -> None:
    junk = tmp_path / "queue.db"
    junk.write_bytes(b"not a database at all" * 100)
    with pytest.raises(StoreError, match="not a database"):
        with Store.read_only(junk) as tx:
            tx.quick_check()


def test_copy_file_of_a_file_that_is_not_a_database_is_refused(tmp_path: Path) -> None:
    junk = tmp_path / "queue.db"
    junk.write_bytes(b"not a database at all" * 100)
    with pytest.raises(StoreError, match=r"cannot back up .*queue\.db"):
        Store.copy_file(junk, tmp_path / "copy.db")


def test_metrics_cursor_may_be_saved_backwards_when_asked(store: Store) -> None:
    with store.transaction() as tx:
        tx.save_cursor("m", 9, 1.0)
        tx.save_cursor("m", 4, 2.0)
        assert tx.cursor_row("m") == (9, 2.0)
        tx.save_cursor("m", 4, 3.0, forward_only=False)
        assert tx.cursor_row("m") == (4, 3.0)
        tx.register_cursor("m", 5.0)  # an existing cursor is left alone
        tx.register_cursor("new", 5.0)
        assert tx.cursors() == {"m": 4, "new": 0}
