"""The virtual printers (printer/virtual.py): ``dummy:`` keeps bytes and gives no status;
``png:DIR`` writes tickets as PNGs and answers status in the state its file holds."""

from __future__ import annotations

from pathlib import Path

import pytest

from printer import virtual
from printer.connection import PrinterFault, open_link
from printer.job import TicketPrinter
from printer.layout import TicketInfo, TicketLayout

TICKET = TicketInfo(code="A001", service_id="hotich", service_name="Tư pháp – Hộ tịch")


def test_both_virtual_printers_come_from_the_one_virtual_module() -> None:
    for uri in ("dummy:", "png:/tmp/x"):
        assert type(open_link(uri)).__module__ == "printer.virtual"


def test_dummy_printer_keeps_the_bytes_and_says_it_gives_no_status() -> None:
    link = open_link("dummy:")
    link.write(b"\x1b@hello")
    assert link.printer.output == b"\x1b@hello"  # type: ignore[attr-defined]
    assert link.status().state == "unknown"


@pytest.mark.parametrize(
    ("state", "seen"),
    [
        ("ok", "ok"),
        ("paper_near_end", "paper_near_end"),
        ("paper_out", "paper_out"),
        ("offline", "offline"),
        ("silent", "unknown"),
    ],
)
def test_png_printer_answers_status_in_the_state_it_was_put_in(
    tmp_path: Path, state: str, seen: str
) -> None:
    virtual.set_state(tmp_path, state)
    assert virtual.state(tmp_path) == state
    assert open_link(f"png:{tmp_path}").status().state == seen


def test_png_state_set_from_another_process_by_writing_the_file(tmp_path: Path) -> None:
    # What a technician or the simulator in another process does: echo paper_out > FILE.
    link = open_link(f"png:{tmp_path}")
    TicketPrinter(link, TicketLayout(384, ["UBND"])).print(TICKET)
    (tmp_path / virtual.STATE_FILE).write_text("paper_out\n")
    with pytest.raises(PrinterFault) as e:
        TicketPrinter(link, TicketLayout(384, ["UBND"])).print(TICKET)
    assert e.value.state == "paper_out"
    assert [p.name for p in tmp_path.glob("*.png")] == ["0001-A001.png"]


def test_an_unknown_png_state_is_refused_with_the_states_listed(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="ok, paper_near_end, paper_out, offline, silent"):
        virtual.set_state(tmp_path, "jammed")
    assert not (tmp_path / virtual.STATE_FILE).exists()
