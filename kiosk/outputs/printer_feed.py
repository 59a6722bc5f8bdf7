"""The printer consumer: every issued ticket is printed, or flagged and printed later.

It follows ``ticket_issued`` from its durable cursor (name ``printer``). For each
ticket it asks the printer's status, sends the ticket, asks again, and records
the verdict with ``Queue.record_print``: ``ticket_printed``, or
``ticket_print_failed`` with the ticket flagged ``print_status = failed``.

A fault (paper out, offline, unplugged, timeout) is never raised to the event
loop: the cursor moves on so the next citizen is not held up, and the UI applies
``[printer] on_fault``. Flagged tickets of today that are still waiting are
printed again (marked *IN LẠI · REPRINT*) when the printer is back: at start,
after a ticket went through, and on each status check (every ``status_seconds``
while all is well, every 2 s while the printer is down, backing off to every 15 s
during a long outage).

Never a stale ticket: before printing (the first time or again) the ticket must
still be waiting, be of today, and be younger than ``[printer] late_print_seconds``
(:meth:`Queue.stale_reason`). Otherwise it is recorded once as
``ticket_not_printed`` with the reason (``print_status = not_printed``), listed by
``kiosk status``, and left to ``kiosk print CODE``. After an outage or a reboot
the printer therefore does not pour out tickets for people who are long gone.

Changes of the printer's state become ``printer_status`` events (``ok``,
``paper_near_end``, ``paper_out``, ``offline``, ``unknown`` and a ``detail``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any

from kiosk.core import events
from kiosk.core.config import Config
from kiosk.core.consumer import Consumer
from kiosk.core.queue import Queue
from kiosk.core.store import Event, Store, StoreError, Ticket
from kiosk.core.tokens import load_secret, qr_template, secret_path, ticket_token
from printer.connection import Link, PrinterFault, open_link
from printer.job import TicketPrinter, info_from_ticket, layout_from_config
from printer.status import FAULTS, Status

log = logging.getLogger(__name__)

#: Seconds between status checks and reprint attempts while the printer is down: this
#: at first, then an eighth of the outage so far (a printer back after an outage of T
#: is noticed within T/8), at most FAULT_RETRY_MAX. A printer that stays unplugged is
#: not searched for on the USB bus every 2 s all night.
FAULT_RETRY = 2.0
FAULT_RETRY_MAX = 15.0
#: After a printer left a status question unanswered, skip the question before
#: each ticket (it would cost STATUS_TIMEOUT on the citizen's wait) for this long.
SILENT_RECHECK = 300.0


def recorded_status(store: Store) -> Status | None:
    """The newest ``printer_status`` event in the store, or None."""
    ev = events.latest(store, events.PRINTER_STATUS)
    return Status.from_payload(ev.payload) if ev else None


def printer_status(store: Store) -> Status:
    """The newest ``printer_status`` event in the store, or unknown when there is none.

    For the kiosk screen and ``kiosk doctor``: together with ``[printer] on_fault``
    (see :func:`issuing_paused`) it says whether tickets can be given.
    """
    return recorded_status(store) or Status("unknown", "no printer status yet")


def issuing_paused(cfg: Config, store: Store) -> bool:
    """Whether the kiosk should stop issuing: ``on_fault = "pause"`` and the printer is down."""
    return bool(cfg.printer.on_fault == "pause" and printer_status(store).fault)


class PrinterConsumer(Consumer):
    """Prints tickets from the event log; see the module docstring."""

    name = "printer"
    types = (events.TICKET_ISSUED,)
    min_backoff = 0.5
    max_backoff = 10.0

    def __init__(
        self,
        queue: Queue,
        uri: str | None = None,
        link: Link | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ):
        super().__init__(queue.store)
        self.queue = queue
        cfg = queue.cfg
        self.link = link or open_link(uri or cfg.printer.uri, float(cfg.printer.timeout))
        self.printer = TicketPrinter(
            self.link,
            layout_from_config(cfg),
            str(cfg.printer.cut),
            int(cfg.printer.feed_lines),
        )
        self.monotonic = monotonic
        #: The QR's URL template: [printer] qr_url, or the phone page when [web] is on.
        self.qr_template = qr_template(cfg)
        self._secret: bytes | None = None
        self.status_interval = float(cfg.printer.status_seconds)
        #: The state last written as a printer_status event (from the store at start).
        last = recorded_status(queue.store)
        self.state: str | None = last.state if last else None
        self.silent_until = 0.0
        self.next_check = 0.0
        #: When the printer went down (monotonic), for the retry backoff; None while up.
        self.down_since: float | None = self.monotonic() if self.state in FAULTS else None
        self.printed = 0
        self.failed = 0
        self.not_printed = 0
        #: Tickets that could not be drawn (a bug): not retried until a restart.
        self.undrawable: set[int] = set()

    # ------------------------------------------------------------------ status
    def check(self, force: bool = False) -> Status:
        """Ask the printer; write a ``printer_status`` event when the state changed.

        A printer that left the last question unanswered is not asked again for
        :data:`SILENT_RECHECK` seconds (each question would cost the status timeout).
        """
        if not force and self.monotonic() < self.silent_until:
            return Status("unknown", "the printer does not report its status")
        try:
            st = self.link.status()
        except PrinterFault as f:
            st = Status(f.state, f.detail)
        if st.state == "unknown" and self.link.can_read:
            self.silent_until = self.monotonic() + SILENT_RECHECK
        if not (st.state == "unknown" and self.state in FAULTS):
            # "No answer" does not clear a fault seen when sending; a ticket that
            # goes through does (print_ticket).
            self.note(st)
        return st

    def note(self, st: Status) -> None:
        if st.state != self.state:
            log.info("printer: %s (%s)", st.state, st.detail)
            self.queue.record(events.PRINTER_STATUS, state=st.state, detail=st.detail)
            self.state = st.state
        if not st.fault:
            self.down_since = None
        elif self.down_since is None:
            self.down_since = self.monotonic()
        if st.fault:
            self.next_check = min(self.next_check, self.monotonic() + self.fault_retry())
        self.idle_wait = self.fault_retry() if st.fault else min(5.0, self.status_interval)

    def fault_retry(self) -> float:
        """Seconds to the next check of a printer that is down (see :data:`FAULT_RETRY`)."""
        if self.down_since is None:
            return FAULT_RETRY
        outage = self.monotonic() - self.down_since
        return min(FAULT_RETRY_MAX, max(FAULT_RETRY, outage / 8))

    # ------------------------------------------------------------------ printing
    def handle(self, event: Event) -> None:
        tid = int(event.payload.get("ticket_id", -1))
        with self.store.read() as tx:
            t = tx.ticket(tid)
        if t is None or t.print_status in ("printed", "not_printed"):
            return  # pruned, printed already (reprint pass, `kiosk print`), or left to it
        if t.kiosk != self.queue.cfg.kiosk.id:
            return  # issued at another kiosk of the centre: its own printer prints it
        if self.skip_stale(t):
            return
        p = event.payload
        # Initials of a scanned ID card live in memory until this first print only.
        initials = self.queue.take_initials(t.id)
        extras = self.queue.take_print_extras(t.id)  # the procedure guide's checklist
        self.print_ticket(
            t, p.get("ahead"), p.get("wait_minutes"), initials=initials, extras=extras
        )

    def _token(self, t: Ticket) -> str:
        """The ticket page's token, when the QR template asks for one."""
        if "{token}" not in self.qr_template:
            return ""
        if self._secret is None:
            self._secret = load_secret(secret_path(self.queue.cfg, self.queue.store.path))
        return ticket_token(self._secret, t.day, t.code, t.id)

    def print_ticket(
        self,
        t: Ticket,
        ahead: int | None,
        wait_minutes: int | None,
        reprint: bool = False,
        initials: str = "",
        extras: dict[str, Any] | None = None,
    ) -> bool | None:
        """Print one stored ticket and record the verdict; True when it came out, False
        on a printer fault, None when the ticket could not be drawn (a bug, not the
        printer: it is flagged and the next tickets go on)."""
        cfg = self.queue.cfg
        at = datetime.fromtimestamp(self.queue.clock(), cfg.tz) if reprint else None
        try:
            info = info_from_ticket(
                cfg, t, ahead, wait_minutes, at, self.qr_template, self._token(t)
            )
            if initials:
                info = replace(info, initials=initials)
            if extras:
                info = replace(info, **extras)
            before = self.check()
            if before.fault:
                raise PrinterFault(before.state, before.detail)
            self.printer.print(info)
            after = self.check()
            if after.state == "unknown" and self.state in FAULTS:
                self.note(
                    Status("unknown", "a ticket went out; the printer does not report status")
                )
            if after.state == "paper_out":
                # The roll ended during this ticket: it is cut short or blank.
                raise PrinterFault("paper_out", "the paper ran out while printing this ticket")
            if after.fault:
                # Cover opened or an error during the ticket: it did not come out whole.
                raise PrinterFault(after.state, f"{after.detail} (while printing this ticket)")
        except PrinterFault as f:
            self.note(Status(f.state, f.detail))
            if t.print_status != "failed":
                # Once per ticket: retries of a flagged ticket during a long outage
                # would otherwise write an event every few seconds.
                self.queue.record_print(t.id, False, f.detail)
            self.failed += 1
            log.warning("printer: ticket %s not printed: %s", t.code, f.detail)
            return False
        except StoreError:
            raise  # the consumer retries the event after a pause
        except Exception as e:
            # Not the printer: a bug or bad data drawing this ticket. Flag it and go on,
            # so one ticket cannot hold up every later one.
            log.exception("printer: ticket %s cannot be drawn", t.code)
            self.undrawable.add(t.id)
            if t.print_status != "failed":
                self.queue.record_print(t.id, False, f"the ticket could not be drawn: {e}")
            self.failed += 1
            return None
        self.queue.record_print(t.id, True, "reprinted" if reprint else "")
        self.printed += 1
        return True

    def skip_stale(self, t: Ticket) -> bool:
        """Record a ticket that must not be printed by itself; True when it was stale."""
        reason = self.queue.stale_reason(t)
        if reason is None:
            return False
        self.queue.record_not_printed(t.id, reason)
        self.not_printed += 1
        log.info(
            "printer: ticket %s not printed (%s); `kiosk print %s` prints it",
            t.code,
            reason,
            t.code,
        )
        return True

    # ------------------------------------------------------------------ recovery
    def backlog(self) -> list[Ticket]:
        """Tickets still to print automatically: pending or failed, and not stale.

        Stale ones (called, served, expired, another day, too late) are recorded as
        not printed on the way, once each, so they leave the backlog for good.
        """
        with self.store.read() as tx:
            mine = tx.tickets_to_print(self.queue.cfg.kiosk.id)
            waiting = [t for t in mine if t.id not in self.undrawable]
        return [t for t in waiting if not self.skip_stale(t)]

    def ahead_now(self, t: Ticket) -> int:
        """People still before a waiting ticket in its service (for a reprint)."""
        with self.store.read() as tx:
            return tx.count_ahead(t, bool(self.queue.cfg.queue.priority_enabled))

    def reprint(self) -> int:
        """Print flagged tickets, oldest first, stopping at the first failure."""
        done = 0
        for t in self.backlog():
            ok = self.print_ticket(t, self.ahead_now(t), None, reprint=t.print_status == "failed")
            if ok is False:
                break  # the printer is down again; the rest wait for the next check
            done += bool(ok)
        return done

    def on_idle(self) -> None:
        now = self.monotonic()
        pending = self.backlog()
        # With tickets waiting for paper and the printer not known to be down, try at
        # once (the last ticket went through); otherwise only when a check is due.
        if now < self.next_check and not (pending and self.state not in FAULTS):
            return
        st = self.check()
        if pending and not st.fault:
            self.reprint()
        down = self.state in FAULTS
        wait = self.fault_retry() if down else self.status_interval
        self.next_check = self.monotonic() + wait
        if down:
            self.idle_wait = wait

    def stop(self, timeout: float = 5.0) -> None:
        super().stop(timeout)
        self.link.close()


def from_config(queue: Queue, uri: str | None = None) -> PrinterConsumer:
    """The printer consumer of ``[printer]`` (``uri`` replaces ``[printer] uri``)."""
    return PrinterConsumer(queue, uri=uri)
