"""Citizen ID card scanned at the kiosk: scanner Enter → first ticket byte, and the
reading itself.

Budget (issue 15): scanner Enter → first ESC/POS byte p99 ≤ 15 ms. The path is the
real one end to end: a synthetic card's QR text typed into the kiosk's SDL event
queue as a keyboard-wedge scanner does (dummy video driver), the burst told from a
person by timing, the card read and its ID hashed with the site key, the citizen's
booking of the day found by that hash and checked in (claim, issue, link: three
fsynced transactions), and the printer consumer's thread handing the first byte to
the fake ESC/POS printer on a real pseudo-terminal (bench_printer.py's set-up). A
card with no booking instead waits for a service to be touched: that path is
"touch → first byte" with the card's hash counted for the daily limit.
"""

from __future__ import annotations

import os
import tempfile
import threading
import time
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

import pygame  # noqa: E402

from bench.common import Row, percentile  # noqa: E402
from kiosk.core.citizen import CitizenKey  # noqa: E402
from kiosk.core.config import load  # noqa: E402
from kiosk.core.queue import Queue  # noqa: E402
from kiosk.core.store import Booking, Store  # noqa: E402
from kiosk.inputs.actions import Action  # noqa: E402
from kiosk.inputs.idcard import read, synthetic, synthetic_id  # noqa: E402
from kiosk.office.bookings import save_bookings  # noqa: E402
from kiosk.outputs.printer_feed import PrinterConsumer  # noqa: E402
from tests.printer.fakes import FakePrinter  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def _card(i: int) -> tuple[str, str]:
    """(QR text, ID) of made-up citizen ``i``."""
    birth = date(1950 + i % 50, 1 + i % 12, 1 + i % 28)
    id_number = synthetic_id(birth, female=bool(i % 2), serial=i)
    return synthetic(id_number, "Nguyễn Thị Thử", birth.strftime("%d%m%Y")), id_number


def _keys(text: str) -> None:
    for ch in text:
        try:
            code = pygame.key.key_code(ch.lower())
        except ValueError:
            code = 0
        pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=code, unicode=ch))


def _enter() -> None:
    pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=pygame.K_RETURN, unicode="\r"))


