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


@pytest.mark.parametrize("script", ["build.sh", "boot-test.sh", "install.sh"])
def test_help_prints_usage_and_no_script_lines(script: str) -> None:
    r = run("bash", str(IMAGE / script), "--help")
    assert r.returncode == 0, r.stderr
    assert "Usage" in r.stdout or "image/" in r.stdout
    assert "realpath" not in r.stdout + r.stderr
    for line in r.stdout.splitlines():
        assert not line.startswith(("set -", "umask", "#!", "cd ")), line


def _wrapper(tmp_path: Path, uid: str) -> tuple[Path, dict[str, str]]:
    """image/kiosk-wrapper.sh as install.sh writes it, with a stand-in kiosk, runuser
    and id (to be root or not) that print what they were run with."""
    import os

    venv, fake = tmp_path / "venv", tmp_path / "bin"
    (venv / "bin").mkdir(parents=True)
    fake.mkdir()
    scripts = {
        venv / "bin/kiosk": 'echo "kiosk as $(id -u): $*"',
        fake / "runuser": 'echo "runuser $*"',
        fake / "id": f"echo {uid}",
    }
    for p, body in scripts.items():
        p.write_text(f"#!/bin/sh\n{body}\n")
        p.chmod(0o755)
    text = (IMAGE / "kiosk-wrapper.sh").read_text()
    w = tmp_path / "kiosk"
    w.write_text(text.replace("@VENV@", str(venv)).replace("@USER@", "kiosk"))
    w.chmod(0o755)
    return w, {**os.environ, "PATH": f"{fake}:{os.environ['PATH']}"}


def test_root_kiosk_command_runs_as_the_kiosk_user(tmp_path: Path) -> None:
    w, env = _wrapper(tmp_path, "0")
    r = subprocess.run(
        [str(w), "doctor", "--only", "clock"], capture_output=True, text=True, env=env
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == f"runuser -u kiosk -- {tmp_path}/venv/bin/kiosk doctor --only clock"


def test_root_kiosk_time_set_runs_as_root(tmp_path: Path) -> None:
    w, env = _wrapper(tmp_path, "0")
    r = subprocess.run(
        [str(w), "--debug", "time", "set", "2026-11-30 08:15"],
        capture_output=True,
        text=True,
        env=env,
    )
    assert r.stdout.strip() == "kiosk as 0: --debug time set 2026-11-30 08:15"


def test_other_users_run_the_kiosk_command_as_themselves(tmp_path: Path) -> None:
    w, env = _wrapper(tmp_path, "1000")
    r = subprocess.run([str(w), "status"], capture_output=True, text=True, env=env)
    assert r.stdout.strip() == "kiosk as 1000: status"


def test_install_writes_the_wrapper_and_no_longer_says_sudo() -> None:
    text = (IMAGE / "install.sh").read_text()
    assert "kiosk-wrapper.sh" in text and "/usr/local/bin/kiosk" in text
    assert "sudo -u" not in text


def test_missing_commands_hint_names_the_packages_including_mtools() -> None:
    r = run(
        "bash",
        "-c",
        f"source {IMAGE}/lib.sh; PATH=/nonexistent need mcopy mdir mkfs.vfat qemu-system-aarch64",
    )
    assert r.returncode != 0
    assert "missing commands: mcopy mdir mkfs.vfat qemu-system-aarch64" in r.stderr
    assert "apt-get install mtools dosfstools qemu-system-arm" in r.stderr


def test_build_names_the_flashing_command_for_what_it_wrote() -> None:
    text = (IMAGE / "build.sh").read_text()
    assert 'flash="xzcat $OUT.xz | dd' in text and 'flash="dd if=$OUT' in text
    assert "xzcat/dd" not in text
