"""kiosk call --code, hold, return, restore, rate --reason: the staff rules of the web
panel also on the command line (exit 1 for a refusal, 2 for bad input)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from kiosk.core.store import Store
from tests.conftest import EXAMPLE, ROOT

KIOSK = [sys.executable, "-m", "kiosk.cli"]


def test_hold_return_restore_and_call_a_code_from_the_command_line(tmp_path: Path) -> None:
    db = tmp_path / "q.db"
    Store(db).close()  # kiosk init

    def kiosk(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*KIOSK, *args, "--db", str(db), "--config", str(EXAMPLE), "--json"],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=60,
        )

    for _ in range(3):
        assert kiosk("issue", "hotich").returncode == 0
    assert json.loads(kiosk("call", "1", "--code", "A003").stdout)["ticket"] == "A003"
    assert json.loads(kiosk("hold", "1").stdout)["ticket"] == "A003"
    assert json.loads(kiosk("return", "1").stdout)["ticket"] == "A003"
    assert json.loads(kiosk("call", "1").stdout)["ticket"] == "A003"  # first again
    assert json.loads(kiosk("skip", "1").stdout)["skipped"] == "A003"
    assert json.loads(kiosk("restore", "2", "A003").stdout)["ticket"] == "A003"
    r = kiosk("restore", "2", "A001")
    assert r.returncode == 1 and "was not skipped" in r.stderr and "Traceback" not in r.stderr
    r = kiosk("rate", "1", "5")
    assert r.returncode == 2 and "rating must be 1, 2 or 3" in r.stderr
