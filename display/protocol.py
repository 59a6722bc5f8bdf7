"""The hall-display link protocol, version 2: framing, integrity, and the items of the state.

Specified in docs/display-protocol.md; every offset and limit there is a named
constant here. This module is pure (no I/O, no threads) so both ends — the
kiosk's link (kiosk/outputs/display_feed.py) and the display app — share it, and so it
can be tested byte for byte.

A frame on the wire is ``0x00 COBS(body) 0x00`` where ``body`` is::

    version u8 | address u8 | type u8 | seq u8 | payload (0..MAX_PAYLOAD) | CRC-32 u32 LE

COBS removes every zero byte from the body, so ``0x00`` only ever delimits
frames: :func:`check_frame` answers "need more", "discard n bytes" or "a frame of
n bytes", and a receiver that lost bytes is in step again at the next zero. The
CRC is CRC-32/ISO-HDLC (zlib's crc32; check value 0xCBF43926 for ``b"123456789"``).

Version 1 sent the whole state as one frame of ~700 bytes, which a line dropping
and corrupting 1 % of its bytes almost never delivers whole (0.98^697 ≈ 10⁻⁶).
Version 2 caps a payload at 64 bytes and sends the state as small items
(:func:`state_items`), each acknowledged and applied on its own.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import ClassVar

VERSION = 2

#: Addresses: the hall display, counter N's own display is N, and every device.
ADDR_HALL = 0
ADDR_BROADCAST = 255
ADDR_MAX_DEVICE = 254

#: Body layout.
OFF_VERSION, OFF_ADDRESS, OFF_TYPE, OFF_SEQ, OFF_PAYLOAD = 0, 1, 2, 3, 4
HEADER_SIZE = 4
CRC_SIZE = 4
MAX_PAYLOAD = 64
MIN_BODY = HEADER_SIZE + CRC_SIZE
MAX_BODY = HEADER_SIZE + MAX_PAYLOAD + CRC_SIZE
#: COBS adds one byte per 254 plus one; the receiver drops anything longer.
MAX_ENCODED = MAX_BODY + MAX_BODY // 254 + 2
DELIMITER = 0x00

# Message types. Kiosk → display, unsequenced heartbeat:
T_PING = 0x01
# Display → kiosk, unsequenced:
T_ACK = 0x02
T_NAK = 0x03
T_STATUS = 0x04
# Kiosk → display, sequenced and acknowledged: the items.
T_CALL = 0x10
T_NOTICE = 0x12
T_CLOCK = 0x13
T_BEGIN = 0x20
T_SYNCED = 0x21
T_SITE = 0x22
T_COUNTER_NAME = 0x23
T_SERVICE = 0x24
T_COUNTER = 0x25
T_WAITING = 0x26
T_RECENT = 0x27

SEQUENCED = frozenset(
    {
        T_CALL,
        T_NOTICE,
        T_CLOCK,
        T_BEGIN,
        T_SYNCED,
        T_SITE,
        T_COUNTER_NAME,
        T_SERVICE,
        T_COUNTER,
        T_WAITING,
        T_RECENT,
    }
)
#: What only displays send: a display ignores these (another display's replies, an echo).
FROM_DISPLAY = frozenset({T_ACK, T_NAK, T_STATUS})
TYPE_NAMES = {
    T_PING: "ping",
    T_ACK: "ack",
    T_NAK: "nak",
    T_STATUS: "status",
    T_CALL: "call",
    T_NOTICE: "notice",
    T_CLOCK: "clock",
    T_BEGIN: "begin",
    T_SYNCED: "synced",
    T_SITE: "site",
    T_COUNTER_NAME: "counter-name",
    T_SERVICE: "service",
    T_COUNTER: "counter",
    T_WAITING: "waiting",
    T_RECENT: "recent",
}

# NAK reasons.
NAK_CORRUPT = 1  # a frame failed its CRC or COBS decoding
NAK_VERSION = 2  # a protocol version this display does not speak
NAK_PAYLOAD = 3  # CRC fine, payload malformed
NAK_REASONS = {NAK_CORRUPT: "damaged frame", NAK_VERSION: "version", NAK_PAYLOAD: "bad payload"}

# STATUS flags.
STATUS_NO_SESSION = 0x01

# CALL flags.
CALL_RECALL = 0x01

# COUNTER flags.
COUNTER_OPEN = 0x01

#: How many recent calls the kiosk sends, and how many a display keeps.
MAX_RECENT_CALLS = 10
KEEP_RECENT_CALLS = 20

#: The notice travels in parts of at most this many bytes, at most this many parts.
NOTICE_PART_BYTES = 48
MAX_NOTICE_PARTS = 16
MAX_NOTICE_BYTES = NOTICE_PART_BYTES * MAX_NOTICE_PARTS

#: Heartbeat period (both ways) and how long without any valid frame means "link lost".
HEARTBEAT_S = 1.0
LINK_TIMEOUT_S = 3.5
#: Current numbers and waiting counts are sent again this often (listening displays
#: catch up), everything this often, and the clock this often.
REFRESH_S = 10.0
FULL_REFRESH_S = 300.0
CLOCK_EVERY_S = 60.0

ELLIPSIS = "…"


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


def _scan(buf: bytes | bytearray) -> tuple[int, Frame | BadFrame | None]:
    """:func:`check_frame`'s answer, with the frame or the damage it found."""
    if not buf:
        return 0, None
    if buf[0] == DELIMITER:
        return -1, None
    z = buf.find(b"\x00")
    if z < 0:
        if len(buf) > MAX_ENCODED:
            return -len(buf), BadFrame("overflow", len(buf))
        return 0, None
    n = z + 1
    if z > MAX_ENCODED:
        return -n, BadFrame("overflow", z)
    chunk = bytes(buf[:z])
    try:
        body = cobs_decode(chunk)
    except ProtocolError:
        return -n, BadFrame("cobs", z)
    if len(body) < MIN_BODY:
        return -n, BadFrame("short", z)
    (crc,) = struct.unpack_from("<I", body, len(body) - CRC_SIZE)
    if crc32(body[:-CRC_SIZE]) != crc:
        return -n, BadFrame("crc", z)
    frame = Frame(
        type=body[OFF_TYPE],
        seq=body[OFF_SEQ],
        address=body[OFF_ADDRESS],
        payload=body[OFF_PAYLOAD:-CRC_SIZE],
        version=body[OFF_VERSION],
    )
    return n, frame


