"""The procedure guide on the kiosk screen, driven as a citizen does: open it from
home, type without diacritics, open a procedure, take a number for its service; the
ticket's first print then carries the checklist and the procedure's link."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pygame
import pytest

from kiosk.core.queue import Queue
from kiosk.ui.app import KioskApp
from tests.kiosk.ui.test_app import Mono, make_app, target, tickets


@pytest.fixture
def mono() -> Mono:
    return Mono()


@pytest.fixture
def app(queue: Queue, mono: Mono) -> Iterator[KioskApp]:
    a = make_app(queue, mono)
    yield a
    a.close()


def tap(app: KioskApp, mono: Mono, label: str) -> None:
    mono.t += 0.5  # past the touch guard of the last screen change
    app.touch(target(app, label))


def type_text(app: KioskApp, mono: Mono, text: str) -> None:
    for ch in text:
        tap(app, mono, "␣" if ch == " " else ch.upper())


def test_typing_ho_tich_without_diacritics_lists_civil_status_procedures(
    app: KioskApp, mono: Mono
) -> None:
    m = app.model
    assert m is not None and m.guide is not None
    tap(app, mono, "guide")
    assert m.screen == "guide"
    # Nothing typed: the fields, to browse.
    labels = [t.label for t in m.targets()]
    assert "Hộ tịch" in labels and "Chứng thực" in labels
    type_text(app, mono, "ho tich")
    assert m.guide_query == "HO TICH"
    labels = [t.label for t in m.targets()]
    assert "Đăng ký khai sinh" in labels and "Đăng ký kết hôn" in labels
    assert "Chứng thực chữ ký" not in labels
    tap(app, mono, "delete")
    assert m.guide_query == "HO TIC"
    app.draw(force=True)


def test_browse_by_field_then_a_procedure_page_lists_what_to_bring(
    app: KioskApp, mono: Mono
) -> None:
    m = app.model
    assert m is not None
    tap(app, mono, "guide")
    tap(app, mono, "Chứng thực")
    labels = [t.label for t in m.targets()]
    assert "Chứng thực chữ ký" in labels and "Đăng ký khai sinh" not in labels
    tap(app, mono, "Chứng thực chữ ký")
    assert m.screen == "procedure" and m.procedure is not None
    assert m.procedure.service == "chungthuc"
    app.draw(force=True)
    tap(app, mono, "back")
    assert m.screen == "guide"
    tap(app, mono, "back")  # leaves the field
    tap(app, mono, "back")  # leaves the guide
    assert m.screen == "home"


def test_a_long_list_pages_with_more(app: KioskApp, mono: Mono) -> None:
    m = app.model
    assert m is not None
    tap(app, mono, "guide")
    type_text(app, mono, "a")  # nearly every procedure
    first = [t.label for t in m.targets() if t.action.kind == "guide_open"]
    assert "more" in [t.label for t in m.targets()]
    tap(app, mono, "more")
    second = [t.label for t in m.targets() if t.action.kind == "guide_open"]
    assert second and not set(first) & set(second)


def test_take_a_number_on_a_procedure_issues_its_service_and_prints_its_checklist(
    app: KioskApp, queue: Queue, mono: Mono
) -> None:
    m = app.model
    assert m is not None
    tap(app, mono, "guide")
    type_text(app, mono, "khai sinh")
    tap(app, mono, "Đăng ký khai sinh")
    tap(app, mono, "take")
    [t] = tickets(queue)
    assert (t.service, t.source) == ("hotich", "touch")
    assert m.screen in ("printing", "result")
    extras = queue.take_print_extras(t.id)
    assert extras["qr_text"].endswith("/khai-sinh")
    assert extras["checklist_title"] == "Đăng ký khai sinh"
    assert extras["checklist"][0].startswith("Tờ khai đăng ký khai sinh")
    assert app.outcomes[-1].ok and "khai-sinh" in app.outcomes[-1].text


def test_a_keyboard_types_into_the_search_and_escape_goes_back(app: KioskApp, mono: Mono) -> None:
    m = app.model
    assert m is not None
    tap(app, mono, "guide")
    for name, text in (("k", "k"), ("e", "e"), ("t", "t"), ("space", " "), ("h", "h")):
        mono.t += 0.2
        app.key(name, text, mono.t)
    assert m.guide_query == "ket h"
    app.key("backspace", "", mono.t)
    assert m.guide_query == "ket "
    assert [t.label for t in m.targets() if t.action.kind == "guide_open"] == ["Đăng ký kết hôn"]
    app.key("escape", "", mono.t)
    assert m.screen == "home"


def test_the_guide_goes_home_by_itself_and_is_absent_when_not_configured(
    queue: Queue, mono: Mono
) -> None:
    a = make_app(queue, mono)
    try:
        assert a.model is not None
        tap(a, mono, "guide")
        assert a.model.screen == "guide"
        mono.t += 120
        a.step()
        assert a.model.screen == "home"
    finally:
        a.close()
    queue.cfg.guide = replace(queue.cfg.guide, file="")
    b = make_app(queue, mono)
    try:
        assert b.model is not None and b.model.guide is None
        assert "guide" not in [t.label for t in b.model.targets()]
    finally:
        b.close()


def test_a_broken_guide_file_hides_the_button_but_tickets_still_come(
    queue: Queue, mono: Mono, tmp_path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "bad.toml").write_text("[[procedures]]\nid = 1\n", encoding="utf-8")
    queue.cfg.guide = replace(queue.cfg.guide, file=str(tmp_path / "bad.toml"))
    a = make_app(queue, mono)
    try:
        assert a.model is not None and a.model.guide is None
        assert "procedure guide left out" in caplog.text
        a.touch(target(a, "hotich"))
        assert len(tickets(queue)) == 1
    finally:
        a.close()


@pytest.mark.parametrize("size", [(800, 480), (1280, 800), (600, 1024)])
def test_guide_screens_draw_and_fit_at_every_supported_size(
    queue: Queue, mono: Mono, size: tuple[int, int]
) -> None:
    a = make_app(queue, mono, size=size)
    try:
        m = a.model
        assert m is not None
        tap(a, mono, "guide")
        for t in m.targets():
            assert pygame.Rect(0, 0, *size).contains(t.rect), t.label
            # Ten keys across a 600 px portrait screen leave 52 px each.
            assert t.rect.h >= 56 and t.rect.w >= 50, (t.label, t.rect)
        a.draw(force=True)
        tap(a, mono, "Hộ tịch")
        tap(a, mono, "Đăng ký khai sinh")
        assert m.screen == "procedure"
        a.draw(force=True)
        for t in m.targets():
            assert pygame.Rect(0, 0, *size).contains(t.rect), t.label
    finally:
        a.close()
