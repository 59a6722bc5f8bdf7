"""The JSON API of docs/web-api.md through a real uvicorn on 127.0.0.1: every route, every
error code, the login lockout, CSRF refusals, a session used on another counter."""

from __future__ import annotations

import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from kiosk.core import staff
from kiosk.core.store import Store
from kiosk.core.tokens import load_secret, secret_path, ticket_token
from tests.conftest import EXAMPLE, ROOT
from tests.kiosk.web.conftest import Server, start_server, stop_server

ACTIONS = ["next", "recall", "skip", "finish", "hold", "return", "call", "transfer", "restore"]


def test_status_is_public_and_holds_numbers_and_counts_only(server: Server) -> None:
    q = server.queue()
    q.issue("hotich", priority=True)
    q.issue("hotich")
    q.call_next(1)
    r = httpx.get(server.url + "/api/status")
    assert r.status_code == 200
    s = r.json()
    assert s["counters"][0] == {
        "id": 1,
        "name": "Quầy 1",
        "open": True,
        "current": "A001",
        "service": "hotich",
    }
    hotich = next(x for x in s["services"] if x["id"] == "hotich")
    assert hotich["waiting"] == 1 and hotich["waiting_priority"] == 0
    assert set(s) == {"day", "site", "counters", "services", "recent", "seq"}
    assert s["recent"] == [{"code": "A001", "counter": 1, "service": "hotich"}]


def test_login_sets_an_httponly_samesite_session_cookie(server: Server) -> None:
    r = httpx.post(server.url + "/api/login", json={"user": "lan", "pin": "2468"})
    assert r.status_code == 200 and r.json() == {"user": "lan", "counters": [1, 2]}
    cookie = r.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Max-Age=" in cookie


@pytest.mark.parametrize(
    "body", [b"not json", b"[]", b'{"user": "lan"}', b'{"user": 1, "pin": "2468"}', b""]
)
def test_login_with_a_malformed_body_is_422(server: Server, body: bytes) -> None:
    r = httpx.post(
        server.url + "/api/login", content=body, headers={"content-type": "application/json"}
    )
    assert r.status_code == 422 and "error" in r.json()


def test_wrong_pin_is_401_and_the_sixth_try_within_5_minutes_is_429(server: Server) -> None:
    url = server.url + "/api/login"
    for _ in range(5):
        r = httpx.post(url, json={"user": "lan", "pin": "0000"})
        assert r.status_code == 401
    r = httpx.post(url, json={"user": "lan", "pin": "2468"})  # even the right PIN
    assert r.status_code == 429 and int(r.headers["retry-after"]) > 200
    assert "5" in r.json()["error"]
    assert httpx.post(url, json={"user": "minh", "pin": "1357"}).status_code == 200  # per user
    assert httpx.post(url, json={"user": "ghost", "pin": "1357"}).status_code == 401


def test_every_action_without_a_session_is_401(server: Server) -> None:
    with server.client() as c:
        for a in ACTIONS + ["open", "close"]:
            r = c.post(f"/api/counters/1/{a}", json={"code": "A001", "service": "chungthuc"})
            assert r.status_code == 401, a
        assert c.get("/api/counters/1").status_code == 401


def test_a_session_used_on_another_counter_is_403_and_changes_nothing(server: Server) -> None:
    q = server.queue()
    q.issue("chungthuc")
    seq = q.store.last_seq()
    with server.client("lan") as c:  # counters 1 and 2
        for a in ACTIONS + ["open", "close"]:
            r = c.post(f"/api/counters/3/{a}", json={"code": "B001", "service": "hotich"})
            assert r.status_code == 403, a
            assert "không được giao quầy 3" in r.json()["error"]
        assert c.get("/api/counters/3").status_code == 403
        assert c.post("/api/counters/99/next").status_code == 404
        assert c.post("/api/counters/1/dance").status_code == 404
    assert q.store.last_seq() == seq


def test_next_recall_skip_finish_answer_with_the_ticket(server: Server) -> None:
    q = server.queue()
    for _ in range(3):
        q.issue("hotich")
    with server.client("lan") as c:
        r = c.post("/api/counters/1/next")
        assert r.status_code == 200
        body = r.json()
        assert body["counter"] == 1 and body["action"] == "next"
        assert body["ticket"]["code"] == "A001" and body["ticket"]["status"] == "called"
        r = c.post("/api/counters/1/recall")
        assert r.json()["ticket"]["recall_count"] == 1
        r = c.post("/api/counters/1/skip")
        assert r.json()["skipped"]["code"] == "A001" and r.json()["ticket"]["code"] == "A002"
        r = c.post("/api/counters/1/finish")
        assert r.json()["ticket"]["status"] == "served"
        r = c.post("/api/counters/2/next")
        assert r.json()["ticket"]["code"] == "A003"
        r = c.post("/api/counters/2/next")
        assert r.status_code == 200 and r.json()["ticket"] is None  # nobody waits
        view = c.get("/api/counters/1").json()
        assert [t["code"] for t in view["skipped"]] == ["A001"]


