"""Printer devices and files: ``file:PATH``.

``PATH`` is the udev symlink ``/dev/kiosk-printer`` (to the kernel's ``/dev/usb/lp0`` or a
printer's CDC-ACM port), any other device or pty, or a plain file that collects the bytes.
python-escpos's ``File`` is opened read-write, non-blocking, so a bidirectional printer's
status answers come back, and with a write timeout so a device that stops taking data
cannot hang the kiosk. A missing ``/dev/`` path stays missing (never created as a plain
file). ``printer.connection.open_link`` picks this module.
"""

from __future__ import annotations

import errno
import os
import select
import time
from pathlib import Path

from escpos.printer import File

from printer.link import Link, PrinterFault
from printer.uri import Target


class _RwFile(File):
    """python-escpos's File printer, opened read-write so status answers come back,
    with a write timeout (a device that stops taking data must not hang the kiosk)."""

    def __init__(self, devfile: str, timeout: float):
        super().__init__(devfile)
        self.write_timeout = timeout
        self.fd = -1
        self.readable = False

    def open(self, raise_not_found: bool = True) -> None:
        path = self.devfile
        flags = os.O_NOCTTY | os.O_NONBLOCK
        # A device that is not there (printer unplugged) must stay missing: creating a
        # plain file in its place would swallow tickets and block the udev symlink.
        create = 0 if path.startswith("/dev/") else os.O_CREAT
        try:
            self.fd = os.open(path, os.O_RDWR | flags | os.O_APPEND)
            self.readable = not Path(path).is_file()  # a plain file never answers
        except OSError:
            try:
                self.fd = os.open(path, os.O_WRONLY | create | os.O_APPEND | flags, 0o644)
            except OSError as e:
                if e.errno == errno.ENOENT and not create:
                    raise OSError("not there (printer unplugged or switched off?)") from None
                raise OSError(f"{e.strerror}") from None
            self.readable = False
        self._device = True  # type: ignore[assignment]

    def _raw(self, msg: bytes) -> None:
        view = memoryview(msg)
        deadline = time.monotonic() + self.write_timeout
        while view:
            try:
                n = os.write(self.fd, view)
                view = view[n:]
                continue
            except BlockingIOError:
                pass
            left = deadline - time.monotonic()
            if left <= 0:
                raise PrinterFault(
                    "offline", f"{self.devfile} took no data for {self.write_timeout:g} s"
                )
            select.select([], [self.fd], [], left)

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1
        self._device = False


class FileLink(Link):
    def __init__(self, uri: str, target: Target, timeout: float):
        self.path = target.where
        self.rw = _RwFile(self.path, timeout)
        super().__init__(uri, self.rw, timeout)

    @property
    def can_read(self) -> bool:  # type: ignore[override]
        # Known only once open: a tty or printer device answers, a plain file does not.
        try:
            self.open()
        except PrinterFault:
            return False
        return self.rw.readable

    def describe(self) -> str:
        return f"printer file {self.path}"

    def read(self, timeout: float) -> bytes:
        ready, _, _ = select.select([self.rw.fd], [], [], timeout)
        if not ready:
            return b""
        try:
            return os.read(self.rw.fd, 16)
        except BlockingIOError:
            return b""
