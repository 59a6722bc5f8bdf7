"""Drawing the hall screen with pygame: newest call, counters, waiting counts, clock, notice.

Laid out in fractions of the screen so 1920×1080 and 1280×720 (and other 16:9
sizes) look the same; text sizes follow the height. Rendered text is cached, so a
redraw that only changes the clock costs little. Vietnamese first, English second.
"""

from __future__ import annotations

from collections import OrderedDict
from datetime import UTC, datetime, timedelta, timezone

import pygame

from display.state import View
from printer.fonts import font_path

BG = (12, 32, 64)
PANEL = (20, 48, 92)
ACCENT = (255, 196, 0)
FLASH_BG = (200, 30, 40)
TEXT = (245, 245, 245)
DIM = (170, 185, 210)
RED = (230, 40, 40)
GREEN = (60, 200, 90)

WEEKDAYS_VI = ("Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ Nhật")
FLASH_PERIOD_S = 0.5


#: Memory for rendered text kept between redraws.
TEXT_CACHE_BYTES = 6 * 1024 * 1024


def _bytes(surf: pygame.Surface) -> int:
    return surf.get_width() * surf.get_height() * surf.get_bytesize()


class Renderer:
    """Draws a :class:`~display.state.View` on a surface."""

    def __init__(self, surface: pygame.Surface) -> None:
        self.surface = surface
        self.w, self.h = surface.get_size()
        self._fonts: dict[tuple[int, bool], pygame.font.Font] = {}
        self._texts: OrderedDict[tuple[str, int, bool, tuple[int, int, int]], pygame.Surface] = (
            OrderedDict()
        )
        self._cached_bytes = 0
        self.paths = {False: str(font_path(False)), True: str(font_path(True))}
        self.notice_x = 0.0
        self.notice_rect = pygame.Rect(0, int(self.h * 0.93), self.w, self.h - int(self.h * 0.93))

    # -- text helpers
    def font(self, px: int, bold: bool = False) -> pygame.font.Font:
        key = (px, bold)
        f = self._fonts.get(key)
        if f is None:
            f = self._fonts[key] = pygame.font.Font(self.paths[bold], px)
        return f

    def text(
        self, s: str, px: int, bold: bool = False, color: tuple[int, int, int] = TEXT
    ) -> pygame.Surface:
        key = (s, px, bold, color)
        surf = self._texts.get(key)
        if surf is None:
            surf = self.font(px, bold).render(s, True, color)
            self._texts[key] = surf
            self._cached_bytes += _bytes(surf)
            # Bounded by memory, not entries: one big ticket number is ~0.7 MB at 1080p.
            while self._cached_bytes > TEXT_CACHE_BYTES and len(self._texts) > 1:
                _, old = self._texts.popitem(last=False)
                self._cached_bytes -= _bytes(old)
        else:
            self._texts.move_to_end(key)
        return surf

    def fit(self, s: str, px: int, max_w: int, bold: bool = False) -> str:
        """``s`` shortened with "…" until it fits ``max_w`` pixels."""
        f = self.font(px, bold)
        if f.size(s)[0] <= max_w:
            return s
        while s and f.size(s + "…")[0] > max_w:
            s = s[:-1]
        return s.rstrip() + "…"

    def blit(
        self,
        s: str,
        px: int,
        x: int,
        y: int,
        *,
        bold: bool = False,
        color: tuple[int, int, int] = TEXT,
        max_w: int | None = None,
        anchor: str = "topleft",
    ) -> pygame.Rect:
        if max_w is not None:
            s = self.fit(s, px, max_w, bold)
        surf = self.text(s, px, bold, color)
        r = surf.get_rect(**{anchor: (x, y)})
        self.surface.blit(surf, r)
        return r

    # -- layout
    def px(self, frac: float) -> int:
        return max(8, int(self.h * frac))

    def draw(self, v: View, now_mono: float, wall: float) -> None:
        """Draw everything (the notice strip included)."""
        s = self.surface
        s.fill(BG)
        self._header(v, wall)
        self._call_panel(v, now_mono)
        self._recent(v)
        self._counters(v)
        self._waiting(v)
        self.draw_notice(v, now_mono)

    @property
    def header_rect(self) -> pygame.Rect:
        return pygame.Rect(0, 0, self.w, int(self.h * 0.09))

    def draw_header(self, v: View, wall: float) -> pygame.Rect:
        """Redraw only the header (the clock ticking); returns the area to update."""
        self._header(v, wall)
        return self.header_rect

    def _header(self, v: View, wall: float) -> None:
        h, w = self.h, self.w
        pygame.draw.rect(self.surface, PANEL, self.header_rect)
        mid = int(h * 0.045)
        tz = timezone(timedelta(minutes=v.utc_offset_min))
        local = datetime.fromtimestamp(wall, UTC).astimezone(tz)
        clock = self.blit(
            local.strftime("%H:%M:%S"),
            self.px(0.05),
            int(w * 0.985),
            mid,
            bold=True,
            color=ACCENT,
            anchor="midright",
        )
        date = f"{WEEKDAYS_VI[local.weekday()]}, {local:%d/%m/%Y}"
        right = self.blit(
            date, self.px(0.03), clock.left - int(w * 0.02), mid, color=DIM, anchor="midright"
        ).left
        if not v.link_up:
            surf = self.text("Mất kết nối · Link lost", self.px(0.032), True, TEXT)
            r = surf.get_rect(midright=(right - int(w * 0.02), mid)).inflate(24, 10)
            pygame.draw.rect(self.surface, RED, r, border_radius=8)
            self.surface.blit(surf, surf.get_rect(center=r.center))
            right = r.left
        title = v.site or "Bộ phận tiếp nhận và trả kết quả"
        x = int(w * 0.015)
        self.blit(title, self.px(0.042), x, mid, bold=True, max_w=right - x - 20, anchor="midleft")

    def _call_panel(self, v: View, now_mono: float) -> None:
        w, h = self.w, self.h
        rect = pygame.Rect(int(w * 0.015), int(h * 0.11), int(w * 0.5), int(h * 0.47))
        flashing = now_mono < v.flash_until and int(now_mono / FLASH_PERIOD_S) % 2 == 0
        pygame.draw.rect(self.surface, FLASH_BG if flashing else PANEL, rect, border_radius=16)
        self.blit(
            "MỜI CÔNG DÂN CÓ SỐ · Now calling",
            self.px(0.032),
            rect.centerx,
            rect.top + int(h * 0.02),
            color=TEXT if flashing else DIM,
            anchor="midtop",
        )
        if not v.recent:
            self.blit("—", self.px(0.2), rect.centerx, rect.centery, anchor="center", color=DIM)
            return
        c = v.recent[0]
        self.blit(
            c.code,
            self.px(0.22),
            rect.centerx,
            rect.top + int(h * 0.235),
            bold=True,
            color=TEXT if flashing else ACCENT,
            anchor="center",
            max_w=rect.width - 20,
        )
        self.blit(
            f"Đến quầy {c.counter} · Counter {c.counter}",
            self.px(0.06),
            rect.centerx,
            rect.bottom - int(h * 0.03),
            bold=True,
            anchor="midbottom",
        )

    def _recent(self, v: View) -> None:
        w, h = self.w, self.h
        x, y = int(w * 0.015), int(h * 0.6)
        self.blit("Số vừa gọi · Recent calls", self.px(0.03), x, y, color=DIM)
        y += int(h * 0.05)
        row = int(h * 0.055)
        for c in v.recent[1:5]:
            self.blit(c.code, self.px(0.045), x + int(w * 0.01), y, bold=True, color=ACCENT)
            label = f"→ Quầy {c.counter}" + (" (gọi lại)" if c.recall else "")
            self.blit(label, self.px(0.04), x + int(w * 0.16), y)
            y += row

    def _counters(self, v: View) -> None:
        w, h = self.w, self.h
        x0, y0 = int(w * 0.54), int(h * 0.11)
        width, height = int(w * 0.445), int(h * 0.47)
        pygame.draw.rect(self.surface, PANEL, (x0, y0, width, height), border_radius=16)
        self.blit("Quầy · Counter", self.px(0.03), x0 + 20, y0 + 12, color=DIM)
        self.blit(
            "Đang phục vụ · Serving",
            self.px(0.03),
            x0 + width - 20,
            y0 + 12,
            color=DIM,
            anchor="topright",
        )
        counters = v.counters
        if not counters:
            return
        cols = 1 if len(counters) <= 8 else 2
        per_col = -(-len(counters) // cols)
        top = y0 + int(h * 0.065)
        row = min(int(h * 0.068), (y0 + height - top - 8) // per_col)
        px = max(10, int(row * 0.8))
        col_w = width // cols
        for i, c in enumerate(counters):
            cx = x0 + (i // per_col) * col_w
            cy = top + (i % per_col) * row
            color = TEXT if c.open else DIM
            code = self.blit(
                c.current or "—",
                px,
                cx + col_w - 20,
                cy,
                bold=True,
                color=ACCENT if c.current else DIM,
                anchor="topright",
            )
            self.blit(c.name, px, cx + 20, cy, color=color, max_w=code.left - cx - 36)

    def _waiting(self, v: View) -> None:
        w, h = self.w, self.h
        x0, y0 = int(w * 0.54), int(h * 0.6)
        width = int(w * 0.445)
        self.blit("Đang chờ · Waiting", self.px(0.03), x0, y0, color=DIM)
        services = v.services
        if not services:
            return
        top = y0 + int(h * 0.05)
        row = min(int(h * 0.045), (int(h * 0.91) - top) // len(services))
        px = max(10, int(row * 0.8))
        for i, s in enumerate(services):
            y = top + i * row
            self.blit(s.name, px, x0 + 10, y, max_w=width - int(w * 0.08))
            self.blit(str(s.waiting), px, x0 + width - 10, y, bold=True, anchor="topright")

    # -- notice strip
    def notice_scrolls(self, v: View) -> bool:
        """Whether the notice is wider than the strip (then it scrolls)."""
        return bool(v.notice) and self.font(self.px(0.04)).size(v.notice)[0] > self.w - 40

    def draw_notice(self, v: View, now_mono: float, speed_px_s: float | None = None) -> None:
        r = self.notice_rect
        pygame.draw.rect(self.surface, ACCENT, r)
        if not v.notice:
            self.blit(
                "Vui lòng chờ đến lượt · Please wait for your number",
                self.px(0.035),
                r.centerx,
                r.centery,
                color=BG,
                anchor="center",
            )
            return
        surf = self.text(v.notice, self.px(0.04), False, BG)
        if surf.get_width() <= r.width - 40:
            self.surface.blit(surf, surf.get_rect(center=r.center))
            return
        speed = speed_px_s if speed_px_s is not None else self.h * 0.12
        span = surf.get_width() + r.width
        x = r.right - (now_mono * speed) % span
        clip = self.surface.get_clip()
        self.surface.set_clip(r)
        self.surface.blit(surf, surf.get_rect(midleft=(int(x), r.centery)))
        self.surface.set_clip(clip)