def check_frame(buf: bytes | bytearray) -> int:
    """The frame checker: 0 = need more bytes, −n = discard n bytes, +n = a frame of n bytes.

    ``buf`` holds the bytes received and not yet consumed. A buffer that starts
    with the sync byte 0x00 answers −1; otherwise the bytes up to the next 0x00
    are either a valid frame (+n, n counting the closing 0x00) or damaged (−n);
    with no 0x00 yet the answer is 0, or −len(buf) once more than
    :data:`MAX_ENCODED` bytes are held (overflow). Either way the receiver is in
    step again at the next sync byte.
    """
    return _scan(buf)[0]


class FrameDecoder:
    """Turns a byte stream into frames with :func:`check_frame`, resynchronising at every zero.

    ``feed()`` yields :class:`Frame` for each intact frame and :class:`BadFrame`
    for each damaged one (so a receiver can NAK at once). Empty gaps between
    delimiters are ignored. A frame whose version is not :data:`VERSION` is
    still returned: the receiver answers it with a NAK naming the version.
    """

    def __init__(self) -> None:
        self._buf = bytearray()
        self.stats = {"frames": 0, "crc": 0, "cobs": 0, "short": 0, "overflow": 0}

    def feed(self, data: bytes) -> Iterator[Frame | BadFrame]:
        self._buf += data
        while True:
            n, item = _scan(self._buf)
            if n == 0:
                return
            del self._buf[: abs(n)]
            if isinstance(item, Frame):
                self.stats["frames"] += 1
                yield item
            elif item is not None:
                self.stats[item.reason] += 1
                yield item