def test_hold_return_call_transfer_restore_open_close(server: Server) -> None:
    q = server.queue()
    for _ in range(3):
        q.issue("hotich")
    with server.client("lan") as c:
        c.post("/api/counters/1/next")
        r = c.post("/api/counters/1/hold")
        assert r.status_code == 200 and r.json()["ticket"]["status"] == "held"
        assert c.get("/api/counters/1").json()["held"][0]["code"] == "A001"
        r = c.post("/api/counters/1/return")
        assert r.json()["ticket"]["status"] == "waiting"
        r = c.post("/api/counters/1/call", json={"code": "a003"})
        assert r.json()["ticket"]["code"] == "A003"
        r = c.post("/api/counters/1/transfer", json={"service": "chungthuc"})
        assert r.json()["ticket"]["service"] == "chungthuc"
        c.post("/api/counters/1/next")  # A001, returned to the front
        c.post("/api/counters/1/skip")
        r = c.post("/api/counters/1/restore", json={"code": "A001"})
        assert r.status_code == 200 and r.json()["ticket"]["status"] == "waiting"
        assert c.post("/api/counters/2/close").json()["open"] is False
        assert httpx.get(server.url + "/api/status").json()["counters"][1]["open"] is False
        assert c.post("/api/counters/2/open").json()["open"] is True


def test_refusals_are_409_with_a_vietnamese_message(server: Server) -> None:
    q = server.queue()
    q.issue("hotich")
    with server.client("lan") as c:
        for a in ("recall", "skip", "finish", "hold", "transfer"):
            r = c.post(f"/api/counters/1/{a}", json={"service": "chungthuc"})
            assert r.status_code == 409, a
            assert r.json()["error"] == "Quầy chưa gọi số nào để thực hiện việc này."
        r = c.post("/api/counters/1/return")
        assert r.status_code == 409 and "tạm giữ" in r.json()["error"]
        r = c.post("/api/counters/1/call", json={"code": "Z999"})
        assert r.status_code == 409 and r.json()["error"] == "Hôm nay không có số Z999."
        r = c.post("/api/counters/1/restore", json={"code": "A001"})
        assert r.status_code == 409 and "không phải số vắng mặt" in r.json()["error"]
        c.post("/api/counters/1/next")
        r = c.post("/api/counters/1/transfer", json={"service": "nope"})
        assert r.status_code == 409 and "detail" in r.json()


@pytest.mark.parametrize(
    "action,field", [("call", "code"), ("transfer", "service"), ("restore", "code")]
)
@pytest.mark.parametrize("body", [b"", b"{", b"[1]", b'{"x": 1}', b'{"code": 5, "service": 5}'])
def test_a_malformed_body_is_422(server: Server, action: str, field: str, body: bytes) -> None:
    with server.client("lan") as c:
        r = c.post(
            f"/api/counters/1/{action}", content=body, headers={"content-type": "application/json"}
        )
        assert r.status_code == 422 and field in r.json()["detail"]
        r = c.post(
            "/api/counters/1/next", content=b"{", headers={"content-type": "application/json"}
        )
        assert r.status_code == 422


def test_a_cross_site_request_is_refused_even_with_the_cookie(server: Server) -> None:
    server.queue().issue("hotich")
    with server.client("lan") as c:
        r = c.post("/api/counters/1/next", headers={"origin": "http://evil.example"})
        assert r.status_code == 403
        r = c.post("/api/counters/1/next", headers={"origin": server.url})
        assert r.status_code == 200


def test_html_form_without_the_csrf_token_is_refused_and_changes_nothing(server: Server) -> None:
    q = server.queue()
    q.issue("hotich")
    seq = q.store.last_seq()
    with server.client("lan") as c:
        r = c.post("/counter/1/panel/next", data={"csrf": "forged"})
        assert r.status_code == 403
        r = c.post("/counter/1/panel/next", data={})
        assert r.status_code == 403
        assert q.store.last_seq() == seq
        page = c.get("/counter/1/panel")
        token = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert token
        r = c.post("/counter/1/panel/next", data={"csrf": token.group(1)})
        assert r.status_code == 303 and "A001" in httpx.URL(r.headers["location"]).params["msg"]
    assert q.ticket("A001").status == "called"


def test_login_form_needs_its_csrf_cookie(server: Server) -> None:
    with server.client() as c:
        r = c.post("/login", data={"user": "lan", "pin": "2468", "csrf": "x"})
        assert r.status_code == 403
        page = c.get("/login")
        token = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert token
        r = c.post("/login", data={"user": "lan", "pin": "2468", "csrf": token.group(1)})
        assert r.status_code == 303 and r.headers["location"] == "/counter/1/panel"
        assert c.get("/counter/1/panel").status_code == 200


def test_panel_redirects_to_login_without_a_session(server: Server) -> None:
    r = httpx.get(server.url + "/counter/1/panel")
    assert r.status_code == 303 and r.headers["location"].startswith("/login?next=")


def test_a_removed_account_loses_its_session_at_once(server: Server) -> None:
    with server.client("lan") as c:
        assert c.get("/api/counters/1").status_code == 200
        staff.remove(Store(server.db), "lan")
        assert c.post("/api/counters/1/next").status_code == 401


