"""The image scripts parse, explain themselves, and refuse bad input before touching anything.

The builds themselves take minutes to tens of minutes (debootstrap under qemu-user,
qemu-system boot) and run by hand: `sudo image/build.sh --debian` then
`image/boot-test.sh` (docs/deployment.md gives the measured times).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

IMAGE = Path(__file__).resolve().parents[2] / "image"
SCRIPTS = ["build.sh", "boot-test.sh", "install.sh", "lib.sh", "fake-raspios.sh"]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("script", SCRIPTS)
def test_script_is_valid_bash(script: str) -> None:
    r = run("bash", "-n", str(IMAGE / script))
    assert r.returncode == 0, r.stderr


def test_overlay_script_is_valid_posix_sh_and_answers_prereqs() -> None:
    script = IMAGE / "rootfs/etc/initramfs-tools/scripts/init-bottom/kiosk-overlay"
    assert run("sh", "-n", str(script)).returncode == 0
    r = run("sh", str(script), "prereqs")
    assert r.returncode == 0 and r.stdout.strip() == ""
    assert script.stat().st_mode & 0o111, "initramfs-tools only runs executable scripts"


@pytest.mark.parametrize("script", ["build.sh", "install.sh"])
def test_help_describes_the_options(script: str) -> None:
    r = run("bash", str(IMAGE / script), "--help")
    assert r.returncode == 0
    assert "--role" in r.stdout


def test_build_without_a_mode_says_what_to_give() -> None:
    r = run("bash", str(IMAGE / "build.sh"))
    assert r.returncode != 0
    assert "--from RASPIOS.img.xz or --debian" in r.stderr


def test_build_refuses_an_unknown_option() -> None:
    r = run("bash", str(IMAGE / "build.sh"), "--debain")
    assert r.returncode != 0 and "unknown option --debain" in r.stderr


def test_boot_test_without_an_image_says_how_to_build_one(tmp_path: Path) -> None:
    r = run("bash", str(IMAGE / "boot-test.sh"), str(tmp_path / "none.img"))
    assert r.returncode != 0
    assert "image/build.sh --debian" in r.stderr


def test_install_refuses_an_unknown_role_before_needing_root() -> None:
    r = run("bash", str(IMAGE / "install.sh"), "--role", "printer")
    assert r.returncode == 2 and "--role must be kiosk or display" in r.stderr
