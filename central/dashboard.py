"""What the dashboard shows of each office, and the simple SVG charts it draws.

An office's row: today's tickets issued, served and waiting, the longest wait now,
satisfaction, the printer, the hall-display link and the last heartbeat. Offices in
trouble come first, the worst first, each with the reason in plain Vietnamese (and
English), so a province IT officer with 200 offices sees the few that need a call.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from html import escape
from typing import Any

PRINTER_VI = {
    "ok": "Tốt",
    "paper_near_end": "Sắp hết giấy",
    "paper_out": "Hết giấy",
    "offline": "Mất kết nối",
    "unknown": "Không rõ",
}
LINK_VI = {"up": "Tốt", "down": "Mất kết nối", "unknown": "Không rõ"}


@dataclass
class Office:
    site: str
    name: str
    issued: int
    served: int
    waiting: int
    no_show: int
    longest_wait_min: int | None
    satisfaction_pct: float | None
    rated: int
    printer: str
    display_link: str
    heartbeat_age_s: float | None
    backlog: int | None
    conflicts: int
    #: 0 fine, 1 watch, 2 act now, 3 out of touch.
    severity: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def printer_vi(self) -> str:
        return PRINTER_VI.get(self.printer, self.printer)

    @property
    def display_vi(self) -> str:
        return LINK_VI.get(self.display_link, self.display_link)

    @property
    def heartbeat_vi(self) -> str:
        a = self.heartbeat_age_s
        if a is None:
            return "chưa bao giờ"
        if a < 90:
            return f"{int(a)} giây trước"
        if a < 5400:
            return f"{int(a // 60)} phút trước"
        if a < 172800:
            return f"{int(a // 3600)} giờ trước"
        return f"{int(a // 86400)} ngày trước"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _office(r: dict[str, Any], stale_after: float) -> Office:
    hb = r.get("heartbeat") or {}
    printer = str((hb.get("printer") or {}).get("state") or "unknown")
    link = str((hb.get("display_link") or {}).get("state") or "unknown")
    uplink = hb.get("uplink") or {}
    backlog = uplink.get("backlog") if isinstance(uplink.get("backlog"), int) else None
    rated = int(r.get("rated") or 0)
    wait_s = r.get("longest_wait_s")
    age = r.get("heartbeat_age_s")
    o = Office(
        site=r["site"],
        name=r["name"],
        issued=int(r.get("issued") or 0),
        served=int(r.get("served") or 0),
        waiting=int(r.get("waiting") or 0),
        no_show=int(r.get("no_show") or 0),
        longest_wait_min=int(float(wait_s) // 60) if wait_s is not None else None,
        satisfaction_pct=round(100.0 * int(r.get("satisfied") or 0) / rated, 1) if rated else None,
        rated=rated,
        printer=printer,
        display_link=link,
        heartbeat_age_s=float(age) if age is not None else None,
        backlog=backlog,
        conflicts=int(r.get("conflicts") or 0),
    )
    rules: list[tuple[bool, int, str]] = [
        (o.heartbeat_age_s is None, 3, "Chưa từng gửi tín hiệu / never reported"),
        (
            o.heartbeat_age_s is not None and o.heartbeat_age_s > stale_after,
            3,
            f"Mất liên lạc từ {o.heartbeat_vi} / no heartbeat",
        ),
        (printer in ("paper_out", "offline"), 2, f"Máy in: {o.printer_vi} / printer {printer}"),
        (link == "down", 2, "Màn hình sảnh mất kết nối / hall display link down"),
        (printer == "paper_near_end", 1, "Máy in sắp hết giấy / paper near end"),
        (
            o.longest_wait_min is not None and o.longest_wait_min >= 60,
            1,
            f"Có người chờ {o.longest_wait_min} phút / long wait",
        ),
        (o.conflicts > 0, 1, f"{o.conflicts} sự kiện trùng số thứ tự / conflicting events"),
        (backlog is not None and backlog > 5000, 1, f"{backlog} sự kiện chưa gửi / uplink backlog"),
    ]
    for hit, sev, text in rules:
        if hit:
            o.problems.append(text)
            o.severity = max(o.severity, sev)
    return o


def offices(rows: list[dict[str, Any]], stale_after: float = 300.0) -> list[Office]:
    """Rows of :meth:`CentralDB.overview` as offices, those in trouble first."""
    out = [_office(r, stale_after) for r in rows]
    return sorted(out, key=lambda o: (-o.severity, -o.waiting, o.name))


def svg_bars(
    data: list[tuple[str, int, int]], title: str, width: int = 640, height: int = 200
) -> str:
    """Paired bars (issued, served) per label as inline SVG: no script, prints as is."""
    pad_l, pad_b, pad_t = 36, 24, 24
    n = max(1, len(data))
    top = max([max(a, b) for _, a, b in data] + [1])
    slot = (width - pad_l) / n
    bw = max(1.0, slot * 0.38)
    scale = (height - pad_b - pad_t) / top
    parts = [
        f'<svg viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}" '
        f'class="chart" xmlns="http://www.w3.org/2000/svg">',
        f'<text x="{pad_l}" y="14" class="t">{escape(title)}</text>',
        f'<text x="2" y="{pad_t + 10}" class="a">{top}</text>',
        f'<line x1="{pad_l}" y1="{height - pad_b}" x2="{width}" y2="{height - pad_b}" class="ax"/>',
    ]
    for i, (label, issued, served) in enumerate(data):
        x = pad_l + i * slot + slot * 0.1
        for j, (v, cls) in enumerate(((issued, "i"), (served, "s"))):
            h = v * scale
            parts.append(
                f'<rect x="{x + j * bw:.1f}" y="{height - pad_b - h:.1f}" width="{bw:.1f}" '
                f'height="{h:.1f}" class="{cls}"><title>{escape(label)}: {v}</title></rect>'
            )
        if n <= 16 or i % max(1, n // 16) == 0:
            parts.append(f'<text x="{x:.1f}" y="{height - 8}" class="a">{escape(label)}</text>')
    if not data:
        parts.append(f'<text x="{width / 2}" y="{height / 2}" class="a">Chưa có số liệu</text>')
    parts.append("</svg>")
    return "".join(parts)
