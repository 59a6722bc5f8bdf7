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
``dummy:``                                   ``escpos.printer.Dummy`` (keeps the bytes)
``png:DIR``                                  :class:`PngPrinter`: each ticket as a PNG in DIR
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

from escpos.escpos import Escpos
from escpos.printer import LP, Dummy, File, Network, Serial, Usb

from printer import raster
from printer.status import (
    ASK_OFFLINE_CAUSE,
    ASK_PAPER,
    ASK_PRINTER,
    OFFLINE,
    Status,
    interpret,
    is_status_byte,
)
from printer.uri import PrinterUriError, Target, parse

#: Longest wait for one status answer; a printer answers within a few milliseconds.
STATUS_TIMEOUT = 0.3
#: Bytes handed to the connection at a time (4 KB: 57 dot rows at 80 mm).
CHUNK = 4096


class PrinterFault(Exception):
    """The printer cannot take the job now (unplugged, offline, timeout, paper out)."""

    def __init__(self, state: str, detail: str):
        super().__init__(detail)
        self.state = state
        self.detail = detail


class Link:
    """One printer: open lazily, write bytes, ask status. Subclasses set :attr:`printer`."""

    #: Whether this kind of connection can carry an answer back from the printer.
    can_read = False

    def __init__(self, uri: str, printer: Escpos, timeout: float):
        self.uri = uri
        self.printer = printer
        self.timeout = timeout
        self.opened = False
        #: The ticket code of the job being sent (the PNG printer names files by it).
        self.job_name = "ticket"

    def describe(self) -> str:
        return self.uri

    def open(self) -> None:
        if not self.opened:
            try:
                self.printer.open()
            except Exception as e:
                raise PrinterFault("offline", f"{self.describe()} cannot be opened: {e}") from None
            self.opened = True

    def close(self) -> None:
        if self.opened:
            self.opened = False
            try:
                self.printer.close()
            except Exception:  # closing a dead connection: nothing more to do
                pass

    def write(self, data: bytes) -> None:
        """Hand bytes to the connection (python-escpos ``_raw``), in pieces of
        :data:`CHUNK` bytes so the timeout measures a printer that stopped taking
        data, not one that takes a long ticket slowly."""
        self.open()
        try:
            for i in range(0, len(data), CHUNK):
                self.printer._raw(data[i : i + CHUNK])
        except PrinterFault:
            self.close()
            raise
        except Exception as e:
            self.close()
            raise PrinterFault("offline", f"{self.describe()}: sending failed: {e}") from None

    def end_job(self) -> None:
        """Called after each ticket (LP sends the job, PNG writes the file)."""

    def read(self, timeout: float) -> bytes:
        """Bytes the printer sent back within ``timeout`` (empty: none)."""
        return b""

    def ask(self, *questions: bytes) -> list[int | None]:
        """DLE EOT questions sent together (one round trip); one answer byte each, in
        order, or None for those not answered within the status timeout."""
        self.open()
        try:
            for _ in range(8):  # a late answer to an earlier question is not this one's
                if not self.read(0):
                    break
        except Exception as e:
            self.close()
            raise PrinterFault("offline", f"{self.describe()}: reading failed: {e}") from None
        self.write(b"".join(questions))
        got = b""
        deadline = time.monotonic() + min(STATUS_TIMEOUT, self.timeout)
        try:
            while len(got) < len(questions):
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                got += self.read(left)
        except Exception as e:
            self.close()
            raise PrinterFault("offline", f"{self.describe()}: reading failed: {e}") from None
        return [got[i] if i < len(got) else None for i in range(len(questions))]

    def status(self) -> Status:
        """Online and paper status; unknown when the connection cannot answer."""
        if not self.can_read:
            self.open()
            return Status("unknown", f"{self.describe()}: this connection gives no status")
        printer, paper = self.ask(ASK_PRINTER, ASK_PAPER)
        if printer is None:
            return interpret(None, None, None)
        cause = None
        if is_status_byte(printer) and printer & OFFLINE:
            (cause,) = self.ask(ASK_OFFLINE_CAUSE)
        return interpret(printer, cause, paper)


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


class DummyLink(Link):
    def __init__(self, uri: str, target: Target, timeout: float):
        super().__init__(uri, Dummy(), timeout)

    def describe(self) -> str:
        return "no printer (dummy:)"


class PngPrinter(Escpos):
    """The simulator's printer: decodes each job's raster and writes it as a PNG.

    Its state comes from ``DIR/.printer-state`` (ok, paper_near_end, paper_out,
    offline, silent), written by :func:`printer.sim.set_state`, so the simulator and
    tests can take paper out mid-day and see the kiosk react as to a real printer.
    """

    def __init__(self, folder: Path):
        super().__init__()
        self.folder = folder
        self.buffer = bytearray()
        self.name = "ticket"
        self.answer: bytes = b""

    def state(self) -> str:
        from printer.sim import state

        return state(self.folder)

    def open(self, raise_not_found: bool = True) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        self._device = True  # type: ignore[assignment]

    def _raw(self, msg: bytes) -> None:
        state = self.state()
        if msg.startswith(b"\x10\x04"):
            for i in range(0, len(msg) - 2, 3):  # several questions in one write
                self.answer += _png_answer(state, msg[i + 2])
            return
        if state == "offline":
            raise PrinterFault("offline", f"simulated printer {self.folder} is offline")
        if state == "paper_out":
            raise PrinterFault("paper_out", "the paper roll is empty; load a new roll")
        self.buffer += msg

    def _read(self) -> bytes:
        data, self.answer = self.answer, b""
        return data

    def end_job(self) -> Path | None:
        data, self.buffer = bytes(self.buffer), bytearray()
        if not data:
            return None
        n = len(list(self.folder.glob("*.png"))) + 1
        path = self.folder / f"{n:04d}-{self.name}.png"
        raster.decode(data).save(path)
        return path


def _png_answer(state: str, n: int) -> bytes:
    if state == "silent":
        return b""
    online = 0x12 | (0x08 if state in ("offline", "paper_out") else 0)
    cause = 0x12 | (0x20 if state == "paper_out" else 0x04 if state == "offline" else 0)
    paper = 0x12 | (0x60 if state == "paper_out" else 0x0C if state == "paper_near_end" else 0)
    return bytes(({1: online, 2: cause, 4: paper}.get(n, 0),))


class PngLink(Link):
    can_read = True

    def __init__(self, uri: str, target: Target, timeout: float):
        self.png = PngPrinter(Path(target.where))
        super().__init__(uri, self.png, timeout)

    def describe(self) -> str:
        return f"simulated printer {self.png.folder}"

    def read(self, timeout: float) -> bytes:
        return self.png._read()

    def end_job(self) -> None:
        self.png.name = self.job_name
        self.png.end_job()


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


__all__ = ["Link", "PrinterFault", "PrinterUriError", "open_link"]
