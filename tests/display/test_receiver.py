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

    def status(self, address: int = 3) -> p.Status:
        self.send(p.Frame(p.T_PING, 0, address))
        (st,) = self.replies(1, types=(p.T_STATUS,))
        return p.Status.decode(st.payload)


def wait_open(rx: Receiver) -> None:
    """Talk only once the display has opened its port (opening flushes what came before)."""
    deadline = time.monotonic() + 5
    while rx._ser is None and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.05)  # pyserial flushes the input right after opening


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[tuple[Kiosk, Receiver, list[p.Call]]]:
    with PtyRelay(tmp_path) as line:
        calls: list[p.Call] = []
        rx = Receiver(str(line.display_port), HallState(), address=3, on_call=calls.append)
        rx.start()
        k = Kiosk(line.kiosk_port)
        wait_open(rx)
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
    k.status()  # the display is being driven: it may NAK
    wire = bytearray(p.encode_frame(call_frame(7, "A001")))
    wire[8] ^= 0x10
    k.send(call_frame(7, "A001"), bytes(wire))
    (nak,) = k.replies(1)
    assert nak.type == p.T_NAK and nak.payload == bytes([p.NAK_CORRUPT])
    assert calls == [] and rx.state.view().recent == ()


def test_other_versions_and_bad_payloads_are_refused_with_the_reason(rig):
    k, rx, calls = rig
    k.send(p.Frame(p.T_CALL, 1, 3, b"", version=1))
    k.send(p.Frame(p.T_CALL, 2, 3, b"\x00\x03"))
    naks = k.replies(2)
    assert [(f.seq, f.payload[0]) for f in naks] == [(1, p.NAK_VERSION), (2, p.NAK_PAYLOAD)]
    assert calls == []


def test_frames_for_other_displays_are_ignored_and_broadcasts_applied_without_reply(rig):
    k, rx, calls = rig
    k.send(call_frame(1, "B001", address=4))
    for part in p.notice_parts("Nghỉ trưa 11:30"):
        k.send(p.Frame(p.T_NOTICE, 2, p.ADDR_BROADCAST, part.encode()))
    assert k.replies(1, timeout=0.6) == []
    assert calls == []
    assert rx.state.view().notice == "Nghỉ trưa 11:30"


def test_a_display_speaks_only_when_spoken_to(rig):
    k, rx, calls = rig
    time.sleep(1.5)  # longer than a heartbeat period: nothing unsolicited arrives
    assert k.replies(1, timeout=0.3, types=(p.T_STATUS, p.T_ACK, p.T_NAK)) == []
    k.send(p.Frame(p.T_PING, 0, 0))  # the hall display's ping: not ours, no answer
    assert k.replies(1, timeout=0.3, types=(p.T_STATUS,)) == []
    t0 = time.monotonic()
    st = k.status(address=3)
    assert time.monotonic() - t0 < 0.9  # answered at once (bound loose for a busy machine)
    assert st.no_session and st.session == 0


def test_begin_names_the_session_and_synced_drops_what_the_kiosk_no_longer_has(rig):
    k, rx, calls = rig
    s = p.Snapshot(
        9,
        p.Clock(1764464400, 420),
        "UBND",
        (p.CounterState(3, "Quầy 3", "A009"), p.CounterState(7, "Quầy 7", "B001")),
        (p.ServiceState("hotich", "Hộ tịch", 4),),
        (p.Call("A009", 3, "hotich", call_id=9),),
    )
    items = [p.Frame(p.T_BEGIN, 1, 3, p.Begin(77).encode())]
    items += [p.Frame(it.type, 2 + i, 3, it.payload) for i, it in enumerate(p.state_items(s))]
    for f in items:
        k.send(f)
        assert [r.seq for r in k.replies(1)] == [f.seq]
    v = rx.state.view()
    assert {c.id: c.current for c in v.counters} == {3: "A009", 7: "B001"}
    assert v.link_up and v.state_id == 9 and v.site == "UBND"
    assert calls == []  # recent calls are shown, never announced
    assert k.status().session == 77
    # Counter 7 left the site file: the next session does not send it, SYNCED drops it.
    k.send(p.Frame(p.T_BEGIN, 100, 3, p.Begin(78).encode()))
    k.send(p.Frame(p.T_COUNTER, 101, 3, p.CounterNow(3, "A010").encode()))
    k.send(p.Frame(p.T_SYNCED, 102, 3, p.Synced(12).encode()))
    assert len(k.replies(3)) == 3
    v = rx.state.view()
    assert {c.id: c.current for c in v.counters} == {3: "A010"}
    assert v.services == () and v.recent == ()  # not sent since BEGIN either


def test_a_counter_display_keeps_only_its_counter_from_the_hall_displays_items(tmp_path):
    with PtyRelay(tmp_path) as line:
        calls: list[p.Call] = []
        state = HallState(counter=2)
        rx = Receiver(str(line.display_port), state, address=2, on_call=calls.append).start()
        k = Kiosk(line.kiosk_port)
        try:
            wait_open(rx)
            for f in [
                p.Frame(p.T_COUNTER, 1, 0, p.CounterNow(1, "A001").encode()),
                p.Frame(p.T_COUNTER, 2, 0, p.CounterNow(2, "B004").encode()),
                p.Frame(p.T_CALL, 3, 0, p.Call("A002", 1, call_id=5).encode()),
            ]:
                k.send(f)
            assert k.replies(1, timeout=0.5, types=(p.T_ACK, p.T_NAK, p.T_STATUS)) == []
            assert {c.id: c.current for c in state.view().counters} == {2: "B004"}
            k.send(p.Frame(p.T_CALL, 4, 0, p.Call("B005", 2, call_id=6).encode()))
            deadline = time.monotonic() + 30  # a hang, not a busy machine, reaches it
            while not calls and time.monotonic() < deadline:
                time.sleep(0.01)
            assert [c.code for c in calls] == ["B005"]
            assert {c.id: c.current for c in state.view().counters} == {2: "B005"}
        finally:
            k.ser.close()
            rx.stop()
