"""The display end of the link: reads frames, acknowledges them, applies them, sends heartbeats.

One thread owns the serial port: it reads with a short timeout (a real sleep in
``select``, not a busy poll), answers every sequenced frame addressed to this
display with an ACK (or a NAK when it was damaged), and sends a STATUS heartbeat
every :data:`~display.protocol.HEARTBEAT_S`. When no valid frame has arrived for
:data:`~display.protocol.LINK_TIMEOUT_S` the link is marked lost (the screen shows
"Mất kết nối" and keeps the last state) and the next heartbeats ask the kiosk for
a full snapshot. A port that disappears (USB adapter unplugged) is reopened with
a growing delay.
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
        self.need_snapshot = True
        self.last_seq: int | None = None
        self.last_rx = 0.0
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
        self._send_status()
        while not self._stop.is_set():
            data = ser.read(ser.in_waiting or 1)
            now = time.monotonic()
            if data:
                for item in self.decoder.feed(data):
                    self.handle(item, now)
            self._link_check(now)
            if now - self.last_tx >= p.HEARTBEAT_S:
                self._send_status()

    # -- protocol
    def _link_check(self, now: float) -> None:
        up = self.last_rx > 0 and now - self.last_rx < p.LINK_TIMEOUT_S
        if not up and self.state.link_up:
            log.warning("no frame from the kiosk for %.1f s: link lost", p.LINK_TIMEOUT_S)
            # Whatever happened meanwhile, the kiosk's full state is the way back.
            self.need_snapshot = True
        if up != self.state.link_up:
            self.state.set_link(up)
            self.on_change()

    def _write(self, frame: p.Frame) -> None:
        if self._ser is None:
            return
        self._ser.write(p.encode_frame(frame))
        self.last_tx = time.monotonic()

    def _send_status(self) -> None:
        st = p.Status(
            self.need_snapshot,
            self.last_seq or 0,
            int(time.monotonic() - self.started),
        )
        self._write(p.Frame(p.T_STATUS, 0, self.address, st.encode()))

    def _reply(self, type: int, seq: int, payload: bytes = b"") -> None:
        self._write(p.Frame(type, seq, self.address, payload))

    def handle(self, item: p.Frame | p.BadFrame, now: float) -> None:
        """Act on one decoded item: ACK, NAK, apply, or ignore."""
        if isinstance(item, p.BadFrame):
            # We cannot know whose frame it was; a NAK makes a waiting sender resend at once.
            self.stats["naks"] += 1
            self._reply(p.T_NAK, self.last_seq or 0, p.encode_nak(p.NAK_CORRUPT))
            return
        f = item
        broadcast = f.address == p.ADDR_BROADCAST
        if f.address != self.address and not broadcast:
            return  # another device's frame on a shared RS-485 line
        if f.version != p.VERSION:
            if not broadcast:
                self._reply(p.T_NAK, f.seq, p.encode_nak(p.NAK_VERSION))
            return
        if f.type in (p.T_ACK, p.T_NAK, p.T_STATUS):
            return  # our own kind of frame echoed back: not from the kiosk
        was_up = self.state.link_up
        self.last_rx = now
        self._link_check(now)
        if f.type not in p.SEQUENCED:
            if f.type == p.T_PING and not was_up:
                # A kiosk (or `kiosk doctor`) that just opened the line hears us at once.
                self._send_status()
            return  # PING or a type from a newer kiosk: heard, nothing else to do
        # A snapshot is always applied (it is idempotent and starts every session);
        # anything else with the seq we applied last is a retransmission.
        if f.type != p.T_SNAPSHOT and f.seq == self.last_seq:
            self.stats["duplicates"] += 1
            if not broadcast:
                self._reply(p.T_ACK, f.seq)
            return
        try:
            msg = p.decode_message(f)
        except p.ProtocolError as e:
            self.stats["bad_payload"] += 1
            log.warning("frame %s seq %d: %s", f.name, f.seq, e)
            if not broadcast:
                self._reply(p.T_NAK, f.seq, p.encode_nak(p.NAK_PAYLOAD))
            return
        self._apply(msg)
        self.last_seq = f.seq
        self.stats["applied"] += 1
        if not broadcast:
            self._reply(p.T_ACK, f.seq)
        self.on_change()

    def _apply(self, msg: p.Message) -> None:
        if msg.snapshot is not None:
            self.state.apply_snapshot(msg.snapshot)
            self.need_snapshot = False
        elif msg.call is not None:
            if self.state.apply_call(msg.call):
                self.on_call(msg.call)
        elif msg.notice is not None:
            self.state.apply_notice(msg.notice)
        elif msg.clock is not None:
            self.state.apply_clock(msg.clock)
