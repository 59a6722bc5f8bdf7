"""Queue rules the staff panel needs: call a chosen ticket, hold and return, restore a
no-show, the priority ratio, the 5-star scale; and two processes calling at once."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kiosk.core.config import Config, load, parse
from kiosk.core.queue import Queue, QueueError, UnknownName
from kiosk.core.store import Store
from tests.conftest import EXAMPLE, Clock


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    """Every rule here is proven on both stores: SQLite and PostgreSQL (a real server)."""
    if request.param == "sqlite":
        s: Any = Store(tmp_path / "queue.db")
    else:
        from kiosk.core.pgstore import PgStore

        s = PgStore(request.getfixturevalue("db_url"))
    yield s
    s.close()


def variant(changes: dict[str, str]) -> Config:
    text = EXAMPLE.read_text(encoding="utf-8")
    for old, new in changes.items():
        assert old in text
        text = text.replace(old, new)
    return parse(text, "variant.toml")


def test_call_a_chosen_ticket_serves_the_current_and_calls_that_one(
    queue: Queue, clock: Clock
) -> None:
    for _ in range(3):
        queue.issue("hotich")
        clock.advance(1)
    queue.call_next(1)  # A001
    t = queue.call(1, "a003")
    assert t.code == "A003" and t.status == "called" and t.counter == 1
    assert queue.ticket("A001").status == "served"
    assert queue.call_next(2).code == "A002"
    ev = queue.store.events_since(0, types=["ticket_called"])
    assert [e.payload["chosen"] for e in ev] == [False, True, False]


def test_call_refuses_unknown_or_not_waiting_tickets_and_changes_nothing(queue: Queue) -> None:
    queue.issue("hotich")
    queue.call_next(1)
    seq = queue.store.last_seq()
    with pytest.raises(QueueError, match="no ticket A404 today"):
        queue.call(2, "A404")
    with pytest.raises(QueueError, match="not waiting"):
        queue.call(2, "A001")
    assert queue.store.last_seq() == seq and queue.ticket("A001").counter == 1


def test_hold_parks_the_ticket_and_return_puts_it_first_in_its_queue(
    queue: Queue, clock: Clock
) -> None:
    for _ in range(3):
        queue.issue("hotich")
        clock.advance(1)
    queue.call_next(1)  # A001
    held = queue.hold(1)
    assert held.code == "A001" and held.status == "held"
    assert queue.status()["counters"][0]["current"] is None
    assert queue.call_next(1).code == "A002"  # a held ticket is not called
    clock.advance(120)
    back = queue.return_held(1)
    assert back.code == "A001" and back.status == "waiting"
    assert queue.call_next(2).code == "A001"  # front of hotich, before A003
    types = [e.type for e in queue.store.events_since(0)]
    assert "ticket_held" in types and "ticket_returned" in types
    ret = queue.store.events_since(0, types=["ticket_returned"])[0]
    assert ret.payload["held_seconds"] == pytest.approx(120)


def test_return_needs_a_held_ticket_of_that_counter(queue: Queue) -> None:
    queue.issue("hotich")
    queue.call_next(1)
    with pytest.raises(QueueError, match="does not hold"):
        queue.return_held(1)
    queue.hold(1)
    with pytest.raises(QueueError, match="does not hold"):
        queue.return_held(2)
    with pytest.raises(QueueError, match="no called ticket to hold"):
        queue.hold(1)
    assert queue.return_held(1, "A001").status == "waiting"


def test_held_tickets_expire_at_closing(queue: Queue) -> None:
    queue.issue("hotich")
    queue.call_next(1)
    queue.hold(1)
    assert [t.code for t in queue.close_day()] == ["A001"]
    assert queue.ticket("A001").status == "expired"


def test_restore_a_no_show_of_today_puts_it_first_in_its_queue(queue: Queue, clock: Clock) -> None:
    for _ in range(3):
        queue.issue("hotich")
        clock.advance(1)
    queue.call_next(1)
    queue.skip(1)  # A001 no-show, A002 called
    t = queue.restore(2, "A001")
    assert t.status == "waiting"
    assert queue.call_next(2).code == "A001"
    with pytest.raises(QueueError, match="was not skipped"):
        queue.restore(2, "A003")
    assert queue.store.events_since(0, types=["ticket_restored"])[0].code == "A001"


def test_restore_refuses_a_no_show_of_another_day(queue: Queue, clock: Clock) -> None:
    queue.issue("hotich")
    queue.call_next(1)
    queue.skip(1)
    clock.advance(24 * 3600)
    with pytest.raises(QueueError, match="no ticket A001 today"):
        queue.restore(1, "A001")


def test_strict_priority_by_default_starves_ordinary_tickets(queue: Queue, clock: Clock) -> None:
    queue.issue("hotich")  # A001 ordinary, oldest
    for _ in range(3):
        clock.advance(1)
        queue.issue("hotich", priority=True)
    assert [queue.call_next(1).code for _ in range(4)] == ["A002", "A003", "A004", "A001"]


def test_priority_ratio_serves_one_ordinary_after_n_priority(store: Store, clock: Clock) -> None:
    q = Queue(variant({"priority_ratio = 0": "priority_ratio = 2"}), store, clock)
    q.issue("hotich")  # A001 ordinary
    clock.advance(1)
    q.issue("hotich")  # A002 ordinary
    for _ in range(4):
        clock.advance(1)
        q.issue("hotich", priority=True)  # A003..A006
    got = [q.call_next(1).code for _ in range(6)]
    assert got == ["A003", "A004", "A001", "A005", "A006", "A002"]


def test_five_star_scale_stores_the_level_and_the_stars_and_reason(
    store: Store, clock: Clock
) -> None:
    q = Queue(variant({"scale = 3": "scale = 5"}), store, clock)
    q.issue("hotich")
    q.call_next(1)
    q.finish(1)
    with pytest.raises(UnknownName, match="unknown reason"):
        q.rate(1, 2, "nope")
    t = q.rate(1, 2, "Chờ lâu")
    assert t.rating == 1
    ev = store.events_since(0, types=["ticket_rated"])[0]
    assert ev.payload["stars"] == 2 and ev.payload["reason"] == "Chờ lâu"
    assert ev.payload["label"] == "Chưa tốt" and ev.payload["rating"] == 1


def test_the_three_rating_buttons_keep_their_level_on_a_five_star_site(
    store: Store, clock: Clock
) -> None:
    q = Queue(variant({"scale = 3": "scale = 5"}), store, clock)
    for level in (3, 2, 1):
        q.issue("hotich")
        q.call_next(1)
        q.finish(1)
        assert q.rate_button(1, level).rating == level
    stars = [e.payload["stars"] for e in store.events_since(0, types=["ticket_rated"])]
    assert stars == [5, 4, 2]


def test_rating_scale_other_than_3_or_5_is_refused_by_the_site_file() -> None:
    with pytest.raises(Exception, match="rating.scale: expected 3"):
        variant({"scale = 3": "scale = 4"})


# ---------------------------------------------------------------- two processes at once

CLERK = """
import json, os, sys, time
from kiosk.core.config import load
from kiosk.core.queue import Queue
from kiosk.core.store import Store
db, counter, go, example = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
q = Queue(load(example), Store(db))
while not os.path.exists(go):
    time.sleep(0.001)
got = []
for _ in range(15):
    t = q.call_next(counter)
    got.append(t.code if t else None)
print(json.dumps(got))
"""


def test_two_clerks_calling_next_at_the_same_instant_never_get_the_same_citizen(
    tmp_path: Path,
) -> None:
    db = str(tmp_path / "q.db")
    q = Queue(load(EXAMPLE), Store(db))
    for _ in range(40):
        q.issue("hotich")  # served by counters 1 and 2
    go = tmp_path / "go"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", CLERK, db, str(c), str(go), str(EXAMPLE)],
            stdout=subprocess.PIPE,
            text=True,
        )
        for c in (1, 2)
    ]
    time.sleep(1.0)  # both are up and spinning on the go file
    go.touch()
    codes = []
    for p in procs:
        out, _ = p.communicate(timeout=60)
        assert p.returncode == 0
        codes += [c for c in json.loads(out) if c]
    assert len(codes) == 30 and len(set(codes)) == 30
    called = q.store.events_since(0, 1000, types=["ticket_called"])
    assert len({e.code for e in called}) == len(called) == 30
