"""image/install.sh, run for real in a Debian 12 chroot, twice and then for the other role.

The chroot is a debootstrap minbase with what Raspberry Pi OS Lite has that the
script relies on (systemd, udev, python3 with venv); amd64 stands in for arm64,
which changes nothing the script does. The root tarball and the wheel folder are
cached under image/work/ (gitignored): the first run takes about two minutes for
debootstrap, later runs about a minute.

It runs in every `make test` as root (CI's case); without root it is skipped with the
reason, and KIOSK_CHROOT_TEST=0 leaves it out (=1 makes a missing root a failure). It
needs debootstrap (tools/system-packages.txt) and the Debian and PyPI registries.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
IMAGE = ROOT / "image"
GROUPS = "gpio dialout lp video render input audio".split()

pytestmark = pytest.mark.timeout(1200)


def sh(script: str, **kw: object) -> str:
    r = subprocess.run(
        ["bash", "-c", f"set -euo pipefail; source {IMAGE}/lib.sh; {script}"],
        capture_output=True,
        text=True,
        **kw,  # type: ignore[call-overload]
    )
    assert r.returncode == 0, r.stdout + r.stderr
    return str(r.stdout)


@pytest.fixture(scope="module")
def chroot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    flag = os.environ.get("KIOSK_CHROOT_TEST", "")
    if flag == "0":
        pytest.skip("left out by KIOSK_CHROOT_TEST=0")
    if os.geteuid() != 0:
        if flag == "1":
            pytest.fail("KIOSK_CHROOT_TEST=1 needs root (chroot, mounts)")
        pytest.skip("needs root (chroot, mounts): run make test as root, as CI does")
    if shutil.which("debootstrap") is None:
        pytest.fail(
            "debootstrap is missing: apt-get install debootstrap "
            "(make test installs it: tools/system-packages.txt)"
        )
    # One chroot at a time, whatever pytest-xdist does with this module's tests: the cached
    # tarball and the wheel folder are rebuilt in place, so two builders would trip over
    # each other (make test runs pytest with --dist loadfile, which keeps them together).
    (IMAGE / "work").mkdir(exist_ok=True)
    lock = open(IMAGE / "work" / ".chroot-test.lock", "w")  # held until the fixture ends
    fcntl.flock(lock, fcntl.LOCK_EX)
    try:
        yield from _chroot(tmp_path_factory)
    finally:
        lock.close()


def _chroot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    tarball = sh('bootstrap_tarball amd64 "$TEST_CHROOT_PACKAGES"', timeout=900).strip()
    sh(
        f"PYTHON={sys.executable} make_wheelhouse {IMAGE}/work/wheels-amd64 manylinux2014_x86_64",
        timeout=600,
    )
    root = tmp_path_factory.mktemp("pi")
    subprocess.run(["tar", "-C", root, "-xf", tarball], check=True)
    root.chmod(0o755)  # it is "/": everyone must be able to enter it
    (root / "boot/firmware").mkdir(parents=True)  # as on Raspberry Pi OS
    for d in ("mnt/src", "mnt/wheels"):
        (root / d).mkdir(parents=True)
    sh(f"chroot_mounts {root}")
    subprocess.run(["mount", "--bind", "-o", "ro", ROOT, root / "mnt/src"], check=True)
    subprocess.run(
        ["mount", "--bind", "-o", "ro", IMAGE / "work/wheels-amd64", root / "mnt/wheels"],
        check=True,
    )
    try:
        yield root
    finally:
        sh(f"umount_below {root}")
        shutil.rmtree(root, ignore_errors=True)


def install(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["chroot", root, "/mnt/src/image/install.sh", "--wheels", "/mnt/wheels", "--no-apt", *args],
        capture_output=True,
        text=True,
        timeout=900,
        env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8"},
    )


def in_root(root: Path, *cmd: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["chroot", root, *cmd], capture_output=True, text=True, timeout=120)


def test_install_then_reinstall_then_switch_role(chroot: Path) -> None:
    # One test, in order, because each step builds on the machine the last left.
    r = install(chroot)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "created user kiosk" in r.stdout

    # The user: unprivileged, no password, no shell, exactly the device groups.
    pw = in_root(chroot, "getent", "passwd", "kiosk").stdout.split(":")
    assert pw[6].strip() == "/usr/sbin/nologin" and int(pw[2]) < 1000
    shadow = in_root(chroot, "getent", "shadow", "kiosk").stdout.split(":")
    assert shadow[1] in ("!", "!*", "*"), "the kiosk user must have no usable password"
    groups = set(in_root(chroot, "id", "-nG", "kiosk").stdout.split())
    assert groups == {"kiosk", *GROUPS}

    # The project runs from its virtual environment, as the kiosk user, and accepts
    # the site file.
    as_kiosk = in_root(
        chroot, "runuser", "-u", "kiosk", "--", "/opt/kiosk/venv/bin/kiosk", "--version"
    )
    assert as_kiosk.returncode == 0, as_kiosk.stderr
    site = chroot / "boot/firmware/kiosk.toml"
    assert site.read_bytes() == (ROOT / "config/example.toml").read_bytes()
    chk = in_root(chroot, "/opt/kiosk/venv/bin/kiosk", "check-config", "/boot/firmware/kiosk.toml")
    assert chk.returncode == 0, chk.stderr

    # Units, rules and log caps in place; the kiosk's units enabled.
    etc = chroot / "etc"
    assert (etc / "systemd/system/multi-user.target.wants/kiosk.service").is_symlink()
    assert (etc / "systemd/system/timers.target.wants/kiosk-backup.timer").is_symlink()
    assert not (etc / "systemd/system/multi-user.target.wants/hall-display.service").exists()
    assert (etc / "udev/rules.d/70-kiosk.rules").read_text() == (
        ROOT / "systemd/70-kiosk.rules"
    ).read_text()
    assert (etc / "systemd/journald.conf.d/kiosk.conf").is_file()
    state = (chroot / "var/lib/kiosk").stat()
    assert state.st_mode & 0o777 == 0o750

    # systemd accepts the installed units against the installed programs.
    for unit in ("kiosk.service", "kiosk-backup.service", "hall-display.service"):
        v = subprocess.run(
            [
                "systemd-analyze",
                "verify",
                f"--root={chroot}",
                "--man=no",
                f"/etc/systemd/system/{unit}",
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert v.stderr == "", f"{unit}: {v.stderr}"

    # Again: nothing duplicated, the technician's edits to the site file kept.
    site.write_text(site.read_text() + "\n# edited by the technician\n")
    edited = site.read_bytes()
    r2 = install(chroot)
    assert r2.returncode == 0, r2.stdout + r2.stderr
    assert "created" not in r2.stdout
    assert "keeping the existing site file" in r2.stdout
    assert site.read_bytes() == edited
    assert (etc / "passwd").read_text().count("\nkiosk:") == 1
    assert set(in_root(chroot, "id", "-nG", "kiosk").stdout.split()) == {"kiosk", *GROUPS}
    assert in_root(chroot, "/opt/kiosk/venv/bin/kiosk", "--version").returncode == 0

    # The same Pi turned into a hall display: one screen service, never both.
    r3 = install(chroot, "--role", "display")
    assert r3.returncode == 0, r3.stdout + r3.stderr
    assert (etc / "kiosk/role-display").exists()
    assert (etc / "systemd/system/multi-user.target.wants/hall-display.service").is_symlink()
    assert not (etc / "systemd/system/multi-user.target.wants/kiosk.service").exists()


def test_install_refuses_an_unknown_role_without_changing_anything(chroot: Path) -> None:
    before = (chroot / "etc/passwd").read_text()
    r = install(chroot, "--role", "printer")
    assert r.returncode == 2
    assert "--role must be kiosk or display" in r.stderr
    assert (chroot / "etc/passwd").read_text() == before


OVERLAY_SCRIPT = IMAGE / "rootfs/etc/initramfs-tools/scripts/init-bottom/kiosk-overlay"

# Runs inside the chroot, in a private mount namespace: a tmpfs plays the root
# partition the initramfs mounted at /sdcard, initramfs-tools' log functions are
# stubbed, and modprobe too (the host kernel has overlay built in). Every path is
# inside the chroot; the script refuses to run anywhere else.
OVERLAY_RUN = r"""
set -eu
[ -f /kiosk-chroot-test ] || { echo "not in the test chroot" >&2; exit 99; }
mkdir -p /scripts /sdcard /usr/local/sbin
printf '%s\n' 'log_success_msg() { echo "Success: $*"; }' \
    'log_failure_msg() { echo "Failure: $*"; }' \
    'log_warning_msg() { echo "Warning: $*"; }' > /scripts/functions
