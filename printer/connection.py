"""Printer connections chosen by URI: :func:`open_link` picks the module for the scheme.

==========================================  ==============================================
URI                                          module (connection)
==========================================  ==============================================
``usb:VID:PID[?in_ep=0x82&out_ep=0x01]``     ``printer.usb``: ``escpos.printer.Usb`` (pyusb),
                                             hex ids as lsusb
``serial:/dev/PATH[?baudrate=N]``            ``printer.serialport``: ``escpos.printer.Serial``
                                             (pyserial), 8N1
``tcp://HOST[:PORT]``                        ``printer.network``: ``escpos.printer.Network``
                                             (raw port 9100)
``file:PATH``                                ``printer.file``: an ``escpos.printer.File``
                                             opened read-write (/dev/usb/lp0, a pty, a file)
``cups:QUEUE``                               ``printer.cups``: ``escpos.printer.LP``
                                             (``lp -d QUEUE -o raw``)
``dummy:``, ``png:DIR``                      ``printer.virtual``: the virtual printers
==========================================  ==============================================

One module per connection kind, as pyserial keeps one handler per URL scheme; each is
imported only when a URI of its scheme is opened. Every module subclasses
``printer.link.Link`` and never imports this one. The link classes stay importable from
here (``from printer.connection import FileLink``), loaded on first use.

Every operation has a timeout (``[printer] timeout``): python-escpos's ``Usb``
defaults to 0, which blocks forever on a printer that stopped taking data.
Faults become :class:`PrinterFault` with words a technician can act on.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from printer.link import CHUNK, Link, PrinterFault
from printer.uri import PrinterUriError, parse

if TYPE_CHECKING:
    from printer.cups import CupsLink
    from printer.file import FileLink
    from printer.network import TcpLink
    from printer.serialport import SerialLink
    from printer.usb import UsbLink
    from printer.virtual import DummyLink, PngLink

#: URI scheme -> (module, Link class) that handles it.
MODULES: dict[str, tuple[str, str]] = {
    "usb": ("printer.usb", "UsbLink"),
    "serial": ("printer.serialport", "SerialLink"),
    "tcp": ("printer.network", "TcpLink"),
    "file": ("printer.file", "FileLink"),
    "cups": ("printer.cups", "CupsLink"),
    "dummy": ("printer.virtual", "DummyLink"),
    "png": ("printer.virtual", "PngLink"),
}
#: The names once defined here, now in their own modules (loaded by ``__getattr__``).
_MOVED = {cls: mod for mod, cls in MODULES.values()} | {"_RwFile": "printer.file"}


def link_class(kind: str) -> type[Link]:
    """The :class:`Link` subclass for a parsed URI's kind, importing its module now."""
    module, name = MODULES[kind]
    cls: type[Link] = getattr(importlib.import_module(module), name)
    return cls


def __getattr__(name: str) -> Any:
    if name == "KINDS":  # the old scheme -> class table; imports every transport
        return {kind: link_class(kind) for kind in MODULES}
    if name in _MOVED:
        return getattr(importlib.import_module(_MOVED[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def open_link(uri: str, timeout: float = 5.0) -> Link:
    """The :class:`Link` for a ``[printer] uri``; nothing is opened until first used.

    Raises :class:`printer.uri.PrinterUriError` for a URI of the wrong form.
    """
    target = parse(uri)
    return link_class(target.kind)(uri, target, timeout)


__all__ = [
    "CHUNK",
    "CupsLink",
    "DummyLink",
    "FileLink",
    "Link",
    "PngLink",
    "PrinterFault",
    "PrinterUriError",
    "SerialLink",
    "TcpLink",
    "UsbLink",
    "link_class",
    "open_link",
]
