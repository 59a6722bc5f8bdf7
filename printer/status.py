"""Printer status: the ESC/POS real-time status answers, and what the kiosk makes of them.

``DLE EOT n`` asks; the printer answers one byte whose fixed bits (bit 1 and 4
set, bit 0 and 7 clear) tell a status byte from noise. No answer, or an answer
that is not a status byte, is **unknown** — never "paper ok" (python-escpos 3.1's
``paper_status()`` reports plenty of paper when nothing answers).

States, as written in ``printer_status`` events (docs/events.md):
``ok``, ``paper_near_end``, ``paper_out``, ``offline``, ``unknown``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

DLE_EOT = b"\x10\x04"
ASK_PRINTER = DLE_EOT + b"\x01"  # online / offline
ASK_OFFLINE_CAUSE = DLE_EOT + b"\x02"  # cover open, paper stop, error
ASK_PAPER = DLE_EOT + b"\x04"  # roll sensors

STATES = ("ok", "paper_near_end", "paper_out", "offline", "unknown")
#: States in which a ticket cannot come out; the kiosk applies [printer] on_fault.
FAULTS = ("paper_out", "offline")

OFFLINE = 0x08
COVER_OPEN, PAPER_STOP, ERROR = 0x04, 0x20, 0x40
NEAR_END, PAPER_OUT = 0x0C, 0x60


def is_status_byte(b: int) -> bool:
    """Whether ``b`` has the fixed bits of a DLE EOT answer."""
    return b & 0x93 == 0x12


@dataclass(frozen=True)
class Status:
    """One reading of the printer: a state from :data:`STATES` and words for people."""

    state: str
    detail: str = ""

    @property
    def fault(self) -> bool:
        return self.state in FAULTS

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> Status:
        """The status a ``printer_status`` event recorded (a state not in STATES is unknown).

        Reading the event is the kiosk's business (``kiosk.outputs.printer_feed``):
        this package knows the printer, not the store.
        """
        state = str(payload.get("state", "unknown"))
        return cls(state if state in STATES else "unknown", str(payload.get("detail", "")))


def interpret(printer: int | None, cause: int | None, paper: int | None) -> Status:
    """The state from the answers to DLE EOT 1, 2 and 4 (None: no answer)."""
    if paper is not None and is_status_byte(paper):
        if paper & PAPER_OUT:
            return Status("paper_out", "the paper roll is empty; load a new roll")
    if printer is None or not is_status_byte(printer):
        if paper is not None and is_status_byte(paper):
            if paper & NEAR_END:
                return Status("paper_near_end", "the paper roll is nearly empty")
            return Status("ok", "paper present; the printer did not answer its online status")
        what = "no answer" if printer is None else f"answer 0x{printer:02x} is not a status"
        return Status("unknown", f"the printer does not report its status ({what})")
    if printer & OFFLINE:
        if cause is not None and is_status_byte(cause):
            if cause & PAPER_STOP:
                return Status("paper_out", "the paper roll is empty; load a new roll")
            if cause & COVER_OPEN:
                return Status("offline", "the printer's cover is open; close it")
            if cause & ERROR:
                return Status("offline", "the printer reports an error; switch it off and on")
        return Status("offline", "the printer is offline (cover open, paper or error)")
    if paper is not None and is_status_byte(paper) and paper & NEAR_END:
        return Status("paper_near_end", "the paper roll is nearly empty")
    if paper is None or not is_status_byte(paper):
        return Status("ok", "online; the printer did not answer the paper status")
    return Status("ok", "online, paper present")
