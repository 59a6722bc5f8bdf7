"""GPIO buttons and lights through gpiozero's MockFactory, driven like real wires.

MockFactory does not emulate bounce, so the tests make the bounce themselves:
contacts a few milliseconds apart on a clock the test moves.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace

import pytest
from gpiozero.pins.mock import MockFactory

from kiosk.core.config import Config
from kiosk.core.queue import Queue
from kiosk.inputs.actions import Action, perform
from kiosk.inputs.gpio import Debouncer, KioskInputs, bindings
from tests.conftest import ROOT, Clock


class Mono:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t

    def ms(self, n: float) -> None:
        self.t += n / 1000


@pytest.fixture
def factory() -> Iterator[MockFactory]:
    f = MockFactory()
    yield f
    f.reset()


@pytest.fixture
def mono() -> Mono:
    return Mono()


@pytest.fixture
def inputs(
    cfg: Config, factory: MockFactory, mono: Mono
) -> Iterator[tuple[KioskInputs, list[Action]]]:
    got: list[Action] = []
    lock = threading.Lock()

    def post(a: Action) -> None:
        with lock:
            got.append(a)

    ki = KioskInputs(cfg, post, pin_factory=factory, clock=mono)
    yield ki, got
    ki.close()


def press(factory: MockFactory, pin: int) -> None:
    factory.pin(pin).drive_low()  # buttons pull up; pressed = low


def release(factory: MockFactory, pin: int) -> None:
    factory.pin(pin).drive_high()


def test_every_wired_pin_of_the_site_file_is_bound_to_its_action(cfg: Config) -> None:
    b = {x.pin: x.action for x in bindings(cfg)}
    assert b[5] == Action("issue", service="hotich", source="gpio")
    assert b[4] == Action("next", counter=1, source="gpio")
    assert b[23] == Action("recall", counter=2, source="gpio")
    assert b[16] == Action("skip", counter=3, source="gpio")
    assert 0 not in b
    # The tracuu service has no button (button_pin = 0).
    assert not any(x.action.service == "tracuu" for x in bindings(cfg))


def test_a_clean_press_acts_once_on_first_contact(inputs, factory, mono) -> None:
    ki, got = inputs
    press(factory, 5)
    assert got == [Action("issue", service="hotich", source="gpio")]
    mono.ms(120)
    release(factory, 5)
    assert len(got) == 1


def test_a_bouncing_press_acts_once(inputs, factory, mono) -> None:
    ki, got = inputs
    for _ in range(6):  # contact chatter: 6 closures 2 ms apart
        press(factory, 4)
        mono.ms(1)
        release(factory, 4)
        mono.ms(1)
    press(factory, 4)
    assert got == [Action("next", counter=1, source="gpio")]
    assert ki.debouncers[4].presses == 7


def test_a_held_button_never_repeats_and_its_bouncing_release_does_not_act(
    inputs, factory, mono
) -> None:
    ki, got = inputs
    press(factory, 17)
    mono.ms(10_000)  # held for ten seconds
    release(factory, 17)
    mono.ms(3)
    press(factory, 17)  # release bounce
    mono.ms(2)
    release(factory, 17)
    assert len(got) == 1
    mono.ms(400)  # a real second press, well after the release settled
    press(factory, 17)
    assert len(got) == 2


def test_presses_closer_than_bounce_ms_after_release_are_ignored_but_not_longer(
    cfg: Config, mono: Mono
) -> None:
    d = Debouncer(cfg.gpio.bounce_ms / 1000, mono)
    assert d.press()
    d.release()
    mono.ms(cfg.gpio.bounce_ms - 1)
    assert not d.press()
    d.release()
    mono.ms(cfg.gpio.bounce_ms)
    assert d.press()


def test_two_counters_pressing_at_once_call_two_different_tickets(
    inputs, factory, queue: Queue
) -> None:
    ki, got = inputs
    queue.issue("hotich")
    queue.issue("hotich")
    barrier = threading.Barrier(2)

    def hit(pin: int) -> None:
        barrier.wait()
        press(factory, pin)

    threads = [threading.Thread(target=hit, args=(p,)) for p in (4, 22)]  # counters 1 and 2
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(a.counter or 0 for a in got) == [1, 2]
    called = [perform(queue, a).result.code for a in got]
    assert sorted(called) == ["A001", "A002"]


def test_busy_lights_follow_the_counters_and_the_ready_light_the_screen(
    cfg: Config, factory: MockFactory, queue: Queue
) -> None:

    counters = [replace(cfg.counters[0], busy_led_pin=9), *cfg.counters[1:]]
    cfg.gpio = replace(cfg.gpio, ready_led_pin=10, buzzer_pin=11)
    cfg.counters = counters
    ki = KioskInputs(cfg, lambda a: None, pin_factory=factory)
    try:
        queue.cfg = cfg
        ki.refresh(queue.status(), ready=True)
        assert factory.pin(10).state and not factory.pin(9).state
        queue.issue("hotich")
        queue.call_next(1)
        ki.refresh(queue.status(), ready=False)
        assert factory.pin(9).state and not factory.pin(10).state
        queue.finish(1)
        ki.refresh(queue.status(), ready=True)
        assert not factory.pin(9).state
    finally:
        ki.close()


def test_the_buzzer_beeps_once_for_accepted_and_twice_for_refused(
    cfg: Config, factory: MockFactory
) -> None:
    cfg.gpio = replace(cfg.gpio, buzzer_pin=11)
    ki = KioskInputs(cfg, lambda a: None, pin_factory=factory)
    try:
        pin = factory.pin(11)
        for ok, n in ((True, 1), (False, 2)):
            pin.clear_states()
            ki.beep(ok)
            ki.buzzer._blink_thread.join(2)
            ons = [s for s in pin.states if s.state][0:]
            assert len(ons) == n
    finally:
        ki.close()


def test_a_counter_transfer_button_sends_the_citizen_to_the_counters_next_service(
    queue: Queue, clock: Clock
) -> None:
    queue.issue("hotich")
    queue.call_next(1)  # counter 1 serves hotich, tracuu
    out = perform(queue, Action("transfer", counter=1, source="gpio"))
    assert out.ok and out.result.service == "tracuu"
    queue.issue("datdai")
    queue.call_next(4)  # counter 4 serves datdai only
    out = perform(queue, Action("transfer", counter=4, source="gpio"))
    assert not out.ok and "one service" in out.text


def test_kiosk_run_wires_buttons_to_the_screen_and_lights_to_the_queue(
    cfg: Config, queue: Queue, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The process wiring of `kiosk run`: gpiozero's default factory (a MockFactory
    here) → debounced press → the main loop → a ticket; the busy light follows."""

    from gpiozero import Device

    from kiosk.ui.run import run_kiosk

    factory = MockFactory()
    monkeypatch.setattr(Device, "pin_factory", factory)
    cfg.gpio = replace(cfg.gpio, ready_led_pin=10)
    cfg.counters = [replace(cfg.counters[0], busy_led_pin=9), *cfg.counters[1:]]
    seen: dict[str, object] = {}

    def setup(app) -> None:
        def until(cond: Callable[[], object]) -> bool:
            # Waits for what the test needs to see, not for a time: a busy machine only
            # makes it wait longer (the bound is for a hang).
            deadline = time.monotonic() + 60
            while not cond():
                if time.monotonic() > deadline:
                    return False
                time.sleep(0.01)
            return True

        def issued() -> int:
            with queue.store.read() as tx:
                return len(tx.tickets_of_day(queue.today()))

        def staff_and_citizen() -> None:
            try:
                seen["ready"] = until(lambda: factory.pin(10).state)
                press(factory, 5)  # hotich ticket button
                release(factory, 5)
                if until(lambda: issued() == 1):
                    press(factory, 4)  # counter 1: call next
                    seen["busy"] = until(lambda: factory.pin(9).state)
            finally:
                app.stop()

        threading.Thread(target=staff_and_citizen, daemon=True).start()

    rc = run_kiosk(cfg, queue, size=(800, 480), fullscreen=False, gpio=True, setup=setup)
    factory.reset()
    assert rc == 0
    with queue.store.read() as tx:
        [t] = tx.tickets_of_day(queue.today())
    assert (t.code, t.source, t.status, t.counter) == ("A001", "gpio", "called", 1)
    assert seen == {"ready": True, "busy": True}


def test_pins_of_lights_and_buzzer_are_checked_with_the_buttons(cfg: Config) -> None:
    from kiosk.core.config import ConfigError, parse

    text = (ROOT / "config" / "example.toml").read_text(encoding="utf-8")
    bad = text.replace("ready_led_pin = 0", "ready_led_pin = 5").replace(
        "buzzer_pin = 0", "buzzer_pin = 40"
    )
    with pytest.raises(ConfigError) as e:
        parse(bad, "kiosk.toml")
    msg = "\n".join(e.value.problems)
    assert "gpio.ready_led_pin: GPIO 5 is already used by services[0].button_pin" in msg
    assert "gpio.buzzer_pin: GPIO 40 is not on the 40-pin header" in msg


def test_a_key_with_two_meanings_is_refused(cfg: Config) -> None:
    from kiosk.core.config import ConfigError, parse

    text = (ROOT / "config" / "example.toml").read_text(encoding="utf-8")
    bad = text.replace('language = "l"', 'language = "3"')
    with pytest.raises(ConfigError, match=r'keys.language: "3" is also services\[2\].key'):
        parse(bad, "kiosk.toml")
