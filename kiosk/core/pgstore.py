"""The store on PostgreSQL, for a large centre: several kiosks, displays and many counters.

The same :class:`~kiosk.core.store.Tx` interface as the SQLite store, on psycopg 3
with a small connection pool; the queue rules do not change. What differs, and why:

- **Writers take turns.** Every write transaction starts by locking the single row of
  ``event_seq`` (``SELECT … FOR UPDATE``), as SQLite's ``BEGIN IMMEDIATE`` does. Ticket
  numbers (``sequences``) are therefore unique and gap-free, and two transactions can
  never deadlock on the order in which they touch ``sequences`` and ``events``.
- **The event log is commit-ordered.** ``seq`` is not a PostgreSQL sequence (neither
  gap-free nor commit-ordered: a transaction that took seq 7 may commit after the one
  that took 8, and a consumer reading ``seq > cursor`` would skip 7). It is
  ``event_seq.last + 1``, allocated under the row lock above and released at commit,
  so seqs become visible in order and without holes.
- **Wake-ups by LISTEN/NOTIFY.** A transaction that appended events sends
  ``pg_notify('kiosk_events', …)``, delivered at commit to every process; one listener
  thread per store wakes the waiting consumers. No polling.
- **Faults are messages.** A server restarted or unreachable makes each operation fail
  with :class:`~kiosk.core.store.StoreError` ("nothing was changed"); the pool reconnects
  by itself, so work resumes within seconds of the server coming back.

Connection details follow libpq's conventions: ``postgresql://user@host/db``, a
service name (``postgresql:///?service=kiosk``, ``~/.pg_service.conf``) and the
password in ``PGPASSFILE``, never in the site file.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg_pool import ConnectionPool, PoolTimeout

from kiosk.core.store import (
    Event,
    StoreError,
    Ticket,
    Tx,
    notify_waiters,
    redact,
    wait_for_seq,
)

log = logging.getLogger(__name__)

SCHEMA_VERSION = 5
CHANNEL = "kiosk_events"

#: Ordered migrations (entry N brings the schema from N to N+1), the same tables as
#: the SQLite store's, in PostgreSQL's types.
MIGRATIONS: list[str] = [
    """
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE sequences (
        day TEXT NOT NULL, key TEXT NOT NULL, last INTEGER NOT NULL,
        PRIMARY KEY (day, key)
    );
    CREATE TABLE tickets (
        id BIGSERIAL PRIMARY KEY,
        day TEXT NOT NULL,
        seq_key TEXT NOT NULL,
        number INTEGER NOT NULL,
        code TEXT NOT NULL,
        service TEXT NOT NULL,
        first_service TEXT NOT NULL,
        priority INTEGER NOT NULL DEFAULT 0,
        status TEXT NOT NULL,
        queue_key DOUBLE PRECISION NOT NULL,
        issued_at DOUBLE PRECISION NOT NULL,
        called_at DOUBLE PRECISION,
        served_at DOUBLE PRECISION,
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
        current_ticket BIGINT,
        last_ticket BIGINT
    );
    CREATE TABLE event_seq (one INTEGER PRIMARY KEY CHECK (one = 1), last BIGINT NOT NULL);
    INSERT INTO event_seq VALUES (1, 0);
    CREATE TABLE events (
        seq BIGINT PRIMARY KEY,
        at DOUBLE PRECISION NOT NULL,
        day TEXT,
        type TEXT NOT NULL,
        code TEXT,
        payload TEXT NOT NULL
    );
    CREATE INDEX events_type ON events (type, seq);
    CREATE TABLE cursors (
        name TEXT PRIMARY KEY, seq BIGINT NOT NULL, updated_at DOUBLE PRECISION NOT NULL
    );
    """,
    """
    CREATE TABLE bookings (
        day TEXT NOT NULL,
        code TEXT NOT NULL,
        service TEXT NOT NULL,
        priority INTEGER NOT NULL DEFAULT 0,
        name TEXT NOT NULL DEFAULT '',
        slot TEXT NOT NULL DEFAULT '',
        cancelled INTEGER NOT NULL DEFAULT 0,
        claimed_at DOUBLE PRECISION,
        ticket_id BIGINT,
        fetched_at DOUBLE PRECISION NOT NULL,
        PRIMARY KEY (day, code)
    );
    """,
    # 2 -> 3: hold/return, the priority ratio, staff accounts (kiosk/web/).
    """
    ALTER TABLE tickets ADD COLUMN held_at DOUBLE PRECISION;
    ALTER TABLE counter_state ADD COLUMN priority_run INTEGER NOT NULL DEFAULT 0;
    CREATE TABLE staff (
        login TEXT PRIMARY KEY,
        salt BYTEA NOT NULL,
        hash BYTEA NOT NULL,
        params TEXT NOT NULL,
        counters TEXT NOT NULL,
        created_at DOUBLE PRECISION NOT NULL
    );
    """,
    # 3 -> 4: citizen ID cards (kiosk/core/citizen.py), as in the SQLite store.
    """
    ALTER TABLE tickets ADD COLUMN citizen TEXT;
    CREATE INDEX tickets_citizen ON tickets (day, citizen) WHERE citizen IS NOT NULL;
    ALTER TABLE bookings ADD COLUMN citizen TEXT;
    """,
    """
    ALTER TABLE tickets ADD COLUMN kiosk TEXT NOT NULL DEFAULT '';
    """,
]

_PLACEHOLDER = re.compile(r"\?")


def is_url(spec: str) -> bool:
    """True for a PostgreSQL connection URL (``postgresql://…`` or ``postgres://…``)."""
    return spec.startswith(("postgresql://", "postgres://"))


class _Conn:
    """A psycopg connection that takes the store's SQLite-style ``?`` placeholders."""

    def __init__(self, conn: psycopg.Connection[Any]):
        self.conn = conn

    def execute(self, sql: str, params: Sequence[Any] = ()) -> psycopg.Cursor[Any]:
        return self.conn.execute(_PLACEHOLDER.sub("%s", sql), tuple(params))


class PgTx(Tx):
    """:class:`Tx` on PostgreSQL: the few statements that differ from SQLite's."""

    def __init__(self, conn: psycopg.Connection[Any]):
        super().__init__(_Conn(conn))  # type: ignore[arg-type]
        self.pg = conn

    def next_number(self, day: str, key: str, start: int) -> int:
        row = self.pg.execute(
            "INSERT INTO sequences(day, key, last) VALUES (%s, %s, %s) "
            "ON CONFLICT (day, key) DO UPDATE SET last = sequences.last + 1 RETURNING last",
            (day, key, start),
        ).fetchone()
        assert row is not None
        return int(row[0])

    def insert_ticket(self, **cols: Any) -> Ticket:
        names = ", ".join(cols)
        marks = ", ".join("%s" for _ in cols)
        row = self.pg.execute(
            f"INSERT INTO tickets ({names}) VALUES ({marks}) RETURNING id", tuple(cols.values())
        ).fetchone()
        assert row is not None
        t = self.ticket(int(row[0]))
        assert t is not None
        return t

    def append_event(
        self, type: str, at: float, day: str | None, code: str | None, payload: dict[str, Any]
    ) -> int:
        # The row is already locked by this transaction (PgStore.transaction).
        row = self.pg.execute(
            "UPDATE event_seq SET last = last + 1 WHERE one = 1 RETURNING last"
        ).fetchone()
        assert row is not None
        seq = int(row[0])
        self.pg.execute(
            "INSERT INTO events(seq, at, day, type, code, payload) VALUES (%s, %s, %s, %s, %s, %s)",
            (
                seq,
                at,
                day,
                type,
                code,
                json.dumps(payload, ensure_ascii=False, separators=(",", ":")),
            ),
        )
        self.appended += 1
        return seq

    def save_cursor(self, name: str, seq: int, at: float, *, forward_only: bool = True) -> None:
        new = "GREATEST(cursors.seq, excluded.seq)" if forward_only else "excluded.seq"
        self.pg.execute(
            "INSERT INTO cursors(name, seq, updated_at) VALUES (%s, %s, %s) "
            f"ON CONFLICT (name) DO UPDATE SET seq = {new}, updated_at = excluded.updated_at",
            (name, seq, at),
        )

    def register_cursor(self, name: str, at: float) -> None:
        self.pg.execute(
            "INSERT INTO cursors(name, seq, updated_at) VALUES (%s, 0, %s) ON CONFLICT DO NOTHING",
            (name, at),
        )

    def quick_check(self) -> str:
        return "ok"  # PostgreSQL checks its own pages; a reachable server is the check

    integrity_check = quick_check

    def server_time(self) -> float:
        """The database server's clock (UNIX time), for `kiosk doctor`'s clock check."""
        row = self.pg.execute("SELECT EXTRACT(EPOCH FROM clock_timestamp())").fetchone()
        assert row is not None
        return float(row[0])


class PgStore:
    """The queue store on a PostgreSQL server; the same methods as :class:`Store`."""

    def __init__(
        self,
        url: str,
        *,
        create: bool = True,
        connect_timeout: float = 5.0,
        pool_size: int = 4,
    ):
        self.url = url
        #: What messages name; the kiosk's code reads ``store.path`` for SQLite files.
        self.path = redact(url)
        self.kind = "postgresql"
        self.pool = ConnectionPool(
            url,
            min_size=1,
            max_size=pool_size,
            timeout=connect_timeout,
            open=False,
            check=ConnectionPool.check_connection,
            kwargs={"connect_timeout": max(1, int(connect_timeout))},
            reconnect_timeout=0,  # keep trying for ever: the office waits for its server
            name="kiosk-store",
        )
        self.pool.open(wait=False)
        self._cond = threading.Condition(threading.Lock())
        self._generation = 0
        self._closed = False
        self._listener: threading.Thread | None = None
        self._listen_conn: psycopg.Connection[Any] | None = None
        self.create = create
        try:
            self._migrate()
        except BaseException:
            self.close()
            raise

    # -- lifecycle
    def close(self) -> None:
        self._closed = True
        conn = self._listen_conn
        if conn is not None:
            try:
                conn.cancel_safe(timeout=1)
            except Exception:  # noqa: BLE001 - closing anyway
                pass
        self.pool.close()
        self.notify()

    def __enter__(self) -> PgStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _explain(self, e: Exception) -> StoreError:
        return StoreError(
            f"the queue database server {self.path} cannot be reached ({_first_line(e)}); "
            "nothing was changed. Numbers cannot be issued until it is back; "
            "`kiosk doctor` checks the connection"
        )

    @contextmanager
    def _conn(self) -> Iterator[psycopg.Connection[Any]]:
        if self._closed:
            raise StoreError("the store is closed")
        try:
            with self.pool.connection() as conn:
                yield conn
        except (psycopg.OperationalError, PoolTimeout) as e:
            raise self._explain(e) from None

    def _migrate(self) -> None:
        with self.transaction(lock=False) as tx:
            tx.pg.execute("SELECT pg_advisory_xact_lock(7355608)")
            exists = tx.pg.execute("SELECT to_regclass('meta')").fetchone()
            version = int(tx.get_meta("schema_version") or 0) if exists and exists[0] else 0
            if version == 0 and not self.create:
                raise StoreError(
                    f"the database {self.path} holds no queue tables; nothing was changed. "
                    f"Check --db or [storage] url, or create them with `kiosk init --db URL`"
                )
            if version > SCHEMA_VERSION:
                raise StoreError(
                    f"the queue database {self.path} was written by a newer kiosk version "
                    f"(schema {version}, this one knows {SCHEMA_VERSION}); upgrade the software"
                )
            for v in range(version, SCHEMA_VERSION):
                tx.pg.execute(MIGRATIONS[v].encode("utf-8"))
                tx.set_meta("schema_version", str(v + 1))

    @property
    def schema_version(self) -> int:
        with self.read() as tx:
            return int(tx.get_meta("schema_version") or 0)

    # -- transactions
    @contextmanager
    def transaction(self, lock: bool = True) -> Iterator[PgTx]:
        """One atomic write; writers take turns on the ``event_seq`` row lock."""
        appended = 0
        with self._conn() as conn:
            try:
                with conn.transaction():
                    tx = PgTx(conn)
                    if lock:
                        conn.execute("SELECT last FROM event_seq WHERE one = 1 FOR UPDATE")
                    yield tx
                    appended = tx.appended
                    if appended:
                        conn.execute("SELECT pg_notify(%s, '')", (CHANNEL,))
            except (psycopg.OperationalError, PoolTimeout) as e:
                raise self._explain(e) from None
            except psycopg.Error as e:
                raise StoreError(
                    f"the queue database {self.path} refused: {_first_line(e)}; nothing was changed"
                ) from None
        if appended:
            self.notify()

    @contextmanager
    def read(self) -> Iterator[PgTx]:
        """A consistent read (one snapshot)."""
        with self._conn() as conn:
            try:
                with conn.transaction():
                    conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                    yield PgTx(conn)
            except (psycopg.OperationalError, PoolTimeout) as e:
                raise self._explain(e) from None

    # -- events
    def events_since(
        self, seq: int, limit: int = 500, types: Sequence[str] | None = None
    ) -> list[Event]:
        with self.read() as tx:
            return tx.events_since(seq, limit, types)

    def last_seq(self) -> int:
        with self.read() as tx:
            return tx.last_seq()

    def wait_for_events(
        self,
        after_seq: int,
        timeout: float,
        poll: float | None = None,
        stop: threading.Event | None = None,
    ) -> bool:
        """Block until an event newer than ``after_seq`` exists, or ``timeout`` passes.

        Woken by this process's commits and by every other process's through
        LISTEN/NOTIFY; ``poll`` is accepted for the SQLite store's signature and unused.
        While the server is unreachable this returns False after ``timeout``.
        """
        self._ensure_listener()

        def last_seq() -> int:
            try:
                return self.last_seq()
            except StoreError:
                return after_seq  # the server is away: wait for the listener to say it is back

        return wait_for_seq(self, after_seq, timeout, stop, last_seq)

    def notify(self) -> None:
        notify_waiters(self)

    def _ensure_listener(self) -> None:
        with self._cond:
            if self._listener is not None or self._closed:
                return
            self._listener = threading.Thread(target=self._listen, name="store-listen", daemon=True)
        self._listener.start()

    def _listen(self) -> None:
        """LISTEN on one dedicated connection; reconnect with backoff when it drops."""
        delay = 0.5
        while not self._closed:
            try:
                with psycopg.connect(self.url, autocommit=True, connect_timeout=5) as conn:
                    self._listen_conn = conn
                    conn.execute(f"LISTEN {CHANNEL}")
                    delay = 0.5
                    self.notify()  # (re)connected: events may have come meanwhile
                    for _ in conn.notifies():
                        self.notify()
                        if self._closed:
                            return
            except psycopg.Error as e:
                if self._closed:
                    return
                log.info("store listener: %s; retrying in %.1f s", _first_line(e), delay)
            finally:
                self._listen_conn = None
            time.sleep(delay)
            delay = min(delay * 2, 10.0)

    # -- consumer cursors
    def cursor(self, name: str) -> int:
        with self.read() as tx:
            return tx.cursor(name)

    def set_cursor(self, name: str, seq: int) -> None:
        with self.transaction() as tx:
            tx.save_cursor(name, seq, time.time())

    def cursors(self) -> dict[str, int]:
        with self.read() as tx:
            return tx.cursors()

    # -- retention
    def prune(self, before_day: str, protect: Sequence[str] = ()) -> tuple[int, int]:
        """As :meth:`Store.prune`."""
        with self.transaction() as tx:
            return tx.prune(before_day, protect)

    def server_time(self) -> float:
        with self.read() as tx:
            return tx.server_time()


def _first_line(e: BaseException) -> str:
    return (str(e).strip().splitlines() or [type(e).__name__])[0]
