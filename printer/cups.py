"""Printers behind CUPS: ``cups:QUEUE``.

python-escpos's ``LP`` (``lp -d QUEUE -o raw``): the job is handed to ``lp`` when it
ends, and a failing ``lp`` becomes an ``offline`` fault. CUPS gives no status answers.
``printer.connection.open_link`` picks this module.
"""

from __future__ import annotations

from escpos.printer import LP

from printer.link import Link, PrinterFault
from printer.uri import Target


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
