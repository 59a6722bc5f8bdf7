"""The virtual printers: ``dummy:`` and ``png:DIR``, for the simulator, demos and tests.

==================  ============================================================
URL                 what it does
==================  ============================================================
``dummy:``          keeps the bytes in memory (``escpos.printer.Dummy``) and
                    gives no status: a kiosk with no printer at all
``png:DIR``         decodes each ticket's ESC/POS raster and writes it as
                    ``DIR/NNNN-CODE.png``; answers status requests like a real
                    printer, in the state :func:`set_state` put it in
==================  ============================================================

A ``png:`` printer's state (ok, paper_near_end, paper_out, offline, silent) lives in
the file ``DIR/.printer-state``, so ``kiosk sim``, a test or a technician (``echo
paper_out > DIR/.printer-state``) can take the paper out mid-day from another process
and see the kiosk react exactly as to a real printer: the printer consumer reads the
same status answers, gets the same refused data, and writes the same events, flags and
reprints. The PNGs are made from the bytes a real printer would get, not from the
layout's image, so the simulator shows what the printer would print.

One module for both, as pyserial keeps one handler module per URL scheme
(``serial/urlhandler/protocol_loop.py``); ``printer.connection.open_link`` picks it.
"""

from __future__ import annotations

from pathlib import Path

from escpos.escpos import Escpos
from escpos.printer import Dummy

from printer import raster
from printer.link import Link, PrinterFault
from printer.uri import Target

#: What the ``png:`` printer can be told to be.
SIM_STATES = ("ok", "paper_near_end", "paper_out", "offline", "silent")
#: The file in the ``png:`` folder that holds its state.
STATE_FILE = ".printer-state"


def set_state(folder: str | Path, state: str) -> None:
    """Set the state of the ``png:`` printer writing into ``folder`` (atomically)."""
    if state not in SIM_STATES:
        raise ValueError(f'printer state "{state}" is not one of {", ".join(SIM_STATES)}')
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / (STATE_FILE + ".new")
    tmp.write_text(state + "\n", encoding="utf-8")
    tmp.replace(folder / STATE_FILE)


def state(folder: str | Path) -> str:
    """The state the ``png:`` printer in ``folder`` is in (ok when never set)."""
    try:
        return (Path(folder) / STATE_FILE).read_text(encoding="utf-8").strip() or "ok"
    except FileNotFoundError:
        return "ok"


class DummyLink(Link):
    def __init__(self, uri: str, target: Target, timeout: float):
        super().__init__(uri, Dummy(), timeout)

    def describe(self) -> str:
        return "no printer (dummy:)"


class PngPrinter(Escpos):
    """The simulator's printer: decodes each job's raster and writes it as a PNG.

    Its state comes from ``DIR/.printer-state`` (ok, paper_near_end, paper_out,
    offline, silent), written by :func:`set_state`, so the simulator and
    tests can take paper out mid-day and see the kiosk react as to a real printer.
    """

    def __init__(self, folder: Path):
        super().__init__()
        self.folder = folder
        self.buffer = bytearray()
        self.name = "ticket"
        self.answer: bytes = b""

    def state(self) -> str:
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
