"""``kiosk time set``: a technician sets the clock; refused when clearly wrong, or not root."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import pytest

from kiosk.cli import main, time_cmds
from kiosk.core.config import load
from kiosk.core.queue import Queue
from kiosk.core.store import Store
from tests.conftest import EXAMPLE, Clock


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """A store whose newest event is Monday 2026-11-30 16:55, local time."""
    cfg = load(EXAMPLE)
    clock = Clock(0)
    clock.set_local(cfg, "2026-11-30T16:55:00")
    path = tmp_path / "queue.db"
    with Store(path) as store:
        Queue(cfg, store, clock).issue("hotich")
    return path


@pytest.fixture
def ran(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """Commands `kiosk time set` runs, recorded instead of run, as if root."""
    calls: list[list[str]] = []

    def fake(cmd: Sequence[str]) -> tuple[int, str]:
        calls.append(list(cmd))
        return 0, ""

    monkeypatch.setattr(time_cmds, "runner", fake)
    monkeypatch.setattr(time_cmds, "is_root", lambda: True)
    return calls


def test_time_set_as_root_sets_the_system_clock_in_the_site_time_zone(
    db: Path, ran: list[list[str]], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["time", "set", "2026-12-01 08:15", "--db", str(db)]) == 0
    seconds = int(datetime.fromisoformat("2026-12-01T08:15:00+07:00").timestamp())
    assert ran[0] == ["date", "-s", f"@{seconds}"]
    assert "clock set to 2026-12-01 08:15:00 Asia/Ho_Chi_Minh" in capsys.readouterr().out


def test_time_set_before_the_newest_event_is_refused_and_changes_nothing(
    db: Path, ran: list[list[str]], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["time", "set", "2026-11-30 08:15", "--db", str(db)]) == 1
    err = capsys.readouterr().err
    assert "before the newest event in the store (2026-11-30 16:55)" in err
    assert "nothing was changed" in err
    assert ran == []


@pytest.mark.parametrize("when", ["1970-01-01 07:00", "2000-01-01 00:00", "2030-01-01 08:00"])
def test_time_set_to_a_clearly_wrong_year_is_refused(
    db: Path, ran: list[list[str]], when: str
) -> None:
    assert main(["time", "set", when, "--db", str(db)]) == 1
    assert ran == []


def test_time_set_that_is_not_a_date_is_a_usage_error(
    db: Path, ran: list[list[str]], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["time", "set", "8:15 tomorrow", "--db", str(db)]) == 2
    err = capsys.readouterr().err
    assert "YYYY-MM-DD HH:MM" in err and "Traceback" not in err
    assert ran == []


def test_time_set_without_root_is_refused_and_says_how(
    db: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(time_cmds, "is_root", lambda: False)
    monkeypatch.setattr(time_cmds, "runner", lambda cmd: pytest.fail("ran without root"))
    assert main(["time", "set", "2026-12-01 08:15", "--db", str(db)]) == 1
    assert "needs root" in capsys.readouterr().err


def test_time_set_when_date_fails_says_the_clock_was_not_set(
    db: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(time_cmds, "is_root", lambda: True)
    monkeypatch.setattr(time_cmds, "runner", lambda cmd: (1, "date: cannot set date"))
    assert main(["time", "set", "2026-12-01 08:15", "--db", str(db)]) == 1
    assert "the clock was not set" in capsys.readouterr().err
