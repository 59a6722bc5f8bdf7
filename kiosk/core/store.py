"""The store: SQLite tables, the event log, consumer cursors, and change wake-ups.

The store is the single source of truth. Every state change happens inside one
``transaction()`` that updates the tables *and* appends to ``events``; a crash at
any instant leaves either all of it or none of it (WAL, ``synchronous=FULL``,
``BEGIN IMMEDIATE`` so numbering is serialised across processes).

The queue rules live in :mod:`kiosk.core.queue`; this module only knows rows. The
methods of :class:`Tx` are the narrow interface a PostgreSQL adapter would
implement again (row locks for numbering, LISTEN/NOTIFY for wake-ups).
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import secrets
import socket
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCHEMA_VERSION = 5

#: Ordered migrations; entry N brings the schema from version N to N+1.
MIGRATIONS: list[str] = [
    """
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE sequences (
        day TEXT NOT NULL, key TEXT NOT NULL, last INTEGER NOT NULL,
        PRIMARY KEY (day, key)
    );
    CREATE TABLE tickets (
        id INTEGER PRIMARY KEY,
        day TEXT NOT NULL,
        seq_key TEXT NOT NULL,
        number INTEGER NOT NULL,
        code TEXT NOT NULL,
        service TEXT NOT NULL,
        first_service TEXT NOT NULL,
        priority INTEGER NOT NULL DEFAULT 0,
        status TEXT NOT NULL,
        queue_key REAL NOT NULL,
        issued_at REAL NOT NULL,
        called_at REAL,
        served_at REAL,
        counter INTEGER,
        recall_count INTEGER NOT NULL DEFAULT 0,
        transfer_count INTEGER NOT NULL DEFAULT 0,
        print_status TEXT NOT NULL DEFAULT 'pending',
        rating INTEGER,
        source TEXT NOT NULL DEFAULT '',
        UNIQUE (day, seq_key, number),
        UNIQUE (day, code)
    );
    CREATE INDEX tickets_waiting ON tickets (day, status, service, priority, queue_key);
    CREATE INDEX tickets_served ON tickets (service, served_at) WHERE served_at IS NOT NULL;
    CREATE INDEX tickets_print ON tickets (print_status) WHERE print_status != 'printed';
    CREATE TABLE counter_state (
        counter INTEGER PRIMARY KEY,
        is_open INTEGER NOT NULL DEFAULT 1,
        current_ticket INTEGER,
        last_ticket INTEGER
    );
    CREATE TABLE events (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        at REAL NOT NULL,
        day TEXT,
        type TEXT NOT NULL,
        code TEXT,
        payload TEXT NOT NULL
    );
    CREATE INDEX events_type ON events (type, seq);
    CREATE TABLE cursors (name TEXT PRIMARY KEY, seq INTEGER NOT NULL, updated_at REAL NOT NULL);
    """,
    # 1 -> 2: online bookings cached for appointment check-in (kiosk/office/bookings.py).
    """
    CREATE TABLE bookings (
        day TEXT NOT NULL,
        code TEXT NOT NULL,
        service TEXT NOT NULL,
        priority INTEGER NOT NULL DEFAULT 0,
        name TEXT NOT NULL DEFAULT '',
        slot TEXT NOT NULL DEFAULT '',
        cancelled INTEGER NOT NULL DEFAULT 0,
        claimed_at REAL,
        ticket_id INTEGER,
        fetched_at REAL NOT NULL,
        PRIMARY KEY (day, code)
    );
    """,
    # 2 -> 3: hold/return, the priority ratio, staff accounts (kiosk/web/).
    """
    ALTER TABLE tickets ADD COLUMN held_at REAL;
    ALTER TABLE counter_state ADD COLUMN priority_run INTEGER NOT NULL DEFAULT 0;
    CREATE TABLE staff (
        login TEXT PRIMARY KEY,
        salt BLOB NOT NULL,
        hash BLOB NOT NULL,
        params TEXT NOT NULL,
        counters TEXT NOT NULL,
        created_at REAL NOT NULL
    );
    """,
    # 3 -> 4: a scanned citizen ID card, as its keyed hash only (kiosk/core/citizen.py):
    # the daily limit per citizen, and bookings found by ID.
    """
    ALTER TABLE tickets ADD COLUMN citizen TEXT;
    CREATE INDEX tickets_citizen ON tickets (day, citizen) WHERE citizen IS NOT NULL;
    ALTER TABLE bookings ADD COLUMN citizen TEXT;
    """,
    # 4 -> 5: the kiosk that issued each ticket (several kiosks on one PostgreSQL store).
    """
    ALTER TABLE tickets ADD COLUMN kiosk TEXT NOT NULL DEFAULT '';
    """,
]

TICKET_COLUMNS = (
    "id",
    "day",
    "seq_key",
    "number",
    "code",
    "service",
    "first_service",
    "priority",
    "status",
    "queue_key",
    "issued_at",
    "called_at",
    "served_at",
    "counter",
    "recall_count",
    "transfer_count",
    "print_status",
    "rating",
    "source",
    "held_at",
    "kiosk",
)


class StoreError(Exception):
    """The store cannot be opened or used; the message says why and what to do."""


@dataclass
class Ticket:
    id: int
    day: str
    seq_key: str
    number: int
    code: str
    service: str
    first_service: str
    priority: bool
    status: str  # waiting, called, held, served, no_show, expired
    queue_key: float
    issued_at: float
    called_at: float | None
    served_at: float | None
    counter: int | None
    recall_count: int
    transfer_count: int
    print_status: str  # pending, printed, failed, not_printed (left to `kiosk print`)
    rating: int | None
    source: str
    held_at: float | None = None
    #: The kiosk that issued it ([kiosk] id; "" in a one-kiosk office); it prints it.
    kiosk: str = ""

    @classmethod
    def from_row(cls, row: Sequence[Any]) -> Ticket:
        t = cls(*row)
        t.priority = bool(t.priority)
        return t

    def as_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in TICKET_COLUMNS}


@dataclass(frozen=True)
class Event:
    seq: int
    at: float
    day: str | None
    type: str
    code: str | None
    payload: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        from datetime import UTC, datetime

        at = (
            datetime.fromtimestamp(self.at, UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z")
        )
        return {
            "seq": self.seq,
            "type": self.type,
            "at": at,
            "day": self.day,
            "code": self.code,
            **self.payload,
        }


@dataclass(frozen=True)
class Booking:
    """One online booking of the day's cached list (kiosk/office/bookings.py)."""

    day: str
    code: str
    service: str
    priority: bool = False
    name: str = ""
    slot: str = ""
    cancelled: bool = False
    claimed_at: float | None = None
    ticket_id: int | None = None
    #: Keyed hash of the citizen's ID number when the booking names one (never the ID).
    citizen: str = ""

    def __repr__(self) -> str:
        return f"Booking({self.day!r}, {self.code!r}, {self.service!r})"

    @classmethod
    def from_row(cls, row: Sequence[Any]) -> Booking:
        return cls(
            row[0],
            row[1],
            row[2],
            bool(row[3]),
            row[4],
            row[5],
            bool(row[6]),
            row[7],
            row[8],
            row[9] or "",
        )


