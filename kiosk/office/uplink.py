"""Uplink: every event, in order, to the province's central server; a device heartbeat;
each closed day's report.

The event log is the outbox. The uplink reads events after its durable cursor,
posts them in batches to ``[uplink] url``/events and moves the cursor only after
the receiver acknowledged them. Offline days therefore lose nothing and reorder
nothing: the events wait in the store (retention never deletes events past the
lowest cursor, see :meth:`kiosk.core.store.Store.prune`) and go in order of ``seq``
when the link is back. A batch that reached the server but whose reply was lost
is sent again; the receiver drops what it already holds by site id + ``seq``.

Every call has a timeout, TLS is always verified (``ca_bundle`` for a province's
own CA), and failures wait an exponentially growing, jittered delay; a 429 reply's
``Retry-After`` is honoured. While the server is unreachable the periodic heartbeat
doubles as a probe that ends the backoff when it gets through. The wire format is in
docs/uplink.md; ``central-server run`` (central/app.py) is the other end (``kiosk receiver``,
central/receiver.py, is the deprecated reference one).
"""

from __future__ import annotations

import email.utils
import json
import logging
import random
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests

from kiosk import __version__
from kiosk.core import events
from kiosk.core.config import Config, ConfigError, uplink_settings
from kiosk.core.consumer import Consumer
from kiosk.core.events import backlog
from kiosk.core.store import Store
from kiosk.core.versions import installed

log = logging.getLogger(__name__)

#: Version of the JSON documents in docs/uplink.md.
WIRE_SCHEMA = 1
#: Failures that mean the server could not be reached (a heartbeat getting through ends them).
LINK_FAILURES = frozenset({"network", "timeout", "tls"})
#: Meta key: business days whose daily report is due to the central server.
REPORTS_KEY = "uplink_reports_due"
#: Longest Retry-After honoured; a misconfigured server must not silence a site for days.
MAX_RETRY_AFTER = 3600.0


