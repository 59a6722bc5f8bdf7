"""The hall-display link protocol: framing, integrity, and message payloads.

Specified in docs/display-protocol.md; every offset and limit there is a named
constant here. This module is pure (no I/O, no threads) so both ends — the
kiosk's link (kiosk/outputs/display_feed.py) and the display app — share it, and so it
can be tested byte for byte.

A frame on the wire is ``0x00 COBS(body) 0x00`` where ``body`` is::

    version u8 | address u8 | type u8 | seq u8 | payload (0..MAX_PAYLOAD) | CRC-32 u32 LE

COBS removes every zero byte from the body, so ``0x00`` only ever delimits
frames: a receiver that lost bytes resynchronises at the next zero. The CRC is
CRC-32/ISO-HDLC (zlib's crc32; check value 0xCBF43926 for ``b"123456789"``).
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field

VERSION = 1

#: Addresses: the hall display, counter N's own display is N, and every device.
ADDR_HALL = 0
ADDR_BROADCAST = 255
ADDR_MAX_DEVICE = 254

#: Body layout.
OFF_VERSION, OFF_ADDRESS, OFF_TYPE, OFF_SEQ, OFF_PAYLOAD = 0, 1, 2, 3, 4
HEADER_SIZE = 4
CRC_SIZE = 4
MAX_PAYLOAD = 4096
MAX_BODY = HEADER_SIZE + MAX_PAYLOAD + CRC_SIZE
#: COBS adds one byte per 254 plus one; the receiver drops anything longer.
MAX_ENCODED = MAX_BODY + MAX_BODY // 254 + 2
DELIMITER = 0x00

# Message types. Kiosk → display, sequenced and acknowledged:
T_CALL = 0x10
T_SNAPSHOT = 0x11
T_NOTICE = 0x12
T_CLOCK = 0x13
# Kiosk → display, unsequenced heartbeat:
T_PING = 0x01
# Display → kiosk, unsequenced:
T_ACK = 0x02
T_NAK = 0x03
T_STATUS = 0x04

SEQUENCED = frozenset({T_CALL, T_SNAPSHOT, T_NOTICE, T_CLOCK})
TYPE_NAMES = {
    T_PING: "ping",
    T_ACK: "ack",
    T_NAK: "nak",
    T_STATUS: "status",
    T_CALL: "call",
    T_SNAPSHOT: "snapshot",
    T_NOTICE: "notice",
    T_CLOCK: "clock",
}

# NAK reasons.
NAK_CORRUPT = 1  # a frame failed its CRC or COBS decoding
NAK_VERSION = 2  # a protocol version this display does not speak
NAK_PAYLOAD = 3  # CRC fine, payload malformed
NAK_REASONS = {NAK_CORRUPT: "corrupt frame", NAK_VERSION: "version", NAK_PAYLOAD: "bad payload"}

# STATUS flags.
STATUS_NEED_SNAPSHOT = 0x01

# CALL flags.
CALL_RECALL = 0x01

# Counter flags in a snapshot.
COUNTER_OPEN = 0x01

#: How many recent calls a snapshot carries at most.
MAX_RECENT_CALLS = 10

#: Heartbeat period (both ways) and how long without any valid frame means "link lost".
HEARTBEAT_S = 1.0
LINK_TIMEOUT_S = 3.5


class ProtocolError(ValueError):
    """A frame or payload that cannot be encoded or decoded; the message says which field."""


def crc32(data: bytes) -> int:
    """CRC-32/ISO-HDLC (poly 0x04C11DB7 reflected, init and xorout 0xFFFFFFFF)."""
    return zlib.crc32(data) & 0xFFFFFFFF


# ----------------------------------------------------------------------------- COBS


def cobs_encode(data: bytes) -> bytes:
    """Consistent Overhead Byte Stuffing: the result has no zero bytes.

    Each zero-free run becomes ``len+1`` followed by the run; runs longer than
    254 bytes are cut into 254-byte blocks with code 0xFF (no implied zero).
    """
    out = bytearray()
    for part in data.split(b"\x00"):
        while len(part) >= 254:
            out.append(0xFF)
            out += part[:254]
            part = part[254:]
        out.append(len(part) + 1)
        out += part
    return bytes(out)


def cobs_decode(data: bytes) -> bytes:
    """Inverse of :func:`cobs_encode`; raises ProtocolError on a malformed block."""
    out = bytearray()
    idx = 0
    n = len(data)
    while idx < n:
        code = data[idx]
        if code == 0:
            raise ProtocolError("COBS: zero byte inside a frame")
        end = idx + code
        if end > n:
            raise ProtocolError("COBS: block runs past the end of the frame")
        block = data[idx + 1 : end]
        if 0 in block:
            raise ProtocolError("COBS: zero byte inside a frame")
        out += block
        idx = end
        if code < 255 and idx < n:
            out.append(0)
    return bytes(out)


# ----------------------------------------------------------------------------- frames


@dataclass(frozen=True)
class Frame:
    type: int
    seq: int = 0
    address: int = ADDR_HALL
    payload: bytes = b""
    version: int = VERSION

    @property
    def name(self) -> str:
        return TYPE_NAMES.get(self.type, f"0x{self.type:02x}")


def encode_frame(frame: Frame) -> bytes:
    """The bytes written to the line for one frame, delimiters included."""
    if not 0 <= frame.address <= 255:
        raise ProtocolError(f"address {frame.address} is not 0–255")
    if not 0 <= frame.seq <= 255:
        raise ProtocolError(f"seq {frame.seq} is not 0–255")
    if len(frame.payload) > MAX_PAYLOAD:
        raise ProtocolError(
            f"{frame.name} payload is {len(frame.payload)} bytes; the limit is {MAX_PAYLOAD}"
        )
    body = bytes((frame.version, frame.address, frame.type, frame.seq)) + frame.payload
    body += struct.pack("<I", crc32(body))
    return b"\x00" + cobs_encode(body) + b"\x00"


@dataclass(frozen=True)
class BadFrame:
    """Something between two delimiters that is not a valid frame."""

    reason: str  # "cobs", "crc", "short", "overflow"
    length: int


class FrameDecoder:
    """Turns a byte stream into frames, resynchronising at every zero byte.

    ``feed()`` yields :class:`Frame` for each intact frame and :class:`BadFrame`
    for each damaged one (so a receiver can NAK at once). Empty gaps between
    delimiters are ignored. A frame whose version is not :data:`VERSION` is
    still returned: the receiver answers it with a NAK naming the version.
    """

    def __init__(self) -> None:
        self._buf = bytearray()
        self._overflow = False
        self.stats = {"frames": 0, "crc": 0, "cobs": 0, "short": 0, "overflow": 0}

    def feed(self, data: bytes) -> Iterator[Frame | BadFrame]:
        start = 0
        while True:
            z = data.find(b"\x00", start)
            if z < 0:
                self._append(data[start:])
                return
            self._append(data[start:z])
            start = z + 1
            if self._overflow:
                self._overflow = False
                self._buf.clear()
                self.stats["overflow"] += 1
                yield BadFrame("overflow", MAX_ENCODED)
                continue
            if not self._buf:
                continue
            chunk = bytes(self._buf)
            self._buf.clear()
            yield self._parse(chunk)

    def _append(self, data: bytes) -> None:
        if self._overflow or not data:
            return
        self._buf += data
        if len(self._buf) > MAX_ENCODED:
            self._buf.clear()
            self._overflow = True

    def _parse(self, chunk: bytes) -> Frame | BadFrame:
        try:
            body = cobs_decode(chunk)
        except ProtocolError:
            self.stats["cobs"] += 1
            return BadFrame("cobs", len(chunk))
        if len(body) < HEADER_SIZE + CRC_SIZE:
            self.stats["short"] += 1
            return BadFrame("short", len(chunk))
        (crc,) = struct.unpack_from("<I", body, len(body) - CRC_SIZE)
        if crc32(body[:-CRC_SIZE]) != crc:
            self.stats["crc"] += 1
            return BadFrame("crc", len(chunk))
        self.stats["frames"] += 1
        return Frame(
            type=body[OFF_TYPE],
            seq=body[OFF_SEQ],
            address=body[OFF_ADDRESS],
            payload=body[OFF_PAYLOAD:-CRC_SIZE],
            version=body[OFF_VERSION],
        )


# ----------------------------------------------------------------------------- payloads


class _Writer:
    def __init__(self) -> None:
        self.b = bytearray()

    def u8(self, v: int, what: str) -> None:
        if not 0 <= v <= 0xFF:
            raise ProtocolError(f"{what} = {v} does not fit one byte (0–255)")
        self.b.append(v)

    def u16(self, v: int, what: str) -> None:
        if not 0 <= v <= 0xFFFF:
            raise ProtocolError(f"{what} = {v} does not fit 0–65535")
        self.b += struct.pack("<H", v)

    def u32(self, v: int, what: str) -> None:
        if not 0 <= v <= 0xFFFFFFFF:
            raise ProtocolError(f"{what} = {v} does not fit 0–4294967295")
        self.b += struct.pack("<I", v)

    def i16(self, v: int, what: str) -> None:
        if not -0x8000 <= v <= 0x7FFF:
            raise ProtocolError(f"{what} = {v} does not fit -32768–32767")
        self.b += struct.pack("<h", v)

    def text(self, s: str, what: str, long: bool = False) -> None:
        raw = s.encode("utf-8")
        limit = 0xFFFF if long else 0xFF
        if len(raw) > limit:
            raise ProtocolError(f"{what} is {len(raw)} bytes of UTF-8; the limit is {limit}")
        if long:
            self.b += struct.pack("<H", len(raw))
        else:
            self.b.append(len(raw))
        self.b += raw


class _Reader:
    def __init__(self, data: bytes, what: str) -> None:
        self.d = data
        self.i = 0
        self.what = what

    def _take(self, n: int) -> bytes:
        if self.i + n > len(self.d):
            raise ProtocolError(f"{self.what}: payload ends early at byte {self.i}")
        out = self.d[self.i : self.i + n]
        self.i += n
        return out

    def u8(self) -> int:
        return self._take(1)[0]

    def u16(self) -> int:
        return int(struct.unpack("<H", self._take(2))[0])

    def u32(self) -> int:
        return int(struct.unpack("<I", self._take(4))[0])

    def i16(self) -> int:
        return int(struct.unpack("<h", self._take(2))[0])

    def text(self, long: bool = False) -> str:
        n = self.u16() if long else self.u8()
        raw = self._take(n)
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            raise ProtocolError(f"{self.what}: text at byte {self.i - n} is not UTF-8") from None

    def end(self) -> None:
        if self.i != len(self.d):
            raise ProtocolError(f"{self.what}: {len(self.d) - self.i} unexpected trailing bytes")


@dataclass(frozen=True)
class Call:
    """A ticket called (or recalled) to a counter: shown large and announced."""

    code: str
    counter: int
    service: str = ""
    recall: bool = False
    #: The kiosk's event sequence number: a call is announced once per id.
    call_id: int = 0
    #: When it was called (seconds since the epoch, kiosk clock).
    at: int = 0

    def encode(self) -> bytes:
        w = _Writer()
        w.u8(CALL_RECALL if self.recall else 0, "call flags")
        w.u8(self.counter, "call counter")
        w.text(self.code, "call code")
        w.text(self.service, "call service")
        w.u32(self.call_id, "call id")
        w.u32(self.at, "call time")
        return bytes(w.b)

    @classmethod
    def decode(cls, data: bytes) -> Call:
        r = _Reader(data, "call")
        flags = r.u8()
        c = cls(
            counter=r.u8(),
            code=r.text(),
            service=r.text(),
            recall=bool(flags & CALL_RECALL),
            call_id=r.u32(),
            at=r.u32(),
        )
        r.end()
        return c


@dataclass(frozen=True)
class CounterState:
    id: int
    name: str
    current: str = ""
    open: bool = True


@dataclass(frozen=True)
class ServiceState:
    id: str
    name: str
    waiting: int = 0


@dataclass(frozen=True)
class Clock:
    """The kiosk's wall clock; an offline display Pi has no trustworthy clock of its own."""

    unix: int
    utc_offset_min: int = 420

    def encode(self) -> bytes:
        w = _Writer()
        w.u32(self.unix, "clock time")
        w.i16(self.utc_offset_min, "clock UTC offset")
        return bytes(w.b)

    @classmethod
    def decode(cls, data: bytes) -> Clock:
        r = _Reader(data, "clock")
        c = cls(r.u32(), r.i16())
        r.end()
        return c


