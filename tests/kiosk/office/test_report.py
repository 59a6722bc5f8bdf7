"""Reports checked against a day computed by hand, and their CSV, PNG and HTML forms."""

from __future__ import annotations

import base64
import csv
import io
import json
import re

import pytest
from PIL import Image

from kiosk.cli import main
from kiosk.core.store import Store
from kiosk.office.report import (
    BLUE,
    GREEN,
    RED,
    _font,
    build,
    chart,
    percentile,
    text,
    write_csv,
    write_html,
)

DAY = "2026-11-30"


def hand_day(queue, clock) -> None:
    """The day whose figures are worked out by hand in the test below.

    08:00:00 A001 hotich · 08:00:30 A002 hotich, B001 chungthuc (priority)
    08:05:00 counter 1 calls A001 (waited 300 s) · 08:09:00 serves it (240 s), rated 3
    08:09:00 counter 1 calls A002 (510 s) · 08:10:00 A002 no-show
    08:11:50 counter 2 calls B001 (680 s) · 08:13:50 serves it (120 s), rated 1
    08:13:50 A003 hotich, never called: expired at closing
    09:00:00 C001 datdai · 09:20 counter 4 calls it (1200 s) · 09:50 served (1800 s), rated 2
    """
    queue.issue("hotich")
    clock.advance(30)
    queue.issue("hotich")
    queue.issue("chungthuc", priority=True)
    clock.advance(270)
    queue.call_next(1)
    clock.advance(240)
    queue.finish(1)
    queue.rate(1, 3)
    queue.call_next(1)
    clock.advance(60)
    queue.skip(1)
    clock.advance(110)
    queue.call_next(2)
    clock.advance(120)
    queue.finish(2)
    queue.rate(2, 1)
    queue.issue("hotich")
    clock.set_local(queue.cfg, f"{DAY}T09:00:00")
    queue.issue("datdai")
    clock.advance(1200)
    queue.call_next(4)
    clock.advance(1800)
    queue.finish(4)
    queue.rate(4, 2)
    clock.set_local(queue.cfg, f"{DAY}T17:05:00")
    queue.close_day()


@pytest.fixture
def report(cfg, queue, store, clock):
    hand_day(queue, clock)
    return build(cfg, store, DAY, DAY)


def test_figures_match_the_hand_computed_day(report):
    total = report.total.figures()
    assert total == {
        "issued": 5,
        "served": 3,
        "no_show": 1,
        "expired": 1,
        "transferred": 0,
        "wait_mean_min": 11.2,  # (300 + 510 + 680 + 1200) / 4 = 672.5 s
        "wait_p90_min": 20.0,  # nearest rank: the 4th of 4 waits
        "wait_max_min": 20.0,
        "service_mean_min": 12.0,  # (240 + 120 + 1800) / 3 = 720 s
        "rated": 3,
        "very_satisfied": 1,
        "satisfied": 1,
        "not_satisfied": 1,
        "satisfaction_pct": 66.7,
    }
    hotich = report.by_service["hotich"].figures()
    assert (hotich["issued"], hotich["served"], hotich["no_show"], hotich["expired"]) == (
        3,
        1,
        1,
        1,
    )
    assert (hotich["wait_mean_min"], hotich["wait_p90_min"], hotich["wait_max_min"]) == (
        6.8,  # 405 s
        8.5,
        8.5,
    )
    assert (hotich["service_mean_min"], hotich["satisfaction_pct"]) == (4.0, 100.0)
    b = report.by_service["chungthuc"].figures()
    assert (b["wait_mean_min"], b["service_mean_min"], b["satisfaction_pct"]) == (11.3, 2.0, 0.0)
    c = report.by_service["datdai"].figures()
    assert (c["wait_mean_min"], c["service_mean_min"], c["satisfaction_pct"]) == (
        20.0,
        30.0,
        100.0,
    )
    assert report.by_service["tracuu"].figures()["issued"] == 0
    assert report.by_service["tracuu"].figures()["wait_mean_min"] is None


def test_counters_and_hours_split_the_day(report):
    assert list(report.by_counter) == [1, 2, 4]
    c1 = report.by_counter[1].figures()
    assert (c1["issued"], c1["served"], c1["no_show"], c1["wait_mean_min"]) == (2, 1, 1, 6.8)
    assert report.by_counter[4].figures()["service_mean_min"] == 30.0
    assert {h: st.issued for h, st in report.by_hour.items()} == {8: 4, 9: 1}
    assert report.by_hour[8].figures()["no_show"] == 1
    assert list(report.by_day) == [DAY]


def test_a_transferred_ticket_counts_under_the_service_that_finished_it(cfg, queue, store, clock):
    queue.issue("hotich")
    clock.advance(60)
    queue.call_next(1)
    queue.transfer(1, "chungthuc")
    clock.advance(60)
    queue.call_next(2)
    clock.advance(60)
    queue.finish(2)
    rep = build(cfg, store, DAY, DAY)
    assert rep.by_service["hotich"].issued == 0
    f = rep.by_service["chungthuc"].figures()
    assert (f["issued"], f["served"], f["transferred"], f["wait_mean_min"]) == (1, 1, 1, 2.0)


def test_figures_for_people_are_written_the_vietnamese_way():
    from kiosk.office.report import _cell

    assert [_cell(v) for v in (None, 7, 4984, 1_000_000, 14.25, 20.0, 0.0, 98.5)] == [
        "–",
        "7",
        "4.984",
        "1.000.000",
        "14,2",
        "20,0",
        "0,0",
        "98,5",
    ]


def test_percentile_is_nearest_rank():
    assert percentile([], 90) is None
    assert percentile([5], 90) == 5
    assert percentile(list(range(1, 11)), 90) == 9
    assert percentile(list(range(1, 101)), 90) == 90


