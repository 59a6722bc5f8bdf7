"""`kiosk call`, `issue` and `status` load the core and nothing else: no printer, screen,
GPIO, network or metrics library, so a clerk's call from a terminal starts at once.

Each check runs the command in a fresh interpreter and reads ``sys.modules`` after
``main()``: the same imports a real ``kiosk call 3`` process pays for.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from kiosk.core.store import Store

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = ROOT / "config" / "example.toml"

#: Libraries a queue command must not load (each costs tens of milliseconds, or more on a Pi).
HEAVY = (
    "requests",
    "urllib3",
    "prometheus_client",
    "http.server",
    "pygame",
    "PIL",
    "escpos",
    "serial",
    "gpiozero",
    "qrcode",
)
#: Project modules behind the other commands.
FEATURES = (
    "kiosk.office",
    "kiosk.ui",
    "kiosk.inputs",
    "kiosk.outputs",
    "kiosk.compose",
    "kiosk.sim.office",
    "kiosk.doctor.checks",
    "central.receiver",
    "central.cli",
    "central.db",
    "printer.job",
    "printer.connection",
    "display.app",
    "display.render",
    "display.receiver",
    "display.announcer",
    "display.voice",
    "display.sdlvideo",
)

PROBE = """
import json, sys
from kiosk.cli import main
rc = main(sys.argv[1:])
print(json.dumps({"rc": rc, "modules": sorted(sys.modules)}))
"""


def loaded_by(*argv: str) -> tuple[int, set[str]]:
    """(exit code, every module loaded) of ``kiosk ARGV`` run in a fresh interpreter."""
    r = subprocess.run(
        [sys.executable, "-c", PROBE, *argv],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    last = r.stdout.strip().splitlines()[-1]
    doc = json.loads(last)
    return doc["rc"], set(doc["modules"])


def offenders(modules: set[str]) -> list[str]:
    bad = [m for m in modules if any(m == h or m.startswith(h + ".") for h in HEAVY + FEATURES)]
    return sorted(bad)


@pytest.mark.parametrize(
    "argv",
    [
        ("issue", "hotich"),
        ("call", "1"),
        ("status",),
        ("status", "--json"),
    ],
    ids=lambda a: " ".join(a),
)
def test_queue_command_loads_no_printer_screen_gpio_network_or_metrics_code(
    tmp_path: Path, argv: tuple[str, ...]
) -> None:
    Store(tmp_path / "q.db").close()
    where = ("--config", str(EXAMPLE), "--db", str(tmp_path / "q.db"))
    rc, _ = loaded_by("issue", "hotich", *where)  # a store with a waiting ticket
    assert rc == 0
    rc, modules = loaded_by(*argv, *where)
    assert rc == 0
    assert "kiosk.core.queue" in modules  # the probe really ran the command
    assert offenders(modules) == []


def test_building_the_parser_loads_no_feature_module() -> None:
    code = (
        "import json, sys; from kiosk.cli import build_parser; build_parser(); "
        "print(json.dumps(sorted(sys.modules)))"
    )
    r = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    assert offenders(set(json.loads(r.stdout))) == []


def test_kiosk_call_imports_none_of_the_heavy_libraries_per_importtime(tmp_path: Path) -> None:
    """The check of issue 10, as written: ``python -X importtime -m kiosk call 1``."""
    Store(tmp_path / "q.db").close()
    where = ["--config", str(EXAMPLE), "--db", str(tmp_path / "q.db")]
    subprocess.run([sys.executable, "-m", "kiosk", "issue", "hotich", *where], check=True, cwd=ROOT)
    r = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "kiosk", "call", "1", *where],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert r.returncode == 0 and "A001" in r.stdout
    imported = {
        line.rsplit("|", 1)[1].strip()
        for line in r.stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    }
    assert "kiosk.core.store" in imported
    assert offenders(imported) == []
