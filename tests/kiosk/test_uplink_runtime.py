"""The running kiosk starts the uplink and the metrics page from the site file."""

from __future__ import annotations

import threading
import time
import tomllib

import requests

from kiosk.config import validate
from kiosk.queue import Queue
from kiosk.receiver import Receiver, ReceiverDB, make_server
from kiosk.runtime import start_consumers, stop_consumers
from tests.conftest import EXAMPLE


def test_start_consumers_runs_uplink_and_metrics_when_enabled(store, tmp_path):
    db = ReceiverDB(tmp_path / "r.db")
    server = make_server("127.0.0.1", 0, Receiver(db, {"t": "*"}))
    threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    ).start()
    raw = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    raw["display"]["enabled"] = False
    raw["uplink"].update(
        enabled=True, url=f"http://127.0.0.1:{server.server_address[1]}/k", token="t"
    )
    raw["metrics"].update(enabled=True, listen="127.0.0.1:0")
    cfg = validate(raw, "kiosk.toml")
    queue = Queue(cfg, store)
    consumers = start_consumers(cfg, queue)
    try:
        assert sorted(c.name for c in consumers) == ["metrics", "uplink"]
        queue.issue("hotich")
        deadline = time.monotonic() + 5
        while db.seqs("nghia-tan") != [1, 2] and time.monotonic() < deadline:
            time.sleep(0.02)
        assert db.seqs("nghia-tan") == [1, 2]  # day_opened, ticket_issued
        metrics = next(c for c in consumers if c.name == "metrics")
        host, port = metrics.server.server_address[:2]  # type: ignore[attr-defined]
        page = requests.get(f"http://{host}:{port}/metrics", timeout=5).text
        assert 'kiosk_tickets_issued_total{service="hotich"} 1.0' in page
    finally:
        stop_consumers(consumers)
        server.shutdown()
        server.server_close()
        db.close()


def test_a_bad_uplink_section_leaves_the_office_running(store, caplog):
    raw = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    raw["display"]["enabled"] = False
    raw["uplink"].update(enabled=True, url="http://10.0.0.9/k", token="t")
    cfg = validate(raw, "kiosk.toml")
    consumers = start_consumers(cfg, Queue(cfg, store))
    stop_consumers(consumers)
    assert consumers == []
    assert "uplink off" in caplog.text and "use https://" in caplog.text
