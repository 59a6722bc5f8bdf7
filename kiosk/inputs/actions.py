"""What a button, a key or a touch asks for, and doing it on the queue.

Every input (touchscreen, GPIO buttons, keyboard or USB keypad, the simulator's
script) produces an :class:`Action`; :func:`perform` turns it into one queue
operation (one store transaction). Outputs never happen here: the printer, the
hall display and the lights follow the event log.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kiosk.core.citizen import Citizen
from kiosk.core.queue import Queue, QueueError
from kiosk.core.store import StoreError

#: Actions for citizens at the kiosk.
CITIZEN_KINDS = ("issue",)
#: Actions for staff at a counter.
COUNTER_KINDS = ("next", "recall", "skip", "transfer", "rate")
#: Actions that only change the screen (language, help overlay, priority mode, ...).
SCREEN_KINDS = (
    "language",
    "help",
    "priority",
    "back",
    "select_counter",
    "appointment",  # open the booking-code screen
    "code_key",  # a character on it
    "code_delete",
    "code_submit",
    "scan",  # a code from a serial scanner (``text``): an ID card or a booking code
    "guide",  # open the procedure guide (kiosk/office/procedures.py)
    "guide_key",  # a character typed in its search
    "guide_delete",
    "guide_field",  # browse one field (``text``)
    "guide_more",  # the next page of the list
    "guide_open",  # a procedure's page (``text``: its id)
)


@dataclass(frozen=True)
class Action:
    """One request from an input. ``source`` says where it came from (``touch``,
    ``gpio``, ``key``, ``script``) and is stored with issued tickets."""

    kind: str
    service: str | None = None
    counter: int | None = None
    priority: bool = False
    score: int | None = None
    source: str = ""
    #: A character typed on the booking-code or guide screen, a scanned code, or (with
    #: ``issue``) the procedure of the guide the ticket is taken from (kept out of
    #: ``repr``: a scanned ID card is personal data and must not reach a log).
    text: str = field(default="", repr=False)
    #: The holder of an ID card scanned just before (kiosk.core.citizen); never logged.
    citizen: Citizen | None = field(default=None, repr=False)


@dataclass(frozen=True)
class Outcome:
    """What an action did, for the screen, the buzzer and the simulator's log."""

    action: Action
    ok: bool
    text: str
    result: Any = None


def transfer_target(queue: Queue, counter_id: int, current_service: str) -> str | None:
    """The service a counter's transfer button sends its citizen to: the next
    service in the counter's own list after the ticket's service (wrapping), or
    ``None`` when the counter serves only one service."""
    services = list(queue.counter(counter_id).services)
    others = [s for s in services if s != current_service]
    if not others:
        return None
    if current_service in services:
        i = services.index(current_service)
        for s in services[i + 1 :] + services[:i]:
            if s != current_service:
                return s
    return others[0]


def perform(queue: Queue, action: Action) -> Outcome:
    """Do one queue action. A refusal (nothing to recall, no number left, a store
    that cannot write) is an :class:`Outcome` with ``ok=False`` and a plain message,
    never an exception."""
    try:
        return _perform(queue, action)
    except (QueueError, StoreError) as e:
        # StoreError: disk full, database locked too long, read-only card. The
        # screen says so and keeps running; nothing was issued (the commit rolled back).
        return Outcome(action, False, str(e), e)


def _perform(queue: Queue, a: Action) -> Outcome:
    if a.kind == "issue":
        assert a.service is not None
        r = queue.issue(a.service, priority=a.priority, source=a.source, citizen=a.citizen)
        return Outcome(a, True, f"issued {r.ticket.code}", r)
    if a.kind not in COUNTER_KINDS:
        raise ValueError(f"not a queue action: {a.kind}")
    assert a.counter is not None
    c = queue.counter(a.counter)
    if a.kind == "next":
        t = queue.call_next(c.id)
        return Outcome(
            a, True, f"{c.name}: calling {t.code}" if t else f"{c.name}: nobody waiting", t
        )
    if a.kind == "recall":
        t = queue.recall(c.id)
        return Outcome(a, True, f"{c.name}: calling {t.code} again", t)
    if a.kind == "skip":
        skipped, nxt = queue.skip(c.id)
        text = f"{c.name}: {skipped.code} no-show" + (f", calling {nxt.code}" if nxt else "")
        return Outcome(a, True, text, nxt)
    if a.kind == "transfer":
        st = queue.status()
        code = next((x["current"] for x in st["counters"] if x["id"] == c.id), None)
        t = queue.ticket(code) if code else None
        if t is None:
            return Outcome(a, False, f"{c.name} has no called ticket to transfer")
        target = a.service or transfer_target(queue, c.id, t.service)
        if target is None:
            return Outcome(a, False, f"{c.name} serves one service only; transfer from the CLI")
        moved = queue.transfer(c.id, target)
        return Outcome(a, True, f"{c.name}: {moved.code} → {target}", moved)
    assert a.score is not None
    t = queue.rate_button(c.id, a.score)
    return Outcome(a, True, f"{c.name}: {t.code} rated {a.score}", t)