@dataclass(frozen=True)
class Snapshot:
    """The whole state a display shows; applying it twice changes nothing."""

    state_id: int
    clock: Clock
    site: str = ""
    counters: tuple[CounterState, ...] = ()
    services: tuple[ServiceState, ...] = ()
    recent: tuple[Call, ...] = ()  # newest first
    notice: str = ""

    def encode(self) -> bytes:
        w = _Writer()
        w.u32(self.state_id, "snapshot state id")
        w.u32(self.clock.unix, "snapshot clock")
        w.i16(self.clock.utc_offset_min, "snapshot UTC offset")
        w.text(self.site, "site name")
        w.u8(len(self.counters), "number of counters")
        for c in self.counters:
            w.u8(c.id, "counter id")
            w.u8(COUNTER_OPEN if c.open else 0, "counter flags")
            w.text(c.name, f"counter {c.id} name")
            w.text(c.current, f"counter {c.id} current code")
        w.u8(len(self.services), "number of services")
        for s in self.services:
            w.text(s.id, "service id")
            w.text(s.name, f"service {s.id} name")
            w.u16(min(s.waiting, 0xFFFF), f"service {s.id} waiting")
        recent = self.recent[:MAX_RECENT_CALLS]
        w.u8(len(recent), "number of recent calls")
        for call in recent:
            w.b += call.encode()
        w.text(self.notice, "notice", long=True)
        if len(w.b) > MAX_PAYLOAD:
            raise ProtocolError(
                f"snapshot is {len(w.b)} bytes, over the {MAX_PAYLOAD}-byte frame limit; "
                "shorten counter and service names"
            )
        return bytes(w.b)

    @classmethod
    def decode(cls, data: bytes) -> Snapshot:
        r = _Reader(data, "snapshot")
        state_id = r.u32()
        clock = Clock(r.u32(), r.i16())
        site = r.text()
        counters = []
        for _ in range(r.u8()):
            cid = r.u8()
            flags = r.u8()
            counters.append(CounterState(cid, r.text(), r.text(), bool(flags & COUNTER_OPEN)))
        services = []
        for _ in range(r.u8()):
            services.append(ServiceState(r.text(), r.text(), r.u16()))
        recent = []
        for _ in range(r.u8()):
            flags = r.u8()
            counter = r.u8()
            code = r.text()
            service = r.text()
            recent.append(Call(code, counter, service, bool(flags & CALL_RECALL), r.u32(), r.u32()))
        notice = r.text(long=True)
        r.end()
        return cls(state_id, clock, site, tuple(counters), tuple(services), tuple(recent), notice)


