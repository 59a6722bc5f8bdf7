"""The printer consumer: every issued ticket printed, or kept, flagged and printed again
when the printer is back; faults never hold up issuing; events say what happened."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pytest
from PIL import ImageChops

from kiosk.compose import Overrides, start_consumers, stop_consumers
from kiosk.core.queue import Queue
from kiosk.outputs.printer_feed import (
    FAULT_RETRY,
    FAULT_RETRY_MAX,
    PrinterConsumer,
    issuing_paused,
    printer_status,
)
from printer import raster
from printer.job import info_from_ticket
from tests.printer.fakes import FakePrinter


class Mono:
    """The consumer's monotonic clock, moved by the test."""

    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def fake(tmp_path: Path):
    f = FakePrinter(tmp_path / "kiosk-printer")
    yield f
    f.close()


@pytest.fixture
def mono() -> Mono:
    return Mono()


@pytest.fixture
def consumer(queue: Queue, fake: FakePrinter, mono: Mono):
    c = PrinterConsumer(queue, uri=f"file:{fake.link_path}", monotonic=mono)
    c.link.timeout = 0.5
    c.link.rw.write_timeout = 0.5  # type: ignore[attr-defined]
    yield c
    c.link.close()


def wait_jobs(fake: FakePrinter, n: int, timeout: float = 5) -> list[bytes]:
    deadline = time.monotonic() + timeout
    while len(fake.jobs) < n and time.monotonic() < deadline:
        time.sleep(0.01)
    return fake.jobs


def events(queue: Queue, *types: str) -> list[tuple[str, str | None, str]]:
    """(type, code, state-or-detail) of the printer's events, in order."""
    out = []
    for e in queue.store.events_since(0, limit=10000):
        if e.type in types:
            out.append((e.type, e.code, str(e.payload.get("state", e.payload.get("detail", "")))))
    return out


def print_status(queue: Queue, code: str) -> str:
    t = queue.ticket(code)
    assert t is not None
    return t.print_status


def decoded_is(job: bytes, consumer: PrinterConsumer, queue: Queue, code: str, **kw) -> bool:
    t = queue.ticket(code)
    info = info_from_ticket(queue.cfg, t, **kw)
    want = consumer.printer.layout.render(info).convert("L")
    return ImageChops.difference(raster.decode(job).convert("L"), want).getbbox() is None


def test_each_issued_ticket_is_printed_in_order_and_recorded(
    queue: Queue, consumer: PrinterConsumer, fake: FakePrinter
) -> None:
    issued = [queue.issue("hotich"), queue.issue("datdai", priority=True), queue.issue("hotich")]
    assert consumer.run_once() == 3
    jobs = wait_jobs(fake, 3)
    assert len(jobs) == 3
    for job, r in zip(jobs, issued, strict=True):
        assert decoded_is(
            job, consumer, queue, r.ticket.code, ahead=r.ahead, wait_minutes=r.wait_minutes
        )
        assert print_status(queue, r.ticket.code) == "printed"
    assert events(queue, "ticket_printed", "printer_status") == [
        ("printer_status", None, "ok"),
        *[("ticket_printed", r.ticket.code, "") for r in issued],
    ]
    # Handled once: running again prints nothing, and the cursor is past every event.
    assert consumer.run_once() == 0 and len(fake.jobs) == 3
    assert queue.store.cursor("printer") == queue.store.last_seq()
    queue.call_next(1)
    queue.recall(1)
    assert consumer.run_once() == 0 and len(fake.jobs) == 3
    assert queue.store.cursor("printer") == queue.store.last_seq()


