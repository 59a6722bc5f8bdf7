"""kiosk backup: consistent copies while tickets are being issued, and only N kept."""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path

import pytest

from kiosk.cli import main
from kiosk.core.config import Config
from kiosk.core.queue import Queue
from kiosk.core.store import Store, StoreError
from kiosk.office.backup import backup

EXAMPLE = str(Path(__file__).resolve().parents[3] / "config/example.toml")


def test_backup_while_tickets_are_issued_is_a_complete_consistent_copy(
    cfg: Config, tmp_path: Path
) -> None:
    db = tmp_path / "queue.db"
    store = Store(db)
    q = Queue(cfg, store)
    for _ in range(50):
        q.issue("hotich")
    stop = threading.Event()

    def issue_more() -> None:
        w = Queue(cfg, Store(db))
        while not stop.is_set():
            w.issue("chungthuc")
        w.store.close()

    t = threading.Thread(target=issue_more)
    t.start()
    try:
        copy, _ = backup(db, tmp_path / "backups", keep=5)
    finally:
        stop.set()
        t.join()
        store.close()
    conn = sqlite3.connect(copy)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        tickets = conn.execute("SELECT count(*) FROM tickets").fetchone()[0]
        issued_events = conn.execute(
            "SELECT count(*) FROM events WHERE type = 'ticket_issued'"
        ).fetchone()[0]
    finally:
        conn.close()
    # A snapshot: every ticket in the copy has its event, and nothing is half-written.
    assert tickets >= 50 and tickets == issued_events
    assert not list((tmp_path / "backups").glob("*.part"))


def test_only_the_newest_copies_are_kept(tmp_path: Path) -> None:
    db = tmp_path / "queue.db"
    Store(db).close()
    made = [backup(db, tmp_path / "b", keep=3, now=1_800_000_000 + 86400 * i)[0] for i in range(5)]
    left = sorted((tmp_path / "b").glob("queue-*.db"))
    assert left == made[2:]


def test_missing_database_is_a_clear_refusal(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="no queue database"):
        backup(tmp_path / "none.db", tmp_path / "b", keep=3)
    assert main(["backup", "--config", EXAMPLE, "--db", str(tmp_path / "none.db")]) == 1


def test_backup_command_prints_json_with_the_copy(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "queue.db"
    Store(db).close()
    code = main(["backup", "--json", "--config", EXAMPLE, "--db", str(db), "--keep", "2"])
    data = json.loads(capsys.readouterr().out)
    assert code == 0
    assert Path(data["backup"]).parent == tmp_path / "backups" and data["bytes"] > 0


def test_keep_zero_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "queue.db"
    Store(db).close()
    assert main(["backup", "--config", EXAMPLE, "--db", str(db), "--keep", "0"]) == 2
    assert not (tmp_path / "backups").exists()
