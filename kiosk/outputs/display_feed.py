"""The kiosk's side of the hall-display link: a consumer of the event log, and its drivers.

:class:`DisplayLink` follows the event log from its durable cursor ("display").
Each fresh ``ticket_called``/``ticket_recalled`` becomes a CALL frame that must be
acknowledged before the cursor moves on, so a call is never lost to a cable fault;
every other state change (issued, served, skipped, counters opened ...) marks the
state dirty, and once the log is drained the display is brought up to date with
the state (current number per counter, waiting per service, recent calls, names,
notice, clock).

A :class:`DisplayDriver` carries those messages to hardware. :class:`SerialLink`
speaks the native protocol, version 2 (docs/display-protocol.md) over pyserial:
the state goes as small items, each acknowledged on its own (stop-and-wait with
sequence numbers, CRC-32, ACK/NAK, an adaptive retransmission timeout with bounded
retries), and the link remembers what the display acknowledged in this session so
that it sends only what changed — after a fault, progress is kept item by item.
Heartbeats go both ways; the port is reopened with backoff when the USB adapter is
unplugged. Another driver (e.g. Modbus RTU LED-485 counter boards) implements the
same methods and runs as a second consumer.

Everything runs in the consumer's and the driver's own threads: the UI never waits.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

import serial

from display import protocol as p
from kiosk.core import events
from kiosk.core.consumer import Consumer
from kiosk.core.queue import Queue
from kiosk.core.store import Event

log = logging.getLogger(__name__)

CALL_TYPES = events.CALLS
#: Events that change what the hall display shows.
STATE_TYPES = (
    *CALL_TYPES,
    events.TICKET_ISSUED,
    events.TICKET_SKIPPED,
    events.TICKET_TRANSFERRED,
    events.TICKET_SERVED,
    events.TICKET_EXPIRED,
    events.TICKET_HELD,
    events.TICKET_RETURNED,
    events.TICKET_RESTORED,
    events.COUNTER_OPENED,
    events.COUNTER_CLOSED,
    events.DAY_OPENED,
    events.DAY_CLOSED,
)

#: Retransmission: RFC 6298-style adaptive timeout, doubled on each timeout, bounded.
RTO_INITIAL_S = 0.25
RTO_MIN_S = 0.05
RTO_MAX_S = 1.0
MAX_RETRIES = 8
REOPEN_MIN_S = 0.25
REOPEN_MAX_S = 5.0
#: The reader's longest sleep when nothing arrives. It sleeps until the next heartbeat
#: is due instead: a fixed 0.2 s read timeout woke the kiosk 5 times a second for nothing.
READ_TIMEOUT_S = 1.0
#: Shortest read timeout (a heartbeat due now is sent after at most this).
READ_TIMEOUT_MIN_S = 0.05


class LinkDown(Exception):
    """The display cannot be reached now; the message says why (the consumer retries)."""


class DisplayDriver:
    """Interface of a hall or counter display output."""

    #: Short name for logs, events and the durable cursor suffix.
    name = "driver"

    def is_up(self) -> bool:
        """Whether the display is reachable right now."""
        raise NotImplementedError

    def wants_snapshot(self) -> bool:
        """Whether the display needs the whole state sent (it rebooted, the port reopened)."""
        return False

    def begin_again(self) -> None:
        """Send the whole state again from the next sync on (a new business day)."""

    def poll(self) -> None:
        """Housekeeping between events (open the port, notice link changes); never raises."""

    def send_call(self, call: p.Call) -> None:
        """Show and announce a call; returns once the display has it, else raises LinkDown."""
        raise NotImplementedError

    def send_snapshot(
        self, snap: p.Snapshot, interrupt: Callable[[], bool] = lambda: False
    ) -> bool:
        """Bring the display to ``snap``; False when ``interrupt()`` said stop first.

        Raises LinkDown when the display cannot be reached; what it already has stays.
        """
        raise NotImplementedError

    def close(self) -> None:
        """Release the port."""


class SerialLink(DisplayDriver):
    """The native protocol over a serial port (RS-232/RS-485 USB adapter, or a pty)."""

    name = "serial"

    def __init__(
        self,
        port: str,
        baud: int = 115200,
        address: int = p.ADDR_HALL,
        *,
        on_state: Callable[[bool, str], None] = lambda up, detail: None,
        open_port: Callable[..., Any] | None = None,
    ) -> None:
        self.port = port
        self.baud = baud
        self.address = address
        self.on_state = on_state
        self._open_port = open_port or serial.Serial
        self._ser: Any = None
        self._lock = threading.Lock()  # one writer at a time
        self._send_lock = threading.Lock()  # one sequenced frame in flight
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._reader: threading.Thread | None = None
        self._next_open = 0.0
        self._open_delay = REOPEN_MIN_S
        self._seq = 0
        self._awaiting: int | None = None
        self._awaiting_type: int | None = None
        self._reply: str | None = None  # "ack" or "nak" for the frame in flight
        # Session (docs/display-protocol.md §6): random per kiosk process, so that a
        # display still holding a session of an earlier run says so in its STATUS.
        self.session = random.randint(1, 0xFFFF)
        #: The display acknowledged our BEGIN and has not named another session since.
        self._in_session = False
        #: Payload of every item the display acknowledged in this session, by key.
        self._acked: dict[p.Key, bytes] = {}
        self._refreshed = self._full_refreshed = self._clock_sent = 0.0
        self._last_heard = 0.0
        self._last_ack = 0.0
        self._last_ping = 0.0
        self._up = False
        self.port_error: str | None = None
        self.srtt: float | None = None
        self.rttvar = 0.0
        self.rto = RTO_INITIAL_S
        self.stats = {
            "frames": 0,
            "retransmits": 0,
            "naks": 0,
            "timeouts": 0,
            "failures": 0,
            "reopens": 0,
            "bad_frames": 0,
            "sessions": 0,
            "items": 0,
        }
        #: Items sent by kind ("counter", "site", ...), for tests and the debug log.
        self.items_by_kind: dict[str, int] = {}

    # -- port
    def _ensure_open(self) -> None:
        if self._ser is not None:
            return
        now = time.monotonic()
        if now < self._next_open:
            raise LinkDown(self.port_error or f"{self.port} is not open")
        try:
            # exclusive: a second program on the same line (a stray `cat`, a second kiosk)
            # would steal bytes; `kiosk doctor` sees the lock and says the port is busy.
            ser = self._open_port(
                self.port, self.baud, timeout=READ_TIMEOUT_S, write_timeout=2.0, exclusive=True
            )
        except (serial.SerialException, OSError, ValueError) as e:
            self._next_open = now + self._open_delay
            self._open_delay = min(self._open_delay * 2, REOPEN_MAX_S)
            msg = f"cannot open the display port {self.port}: {e}"
            if msg != self.port_error:
                log.warning("%s; check the cable and [display] port", msg)
            self.port_error = msg
            self._set_up(False, msg)
            raise LinkDown(msg) from None
        self._open_delay = REOPEN_MIN_S
        self.port_error = None
        self._ser = ser
        # A session outlives a reopened port: the display's first STATUS (awaited before
        # anything is sent) says whether it still holds ours.
        self._stop.clear()
        self._reader = threading.Thread(
            target=self._read_loop, args=(ser,), name="display-link-reader", daemon=True
        )
        self._reader.start()
        self._ping()

    def _drop_port(self, ser: Any, why: str) -> None:
        with self._lock:
            if self._ser is ser:
                self._ser = None
                self.stats["reopens"] += 1
                self.port_error = f"display port {self.port} failed: {why}"
                log.warning("%s; reopening", self.port_error)
        try:
            ser.close()
        except Exception:  # the device may already be gone
            pass
        self._set_up(False, self.port_error or why)
        with self._cond:
            self._cond.notify_all()

    def close(self) -> None:
        self._stop.set()
        ser = self._ser
        self._ser = None
        if ser is not None:
            try:
                ser.cancel_read()  # the reader may sleep up to READ_TIMEOUT_S: end it now
            except Exception:
                pass
            try:
                ser.close()
            except Exception:
                pass
        if self._reader is not None and self._reader is not threading.current_thread():
            self._reader.join(1.0)

    def _write(self, frame: p.Frame) -> int:
        data = p.encode_frame(frame)
        ser = self._ser
        if ser is None:
            raise LinkDown(self.port_error or f"{self.port} is not open")
        try:
            with self._lock:
                ser.write(data)
                ser.flush()
        except (serial.SerialException, OSError) as e:
            self._drop_port(ser, str(e))
            raise LinkDown(f"writing to {self.port} failed: {e}") from None
        return len(data)

    def _ping(self) -> None:
        self._last_ping = time.monotonic()
        self._write(p.Frame(p.T_PING, 0, self.address))

    # -- reader thread: replies, heartbeats, link state
    def _read_loop(self, ser: Any) -> None:
        decoder = p.FrameDecoder()
        while not self._stop.is_set() and self._ser is ser:
            try:
                due = self._last_ping + p.HEARTBEAT_S - time.monotonic()
                ser.timeout = min(READ_TIMEOUT_S, max(READ_TIMEOUT_MIN_S, due))
                data = ser.read(ser.in_waiting or 1)
            except (serial.SerialException, OSError, TypeError) as e:
                if not self._stop.is_set() and self._ser is ser:
                    self._drop_port(ser, str(e))
                return
            now = time.monotonic()
            for item in decoder.feed(data) if data else ():
                self._on_item(item, now)
            if self._up and now - self._last_heard > p.LINK_TIMEOUT_S:
                self._set_up(False, f"no heartbeat from the display for {p.LINK_TIMEOUT_S:.1f} s")
            # A PING every second even while items flow: its STATUS names the display's
            # session, which is how a display that rebooted mid-sync is noticed.
            if now - self._last_ping >= p.HEARTBEAT_S:
                try:
                    self._ping()
                except LinkDown:
                    return

    def _on_item(self, item: p.Frame | p.BadFrame, now: float) -> None:
        if isinstance(item, p.BadFrame):
            self.stats["bad_frames"] += 1
            return
        if item.address != self.address or item.type not in p.FROM_DISPLAY:
            return  # another device on the line, or our own frames echoed
        if item.version != p.VERSION:
            if item.type == p.T_NAK:
                log.warning(
                    "the display speaks protocol version %d, this kiosk %d: update the display",
                    item.version,
                    p.VERSION,
                )
            return
        if item.type == p.T_STATUS:
            try:
                st = p.Status.decode(item.payload)
            except p.ProtocolError:
                return
            self._last_heard = now
            # This reader sees the line in order: a STATUS that arrives after the ACK of
            # our BEGIN was sent after the display applied it.
            if st.session != self.session and self._in_session and self._awaiting_type != p.T_BEGIN:
                log.info(
                    "the display names session %d, not %d: sending it all", st.session, self.session
                )
                self._in_session = False
            if not self._up:
                self._set_up(True, "heartbeat from the display")
            return
        self._last_heard = now
        with self._cond:
            if self._awaiting is None or not (item.type == p.T_NAK or item.seq == self._awaiting):
                return
            if item.type == p.T_ACK:
                self._last_ack = now
                if self._awaiting_type == p.T_BEGIN:
                    self._in_session = True
            elif item.payload[:1] == bytes((p.NAK_VERSION,)):
                log.warning("the display does not speak protocol version %d: update it", p.VERSION)
            self._reply = "ack" if item.type == p.T_ACK else "nak"
            self._cond.notify_all()

    def _set_up(self, up: bool, detail: str) -> None:
        if up == self._up:
            return
        self._up = up
        # Up is good news (INFO); down is what a technician must see (WARNING).
        log.log(
            logging.INFO if up else logging.WARNING,
            "display link %s: %s",
            "up" if up else "down",
            detail,
        )
        try:
            self.on_state(up, detail)
        except Exception:  # reporting must never break the link
            log.exception("recording the display link state failed")

    # -- driver interface
    def is_up(self) -> bool:
        return self._up and self._ser is not None

    def wants_snapshot(self) -> bool:
        return not self._in_session

    def begin_again(self) -> None:
        self._in_session = False

    def poll(self) -> None:
        try:
            self._ensure_open()
        except LinkDown:
            pass

    def wait_up(self, timeout: float) -> bool:
        """Wait for a heartbeat from the display (after opening the port)."""
        deadline = time.monotonic() + timeout
        while not self.is_up():
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            self.poll()
            time.sleep(min(0.05, left))
        return True

    def send_call(self, call: p.Call) -> None:
        self.request(p.T_CALL, call.encode())
        # The display now shows the code at the counter and lists the call: no need to
        # send those two items again.
        for it in p.items_after_call(call):
            self._acked[it.key] = it.payload

    def send_notice(self, text: str) -> None:
        for part in p.notice_parts(text):
            self.request(p.T_NOTICE, part.encode())
            self._acked[("notice", part.index)] = part.encode()

    def send_snapshot(
        self, snap: p.Snapshot, interrupt: Callable[[], bool] = lambda: False
    ) -> bool:
        """Send the items of ``snap`` the display does not have yet, most visible first."""
        self._ensure_open()
        if not self.is_up() and not self.wait_up(p.HEARTBEAT_S * 1.5):
            raise LinkDown(f"the display on {self.port} does not answer (no heartbeat)")
        if not self._in_session:
            self._begin()
        session = self.session
        now = time.monotonic()
        if now - self._full_refreshed >= p.FULL_REFRESH_S:
            self._acked.clear()
            self._full_refreshed = self._refreshed = now
        elif now - self._refreshed >= p.REFRESH_S:
            # Listening counter displays that missed a number catch up this way.
            for key in [k for k in self._acked if k[0] in ("counter", "waiting")]:
                del self._acked[key]
            self._refreshed = now
        for it in p.state_items(snap):
            if it.key == ("clock",):
                if it.key in self._acked and now - self._clock_sent < p.CLOCK_EVERY_S:
                    continue
            elif self._acked.get(it.key) == it.payload:
                continue
            if interrupt():
                return False
            self.request(it.type, it.payload)
            if self.session != session or not self._in_session:
                return False  # the display rebooted meanwhile: the next pass sends it all
            self._acked[it.key] = it.payload
            self.stats["items"] += 1
            kind = str(it.key[0])
            self.items_by_kind[kind] = self.items_by_kind.get(kind, 0) + 1
            if it.key == ("clock",):
                self._clock_sent = now
        return True

    def _begin(self) -> None:
        """Start a session: the display will be sent everything again."""
        self._acked.clear()
        self.session = self.session % 0xFFFF + 1
        self.stats["sessions"] += 1
        self._full_refreshed = self._refreshed = time.monotonic()
        self.request(p.T_BEGIN, p.Begin(self.session).encode())

    def request(self, type: int, payload: bytes) -> None:
        """Send one sequenced frame and wait for its ACK; retransmit on NAK or timeout."""
        self._ensure_open()
        if not self.is_up() and not self.wait_up(p.HEARTBEAT_S * 1.5):
            raise LinkDown(f"the display on {self.port} does not answer (no heartbeat)")
        if type != p.T_BEGIN and not self._in_session:
            self._begin()
        with self._send_lock:
            self._seq = (self._seq + 1) % 256
            frame = p.Frame(type, self._seq, self.address, payload)
            wire = len(p.encode_frame(frame))
            for attempt in range(MAX_RETRIES + 1):
                with self._cond:
                    self._awaiting = frame.seq
                    self._awaiting_type = type
                    self._reply = None
                sent = time.monotonic()
                self._write(frame)
                self.stats["frames"] += 1
                if attempt:
                    self.stats["retransmits"] += 1
                timeout = self.rto + p.line_time(wire, self.baud) * 2
                with self._cond:
                    self._cond.wait_for(
                        lambda: self._reply is not None or self._ser is None, timeout
                    )
                    reply, self._awaiting, self._awaiting_type = self._reply, None, None
                if reply == "ack":
                    if attempt == 0:  # Karn: only unambiguous samples
                        self._sample_rtt(time.monotonic() - sent - p.line_time(wire, self.baud))
                    return
                if self._ser is None:
                    raise LinkDown(self.port_error or f"{self.port} closed")
                if reply == "nak":
                    self.stats["naks"] += 1
                else:
                    self.stats["timeouts"] += 1
                    self.rto = min(self.rto * 2, RTO_MAX_S)
            self.stats["failures"] += 1
            if time.monotonic() - self._last_ack > p.LINK_TIMEOUT_S:
                self._set_up(False, f"no acknowledgement after {MAX_RETRIES + 1} tries")
            raise LinkDown(
                f"the display on {self.port} did not acknowledge a {p.TYPE_NAMES[type]} frame "
                f"after {MAX_RETRIES + 1} tries"
            )

    def _sample_rtt(self, r: float) -> None:
        r = max(0.0, r)
        if self.srtt is None:
            self.srtt, self.rttvar = r, r / 2
        else:
            self.rttvar = 0.75 * self.rttvar + 0.25 * abs(self.srtt - r)
            self.srtt = 0.875 * self.srtt + 0.125 * r
        self.rto = min(RTO_MAX_S, max(RTO_MIN_S, self.srtt + 4 * self.rttvar))

    def metrics(self) -> dict[str, float]:
        """Counters and gauges for the metrics exporter."""
        return {
            **{k: float(v) for k, v in self.stats.items()},
            "up": float(self.is_up()),
            "rto_seconds": self.rto,
            "srtt_seconds": self.srtt or 0.0,
        }


class DisplayLink(Consumer):
    """Consumer "display": keeps a hall display showing the queue and announcing calls."""

    name = "display"
    types = STATE_TYPES
    min_backoff = 0.25
    max_backoff = 5.0
    #: Longest sleep between passes: how soon a port is reopened (its own backoff is
    #: 0.25–5 s) and a display that asks for the state while the link stays up is
    #: answered. A link coming up needs no polling: its ``display_link`` event wakes
    #: the consumer at once, and the state follows.
    idle_wait = 2.0
    #: The state is compared with the display's at least this often, whatever happens:
    #: the driver then sends current numbers and waiting counts again (self-healing, and
    #: listening counter displays catch up).
    snapshot_every_s = p.REFRESH_S
    #: A pass that failed on a noisy line is tried again at once this many times while
    #: the link is up (each item already had its retransmissions), not after idle_wait.
    pass_attempts = 5

    def __init__(
        self,
        queue: Queue,
        driver: DisplayDriver | None = None,
        *,
        call_max_age_s: float | None = None,
        notice: str | None = None,
        name: str | None = None,
        port: str | None = None,
    ) -> None:
        super().__init__(queue.store)
        self.queue = queue
        cfg = queue.cfg.display
        if name:
            self.name = name
        self.driver = driver or SerialLink(
            port or cfg.port, cfg.baud, cfg.address, on_state=self._record_state
        )
        self.call_max_age_s = float(
            call_max_age_s if call_max_age_s is not None else cfg.call_max_age
        )
        self.notice = notice if notice is not None else cfg.notice
        self.dirty = True
        self._last_snapshot = 0.0
        self._day: str | None = None
        self._snapshot_day = ""
        self.skipped_stale = 0

    def _record_state(self, up: bool, detail: str) -> None:
        self.queue.record(events.DISPLAY_LINK, state="up" if up else "down", detail=detail)

    def stop(self, timeout: float = 5.0) -> None:
        super().stop(timeout)
        self.driver.close()

    # -- consumer hooks
    def save_after(self, event: Event) -> bool:
        """Save the cursor right after a call only, not after every event.

        A staff call commits ``ticket_served`` and ``ticket_called`` together; saving
        the cursor (an fsync) after the first would delay the CALL frame by a disk
        write. Re-handling the other events after a crash only marks the state dirty
        again, so leaving their cursor to the end of the pass costs nothing.
        """
        return event.type in CALL_TYPES

    def handle(self, event: Event) -> None:
        self.dirty = True
        if event.type not in CALL_TYPES:
            return
        age = self.queue.clock() - event.at
        if age > self.call_max_age_s:
            # Announcing a call minutes late would send citizens to the wrong counter;
            # the snapshot that follows shows the state as it is now.
            self.skipped_stale += 1
            log.info("not announcing %s (%.0f s old); the snapshot covers it", event.code, age)
            return
        pl = event.payload
        self.driver.send_call(
            p.Call(
                code=event.code or "",
                counter=int(pl.get("counter") or 0),
                service=str(pl.get("service") or ""),
                recall=event.type == events.TICKET_RECALLED,
                call_id=event.seq,
                at=int(event.at),
            )
        )

    def on_idle(self) -> None:
        self.driver.poll()
        if not self.driver.is_up():
            return  # the first heartbeat after a fault brings the display up to date
        due = time.monotonic() - self._last_snapshot >= self.snapshot_every_s
        if self.dirty or due or self.driver.wants_snapshot():
            snap, day = self.snapshot(), self._snapshot_day
            if self._day is not None and day != self._day:
                self.driver.begin_again()  # a new business day: yesterday's calls go
            self._day = day
            # New events stop the pass between two items: a call is never held up
            # behind a catch-up on a noisy line; the next pass goes on from there.
            done = False
            for attempt in range(self.pass_attempts):
                try:
                    done = self.driver.send_snapshot(
                        snap, interrupt=lambda: self.store.last_seq() > snap.state_id
                    )
                    break
                except LinkDown as e:
                    if attempt + 1 == self.pass_attempts or not self.driver.is_up():
                        log.info("display not brought up to date: %s", e)
                        return
            if done:
                self.dirty = False
                self._last_snapshot = time.monotonic()

    # -- the state
    def snapshot(self, before_seq: int | None = None) -> p.Snapshot:
        """The whole state a display shows, from the store as it is now.

        Its recent calls stop before ``before_seq`` (default: after the cursor): a
        display never announces a RECENT call, so calls not yet handled must not be in it.
        """
        st = self.queue.status()
        self._snapshot_day = str(st["day"])
        now = self.queue.clock()
        offset = datetime.fromtimestamp(now, self.queue.cfg.tz).utcoffset()
        return p.Snapshot(
            state_id=st["last_seq"],
            clock=p.Clock(int(now), int(offset.total_seconds() // 60) if offset else 0),
            site=self.queue.cfg.site.name,
            counters=tuple(
                p.CounterState(c["id"], c["name"], c["current"] or "", bool(c["open"]))
                for c in st["counters"]
            ),
            services=tuple(
                p.ServiceState(s["id"], s["name"], int(s["waiting"])) for s in st["services"]
            ),
            recent=tuple(self.recent_calls(st["day"], before_seq=before_seq)),
            notice=self.notice,
        )

    def recent_calls(
        self, day: str, n: int = p.MAX_RECENT_CALLS, before_seq: int | None = None
    ) -> list[p.Call]:
        """Today's last ``n`` calls and recalls before ``before_seq``, newest first."""
        if before_seq is None:
            before_seq = self.cursor + 1
        with self.store.read() as tx:
            calls = tx.latest_events(CALL_TYPES, day, before_seq, n)
        return [
            p.Call(
                ev.code or "",
                int(ev.payload.get("counter") or 0),
                str(ev.payload.get("service") or ""),
                ev.type == events.TICKET_RECALLED,
                int(ev.seq),
                int(ev.at),
            )
            for ev in calls
        ]
