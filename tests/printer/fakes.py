"""A fake ESC/POS printer on the far end of a real pseudo-terminal.

It parses the byte stream the way a printer does (commands, raster bands with
their lengths, real-time status questions anywhere between commands), answers
``DLE EOT 1/2/4`` from its :attr:`state`, keeps each finished job (cut) as bytes,
and can misbehave: never answer, stop taking data, or be unplugged and plugged
in again under the same name (a symlink, as the udev rule makes /dev/kiosk-printer).
"""

from __future__ import annotations

import os
import select
import threading
import time
import tty
from pathlib import Path

STATUS = {  # answers to DLE EOT 1, 2, 4 per state
    "ok": (0x12, 0x12, 0x12),
    "paper_near_end": (0x12, 0x12, 0x1E),
    "paper_out": (0x1A, 0x32, 0x72),
    "cover_open": (0x1A, 0x16, 0x12),
}


class FakePrinter:
    def __init__(self, link_path: Path, state: str = "ok"):
        self.link_path = link_path
        self.state = state  # a STATUS key, or "silent" (never answers)
        self.taking = threading.Event()  # cleared: the printer stops reading (buffer full)
        self.taking.set()
        self.jobs: list[bytes] = []  # of the current cable (plug_in starts a new list)
        self.received = 0
        self.questions = 0
        #: After this many raster bytes of a job the roll runs out.
        self.paper_out_after: int | None = None
        #: After this many raster bytes of a job someone opens the cover.
        self.cover_open_after: int | None = None
        #: After this many bytes in all the cable is pulled out.
        self.unplug_after: int | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.master = -1
        self.plug_in()

    # ------------------------------------------------------------------ cable
    def plug_in(self) -> None:
        master, slave = os.openpty()
        tty.setraw(slave)  # no echo, no newline translation: a binary line
        name = os.ttyname(slave)
        # Held open: with no slave side open, reading the master fails (EIO).
        self.slave = slave
        tmp = self.link_path.with_suffix(".new")
        tmp.unlink(missing_ok=True)
        tmp.symlink_to(name)
        tmp.replace(self.link_path)
        self.master = master
        self.jobs = []
        self._buf = bytearray()
        self._job = bytearray()
        self._job_raster = 0
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def unplug(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(2)
        if self.master >= 0:
            os.close(self.master)
            os.close(self.slave)
        self.master = -1

    def close(self) -> None:
        self.unplug()

    def power_cycle(self) -> None:
        """Switched off and on: what was half received is gone."""
        with self._lock:
            while select.select([self.master], [], [], 0.05)[0]:
                try:
                    os.read(self.master, 65536)
                except OSError:
                    break
            self._buf.clear()
            self._job.clear()
            self._job_raster = 0
        self.taking.set()

    # ------------------------------------------------------------------ wire
    def _run(self) -> None:
        fd = self.master
        while not self._stop.is_set():
            if not self.taking.is_set():
                time.sleep(0.01)
                continue
            r, _, _ = select.select([fd], [], [], 0.02)
            if not r:
                continue
            try:
                data = os.read(fd, 65536)
            except OSError:
                return
            with self._lock:
                self.received += len(data)
                self._buf += data
                self._parse(fd)
            if self.unplug_after is not None and self.received >= self.unplug_after:
                self.unplug_after = None
                os.close(self.master)
                os.close(self.slave)
                self.master = -1
                return

    def _answer(self, fd: int, n: int) -> None:
        self.questions += 1
        if self.state == "silent":
            return
        p, cause, paper = STATUS[self.state]
        os.write(fd, bytes(({1: p, 2: cause, 4: paper}.get(n, 0x12),)))

    def _parse(self, fd: int) -> None:
        b = self._buf
        while b:
            if b[:2] == b"\x10\x04":
                if len(b) < 3:
                    return
                self._answer(fd, b[2])
                del b[:3]
            elif b[:2] == b"\x1b@":
                self._job += b[:2]
                del b[:2]
            elif b[:3] == b"\x1dv0":
                if len(b) < 8:
                    return
                size = (b[4] | b[5] << 8) * (b[6] | b[7] << 8)
                if len(b) < 8 + size:
                    return
                self._job += b[: 8 + size]
                self._job_raster += size
                if self.paper_out_after is not None and self._job_raster > self.paper_out_after:
                    self.state = "paper_out"
                if self.cover_open_after is not None and self._job_raster > self.cover_open_after:
                    self.state = "cover_open"
                del b[: 8 + size]
            elif b[:2] == b"\x1bd" or b[:2] == b"\x1dV":
                if len(b) < 3:
                    return
                self._job += b[:3]
                if b[:2] == b"\x1dV":
                    if self.state not in ("paper_out", "cover_open"):
                        self.jobs.append(bytes(self._job))
                    self._job.clear()
                    self._job_raster = 0
                del b[:3]
            else:
                raise AssertionError(f"the fake printer got an unknown command: {bytes(b[:8])!r}")
