"""Consumers of the event log, each with a durable cursor.

A consumer (printer, display link, announcer, uplink, metrics) reads events after
its cursor, handles them one at a time, and moves its cursor forward only after an
event was handled. A consumer that fails (paper out, cable unplugged, network
down) retries the same event with a growing delay; after a crash it resumes from
its cursor. Nothing is lost, and nothing is repeated except the one event that was
in hand at the instant of a crash, which consumers make harmless (idempotent).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence

from kiosk.core.store import Event, Store

log = logging.getLogger(__name__)


class Consumer:
    """Base class: override :meth:`handle`; run with :meth:`start` or :meth:`run_once`."""

    #: Durable cursor name; unique per consumer.
    name = "consumer"
    #: Event types this consumer wants (None = all).
    types: Sequence[str] | None = None
    #: Retry delays after a failure, seconds: doubled from ``min_backoff`` up to ``max_backoff``.
    min_backoff = 0.5
    max_backoff = 30.0
    #: How long to sleep waiting for events when there is nothing to do.
    idle_wait = 5.0

    def __init__(self, store: Store):
        self.store = store
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.failures = 0
        self.last_error: str | None = None

    # -- to override
    def handle(self, event: Event) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def on_idle(self) -> None:
        """Called when the log is drained and after each wait; for heartbeats."""

    # -- machinery
    @property
    def cursor(self) -> int:
        return self.store.cursor(self.name)

    def save_after(self, event: Event) -> bool:
        """Whether the cursor is saved (one fsynced write) right after ``event`` is handled.

        The default saves after every handled event, so a crash repeats at most the
        one event in hand. A consumer whose events are harmless to handle twice can
        save less often; the cursor is always saved at the end of a pass.
        """
        return True

    def run_once(self, limit: int = 500) -> int:
        """Handle every pending event (up to ``limit``); returns how many were handled.

        Only events of :attr:`types` are read; the cursor moves over the others once
        per pass, not one write each. Raises the handler's exception, leaving the
        cursor on the failed event.
        """
        done = 0
        cursor = saved = self.cursor
        try:
            while done < limit:
                top = self.store.last_seq()
                want = min(100, limit - done)
                batch = self.store.events_since(cursor, limit=want, types=self.types)
                for ev in batch:
                    self.handle(ev)
                    done += 1
                    cursor = ev.seq
                    if self.save_after(ev):
                        self.store.set_cursor(self.name, cursor)
                        saved = cursor
                if len(batch) < want:
                    # Every wanted event up to ``top`` was in this batch: skip the rest.
                    cursor = max(cursor, top)
                    break
        finally:
            if cursor > saved:
                self.store.set_cursor(self.name, cursor)
        return done

    def start(self) -> Consumer:
        self._thread = threading.Thread(
            target=self._loop, name=f"consumer-{self.name}", daemon=True
        )
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self.store.notify()
        if self._thread is not None:
            self._thread.join(timeout)

    def _loop(self) -> None:
        delay = self.min_backoff
        while not self._stop.is_set():
            try:
                self.run_once()
                self.failures = 0
                self.last_error = None
                delay = self.min_backoff
                self.on_idle()
            except Exception as e:  # a failing output must not kill the consumer
                if getattr(self.store, "_closed", False):
                    return  # the store was closed under us (shutdown): nothing left to do
                self.failures += 1
                self.last_error = str(e) or type(e).__name__
                log.warning("%s: %s; retrying in %.1f s", self.name, self.last_error, delay)
                self._stop.wait(delay)
                delay = min(delay * 2, self.max_backoff)
                continue
            try:
                self.store.wait_for_events(
                    self.store.cursor(self.name), self.idle_wait, stop=self._stop
                )
            except Exception as e:
                if getattr(self.store, "_closed", False):
                    return  # the store was closed under us (shutdown): nothing left to do
                log.warning(
                    "%s: cannot wait for events: %s; retrying in %.1f s", self.name, e, delay
                )
                self._stop.wait(delay)
                delay = min(delay * 2, self.max_backoff)
