"""Printer URIs, and status over real connections: a pty (python-escpos File and
Serial), a TCP socket on loopback, and printers that never answer."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import pytest
from escpos.printer import File

from printer import raster
from printer.connection import PrinterFault, open_link
from printer.job import TicketPrinter
from printer.layout import TicketInfo, TicketLayout
from printer.status import interpret
from printer.uri import PrinterUriError, parse

from .fakes import FakePrinter

TICKET = TicketInfo(code="A001", service_id="hotich", service_name="Tư pháp – Hộ tịch")


def until(cond, timeout: float = 60) -> None:
    """Wait for what the test needs to see; the bound is for a hang, not a slow machine."""
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


@pytest.fixture
def fake(tmp_path: Path):
    f = FakePrinter(tmp_path / "kiosk-printer")
    yield f
    f.close()


@pytest.mark.parametrize(
    ("uri", "kind", "where"),
    [
        ("usb:0416:5011", "usb", "0416:5011"),
        ("usb:04B8:0E15?in_ep=0x81&out_ep=0x02", "usb", "04b8:0e15"),
        ("serial:/dev/kiosk-printer?baudrate=9600", "serial", "/dev/kiosk-printer"),
        ("tcp://127.0.0.1:9100", "tcp", "127.0.0.1:9100"),
        ("tcp://printer.local", "tcp", "printer.local:9100"),
        ("file:/dev/usb/lp0", "file", "/dev/usb/lp0"),
        ("cups:TM-T20", "cups", "TM-T20"),
        ("dummy:", "dummy", ""),
        ("png:/tmp/tickets", "png", "/tmp/tickets"),
    ],
)
def test_printer_uris_name_their_connection(uri: str, kind: str, where: str) -> None:
    t = parse(uri)
    assert (t.kind, t.where) == (kind, where)


def test_usb_endpoints_and_serial_speed_are_read_from_the_uri() -> None:
    assert parse("usb:04b8:0e15?in_ep=0x81&out_ep=2").options["in_ep"] == 0x81
    assert parse("usb:04b8:0e15?in_ep=0x81&out_ep=2").options["out_ep"] == 2
    assert parse("serial:/dev/ttyUSB0?baudrate=9600").options["baudrate"] == 9600
    assert parse("serial:/dev/ttyUSB0").options["baudrate"] == 19200


@pytest.mark.parametrize(
    ("uri", "words"),
    [
        ("lpt1", "is not one of: usb:VID:PID"),
        ("usb:04b8", "usb:VENDOR:PRODUCT in hex"),
        ("usb:zz:0e15", "usb:VENDOR:PRODUCT in hex"),
        ("serial:?baudrate=9600", "serial:/dev/PORT"),
        ("serial:/dev/ttyS0?baudrate=fast", 'baudrate "fast" is not a number'),
        ("tcp://:9100", "tcp://HOST:PORT"),
        ("tcp://host:port", "port is not a number"),
        ("file:", "file:/dev/usb/lp0"),
    ],
)
def test_bad_uris_are_refused_with_the_right_form_shown(uri: str, words: str) -> None:
    with pytest.raises(PrinterUriError, match=words.replace("?", r"\?")):
        open_link(uri)


@pytest.mark.parametrize(
    ("answers", "state"),
    [
        ((0x12, None, 0x12), "ok"),
        ((0x12, None, 0x1E), "paper_near_end"),
        ((0x12, None, 0x72), "paper_out"),
        ((0x1A, 0x32, 0x72), "paper_out"),
        ((0x1A, 0x16, 0x12), "offline"),
        ((None, None, None), "unknown"),
        ((0xFF, None, None), "unknown"),
        ((None, None, 0x12), "ok"),
    ],
)
def test_status_bytes_become_states(answers: tuple, state: str) -> None:
    assert interpret(*answers).state == state


@pytest.mark.parametrize("state", ["ok", "paper_near_end", "paper_out", "cover_open"])
def test_status_is_read_back_through_a_pty(fake: FakePrinter, state: str) -> None:
    fake.state = state
    link = open_link(f"file:{fake.link_path}", timeout=1)
    st = link.status()
    assert st.state == {"cover_open": "offline"}.get(state, state)
    if state == "cover_open":
        assert "cover is open" in st.detail
    link.close()


def test_a_ticket_sent_through_a_pty_arrives_whole(fake: FakePrinter) -> None:
    link = open_link(f"file:{fake.link_path}", timeout=1)
    layout = TicketLayout(576, ["UBND PHƯỜNG NGHĨA TÂN"])
    tp = TicketPrinter(link, layout)
    tp.print(TICKET)
    deadline = time.monotonic() + 60
    while not fake.jobs and time.monotonic() < deadline:
        time.sleep(0.01)
    assert fake.jobs == [tp.job_bytes(TICKET)]
    link.close()


def test_a_printer_that_never_answers_is_unknown_never_paper_ok(fake: FakePrinter) -> None:
    fake.state = "silent"
    # python-escpos 3.1's own answer: "plenty of paper" from a printer that said nothing.
    esc = File(str(fake.link_path))
    esc._read = lambda: b""  # type: ignore[method-assign]
    assert esc.paper_status() == 2
    esc.close()
    until(lambda: fake.questions == 1)
    # A long connection timeout, so only the short status wait (0.3 s) can end it soon.
    link = open_link(f"file:{fake.link_path}", timeout=30)
    t0 = time.monotonic()
    st = link.status()
    assert st.state == "unknown" and "does not report" in st.detail
    assert time.monotonic() - t0 < 15  # one short wait, not the 30 s timeout
    until(lambda: fake.questions >= 3)
    time.sleep(0.1)
    assert fake.questions == 1 + 2  # online and paper, asked together
    link.close()


def test_a_printer_that_stops_taking_data_times_out_as_offline(fake: FakePrinter) -> None:
    fake.taking.clear()
    link = open_link(f"file:{fake.link_path}", timeout=0.5)
    t0 = time.monotonic()
    with pytest.raises(PrinterFault) as e:
        for _ in range(50):  # more than the pty can buffer
            link.write(raster.raster(TicketLayout(576).render(TICKET)))
    assert e.value.state == "offline" and "took no data" in e.value.detail
    assert time.monotonic() - t0 < 15  # timed out, never stuck
    link.close()


def test_an_unplugged_printer_is_offline_and_comes_back_under_the_same_name(
    fake: FakePrinter,
) -> None:
    link = open_link(f"file:{fake.link_path}", timeout=1)
    assert link.status().state == "ok"
    fake.unplug()
    with pytest.raises(PrinterFault) as e:
        link.write(b"\x1b@" * 10)
        link.status()
    assert e.value.state == "offline"
    fake.plug_in()
    assert link.status().state == "ok"
    link.close()


def test_serial_printer_on_a_pty_through_escpos_serial(fake: FakePrinter) -> None:
    fake.state = "paper_near_end"
    link = open_link(f"serial:{fake.link_path}?baudrate=115200", timeout=1)
    assert link.status().state == "paper_near_end"
    link.close()


class TcpPrinter:
    """A network printer on 127.0.0.1 that answers status, or stays silent."""

    def __init__(self, answer: bytes | None):
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.answer = answer
        self.received = bytearray()
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self) -> None:
        conn, _ = self.sock.accept()
        with conn:
            while True:
                data = conn.recv(65536)
                if not data:
                    return
                self.received += data
                if self.answer is not None and b"\x10\x04" in data:
                    conn.sendall(self.answer * data.count(b"\x10\x04"))


def test_network_printer_status_over_loopback() -> None:
    p = TcpPrinter(bytes((0x12,)))
    link = open_link(f"tcp://127.0.0.1:{p.port}", timeout=1)
    assert link.status().state == "ok"
    link.close()


def test_silent_network_printer_is_unknown_and_refused_connection_is_offline() -> None:
    p = TcpPrinter(None)
    link = open_link(f"tcp://127.0.0.1:{p.port}", timeout=1)
    assert link.status().state == "unknown"
    link.close()
    port = p.port
    p.sock.close()
    with pytest.raises(PrinterFault) as e:
        open_link(f"tcp://127.0.0.1:{port}", timeout=0.5).status()
    assert e.value.state == "offline"


def test_a_missing_device_is_offline_and_no_file_is_made_in_its_place() -> None:
    path = "/dev/kiosk-printer-test-absent"
    with pytest.raises(PrinterFault) as e:
        open_link(f"file:{path}").status()
    assert e.value.state == "offline" and "unplugged" in e.value.detail
    assert not Path(path).exists()


def test_a_plain_file_collects_tickets_and_gives_no_status(tmp_path: Path) -> None:
    link = open_link(f"file:{tmp_path / 'capture.bin'}")
    assert link.status().state == "unknown"
    TicketPrinter(link, TicketLayout(384)).print(TICKET)
    link.close()
    data = (tmp_path / "capture.bin").read_bytes()
    assert raster.decode(data).size == TicketLayout(384).render(TICKET).size


def test_opening_a_file_printer_imports_no_other_transport_module() -> None:
    import subprocess
    import sys

    probe = (
        "import sys\n"
        "from printer.connection import open_link\n"
        "open_link('file:/dev/null')\n"
        "print(' '.join(sorted(m for m in sys.modules if m.startswith('printer.'))))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout.split()
    assert "printer.file" in out
    for other in ("printer.usb", "printer.serialport", "printer.network", "printer.cups"):
        assert other not in out


def test_every_link_class_stays_importable_from_printer_connection() -> None:
    from printer import connection
    from printer.cups import CupsLink
    from printer.file import FileLink
    from printer.network import TcpLink
    from printer.serialport import SerialLink
    from printer.usb import UsbLink
    from printer.virtual import DummyLink, PngLink

    assert connection.UsbLink is UsbLink and connection.SerialLink is SerialLink
    assert connection.TcpLink is TcpLink and connection.FileLink is FileLink
    assert connection.CupsLink is CupsLink
    assert connection.KINDS["dummy"] is DummyLink and connection.KINDS["png"] is PngLink
