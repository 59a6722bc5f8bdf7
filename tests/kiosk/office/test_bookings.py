"""Appointment check-in: the day's bookings fetched from a loopback server, codes
redeemed for tickets with the booking's service and priority, and clear messages for
unknown, used, cancelled and other-day codes, or a list that could not be fetched."""

from __future__ import annotations

import json
import time
import tomllib
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from kiosk.cli import main
from kiosk.core.config import Config, ConfigError, validate
from kiosk.core.queue import Queue
from kiosk.office.bookings import (
    CLAIM_TIMEOUT,
    Booking,
    BookingFetcher,
    BookingsUnavailable,
    FetchError,
    UnknownBooking,
    UsedBooking,
    bookings_of_day,
    check_in,
    fetch,
    save_bookings,
)
from tests.conftest import EXAMPLE

DAY = "2026-11-30"
LIST = {
    "day": DAY,
    "bookings": [
        {"code": "HB-0012", "service": "hotich", "time": "09:30", "name": "Nguyễn Văn An"},
        {"code": "HB-0013", "service": "datdai", "priority": True, "time": "10:00"},
        {"code": "HB-0014", "service": "visa", "time": "10:30"},  # not a service here
    ],
}


@pytest.fixture(scope="module")
def _server() -> Iterator[HTTPServer]:
    s = HTTPServer(host="127.0.0.1", port=0)  # loopback only
    s.start()
    yield s
    s.stop()


@pytest.fixture
def server(_server: HTTPServer) -> Iterator[HTTPServer]:
    yield _server
    _server.clear()  # each test scripts its own replies


def site(url: str, **kw: Any) -> Config:
    raw = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    raw["appointments"].update(enabled=True, url=url, token="bk-token", timeout=1.0, **kw)
    return validate(raw, "kiosk.toml")


@pytest.fixture
def booked(server, store, clock) -> tuple[Config, Queue]:
    server.expect_request(
        "/bookings",
        query_string={"day": DAY, "site": "nghia-tan"},
        headers={"Authorization": "Bearer bk-token"},
    ).respond_with_json(LIST)
    cfg = site(server.url_for("/bookings"))
    counts, problems = fetch(cfg, store, DAY, clock=clock)
    assert counts == {"listed": 2, "new": 2, "cancelled": 0}
    assert len(problems) == 1 and "'visa' is not one of this site's" in problems[0]
    return cfg, Queue(cfg, store, clock)


def test_a_booking_code_gives_a_ticket_with_its_service_and_priority(booked):
    cfg, queue = booked
    queue.issue("datdai")  # a walk-in citizen came first
    r = check_in(queue, "HB-0013")
    assert (r.ticket.service, r.ticket.priority) == ("datdai", True)
    assert r.ticket.source == "booking:HB-0013"
    assert r.ticket.code == "C002" and r.ahead == 0  # priority: nobody ahead
    r = check_in(queue, "HB-0012")
    assert (r.ticket.service, r.ticket.priority, r.ticket.code) == ("hotich", False, "A001")
    states = {b.code: b.ticket_id for b in bookings_of_day(queue.store, DAY)}
    assert states == {"HB-0012": r.ticket.id, "HB-0013": r.ticket.id - 1}


def test_a_scanned_code_with_spaces_and_enter_is_understood(booked):
    _, queue = booked
    assert check_in(queue, "  hb-0012\r\n").ticket.service == "hotich"


def test_a_used_code_says_when_and_which_ticket(booked, clock):
    _, queue = booked
    first = check_in(queue, "HB-0012")
    clock.advance(600)
    before = queue.store.last_seq()
    with pytest.raises(UsedBooking) as e:
        check_in(queue, "HB-0012")
    assert e.value.vi == f"Mã hẹn HB-0012 đã được dùng lúc 08:00 (số {first.ticket.code})"
    assert "already used at 08:00" in e.value.en
    assert queue.store.last_seq() == before  # no ticket, no event


def test_an_unknown_code_is_refused_and_issues_nothing(booked):
    _, queue = booked
    before = queue.store.last_seq()
    with pytest.raises(UnknownBooking) as e:
        check_in(queue, "XX-9999")
    assert "Không tìm thấy mã hẹn XX-9999" in e.value.vi
    assert "take a walk-in ticket" in e.value.en
    assert queue.store.last_seq() == before


