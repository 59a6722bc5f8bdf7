"""The uplink against real HTTP servers on loopback: the reference receiver in a
thread and pytest-httpserver scripted with outages, slow replies, 500, 429, invalid JSON,
and TLS with a throwaway CA. Nothing may be lost, reordered, or duplicated beyond what
the receiver's (site, seq) dedupe absorbs."""

from __future__ import annotations

import json
import random
import socket
import threading
import time
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest
import trustme
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from central.receiver import Receiver, ReceiverDB, make_server
from kiosk.core.config import Config, ConfigError, check_url, validate
from kiosk.core.queue import Queue
from kiosk.core.store import Store
from kiosk.office.uplink import (
    Uplink,
    UplinkError,
    UplinkSettings,
    backlog,
    parse_retry_after,
)
from tests.conftest import EXAMPLE

TOKEN = "sekret-token"


@pytest.fixture(scope="module")
def _httpserver() -> Iterator[HTTPServer]:
    # Our own instance on 127.0.0.1: network tests stay on loopback, never "localhost"
    # resolved elsewhere. One per module (stopping one costs half a second).
    server = HTTPServer(host="127.0.0.1", port=0)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def httpserver(_httpserver: HTTPServer) -> Iterator[HTTPServer]:
    yield _httpserver
    _httpserver.clear()  # scripted faults never leak into the next test


class Running:
    """The reference receiver served from a thread; can be stopped and restarted on its port."""

    def __init__(self, db: ReceiverDB, certfile: str | None = None):
        self.db = db
        self.certfile = certfile
        self.port = 0
        self.server: Any = None
        self.start()

    def start(self) -> None:
        self.server = make_server(
            "127.0.0.1", self.port, Receiver(self.db, {TOKEN: "*"}), self.certfile
        )
        self.port = self.server.server_address[1]
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    @property
    def url(self) -> str:
        return f"{'https' if self.certfile else 'http'}://127.0.0.1:{self.port}/kiosk/v1"


@pytest.fixture
def rdb(tmp_path: Path) -> Iterator[ReceiverDB]:
    db = ReceiverDB(tmp_path / "receiver.db")
    yield db
    db.close()


@pytest.fixture
def receiver(rdb: ReceiverDB) -> Iterator[Running]:
    r = Running(rdb)
    yield r
    r.stop()


def settings(url: str, **kw: Any) -> UplinkSettings:
    base = UplinkSettings(url=url, token=TOKEN, site="nghia-tan", timeout=2.0, batch_size=50)
    return replace(base, **kw)


def make_uplink(store: Store, url: str, clock: Callable[[], float], **kw: Any) -> Uplink:
    return Uplink(store, settings(url, **kw), clock=clock, rng=random.Random(7))


def busy_morning(queue: Queue, clock: Any, tickets: int = 40) -> None:
    """Issue, call, serve and rate like a morning at the office."""
    services = [s.id for s in queue.cfg.services]
    for i in range(tickets):
        queue.issue(services[i % len(services)], priority=i % 9 == 0)
        clock.advance(20)
        if i % 3 == 0:
            queue.call_next(1 + i % 5)
            clock.advance(60)
    queue.record("printer_status", state="paper_near_end", detail="sensor 1")


def drain(uplink: Uplink, attempts: int = 200, pause_after_timeout: float = 0.0) -> list[str]:
    """Call the uplink until the log is sent; returns the error kinds met on the way.

    After a timeout it pauses as the backoff would, so a single-threaded test server
    still busy with the slow request is not hit by the retry.
    """
    kinds = []
    for _ in range(attempts):
        try:
            uplink.run_once()
        except UplinkError as e:
            kinds.append(e.kind)
            if e.kind == "timeout":
                time.sleep(pause_after_timeout)
            continue
        if backlog(uplink.store) == 0:
            return kinds
    raise AssertionError(f"not drained after {attempts} attempts: {kinds[-5:]}")


def store_seqs(store: Store) -> list[int]:
    return [e.seq for e in store.events_since(0, limit=1_000_000)]


# ---------------------------------------------------------------- normal operation


def test_every_event_reaches_the_receiver_once_in_order(queue, store, clock, receiver, rdb):
    busy_morning(queue, clock)
    up = make_uplink(store, receiver.url, clock)
    sent = up.run_once()
    assert sent == store.last_seq() > 50  # more than one batch
    assert rdb.seqs("nghia-tan") == store_seqs(store)
    assert store.cursor("uplink") == store.last_seq()
    assert backlog(store) == 0
    got = rdb.events("nghia-tan", after=0, limit=5)
    ours = [e.as_dict() for e in store.events_since(0, limit=5)]
    assert got == ours  # the payload arrives field for field


