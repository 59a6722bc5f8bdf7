"""The kiosk command: JSON outputs, exit codes, and messages without tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from kiosk.cli import main
from tests.conftest import EXAMPLE

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def db(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """An office's queue database, made as a technician does (`kiosk init`)."""
    path = tmp_path / "q.db"
    assert main(["init", "--db", str(path)]) == 0
    capsys.readouterr()
    return path


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    rc = main(list(args))
    out, err = capsys.readouterr()
    return rc, out, err


def test_issue_json_has_code_service_and_ahead(
    capsys: pytest.CaptureFixture[str], db: Path
) -> None:
    rc, out, _ = run(capsys, "issue", "hotich", "--db", str(db), "--json")
    first = json.loads(out)
    rc2, out2, _ = run(capsys, "issue", "hotich", "--priority", "--db", str(db), "--json")
    second = json.loads(out2)
    assert rc == rc2 == 0
    assert (first["code"], first["service"], first["ahead"]) == ("A001", "hotich", 0)
    assert (second["code"], second["priority"], second["ahead"]) == ("A002", True, 0)


def test_call_json_ticket_is_code_or_null_when_nobody_waits(
    capsys: pytest.CaptureFixture[str], db: Path
) -> None:
    run(capsys, "issue", "chungthuc", "--db", str(db))
    rc, out, _ = run(capsys, "call", "2", "--db", str(db), "--json")
    assert rc == 0 and json.loads(out)["ticket"] == "B001"
    rc, out, _ = run(capsys, "call", "2", "--db", str(db), "--json")
    assert rc == 0 and json.loads(out)["ticket"] is None


def test_staff_commands_work_end_to_end(capsys: pytest.CaptureFixture[str], db: Path) -> None:
    d = ["--db", str(db), "--json"]
    run(capsys, "issue", "hotich", *d)
    run(capsys, "issue", "hotich", *d)
    assert json.loads(run(capsys, "call", "1", *d)[1])["ticket"] == "A001"
    assert json.loads(run(capsys, "recall", "1", *d)[1])["recall_count"] == 1
    assert json.loads(run(capsys, "skip", "1", *d)[1]) == {
        "counter": 1,
        "skipped": "A001",
        "ticket": "A002",
    }
    assert json.loads(run(capsys, "transfer", "1", "chungthuc", *d)[1])["service"] == "chungthuc"
    assert json.loads(run(capsys, "call", "3", *d)[1])["ticket"] == "A002"
    assert json.loads(run(capsys, "finish", "3", *d)[1])["ticket"] == "A002"
    assert json.loads(run(capsys, "rate", "3", "3", *d)[1])["rating"] == 3
    status = json.loads(run(capsys, "status", *d)[1])
    assert status["by_status"] == {"no_show": 1, "served": 1}


def test_events_json_lines_have_seq_type_at_and_code(
    capsys: pytest.CaptureFixture[str], db: Path
) -> None:
    run(capsys, "issue", "hotich", "--db", str(db))
    run(capsys, "call", "1", "--db", str(db))
    rc, out, _ = run(capsys, "events", "--db", str(db), "--json")
    lines = [json.loads(x) for x in out.splitlines()]
    assert rc == 0 and [e["type"] for e in lines] == [
        "day_opened",
        "ticket_issued",
        "ticket_called",
    ]
    assert all({"seq", "type", "at", "code"} <= e.keys() for e in lines)
    assert lines[1]["code"] == "A001" and lines[2]["counter"] == 1
    rc, out, _ = run(capsys, "events", "--db", str(db), "--json", "--since", str(lines[1]["seq"]))
    assert [json.loads(x)["type"] for x in out.splitlines()] == ["ticket_called"]


@pytest.mark.parametrize(
    "args,words",
    [
        (["issue", "nope"], ['unknown service "nope"', "hotich"]),
        (["call", "9"], ['unknown counter "9"', "1, 2, 3, 4, 5"]),
        (["call", "ba"], ['unknown counter "ba"']),
        (["transfer", "1", "nope"], ['unknown service "nope"']),
    ],
)
def test_unknown_service_or_counter_exits_2_with_message(
    capsys: pytest.CaptureFixture[str], db: Path, args: list[str], words: list[str]
) -> None:
    rc, out, err = run(capsys, *args, "--db", str(db))
    assert rc == 2 and out == ""
    for w in words:
        assert w in err


def test_refused_operation_exits_1_and_changes_nothing(
    capsys: pytest.CaptureFixture[str], db: Path
) -> None:
    run(capsys, "issue", "hotich", "--db", str(db))
    before = run(capsys, "events", "--db", str(db), "--json")[1]
    rc, _, err = run(capsys, "recall", "1", "--db", str(db))
    assert rc == 1 and "no called ticket to recall" in err
    assert run(capsys, "events", "--db", str(db), "--json")[1] == before


