"""Queue rules: issuing, calling (next or a chosen ticket), recalling, skipping and
restoring, holding and returning, transferring, finishing, rating.

Each operation is one store transaction that changes the tables and appends one
or more events. Nothing here does I/O beyond the store: printers, displays and
the uplink are consumers of the event log (:mod:`kiosk.core.consumer`).

Event types and their payloads are listed in ``EVENT_TYPES`` and documented in
docs/events.md.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from kiosk.core import events
from kiosk.core.citizen import Citizen, CitizenKey, key_path
from kiosk.core.config import Config, Counter, Service
from kiosk.core.echo import echo
from kiosk.core.store import Store, Ticket, Tx

#: Every event type the core writes (kiosk/core/events.py). Consumers may append their own
#: (printer_status, display_link, ...).
EVENT_TYPES = events.CORE_TYPES

SHARED_KEY = "*"
#: Why a ticket is not printed automatically (``ticket_not_printed`` ``reason``), in
#: plain words for ``kiosk status``. A ticket that is no longer waiting has its
#: status as the reason (``called``, ``served``, ``no_show``, ``expired``).
NOT_PRINTED = {
    "called": "already called to a counter",
    "served": "already served",
    "no_show": "already skipped as a no-show",
    "expired": "expired (the day closed before it was printed)",
    "another_day": "issued on another business day",
    "too_late": "too late: issued more than [printer] late_print_seconds ago",
}
RATINGS = {3: "Rất hài lòng", 2: "Hài lòng", 1: "Chưa hài lòng"}
#: The 5-star scale (``[rating] scale = 5``), labels as on VNPT iQMS counter tablets.
STARS = {5: "Rất tốt", 4: "Tốt", 3: "Bình thường", 2: "Chưa tốt", 1: "Kém"}
#: A 5-star rating is also stored on the 3-level scale, so reports and metrics count
#: both scales alike (docs/decisions.md): 5 → Rất hài lòng, 4 → Hài lòng, 1–3 → Chưa hài lòng.
STARS_TO_LEVEL = {5: 3, 4: 2, 3: 1, 2: 1, 1: 1}
#: The counter's three rating buttons on a 5-star site (their level survives STARS_TO_LEVEL).
BUTTON_TO_STARS = {3: 5, 2: 4, 1: 2}


def rating_labels(cfg: Config) -> dict[int, str]:
    """The site's rating scale, best first: ``{score: Vietnamese label}``."""
    return STARS if cfg.rating.scale == 5 else RATINGS


def asks_reason(cfg: Config, score: int) -> bool:
    """Whether a score is at the low end of the scale, where the tablet asks for a reason."""
    low = cfg.rating.reason_at or (3 if cfg.rating.scale == 5 else 1)
    return bool(cfg.rating.reasons) and score <= low


#: Ticket states in the words a clerk reads.
STATUS_VI = {
    "waiting": "đang chờ",
    "called": "đang được gọi",
    "held": "đang tạm giữ",
    "served": "đã phục vụ",
    "no_show": "vắng mặt",
    "expired": "hết hạn",
}


class QueueError(Exception):
    """An operation that cannot be done in the current state (exit 1 in the CLI)."""


class UnknownName(QueueError):
    """An unknown service or counter (exit 2 in the CLI)."""


class CitizenLimit(QueueError):
    """The citizen (by scanned ID card) has taken ``[queue] per_citizen_daily_limit``
    tickets today; ``vi`` and ``en`` are the polite words for the screen."""

    def __init__(self, limit: int):
        self.vi = (
            f"Quý vị đã lấy {limit} số hôm nay, là số lượt tối đa cho mỗi người trong ngày. "
            "Mong quý vị thông cảm; xin mời quay lại vào ngày làm việc tiếp theo "
            "hoặc hỏi cán bộ hướng dẫn."
        )
        self.en = (
            f"You have already taken {limit} number(s) today, the most one person may take "
            "in a day. Thank you for understanding; please come back on the next working "
            "day or ask a member of staff."
        )
        super().__init__(f"{self.vi} / {self.en}")


#: A clock before this instant has certainly not been set: this software is newer. A Pi
#: without a battery clock starts at 1970, an RTC module with a dead battery at 2000.
CLOCK_FLOOR = datetime(2026, 1, 1, tzinfo=UTC).timestamp()
#: How far behind the store's newest event the clock may be and still be trusted: kiosks
#: sharing one store (a large centre) differ by seconds. A clock put back by
#: fake-hwclock after a power cut is behind by up to an hour (it saves hourly).
CLOCK_BEHIND_SECONDS = 300.0
#: How far ahead of the store's newest event the clock may be: no office is shut for
#: two years, a clock that says so was set wrong (a typo in the year, a bad RTC).
CLOCK_AHEAD_SECONDS = 2 * 366 * 86400.0