def test_other_days_are_left_out(cfg, queue, store, clock, report):
    clock.set_local(cfg, "2026-12-01T08:00:00")
    queue.issue("hotich")
    assert build(cfg, store, DAY, DAY).total.issued == 5
    assert build(cfg, store, DAY, "2026-12-01").total.issued == 6
    assert list(build(cfg, store, DAY, "2026-12-01").by_day) == [DAY, "2026-12-01"]


def test_csv_opens_in_excel_with_vietnamese_headers(report, tmp_path):
    p = tmp_path / "r.csv"
    write_csv(report, p)
    assert p.read_bytes().startswith(b"\xef\xbb\xbf")  # BOM: Excel reads UTF-8
    rows = list(csv.DictReader(io.StringIO(p.read_text(encoding="utf-8-sig"))))
    assert "Chờ P90 (phút) (Wait p90 (min))" in rows[0]
    hotich = next(r for r in rows if r["Mã (key)"] == "hotich")
    assert hotich["Tên (name)"] == "Tư pháp – Hộ tịch"
    assert hotich["Cấp số (Issued)"] == "3" and hotich["Chờ TB (phút) (Wait mean (min))"] == "6.8"
    groups = [r["Nhóm (group)"] for r in rows]
    assert groups.count("total") == 1 and groups.count("counter") == 3 and groups.count("hour") == 2


def test_the_chart_font_has_every_vietnamese_letter():
    f = _font(20)
    missing = bytes(f.getmask("\U0010fffd"))  # a code point no font has: the notdef box
    letters = "ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ"
    for ch in letters + letters.upper():
        assert bytes(f.getmask(ch)) != missing, ch


def test_png_has_bars_in_the_report_colours(report, tmp_path):
    png = chart(report)
    img = Image.open(io.BytesIO(png)).convert("RGB")
    assert img.width == 1600 and img.height > 1500
    colours = {c for _, c in img.getcolors(1_000_000)}

    def rgb(h: str) -> tuple[int, int, int]:
        return (int(h[1:3], 16), int(h[3:5], 16), int(h[5:7], 16))

    for c in (BLUE, GREEN, RED):
        assert rgb(c) in colours


def test_html_is_one_self_contained_page(report, tmp_path):
    p = tmp_path / "r.html"
    write_html(report, p)
    page = p.read_text(encoding="utf-8")
    assert "Báo cáo tiếp nhận và giải quyết" in page and "Tư pháp – Hộ tịch" in page
    assert "<td class='n'>66,7</td>" in page  # total satisfaction, Vietnamese decimal comma
    m = re.search(r"data:image/png;base64,([A-Za-z0-9+/=]+)", page)
    assert m and base64.b64decode(m.group(1)).startswith(b"\x89PNG")
    assert "http://" not in page and "https://" not in page  # nothing fetched when opened


def test_text_summary_reads_in_vietnamese(report):
    out = text(report)
    assert "cấp số 5, đã phục vụ 3, vắng mặt 1, hết giờ 1" in out
    assert "hài lòng 66,7 % (3 lượt đánh giá)" in out
    assert "chờ TB 11,2 phút, P90 20,0, tối đa 20,0" in out


def test_kiosk_report_writes_every_form(cfg, queue, clock, tmp_path, capsys):
    hand_day(queue, clock)
    db = str(tmp_path / "queue.db")
    out = {k: tmp_path / f"r.{k}" for k in ("csv", "png", "html")}
    code = main(
        [
            "report",
            "--db",
            db,
            "--from",
            DAY,
            "--to",
            DAY,
            "--json",
            *[a for k, p in out.items() for a in (f"--{k}", str(p))],
        ]
    )
    assert code == 0
    data = json.loads(capsys.readouterr().out)
    assert data["total"]["issued"] == 5 and data["by_service"][0]["key"] == "hotich"
    assert all(p.stat().st_size > 0 for p in out.values())
    assert main(["report", "--db", db, "--month", "2026-11"]) == 0
    assert "cấp số 5" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--from", "2026-13-01"], '--from "2026-13-01" is not a date; write it like 2026-11-30'),
        (["--from", "2026-12-02", "--to", "2026-12-01"], "is after --to"),
        (["--month", "2026-11", "--to", "2026-12-01"], "not both"),
        (["--csv", "/nonexistent/dir/r.csv"], "cannot write /nonexistent/dir/r.csv"),
        # A month's example is a month, not a day.
        (["--month", "2026-13"], '--month "2026-13" is not a month; write it like 2026-11 '),
        (["--month", "2026-1"], '--month "2026-1" is not a month; write it like 2026-11 '),
        (["--month", "2026-11-30"], '--month "2026-11-30" is not a month'),
    ],
)
def test_kiosk_report_bad_input_says_what_to_fix(tmp_path, capsys, argv, message):
    Store(tmp_path / "q.db").close()
    assert main(["report", "--db", str(tmp_path / "q.db"), *argv]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_a_year_is_charted_month_by_month_and_narrow_bars_still_draw(cfg, queue, store, clock):
    from kiosk.office.report import Canvas

    for day in ("2026-01-05", "2026-06-15", "2026-11-30"):
        clock.set_local(cfg, f"{day}T09:00:00")
        queue.issue("hotich")
    rep = build(cfg, store, "2026-01-01", "2026-12-31")
    assert list(rep.by_day) == ["2026-01-05", "2026-06-15", "2026-11-30"]
    assert Image.open(io.BytesIO(chart(rep))).height > 1500
    c = Canvas(800, 400)  # 400 one-pixel bars: no "x1 < x0" from Pillow
    c.columns((0, 0, 800, 400), "t", [str(i) for i in range(400)], [("a", BLUE, [1.0] * 400)])