# ----------------------------------------------------------------------------- payloads


def shorten(text: str, limit: int) -> str:
    """``text`` cut at a character boundary to at most ``limit`` bytes of UTF-8, with "…"."""
    raw = text.encode("utf-8")
    if len(raw) <= limit:
        return text
    room = limit - len(ELLIPSIS.encode("utf-8"))
    cut = raw[: max(0, room)].decode("utf-8", "ignore")
    return cut + ELLIPSIS if room > 0 else ""


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

    def text(self, s: str, what: str) -> None:
        raw = s.encode("utf-8")
        if len(raw) > 0xFF:
            raise ProtocolError(f"{what} is {len(raw)} bytes of UTF-8; the limit is 255")
        self.b.append(len(raw))
        self.b += raw

    def name(self, s: str, what: str) -> None:
        """A name as the last field: shortened to what is left of the frame."""
        self.text(shorten(s, MAX_PAYLOAD - len(self.b) - 1), what)

    def done(self, what: str) -> bytes:
        if len(self.b) > MAX_PAYLOAD:
            raise ProtocolError(
                f"{what} is {len(self.b)} bytes, over the {MAX_PAYLOAD}-byte payload limit"
            )
        return bytes(self.b)


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

    def raw(self, n: int) -> bytes:
        return self._take(n)

    def rest(self) -> bytes:
        return self._take(len(self.d) - self.i)

    def text(self) -> str:
        n = self.u8()
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
    """A ticket called (or recalled) to a counter: shown large and announced.

    The payload of CALL (announced) and of RECENT (listed, never announced).
    """

    code: str
    counter: int
    service: str = ""
    recall: bool = False
    #: The kiosk's event sequence number: a call is announced once per id.
    call_id: int = 0
    #: When it was called (seconds since the epoch, kiosk clock).
    at: int = 0

    TYPE: ClassVar[int] = T_CALL

    def encode(self) -> bytes:
        w = _Writer()
        w.u8(CALL_RECALL if self.recall else 0, "call flags")
        w.u8(self.counter, "call counter")
        w.text(self.code, "call code")
        w.text(self.service, "call service")
        w.u32(self.call_id, "call id")
        w.u32(self.at, "call time")
        return w.done("call")

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
class Recent:
    """RECENT: a call listed among the recent calls (the display rebooted, or it was late)."""

    call: Call

    TYPE: ClassVar[int] = T_RECENT

    def encode(self) -> bytes:
        return self.call.encode()

    @classmethod
    def decode(cls, data: bytes) -> Recent:
        return cls(Call.decode(data))


@dataclass(frozen=True)
class Clock:
    """The kiosk's wall clock; an offline display Pi has no trustworthy clock of its own."""

    unix: int
    utc_offset_min: int = 420

    TYPE: ClassVar[int] = T_CLOCK

    def encode(self) -> bytes:
        w = _Writer()
        w.u32(self.unix, "clock time")
        w.i16(self.utc_offset_min, "clock UTC offset")
        return w.done("clock")

    @classmethod
    def decode(cls, data: bytes) -> Clock:
        r = _Reader(data, "clock")
        c = cls(r.u32(), r.i16())
        r.end()
        return c


@dataclass(frozen=True)
class Begin:
    """BEGIN: a session starts; the display notes what it receives from now on."""

    session: int

    TYPE: ClassVar[int] = T_BEGIN

    def encode(self) -> bytes:
        if self.session == 0:
            raise ProtocolError("session 0 means 'none'; a session is 1–65535")
        w = _Writer()
        w.u16(self.session, "session")
        return w.done("begin")

    @classmethod
    def decode(cls, data: bytes) -> Begin:
        r = _Reader(data, "begin")
        b = cls(r.u16())
        r.end()
        if b.session == 0:
            raise ProtocolError("begin: session 0")
        return b


