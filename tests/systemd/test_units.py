"""The unit files pass systemd's own checks and keep the kiosk's service contract.

`systemd-analyze verify` reports problems only on stderr (its exit code stays 0 for
unknown keys), so the tests demand an empty stderr. It also needs every ExecStart
binary to exist, so the units are checked inside a scratch root laid out like an
installed kiosk (/opt/kiosk/venv/bin/...), with the host's own systemd units
copied in for the targets they refer to.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
UNITS_DIR = ROOT / "systemd"
SERVICES = ["kiosk.service", "hall-display.service", "kiosk-backup.service", "kiosk-web.service"]
# The province's central server (docs/central.md): not on a kiosk, same hardening.
CENTRAL_SERVICES = ["central-server.service", "central-server-backup.service"]
UNITS = [*SERVICES, *CENTRAL_SERVICES, "kiosk-backup.timer", "central-server-backup.timer"]
VENV_BIN = "/opt/kiosk/venv/bin"
CENTRAL_BIN = "/opt/central-server/venv/bin"


def need(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        pytest.fail(
            f"{tool} is missing: apt-get install systemd udev; make test installs it (tools/system-packages.txt)"
        )
    return path


def parse_unit(path: Path) -> dict[str, list[str]]:
    """``Section.Key`` -> every value given, in order (keys may repeat)."""
    out: dict[str, list[str]] = {}
    section = ""
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            section = line.strip("[]")
            continue
        key, _, value = line.partition("=")
        out.setdefault(f"{section}.{key.strip()}", []).append(value.strip())
    return out


@pytest.fixture(scope="module")
def unit_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    need("systemd-analyze")
    root = tmp_path_factory.mktemp("root")
    bin_dir = root / VENV_BIN.lstrip("/")
    bin_dir.mkdir(parents=True)
    for name in ("kiosk", "hall-display"):
        exe = bin_dir / name
        exe.write_text("#!/bin/sh\n")
        exe.chmod(0o755)
    for path in (f"{CENTRAL_BIN}/central-server", "/usr/bin/sh"):
        exe = root / path.lstrip("/")
        exe.parent.mkdir(parents=True, exist_ok=True)
        exe.write_text("#!/bin/sh\n")
        exe.chmod(0o755)
    system = root / "usr/lib/systemd/system"
    shutil.copytree("/usr/lib/systemd/system", system, symlinks=True)
    etc = root / "etc/systemd/system"
    etc.mkdir(parents=True)
    for unit in UNITS:
        shutil.copy(UNITS_DIR / unit, etc / unit)
    return root


def verify(root: Path, unit: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["systemd-analyze", "verify", f"--root={root}", "--man=no", f"/etc/systemd/system/{unit}"],
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("unit", UNITS)
def test_unit_passes_systemd_analyze_verify_with_empty_stderr(unit_root: Path, unit: str) -> None:
    r = verify(unit_root, unit)
    assert r.stderr == "", r.stderr
    assert r.returncode == 0


def test_verify_check_reports_a_misspelt_key(unit_root: Path) -> None:
    # Proves the check above can fail: a typo only shows up on stderr.
    text = (UNITS_DIR / "kiosk.service").read_text().replace("Restart=always", "Restrat=always")
    (unit_root / "etc/systemd/system/typo.service").write_text(text)
    r = verify(unit_root, "typo.service")
    assert "Unknown key 'Restrat'" in r.stderr


def test_verify_check_reports_a_missing_program(unit_root: Path) -> None:
    text = (UNITS_DIR / "kiosk.service").read_text().replace("bin/kiosk run", "bin/nokiosk run")
    (unit_root / "etc/systemd/system/noexe.service").write_text(text)
    r = verify(unit_root, "noexe.service")
    assert "nokiosk is not executable" in r.stderr


def exposure(unit: str) -> tuple[float, str]:
    r = subprocess.run(
        ["systemd-analyze", "security", "--offline=true", str(UNITS_DIR / unit)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    m = re.search(r"Overall exposure level for \S+: ([\d.]+) (\w+)", r.stdout)
    assert m, r.stdout + r.stderr
    return float(m.group(1)), m.group(2)


@pytest.mark.parametrize("unit", [*SERVICES, *CENTRAL_SERVICES])
def test_service_is_rated_ok_or_safe_by_systemd_analyze_security(unit: str) -> None:
    need("systemd-analyze")
    score, level = exposure(unit)
    print(f"{unit}: {score} {level}")
    assert level in ("SAFE", "OK"), f"{unit}: {score} {level}"
    assert score < 2.0, f"{unit} became more exposed ({score}); docs/deployment.md records 1.5"


def test_kiosk_service_is_a_watched_notify_service_on_tty1() -> None:
    u = parse_unit(UNITS_DIR / "kiosk.service")
    assert u["Service.Type"] == ["notify"]
    assert int(u["Service.WatchdogSec"][0]) > 0
    assert u["Service.Restart"] == ["always"]
    assert int(u["Unit.StartLimitBurst"][0]) > 1
    assert int(u["Unit.StartLimitIntervalSec"][0]) > 0
    assert u["Service.User"] == ["kiosk"]
    assert u["Service.ExecStart"] == [f"{VENV_BIN}/kiosk run"]
    assert u["Service.TTYPath"] == ["/dev/tty1"]
    assert "getty@tty1.service" in u["Unit.Conflicts"][0]
    env = " ".join(u["Service.Environment"])
    assert "SDL_VIDEODRIVER=kmsdrm" in env
    assert u["Service.CapabilityBoundingSet"] == [""]


def test_hall_display_service_runs_on_the_stable_link_port() -> None:
    u = parse_unit(UNITS_DIR / "hall-display.service")
    assert u["Service.Type"] == ["notify"]
    assert u["Service.Restart"] == ["always"]
    assert u["Service.ExecStart"] == [f"{VENV_BIN}/hall-display run --port /dev/hall-display"]
    assert u["Service.User"] == ["kiosk"]


def test_the_two_screen_services_never_run_on_the_same_pi() -> None:
    k = parse_unit(UNITS_DIR / "kiosk.service")["Unit.ConditionPathExists"]
    d = parse_unit(UNITS_DIR / "hall-display.service")["Unit.ConditionPathExists"]
    assert k == ["!/etc/kiosk/role-display"] and d == ["/etc/kiosk/role-display"]


def test_backup_timer_starts_the_backup_service_nightly_and_catches_up() -> None:
    t = parse_unit(UNITS_DIR / "kiosk-backup.timer")
    assert t["Timer.Persistent"] == ["true"]
    r = subprocess.run(
        ["systemd-analyze", "calendar", t["Timer.OnCalendar"][0]],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert r.returncode == 0 and "Next elapse" in r.stdout, r.stderr
    s = parse_unit(UNITS_DIR / "kiosk-backup.service")
    assert any("kiosk backup" in c for c in s["Service.ExecStart"])


def test_every_group_a_service_needs_is_given_to_the_kiosk_user() -> None:
    # The units rely on the user's groups for device access (the rules give
    # printers to lp and serial adapters to dialout); install.sh creates them.
    script = (ROOT / "image" / "install.sh").read_text()
    m = re.search(r'^KIOSK_GROUPS="([^"]+)"', script, re.M)
    assert m, "install.sh must define KIOSK_GROUPS"
    groups = set(m.group(1).split())
    rules = (UNITS_DIR / "70-kiosk.rules").read_text()
    assert set(re.findall(r'GROUP="(\w+)"', rules)) <= groups
    assert {"video", "render", "input", "gpio", "audio"} <= groups


def test_central_server_listens_on_loopback_behind_the_proxy_as_its_own_user() -> None:
    u = parse_unit(UNITS_DIR / "central-server.service")
    assert u["Service.User"] == ["central-server"]
    assert u["Service.StateDirectory"] == ["central-server"]
    assert u["Service.Restart"] == ["always"]
    (cmd,) = u["Service.ExecStart"]
    assert cmd.startswith(f"{CENTRAL_BIN}/central-server run --listen 127.0.0.1:")
    assert "--forwarded-allow-ips 127.0.0.1" in cmd
    assert "postgresql://" not in (UNITS_DIR / "central-server.service").read_text().replace(
        "# ", ""
    ), "the password belongs in ~/.pgpass, never in the unit"


def test_central_backup_timer_dumps_the_database_nightly_and_catches_up() -> None:
    t = parse_unit(UNITS_DIR / "central-server-backup.timer")
    assert t["Timer.Persistent"] == ["true"]
    r = subprocess.run(
        ["systemd-analyze", "calendar", t["Timer.OnCalendar"][0]],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert r.returncode == 0 and "Next elapse" in r.stdout, r.stderr
    s = parse_unit(UNITS_DIR / "central-server-backup.service")
    (cmd,) = s["Service.ExecStart"]
    assert "pg_dump --format=custom" in cmd and "-mtime +14 -delete" in cmd


def test_central_backup_command_writes_a_dump_and_keeps_two_weeks(tmp_path: Path) -> None:
    # The ExecStart line as systemd would run it ($$ -> $, %% -> %), with a fake pg_dump.
    s = parse_unit(UNITS_DIR / "central-server-backup.service")
    (cmd,) = s["Service.ExecStart"]
    script = cmd.split(" -c ", 1)[1].strip("'").replace("$$", "$").replace("%%", "%")
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "pg_dump").write_text(
        '#!/bin/sh\nfor a; do case "$a" in --file=*) echo "$*" > "${a#--file=}";; esac; done\n'
    )
    (fake / "pg_dump").chmod(0o755)
    state = tmp_path / "state"
    state.mkdir()
    old = state / "central-2000-01-01.dump"
    old.write_text("old")
    import os

    os.utime(old, (0, 0))
    env = {
        "PATH": f"{fake}:/usr/bin:/bin",
        "STATE_DIRECTORY": str(state),
        "CENTRAL_DB": "service=central",
    }
    r = subprocess.run(["sh", "-c", script], env=env, capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    dumps = sorted(p.name for p in state.iterdir())
    assert len(dumps) == 1 and dumps[0].startswith("central-20") and not old.exists()
    assert "--dbname=service=central" in (state / dumps[0]).read_text()
