"""Other processes' commits wake waiters at once, with no polling (kiosk.core.store.Wakeup)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

from kiosk.core.config import load
from kiosk.core.queue import Queue
from kiosk.core.store import Store
from tests.conftest import EXAMPLE, ROOT

ISSUE = [sys.executable, "-m", "kiosk.cli", "issue", "hotich", "--db"]


def _voluntary_switches(native_id: int) -> int:
    for line in Path(f"/proc/self/task/{native_id}/status").read_text().splitlines():
        if line.startswith("voluntary_ctxt_switches"):
            return int(line.split()[1])
    raise AssertionError("no voluntary_ctxt_switches line")


def test_a_cli_process_commit_wakes_a_waiting_consumer_at_once_without_polling(
    tmp_path: Path,
) -> None:
    store = Store(tmp_path / "queue.db")
    store.watch_interval = 3600  # were it polling, it would not wake for an hour
    start = store.last_seq()
    woke: list[float] = []
    ready = threading.Event()

    def waiter() -> None:
        ready.set()
        if store.wait_for_events(start, timeout=30):
            woke.append(time.monotonic())

    th = threading.Thread(target=waiter)
    th.start()
    ready.wait()
    time.sleep(0.2)
    assert store.watch_mode == "socket"
    proc = subprocess.run(ISSUE + [str(store.path)], cwd=ROOT, capture_output=True, timeout=30)
    done = time.monotonic()
    assert proc.returncode == 0, proc.stderr
    th.join(10)
    assert woke and woke[0] - done < 0.5  # the wake came with the commit, not a poll
    store.close()


def test_an_idle_waiting_store_makes_no_wakeups(tmp_path: Path) -> None:
    store = Store(tmp_path / "queue.db")
    th = threading.Thread(target=store.wait_for_events, args=(store.last_seq(), 3.0), daemon=True)
    th.start()
    time.sleep(0.3)
    watcher = store._watcher
    assert watcher is not None and watcher.native_id is not None
    before = _voluntary_switches(watcher.native_id)
    time.sleep(1.5)
    assert _voluntary_switches(watcher.native_id) == before  # it slept in recv() throughout
    store.close()
    watcher.join(2)
    assert not watcher.is_alive()  # close ends the watcher thread


def test_the_socket_of_a_killed_process_is_removed_by_the_next_commit(tmp_path: Path) -> None:
    db = tmp_path / "queue.db"
    code = (
        "import sys, threading; from kiosk.core.store import Store; s = Store(sys.argv[1]); "
        "s._ensure_watcher(); print('up', flush=True); threading.Event().wait()"
    )
    proc = subprocess.Popen([sys.executable, "-c", code, str(db)], stdout=subprocess.PIPE)
    assert proc.stdout is not None and proc.stdout.readline() == b"up\n"
    wake_dir = Path(str(db) + ".wake")
    assert len(os.listdir(wake_dir)) == 1
    proc.kill()
    proc.wait()
    q = Queue(load(EXAMPLE), Store(db))
    q.issue("hotich")  # sending to the dead socket removes it
    assert os.listdir(wake_dir) == []


def test_a_store_on_a_long_path_still_gets_wakeups(tmp_path: Path) -> None:
    deep = tmp_path / ("d" * 60) / ("e" * 60)
    store = Store(deep / "queue.db")
    start = store.last_seq()
    got: list[bool] = []
    th = threading.Thread(target=lambda: got.append(store.wait_for_events(start, timeout=20)))
    th.start()
    time.sleep(0.2)
    assert store.watch_mode == "socket"
    other = Queue(load(EXAMPLE), Store(deep / "queue.db"))
    other.issue("hotich")
    th.join(5)
    assert got == [True]
    store.close()


def test_without_a_usable_wake_folder_the_store_falls_back_to_polling(tmp_path: Path) -> None:
    db = tmp_path / "queue.db"
    Path(str(db) + ".wake").write_text("not a folder")
    store = Store(db)
    store.watch_interval = 0.05
    start = store.last_seq()
    got: list[bool] = []
    th = threading.Thread(target=lambda: got.append(store.wait_for_events(start, timeout=20)))
    th.start()
    time.sleep(0.2)
    assert store.watch_mode == "poll"
    Queue(load(EXAMPLE), Store(db)).issue("hotich")
    th.join(5)
    assert got == [True]
    store.close()
