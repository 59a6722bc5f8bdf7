"""Appointment check-in: online bookings fetched for the day, redeemed for a ticket.

A citizen who booked online types or scans the booking code at the kiosk (a USB
barcode scanner types like a keyboard and ends with Enter) and gets a ticket with
the booking's service and priority, through :meth:`Queue.issue` with
``source="booking:CODE"``. The day's booking list is fetched from ``[appointments]
url`` and cached in the store, so check-in works while the link is down; when the
list cannot be fetched at all, walk-in tickets go on as always and a booking code
gets a message saying to take a walk-in ticket.

For screens: :func:`check_in` returns :class:`~kiosk.core.queue.Issued` or raises a
:class:`BookingError` carrying a Vietnamese (``vi``) and an English (``en``) message.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Any

import requests

from kiosk import __version__
from kiosk.core.citizen import Citizen
from kiosk.core.config import Config, check_url
from kiosk.core.consumer import Consumer
from kiosk.core.echo import echo
from kiosk.core.queue import Issued, Queue, QueueError
from kiosk.core.store import Booking, Store, Ticket, Tx

log = logging.getLogger(__name__)

#: A claim older than this with no ticket is a crash between claiming and issuing.
CLAIM_TIMEOUT = 60.0
CODE_RE = re.compile(r"^[A-Z0-9_-]{3,40}$")
#: Longest booking code kept from what was typed or scanned.
CODE_MAX = 40
ID_NUMBER_RE = re.compile(r"^\d{12}$")


class BookingError(QueueError):
    """A booking code that cannot be checked in; ``vi`` and ``en`` are for the screen."""

    def __init__(self, vi: str, en: str):
        super().__init__(f"{vi} / {en}")
        self.vi = vi
        self.en = en


class UnknownBooking(BookingError):
    """No such booking today (or it was cancelled)."""


class UsedBooking(BookingError):
    """The booking was already checked in."""


class BookingsUnavailable(BookingError):
    """Today's list was never fetched: the citizen takes a walk-in ticket."""


class FetchError(Exception):
    """The booking list could not be fetched; the message says why."""


def normalise(code: str) -> str:
    """What a person typed or a scanner sent, as stored: no spaces or line ends, capitals."""
    return re.sub(r"\s+", "", code).upper()


def _vn_date(day: str) -> str:
    return date.fromisoformat(day).strftime("%d/%m/%Y")


# ---------------------------------------------------------------------- the list


def parse_bookings(
    doc: Any, cfg: Config, day: str, hasher: Callable[[str], str] | None = None
) -> tuple[list[Booking], list[str]]:
    """Bookings from the server's JSON (docs/uplink.md); returns (bookings, problems).

    Entries that cannot be used (unknown service, bad code) are skipped and named in
    ``problems``; the rest of the list is still used. A booking's ``id_number`` (12
    digits) is kept only as ``hasher(id_number)``, the site's keyed hash, so a scanned
    ID card finds it (``[appointments] by_id_card``); without ``hasher`` it is dropped.
    """
    if not isinstance(doc, dict) or not isinstance(doc.get("bookings"), list):
        raise FetchError('the reply is not {"day": …, "bookings": [...]}')
    if doc.get("day") not in (None, day):
        raise FetchError(f"the reply is for day {doc.get('day')!r}, not {day}")
    services = {s.id for s in cfg.services}
    out: list[Booking] = []
    problems: list[str] = []
    seen: set[str] = set()
    for i, b in enumerate(doc["bookings"]):
        if not isinstance(b, dict):
            problems.append(f"bookings[{i}]: not an object")
            continue
        code = normalise(str(b.get("code", "")))
        if not CODE_RE.match(code):
            problems.append(f"bookings[{i}]: code {b.get('code')!r} is not 3–40 letters/digits")
            continue
        if code in seen:
            problems.append(f"bookings[{i}]: code {code} is listed twice; the first is kept")
            continue
        svc = b.get("service")
        if svc not in services:
            problems.append(
                f"bookings[{i}] ({code}): service {svc!r} is not one of this site's: "
                + ", ".join(sorted(services))
            )
            continue
        seen.add(code)
        citizen = ""
        id_number = b.get("id_number")
        if id_number not in (None, ""):
            if not (isinstance(id_number, str) and ID_NUMBER_RE.match(id_number)):
                # Never quote it: it is personal data.
                problems.append(f"bookings[{i}] ({code}): id_number is not 12 digits; ignored")
            elif hasher is not None:
                citizen = hasher(id_number)
        out.append(
            Booking(
                day=day,
                code=code,
                service=str(svc),
                priority=bool(b.get("priority", False)),
                name=str(b.get("name", ""))[:200],
                slot=str(b.get("time", ""))[:20],
                citizen=citizen,
            )
        )
    return out, problems


