"""Reports for the ward chief: per service, counter, hour and day, as text, CSV, PNG, HTML.

``kiosk report [--from DATE] [--to DATE] [--csv FILE] [--png FILE] [--html FILE]``
reads the tickets of the business days in the period from the store and computes,
for each group: tickets issued, served, no-show and expired; waiting time (mean,
90th percentile, maximum); service time at the counter; satisfaction rate.
Definitions are in docs/reports.md. Charts are drawn with Pillow (already on the
kiosk for tickets) rather than matplotlib, to keep the Pi image light.
"""

from __future__ import annotations

import base64
import csv
import html
import io
import math
from array import array
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from kiosk.core.config import Config
from kiosk.core.store import Store, Ticket

# ---------------------------------------------------------------------- figures


def percentile(values: Sequence[float], p: float) -> float | None:
    """The p-th percentile by nearest rank (the value below which p % of citizens waited)."""
    if not values:
        return None
    s = sorted(values)
    k = max(0, min(len(s) - 1, math.ceil(p / 100 * len(s)) - 1))
    return s[k]


@dataclass
class Stats:
    """The figures of one group of tickets (a service, a counter, an hour, a day, all)."""

    issued: int = 0
    served: int = 0
    no_show: int = 0
    expired: int = 0
    transferred: int = 0
    # Compact arrays: a year of a busy office is ~500,000 tickets, on a Pi.
    waits: array[float] = field(default_factory=lambda: array("d"))
    service_times: array[float] = field(default_factory=lambda: array("d"))
    ratings: dict[int, int] = field(default_factory=lambda: {3: 0, 2: 0, 1: 0})

    def add(self, t: Ticket) -> None:
        """Count one ticket."""
        self.add_row(t.status, t.issued_at, t.called_at, t.served_at, t.transfer_count, t.rating)

    def add_row(
        self,
        status: str,
        issued_at: float,
        called_at: float | None,
        served_at: float | None,
        transfer_count: int,
        rating: int | None,
    ) -> None:
        self.issued += 1
        if status == "served":
            self.served += 1
            if called_at is not None and served_at is not None:
                self.service_times.append(served_at - called_at)
        elif status == "no_show":
            self.no_show += 1
        elif status == "expired":
            self.expired += 1
        if transfer_count:
            self.transferred += 1
        if called_at is not None:
            self.waits.append(called_at - issued_at)
        if rating in self.ratings:
            self.ratings[rating] += 1

    @property
    def rated(self) -> int:
        return sum(self.ratings.values())

    @property
    def satisfaction(self) -> float | None:
        """Share of ratings that are Hài lòng or Rất hài lòng, in percent."""
        return 100 * (self.ratings[3] + self.ratings[2]) / self.rated if self.rated else None

    def figures(self) -> dict[str, Any]:
        """Plain numbers (minutes for times) for JSON and CSV."""

        def minutes(v: float | None) -> float | None:
            return None if v is None else round(v / 60, 1)

        w = self.waits
        return {
            "issued": self.issued,
            "served": self.served,
            "no_show": self.no_show,
            "expired": self.expired,
            "transferred": self.transferred,
            "wait_mean_min": minutes(sum(w) / len(w)) if w else None,
            "wait_p90_min": minutes(percentile(w, 90)),
            "wait_max_min": minutes(max(w)) if w else None,
            "service_mean_min": minutes(sum(self.service_times) / len(self.service_times))
            if self.service_times
            else None,
            "rated": self.rated,
            "very_satisfied": self.ratings[3],
            "satisfied": self.ratings[2],
            "not_satisfied": self.ratings[1],
            "satisfaction_pct": None if self.satisfaction is None else round(self.satisfaction, 1),
        }


