"""Vietnamese number reading, voice clips, and the announcer's queue (order, recall, no overlap)."""

from __future__ import annotations

import os
import struct
import subprocess
import sys
import wave
from pathlib import Path

import pygame
import pytest

from display import voice
from display.announcer import Announcer
from display.protocol import Call

ROOT = Path(__file__).resolve().parents[2]


def words(n: int) -> str:
    return voice.clips_text(voice.number_words(n))


@pytest.mark.parametrize(
    "n, said",
    [
        (0, "không"),
        (5, "năm"),
        (10, "mười"),
        (15, "mười lăm"),
        (21, "hai mươi mốt"),
        (24, "hai mươi tư"),
        (25, "hai mươi lăm"),
        (30, "ba mươi"),
        (100, "một trăm"),
        (105, "một trăm linh năm"),
        (110, "một trăm mười"),
        (114, "một trăm mười bốn"),
        (1000, "một nghìn"),
        (1005, "một nghìn không trăm linh năm"),
        (1025, "một nghìn không trăm hai mươi lăm"),
        (2345, "hai nghìn ba trăm bốn mươi lăm"),
        (10000, "mười nghìn"),
        (999999, "chín trăm chín mươi chín nghìn chín trăm chín mươi chín"),
    ],
)
def test_numbers_are_read_as_vietnamese_words(n, said):
    assert words(n) == said


def test_the_brief_sentence_reads_as_specified():
    clips = voice.call_clips("1025", 3)
    assert voice.clips_text(clips) == (
        "♪ Xin mời công dân có số một nghìn không trăm hai mươi lăm đến quầy số ba"
    )


def test_digit_mode_reads_prefix_letters_then_each_digit():
    clips = voice.call_clips("A025", 12, mode="digits", chime=False)
    assert voice.clips_text(clips) == "Xin mời công dân có số a không hai năm đến quầy số mười hai"


def test_number_out_of_range_is_refused():
    with pytest.raises(ValueError, match="0–999999"):
        voice.number_words(1_000_000)


def write_wav(path: Path, seconds: float, amplitude: int = 8000, rate: int = 22050) -> None:
    n = int(rate * seconds)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(struct.pack(f"<{n}h", *([amplitude, -amplitude] * (n // 2 + 1))[:n]))


@pytest.fixture
def tiny_voice(tmp_path: Path) -> Path:
    d = tmp_path / "voice"
    d.mkdir()
    for clip in voice.ALL_CLIPS:
        write_wav(d / f"{clip}.wav", 0.01)
    return d


@pytest.fixture
def mixer():
    pygame.mixer.quit()
    yield
    pygame.mixer.quit()


def test_announcements_play_in_order_one_at_a_time_and_a_recall_is_spoken_again(tiny_voice, mixer):
    a = Announcer([tiny_voice]).start()
    calls = [
        Call("A001", 1, call_id=1),
        Call("B001", 2, call_id=2),
        Call("A001", 1, recall=True, call_id=3),
        Call("C001", 4, call_id=4),
        Call("A002", 3, call_id=5),
    ]
    for c in calls:  # several counters calling at once
        a.announce(c)
    assert a.wait_idle(20)
    a.stop()
    assert [(h.code, h.counter, h.recall) for h in a.history] == [
        (c.code, c.counter, c.recall) for c in calls
    ]
    assert all(h.audible for h in a.history)
    for prev, nxt in zip(a.history, a.history[1:], strict=False):
        assert nxt.started >= prev.ended  # never two voices at once
    # Each sound is as long as its clips and gaps: it really was played out.
    assert all(h.ended - h.started >= 0.1 for h in a.history)


def test_a_site_recording_replaces_the_generated_clip(tiny_voice, tmp_path, mixer):
    site = tmp_path / "site"
    site.mkdir()
    write_wav(site / "intro.wav", 0.5)
    pygame.mixer.init(22050, -16, 1, 1024)
    with_site = Announcer([site, tiny_voice]).build(["intro"])
    without = Announcer([tiny_voice]).build(["intro"])
    assert with_site.get_length() > 0.5 > without.get_length()


def test_missing_clips_are_skipped_with_a_warning_not_an_error(tmp_path, mixer, caplog):
    a = Announcer([tmp_path]).start()
    a.announce(Call("A001", 1))
    assert a.wait_idle(5)
    a.stop()
    assert len(a.history) == 1 and not a.history[0].audible
    assert "make-voice" in caplog.text


def test_without_an_audio_device_calls_are_logged_and_the_queue_keeps_moving(
    tiny_voice, mixer, monkeypatch, caplog
):
    monkeypatch.setenv("SDL_AUDIODRIVER", "no-such-audio-driver")
    a = Announcer([tiny_voice]).start()
    for i in range(3):
        a.announce(Call(f"A00{i}", 1, call_id=i + 1))
    assert a.wait_idle(5)
    a.stop()
    assert [h.code for h in a.history] == ["A000", "A001", "A002"]
    assert not any(h.audible for h in a.history)
    assert "no audio output" in caplog.text


def test_make_voice_generates_every_clip_with_espeak(tmp_path):
    out = tmp_path / "voice"
    r = subprocess.run(
        [sys.executable, "-m", "display.cli", "make-voice", "--out", str(out)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    for clip in voice.ALL_CLIPS:
        with wave.open(str(out / f"{clip}.wav")) as w:
            seconds = w.getnframes() / w.getframerate()
            assert 0.05 < seconds < 4, (clip, seconds)
    with wave.open(str(out / "intro.wav")) as w:  # the sentence is longer than a digit
        intro = w.getnframes()
    with wave.open(str(out / "d1.wav")) as w:
        assert w.getnframes() < intro
    assert not list(out.glob(".*.tmp.wav"))


def test_make_voice_without_espeak_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(voice.VoiceError, match="apt-get install espeak-ng"):
        voice.make_voice(tmp_path / "v")
    assert os.environ["PATH"] == str(tmp_path)


def test_say_speaks_one_call_through_the_cli(tiny_voice):
    r = subprocess.run(
        [sys.executable, "-m", "display.cli", "say", "A025", "3", "--voice-dir", str(tiny_voice)],
        cwd=ROOT,
        env=dict(os.environ, SDL_AUDIODRIVER="dummy"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "♪ Xin mời công dân có số a hai mươi lăm đến quầy số ba"


@pytest.mark.parametrize("counter", ["-1", "0", "255", "ba"])
def test_say_to_an_impossible_counter_is_refused_in_one_line_without_a_traceback(counter):
    r = subprocess.run(
        [sys.executable, "-m", "display.cli", "say", "A025", counter],
        cwd=ROOT,
        env=dict(os.environ, SDL_AUDIODRIVER="dummy"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 2
    assert "Traceback" not in r.stderr and r.stdout == ""
    assert f"{counter!r} is not a counter number" in r.stderr and "1–254" in r.stderr


def test_make_voice_into_a_folder_it_cannot_write_says_how_to_choose_another(tmp_path):
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    r = subprocess.run(
        [sys.executable, "-m", "display.cli", "make-voice", "--out", str(blocked / "voice")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 2 and "--out DIR" in r.stderr and "Traceback" not in r.stderr
