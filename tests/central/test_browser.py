"""The dashboard in a real browser (Playwright driving Debian's chromium, tests/browser.py)
on a real uvicorn and PostgreSQL: HTTP Basic login, offices in trouble first with the
reason in Vietnamese, a heartbeat posted meanwhile shows without reloading (server-sent
events), and screenshots at PC and phone sizes (KIOSK_SCREENSHOTS=1 writes docs/img).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.browser import IMG, SIZES, chromium, wait_for
from tests.central.test_app import batch, ev, post
from tests.central.test_dashboard import heartbeat

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
OFFICES = [
    ("nghia-tan", "TTPVHCC phường Nghĩa Tân"),
    ("cau-giay", "TTPVHCC phường Cầu Giấy"),
    ("xuan-dinh", "TTPVHCC phường Xuân Đỉnh"),
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as b:
        yield b


def office_day(tickets: int, served: int, waiting_since_min: int = 12) -> list[dict[str, Any]]:
    """Today's events of one office: ``tickets`` issued, the first ``served`` called,
    served and rated; the rest waiting (the oldest for ``waiting_since_min`` minutes)."""
    now = datetime.now(TZ)
    day = now.date().isoformat()

    def at(minutes_ago: float) -> str:
        t = (now - timedelta(minutes=minutes_ago)).astimezone(ZoneInfo("UTC"))
        return t.strftime("%Y-%m-%dT%H:%M:%S.000Z")

    out: list[dict[str, Any]] = []
    seq = 0

    def add(type: str, minutes_ago: float, n: int, **kw: Any) -> None:
        nonlocal seq
        seq += 1
        out.append(
            ev(
                seq,
                type,
                at=at(minutes_ago),
                day=day,
                code=f"A{n:03d}",
                ticket_id=n,
                number=n,
                **kw,
            )
        )

    for n in range(1, tickets + 1):
        add("ticket_issued", waiting_since_min + (tickets - n) * 3, n)
    for n in range(1, served + 1):
        add("ticket_called", waiting_since_min, n, counter=1)
        add("ticket_served", waiting_since_min, n, counter=1)
        add("ticket_rated", waiting_since_min, n, counter=1, rating=3 if n % 4 else 1, scale=3)
    return out


def test_the_dashboard_shows_trouble_first_and_a_heartbeat_without_reloading(
    browser: Any, cdb: Any, make_server: Any, viewer: Any, tmp_path: Path
) -> None:
    server = make_server()
    tokens = {site: cdb.add_site(site, name) for site, name in OFFICES}
    for site, tickets, served in (("nghia-tan", 40, 31), ("xuan-dinh", 25, 18)):
        r = post(server, tokens[site], "events", batch(*office_day(tickets, served), site=site))
        assert r.status_code == 200, r.text
        assert post(server, tokens[site], "heartbeat", heartbeat(site)).status_code == 200
    # Cầu Giấy's printer is out of paper: it must come first, said in Vietnamese.
    hb = heartbeat("cau-giay", printer="paper_out")
    assert post(server, tokens["cau-giay"], "heartbeat", hb).status_code == 200

    ctx = browser.new_context(
        viewport={"width": 1366, "height": 768},
        http_credentials={"username": "tinh-it", "password": "mat-khau-dai-du"},
    )
    page = ctx.new_page()
    page.goto(server.url + "/")
    rows = page.locator("#live tbody tr")
    wait_for(lambda: rows.count() == 3, what="three offices")
    first = rows.nth(0)
    assert "Cầu Giấy" in first.inner_text()
    assert "Hết giấy" in first.locator(".p").first.inner_text()
    assert "sev0" not in (first.get_attribute("class") or "")

    # Meanwhile the printer gets paper: the page changes by itself, never reloaded.
    page.evaluate("window.notReloaded = true")
    wait_for(lambda: page.evaluate("typeof EventSource") == "function", what="the script")
    page.wait_for_timeout(500)  # the stream is open (its first line has come)
    assert post(server, tokens["cau-giay"], "heartbeat", heartbeat("cau-giay")).status_code == 200
    wait_for(
        lambda: "Hết giấy" not in page.locator("#live").inner_text(),
        timeout=15,
        what="the live update",
    )
    assert page.evaluate("window.notReloaded") is True
    assert rows.count() == 3

    # An office page updates its own figures live, not into the whole table.
    page.goto(server.url + "/office/xuan-dinh")
    page.evaluate("window.notReloaded = true")
    page.wait_for_timeout(500)
    hb = heartbeat("xuan-dinh", printer="paper_near_end")
    assert post(server, tokens["xuan-dinh"], "heartbeat", hb).status_code == 200
    live = page.locator("#live")
    wait_for(lambda: "Sắp hết giấy" in live.inner_text(), timeout=15, what="the office's update")
    assert "Cầu Giấy" not in live.inner_text() and "Đã cấp hôm nay: 25" in live.inner_text()
    assert page.evaluate("window.notReloaded") is True
    ctx.close()

    # Screenshots at PC and phone sizes, with the out-of-paper office back for the picture.
    hb = heartbeat("cau-giay", printer="paper_out")
    assert post(server, tokens["cau-giay"], "heartbeat", hb).status_code == 200
    out = IMG if os.environ.get("KIOSK_SCREENSHOTS") else tmp_path
    for size in ("pc", "phone"):
        w, h = SIZES[size]
        ctx = browser.new_context(
            viewport={"width": w, "height": h},
            http_credentials={"username": "tinh-it", "password": "mat-khau-dai-du"},
        )
        page = ctx.new_page()
        page.goto(server.url + "/")
        page.wait_for_selector("#live tbody tr")
        scroll = page.evaluate("document.documentElement.scrollWidth")
        assert scroll <= w, f"the dashboard is {scroll} px wide at {w} px"
        page.screenshot(path=str(out / f"central-dashboard-{size}.png"), full_page=True)
        page.goto(server.url + "/office/nghia-tan")
        page.wait_for_selector("svg")
        page.screenshot(path=str(out / f"central-office-{size}.png"), full_page=True)
        ctx.close()
    assert (out / "central-dashboard-pc.png").stat().st_size > 10_000