@dataclass
class Report:
    """Figures of one period, grouped."""

    cfg: Config
    first: str
    last: str
    total: Stats
    by_service: dict[str, Stats]
    by_counter: dict[int, Stats]
    by_hour: dict[int, Stats]
    by_day: dict[str, Stats]

    def service_name(self, sid: str) -> str:
        try:
            return self.cfg.service(sid).name
        except KeyError:
            return sid

    def counter_name(self, cid: int) -> str:
        try:
            return self.cfg.counter(cid).name
        except KeyError:
            return f"Quầy {cid}"

    def groups(self) -> Iterable[tuple[str, str, str, Stats]]:
        """(group, key, label, stats) for every row of the report, in order."""
        yield "total", "all", "Tổng cộng", self.total
        for sid, st in self.by_service.items():
            yield "service", sid, self.service_name(sid), st
        for cid, st in self.by_counter.items():
            yield "counter", str(cid), self.counter_name(cid), st
        for h, st in self.by_hour.items():
            yield "hour", f"{h:02d}", f"{h:02d}:00–{h + 1:02d}:00", st
        for d, st in self.by_day.items():
            yield "day", d, date.fromisoformat(d).strftime("%d/%m/%Y"), st

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "site": self.cfg.site.name,
            "site_id": self.cfg.site.id,
            "from": self.first,
            "to": self.last,
        }
        for group, key, label, st in self.groups():
            item = {"key": key, "label": label, **st.figures()}
            if group == "total":
                out["total"] = item
            else:
                out.setdefault(f"by_{group}", []).append(item)
        return out


def build(cfg: Config, store: Store, first: str, last: str) -> Report:
    """Compute the report of the business days ``first``..``last`` (inclusive).

    Rows are streamed with only the columns needed, so a year of tickets fits a Pi.
    """
    total = Stats()
    by_service: dict[str, Stats] = {s.id: Stats() for s in cfg.services}
    by_counter: dict[int, Stats] = {}
    by_hour: dict[int, Stats] = {}
    by_day: dict[str, Stats] = {}
    offsets: dict[str, float] = {}
    tz = cfg.tz
    with store.read() as tx:
        for day, service, counter, *fig in tx.report_rows(first, last):
            off = offsets.get(day)
            if off is None:
                # The zone's offset at noon of that day (no office is open across a DST change).
                noon = datetime.combine(date.fromisoformat(day), time(12), tz)
                off = offsets[day] = (noon.utcoffset() or timedelta()).total_seconds()
            hour = int((fig[1] + off) % 86400 // 3600)
            total.add_row(*fig)
            by_service.setdefault(service, Stats()).add_row(*fig)
            if counter is not None:
                by_counter.setdefault(counter, Stats()).add_row(*fig)
            by_hour.setdefault(hour, Stats()).add_row(*fig)
            by_day.setdefault(day, Stats()).add_row(*fig)
    return Report(
        cfg,
        first,
        last,
        total,
        by_service,
        dict(sorted(by_counter.items())),
        dict(sorted(by_hour.items())),
        dict(sorted(by_day.items())),
    )


# ---------------------------------------------------------------------- text and CSV

COLUMNS = (
    ("issued", "Cấp số", "Issued"),
    ("served", "Đã phục vụ", "Served"),
    ("no_show", "Vắng mặt", "No-show"),
    ("expired", "Hết giờ", "Expired"),
    ("wait_mean_min", "Chờ TB (phút)", "Wait mean (min)"),
    ("wait_p90_min", "Chờ P90 (phút)", "Wait p90 (min)"),
    ("wait_max_min", "Chờ tối đa (phút)", "Wait max (min)"),
    ("service_mean_min", "Giải quyết TB (phút)", "Service mean (min)"),
    ("rated", "Lượt đánh giá", "Ratings"),
    ("satisfaction_pct", "Hài lòng (%)", "Satisfied (%)"),
)
GROUP_NAMES = {
    "total": ("Tổng", "Total"),
    "service": ("Lĩnh vực", "Service"),
    "counter": ("Quầy", "Counter"),
    "hour": ("Giờ", "Hour"),
    "day": ("Ngày", "Day"),
}


def _cell(v: Any) -> str:
    """A figure written the Vietnamese way: 1.234 tickets, 14,3 minutes ("–" for none).

    Text, HTML and charts are read by people; JSON and CSV keep plain numbers.
    """
    if v is None:
        return "–"
    if isinstance(v, float) and not v.is_integer():
        return f"{v:.1f}".replace(".", ",")
    if isinstance(v, float):
        return f"{v:,.0f}".replace(",", ".") if abs(v) >= 1000 else f"{v:.1f}".replace(".", ",")
    if isinstance(v, int):
        return f"{v:,}".replace(",", ".")
    return str(v)


def text(report: Report) -> str:
    """A plain-text summary for the terminal."""
    f = report.total.figures()
    period = report.first if report.first == report.last else f"{report.first} – {report.last}"
    lines = [
        f"{report.cfg.site.name} — {period}",
        f"  cấp số {_cell(f['issued'])}, đã phục vụ {_cell(f['served'])}, "
        f"vắng mặt {_cell(f['no_show'])}, hết giờ {_cell(f['expired'])}; chờ TB {_cell(f['wait_mean_min'])} phút, "
        f"P90 {_cell(f['wait_p90_min'])}, tối đa {_cell(f['wait_max_min'])}; "
        f"hài lòng {_cell(f['satisfaction_pct'])} % ({_cell(f['rated'])} lượt đánh giá)",
        "",
    ]
    head = ["", *[c[1] for c in COLUMNS]]
    for group in ("service", "counter", "hour"):
        rows = [
            [label, *[_cell(st.figures()[c[0]]) for c in COLUMNS]]
            for g, _, label, st in report.groups()
            if g == group
        ]
        if not rows:
            continue
        head[0] = GROUP_NAMES[group][0]
        widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]
        lines.append("  ".join(h.ljust(widths[i]) for i, h in enumerate(head)))
        for r in rows:
            lines.append(
                "  ".join(
                    c.ljust(widths[i]) if i == 0 else c.rjust(widths[i]) for i, c in enumerate(r)
                )
            )
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def write_csv(report: Report, path: str | Path) -> None:
    """One row per group; UTF-8 with a BOM so Excel shows the Vietnamese letters."""
    with open(path, "w", encoding="utf-8-sig", newline="") as f:
        w = csv.writer(f)
        w.writerow(
            [
                "Nhóm (group)",
                "Mã (key)",
                "Tên (name)",
                *[f"{vi} ({en})" for _, vi, en in COLUMNS],
            ]
        )
        for group, key, label, st in report.groups():
            fig = st.figures()
            w.writerow(
                [
                    group,
                    key,
                    label,
                    *["" if fig[c[0]] is None else fig[c[0]] for c in COLUMNS],
                ]
            )


