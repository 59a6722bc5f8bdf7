"""The hall-display app: receiver thread, announcer thread, and a main loop that mostly sleeps.

The main loop redraws only when something visible changed (a frame was applied,
the link state flipped), once a second for the clock, a few times a second while
the newest call flashes, and the notice strip alone while a long notice scrolls.
Between redraws it sleeps on a ``threading.Event`` with a timeout — a real sleep
that the receiver cuts short the moment a frame arrives. It never calls
``pygame.event.wait(timeout)``, which polls every millisecond inside SDL.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

from display import protocol as p
from display.announcer import Announcer
from display.receiver import Receiver
from display.sdlvideo import prefer_native_framebuffer
from display.sdnotify import Notifier
from display.state import HallState, status_dict, write_status

log = logging.getLogger(__name__)

#: Voice folders searched in order: recordings a site dropped in, then generated clips.
SITE_VOICE_DIR = Path("/etc/hall-display/voice")
#: Where ``hall-display make-voice`` writes by default (the image's install step runs it).
STATE_VOICE_DIR = Path("/var/lib/hall-display/voice")
BUILT_VOICE_DIR = Path("/usr/share/hall-display/voice")
CACHE_VOICE_DIR = (
    Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "hall-display" / "voice"
)


@dataclass
class Options:
    port: str
    baud: int = 115200
    address: int = p.ADDR_HALL
    windowed: bool = False
    size: tuple[int, int] | None = None
    status_file: Path | None = None
    voice_dirs: list[Path] = field(
        default_factory=lambda: [SITE_VOICE_DIR, STATE_VOICE_DIR, BUILT_VOICE_DIR, CACHE_VOICE_DIR]
    )
    number_mode: str = "number"
    chime: bool = True
    mute: bool = False
    scroll_fps: float = 20.0


class App:
    """One hall display: state, link, voice and screen."""

    def __init__(self, opts: Options) -> None:
        self.opts = opts
        # A counter display (address N) keeps only counter N's number and calls.
        self.state = HallState(counter=opts.address or None)
        self.wake = threading.Event()
        self.stopping = threading.Event()
        self.announcer = Announcer(
            opts.voice_dirs,
            number_mode=opts.number_mode,
            chime=opts.chime,
            enabled=not opts.mute,
        )
        self.receiver = Receiver(
            opts.port,
            self.state,
            baud=opts.baud,
            address=opts.address,
            on_change=self.wake.set,
            on_call=self.announcer.announce,
        )
        self.frames_drawn = 0

    def stop(self, *_: object) -> None:
        self.stopping.set()
        self.wake.set()

    def _open_screen(self) -> tuple[object, tuple[int, int]]:
        import pygame

        pygame.display.init()
        pygame.font.init()
        # X11's native framebuffer, not a GL texture on llvmpipe (display.sdlvideo).
        driver = prefer_native_framebuffer()
        size = self.opts.size
        flags = 0
        if size is None:
            if self.opts.windowed:
                size = (1280, 720)
            elif driver in ("dummy", "offscreen"):
                size = (1920, 1080)
            else:
                size, flags = (0, 0), pygame.FULLSCREEN
        screen = pygame.display.set_mode(size, flags)
        pygame.display.set_caption("Hall display · Màn hình phòng chờ")
        pygame.mouse.set_visible(self.opts.windowed)
        # Only quit and keys matter; everything else would just wake us up.
        pygame.event.set_blocked(None)
        pygame.event.set_allowed([pygame.QUIT, pygame.KEYDOWN, pygame.WINDOWEXPOSED])
        return screen, screen.get_size()

    def _ensure_voice(self) -> None:
        """Make clips in the user cache when none are installed and espeak-ng is here."""
        if self.opts.mute or any((d / "intro.wav").is_file() for d in self.opts.voice_dirs):
            return
        if CACHE_VOICE_DIR not in self.opts.voice_dirs or shutil.which("espeak-ng") is None:
            log.warning(
                "no voice clips in %s: run 'hall-display make-voice --out DIR'",
                ", ".join(map(str, self.opts.voice_dirs)),
            )
            return
        from display.voice import VoiceError, make_voice

        try:
            make_voice(CACHE_VOICE_DIR)
            log.warning("voice clips generated into %s", CACHE_VOICE_DIR)
        except (VoiceError, OSError) as e:
            log.warning("cannot generate voice clips: %s", e)

    def run(self, max_seconds: float | None = None) -> int:
        import pygame

        from display.render import FLASH_PERIOD_S, Renderer

        screen, size = self._open_screen()
        assert isinstance(screen, pygame.Surface)
        renderer = Renderer(screen)
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, self._on_signal)
            signal.signal(signal.SIGINT, self._on_signal)
        threading.Thread(target=self._ensure_voice, name="voice-check", daemon=True).start()
        self.announcer.start()
        self.receiver.start()
        log.warning(
            "hall display %dx%d on %s at %d baud, address %d",
            size[0],
            size[1],
            self.opts.port,
            self.opts.baud,
            self.opts.address,
        )
        deadline = time.monotonic() + max_seconds if max_seconds else None
        notifier = Notifier()
        ping_every = notifier.watchdog_interval()
        ready = False
        next_ping = 0.0
        drawn: tuple[int, int, int] | None = None
        written = -1
        scroll_step = 1.0 / max(1.0, self.opts.scroll_fps)
        try:
            while not self.stopping.is_set():
                for ev in pygame.event.get():
                    if ev.type == pygame.WINDOWEXPOSED:
                        drawn = None  # uncovered by another window: draw everything again
                    elif ev.type == pygame.QUIT or (
                        ev.type == pygame.KEYDOWN and ev.key in (pygame.K_ESCAPE, pygame.K_q)
                    ):
                        self.stopping.set()
                now = time.monotonic()
                if deadline is not None and now >= deadline:
                    break
                v = self.state.view()
                wall = self.state.now()
                flashing = now < v.flash_until
                phase = int(now / FLASH_PERIOD_S) % 2 if flashing else -1
                key = (v.version, int(wall), phase)
                scrolling = renderer.notice_scrolls(v)
                if drawn is not None and key[0] == drawn[0] and key[2] == drawn[2] == -1:
                    if key[1] != drawn[1]:
                        # Only the clock moved: redraw the header strip, not the screen.
                        pygame.display.update(renderer.draw_header(v, wall))
                        drawn = key
                    if scrolling:
                        renderer.draw_notice(v, now)
                        pygame.display.update(renderer.notice_rect)
                elif key != drawn:
                    renderer.draw(v, now, wall)
                    pygame.display.flip()
                    self.frames_drawn += 1
                    drawn = key
                elif scrolling:
                    renderer.draw_notice(v, now)
                    pygame.display.update(renderer.notice_rect)
                if not ready:
                    # The first frame is on screen: systemd may consider us started.
                    notifier.notify(f"READY=1\nSTATUS=showing on {size[0]}x{size[1]}")
                    ready = True
                if ping_every and now >= next_ping:
                    # Pinged from the main loop: a hung loop stops the pings and gets restarted.
                    notifier.notify("WATCHDOG=1")
                    next_ping = now + ping_every
                if self.opts.status_file is not None and v.version != written:
                    try:
                        write_status(self.opts.status_file, status_dict(v))
                        written = v.version
                    except OSError as e:
                        log.warning("cannot write %s: %s", self.opts.status_file, e)
                # Sleep until the next second of the clock, or the next flash or scroll step.
                timeout = 1.0 - (wall % 1.0) + 0.002
                if flashing:
                    timeout = min(timeout, FLASH_PERIOD_S - (now % FLASH_PERIOD_S) + 0.002)
                    timeout = min(timeout, v.flash_until - now + 0.002)
                if scrolling:
                    timeout = min(timeout, scroll_step)
                if ping_every:
                    timeout = min(timeout, next_ping - now)
                self.wake.wait(max(0.002, timeout))
                self.wake.clear()
        finally:
            notifier.notify("STOPPING=1")
            self.receiver.stop()
            self.announcer.stop()
            pygame.quit()
        return 0

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        self.stop()
