"""The idle kiosk sleeps until input arrives (kiosk.ui.inputwait) instead of polling SDL
every 60 ms: evdev devices and the waker as descriptors, and a real X11 window whose
loop wakes for X input, stays asleep otherwise, and still takes a click."""

from __future__ import annotations

import ctypes
import os
import re
import select
import shutil
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from kiosk.ui.app import Waker
from kiosk.ui.inputwait import EvdevDevices

ROOT = Path(__file__).resolve().parents[3]
SITE = ROOT / "config" / "example.toml"


def test_evdev_devices_are_opened_drained_and_followed_when_plugged_and_unplugged(
    tmp_path: Path,
) -> None:
    os.mkfifo(tmp_path / "event0")  # a stand-in for a touchscreen: readable when written
    (tmp_path / "mouse0").touch()  # not an event device
    devices = EvdevDevices(tmp_path)
    try:
        assert len(devices.fds()) == 1
        writer = os.open(tmp_path / "event0", os.O_WRONLY | os.O_NONBLOCK)
        assert select.select(devices.fds(), [], [], 0)[0] == []
        os.write(writer, b"\0" * 24)  # one input_event
        ready = select.select(devices.fds(), [], [], 1)[0]
        assert ready == devices.fds()
        devices.drain(ready)
        assert select.select(devices.fds(), [], [], 0)[0] == []  # read and dropped
        os.close(writer)
        os.mkfifo(tmp_path / "event1")  # a second device plugged in
        devices.refresh()
        assert len(devices.fds()) == 2
        (tmp_path / "event0").unlink()  # and the first one unplugged
        devices.refresh()
        assert sorted(devices.open) == [str(tmp_path / "event1")]
    finally:
        devices.close()
    assert devices.fds() == []


def test_the_waker_is_a_descriptor_that_another_thread_makes_readable() -> None:
    w = Waker()
    try:
        fd = w.fileno()
        assert select.select([fd], [], [], 0)[0] == [] and not w.take()
        threading.Timer(0.05, w.set).start()
        t0 = time.monotonic()
        assert select.select([fd], [], [], 5)[0] == [fd]
        assert time.monotonic() - t0 < 2
        assert w.take() and not w.take()  # taken once, then clear
        assert select.select([fd], [], [], 0)[0] == []
        w.set()
        w.set()  # twice: still one wake-up
        assert w.wait(0) and not w.take()
    finally:
        w.close()


# ---------------------------------------------------------------------- X11
class XTest:
    """Pointer moves and clicks on an X display, as a person's mouse or touch would."""

    def __init__(self, display: str) -> None:
        self.x11 = ctypes.CDLL("libX11.so.6")
        self.xtst = ctypes.CDLL("libXtst.so.6")
        self.x11.XOpenDisplay.restype = ctypes.c_void_p
        self.x11.XOpenDisplay.argtypes = [ctypes.c_char_p]
        self.x11.XFlush.argtypes = [ctypes.c_void_p]
        self.x11.XCloseDisplay.argtypes = [ctypes.c_void_p]
        self.xtst.XTestFakeMotionEvent.argtypes = [ctypes.c_void_p] + [ctypes.c_int] * 3
        self.xtst.XTestFakeMotionEvent.argtypes += [ctypes.c_ulong]
        self.xtst.XTestFakeButtonEvent.argtypes = [ctypes.c_void_p, ctypes.c_uint]
        self.xtst.XTestFakeButtonEvent.argtypes += [ctypes.c_int, ctypes.c_ulong]
        self.dpy = self.x11.XOpenDisplay(display.encode())
        assert self.dpy, f"cannot open X display {display}"

    def move(self, x: int, y: int) -> None:
        self.xtst.XTestFakeMotionEvent(self.dpy, -1, x, y, 0)
        self.x11.XFlush(self.dpy)

    def click(self, x: int, y: int) -> None:
        self.move(x, y)
        self.xtst.XTestFakeButtonEvent(self.dpy, 1, 1, 0)
        self.xtst.XTestFakeButtonEvent(self.dpy, 1, 0, 0)
        self.x11.XFlush(self.dpy)

    def close(self) -> None:
        self.x11.XCloseDisplay(self.dpy)


