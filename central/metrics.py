"""``/metrics``: each office's figures for Prometheus, folded from the dashboard's rows.

Series (one per site, label ``site``; documented with a Grafana set in docs/central.md):
``central_tickets_issued_today``, ``central_tickets_served_today``,
``central_tickets_waiting``, ``central_longest_wait_seconds``,
``central_satisfaction_ratio``, ``central_heartbeat_age_seconds``,
``central_printer_state{state}``, ``central_display_link_state{state}``,
``central_uplink_backlog_events``, ``central_conflicting_events``,
``central_office_severity`` (0 fine … 3 out of touch).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric

from central.dashboard import Office

PRINTER_STATES = ("ok", "paper_near_end", "paper_out", "offline", "unknown")
LINK_STATES = ("up", "down", "unknown")


class _Collector:
    def __init__(self, offices: Iterable[Office]):
        self.offices = list(offices)

    def collect(self) -> Iterator[Metric]:
        def gauge(name: str, doc: str, value: object) -> GaugeMetricFamily:
            g = GaugeMetricFamily(name, doc, labels=["site"])
            for o in self.offices:
                v = value(o)  # type: ignore[operator]
                if v is not None:
                    g.add_metric([o.site], float(v))
            return g

        yield gauge("central_tickets_issued_today", "Tickets issued today", lambda o: o.issued)
        yield gauge("central_tickets_served_today", "Tickets served today", lambda o: o.served)
        yield gauge("central_tickets_waiting", "Tickets waiting now", lambda o: o.waiting)
        yield gauge(
            "central_longest_wait_seconds",
            "Longest wait of a ticket still waiting",
            lambda o: None if o.longest_wait_min is None else o.longest_wait_min * 60,
        )
        yield gauge(
            "central_satisfaction_ratio",
            "Satisfied ratings / all ratings today",
            lambda o: None if o.satisfaction_pct is None else o.satisfaction_pct / 100,
        )
        yield gauge(
            "central_heartbeat_age_seconds",
            "Seconds since the last heartbeat",
            lambda o: o.heartbeat_age_s,
        )
        yield gauge("central_uplink_backlog_events", "Events not yet sent", lambda o: o.backlog)
        yield gauge(
            "central_conflicting_events", "Events that clash with held ones", lambda o: o.conflicts
        )
        yield gauge(
            "central_office_severity",
            "0 fine, 1 watch, 2 act, 3 out of touch",
            lambda o: o.severity,
        )
        for name, doc, states, attr in (
            (
                "central_printer_state",
                "1 for the printer's current state",
                PRINTER_STATES,
                "printer",
            ),
            (
                "central_display_link_state",
                "1 for the display link's state",
                LINK_STATES,
                "display_link",
            ),
        ):
            g = GaugeMetricFamily(name, doc, labels=["site", "state"])
            for o in self.offices:
                cur = getattr(o, attr)
                for s in states:
                    g.add_metric([o.site, s], 1.0 if s == cur else 0.0)
            yield g


def exposition(offices: Iterable[Office]) -> tuple[bytes, str]:
    """The text exposition of the offices' series and its content type."""
    reg = CollectorRegistry(auto_describe=False)
    reg.register(_Collector(offices))  # type: ignore[arg-type]
    return generate_latest(reg), CONTENT_TYPE_LATEST
