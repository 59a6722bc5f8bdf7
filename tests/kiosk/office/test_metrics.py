"""Prometheus metrics scraped over loopback and parsed with prometheus_client's parser;
figures checked against a hand-made morning, across restarts and retention."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from kiosk.cli import main
from kiosk.core.store import Store
from kiosk.office.metrics import MetricsConsumer


def parse(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for fam in text_string_to_metric_families(text):
        for s in fam.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def value(samples: dict[Any, float], name: str, **labels: str) -> float:
    return samples[(name, tuple(sorted(labels.items())))]


@pytest.fixture
def served(cfg, store, clock) -> Iterator[MetricsConsumer]:
    m = MetricsConsumer(store, cfg, clock)
    m.serve("127.0.0.1:0")
    yield m
    m.stop()


def scrape(m: MetricsConsumer) -> dict[Any, float]:
    host, port = m.server.server_address[:2]
    r = requests.get(f"http://{host}:{port}/metrics", timeout=5)
    assert r.status_code == 200
    return parse(r.text)


def morning(queue, clock) -> None:
    """08:00 A001, A002, B001 (priority); counter 1 calls A001 after 5 min, serves it in
    4 min (rated 3), then calls A002 (waited 8 min 30 s) who does not come; counter 2 calls
    B001 after 11 min 20 s and serves it in 2 min (rated 1); A003 is still waiting."""
    queue.issue("hotich")  # A001 at 08:00:00
    clock.advance(30)
    queue.issue("hotich")  # A002 at 08:00:30
    queue.issue("chungthuc", priority=True)  # B001 at 08:00:30
    clock.advance(270)
    queue.call_next(1)  # 08:05:00 A001 waited 300 s
    clock.advance(240)
    queue.finish(1)  # 08:09:00 A001 served in 240 s
    queue.rate(1, 3)  # A001
    queue.call_next(1)  # 08:09:00 A002 waited 510 s
    clock.advance(60)
    queue.skip(1)  # 08:10:00 A002 no-show; nobody else for counter 1
    clock.advance(110)
    queue.call_next(2)  # 08:11:50 B001 waited 680 s
    clock.advance(120)
    queue.finish(2)  # 08:13:50 B001 served in 120 s
    queue.rate(2, 1)  # B001
    queue.issue("hotich")  # A003 waiting


def test_scraped_figures_match_a_hand_made_morning(cfg, queue, clock, served):
    morning(queue, clock)
    s = scrape(served)
    assert value(s, "kiosk_tickets_issued_total", service="hotich") == 3
    assert value(s, "kiosk_tickets_issued_total", service="chungthuc") == 1
    assert value(s, "kiosk_tickets_issued_total", service="datdai") == 0
    assert value(s, "kiosk_tickets_served_total", service="hotich") == 1
    assert value(s, "kiosk_tickets_served_total", service="chungthuc") == 1
    assert value(s, "kiosk_tickets_no_show_total", service="hotich") == 1
    assert value(s, "kiosk_waiting", service="hotich") == 1
    assert value(s, "kiosk_waiting", service="chungthuc") == 0
    assert value(s, "kiosk_ratings_total", service="hotich", rating="3") == 1
    assert value(s, "kiosk_ratings_total", service="chungthuc", rating="1") == 1
    # Waiting times of hotich: 300 s (A001) and 510 s (A002).
    assert value(s, "kiosk_wait_seconds_count", service="hotich") == 2
    assert value(s, "kiosk_wait_seconds_sum", service="hotich") == 810
    assert value(s, "kiosk_wait_seconds_bucket", service="hotich", le="300.0") == 1
    assert value(s, "kiosk_wait_seconds_bucket", service="hotich", le="600.0") == 2
    assert value(s, "kiosk_wait_seconds_bucket", service="chungthuc", le="600.0") == 0
    assert value(s, "kiosk_wait_seconds_bucket", service="chungthuc", le="900.0") == 1
    assert value(s, "kiosk_wait_seconds_sum", service="chungthuc") == 680
    assert value(s, "kiosk_service_seconds_sum", service="hotich") == 240
    assert value(s, "kiosk_service_seconds_sum", service="chungthuc") == 120
    assert value(s, "kiosk_info", version=__import__("kiosk").__version__, site="nghia-tan") == 1


def test_device_states_and_uplink_backlog_follow_the_latest_events(cfg, queue, store, served):
    s = scrape(served)
    assert value(s, "kiosk_printer_state", state="unknown") == 1
    assert value(s, "kiosk_display_link_state", state="unknown") == 1
    assert ("kiosk_uplink_backlog_events", ()) not in s  # no uplink on this kiosk
    queue.record("printer_status", state="paper_near_end", detail="")
    queue.record("display_link", state="up", detail="")
    queue.issue("hotich")
    store.set_cursor("uplink", 1)
    s = scrape(served)
    assert value(s, "kiosk_printer_state", state="paper_near_end") == 1
    assert value(s, "kiosk_printer_state", state="ok") == 0
    assert value(s, "kiosk_paper_state", state="near_end") == 1
    assert value(s, "kiosk_display_link_state", state="up") == 1
    assert value(s, "kiosk_display_link_state", state="down") == 0
    assert value(s, "kiosk_uplink_backlog_events") == store.last_seq() - 1
    queue.record("display_link", state="down", detail="cable")
    assert value(scrape(served), "kiosk_display_link_state", state="down") == 1


def test_totals_survive_a_restart_without_counting_twice(cfg, queue, store, clock, tmp_path):
    morning(queue, clock)
    first = parse(MetricsConsumer(store, cfg).exposition())
    queue.issue("hotich")
    again = Store(tmp_path / "queue.db")  # another process after a restart
    try:
        m2 = MetricsConsumer(again, cfg)
        assert m2.totals["issued"]["hotich"] == 3  # what was saved, before catching up
        s = parse(m2.exposition())
    finally:
        again.close()
    assert value(first, "kiosk_tickets_issued_total", service="hotich") == 3
    assert value(s, "kiosk_tickets_issued_total", service="hotich") == 4
    assert value(s, "kiosk_wait_seconds_count", service="hotich") == 2


def test_counters_do_not_go_back_when_old_events_are_pruned(cfg, queue, store, clock):
    m = MetricsConsumer(store, cfg)
    morning(queue, clock)
    m.run_once()
    clock.advance(500 * 86400)
    queue.issue("datdai")
    m.run_once()
    store.set_cursor("printer", store.last_seq())
    _, events = queue.prune()
    assert events > 0
    s = parse(MetricsConsumer(store, cfg).exposition())
    assert value(s, "kiosk_tickets_issued_total", service="hotich") == 3
    assert value(s, "kiosk_tickets_issued_total", service="datdai") == 1


def test_kiosk_metrics_prints_the_page_for_a_technician(cfg, queue, clock, tmp_path, capsys):
    morning(queue, clock)
    assert main(["metrics", "--db", str(tmp_path / "queue.db")]) == 0
    s = parse(capsys.readouterr().out)
    assert value(s, "kiosk_tickets_issued_total", service="hotich") == 3
