"""Fault injection for the simulator's ``png:`` printer.

``kiosk sim`` prints each ticket as a PNG into a folder; :func:`set_state` makes that
printer run out of paper, go offline, or stop answering status, as a real one
does. The printer consumer then sees it the way it sees a real printer (status
answers, refused data) and writes the same events, flags and reprints.
"""

from __future__ import annotations

from pathlib import Path

#: What the simulated printer can be told to be.
SIM_STATES = ("ok", "paper_near_end", "paper_out", "offline", "silent")


def set_state(folder: str | Path, state: str) -> None:
    """Set the state of the ``png:`` printer writing into ``folder``."""
    if state not in SIM_STATES:
        raise ValueError(f'printer state "{state}" is not one of {", ".join(SIM_STATES)}')
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / ".printer-state.new"
    tmp.write_text(state + "\n", encoding="utf-8")
    tmp.replace(folder / ".printer-state")


def state(folder: str | Path) -> str:
    """The state the ``png:`` printer in ``folder`` is in (ok when never set)."""
    try:
        return (Path(folder) / ".printer-state").read_text(encoding="utf-8").strip() or "ok"
    except FileNotFoundError:
        return "ok"