def test_a_batch_sent_twice_is_absorbed_by_the_receivers_dedupe(queue, store, clock, rdb):
    busy_morning(queue, clock, tickets=5)
    r = Receiver(rdb, {TOKEN: "*"})
    events = [e.as_dict() for e in store.events_since(0)]
    body = json.dumps({"schema": 1, "site": "s1", "events": events}).encode()
    auth = {"Authorization": f"Bearer {TOKEN}"}
    first = r.handle("POST", "/events", auth, body)
    again = r.handle("POST", "/events", auth, body)
    assert first[1]["stored"] == len(events) and first[1]["duplicates"] == 0
    assert again[1]["stored"] == 0 and again[1]["duplicates"] == len(events)
    assert again[1]["last_seq"] == events[-1]["seq"]
    assert rdb.sites()[0]["events"] == len(events)


def test_the_uplink_thread_is_woken_by_new_events_not_by_its_poll(
    queue, store, clock, receiver, rdb
):
    up = make_uplink(store, receiver.url, time.time, heartbeat_seconds=3600)
    up.idle_wait = 120  # only a wake-up on commit can send it sooner
    up.start()
    try:
        queue.issue("hotich")
        deadline = time.monotonic() + 60
        while rdb.seqs("nghia-tan") != store_seqs(store) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert rdb.seqs("nghia-tan") == store_seqs(store) != []
        assert rdb.heartbeat("nghia-tan") is not None  # one heartbeat at start
    finally:
        up.stop()


# ---------------------------------------------------------------- faults


def test_days_offline_lose_nothing_and_catch_up_in_order(queue, store, clock, receiver, rdb):
    busy_morning(queue, clock, tickets=10)
    up = make_uplink(store, receiver.url, clock)
    up.run_once()
    before = store.cursor("uplink")
    receiver.stop()  # the central server goes away: connection refused
    for _day in range(3):  # three office days without a link
        clock.advance(86400)
        busy_morning(queue, clock, tickets=30)
        with pytest.raises(UplinkError) as e:
            up.run_once()
        assert e.value.kind == "network"
        assert "cannot reach" in str(e.value)
        assert store.cursor("uplink") == before
    assert backlog(store) == store.last_seq() - before > 150
    receiver.start()
    assert drain(up) == []
    assert rdb.seqs("nghia-tan") == store_seqs(store)


class Script:
    """A pytest-httpserver handler that plays faults in turn, then behaves.

    Behaviours that store first ("lost_reply", "slow") hand the batch to the real
    receiver logic and then break the reply, as a server does when it commits and
    the connection drops: the kiosk must send it again and the dedupe must absorb it.
    """

    def __init__(self, rdb: ReceiverDB, faults: list[str], delay: float = 0.0):
        self.receiver = Receiver(rdb, {TOKEN: "*"})
        self.faults = list(faults)
        self.delay = delay
        self.arrivals: list[int] = []  # newly stored seqs, in the order they arrived

    def __call__(self, request: Request) -> Response:
        fault = self.faults.pop(0) if self.faults else "ok"
        if fault == "500":
            return Response("boom", status=500)
        if fault == "429":
            return Response("slow down", status=429, headers={"Retry-After": "7"})
        if fault == "413":
            return Response("too big", status=413)
        if fault == "401":
            return Response("no", status=401)
        before = set(self.receiver.db.seqs("nghia-tan"))
        status, doc = self.receiver.handle(
            request.method, request.path, dict(request.headers), request.get_data()
        )
        self.arrivals += [s for s in self.receiver.db.seqs("nghia-tan") if s not in before]
        if fault == "lost_reply":
            return Response("<html>502 Bad Gateway</html>", status=200)  # not JSON
        if fault == "slow":
            time.sleep(self.delay)
        return Response(json.dumps(doc), status=status, content_type="application/json")