def test_paper_out_mid_job_keeps_the_ticket_flags_it_and_reprints_after_refill(
    queue: Queue, consumer: PrinterConsumer, fake: FakePrinter, mono: Mono
) -> None:
    fake.paper_out_after = 8000  # the roll ends inside the first ticket
    queue.issue("hotich")
    consumer.run_once()
    assert print_status(queue, "A001") == "failed"
    assert fake.jobs == []
    # The next citizen still gets a number at once; the printer is not even tried.
    sent = fake.received
    queue.issue("hotich")
    consumer.run_once()
    assert print_status(queue, "A002") == "failed"
    assert fake.received - sent < 20  # status questions only, no ticket bytes
    # Still empty: the periodic check changes nothing.
    mono.t += FAULT_RETRY
    consumer.on_idle()
    assert fake.jobs == []
    # Refilled.
    fake.state, fake.paper_out_after = "ok", None
    fake.power_cycle()
    mono.t += FAULT_RETRY
    consumer.on_idle()
    jobs = wait_jobs(fake, 2)
    assert len(jobs) == 2
    assert print_status(queue, "A001") == print_status(queue, "A002") == "printed"
    at = datetime.fromtimestamp(queue.clock(), queue.cfg.tz)
    # Reprints say how many people are before the citizen now.
    assert decoded_is(jobs[0], consumer, queue, "A001", reprint_at=at, ahead=0)
    assert decoded_is(jobs[1], consumer, queue, "A002", reprint_at=at, ahead=1)
    assert events(queue, "ticket_printed", "ticket_print_failed", "printer_status") == [
        ("printer_status", None, "ok"),
        ("printer_status", None, "paper_out"),
        ("ticket_print_failed", "A001", "the paper ran out while printing this ticket"),
        ("ticket_print_failed", "A002", "the paper roll is empty; load a new roll"),
        ("printer_status", None, "ok"),
        ("ticket_printed", "A001", "reprinted"),
        ("ticket_printed", "A002", "reprinted"),
    ]


def test_unplugged_mid_job_the_ticket_is_kept_and_printed_when_plugged_back(
    queue: Queue, consumer: PrinterConsumer, fake: FakePrinter, mono: Mono
) -> None:
    fake.unplug_after = 5000
    queue.issue("kinhte")
    t0 = time.monotonic()
    consumer.run_once()
    assert time.monotonic() - t0 < 15  # bounded by the timeout, never stuck
    code = events(queue, "ticket_issued")[0][1]
    assert print_status(queue, code) == "failed"
    assert printer_status(queue.store).state == "offline"
    mono.t += FAULT_RETRY
    consumer.on_idle()  # still unplugged
    assert print_status(queue, code) == "failed"
    fake.plug_in()
    mono.t += FAULT_RETRY
    consumer.on_idle()
    assert len(wait_jobs(fake, 1)) == 1
    assert print_status(queue, code) == "printed"
    states = [s for (_, _, s) in events(queue, "printer_status")]
    assert states == ["ok", "offline", "ok"]
    failed = events(queue, "ticket_print_failed")
    assert len(failed) == 1 and "sending failed" in failed[0][2]


def test_a_printer_that_never_answers_status_still_prints_and_is_reported_unknown(
    queue: Queue, consumer: PrinterConsumer, fake: FakePrinter
) -> None:
    fake.state = "silent"
    for _ in range(3):
        queue.issue("hotich")
    t0 = time.monotonic()
    consumer.run_once()
    # One unanswered round of questions, then no more waiting on it for every ticket.
    assert time.monotonic() - t0 < 15
    assert fake.questions == 2
    assert len(wait_jobs(fake, 3)) == 3
    assert [s for (_, _, s) in events(queue, "printer_status")] == ["unknown"]
    assert printer_status(queue.store).state == "unknown"
    assert [e[0] for e in events(queue, "ticket_printed")] == ["ticket_printed"] * 3


def test_flagged_tickets_of_today_still_waiting_are_reprinted_at_start(
    queue: Queue, fake: FakePrinter, mono: Mono, clock
) -> None:
    clock.set_local(queue.cfg, "2026-11-27T10:00:00")  # the Friday before
    old = queue.issue("hotich").ticket
    queue.record_print(old.id, False, "offline")
    clock.set_local(queue.cfg, "2026-11-30T08:00:00")
    a = queue.issue("hotich").ticket
    b = queue.issue("hotich").ticket
    c = queue.issue("datdai").ticket
    queue.record_print(a.id, False, "offline")
    queue.record_print(b.id, False, "offline")
    queue.call_next(1)  # counter 1 calls A001: no paper needed any more
    queue.store.set_cursor("printer", queue.store.last_seq())  # c: crashed before its verdict
    consumer = PrinterConsumer(queue, uri=f"file:{fake.link_path}", monotonic=mono)
    try:
        consumer.run_once()
        consumer.on_idle()
        assert len(wait_jobs(fake, 2)) == 2
        # a was called meanwhile, old expired at the weekend: recorded, not printed.
        assert [queue.ticket(x.code).print_status for x in (a, b, c)] == [
            "not_printed",
            "printed",
            "printed",
        ]
        assert queue.ticket(old.code, day="2026-11-27").print_status == "not_printed"
        reprinted = [(code, d) for (_, code, d) in events(queue, "ticket_printed")]
        assert reprinted == [(b.code, "reprinted"), (c.code, "")]
        assert sorted(not_printed(queue)) == sorted([(old.code, "expired"), (a.code, "called")])
    finally:
        consumer.link.close()


