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
    by_name = {v["name"]: v for v in VECTORS}

    def msg(prefix: str) -> p.Message:
        (v,) = [v for name, v in by_name.items() if name.startswith(prefix)]
        frame = p.Frame(int(v["type"], 16), int(v["seq"]), int(v["address"]), _hex(v["payload"]))
        return p.decode_message(frame)

    call = p.Call("A025", 3, "hotich", False, 1234, 1764464400)
    assert msg("call A025") == call
    recall = msg("recall 1025")
    assert isinstance(recall, p.Call) and recall.recall and recall.code == "1025"
    assert msg("notice") == p.notice_parts("Xin cảm ơn")[0]
    assert p.join_notice({0: msg("notice")}) == "Xin cảm ơn"  # type: ignore[dict-item]
    assert msg("clock") == p.Clock(1764464400, 420)
    assert msg("begin") == p.Begin(4660)
    assert msg("synced") == p.Synced(37)
    assert msg("site") == p.Site("UBND")
    assert msg("counter-name") == p.CounterName(1, "Quầy 1")
    assert msg("service") == p.Service("hotich", "Hộ tịch")
    assert msg("counter 1 open") == p.CounterNow(1, "A025", True)
    assert msg("counter 2 closed") == p.CounterNow(2, "", False)
    assert msg("waiting") == p.Waiting("hotich", 4)
    assert msg("recent") == p.Recent(p.Call("A024", 2, "hotich", False, 1230, 1764464300))
    st = by_name["status of counter 3's display, session 4660, last seq 9, up 75 s"]
    assert p.Status.decode(_hex(st["payload"])) == p.Status(4660, 9, 75)
    assert p.Status.decode(_hex(by_name["status, no session yet, up 12 s"]["payload"])).no_session


def test_every_frame_of_the_spec_fits_the_small_frame_limit():
    assert p.MAX_PAYLOAD == 64 and p.MAX_ENCODED == 74
    for v in VECTORS:
        assert len(_hex(v["wire"])) - 2 <= p.MAX_ENCODED


def test_frame_checker_answers_need_more_discard_or_frame_as_documented():
    ping = p.encode_frame(p.Frame(p.T_PING))
    flipped = bytearray(ping[1:])
    flipped[-2] ^= 1
    assert p.check_frame(b"") == 0
    assert p.check_frame(b"\x02\x01") == 0
    assert p.check_frame(ping) == -1
    assert p.check_frame(ping[1:]) == len(ping) - 1 == 10
    assert p.check_frame(bytes(flipped)) == -10
    assert p.check_frame(b"\x13\x37\x00\x02") == -3
    assert p.check_frame(b"\x01" * p.MAX_ENCODED) == 0
    assert p.check_frame(b"\x01" * (p.MAX_ENCODED + 1)) == -(p.MAX_ENCODED + 1)
    spec = SPEC.read_text(encoding="utf-8")
    assert "`02 02 02 01 05 d6 26 56 92 00` | +10" in spec
    assert "`02 02 02 01 05 d6 26 56 93 00` | −10" in spec


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
    lambda s: len(s.encode()) <= 20
)
names = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=80)
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
    site=names,
    counters=st.lists(
        st.builds(p.CounterState, st.integers(1, 254), names, texts, st.booleans()),
        max_size=8,
        unique_by=lambda c: c.id,
    ).map(tuple),
    services=st.lists(
        st.builds(p.ServiceState, texts, names, st.integers(0, 65535)),
        max_size=8,
        unique_by=lambda x: x.id,
    ).map(tuple),
    recent=st.lists(
        st.builds(
            p.Call,
            code=texts,
            counter=st.integers(1, 254),
            service=texts,
            recall=st.booleans(),
            call_id=st.integers(1, 2**32 - 1),
            at=st.integers(0, 2**32 - 1),
        ),
        max_size=10,
        unique_by=lambda c: c.call_id,
    ).map(lambda cs: tuple(sorted(cs, key=lambda c: -c.call_id))),
    notice=st.text(max_size=300),
)


@given(calls)
def test_call_round_trip(c):
    assert p.Call.decode(c.encode()) == c