def _local(at: float, cfg: Config | None) -> str:
    tz = cfg.tz if cfg is not None else UTC
    try:
        return f"{datetime.fromtimestamp(at, tz):%Y-%m-%d %H:%M}"
    except (OverflowError, OSError, ValueError):
        return f"{at:.0f} (UNIX time)"


class ClockNotSet(QueueError):
    """The clock is clearly wrong, so no number is issued (it would be on a wrong day).

    ``reason`` is ``unset`` (before :data:`CLOCK_FLOOR`), ``behind`` (before the store's
    newest event) or ``ahead`` (years after it); ``vi`` and ``en`` are for the screen,
    ``str()`` names the times for a technician.
    """

    def __init__(self, reason: str, now: float, newest: float | None, cfg: Config | None = None):
        self.reason, self.now, self.newest = reason, now, newest
        self.vi = "Đang chờ đồng bộ giờ… Xin vui lòng chờ hoặc báo cán bộ."
        self.en = "Waiting for the time to be set… Please wait or tell a member of staff."
        clock = _local(now, cfg)
        last = _local(newest, cfg) if newest is not None else ""
        if reason == "unset":
            why = f"the clock says {clock}, before this software was written: it was never set"
        elif reason == "behind":
            why = f"the clock says {clock}, before the newest event in the store ({last})"
        else:
            why = f"the clock says {clock}, years after the newest event in the store ({last})"
        self.detail = why
        super().__init__(
            f"{why}; no number is issued until the time is right: connect the network "
            '(NTP), fit an RTC module, or set it: kiosk time set "YYYY-MM-DD HH:MM"'
        )


def clock_problem(
    now: float, newest: float | None, cfg: Config | None = None
) -> ClockNotSet | None:
    """Why ``now`` cannot be trusted against the store's newest event time, or None.

    Time never goes backwards against the store: a clock more than
    :data:`CLOCK_BEHIND_SECONDS` before its newest event, or more than
    :data:`CLOCK_AHEAD_SECONDS` after it, or before :data:`CLOCK_FLOOR`, is wrong.
    """
    if now < CLOCK_FLOOR:
        return ClockNotSet("unset", now, newest, cfg)
    if newest is not None and now < newest - CLOCK_BEHIND_SECONDS:
        return ClockNotSet("behind", now, newest, cfg)
    if newest is not None and now > newest + CLOCK_AHEAD_SECONDS:
        return ClockNotSet("ahead", now, newest, cfg)
    return None


#: See :meth:`Queue.issue`: (tx, day) -> None or a function of (tx, new ticket).
IssueHook = Callable[[Tx, str], Callable[[Tx, Ticket], None] | None]

#: Initials held for printing at most (a printer down all day must not grow memory).
INITIALS_HELD = 200


@dataclass(frozen=True)
class Issued:
    ticket: Ticket
    ahead: int
    wait_minutes: int | None
    seq: int


def business_day(cfg: Config, at: float) -> str:
    """The business day an instant belongs to: days start at the opening time, local."""
    local = datetime.fromtimestamp(at, cfg.tz)
    if local.time() < cfg.open_time:
        local -= timedelta(days=1)
    return local.date().isoformat()


def closing_instant(cfg: Config, day: str) -> float:
    d = datetime.fromisoformat(day).date()
    return datetime.combine(d, cfg.close_time, cfg.tz).timestamp()


def is_open_at(cfg: Config, at: float) -> bool:
    """Whether the office is open (opening days and hours) at an instant."""
    local = datetime.fromtimestamp(at, cfg.tz)
    day = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")[local.weekday()]
    return day in cfg.hours.days and cfg.open_time <= local.time() < cfg.close_time