def test_a_ticket_that_cannot_be_drawn_is_flagged_and_the_next_one_still_prints(
    queue: Queue, consumer: PrinterConsumer, fake: FakePrinter, monkeypatch
) -> None:
    body = consumer.printer.layout.body

    def broken(t):  # type: ignore[no-untyped-def]
        if t.code == "A001":
            raise ValueError("a bug in the layout")
        return body(t)

    monkeypatch.setattr(consumer.printer.layout, "body", broken)
    queue.issue("hotich")
    queue.issue("hotich")
    assert consumer.run_once() == 2
    assert print_status(queue, "A001") == "failed"
    assert print_status(queue, "A002") == "printed"
    assert len(wait_jobs(fake, 1)) == 1


def test_a_missing_logo_or_a_removed_service_does_not_stop_printing(
    cfg, queue: Queue, fake: FakePrinter, mono: Mono, tmp_path: Path
) -> None:
    cfg.printer = replace(cfg.printer, logo=str(tmp_path / "gone.png"))
    r = queue.issue("hotich")
    consumer = PrinterConsumer(queue, uri=f"file:{fake.link_path}", monotonic=mono)
    cfg.services = [s for s in cfg.services if s.id != "hotich"]
    try:
        consumer.run_once()
        assert len(wait_jobs(fake, 1)) == 1
        assert print_status(queue, r.ticket.code) == "printed"
    finally:
        consumer.link.close()


def test_fault_policy_and_state_for_the_screen(cfg, queue: Queue) -> None:
    assert printer_status(queue.store).state == "unknown"
    queue.record("printer_status", state="paper_out", detail="the paper roll is empty")
    assert printer_status(queue.store).state == "paper_out"
    assert not issuing_paused(cfg, queue.store)  # example site: show_on_screen
    cfg.printer = replace(cfg.printer, on_fault="pause")
    assert issuing_paused(cfg, queue.store)
    queue.record("printer_status", state="ok", detail="")
    assert not issuing_paused(cfg, queue.store)


def test_the_running_kiosk_starts_the_printer_consumer_and_tickets_come_out(
    cfg, queue: Queue, tmp_path: Path
) -> None:
    out = tmp_path / "tickets"
    consumers = start_consumers(
        cfg, queue, Overrides(printer_uri=f"png:{out}", extra={"no_display": True})
    )
    try:
        assert "printer" in [c.name for c in consumers]
        queue.issue("hotich")
        deadline = time.monotonic() + 60
        while not list(out.glob("*.png")) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert [p.name for p in out.glob("*.png")] == ["0001-A001.png"]
    finally:
        stop_consumers(consumers)


def test_people_ahead_on_a_reprint_follow_the_calling_order(
    queue: Queue, consumer: PrinterConsumer
) -> None:
    a = queue.issue("hotich").ticket
    b = queue.issue("hotich", priority=True).ticket
    c = queue.issue("hotich").ticket
    queue.issue("datdai")  # another service's queue does not count
    # Priority tickets are called first, then by time of issue.
    assert [consumer.ahead_now(t) for t in (a, b, c)] == [1, 0, 2]
    assert queue.call_next(1) is not None  # counter 1 takes the priority ticket
    assert [consumer.ahead_now(t) for t in (a, c)] == [0, 1]


def test_cover_opened_mid_job_flags_the_ticket_and_it_is_reprinted_once_closed(
    queue: Queue, consumer: PrinterConsumer, fake: FakePrinter, mono: Mono
) -> None:
    fake.cover_open_after = 6000
    code = queue.issue("hotich").ticket.code
    consumer.run_once()
    assert print_status(queue, code) == "failed"
    (failed,) = events(queue, "ticket_print_failed")
    assert "cover is open" in failed[2] and "while printing" in failed[2]
    fake.state, fake.cover_open_after = "ok", None
    mono.t += FAULT_RETRY
    consumer.on_idle()
    assert len(wait_jobs(fake, 1)) == 1 and print_status(queue, code) == "printed"
    assert [s for (_, _, s) in events(queue, "printer_status")] == ["ok", "offline", "ok"]


