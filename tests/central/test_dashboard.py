"""The dashboard: only its users read it; offices in trouble come first; live; CSV; metrics."""

from __future__ import annotations

import json
import threading
import time
from datetime import datetime
from zoneinfo import ZoneInfo

import requests

from central.dashboard import offices, svg_bars
from tests.central.test_app import batch, ev, post

TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def today_events(n: int, start: int = 1) -> list[dict]:
    day = datetime.now(TZ).date().isoformat()
    now = datetime.now(TZ).astimezone(ZoneInfo("UTC")).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    return [ev(s, at=now, day=day) for s in range(start, start + n)]


def heartbeat(site: str, printer: str = "ok", link: str = "up") -> dict:
    return {
        "schema": 1,
        "site": site,
        "printer": {"state": printer},
        "display_link": {"state": link},
        "uplink": {"backlog": 0},
    }


def test_the_dashboard_needs_a_login_and_never_shows_a_token(server, cdb, viewer):
    token = cdb.add_site("nghia-tan", "UBND phường Nghĩa Tân")
    for path in (
        "/",
        "/api/offices",
        "/office/nghia-tan",
        "/office/nghia-tan.csv",
        "/metrics",
        "/live",
    ):
        r = requests.get(server.url + path, timeout=5)
        assert r.status_code == 401 and "WWW-Authenticate" in r.headers, path
    bad = {"Authorization": "Basic " + "eDp5"}  # x:y
    assert requests.get(server.url + "/", headers=bad, timeout=5).status_code == 401
    page = requests.get(server.url + "/", headers=viewer, timeout=5)
    assert page.status_code == 200 and "UBND phường Nghĩa Tân" in page.text
    assert token not in page.text


def test_offices_in_trouble_come_first_with_the_reason_in_vietnamese(server, cdb, viewer):
    tokens = {
        s: cdb.add_site(s, n)
        for s, n in (
            ("a-tot", "Phường A (tốt)"),
            ("b-hetgiay", "Phường B"),
            ("c-im-lang", "Phường C"),
        )
    }
    assert (
        post(server, tokens["a-tot"], "events", batch(*today_events(5), site="a-tot")).status_code
        == 200
    )
    assert post(server, tokens["a-tot"], "heartbeat", heartbeat("a-tot")).status_code == 200
    assert (
        post(
            server, tokens["b-hetgiay"], "heartbeat", heartbeat("b-hetgiay", "paper_out")
        ).status_code
        == 200
    )
    data = requests.get(server.url + "/api/offices", headers=viewer, timeout=5).json()
    order = [o["site"] for o in data["offices"]]
    assert order == ["c-im-lang", "b-hetgiay", "a-tot"]
    by = {o["site"]: o for o in data["offices"]}
    assert (
        by["a-tot"]["issued"] == 5 and by["a-tot"]["waiting"] == 5 and by["a-tot"]["severity"] == 0
    )
    assert any("Hết giấy" in p for p in by["b-hetgiay"]["problems"])
    assert any("Chưa từng gửi" in p for p in by["c-im-lang"]["problems"])
    html = requests.get(server.url + "/", headers=viewer, timeout=5).text
    assert html.index("Phường C") < html.index("Phường B") < html.index("Phường A (tốt)")


def test_the_live_stream_says_change_when_an_office_reports(server, cdb, viewer):
    token = cdb.add_site("nghia-tan", "Nghĩa Tân")
    got: list[str] = []

    def listen() -> None:
        with requests.get(server.url + "/live", headers=viewer, stream=True, timeout=10) as r:
            for line in r.iter_lines(decode_unicode=True):
                got.append(line)
                if line.startswith("event: change"):
                    return

    t = threading.Thread(target=listen, daemon=True)
    t.start()
    deadline = time.monotonic() + 10
    while not got and time.monotonic() < deadline:  # the stream's first line: connected
        time.sleep(0.01)
    post(server, token, "heartbeat", heartbeat("nghia-tan"))
    t.join(10)
    assert "event: change" in got


