"""Starting the consumers of a running kiosk (printer, display link, uplink, metrics).

``kiosk run`` and ``kiosk sim`` call :func:`start_consumers`; each output part adds
its consumer here. A consumer runs in its own thread, follows the event log from
its durable cursor, and never blocks the UI.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from kiosk.core.config import Config
from kiosk.core.consumer import Consumer
from kiosk.core.queue import Queue


@dataclass
class Overrides:
    """Per-run replacements for site-file values (the simulator and tests use them)."""

    printer_uri: str | None = None
    display_port: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def start_consumers(
    cfg: Config, queue: Queue, overrides: Overrides | None = None
) -> list[Consumer]:
    """Create and start every configured consumer; returns them for ``stop()``."""
    overrides = overrides or Overrides()
    consumers: list[Consumer] = []
    # Ticket printer (printer/): every issued ticket printed, or flagged and reprinted.
    # overrides.printer_uri: the simulator's png: printer, or `kiosk run --printer`.
    from kiosk.outputs.printer_feed import from_config as printer_from_config
    from printer.uri import PrinterUriError

    try:
        consumers.append(printer_from_config(queue, overrides.printer_uri))
    except PrinterUriError as e:
        from kiosk.core.config import ConfigError

        raise ConfigError([f"printer: {e}"]) from None
    # Hall display link (display/): follows the log, feeds the serial line.
    # overrides.extra["no_display"]: the simulator run without a hall display.
    if (cfg.display.enabled or overrides.display_port) and not overrides.extra.get("no_display"):
        from kiosk.outputs.display_feed import DisplayLink

        consumers.append(DisplayLink(queue, port=overrides.display_port))
    # Uplink to the central server, Prometheus metrics, booking list (kiosk/office/uplink.py,
    # metrics.py, bookings.py). A bad [uplink] must not stop the office: log it, run without.
    if cfg.uplink.enabled:
        from kiosk.core.config import ConfigError
        from kiosk.office.uplink import from_config as uplink_from_config

        try:
            consumers.append(uplink_from_config(cfg, queue.store))
        except ConfigError as e:
            logging.getLogger("kiosk.office.uplink").error("uplink off: %s", e)
    if cfg.metrics.enabled:
        from kiosk.office.metrics import from_config as metrics_from_config

        consumers.append(metrics_from_config(cfg, queue.store))
    if cfg.appointments.enabled:
        from kiosk.office.bookings import from_config as bookings_from_config

        consumers.append(bookings_from_config(cfg, queue))
    if cfg.kiosk.id:
        # Several kiosks share one store: each keeps its own place in the event log for
        # what it does itself (its printer, its hall display, its metrics page). The
        # uplink reports the whole site once and keeps its shared name.
        for c in consumers:
            if c.name != "uplink" and "@" not in c.name:
                c.name = f"{c.name}@{cfg.kiosk.id}"
    for c in consumers:
        c.start()
    return consumers


def stop_consumers(consumers: list[Consumer]) -> None:
    for c in consumers:
        c.stop()
