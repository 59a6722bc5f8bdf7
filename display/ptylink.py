"""A serial line on one PC: two pseudo-terminals joined by a relay that can be noisy or unplugged.

The kiosk opens one end (``kiosk_port``), the display app the other
(``display_port``); both are stable symlinks, like the udev names on a real
kiosk, so "unplugging" (the ptys vanish) and "plugging back" (new ptys, same
names) look to both programs like a USB adapter coming and going. The relay can
drop, duplicate and corrupt bytes with given probabilities, from a seeded random
generator so a failing run can be repeated. Used by the tests, the benchmark and
the simulator::

    with PtyRelay(tmp_dir, drop=0.01, corrupt=0.01) as line:
        kiosk_side = serial.Serial(str(line.kiosk_port))
        ...  # hall-display run --port <line.display_port>
"""

from __future__ import annotations

import errno
import os
import random
import select
import threading
import tty
from pathlib import Path


class _End:
    def __init__(self, link: Path) -> None:
        self.master, self.slave = os.openpty()
        # Raw from the start: a cooked pty would echo and translate bytes before
        # the program on the other side has opened and configured it.
        tty.setraw(self.slave)
        os.set_blocking(self.master, False)
        self.path = os.ttyname(self.slave)
        tmp = link.with_name(link.name + ".new")
        if tmp.is_symlink() or tmp.exists():
            tmp.unlink()
        tmp.symlink_to(self.path)
        os.replace(tmp, link)

    def close(self) -> None:
        for fd in (self.master, self.slave):
            try:
                os.close(fd)
            except OSError:
                pass


class PtyRelay:
    """Two ptys and a relay thread between their master sides."""

    def __init__(
        self,
        folder: Path,
        *,
        drop: float = 0.0,
        duplicate: float = 0.0,
        corrupt: float = 0.0,
        seed: int | None = 1,
        kiosk_name: str = "kiosk-port",
        display_name: str = "display-port",
    ) -> None:
        self.kiosk_port = Path(folder) / kiosk_name
        self.display_port = Path(folder) / display_name
        self.drop = drop
        self.duplicate = duplicate
        self.corrupt = corrupt
        self.rng = random.Random(seed)
        self.stats = {"bytes": 0, "dropped": 0, "duplicated": 0, "corrupted": 0}
        self._lock = threading.Lock()
        self._a: _End | None = None
        self._b: _End | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._wake_r, self._wake_w = os.pipe()

    # -- lifecycle
    def start(self) -> PtyRelay:
        self.plug()
        self._thread = threading.Thread(target=self._run, name="pty-relay", daemon=True)
        self._thread.start()
        return self

    def __enter__(self) -> PtyRelay:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        self._stop.set()
        os.write(self._wake_w, b"x")
        if self._thread is not None:
            self._thread.join(2)
        self.unplug()
        for fd in (self._wake_r, self._wake_w):
            os.close(fd)

    def plug(self) -> None:
        """Create the line (again): new ptys behind the same two names."""
        with self._lock:
            if self._a is None:
                self._a = _End(self.kiosk_port)
            if self._b is None:
                self._b = _End(self.display_port)
        os.write(self._wake_w, b"x")

    def unplug(self) -> None:
        """Pull the cable: both ptys disappear; programs holding them get I/O errors."""
        with self._lock:
            for end, link in ((self._a, self.kiosk_port), (self._b, self.display_port)):
                if end is not None:
                    end.close()
                if link.is_symlink():
                    link.unlink()
            self._a = self._b = None
        os.write(self._wake_w, b"x")

    def set_noise(self, drop: float = 0.0, duplicate: float = 0.0, corrupt: float = 0.0) -> None:
        self.drop, self.duplicate, self.corrupt = drop, duplicate, corrupt

    # -- relay
    def _mangle(self, data: bytes) -> bytes:
        if not (self.drop or self.duplicate or self.corrupt):
            self.stats["bytes"] += len(data)
            return data
        out = bytearray()
        rnd = self.rng.random
        for b in data:
            self.stats["bytes"] += 1
            if rnd() < self.drop:
                self.stats["dropped"] += 1
                continue
            if rnd() < self.corrupt:
                b ^= 1 << self.rng.randrange(8)
                self.stats["corrupted"] += 1
            out.append(b)
            if rnd() < self.duplicate:
                out.append(b)
                self.stats["duplicated"] += 1
        return bytes(out)

    def _run(self) -> None:
        while not self._stop.is_set():
            with self._lock:
                a, b = self._a, self._b
            fds = [self._wake_r] + ([a.master, b.master] if a and b else [])
            try:
                ready, _, _ = select.select(fds, [], [], 1.0)
            except (OSError, ValueError):
                continue  # a pty was closed under us by unplug()
            if self._wake_r in ready:
                os.read(self._wake_r, 64)
            if not (a and b):
                continue
            for src, dst in ((a, b), (b, a)):
                if src.master not in ready:
                    continue
                try:
                    data = os.read(src.master, 4096)
                except OSError:
                    continue
                data = self._mangle(data)
                try:
                    os.write(dst.master, data)
                except OSError as e:
                    # Nobody reading on the far side and its buffer full: the bytes are lost,
                    # as on a real line with the display switched off.
                    if e.errno not in (errno.EAGAIN, errno.EIO, errno.EBADF):
                        raise