def _scan_to_first_byte(n: int) -> tuple[list[float], list[float], list[float], list[float], int]:
    """(Enter → first byte ms with a booking, of which Enter → issue committed ms,
    of which the issue call ms, touch → first byte ms after a card, tickets printed)."""
    from kiosk.ui.app import KioskApp

    cfg = load(ROOT / "config" / "example.toml")
    cfg.appointments = replace(cfg.appointments, enabled=True)
    # Office hours, whatever the hour of the run: the clock starts on a Monday at 09:00.
    start = datetime(2026, 11, 30, 9, 0, tzinfo=cfg.tz).timestamp()
    t_zero = time.time()
    with tempfile.TemporaryDirectory() as tmp:
        fake = FakePrinter(Path(tmp) / "printer")
        store = Store(Path(tmp) / "queue.db")
        q = Queue(cfg, store, clock=lambda: start + time.time() - t_zero)
        key: CitizenKey = q.citizen_key
        day = q.today()
        save_bookings(
            store,
            day,
            [Booking(day, f"BK{i:04d}", "hotich", citizen=key.hash(_card(i)[1])) for i in range(n)],
            q.clock(),
        )
        c = PrinterConsumer(q, uri=f"file:{fake.link_path}")
        committed: list[float] = []
        issue_ms: list[float] = []
        plain_issue = q.issue

        def timed_issue(*args, **kw):  # type: ignore[no-untyped-def]
            t = time.perf_counter()
            r = plain_issue(*args, **kw)
            committed.append(time.perf_counter())
            issue_ms.append((committed[-1] - t) * 1000)
            return r

        q.issue = timed_issue  # type: ignore[method-assign]
        first = threading.Event()
        stamp: list[float] = []

        def on_first() -> None:
            stamp.append(time.perf_counter())
            first.set()

        c.printer.on_first_byte = on_first
        c.start()
        app = KioskApp(q, size=(800, 480), fullscreen=False)
        app.start()

        def settle() -> None:
            deadline = time.monotonic() + 5
            while store.cursor("printer") < store.last_seq() - 1 and time.monotonic() < deadline:
                app.step()
                time.sleep(0.002)
            app.step()
            assert app.model is not None
            app.model.screen_action(Action("back"), app.mono())
            app.model.guard_until = 0
            app.step()

        try:
            q.issue("hotich")  # warm up: connection, head drawn, first status event
            first.wait(5)
            time.sleep(0.3)
            settle()
            booked: list[float] = []
            to_commit: list[float] = []
            issue_ms.clear()
            for i in range(n):
                first.clear()
                stamp.clear()
                committed.clear()
                _keys(_card(i)[0])
                app.step()  # the scanner's keys: one burst, swallowed
                _enter()
                t0 = time.perf_counter()
                app.step()
                if first.wait(5):
                    booked.append((stamp[0] - t0) * 1000)
                    to_commit.append((committed[0] - t0) * 1000)
                settle()
            booked_issue = list(issue_ms)
            walk_in: list[float] = []
            for i in range(n, n + max(10, n // 3)):
                first.clear()
                stamp.clear()
                _keys(_card(i)[0])
                app.step()
                _enter()
                app.step()  # card read and held (no booking)
                assert app.model is not None
                target = next(t for t in app.model.targets() if t.label == "datdai")
                t0 = time.perf_counter()
                app.touch(target.rect.center)
                if first.wait(5):
                    walk_in.append((stamp[0] - t0) * 1000)
                settle()
            time.sleep(0.3)
            out = len(fake.jobs)
        finally:
            app.close()
            c.stop()
            fake.close()
            store.close()
    return booked, to_commit, booked_issue, walk_in, out


def _timed(fn, n: int) -> list[float]:  # type: ignore[no-untyped-def]
    out = []
    for i in range(n):
        t0 = time.perf_counter()
        fn(i)
        out.append((time.perf_counter() - t0) * 1000)
    return out


def run(quick: bool = False) -> list[Row]:
    n = 30 if quick else 200
    booked, to_commit, issue_ms, walk_in, out = _scan_to_first_byte(n)
    after = [a - b for a, b in zip(booked, to_commit, strict=True)]
    key = CitizenKey.ephemeral()
    texts = [_card(i)[0] for i in range(1000)]
    parse = _timed(lambda i: read(texts[i % 1000]), 2000)
    hashed = _timed(lambda i: key.hash(_card(i % 1000)[1]), 2000)
    return [
        Row("idcard", "scanner Enter → first ticket byte p50", percentile(booked, 50), "ms"),
        Row(
            "idcard",
            "scanner Enter → first ticket byte p99",
            percentile(booked, 99),
            "ms",
            "≤ 15 ms",
        ),
        Row("idcard", "  (card → booking by ID hash → check-in)", len(booked), f"of {n}"),
        Row("idcard", "  of which Enter → issue committed p50", percentile(to_commit, 50), "ms"),
        Row("idcard", "  of which Enter → issue committed p99", percentile(to_commit, 99), "ms"),
        Row("idcard", "    of which the issue (fsync) p50", percentile(issue_ms, 50), "ms"),
        Row("idcard", "    of which the issue (fsync) p99", percentile(issue_ms, 99), "ms"),
        Row("idcard", "  committed → first byte p50", percentile(after, 50), "ms"),
        Row("idcard", "  committed → first byte p99", percentile(after, 99), "ms"),
        Row("idcard", "card held, touch → first byte p50", percentile(walk_in, 50), "ms"),
        Row("idcard", "card held, touch → first byte p99", percentile(walk_in, 99), "ms"),
        Row("idcard", "read a card's QR text p50", percentile(parse, 50) * 1000, "µs"),
        Row("idcard", "HMAC-SHA256 of an ID p50", percentile(hashed, 50) * 1000, "µs"),
        Row("idcard", "tickets printed", out, f"of {len(booked) + len(walk_in) + 1}"),
    ]
