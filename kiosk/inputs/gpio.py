"""GPIO buttons and lights through gpiozero 2: ticket buttons, counter buttons,
the ticket-ready light, counter-busy lights and a buzzer.

Debounce is ours, not gpiozero's (``bounce_time=None``): gpiozero's MockFactory
does not emulate bounce, so a library debounce could not be tested, and its
timing differs between pin backends. :class:`Debouncer` acts on the *first*
contact of a press (no added latency) and ignores every further contact until
the button has stayed released for ``[gpio] bounce_ms``. A bouncing press, a
bouncing release, or a button held down for minutes acts exactly once.

gpiozero calls callbacks on its own threads; :class:`KioskInputs` only turns a
press into an :class:`~kiosk.inputs.actions.Action` and hands it to ``post`` (the kiosk
app's :meth:`~kiosk.ui.app.KioskApp.post`, which wakes the main loop). Pins come
from the site file, validated by kiosk/core/config.py (on the header, not reused, not
on an enabled I2C/SPI/UART bus).
"""

from __future__ import annotations

import logging
import threading
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kiosk.core.config import Config
from kiosk.inputs.actions import Action

log = logging.getLogger(__name__)


class GpioUnavailable(Exception):
    """No GPIO on this machine (a PC), or the pins cannot be claimed."""


class Debouncer:
    """Press/release edges in, "act now" out; thread-safe.

    Acts on the first contact. After that, a new press counts only when the
    button was released at least ``bounce_s`` before it; contacts closer than
    that are the same press bouncing (or a bouncing release).
    """

    def __init__(self, bounce_s: float, clock: Callable[[], float] = time.monotonic):
        self.bounce_s = bounce_s
        self.clock = clock
        self._lock = threading.Lock()
        self._armed = True
        self._released_at: float | None = None
        self.presses = 0  # contacts seen, for diagnostics
        self.acted = 0

    def press(self) -> bool:
        """A contact closed; True when this press should act."""
        with self._lock:
            now = self.clock()
            self.presses += 1
            if self._released_at is not None and now - self._released_at >= self.bounce_s:
                self._armed = True
            self._released_at = None
            if self._armed:
                self._armed = False
                self.acted += 1
                return True
            return False

    def release(self) -> None:
        """The contact opened."""
        with self._lock:
            self._released_at = self.clock()


@dataclass(frozen=True)
class Binding:
    """One button: its pin, what it does, and a name for logs and `kiosk doctor`."""

    pin: int
    action: Action
    label: str


def bindings(cfg: Config) -> list[Binding]:
    """Every wired button of the site file (pin 0 = not wired)."""
    out: list[Binding] = []
    for s in cfg.services:
        if s.button_pin:
            out.append(
                Binding(
                    s.button_pin, Action("issue", service=s.id, source="gpio"), f"ticket {s.id}"
                )
            )
    for c in cfg.counters:
        for kind in ("next", "recall", "skip", "transfer"):
            pin = getattr(c, f"{kind}_pin")
            if pin:
                out.append(
                    Binding(
                        pin, Action(kind, counter=c.id, source="gpio"), f"counter {c.id} {kind}"
                    )
                )
        for pin, score in zip(c.rate_pins, (3, 2, 1), strict=False):
            if pin:
                out.append(
                    Binding(
                        pin,
                        Action("rate", counter=c.id, score=score, source="gpio"),
                        f"counter {c.id} rate {score}",
                    )
                )
    return out


