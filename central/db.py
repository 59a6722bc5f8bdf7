"""The central server's store: PostgreSQL through psycopg 3 and a connection pool.

Every query of the central server is in this module (as the kiosk keeps all of its
SQL in ``kiosk/core/store.py``); the schema is in ``central/sql/migrations/``, applied
in order by :meth:`CentralDB.migrate` under an advisory lock, so two servers started
together never migrate twice.

Events are kept once per (site, seq): a batch sent again (its reply was lost) stores
nothing new, and a *different* event under a seq already held goes to ``conflicts``
(a kiosk restored from a backup). In the same transaction the events are folded into
``tickets``, one row per ticket, which is what the dashboard reads.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from importlib import resources
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb
from psycopg_pool import ConnectionPool

#: Bumped by each file in sql/migrations; `central-server doctor` compares it.
MIGRATIONS = "central.sql.migrations"
LOCK_ID = 0x6B696F736B  # advisory lock key for migrations ("kiosk")

#: Satisfied = at least this rating, by scale (3 levels today; 5 stars on tablets).
SATISFIED_FROM = {3: 2, 5: 4}
#: Events that end a ticket, and the state they leave it in.
STATE_OF = {"ticket_served": "served", "ticket_skipped": "no_show", "ticket_expired": "expired"}
#: The columns of day_counts a delta may touch (ticket states and tallies).
COUNT_COLUMNS = frozenset(
    ("issued", "waiting", "called", "served", "no_show", "expired", "rated", "satisfied")
)


def satisfied(rating: int, scale: int) -> bool:
    return rating >= SATISFIED_FROM.get(scale, (scale + 1) // 2 + 1)


class DatabaseError(Exception):
    """The database cannot be reached or refused; the message says what to check."""


class SiteError(Exception):
    """A site command that cannot be done (exists already, unknown site, bad id)."""


def token_hash(token: str) -> str:
    """The stored form of a site token (tokens are 256-bit random, so SHA-256 suffices)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1  # 16 MiB of memory per check