def test_a_forged_or_tampered_cookie_is_401(server: Server) -> None:
    with server.client("lan") as c:
        value = c.cookies["kiosk_session"]
        body, mac = value.rsplit(".", 1)
        c.cookies.clear()
        c.cookies.set("kiosk_session", body + "." + mac[::-1])
        assert c.post("/api/counters/1/next").status_code == 401


def test_phone_page_needs_the_tickets_own_token(server: Server) -> None:
    q = server.queue()
    a = q.issue("hotich").ticket
    b = q.issue("hotich").ticket
    secret = load_secret(secret_path(server.cfg, server.db))
    ka = ticket_token(secret, a.day, a.code, a.id)
    r = httpx.get(f"{server.url}/t/{a.day}/{a.code}", params={"k": ka})
    assert r.status_code == 200 and "A001" in r.text and "Đang chờ" in r.text
    assert httpx.get(f"{server.url}/t/{b.day}/{b.code}", params={"k": ka}).status_code == 404
    assert httpx.get(f"{server.url}/t/{a.day}/{a.code}").status_code == 404
    assert (
        httpx.get(f"{server.url}/t/{a.day}/{a.code}/events", params={"k": "x"}).status_code == 404
    )


def test_tablet_needs_its_key_and_rates_the_citizen_it_showed(server: Server) -> None:
    q = server.queue()
    q.issue("hotich")
    q.issue("hotich")
    with server.client("lan") as c:
        page = c.get("/counter/1/panel").text
    key = re.search(r"/counter/1/tablet\?k=([\w-]+)", page)
    assert key
    assert httpx.get(server.url + "/counter/1/tablet").status_code == 403
    assert (
        httpx.get(server.url + "/counter/2/tablet", params={"k": key.group(1)}).status_code == 403
    )
    assert (
        httpx.get(server.url + "/counter/1/tablet", params={"k": key.group(1)}).status_code == 200
    )
    q.call_next(1)
    q.call_next(1)  # A001 served, A002 called: the tablet still rates A001
    rate = server.url + "/counter/1/tablet/rate"
    r = httpx.post(
        rate, params={"k": key.group(1)}, json={"code": "A001", "score": 1, "reason": "Chờ lâu"}
    )
    assert r.status_code == 200 and r.json()["rating"] == 1
    assert q.ticket("A001").rating == 1 and q.ticket("A002").rating is None
    r = httpx.post(rate, params={"k": key.group(1)}, json={"code": "A001", "score": 2})
    assert r.status_code == 409
    assert (
        httpx.post(rate, params={"k": "bad"}, json={"code": "A001", "score": 2}).status_code == 403
    )
    assert httpx.post(rate, params={"k": key.group(1)}, content=b"{").status_code == 422


def test_board_stream_follows_another_process_commit_at_once(server: Server) -> None:
    got: list[float] = []
    with httpx.Client(base_url=server.url, timeout=20) as c:
        with c.stream("GET", "/board/events") as r:
            assert r.headers["content-type"].startswith("text/event-stream")
            lines = r.iter_lines()
            for line in lines:
                if line.startswith("data:"):
                    break  # the first state

            def commit() -> None:
                time.sleep(0.3)
                got.append(time.monotonic())
                subprocess.run(
                    [sys.executable, "-m", "kiosk.cli", "issue", "hotich", "--db", str(server.db)]
                    + ["--config", str(EXAMPLE)],
                    cwd=ROOT,
                    check=True,
                    capture_output=True,
                )
                got.append(time.monotonic())

            th = threading.Thread(target=commit)
            th.start()
            for line in lines:
                if line.startswith("data:") and '"waiting":1' in line.replace(" ", ""):
                    got.append(time.monotonic())
                    break
            th.join()
    assert len(got) == 3 and got[2] - got[1] < 1.0 or got[2] < got[1] + 1.0


def test_the_api_and_live_pages_work_on_a_postgresql_store(tmp_path: Path, db_url: str) -> None:
    site = tmp_path / "site.toml"
    text = EXAMPLE.read_text(encoding="utf-8")
    site.write_text(text.replace('secret_file = ""', f'secret_file = "{tmp_path}/secret"'))
    s = start_server(tmp_path, site, url=db_url)
    try:
        q = s.queue()
        q.issue("hotich")
        with s.client("lan") as c:
            r = c.post("/api/counters/1/next")
            assert r.status_code == 200 and r.json()["ticket"]["code"] == "A001"
            assert c.post("/api/counters/1/hold").json()["ticket"]["status"] == "held"
        assert httpx.get(s.url + "/api/status").json()["counters"][0]["current"] is None
        q.issue("hotich")  # another process's commit reaches the board (LISTEN/NOTIFY)
        with httpx.stream("GET", s.url + "/board/events", timeout=20) as r:
            for line in r.iter_lines():
                if line.startswith("data:") and '"waiting":1' in line.replace(" ", ""):
                    break
        assert (tmp_path / "secret").exists()
    finally:
        stop_server(s)
