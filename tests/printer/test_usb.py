"""usb:VID:PID through python-escpos's Usb and pyusb, with a fake device behind
``usb.core.find`` (no USB printer is attached to the machines that run the tests)."""

from __future__ import annotations

import errno
from collections import deque

import pytest
import usb.core
import usb.util

from printer.connection import PrinterFault, open_link
from printer.job import TicketPrinter
from printer.layout import TicketInfo, TicketLayout
from printer.raster import decode


class FakeUsbDevice:
    """Just the pyusb Device calls python-escpos makes, recording what it is sent."""

    class backend:  # not libusb1: python-escpos then skips the kernel-driver dance
        pass

    class _ctx:  # pyusb's dispose_resources, called by Escpos.__del__ after the test
        @staticmethod
        def dispose(device: object) -> None:
            pass

    def __init__(self) -> None:
        self.writes: list[tuple[int, bytes, int]] = []
        self.reads: list[tuple[int, int]] = []
        self.replies: deque[bytes] = deque()  # what the printer will answer
        self.answers: deque[bytes] = deque()  # answers waiting to be read
        self.stalled = False

    def set_configuration(self) -> None:
        pass

    def reset(self) -> None:
        pass

    def write(self, ep: int, data: bytes, timeout: int) -> int:
        if self.stalled:
            raise usb.core.USBTimeoutError("Operation timed out", errno.ETIMEDOUT, -7)
        self.writes.append((ep, bytes(data), timeout))
        if data.startswith(b"\x10\x04"):  # status questions: one answer byte each
            for _ in range(0, len(data), 3):
                if self.replies:
                    self.answers.append(self.replies.popleft())
        return len(data)

    def read(self, ep: int, size: int, timeout: int) -> bytes:
        self.reads.append((ep, timeout))
        if not self.answers:
            raise usb.core.USBTimeoutError("Operation timed out", errno.ETIMEDOUT, -7)
        return self.answers.popleft()


@pytest.fixture
def device(monkeypatch):
    dev = FakeUsbDevice()
    found: dict[str, object] = {}

    def find(**kw):  # type: ignore[no-untyped-def]
        found.update(kw)
        return dev if (kw.get("idVendor"), kw.get("idProduct")) == (0x0416, 0x5011) else None

    monkeypatch.setattr(usb.core, "find", find)
    monkeypatch.setattr(usb.util, "dispose_resources", lambda d: None)
    dev.found = found  # type: ignore[attr-defined]
    return dev


def test_usb_printer_gets_the_ticket_on_its_out_endpoint_with_a_timeout(device) -> None:
    link = open_link("usb:0416:5011?in_ep=0x81&out_ep=0x03", timeout=2)
    layout = TicketLayout(384)
    t = TicketInfo(code="A001", service_id="s", service_name="Hộ tịch")
    TicketPrinter(link, layout).print(t)
    assert device.found == {"idVendor": 0x0416, "idProduct": 0x5011}
    assert {ep for ep, _, _ in device.writes} == {0x03}
    assert {timeout for _, _, timeout in device.writes} == {2000}  # never 0 (= forever)
    sent = b"".join(data for _, data, _ in device.writes)
    assert decode(sent).tobytes() == layout.render(t).tobytes()


def test_usb_status_is_read_from_the_in_endpoint(device) -> None:
    device.replies.extend([b"\x12", b"\x1e"])  # online; paper nearly out
    link = open_link("usb:0416:5011?in_ep=0x81", timeout=2)
    st = link.status()
    assert st.state == "paper_near_end"
    assert device.reads and {ep for ep, _ in device.reads} == {0x81}


def test_usb_printer_that_does_not_answer_is_unknown(device) -> None:
    assert open_link("usb:0416:5011", timeout=2).status().state == "unknown"


def test_usb_printer_that_stops_taking_data_is_offline(device) -> None:
    link = open_link("usb:0416:5011", timeout=2)
    link.write(b"\x1b@")
    device.stalled = True
    with pytest.raises(PrinterFault) as e:
        link.write(b"\x1b@")
    assert e.value.state == "offline" and "sending failed" in e.value.detail


def test_usb_printer_not_on_the_bus_says_to_plug_it_in(device) -> None:
    with pytest.raises(PrinterFault) as e:
        open_link("usb:04b8:0e15").status()
    assert e.value.state == "offline"
    assert e.value.detail == (
        "USB printer 04b8:0e15 is not plugged in or switched off (lsusb must list 04b8:0e15)"
    )


def test_usb_printer_without_permission_points_at_the_udev_rule(monkeypatch) -> None:
    def find(**kw):  # type: ignore[no-untyped-def]
        raise usb.core.USBError("Access denied (insufficient permissions)", errno.EACCES, -3)

    monkeypatch.setattr(usb.core, "find", find)
    with pytest.raises(PrinterFault) as e:
        open_link("usb:0416:5011").status()
    assert "udev rule" in e.value.detail and "group lp" in e.value.detail


def test_usb_without_libusb_says_what_to_install(monkeypatch) -> None:
    def find(**kw):  # type: ignore[no-untyped-def]
        raise usb.core.NoBackendError("No backend available")

    monkeypatch.setattr(usb.core, "find", find)
    with pytest.raises(PrinterFault) as e:
        open_link("usb:0416:5011").status()
    assert "libusb-1.0-0" in e.value.detail