class UplinkError(Exception):
    """A send that did not get acknowledged; ``kind`` names the cause for logs and metrics."""

    def __init__(self, kind: str, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.kind = kind
        self.retry_after = retry_after


@dataclass(frozen=True)
class UplinkSettings:
    """What the uplink needs from ``[uplink]`` and ``[site]``."""

    url: str
    token: str
    site: str
    ca_bundle: str = ""
    batch_size: int = 200
    timeout: float = 10.0
    heartbeat_seconds: float = 60.0
    max_backoff: float = 300.0
    min_backoff: float = 1.0

    @classmethod
    def from_config(cls, cfg: Config) -> UplinkSettings:
        """Read and check ``[uplink]``; raises ConfigError naming the key and the fix."""
        u = cfg.uplink
        url = u.url.strip().rstrip("/")
        token, found = uplink_settings(url, u.token, u.token_file, u.ca_bundle)
        if found:
            raise ConfigError([f"{cfg.source}: uplink.{k}: {p}" for k, p in found])
        return cls(
            url=url,
            token=token,
            site=cfg.site.id,
            ca_bundle=u.ca_bundle,
            batch_size=u.batch_size,
            timeout=u.timeout,
            heartbeat_seconds=u.heartbeat_seconds,
            max_backoff=u.max_backoff,
        )


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


PAPER = {"ok": "ok", "paper_near_end": "near_end", "paper_out": "out"}


def device_health(store: Store, started_at: float, now: float) -> dict[str, Any]:
    """Printer, paper, display link, disk, version (and the installed packages'
    versions) and uptime, as sent in a heartbeat."""
    health: dict[str, Any] = {}
    p = events.latest(store, events.PRINTER_STATUS)
    state = str(p.payload.get("state", "unknown")) if p else "unknown"
    health["printer"] = {
        "state": state,
        "paper": PAPER.get(state, "unknown"),
        "detail": p.payload.get("detail", "") if p else "no printer report yet",
        "since": _iso(p.at) if p else None,
    }
    d = events.latest(store, events.DISPLAY_LINK)
    health["display_link"] = {
        "state": str(d.payload.get("state", "unknown")) if d else "unknown",
        "detail": d.payload.get("detail", "") if d else "no display-link report yet",
        "since": _iso(d.at) if d else None,
    }
    folder = store.path.parent if str(store.path) != ":memory:" else Path(".")
    try:
        du = shutil.disk_usage(folder)
        health["disk"] = {
            "path": str(folder),
            "free_bytes": du.free,
            "total_bytes": du.total,
            "free_percent": round(100 * du.free / du.total, 1) if du.total else None,
        }
    except OSError as e:
        health["disk"] = {"path": str(folder), "error": e.strerror}
    health["version"] = __version__
    health["packages"] = installed()  # {name: version}: what the fleet runs
    health["uptime_seconds"] = round(now - started_at, 1)
    try:
        health["system_uptime_seconds"] = float(Path("/proc/uptime").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        health["system_uptime_seconds"] = None
    return health


def queue_now(store: Store) -> dict[str, Any]:
    """The current business day's queue at a glance: waiting per service, issued so far."""
    with store.read() as tx:
        day = tx.get_meta("day")
        waiting = tx.waiting_by_service(day) if day is not None else {}
        issued = tx.count_tickets(day)
    return {"day": day, "issued": issued, "waiting": waiting}


class Uplink(Consumer):
    """The uplink consumer: batches to ``/events``, heartbeats to ``/heartbeat``."""

    name = events.UPLINK_CURSOR
    idle_wait = 5.0

    def __init__(
        self,
        store: Store,
        settings: UplinkSettings,
        *,
        session: requests.Session | None = None,
        clock: Callable[[], float] = time.time,
        rng: random.Random | None = None,
        cfg: Config | None = None,
    ):
        super().__init__(store)
        self.settings = settings
        #: With a site configuration, each closed day's report is sent too.
        self.cfg = cfg
        self.clock = clock
        self.rng = rng or random.Random()
        self.started_at = clock()
        self.session = session or requests.Session()
        self.session.headers.update(
            {
                "Authorization": f"Bearer {settings.token}",
                "Content-Type": "application/json; charset=utf-8",
                "User-Agent": f"queue-kiosk/{__version__}",
            }
        )
        #: Shrinks when the receiver answers 413 (batch too large).
        self.batch_size = settings.batch_size
        self.sent = 0
        #: Events the receiver reported as clashing with different ones it holds.
        self.conflicts = 0
        self.last_ok: float | None = None
        self.last_heartbeat: float | None = None
        # Loop state on the monotonic clock (see step()).
        self._next_heartbeat = 0.0
        self._retry_at = 0.0
        self._quiet_until = 0.0
        self._link_down = False
        # Register the cursor now: from here on retention keeps every unsent event even
        # if nothing has been sent yet (Store.prune keeps events past the lowest cursor).
        with store.transaction() as tx:
            tx.register_cursor(self.name, clock())

    # ------------------------------------------------------------------ HTTP
    def _post(self, path: str, doc: dict[str, Any]) -> dict[str, Any]:
        url = f"{self.settings.url}/{path}"
        body = json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        try:
            r = self.session.post(
                url,
                data=body,
                timeout=(self.settings.timeout, self.settings.timeout),
                verify=self.settings.ca_bundle or True,
            )
        except requests.exceptions.SSLError as e:
            raise UplinkError(
                "tls",
                f"the certificate of {urlsplit(url).hostname} could not be verified ({_short(e)}); "
                "if the province uses its own CA, set [uplink] ca_bundle to its PEM file",
            ) from None
        except requests.exceptions.Timeout:
            raise UplinkError(
                "timeout", f"no reply from {url} within {self.settings.timeout:g} s"
            ) from None
        except requests.exceptions.RequestException as e:
            raise UplinkError("network", f"cannot reach {url}: {_short(e)}") from None
        return self._reply(r, url)

    def _reply(self, r: requests.Response, url: str) -> dict[str, Any]:
        code = r.status_code
        if code == 429:
            ra = parse_retry_after(r.headers.get("Retry-After"), self.clock())
            raise UplinkError("rate_limited", f"{url} asks to slow down (HTTP 429)", ra)
        if code in (401, 403):
            raise UplinkError(
                "auth",
                f"{url} refused the token (HTTP {code}); check [uplink] token with province IT",
            )
        if code == 404:
            raise UplinkError("rejected", f"{url} does not exist (HTTP 404); check [uplink] url")
        if code == 413:
            raise UplinkError("too_large", f"{url} finds the batch too large (HTTP 413)")
        if code >= 500 or code == 408:
            raise UplinkError("server", f"{url} failed (HTTP {code}); will retry")
        if not 200 <= code < 300:
            raise UplinkError(
                "rejected", f"{url} rejected the request (HTTP {code}): {r.text[:200]}"
            )
        try:
            doc = r.json()
        except ValueError:
            raise UplinkError(
                "bad_reply", f"{url} answered HTTP {code} but not with JSON; will send again"
            ) from None
        if not isinstance(doc, dict):
            raise UplinkError("bad_reply", f"{url} answered JSON that is not an object")
        return doc

    # ------------------------------------------------------------------ events
    def send_batch(self) -> int:
        """Send the next batch after the cursor; returns the events acknowledged (0 = none left).

        The cursor moves only to what the receiver acknowledged (``last_seq`` of its reply).
        """
        cursor = self.cursor
        batch = self.store.events_since(cursor, limit=self.batch_size)
        if not batch:
            return 0
        doc = {
            "schema": WIRE_SCHEMA,
            "site": self.settings.site,
            "sent_at": _iso(self.clock()),
            "after": cursor,
            "events": [e.as_dict() for e in batch],
        }
        try:
            reply = self._post("events", doc)
        except UplinkError as e:
            if e.kind == "too_large" and self.batch_size > 1:
                self.batch_size = max(1, self.batch_size // 2)
                e.retry_after = 0.0
            raise
        acked = reply.get("last_seq")
        if isinstance(acked, bool) or not isinstance(acked, int):
            raise UplinkError(
                "bad_reply",
                f"the receiver's reply has no whole-number last_seq: {str(reply)[:200]}",
            )
        if acked < batch[0].seq:
            raise UplinkError(
                "bad_reply",
                f"the receiver acknowledged up to seq {acked}, before this batch "
                f"({batch[0].seq}–{batch[-1].seq}); will send again",
            )
        acked = min(acked, batch[-1].seq)
        clashes = reply.get("conflicts")
        if isinstance(clashes, int) and clashes > 0:
            self.conflicts += clashes
            log.error(
                "uplink: the central server already holds different events under %d of these "
                "numbers (seq %d–%d); was the queue database restored from a backup? "
                "They are kept aside at the central server, not lost; tell province IT",
                clashes,
                batch[0].seq,
                batch[-1].seq,
            )
        closed = [e.day for e in batch if e.type == events.DAY_CLOSED and e.seq <= acked and e.day]
        with self.store.transaction() as tx:
            # Cursor and the days whose report is now due move together (one commit).
            tx.save_cursor(self.name, acked, time.time())
            if closed and self.cfg is not None:
                due = json.loads(tx.get_meta(REPORTS_KEY) or "[]")
                tx.set_meta(REPORTS_KEY, json.dumps(sorted(set(due) | set(closed))))
        n = sum(1 for e in batch if e.seq <= acked)
        self.sent += n
        self.last_ok = self.clock()
        return n

    def run_once(self, limit: int = 1_000_000) -> int:
        """Send batches until the log is drained (or ``limit`` events), then any daily
        report that is due; returns the events sent. Raises UplinkError."""
        done = 0
        while done < limit:
            n = self.send_batch()
            if n == 0:
                break
            done += n
        self.send_reports()
        return done

    # ------------------------------------------------------------------ daily reports
    def send_reports(self) -> list[str]:
        """Post the report of every closed day not yet sent (``POST URL/report``).

        A day is due once its ``day_closed`` event was acknowledged; it stays due (in the
        store) until the receiver answered, so reports survive restarts and outages.
        """
        if self.cfg is None:
            return []
        from kiosk.office.report import build

        with self.store.read() as tx:
            due = json.loads(tx.get_meta(REPORTS_KEY) or "[]")
        sent = []
        for day in due:
            rep = build(self.cfg, self.store, day, day).as_dict()
            doc = {
                "schema": WIRE_SCHEMA,
                "site": self.settings.site,
                "sent_at": _iso(self.clock()),
                "day": day,
                "report": rep,
            }
            self._post("report", doc)
            with self.store.transaction() as tx:
                left = [d for d in json.loads(tx.get_meta(REPORTS_KEY) or "[]") if d != day]
                tx.set_meta(REPORTS_KEY, json.dumps(left))
            sent.append(day)
        return sent

    # ------------------------------------------------------------------ heartbeat
    def heartbeat(self) -> dict[str, Any]:
        """Post the device health now; returns the document sent. Raises UplinkError."""
        now = self.clock()
        doc = {
            "schema": WIRE_SCHEMA,
            "site": self.settings.site,
            "sent_at": _iso(now),
            **device_health(self.store, self.started_at, now),
            "queue": queue_now(self.store),
            "uplink": {
                "backlog": backlog(self.store, self.name),
                "last_seq": self.store.last_seq(),
                "last_error": self.last_error,
                "conflicts": self.conflicts,
            },
        }
        self._post("heartbeat", doc)
        self.last_heartbeat = now
        return doc

    # ------------------------------------------------------------------ retry policy
    def retry_delay(self, error: Exception, failures: int) -> float:
        """Seconds to wait after the ``failures``-th failure in a row.

        Retry-After when the server gave one; otherwise exponential from ``min_backoff``
        to ``max_backoff`` with "equal jitter" (half fixed, half random), so a fleet of
        kiosks that lost the link together does not come back in lockstep.
        """
        s = self.settings
        if isinstance(error, UplinkError) and error.retry_after is not None:
            return min(max(error.retry_after, 0.0), max(MAX_RETRY_AFTER, s.max_backoff))
        base = min(s.max_backoff, s.min_backoff * 2 ** max(0, failures - 1))
        return base / 2 + self.rng.uniform(0, base / 2)

    def step(self, now: float) -> float:
        """One round of the uplink's loop at monotonic time ``now``; returns seconds to wait.

        Heartbeat when due; send the backlog unless backing off. While backing off after
        a link failure (refused, timeout, TLS), the heartbeat doubles as a cheap probe: when
        it gets through, the backoff ends and the backlog goes at once, so a link that comes
        back is noticed within ``heartbeat_seconds`` rather than up to ``max_backoff``. A
        server that is up but failing (5xx, bad replies) or that asked for Retry-After
        keeps its full backoff.
        """
        if now >= self._next_heartbeat and now >= self._quiet_until:
            self._next_heartbeat = now + self.settings.heartbeat_seconds
            try:
                self.heartbeat()
                if self._link_down:
                    self._retry_at = now
            except UplinkError as e:
                log.info("uplink heartbeat: %s", e)
            except Exception as e:  # health gathering must never stop the uplink
                log.warning("uplink heartbeat: %s: %s", type(e).__name__, e)
        if now >= self._retry_at:
            try:
                self.run_once()
            except Exception as e:  # network, server or store: wait and retry the same batch
                self.failures += 1
                self.last_error = str(e) or type(e).__name__
                delay = self.retry_delay(e, self.failures)
                kind = e.kind if isinstance(e, UplinkError) else "store"
                self._link_down = kind in LINK_FAILURES
                self._retry_at = now + delay
                if isinstance(e, UplinkError) and e.retry_after is not None:
                    self._quiet_until = self._retry_at  # the server asked for quiet
                log.warning("uplink: %s; retrying in %.1f s", self.last_error, delay)
                return max(0.0, min(self._retry_at, self._next_heartbeat) - now)
            self.failures = 0
            self.last_error = None
            self._link_down = False
            return max(0.0, min(self.idle_wait, self._next_heartbeat - now))
        return max(0.0, min(self._retry_at, max(self._next_heartbeat, self._quiet_until)) - now)

    @property
    def backing_off(self) -> bool:
        return self.failures > 0

    def _loop(self) -> None:
        while not self._stop.is_set():
            wait = self.step(time.monotonic())
            if self.backing_off:
                self._stop.wait(wait)
            else:  # idle: new events wake us at once
                self.store.wait_for_events(self.cursor, max(0.05, wait), stop=self._stop)


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Seconds from a Retry-After header: a number of seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - now)


def _short(e: BaseException) -> str:
    text = str(e)
    # urllib3 nests the useful part deep inside; keep the innermost reason.
    for marker in ("certificate verify failed", "Connection refused", "Name or service not known"):
        if marker in text:
            return marker
    return text[:160]


def from_config(cfg: Config, store: Store) -> Uplink:
    """The uplink of a running kiosk (``[uplink] enabled``)."""
    return Uplink(store, UplinkSettings.from_config(cfg), cfg=cfg)
