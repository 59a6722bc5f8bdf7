"""What the hall display shows: counters, waiting counts, recent calls, notice, clock, link.

The receiver applies messages here (from its reader thread); the screen and the
status file read it (from the main loop). A lock guards it and ``version``
grows on every visible change, so the main loop redraws only when needed.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from display import protocol as p
from display.protocol import Call, Clock, CounterState, ServiceState, Snapshot

#: How many recent calls the screen lists.
SHOWN_CALLS = 5
#: How long the newest call flashes, seconds.
FLASH_S = 6.0


@dataclass(frozen=True)
class View:
    """An immutable copy of the state for one redraw."""

    version: int
    site: str
    counters: tuple[CounterState, ...]
    services: tuple[ServiceState, ...]
    recent: tuple[Call, ...]
    notice: str
    link_up: bool
    ever_connected: bool
    clock_offset: float | None
    utc_offset_min: int
    flash_until: float  # monotonic
    state_id: int


class HallState:
    """Thread-safe display state.

    ``counter`` set (a counter display at address N): only counter N's number and
    calls are kept; everything else (clock, notice, waiting counts) as on the hall.
    """

    def __init__(self, counter: int | None = None) -> None:
        self._lock = threading.Lock()
        self.only_counter = counter
        self.version = 0
        self.site = ""
        self.counters: dict[int, CounterState] = {}
        self.services: dict[str, ServiceState] = {}
        self.recent: list[Call] = []
        self.notice = ""
        self.link_up = False
        self.ever_connected = False
        #: kiosk wall clock minus our monotonic clock, once known
        self.clock_offset: float | None = None
        self.utc_offset_min = 420
        self.flash_until = 0.0
        self.state_id = 0
        self.session = 0
        self._announced: dict[int, None] = {}
        #: Keys of the items received since BEGIN; the next SYNCED drops everything else.
        self._fresh: set[p.Key] = set()
        self._sweep_due = False
        self._notice_parts: dict[int, p.NoticePart] = {}

    # -- applying items (reader thread)
    def apply(self, msg: p.Message) -> p.Call | None:
        """Apply one item; returns the call to announce, if it is a call heard the first time."""
        if isinstance(msg, p.Call):
            return msg if self.apply_call(msg) else None
        with self._lock:
            self._apply(msg)
        return None

    def _apply(self, m: p.Message) -> None:
        if isinstance(m, p.Recent):
            self._add_recent(m.call, announce=False)
        elif isinstance(m, p.CounterNow):
            if self._mine(m.id):
                self._fresh.add(("counter", m.id))
                old = self.counters.get(m.id)
                name = old.name if old else f"Quầy {m.id}"
                self._set_counter(CounterState(m.id, name, m.current, m.open))
        elif isinstance(m, p.CounterName):
            if self._mine(m.id):
                self._fresh.add(("counter-name", m.id))
                old = self.counters.get(m.id) or CounterState(m.id, m.name, "", True)
                self._set_counter(CounterState(m.id, m.name, old.current, old.open))
        elif isinstance(m, p.Service):
            self._fresh.add(("service", m.id))
            old_s = self.services.get(m.id)
            self._set_service(ServiceState(m.id, m.name, old_s.waiting if old_s else 0))
        elif isinstance(m, p.Waiting):
            self._fresh.add(("waiting", m.service))
            old_s = self.services.get(m.service)
            name = old_s.name if old_s else m.service
            self._set_service(ServiceState(m.service, name, m.waiting))
        elif isinstance(m, p.Site):
            if m.name != self.site:
                self.site = m.name
                self.version += 1
        elif isinstance(m, p.NoticePart):
            self._apply_notice_part(m)
        elif isinstance(m, p.Clock):
            self._set_clock(m)
        elif isinstance(m, p.Begin):
            self.session = m.session
            self._fresh.clear()
            self._sweep_due = True
        elif isinstance(m, p.Synced):
            if self._sweep_due:
                self._sweep()
                self._sweep_due = False
            if m.state_id != self.state_id:
                self.state_id = m.state_id
                self.version += 1

    def _mine(self, counter: int) -> bool:
        return self.only_counter is None or counter == self.only_counter

    def _set_counter(self, c: CounterState) -> None:
        if self.counters.get(c.id) != c:
            self.counters[c.id] = c
            self.version += 1

    def _set_service(self, s: ServiceState) -> None:
        if self.services.get(s.id) != s:
            self.services[s.id] = s
            self.version += 1

    def _apply_notice_part(self, part: p.NoticePart) -> None:
        if any(x.crc != part.crc or x.count != part.count for x in self._notice_parts.values()):
            self._notice_parts = {}  # parts of another notice: start collecting again
        self._notice_parts[part.index] = part
        text = p.join_notice(self._notice_parts)
        if text is not None and text != self.notice:
            self.notice = text
            self.version += 1

    def _add_recent(self, c: Call, announce: bool) -> None:
        if not self._mine(c.counter):
            return
        if c.call_id:
            self._fresh.add(("recent", c.call_id))
        rest = [r for r in self.recent if r.call_id != c.call_id or not c.call_id]
        # Newest first by the kiosk's event number; calls without one (tests, `say`) on top.
        self.recent = sorted([c, *rest], key=lambda r: -(r.call_id or 1 << 40))
        del self.recent[p.KEEP_RECENT_CALLS :]
        if not announce:
            self._remember(c.call_id)  # shown late or again: never spoken
        self.version += 1

    def _sweep(self) -> None:
        """Drop what the kiosk did not send since BEGIN: it no longer exists there."""
        f = self._fresh
        counters = {
            k: c
            for k, c in self.counters.items()
            if ("counter", k) in f or ("counter-name", k) in f
        }
        services = {
            k: s for k, s in self.services.items() if ("service", k) in f or ("waiting", k) in f
        }
        recent = [c for c in self.recent if not c.call_id or ("recent", c.call_id) in f]
        if (counters, services, recent) != (self.counters, self.services, self.recent):
            self.counters, self.services, self.recent = counters, services, recent
            self.version += 1

    def apply_snapshot(self, s: Snapshot) -> None:
        """Replace the whole state at once (tests and tools; the link sends items)."""
        with self._lock:
            self.site = s.site
            self.counters = {c.id: c for c in s.counters if self._mine(c.id)}
            self.services = {x.id: x for x in s.services}
            self.recent = [c for c in s.recent if self._mine(c.counter)]
            self.notice = s.notice
            self.state_id = s.state_id
            self._set_clock(s.clock)
            # Calls already in a snapshot were announced before (or are stale): never again.
            for c in s.recent:
                self._remember(c.call_id)
            self.version += 1

    def apply_call(self, c: Call) -> bool:
        """Show a call; returns True when it should be announced (first time for its id)."""
        with self._lock:
            if not self._mine(c.counter):
                return False
            self._fresh.add(("counter", c.counter))
            old = self.counters.get(c.counter)
            name = old.name if old else f"Quầy {c.counter}"
            self.counters[c.counter] = CounterState(c.counter, name, c.code, True)
            self._add_recent(c, announce=True)
            self.flash_until = time.monotonic() + FLASH_S
            if c.call_id and c.call_id in self._announced:
                return False
            self._remember(c.call_id)
            return True

    def apply_notice(self, text: str) -> None:
        with self._lock:
            if text != self.notice:
                self.notice = text
                self.version += 1

    def apply_clock(self, clock: Clock) -> None:
        with self._lock:
            self._set_clock(clock)

    def set_link(self, up: bool) -> None:
        with self._lock:
            if up != self.link_up:
                self.link_up = up
                self.ever_connected = self.ever_connected or up
                self.version += 1

    def _set_clock(self, clock: Clock) -> None:
        self.clock_offset = clock.unix - time.monotonic()
        self.utc_offset_min = clock.utc_offset_min

    def _remember(self, call_id: int) -> None:
        if call_id:
            self._announced[call_id] = None
            while len(self._announced) > 1000:
                del self._announced[next(iter(self._announced))]

    # -- reading (main loop)
    def view(self) -> View:
        with self._lock:
            return View(
                self.version,
                self.site,
                tuple(sorted(self.counters.values(), key=lambda c: c.id)),
                tuple(self.services.values()),
                tuple(self.recent[:SHOWN_CALLS]),
                self.notice,
                self.link_up,
                self.ever_connected,
                self.clock_offset,
                self.utc_offset_min,
                self.flash_until,
                self.state_id,
            )

    def now(self) -> float:
        """Wall-clock time as the kiosk sees it, or this Pi's own clock until told."""
        off = self.clock_offset
        return time.monotonic() + off if off is not None else time.time()


def status_dict(v: View) -> dict[str, Any]:
    """The status-file document: what the screen shows."""
    return {
        "link": "up" if v.link_up else "down",
        "site": v.site,
        "state_id": v.state_id,
        "counters": {str(c.id): c.current or None for c in v.counters},
        "counter_names": {str(c.id): c.name for c in v.counters},
        "waiting": {s.id: s.waiting for s in v.services},
        "last_calls": [
            {"code": c.code, "counter": c.counter, "service": c.service, "recall": c.recall}
            for c in v.recent
        ],
        "notice": v.notice,
        "version": v.version,
    }


def write_status(path: Path, doc: dict[str, Any]) -> None:
    """Write JSON atomically: a reader sees the old file or the new one, never half."""
    data = json.dumps(doc, ensure_ascii=False, indent=1).encode("utf-8")
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