# ---------------------------------------------------------------------- charts (Pillow)

BLUE, GREEN, RED, ORANGE, GREY = "#2b6cb0", "#2f9e44", "#c92a2a", "#e8590c", "#868e96"
LIGHT_GREEN, INK, RULE = "#8ce99a", "#212529", "#dee2e6"


def _font(size: int, bold: bool = False) -> Any:
    from printer.fonts import font

    return font(size, bold)


def _nice_step(top: float, ticks: int = 5) -> float:
    if top <= 0:
        return 1.0
    raw = top / ticks
    mag = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 2.5, 5, 10):
        if raw <= m * mag:
            return max(m * mag, 1.0) if top >= 5 else m * mag
    return 10 * mag


Series = tuple[str, str, Sequence[float]]  # (legend, colour, values)


class Canvas:
    """A page of charts drawn with Pillow."""

    def __init__(self, width: int, height: int):
        from PIL import Image, ImageDraw

        self.image = Image.new("RGB", (width, height), "white")
        self.d = ImageDraw.Draw(self.image)

    def text(
        self, xy: tuple[float, float], s: str, size: int = 18, bold: bool = False, **kw: Any
    ) -> None:
        self.d.text(xy, s, fill=kw.pop("fill", INK), font=_font(size, bold), **kw)

    def width_of(self, s: str, size: int = 18) -> float:
        return float(self.d.textlength(s, font=_font(size)))

    def legend(self, x: float, y: float, series: Sequence[Series]) -> None:
        for name, colour, _ in series:
            self.d.rectangle((x, y + 4, x + 16, y + 20), fill=colour)
            self.text((x + 22, y), name, 16)
            x += 40 + self.width_of(name, 16)

    def columns(
        self,
        box: tuple[int, int, int, int],
        title: str,
        labels: Sequence[str],
        series: Sequence[Series],
        unit: str = "",
    ) -> None:
        """Grouped vertical bars (per hour, per day)."""
        x0, y0, x1, y1 = box
        self.text((x0, y0), title, 22, bold=True)
        self.legend(x0, y0 + 32, series)
        top = max([v for _, _, vals in series for v in vals] + [0])
        step = _nice_step(top)
        top = max(step, math.ceil(top / step) * step)
        px0, py0, px1, py1 = x0 + 60, y0 + 95, x1 - 10, y1 - 40
        v = 0.0
        while v <= top + 1e-9:
            y = py1 - (py1 - py0) * v / top
            self.d.line((px0, y, px1, y), fill=RULE)
            tick = _cell(int(v)) if float(v).is_integer() else _cell(v)
            self.text((px0 - 8 - self.width_of(tick, 15), y - 9), tick, 15, fill=GREY)
            v += step
        if unit:
            self.text((x0, py0 - 24), unit, 15, fill=GREY)
        n = max(1, len(labels))
        slot = (px1 - px0) / n
        bar = slot * 0.8 / max(1, len(series))
        for i, label in enumerate(labels):
            sx = px0 + i * slot + slot * 0.1
            for j, (_, colour, vals) in enumerate(series):
                h = (py1 - py0) * vals[i] / top
                if vals[i] > 0:
                    left = sx + j * bar  # keep a 2 px gap while bars are wide enough
                    right = max(left, sx + (j + 1) * bar - (2 if bar > 4 else 0))
                    self.d.rectangle((left, py1 - h, right, py1), fill=colour)
            lw = self.width_of(label, 15)
            if lw < slot or i % max(1, math.ceil(lw / slot)) == 0:
                self.text((px0 + i * slot + (slot - lw) / 2, py1 + 6), label, 15)
        self.d.line((px0, py1, px1, py1), fill=INK, width=2)

    def bars(
        self,
        box: tuple[int, int, int, int],
        title: str,
        labels: Sequence[str],
        series: Sequence[Series],
        fmt: Callable[[float], str] = lambda v: _cell(int(v)),
    ) -> None:
        """Grouped horizontal bars (per service, per counter), with values written."""
        x0, y0, x1, y1 = box
        self.text((x0, y0), title, 22, bold=True)
        self.legend(x0, y0 + 32, series)
        label_w = max([self.width_of(s, 16) for s in labels] + [0]) + 12
        px0, py0, px1, py1 = x0 + label_w, y0 + 70, x1 - 70, y1
        top = max([v for _, _, vals in series for v in vals] + [0]) or 1
        n = max(1, len(labels))
        slot = (py1 - py0) / n
        bar = min(26.0, slot * 0.8 / max(1, len(series)))
        for i, label in enumerate(labels):
            sy = py0 + i * slot + (slot - bar * len(series)) / 2
            self.text((x0, sy + bar * len(series) / 2 - 10), label, 16)
            for j, (_, colour, vals) in enumerate(series):
                w = (px1 - px0) * vals[i] / top
                y = sy + j * bar
                if vals[i] > 0:
                    self.d.rectangle((px0, y, px0 + w, y + bar - 3), fill=colour)
                self.text((px0 + w + 6, y + bar / 2 - 10), fmt(vals[i]), 14, fill=GREY)
        self.d.line((px0, py0, px0, py1), fill=INK, width=2)

    def stacked(
        self,
        box: tuple[int, int, int, int],
        title: str,
        labels: Sequence[str],
        parts: Sequence[Series],
        right: Sequence[str],
    ) -> None:
        """100 % stacked horizontal bars (ratings per service), a figure at the right."""
        x0, y0, x1, y1 = box
        self.text((x0, y0), title, 22, bold=True)
        self.legend(x0, y0 + 32, parts)
        label_w = max([self.width_of(s, 16) for s in labels] + [0]) + 12
        px0, py0, px1, py1 = x0 + label_w, y0 + 70, x1 - 150, y1
        n = max(1, len(labels))
        slot = (py1 - py0) / n
        bar = min(30.0, slot * 0.7)
        for i, label in enumerate(labels):
            y = py0 + i * slot + (slot - bar) / 2
            self.text((x0, y + bar / 2 - 10), label, 16)
            total = sum(vals[i] for _, _, vals in parts)
            x = float(px0)
            if total == 0:
                self.d.rectangle((px0, y, px1, y + bar), outline=RULE)
            for _, colour, vals in parts:
                w = (px1 - px0) * vals[i] / total if total else 0
                if w > 0:
                    self.d.rectangle((x, y, x + w, y + bar), fill=colour)
                x += w
            self.text((px1 + 10, y + bar / 2 - 11), right[i], 17, bold=True)

    def png(self) -> bytes:
        buf = io.BytesIO()
        self.image.save(buf, "PNG", optimize=True)
        return buf.getvalue()


