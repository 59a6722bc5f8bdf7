"""Live state for every page: one snapshot per change, shared by all connected clients.

One thread waits on the store (``Store.wait_for_events``: in-process commits and other
processes' wake-up datagrams, no polling). On news it reads the day once — counters,
the day's tickets, recent service times — into a :class:`Snapshot`, and wakes the
asyncio side, where each server-sent-events client derives its own small view from
that snapshot in Python. So 200 phones following their tickets cost one store read
per change, not 200.
"""

from __future__ import annotations

import asyncio
import logging
import math
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from kiosk.core.config import Config
from kiosk.core.queue import Queue, business_day
from kiosk.core.store import Ticket

log = logging.getLogger(__name__)

#: Calls shown on the public board besides each counter's current number.
RECENT_CALLS = 8


@dataclass
class Snapshot:
    """The office at one instant (one read transaction)."""

    seq: int
    day: str
    counters: dict[int, dict[str, Any]]
    tickets: dict[str, Ticket]
    avg_seconds: dict[str, float]
    #: Waiting tickets per service in calling order (priority first, then queue key).
    waiting: dict[str, list[Ticket]] = field(default_factory=dict)

    @classmethod
    def read(cls, q: Queue) -> Snapshot:
        cfg = q.cfg
        day = business_day(cfg, q.clock())
        seq = q.store.last_seq()
        with q.store.read() as tx:
            tickets = {t.code: t for t in tx.tickets_of_day(day)}
            counters: dict[int, dict[str, Any]] = {}
            for c in cfg.counters:
                is_open, current, last = tx.counter_state(c.id)
                counters[c.id] = {"open": is_open, "current_id": current, "last_id": last}
            avg: dict[str, float] = {}
            for s in cfg.services:
                times = tx.recent_service_times(s.id, int(cfg.queue.wait_window))
                avg[s.id] = sum(times) / len(times) if times else s.minutes * 60
        by_id = {t.id: t for t in tickets.values()}
        for st in counters.values():
            cur = by_id.get(st["current_id"]) if st["current_id"] is not None else None
            st["current"] = cur if cur is not None and cur.status == "called" else None
            st["last"] = by_id.get(st["last_id"]) if st["last_id"] is not None else None
        waiting: dict[str, list[Ticket]] = {s.id: [] for s in cfg.services}
        for t in sorted(
            (t for t in tickets.values() if t.status == "waiting"),
            key=lambda t: (not t.priority, t.queue_key, t.id),
        ):
            waiting.setdefault(t.service, []).append(t)
        return cls(seq, day, counters, tickets, avg, waiting)

    # ------------------------------------------------------------------ views
    def public_status(self, cfg: Config) -> dict[str, Any]:
        """GET /api/status and the board: numbers and counts, nothing personal."""
        counters = []
        for c in cfg.counters:
            st = self.counters[c.id]
            cur = st["current"]
            counters.append(
                {
                    "id": c.id,
                    "name": c.name,
                    "open": st["open"],
                    "current": cur.code if cur else None,
                    "service": cur.service if cur else None,
                }
            )
        services = [
            {
                "id": s.id,
                "name": s.name,
                "name_en": s.name_en,
                "waiting": len(self.waiting.get(s.id, [])),
                "waiting_priority": sum(1 for t in self.waiting.get(s.id, []) if t.priority),
            }
            for s in cfg.services
        ]
        called = sorted(
            (t for t in self.tickets.values() if t.called_at is not None and t.counter),
            key=lambda t: t.called_at or 0,
            reverse=True,
        )
        recent = [
            {"code": t.code, "counter": t.counter, "service": t.service}
            for t in called[:RECENT_CALLS]
        ]
        return {
            "day": self.day,
            "site": cfg.site.name,
            "counters": counters,
            "services": services,
            "recent": recent,
            "seq": self.seq,
        }

    def ahead(self, t: Ticket) -> int:
        queue = self.waiting.get(t.service, [])
        for i, w in enumerate(queue):
            if w.id == t.id:
                return i
        return 0

    def wait_minutes(self, cfg: Config, t: Ticket, ahead: int) -> int | None:
        open_counters = sum(
            1
            for c in cfg.counters
            if t.service in c.services and self.counters.get(c.id, {}).get("open", True)
        )
        if open_counters == 0:
            return None
        return math.ceil(ahead * self.avg_seconds.get(t.service, 480) / open_counters / 60)

    def ticket_view(self, cfg: Config, code: str) -> dict[str, Any] | None:
        """What a citizen's phone shows for their ticket."""
        t = self.tickets.get(code)
        if t is None:
            return None
        ahead = self.ahead(t) if t.status == "waiting" else None
        counter = None
        if t.counter and t.status in ("called", "served", "held"):
            try:
                counter = {"id": t.counter, "name": cfg.counter(t.counter).name}
            except KeyError:
                counter = {"id": t.counter, "name": str(t.counter)}
        return {
            "code": t.code,
            "day": t.day,
            "service": t.service,
            "service_name": _service_name(cfg, t.service),
            "priority": t.priority,
            "status": t.status,
            "ahead": ahead,
            "wait_minutes": self.wait_minutes(cfg, t, ahead) if ahead is not None else None,
            "counter": counter,
            "seq": self.seq,
        }

    def counter_view(self, cfg: Config, counter_id: int) -> dict[str, Any]:
        """The staff panel's and the tablet's view of one counter."""
        c = cfg.counter(counter_id)
        st = self.counters[c.id]
        cur: Ticket | None = st["current"]
        last: Ticket | None = st["last"]
        waiting = [
            t
            for t in sorted(
                (t for s in c.services for t in self.waiting.get(s, [])),
                key=lambda t: (not t.priority, t.queue_key, t.id),
            )
        ]
        held = sorted(
            (t for t in self.tickets.values() if t.status == "held" and t.counter == c.id),
            key=lambda t: -(t.held_at or 0),
        )
        skipped = sorted(
            (t for t in self.tickets.values() if t.status == "no_show"),
            key=lambda t: -(t.called_at or 0),
        )
        return {
            "counter": {"id": c.id, "name": c.name, "open": st["open"]},
            "current": ticket_json(cfg, cur),
            "last": ticket_json(cfg, last)
            if last is not None and last.status == "served"
            else None,
            "waiting": [ticket_json(cfg, t) for t in waiting],
            "held": [ticket_json(cfg, t) for t in held],
            "skipped": [ticket_json(cfg, t) for t in skipped[:20]],
            "seq": self.seq,
        }


