"""Sleeping until input arrives instead of polling SDL for it.

SDL 2 offers no file descriptor to wait on, and pygame-ce's ``event.wait`` polls
every millisecond, so the idle kiosk polled pygame every ``[ui] idle_poll_ms``
(60 ms): 16.7 wake-ups a second, about half of its idle CPU (bench/bench_idle.py).
Where the input arrives through file descriptors we can see, the idle loop sleeps in
``select()`` on them and on its waker instead, and wakes once a second for its
timers:

- ``x11``: the connection to the X server (``XConnectionNumber`` of SDL's Display).
  SDL's pump reads everything that arrived, so the socket is quiet again after it.
- ``kmsdrm`` (the Raspberry Pi): the input devices ``/dev/input/event*`` that SDL
  reads, opened a second time, read-only. Each open file of an evdev device gets
  its own copy of the events: ours are read and dropped, SDL reads its own. The
  folder is looked at again once a second for devices plugged in later.

Other drivers (``dummy`` in the tests and ``kiosk sim --headless``, Wayland) keep
polling at ``idle_poll_ms``. While someone uses the screen the loop polls every
``active_poll_ms`` as before, whatever the driver.
"""

from __future__ import annotations

import ctypes
import errno
import logging
import os
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

#: Where the kernel puts evdev input devices.
INPUT_DIR = Path("/dev/input")


class InputWait:
    """File descriptors that become readable when input arrives."""

    def fds(self) -> list[int]:
        raise NotImplementedError

    def drain(self, ready: list[int]) -> None:
        """Called with the descriptors select() found readable."""

    def refresh(self) -> None:
        """Called about once a second (devices plugged in since)."""

    def close(self) -> None:
        """Release what was opened."""


class XConnection(InputWait):
    """The X server connection of SDL's window; SDL's own pump reads it."""

    def __init__(self, fd: int) -> None:
        self.fd = fd

    def fds(self) -> list[int]:
        return [self.fd]


class EvdevDevices(InputWait):
    """Every ``event*`` device in ``folder``, opened read-only and non-blocking."""

    def __init__(self, folder: Path = INPUT_DIR) -> None:
        self.folder = folder
        self.open: dict[str, int] = {}  # device path → fd
        self.refresh()

    def fds(self) -> list[int]:
        return list(self.open.values())

    def refresh(self) -> None:
        try:
            names = {str(p) for p in self.folder.glob("event*")}
        except OSError:
            names = set()
        for gone in set(self.open) - names:
            os.close(self.open.pop(gone))
        for path in sorted(names - set(self.open)):
            try:
                self.open[path] = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
            except OSError as e:
                # Not readable by us: SDL cannot read it either (same user).
                log.debug("input device %s: %s", path, e.strerror)

    def drain(self, ready: list[int]) -> None:
        for path, fd in list(self.open.items()):
            if fd not in ready:
                continue
            try:
                while os.read(fd, 4096):
                    pass
            except BlockingIOError:
                pass
            except OSError as e:
                if e.errno != errno.EAGAIN:  # unplugged (ENODEV): forget it
                    os.close(self.open.pop(path))

    def close(self) -> None:
        for fd in self.open.values():
            os.close(fd)
        self.open.clear()


def x11_fd(wm_info: dict[str, Any]) -> int | None:
    """The X connection's descriptor from ``pygame.display.get_wm_info()``, or None."""
    capsule = wm_info.get("display")
    if capsule is None:
        return None
    try:
        get_name = ctypes.pythonapi.PyCapsule_GetName
        get_name.restype = ctypes.c_char_p
        get_name.argtypes = [ctypes.py_object]
        get_pointer = ctypes.pythonapi.PyCapsule_GetPointer
        get_pointer.restype = ctypes.c_void_p
        get_pointer.argtypes = [ctypes.py_object, ctypes.c_char_p]
        display = get_pointer(capsule, get_name(capsule))
        xlib = ctypes.CDLL("libX11.so.6")
        xlib.XConnectionNumber.argtypes = [ctypes.c_void_p]
        xlib.XConnectionNumber.restype = ctypes.c_int
        fd = int(xlib.XConnectionNumber(display))
    except (OSError, ValueError, TypeError, AttributeError) as e:
        log.debug("no X connection to wait on: %s", e)
        return None
    return fd if fd >= 0 else None


def for_driver(driver: str, wm_info: dict[str, Any] | None = None) -> InputWait | None:
    """What to sleep on under SDL's video ``driver``; None: keep polling."""
    if driver == "x11":
        fd = x11_fd(wm_info or {})
        return XConnection(fd) if fd is not None else None
    if driver in ("kmsdrm", "evdev"):
        return EvdevDevices()  # even with none yet: a touchscreen may appear later
    return None