def test_500_429_invalid_json_and_slow_replies_lose_and_duplicate_nothing(
    queue, store, clock, httpserver, rdb
):
    busy_morning(queue, clock, tickets=60)
    script = Script(
        rdb, ["500", "ok", "429", "lost_reply", "slow", "500", "ok", "lost_reply"], delay=0.5
    )
    httpserver.expect_request("/kiosk/v1/events", method="POST").respond_with_handler(script)
    up = make_uplink(store, httpserver.url_for("/kiosk/v1"), clock, timeout=0.2, batch_size=30)
    kinds = drain(up, pause_after_timeout=0.6)
    assert kinds == ["server", "rate_limited", "bad_reply", "timeout", "server", "bad_reply"]
    assert rdb.seqs("nghia-tan") == store_seqs(store)  # nothing lost
    assert script.arrivals == sorted(script.arrivals) == store_seqs(store)  # order kept
    with rdb.lock:
        dups = rdb.conn.execute("SELECT SUM(duplicates) FROM batches").fetchone()[0]
    assert dups == 3 * 30  # the three batches whose reply was lost came again, and only those


def test_429_retry_after_is_honoured_in_seconds_and_as_a_date(store, clock, httpserver):
    httpserver.expect_request("/v1/events").respond_with_data(
        "later", status=429, headers={"Retry-After": "7"}
    )
    store.set_cursor("x", 0)
    with store.transaction() as tx:
        tx.append_event("day_opened", clock(), "2026-11-30", None, {})
    up = make_uplink(store, httpserver.url_for("/v1"), clock)
    with pytest.raises(UplinkError) as e:
        up.run_once()
    assert e.value.retry_after == 7
    assert up.retry_delay(e.value, failures=1) == 7
    date = format_datetime(datetime.fromtimestamp(clock() + 120, UTC), usegmt=True)
    assert parse_retry_after(date, clock()) == pytest.approx(120, abs=1)
    assert parse_retry_after("soon", clock()) is None


def test_backoff_doubles_with_jitter_up_to_max_backoff(store, clock):
    up = make_uplink(store, "https://central.example/k", clock, max_backoff=300)
    err = UplinkError("network", "down")
    delays = [[up.retry_delay(err, n) for _ in range(200)] for n in range(1, 12)]
    for n, ds in enumerate(delays, 1):
        base = min(300, 2 ** (n - 1))
        assert base / 2 <= min(ds) and max(ds) <= base
        assert len(set(ds)) > 150  # jittered, so a fleet does not retry in lockstep
    assert max(delays[-1]) <= 300


def test_413_halves_the_batch_until_the_receiver_takes_it(queue, store, clock, httpserver, rdb):
    busy_morning(queue, clock, tickets=10)
    script = Script(rdb, ["413", "413"])
    httpserver.expect_request("/v1/events").respond_with_handler(script)
    up = make_uplink(store, httpserver.url_for("/v1"), clock, batch_size=40)
    assert drain(up) == ["too_large", "too_large"]
    assert up.batch_size == 10
    assert rdb.seqs("nghia-tan") == store_seqs(store)


def test_a_refused_token_says_which_key_to_fix(queue, store, clock, httpserver, rdb):
    queue.issue("hotich")
    httpserver.expect_request("/v1/events").respond_with_handler(Script(rdb, ["401"]))
    up = make_uplink(store, httpserver.url_for("/v1"), clock)
    with pytest.raises(UplinkError, match=r"refused the token.*\[uplink\] token"):
        up.run_once()
    assert store.cursor("uplink") == 0


def test_a_reply_acknowledging_less_moves_the_cursor_only_that_far(queue, store, clock, httpserver):
    busy_morning(queue, clock, tickets=5)
    httpserver.expect_request("/v1/events").respond_with_json({"ok": True, "last_seq": 3})
    up = make_uplink(store, httpserver.url_for("/v1"), clock, batch_size=10)
    assert up.send_batch() == 3
    assert store.cursor("uplink") == 3
    httpserver.clear()
    httpserver.expect_request("/v1/events").respond_with_json({"ok": True, "last_seq": 2})
    with pytest.raises(UplinkError, match="before this batch"):
        up.send_batch()
    httpserver.clear()
    httpserver.expect_request("/v1/events").respond_with_json({"ok": True})
    with pytest.raises(UplinkError, match="last_seq"):
        up.send_batch()
    assert store.cursor("uplink") == 3


# ---------------------------------------------------------------- TLS


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