def chart(report: Report) -> bytes:
    """The report's page of charts as PNG bytes (A4 portrait proportions, 1600 px wide)."""
    W = 1600
    services = [(sid, st) for sid, st in report.by_service.items()]
    svc_h = max(260, 70 + 3 * 24 * len(services) + 20)
    days = list(report.by_day.items())
    H = 150 + 420 + (420 if len(days) > 1 else 0) + svc_h * 2 + 80 + svc_h + 80
    c = Canvas(W, H)
    period = (
        date.fromisoformat(report.first).strftime("%d/%m/%Y")
        if report.first == report.last
        else f"{date.fromisoformat(report.first):%d/%m/%Y} – {date.fromisoformat(report.last):%d/%m/%Y}"
    )
    c.text((60, 40), f"{report.cfg.site.name} — Báo cáo tiếp nhận", 34, bold=True)
    f = report.total.figures()
    c.text(
        (60, 92),
        f"{period}   ·   cấp số {_cell(f['issued'])}   ·   đã phục vụ {_cell(f['served'])}   ·   "
        f"vắng mặt {_cell(f['no_show'])}   ·   chờ TB {_cell(f['wait_mean_min'])} phút   ·   "
        f"hài lòng {_cell(f['satisfaction_pct'])} %",
        20,
    )
    y = 150
    hours = list(range(min(report.by_hour, default=7), max(report.by_hour, default=16) + 1))
    get = report.by_hour.get
    c.columns(
        (60, y, W - 60, y + 400),
        "Số lượt theo giờ lấy số",
        [f"{h:02d}h" for h in hours],
        [
            ("Cấp số", BLUE, [get(h, Stats()).issued for h in hours]),
            ("Đã phục vụ", GREEN, [get(h, Stats()).served for h in hours]),
            ("Vắng mặt", RED, [get(h, Stats()).no_show for h in hours]),
        ],
        "lượt",
    )
    y += 420
    if len(days) > 1:
        # Up to two months day by day; longer periods month by month (a bar per day of a
        # year would be a smear).
        if len(days) <= 62:
            title = "Số lượt theo ngày"
            labels = [date.fromisoformat(d).strftime("%d/%m") for d, _ in days]
            issued = [st.issued for _, st in days]
            served = [st.served for _, st in days]
        else:
            title = "Số lượt theo tháng"
            months: dict[str, list[int]] = {}
            for d, st in days:
                m = months.setdefault(d[:7], [0, 0])
                m[0] += st.issued
                m[1] += st.served
            labels = [f"{k[5:7]}/{k[:4]}" for k in months]
            issued = [v[0] for v in months.values()]
            served = [v[1] for v in months.values()]
        c.columns(
            (60, y, W - 60, y + 400),
            title,
            labels,
            [("Cấp số", BLUE, issued), ("Đã phục vụ", GREEN, served)],
            "lượt",
        )
        y += 420
    names = [report.service_name(sid) for sid, _ in services]
    c.bars(
        (60, y, W - 60, y + svc_h),
        "Số lượt theo lĩnh vực",
        names,
        [
            ("Cấp số", BLUE, [st.issued for _, st in services]),
            ("Đã phục vụ", GREEN, [st.served for _, st in services]),
            ("Vắng mặt", RED, [st.no_show for _, st in services]),
        ],
    )
    y += svc_h + 40
    figs = [st.figures() for _, st in services]
    c.bars(
        (60, y, W - 60, y + svc_h),
        "Thời gian chờ theo lĩnh vực (phút)",
        names,
        [
            ("Trung bình", BLUE, [fg["wait_mean_min"] or 0 for fg in figs]),
            ("90 % công dân chờ không quá", ORANGE, [fg["wait_p90_min"] or 0 for fg in figs]),
            ("Tối đa", GREY, [fg["wait_max_min"] or 0 for fg in figs]),
        ],
        fmt=lambda v: _cell(float(v)) if v else "–",
    )
    y += svc_h + 40
    c.stacked(
        (60, y, W - 60, y + svc_h - 60),
        "Mức độ hài lòng theo lĩnh vực",
        names,
        [
            ("Rất hài lòng", GREEN, [st.ratings[3] for _, st in services]),
            ("Hài lòng", LIGHT_GREEN, [st.ratings[2] for _, st in services]),
            ("Chưa hài lòng", RED, [st.ratings[1] for _, st in services]),
        ],
        [
            f"{_cell(fg['satisfaction_pct'])} %" if fg["satisfaction_pct"] is not None else "–"
            for fg in figs
        ],
    )
    return c.png()


