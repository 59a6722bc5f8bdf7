"""kiosk staff add/list/remove: scrypt hashes with a salt each, no PIN on the command line."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
import time
from pathlib import Path

from kiosk.core import staff
from kiosk.core.store import Store
from tests.conftest import EXAMPLE, ROOT

KIOSK = [sys.executable, "-m", "kiosk.cli"]


def run(db: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*KIOSK, "staff", *args, "--db", str(db), "--config", str(EXAMPLE)],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )


def test_add_reads_the_pin_from_stdin_and_stores_only_a_salted_scrypt_hash(tmp_path: Path) -> None:
    db = tmp_path / "q.db"
    Store(db).close()  # the office's store, as after `kiosk init`
    r = run(db, "add", "lan", "--counter", "1", "--counter", "3", stdin="2468\n")
    assert r.returncode == 0, r.stderr
    assert "counter(s) 1, 3" in r.stdout
    assert run(db, "add", "minh", "--counter", "2", stdin="2468\n").returncode == 0
    store = Store(db)
    with store.read() as tx:
        a, b = tx.staff("lan"), tx.staff("minh")
    assert a is not None and b is not None
    assert a[0] != b[0] and a[1] != b[1]  # same PIN, different salt and hash
    assert b"2468" not in db.read_bytes()
    assert json.loads(a[2])["n"] >= 2**14
    assert staff.verify(store, "lan", "2468") is not None
    assert staff.verify(store, "lan", "2469") is None
    assert staff.verify(store, "nobody", "2468") is None


def test_list_and_remove(tmp_path: Path) -> None:
    db = tmp_path / "q.db"
    Store(db).close()  # the office's store, as after `kiosk init`
    run(db, "add", "lan", "--counter", "1", stdin="2468\n")
    r = run(db, "list", "--json")
    assert json.loads(r.stdout) == [{"user": "lan", "counters": [1]}]
    assert run(db, "remove", "lan").returncode == 0
    assert "no staff accounts yet" in run(db, "list").stdout


def test_there_is_no_default_account(tmp_path: Path) -> None:
    store = Store(tmp_path / "q.db")
    assert staff.accounts(store) == []


def test_bad_input_is_one_line_exit_2_and_changes_nothing(tmp_path: Path) -> None:
    db = tmp_path / "q.db"
    Store(db).close()  # the office's store, as after `kiosk init`
    cases = [
        (("add", "lan", "--counter", "9"), "1234\n", "unknown counter 9"),
        (("add", "Lan Nguyễn", "--counter", "1"), "1234\n", "not allowed"),
        (("add", "lan", "--counter", "1"), "12\n", "at least 4"),
        (("add", "lan", "--counter", "1"), "", "no PIN given"),
        (("remove", "ghost"), "", 'no staff account "ghost"'),
    ]
    for args, stdin, message in cases:
        r = run(db, *args, stdin=stdin)
        assert r.returncode == 2, (args, r.stderr)
        assert message in r.stderr and "Traceback" not in r.stderr
        assert len(r.stderr.strip().splitlines()) == 1
    assert staff.accounts(Store(db)) == []


def test_add_on_a_terminal_asks_twice_without_echo(tmp_path: Path) -> None:
    db = tmp_path / "q.db"
    Store(db).close()  # the office's store, as after `kiosk init`
    pid, fd = pty.fork()
    if pid == 0:  # pragma: no cover - the child
        os.chdir(ROOT)
        os.execv(
            sys.executable,
            [*KIOSK, "staff", "add", "lan", "--counter", "1", "--db", str(db)]
            + ["--config", str(EXAMPLE)],
        )
    out = b""

    def expect(text: bytes) -> None:
        nonlocal out
        deadline = time.monotonic() + 30
        while text not in out and time.monotonic() < deadline:
            out += os.read(fd, 1024)
        assert text in out, out

    expect(b"PIN")
    os.write(fd, b"97531\n")
    expect(b"again")
    os.write(fd, b"97531\n")
    expect(b"counter(s) 1")
    os.waitpid(pid, 0)
    assert b"97531" not in out  # not echoed
    assert staff.verify(Store(db), "lan", "97531") is not None