def test_tls_is_verified_against_the_configured_ca(queue, store, clock, rdb, tmp_path, ca):
    cert = tmp_path / "server.pem"
    ca.issue_cert("127.0.0.1").private_key_and_cert_chain_pem.write_to_path(str(cert))
    ca_file = tmp_path / "province-ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    server = Running(rdb, certfile=str(cert))
    try:
        queue.issue("hotich")
        # Without the province's CA the self-signed chain is refused, never bypassed.
        up = make_uplink(store, server.url, clock)
        with pytest.raises(UplinkError) as e:
            up.run_once()
        assert e.value.kind == "tls" and "ca_bundle" in str(e.value)
        assert rdb.seqs("nghia-tan") == []
        # Another CA is refused as well.
        other = tmp_path / "other-ca.pem"
        trustme.CA().cert_pem.write_to_path(str(other))
        with pytest.raises(UplinkError, match="could not be verified"):
            make_uplink(store, server.url, clock, ca_bundle=str(other)).run_once()
        up = make_uplink(store, server.url, clock, ca_bundle=str(ca_file))
        assert up.run_once() == store.last_seq()
        assert rdb.seqs("nghia-tan") == store_seqs(store)
    finally:
        server.stop()


# ---------------------------------------------------------------- heartbeat


def test_heartbeat_reports_printer_paper_display_disk_version_and_uptime(
    queue, store, clock, receiver, rdb
):
    queue.record("printer_status", state="ok", detail="")
    clock.advance(30)
    queue.record("printer_status", state="paper_out", detail="paper sensor")
    queue.record("display_link", state="down", detail="no ack from hall display")
    up = make_uplink(store, receiver.url, clock)
    clock.advance(90)
    doc = up.heartbeat()
    hb = rdb.heartbeat("nghia-tan")
    assert hb is not None and hb["sent_at"] == doc["sent_at"]
    assert hb["printer"]["state"] == "paper_out" and hb["printer"]["paper"] == "out"
    assert hb["display_link"] == doc["display_link"]
    assert hb["display_link"]["state"] == "down"
    assert hb["disk"]["free_bytes"] > 0 and hb["disk"]["total_bytes"] >= hb["disk"]["free_bytes"]
    assert hb["version"] == __import__("kiosk").__version__
    assert hb["packages"]["queue-kiosk"] == hb["version"]
    assert hb["packages"]["python-escpos"] == __import__("importlib.metadata").metadata.version(
        "python-escpos"
    )
    assert hb["uptime_seconds"] == 90
    assert hb["uplink"]["backlog"] == store.last_seq() == 3
    assert hb["queue"] == {"day": None, "issued": 0, "waiting": {}}
    queue.issue("hotich")
    queue.issue("hotich")
    queue.issue("datdai")
    queue.call_next(4)
    doc = up.heartbeat()
    assert doc["queue"] == {"day": "2026-11-30", "issued": 3, "waiting": {"hotich": 2}}


def test_heartbeat_says_unknown_before_any_device_report(store, clock, receiver):
    doc = make_uplink(store, receiver.url, clock).heartbeat()
    assert doc["printer"]["state"] == "unknown" and doc["printer"]["paper"] == "unknown"
    assert doc["display_link"]["state"] == "unknown"


# ---------------------------------------------------------------- retention


def test_retention_keeps_every_event_the_uplink_has_not_sent(queue, store, clock, receiver):
    busy_morning(queue, clock, tickets=6)
    up = make_uplink(store, receiver.url, clock, batch_size=5)
    up.send_batch()  # 5 sent, the rest not
    store.set_cursor("printer", store.last_seq())  # other consumers are done with all
    clock.advance(500 * 86400)
    queue.issue("hotich")
    queue.prune()
    left = store_seqs(store)
    assert left[0] == 6  # only what the central server acknowledged was forgotten


def test_a_fresh_uplink_protects_unsent_events_before_its_first_send(queue, store, clock):
    busy_morning(queue, clock, tickets=3)
    make_uplink(store, "https://central.example/k", clock)  # registered, never sent
    store.set_cursor("printer", store.last_seq())
    n = store.last_seq()
    clock.advance(500 * 86400)
    queue.issue("hotich")
    queue.prune()
    assert store_seqs(store)[:n] == list(range(1, n + 1))


# ---------------------------------------------------------------- settings


def site_with(**uplink: Any) -> Config:
    raw = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    raw["uplink"].update(uplink)
    return validate(raw, "kiosk.toml")


def test_settings_come_from_the_site_file_with_a_token_file(tmp_path):
    tok = tmp_path / "uplink.token"
    tok.write_text("from-file\n")
    s = UplinkSettings.from_config(site_with(url="https://q.example/k/", token_file=str(tok)))
    assert (s.url, s.token, s.site) == ("https://q.example/k", "from-file", "nghia-tan")