@dataclass(frozen=True)
class Status:
    """The display's heartbeat: whether it needs a snapshot, and what it last applied."""

    need_snapshot: bool = False
    last_seq: int = 0
    uptime_s: int = 0

    def encode(self) -> bytes:
        w = _Writer()
        w.u8(STATUS_NEED_SNAPSHOT if self.need_snapshot else 0, "status flags")
        w.u8(self.last_seq, "status last seq")
        w.u32(min(self.uptime_s, 0xFFFFFFFF), "status uptime")
        return bytes(w.b)

    @classmethod
    def decode(cls, data: bytes) -> Status:
        r = _Reader(data, "status")
        flags = r.u8()
        s = cls(bool(flags & STATUS_NEED_SNAPSHOT), r.u8(), r.u32())
        r.end()
        return s


def encode_notice(text: str) -> bytes:
    w = _Writer()
    w.text(text, "notice", long=True)
    return bytes(w.b)


def decode_notice(data: bytes) -> str:
    r = _Reader(data, "notice")
    t = r.text(long=True)
    r.end()
    return t


def encode_nak(reason: int) -> bytes:
    return bytes((reason,))


@dataclass
class Message:
    """A decoded sequenced message: exactly one of the fields is set."""

    call: Call | None = None
    snapshot: Snapshot | None = None
    notice: str | None = None
    clock: Clock | None = None
    extra: dict[str, object] = field(default_factory=dict)


