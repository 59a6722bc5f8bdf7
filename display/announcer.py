"""Announcing calls aloud: one queue, one worker, never two voices at once, nothing dropped.

``announce(call)`` only appends to a queue and returns at once (the receiver thread
must not wait for audio). A single worker thread takes calls in order, joins the
clips of each into one sound and plays it through ``pygame.mixer``, waiting until
it has finished before starting the next. A recall is a new call and is announced
again. Without an audio device the mixer cannot start: that is logged once and
announcements are still taken off the queue (and recorded) so nothing piles up.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from display.protocol import Call
from display.voice import CHIME, call_clips, clips_text

log = logging.getLogger(__name__)

#: Silence between clips, seconds: keeps words apart without sounding slow.
GAP_S = 0.06
#: Silence after the chime.
CHIME_GAP_S = 0.25


@dataclass(frozen=True)
class Played:
    """One announcement as it was played (for the log and tests)."""

    code: str
    counter: int
    recall: bool
    clips: tuple[str, ...]
    text: str
    started: float
    ended: float
    audible: bool


class Announcer:
    """Queued Vietnamese voice calls through pygame.mixer."""

    def __init__(
        self,
        voice_dirs: Sequence[Path],
        *,
        number_mode: str = "number",
        chime: bool = True,
        enabled: bool = True,
        on_played: Callable[[Played], None] | None = None,
    ) -> None:
        self.voice_dirs = [Path(d) for d in voice_dirs]
        self.number_mode = number_mode
        self.chime = chime
        self.enabled = enabled
        self.on_played = on_played
        self.history: list[Played] = []
        self._q: queue.Queue[Call | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._mixer_ok: bool | None = None
        self._sounds: dict[str, Any] = {}
        self._missing: set[str] = set()
        self._idle = threading.Event()
        self._idle.set()

    # -- public
    def announce(self, call: Call) -> None:
        """Queue a call; returns at once."""
        self._idle.clear()
        self._q.put(call)

    def start(self) -> Announcer:
        self._thread = threading.Thread(target=self._run, name="announcer", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 2.0) -> None:
        self._q.put(None)
        if self._thread is not None:
            self._thread.join(timeout)

    def wait_idle(self, timeout: float) -> bool:
        """Block until the queue is empty and nothing plays (tests, shutdown)."""
        return self._idle.wait(timeout)

    @property
    def pending(self) -> int:
        return self._q.qsize()

    # -- worker
    def _run(self) -> None:
        while True:
            call = self._q.get()
            if call is None:
                return
            try:
                self._play(call)
            except Exception:  # a bad clip must not stop later announcements
                log.exception("announcing %s failed", call.code)
            if self._q.empty():
                self._idle.set()

    def _init_mixer(self) -> bool:
        if self._mixer_ok is None:
            try:
                import pygame

                if not pygame.mixer.get_init():
                    pygame.mixer.init(frequency=22050, size=-16, channels=1, buffer=1024)
                self._mixer_ok = True
            except Exception as e:  # no sound card, no PulseAudio, ...
                log.warning("no audio output (%s): calls are shown but not spoken", e)
                self._mixer_ok = False
        return self._mixer_ok

    def _find(self, clip: str) -> Path | None:
        for d in self.voice_dirs:
            f = d / f"{clip}.wav"
            if f.is_file():
                return f
        return None

    def _sound(self, clip: str) -> Any:
        if clip in self._sounds:
            return self._sounds[clip]
        import pygame

        path = self._find(clip)
        snd = None
        if path is None:
            if clip not in self._missing:
                self._missing.add(clip)
                log.warning(
                    "voice clip %s.wav not found in %s; run 'hall-display make-voice'",
                    clip,
                    ", ".join(map(str, self.voice_dirs)),
                )
        else:
            try:
                snd = pygame.mixer.Sound(str(path))
            except Exception as e:
                log.warning("voice clip %s cannot be read: %s", path, e)
        if snd is not None:  # a missing clip may appear later (make-voice still running)
            self._sounds[clip] = snd
        return snd

    def build(self, clips: Sequence[str]) -> Any:
        """Join clips into one Sound (mixer format), with short gaps; None if none found."""
        import pygame

        init = pygame.mixer.get_init()
        if not init:
            return None
        freq, size, channels = init
        frame = abs(size) // 8 * channels
        parts: list[bytes] = []
        for clip in clips:
            snd = self._sound(clip)
            if snd is None:
                continue
            raw = snd.get_raw()
            parts.append(raw[: len(raw) - len(raw) % frame])
            gap = CHIME_GAP_S if clip == CHIME else GAP_S
            parts.append(bytes(int(freq * gap) * frame))
        if not parts:
            return None
        return pygame.mixer.Sound(buffer=b"".join(parts))

    def _play(self, call: Call) -> None:
        clips = call_clips(call.code, call.counter, self.number_mode, self.chime)
        text = clips_text(clips)
        started = time.monotonic()
        audible = False
        if self.enabled and self._init_mixer():
            snd = self.build(clips)
            if snd is not None:
                channel = snd.play()
                audible = channel is not None
                # Sleep for the sound's length, then make sure it has really finished.
                time.sleep(snd.get_length())
                while channel is not None and channel.get_busy():
                    time.sleep(0.02)
        ended = time.monotonic()
        played = Played(
            call.code, call.counter, call.recall, tuple(clips), text, started, ended, audible
        )
        self.history.append(played)
        del self.history[:-200]
        log.info("announced%s: %s", " (recall)" if call.recall else "", text)
        if self.on_played is not None:
            self.on_played(played)