def _service_name(cfg: Config, service: str) -> str:
    try:
        return cfg.service(service).name
    except KeyError:
        return service


def ticket_json(cfg: Config, t: Ticket | None, now: float | None = None) -> dict[str, Any] | None:
    """A ticket as the API and pages show it (no personal data: there is none to show)."""
    if t is None:
        return None
    return {
        "code": t.code,
        "day": t.day,
        "service": t.service,
        "service_name": _service_name(cfg, t.service),
        "priority": t.priority,
        "status": t.status,
        "counter": t.counter,
        "issued_at": t.issued_at,
        "called_at": t.called_at,
        "served_at": t.served_at,
        "recall_count": t.recall_count,
        "rating": t.rating,
    }


class Broker:
    """Holds the latest snapshot and wakes the asyncio clients when it changes."""

    def __init__(self, q: Queue, reader: Callable[[Queue], Snapshot] = Snapshot.read):
        self.q = q
        self.reader = reader
        self.snapshot = reader(q)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._changed: asyncio.Event | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.clients = 0

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._changed = asyncio.Event()
        self._thread = threading.Thread(target=self._follow, name="web-live", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self.q.store.notify()
        if self._thread is not None:
            self._thread.join(5)

    def refresh(self) -> Snapshot:
        """Read a new snapshot now (after this process's own commit, for its reply)."""
        self.snapshot = self.reader(self.q)
        return self.snapshot

    def _follow(self) -> None:
        seq = self.snapshot.seq
        while not self._stop.is_set():
            # Wakes at once on any commit; the timeout only rolls the business day over.
            self.q.store.wait_for_events(seq, timeout=60.0, stop=self._stop)
            if self._stop.is_set():
                return
            try:
                snap = self.reader(self.q)
            except Exception as e:  # busy store, or closed under us on shutdown
                if self._stop.is_set():
                    return
                log.warning("live view not refreshed (%s); trying again in 1 s", e)
                self._stop.wait(1.0)
                continue
            if snap.seq != seq or snap.day != self.snapshot.day:
                seq = snap.seq
                self.snapshot = snap
                if self._loop is not None:
                    self._loop.call_soon_threadsafe(self._wake)

    def _wake(self) -> None:
        assert self._changed is not None
        self._changed.set()
        self._changed = asyncio.Event()

    async def changed(self, timeout: float) -> bool:
        """Wait until the snapshot changes (True) or ``timeout`` passes (False)."""
        ev = self._changed
        if ev is None:
            await asyncio.sleep(timeout)
            return False
        try:
            await asyncio.wait_for(ev.wait(), timeout)
            return True
        except TimeoutError:
            return False
