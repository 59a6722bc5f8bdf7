"""``kiosk run``: the entrance kiosk process — touchscreen, inputs and consumers.

Wiring, in order: the store and queue; the screen
(:class:`~kiosk.ui.app.KioskApp`, first frame, READY=1); the consumers (printer,
hall-display link, uplink: :func:`kiosk.compose.start_consumers`) in their own
threads; GPIO buttons and lights when
``[gpio] enabled``; a serial ID-card scanner when ``[scanner] port`` is set; SIGTERM/SIGINT end the loop cleanly. systemd gets READY=1
after the first frame and WATCHDOG=1 from the main loop.
"""

from __future__ import annotations

import logging
import signal
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from kiosk.compose import Overrides, start_consumers, stop_consumers
from kiosk.core.config import Config
from kiosk.core.queue import Queue
from kiosk.inputs.actions import Outcome
from kiosk.inputs.keys import KeyMap

if TYPE_CHECKING:
    from kiosk.ui.app import KioskApp

log = logging.getLogger(__name__)

NO_SCREEN_HELP = (
    "no screen to draw on ({err}). On Raspberry Pi OS Lite run with SDL_VIDEODRIVER=kmsdrm "
    "as a user in the video, render and input groups (kiosk.service does); on a desktop run it from "
    "the desktop session; with no screen at all use `kiosk sim --headless --demo`"
)


def run_kiosk(
    cfg: Config,
    queue: Queue,
    *,
    size: tuple[int, int] | None = None,
    fullscreen: bool | None = None,
    staff_keys: bool | None = None,
    gpio: bool | None = None,
    overrides: Overrides | None = None,
    caption: str = "Kiosk",
    on_outcome: Callable[[Outcome], None] | None = None,
    setup: Callable[[KioskApp], None] | None = None,
) -> int:
    """Run the kiosk until stopped; returns an exit code."""
    import pygame

    from kiosk.ui.app import KioskApp

    consumers: list[Any] = []
    inputs: Any = None
    scanner: Any = None
    app = KioskApp(
        queue,
        size=size,
        fullscreen=fullscreen,
        keymap=KeyMap(cfg, staff=staff_keys),
        caption=caption,
    )

    def outcome(out: Outcome) -> None:
        if not out.ok:
            log.info("%s: %s", out.action.kind, out.text)
        if inputs is not None and out.action.source == "gpio":
            inputs.beep(out.ok)
        if on_outcome is not None:
            on_outcome(out)

    app.on_outcome = outcome
    previous = {s: signal.signal(s, lambda *_: app.stop()) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        try:
            app.start()
        except pygame.error as e:
            print(f"kiosk: {NO_SCREEN_HELP.format(err=e)}", file=sys.stderr)
            return 1
        # After the first frame: a kiosk with no screen starts no printer either.
        consumers = start_consumers(cfg, queue, overrides)
        if gpio if gpio is not None else cfg.gpio.enabled:
            from kiosk.inputs.gpio import GpioUnavailable, KioskInputs

            try:
                inputs = KioskInputs(cfg, app.post)
            except GpioUnavailable as e:
                print(f"kiosk: {e}; carrying on with touch and keys", file=sys.stderr)
            if inputs is not None:
                lights = inputs

                def refresh(a: KioskApp) -> None:
                    assert a.model is not None
                    lights.refresh(a.queue.status(), a.model.is_open and not a.model.paused)

                app.listeners.append(refresh)
                refresh(app)
        if cfg.scanner.id_cards:
            # The site's key for ID hashes is made at the first start, not at the first scan.
            from kiosk.core.citizen import CitizenKeyError

            try:
                queue.citizen_key  # noqa: B018 - loads, or creates the file (mode 0600)
            except CitizenKeyError as e:
                log.error("ID cards: %s", e)
        if cfg.scanner.port:
            # A serial 2D scanner (kiosk/inputs/scanner.py): each code to the main loop.
            from kiosk.inputs.scanner import SerialScanner

            scanner = SerialScanner(cfg.scanner.port, app.post_scan, cfg.scanner.baud)
            scanner.start()
        if setup is not None:
            setup(app)
        app.run()
        return 0
    finally:
        for s, h in previous.items():
            signal.signal(s, h)
        app.close()
        if scanner is not None:
            scanner.stop()
        if inputs is not None:
            inputs.close()
        stop_consumers(consumers)
