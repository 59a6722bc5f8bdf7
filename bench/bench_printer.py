"""Ticket printing: issue → first ticket byte handed to the printer connection, render
time, raster conversion, bytes per ticket.

Budget (design brief §6): issue → first ESC/POS byte p99 ≤ 10 ms, the store's
fsynced commit included. The path measured is the real one: ``Queue.issue`` (WAL
commit with fsync) wakes the printer consumer's thread, which reads the ticket,
asks the printer's status, and hands the cached head of the ticket to the
connection. The printer is the fake ESC/POS printer of the tests on a real
pseudo-terminal (status answered by its own thread, as a USB printer would), so a
status round trip through the kernel is included. Issues are spaced so each
latency is one ticket's, not a queue's.
"""

from __future__ import annotations

import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path

from escpos.printer import Dummy

from bench.common import Row, percentile
from kiosk.core.config import load
from kiosk.core.queue import Queue
from kiosk.core.store import Store
from kiosk.outputs.printer_feed import PrinterConsumer
from printer import raster
from printer.layout import WIDTHS, TicketInfo, TicketLayout
from tests.printer.fakes import FakePrinter

ROOT = Path(__file__).resolve().parent.parent
HEADER = ["UBND PHƯỜNG NGHĨA TÂN", "BỘ PHẬN TIẾP NHẬN VÀ TRẢ KẾT QUẢ"]
FOOTER = ["Vui lòng chờ đến lượt. Xin cảm ơn!", "Đường dây nóng: 024 3756 0000"]


def _info(i: int, qr: bool) -> TicketInfo:
    return TicketInfo(
        code=f"A{i % 1000:03d}",
        service_id="hotich",
        service_name="Tư pháp – Hộ tịch",
        service_name_en="Justice – Civil status",
        priority=i % 7 == 0,
        issued_at=datetime(2026, 11, 30, 9, i % 60),
        ahead=i % 40,
        wait_minutes=i % 90,
        qr_text=f"https://dichvucong.example.gov.vn/ve/site/2026-11-30/A{i:03d}" if qr else "",
    )


def _first_byte(n: int) -> tuple[list[float], list[float], int]:
    """(issue→first byte ms, issue commit ms, tickets that came out) over n tickets."""
    cfg = load(ROOT / "config" / "example.toml")
    with tempfile.TemporaryDirectory() as tmp:
        fake = FakePrinter(Path(tmp) / "printer")
        store = Store(Path(tmp) / "queue.db")
        q = Queue(cfg, store)
        c = PrinterConsumer(q, uri=f"file:{fake.link_path}")
        first = threading.Event()
        stamp: list[float] = []

        def on_first() -> None:
            stamp.append(time.perf_counter())
            first.set()

        c.printer.on_first_byte = on_first
        c.start()
        try:
            # Warm up: open the connection, draw the head once, first status event.
            q.issue("hotich")
            first.wait(5)
            time.sleep(0.3)
            lat, commit = [], []
            for _ in range(n):
                first.clear()
                stamp.clear()
                t0 = time.perf_counter()
                q.issue("hotich")
                t1 = time.perf_counter()
                if not first.wait(5):
                    continue
                lat.append((stamp[0] - t0) * 1000)
                commit.append((t1 - t0) * 1000)
                # Let the ticket finish (body, tail, status after, verdict) before the next.
                deadline = time.monotonic() + 5
                while (
                    store.cursor("printer") < store.last_seq() - 1 and time.monotonic() < deadline
                ):
                    time.sleep(0.002)
                time.sleep(0.01)
            time.sleep(0.3)
            out = len(fake.jobs)
        finally:
            c.stop()
            fake.close()
            store.close()
    return lat, commit, out


def _timed(fn, n: int) -> list[float]:  # type: ignore[no-untyped-def]
    out = []
    for i in range(n):
        t0 = time.perf_counter()
        fn(i)
        out.append((time.perf_counter() - t0) * 1000)
    return out


def run(quick: bool = False) -> list[Row]:
    n = 40 if quick else 300
    rows: list[Row] = []
    lat, commit, out = _first_byte(n)
    after = [a - b for a, b in zip(lat, commit, strict=True)]
    rows += [
        Row("printer", "issue → first ticket byte p50", percentile(lat, 50), "ms"),
        Row("printer", "issue → first ticket byte p99", percentile(lat, 99), "ms", "≤ 10 ms"),
        Row("printer", "  of which issue commit (fsync) p50", percentile(commit, 50), "ms"),
        Row("printer", "  of which issue commit (fsync) p99", percentile(commit, 99), "ms"),
        Row("printer", "  commit done → first byte p50", percentile(after, 50), "ms"),
        Row("printer", "  commit done → first byte p99", percentile(after, 99), "ms"),
        Row("printer", "tickets printed / issued", out, f"of {len(lat) + 1}"),
    ]
    for paper in (80, 58):
        layout = TicketLayout(WIDTHS[paper], HEADER, FOOTER)
        layout.render(_info(0, True))  # head and foot cached, as in service
        body = _timed(lambda i: layout.body(_info(i, False)), n)  # noqa: B023
        body_qr = _timed(lambda i: layout.body(_info(i, True)), n)  # noqa: B023
        cold = _timed(
            lambda i: TicketLayout(WIDTHS[paper], HEADER, FOOTER).render(_info(i, True)),  # noqa: B023
            max(10, n // 10),
        )
        img = layout.render(_info(1, True))
        conv = _timed(lambda i: raster.raster(img), n)  # noqa: B023
        rows += [
            Row("printer", f"{paper} mm: draw ticket body p50", percentile(body, 50), "ms"),
            Row("printer", f"{paper} mm: draw ticket body p99", percentile(body, 99), "ms"),
            Row("printer", f"{paper} mm: draw body with QR p50", percentile(body_qr, 50), "ms"),
            Row(
                "printer",
                f"{paper} mm: whole ticket, nothing cached p50",
                percentile(cold, 50),
                "ms",
            ),
            Row("printer", f"{paper} mm: 1-bit → GS v 0 p50", percentile(conv, 50), "ms"),
            Row("printer", f"{paper} mm: bytes per ticket (with QR)", len(raster.job(img)), "B"),
            Row("printer", f"{paper} mm: paper per ticket", img.height / 8, "mm"),
        ]
        if paper == 80:
            d = Dummy()
            esc = _timed(lambda i: d.image(img), max(10, n // 10))  # noqa: B023
            rows.append(
                Row(
                    "printer",
                    "80 mm: python-escpos image() p50",
                    percentile(esc, 50),
                    "ms",
                    "for comparison",
                )
            )
    return rows
