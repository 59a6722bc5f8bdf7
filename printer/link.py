"""What every printer connection is: :class:`Link` (open lazily, write, ask status) and
:class:`PrinterFault`, the one exception a technician reads.

The real transports (``printer.usb``, ``printer.serialport``, ``printer.network``,
``printer.file``, ``printer.cups``) and the virtual printers (``printer.virtual``)
subclass :class:`Link`; ``printer.connection.open_link`` picks one by the URI's scheme,
as pyserial's ``serial_for_url`` picks a URL handler.
"""

from __future__ import annotations

import time

from escpos.escpos import Escpos

from printer.status import (
    ASK_OFFLINE_CAUSE,
    ASK_PAPER,
    ASK_PRINTER,
    OFFLINE,
    Status,
    interpret,
    is_status_byte,
)

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