@pytest.mark.parametrize(
    "keys, message",
    [
        ({"url": "http://10.1.2.3/k", "token": "t"}, "plain http; use https://"),
        ({"url": "q.example", "token": "t"}, "is not a web address"),
        ({"url": "", "token": "t"}, "uplink.url: empty"),
        ({"url": "https://q.example", "token": ""}, "uplink.token: empty"),
        (
            {"url": "https://q.example", "token_file": "/nonexistent/tok"},
            "cannot read /nonexistent/tok",
        ),
        (
            {"url": "https://q.example", "token": "t", "ca_bundle": "/no/ca.pem"},
            "ca_bundle: /no/ca.pem does not exist",
        ),
    ],
)
def test_bad_uplink_settings_name_the_key_and_the_fix(keys, message):
    with pytest.raises(ConfigError) as e:
        UplinkSettings.from_config(site_with(**keys))
    assert message in str(e.value) and "kiosk.toml" in str(e.value)


def test_plain_http_is_accepted_only_on_loopback():
    assert check_url("http://127.0.0.1:8787/k") is None
    assert check_url("http://localhost/k") is None
    assert check_url("http://192.168.1.10/k") is not None
    assert check_url("https://192.168.1.10/k") is None


# ---------------------------------------------------------------- receiver contract


def test_receiver_refuses_bad_tokens_other_sites_disorder_and_garbage(rdb):
    r = Receiver(rdb, {"t-any": "*", "t-one": "nghia-tan"})
    ev = {"seq": 1, "type": "day_opened", "at": "2026-11-30T01:00:00.000Z"}

    def post(token: str, doc: Any) -> tuple[int, dict[str, Any]]:
        body = doc if isinstance(doc, bytes) else json.dumps(doc).encode()
        return r.handle("POST", "/events", {"Authorization": f"Bearer {token}"}, body)

    assert post("wrong", {"schema": 1, "site": "a", "events": [ev]})[0] == 401
    assert post("t-one", {"schema": 1, "site": "other", "events": [ev]})[0] == 403
    assert post("t-one", b"{not json")[0] == 400
    assert post("t-one", {"schema": 9, "site": "nghia-tan", "events": [ev]})[0] == 400
    status, doc = post("t-any", {"schema": 1, "site": "a", "events": [{**ev, "seq": 2}, ev]})
    assert status == 400 and "send in order" in doc["error"]
    assert post("t-any", {"schema": 1, "site": "a", "events": []})[0] == 400
    assert r.handle("GET", "/nope", {}, b"")[0] == 404
    assert rdb.sites() == []  # nothing stored from any of it
    assert post("t-one", {"schema": 1, "site": "nghia-tan", "events": [ev]})[0] == 200


def test_receiver_serves_sites_and_events_to_province_tools(queue, store, clock, receiver, rdb):
    busy_morning(queue, clock, tickets=3)
    make_uplink(store, receiver.url, clock).run_once()
    import requests

    h = {"Authorization": f"Bearer {TOKEN}"}
    sites = requests.get(f"{receiver.url}/sites", headers=h, timeout=5).json()["sites"]
    assert sites[0]["site"] == "nghia-tan" and sites[0]["missing"] == 0
    got = requests.get(
        f"{receiver.url}/events?site=nghia-tan&after=2&limit=2", headers=h, timeout=5
    ).json()
    assert [e["seq"] for e in got["events"]] == [3, 4]


def test_receiver_command_refuses_a_busy_port_with_a_message(tmp_path, capsys):
    from kiosk.cli import main

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        code = main(
            [
                "receiver",
                "--listen",
                f"127.0.0.1:{port}",
                "--db",
                str(tmp_path / "r.db"),
                "--token",
                "t",
            ]
        )
    assert code == 2
    assert "cannot listen on" in capsys.readouterr().err


