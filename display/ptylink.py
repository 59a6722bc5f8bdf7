"""A serial line on one PC: two pseudo-terminals joined by a relay that can be noisy or unplugged.

The kiosk opens one end (``kiosk_port``), the display app the other
(``display_port``); both are stable symlinks, like the udev names on a real
kiosk, so "unplugging" (the ptys vanish) and "plugging back" (new ptys, same
names) look to both programs like a USB adapter coming and going. The relay can
drop, duplicate and corrupt bytes with given probabilities, from a seeded random
generator so a failing run can be repeated, and can pace bytes at a baud rate (a
pty alone has no line time). Used by the tests, the benchmark and the simulator::

    with PtyRelay(tmp_dir, drop=0.01, corrupt=0.01, baud=115200) as line:
        kiosk_side = serial.Serial(str(line.kiosk_port))
        ...  # hall-display run --port <line.display_port>

``displays=("counter-1", "counter-2")`` adds more display ends on the same line, as
on an RS-485 bus: what the kiosk sends reaches every display (each copy with its
own noise), what a display sends reaches the kiosk and the other displays, and
``sent`` counts the bytes each end transmitted.
"""

from __future__ import annotations

import errno
import os
import random
import select
import threading
import time
import tty
from collections.abc import Sequence
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
    """Two (or more) ptys and a relay thread between their master sides."""

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
        displays: Sequence[str] = (),
        baud: int | None = None,
    ) -> None:
        self.kiosk_port = Path(folder) / kiosk_name
        self.display_port = Path(folder) / display_name
        #: Every end's port by name: the kiosk's, the display's, and any more displays'.
        self.ports = {kiosk_name: self.kiosk_port, display_name: self.display_port}
        self.ports.update({n: Path(folder) / n for n in displays})
        self.drop = drop
        self.duplicate = duplicate
        self.corrupt = corrupt
        self.baud = baud
        self.rng = random.Random(seed)
        self.stats = {"bytes": 0, "dropped": 0, "duplicated": 0, "corrupted": 0}
        #: Bytes each end has transmitted, by name.
        self.sent = dict.fromkeys(self.ports, 0)
        self._lock = threading.Lock()
        self._ends: dict[str, _End] = {}
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
        """Create the line (again): new ptys behind the same names."""
        with self._lock:
            for name, link in self.ports.items():
                if name not in self._ends:
                    self._ends[name] = _End(link)
        os.write(self._wake_w, b"x")

    def unplug(self) -> None:
        """Pull the cable: the ptys disappear; programs holding them get I/O errors."""
        with self._lock:
            for name, link in self.ports.items():
                end = self._ends.pop(name, None)
                if end is not None:
                    end.close()
                if link.is_symlink():
                    link.unlink()
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
                ends = dict(self._ends) if len(self._ends) == len(self.ports) else {}
            fds = [self._wake_r] + [e.master for e in ends.values()]
            try:
                ready, _, _ = select.select(fds, [], [], 1.0)
            except (OSError, ValueError):
                continue  # a pty was closed under us by unplug()
            if self._wake_r in ready:
                os.read(self._wake_r, 64)
            for name, src in ends.items():
                if src.master not in ready:
                    continue
                try:
                    data = os.read(src.master, 4096)
                except OSError:
                    continue
                self.sent[name] += len(data)
                if self.baud:
                    time.sleep(len(data) * 10 / self.baud)  # the bytes' time on the wire
                # A shared line: every end hears every other one.
                for dname, dst in ends.items():
                    if dname == name:
                        continue
                    out = self._mangle(data)
                    try:
                        os.write(dst.master, out)
                    except OSError as e:
                        # Nobody reading on the far side and its buffer full: the bytes are
                        # lost, as on a real line with the display switched off.
                        if e.errno not in (errno.EAGAIN, errno.EIO, errno.EBADF):
                            raise
