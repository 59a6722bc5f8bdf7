"""Network printers on the raw port: ``tcp://HOST[:PORT]`` (port 9100 by default).

python-escpos's ``Network`` with the ``[printer] timeout``; status answers are read from
the same socket. ``printer.connection.open_link`` picks this module.
"""

from __future__ import annotations

import select
from typing import Any

from escpos.printer import Network

from printer.link import Link, PrinterFault
from printer.uri import Target


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