def test_a_long_or_escape_laden_code_is_echoed_cut_and_escaped(booked):
    _, queue = booked
    with pytest.raises(UnknownBooking) as e:
        check_in(queue, "\x1b[2J" + "X" * 100_000)
    for text in (e.value.vi, e.value.en):
        assert "\x1b" not in text and len(text) < 200
        assert "\\x1b[2J" in text and "(100,004 characters)" in text


def test_a_code_for_another_day_names_that_day(booked, clock):
    _, queue = booked
    save_bookings(queue.store, "2026-12-02", [Booking("2026-12-02", "HB-0100", "hotich")], 0)
    with pytest.raises(UnknownBooking, match="dành cho ngày 02/12/2026"):
        check_in(queue, "HB-0100")


def test_a_booking_dropped_from_the_list_is_cancelled_unless_checked_in(booked, server, clock):
    cfg, queue = booked
    check_in(queue, "HB-0012")
    server.clear()
    server.expect_request("/bookings").respond_with_json({"day": DAY, "bookings": []})
    counts, _ = fetch(cfg, queue.store, DAY, clock=clock)
    assert counts["cancelled"] == 2
    with pytest.raises(UnknownBooking, match="đã bị hủy"):
        check_in(queue, "HB-0013")
    with pytest.raises(UsedBooking):  # the one already served keeps its ticket
        check_in(queue, "HB-0012")


@pytest.mark.parametrize(
    "reply, message",
    [
        (Response("oops", status=500), "answered HTTP 500"),
        (Response("<html>", status=200), "did not answer JSON"),
        (Response("no", status=401), "refused the token"),
        (Response(json.dumps({"day": "2026-12-01", "bookings": []})), "not 2026-11-30"),
        ("slow", "no reply"),
    ],
)
def test_a_failed_fetch_keeps_walk_in_tickets_going(server, store, clock, reply, message):
    def handler(request: Request) -> Response:
        if reply == "slow":
            time.sleep(1.2)  # past the 1 s timeout, yet short: the server is shared
            return Response("{}")
        return reply

    server.expect_request("/bookings").respond_with_handler(handler)
    cfg = site(server.url_for("/bookings"))
    with pytest.raises(FetchError, match=message):
        fetch(cfg, store, DAY, clock=clock)
    queue = Queue(cfg, store, clock)
    assert queue.issue("hotich").ticket.code == "A001"  # walk-in service continues
    with pytest.raises(BookingsUnavailable) as e:
        check_in(queue, "HB-0012")
    assert e.value.vi == "Chưa tải được danh sách lịch hẹn hôm nay; vui lòng lấy số thường"


def test_an_unreachable_server_is_a_fetch_error_not_a_crash(store, clock):
    cfg = site("http://127.0.0.1:9/bookings")  # discard port: nothing listens
    with pytest.raises(FetchError, match="cannot reach"):
        fetch(cfg, store, DAY, clock=clock)


def test_a_plain_http_bookings_server_off_loopback_is_refused(store, clock):
    # by check-config when the bookings are on …
    with pytest.raises(ConfigError, match=r"kiosk.toml: appointments.url: .*use https://"):
        site("http://192.0.2.1/bookings")
    # … and by `kiosk bookings --fetch` when they are off (the file is not checked for it)
    cfg = site("https://192.0.2.1/bookings")
    off = replace(cfg, appointments=replace(cfg.appointments, url="http://192.0.2.1/b"))
    with pytest.raises(FetchError, match="use https://"):
        fetch(off, store, DAY, clock=clock)


def test_a_crash_between_issuing_and_linking_never_gives_two_tickets(booked, clock):
    _, queue = booked
    # As if the kiosk died right after issue(): a ticket exists, the booking is unlinked.
    queue.issue("hotich", source="booking:HB-0012")
    with pytest.raises(UsedBooking):
        check_in(queue, "HB-0012")
    with queue.store.read() as tx:
        sources = [t.source for t in tx.tickets_of_day(DAY)]
    assert sources.count("booking:HB-0012") == 1


def test_a_claim_left_by_a_crash_before_issuing_expires(booked, clock):
    _, queue = booked
    with queue.store.transaction() as tx:
        tx.c.execute("UPDATE bookings SET claimed_at = ? WHERE code = 'HB-0012'", (clock(),))
    with pytest.raises(UsedBooking, match="đang được xử lý"):
        check_in(queue, "HB-0012")
    clock.advance(CLAIM_TIMEOUT + 1)
    assert check_in(queue, "HB-0012").ticket.service == "hotich"


