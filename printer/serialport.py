"""Serial printers through pyserial: ``serial:/dev/PATH[?baudrate=N]``.

8N1 at ``baudrate`` (the URI parser's default when absent), python-escpos's ``Serial``.
A printer holding CTS low (paper out, buffer full) must not block a write forever, so
every write has a timeout long enough for one chunk at the line's speed. Named
``serialport`` so it never shadows pyserial's ``serial``; ``printer.connection.open_link``
picks this module.
"""

from __future__ import annotations

from typing import Any

from escpos.printer import Serial

from printer.link import CHUNK, Link, PrinterFault
from printer.uri import Target


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