def test_kiosk_prune_keeps_unsent_events_when_the_uplink_is_enabled(tmp_path, capsys):
    from kiosk.cli import main

    site = tmp_path / "kiosk.toml"
    text = EXAMPLE.read_text(encoding="utf-8")
    enabled = text.replace("enabled = false\n# Base URL", "enabled = true\n# Base URL", 1)
    enabled = enabled.replace('url = ""\n# Bearer', 'url = "https://central.example/k"\n# Bearer')
    enabled = enabled.replace('token = ""\ntoken_file', 'token = "t"\ntoken_file')
    assert "https://central.example/k" in enabled and 'token = "t"' in enabled
    site.write_text(enabled, encoding="utf-8")
    db = tmp_path / "q.db"
    store = Store(db)
    with store.transaction() as tx:
        tx.append_event("day_opened", 0.0, "2020-01-01", None, {})  # an old, unsent event
    store.set_cursor("printer", 1)  # another consumer is done with it
    store.close()
    assert main(["prune", "--config", str(site), "--db", str(db)]) == 0
    assert "removed 0 old ticket(s) and 0 old event(s)" in capsys.readouterr().out


# ---------------------------------------------------------------- the loop's schedule


def play(up: Uplink, until: float, start: float = 0.0) -> float:
    """Drive the loop's rounds on a simulated monotonic clock; returns the end time."""
    now = start
    while now < until:
        now += max(0.01, up.step(now))
    return now


def test_a_heartbeat_that_gets_through_ends_the_backoff_after_an_outage(
    queue, store, clock, receiver, rdb
):
    up = make_uplink(store, receiver.url, clock, heartbeat_seconds=60, max_backoff=300)
    receiver.stop()
    queue.issue("hotich")
    now = play(up, 1800)  # half an hour offline: the backoff has reached its cap
    assert up.failures >= 8 and up._retry_at - now > 60  # the next event retry is far off
    receiver.start()
    back = now
    while rdb.seqs("nghia-tan") != store_seqs(store):
        now += max(0.01, up.step(now))
        assert now - back <= 60.01  # the heartbeat probe finds the link within a period
    assert up.failures == 0 and not up.backing_off


def test_a_failing_server_keeps_its_backoff_though_heartbeats_get_through(
    queue, store, clock, httpserver
):
    httpserver.expect_request("/v1/events").respond_with_data("boom", status=500)
    httpserver.expect_request("/v1/heartbeat").respond_with_json({"ok": True})
    queue.issue("hotich")
    up = make_uplink(store, httpserver.url_for("/v1"), clock, heartbeat_seconds=60)
    play(up, 1800)
    paths = [req.path for req, _ in httpserver.log]
    assert paths.count("/v1/heartbeat") == 30  # one a minute
    # Delays 1, 2, 4 … 256 s (each between half and all of it) then 150–300 s at the cap:
    # 14 to 21 attempts in 30 minutes whatever the jitter; heartbeats do not add retries.
    assert 14 <= paths.count("/v1/events") <= 21


def test_retry_after_silences_heartbeats_too(queue, store, clock, httpserver):
    httpserver.expect_request("/v1/events").respond_with_data(
        "later", status=429, headers={"Retry-After": "600"}
    )
    httpserver.expect_request("/v1/heartbeat").respond_with_json({"ok": True})
    queue.issue("hotich")
    up = make_uplink(store, httpserver.url_for("/v1"), clock, heartbeat_seconds=60)
    play(up, 599)
    assert [req.path for req, _ in httpserver.log] == ["/v1/heartbeat", "/v1/events"]
    play(up, 601, start=600)
    assert [req.path for req, _ in httpserver.log][2:] == ["/v1/heartbeat", "/v1/events"]


