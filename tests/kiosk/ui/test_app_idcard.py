"""A citizen ID card scanned at the kiosk: typed by a USB scanner into the screen (told
from a person by its speed) or sent by a serial scanner on a real pty. Every card is
synthetic (kiosk.inputs.idcard.synthetic)."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import date

import pygame
import pytest

from kiosk.core.config import Config
from kiosk.core.queue import Queue
from kiosk.inputs.idcard import synthetic, synthetic_id
from kiosk.inputs.scanner import SerialScanner
from kiosk.office.bookings import Booking, save_bookings
from kiosk.ui.app import KioskApp

YOUNG = synthetic(synthetic_id(date(1990, 5, 6)), "Phạm Minh Quân", "06051990")
SENIOR = synthetic(synthetic_id(date(1950, 1, 2), serial=777), "Lê Thị Hoa", "02011950")


class Mono:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def mono() -> Mono:
    return Mono()


def make_app(queue: Queue, mono: Mono) -> Iterator[KioskApp]:
    a = KioskApp(queue, size=(1024, 600), fullscreen=False, mono=mono)
    a.start()
    yield a
    a.close()


@pytest.fixture
def app(cfg: Config, queue: Queue, mono: Mono) -> Iterator[KioskApp]:
    cfg.printer = replace(cfg.printer, initials=True)
    yield from make_app(queue, mono)


def scan(app: KioskApp, text: str, gap: float = 0.0, mono: Mono | None = None) -> None:
    """A keyboard-wedge scanner: every character a key press, then Enter."""
    for ch in text:
        try:
            code = pygame.key.key_code(ch.lower())
        except ValueError:
            code = 0
        pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=code, unicode=ch))
        if mono is not None and gap:
            app.step()
            mono.t += gap
    pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=pygame.K_RETURN, unicode="\r"))
    app.step()


def touch(app: KioskApp, mono: Mono, label: str) -> None:
    assert app.model is not None
    mono.t += 0.5
    for t in app.model.targets():
        if t.label == label:
            app.touch(t.rect.center)
            return
    raise AssertionError(f"no {label} on {app.model.screen}")


def tickets(queue: Queue) -> list:
    with queue.store.read() as tx:
        return tx.tickets_of_day(queue.today())


def test_a_scanned_card_is_held_until_a_service_is_chosen_and_no_digit_issues(
    app: KioskApp, queue: Queue, mono: Mono
) -> None:
    scan(app, YOUNG)  # the card holds "1", "2", ... which are service keys
    assert tickets(queue) == []
    assert app.model is not None and app.model.screen == "home"
    assert "P.M.Q." in app.model.toast and "Card read" in app.model.toast
    touch(app, mono, "datdai")
    [t] = tickets(queue)
    assert (t.service, t.priority) == ("datdai", False)
    with queue.store.read() as tx:
        h = queue.citizen_key.hash(synthetic_id(date(1990, 5, 6)))
        assert tx.count_citizen_tickets(queue.today(), h) == 1
    assert queue.initials == {t.id: "P.M.Q."}  # for the printer, in memory only
    assert app.outcomes[-1].ok and YOUNG not in repr(app.outcomes)


def test_a_citizen_of_priority_age_gets_a_priority_ticket_without_asking(
    app: KioskApp, queue: Queue, mono: Mono
) -> None:
    scan(app, SENIOR)
    assert app.model is not None and app.model.screen == "priority"
    touch(app, mono, "hotich")
    [t] = tickets(queue)
    assert t.priority


def test_priority_age_zero_turns_age_priority_off(cfg: Config, queue: Queue, mono: Mono) -> None:
    cfg.queue = replace(cfg.queue, priority_age=0)
    for a in make_app(queue, mono):
        scan(a, SENIOR)
        touch(a, mono, "hotich")
        [t] = tickets(queue)
        assert not t.priority


def test_a_person_typing_slowly_is_not_a_scanner(app: KioskApp, queue: Queue, mono: Mono) -> None:
    scan(app, "0123", gap=0.2, mono=mono)
    mono.t += 0.2
    app.step()
    assert app.model is not None and app.model.screen != "refused"
    # "1", "2", "3" are service keys: a person pressing them gets those tickets.
    assert [t.service for t in tickets(queue)] == ["hotich", "chungthuc", "datdai"]


def test_a_code_that_is_not_an_id_card_says_so_in_both_languages(
    app: KioskApp, queue: Queue
) -> None:
    scan(app, "https://example.invalid/qr")
    assert app.model is not None and app.model.screen == "refused"
    err = app.model.pending.error if app.model.pending else ""
    assert "không phải thẻ căn cước" in err and "not a citizen ID card" in err
    assert err.index("không phải") < err.index("not a citizen")
    assert tickets(queue) == []


def test_a_truncated_card_asks_to_scan_again(app: KioskApp, queue: Queue) -> None:
    scan(app, YOUNG[:30])
    assert app.model is not None and app.model.screen == "refused"
    assert "quét lại" in (app.model.pending.error if app.model.pending else "")
    assert tickets(queue) == []


def test_the_daily_limit_refuses_politely_at_the_scan(
    cfg: Config, queue: Queue, mono: Mono
) -> None:
    cfg.queue = replace(cfg.queue, per_citizen_daily_limit=1)
    for a in make_app(queue, mono):
        scan(a, YOUNG)
        touch(a, mono, "hotich")
        mono.t += 30
        a.step()
        touch(a, mono, "done")
        scan(a, YOUNG)
        assert a.model is not None and a.model.screen == "refused"
        err = a.model.pending.error if a.model.pending else ""
        assert "Mong quý vị thông cảm" in err and "Thank you for understanding" in err
        assert len(tickets(queue)) == 1


def test_a_card_scanned_into_the_booking_screen_checks_the_booking_in(
    cfg: Config, queue: Queue, mono: Mono
) -> None:
    cfg.appointments = replace(cfg.appointments, enabled=True)
    day = queue.today()
    h = queue.citizen_key.hash(synthetic_id(date(1990, 5, 6)))
    save_bookings(
        queue.store,
        day,
        [Booking(day, "BK100", "datdai", citizen=h), Booking(day, "BK101", "hotich")],
        queue.clock(),
    )
    for a in make_app(queue, mono):
        touch(a, mono, "appointment")
        scan(a, YOUNG)
        [t] = tickets(queue)
        assert (t.service, t.source) == ("datdai", "booking:BK100")
        assert a.model is not None and a.model.code == ""
        # A booking code scanned on the home screen still works beside cards.
        mono.t += 30
        a.step()
        touch(a, mono, "done")
        scan(a, "bk101")
        assert [t.source for t in tickets(queue)] == ["booking:BK100", "booking:BK101"]


def test_a_serial_scanner_on_a_pty_hands_each_code_to_the_kiosk(
    app: KioskApp, queue: Queue, mono: Mono
) -> None:
    master, slave = os.openpty()
    got: list[str] = []
    s = SerialScanner(os.ttyname(slave), lambda text: (app.post_scan(text), got.append(text)))
    s.start()
    try:
        assert s.opened.wait(5)
        os.write(master, YOUNG.encode("utf-8")[:20])
        time.sleep(0.05)
        os.write(master, YOUNG.encode("utf-8")[20:] + b"\r\n")
        deadline = time.monotonic() + 5
        while not got and time.monotonic() < deadline:
            time.sleep(0.01)
        assert got == [YOUNG]  # one code, split across two reads, Vietnamese intact
        app.step()
        assert app.model is not None and "Card read" in app.model.toast
        touch(app, mono, "hotich")
        assert len(tickets(queue)) == 1
    finally:
        s.stop()
        os.close(master)
        os.close(slave)


def test_nothing_of_a_scanned_card_reaches_the_log(
    app: KioskApp, queue: Queue, mono: Mono, caplog: pytest.LogCaptureFixture
) -> None:
    import logging

    from kiosk.inputs.actions import Action

    caplog.set_level(logging.DEBUG)
    scan(app, YOUNG)
    scan(app, YOUNG[:40])  # damaged
    app.post_scan(SENIOR)
    app.step()
    touch(app, mono, "hotich")
    text = caplog.text + repr(app.outcomes) + repr(Action("scan", text=SENIOR))
    for secret in (YOUNG, SENIOR, synthetic_id(date(1990, 5, 6)), "Phạm Minh Quân", "Lê Thị Hoa"):
        assert secret not in text