printf '#!/bin/sh\nexit 0\n' > /usr/local/sbin/modprobe
chmod +x /usr/local/sbin/modprobe
mount -t tmpfs sdcard-root /sdcard
echo written-at-build > /sdcard/marker
if [ -n "${CMDLINE:-}" ]; then
    echo "$CMDLINE" > /tmp/cmdline
    mount --bind /tmp/cmdline /proc/cmdline
fi
rootmnt=/sdcard sh /mnt/src/image/rootfs/etc/initramfs-tools/scripts/init-bottom/kiosk-overlay
echo "root-fs: $(awk '$2 == "/sdcard" {print $3}' /proc/mounts | tail -1)"
echo "marker: $(cat /sdcard/marker)"
echo at-runtime > /sdcard/new-file
echo "lower: $(awk '$2 == "/sdcard/media/root-ro" {print $4}' /proc/mounts | cut -d, -f1)"
if [ -e /sdcard/media/root-ro/new-file ]; then echo "LEAK: runtime write reached the card"; fi
"""


def overlay(root: Path, cmdline: str = "") -> str:
    (root / "kiosk-chroot-test").touch()
    r = subprocess.run(
        [
            "unshare",
            "--mount",
            "--propagation",
            "private",
            "chroot",
            str(root),
            "sh",
            "-c",
            OVERLAY_RUN,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin", "CMDLINE": cmdline},
    )
    assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout


def test_overlay_script_puts_a_ram_overlay_over_a_read_only_root(chroot: Path) -> None:
    assert OVERLAY_SCRIPT.is_file()
    out = overlay(chroot)
    assert "Success: kiosk-overlay: root is read-only with a RAM overlay" in out
    assert "root-fs: overlay" in out
    assert "marker: written-at-build" in out
    assert "lower: ro" in out  # the card's root is mounted read-only underneath
    assert "LEAK" not in out


def test_overlay_is_skipped_with_kiosk_overlay_no_on_the_command_line(chroot: Path) -> None:
    out = overlay(chroot, cmdline="console=tty1 root=LABEL=kiosk-root kiosk.overlay=no")
    assert "root-fs: tmpfs" in out and "Success" not in out