def hash_password(password: str) -> str:
    """scrypt (memory-hard) with a random salt, as ``scrypt$N$r$p$salt$hash`` in hex."""
    salt = secrets.token_bytes(16)
    h = hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=32
    )
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${salt.hex()}${h.hex()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        kind, n, r, p, salt, want = stored.split("$")
        if kind != "scrypt":
            return False
        got = hashlib.scrypt(
            password.encode("utf-8"),
            salt=bytes.fromhex(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(want) // 2,
        )
    except (ValueError, TypeError):
        return False
    return secrets.compare_digest(got.hex(), want)


def _parse_at(at: Any) -> datetime | None:
    if not isinstance(at, str):
        return None
    try:
        t = datetime.fromisoformat(at.replace("Z", "+00:00"))
    except ValueError:
        return None
    return t if t.tzinfo else t.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Site:
    id: str
    name: str
    created_at: datetime
    revoked_at: datetime | None


def _migrations() -> list[tuple[int, str, str]]:
    out = []
    for f in resources.files(MIGRATIONS).iterdir():
        name = f.name
        if name.endswith(".sql") and name[:4].isdigit():
            out.append((int(name[:4]), name, f.read_text(encoding="utf-8")))
    return sorted(out)


def latest_version() -> int:
    return _migrations()[-1][0]


class CentralDB:
    """A pool of connections to the central database (a libpq URL or service name)."""

    def __init__(
        self,
        url: str,
        tz: str = "Asia/Ho_Chi_Minh",
        min_size: int = 1,
        max_size: int = 8,
        timeout: float = 5.0,
    ):
        self.url = url
        self.tz = tz
        self.pool = ConnectionPool(
            url,
            min_size=min_size,
            max_size=max_size,
            timeout=timeout,
            open=False,
            check=ConnectionPool.check_connection,
            kwargs={
                "row_factory": dict_row,
                "connect_timeout": 5,
                # Hours on the dashboard are the offices' local hours.
                "options": f"-c TimeZone={tz}",
            },
        )

    def open(self, wait: bool = True) -> None:
        try:
            self.pool.open(wait=wait, timeout=10)
        except psycopg.OperationalError as e:
            raise DatabaseError(f"cannot connect to {self.url}: {e}") from None
        except Exception as e:  # psycopg_pool.PoolTimeout
            raise DatabaseError(f"cannot connect to {self.url}: {e}") from None

    def close(self) -> None:
        self.pool.close()

    @contextmanager
    def tx(self) -> Iterator[psycopg.Connection[Any]]:
        """One transaction; connection failures become :class:`DatabaseError`."""
        try:
            with self.pool.connection() as conn, conn.transaction():
                yield conn
        except psycopg.OperationalError as e:
            raise DatabaseError(f"database unavailable: {e}") from None
        except Exception as e:
            if type(e).__name__ == "PoolTimeout":
                raise DatabaseError(f"database unavailable: {e}") from None
            raise

    # ------------------------------------------------------------ schema

    def schema_version(self) -> int:
        with self.tx() as c:
            exists = c.execute("SELECT to_regclass('schema_migrations') AS t").fetchone()
            if not exists or exists["t"] is None:
                return 0
            row = c.execute(
                "SELECT COALESCE(MAX(version), 0) AS v FROM schema_migrations"
            ).fetchone()
            return int(row["v"]) if row else 0

    def migrate(self) -> list[str]:
        """Apply every migration not yet applied, in order; returns their names."""
        done: list[str] = []
        with self.tx() as c:
            c.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK_ID,))
            c.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " version integer PRIMARY KEY, name text NOT NULL,"
                " applied_at timestamptz NOT NULL DEFAULT now())"
            )
            have = {r["version"] for r in c.execute("SELECT version FROM schema_migrations")}
            for version, name, sql in _migrations():
                if version in have:
                    continue
                c.execute(sql.encode("utf-8"))
                c.execute(
                    "INSERT INTO schema_migrations (version, name) VALUES (%s, %s)", (version, name)
                )
                done.append(name)
        return done

    # ------------------------------------------------------------- sites

    def add_site(self, site: str, name: str) -> str:
        """Register a site; returns its new token (shown once, kept only as a hash)."""
        token = secrets.token_urlsafe(32)
        with self.tx() as c:
            if c.execute("SELECT 1 FROM sites WHERE id = %s", (site,)).fetchone():
                raise SiteError(
                    f"site {site} exists already; `central-server site rotate {site}` gives it a new token"
                )
            c.execute(
                "INSERT INTO sites (id, name, token_hash) VALUES (%s, %s, %s)",
                (site, name, token_hash(token)),
            )
        return token

    def rotate_site(self, site: str) -> str:
        """A new token for a site (the old one stops working); also un-revokes it."""
        token = secrets.token_urlsafe(32)
        with self.tx() as c:
            cur = c.execute(
                "UPDATE sites SET token_hash = %s, revoked_at = NULL WHERE id = %s",
                (token_hash(token), site),
            )
            if cur.rowcount == 0:
                raise SiteError(f"no site {site}; `central-server site list` shows them")
        return token

    def revoke_site(self, site: str) -> None:
        with self.tx() as c:
            cur = c.execute(
                "UPDATE sites SET revoked_at = now() WHERE id = %s AND revoked_at IS NULL", (site,)
            )
            if cur.rowcount == 0:
                known = c.execute("SELECT 1 FROM sites WHERE id = %s", (site,)).fetchone()
                raise SiteError(
                    f"site {site} is already revoked"
                    if known
                    else f"no site {site}; `central-server site list` shows them"
                )

    def sites(self) -> list[Site]:
        with self.tx() as c:
            rows = c.execute(
                "SELECT id, name, created_at, revoked_at FROM sites ORDER BY id"
            ).fetchall()
        return [Site(**r) for r in rows]

    def site_for_token(self, token: str) -> str | None:
        with self.tx() as c:
            row = c.execute(
                "SELECT id FROM sites WHERE token_hash = %s AND revoked_at IS NULL",
                (token_hash(token),),
            ).fetchone()
        return row["id"] if row else None

    # ------------------------------------------------------------- users

    def set_user(self, name: str, password: str) -> bool:
        """Add a dashboard user or change the password; True when the user is new."""
        with self.tx() as c:
            row = c.execute(
                "INSERT INTO users (name, pw_hash) VALUES (%s, %s)"
                " ON CONFLICT (name) DO UPDATE SET pw_hash = EXCLUDED.pw_hash"
                " RETURNING (xmax = 0) AS inserted",
                (name, hash_password(password)),
            ).fetchone()
        return bool(row and row["inserted"])

    def remove_user(self, name: str) -> bool:
        with self.tx() as c:
            return c.execute("DELETE FROM users WHERE name = %s", (name,)).rowcount > 0

    def users(self) -> list[str]:
        with self.tx() as c:
            return [r["name"] for r in c.execute("SELECT name FROM users ORDER BY name")]

    def check_user(self, name: str, password: str) -> bool:
        with self.tx() as c:
            row = c.execute("SELECT pw_hash FROM users WHERE name = %s", (name,)).fetchone()
        return row is not None and verify_password(password, row["pw_hash"])

    # ------------------------------------------------------------ uplink

    def add_events(self, site: str, events: list[dict[str, Any]]) -> tuple[int, int, int]:
        """Store a batch atomically; (stored, duplicates, conflicts)."""
        seqs = [e["seq"] for e in events]
        with self.tx() as c:
            # One batch of a site at a time, so two resends never race on the same seqs.
            c.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (site,))
            held = {
                r["seq"]: r
                for r in c.execute(
                    "SELECT seq, type, at FROM events WHERE site = %s AND seq = ANY(%s)",
                    (site, seqs),
                )
            }
            new = [e for e in events if e["seq"] not in held]
            conflicts = 0
            dup = 0
            for e in events:
                old = held.get(e["seq"])
                if old is None:
                    continue
                if old["type"] == e["type"] and old["at"] == e["at"]:
                    dup += 1
                else:
                    cur = c.execute(
                        "INSERT INTO conflicts (site, seq, at, body) VALUES (%s, %s, %s, %s)"
                        " ON CONFLICT DO NOTHING",
                        (site, e["seq"], e["at"], Jsonb(e)),
                    )
                    conflicts += 1
            if new:
                with c.cursor() as cur:
                    cur.executemany(
                        "INSERT INTO events (site, seq, type, at, day, code, body)"
                        " VALUES (%s, %s, %s, %s, %s, %s, %s)",
                        [
                            (
                                site,
                                e["seq"],
                                e["type"],
                                e["at"],
                                e.get("day"),
                                e.get("code") if isinstance(e.get("code"), str) else None,
                                Jsonb(e),
                            )
                            for e in new
                        ],
                    )
                for e in new:
                    self._fold(c, site, e)
            c.execute("SELECT pg_notify('central', %s)", (site,))
        return len(new), dup, conflicts

    def _fold(self, c: psycopg.Connection[Any], site: str, e: dict[str, Any]) -> None:
        """Apply one event to ``tickets`` and ``day_counts`` (unknown kinds are ignored)."""
        kind, day, tid = e["type"], e.get("day"), e.get("ticket_id")
        at = _parse_at(e.get("at"))
        if day is None or at is None or isinstance(tid, bool) or not isinstance(tid, int):
            return
        key = (site, day, tid)
        if kind == "ticket_issued":
            row = c.execute(
                "INSERT INTO tickets (site, day, ticket_id, code, service, priority, issued_at)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING RETURNING 1 AS new",
                (
                    *key,
                    str(e.get("code") or ""),
                    str(e.get("service") or ""),
                    bool(e.get("priority")),
                    at,
                ),
            ).fetchone()
            if row:
                self._count(c, site, day, {"issued": 1, "waiting": 1})
            return
        old = c.execute(
            "SELECT state, rating, rating_scale FROM tickets"
            " WHERE site = %s AND day = %s AND ticket_id = %s FOR UPDATE",
            key,
        ).fetchone()
        if old is None:
            return  # its ticket_issued was pruned on the kiosk before it was ever sent
        state = old["state"]
        if kind == "ticket_called" and not e.get("recall"):
            c.execute(
                "UPDATE tickets SET state = 'called', called_at = COALESCE(called_at, %s),"
                " counter = %s WHERE site = %s AND day = %s AND ticket_id = %s",
                (at, _int(e.get("counter")), *key),
            )
            self._move(c, site, day, state, "called")
        elif kind in STATE_OF:
            c.execute(
                "UPDATE tickets SET state = %s, ended_at = %s"
                " WHERE site = %s AND day = %s AND ticket_id = %s",
                (STATE_OF[kind], at, *key),
            )
            self._move(c, site, day, state, STATE_OF[kind])
        elif kind == "ticket_transferred":
            c.execute(
                "UPDATE tickets SET state = 'waiting', service = COALESCE(%s, service)"
                " WHERE site = %s AND day = %s AND ticket_id = %s",
                (e.get("to_service") if isinstance(e.get("to_service"), str) else None, *key),
            )
            self._move(c, site, day, state, "waiting")
        elif kind == "ticket_rated":
            rating = _int(e.get("rating"))
            scale = _int(e.get("scale")) or 3
            if rating is None:
                return
            c.execute(
                "UPDATE tickets SET rating = %s, rating_scale = %s"
                " WHERE site = %s AND day = %s AND ticket_id = %s",
                (rating, scale, *key),
            )
            delta = {"rated": 1, "satisfied": int(satisfied(rating, scale))}
            if old["rating"] is not None:  # rated again: the newer rating counts
                delta["rated"] -= 1
                delta["satisfied"] -= int(satisfied(old["rating"], old["rating_scale"] or 3))
            self._count(c, site, day, delta)

    def _move(self, c: psycopg.Connection[Any], site: str, day: str, old: str, new: str) -> None:
        if old != new:
            self._count(c, site, day, {old: -1, new: 1})

    def _count(
        self, c: psycopg.Connection[Any], site: str, day: str, delta: dict[str, int]
    ) -> None:
        cols = [k for k in delta if k in COUNT_COLUMNS and delta[k]]
        if not cols:
            return
        names = ", ".join(cols)
        marks = ", ".join("%s" for _ in cols)
        sets = ", ".join(f"{k} = day_counts.{k} + EXCLUDED.{k}" for k in cols)
        c.execute(
            f"INSERT INTO day_counts (site, day, {names}) VALUES (%s, %s, {marks})"
            f" ON CONFLICT (site, day) DO UPDATE SET {sets}",
            (site, day, *(delta[k] for k in cols)),
        )

    def set_heartbeat(self, site: str, body: dict[str, Any]) -> None:
        with self.tx() as c:
            c.execute(
                "INSERT INTO heartbeats (site, received_at, body) VALUES (%s, now(), %s)"
                " ON CONFLICT (site) DO UPDATE SET received_at = now(), body = EXCLUDED.body",
                (site, Jsonb(body)),
            )
            c.execute("SELECT pg_notify('central', %s)", (site,))

    def set_report(self, site: str, day: str, report: dict[str, Any]) -> None:
        with self.tx() as c:
            c.execute(
                "INSERT INTO reports (site, day, received_at, body) VALUES (%s, %s, now(), %s)"
                " ON CONFLICT (site, day) DO UPDATE SET received_at = now(), body = EXCLUDED.body",
                (site, day, Jsonb(report)),
            )

    def events(self, site: str, after: int, limit: int) -> list[dict[str, Any]]:
        with self.tx() as c:
            rows = c.execute(
                "SELECT body FROM events WHERE site = %s AND seq > %s ORDER BY seq LIMIT %s",
                (site, after, limit),
            ).fetchall()
        return [r["body"] for r in rows]

    def reports(self, site: str, first: str, last: str) -> list[dict[str, Any]]:
        with self.tx() as c:
            rows = c.execute(
                "SELECT day::text AS day, body FROM reports"
                " WHERE site = %s AND day BETWEEN %s AND %s ORDER BY day",
                (site, first, last),
            ).fetchall()
        return [{"day": r["day"], "report": r["body"]} for r in rows]

    def site_summaries(self) -> list[dict[str, Any]]:
        """Per site: events held, first/last seq, holes, conflicts, last event and heartbeat."""
        with self.tx() as c:
            rows = c.execute(
                """
                SELECT s.id AS site, COUNT(e.seq) AS events, MIN(e.seq) AS first_seq,
                       MAX(e.seq) AS last_seq, MAX(e.received_at) AS last_event_received_at,
                       (SELECT COUNT(*) FROM conflicts k WHERE k.site = s.id) AS conflicts,
                       (SELECT received_at FROM heartbeats h WHERE h.site = s.id)
                           AS heartbeat_received_at
                FROM sites s LEFT JOIN events e ON e.site = s.id
                GROUP BY s.id ORDER BY s.id
                """
            ).fetchall()
        out = []
        for r in rows:
            n, lo, hi = r["events"], r["first_seq"], r["last_seq"]
            out.append(
                {
                    "site": r["site"],
                    "events": n,
                    "first_seq": lo,
                    "last_seq": hi,
                    "missing": (hi - lo + 1 - n) if n else 0,
                    "conflicts": r["conflicts"],
                    "last_event_received_at": _ts(r["last_event_received_at"]),
                    "heartbeat_received_at": _ts(r["heartbeat_received_at"]),
                }
            )
        return out

    # --------------------------------------------------------- dashboard

    def overview(self, day: date) -> list[dict[str, Any]]:
        """One row per active site for ``day``: today's counts (from ``day_counts``, kept on
        ingest), the longest wait now (the first waiting ticket, from its index) and the
        latest heartbeat."""
        with self.tx() as c:
            rows = c.execute(
                """
                SELECT s.id AS site, s.name,
                       COALESCE(d.issued, 0) AS issued, COALESCE(d.served, 0) AS served,
                       COALESCE(d.waiting, 0) AS waiting, COALESCE(d.no_show, 0) AS no_show,
                       COALESCE(d.rated, 0) AS rated, COALESCE(d.satisfied, 0) AS satisfied,
                       EXTRACT(EPOCH FROM now() - (
                           SELECT t.issued_at FROM tickets t
                           WHERE t.site = s.id AND t.day = %s AND t.state = 'waiting'
                           ORDER BY t.issued_at LIMIT 1)) AS longest_wait_s,
                       h.received_at AS heartbeat_at, h.body AS heartbeat,
                       EXTRACT(EPOCH FROM now() - h.received_at) AS heartbeat_age_s,
                       (SELECT COUNT(*) FROM conflicts k WHERE k.site = s.id) AS conflicts
                FROM sites s
                LEFT JOIN day_counts d ON d.site = s.id AND d.day = %s
                LEFT JOIN heartbeats h ON h.site = s.id
                WHERE s.revoked_at IS NULL
                """,
                (day, day),
            ).fetchall()
        return [dict(r) for r in rows]

    def hourly(self, site: str, day: date) -> list[dict[str, Any]]:
        """Issued and served per hour of ``day`` (local hour of the site's time zone)."""
        with self.tx() as c:
            rows = c.execute(
                """
                SELECT EXTRACT(HOUR FROM issued_at AT TIME ZONE current_setting('TimeZone'))::int
                           AS hour,
                       COUNT(*) AS issued,
                       COUNT(*) FILTER (WHERE state = 'served') AS served,
                       AVG(EXTRACT(EPOCH FROM called_at - issued_at)) / 60 AS wait_mean_min
                FROM tickets WHERE site = %s AND day = %s GROUP BY 1 ORDER BY 1
                """,
                (site, day),
            ).fetchall()
        return [dict(r) for r in rows]

    def daily(self, site: str, first: date, last: date) -> list[dict[str, Any]]:
        """Per day of [first, last]: issued, served, no-shows, expired, mean wait, ratings."""
        with self.tx() as c:
            rows = c.execute(
                """
                SELECT d.day::text AS day, d.issued, d.served, d.no_show, d.expired,
                       (SELECT ROUND((AVG(EXTRACT(EPOCH FROM t.called_at - t.issued_at)) / 60)
                                     ::numeric, 1)
                        FROM tickets t WHERE t.site = d.site AND t.day = d.day
                          AND t.called_at IS NOT NULL) AS wait_mean_min,
                       d.rated, d.satisfied
                FROM day_counts d WHERE d.site = %s AND d.day BETWEEN %s AND %s ORDER BY d.day
                """,
                (site, first, last),
            ).fetchall()
        return [dict(r) for r in rows]

    def site(self, site: str) -> Site | None:
        with self.tx() as c:
            row = c.execute(
                "SELECT id, name, created_at, revoked_at FROM sites WHERE id = %s", (site,)
            ).fetchone()
        return Site(**row) if row else None

    def server_now(self) -> datetime:
        with self.tx() as c:
            row = c.execute("SELECT now() AS t").fetchone()
        assert row is not None
        return row["t"]  # type: ignore[no-any-return]


def _int(v: Any) -> int | None:
    return v if isinstance(v, int) and not isinstance(v, bool) else None


def _ts(t: datetime | None) -> float | None:
    return t.timestamp() if t is not None else None
