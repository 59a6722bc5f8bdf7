"""Appointment check-in at the kiosk screen: the booking button, the on-screen
keyboard, a USB barcode scanner typing a code, and refusals shown in words."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pygame
import pytest

from kiosk.core.config import Config
from kiosk.core.queue import Queue
from kiosk.office.bookings import Booking, save_bookings
from kiosk.ui.app import KioskApp


class Mono:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def mono() -> Mono:
    return Mono()


@pytest.fixture
def app(cfg: Config, queue: Queue, mono: Mono) -> Iterator[KioskApp]:
    cfg.appointments = replace(cfg.appointments, enabled=True)
    day = queue.today()
    save_bookings(
        queue.store,
        day,
        [Booking(day, "BK001", "datdai", priority=True), Booking(day, "BK002", "hotich")],
        queue.clock(),
    )
    a = KioskApp(queue, size=(1024, 600), fullscreen=False, mono=mono)
    a.start()
    yield a
    a.close()


def touch(app: KioskApp, mono: Mono, label: str) -> None:
    assert app.model is not None
    mono.t += 0.5
    for t in app.model.targets():
        if t.label == label:
            app.touch(t.rect.center)
            return
    raise AssertionError(f"no {label} on {app.model.screen}")


def type_keys(app: KioskApp, text: str, enter: bool = True) -> None:
    for ch in text:
        pygame.event.post(
            pygame.event.Event(pygame.KEYDOWN, key=pygame.key.key_code(ch.lower()), unicode=ch)
        )
    if enter:
        pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=pygame.K_RETURN, unicode="\r"))
    app.step()


def tickets(queue: Queue) -> list:
    with queue.store.read() as tx:
        return tx.tickets_of_day(queue.today())


def test_the_booking_button_and_on_screen_keys_check_a_booking_in(
    app: KioskApp, queue: Queue, mono: Mono
) -> None:
    touch(app, mono, "appointment")
    assert app.model is not None and app.model.screen == "code"
    for ch in "BK0011":
        touch(app, mono, ch)
    touch(app, mono, "delete")
    assert app.model.code == "BK001"
    touch(app, mono, "ok")
    [t] = tickets(queue)
    assert (t.service, t.priority, t.source) == ("datdai", True, "booking:BK001")
    assert app.model.screen == "printing" and app.model.pending is not None
    assert app.model.pending.code == t.code


def test_an_unknown_or_used_code_is_explained_and_issues_nothing_more(
    app: KioskApp, queue: Queue, mono: Mono
) -> None:
    touch(app, mono, "appointment")
    type_keys(app, "NOPE9")
    assert app.model is not None and app.model.screen == "code"
    assert app.model.code_error is not None and "NOPE9" in app.model.code_error[0]
    assert tickets(queue) == []
    touch(app, mono, "back")
    assert app.model.screen == "home"
    touch(app, mono, "appointment")
    type_keys(app, "BK002")
    mono.t += 30  # the printing screen gives up waiting for a printer
    app.step()
    assert app.model.screen == "result"
    touch(app, mono, "done")
    touch(app, mono, "appointment")
    type_keys(app, "BK002")
    assert app.model.code_error is not None and "đã được dùng" in app.model.code_error[0]
    assert len(tickets(queue)) == 1


def test_a_barcode_scanner_burst_on_the_home_screen_is_a_booking_code(
    app: KioskApp, queue: Queue
) -> None:
    # "BK002" starts with no service key, but "2" is one: the burst must not issue a
    # Chứng thực ticket for it.
    type_keys(app, "bk002")
    [t] = tickets(queue)
    assert (t.service, t.source) == ("hotich", "booking:BK002")


def test_a_single_keypad_press_still_issues_after_the_scanner_gap(
    app: KioskApp, queue: Queue, mono: Mono
) -> None:
    type_keys(app, "2", enter=False)
    assert tickets(queue) == []  # held back for a few milliseconds
    mono.t += 0.1
    app.step()
    [t] = tickets(queue)
    assert (t.service, t.source) == ("chungthuc", "key")


def test_the_code_screen_goes_home_when_left_alone(app: KioskApp, mono: Mono) -> None:
    touch(app, mono, "appointment")
    type_keys(app, "BK", enter=False)
    mono.t += 61
    app.step()
    assert app.model is not None and app.model.screen == "home"


def test_without_bookings_there_is_no_booking_button(cfg: Config, queue: Queue, mono: Mono) -> None:
    a = KioskApp(queue, size=(1024, 600), fullscreen=False, mono=mono)
    a.start()
    try:
        assert a.model is not None
        assert "appointment" not in {t.label for t in a.model.targets()}
    finally:
        a.close()
