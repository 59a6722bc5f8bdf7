"""A real browser (Playwright driving Debian's chromium) on a real ``kiosk web``: a clerk
calls next and the hall display (a real process on a pty) shows it; a phone follows its
ticket; the tablet takes a rating; every page fits 320 px; screenshots for docs/img.

The browser is launched by tests/browser.py (Debian's chromium; shared with the central
server's dashboard test).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from display.ptylink import PtyRelay
from kiosk.core.config import load
from kiosk.core.queue import Queue
from kiosk.core.store import Store
from kiosk.core.tokens import load_secret, secret_path, ticket_token
from kiosk.outputs.display_feed import DisplayLink
from kiosk.web.auth import Sessions
from tests.browser import IMG, SIZES, chromium, wait_for
from tests.conftest import ROOT
from tests.kiosk.web.conftest import PINS, Server


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as b:
        yield b


def login(page: Any, server: Server, user: str = "lan") -> None:
    page.goto(server.url + "/login")
    page.fill("input[name=user]", user)
    page.fill("input[name=pin]", PINS[user])
    page.click("button[type=submit]")
    page.wait_for_url("**/counter/1/panel")


def read_status(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return None


def test_clerk_logs_in_presses_next_and_the_hall_display_shows_the_number(
    browser: Any, server: Server, tmp_path: Path
) -> None:
    q = server.queue()
    q.issue("hotich")
    # The kiosk side, in this (another) process: its display link feeds a hall display
    # app on a pty, which writes its status file.
    relay = PtyRelay(tmp_path).start()
    kiosk = Queue(load(q.cfg.source), Store(server.db))
    link = DisplayLink(kiosk, port=str(relay.kiosk_port))
    link.start()
    status = tmp_path / "status.json"
    display = subprocess.Popen(
        [sys.executable, "-m", "display.cli", "run", "--port", str(relay.display_port)]
        + ["--status-file", str(status), "--mute"],
        cwd=ROOT,
        env=dict(os.environ, SDL_VIDEODRIVER="dummy", SDL_AUDIODRIVER="dummy"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        wait_for(lambda: (read_status(status) or {}).get("link") == "up", 30, "the display link up")
        page = browser.new_page(viewport={"width": 1366, "height": 768})
        login(page, server)
        page.wait_for_function("document.body.getAttribute('data-seq') !== null")
        page.keyboard.press("n")  # the shortcut for Gọi tiếp
        page.wait_for_function("document.getElementById('current-code').textContent === 'A001'")
        doc = wait_for(
            lambda: (s := read_status(status)) and s["counters"].get("1") == "A001" and s,
            10,
            "the hall display to show A001 at counter 1",
        )
        assert doc["counters"]["1"] == "A001"
        page.close()
    finally:
        display.terminate()
        display.wait(10)
        link.stop()
        relay.stop()


def test_a_phone_follows_its_ticket_from_waiting_to_called(browser: Any, server: Server) -> None:
    q = server.queue()
    q.issue("hotich")
    t = q.issue("hotich").ticket
    k = ticket_token(load_secret(secret_path(q.cfg, server.db)), t.day, t.code, t.id)
    ctx = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True)
    page = ctx.new_page()
    page.goto(f"{server.url}/t/{t.day}/{t.code}?k={k}")
    page.wait_for_function("document.getElementById('p-ahead').textContent === '1'")
    assert "Đang chờ" in page.inner_text("#p-state")
    assert page.is_hidden("#p-counter")
    q.call_next(1)  # A001: one fewer ahead
    page.wait_for_function("document.getElementById('p-ahead').textContent === '0'")
    q.call_next(2)  # A002 → Quầy 2, committed by another process than kiosk web
    page.wait_for_function("document.getElementById('ticket').dataset.status === 'called'")
    assert page.is_visible("#p-counter") and "Quầy 2" in page.inner_text("#p-counter")
    assert "Mời đến quầy" in page.inner_text("#p-state")
    q.finish(2)
    page.wait_for_function("document.getElementById('ticket').dataset.status === 'served'")
    assert "Đã phục vụ" in page.inner_text("#p-state")
    ctx.close()


def test_the_counter_tablet_takes_a_rating_with_a_reason(browser: Any, server: Server) -> None:
    q = server.queue()
    key = Sessions(q.cfg, load_secret(secret_path(q.cfg, server.db))).tablet_key(1)
    q.issue("hotich")
    q.call_next(1)
    ctx = browser.new_context(viewport={"width": 800, "height": 1280}, has_touch=True)
    page = ctx.new_page()
    page.goto(f"{server.url}/counter/1/tablet?k={key}")
    page.wait_for_function("document.getElementById('t-code').textContent === 'A001'")
    q.finish(1)
    page.wait_for_selector("#rating:not([hidden])")
    assert page.inner_text("#r-code") == "A001"
    page.click("button[data-score='1']")  # Chưa hài lòng: the low end asks why
    page.wait_for_selector("#reasons:not([hidden])")
    page.click("button[data-reason='Chờ lâu']")
    page.wait_for_selector("#thanks:not([hidden])")
    wait_for(lambda: q.ticket("A001").rating == 1, 10, "the rating stored")
    ev = q.store.events_since(0, types=["ticket_rated"])[-1]
    assert ev.payload["reason"] == "Chờ lâu" and ev.code == "A001"
    page.wait_for_selector("#serving:not([hidden])", timeout=10000)  # back to idle
    ctx.close()


def test_every_page_fits_320_px_and_screenshots_at_phone_tablet_and_pc(
    browser: Any, server: Server, tmp_path: Path
) -> None:
    out = IMG if os.environ.get("KIOSK_SCREENSHOTS") else tmp_path
    q = server.queue()
    for svc, prio in [("hotich", False), ("hotich", True), ("chungthuc", False), ("tracuu", False)]:
        q.issue(svc, priority=prio)
    q.call_next(1)
    q.call_next(3)
    q.call_next(2)
    q.finish(2)  # counter 2's tablet asks its citizen for the rating
    t = q.issue("hotich").ticket
    k = ticket_token(load_secret(secret_path(q.cfg, server.db)), t.day, t.code, t.id)
    sessions = Sessions(q.cfg, load_secret(secret_path(q.cfg, server.db)))
    key, key2 = sessions.tablet_key(1), sessions.tablet_key(2)
    pages = {
        "login": "/login",
        "panel": "/counter/1/panel",
        "tablet": f"/counter/1/tablet?k={key}",
        "tablet-rating": f"/counter/2/tablet?k={key2}",
        "ticket": f"/t/{t.day}/{t.code}?k={k}",
        "board": "/board",
    }
    for size, (w, h) in {"narrow": (320, 640), **SIZES}.items():
        ctx = browser.new_context(viewport={"width": w, "height": h})
        page = ctx.new_page()
        login(page, server)
        for name, path in pages.items():
            page.goto(server.url + path)
            page.wait_for_load_state("domcontentloaded")
            page.wait_for_timeout(300)  # the first live update
            scroll = page.evaluate("document.documentElement.scrollWidth")
            assert scroll <= w, f"{name} is {scroll} px wide at {w} px"
            if size != "narrow":
                page.screenshot(path=str(out / f"web-{name}-{size}.png"))
        ctx.close()
    if out == IMG:
        assert all((IMG / f"web-{n}-{s}.png").exists() for n in pages for s in SIZES)