def test_kiosk_uplink_shows_the_backlog_and_sends_on_request(tmp_path, receiver, rdb, capsys):
    from kiosk.cli import main

    site = tmp_path / "kiosk.toml"
    text = EXAMPLE.read_text(encoding="utf-8")
    head, uplink = text.split("\n[uplink]\n", 1)
    uplink = uplink.replace("enabled = false\n# Base URL", "enabled = true\n# Base URL", 1)
    uplink = uplink.replace('\nurl = ""\n', f'\nurl = "{receiver.url}"\n', 1)
    uplink = uplink.replace('\ntoken = ""\ntoken_file', f'\ntoken = "{TOKEN}"\ntoken_file', 1)
    site.write_text(head + "\n[uplink]\n" + uplink, encoding="utf-8")
    db = str(tmp_path / "q.db")
    Store(db).close()
    argv = ["--config", str(site), "--db", db]
    assert main(["issue", "hotich", *argv]) == 0
    capsys.readouterr()
    assert main(["uplink", *argv, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["backlog"] == 2
    assert main(["uplink", "--send", "--heartbeat", *argv]) == 0
    assert "sent 2 event(s); 0 left" in capsys.readouterr().out
    assert rdb.seqs("nghia-tan") == [1, 2] and rdb.heartbeat("nghia-tan") is not None
    receiver.stop()
    assert main(["issue", "hotich", *argv]) == 0
    assert main(["uplink", "--send", *argv]) == 1
    err = capsys.readouterr().err
    assert "uplink: cannot reach" in err and "Traceback" not in err
    receiver.start()


def test_the_running_uplink_delivers_everything_through_a_flaky_server(
    queue, store, clock, httpserver, rdb
):
    rng = random.Random(42)
    faults = rng.choices(["ok", "500", "429", "lost_reply", "slow"], [5, 1, 1, 1, 1], k=2000)
    script = Script(rdb, [f.replace("429", "429now") for f in faults], delay=0.15)
    real = script.__call__

    def handler(request: Request) -> Response:
        if script.faults and script.faults[0] == "429now":
            script.faults.pop(0)
            return Response("busy", status=429, headers={"Retry-After": "0"})
        return real(request)

    httpserver.expect_request("/v1/events").respond_with_handler(handler)
    httpserver.expect_request("/v1/heartbeat").respond_with_json({"ok": True})
    s = settings(
        httpserver.url_for("/v1"),
        timeout=0.1,
        batch_size=7,
        min_backoff=0.005,
        max_backoff=0.3,
        heartbeat_seconds=10,
    )
    up = Uplink(store, s, clock=clock, rng=random.Random(1)).start()
    try:
        for i in range(80):  # the office keeps working while the uplink struggles
            queue.issue(("hotich", "chungthuc", "tracuu")[i % 3])
            if i % 2:
                queue.call_next(1 + i % 3)
        deadline = time.monotonic() + 120
        while backlog(store) and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        up.stop()
    assert backlog(store) == 0
    assert rdb.seqs("nghia-tan") == store_seqs(store)
    assert script.arrivals == store_seqs(store)  # first arrivals in order, no gaps
    with rdb.lock:
        dups = rdb.conn.execute("SELECT SUM(duplicates) FROM batches").fetchone()[0]
    assert dups > 0  # resent batches happened, and were absorbed


def test_sigkill_at_any_instant_loses_and_reorders_nothing(queue, store, clock, receiver, rdb):
    import os
    import signal
    import subprocess
    import sys

    busy_morning(queue, clock, tickets=120)  # about 190 events, 64 batches of 3
    worker = Path(__file__).with_name("uplink_worker.py")
    rng = random.Random(9)

    def start() -> subprocess.Popen[bytes]:
        p = subprocess.Popen(
            [sys.executable, str(worker), str(store.path), receiver.url, TOKEN],
            stdout=subprocess.PIPE,
        )
        assert p.stdout is not None and p.stdout.readline().strip() == b"STARTED"
        return p

    def wait(cond: Callable[[], bool], what: str, p: subprocess.Popen[bytes]) -> None:
        # A generous bound: only a hang reaches it, never a slow machine.
        deadline = time.monotonic() + 120
        while not cond():
            if time.monotonic() > deadline:
                p.kill()
                raise AssertionError(f"the uplink worker made no progress: {what}")
            time.sleep(0.005)

    # Each life is killed at a random instant; every other life only once it has had at
    # least one batch acknowledged, so the kills fall anywhere in the stream (before the
    # first reply, between a reply and the cursor's commit, mid-batch) and the backlog
    # shrinks however slow the machine is. What is checked is loss and order, not speed.
    mid_stream = 0
    for life in range(16):
        before = backlog(store)
        if before == 0:
            break
        p = start()
        if life % 2:
            wait(lambda b=before: backlog(store) < b, "no batch acknowledged", p)
        time.sleep(rng.uniform(0.0, 0.03))
        os.kill(p.pid, signal.SIGKILL)
        p.wait()
        mid_stream += backlog(store) > 0
    assert mid_stream >= 5  # several lives were killed with events still to send
    p = start()  # the last life runs to the end
    try:
        wait(lambda: backlog(store) == 0, f"{backlog(store)} events never sent", p)
    finally:
        p.kill()
        p.wait()
    assert rdb.seqs("crash") == store_seqs(store)
    with rdb.lock:
        batches = rdb.conn.execute("SELECT first_seq, last_seq FROM batches").fetchall()
    # Every batch starts right after what the receiver held (or repeats one): never a gap.
    held = 0
    for first, last in batches:
        assert first <= held + 1
        held = max(held, last)


# ---------------------------------------------------------------- daily reports


def test_each_closed_day_sends_its_report_once_the_close_is_acknowledged(
    cfg, queue, store, clock, receiver, rdb
):
    from kiosk.office.uplink import REPORTS_KEY

    queue.issue("hotich")
    clock.advance(300)
    queue.call_next(1)
    clock.advance(240)
    queue.finish(1)
    queue.rate(1, 3)
    queue.issue("chungthuc")
    clock.set_local(cfg, "2026-11-30T17:05:00")
    queue.close_day()
    receiver.stop()  # the day closes while the central server is unreachable
    up = Uplink(store, settings(receiver.url), clock=clock, rng=random.Random(1), cfg=cfg)
    with pytest.raises(UplinkError):
        up.run_once()
    receiver.start()
    # A restart in between: what is due is in the store, not in memory.
    up = Uplink(store, settings(receiver.url), clock=clock, rng=random.Random(1), cfg=cfg)
    up.run_once()
    got = rdb.reports("nghia-tan")
    assert [r["day"] for r in got] == ["2026-11-30"]
    total = got[0]["report"]["total"]
    assert (total["issued"], total["served"], total["expired"]) == (2, 1, 1)
    assert (total["wait_mean_min"], total["satisfaction_pct"]) == (5.0, 100.0)
    with store.read() as tx:
        assert json.loads(tx.get_meta(REPORTS_KEY) or "[]") == []
    up.run_once()
    assert len(rdb.reports("nghia-tan")) == 1  # nothing due, nothing sent again


def test_the_receiver_serves_daily_reports_by_period(rdb):
    r = Receiver(rdb, {TOKEN: "*"})
    auth = {"Authorization": f"Bearer {TOKEN}"}
    for day in ("2026-11-28", "2026-11-30"):
        body = json.dumps({"schema": 1, "site": "a", "day": day, "report": {"x": day}}).encode()
        assert r.handle("POST", "/k/report", auth, body)[0] == 200
    bad = json.dumps({"schema": 1, "site": "a", "day": "30/11", "report": {}}).encode()
    assert r.handle("POST", "/k/report", auth, bad)[0] == 400
    status, doc = r.handle("GET", "/k/reports?site=a&from=2026-11-29", auth, b"")
    assert status == 200 and [x["day"] for x in doc["reports"]] == ["2026-11-30"]


def test_receiver_refuses_an_oversized_body_before_reading_it(receiver):
    import http.client

    from central.receiver import MAX_BODY

    conn = http.client.HTTPConnection("127.0.0.1", receiver.port, timeout=5)
    conn.putrequest("POST", "/kiosk/v1/events")
    conn.putheader("Authorization", f"Bearer {TOKEN}")
    conn.putheader("Content-Length", str(MAX_BODY + 1))
    conn.endheaders()  # and never send the body: the answer must come anyway
    r = conn.getresponse()
    assert r.status == 413 and "body over" in json.loads(r.read())["error"]
    conn.close()


def test_events_of_a_restored_database_are_kept_aside_not_dropped(
    cfg, queue, store, clock, receiver, rdb, tmp_path, caplog
):
    import sqlite3

    busy_morning(queue, clock, tickets=3)
    backup = tmp_path / "backup.db"
    with sqlite3.connect(backup) as dst:
        store.conn.backup(dst)  # last night's copy
    at_backup = store.last_seq()
    clock.advance(600)
    queue.issue("datdai")
    make_uplink(store, receiver.url, clock).run_once()  # the central server has it all
    # The SD card dies; the technician restores last night's copy and the day goes on.
    restored = Store(backup)
    try:
        clock.advance(600)
        Queue(cfg, restored, clock).issue("kinhte")
        up = make_uplink(restored, receiver.url, clock)
        up.run_once()
        new = restored.last_seq() - at_backup
        assert new >= 1 and up.conflicts == new
        assert "restored from a backup" in caplog.text
        site = next(s for s in rdb.sites() if s["site"] == "nghia-tan")
        assert site["conflicts"] == new
        with rdb.lock:
            kept = rdb.conn.execute("SELECT body FROM conflicts").fetchall()
        assert any('"service":"kinhte"' in b for (b,) in kept)  # the new ticket is not lost
        assert up.heartbeat()["uplink"]["conflicts"] == new
    finally:
        restored.close()
