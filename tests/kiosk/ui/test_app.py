"""The kiosk screen under SDL's dummy video driver: touches become tickets, and
every screen is reached the way a citizen or a fault reaches it."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pygame
import pytest

from display.sdnotify import Notifier
from kiosk.core.config import Config
from kiosk.core.queue import Queue
from kiosk.inputs.actions import Action
from kiosk.inputs.keys import KeyMap
from kiosk.ui.app import KioskApp, parse_size
from kiosk.ui.render import fit
from kiosk.ui.screens import Layout
from tests.conftest import Clock


class Mono:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def mono() -> Mono:
    return Mono()


def make_app(queue: Queue, mono: Mono, size=(1024, 600), **kw) -> KioskApp:
    app = KioskApp(queue, size=size, fullscreen=False, mono=mono, **kw)
    app.start()
    return app


@pytest.fixture
def app(queue: Queue, mono: Mono) -> Iterator[KioskApp]:
    a = make_app(queue, mono)
    yield a
    a.close()


def target(app: KioskApp, label: str) -> tuple[int, int]:
    assert app.model is not None
    for t in app.model.targets():
        if t.label == label:
            return t.rect.center
    raise AssertionError(f"no target {label} on {app.model.screen}")


def tickets(queue: Queue) -> list:
    with queue.store.read() as tx:
        return tx.tickets_of_day(queue.today())


def test_a_touch_draws_printing_at_once_then_the_number_then_home(
    app: KioskApp, queue: Queue, mono: Mono
) -> None:
    assert app.model is not None and app.model.screen == "home"
    frames = app.frames
    app.touch(target(app, "chungthuc"))
    # The feedback frame was drawn before the transaction, in the same call.
    assert app.frames >= frames + 1
    assert app.model.screen == "printing"
    [t] = tickets(queue)
    assert (t.code, t.service, t.source, t.priority) == ("B001", "chungthuc", "touch", False)
    queue.record_print(t.id, True)
    app.follow()
    assert app.model.screen == "result"
    assert app.model.pending is not None and app.model.pending.printed is True
    mono.t += queue.cfg.ui.result_seconds + 0.1
    app.step()
    assert app.model.screen == "home"


def test_the_printing_screen_gives_up_waiting_and_shows_the_number(
    app: KioskApp, queue: Queue, mono: Mono
) -> None:
    app.touch(target(app, "hotich"))
    mono.t += queue.cfg.ui.print_wait_seconds + 0.01
    app.step()
    assert app.model is not None and app.model.screen == "result"
    assert app.model.pending is not None and app.model.pending.code == "A001"


def test_people_ahead_and_wait_come_from_the_queue(app: KioskApp, queue: Queue) -> None:
    queue.issue("datdai")
    queue.issue("datdai")
    app.touch(target(app, "datdai"))
    assert app.model is not None and app.model.pending is not None
    assert app.model.pending.ahead == 2
    assert app.model.pending.wait_minutes == 30  # 2 × 15 min, one counter serves datdai


def test_the_priority_path_issues_a_priority_ticket_and_back_returns_home(
    app: KioskApp, queue: Queue, mono: Mono
) -> None:
    assert app.model is not None
    app.touch(target(app, "priority"))
    assert app.model.screen == "priority"
    mono.t += 1
    app.touch(target(app, "back"))
    assert app.model.screen == "home"
    mono.t += 1
    app.touch(target(app, "priority"))
    mono.t += 1
    app.touch(target(app, "hotich"))
    [t] = tickets(queue)
    assert t.priority is True


def test_a_second_tap_right_after_a_screen_change_is_ignored(
    app: KioskApp, queue: Queue, mono: Mono
) -> None:
    pos = target(app, "priority")
    app.touch(pos)
    app.touch(pos)  # the same finger bouncing: would hit "back"
    assert app.model is not None and app.model.screen == "priority"


def test_outside_opening_hours_the_closed_screen_ignores_touches(
    app: KioskApp, queue: Queue, clock: Clock, mono: Mono
) -> None:
    assert app.model is not None
    pos = target(app, "hotich")
    clock.set_local(queue.cfg, "2026-11-30T18:30:00")
    mono.t += 2
    app.step()
    assert app.model.screen == "closed"
    app.touch(pos)
    app.act(Action("issue", service="hotich", source="key"))
    assert tickets(queue) == [] or all(t.status == "expired" for t in tickets(queue))
    with queue.store.read() as tx:
        assert tx.c.execute("SELECT COUNT(*) FROM tickets").fetchone()[0] == 0
    clock.set_local(queue.cfg, "2026-12-01T07:45:00")
    mono.t += 2
    app.step()
    assert app.model.screen == "home"


def test_paper_out_with_show_on_screen_keeps_issuing_and_asks_to_remember_the_number(
    app: KioskApp, queue: Queue
) -> None:
    queue.record("printer_status", state="paper_out", detail="sensor")
    app.follow()
    assert app.model is not None and app.model.trouble and app.model.screen == "home"
    app.touch(target(app, "hotich"))
    # Nothing to wait for: the number goes on screen at once, flagged.
    assert app.model.screen == "result"
    assert app.model.pending is not None and app.model.pending.printed is None
    queue.record_print(app.model.pending.ticket_id or 0, False, "paper out")
    app.follow()
    assert app.model.pending.printed is False
    queue.record("printer_status", state="ok", detail="")
    app.follow()
    assert not app.model.trouble


def test_paper_out_with_pause_stops_issuing_until_the_printer_is_back(
    cfg: Config, queue: Queue, mono: Mono
) -> None:
    cfg.printer = replace(cfg.printer, on_fault="pause")
    queue.record("printer_status", state="offline", detail="unplugged")
    app = make_app(queue, mono)
    try:
        assert app.model is not None and app.model.screen == "paused"
        app.touch((512, 300))
        app.act(Action("issue", service="hotich", source="gpio"))
        assert tickets(queue) == []
        assert not app.outcomes[-1].ok
        queue.record("printer_status", state="ok")
        app.follow()
        assert app.model.screen == "home"
    finally:
        app.close()


def test_a_failed_print_counts_as_trouble_even_without_a_status(
    app: KioskApp, queue: Queue, mono: Mono
) -> None:
    app.touch(target(app, "hotich"))
    assert app.model is not None and app.model.pending is not None
    queue.record_print(app.model.pending.ticket_id or 0, False, "timeout")
    app.follow()
    assert app.model.screen == "result" and app.model.trouble
    queue.record_print(app.model.pending.ticket_id or 0, True, "reprinted")
    app.follow()
    assert not app.model.trouble


def test_the_language_button_switches_to_english_and_back(app: KioskApp, mono: Mono) -> None:
    assert app.model is not None and app.model.lang == "vi"
    app.touch(target(app, "language"))
    assert app.model.lang == "en"
    mono.t += 1
    app.touch(target(app, "language"))
    assert app.model.lang == "vi"


def test_keypad_service_keys_issue_and_the_priority_key_makes_the_next_one_priority(
    app: KioskApp, queue: Queue, mono: Mono
) -> None:
    for key, text in (("[2]", "2"), ("p", "p"), ("3", "3")):
        pygame.event.post(
            pygame.event.Event(pygame.KEYDOWN, key=pygame.key.key_code(key), unicode=text)
        )
        app.step()
        mono.t += queue.cfg.ui.result_seconds + 5
        app.step()
    ts = tickets(queue)
    assert [(t.code, t.priority, t.source) for t in ts] == [
        ("B001", False, "key"),
        ("C001", True, "key"),
    ]


def test_staff_keys_select_a_counter_and_call_next(cfg: Config, queue: Queue, mono: Mono) -> None:
    app = make_app(queue, mono, keymap=KeyMap(cfg, staff=True))
    try:
        queue.issue("chungthuc")
        for key, text in (("f2", ""), ("n", "n")):
            pygame.event.post(
                pygame.event.Event(pygame.KEYDOWN, key=pygame.key.key_code(key), unicode=text)
            )
            app.step()
        assert queue.status()["counters"][1]["current"] == "B001"
        assert app.outcomes[-1].text == "Quầy 2: calling B001"
        # The call goes to the hall display; the kiosk screen says what the key did.
        assert app.model is not None and app.model.toast == "Quầy 2: calling B001"
        mono.t += 4
        app.step()
        assert app.model.toast == ""
    finally:
        app.close()


def test_staff_keys_are_off_on_a_production_kiosk(cfg: Config) -> None:
    km = KeyMap(cfg)
    assert km.translate("n", "n") is None
    assert km.translate("f2") is None
    assert KeyMap(cfg, staff=True).translate("n", "n") == Action("next", counter=1, source="key")


def test_an_action_posted_from_another_thread_wakes_the_loop_and_is_done(
    app: KioskApp, queue: Queue
) -> None:
    app.wake.clear()
    t = threading.Thread(target=app.post, args=(Action("issue", service="kinhte", source="gpio"),))
    t.start()
    t.join()
    assert app.wake.wait(1)
    app.step()
    assert [x.code for x in tickets(queue)] == ["E001"]


def test_the_idle_loop_sleeps_between_polls_yet_a_touch_is_taken_at_once(queue: Queue) -> None:
    app = KioskApp(queue, size=(1024, 600), fullscreen=False)  # real monotonic time
    app.start()
    try:
        assert app.model is not None
        pos = app.model.targets()[0].rect.center
        steps = waits = 0
        real_step, real_wait = app.step, app.wake.wait

        def counting_step() -> None:
            nonlocal steps
            steps += 1
            real_step()

        def counting_wait(timeout: float) -> bool:
            nonlocal waits
            waits += 1
            return real_wait(timeout)

        app.step = counting_step  # type: ignore[method-assign]
        app.wake.wait = counting_wait  # type: ignore[method-assign]
        touched: list[int] = []

        def touch() -> None:
            touched.append(steps)
            touched.append(waits)
            pygame.event.post(
                pygame.event.Event(pygame.MOUSEBUTTONDOWN, pos=pos, button=1, touch=False)
            )

        threading.Timer(1.2, touch).start()
        threading.Timer(1.5, app.stop).start()
        app.run()
        # Idle: a poll every 60 ms (about 20 before the touch), a full pass only at
        # start and once a second; the touch got a full pass at the next poll.
        steps_before, waits_before = touched
        assert 10 <= waits_before <= 30 and steps_before <= 3
        assert [t.code for t in tickets(queue)] == ["A001"]
    finally:
        app.close()


def test_ready_after_the_first_frame_and_watchdog_pings_from_the_loop(
    queue: Queue, mono: Mono, tmp_path: Path
) -> None:
    path = str(tmp_path / "notify")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.settimeout(2)
    app = make_app(queue, mono, notifier=Notifier(path))
    try:
        assert app.frames == 1
        assert sock.recv(200).startswith(b"READY=1")
        app.step()
        assert sock.recv(200) == b"WATCHDOG=1"
    finally:
        app.close()
        sock.close()


@pytest.mark.parametrize("size", [(800, 480), (1024, 600), (1280, 800), (600, 1024), (480, 800)])
def test_every_screen_lays_out_large_targets_inside_the_screen(
    cfg: Config, queue: Queue, mono: Mono, size: tuple[int, int]
) -> None:
    L = Layout(*size)
    cells = L.cells(len(cfg.services))
    screen = pygame.Rect(0, 0, *size)
    for i, r in enumerate(cells):
        assert screen.contains(r)
        assert r.h >= 56 and r.w >= 150, f"{r} too small to touch at {size}"
        assert not any(r.colliderect(o) for o in cells[i + 1 :])
        assert not r.colliderect(L.footer) and not r.colliderect(L.header)
    app = make_app(queue, mono, size=size)
    try:
        assert app.model is not None
        seen = set()
        for screen_name in (
            "home",
            "priority",
            "printing",
            "result",
            "refused",
            "closed",
            "paused",
            "code",
        ):
            app.model.screen = screen_name
            if screen_name in ("printing", "result", "refused"):
                app.model.start_issue("ldtbxh", True, mono())
                app.model.issued(1, "D001", 3, 36, mono())
                app.model.screen = screen_name
            app.model.help = screen_name == "home"
            app.model.version += 1
            app.draw()
            seen.add(screen_name)
        assert len(seen) == 8
        _, field, keys, back, ok = L.code_screen()
        rects = [field, back, ok] + [r for _, r in keys]
        for i, r in enumerate(rects):
            assert screen.contains(r) and not any(r.colliderect(o) for o in rects[i + 1 :])
        assert min(r.h for _, r in keys) >= 40, f"booking keys too small at {size}"
    finally:
        app.close()


def test_long_vietnamese_names_wrap_within_the_button(cfg: Config) -> None:
    pygame.font.init()
    size, lines = fit("Lao động – Thương binh và Xã hội", 300, 80, 40, bold=True)
    from kiosk.ui.fonts import font

    assert len(lines) == 2 and all(font(size, True).size(x)[0] <= 300 for x in lines)
    assert " ".join(lines) == "Lao động – Thương binh và Xã hội"


def test_a_bad_screen_size_is_a_plain_message() -> None:
    assert parse_size("800x480") == (800, 480)
    with pytest.raises(ValueError, match="1024x600"):
        parse_size("big")


def test_a_key_hook_takes_its_key_before_the_key_map(app: KioskApp, queue: Queue) -> None:
    hits: list[str] = []
    app.key_hooks["f9"] = lambda: hits.append("f9")
    app.key_hooks["1"] = lambda: hits.append("1")
    for key, text in (("f9", ""), ("1", "1")):
        pygame.event.post(
            pygame.event.Event(pygame.KEYDOWN, key=pygame.key.key_code(key), unicode=text)
        )
    app.step()
    assert hits == ["f9", "1"] and tickets(queue) == []


def test_the_next_citizen_starts_in_the_sites_language(
    app: KioskApp, queue: Queue, mono: Mono
) -> None:
    assert app.model is not None
    app.touch(target(app, "language"))
    mono.t += 1
    app.touch(target(app, "hotich"))
    assert app.model.lang == "en"
    mono.t += 30
    app.step()  # printing → result
    mono.t += 30
    app.step()  # result → home
    assert app.model.screen == "home" and app.model.lang == "vi"
    app.touch(target(app, "language"))
    mono.t += 61  # switched, then walked away
    app.step()
    assert app.model.lang == "vi"


def test_a_store_that_cannot_write_shows_a_refusal_and_the_screen_keeps_running(
    app: KioskApp, queue: Queue, mono: Mono, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kiosk.core.store import StoreError

    def full(*a: object, **k: object) -> None:
        raise StoreError("the disk is full; free space on the data partition")

    monkeypatch.setattr(queue, "issue", full)
    app.touch(target(app, "hotich"))
    assert app.model is not None and app.model.screen == "refused"
    # The citizen reads a plain sentence; the technician's detail is in the outcome and log.
    assert app.model.pending is not None and "chưa cấp được số" in app.model.pending.error
    assert not app.outcomes[-1].ok and "disk is full" in app.outcomes[-1].text
    mono.t += queue.cfg.ui.result_seconds + 1
    app.step()
    assert app.model.screen == "home"


@pytest.mark.parametrize("rotate", [90, 180, 270])
def test_a_panel_mounted_on_its_side_gets_an_upright_picture_and_mapped_touches(
    cfg: Config, queue: Queue, mono: Mono, rotate: int
) -> None:
    cfg.ui = replace(cfg.ui, rotate=rotate)
    app = make_app(queue, mono, size=(800, 480))
    try:
        assert app.model is not None and app.surface is not None and app.window is not None
        upright = (480, 800) if rotate in (90, 270) else (800, 480)
        assert app.surface.get_size() == upright and app.window.get_size() == (800, 480)
        assert app.model.layout.portrait == (rotate != 180)
        # Where the first service button's centre lands on the panel, and back.
        lx, ly = target(app, "hotich")
        w, h = upright
        px, py = {90: (ly, w - 1 - lx), 180: (w - 1 - lx, h - 1 - ly), 270: (h - 1 - ly, lx)}[
            rotate
        ]
        assert app.upright((px, py)) == (lx, ly)
        # The panel shows the upright picture turned: the same colour at both points.
        assert app.window.get_at((px, py)) == app.surface.get_at((lx, ly))
        pygame.event.post(
            pygame.event.Event(pygame.FINGERDOWN, x=px / 800, y=py / 480, touch_id=0, finger_id=0)
        )
        app.step()
        assert [t.code for t in tickets(queue)] == ["A001"]
    finally:
        app.close()


def test_a_wrong_clock_shows_waiting_for_the_time_and_leaves_it_when_the_clock_is_right(
    app: KioskApp, queue: Queue, clock: Clock, mono: Mono
) -> None:
    assert app.model is not None
    pos = target(app, "hotich")
    app.touch(pos)  # A001 at 08:00
    for _ in range(3):
        mono.t += 30
        app.step()
    assert app.model.screen == "home"
    # Power cut; back with the clock of the last hourly save, before A001.
    clock.set_local(queue.cfg, "2026-11-30T07:00:00")
    mono.t += 2
    app.step()
    assert app.model.screen == "clock"
    assert "before the newest event" in app.model.clock_detail
    assert app.model.targets() == []
    app.touch(pos)
    app.act(Action("issue", service="hotich", source="key"))
    with queue.store.read() as tx:
        assert [t.code for t in tx.tickets_of_day("2026-11-30")] == ["A001"]
    # NTP steps the clock forward: within a second the kiosk issues again.
    clock.set_local(queue.cfg, "2026-11-30T09:30:00")
    mono.t += 1
    app.step()
    assert app.model.screen == "home"
    mono.t += 1  # past the touch guard of the screen change
    app.touch(target(app, "hotich"))
    assert [t.code for t in tickets(queue)] == ["A001", "A002"]


def test_a_clock_gone_wrong_between_checks_refuses_and_then_waits_for_the_time(
    app: KioskApp, queue: Queue, clock: Clock, mono: Mono
) -> None:
    assert app.model is not None
    clock.t = 0  # 1970: an RTC's battery gave out since the last check
    app.touch(target(app, "hotich"))
    assert app.model.screen == "refused"
    with queue.store.read() as tx:
        assert tx.c.execute("SELECT COUNT(*) FROM tickets").fetchone()[0] == 0
    mono.t += 30
    app.step()
    assert app.model.screen == "clock"


def test_the_waiting_for_the_time_screen_draws_in_both_languages(
    app: KioskApp, queue: Queue, clock: Clock, mono: Mono
) -> None:
    assert app.model is not None
    clock.t = 0
    mono.t += 2
    app.step()
    assert app.model.screen == "clock"
    app.model.lang = "en"
    app.model._changed()
    app.draw()
    app.model.lang = "vi"
    app.model._changed()
    app.draw()