def test_an_office_page_has_its_charts_and_a_csv_that_excel_reads(server, cdb, viewer):
    token = cdb.add_site("nghia-tan", "UBND phường Nghĩa Tân")
    evs = today_events(3)
    served = dict(evs[0], seq=4, type="ticket_served", counter=1)
    rated = dict(evs[0], seq=5, type="ticket_rated", counter=1, rating=3)
    assert post(server, token, "events", batch(*evs, served, rated)).status_code == 200
    page = requests.get(server.url + "/office/nghia-tan", headers=viewer, timeout=5)
    assert page.status_code == 200 and page.text.count("<svg") == 2
    month = datetime.now(TZ).strftime("%Y-%m")
    csv = requests.get(
        server.url + f"/office/nghia-tan.csv?month={month}", headers=viewer, timeout=5
    )
    assert csv.status_code == 200 and csv.content.startswith("\ufeff".encode())
    rows = csv.content.decode("utf-8-sig").splitlines()
    assert rows[0].startswith("day,issued,served")
    day, issued, served_n = rows[1].split(",")[:3]
    assert (issued, served_n) == ("3", "1")
    assert (
        requests.get(
            server.url + "/office/nghia-tan?month=2026-13", headers=viewer, timeout=5
        ).status_code
        == 400
    )
    assert (
        requests.get(server.url + "/office/khong-co", headers=viewer, timeout=5).status_code == 404
    )


def test_metrics_give_one_series_per_office_for_prometheus(server, cdb, viewer):
    token = cdb.add_site("nghia-tan", "Nghĩa Tân")
    post(server, token, "events", batch(*today_events(2)))
    post(server, token, "heartbeat", heartbeat("nghia-tan", "paper_near_end"))
    text = requests.get(server.url + "/metrics", headers=viewer, timeout=5).text
    assert 'central_tickets_issued_today{site="nghia-tan"} 2.0' in text
    assert 'central_printer_state{site="nghia-tan",state="paper_near_end"} 1.0' in text
    assert 'central_office_severity{site="nghia-tan"} 1.0' in text


def test_a_chart_of_nothing_says_so_and_escapes_labels():
    svg = svg_bars([], "Trống")
    assert "Chưa có số liệu" in svg
    svg = svg_bars([("<b>", 3, 1)], "x")
    assert "<b>" not in svg.replace("<svg", "").split(">", 1)[1] or "&lt;b&gt;" in svg


def test_an_office_never_heard_from_is_out_of_touch_first():
    rows = [
        {
            "site": "x",
            "name": "X",
            "heartbeat_age_s": 30.0,
            "heartbeat": {"printer": {"state": "ok"}},
        },
        {"site": "y", "name": "Y", "heartbeat_age_s": None, "heartbeat": None},
    ]
    got = offices(rows)
    assert [o.site for o in got] == ["y", "x"] and got[0].severity == 3
    assert json.dumps(got[0].as_dict(), ensure_ascii=False)


def test_the_daily_counts_kept_on_ingest_equal_a_recount_of_the_tickets(server, cdb, db_url):
    import psycopg

    token = cdb.add_site("nghia-tan", "Nghĩa Tân")
    evs = today_events(6)
    day, at = evs[0]["day"], evs[0]["at"]
    t = {e["ticket_id"]: e for e in evs}
    more = [
        dict(t[1], type="ticket_called", counter=1, recall=False),
        dict(t[1], type="ticket_recalled", counter=1, recall=True),
        dict(t[1], type="ticket_served", counter=1),
        dict(t[1], type="ticket_rated", counter=1, rating=1),
        dict(t[1], type="ticket_rated", counter=1, rating=3),  # rated again: the new one counts
        dict(t[2], type="ticket_called", counter=2, recall=False),
        dict(t[2], type="ticket_skipped", counter=2),
        dict(t[3], type="ticket_called", counter=2, recall=False),
        dict(t[3], type="ticket_transferred", counter=2, to_service="chungthuc"),
        dict(t[4], type="ticket_expired", reason="closing"),
        dict(t[5], type="ticket_called", counter=3, recall=False),
    ]
    for i, e in enumerate(more, start=7):
        e.update(seq=i, at=at, day=day)
    assert post(server, token, "events", batch(*evs, *more[:5])).status_code == 200
    assert post(server, token, "events", batch(*more[3:])).status_code == 200  # overlapping resend
    with psycopg.connect(db_url) as c:
        kept = c.execute(
            "SELECT issued, waiting, called, served, no_show, expired, rated, satisfied "
            "FROM day_counts WHERE site = 'nghia-tan'"
        ).fetchone()
        recount = c.execute(
            """SELECT COUNT(*), COUNT(*) FILTER (WHERE state = 'waiting'),
                      COUNT(*) FILTER (WHERE state = 'called'), COUNT(*) FILTER (WHERE state = 'served'),
                      COUNT(*) FILTER (WHERE state = 'no_show'), COUNT(*) FILTER (WHERE state = 'expired'),
                      COUNT(rating), COUNT(*) FILTER (WHERE rating >= 2)
               FROM tickets WHERE site = 'nghia-tan'"""
        ).fetchone()
    assert kept == recount == (6, 2, 1, 1, 1, 1, 1, 1)
