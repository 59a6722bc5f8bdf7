"""The site secret, ticket tokens, the QR link when [web] is on, and session expiry."""

from __future__ import annotations

import stat
from pathlib import Path

from kiosk.core.config import Config, parse
from kiosk.core.queue import Queue
from kiosk.core.store import Store
from kiosk.core.tokens import (
    check_ticket_token,
    load_secret,
    qr_template,
    secret_path,
    ticket_token,
)
from kiosk.web.auth import Lockout, Sessions
from printer.job import info_from_ticket
from tests.conftest import EXAMPLE, Clock


def web_site(public_url: str = "http://192.168.1.10:8080") -> Config:
    text = EXAMPLE.read_text(encoding="utf-8")
    text = text.replace("[web]\n", "[web]\n# test\n").replace(
        "enabled = false\n# Address and port to listen on",
        "enabled = true\n# Address and port to listen on",
    )
    text = text.replace('public_url = ""', f'public_url = "{public_url}"')
    return parse(text, "web.toml")


def test_secret_is_made_once_beside_the_store_readable_by_its_owner_only(tmp_path: Path) -> None:
    cfg = web_site()
    p = secret_path(cfg, tmp_path / "queue.db")
    assert p == tmp_path / "web-secret"
    a = load_secret(p)
    assert load_secret(p) == a and len(a) >= 32
    assert stat.S_IMODE(p.stat().st_mode) == 0o600


def test_ticket_token_is_bound_to_day_code_and_id() -> None:
    k = ticket_token(b"s" * 32, "2026-11-30", "A001", 7)
    assert len(k) == 16
    assert check_ticket_token(b"s" * 32, "2026-11-30", "A001", 7, k)
    assert not check_ticket_token(b"s" * 32, "2026-11-30", "A002", 7, k)
    assert not check_ticket_token(b"s" * 32, "2026-12-01", "A001", 7, k)
    assert not check_ticket_token(b"t" * 32, "2026-11-30", "A001", 7, k)


def test_with_web_on_the_ticket_qr_is_its_phone_page(tmp_path: Path, clock: Clock) -> None:
    cfg = web_site()
    assert qr_template(cfg) == "http://192.168.1.10:8080/t/{day}/{code}?k={token}"
    q = Queue(cfg, Store(tmp_path / "q.db"), clock)
    t = q.issue("hotich").ticket
    k = ticket_token(b"x" * 32, t.day, t.code, t.id)
    info = info_from_ticket(cfg, t, qr_template=qr_template(cfg), token=k)
    assert info.qr_text == f"http://192.168.1.10:8080/t/2026-11-30/A001?k={k}"
    off = parse(EXAMPLE.read_bytes(), "off.toml")
    assert qr_template(off) == ""  # no [web], no qr_url: no QR code, as before


def test_a_session_ends_with_the_business_day(cfg: Config, clock: Clock) -> None:
    s = Sessions(cfg, b"k" * 32)
    cookie, max_age = s.make("lan", clock())
    assert s.read(cookie, clock()) is not None
    assert 0 < max_age <= 24 * 3600
    clock.advance(max_age - 60)
    assert s.read(cookie, clock()) is not None
    clock.advance(120)  # past the next opening time: a new business day
    assert s.read(cookie, clock()) is None
    assert s.read(cookie.replace(".", ".x", 1), clock.t - 120) is None


def test_lockout_counts_failures_per_user_in_a_five_minute_window() -> None:
    now = [0.0]
    lock = Lockout(lambda: now[0])
    for _ in range(5):
        assert lock.retry_after("lan") == 0
        lock.failed("lan")
    assert lock.retry_after("lan") > 0 and lock.retry_after("minh") == 0
    now[0] = 301.0
    assert lock.retry_after("lan") == 0