def save_bookings(store: Store, day: str, bookings: list[Booking], now: float) -> dict[str, int]:
    """Replace the day's cached list; bookings gone from it become cancelled.

    Check-in state (claimed, ticket) of bookings still listed is kept.
    """
    codes = [b.code for b in bookings]
    with store.transaction() as tx:
        before = tx.active_booking_codes(day)
        for b in bookings:
            tx.save_booking(b if b.day == day else replace(b, day=day), now)
        gone = before - set(codes)
        for code in gone:
            tx.cancel_booking(day, code)
        tx.set_meta(f"bookings_fetched:{day}", repr(now))
    return {"listed": len(bookings), "new": len(set(codes) - before), "cancelled": len(gone)}


def bookings_of_day(store: Store, day: str) -> list[Booking]:
    with store.read() as tx:
        return tx.bookings_of_day(day)


def fetch(
    cfg: Config,
    store: Store,
    day: str,
    *,
    session: requests.Session | None = None,
    clock: Callable[[], float] = time.time,
    hasher: Callable[[str], str] | None = None,
) -> tuple[dict[str, int], list[str]]:
    """Fetch the day's bookings from ``[appointments] url`` into the store
    (``hasher``: the site's keyed ID hash, for bookings that name an ID number).

    Returns (counts, problems); raises FetchError with a message a technician can act on.
    """
    a = cfg.appointments
    if not a.url:
        raise FetchError("[appointments] url is empty; set the bookings server's address")
    bad = check_url(a.url)
    if bad:
        raise FetchError(f"[appointments] url: {bad}")
    s = session or requests.Session()
    headers = {"User-Agent": f"queue-kiosk/{__version__}", "Accept": "application/json"}
    if a.token:
        headers["Authorization"] = f"Bearer {a.token}"
    try:
        r = s.get(
            a.url,
            params={"day": day, "site": cfg.site.id},
            headers=headers,
            timeout=(a.timeout, a.timeout),
            verify=a.ca_bundle or True,
        )
    except requests.exceptions.SSLError:
        raise FetchError(
            f"the certificate of {a.url} could not be verified; if it uses a private CA "
            "set [appointments] ca_bundle"
        ) from None
    except requests.exceptions.Timeout:
        raise FetchError(f"no reply from {a.url} within {a.timeout:g} s") from None
    except requests.exceptions.RequestException as e:
        raise FetchError(f"cannot reach {a.url}: {type(e).__name__}") from None
    if r.status_code in (401, 403):
        raise FetchError(
            f"{a.url} refused the token (HTTP {r.status_code}); check [appointments] token"
        )
    if r.status_code != 200:
        raise FetchError(f"{a.url} answered HTTP {r.status_code}")
    try:
        doc = r.json()
    except ValueError:
        raise FetchError(f"{a.url} did not answer JSON") from None
    bookings, problems = parse_bookings(doc, cfg, day, hasher)
    counts = save_bookings(store, day, bookings, clock())
    for p in problems:
        log.warning("bookings: %s", p)
    return counts, problems


class BookingFetcher(Consumer):
    """Fetches today's list at start and every ``refresh_minutes``; failures retry sooner.

    Not an event consumer (it keeps no cursor); it lives with the consumers so the
    runtime starts and stops it with them.
    """

    name = "bookings"

    def __init__(self, cfg: Config, queue: Queue, session: requests.Session | None = None):
        super().__init__(queue.store)
        self.cfg = cfg
        self.queue = queue
        self.session = session or requests.Session()
        self.last_ok: float | None = None

    def fetch_now(self) -> dict[str, int]:
        hasher = self.queue.citizen_key.hash if self.cfg.appointments.by_id_card else None
        counts, _ = fetch(
            self.cfg,
            self.store,
            self.queue.today(),
            session=self.session,
            clock=self.queue.clock,
            hasher=hasher,
        )
        self.last_ok = self.queue.clock()
        return counts

    def _loop(self) -> None:
        refresh = self.cfg.appointments.refresh_minutes * 60.0
        retry = 30.0
        while not self._stop.is_set():
            try:
                self.fetch_now()
                self.last_error = None
                retry = 30.0
                wait = refresh
            except Exception as e:  # the office goes on with walk-in tickets
                self.last_error = str(e)
                log.warning("bookings: %s; walk-in tickets only until it works", e)
                wait = min(retry, refresh)
                retry = min(retry * 2, refresh)
            self._stop.wait(min(wait, self.until_next_day()))

    def until_next_day(self) -> float:
        """Seconds until the next business day starts (opening time), plus a little:
        the new day's list is fetched as the office opens, not up to a refresh later."""
        now = self.queue.clock()
        local = datetime.fromtimestamp(now, self.cfg.tz)
        start = datetime.combine(local.date(), self.cfg.open_time, self.cfg.tz)
        if start <= local:
            start = datetime.combine(
                local.date() + timedelta(days=1), self.cfg.open_time, self.cfg.tz
            )
        return max(1.0, start.timestamp() - now + 2.0)


# ---------------------------------------------------------------------- check-in