def decode_message(frame: Frame) -> Message:
    """The payload of a sequenced frame; raises ProtocolError for bad payloads."""
    if frame.type == T_CALL:
        return Message(call=Call.decode(frame.payload))
    if frame.type == T_SNAPSHOT:
        return Message(snapshot=Snapshot.decode(frame.payload))
    if frame.type == T_NOTICE:
        return Message(notice=decode_notice(frame.payload))
    if frame.type == T_CLOCK:
        return Message(clock=Clock.decode(frame.payload))
    raise ProtocolError(f"frame type 0x{frame.type:02x} carries no message")


def line_time(n_bytes: int, baud: int) -> float:
    """Seconds to send ``n_bytes`` at ``baud`` with 8N1 framing (10 bits a byte)."""
    return n_bytes * 10 / baud


def describe(item: Frame | BadFrame) -> str:
    """One line for a person reading a capture (``hall-display decode``) or a debug log."""
    if isinstance(item, BadFrame):
        return f"damaged frame ({item.reason}, {item.length} bytes)"
    head = f"{item.name} seq={item.seq} addr={item.address}"
    if item.version != VERSION:
        return f"{head} version={item.version} (this code speaks {VERSION})"
    try:
        if item.type in SEQUENCED:
            m = decode_message(item)
            if m.call is not None:
                c = m.call
                kind = "recall" if c.recall else "call"
                return f"{head}: {kind} {c.code} → counter {c.counter} ({c.service}) id={c.call_id}"
            if m.snapshot is not None:
                s = m.snapshot
                cur = ", ".join(f"{c.id}:{c.current or '-'}" for c in s.counters)
                wait = ", ".join(f"{x.id}={x.waiting}" for x in s.services)
                return (
                    f"{head}: state {s.state_id}, counters [{cur}], waiting [{wait}], "
                    f"{len(s.recent)} recent calls"
                )
            if m.notice is not None:
                return f"{head}: notice {m.notice!r}"
            if m.clock is not None:
                return f"{head}: clock {m.clock.unix} UTC{m.clock.utc_offset_min / 60:+g}"
        if item.type == T_STATUS:
            st = Status.decode(item.payload)
            need = ", needs a snapshot" if st.need_snapshot else ""
            return f"{head}: last applied seq {st.last_seq}, up {st.uptime_s} s{need}"
        if item.type == T_NAK and item.payload:
            return f"{head}: {NAK_REASONS.get(item.payload[0], item.payload[0])}"
    except ProtocolError as e:
        return f"{head}: bad payload: {e}"
    return head + (f" payload={item.payload.hex(' ')}" if item.payload else "")