@dataclass(frozen=True)
class Synced:
    """SYNCED: every item of the state up to event ``state_id`` has been sent."""

    state_id: int

    TYPE: ClassVar[int] = T_SYNCED

    def encode(self) -> bytes:
        w = _Writer()
        w.u32(self.state_id, "state id")
        return w.done("synced")

    @classmethod
    def decode(cls, data: bytes) -> Synced:
        r = _Reader(data, "synced")
        s = cls(r.u32())
        r.end()
        return s


@dataclass(frozen=True)
class Site:
    """SITE: the office name for the header."""

    name: str

    TYPE: ClassVar[int] = T_SITE

    def encode(self) -> bytes:
        w = _Writer()
        w.name(self.name, "site name")
        return w.done("site")

    @classmethod
    def decode(cls, data: bytes) -> Site:
        r = _Reader(data, "site")
        s = cls(r.text())
        r.end()
        return s


@dataclass(frozen=True)
class CounterName:
    """COUNTER_NAME: what counter ``id`` is called on the screen."""

    id: int
    name: str

    TYPE: ClassVar[int] = T_COUNTER_NAME

    def encode(self) -> bytes:
        w = _Writer()
        w.u8(self.id, "counter id")
        w.name(self.name, f"counter {self.id} name")
        return w.done("counter name")

    @classmethod
    def decode(cls, data: bytes) -> CounterName:
        r = _Reader(data, "counter name")
        c = cls(r.u8(), r.text())
        r.end()
        return c


@dataclass(frozen=True)
class Service:
    """SERVICE: a service's id and the name shown for it."""

    id: str
    name: str

    TYPE: ClassVar[int] = T_SERVICE

    def encode(self) -> bytes:
        w = _Writer()
        w.text(self.id, "service id")
        w.name(self.name, f"service {self.id} name")
        return w.done("service")

    @classmethod
    def decode(cls, data: bytes) -> Service:
        r = _Reader(data, "service")
        s = cls(r.text(), r.text())
        r.end()
        return s


@dataclass(frozen=True)
class CounterNow:
    """COUNTER: whether counter ``id`` is open and the ticket it serves now ("" = none)."""

    id: int
    current: str = ""
    open: bool = True

    TYPE: ClassVar[int] = T_COUNTER

    def encode(self) -> bytes:
        w = _Writer()
        w.u8(self.id, "counter id")
        w.u8(COUNTER_OPEN if self.open else 0, "counter flags")
        w.text(self.current, f"counter {self.id} current code")
        return w.done("counter")

    @classmethod
    def decode(cls, data: bytes) -> CounterNow:
        r = _Reader(data, "counter")
        cid = r.u8()
        flags = r.u8()
        c = cls(cid, r.text(), bool(flags & COUNTER_OPEN))
        r.end()
        return c


@dataclass(frozen=True)
class Waiting:
    """WAITING: how many tickets of a service are waiting."""

    service: str
    waiting: int

    TYPE: ClassVar[int] = T_WAITING

    def encode(self) -> bytes:
        w = _Writer()
        w.text(self.service, "service id")
        w.u16(min(self.waiting, 0xFFFF), f"service {self.service} waiting")
        return w.done("waiting")

    @classmethod
    def decode(cls, data: bytes) -> Waiting:
        r = _Reader(data, "waiting")
        s = cls(r.text(), r.u16())
        r.end()
        return s