def check_in_by_card(
    queue: Queue, citizen: Citizen, before: Callable[[Booking], None] | None = None
) -> Issued | None:
    """Check in the citizen's booking of today found by their scanned ID card (its keyed
    hash), as :func:`check_in` does for a code; None when they have no booking today.

    Raises :class:`BookingError` as :func:`check_in` does (used, being checked in).
    ``before(booking)`` is called just before the ticket is issued (the screen's
    feedback frame, drawn before the commit as for a touch).
    """
    if not (queue.cfg.appointments.enabled and queue.cfg.appointments.by_id_card):
        return None
    day = queue.today()
    with queue.store.read() as tx:
        b = tx.booking_by_citizen(day, citizen.key_hash)
    if b is None:
        return None
    if b.cancelled or b.ticket_id is not None or b.claimed_at is not None:
        return check_in(queue, b.code, citizen)  # says why not (used, being checked in)
    source = f"booking:{b.code}"

    def still_free(tx: Tx, issue_day: str) -> Callable[[Tx, Ticket], None]:
        # Checked and linked inside the issuing transaction: one commit, no claim needed
        # (writers are serialised), so the citizen's wait is one fsync, not three.
        now = tx.booking(issue_day, b.code)
        if (
            issue_day != day
            or now is None
            or now.cancelled
            or now.ticket_id is not None
            or now.claimed_at is not None
            or tx.ticket_id_by_source(issue_day, source) is not None
        ):
            raise _Changed
        return lambda tx2, t: tx2.link_booking(issue_day, b.code, t.id)

    if before is not None:
        before(b)
    try:
        return queue.issue(
            b.service, priority=b.priority, source=source, citizen=citizen, hook=still_free
        )
    except _Changed:
        return check_in(queue, b.code, citizen)  # another kiosk was quicker: say so


class _Changed(Exception):
    """The booking changed between reading it and issuing (another kiosk, a refresh)."""


def check_in(queue: Queue, code: str, citizen: Citizen | None = None) -> Issued:
    """Redeem a booking code for a ticket with the booking's service and priority.

    Raises :class:`BookingError` (``vi``/``en`` messages) for an unknown, cancelled,
    other-day or already used code, or when today's list was never fetched. Safe
    across processes and crashes: the booking is claimed in one transaction before
    the ticket is issued, and a ticket issued for it is found again by its source.
    """
    code = normalise(code)
    store = queue.store
    day = queue.today()
    source = f"booking:{code}"
    used: tuple[str, float] | None = None
    with store.transaction() as tx:
        now = queue.clock()
        found_b = tx.booking(day, code)
        if found_b is None:
            other = tx.active_booking_day(code)
            if other:
                d = _vn_date(other)
                raise UnknownBooking(
                    f"Mã hẹn {code} dành cho ngày {d}, không phải hôm nay",
                    f"Booking {code} is for {other}, not today",
                )
            if not queue.cfg.appointments.enabled:
                raise BookingsUnavailable(
                    "Nơi đây chưa nhận lịch hẹn trực tuyến; vui lòng lấy số thường",
                    "This office does not take online bookings; please take a walk-in ticket",
                )
            if tx.get_meta(f"bookings_fetched:{day}") is None:
                raise BookingsUnavailable(
                    "Chưa tải được danh sách lịch hẹn hôm nay; vui lòng lấy số thường",
                    "Today's bookings could not be loaded; please take a walk-in ticket",
                )
            typed = echo(code, 24)  # whatever was typed or scanned: cut and escaped
            raise UnknownBooking(
                f"Không tìm thấy mã hẹn {typed}; vui lòng kiểm tra lại hoặc lấy số thường",
                f"Booking code {typed} was not found; check it or take a walk-in ticket",
            )
        b = found_b
        if b.cancelled:
            raise UnknownBooking(
                f"Lịch hẹn {code} đã bị hủy; vui lòng lấy số thường",
                f"Booking {code} was cancelled; please take a walk-in ticket",
            )
        if b.ticket_id is None:
            # A crash after issuing but before linking left the ticket unlinked: find it.
            found = tx.ticket_id_by_source(day, source)
            if found is not None:
                tx.link_booking(day, code, found)
                b = replace(b, ticket_id=found)
        if b.ticket_id is not None:
            t = tx.ticket(b.ticket_id)
            used = (t.code if t else "?", t.issued_at if t else now)
        elif b.claimed_at is not None and now - b.claimed_at < CLAIM_TIMEOUT:
            raise UsedBooking(
                f"Mã hẹn {code} đang được xử lý; vui lòng chờ giây lát",
                f"Booking {code} is being checked in; please wait a moment",
            )
        else:
            tx.claim_booking(day, code, now)
    if used is not None:
        hhmm = datetime.fromtimestamp(used[1], queue.cfg.tz).strftime("%H:%M")
        raise UsedBooking(
            f"Mã hẹn {code} đã được dùng lúc {hhmm} (số {used[0]})",
            f"Booking {code} was already used at {hhmm} (ticket {used[0]})",
        )
    try:
        issued = queue.issue(b.service, priority=b.priority, source=source, citizen=citizen)
    except BaseException:
        with store.transaction() as tx:
            tx.release_booking(day, code)
        raise
    with store.transaction() as tx:
        tx.link_booking(day, code, issued.ticket.id)
    return issued


def from_config(cfg: Config, queue: Queue) -> BookingFetcher:
    """The booking fetcher of a running kiosk (``[appointments] enabled``)."""
    return BookingFetcher(cfg, queue)
