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
    """Thread-safe display state."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
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
        self._announced: dict[int, None] = {}

    # -- applying messages (reader thread)
    def apply_snapshot(self, s: Snapshot) -> None:
        with self._lock:
            self.site = s.site
            self.counters = {c.id: c for c in s.counters}
            self.services = {x.id: x for x in s.services}
            self.recent = list(s.recent)
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
            old = self.counters.get(c.counter)
            name = old.name if old else f"Quầy {c.counter}"
            self.counters[c.counter] = CounterState(c.counter, name, c.code, True)
            self.recent = [c] + [r for r in self.recent if r.call_id != c.call_id or not c.call_id]
            del self.recent[20:]
            self.flash_until = time.monotonic() + FLASH_S
            self.version += 1
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
