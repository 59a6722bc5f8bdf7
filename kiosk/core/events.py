"""Event types of the log and the event queries several modules share.

The names are the ``type`` column of ``events`` and the ``type`` field the uplink
sends; docs/events.md describes each one's payload. Code compares against these
constants, never against a spelled-out string, so a typo is a NameError at import
and a rename is one edit.

The queries themselves live in the store (:class:`kiosk.core.store.Tx`); the
functions here are short-hands for callers holding a :class:`~kiosk.core.store.Store`.
"""

from __future__ import annotations

from kiosk.core.store import Event, Store

# -- business day (core)
DAY_OPENED = "day_opened"
DAY_CLOSED = "day_closed"

# -- tickets (core)
TICKET_ISSUED = "ticket_issued"
TICKET_CALLED = "ticket_called"
TICKET_RECALLED = "ticket_recalled"
TICKET_SKIPPED = "ticket_skipped"
TICKET_TRANSFERRED = "ticket_transferred"
TICKET_SERVED = "ticket_served"
TICKET_RATED = "ticket_rated"
TICKET_EXPIRED = "ticket_expired"
TICKET_HELD = "ticket_held"
TICKET_RETURNED = "ticket_returned"
TICKET_RESTORED = "ticket_restored"

# -- printing (printer consumer, ``kiosk print``)
TICKET_PRINTED = "ticket_printed"
TICKET_PRINT_FAILED = "ticket_print_failed"
TICKET_NOT_PRINTED = "ticket_not_printed"

# -- counters (core)
COUNTER_OPENED = "counter_opened"
COUNTER_CLOSED = "counter_closed"

# -- devices (outputs)
PRINTER_STATUS = "printer_status"
DISPLAY_LINK = "display_link"

#: Every type the core's rules write (kiosk.core.queue), in the order docs/events.md lists them.
CORE_TYPES = (
    DAY_OPENED,
    DAY_CLOSED,
    TICKET_ISSUED,
    TICKET_CALLED,
    TICKET_RECALLED,
    TICKET_SKIPPED,
    TICKET_TRANSFERRED,
    TICKET_SERVED,
    TICKET_RATED,
    TICKET_EXPIRED,
    TICKET_HELD,
    TICKET_RETURNED,
    TICKET_RESTORED,
    TICKET_PRINTED,
    TICKET_PRINT_FAILED,
    TICKET_NOT_PRINTED,
    COUNTER_OPENED,
    COUNTER_CLOSED,
)
#: Types the outputs write about their devices (through ``Queue.record``).
DEVICE_TYPES = (PRINTER_STATUS, DISPLAY_LINK)
#: Every type the kiosk writes.
ALL = CORE_TYPES + DEVICE_TYPES

#: The calls a hall display shows and announces.
CALLS = (TICKET_CALLED, TICKET_RECALLED)

#: The uplink consumer's cursor name (its acknowledged position in the log).
UPLINK_CURSOR = "uplink"


def latest(store: Store, type: str) -> Event | None:
    """The newest event of one type (``PRINTER_STATUS``, ``DISPLAY_LINK``), or None."""
    with store.read() as tx:
        return tx.latest_event(type)


def backlog(store: Store, cursor_name: str = UPLINK_CURSOR) -> int:
    """Events written after consumer ``cursor_name``'s cursor (for the uplink: not yet
    acknowledged by the receiver)."""
    with store.read() as tx:
        return tx.count_events_after(tx.cursor(cursor_name))


def cursor_row(store: Store, name: str = UPLINK_CURSOR) -> tuple[int, float] | None:
    """Consumer ``name``'s cursor and when it was saved, or None if it never was."""
    with store.read() as tx:
        return tx.cursor_row(name)