def test_broken_config_exits_2_without_traceback(tmp_path: Path) -> None:
    db = tmp_path / "q.db"
    bad = tmp_path / "bad.toml"
    bad.write_text("[site]\nname = 'x'\nnmae = 'y'\n", encoding="utf-8")
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "kiosk.cli",
            "issue",
            "hotich",
            "--config",
            str(bad),
            "--db",
            str(db),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert r.returncode == 2 and "site.nmae: unknown key (did you mean 'name'?)" in r.stderr
    assert "Traceback" not in r.stderr and not db.exists()


def test_unwritable_database_is_a_message_not_a_traceback(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    r = subprocess.run(
        [sys.executable, "-m", "kiosk.cli", "status", "--db", str(blocker / "x" / "q.db")],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert r.returncode == 1 and "--db PATH" in r.stderr and "Traceback" not in r.stderr


def test_config_from_environment_is_used(
    capsys: pytest.CaptureFixture[str], db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = (
        (ROOT / "config" / "example.toml")
        .read_text(encoding="utf-8")
        .replace('prefix = "A"', 'prefix = "H"')
    )
    site = tmp_path / "site.toml"
    site.write_text(text, encoding="utf-8")
    monkeypatch.setenv("KIOSK_CONFIG", str(site))
    rc, out, _ = run(capsys, "issue", "hotich", "--db", str(db), "--json")
    assert json.loads(out)["code"] == "H001"


def test_demo_day_runs_headless_and_writes_its_record(tmp_path: Path) -> None:
    out = tmp_path / "sim"
    r = subprocess.run(
        [sys.executable, "-m", "kiosk.cli", "sim", "--headless", "--demo", "--out", str(out)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=240,
    )
    assert r.returncode == 0, r.stderr
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["issued"] > 20 and summary["transferred"] >= 1


def test_status_of_an_empty_day_ends_cleanly_not_in_a_comma(
    capsys: pytest.CaptureFixture[str], db: Path
) -> None:
    from kiosk.core.store import Store

    Store(db).close()
    rc, out, _ = run(capsys, "status", "--db", str(db))
    first = out.splitlines()[0]
    assert rc == 0 and first.endswith(": 0 issued"), first
    run(capsys, "issue", "hotich", "--db", str(db))
    first = run(capsys, "status", "--db", str(db))[1].splitlines()[0]
    assert first.endswith(": 1 issued, waiting 1"), first


@pytest.mark.parametrize(
    "argv",
    [
        ["issue", "\x1b[2J\x1b[31mred"],
        ["issue", "x" * 100_000],
        ["call", "\x1b]0;owned\x07"],
        ["print", "\x1b[2J" + "A" * 5000, "--printer", "dummy:"],
        ["report", "--from", "\x1b[31m2026"],
        ["report", "--month", "y" * 100_000],
        ["ticket-preview", "\x1b[2J" * 1000, "--out", "x.png"],
    ],
)
def test_typed_input_is_echoed_cut_and_with_control_characters_escaped(
    capsys: pytest.CaptureFixture[str], db: Path, argv: list[str]
) -> None:
    from kiosk.core.store import Store

    Store(db).close()
    rc, out, err = run(capsys, *argv, "--db", str(db))
    assert rc == 2 and out == ""
    assert "\x1b" not in err and "\x07" not in err and "Traceback" not in err
    assert err.count("\n") == 1 and len(err) < 300, err
    assert "\\x1b" in err or "characters)" in err


def test_echo_keeps_vietnamese_and_escapes_the_rest() -> None:
    from kiosk.core.echo import echo

    assert echo("Hộ tịch") == "Hộ tịch"
    assert echo("a\x1b[1mb\nc\x00") == "a\\x1b[1mb\\nc\\x00"
    assert echo("é" * 50) == "é" * 40 + "… (50 characters)"


def test_a_mistyped_db_is_refused_and_creates_nothing(
    capsys: pytest.CaptureFixture[str], db: Path
) -> None:
    typo = db.with_name("q.bd")
    rc, out, err = run(capsys, "issue", "hotich", "--db", str(typo))
    assert rc != 0 and "no queue database" in err and "kiosk init" in err
    assert not typo.exists()
    rc, _, err = run(capsys, "call", "1", "--db", "")
    assert rc == 2 and "--db is empty" in err


def test_init_creates_once_and_then_says_it_exists(capsys: pytest.CaptureFixture[str], db: Path):
    rc, out, _ = run(capsys, "init", "--db", str(db))
    assert rc == 0 and "exists already" in out
    fresh = db.with_name("new.db")
    rc, out, _ = run(capsys, "init", "--db", str(fresh), "--json")
    assert rc == 0 and json.loads(out)["created"] is True and fresh.exists()


def test_an_empty_or_memory_storage_path_is_refused(capsys: pytest.CaptureFixture[str], tmp_path):
    site = tmp_path / "site.toml"
    site.write_text(
        EXAMPLE.read_text(encoding="utf-8").replace(
            'path = "/var/lib/kiosk/queue.db"', 'path = ":memory:"'
        ),
        encoding="utf-8",
    )
    rc, _, err = run(capsys, "issue", "hotich", "--config", str(site))
    assert rc != 0 and "keeps" in err and "Traceback" not in err
