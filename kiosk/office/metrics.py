"""Prometheus metrics for province IT, derived from the store so they survive restarts.

Counters and histograms (tickets issued, served, no-show and expired by service,
ratings, waiting and service times) are folded from the event log by a consumer
that saves its totals in the store together with its cursor, in one transaction:
after a restart or a power cut the totals continue exactly where the log says,
and retention pruning old events does not make them go backwards. Gauges
(waiting now, printer, paper, display link, uplink backlog) are read from the
store at each scrape. Served by prometheus_client on ``[metrics] listen``.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)

from kiosk import __version__
from kiosk.core import events
from kiosk.core.config import Config
from kiosk.core.consumer import Consumer
from kiosk.core.queue import business_day
from kiosk.core.store import Event, Store
from kiosk.office.uplink import PAPER

log = logging.getLogger(__name__)

#: Upper bounds (seconds) of the waiting-time buckets: 1, 2, 5, 10 … 120 minutes.
WAIT_BUCKETS = (60, 120, 300, 600, 900, 1200, 1800, 2700, 3600, 5400, 7200)
#: Upper bounds (seconds) of the service-time buckets at the counter.
SERVICE_BUCKETS = (60, 120, 300, 600, 900, 1200, 1800, 3600)
PRINTER_STATES = ("ok", "paper_near_end", "paper_out", "offline", "unknown")
PAPER_STATES = ("ok", "near_end", "out", "unknown")
LINK_STATES = ("up", "down", "unknown")
TOTALS_KEY = "metrics_totals"
COUNTED = {
    events.TICKET_ISSUED: "issued",
    events.TICKET_SERVED: "served",
    events.TICKET_SKIPPED: "no_show",
    events.TICKET_EXPIRED: "expired",
    events.TICKET_TRANSFERRED: "transferred",
}


def _empty() -> dict[str, Any]:
    return {
        "issued": {},
        "served": {},
        "no_show": {},
        "expired": {},
        "transferred": {},
        "ratings": {},
        "wait": {},
        "service": {},
    }


def _observe(hist: dict[str, Any], service: str, value: float, bounds: tuple[int, ...]) -> None:
    h = hist.setdefault(service, {"buckets": [0] * len(bounds), "count": 0, "sum": 0.0})
    for i, b in enumerate(bounds):
        if value <= b:
            h["buckets"][i] += 1
    h["count"] += 1
    h["sum"] += value


class MetricsConsumer(Consumer):
    """Folds the event log into durable totals; :meth:`collect` yields Prometheus metrics."""

    name = "metrics"

    def __init__(self, store: Store, cfg: Config, clock: Callable[[], float] = time.time):
        super().__init__(store)
        self.cfg = cfg
        self.clock = clock
        self._fold_lock = threading.Lock()
        self.server: Any = None
        #: Several kiosks on one store each fold the log into totals of their own.
        suffix = f"@{cfg.kiosk.id}" if cfg.kiosk.id else ""
        self.name = f"metrics{suffix}"
        self.totals_key = f"{TOTALS_KEY}{suffix}"
        with store.read() as tx:
            saved = tx.get_meta(self.totals_key)
        self.totals = json.loads(saved) if saved else _empty()

    # ------------------------------------------------------------------ folding
    def _fold(self, ev: Event) -> None:
        t = self.totals
        p = ev.payload
        svc = str(p.get("service", ""))
        kind = COUNTED.get(ev.type)
        if kind:
            # A transfer counts against the service the ticket left.
            key = str(p.get("from_service", svc)) if kind == "transferred" else svc
            t[kind][key] = t[kind].get(key, 0) + 1
        if ev.type == events.TICKET_CALLED and not p.get("recall"):
            _observe(t["wait"], svc, float(p.get("waited_seconds", 0)), WAIT_BUCKETS)
        elif ev.type == events.TICKET_SERVED:
            _observe(t["service"], svc, float(p.get("service_seconds", 0)), SERVICE_BUCKETS)
        elif ev.type == events.TICKET_RATED:
            r = t["ratings"].setdefault(svc, {})
            r[str(p.get("rating"))] = r.get(str(p.get("rating")), 0) + 1

    def run_once(self, limit: int = 100_000, wait: bool = True) -> int:
        """Fold new events; totals and cursor are saved in one transaction per batch.

        With ``wait=False`` it returns at once if another thread is folding (a scrape
        then shows the figures saved so far instead of waiting for a long first fold).
        """
        done = 0
        if not self._fold_lock.acquire(blocking=wait):
            return 0
        try:
            cursor = self.store.cursor(self.name)
            while done < limit:
                batch = self.store.events_since(cursor, limit=1000)
                if not batch:
                    break
                backup = json.dumps(self.totals)
                try:
                    for ev in batch:
                        self._fold(ev)
                    cursor = batch[-1].seq
                    with self.store.transaction() as tx:
                        tx.set_meta(self.totals_key, json.dumps(self.totals, separators=(",", ":")))
                        tx.save_cursor(self.name, cursor, time.time(), forward_only=False)
                except BaseException:
                    # The store refused: forget this batch so it is folded once, later.
                    self.totals = json.loads(backup)
                    raise
                done += len(batch)
        finally:
            self._fold_lock.release()
        return done

    # ------------------------------------------------------------------ exposition
    def collect(self) -> Iterable[Metric]:
        """Called by prometheus_client at each scrape: catch up, then report."""
        try:
            self.run_once(wait=False)
        except Exception as e:  # a scrape still shows the last saved figures
            log.warning("metrics: cannot read new events: %s", e)
        t = self.totals
        services = [s.id for s in self.cfg.services]
        helps = {
            "issued": "Tickets issued, by the service chosen at the kiosk",
            "served": "Tickets served to the end, by the service that finished them",
            "no_show": "Tickets called but the citizen did not come (skipped), by service",
            "expired": "Tickets still waiting at closing, by service",
            "transferred": "Tickets transferred away from a service",
        }
        for kind, help in helps.items():
            m = CounterMetricFamily(f"kiosk_tickets_{kind}", help, labels=["service"])
            for s in _keys(services, t[kind]):
                m.add_metric([s], t[kind].get(s, 0))
            yield m
        m = CounterMetricFamily(
            "kiosk_ratings",
            "Satisfaction ratings (3 Rất hài lòng, 2 Hài lòng, 1 Chưa hài lòng), by service",
            labels=["service", "rating"],
        )
        for s in _keys(services, t["ratings"]):
            for r in ("3", "2", "1"):
                m.add_metric([s, r], t["ratings"].get(s, {}).get(r, 0))
        yield m
        for key, name, help, bounds in (
            ("wait", "kiosk_wait_seconds", "Waiting time from issue to first call", WAIT_BUCKETS),
            (
                "service",
                "kiosk_service_seconds",
                "Time at the counter from call to served",
                SERVICE_BUCKETS,
            ),
        ):
            h = HistogramMetricFamily(name, help, labels=["service"])
            for s in _keys(services, t[key]):
                d = t[key].get(s, {"buckets": [0] * len(bounds), "count": 0, "sum": 0.0})
                buckets = [(str(float(b)), d["buckets"][i]) for i, b in enumerate(bounds)]
                buckets.append(("+Inf", d["count"]))
                h.add_metric([s], buckets, d["sum"])
            yield h
        yield from self._gauges(services)

    def _gauges(self, services: list[str]) -> Iterable[Metric]:
        day = business_day(self.cfg, self.clock())
        with self.store.read() as tx:
            waiting = {s: tx.count_waiting(day, s) for s in services}
            priority = {s: tx.count_waiting(day, s, priority_only=True) for s in services}
            row = tx.cursor_row(events.UPLINK_CURSOR)
            last = tx.last_seq()
            unsent = tx.count_events_after(row[0]) if row else None
        g = GaugeMetricFamily("kiosk_waiting", "Tickets waiting now", labels=["service"])
        for s in services:
            g.add_metric([s], waiting[s])
        yield g
        g = GaugeMetricFamily(
            "kiosk_waiting_priority", "Priority tickets waiting now", labels=["service"]
        )
        for s in services:
            g.add_metric([s], priority[s])
        yield g
        p = events.latest(self.store, events.PRINTER_STATUS)
        state = str(p.payload.get("state", "unknown")) if p else "unknown"
        yield _state_set(
            "kiosk_printer_state", "Printer state (1 = current)", PRINTER_STATES, state
        )
        yield _state_set(
            "kiosk_paper_state", "Paper (1 = current)", PAPER_STATES, PAPER.get(state, "unknown")
        )
        d = events.latest(self.store, events.DISPLAY_LINK)
        link = str(d.payload.get("state", "unknown")) if d else "unknown"
        yield _state_set(
            "kiosk_display_link_state", "Hall display link (1 = current)", LINK_STATES, link
        )
        yield GaugeMetricFamily("kiosk_events_last_seq", "Newest event sequence number", last)
        if unsent is not None and row is not None:
            yield GaugeMetricFamily(
                "kiosk_uplink_backlog_events",
                "Events not yet acknowledged by the central server",
                unsent,
            )
            yield GaugeMetricFamily(
                "kiosk_uplink_last_ack_timestamp_seconds",
                "When the central server last acknowledged events (Unix time)",
                row[1],
            )
        info = GaugeMetricFamily(
            "kiosk_info", "Software version and site", labels=["version", "site"]
        )
        info.add_metric([__version__, self.cfg.site.id], 1)
        yield info

    def describe(self) -> Iterable[Metric]:
        # Described lazily: registering must not read the store.
        return []

    # ------------------------------------------------------------------ serving
    def registry(self) -> CollectorRegistry:
        reg = CollectorRegistry(auto_describe=False)
        reg.register(self)  # type: ignore[arg-type]
        return reg

    def exposition(self) -> str:
        """The metrics page as text (what Prometheus would scrape)."""
        return generate_latest(self.registry()).decode("utf-8")

    def serve(self, listen: str) -> tuple[str, int]:
        """Serve the metrics page on ``host:port``; returns the bound address."""
        from prometheus_client import start_http_server

        host, _, port = listen.rpartition(":")
        server, _thread = start_http_server(int(port), host.strip("[]"), self.registry())
        self.server = server
        addr = server.server_address
        return str(addr[0]), int(addr[1])

    def stop(self, timeout: float = 5.0) -> None:
        super().stop(timeout)
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None


def _keys(services: list[str], seen: dict[str, Any]) -> list[str]:
    # Configured services always appear (as 0); services since removed keep their history.
    return services + sorted(k for k in seen if k not in services)


def _state_set(name: str, help: str, states: tuple[str, ...], current: str) -> GaugeMetricFamily:
    g = GaugeMetricFamily(name, help, labels=["state"])
    for s in states if current in states else (*states, current):
        g.add_metric([s], 1 if s == current else 0)
    return g


def from_config(cfg: Config, store: Store) -> MetricsConsumer:
    """The metrics consumer of a running kiosk, serving on ``[metrics] listen``."""
    m = MetricsConsumer(store, cfg)
    try:
        m.serve(cfg.metrics.listen)
    except OSError as e:
        log.error(
            "metrics: cannot listen on %s (%s); change [metrics] listen",
            cfg.metrics.listen,
            e.strerror,
        )
    return m
