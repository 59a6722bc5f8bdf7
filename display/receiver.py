"""The display end of the link: reads frames, applies their items, answers when spoken to.

One thread owns the serial port: it reads with a short timeout (a real sleep in
``select``, not a busy poll) and applies every item from the kiosk addressed to
the hall (0), to everyone (255) or to this display — so a counter display on the
hall display's line keeps its own counter's number without ever transmitting.
It answers only frames addressed to its own address: an ACK once an item is
applied (a NAK when a frame was damaged), a STATUS to each PING. When no valid
frame has arrived for :data:`~display.protocol.LINK_TIMEOUT_S` the link is marked
lost (the screen shows "Mất kết nối" and keeps the last state, and the kiosk's
record of it stays valid: only what changed is sent after the fault). A port that
disappears (USB adapter unplugged) is reopened with a growing delay.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import serial

from display import protocol as p
from display.state import HallState

log = logging.getLogger(__name__)

READ_TIMEOUT_S = 0.5
REOPEN_MIN_S = 0.25
REOPEN_MAX_S = 5.0


class Receiver:
    """The display's side of the serial link, run in its own thread."""

    def __init__(
        self,
        port: str,
        state: HallState,
        *,
        baud: int = 115200,
        address: int = p.ADDR_HALL,
        on_change: Callable[[], None] = lambda: None,
        on_call: Callable[[p.Call], None] = lambda c: None,
        open_port: Callable[..., Any] | None = None,
    ) -> None:
        self.port = port
        self.baud = baud
        self.address = address
        self.state = state
        self.on_change = on_change
        self.on_call = on_call
        self._open_port = open_port or serial.Serial
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._ser: Any = None
        self.decoder = p.FrameDecoder()
        self.last_seq: int | None = None
        self.last_rx = 0.0
        #: When a frame addressed to this display last arrived: it is being driven.
        self.last_addressed = 0.0
        self.last_tx = 0.0
        self.started = time.monotonic()
        self.stats = {"applied": 0, "duplicates": 0, "naks": 0, "reopens": 0, "bad_payload": 0}
        self.port_error: str | None = None

    # -- lifecycle
    def start(self) -> Receiver:
        self._thread = threading.Thread(target=self._run, name="display-receiver", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 3.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        self._close()

    def _close(self) -> None:
        if self._ser is not None:
            try:
                self._ser.close()
            except Exception:  # closing a vanished device may fail; it is gone either way
                pass
            self._ser = None

    def _run(self) -> None:
        delay = REOPEN_MIN_S
        while not self._stop.is_set():
            try:
                self._ser = self._open_port(
                    self.port, self.baud, timeout=READ_TIMEOUT_S, exclusive=True
                )
            except (serial.SerialException, OSError, ValueError) as e:
                msg = f"cannot open {self.port}: {e}"
                if msg != self.port_error:
                    log.warning("%s; retrying", msg)
                    self.port_error = msg
                self._link_check(time.monotonic())
                self._stop.wait(delay)
                delay = min(delay * 2, REOPEN_MAX_S)
                continue
            if self.port_error:
                log.warning("opened %s", self.port)
            self.port_error = None
            delay = REOPEN_MIN_S
            self.decoder = p.FrameDecoder()
            try:
                self._serve()
            except (serial.SerialException, OSError) as e:
                self.stats["reopens"] += 1
                log.warning("serial port %s failed: %s; reopening", self.port, e)
            self._close()

    def _serve(self) -> None:
        ser = self._ser
        while not self._stop.is_set():
            data = ser.read(ser.in_waiting or 1)
            now = time.monotonic()
            if data:
                for item in self.decoder.feed(data):
                    self.handle(item, now)
            self._link_check(now)

    # -- protocol
    def _link_check(self, now: float) -> None:
        up = self.last_rx > 0 and now - self.last_rx < p.LINK_TIMEOUT_S
        if not up and self.state.link_up:
            log.warning("no frame from the kiosk for %.1f s: link lost", p.LINK_TIMEOUT_S)
        if up != self.state.link_up:
            self.state.set_link(up)
            self.on_change()

    @property
    def need_session(self) -> bool:
        """Whether the kiosk has yet to begin a session with this display (after boot)."""
        return self.state.session == 0

    def _write(self, frame: p.Frame) -> None:
        if self._ser is None:
            return
        self._ser.write(p.encode_frame(frame))
        self.last_tx = time.monotonic()

    def _send_status(self) -> None:
        st = p.Status(self.state.session, self.last_seq or 0, int(time.monotonic() - self.started))
        self._write(p.Frame(p.T_STATUS, 0, self.address, st.encode()))

    def _reply(self, type: int, seq: int, payload: bytes = b"") -> None:
        self._write(p.Frame(type, seq, self.address, payload))

    def handle(self, item: p.Frame | p.BadFrame, now: float) -> None:
        """Act on one decoded item: apply, ACK, NAK, or ignore."""
        if isinstance(item, p.BadFrame):
            # We cannot know whose frame it was; a NAK makes a waiting sender resend at
            # once. Only a display being driven says so: on a shared line the others
            # keep quiet, or their NAKs would collide.
            if now - self.last_addressed < p.LINK_TIMEOUT_S:
                self.stats["naks"] += 1
                self._reply(p.T_NAK, self.last_seq or 0, p.encode_nak(p.NAK_CORRUPT))
            return
        f = item
        if f.type in p.FROM_DISPLAY:
            return  # another display's reply, or our own echoed: not from the kiosk
        mine = f.address == self.address
        if not (mine or f.address in (p.ADDR_HALL, p.ADDR_BROADCAST)):
            return  # another counter display's own frame
        if f.version != p.VERSION:
            if mine:
                self._reply(p.T_NAK, f.seq, p.encode_nak(p.NAK_VERSION))
            return
        self.last_rx = now
        if mine:
            self.last_addressed = now
        self._link_check(now)
        if f.type not in p.SEQUENCED:
            if f.type == p.T_PING and mine:
                self._send_status()
            return  # PING or a type from a newer kiosk: heard, nothing else to do
        # A retransmission (our ACK was lost) is acknowledged again, not applied again;
        # BEGIN always is (a kiosk that restarted may begin with any seq).
        if mine and f.type != p.T_BEGIN and f.seq == self.last_seq:
            self.stats["duplicates"] += 1
            self._reply(p.T_ACK, f.seq)
            return
        try:
            msg = p.decode_message(f)
        except p.ProtocolError as e:
            self.stats["bad_payload"] += 1
            log.warning("frame %s seq %d: %s", f.name, f.seq, e)
            if mine:
                self._reply(p.T_NAK, f.seq, p.encode_nak(p.NAK_PAYLOAD))
            return
        call = self.state.apply(msg)
        self.stats["applied"] += 1
        if mine:
            self.last_seq = f.seq
            self._reply(p.T_ACK, f.seq)
        if call is not None:
            self.on_call(call)
        self.on_change()
