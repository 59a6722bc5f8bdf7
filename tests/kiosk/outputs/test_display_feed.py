"""The kiosk's display link against the real display receiver, over real ptys with a noisy relay."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from display import protocol as p
from display.ptylink import PtyRelay
from display.receiver import Receiver
from display.state import HallState
from kiosk.compose import Overrides, start_consumers, stop_consumers
from kiosk.core.queue import Queue, QueueError
from kiosk.outputs.display_feed import MAX_RETRIES, RTO_MAX_S, DisplayLink, LinkDown, SerialLink


def wait_for(cond: Callable[[], bool], timeout: float = 15.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


class Display:
    """The display end in this process: receiver + state, recording announced calls."""

    def __init__(self, port: Path) -> None:
        self.port = port
        self.announced: list[p.Call] = []
        self.shown_codes: set[str] = set()
        self.state = HallState()
        self.receiver = Receiver(str(port), self.state, on_call=self.announced.append)
        self.receiver.start()

    def reboot(self) -> None:
        self.receiver.stop()
        self.state = HallState()
        self.receiver = Receiver(str(self.port), self.state, on_call=self.announced.append)
        self.receiver.start()

    def shown(self) -> dict[int, str]:
        v = self.state.view()
        codes = {c.id: c.current for c in v.counters}
        self.shown_codes.update(c for c in codes.values() if c)
        self.shown_codes.update(c.code for c in v.recent)
        return codes


@pytest.fixture
def line(tmp_path: Path) -> Iterator[PtyRelay]:
    relay = PtyRelay(tmp_path).start()
    yield relay
    relay.stop()


@pytest.fixture
def display(line: PtyRelay) -> Iterator[Display]:
    d = Display(line.display_port)
    yield d
    d.receiver.stop()


@pytest.fixture
def link(queue: Queue, line: PtyRelay) -> Iterator[DisplayLink]:
    lk = DisplayLink(queue, port=str(line.kiosk_port))
    lk.start()
    yield lk
    lk.stop()


def kiosk_view(queue: Queue) -> tuple[dict[int, str], dict[str, int]]:
    st = queue.status()
    return (
        {c["id"]: c["current"] or "" for c in st["counters"]},
        {s["id"]: s["waiting"] for s in st["services"]},
    )


def converged(queue: Queue, display: Display) -> bool:
    """The display shows what the kiosk has: numbers, waiting counts, names, site."""
    counters, waiting = kiosk_view(queue)
    v = display.state.view()
    return (
        v.link_up
        and display.shown() == counters
        and {s.id: s.waiting for s in v.services} == waiting
        and {c.id: c.name for c in v.counters} == {c.id: c.name for c in queue.cfg.counters}
        and v.site == queue.cfg.site.name
    )


def called_events(queue: Queue) -> list[tuple[str, int, bool]]:
    evs = queue.store.events_since(0, 10000, types=("ticket_called", "ticket_recalled"))
    return [(e.code or "", e.payload["counter"], e.type == "ticket_recalled") for e in evs]


def announced(display: Display) -> list[tuple[str, int, bool]]:
    return [(c.code, c.counter, c.recall) for c in display.announced]


def test_calls_reach_the_display_in_order_and_are_announced_once(queue, display, link):
    for _ in range(4):
        queue.issue("hotich")
    queue.issue("datdai")
    queue.call_next(1)
    queue.call_next(2)
    queue.recall(1)
    queue.call_next(4)
    wait_for(lambda: converged(queue, display), what="display to show the kiosk state")
    wait_for(lambda: len(display.announced) == 4, what="4 announcements")
    assert announced(display) == called_events(queue)
    assert announced(display)[2] == ("A001", 1, True)  # the recall is announced again
    v = display.state.view()
    assert v.site == queue.cfg.site.name
    assert [c.code for c in v.recent[:3]] == ["C001", "A001", "A002"]
    assert link.cursor == queue.store.last_seq() or link.cursor > 0
    # The retransmission timeout adapted down from its 250 ms start to this fast line.
    assert link.driver.srtt is not None and link.driver.rto < 0.25
    ups = [e for e in queue.store.events_since(0, types=("display_link",))]
    assert ups and ups[0].payload["state"] == "up"


def test_noisy_line_converges_and_never_shows_a_number_that_was_not_called(
    queue, display, link, line
):
    line.set_noise(drop=0.0007, duplicate=0.0007, corrupt=0.0007)
    rng = random.Random(4)
    stop = threading.Event()
    bad: list[str] = []

    def watch() -> None:
        while not stop.is_set():
            display.shown()
            called = {c for c, _, _ in called_events(queue)}
            bad.extend(sorted(display.shown_codes - called))
            time.sleep(0.01)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    for _ in range(40):
        op = rng.random()
        try:
            if op < 0.45:
                queue.issue(rng.choice(["hotich", "chungthuc", "tracuu", "datdai"]))
            elif op < 0.8:
                queue.call_next(rng.choice([1, 2, 3, 4]))
            elif op < 0.9:
                queue.recall(rng.choice([1, 2, 3, 4]))
            else:
                queue.skip(rng.choice([1, 2, 3, 4]))
        except QueueError:
            pass
        time.sleep(rng.random() * 0.05)
    wait_for(lambda: converged(queue, display), timeout=40, what="convergence on a noisy line")
    wait_for(lambda: len(display.announced) == len(called_events(queue)), timeout=30)
    stop.set()
    watcher.join()
    assert not bad, f"display showed codes never called: {bad}"
    assert announced(display) == called_events(queue)
    assert line.stats["corrupted"] > 0 and line.stats["dropped"] > 0
    assert link.driver.stats["retransmits"] > 0  # the noise really hit the protocol


def test_unplug_and_replug_does_not_block_the_kiosk_and_catches_up(queue, display, link, line):
    queue.issue("hotich")
    queue.issue("hotich")
    queue.call_next(1)
    wait_for(lambda: converged(queue, display))
    line.unplug()
    wait_for(lambda: not display.state.view().link_up, what="display to notice the loss")
    t0 = time.perf_counter()
    queue.call_next(2)  # staff keep working while the cable is out
    queue.issue("chungthuc")
    assert time.perf_counter() - t0 < 0.5
    wait_for(
        lambda: any(
            e.payload["state"] == "down"
            for e in queue.store.events_since(0, types=("display_link",))
        ),
        what="a display_link down event",
    )
    assert display.shown()[2] == ""  # the display still shows its last state
    line.plug()
    wait_for(lambda: converged(queue, display), timeout=20, what="catch-up after replug")
    # A snapshot may show a call before its CALL frame arrives: wait for the voice too.
    wait_for(lambda: len(display.announced) == len(called_events(queue)), what="announcements")
    assert announced(display) == called_events(queue)
    states = [e.payload["state"] for e in queue.store.events_since(0, types=("display_link",))]
    assert states[-3:] == ["up", "down", "up"]


def test_display_reboot_mid_day_gets_the_full_state_without_repeating_calls(queue, display, link):
    for _ in range(3):
        queue.issue("hotich")
    queue.call_next(1)
    queue.call_next(2)
    wait_for(lambda: converged(queue, display) and len(display.announced) == 2)
    before = len(display.announced)
    display.reboot()
    assert display.state.view().counters == ()
    wait_for(
        lambda: (
            converged(queue, display)
            and [c.code for c in display.state.view().recent] == ["A002", "A001"]
        ),
        what="rebooted display to catch up",
    )
    time.sleep(0.3)
    assert len(display.announced) == before  # the snapshot's calls are not spoken again
    queue.call_next(1)
    wait_for(lambda: len(display.announced) == before + 1)


def test_calls_older_than_the_limit_are_shown_but_not_announced(
    queue, display, line, clock, tmp_path
):
    link = DisplayLink(queue, port=str(line.kiosk_port), call_max_age_s=60)
    queue.issue("hotich")
    queue.issue("hotich")
    queue.call_next(1)
    clock.advance(600)  # the link was down for ten minutes
    queue.call_next(2)
    link.start()
    try:
        wait_for(lambda: converged(queue, display) and len(display.announced) == 1)
        time.sleep(0.3)
        assert announced(display) == [("A002", 2, False)]
        assert link.skipped_stale == 1
        assert [c.code for c in display.state.view().recent] == ["A002", "A001"]
    finally:
        link.stop()


def test_a_display_switched_on_gets_the_state_at_once_not_at_the_next_idle_wake(
    queue: Queue, line: PtyRelay
) -> None:
    queue.issue("hotich")
    queue.call_next(1)
    lk = DisplayLink(queue, port=str(line.kiosk_port))
    lk.idle_wait = 30.0  # no polling to fall back on: the display_link event wakes it
    lk.start()
    try:
        time.sleep(1.0)  # the kiosk waits, its consumer asleep; the display is off
        d = Display(line.display_port)
        try:
            t0 = time.monotonic()
            wait_for(lambda: converged(queue, d), timeout=10, what="the first snapshot")
            assert time.monotonic() - t0 < 5
        finally:
            d.receiver.stop()
    finally:
        lk.stop()


def test_missing_port_is_reported_without_blocking_and_names_the_port(queue, tmp_path):
    drv = SerialLink(str(tmp_path / "no-such-port"))
    t0 = time.perf_counter()
    with pytest.raises(LinkDown, match="no-such-port"):
        drv.send_call(p.Call("A001", 1))
    assert time.perf_counter() - t0 < 0.2
    with pytest.raises(LinkDown, match="no-such-port"):  # backing off: refused at once
        drv.send_call(p.Call("A001", 1))
    drv.close()


def test_a_display_that_sends_no_heartbeat_is_refused_quickly(queue, line):
    # The kiosk's end is open but nothing answers on the other side.
    drv = SerialLink(str(line.kiosk_port))
    t0 = time.perf_counter()
    with pytest.raises(LinkDown, match="does not answer"):
        drv.send_call(p.Call("A001", 1))
    assert time.perf_counter() - t0 < 3.0
    drv.close()


def test_an_idle_link_wakes_the_kiosks_reader_a_few_times_a_second_not_five(
    line: PtyRelay, display: Display
) -> None:
    import serial

    reads = 0

    class Counted(serial.Serial):  # type: ignore[misc]
        def read(self, size: int = 1) -> bytes:
            nonlocal reads
            reads += 1
            return bytes(super().read(size))

    drv = SerialLink(str(line.kiosk_port), open_port=Counted)
    try:
        assert drv.wait_up(5)
        time.sleep(0.5)
        before = reads
        time.sleep(4.0)  # nothing to send: heartbeats both ways only
        per_s = (reads - before) / 4.0
        # One read per heartbeat from the display (1 s) plus timeouts of READ_TIMEOUT_S;
        # a 0.2 s read timeout woke it about 6 times a second.
        assert per_s <= 3.5, per_s
        assert drv.is_up() and display.state.view().link_up  # heartbeats still flow
    finally:
        t0 = time.monotonic()
        drv.close()
        assert time.monotonic() - t0 < 0.5  # the sleeping reader is woken, not waited for


def test_a_display_that_never_acknowledges_gets_bounded_retries_with_growing_timeouts(queue, line):
    import serial

    states: list[bool] = []
    fake = serial.Serial(str(line.display_port), 115200, timeout=0.05)
    stop = threading.Event()

    def heartbeats_only() -> None:  # alive, but drops every frame it is sent
        while not stop.is_set():
            fake.write(p.encode_frame(p.Frame(p.T_STATUS, 0, 0, p.Status().encode())))
            fake.read(4096)
            stop.wait(0.3)

    t = threading.Thread(target=heartbeats_only, daemon=True)
    t.start()
    drv = SerialLink(str(line.kiosk_port), on_state=lambda up, d: states.append(up))
    try:
        assert drv.wait_up(3)
        drv.rto = 0.05
        t0 = time.perf_counter()
        with pytest.raises(LinkDown, match=f"after {MAX_RETRIES + 1} tries"):
            drv.send_call(p.Call("A001", 1))
        took = time.perf_counter() - t0
        tries = MAX_RETRIES + 1
        assert drv.stats["frames"] == tries and drv.stats["retransmits"] == MAX_RETRIES
        assert drv.stats["timeouts"] == tries
        # Doubled each time from 50 ms, then held at the bound.
        waits = [min(0.05 * 2**i, RTO_MAX_S) for i in range(tries)]
        assert sum(waits) <= took < sum(waits) + 15  # bounded (loose for a busy machine)
        assert drv.rto == RTO_MAX_S
        assert states == [True, False]
    finally:
        stop.set()
        t.join()
        drv.close()
        fake.close()


def test_runtime_starts_the_display_link_on_the_override_port(cfg, queue, display, line):
    consumers = start_consumers(cfg, queue, Overrides(display_port=str(line.kiosk_port)))
    try:
        assert [c.name for c in consumers if isinstance(c, DisplayLink)] == ["display"]
        queue.issue("hotich")
        queue.call_next(1)
        wait_for(lambda: converged(queue, display))
    finally:
        stop_consumers(consumers)


def test_a_port_held_by_another_program_is_reported_not_shared(queue, line):
    import serial

    other = serial.Serial(str(line.kiosk_port), exclusive=True)
    drv = SerialLink(str(line.kiosk_port))
    try:
        with pytest.raises(LinkDown, match="lock"):
            drv.send_call(p.Call("A001", 1))
    finally:
        drv.close()
        other.close()


def test_link_up_is_logged_as_info_and_only_link_down_as_a_warning(caplog) -> None:
    import logging

    states: list[tuple[bool, str]] = []
    lk = SerialLink("/dev/nowhere", on_state=lambda up, d: states.append((up, d)))
    with caplog.at_level(logging.INFO, logger="kiosk.outputs.display_feed"):
        lk._set_up(True, "heartbeat from the display")
        lk._set_up(False, "no answer for 3 s")
    levels = [(r.levelname, r.getMessage()) for r in caplog.records]
    assert levels == [
        ("INFO", "display link up: heartbeat from the display"),
        ("WARNING", "display link down: no answer for 3 s"),
    ]
    assert states == [(True, "heartbeat from the display"), (False, "no answer for 3 s")]


def test_one_percent_dropped_and_one_percent_corrupted_both_ways_converges_within_30_s(
    queue, tmp_path
):
    """Issue 11 §2: the display reaches the true state within 30 s of the last call
    through 1 % dropped + 1 % bit-flipped bytes in both directions, at the line's real
    speed (115200 baud), and never shows a number that was not called."""
    with PtyRelay(tmp_path, drop=0.01, corrupt=0.01, seed=11, baud=115200) as line:
        display = Display(line.display_port)
        link = DisplayLink(queue, port=str(line.kiosk_port))
        link.start()
        rng = random.Random(11)
        stop = threading.Event()
        bad: list[str] = []

        def watch() -> None:
            while not stop.is_set():
                display.shown()
                called = {c for c, _, _ in called_events(queue)}
                bad.extend(sorted(display.shown_codes - called))
                time.sleep(0.01)

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        try:
            for _ in range(40):
                try:
                    if rng.random() < 0.5:
                        queue.issue(rng.choice(["hotich", "chungthuc", "tracuu", "datdai"]))
                    else:
                        rng.choice([queue.call_next, queue.call_next, queue.recall])(
                            rng.choice([1, 2, 3, 4])
                        )
                except QueueError:
                    pass
                time.sleep(rng.random() * 0.05)
            last_call = time.monotonic()

            def whole_state() -> bool:
                v = display.state.view()
                names = {c["id"]: c["name"] for c in queue.status()["counters"]}
                recent = [c.code for c in link.recent_calls(queue.today(), n=5)]
                return (
                    converged(queue, display)
                    and {c.id: c.name for c in v.counters} == names
                    and [c.code for c in v.recent] == recent
                    and v.notice == link.notice
                    and v.site == queue.cfg.site.name
                )

            wait_for(whole_state, timeout=30, what="the whole state through 1 % + 1 % noise")
            took = time.monotonic() - last_call
            wait_for(lambda: len(display.announced) == len(called_events(queue)), timeout=30)
        finally:
            stop.set()
            watcher.join()
            link.stop()
            display.receiver.stop()
    assert took <= 30
    assert not bad, f"display showed codes never called: {bad}"
    assert announced(display) == called_events(queue)  # each call spoken once, in order
    assert line.stats["corrupted"] > 10 and line.stats["dropped"] > 10
    assert link.driver.stats["retransmits"] > 10  # the noise really hit the protocol


def test_after_the_first_session_a_call_on_a_clean_line_costs_three_small_frames(
    queue, display, link
):
    queue.issue("hotich")
    queue.issue("hotich")
    queue.call_next(1)
    wait_for(lambda: converged(queue, display) and not link.dirty)
    drv = link.driver
    assert isinstance(drv, SerialLink)
    before = dict(drv.stats)
    queue.call_next(2)
    wait_for(lambda: converged(queue, display) and not link.dirty)
    sent = drv.stats["frames"] - before["frames"]
    assert sent == 3, f"{sent} frames for one call"  # CALL, WAITING, SYNCED
    assert drv.stats["sessions"] == 1


def test_replugging_the_cable_resends_only_what_changed(queue, display, link, line):
    for _ in range(3):
        queue.issue("hotich")
    queue.call_next(1)
    wait_for(lambda: converged(queue, display) and not link.dirty)
    drv = link.driver
    assert isinstance(drv, SerialLink)
    full = drv.stats["items"]
    line.unplug()
    wait_for(lambda: not display.state.view().link_up, what="display to notice the loss")
    queue.call_next(2)
    line.plug()
    wait_for(lambda: converged(queue, display) and not link.dirty, what="catch-up after replug")
    assert drv.stats["sessions"] == 1  # the display kept its state: no new session
    assert drv.stats["items"] - full < full  # not the whole state again
    # Names went once, in the first pass: a reopened cable does not send them again.
    n_counters = len(queue.cfg.counters)
    assert drv.items_by_kind["site"] == 1 and drv.items_by_kind["counter-name"] == n_counters
    assert drv.items_by_kind["service"] == len(queue.cfg.services)


def test_two_counter_displays_on_the_hall_displays_line_show_their_counter_and_never_transmit(
    queue, tmp_path
):
    names = ("counter-1", "counter-2")
    with PtyRelay(tmp_path, displays=names) as line:
        hall = Display(line.display_port)
        counters = {}
        for n in (1, 2):
            state = HallState(counter=n)
            rx = Receiver(str(line.ports[f"counter-{n}"]), state, address=n).start()
            counters[n] = (state, rx)
        # Listening displays hear only what is sent after they opened their ports.
        wait_for(lambda: all(rx._ser is not None for _, rx in counters.values()))
        time.sleep(0.05)  # pyserial flushes the input right after opening
        link = DisplayLink(queue, port=str(line.kiosk_port))
        link.start()
        try:
            for _ in range(4):
                queue.issue("hotich")
            queue.call_next(1)
            queue.call_next(2)
            queue.call_next(1)

            def shows(n: int) -> dict[int, str]:
                return {c.id: c.current for c in counters[n][0].view().counters}

            def all_right() -> bool:
                now, _ = kiosk_view(queue)
                return (
                    converged(queue, hall)
                    and shows(1) == {1: now[1]}
                    and shows(2) == {2: now[2]}
                    and all(counters[n][0].view().link_up for n in (1, 2))
                )

            wait_for(all_right, what="hall and both counter displays to show the state")
            assert shows(1) == {1: "A003"} and shows(2) == {2: "A002"}
            # It lists only its own counter's calls (a listener that missed one is not
            # sent it again: only current numbers are repeated, every 10 s).
            recent = [(c.code, c.counter) for c in counters[1][0].view().recent]
            assert recent and set(recent) <= {("A003", 1), ("A001", 1)}, recent
        finally:
            link.stop()
            hall.receiver.stop()
            for _, rx in counters.values():
                rx.stop()
    # Only the driven hall display answered: counter displays never put a byte on the line.
    assert line.sent["counter-1"] == line.sent["counter-2"] == 0
    assert line.sent["display-port"] > 0


def test_every_constant_the_protocol_spec_names_has_that_value_in_the_code():
    import re

    from kiosk.outputs import display_feed

    spec = (Path(__file__).resolve().parents[3] / "docs" / "display-protocol.md").read_text(
        encoding="utf-8"
    )
    # "`NAME` = value [ms|s]", not a sum such as "`MAX_BODY` = 4 + 64 + 4 = 72"
    found = re.findall(r"`([A-Z][A-Z_]+)` =\s*(\d+(?:\.\d+)?)(?!\d| \+)\s*(ms|s\b)?", spec)
    assert len({name for name, _, _ in found}) >= 15
    for name, value, unit in found:
        code = getattr(p, name, None)
        if code is None:
            code = getattr(display_feed, name)
        want = float(value) / (1000 if unit == "ms" else 1)
        assert code == pytest.approx(want), f"{name}: spec {value} {unit}, code {code}"