class KioskInputs:
    """The kiosk's buttons and lights, a composite of gpiozero devices.

    ``pin_factory`` is gpiozero's (``MockFactory()`` in tests); None uses
    gpiozero's default for this machine.
    """

    def __init__(
        self,
        cfg: Config,
        post: Callable[[Action], None],
        *,
        pin_factory: Any = None,
        clock: Callable[[], float] = time.monotonic,
    ):
        try:
            from gpiozero import LED, Buzzer, DigitalInputDevice
            from gpiozero.exc import GPIOZeroError
        except ImportError as e:  # pragma: no cover - gpiozero is a dependency
            raise GpioUnavailable(f"gpiozero is not installed: {e}") from None
        self.cfg = cfg
        self.post = post
        bounce = cfg.gpio.bounce_ms / 1000
        self.buttons: dict[int, Any] = {}
        self.debouncers: dict[int, Debouncer] = {}
        self.bindings = bindings(cfg)
        self.busy_leds: dict[int, Any] = {}
        self.ready_led: Any = None
        self.buzzer: Any = None
        try:
            with warnings.catch_warnings():
                # gpiozero warns once per backend it tries; the message below says it all.
                warnings.simplefilter("ignore")
                self._build(DigitalInputDevice, LED, Buzzer, pin_factory, bounce, clock)
        except (GPIOZeroError, OSError, RuntimeError) as e:
            self.close()
            raise GpioUnavailable(
                f"GPIO buttons cannot be used here ({type(e).__name__}: {e}); "
                "on a PC set [gpio] enabled = false and use the keyboard"
            ) from None

    def _build(
        self, Input: Any, LED: Any, Buzzer: Any, pin_factory: Any, bounce: float, clock: Any
    ) -> None:
        # DigitalInputDevice rather than Button: Button keeps a hold-watching thread
        # per button, which we do not need (held presses act once by design).
        cfg = self.cfg
        for b in self.bindings:
            d = Debouncer(bounce, clock)
            btn = Input(b.pin, pull_up=True, bounce_time=None, pin_factory=pin_factory)
            btn.when_activated = self._on_press(b, d)
            btn.when_deactivated = d.release
            self.buttons[b.pin] = btn
            self.debouncers[b.pin] = d
        for c in cfg.counters:
            if c.busy_led_pin:
                self.busy_leds[c.id] = LED(c.busy_led_pin, pin_factory=pin_factory)
        if cfg.gpio.ready_led_pin:
            self.ready_led = LED(cfg.gpio.ready_led_pin, pin_factory=pin_factory)
        if cfg.gpio.buzzer_pin:
            self.buzzer = Buzzer(cfg.gpio.buzzer_pin, pin_factory=pin_factory)

    def _on_press(self, b: Binding, d: Debouncer) -> Callable[[], None]:
        def pressed() -> None:
            if d.press():
                log.debug("GPIO %d (%s) pressed", b.pin, b.label)
                self.post(b.action)

        return pressed

    # ------------------------------------------------------------------ lights
    def set_ready(self, ready: bool) -> None:
        """Ticket-ready light: on while a citizen can take a ticket."""
        if self.ready_led is not None:
            if ready:
                self.ready_led.on()
            else:
                self.ready_led.off()

    def set_busy(self, counter_id: int, busy: bool) -> None:
        """Counter-busy light: on while the counter has a called citizen."""
        led = self.busy_leds.get(counter_id)
        if led is not None:
            if busy:
                led.on()
            else:
                led.off()

    def refresh(self, status: dict[str, Any], ready: bool) -> None:
        """Set every light from a queue status snapshot and the screen's readiness."""
        self.set_ready(ready)
        for c in status.get("counters", []):
            self.set_busy(int(c["id"]), bool(c.get("current")))

    def beep(self, ok: bool = True) -> None:
        """One short beep for an accepted press, two for a refused one (in the background)."""
        if self.buzzer is not None:
            self.buzzer.beep(on_time=0.08, off_time=0.08, n=1 if ok else 2, background=True)

    def close(self) -> None:
        for dev in [*self.buttons.values(), *self.busy_leds.values(), self.ready_led, self.buzzer]:
            if dev is not None:
                try:
                    dev.close()
                except Exception:  # closing is best effort at shutdown
                    pass
        self.buttons.clear()
        self.busy_leds.clear()
