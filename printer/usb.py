"""USB printers through libusb (pyusb): ``usb:VID:PID[?in_ep=0x82&out_ep=0x01]``.

``VID`` and ``PID`` are hex, as ``lsusb`` shows them (``usb:0416:5011``); the endpoints
default to 0x82 (in) and 0x01 (out). The connection is python-escpos's ``Usb``, given a
timeout (its default of 0 blocks forever on a printer that stopped taking data), and
status answers are read from the in endpoint. Opening faults name the fix (udev rule,
``lp`` group, libusb, plug it in). ``printer.connection.open_link`` picks this module.
"""

from __future__ import annotations

import errno
from typing import Any

from escpos.printer import Usb

from printer.link import Link, PrinterFault
from printer.uri import Target


class UsbLink(Link):
    can_read = True

    def __init__(self, uri: str, target: Target, timeout: float):
        o = target.options
        self.in_ep, self.vid_pid = o["in_ep"], target.where
        # python-escpos's default timeout 0 would block forever; pyusb counts milliseconds.
        p = Usb(
            o["vid"],
            o["pid"],
            timeout=max(1, int(timeout * 1000)),
            in_ep=o["in_ep"],
            out_ep=o["out_ep"],
        )
        super().__init__(uri, p, timeout)

    def describe(self) -> str:
        return f"USB printer {self.vid_pid}"

    def open(self) -> None:
        try:
            super().open()
        except PrinterFault as f:
            text = f.detail.lower()
            # Most specific first: python-escpos wraps every USBError in "Device not found".
            if "access" in text or "permission" in text:
                detail = (
                    f"USB printer {self.vid_pid}: no permission to open it; install the udev "
                    "rule (docs/printers.md) and add the kiosk user to group lp"
                )
            elif "busy" in text:
                detail = (
                    f"USB printer {self.vid_pid} is in use by another program (the kiosk service?)"
                )
            elif "no backend" in text:
                detail = (
                    "libusb is not installed, so USB printers cannot be opened "
                    "(apt install libusb-1.0-0), or use file:/dev/kiosk-printer"
                )
            elif "not found" in text:
                detail = (
                    f"USB printer {self.vid_pid} is not plugged in or switched off "
                    f"(lsusb must list {self.vid_pid})"
                )
            else:
                raise
            raise PrinterFault("offline", detail) from None

    def read(self, timeout: float) -> bytes:
        dev: Any = self.printer.device
        try:
            return bytes(dev.read(self.in_ep, 16, max(1, int(timeout * 1000))))
        except Exception as e:
            # pyusb's USBTimeoutError: nothing to read (errno 110, "timed out").
            if getattr(e, "errno", None) == errno.ETIMEDOUT or "timed out" in str(e).lower():
                return b""
            raise