@dataclass(frozen=True)
class NoticePart:
    """NOTICE: part ``index`` of ``count`` of the notice whose whole UTF-8 has CRC-32 ``crc``."""

    crc: int
    index: int
    count: int
    data: bytes

    TYPE: ClassVar[int] = T_NOTICE

    def encode(self) -> bytes:
        if len(self.data) > NOTICE_PART_BYTES:
            raise ProtocolError(
                f"notice part is {len(self.data)} bytes; the limit is {NOTICE_PART_BYTES}"
            )
        if not (0 <= self.index < self.count <= MAX_NOTICE_PARTS):
            raise ProtocolError(
                f"notice part {self.index} of {self.count}: parts are 0–{MAX_NOTICE_PARTS - 1}"
            )
        w = _Writer()
        w.u32(self.crc, "notice crc")
        w.u8(self.index, "notice part")
        w.u8(self.count, "notice parts")
        w.b += self.data
        return w.done("notice part")

    @classmethod
    def decode(cls, data: bytes) -> NoticePart:
        r = _Reader(data, "notice")
        crc, index, count = r.u32(), r.u8(), r.u8()
        part = r.rest()
        if not (0 <= index < count <= MAX_NOTICE_PARTS) or len(part) > NOTICE_PART_BYTES:
            raise ProtocolError(f"notice: part {index} of {count} with {len(part)} bytes")
        return cls(crc, index, count, part)


def notice_parts(text: str) -> list[NoticePart]:
    """The notice cut into NOTICE items (cut at a character boundary if too long)."""
    raw = shorten(text, MAX_NOTICE_BYTES).encode("utf-8")
    crc = crc32(raw)
    chunks = [raw[i : i + NOTICE_PART_BYTES] for i in range(0, len(raw), NOTICE_PART_BYTES)]
    chunks = chunks or [b""]
    return [NoticePart(crc, i, len(chunks), c) for i, c in enumerate(chunks)]


def join_notice(parts: dict[int, NoticePart]) -> str | None:
    """The notice from its parts, or None while some are missing or they do not check out."""
    if not parts:
        return None
    first = next(iter(parts.values()))
    if len(parts) != first.count or any(
        p.crc != first.crc or p.count != first.count for p in parts.values()
    ):
        return None
    raw = b"".join(parts[i].data for i in range(first.count) if i in parts)
    if crc32(raw) != first.crc:
        return None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return None


@dataclass(frozen=True)
class Status:
    """The display's answer to a PING: its session, what it last applied, how long it is up."""

    session: int = 0
    last_seq: int = 0
    uptime_s: int = 0

    @property
    def no_session(self) -> bool:
        return self.session == 0

    def encode(self) -> bytes:
        w = _Writer()
        w.u8(STATUS_NO_SESSION if self.session == 0 else 0, "status flags")
        w.u8(self.last_seq, "status last seq")
        w.u32(min(self.uptime_s, 0xFFFFFFFF), "status uptime")
        w.u16(self.session, "status session")
        return w.done("status")

    @classmethod
    def decode(cls, data: bytes) -> Status:
        r = _Reader(data, "status")
        r.u8()  # flags: bit 0 repeats session == 0
        last_seq, uptime = r.u8(), r.u32()
        s = cls(r.u16(), last_seq, uptime)
        r.end()
        return s


def encode_nak(reason: int) -> bytes:
    return bytes((reason,))


Message = (
    Call | Recent | Clock | Begin | Synced | Site | CounterName | Service | CounterNow | Waiting
) | NoticePart
_MESSAGES: dict[int, type[Message]] = {
    m.TYPE: m
    for m in (
        Call,
        Recent,
        Clock,
        Begin,
        Synced,
        Site,
        CounterName,
        Service,
        CounterNow,
        Waiting,
        NoticePart,
    )
}


def decode_message(frame: Frame) -> Message:
    """The item in a sequenced frame; raises ProtocolError for bad payloads."""
    cls = _MESSAGES.get(frame.type)
    if cls is None:
        raise ProtocolError(f"frame type 0x{frame.type:02x} carries no message")
    return cls.decode(frame.payload)


# ----------------------------------------------------------------------------- the state


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
class Snapshot:
    """Everything a display shows, as the kiosk sees it now; sent as :func:`state_items`."""

    state_id: int
    clock: Clock
    site: str = ""
    counters: tuple[CounterState, ...] = ()
    services: tuple[ServiceState, ...] = ()
    recent: tuple[Call, ...] = ()  # newest first
    notice: str = ""