class Queue:
    """The queue of one office, on one store. Thread-safe through the store."""

    def __init__(self, cfg: Config, store: Store, clock: Callable[[], float] = time.time):
        self.cfg = cfg
        self.store = store
        self.clock = clock
        #: Ticket id → initials to print from a scanned ID card: memory only, taken by
        #: the printer at the first print (never stored; docs/privacy.md).
        self.initials: dict[int, str] = {}
        #: Ticket id → extra fields for its first print (printer.layout.TicketInfo), e.g.
        #: the procedure guide's checklist; memory only, like the initials.
        self.print_extras: dict[int, dict[str, Any]] = {}
        self._citizen_key: CitizenKey | None = None

    @property
    def citizen_key(self) -> CitizenKey:
        """The site's key for ID hashes, made at first use (kiosk.core.citizen)."""
        if self._citizen_key is None:
            p = key_path(
                self.cfg.scanner.key_file,
                getattr(self.store, "path", ""),
                str(self.cfg.storage.path),
            )
            self._citizen_key = CitizenKey.load_or_create(p) if p else CitizenKey.ephemeral()
        return self._citizen_key

    def hold_print_extras(self, ticket_id: int, extras: dict[str, Any]) -> None:
        """Fields to add to a ticket's first print; call inside the issuing
        transaction (an ``issue`` hook), as the printer may take the ticket at once."""
        self.print_extras[ticket_id] = extras
        while len(self.print_extras) > INITIALS_HELD:
            del self.print_extras[next(iter(self.print_extras))]

    def take_print_extras(self, ticket_id: int) -> dict[str, Any]:
        """The extra fields held for a ticket's first print, once (then forgotten)."""
        return self.print_extras.pop(ticket_id, {})

    def take_initials(self, ticket_id: int) -> str:
        """The initials to print on a ticket, once (then forgotten)."""
        return self.initials.pop(ticket_id, "")

    # ------------------------------------------------------------------ helpers
    def service(self, service_id: str) -> Service:
        try:
            return self.cfg.service(service_id)
        except KeyError:
            known = ", ".join(s.id for s in self.cfg.services)
            raise UnknownName(
                f'unknown service "{echo(service_id)}"; this site has: {known}'
            ) from None

    def counter(self, counter_id: int | str) -> Counter:
        try:
            return self.cfg.counter(int(counter_id))
        except (KeyError, ValueError):
            known = ", ".join(str(c.id) for c in self.cfg.counters)
            raise UnknownName(
                f'unknown counter "{echo(counter_id)}"; this site has counters {known}'
            ) from None

    def _event(
        self,
        tx: Tx,
        type: str,
        at: float,
        day: str | None,
        ticket: Ticket | None = None,
        **payload: Any,
    ) -> int:
        if ticket is not None:
            payload = {
                "ticket_id": ticket.id,
                "service": ticket.service,
                "number": ticket.number,
                "priority": ticket.priority,
                **payload,
            }
        return tx.append_event(type, at, day, ticket.code if ticket else None, payload)

    def _begin(self, tx: Tx, now: float) -> str:
        """Roll the business day over when it changed; returns today's day."""
        day = business_day(self.cfg, now)
        current = tx.get_meta("day")
        if current != day:
            if current is not None and current < day:
                self._expire(tx, now, before_day=day, reason="day_ended")
                for c in self.cfg.counters:
                    tx.set_counter_state(c.id, current_ticket=None, last_ticket=None)
            if current is None or current < day:
                tx.set_meta("day", day)
                self._event(tx, events.DAY_OPENED, now, day)
            else:
                # The clock went backwards across the opening time: keep the newer day.
                day = current
        return day

    def _expire(
        self,
        tx: Tx,
        now: float,
        *,
        day: str | None = None,
        before_day: str | None = None,
        reason: str,
    ) -> list[Ticket]:
        tickets = tx.tickets_with_status(
            ("waiting", "called", "held"), day=day, before_day=before_day
        )
        for t in tickets:
            tx.update_ticket(t.id, status="expired")
            self._event(tx, events.TICKET_EXPIRED, now, t.day, t, reason=reason, was=t.status)
        return tickets

    def _current(self, tx: Tx, counter: Counter) -> Ticket | None:
        _, current, _ = tx.counter_state(counter.id)
        if current is None:
            return None
        t = tx.ticket(current)
        return t if t is not None and t.status == "called" else None

    def _called(self, tx: Tx, counter: Counter, verb: str) -> Ticket:
        """The counter's current ticket, or a refusal naming what could not be done."""
        cur = self._current(tx, counter)
        if cur is None:
            raise QueueError(
                f"{counter.name} has no called ticket to {verb}; press call-next first"
            )
        return cur

    def _estimate(self, tx: Tx, service: Service, ahead: int) -> int | None:
        times = tx.recent_service_times(service.id, self.cfg.queue.wait_window)
        avg = sum(times) / len(times) if times else service.minutes * 60
        open_counters = sum(
            1 for c in self.cfg.counters if service.id in c.services and tx.counter_state(c.id)[0]
        )
        if open_counters == 0:
            return None
        return math.ceil(ahead * avg / open_counters / 60)

    # ------------------------------------------------------------------ operations
    def issue(
        self,
        service_id: str,
        priority: bool = False,
        source: str = "",
        citizen: Citizen | None = None,
        hook: IssueHook | None = None,
        kiosk: str | None = None,
    ) -> Issued:
        """A new ticket for a service; numbered exactly once per service and day.

        ``hook(tx, day)`` runs first inside the issuing transaction and may refuse by
        raising; what it returns, if anything, is called with the new ticket in the same
        transaction (a booking checked in and linked in one commit).

        ``citizen`` (a scanned ID card): its keyed hash is stored with the ticket for
        ``[queue] per_citizen_daily_limit`` (:class:`CitizenLimit` beyond it), a senior
        gets priority, and its initials are held for the printer.

        ``kiosk`` names the kiosk that prints it (default: this one, ``[kiosk] id``);
        in a large centre several kiosks share one store and numbering.
        """
        svc = self.service(service_id)
        if citizen is not None and citizen.senior:
            priority = True
        priority = bool(priority and self.cfg.queue.priority_enabled)
        extra: dict[str, Any] = {"kiosk": self.cfg.kiosk.id if kiosk is None else kiosk}
        held: list[int] = []
        try:
            return self._issue(svc, priority, source, citizen, extra, held, hook)
        except BaseException:
            for tid in held:  # rolled back: the id may be given to another ticket
                self.initials.pop(tid, None)
            raise

    def _issue(
        self,
        svc: Service,
        priority: bool,
        source: str,
        citizen: Citizen | None,
        extra: dict[str, Any],
        held: list[int],
        hook: IssueHook | None,
    ) -> Issued:
        with self.store.transaction() as tx:
            now = self.clock()
            wrong = clock_problem(now, tx.newest_event_at(), self.cfg)
            if wrong is not None:
                raise wrong
            day = self._begin(tx, now)
            after = hook(tx, day) if hook is not None else None
            if citizen is not None:
                limit = self.cfg.queue.per_citizen_daily_limit
                if limit and tx.count_citizen_tickets(day, citizen.key_hash) >= limit:
                    raise CitizenLimit(limit)
                extra["citizen"] = citizen.key_hash
            if self.cfg.numbering.mode == "shared":
                key, start, end = (
                    SHARED_KEY,
                    self.cfg.numbering.shared_start,
                    self.cfg.numbering.shared_end,
                )
                width = max(svc.width, len(str(end)))
            else:
                key, start, end, width = svc.id, svc.start, svc.end, svc.width
            number = tx.next_number(day, key, start)
            if number > end:
                raise QueueError(
                    f"no numbers left today for {svc.name} (last is {end}); "
                    "raise 'end' for this service in the site file"
                )
            code = f"{svc.prefix}{number:0{width}d}"
            # A priority ticket waits only behind other priority tickets of its service.
            ahead = tx.count_waiting(day, svc.id, priority_only=priority)
            t = tx.insert_ticket(
                day=day,
                seq_key=key,
                number=number,
                code=code,
                service=svc.id,
                first_service=svc.id,
                priority=int(priority),
                status="waiting",
                queue_key=now,
                issued_at=now,
                source=source,
                **extra,
            )
            if after is not None:
                after(tx, t)
            if citizen is not None and citizen.initials and self.cfg.printer.initials:
                # Before the commit: the printer thread may take the ticket at once.
                self.initials[t.id] = citizen.initials
                held.append(t.id)
                while len(self.initials) > INITIALS_HELD:
                    del self.initials[next(iter(self.initials))]
            wait = self._estimate(tx, svc, ahead)
            where = {"kiosk": extra["kiosk"]} if extra["kiosk"] else {}
            seq = self._event(
                tx,
                events.TICKET_ISSUED,
                now,
                day,
                t,
                ahead=ahead,
                wait_minutes=wait,
                source=source,
                **where,
            )
        return Issued(t, ahead, wait, seq)

    def call_next(self, counter_id: int | str) -> Ticket | None:
        """Complete the counter's current ticket as served and call the next one (or None)."""
        c = self.counter(counter_id)
        with self.store.transaction() as tx:
            now = self.clock()
            day = self._begin(tx, now)
            self._finish_current(tx, c, now, day)
            return self._call(tx, c, now, day)

    def _finish_current(self, tx: Tx, c: Counter, now: float, day: str) -> Ticket | None:
        cur = self._current(tx, c)
        if cur is not None:
            tx.update_ticket(cur.id, status="served", served_at=now)
            cur.status, cur.served_at = "served", now
            self._event(
                tx,
                events.TICKET_SERVED,
                now,
                cur.day,
                cur,
                counter=c.id,
                service_seconds=round(now - (cur.called_at or now), 3),
            )
            tx.set_counter_state(c.id, current_ticket=None, last_ticket=cur.id)
        return cur

    def _call(
        self, tx: Tx, c: Counter, now: float, day: str, chosen: Ticket | None = None
    ) -> Ticket | None:
        q = self.cfg.queue
        t = chosen
        run = tx.priority_run(c.id)
        if t is None and q.priority_enabled and 0 < q.priority_ratio <= run:
            # N priority tickets in a row: one ordinary ticket now, if one waits.
            t = tx.next_waiting_ordinary(day, c.services)
        if t is None:
            t = tx.next_waiting(day, c.services, q.policy == "service_order", q.priority_enabled)
        if t is None:
            tx.set_counter_state(c.id, current_ticket=None)
            return None
        if q.priority_ratio:
            tx.set_priority_run(c.id, run + 1 if t.priority else 0)
        tx.update_ticket(t.id, status="called", called_at=now, counter=c.id, held_at=None)
        tx.set_counter_state(c.id, current_ticket=t.id, is_open=True)
        t = tx.ticket(t.id)
        assert t is not None
        self._event(
            tx,
            events.TICKET_CALLED,
            now,
            day,
            t,
            counter=c.id,
            recall=False,
            waited_seconds=round(now - t.issued_at, 3),
            chosen=chosen is not None,
        )
        return t

    def _front_key(self, tx: Tx, day: str, t: Ticket, service: str) -> float:
        """A queue key that puts ``t`` first among the waiting tickets of ``service``."""
        first = tx.min_queue_key(day, service)
        return min(t.issued_at, first - 1.0) if first is not None else t.issued_at

    def _today_ticket(self, tx: Tx, day: str, code: str) -> Ticket:
        t = tx.ticket_by_code(day, code.strip().upper())
        if t is None:
            raise QueueError(f"there is no ticket {code} today; check the number on the ticket")
        return t

    def call(self, counter_id: int | str, code: str) -> Ticket:
        """Finish the counter's current ticket as served and call a chosen waiting ticket."""
        c = self.counter(counter_id)
        with self.store.transaction() as tx:
            now = self.clock()
            day = self._begin(tx, now)
            t = self._today_ticket(tx, day, code)
            if t.status != "waiting":
                raise QueueError(
                    f"ticket {t.code} is not waiting (it is {STATUS_VI.get(t.status, t.status)}); "
                    "only a waiting ticket can be called"
                )
            self._finish_current(tx, c, now, day)
            called = self._call(tx, c, now, day, chosen=t)
            assert called is not None
            return called

    def hold(self, counter_id: int | str) -> Ticket:
        """Park the counter's current ticket (the citizen steps away); see :meth:`return_held`."""
        c = self.counter(counter_id)
        with self.store.transaction() as tx:
            now = self.clock()
            day = self._begin(tx, now)
            cur = self._called(tx, c, "hold")
            tx.update_ticket(cur.id, status="held", held_at=now)
            tx.set_counter_state(c.id, current_ticket=None, last_ticket=cur.id)
            held = tx.ticket(cur.id)
            assert held is not None
            self._event(tx, events.TICKET_HELD, now, day, held, counter=c.id)
            return held

    def return_held(self, counter_id: int | str, code: str | None = None) -> Ticket:
        """Put a ticket this counter holds back at the front of its service's queue.

        Without ``code``, the ticket it held most recently.
        """
        c = self.counter(counter_id)
        with self.store.transaction() as tx:
            now = self.clock()
            day = self._begin(tx, now)
            held = tx.held_tickets(day, c.id)
            if code is not None:
                held = [t for t in held if t.code == code.strip().upper()]
            if not held:
                what = f"ticket {code}" if code else "any ticket"
                raise QueueError(f"{c.name} does not hold {what}; press hold first")
            t = held[0]
            tx.update_ticket(
                t.id,
                status="waiting",
                queue_key=self._front_key(tx, day, t, t.service),
                counter=None,
                called_at=None,
                held_at=None,
            )
            back = tx.ticket(t.id)
            assert back is not None
            self._event(
                tx,
                events.TICKET_RETURNED,
                now,
                day,
                back,
                counter=c.id,
                held_seconds=round(now - (t.held_at or now), 3),
            )
            return back

    def restore(self, counter_id: int | str, code: str) -> Ticket:
        """A skipped (no-show) ticket of today waits again, at the front of its queue."""
        c = self.counter(counter_id)
        with self.store.transaction() as tx:
            now = self.clock()
            day = self._begin(tx, now)
            t = self._today_ticket(tx, day, code)
            if t.status != "no_show":
                raise QueueError(
                    f"ticket {t.code} was not skipped (it is {STATUS_VI.get(t.status, t.status)}); "
                    "only a no-show of today can be restored"
                )
            tx.update_ticket(
                t.id,
                status="waiting",
                queue_key=self._front_key(tx, day, t, t.service),
                counter=None,
                called_at=None,
            )
            back = tx.ticket(t.id)
            assert back is not None
            self._event(tx, events.TICKET_RESTORED, now, day, back, counter=c.id)
            return back

    def recall(self, counter_id: int | str) -> Ticket:
        """Call the counter's current ticket again (the display and voice repeat it)."""
        c = self.counter(counter_id)
        with self.store.transaction() as tx:
            now = self.clock()
            day = self._begin(tx, now)
            cur = self._called(tx, c, "recall")
            tx.update_ticket(cur.id, recall_count=cur.recall_count + 1)
            cur.recall_count += 1
            self._event(
                tx,
                events.TICKET_RECALLED,
                now,
                day,
                cur,
                counter=c.id,
                recall=True,
                recall_count=cur.recall_count,
            )
            return cur

    def skip(self, counter_id: int | str) -> tuple[Ticket, Ticket | None]:
        """Mark the counter's current ticket as a no-show and call the next one."""
        c = self.counter(counter_id)
        with self.store.transaction() as tx:
            now = self.clock()
            day = self._begin(tx, now)
            cur = self._called(tx, c, "skip")
            tx.update_ticket(cur.id, status="no_show", served_at=None)
            self._event(tx, events.TICKET_SKIPPED, now, day, cur, counter=c.id)
            tx.set_counter_state(c.id, current_ticket=None, last_ticket=cur.id)
            return cur, self._call(tx, c, now, day)

    def transfer(self, counter_id: int | str, service_id: str) -> Ticket:
        """Move the counter's current ticket, same code, into another service's queue."""
        c = self.counter(counter_id)
        svc = self.service(service_id)
        with self.store.transaction() as tx:
            now = self.clock()
            day = self._begin(tx, now)
            cur = self._called(tx, c, "transfer")
            if cur.service == svc.id:
                raise QueueError(
                    f"ticket {cur.code} is already in {svc.name}; choose another service"
                )
            pos = self.cfg.queue.transfer_position
            if pos == "front":
                key = self._front_key(tx, day, cur, svc.id)
            elif pos == "issue_time":
                key = cur.issued_at
            else:
                key = now
            tx.update_ticket(
                cur.id,
                status="waiting",
                service=svc.id,
                queue_key=key,
                counter=None,
                called_at=None,
                transfer_count=cur.transfer_count + 1,
            )
            tx.set_counter_state(c.id, current_ticket=None, last_ticket=cur.id)
            moved = tx.ticket(cur.id)
            assert moved is not None
            self._event(
                tx,
                events.TICKET_TRANSFERRED,
                now,
                day,
                moved,
                counter=c.id,
                from_service=cur.service,
                to_service=svc.id,
            )
            return moved

    def finish(self, counter_id: int | str) -> Ticket:
        """Complete the counter's current ticket as served without calling another."""
        c = self.counter(counter_id)
        with self.store.transaction() as tx:
            now = self.clock()
            day = self._begin(tx, now)
            cur = self._finish_current(tx, c, now, day)
            if cur is None:
                raise QueueError(f"{c.name} has no called ticket to finish")
            return cur

    def rate(
        self, counter_id: int | str, score: int, reason: str = "", code: str | None = None
    ) -> Ticket:
        """Record the citizen's satisfaction on the site's scale (``[rating] scale``).

        3 levels: 3 Rất hài lòng, 2 Hài lòng, 1 Chưa hài lòng. 5 stars: 5 Rất tốt … 1 Kém,
        stored on the 3-level scale too (``STARS_TO_LEVEL``) so reports count both alike.
        ``reason`` is one of ``[rating] reasons`` (only at the low end of the scale).
        ``code`` names the ticket (the counter tablet rates the citizen it showed, even
        if the clerk has already called the next one); by default the counter's
        current or last ticket.
        """
        c = self.counter(counter_id)
        labels = rating_labels(self.cfg)
        if score not in labels:
            raise UnknownName(
                f"rating must be {', '.join(str(k) for k in sorted(labels)[:-1])} or {max(labels)} "
                f"({', '.join(f'{k} = {v}' for k, v in labels.items())}), not {score}"
            )
        if reason and reason not in self.cfg.rating.reasons:
            raise UnknownName(
                f'unknown reason "{reason}"; this site has: {", ".join(self.cfg.rating.reasons)}'
            )
        level = STARS_TO_LEVEL[score] if self.cfg.rating.scale == 5 else score
        with self.store.transaction() as tx:
            now = self.clock()
            day = self._begin(tx, now)
            _, current, last = tx.counter_state(c.id)
            tid = current if current is not None else last
            t = tx.ticket(tid) if tid is not None else None
            if code is not None:
                t = tx.ticket_by_code(day, code.strip().upper())
                if t is not None and t.counter != c.id:
                    t = None
            if t is None or t.status not in ("called", "served"):
                raise QueueError(f"{c.name} has no citizen to rate right now")
            if t.rating is not None:
                raise QueueError(f"ticket {t.code} has already been rated")
            tx.update_ticket(t.id, rating=level)
            t.rating = level
            extra: dict[str, Any] = {}
            if self.cfg.rating.scale == 5:
                extra["stars"] = score
            if reason:
                extra["reason"] = reason
            self._event(
                tx,
                events.TICKET_RATED,
                now,
                day,
                t,
                counter=c.id,
                rating=level,
                label=labels[score],
                **extra,
            )
            return t

    def rate_button(self, counter_id: int | str, level: int) -> Ticket:
        """A rating from the counter's three buttons or keys (3 Rất hài lòng, 2 Hài lòng,
        1 Chưa hài lòng), on a site of either scale: with 5 stars they count as 5, 4 and 2
        (Rất tốt, Tốt, Chưa tốt), so the stored level is the button's own."""
        if self.cfg.rating.scale == 5 and level in BUTTON_TO_STARS:
            return self.rate(counter_id, BUTTON_TO_STARS[level])
        return self.rate(counter_id, level)

    def set_counter_open(self, counter_id: int | str, is_open: bool) -> None:
        c = self.counter(counter_id)
        with self.store.transaction() as tx:
            now = self.clock()
            day = self._begin(tx, now)
            tx.set_counter_state(c.id, is_open=is_open)
            self._event(
                tx,
                events.COUNTER_OPENED if is_open else events.COUNTER_CLOSED,
                now,
                day,
                counter=c.id,
            )

    def close_day(self) -> list[Ticket]:
        """Expire every ticket still waiting (or called) today; idempotent."""
        with self.store.transaction() as tx:
            now = self.clock()
            day = self._begin(tx, now)
            expired = self._expire(tx, now, day=day, reason="closing")
            if tx.get_meta("closed_day") != day:
                tx.set_meta("closed_day", day)
                self._event(tx, events.DAY_CLOSED, now, day, expired=len(expired))
            for c in self.cfg.counters:
                tx.set_counter_state(c.id, current_ticket=None)
            return expired

    def prune(self, protect: tuple[str, ...] = ()) -> tuple[int, int]:
        """Apply ``[storage] retention_days``: forget old finished tickets and sent events."""
        keep = self.cfg.storage.retention_days
        today = datetime.fromisoformat(self.today()).date()
        return self.store.prune((today - timedelta(days=keep)).isoformat(), protect)

    def tick(self) -> None:
        """Housekeeping for a running kiosk: close the day once closing time has passed."""
        now = self.clock()
        day = business_day(self.cfg, now)
        if now >= closing_instant(self.cfg, day):
            with self.store.read() as tx:
                done = tx.get_meta("closed_day") == day
            if not done:
                self.close_day()

    def stale_reason(self, t: Ticket) -> str | None:
        """Why a ticket must not be printed automatically now, or None to print it.

        A ticket is printed by itself only while it is still waiting, on its own
        business day, and within ``[printer] late_print_seconds`` of being issued
        (the time a citizen plausibly still stands at the kiosk). Anything else is
        printed only on demand (``kiosk print CODE``); see docs/printers.md.
        """
        if t.status != "waiting":
            return t.status if t.status in NOT_PRINTED else "served"
        now = self.clock()
        if t.day != business_day(self.cfg, now):
            return "another_day"
        if now - t.issued_at > float(self.cfg.printer.late_print_seconds):
            return "too_late"
        return None

    def record_not_printed(self, ticket_id: int, reason: str) -> None:
        """A ticket the printer will not print by itself (:meth:`stale_reason`).

        It stays in the queue and on the screen; ``kiosk print CODE`` prints it.
        """
        with self.store.transaction() as tx:
            now = self.clock()
            t = tx.ticket(ticket_id)
            if t is None:
                raise QueueError(f"no ticket with id {ticket_id}")
            tx.update_ticket(t.id, print_status="not_printed")
            self._event(
                tx,
                events.TICKET_NOT_PRINTED,
                now,
                t.day,
                t,
                reason=reason,
                detail=NOT_PRINTED.get(reason, reason),
                age_seconds=round(now - t.issued_at, 1),
            )

    def record_print(self, ticket_id: int, ok: bool, detail: str = "") -> None:
        """The printer consumer's verdict on one ticket: printed, or failed (flagged for reprint)."""
        with self.store.transaction() as tx:
            now = self.clock()
            t = tx.ticket(ticket_id)
            if t is None:
                raise QueueError(f"no ticket with id {ticket_id}")
            tx.update_ticket(t.id, print_status="printed" if ok else "failed")
            self._event(
                tx,
                events.TICKET_PRINTED if ok else events.TICKET_PRINT_FAILED,
                now,
                t.day,
                t,
                detail=detail,
            )

    def record(self, type: str, **payload: Any) -> int:
        """Append a device event (printer_status, display_link, ...) that changes no ticket."""
        with self.store.transaction() as tx:
            now = self.clock()
            return self._event(tx, type, now, tx.get_meta("day"), **payload)

    # ------------------------------------------------------------------ queries
    def clock_problem(self) -> ClockNotSet | None:
        """Why the clock cannot be trusted now (no number would be issued), or None."""
        with self.store.read() as tx:
            newest = tx.newest_event_at()
        return clock_problem(self.clock(), newest, self.cfg)

    def today(self) -> str:
        return business_day(self.cfg, self.clock())

    def ticket(self, code: str, day: str | None = None) -> Ticket | None:
        with self.store.read() as tx:
            return tx.ticket_by_code(day or self.today(), code)

    def status(self) -> dict[str, Any]:
        """A snapshot: per counter its current ticket, per service the waiting count."""
        day = self.today()
        with self.store.read() as tx:
            counters = []
            for c in self.cfg.counters:
                is_open, cur, _ = tx.counter_state(c.id)
                t = tx.ticket(cur) if cur is not None else None
                counters.append(
                    {
                        "id": c.id,
                        "name": c.name,
                        "open": is_open,
                        "current": t.code
                        if t is not None and t.status == "called" and t.day == day
                        else None,
                    }
                )
            services = []
            for s in self.cfg.services:
                services.append(
                    {
                        "id": s.id,
                        "name": s.name,
                        "name_en": s.name_en,
                        "waiting": tx.count_waiting(day, s.id),
                        "waiting_priority": tx.count_waiting(day, s.id, priority_only=True),
                    }
                )
            tickets = tx.tickets_of_day(day)
            # Why each not-printed ticket was left to `kiosk print` (newest verdict wins).
            reasons = {
                e.payload.get("ticket_id"): str(e.payload.get("reason", ""))
                for e in tx.events_of_day(day, (events.TICKET_NOT_PRINTED,))
            }
        not_printed = [
            {
                "code": t.code,
                "status": t.status,
                "reason": reasons.get(t.id, ""),
                "detail": NOT_PRINTED.get(reasons.get(t.id, ""), ""),
            }
            for t in tickets
            if t.print_status == "not_printed"
        ]
        by_status: dict[str, int] = {}
        for t in tickets:
            by_status[t.status] = by_status.get(t.status, 0) + 1
        return {
            "day": day,
            "site": self.cfg.site.name,
            "counters": counters,
            "services": services,
            "issued": len(tickets),
            "by_status": by_status,
            "print_pending": sum(1 for t in tickets if t.print_status in ("pending", "failed")),
            "not_printed": not_printed,
            "last_seq": self.store.last_seq(),
            "at": datetime.fromtimestamp(self.clock(), UTC).isoformat(timespec="seconds"),
        }
