"""The link codec: documented test vectors, round trips, limits, and a fuzzed decoder."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from display import protocol as p

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "docs" / "display-protocol.md"


def _hex(s: str) -> bytes:
    return bytes.fromhex(s.strip())


def spec_vectors() -> list[dict[str, str]]:
    text = SPEC.read_text(encoding="utf-8")
    out = []
    for block in re.findall(r"```vector\n(.*?)```", text, re.S):
        v: dict[str, str] = {}
        for line in block.splitlines():
            if line.startswith("type:"):
                v.update(re.findall(r"(\w+):\s*(\S+)", line))
            else:
                key, _, val = line.partition(":")
                v[key] = val.strip()
        out.append(v)
    return out


VECTORS = spec_vectors()


def test_the_spec_has_vectors_for_every_message_type():
    types = {int(v["type"], 16) for v in VECTORS}
    assert set(p.TYPE_NAMES) - {p.T_NAK} <= types
    assert len(VECTORS) >= 8


@pytest.mark.parametrize("v", VECTORS, ids=[v["name"] for v in VECTORS])
def test_spec_vector_encodes_and_decodes_byte_for_byte(v):
    frame = p.Frame(int(v["type"], 16), int(v["seq"]), int(v["address"]), _hex(v["payload"]))
    wire = p.encode_frame(frame)
    assert wire == _hex(v["wire"])
    assert p.cobs_decode(wire[1:-1]) == _hex(v["body"])
    assert list(p.FrameDecoder().feed(wire)) == [frame]


def test_crc_is_crc32_iso_hdlc_with_the_documented_check_value():
    assert p.crc32(b"123456789") == 0xCBF43926
    assert "0xCBF43926" in SPEC.read_text(encoding="utf-8")


def test_spec_vector_payloads_decode_to_the_described_messages():
    by_name = {v["name"].split(" ")[0].rstrip(":"): v for v in VECTORS}
    call = p.Call.decode(_hex(by_name["call"]["payload"]))
    assert call == p.Call("A025", 3, "hotich", False, 1234, 1764464400)
    recall = p.Call.decode(_hex(by_name["recall"]["payload"]))
    assert recall.recall and recall.code == "1025" and recall.counter == 3
    assert p.decode_notice(_hex(by_name["notice"]["payload"])) == "Xin cảm ơn"
    assert p.Clock.decode(_hex(by_name["clock"]["payload"])) == p.Clock(1764464400, 420)
    snap = p.Snapshot.decode(_hex(by_name["snapshot"]["payload"]))
    assert snap.counters[0] == p.CounterState(1, "Quầy 1", "A025", True)
    assert snap.counters[1].open is False and snap.counters[1].current == ""
    assert snap.services == (p.ServiceState("hotich", "Hộ tịch", 4),)
    assert snap.recent == (call.__class__("A025", 1, "hotich", False, 1234, 1764464400),)


@pytest.mark.parametrize(
    "data, encoded",
    [
        (b"", b"\x01"),
        (b"\x00", b"\x01\x01"),
        (b"\x11\x22\x00\x33", b"\x03\x11\x22\x02\x33"),
        (b"\x01" * 254, b"\xff" + b"\x01" * 254 + b"\x01"),
        (b"\x01" * 255, b"\xff" + b"\x01" * 254 + b"\x02\x01"),
    ],
)
def test_cobs_known_encodings(data, encoded):
    assert p.cobs_encode(data) == encoded
    assert p.cobs_decode(encoded) == data


@given(st.binary(max_size=2000))
def test_cobs_round_trip_has_no_zero_bytes(data):
    enc = p.cobs_encode(data)
    assert 0 not in enc
    assert len(enc) <= len(data) + len(data) // 254 + 1
    assert p.cobs_decode(enc) == data


texts = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=30).filter(
    lambda s: len(s.encode()) <= 255
)
calls = st.builds(
    p.Call,
    code=texts,
    counter=st.integers(0, 255),
    service=texts,
    recall=st.booleans(),
    call_id=st.integers(0, 2**32 - 1),
    at=st.integers(0, 2**32 - 1),
)
snapshots = st.builds(
    p.Snapshot,
    state_id=st.integers(0, 2**32 - 1),
    clock=st.builds(p.Clock, st.integers(0, 2**32 - 1), st.integers(-720, 840)),
    site=texts,
    counters=st.lists(
        st.builds(p.CounterState, st.integers(1, 254), texts, texts, st.booleans()), max_size=8
    ).map(tuple),
    services=st.lists(
        st.builds(p.ServiceState, texts, texts, st.integers(0, 65535)), max_size=8
    ).map(tuple),
    recent=st.lists(calls, max_size=10).map(tuple),
    notice=st.text(max_size=200),
)


@given(calls)
def test_call_round_trip(c):
    assert p.Call.decode(c.encode()) == c


@given(snapshots)
@settings(suppress_health_check=[HealthCheck.too_slow])
def test_snapshot_round_trip_through_a_frame(s):
    frame = p.Frame(p.T_SNAPSHOT, 200, 0, s.encode())
    (got,) = list(p.FrameDecoder().feed(p.encode_frame(frame)))
    assert p.decode_message(got).snapshot == s


def test_oversized_payloads_are_refused_with_the_limit_named():
    with pytest.raises(p.ProtocolError, match="4096"):
        p.encode_frame(p.Frame(p.T_NOTICE, 1, 0, bytes(p.MAX_PAYLOAD + 1)))
    with pytest.raises(p.ProtocolError, match="call code"):
        p.Call("x" * 300, 1).encode()
    with pytest.raises(p.ProtocolError, match="call counter"):
        p.Call("A001", 300).encode()


def test_truncated_and_padded_payloads_are_rejected():
    good = p.Call("A025", 3, "hotich", False, 1, 2).encode()
    with pytest.raises(p.ProtocolError, match="ends early"):
        p.Call.decode(good[:-1])
    with pytest.raises(p.ProtocolError, match="trailing"):
        p.Call.decode(good + b"\x00")
    with pytest.raises(p.ProtocolError, match="UTF-8"):
        p.Call.decode(bytes([0, 3, 2, 0xC3, 0x28, 0, 0, 0, 0, 0, 0, 0, 0, 0]))


def test_decoder_resynchronises_after_garbage_and_split_reads():
    frames = [p.Frame(p.T_CALL, i, 0, p.Call(f"A{i:03d}", 1).encode()) for i in range(5)]
    stream = b"\x13\x37garbage" + b"".join(p.encode_frame(f) for f in frames)
    dec = p.FrameDecoder()
    got = []
    for i in range(0, len(stream), 7):  # arrive in small pieces, as from a UART
        got += [x for x in dec.feed(stream[i : i + 7]) if isinstance(x, p.Frame)]
    assert got == frames


def test_decoder_drops_an_endless_frame_and_recovers():
    dec = p.FrameDecoder()
    out = list(dec.feed(b"\x01" * (p.MAX_ENCODED + 10)))
    assert out == []
    good = p.Frame(p.T_PING)
    out = list(dec.feed(b"\x00" + p.encode_frame(good)))
    assert out[0] == p.BadFrame("overflow", p.MAX_ENCODED)
    assert out[-1] == good


def _stream(frames: list[p.Frame]) -> bytes:
    return b"".join(p.encode_frame(f) for f in frames)


frames_st = st.lists(
    st.builds(
        p.Frame,
        type=st.sampled_from(sorted(p.TYPE_NAMES)),
        seq=st.integers(0, 255),
        address=st.integers(0, 255),
        payload=st.binary(max_size=300),
    ),
    min_size=1,
    max_size=8,
)


@given(st.binary(max_size=5000))
def test_decoder_never_crashes_on_random_bytes(data):
    dec = p.FrameDecoder()
    for item in dec.feed(data):
        if isinstance(item, p.Frame):
            # Anything accepted passed its CRC: re-encoding gives the same bytes back.
            assert len(item.payload) <= p.MAX_PAYLOAD


@given(frames_st, st.data())
@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
def test_corrupted_streams_never_yield_a_frame_that_was_not_sent(frames, data):
    stream = bytearray(_stream(frames))
    for _ in range(data.draw(st.integers(1, 6))):
        kind = data.draw(st.sampled_from(["flip", "drop", "insert", "dup"]))
        i = data.draw(st.integers(0, len(stream) - 1))
        if kind == "flip":
            stream[i] ^= 1 << data.draw(st.integers(0, 7))
        elif kind == "drop":
            del stream[i]
        elif kind == "insert":
            stream.insert(i, data.draw(st.integers(0, 255)))
        else:
            stream[i:i] = stream[i : i + data.draw(st.integers(1, 20))]
    sent = set(frames)
    for item in p.FrameDecoder().feed(bytes(stream)):
        if isinstance(item, p.Frame):
            assert item in sent


@given(frames_st)
def test_every_intact_frame_survives_a_round_trip(frames):
    got = [x for x in p.FrameDecoder().feed(_stream(frames)) if isinstance(x, p.Frame)]
    assert got == frames


def test_decode_command_prints_one_readable_line_per_frame_of_a_capture(tmp_path):
    import subprocess
    import sys

    capture = tmp_path / "line.bin"
    wire = b"".join(_hex(v["wire"]) for v in VECTORS)
    capture.write_bytes(b"\x07noise" + wire)
    r = subprocess.run(
        [sys.executable, "-m", "display.cli", "decode", str(capture)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].startswith("damaged frame")  # the noise before the first delimiter
    assert len(lines) == len(VECTORS) + 1
    assert "call A025 → counter 3 (hotich) id=1234" in r.stdout
    assert "recall 1025 → counter 3" in r.stdout
    assert "counters [1:A025, 2:-], waiting [hotich=4]" in r.stdout
    assert "notice 'Xin cảm ơn'" in r.stdout and "bad payload" not in r.stdout
