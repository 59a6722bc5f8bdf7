"""Printer connections chosen by URI, each a python-escpos printer plus a status reader.

==========================================  ==============================================
URI                                          connection
==========================================  ==============================================
``usb:VID:PID[?in_ep=0x82&out_ep=0x01]``     ``escpos.printer.Usb`` (pyusb), hex ids as lsusb
``serial:/dev/PATH[?baudrate=N]``            ``escpos.printer.Serial`` (pyserial), 8N1
``tcp://HOST[:PORT]``                        ``escpos.printer.Network`` (raw port 9100)
``file:PATH``                                :class:`FileLink` (an ``escpos.printer.File``
                                             opened read-write: /dev/usb/lp0, a pty, a file)
``cups:QUEUE``                               ``escpos.printer.LP`` (``lp -d QUEUE -o raw``)
``dummy:``, ``png:DIR``                      the virtual printers, in ``printer.virtual``
==========================================  ==============================================

Every operation has a timeout (``[printer] timeout``): python-escpos's ``Usb``
defaults to 0, which blocks forever on a printer that stopped taking data.
Faults become :class:`PrinterFault` with words a technician can act on.
"""

from __future__ import annotations

import errno
import os
import select
import time
from pathlib import Path
from typing import Any

from escpos.printer import LP, File, Network, Serial, Usb

from printer.link import CHUNK, Link, PrinterFault
from printer.uri import PrinterUriError, Target, parse
from printer.virtual import DummyLink, PngLink


class UsbLink(Link):
    can_read = True

    def __init__(self, uri: str, target: Target, timeout: float):
        o = target.options
        self.in_ep, self.vid_pid = o["in_ep"], target.where
        # python-escpos's default timeout 0 would block forever; pyusb counts milliseconds.
        p = Usb(
            o["vid"],
            o["pid"],
            timeout=max(1, int(timeout * 1000)),
            in_ep=o["in_ep"],
            out_ep=o["out_ep"],
        )
        super().__init__(uri, p, timeout)

    def describe(self) -> str:
        return f"USB printer {self.vid_pid}"

    def open(self) -> None:
        try:
            super().open()
        except PrinterFault as f:
            text = f.detail.lower()
            # Most specific first: python-escpos wraps every USBError in "Device not found".
            if "access" in text or "permission" in text:
                detail = (
                    f"USB printer {self.vid_pid}: no permission to open it; install the udev "
                    "rule (docs/printers.md) and add the kiosk user to group lp"
                )
            elif "busy" in text:
                detail = (
                    f"USB printer {self.vid_pid} is in use by another program (the kiosk service?)"
                )
            elif "no backend" in text:
                detail = (
                    "libusb is not installed, so USB printers cannot be opened "
                    "(apt install libusb-1.0-0), or use file:/dev/kiosk-printer"
                )
            elif "not found" in text:
                detail = (
                    f"USB printer {self.vid_pid} is not plugged in or switched off "
                    f"(lsusb must list {self.vid_pid})"
                )
            else:
                raise
            raise PrinterFault("offline", detail) from None

    def read(self, timeout: float) -> bytes:
        dev: Any = self.printer.device
        try:
            return bytes(dev.read(self.in_ep, 16, max(1, int(timeout * 1000))))
        except Exception as e:
            # pyusb's USBTimeoutError: nothing to read (errno 110, "timed out").
            if getattr(e, "errno", None) == errno.ETIMEDOUT or "timed out" in str(e).lower():
                return b""
            raise


class SerialLink(Link):
    can_read = True

    def __init__(self, uri: str, target: Target, timeout: float):
        self.port = target.where
        baud = target.options["baudrate"]
        super().__init__(uri, Serial(devfile=self.port, baudrate=baud, timeout=timeout), timeout)

    def describe(self) -> str:
        return f"serial printer {self.port}"

    def open(self) -> None:
        super().open()
        dev: Any = self.printer.device
        if dev is None:
            self.opened = False
            raise PrinterFault("offline", f"{self.describe()} cannot be opened")
        # A printer holding CTS low (paper out, buffer full) would block write() forever;
        # one chunk takes CHUNK * 10 / baud seconds on the line (4.3 s at 9600 baud).
        dev.write_timeout = self.timeout + CHUNK * 10 / dev.baudrate

    def read(self, timeout: float) -> bytes:
        dev: Any = self.printer.device
        dev.timeout = timeout
        return bytes(dev.read(1))


class TcpLink(Link):
    can_read = True

    def __init__(self, uri: str, target: Target, timeout: float):
        self.where = target.where
        super().__init__(uri, Network(target.host, target.port, timeout=timeout), timeout)

    def describe(self) -> str:
        return f"network printer {self.where}"

    def open(self) -> None:
        super().open()
        if self.printer.device is None:  # python-escpos logs instead of raising sometimes
            self.opened = False
            raise PrinterFault("offline", f"{self.describe()} does not accept a connection")

    def read(self, timeout: float) -> bytes:
        sock: Any = self.printer.device
        ready, _, _ = select.select([sock], [], [], timeout)
        if not ready:
            return b""
        data = bytes(sock.recv(16))
        if not data:
            raise OSError("the printer closed the connection")
        return data


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


class CupsLink(Link):
    def __init__(self, uri: str, target: Target, timeout: float):
        self.queue = target.where
        super().__init__(uri, LP(printer_name=self.queue), timeout)

    def describe(self) -> str:
        return f"CUPS queue {self.queue}"

    def end_job(self) -> None:
        try:
            self.printer.flush()  # type: ignore[attr-defined]
        except Exception as e:
            self.close()
            raise PrinterFault("offline", f"{self.describe()}: lp failed: {e}") from None


KINDS: dict[str, type[Link]] = {
    "usb": UsbLink,
    "serial": SerialLink,
    "tcp": TcpLink,
    "file": FileLink,
    "cups": CupsLink,
    "dummy": DummyLink,
    "png": PngLink,
}


def open_link(uri: str, timeout: float = 5.0) -> Link:
    """The :class:`Link` for a ``[printer] uri``; nothing is opened until first used.

    Raises :class:`printer.uri.PrinterUriError` for a URI of the wrong form.
    """
    target = parse(uri)
    return KINDS[target.kind](uri, target, timeout)


__all__ = ["CHUNK", "Link", "PrinterFault", "PrinterUriError", "open_link"]