_SELECT_TICKET = f"SELECT {', '.join(TICKET_COLUMNS)} FROM tickets"
_SELECT_EVENT = "SELECT seq, at, day, type, code, payload FROM events"
_SELECT_BOOKING = (
    "SELECT day, code, service, priority, name, slot, cancelled, claimed_at, ticket_id, "
    "citizen FROM bookings"
)


def _event(row: Sequence[Any]) -> Event:
    return Event(row[0], row[1], row[2], row[3], row[4], json.loads(row[5]))


class Tx:
    """Row operations inside one transaction. Only :class:`Store` creates these."""

    def __init__(self, conn: sqlite3.Connection):
        self.c = conn
        self.appended = 0

    # -- meta
    def get_meta(self, key: str) -> str | None:
        """The value stored under ``key`` in ``meta`` (business day, schema, ...), or None."""
        row = self.c.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        """Store ``value`` under ``key`` in ``meta``, replacing any earlier value."""
        self.c.execute(
            "INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    # -- numbering
    def next_number(self, day: str, key: str, start: int) -> int:
        """The next number of sequence ``key`` on ``day`` (``start`` if it is the first)."""
        row = self.c.execute(
            "SELECT last FROM sequences WHERE day = ? AND key = ?", (day, key)
        ).fetchone()
        n = start if row is None else row[0] + 1
        self.c.execute(
            "INSERT INTO sequences(day, key, last) VALUES (?, ?, ?) "
            "ON CONFLICT(day, key) DO UPDATE SET last = excluded.last",
            (day, key, n),
        )
        return n

    # -- tickets
    def insert_ticket(self, **cols: Any) -> Ticket:
        """Insert a ticket row from column values; returns it as stored (with its id)."""
        names = ", ".join(cols)
        marks = ", ".join("?" for _ in cols)
        cur = self.c.execute(
            f"INSERT INTO tickets ({names}) VALUES ({marks})", tuple(cols.values())
        )
        t = self.ticket(int(cur.lastrowid or 0))
        assert t is not None
        return t

    def ticket(self, ticket_id: int) -> Ticket | None:
        """The ticket with this id, or None."""
        row = self.c.execute(f"{_SELECT_TICKET} WHERE id = ?", (ticket_id,)).fetchone()
        return Ticket.from_row(row) if row else None

    def ticket_by_code(self, day: str, code: str) -> Ticket | None:
        """The ticket with ``code`` (e.g. ``A012``) on business day ``day``, or None."""
        row = self.c.execute(f"{_SELECT_TICKET} WHERE day = ? AND code = ?", (day, code)).fetchone()
        return Ticket.from_row(row) if row else None

    def update_ticket(self, ticket_id: int, **cols: Any) -> None:
        """Set some columns of one ticket."""
        sets = ", ".join(f"{k} = ?" for k in cols)
        self.c.execute(f"UPDATE tickets SET {sets} WHERE id = ?", (*cols.values(), ticket_id))

    def next_waiting(
        self, day: str, services: Sequence[str], by_service_order: bool, priority_first: bool
    ) -> Ticket | None:
        """The ticket a counter serving ``services`` calls next."""
        marks = ", ".join("?" for _ in services)
        order = []
        if priority_first:
            order.append("priority DESC")
        if by_service_order:
            order.append(
                "CASE service "
                + " ".join(f"WHEN ? THEN {i}" for i in range(len(services)))
                + " END"
            )
        order += ["queue_key", "id"]
        args: list[Any] = [day, *services]
        if by_service_order:
            args += list(services)
        row = self.c.execute(
            f"{_SELECT_TICKET} WHERE day = ? AND status = 'waiting' AND service IN ({marks}) "
            f"ORDER BY {', '.join(order)} LIMIT 1",
            args,
        ).fetchone()
        return Ticket.from_row(row) if row else None

    def next_waiting_ordinary(self, day: str, services: Sequence[str]) -> Ticket | None:
        """The oldest ordinary (not priority) ticket waiting for ``services``."""
        marks = ", ".join("?" for _ in services)
        row = self.c.execute(
            f"{_SELECT_TICKET} WHERE day = ? AND status = 'waiting' AND priority = 0 "
            f"AND service IN ({marks}) ORDER BY queue_key, id LIMIT 1",
            (day, *services),
        ).fetchone()
        return Ticket.from_row(row) if row else None

    def waiting_tickets(self, day: str, services: Sequence[str]) -> list[Ticket]:
        """Tickets waiting for ``services`` in calling order (priority first, then queue key)."""
        marks = ", ".join("?" for _ in services)
        return [
            Ticket.from_row(r)
            for r in self.c.execute(
                f"{_SELECT_TICKET} WHERE day = ? AND status = 'waiting' AND service IN ({marks}) "
                "ORDER BY priority DESC, queue_key, id",
                (day, *services),
            )
        ]

    def held_tickets(self, day: str, counter: int) -> list[Ticket]:
        """Tickets a counter has on hold, the most recently held first."""
        return [
            Ticket.from_row(r)
            for r in self.c.execute(
                f"{_SELECT_TICKET} WHERE day = ? AND status = 'held' AND counter = ? "
                "ORDER BY held_at DESC, id DESC",
                (day, counter),
            )
        ]

    def count_waiting(self, day: str, service: str, priority_only: bool = False) -> int:
        """Tickets of ``service`` waiting on ``day`` (only priority ones if asked)."""
        sql = "SELECT COUNT(*) FROM tickets WHERE day = ? AND status = 'waiting' AND service = ?"
        if priority_only:
            sql += " AND priority = 1"
        return int(self.c.execute(sql, (day, service)).fetchone()[0])

    def min_queue_key(self, day: str, service: str) -> float | None:
        """The lowest queue key among ``service``'s waiting tickets on ``day``, or None."""
        row = self.c.execute(
            "SELECT MIN(queue_key) FROM tickets WHERE day = ? AND status = 'waiting' AND service = ?",
            (day, service),
        ).fetchone()
        return row[0]

    def recent_service_times(self, service: str, n: int) -> list[float]:
        """Seconds from call to served of ``service``'s last ``n`` served tickets, newest first."""
        rows = self.c.execute(
            "SELECT served_at - called_at FROM tickets WHERE service = ? AND served_at IS NOT NULL "
            "AND called_at IS NOT NULL AND status = 'served' ORDER BY served_at DESC LIMIT ?",
            (service, n),
        ).fetchall()
        return [r[0] for r in rows]

    def tickets_with_status(
        self, statuses: Sequence[str], day: str | None = None, before_day: str | None = None
    ) -> list[Ticket]:
        """Tickets in ``statuses``, of ``day`` or of days before ``before_day`` if given, by id."""
        marks = ", ".join("?" for _ in statuses)
        sql = f"{_SELECT_TICKET} WHERE status IN ({marks})"
        args: list[Any] = list(statuses)
        if day is not None:
            sql += " AND day = ?"
            args.append(day)
        if before_day is not None:
            sql += " AND day < ?"
            args.append(before_day)
        return [Ticket.from_row(r) for r in self.c.execute(sql + " ORDER BY id", args)]

    def tickets_of_day(self, day: str) -> list[Ticket]:
        """Every ticket of business day ``day``, by id."""
        return [
            Ticket.from_row(r)
            for r in self.c.execute(f"{_SELECT_TICKET} WHERE day = ? ORDER BY id", (day,))
        ]

    def tickets_to_print(self, kiosk: str | None = None) -> list[Ticket]:
        """Tickets whose print is pending or failed (not those printed or left to
        ``kiosk print``), only those of ``kiosk`` if given; the first condition matches
        the partial index."""
        sql = f"{_SELECT_TICKET} WHERE print_status != 'printed' AND print_status != 'not_printed'"
        args: tuple[Any, ...] = ()
        if kiosk is not None:
            sql += " AND kiosk = ?"
            args = (kiosk,)
        return [Ticket.from_row(r) for r in self.c.execute(sql + " ORDER BY id", args)]

    def events_of_day(self, day: str, types: Sequence[str]) -> list[Event]:
        """The events of some types written for one business day, in order."""
        marks = ", ".join("?" for _ in types)
        rows = self.c.execute(
            f"{_SELECT_EVENT} WHERE type IN ({marks}) AND day = ? ORDER BY seq", (*types, day)
        ).fetchall()
        return [_event(r) for r in rows]

    # -- counters
    def counter_state(self, counter: int) -> tuple[bool, int | None, int | None]:
        """(open, current ticket id, last ticket id); an unknown counter is open and idle."""
        row = self.c.execute(
            "SELECT is_open, current_ticket, last_ticket FROM counter_state WHERE counter = ?",
            (counter,),
        ).fetchone()
        return (bool(row[0]), row[1], row[2]) if row else (True, None, None)

    def set_counter_state(self, counter: int, **cols: Any) -> None:
        """Change some of a counter's state (``is_open``, ``current_ticket``, ``last_ticket``)."""
        is_open, current, last = self.counter_state(counter)
        vals = {"is_open": is_open, "current_ticket": current, "last_ticket": last, **cols}
        self.c.execute(
            "INSERT INTO counter_state(counter, is_open, current_ticket, last_ticket) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(counter) DO UPDATE SET is_open = excluded.is_open, "
            "current_ticket = excluded.current_ticket, last_ticket = excluded.last_ticket",
            (counter, int(vals["is_open"]), vals["current_ticket"], vals["last_ticket"]),
        )

    def priority_run(self, counter: int) -> int:
        """Priority tickets this counter has called in a row (for ``[queue] priority_ratio``)."""
        row = self.c.execute(
            "SELECT priority_run FROM counter_state WHERE counter = ?", (counter,)
        ).fetchone()
        return int(row[0]) if row else 0

    def set_priority_run(self, counter: int, run: int) -> None:
        """Record how many priority tickets this counter has called in a row."""
        self.set_counter_state(counter)  # makes sure the row exists
        self.c.execute(
            "UPDATE counter_state SET priority_run = ? WHERE counter = ?", (run, counter)
        )

    # -- staff accounts (hashes only; kiosk/web/auth.py makes and checks them)
    def staff(self, user: str) -> tuple[bytes, bytes, str, list[int]] | None:
        """(salt, hash, params, counters) of one account, or None."""
        row = self.c.execute(
            "SELECT salt, hash, params, counters FROM staff WHERE login = ?", (user,)
        ).fetchone()
        if row is None:
            return None
        return bytes(row[0]), bytes(row[1]), row[2], [int(c) for c in json.loads(row[3])]

    def staff_list(self) -> list[tuple[str, list[int], float]]:
        """(user, counters, created_at) of every account, by name."""
        return [
            (r[0], [int(c) for c in json.loads(r[1])], r[2])
            for r in self.c.execute("SELECT login, counters, created_at FROM staff ORDER BY login")
        ]

    def put_staff(
        self, user: str, salt: bytes, hash: bytes, params: str, counters: Sequence[int], at: float
    ) -> None:
        """Create an account or replace its hash and counters (kiosk staff add)."""
        self.c.execute(
            "INSERT INTO staff(login, salt, hash, params, counters, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(login) DO UPDATE SET salt = excluded.salt, "
            "hash = excluded.hash, params = excluded.params, counters = excluded.counters",
            (user, salt, hash, params, json.dumps(list(counters)), at),
        )

    def remove_staff(self, user: str) -> bool:
        """Delete an account; False when there was none."""
        return self.c.execute("DELETE FROM staff WHERE login = ?", (user,)).rowcount > 0

    # -- events
    def append_event(
        self, type: str, at: float, day: str | None, code: str | None, payload: dict[str, Any]
    ) -> int:
        """Append an event to the log in this transaction; returns its ``seq``."""
        cur = self.c.execute(
            "INSERT INTO events(at, day, type, code, payload) VALUES (?, ?, ?, ?, ?)",
            (at, day, type, code, json.dumps(payload, ensure_ascii=False, separators=(",", ":"))),
        )
        self.appended += 1
        return int(cur.lastrowid or 0)

    def last_seq(self) -> int:
        """The newest event's sequence number (0 for an empty log)."""
        return int(self.c.execute("SELECT COALESCE(MAX(seq), 0) FROM events").fetchone()[0])

    def newest_event_at(self) -> float | None:
        """When the newest event was written (UNIX time), or None for an empty log: the
        clock must not go back before it (:func:`kiosk.core.queue.clock_problem`)."""
        row = self.c.execute("SELECT at FROM events ORDER BY seq DESC LIMIT 1").fetchone()
        return float(row[0]) if row else None

    def events_since(
        self, seq: int, limit: int = 500, types: Sequence[str] | None = None
    ) -> list[Event]:
        """Events after ``seq`` in order, at most ``limit``, only ``types`` if given."""
        sql = f"{_SELECT_EVENT} WHERE seq > ?"
        args: list[Any] = [seq]
        if types:
            sql += f" AND type IN ({', '.join('?' for _ in types)})"
            args += list(types)
        sql += " ORDER BY seq LIMIT ?"
        args.append(limit)
        return [_event(r) for r in self.c.execute(sql, args).fetchall()]

    def latest_event(self, type: str) -> Event | None:
        """The newest event of one type (``printer_status``, ``display_link``), or None."""
        row = self.c.execute(
            f"{_SELECT_EVENT} WHERE type = ? ORDER BY seq DESC LIMIT 1", (type,)
        ).fetchone()
        return _event(row) if row else None

    def latest_events(
        self, types: Sequence[str], day: str, before_seq: int, limit: int
    ) -> list[Event]:
        """The newest ``limit`` events of ``types`` on business day ``day`` before
        ``before_seq``, newest first (the hall display's recent calls)."""
        marks = ", ".join("?" for _ in types)
        rows = self.c.execute(
            f"{_SELECT_EVENT} WHERE type IN ({marks}) AND day = ? AND seq < ? "
            "ORDER BY seq DESC LIMIT ?",
            (*types, day, before_seq, limit),
        ).fetchall()
        return [_event(r) for r in rows]

    def count_events_after(self, seq: int) -> int:
        """Events written after ``seq`` (a consumer's backlog, e.g. the uplink's unsent)."""
        return int(
            self.c.execute("SELECT COUNT(*) FROM events WHERE seq > ?", (seq,)).fetchone()[0]
        )

    def oldest_event_after(self, seq: int) -> float | None:
        """When the first event after ``seq`` was written (UNIX time), or None."""
        row = self.c.execute("SELECT MIN(at) FROM events WHERE seq > ?", (seq,)).fetchone()
        return row[0] if row else None

    # -- consumer cursors
    def cursor(self, name: str) -> int:
        """Consumer ``name``'s cursor: the last event it handled (0 if never saved)."""
        row = self.cursor_row(name)
        return row[0] if row else 0

    def cursor_row(self, name: str) -> tuple[int, float] | None:
        """Consumer ``name``'s cursor and when it was last saved, or None if never."""
        row = self.c.execute(
            "SELECT seq, updated_at FROM cursors WHERE name = ?", (name,)
        ).fetchone()
        return (int(row[0]), float(row[1])) if row else None

    def cursors(self) -> dict[str, int]:
        """Every consumer's cursor by name."""
        return dict(self.c.execute("SELECT name, seq FROM cursors").fetchall())

    def save_cursor(self, name: str, seq: int, at: float, *, forward_only: bool = True) -> None:
        """Save consumer ``name``'s cursor at ``seq``; with ``forward_only`` it never moves back."""
        new = "MAX(seq, excluded.seq)" if forward_only else "excluded.seq"
        self.c.execute(
            "INSERT INTO cursors(name, seq, updated_at) VALUES (?, ?, ?) "
            f"ON CONFLICT(name) DO UPDATE SET seq = {new}, updated_at = excluded.updated_at",
            (name, seq, at),
        )

    def register_cursor(self, name: str, at: float) -> None:
        """Create consumer ``name``'s cursor at 0 if it has none, so retention keeps
        every event it has not handled yet (:meth:`Store.prune`)."""
        self.c.execute(
            "INSERT OR IGNORE INTO cursors(name, seq, updated_at) VALUES (?, 0, ?)", (name, at)
        )

    # -- figures
    def waiting_by_service(self, day: str) -> dict[str, int]:
        """Tickets waiting on ``day`` per service (services with none left out)."""
        return dict(
            self.c.execute(
                "SELECT service, COUNT(*) FROM tickets WHERE day = ? AND status = 'waiting' "
                "GROUP BY service ORDER BY service",
                (day,),
            ).fetchall()
        )

    def count_tickets(self, day: str | None) -> int:
        """Tickets issued on business day ``day``."""
        return int(
            self.c.execute("SELECT COUNT(*) FROM tickets WHERE day = ?", (day,)).fetchone()[0]
        )

    def count_waiting_print_failed(self, day: str) -> int:
        """Tickets of ``day`` still waiting whose print failed (to be printed again)."""
        return int(
            self.c.execute(
                "SELECT COUNT(*) FROM tickets WHERE day = ? AND status = 'waiting' "
                "AND print_status = 'failed'",
                (day,),
            ).fetchone()[0]
        )

    def count_ahead(self, t: Ticket, priority_enabled: bool) -> int:
        """People still before waiting ticket ``t`` in its service, in the order counters
        call (:meth:`next_waiting`): priority first when enabled, then queue_key, then id."""
        before = "(queue_key < ? OR (queue_key = ? AND id < ?))"
        if priority_enabled and t.priority:
            before += " AND priority = 1"
        elif priority_enabled:
            before = f"(priority = 1 OR {before})"
        row = self.c.execute(
            "SELECT COUNT(*) FROM tickets WHERE day = ? AND service = ? AND status = 'waiting' "
            f"AND {before}",
            (t.day, t.service, t.queue_key, t.queue_key, t.id),
        ).fetchone()
        return int(row[0])

    def report_rows(self, first: str, last: str) -> Iterator[tuple[Any, ...]]:
        """Tickets of business days ``first``..``last`` for reports, streamed in issue order:
        (day, service, counter, status, issued_at, called_at, served_at, transfer_count, rating).
        """
        yield from self.c.execute(
            "SELECT day, service, counter, status, issued_at, called_at, served_at, "
            "transfer_count, rating FROM tickets WHERE day BETWEEN ? AND ? ORDER BY id",
            (first, last),
        )

    def ticket_id_by_source(self, day: str, source: str) -> int | None:
        """The first ticket of ``day`` issued with ``source`` (e.g. ``booking:CODE``), or None."""
        row = self.c.execute(
            "SELECT id FROM tickets WHERE day = ? AND source = ? ORDER BY id LIMIT 1",
            (day, source),
        ).fetchone()
        return int(row[0]) if row else None

    # -- bookings
    def booking(self, day: str, code: str) -> Booking | None:
        """The booking ``code`` of ``day``, or None."""
        row = self.c.execute(
            f"{_SELECT_BOOKING} WHERE day = ? AND code = ?", (day, code)
        ).fetchone()
        return Booking.from_row(row) if row else None

    def bookings_of_day(self, day: str) -> list[Booking]:
        """The day's cached bookings, by slot then code."""
        rows = self.c.execute(
            f"{_SELECT_BOOKING} WHERE day = ? ORDER BY slot, code", (day,)
        ).fetchall()
        return [Booking.from_row(r) for r in rows]

    def active_booking_codes(self, day: str) -> set[str]:
        """Codes of ``day``'s bookings that are not cancelled."""
        rows = self.c.execute("SELECT code FROM bookings WHERE day = ? AND cancelled = 0", (day,))
        return {r[0] for r in rows}

    def active_booking_day(self, code: str) -> str | None:
        """The latest day holding a booking ``code`` that is not cancelled, or None."""
        row = self.c.execute(
            "SELECT day FROM bookings WHERE code = ? AND cancelled = 0 ORDER BY day DESC", (code,)
        ).fetchone()
        return row[0] if row else None

    def save_booking(self, b: Booking, fetched_at: float) -> None:
        """Insert or refresh a listed booking; its check-in state (claim, ticket) is kept."""
        self.c.execute(
            "INSERT INTO bookings(day, code, service, priority, name, slot, cancelled, "
            "fetched_at, citizen) VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?) ON CONFLICT(day, code) "
            "DO UPDATE SET service = excluded.service, priority = excluded.priority, "
            "name = excluded.name, slot = excluded.slot, cancelled = 0, "
            "fetched_at = excluded.fetched_at, citizen = excluded.citizen",
            (
                b.day,
                b.code,
                b.service,
                int(b.priority),
                b.name,
                b.slot,
                fetched_at,
                b.citizen or None,
            ),
        )

    def booking_by_citizen(self, day: str, citizen: str) -> Booking | None:
        """``day``'s booking (not cancelled) of the citizen with this keyed ID hash; an
        unused one first, then by slot."""
        row = self.c.execute(
            f"{_SELECT_BOOKING} WHERE day = ? AND citizen = ? AND cancelled = 0 "
            "ORDER BY ticket_id IS NOT NULL, slot, code LIMIT 1",
            (day, citizen),
        ).fetchone()
        return Booking.from_row(row) if row else None

    def cancel_booking(self, day: str, code: str) -> None:
        """Mark a booking cancelled unless a ticket was already issued for it."""
        self.c.execute(
            "UPDATE bookings SET cancelled = 1 WHERE day = ? AND code = ? AND ticket_id IS NULL",
            (day, code),
        )

    def claim_booking(self, day: str, code: str, at: float) -> None:
        """Mark a booking as being checked in (a crash later is noticed by the claim's age)."""
        self.c.execute(
            "UPDATE bookings SET claimed_at = ? WHERE day = ? AND code = ?", (at, day, code)
        )

    def release_booking(self, day: str, code: str) -> None:
        """Drop the claim of a booking whose ticket could not be issued."""
        self.c.execute(
            "UPDATE bookings SET claimed_at = NULL WHERE day = ? AND code = ? AND ticket_id IS NULL",
            (day, code),
        )

    def link_booking(self, day: str, code: str, ticket_id: int) -> None:
        """Record the ticket issued for a booking (it is then used)."""
        self.c.execute(
            "UPDATE bookings SET ticket_id = ? WHERE day = ? AND code = ?", (ticket_id, day, code)
        )

    # -- citizens (keyed ID hashes, kiosk/core/citizen.py)
    def count_citizen_tickets(self, day: str, citizen: str) -> int:
        """Tickets issued on ``day`` to the citizen with this keyed ID hash."""
        return int(
            self.c.execute(
                "SELECT COUNT(*) FROM tickets WHERE day = ? AND citizen = ?", (day, citizen)
            ).fetchone()[0]
        )

    # -- retention
    def prune(self, before_day: str, protect: Sequence[str] = ()) -> tuple[int, int]:
        """Delete finished tickets and events of days before ``before_day``.

        Events after the lowest consumer cursor are never deleted (the uplink's
        unsent events among them); ``protect`` names cursors that count even if
        they were never written (then nothing is deleted until they are).
        Returns (tickets, events) deleted.
        """
        cursors = self.cursors()
        floor = min([cursors.get(name, 0) for name in protect] + list(cursors.values()) or [0])
        if protect and any(name not in cursors for name in protect):
            floor = 0
        t = self.c.execute(
            "DELETE FROM tickets WHERE day < ? AND status IN ('served', 'no_show', 'expired')",
            (before_day,),
        ).rowcount
        e = self.c.execute(
            "DELETE FROM events WHERE day < ? AND seq <= ?", (before_day, floor)
        ).rowcount
        self.c.execute("DELETE FROM sequences WHERE day < ?", (before_day,))
        # Old bookings go too: they hold names and ID hashes (docs/privacy.md).
        self.c.execute("DELETE FROM bookings WHERE day < ?", (before_day,))
        return t, e

    # -- whole-file checks
    def quick_check(self) -> str:
        """SQLite's ``PRAGMA quick_check``: ``"ok"`` or what is damaged."""
        return str(self.c.execute("PRAGMA quick_check").fetchone()[0])

    def integrity_check(self) -> str:
        """SQLite's full ``PRAGMA integrity_check``: ``"ok"`` or what is damaged."""
        return str(self.c.execute("PRAGMA integrity_check").fetchone()[0])


class Wakeup:
    """Cross-process wake-ups without polling: one datagram socket per waiting process.

    Every process that waits for events binds a unix datagram socket in a folder
    beside the store (``queue.db.wake/``). A process that commits events sends one
    empty datagram to every socket there (about 10 µs each); the waiting process's
    thread sleeps in ``recv()`` and wakes the waiters at once. An idle kiosk thus
    makes no wake-ups at all, where the former ``PRAGMA data_version`` check ran 4
    times a second. Sockets of processes that died are removed by the next sender
    (``ECONNREFUSED``). This is the SQLite stand-in for PostgreSQL's LISTEN/NOTIFY.

    Paths too long for a socket address (108 bytes) are reached through
    ``/proc/self/fd/N/``, an open handle on the folder.
    """

    SUFFIX = ".wake"

    def __init__(self, db_path: Path):
        self.dir = Path(str(db_path) + self.SUFFIX)
        self._dirfd: int | None = None
        self.sock: socket.socket | None = None
        self.name: str | None = None

    def _addr(self, name: str) -> str:
        full = str(self.dir / name)
        if len(full.encode()) < 100:
            return full
        if self._dirfd is None:
            self._dirfd = os.open(self.dir, os.O_RDONLY | os.O_DIRECTORY)
        return f"/proc/self/fd/{self._dirfd}/{name}"

    def listen(self) -> socket.socket:
        """Bind this process's socket (before the caller checks for news, so none is missed)."""
        self.dir.mkdir(exist_ok=True)
        name = f"{os.getpid()}-{secrets.token_hex(4)}.sock"
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        try:
            sock.bind(self._addr(name))
        except OSError:
            sock.close()
            raise
        self.sock, self.name = sock, name
        return sock

    def send(self) -> None:
        """Wake every other waiting process; never blocks, never fails the commit."""
        try:
            names = os.listdir(self.dir)
        except OSError:
            return  # nobody has ever waited on this store
        if not names:
            return
        out = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        out.setblocking(False)
        try:
            for name in names:
                if name == self.name or not name.endswith(".sock"):
                    continue
                try:
                    out.sendto(b"", self._addr(name))
                except OSError as e:
                    if e.errno in (errno.ECONNREFUSED, errno.ENOENT):
                        with contextlib.suppress(OSError):  # its process is gone
                            os.unlink(self.dir / name)
                    # EAGAIN: its queue is full, so it has a wake-up pending anyway.
        finally:
            out.close()

    def close(self) -> None:
        if self.sock is not None:
            with contextlib.suppress(OSError):
                os.unlink(self.dir / str(self.name))
            with contextlib.suppress(OSError):
                # Wakes our own reader out of recv() so its thread ends.
                self.sock.shutdown(socket.SHUT_RDWR)
            self.sock.close()
            self.sock = None
        if self._dirfd is not None:
            os.close(self._dirfd)
            self._dirfd = None


def wait_for_seq(
    store: Any,
    after_seq: int,
    timeout: float,
    stop: threading.Event | None,
    last_seq: Callable[[], int],
) -> bool:
    """The waiting loop both stores share: True once ``last_seq()`` passes ``after_seq``,
    False at ``timeout``, on ``stop`` or when the store closes.

    ``store`` holds ``_cond`` (a Condition), ``_generation`` (bumped by
    :func:`notify_waiters` on every wake-up) and ``_closed``. The generation is read
    before the check, so a wake-up between the check and the wait is never lost.
    """
    deadline = time.monotonic() + timeout
    while True:
        if store._closed or (stop is not None and stop.is_set()):
            return False
        with store._cond:
            generation = store._generation
        if last_seq() > after_seq:
            return True
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        with store._cond:
            if store._generation == generation:
                store._cond.wait(left)


def notify_waiters(store: Any) -> None:
    """Wake every thread in :func:`wait_for_seq` on ``store``."""
    with store._cond:
        store._generation += 1
        store._cond.notify_all()


class Store:
    """One SQLite database; safe to share between the threads of one process.

    Several processes may open the same file: numbering is serialised by
    ``BEGIN IMMEDIATE`` and each process's commits wake the others' waiters
    through :class:`Wakeup` (no polling; see :meth:`wait_for_events`).
    """

    def __init__(self, path: str | os.PathLike[str], *, busy_timeout_ms: int = 10000):
        self.path = Path(path)
        if str(path) != ":memory:":
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as e:
                raise StoreError(
                    f"cannot create the folder for the queue database {self.path}: {e.strerror}; "
                    "set [storage] path in the site file or pass --db PATH"
                ) from None
        try:
            self.conn = sqlite3.connect(
                str(path),
                isolation_level=None,
                check_same_thread=False,
                timeout=busy_timeout_ms / 1000,
            )
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=FULL")
            self.conn.execute(f"PRAGMA busy_timeout={busy_timeout_ms}")
            self.conn.execute("PRAGMA foreign_keys=ON")
        except sqlite3.Error as e:
            raise StoreError(
                f"cannot open the queue database {self.path}: {e}; check the path and its permissions "
                "([storage] path in the site file, or --db PATH)"
            ) from None
        self._lock = threading.RLock()
        self._cond = threading.Condition(threading.Lock())
        self._closed = False
        self._generation = 0
        self._watcher: threading.Thread | None = None
        self._wake = Wakeup(self.path) if str(path) != ":memory:" else None
        #: How the watcher learns of other processes' commits: "socket" (no polling) or,
        #: when the wake-up folder cannot be used, "poll" (``PRAGMA data_version``).
        self.watch_mode = ""
        #: Seconds between ``data_version`` checks, used only in "poll" mode.
        self.watch_interval = 0.25
        self._migrate()

    # -- lifecycle
    def close(self) -> None:
        """Close the database and wake every waiter; further use raises StoreError."""
        with self._lock:
            if not self._closed:
                self._closed = True
                self.conn.close()
                if self._wake is not None:
                    self._wake.close()
        with self._cond:
            self._cond.notify_all()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _migrate(self) -> None:
        with self.transaction() as tx:
            has_meta = tx.c.execute(
                "SELECT 1 FROM sqlite_master WHERE type='table' AND name='meta'"
            ).fetchone()
            version = int(tx.get_meta("schema_version") or 0) if has_meta else 0
            if version > SCHEMA_VERSION:
                raise StoreError(
                    f"the queue database {self.path} was written by a newer kiosk version "
                    f"(schema {version}, this one knows {SCHEMA_VERSION}); upgrade the software"
                )
            for v in range(version, SCHEMA_VERSION):
                for stmt in MIGRATIONS[v].split(";"):
                    if stmt.strip():
                        tx.c.execute(stmt)
                tx.set_meta("schema_version", str(v + 1))

    @property
    def schema_version(self) -> int:
        """The schema version the database is at (``SCHEMA_VERSION`` once opened)."""
        with self.read() as tx:
            return int(tx.get_meta("schema_version") or 0)

    # -- transactions
    @contextmanager
    def transaction(self) -> Iterator[Tx]:
        """One atomic write: tables and events together, fsynced on commit.

        A failure inside or at commit rolls everything back; database errors a
        technician can act on (disk full, database busy, read-only) become
        :class:`StoreError` with advice.
        """
        with self._lock:
            if self._closed:
                raise StoreError("the store is closed")
            try:
                self.conn.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as e:
                raise self._explain(e) from None
            tx = Tx(self.conn)
            try:
                yield tx
                self.conn.execute("COMMIT")
            except BaseException as e:
                if self.conn.in_transaction:
                    self.conn.execute("ROLLBACK")
                if isinstance(e, sqlite3.OperationalError):
                    raise self._explain(e) from None
                raise
        if tx.appended:
            self.notify()
            if self._wake is not None:
                self._wake.send()

    def _explain(self, e: sqlite3.Error) -> StoreError:
        msg = str(e)
        if "full" in msg:
            return StoreError(
                f"the disk holding the queue database {self.path} is full; nothing was changed. "
                "Free space (old logs, backups) and try again; `kiosk doctor` shows the disk"
            )
        if "locked" in msg or "busy" in msg:
            return StoreError(
                f"the queue database {self.path} is busy (another program holds it); nothing was changed. "
                "Try again; if it persists, restart the kiosk service"
            )
        if "readonly" in msg or "read-only" in msg:
            return StoreError(
                f"the queue database {self.path} is read-only; nothing was changed. "
                "Check that the data partition is mounted writable and owned by the kiosk user"
            )
        return StoreError(f"the queue database {self.path} failed: {msg}; nothing was changed")

    @contextmanager
    def read(self) -> Iterator[Tx]:
        """A consistent read (one snapshot)."""
        with self._lock:
            if self._closed:
                raise StoreError("the store is closed")
            self.conn.execute("BEGIN")
            try:
                yield Tx(self.conn)
            finally:
                self.conn.execute("COMMIT")

    # -- events
    def events_since(
        self, seq: int, limit: int = 500, types: Sequence[str] | None = None
    ) -> list[Event]:
        """Events after ``seq`` in order (see :meth:`Tx.events_since`)."""
        with self._lock:
            return Tx(self.conn).events_since(seq, limit, types)

    def last_seq(self) -> int:
        """The newest event's sequence number (0 for an empty log)."""
        with self._lock:
            return Tx(self.conn).last_seq()

    def data_version(self) -> int:
        """SQLite's ``PRAGMA data_version``: changes when another connection commits."""
        with self._lock:
            return int(self.conn.execute("PRAGMA data_version").fetchone()[0])

    def wait_for_events(
        self,
        after_seq: int,
        timeout: float,
        poll: float | None = None,
        stop: threading.Event | None = None,
    ) -> bool:
        """Block until an event newer than ``after_seq`` exists, or ``timeout`` passes.

        Commits in this process wake the waiter at once (a condition variable).
        Commits by other processes arrive as a datagram (:class:`Wakeup`) that one
        watcher thread per store, asleep in ``recv()``, turns into a wake-up of
        every waiter: no polling, however many consumers wait. Only if the
        wake-up folder cannot be made (read-only disk) does the watcher fall back
        to reading ``PRAGMA data_version`` every ``watch_interval`` seconds, which
        ``poll`` lowers. Setting ``stop`` (and calling :meth:`notify`) ends the
        wait early.
        """
        if poll is not None and poll < self.watch_interval:
            self.watch_interval = poll
        self._ensure_watcher()
        return wait_for_seq(self, after_seq, timeout, stop, self.last_seq)

    def notify(self) -> None:
        """Wake every waiter (used on shutdown)."""
        notify_waiters(self)

    def _ensure_watcher(self) -> None:
        with self._cond:
            if self._watcher is not None or self._closed:
                return
            target = self._watch
            if self._wake is not None:
                try:
                    sock = self._wake.listen()
                except OSError:
                    pass
                else:
                    self.watch_mode = "socket"
                    self._watcher = threading.Thread(
                        target=self._receive, args=(sock,), name="store-wake", daemon=True
                    )
            if self._watcher is None:
                self.watch_mode = "poll"
                self._watcher = threading.Thread(target=target, name="store-watch", daemon=True)
        self._watcher.start()

    def _receive(self, sock: socket.socket) -> None:
        """Turn other processes' wake-up datagrams into wake-ups of this store's waiters."""
        while not self._closed:
            try:
                sock.recv(16)
            except OSError:
                return  # closed under us
            if self._closed:
                return
            self.notify()

    def _watch(self) -> None:
        """Fallback: notice other processes' commits by ``PRAGMA data_version``."""
        try:
            version = self.data_version()
            while not self._closed:
                time.sleep(self.watch_interval)
                v = self.data_version()
                if v != version:
                    version = v
                    self.notify()
        except (StoreError, sqlite3.Error):
            return  # the store was closed under us

    # -- consumer cursors
    def cursor(self, name: str) -> int:
        """Consumer ``name``'s cursor (0 if never saved)."""
        with self._lock:
            return Tx(self.conn).cursor(name)

    def set_cursor(self, name: str, seq: int) -> None:
        """Save consumer ``name``'s cursor at ``seq`` (own transaction); it never moves back."""
        with self.transaction() as tx:
            tx.save_cursor(name, seq, time.time())

    def cursors(self) -> dict[str, int]:
        """Every consumer's cursor by name."""
        with self._lock:
            return Tx(self.conn).cursors()

    # -- retention
    def prune(self, before_day: str, protect: Sequence[str] = ()) -> tuple[int, int]:
        """Delete finished tickets and events of days before ``before_day``, in one
        transaction (see :meth:`Tx.prune`)."""
        with self.transaction() as tx:
            return tx.prune(before_day, protect)

    # -- whole files (no Store object: nothing is created or migrated)
    @staticmethod
    @contextmanager
    def read_only(path: str | os.PathLike[str], timeout: float = 5.0) -> Iterator[Tx]:
        """Read an existing database file without writing to it (``kiosk doctor``).

        One snapshot; nothing is created or migrated. Any database error, opening or
        reading, becomes :class:`StoreError` carrying SQLite's own words.
        """
        try:
            conn = sqlite3.connect(
                f"file:{path}?mode=ro", uri=True, timeout=timeout, isolation_level=None
            )
            try:
                conn.execute("BEGIN")
                yield Tx(conn)
            finally:
                conn.close()
        except sqlite3.DatabaseError as e:
            raise StoreError(str(e)) from None

    @staticmethod
    def copy_file(src: str | os.PathLike[str], dest: str | os.PathLike[str]) -> None:
        """Copy database file ``src`` to ``dest`` while others write to it, then check the copy.

        SQLite's online backup API (as ``sqlite3 .backup``): a snapshot copied page by
        page, restarted if a writer changes the database meanwhile, so the kiosk keeps
        issuing tickets during the copy. ``dest`` is not fsynced here. Raises
        :class:`StoreError` if the copy cannot be made or fails ``PRAGMA integrity_check``.
        """
        try:
            source = sqlite3.connect(f"file:{src}?mode=ro", uri=True, timeout=30)
            try:
                out = sqlite3.connect(dest)
                try:
                    source.backup(out, pages=1024, sleep=0.01)
                    check = Tx(out).integrity_check()
                finally:
                    out.close()
            finally:
                source.close()
        except sqlite3.Error as e:
            raise StoreError(f"cannot back up {src}: {e}") from None
        if check != "ok":
            raise StoreError(f"the copy of {src} failed its integrity check: {check}")


def redact(spec: str) -> str:
    """A store's name for messages: a PostgreSQL URL without its password."""
    return re.sub(r"(://[^:/@]+):[^@/]*@", r"\1:***@", spec)