# ---------------------------------------------------------------------- HTML


def write_html(report: Report, path: str | Path, png: bytes | None = None) -> None:
    """One self-contained page (charts embedded) to print or attach to the monthly report."""
    png = png if png is not None else chart(report)
    esc = html.escape
    f = report.total.figures()
    period = report.first if report.first == report.last else f"{report.first} – {report.last}"
    cards = [
        ("Cấp số", "Tickets issued", _cell(f["issued"])),
        ("Đã phục vụ", "Served", _cell(f["served"])),
        ("Vắng mặt", "No-show", _cell(f["no_show"])),
        ("Chờ trung bình", "Mean wait", f"{_cell(f['wait_mean_min'])} phút"),
        ("90 % chờ không quá", "Wait p90", f"{_cell(f['wait_p90_min'])} phút"),
        ("Hài lòng", "Satisfied", f"{_cell(f['satisfaction_pct'])} %"),
    ]
    parts = [
        "<!doctype html><html lang='vi'><head><meta charset='utf-8'>",
        f"<title>{esc(report.cfg.site.name)} — báo cáo {esc(period)}</title>",
        "<style>body{font-family:'DejaVu Sans',Arial,sans-serif;margin:2em;color:#212529}"
        "h1{font-size:1.5em}h2{font-size:1.15em;margin-top:1.6em}"
        "table{border-collapse:collapse;font-size:.9em}"
        "th,td{border:1px solid #ced4da;padding:.3em .6em}td.n{text-align:right}"
        "th{background:#f1f3f5}small{color:#868e96;font-weight:normal}"
        ".cards{display:flex;gap:1em;flex-wrap:wrap}.card{border:1px solid #ced4da;"
        "padding:.6em 1em;border-radius:6px}.card b{display:block;font-size:1.5em}"
        "img{max-width:100%;margin-top:1em}</style></head><body>",
        f"<h1>{esc(report.cfg.site.name)} — Báo cáo tiếp nhận và giải quyết "
        f"<small>Service report</small></h1><p>Kỳ báo cáo <small>(period)</small>: "
        f"<b>{esc(period)}</b></p><div class='cards'>",
    ]
    for vi, en, v in cards:
        parts.append(f"<div class='card'>{esc(vi)} <small>{esc(en)}</small><b>{esc(v)}</b></div>")
    parts.append("</div>")
    for group, (vi, en) in GROUP_NAMES.items():
        if group == "total":
            continue
        rows = [(label, st) for g, _, label, st in report.groups() if g == group]
        if not rows:
            continue
        parts.append(f"<h2>Theo {esc(vi.lower())} <small>by {en.lower()}</small></h2><table>")
        parts.append(
            f"<tr><th>{esc(vi)}</th>"
            + "".join(f"<th>{esc(cv)}<br><small>{esc(ce)}</small></th>" for _, cv, ce in COLUMNS)
            + "</tr>"
        )
        for label, st in rows:
            fig = st.figures()
            parts.append(
                f"<tr><td>{esc(label)}</td>"
                + "".join(f"<td class='n'>{esc(_cell(fig[c[0]]))}</td>" for c in COLUMNS)
                + "</tr>"
            )
        parts.append("</table>")
    b64 = base64.b64encode(png).decode("ascii")
    parts.append(
        f"<h2>Biểu đồ <small>charts</small></h2><img alt='Biểu đồ' src='data:image/png;base64,{b64}'>"
    )
    parts.append(
        "<p><small>Thời gian chờ: từ lúc lấy số đến lúc được gọi; P90: 90 % công dân chờ "
        "không quá mức này. Hài lòng: tỷ lệ đánh giá Hài lòng và Rất hài lòng trên tổng "
        "số lượt đánh giá. Wait: ticket issued to first call; p90: 90 % waited no longer. "
        "Satisfied: share of ratings that are satisfied or very satisfied.</small></p>"
    )
    parts.append("</body></html>")
    Path(path).write_text("\n".join(parts), encoding="utf-8")


def month_bounds(day: str) -> tuple[str, str]:
    """First and last day of the month of ``day`` (for monthly reports)."""
    d = date.fromisoformat(day).replace(day=1)
    nxt = (d + timedelta(days=32)).replace(day=1)
    return d.isoformat(), (nxt - timedelta(days=1)).isoformat()