def test_a_silent_printer_unplugged_mid_job_gets_the_ticket_when_plugged_back(
    queue: Queue, consumer: PrinterConsumer, fake: FakePrinter, mono: Mono
) -> None:
    fake.state = "silent"
    queue.issue("hotich")
    consumer.run_once()
    assert len(wait_jobs(fake, 1)) == 1
    fake.unplug_after = fake.received + 5000
    code = queue.issue("hotich").ticket.code
    consumer.run_once()
    assert print_status(queue, code) == "failed"
    mono.t += FAULT_RETRY
    consumer.on_idle()  # still unplugged: the retry fails again, nothing is lost
    assert print_status(queue, code) == "failed"
    fake.plug_in()
    fake.state = "silent"
    mono.t += FAULT_RETRY
    consumer.on_idle()
    assert len(wait_jobs(fake, 1)) == 1  # the new pty's first job: the reprint
    assert print_status(queue, code) == "printed"
    assert [s for (_, _, s) in events(queue, "printer_status")] == ["unknown", "offline", "unknown"]
    assert [(t, c) for (t, c, _) in events(queue, "ticket_printed", "ticket_print_failed")] == [
        ("ticket_printed", "A001"),
        ("ticket_print_failed", code),  # once, however many retries fail
        ("ticket_printed", code),
    ]


def test_paper_nearly_out_is_reported_and_tickets_still_print(
    queue: Queue, consumer: PrinterConsumer, fake: FakePrinter
) -> None:
    fake.state = "paper_near_end"
    queue.issue("hotich")
    consumer.run_once()
    assert len(wait_jobs(fake, 1)) == 1
    assert [s for (_, _, s) in events(queue, "printer_status")] == ["paper_near_end"]
    assert print_status(queue, "A001") == "printed"


def test_a_flagged_ticket_goes_out_right_after_the_next_ticket_goes_through(
    queue: Queue, consumer: PrinterConsumer, fake: FakePrinter, mono: Mono
) -> None:
    fake.state = "silent"
    fake.unplug_after = 5000
    first = queue.issue("hotich").ticket.code
    consumer.run_once()
    consumer.on_idle()  # no check due yet: nothing happens
    assert print_status(queue, first) == "failed"
    fake.plug_in()
    fake.state = "silent"
    issued = queue.issue("hotich")
    second = issued.ticket.code
    consumer.run_once()  # the new citizen's ticket first ...
    consumer.on_idle()  # ... then the flagged one, without waiting for a status check
    jobs = wait_jobs(fake, 2)
    assert len(jobs) == 2
    assert print_status(queue, first) == print_status(queue, second) == "printed"
    assert decoded_is(
        jobs[0], consumer, queue, second, ahead=issued.ahead, wait_minutes=issued.wait_minutes
    )


# ---------------------------------------------------------------- never a stale ticket


def not_printed(queue: Queue) -> list[tuple[str | None, str]]:
    """(code, reason) of each ticket_not_printed event, in order."""
    return [
        (e.code, str(e.payload["reason"]))
        for e in queue.store.events_since(0, limit=10000)
        if e.type == "ticket_not_printed"
    ]


def test_a_ticket_served_before_the_printer_got_to_it_is_not_printed_but_recorded(
    queue: Queue, consumer: PrinterConsumer, fake: FakePrinter
) -> None:
    queue.issue("hotich")
    queue.call_next(1)
    queue.finish(1)
    queue.issue("hotich")
    queue.call_next(2)  # called, not yet served: the citizen is at the counter
    consumer.run_once()
    consumer.on_idle()
    time.sleep(0.2)
    assert fake.jobs == []
    assert print_status(queue, "A001") == print_status(queue, "A002") == "not_printed"
    assert not_printed(queue) == [("A001", "served"), ("A002", "called")]
    # Nothing is lost: the tickets and their numbers stay as they were.
    assert queue.ticket("A001").status == "served" and queue.ticket("A002").status == "called"