def test_a_refused_issue_releases_the_claim(booked, clock, monkeypatch):
    _, queue = booked
    from kiosk.core.queue import QueueError

    def full(*a: Any, **k: Any) -> None:
        raise QueueError("no numbers left today")

    monkeypatch.setattr(queue, "issue", full)
    with pytest.raises(QueueError, match="no numbers left"):
        check_in(queue, "HB-0012")
    monkeypatch.undo()
    assert check_in(queue, "HB-0012").ticket.code == "A001"  # no 60 s wait


def test_the_fetcher_thread_loads_the_list_and_stops(server, store, clock):
    server.expect_request("/bookings").respond_with_json(LIST)
    cfg = site(server.url_for("/bookings"))
    queue = Queue(cfg, store, clock)
    f = BookingFetcher(cfg, queue).start()
    deadline = time.monotonic() + 60
    while f.last_ok is None and time.monotonic() < deadline:
        time.sleep(0.02)
    f.stop()
    assert f.last_ok is not None
    assert check_in(queue, "HB-0012").ticket.service == "hotich"


def test_kiosk_checkin_command_prints_the_ticket_or_the_reason(
    booked, tmp_path, monkeypatch, capsys
):
    cfg, queue = booked
    # The CLI reads the real clock: move the cached list to today's business day.
    today = Queue(cfg, queue.store).today()
    with queue.store.transaction() as tx:
        tx.c.execute("UPDATE bookings SET day = ?", (today,))
    db = str(tmp_path / "queue.db")
    assert main(["checkin", "hb-0013", "--db", db, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["service"], out["priority"], out["booking"]) == ("datdai", True, "HB-0013")
    assert main(["checkin", "HB-0013", "--db", db]) == 1
    err = capsys.readouterr().err
    assert "đã được dùng" in err and "already used" in err and "Traceback" not in err
    assert main(["bookings", "--db", db]) == 0
    assert "HB-0013" in capsys.readouterr().out


def test_a_code_at_an_office_without_online_bookings_says_so(cfg, queue):
    assert not cfg.appointments.enabled
    with pytest.raises(BookingsUnavailable) as e:
        check_in(queue, "HB-0012")
    assert e.value.en == "This office does not take online bookings; please take a walk-in ticket"


def test_the_fetcher_wakes_for_the_next_days_list_at_opening(cfg, store, clock):
    queue = Queue(cfg, store, clock)
    f = BookingFetcher(cfg, queue)
    clock.set_local(cfg, "2026-11-30T17:00:00")
    assert f.until_next_day() == 14.5 * 3600 + 2  # 07:30 tomorrow
    clock.set_local(cfg, "2026-12-01T06:00:00")
    assert f.until_next_day() == 1.5 * 3600 + 2  # 07:30 today


# ------------------------------------------------------------------ by ID card


def test_a_booking_is_found_by_the_scanned_id_card_and_only_its_hash_is_kept(
    server, store, clock, tmp_path
):
    from kiosk.core.citizen import Citizen
    from kiosk.office.bookings import check_in_by_card

    listed = {
        "day": DAY,
        "bookings": [
            {"code": "HB-0021", "service": "datdai", "id_number": "001099012345"},
            {"code": "HB-0022", "service": "hotich", "id_number": "12345"},  # not an ID
        ],
    }
    server.expect_request("/bookings").respond_with_json(listed)
    cfg = site(server.url_for("/bookings"))
    queue = Queue(cfg, store, clock)
    key = queue.citizen_key
    counts, problems = fetch(cfg, store, DAY, clock=clock, hasher=key.hash)
    assert counts["listed"] == 2
    assert problems == ["bookings[1] (HB-0022): id_number is not 12 digits; ignored"]
    assert "12345" not in problems[0]
    # Nothing in the database file holds the ID number itself.
    queue.store.close()
    assert b"001099012345" not in (tmp_path / "queue.db").read_bytes()
    from kiosk.core.store import Store

    queue = Queue(cfg, Store(tmp_path / "queue.db"), clock)
    me = Citizen(queue.citizen_key.hash("001099012345"))
    r = check_in_by_card(queue, me)
    assert r is not None and r.ticket.source == "booking:HB-0021"
    assert r.ticket.service == "datdai"
    with pytest.raises(UsedBooking):
        check_in_by_card(queue, me)
    stranger = Citizen(queue.citizen_key.hash("001099054321"))
    assert check_in_by_card(queue, stranger) is None  # no booking: a walk-in ticket
    queue.store.close()