@pytest.fixture
def x_display() -> Iterator[str]:
    if shutil.which("Xvfb") is None:
        pytest.fail(
            "Xvfb is missing: apt-get install xvfb (make test installs it (tools/system-packages.txt))"
        )
    r, w = os.pipe()
    xvfb = subprocess.Popen(
        ["Xvfb", "-displayfd", str(w), "-screen", "0", "1024x600x24", "-nolisten", "tcp"],
        pass_fds=(w,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(w)
    with os.fdopen(r) as f:
        number = f.readline().strip()
    yield f":{number}"
    xvfb.terminate()
    xvfb.wait(10)


def _always_open(site: str) -> str:
    site = re.sub(r'(?m)^open = ".*"$', 'open = "00:00"', site, count=1)
    site = re.sub(r'(?m)^close = ".*"$', 'close = "23:59"', site, count=1)
    week = '["mon", "tue", "wed", "thu", "fri", "sat", "sun"]'
    return re.sub(r"(?m)^days = \[.*\]$", f"days = {week}", site, count=1)


def _main_thread_wakeups(pid: int) -> int:
    text = Path(f"/proc/{pid}/task/{pid}/status").read_text()
    return sum(
        int(line.split()[1])
        for line in text.splitlines()
        if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches"))
    )


def test_idle_kiosk_on_x11_sleeps_until_x_input_and_still_takes_a_click(
    x_display: str, tmp_path: Path
) -> None:
    from kiosk.core.config import load
    from kiosk.ui.screens import Model

    site = tmp_path / "site.toml"
    site.write_text(_always_open(SITE.read_text(encoding="utf-8")), encoding="utf-8")
    model = Model(load(site), (1024, 600))
    model.set_open(True, 0.0)
    target = model.targets()[0].rect.center  # the first service button
    path = str(tmp_path / "notify")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.settimeout(30)
    env = {k: v for k, v in os.environ.items() if k not in ("SDL_VIDEODRIVER", "WAYLAND_DISPLAY")}
    env.update(DISPLAY=x_display, SDL_AUDIODRIVER="dummy", NOTIFY_SOCKET=path)
    db = tmp_path / "q.db"
    cmd = [sys.executable, "-c", "import sys; from kiosk.cli import main; sys.exit(main())"]
    cmd += ["run", "--config", str(site), "--db", str(db), "--no-gpio"]
    cmd += ["--printer", f"png:{tmp_path / 'tickets'}"]
    p = subprocess.Popen(cmd, env=env, cwd=tmp_path, stderr=subprocess.PIPE, text=True)
    xt = XTest(x_display)
    try:
        while not sock.recv(4096).startswith(b"READY=1"):
            pass
        time.sleep(3.0)  # start-up settles: consumers start, their first events drawn
        # Idle: the screen's loop wakes for its once-a-second timers, not 16.7 times.
        w0, t0 = _main_thread_wakeups(p.pid), time.monotonic()
        time.sleep(3.0)
        idle_rate = (_main_thread_wakeups(p.pid) - w0) / (time.monotonic() - t0)
        assert idle_rate < 5, f"{idle_rate:.1f} wake-ups a second while idle"
        # X input (pointer motion, which the kiosk ignores) wakes it at once, each time.
        w0 = _main_thread_wakeups(p.pid)
        for i in range(20):
            xt.move(300 + i, 300)
            time.sleep(0.05)
        woke = _main_thread_wakeups(p.pid) - w0
        # Polling once a second would give 1–2; a busy machine may merge a few events.
        assert woke >= 8, f"{woke} wake-ups for 20 pointer moves in 1 s"
        # A click on the first service issues a ticket.
        xt.click(*target)
        deadline = time.monotonic() + 5
        issued = 0
        while not issued and time.monotonic() < deadline:
            time.sleep(0.02)
            with sqlite3.connect(db) as con:
                issued = con.execute("SELECT COUNT(*) FROM tickets").fetchone()[0]
        assert issued == 1
    finally:
        xt.close()
        p.terminate()
        p.wait(15)
        sock.close()
    assert "Traceback" not in (p.stderr.read() if p.stderr else "")
