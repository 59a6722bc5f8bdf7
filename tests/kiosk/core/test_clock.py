"""Time without network: the queue refuses to issue on a clock that is clearly wrong.

Each case of issue 16 moves the injected clock as the machine's clock would move:
a power cut overnight without network, an RTC, an RTC with a dead battery, NTP that
arrives late in the morning.
"""

from __future__ import annotations

from datetime import datetime

import pytest

from kiosk.core.config import Config
from kiosk.core.queue import (
    CLOCK_BEHIND_SECONDS,
    ClockNotSet,
    Queue,
    QueueError,
    clock_problem,
)
from kiosk.core.store import Store
from tests.conftest import Clock


def _day_of_work(queue: Queue, clock: Clock, cfg: Config) -> None:
    """Monday 2026-11-30: tickets issued until 16:55."""
    clock.set_local(cfg, "2026-11-30T08:00:00")
    queue.issue("hotich")
    clock.set_local(cfg, "2026-11-30T16:55:00")
    queue.issue("hotich")


def test_clock_not_set_is_a_queue_error_with_vietnamese_and_english(
    queue: Queue, clock: Clock
) -> None:
    clock.t = 0
    with pytest.raises(QueueError) as e:
        queue.issue("hotich")
    assert isinstance(e.value, ClockNotSet)
    assert e.value.vi.startswith("Đang chờ đồng bộ giờ")
    assert "Waiting for the time" in e.value.en
    assert "kiosk time set" in str(e.value)


def test_power_cut_overnight_clock_stuck_before_newest_event_is_refused(
    queue: Queue, clock: Clock, cfg: Config, store: Store
) -> None:
    _day_of_work(queue, clock, cfg)
    # Back on Tuesday morning, no network: fake-hwclock put back its last hourly save.
    clock.set_local(cfg, "2026-11-30T16:00:00")
    with pytest.raises(ClockNotSet) as e:
        queue.issue("hotich")
    assert e.value.reason == "behind"
    assert "2026-11-30 16:55" in str(e.value)  # names the newest event, local time
    assert queue.clock_problem() is not None
    with store.read() as tx:
        assert tx.count_tickets("2026-11-30") == 2  # nothing issued, nothing changed


def test_power_cut_the_same_day_clock_a_little_behind_still_issues(
    queue: Queue, clock: Clock, cfg: Config
) -> None:
    _day_of_work(queue, clock, cfg)
    # Power back at once; the clock is a minute behind the last ticket: within the slack
    # kiosks sharing a store may differ by.
    clock.set_local(cfg, "2026-11-30T16:54:00")
    assert CLOCK_BEHIND_SECONDS >= 60
    assert queue.clock_problem() is None
    assert queue.issue("hotich").ticket.code == "A003"


def test_rtc_present_gives_the_right_time_and_the_day_rolls_over(
    queue: Queue, clock: Clock, cfg: Config
) -> None:
    _day_of_work(queue, clock, cfg)
    clock.set_local(cfg, "2026-12-01T07:30:00")  # the RTC kept time overnight
    assert queue.clock_problem() is None
    issued = queue.issue("hotich")
    assert issued.ticket.day == "2026-12-01"
    assert issued.ticket.code == "A001"


@pytest.mark.parametrize("year", [1970, 2000])
def test_rtc_with_a_dead_battery_is_refused(
    queue: Queue, clock: Clock, cfg: Config, year: int
) -> None:
    _day_of_work(queue, clock, cfg)
    clock.t = datetime(year, 1, 1, tzinfo=cfg.tz).timestamp()
    with pytest.raises(ClockNotSet) as e:
        queue.issue("hotich")
    assert e.value.reason == "unset"


def test_dead_battery_on_a_new_kiosk_with_an_empty_store_is_refused(
    queue: Queue, clock: Clock
) -> None:
    clock.t = datetime(2000, 1, 1).timestamp()
    with pytest.raises(ClockNotSet):
        queue.issue("hotich")


def test_clock_years_ahead_of_the_newest_event_is_refused(
    queue: Queue, clock: Clock, cfg: Config
) -> None:
    _day_of_work(queue, clock, cfg)
    clock.set_local(cfg, "2029-11-30T08:00:00")  # a typo in the year
    with pytest.raises(ClockNotSet) as e:
        queue.issue("hotich")
    assert e.value.reason == "ahead"
    clock.set_local(cfg, "2027-11-30T08:00:00")  # a year shut: unusual, but a right clock
    assert queue.clock_problem() is None


def test_ntp_arriving_late_in_the_morning_refuses_then_issues_on_the_new_day(
    queue: Queue, clock: Clock, cfg: Config, store: Store
) -> None:
    _day_of_work(queue, clock, cfg)
    # Tuesday 07:00 the power comes back without network; the clock is where the
    # last hourly save left it, 16:00 Monday, and runs on from there.
    clock.set_local(cfg, "2026-11-30T16:00:00")
    for _ in range(3):
        with pytest.raises(ClockNotSet):
            queue.issue("hotich")
        clock.advance(60)
    # 09:40 the router comes up and NTP steps the clock forward.
    clock.set_local(cfg, "2026-12-01T09:40:00")
    assert queue.clock_problem() is None
    issued = queue.issue("hotich")
    assert (issued.ticket.day, issued.ticket.code) == ("2026-12-01", "A001")
    with store.read() as tx:
        monday = tx.tickets_of_day("2026-11-30")
    assert [t.status for t in monday] == ["expired", "expired"]  # yesterday closed


def test_clock_problem_names_each_reason() -> None:
    now = datetime(2026, 11, 30, 8).timestamp()
    assert clock_problem(now, None) is None
    assert clock_problem(now, now - 3600) is None
    assert clock_problem(0, None).reason == "unset"  # type: ignore[union-attr]
    assert clock_problem(now, now + 3600).reason == "behind"  # type: ignore[union-attr]
    assert clock_problem(now + 3 * 365 * 86400, now).reason == "ahead"  # type: ignore[union-attr]