def test_an_expired_ticket_is_not_printed_after_close_day(
    queue: Queue, consumer: PrinterConsumer, fake: FakePrinter
) -> None:
    queue.issue("hotich")
    queue.close_day()
    consumer.run_once()
    consumer.on_idle()
    time.sleep(0.2)
    assert fake.jobs == []
    assert not_printed(queue) == [("A001", "expired")]
    # Once: later passes do not record it again.
    consumer.on_idle()
    assert consumer.run_once() == 0 and len(not_printed(queue)) == 1


def test_yesterdays_ticket_is_not_printed_the_next_morning(
    queue: Queue, fake: FakePrinter, mono: Mono, clock
) -> None:
    clock.set_local(queue.cfg, "2026-11-30T16:59:30")
    queue.issue("hotich")  # the kiosk was switched off right after
    clock.set_local(queue.cfg, "2026-12-01T07:30:00")  # and on again the next morning
    consumer = PrinterConsumer(queue, uri=f"file:{fake.link_path}", monotonic=mono)
    try:
        consumer.run_once()
        consumer.on_idle()
        time.sleep(0.2)
        assert fake.jobs == []
        assert not_printed(queue) == [("A001", "another_day")]
        assert queue.ticket("A001", day="2026-11-30").print_status == "not_printed"
    finally:
        consumer.link.close()


def test_after_a_printer_outage_tickets_older_than_late_print_seconds_are_not_printed(
    queue: Queue, consumer: PrinterConsumer, fake: FakePrinter, mono: Mono, clock
) -> None:
    assert queue.cfg.printer.late_print_seconds == 90
    fake.state = "paper_out"
    queue.issue("hotich")  # A001: failed, and its citizen leaves with the number on screen
    consumer.run_once()
    clock.advance(60)
    queue.issue("hotich")  # A002: failed, 60 s later
    consumer.run_once()
    assert print_status(queue, "A001") == print_status(queue, "A002") == "failed"
    clock.advance(31)  # A001 is now 91 s old, A002 31 s
    fake.state = "ok"
    fake.power_cycle()
    mono.t += FAULT_RETRY
    consumer.on_idle()
    jobs = wait_jobs(fake, 1)
    time.sleep(0.2)
    assert len(fake.jobs) == 1
    at = datetime.fromtimestamp(queue.clock(), queue.cfg.tz)
    assert decoded_is(jobs[0], consumer, queue, "A002", reprint_at=at, ahead=1)
    assert print_status(queue, "A001") == "not_printed"
    assert print_status(queue, "A002") == "printed"
    assert not_printed(queue) == [("A001", "too_late")]
    assert queue.ticket("A001").status == "waiting"  # still in the queue


def test_a_kiosk_restarted_minutes_later_does_not_print_the_tickets_issued_meanwhile(
    queue: Queue, fake: FakePrinter, mono: Mono, clock
) -> None:
    queue.issue("hotich")  # issued by `kiosk issue` while the kiosk was down
    clock.advance(120)
    queue.issue("hotich")
    consumer = PrinterConsumer(queue, uri=f"file:{fake.link_path}", monotonic=mono)
    try:
        consumer.run_once()
        consumer.on_idle()
        assert len(wait_jobs(fake, 1)) == 1
        time.sleep(0.2)
        assert len(fake.jobs) == 1
        assert print_status(queue, "A001") == "not_printed"
        assert print_status(queue, "A002") == "printed"
    finally:
        consumer.link.close()


def test_a_fresh_ticket_still_prints_up_to_late_print_seconds(
    queue: Queue, consumer: PrinterConsumer, fake: FakePrinter, clock
) -> None:
    queue.issue("hotich")
    clock.advance(90)  # exactly the limit: still printed
    consumer.run_once()
    assert len(wait_jobs(fake, 1)) == 1
    assert print_status(queue, "A001") == "printed" and not_printed(queue) == []


def test_late_print_seconds_from_the_site_file_is_used(
    cfg, queue: Queue, consumer: PrinterConsumer, fake: FakePrinter, clock
) -> None:
    cfg.printer = replace(cfg.printer, late_print_seconds=10)
    queue.issue("hotich")
    clock.advance(11)
    consumer.run_once()
    time.sleep(0.2)
    assert fake.jobs == [] and not_printed(queue) == [("A001", "too_late")]


