"""kiosk/core/events.py: the type names match docs/events.md, and the shared queries."""

from __future__ import annotations

import re
from pathlib import Path

from kiosk.core import events
from kiosk.core.queue import Queue
from kiosk.core.store import Store

ROOT = Path(__file__).resolve().parents[3]


def test_every_documented_event_type_has_a_constant_and_no_constant_is_undocumented() -> None:
    text = (ROOT / "docs" / "events.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| (`[a-z_]+`(?:, `[a-z_]+`)*) \|", text, re.M)
    documented = [t for row in rows for t in re.findall(r"`([a-z_]+)`", row)]
    assert sorted(documented) == sorted(events.ALL)
    assert len(set(events.ALL)) == len(events.ALL)


def test_latest_backlog_and_cursor_row_read_the_store(queue: Queue, store: Store) -> None:
    assert events.latest(store, events.PRINTER_STATUS) is None
    assert events.cursor_row(store) is None
    queue.record(events.PRINTER_STATUS, state="paper_out", detail="a")
    queue.record(events.PRINTER_STATUS, state="ok", detail="b")
    ev = events.latest(store, events.PRINTER_STATUS)
    assert ev is not None and ev.payload["state"] == "ok" and ev.seq == store.last_seq()
    assert events.backlog(store) == store.last_seq()  # no uplink cursor yet: everything
    store.set_cursor(events.UPLINK_CURSOR, store.last_seq() - 1)
    assert events.backlog(store) == 1
    row = events.cursor_row(store)
    assert row is not None and row[0] == store.last_seq() - 1