#: Item keys: what a display holds, one value each (docs/display-protocol.md §6).
Key = tuple[object, ...]


@dataclass(frozen=True)
class Item:
    """One item of the state: its key, its frame type, its payload."""

    key: Key
    type: int
    payload: bytes


def item(key: Key, msg: Message) -> Item:
    return Item(key, msg.TYPE, msg.encode())


def state_items(s: Snapshot) -> list[Item]:
    """The state as items, most visible first, ending with the clock and SYNCED."""
    out = [item(("counter", c.id), CounterNow(c.id, c.current, c.open)) for c in s.counters]
    out += [item(("service", x.id), Service(x.id, x.name)) for x in s.services]
    out += [item(("waiting", x.id), Waiting(x.id, x.waiting)) for x in s.services]
    out += [item(("recent", c.call_id), Recent(c)) for c in s.recent[:MAX_RECENT_CALLS]]
    out += [item(("counter-name", c.id), CounterName(c.id, c.name)) for c in s.counters]
    out.append(item(("site",), Site(s.site)))
    out += [item(("notice", p.index), p) for p in notice_parts(s.notice)]
    out.append(item(("clock",), s.clock))
    out.append(item(("synced",), Synced(s.state_id)))
    return out


def items_after_call(c: Call) -> list[Item]:
    """What a display holds once it applied CALL ``c``: the counter's number, a recent call."""
    return [
        item(("counter", c.counter), CounterNow(c.counter, c.code, True)),
        item(("recent", c.call_id), Recent(c)),
    ]


def line_time(n_bytes: int, baud: int) -> float:
    """Seconds to send ``n_bytes`` at ``baud`` with 8N1 framing (10 bits a byte)."""
    return n_bytes * 10 / baud


def describe(it: Frame | BadFrame) -> str:
    """One line for a person reading a capture (``hall-display decode``) or a debug log."""
    if isinstance(it, BadFrame):
        return f"damaged frame ({it.reason}, {it.length} bytes)"
    head = f"{it.name} seq={it.seq} addr={it.address}"
    if it.version != VERSION:
        return f"{head} version={it.version} (this code speaks {VERSION})"
    try:
        if it.type in SEQUENCED:
            return f"{head}: {_describe_message(decode_message(it))}"
        if it.type == T_STATUS:
            st = Status.decode(it.payload)
            sess = f"session {st.session}" if st.session else "no session yet"
            return f"{head}: {sess}, last applied seq {st.last_seq}, up {st.uptime_s} s"
        if it.type == T_NAK and it.payload:
            return f"{head}: {NAK_REASONS.get(it.payload[0], it.payload[0])}"
    except ProtocolError as e:
        return f"{head}: bad payload: {e}"
    return head + (f" payload={it.payload.hex(' ')}" if it.payload else "")


def _describe_message(m: Message) -> str:
    if isinstance(m, Call | Recent):
        c = m.call if isinstance(m, Recent) else m
        kind = "recall" if c.recall else "call"
        return f"{kind} {c.code} → counter {c.counter} ({c.service}) id={c.call_id}"
    if isinstance(m, NoticePart):
        text = m.data.decode("utf-8", "replace")
        return f"notice part {m.index + 1}/{m.count} {text!r}"
    if isinstance(m, Clock):
        return f"clock {m.unix} UTC{m.utc_offset_min / 60:+g}"
    if isinstance(m, Begin):
        return f"session {m.session} begins"
    if isinstance(m, Synced):
        return f"state up to event {m.state_id} sent"
    if isinstance(m, Site):
        return f"site {m.name!r}"
    if isinstance(m, CounterName):
        return f"counter {m.id} is called {m.name!r}"
    if isinstance(m, Service):
        return f"service {m.id} is called {m.name!r}"
    if isinstance(m, CounterNow):
        state = "open" if m.open else "closed"
        return f"counter {m.id} {state}, serving {m.current or '-'}"
    return f"{m.service} waiting {m.waiting}"
