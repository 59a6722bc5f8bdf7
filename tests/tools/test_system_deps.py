"""tools/system-deps.sh: `make test` installs the Debian packages it needs, or says exactly
what to install; tools/system-packages.txt is the one list, and .ci/run adds nothing."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT

TOOLS = ROOT / "tools"


def listed(text: str) -> list[str]:
    return [w for line in text.splitlines() for w in line.split("#", 1)[0].split()]


def run_as_user(script: Path) -> subprocess.CompletedProcess[str]:
    """Run ``script`` as an unprivileged user (nobody when we are root)."""
    cmd = [str(script)]
    if os.geteuid() == 0:
        cmd = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", *cmd]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60)


@pytest.fixture
def folder() -> Iterator[Path]:
    """A folder the unprivileged user can read (pytest's own is root's alone)."""
    d = Path(tempfile.mkdtemp(prefix="system-deps-"))
    d.chmod(0o755)
    yield d
    shutil.rmtree(d)


def copy_with_list(tmp_path: Path, packages: str) -> Path:
    script = tmp_path / "system-deps.sh"
    shutil.copy(TOOLS / "system-deps.sh", script)
    script.chmod(0o755)
    (tmp_path / "system-packages.txt").write_text(packages, encoding="utf-8")
    (tmp_path / "system-packages.txt").chmod(0o644)
    return script


def test_every_listed_package_says_why_it_is_needed() -> None:
    lines = (TOOLS / "system-packages.txt").read_text(encoding="utf-8").splitlines()
    entries = [ln for ln in lines if ln.strip() and not ln.lstrip().startswith("#")]
    assert len(entries) >= 10
    for ln in entries:
        name, _, why = ln.partition("#")
        assert len(name.split()) == 1 and why.strip(), f"one package and its reason: {ln!r}"


def test_a_missing_package_without_root_gives_one_line_naming_it_and_stops(folder: Path) -> None:
    script = copy_with_list(folder, "dpkg  # installed everywhere\nkiosk-no-such-pkg  # x\n")
    r = run_as_user(script)
    assert r.returncode == 1 and r.stdout == ""
    assert len(r.stderr.splitlines()) == 1
    assert "sudo apt-get install kiosk-no-such-pkg " in r.stderr
    assert "dpkg " not in r.stderr.split("install", 1)[1]  # only what is missing
    assert "tools/system-packages.txt" in r.stderr  # where the reasons are


def test_nothing_missing_is_silent_and_changes_nothing(folder: Path) -> None:
    script = copy_with_list(folder, "dpkg  # installed everywhere\nbash  # so is this\n")
    r = run_as_user(script)
    assert (r.returncode, r.stdout, r.stderr) == (0, "", "")


def test_ci_runs_exactly_the_readme_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    code = [ln for ln in ci.splitlines() if ln.strip() and not ln.startswith("#")]
    assert code == ["set -euo pipefail", 'cd "$(dirname "$0")/.."', "exec make test"]
    assert "make test" in (ROOT / "README.md").read_text(encoding="utf-8")
    assert "apt-get" not in ci


def test_make_test_installs_the_system_packages_before_anything_else() -> None:
    make = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "\ntest: system-deps\n" in make
    assert "\nsystem-deps:\n\t@tools/system-deps.sh\n" in make
