"""One ticket onto one printer: layout strips to ESC/POS bytes, sent in order.

The head of a ticket (site lines, logo, service name) is the same for every
ticket of a service, so its raster bytes are made once and sent first: the
printer starts feeding paper while the number is still being drawn.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from printer import raster
from printer.connection import Link
from printer.layout import WIDTHS, TicketInfo, TicketLayout


class TicketPrinter:
    """Prints :class:`TicketInfo` on a :class:`Link`; raises ``PrinterFault`` on faults."""

    def __init__(
        self,
        link: Link,
        layout: TicketLayout,
        cut: str = "partial",
        feed_lines: int = raster.FEED_LINES,
    ):
        self.link = link
        self.layout = layout
        self.cut = cut
        self.feed_lines = feed_lines
        self._heads: dict[tuple[str, str, str], bytes] = {}
        self._tail: bytes | None = None
        #: Called once per job just before its first byte goes out (the benchmark).
        self.on_first_byte: Callable[[], None] | None = None

    def head_bytes(self, t: TicketInfo) -> bytes:
        key = (t.service_id, t.service_name, t.service_name_en)
        b = self._heads.get(key)
        if b is None:
            img = self.layout.head(*key)
            b = self._heads[key] = raster.INIT + raster.raster(img)
        return b

    def tail_bytes(self) -> bytes:
        if self._tail is None:
            self._tail = raster.raster(self.layout.foot()) + raster.finish(
                self.cut, self.feed_lines
            )
        return self._tail

    def job_bytes(self, t: TicketInfo) -> bytes:
        """Every byte of one ticket, as :meth:`print` sends it."""
        return self.head_bytes(t) + raster.raster(self.layout.body(t)) + self.tail_bytes()

    def print(self, t: TicketInfo) -> int:
        """Send one ticket; returns the number of bytes sent."""
        head = self.head_bytes(t)
        self.link.job_name = t.code
        if self.on_first_byte is not None:
            self.on_first_byte()
        self.link.write(head)
        rest = raster.raster(self.layout.body(t)) + self.tail_bytes()
        self.link.write(rest)
        self.link.end_job()
        return len(head) + len(rest)


# ---------------------------------------------------------------- from the site file


def width_of(cfg: Any) -> int:
    """Dots across: ``[printer] width_dots``, else from ``paper_mm``."""
    dots = int(cfg.printer.width_dots or 0)
    return dots or WIDTHS.get(int(cfg.printer.paper_mm), 576)


def layout_from_config(cfg: Any, width: int | None = None) -> TicketLayout:
    header = list(cfg.site.ticket_header) or [cfg.site.name]
    logo = str(cfg.printer.logo or "") or None
    return TicketLayout(width or width_of(cfg), header, list(cfg.site.ticket_footer), logo)


def info_from_ticket(
    cfg: Any,
    ticket: Any,
    ahead: int | None = None,
    wait_minutes: int | None = None,
    reprint_at: datetime | None = None,
    qr_template: str | None = None,
    token: str = "",
) -> TicketInfo:
    """The printable facts of a stored ticket (``kiosk.core.store.Ticket``).

    ``qr_template`` overrides ``[printer] qr_url`` (the kiosk passes the ticket's phone
    page when ``[web]`` is on); ``token`` fills its ``{token}`` placeholder.
    """
    try:
        svc = cfg.service(ticket.service)
        name, name_en = svc.name, svc.name_en
    except KeyError:
        # The service was removed from the site file after this ticket was issued.
        name, name_en = ticket.service, ""
    template = qr_template if qr_template is not None else str(cfg.printer.qr_url or "")
    qr = (
        template.format(
            code=ticket.code,
            day=ticket.day,
            service=ticket.service,
            number=ticket.number,
            site=cfg.site.id,
            token=token,
        )
        if template
        else ""
    )
    return TicketInfo(
        code=ticket.code,
        service_id=ticket.service,
        service_name=name,
        service_name_en=name_en,
        priority=bool(ticket.priority),
        issued_at=datetime.fromtimestamp(ticket.issued_at, cfg.tz),
        ahead=ahead,
        wait_minutes=wait_minutes,
        qr_text=qr,
        reprint_at=reprint_at,
    )