@given(snapshots)
@settings(suppress_health_check=[HealthCheck.too_slow], max_examples=60)
def test_the_state_sent_as_small_items_arrives_whole_through_frames(s):
    from display.state import HallState

    state = HallState()
    frames = [p.Frame(p.T_BEGIN, 0, 0, p.Begin(1).encode())]
    frames += [p.Frame(it.type, i % 256, 0, it.payload) for i, it in enumerate(p.state_items(s))]
    wire = b"".join(p.encode_frame(f) for f in frames)
    assert all(len(p.encode_frame(f)) <= p.MAX_ENCODED + 2 for f in frames)
    for f in p.FrameDecoder().feed(wire):
        assert isinstance(f, p.Frame)
        state.apply(p.decode_message(f))
    v = state.view()
    shown = {c.id: (c.current, c.open) for c in v.counters}
    assert shown == {c.id: (c.current, c.open) for c in s.counters}
    names = {c.id: c.name for c in v.counters}
    assert names == {c.id: p.shorten(c.name, p.MAX_PAYLOAD - 2) for c in s.counters}
    assert {x.id: x.waiting for x in v.services} == {x.id: x.waiting for x in s.services}
    assert [c.call_id for c in state.recent] == [c.call_id for c in s.recent]
    assert v.notice == p.shorten(s.notice, p.MAX_NOTICE_BYTES)
    assert v.state_id == s.state_id and v.site == p.shorten(s.site, p.MAX_PAYLOAD - 1)


def test_long_names_are_shortened_to_fit_a_frame_at_a_character_boundary():
    name = "Trung tâm Phục vụ hành chính công phường Nghĩa Tân, quận Cầu Giấy"
    site = p.Site.decode(p.Site(name).encode())
    assert site.name.endswith("…") and name.startswith(site.name[:-1])
    assert len(p.Site(name).encode()) <= p.MAX_PAYLOAD
    svc = p.Service.decode(p.Service("ldtbxh", "Lao động – Thương binh và Xã hội" * 2).encode())
    assert svc.id == "ldtbxh" and svc.name.startswith("Lao động – Thương binh và Xã hội")


def test_a_notice_is_shown_only_when_all_its_parts_arrived_and_check_out():
    text = "Công dân vui lòng chuẩn bị sẵn giấy tờ tùy thân khi đến lượt. Xin cảm ơn!"
    parts = p.notice_parts(text)
    assert len(parts) == 3 and all(len(x.encode()) <= p.MAX_PAYLOAD for x in parts)
    assert p.join_notice({0: parts[0], 2: parts[2]}) is None
    assert p.join_notice(dict(enumerate(parts))) == text
    flipped = bytes([parts[1].data[0] ^ 1]) + parts[1].data[1:]
    forged = p.NoticePart(parts[1].crc, 1, 3, flipped)
    assert p.join_notice({0: parts[0], 1: forged, 2: parts[2]}) is None


def test_oversized_payloads_are_refused_with_the_limit_named():
    with pytest.raises(p.ProtocolError, match="64"):
        p.encode_frame(p.Frame(p.T_NOTICE, 1, 0, bytes(p.MAX_PAYLOAD + 1)))
    with pytest.raises(p.ProtocolError, match="call code"):
        p.Call("x" * 300, 1).encode()
    with pytest.raises(p.ProtocolError, match="64-byte payload limit"):
        p.Call("x" * 40, 1, "y" * 40).encode()
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
    assert out == [p.BadFrame("overflow", p.MAX_ENCODED + 10)]
    good = p.Frame(p.T_PING)
    out = list(dec.feed(b"\x01\x01\x00" + p.encode_frame(good)))
    assert out[-1] == good


def test_a_version_1_snapshot_is_discarded_as_too_long():
    old = b"\x00" + p.cobs_encode(bytes([1, 0, 0x11, 1]) + b"\x05" * 693) + b"\x00"
    got = list(p.FrameDecoder().feed(old + p.encode_frame(p.Frame(p.T_PING))))
    assert got[-1] == p.Frame(p.T_PING)
    assert all(isinstance(x, p.BadFrame) for x in got[:-1])


def _stream(frames: list[p.Frame]) -> bytes:
    return b"".join(p.encode_frame(f) for f in frames)


frames_st = st.lists(
    st.builds(
        p.Frame,
        type=st.sampled_from(sorted(p.TYPE_NAMES)),
        seq=st.integers(0, 255),
        address=st.integers(0, 255),
        payload=st.binary(max_size=p.MAX_PAYLOAD),
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
    assert "counter 1 open, serving A025" in r.stdout
    assert "hotich waiting 4" in r.stdout and "session 4660 begins" in r.stdout
    assert "notice part 1/1 'Xin cảm ơn'" in r.stdout and "bad payload" not in r.stdout