def test_an_unplugged_printer_is_retried_with_backoff_and_noticed_soon_after_it_is_back(
    queue: Queue, consumer: PrinterConsumer, fake: FakePrinter, mono: Mono
) -> None:
    fake.unplug()
    checks: list[float] = []
    real_status = consumer.link.status

    def counted_status():  # type: ignore[no-untyped-def]
        checks.append(mono.t)
        return real_status()

    consumer.link.status = counted_status  # type: ignore[method-assign]
    # Ten minutes unplugged, the consumer woken every second.
    for _ in range(600):
        consumer.on_idle()
        mono.t += 1
    assert printer_status(queue.store).state == "offline"
    gaps = [b - a for a, b in zip(checks, checks[1:], strict=False)]
    assert gaps[:4] == [FAULT_RETRY] * 4  # quick at first (paper being changed)
    assert max(gaps) <= FAULT_RETRY_MAX and gaps[-1] >= FAULT_RETRY_MAX - 1
    assert len(checks) < 80  # not 300 questions to a bus with no printer on it
    assert consumer.idle_wait >= FAULT_RETRY_MAX - 1  # and the thread sleeps as long
    # Plugged back: noticed at the next check, within FAULT_RETRY_MAX.
    fake.plug_in()
    back = mono.t
    while printer_status(queue.store).state == "offline":
        consumer.on_idle()
        mono.t += 1
        assert mono.t - back <= FAULT_RETRY_MAX + 1
    # A new outage (noticed at the next periodic check) starts quick again.
    fake.unplug()
    checks.clear()
    for _ in range(40):
        consumer.on_idle()
        mono.t += 1
    assert printer_status(queue.store).state == "offline"
    assert [b - a for a, b in zip(checks, checks[1:], strict=False)][-3:] == [FAULT_RETRY] * 3


def test_a_scanned_cards_initials_are_printed_once_from_memory_only(
    queue: Queue, consumer: PrinterConsumer, fake: FakePrinter
) -> None:
    from kiosk.core.citizen import Citizen

    queue.cfg.printer = replace(queue.cfg.printer, initials=True)
    r = queue.issue("hotich", citizen=Citizen("0" * 64, initials="N.V.A."))
    assert consumer.run_once() == 1
    [job] = wait_jobs(fake, 1)
    assert (
        decoded_is(job, consumer, queue, r.ticket.code, ahead=r.ahead, wait_minutes=r.wait_minutes)
        is False
    )  # not the ticket without initials ...
    t = queue.ticket(r.ticket.code)
    info = replace(info_from_ticket(queue.cfg, t, r.ahead, r.wait_minutes), initials="N.V.A.")
    want = consumer.printer.layout.render(info).convert("L")
    assert ImageChops.difference(raster.decode(job).convert("L"), want).getbbox() is None
    assert queue.initials == {}  # ... and forgotten once printed


def test_initials_are_not_printed_when_the_site_file_says_no(
    queue: Queue, consumer: PrinterConsumer, fake: FakePrinter
) -> None:
    from kiosk.core.citizen import Citizen

    queue.cfg.printer = replace(queue.cfg.printer, initials=False)
    r = queue.issue("hotich", citizen=Citizen("0" * 64, initials="N.V.A."))
    assert queue.initials == {}
    consumer.run_once()
    [job] = wait_jobs(fake, 1)
    assert decoded_is(
        job, consumer, queue, r.ticket.code, ahead=r.ahead, wait_minutes=r.wait_minutes
    )


def test_a_guide_checklist_held_for_a_ticket_is_printed_once_with_its_qr(
    queue: Queue, consumer: PrinterConsumer, fake: FakePrinter
) -> None:
    extras = {
        "checklist": ("Tờ khai", "Giấy chứng sinh"),
        "checklist_title": "Đăng ký khai sinh",
        "qr_text": "https://dichvucong.example.gov.vn/thu-tuc/khai-sinh",
    }
    r = queue.issue(
        "hotich", hook=lambda tx, day: lambda tx, t: queue.hold_print_extras(t.id, extras)
    )
    assert consumer.run_once() == 1
    [job] = wait_jobs(fake, 1)
    t = queue.ticket(r.ticket.code)
    info = replace(info_from_ticket(queue.cfg, t, r.ahead, r.wait_minutes), **extras)
    want = consumer.printer.layout.render(info).convert("L")
    assert ImageChops.difference(raster.decode(job).convert("L"), want).getbbox() is None
    assert queue.print_extras == {}  # forgotten once printed: a reprint is the plain ticket
