"""Printer URIs, parsed and checked without opening anything (and without importing
python-escpos, which takes a quarter of a second to load its printer profiles).

``usb:VID:PID[?in_ep=0x82&out_ep=0x01]``, ``serial:/dev/PORT[?baudrate=N]``,
``tcp://HOST[:PORT]``, ``file:PATH``, ``cups:QUEUE``, ``dummy:``, ``png:FOLDER``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

SCHEMES = ("usb", "serial", "tcp", "file", "cups", "dummy", "png")
FORMS = (
    "usb:VID:PID, serial:/dev/PORT?baudrate=N, tcp://HOST:PORT, file:PATH, cups:QUEUE, "
    "dummy:, png:FOLDER"
)


class PrinterUriError(ValueError):
    """A ``[printer] uri`` that cannot be used; the message shows the right form."""


@dataclass(frozen=True)
class Target:
    """Where a URI points: ``kind`` (a scheme), ``where`` (path, host:port, ids, queue)."""

    kind: str
    where: str
    options: dict[str, int] = field(default_factory=dict)
    host: str = ""
    port: int = 0


def _int(uri: str, name: str, value: str) -> int:
    try:
        return int(value, 0)
    except ValueError:
        raise PrinterUriError(f'printer URI "{uri}": {name} "{value}" is not a number') from None


def parse(uri: str) -> Target:
    """The :class:`Target` of a printer URI; raises :class:`PrinterUriError`."""
    scheme = uri.split(":", 1)[0].lower() if ":" in uri else ""
    if scheme not in SCHEMES:
        raise PrinterUriError(f'printer URI "{uri}" is not one of: {FORMS}')
    rest = uri.split(":", 1)[1]
    path, _, query = rest.partition("?")
    q = {k: v[-1] for k, v in parse_qs(query).items()}
    if scheme == "usb":
        vid, _, pid = path.partition(":")
        try:
            ids = (int(vid, 16), int(pid, 16))
        except ValueError:
            raise PrinterUriError(
                f'printer URI "{uri}": write usb:VENDOR:PRODUCT in hex as lsusb shows, '
                "e.g. usb:0416:5011"
            ) from None
        opts = {"vid": ids[0], "pid": ids[1]}
        opts["in_ep"] = _int(uri, "in_ep", q.get("in_ep", "0x82"))
        opts["out_ep"] = _int(uri, "out_ep", q.get("out_ep", "0x01"))
        return Target("usb", f"{vid.lower()}:{pid.lower()}", opts)
    if scheme == "serial":
        dev = path.removeprefix("//")
        if not dev:
            raise PrinterUriError(
                f'printer URI "{uri}": write serial:/dev/PORT?baudrate=N, '
                "e.g. serial:/dev/ttyUSB0?baudrate=19200"
            )
        baud = _int(uri, "baudrate", q.get("baudrate", "19200"))
        return Target("serial", dev, {"baudrate": baud})
    if scheme == "tcp":
        parts = urlsplit(uri)
        try:
            port = parts.port or 9100
        except ValueError:
            raise PrinterUriError(f'printer URI "{uri}": the port is not a number') from None
        if not parts.hostname:
            raise PrinterUriError(
                f'printer URI "{uri}": write tcp://HOST:PORT, e.g. tcp://192.168.1.50:9100'
            )
        return Target("tcp", f"{parts.hostname}:{port}", host=parts.hostname, port=port)
    where = path.removeprefix("//")
    if scheme in ("file", "cups", "png") and not where:
        example = {"file": "file:/dev/usb/lp0", "cups": "cups:TM-T20", "png": "png:/tmp/tickets"}
        raise PrinterUriError(
            f'printer URI "{uri}": name a {scheme} target, e.g. {example[scheme]}'
        )
    return Target(scheme, where)
