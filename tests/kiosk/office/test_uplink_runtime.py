"""The running kiosk starts the uplink and the metrics page from the site file."""

from __future__ import annotations

import threading
import time
import tomllib

import requests

from central.receiver import Receiver, ReceiverDB, make_server
from kiosk.compose import start_consumers, stop_consumers
from kiosk.core.config import validate
from kiosk.core.queue import Queue
from tests.conftest import EXAMPLE


def test_start_consumers_runs_uplink_and_metrics_when_enabled(store, tmp_path):
    db = ReceiverDB(tmp_path / "r.db")
    server = make_server("127.0.0.1", 0, Receiver(db, {"t": "*"}))
    threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    ).start()
    raw = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    raw["display"]["enabled"] = False
    raw["printer"]["uri"] = "dummy:"  # other consumers run too; keep them off hardware
    raw["uplink"].update(
        enabled=True, url=f"http://127.0.0.1:{server.server_address[1]}/k", token="t"
    )
    raw["metrics"].update(enabled=True, listen="127.0.0.1:0")
    cfg = validate(raw, "kiosk.toml")
    queue = Queue(cfg, store)
    consumers = start_consumers(cfg, queue)
    try:
        assert {"metrics", "uplink"} <= {c.name for c in consumers}
        queue.issue("hotich")
        deadline = time.monotonic() + 60

        def all_sent() -> bool:
            return db.seqs("nghia-tan") == list(range(1, store.last_seq() + 1))

        while not all_sent() and time.monotonic() < deadline:
            time.sleep(0.02)
        # day_opened, ticket_issued, and whatever the other consumers wrote (printer…)
        assert all_sent() and store.last_seq() >= 2
        metrics = next(c for c in consumers if c.name == "metrics")
        host, port = metrics.server.server_address[:2]  # type: ignore[attr-defined]
        page = requests.get(f"http://{host}:{port}/metrics", timeout=5).text
        assert 'kiosk_tickets_issued_total{service="hotich"} 1.0' in page
    finally:
        stop_consumers(consumers)
        server.shutdown()
        server.server_close()
        db.close()


def test_a_token_file_gone_after_checking_leaves_the_office_running(store, caplog, tmp_path):
    token = tmp_path / "uplink.token"
    token.write_text("t\n")
    raw = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    raw["display"]["enabled"] = False
    raw["printer"]["uri"] = "dummy:"  # other consumers run too; keep them off hardware
    raw["uplink"].update(enabled=True, url="https://10.0.0.9/k", token_file=str(token))
    cfg = validate(raw, "kiosk.toml")
    token.unlink()  # the site file was fine when checked; the SD card lost the token since
    consumers = start_consumers(cfg, Queue(cfg, store))
    stop_consumers(consumers)
    assert "uplink" not in {c.name for c in consumers}
    assert "uplink off" in caplog.text and "cannot read" in caplog.text


def test_start_consumers_fetches_bookings_when_enabled(store, clock):
    from pytest_httpserver import HTTPServer

    from kiosk.office.bookings import check_in

    server = HTTPServer(host="127.0.0.1", port=0)
    server.start()
    try:
        raw = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
        raw["display"]["enabled"] = False
        raw["printer"]["uri"] = "dummy:"
        raw["appointments"].update(enabled=True, url=server.url_for("/b"))
        cfg = validate(raw, "kiosk.toml")
        queue = Queue(cfg, store, clock)
        server.expect_request(
            "/b", query_string={"day": queue.today(), "site": "nghia-tan"}
        ).respond_with_json({"bookings": [{"code": "HB-1", "service": "tracuu"}]})
        consumers = start_consumers(cfg, queue)
        try:
            fetcher = next(c for c in consumers if c.name == "bookings")
            deadline = time.monotonic() + 60
            while fetcher.last_ok is None and time.monotonic() < deadline:  # type: ignore[attr-defined]
                time.sleep(0.02)
            assert check_in(queue, "hb-1").ticket.code == "F001"
        finally:
            stop_consumers(consumers)
    finally:
        server.stop()
