"""2D scanners at the kiosk: a USB one typing as a keyboard, or one on a serial port.

A keyboard-wedge scanner types the code it read as key presses a few milliseconds
apart and ends with Enter; a person's keys are 100 ms or more apart (measured:
fast typists ~120 ms between keys, scanners 1–10 ms). :class:`KeyBurst` tells the
two apart by that gap: keys closer than ``gap_s`` are one burst, and a burst of at
least :data:`MIN_SCAN_CHARS` keys ended by Enter (or by silence, for a scanner set to
send no Enter) is a scanned code.

A serial scanner (``[scanner] port``) sends the code as bytes ending with CR or LF;
:class:`SerialScanner` reads them in its own thread and hands each complete code to a
callback (the kiosk posts it to its main loop). Framing is kept apart from the thread
(:class:`LineFramer`), as pyserial's ``threaded`` module does.

Scanned text is personal data when it is an ID card: nothing here logs it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from kiosk.core.citizen import Citizen, CitizenKey
from kiosk.core.config import Config

log = logging.getLogger(__name__)

#: Keys closer than this are a scanner typing, not a person (kiosk/ui/app.py SCAN_GAP_S).
SCAN_GAP_S = 0.06
#: Fewer keys than this in a burst are not a code (two fast keys by a person).
MIN_SCAN_CHARS = 4
#: Longest code a serial scanner may send before a line end (a longer one is dropped).
MAX_LINE = 4096


class KeyBurst:
    """Collects keys that come faster than a person types (see the module docstring)."""

    def __init__(self, gap_s: float = SCAN_GAP_S, min_chars: int = MIN_SCAN_CHARS):
        self.gap_s = gap_s
        self.min_chars = min_chars
        self.chars: list[str] = []
        self.last = -1e9

    def key(self, ch: str, now: float) -> None:
        """A printable key (spaces included) at ``now``."""
        if not ch:
            return
        if self.chars and now - self.last <= self.gap_s and len(self.chars) < MAX_LINE:
            self.chars.append(ch)
        else:
            self.chars = [ch]
        self.last = now

    def in_burst(self, now: float) -> bool:
        """The last key came within the gap of the one before: a scanner is typing."""
        return len(self.chars) >= 2 and now - self.last <= self.gap_s

    def enter(self, now: float) -> str | None:
        """Enter at ``now``: the scanned code if a burst just ended with it, else None."""
        text = "".join(self.chars) if now - self.last <= self.gap_s else ""
        self.chars = []
        return text if len(text) >= self.min_chars else None

    def ended(self, now: float) -> str | None:
        """A burst that stopped without Enter (a scanner set to send none), once."""
        if len(self.chars) >= self.min_chars and now - self.last > self.gap_s * 2:
            text, self.chars = "".join(self.chars), []
            return text
        if self.chars and now - self.last > self.gap_s * 2:
            self.chars = []
        return None


class LineFramer:
    """Bytes in, complete codes out: a code ends at CR or LF (CRLF counts once)."""

    def __init__(self) -> None:
        self.buf = bytearray()
        self.dropped = 0

    def feed(self, data: bytes) -> list[str]:
        out: list[str] = []
        for b in data:
            if b in (0x0D, 0x0A):
                if self.buf:
                    out.append(self.buf.decode("utf-8", errors="replace"))
                    self.buf.clear()
            elif len(self.buf) < MAX_LINE:
                self.buf.append(b)
            else:
                self.dropped += 1  # an endless line: drop it, resynchronise at the next end
                self.buf.clear()
        return out


class SerialScanner:
    """Reads codes from a serial scanner in a thread; ``on_code(text)`` for each.

    The port is opened with pyserial's ``serial_for_url`` (a device path, or a URL
    such as ``loop://`` in tests). A port that fails is reopened every few seconds;
    the kiosk goes on with its buttons meanwhile.
    """

    def __init__(
        self,
        port: str,
        on_code: Callable[[str], None],
        baud: int = 9600,
        opener: Callable[..., Any] | None = None,
    ):
        self.port = port
        self.baud = baud
        self.on_code = on_code
        self._opener = opener
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._ser: Any = None
        self.codes = 0
        self.last_error: str | None = None
        #: Set while the port is open (opening it flushes what was sent before).
        self.opened = threading.Event()

    def _open(self) -> Any:
        if self._opener is not None:
            return self._opener(self.port, self.baud)
        import serial

        return serial.serial_for_url(self.port, baudrate=self.baud, timeout=0.5)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="scanner", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        self._stop.set()
        ser = self._ser
        if ser is not None:
            try:
                ser.cancel_read()
            except Exception:  # noqa: BLE001 - closing anyway
                pass
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._ser = self._open()
                self.last_error = None
                self.opened.set()
                framer = LineFramer()
                while not self._stop.is_set():
                    data = self._ser.read(max(1, self._ser.in_waiting))
                    for code in framer.feed(data):
                        self.codes += 1
                        try:
                            self.on_code(code)
                        except Exception:  # noqa: BLE001 - never the code itself in a log
                            log.exception("scanner: handling a scanned code failed")
            except Exception as e:  # noqa: BLE001 - unplugged, no such port, ...
                if self.last_error != str(e):
                    log.warning("scanner %s: %s; retrying every 5 s", self.port, e)
                self.last_error = str(e)
            finally:
                self.opened.clear()
                if self._ser is not None:
                    try:
                        self._ser.close()
                    except Exception:  # noqa: BLE001
                        pass
                    self._ser = None
            self._stop.wait(5.0)


def citizen_of(card: Any, key: CitizenKey, cfg: Config, today: Any) -> Citizen:
    """What a ticket may know of a card's holder: keyed hash, priority age, initials.

    ``card`` is a :class:`kiosk.inputs.idcard.IdCard`; nothing else of it is kept.
    """
    age = cfg.queue.priority_age
    return Citizen(
        key.hash(card.id_number),
        senior=bool(age) and card.age_on(today) >= age,
        initials=card.initials if cfg.printer.initials else "",
    )
