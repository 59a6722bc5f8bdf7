"""Queue rules: numbering, calling order, recall, skip, transfer, finish, rating, days."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kiosk.core.config import Config, parse
from kiosk.core.queue import Queue, QueueError, UnknownName, business_day
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


def variant(cfg_text_changes: dict[str, str]) -> Config:
    text = EXAMPLE.read_text(encoding="utf-8")
    for old, new in cfg_text_changes.items():
        assert old in text
        text = text.replace(old, new)
    return parse(text, "variant.toml")


def events(q: Queue) -> list[tuple[str, str | None]]:
    return [(e.type, e.code) for e in q.store.events_since(0, limit=10000)]


def test_numbers_count_per_service_from_start_with_prefix_and_width(queue: Queue) -> None:
    codes = [queue.issue(s).ticket.code for s in ("hotich", "hotich", "chungthuc", "hotich")]
    assert codes == ["A001", "A002", "B001", "A003"]


def test_shared_numbering_uses_one_sequence_for_all_services(store: Store, clock: Clock) -> None:
    cfg = variant({'mode = "per_service"': 'mode = "shared"'})
    q = Queue(cfg, store, clock)
    codes = [q.issue(s).ticket.code for s in ("hotich", "chungthuc", "datdai")]
    assert codes == ["A1001", "B1002", "C1003"]


def test_exhausted_number_range_refuses_instead_of_reusing(store: Store, clock: Clock) -> None:
    cfg = variant({"start = 1\nend = 999\nminutes = 5": "start = 1\nend = 2\nminutes = 5"})
    q = Queue(cfg, store, clock)
    q.issue("chungthuc")
    q.issue("chungthuc")
    with pytest.raises(QueueError, match="no numbers left"):
        q.issue("chungthuc")
    assert [t.code for t in store.read().__enter__().tickets_of_day(q.today())] == ["B001", "B002"]


def test_call_next_serves_previous_and_calls_oldest_among_counter_services(
    queue: Queue, clock: Clock
) -> None:
    queue.issue("tracuu")  # F001, older
    clock.advance(10)
    queue.issue("hotich")  # A001
    assert queue.call_next(1).code == "F001"  # counter 1 serves hotich and tracuu; oldest first
    clock.advance(60)
    t = queue.call_next(1)
    assert t is not None and t.code == "A001"
    assert queue.ticket("F001").status == "served"
    assert queue.call_next(1) is None
    assert queue.ticket("A001").status == "served"


def test_service_order_policy_prefers_the_counters_first_service(
    store: Store, clock: Clock
) -> None:
    cfg = variant({'policy = "oldest_first"': 'policy = "service_order"'})
    q = Queue(cfg, store, clock)
    q.issue("tracuu")
    clock.advance(10)
    q.issue("hotich")
    assert q.call_next(1).code == "A001"


def test_priority_tickets_are_called_first(queue: Queue, clock: Clock) -> None:
    queue.issue("hotich")
    clock.advance(5)
    queue.issue("hotich")
    clock.advance(5)
    p = queue.issue("hotich", priority=True)
    assert p.ahead == 0 and p.ticket.priority
    assert queue.call_next(2).code == "A003"
    assert queue.call_next(2).code == "A001"


def test_priority_disabled_site_calls_in_order(store: Store, clock: Clock) -> None:
    q = Queue(variant({"priority_enabled = true": "priority_enabled = false"}), store, clock)
    q.issue("hotich")
    clock.advance(1)
    assert not q.issue("hotich", priority=True).ticket.priority
    assert q.call_next(1).code == "A001"


def test_counter_only_calls_its_own_services(queue: Queue) -> None:
    queue.issue("datdai")
    assert queue.call_next(1) is None
    assert queue.call_next(4).code == "C001"


def test_recall_repeats_current_ticket_and_counts(queue: Queue) -> None:
    queue.issue("hotich")
    queue.call_next(1)
    assert queue.recall(1).recall_count == 1
    assert queue.recall(1).recall_count == 2
    ev = queue.store.events_since(0, types=["ticket_recalled"])
    assert [e.payload["recall"] for e in ev] == [True, True] and ev[-1].payload["counter"] == 1


def test_recall_with_nothing_called_is_refused_clearly(queue: Queue) -> None:
    with pytest.raises(QueueError, match="no called ticket to recall"):
        queue.recall(1)


def test_skip_marks_no_show_and_calls_next(queue: Queue, clock: Clock) -> None:
    queue.issue("hotich")
    clock.advance(1)
    queue.issue("hotich")
    queue.call_next(1)
    skipped, nxt = queue.skip(1)
    assert skipped.code == "A001" and nxt is not None and nxt.code == "A002"
    assert queue.ticket("A001").status == "no_show"


def test_transfer_keeps_code_and_goes_to_front_of_new_service(queue: Queue, clock: Clock) -> None:
    queue.issue("chungthuc")  # B001
    clock.advance(1)
    queue.issue("chungthuc")  # B002
    clock.advance(1)
    queue.issue("hotich")  # A001
    queue.call_next(1)  # A001 at counter 1
    moved = queue.transfer(1, "chungthuc")
    assert moved.code == "A001" and moved.service == "chungthuc" and moved.status == "waiting"
    assert queue.call_next(3).code == "A001"  # front of chungthuc
    assert queue.call_next(3).code == "B001"


@pytest.mark.parametrize(
    "position,expected",
    [("back", ["B001", "B002", "A001"]), ("issue_time", ["B001", "A001", "B002"])],
)
def test_transfer_position_follows_policy(
    store: Store, clock: Clock, position: str, expected: list[str]
) -> None:
    q = Queue(
        variant({'transfer_position = "front"': f'transfer_position = "{position}"'}), store, clock
    )
    q.issue("chungthuc")
    clock.advance(1)
    q.issue("hotich")
    clock.advance(1)
    q.issue("chungthuc")
    q.call_next(1)
    clock.advance(1)
    q.transfer(1, "chungthuc")
    assert [q.call_next(3).code for _ in range(3)] == expected


def test_transfer_to_same_or_unknown_service_is_refused(queue: Queue) -> None:
    queue.issue("hotich")
    queue.call_next(1)
    with pytest.raises(QueueError, match="already in"):
        queue.transfer(1, "hotich")
    with pytest.raises(UnknownName, match='unknown service "nope"'):
        queue.transfer(1, "nope")
    assert queue.ticket("A001").status == "called"


def test_finish_serves_without_calling_next(queue: Queue, clock: Clock) -> None:
    queue.issue("hotich")
    clock.advance(1)
    queue.issue("hotich")
    queue.call_next(1)
    clock.advance(300)
    assert queue.finish(1).code == "A001"
    assert queue.ticket("A001").status == "served" and queue.ticket("A002").status == "waiting"
    served = queue.store.events_since(0, types=["ticket_served"])[0]
    assert served.payload["service_seconds"] == pytest.approx(300)


def test_rate_applies_once_to_the_counters_citizen(queue: Queue) -> None:
    queue.issue("hotich")
    queue.call_next(1)
    queue.finish(1)
    assert queue.rate(1, 3).rating == 3
    with pytest.raises(QueueError, match="already been rated"):
        queue.rate(1, 2)
    with pytest.raises(UnknownName, match="1, 2 or 3"):
        queue.rate(1, 5)


def test_unknown_counter_and_service_are_named(queue: Queue) -> None:
    with pytest.raises(UnknownName, match='unknown counter "9"'):
        queue.call_next(9)
    with pytest.raises(UnknownName, match="hotich, chungthuc"):
        queue.issue("hộ tịch")


def test_people_ahead_and_wait_estimate_use_open_counters_and_rolling_average(
    queue: Queue, clock: Clock
) -> None:
    # datdai: one counter (4), default 15 min per citizen.
    r1 = queue.issue("datdai")
    assert (r1.ahead, r1.wait_minutes) == (0, 0)
    queue.issue("datdai")
    r3 = queue.issue("datdai")
    assert (r3.ahead, r3.wait_minutes) == (2, 30)
    # Serve two citizens in 5 minutes each: the estimate follows the real figures.
    queue.call_next(4)
    clock.advance(300)
    queue.call_next(4)
    clock.advance(300)
    queue.call_next(4)
    r4 = queue.issue("datdai")
    assert (r4.ahead, r4.wait_minutes) == (0, 0)
    r5 = queue.issue("datdai")
    assert (r5.ahead, r5.wait_minutes) == (1, 5)
    # Closing counter 4 leaves nobody to serve datdai: no estimate.
    queue.set_counter_open(4, False)
    assert queue.issue("datdai").wait_minutes is None


def test_hochiminh_business_day_starts_at_opening_time(cfg: Config, clock: Clock) -> None:
    clock.set_local(cfg, "2026-11-30T07:29:59")
    assert business_day(cfg, clock()) == "2026-11-29"
    clock.set_local(cfg, "2026-11-30T07:30:00")
    assert business_day(cfg, clock()) == "2026-11-30"
    # 00:30 UTC is 07:30 in Asia/Ho_Chi_Minh (UTC+7): the day is the local one.
    from datetime import UTC, datetime

    assert business_day(cfg, datetime(2026, 11, 30, 0, 30, tzinfo=UTC).timestamp()) == "2026-11-30"


def test_numbers_restart_at_opening_time_and_old_waiting_tickets_expire(
    queue: Queue, cfg: Config, clock: Clock
) -> None:
    clock.set_local(cfg, "2026-11-30T16:00:00")
    queue.issue("hotich")
    queue.issue("hotich")
    queue.call_next(1)
    clock.set_local(cfg, "2026-12-01T07:29:00")  # still the 30th's business day
    assert queue.issue("hotich").ticket.code == "A003"
    clock.set_local(cfg, "2026-12-01T07:30:00")
    t = queue.issue("hotich").ticket
    assert (t.code, t.day) == ("A001", "2026-12-01")
    with queue.store.read() as tx:
        old = tx.tickets_of_day("2026-11-30")
    assert {x.status for x in old} == {"expired"}
    assert queue.call_next(1).code == "A001"  # yesterday's tickets are not called
    kinds = [e for e, _ in events(queue)]
    assert kinds.count("day_opened") == 2


def test_close_day_expires_waiting_tickets_once(queue: Queue, cfg: Config, clock: Clock) -> None:
    queue.issue("hotich")
    queue.issue("chungthuc")
    queue.call_next(1)
    clock.set_local(cfg, "2026-11-30T17:00:01")
    queue.tick()
    queue.tick()
    assert queue.ticket("B001").status == "expired"
    assert queue.ticket("A001").status == "expired"  # called but never finished
    assert [e for e, _ in events(queue)].count("day_closed") == 1
    assert queue.close_day() == []


def test_every_operation_appends_its_event_with_increasing_seq(queue: Queue) -> None:
    queue.issue("hotich")
    queue.issue("hotich")
    queue.call_next(1)
    queue.recall(1)
    queue.skip(1)
    queue.transfer(1, "chungthuc")
    queue.call_next(2)
    queue.finish(2)
    queue.rate(2, 2)
    evs = queue.store.events_since(0)
    assert [e.seq for e in evs] == sorted({e.seq for e in evs})
    assert [e.type for e in evs] == [
        "day_opened",
        "ticket_issued",
        "ticket_issued",
        "ticket_called",
        "ticket_recalled",
        "ticket_skipped",
        "ticket_called",
        "ticket_transferred",
        "ticket_called",
        "ticket_served",
        "ticket_rated",
    ]


def test_failed_operation_changes_nothing(queue: Queue) -> None:
    queue.issue("hotich")
    before = queue.store.last_seq()
    with pytest.raises(QueueError):
        queue.skip(3)
    with pytest.raises(UnknownName):
        queue.issue("nope")
    assert queue.store.last_seq() == before


def test_record_print_flags_failed_ticket_for_reprint(queue: Queue) -> None:
    t = queue.issue("hotich").ticket
    queue.record_print(t.id, False, "paper out")
    with queue.store.read() as tx:
        assert [x.code for x in tx.tickets_to_print()] == ["A001"]
    queue.record_print(t.id, True)
    with queue.store.read() as tx:
        assert tx.tickets_to_print() == []


def test_status_snapshot_lists_counters_and_waiting(queue: Queue) -> None:
    queue.issue("hotich")
    queue.issue("hotich", priority=True)
    queue.call_next(2)
    s = queue.status()
    assert next(c for c in s["counters"] if c["id"] == 2)["current"] == "A002"
    hot = next(x for x in s["services"] if x["id"] == "hotich")
    assert (hot["waiting"], hot["waiting_priority"]) == (1, 0)
    assert s["issued"] == 2


def test_store_is_shared_by_two_queues_on_the_same_file(
    tmp_path: Path, cfg: Config, clock: Clock
) -> None:
    a, b = Store(tmp_path / "q.db"), Store(tmp_path / "q.db")
    qa, qb = Queue(cfg, a, clock), Queue(cfg, b, clock)
    assert qa.issue("hotich").ticket.code == "A001"
    assert qb.issue("hotich").ticket.code == "A002"
    assert qb.call_next(1).code == "A001"
    a.close()
    b.close()


def test_config_dataclasses_are_frozen(cfg: Config) -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.services[0].prefix = "Z"  # type: ignore[misc]


# ------------------------------------------------------------------ citizens (ID cards)


def _reopen(store: Any, tmp_path: Path) -> Any:
    """The same database opened again, as after a restart."""
    if isinstance(store, Store):
        store.close()
        return Store(tmp_path / "queue.db")
    from kiosk.core.pgstore import PgStore

    url = store.url
    store.close()
    return PgStore(url)


def test_the_daily_limit_per_citizen_holds_across_a_restart(
    cfg: Config, store: Any, clock: Clock, tmp_path: Path
) -> None:
    from kiosk.core.citizen import Citizen
    from kiosk.core.queue import CitizenLimit

    cfg.queue = dataclasses.replace(cfg.queue, per_citizen_daily_limit=2)
    cfg.scanner = dataclasses.replace(cfg.scanner, key_file=str(tmp_path / "citizen.key"))
    q = Queue(cfg, store, clock)
    me = Citizen(q.citizen_key.hash("001099012345"))
    other = Citizen(q.citizen_key.hash("001099054321"))
    q.issue("hotich", citizen=me)
    store = _reopen(store, tmp_path)
    q = Queue(cfg, store, clock)
    me = Citizen(q.citizen_key.hash("001099012345"))
    q.issue("chungthuc", citizen=me)
    with pytest.raises(CitizenLimit) as e:
        q.issue("hotich", citizen=me)
    assert "tối đa" in e.value.vi and "most one person" in e.value.en
    q.issue("hotich", citizen=other)  # someone else is not limited
    q.issue("hotich")  # nor a walk-in without a card
    clock.advance(24 * 3600)
    q.issue("hotich", citizen=me)  # a new day
    store.close()


def test_a_citizen_hash_is_stored_with_the_ticket_but_never_in_events(
    cfg: Config, store: Any, clock: Clock, tmp_path: Path
) -> None:
    from kiosk.core.citizen import Citizen

    cfg.scanner = dataclasses.replace(cfg.scanner, key_file=str(tmp_path / "citizen.key"))
    q = Queue(cfg, store, clock)
    h = q.citizen_key.hash("001099012345")
    r = q.issue("hotich", citizen=Citizen(h, senior=True, initials="N.V.A."))
    assert r.ticket.priority
    with store.read() as tx:
        assert tx.count_citizen_tickets(q.today(), h) == 1
    for e in store.events_since(0, limit=1000):
        assert h not in str(e.payload) and "N.V.A." not in str(e.payload)
    assert q.take_initials(r.ticket.id) == "N.V.A." and q.take_initials(r.ticket.id) == ""


def test_a_refused_ticket_keeps_no_initials(
    cfg: Config, store: Any, clock: Clock, tmp_path: Path
) -> None:
    from kiosk.core.citizen import Citizen

    cfg.queue = dataclasses.replace(cfg.queue, per_citizen_daily_limit=1)
    cfg.scanner = dataclasses.replace(cfg.scanner, key_file=str(tmp_path / "citizen.key"))
    q = Queue(cfg, store, clock)
    me = Citizen(q.citizen_key.hash("001099012345"), initials="N.V.A.")
    q.issue("hotich", citizen=me)
    q.initials.clear()
    with pytest.raises(QueueError):
        q.issue("hotich", citizen=me)
    assert q.initials == {}
