"""The display's receiver byte by byte over a real pty: ACK, NAK, duplicates, addresses, heartbeats."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import serial

from display import protocol as p
from display.ptylink import PtyRelay
from display.receiver import Receiver
from display.state import HallState


class Kiosk:
    """A bare serial port playing the kiosk, reading what the display answers."""

    def __init__(self, port: Path) -> None:
        self.ser = serial.Serial(str(port), 115200, timeout=0.05)
        self.dec = p.FrameDecoder()

    def send(self, frame: p.Frame, raw: bytes | None = None) -> None:
        self.ser.write(raw if raw is not None else p.encode_frame(frame))

    def replies(self, want: int, timeout: float = 3.0, types: tuple[int, ...] = (p.T_ACK, p.T_NAK)):
        got: list[p.Frame] = []
        deadline = time.monotonic() + timeout
        while len(got) < want and time.monotonic() < deadline:
            for item in self.dec.feed(self.ser.read(256)):
                if isinstance(item, p.Frame) and item.type in types:
                    got.append(item)
        return got


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[tuple[Kiosk, Receiver, list[p.Call]]]:
    with PtyRelay(tmp_path) as line:
        calls: list[p.Call] = []
        rx = Receiver(str(line.display_port), HallState(), address=3, on_call=calls.append)
        rx.start()
        k = Kiosk(line.kiosk_port)
        # pyserial flushes input when it opens a port: talk only once the display is listening.
        assert k.replies(1, types=(p.T_STATUS,))
        yield k, rx, calls
        k.ser.close()
        rx.stop()


def call_frame(seq: int, code: str, address: int = 3, call_id: int = 0) -> p.Frame:
    return p.Frame(p.T_CALL, seq, address, p.Call(code, 3, "hotich", call_id=call_id).encode())


def test_a_call_is_acknowledged_and_a_retransmission_is_not_applied_twice(rig):
    k, rx, calls = rig
    k.send(call_frame(5, "A001"))
    assert [(f.type, f.seq, f.address) for f in k.replies(1)] == [(p.T_ACK, 5, 3)]
    k.send(call_frame(5, "A001"))  # our ACK was "lost": the kiosk sends it again
    assert [(f.type, f.seq) for f in k.replies(1)] == [(p.T_ACK, 5)]
    k.send(call_frame(6, "A002"))
    k.replies(1)
    assert [c.code for c in calls] == ["A001", "A002"]
    assert rx.stats["duplicates"] == 1


def test_damaged_frames_are_nakked_and_never_applied(rig):
    k, rx, calls = rig
    wire = bytearray(p.encode_frame(call_frame(7, "A001")))
    wire[8] ^= 0x10
    k.send(call_frame(7, "A001"), bytes(wire))
    (nak,) = k.replies(1)
    assert nak.type == p.T_NAK and nak.payload == bytes([p.NAK_CORRUPT])
    assert calls == [] and rx.state.view().recent == ()


def test_other_versions_and_bad_payloads_are_refused_with_the_reason(rig):
    k, rx, calls = rig
    k.send(p.Frame(p.T_CALL, 1, 3, b"", version=2))
    k.send(p.Frame(p.T_CALL, 2, 3, b"\x00\x03"))
    naks = k.replies(2)
    assert [(f.seq, f.payload[0]) for f in naks] == [(1, p.NAK_VERSION), (2, p.NAK_PAYLOAD)]
    assert calls == []


def test_frames_for_other_displays_are_ignored_and_broadcasts_applied_without_reply(rig):
    k, rx, calls = rig
    k.send(call_frame(1, "B001", address=4))
    k.send(p.Frame(p.T_NOTICE, 2, p.ADDR_BROADCAST, p.encode_notice("Nghỉ trưa 11:30")))
    assert k.replies(1, timeout=0.6) == []
    assert calls == []
    assert rx.state.view().notice == "Nghỉ trưa 11:30"


def test_heartbeats_ask_for_a_snapshot_until_one_arrives_and_the_link_comes_up(rig):
    k, rx, calls = rig
    (st,) = k.replies(1, types=(p.T_STATUS,))
    assert st.address == 3 and p.Status.decode(st.payload).need_snapshot
    assert not rx.state.view().link_up
    snap = p.Snapshot(9, p.Clock(1764464400, 420), "UBND", (p.CounterState(3, "Quầy 3", "A009"),))
    k.send(p.Frame(p.T_SNAPSHOT, 200, 3, snap.encode()))
    k.replies(1)
    statuses = k.replies(2, types=(p.T_STATUS,))  # the last one is after the snapshot
    assert statuses and not p.Status.decode(statuses[-1].payload).need_snapshot
    v = rx.state.view()
    assert v.link_up and v.counters[0].current == "A009"
    assert calls == []  # a snapshot is shown, never announced


def test_a_ping_on_a_quiet_line_is_answered_at_once(rig):
    k, rx, calls = rig
    assert k.replies(1, types=(p.T_STATUS,))  # a regular heartbeat: the next is ~1 s away
    t0 = time.monotonic()
    k.send(p.Frame(p.T_PING, 0, 3))
    (st,) = k.replies(1, types=(p.T_STATUS,))
    assert time.monotonic() - t0 < 0.3 and st.address == 3
