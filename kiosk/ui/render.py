"""Drawing the kiosk screens with pygame: large text, large targets, no hover.

Rendered text is cached (a kiosk shows the same few dozen strings all day), so a
full redraw costs a few milliseconds and happens only when something changed.
"""

from __future__ import annotations

import unicodedata
from datetime import datetime
from functools import lru_cache

import pygame
from pygame import Rect

from kiosk.inputs.keys import KeyMap
from kiosk.ui.fonts import font
from kiosk.ui.screens import Layout, Model
from kiosk.ui.text import days_text, t

Color = tuple[int, int, int]
BG: Color = (244, 241, 234)
HEADER: Color = (140, 22, 22)
GOLD: Color = (255, 214, 90)
WHITE: Color = (255, 255, 255)
INK: Color = (25, 28, 36)
MUTED: Color = (80, 86, 98)
SERVICE: Color = (22, 74, 140)
SERVICE_EN: Color = (196, 220, 250)
PRIORITY: Color = (176, 72, 8)
PRIORITY_EN: Color = (255, 226, 196)
WARN_BG: Color = (255, 205, 60)
ALERT: Color = (170, 20, 20)
BOOKING: Color = (18, 110, 90)
KEY_BG: Color = (226, 230, 238)


@lru_cache(maxsize=512)
def _text(s: str, size: int, bold: bool, color: Color) -> pygame.Surface:
    return font(size, bold).render(s, True, color)


def fit(
    text: str, max_w: int, max_h: int, size: int, bold: bool = False, lines: int = 2
) -> tuple[int, list[str]]:
    """The largest font size ≤ ``size`` at which ``text`` wraps into ``lines`` lines
    within ``max_w`` × ``max_h``; returns (size, wrapped lines)."""
    text = unicodedata.normalize("NFC", text)
    words = text.split()
    s = size
    while s > 8:
        f = font(s, bold)
        out: list[str] = []
        cur = ""
        for word in words:
            trial = f"{cur} {word}".strip()
            if f.size(trial)[0] <= max_w or not cur:
                cur = trial
            else:
                out.append(cur)
                cur = word
        if cur:
            out.append(cur)
        if len(out) == 2 and lines >= 2:
            # Balance two lines ("Tra cứu hồ / sơ" reads badly): the split with the
            # narrowest longer line.
            best = min(
                range(1, len(words)),
                key=lambda i: max(f.size(" ".join(words[:i]))[0], f.size(" ".join(words[i:]))[0]),
            )
            out = [" ".join(words[:best]), " ".join(words[best:])]
        if (
            len(out) <= lines
            and all(f.size(x)[0] <= max_w for x in out)
            and len(out) * f.get_linesize() <= max_h
        ):
            return s, out
        s = int(s * 0.92)
    return 8, [text]


def draw_text(
    surf: pygame.Surface,
    text: str,
    rect: Rect,
    size: int,
    color: Color,
    bold: bool = False,
    lines: int = 2,
    align: str = "center",
) -> Rect:
    """Fit and draw ``text`` centred vertically in ``rect``; returns the drawn area."""
    s, wrapped = fit(text, rect.w, rect.h, size, bold, lines)
    lh = font(s, bold).get_linesize()
    y = rect.y + (rect.h - lh * len(wrapped)) // 2
    drawn = Rect(rect.x, y, 0, 0)
    for line in wrapped:
        img = _text(line, s, bold, color)
        x = rect.x + (rect.w - img.get_width()) // 2 if align == "center" else rect.x
        surf.blit(img, (x, y))
        drawn.union_ip(Rect(x, y, img.get_width(), lh))
        y += lh
    return drawn


class Renderer:
    """Draws a :class:`Model` onto a surface."""

    def __init__(self, keymap: KeyMap | None = None):
        self.keymap = keymap

    def draw(self, surf: pygame.Surface, m: Model, local: datetime) -> None:
        L = m.layout
        surf.fill(BG)
        self._header(surf, m, L, local)
        getattr(self, f"_{m.screen}", self._home)(surf, m, L, local)
        if m.help and self.keymap is not None:
            self._help(surf, m, L)
        if m.toast:
            bar = Rect(0, L.h - max(28, L.h // 16), L.w, max(28, L.h // 16))
            pygame.draw.rect(surf, INK, bar)
            draw_text(surf, m.toast, bar.inflate(-16, -4), round(bar.h * 0.6), GOLD, True, 1)

    # ------------------------------------------------------------------ parts
    def _header(self, surf: pygame.Surface, m: Model, L: Layout, local: datetime) -> None:
        pygame.draw.rect(surf, HEADER, L.header)
        hh = L.header.h
        clock_w = round(L.w * 0.12)
        name = m.cfg.site.name if m.lang == "vi" or not m.cfg.site.name_en else m.cfg.site.name_en
        right = L.language.left if m.screen in ("home", "priority") else L.w - L.margin
        if m.screen == "home" and m.guide is not None:
            right = L.guide_button().left
        draw_text(
            surf,
            local.strftime("%H:%M"),
            Rect(right - clock_w - L.margin, 0, clock_w, hh),
            round(hh * 0.5),
            WHITE,
            True,
            1,
        )
        draw_text(
            surf,
            name,
            Rect(L.margin, 4, right - clock_w - 3 * L.margin, hh - 8),
            round(hh * 0.42),
            GOLD,
            True,
            2,
            "left",
        )
        if m.screen in ("home", "priority"):
            pygame.draw.rect(surf, WHITE, L.language, 2, border_radius=10)
            draw_text(
                surf,
                t("language", m.lang),
                L.language.inflate(-12, -8),
                round(hh * 0.36),
                WHITE,
                True,
                1,
            )
        if m.screen == "home" and m.guide is not None:
            g = L.guide_button()
            pygame.draw.rect(surf, GOLD, g, border_radius=10)
            draw_text(
                surf, t("guide_button", m.lang), g.inflate(-12, -6), round(hh * 0.3), INK, True, 2
            )

    def _services(self, surf: pygame.Surface, m: Model, L: Layout, priority: bool) -> None:
        cells = L.cells(len(m.cfg.services))
        bg, en = (PRIORITY, PRIORITY_EN) if priority else (SERVICE, SERVICE_EN)
        for r, s in zip(cells, m.cfg.services, strict=True):
            pygame.draw.rect(surf, bg, r, border_radius=14)
            pad = max(8, r.h // 10)
            inner = r.inflate(-2 * pad, -pad)
            # Prefix letter on the left, as printed on the ticket and called aloud.
            tag_w = 0
            if s.prefix and r.w > 3 * r.h // 2:
                tag_w = min(r.h, inner.w // 6)
                draw_text(
                    surf,
                    s.prefix,
                    Rect(inner.x, inner.y, tag_w, inner.h),
                    round(r.h * 0.5),
                    GOLD,
                    True,
                    1,
                )
                tag_w += pad // 2
            text_area = Rect(inner.x + tag_w, inner.y, inner.w - tag_w, inner.h)
            vi_h = round(text_area.h * 0.68)
            main, sub = (s.name, s.name_en) if m.lang == "vi" else (s.name_en, s.name)
            draw_text(
                surf,
                main,
                Rect(text_area.x, text_area.y, text_area.w, vi_h),
                round(r.h * 0.3),
                WHITE,
                True,
                2,
            )
            draw_text(
                surf,
                sub,
                Rect(text_area.x, text_area.y + vi_h, text_area.w, text_area.h - vi_h),
                round(r.h * 0.16),
                en,
                False,
                1,
            )

    def _hint_or_banner(self, surf: pygame.Surface, m: Model, L: Layout, key: str) -> None:
        if m.trouble:
            pygame.draw.rect(surf, WARN_BG, L.hint, border_radius=8)
            text = t("banner_trouble", m.lang, problem=t(m.problem_key(), m.lang))
            draw_text(surf, text, L.hint.inflate(-16, -4), round(L.hint.h * 0.5), INK, True, 2)
        else:
            draw_text(surf, t(key, m.lang), L.hint, round(L.hint.h * 0.55), INK, True, 1)

    # ------------------------------------------------------------------ screens
    def _home(self, surf: pygame.Surface, m: Model, L: Layout, local: datetime) -> None:
        self._hint_or_banner(surf, m, L, "take_ticket")
        self._services(surf, m, L, False)
        prio = m.cfg.ui.priority_button and m.cfg.queue.priority_enabled
        left, right = L.footer_split() if m.appointments and prio else (L.footer, L.footer)
        if prio:
            pygame.draw.rect(surf, PRIORITY, left, border_radius=14)
            draw_text(
                surf,
                t("priority_button", m.lang),
                left.inflate(-24, -10),
                round(L.footer.h * 0.32),
                WHITE,
                True,
                2,
            )
        if m.appointments:
            pygame.draw.rect(surf, BOOKING, right, border_radius=14)
            draw_text(
                surf,
                t("booking_button", m.lang),
                right.inflate(-20, -10),
                round(L.footer.h * 0.32),
                WHITE,
                True,
                2,
            )

    def _priority(self, surf: pygame.Surface, m: Model, L: Layout, local: datetime) -> None:
        self._hint_or_banner(surf, m, L, "priority_hint")
        self._services(surf, m, L, True)
        pygame.draw.rect(surf, INK, L.footer, border_radius=14)
        half = L.footer.h // 2
        draw_text(
            surf,
            t("back", m.lang),
            Rect(L.footer.x, L.footer.y, L.footer.w, half + 6),
            round(L.footer.h * 0.36),
            WHITE,
            True,
            1,
        )
        draw_text(
            surf,
            t("priority_groups", m.lang),
            Rect(L.footer.x + 16, L.footer.y + half, L.footer.w - 32, half - 4),
            round(L.footer.h * 0.2),
            PRIORITY_EN,
            False,
            1,
        )

    def _body(self, L: Layout) -> Rect:
        return Rect(
            L.margin,
            L.header.bottom + L.margin,
            L.w - 2 * L.margin,
            L.h - L.header.bottom - 2 * L.margin,
        )

    def _printing(self, surf: pygame.Surface, m: Model, L: Layout, local: datetime) -> None:
        b = self._body(L)
        draw_text(
            surf,
            t("printing", m.lang),
            Rect(b.x, b.y + b.h // 4, b.w, b.h // 4),
            round(b.h * 0.14),
            SERVICE,
            True,
            1,
        )
        p = m.pending
        if p is not None:
            s = m.cfg.service(p.service)
            name = s.name if m.lang == "vi" else s.name_en
            if p.priority:
                name = f"{name} · {t('priority_mark', m.lang)}"
            draw_text(
                surf,
                name,
                Rect(b.x, b.y + b.h // 2, b.w, b.h // 6),
                round(b.h * 0.07),
                MUTED,
                False,
                2,
            )

    def _result(self, surf: pygame.Surface, m: Model, L: Layout, local: datetime) -> None:
        b = self._body(L)
        p = m.pending
        if p is None:
            return
        s = m.cfg.service(p.service)
        y = b.y
        draw_text(
            surf,
            t("your_number", m.lang),
            Rect(b.x, y, b.w, round(b.h * 0.09)),
            round(b.h * 0.07),
            MUTED,
            True,
            1,
        )
        y += round(b.h * 0.09)
        num_h = round(b.h * 0.36)
        draw_text(
            surf,
            p.code,
            Rect(b.x, y, b.w, num_h),
            round(num_h * 1.05),
            PRIORITY if p.priority else SERVICE,
            True,
            1,
        )
        y += num_h
        name = s.name if m.lang == "vi" else s.name_en
        if p.priority:
            name = f"{name} · {t('priority_mark', m.lang)}"
        draw_text(surf, name, Rect(b.x, y, b.w, round(b.h * 0.1)), round(b.h * 0.07), INK, True, 1)
        y += round(b.h * 0.1)
        line_h = round(b.h * 0.08)
        draw_text(
            surf,
            t("ahead", m.lang, n=p.ahead or 0),
            Rect(b.x, y, b.w, line_h),
            round(line_h * 0.75),
            INK,
            False,
            1,
        )
        y += line_h
        if p.wait_minutes is None:
            wait = t("wait_unknown", m.lang)
        elif p.wait_minutes == 0:
            wait = t("wait_none", m.lang)
        else:
            wait = t("wait", m.lang, m=p.wait_minutes)
        draw_text(surf, wait, Rect(b.x, y, b.w, line_h), round(line_h * 0.75), INK, False, 1)
        y += line_h + L.margin
        note = Rect(b.x, y, b.w, b.bottom - y - round(b.h * 0.07))
        if p.printed is False or (p.printed is None and m.trouble):
            pygame.draw.rect(surf, WARN_BG, note, border_radius=10)
            draw_text(
                surf,
                t("remember", m.lang),
                note.inflate(-20, -6),
                round(min(note.h * 0.34, b.w * 0.055)),
                ALERT,
                True,
                2,
            )
        else:
            draw_text(
                surf,
                t("take_ticket_paper", m.lang),
                note,
                round(min(note.h * 0.34, b.w * 0.055)),
                SERVICE,
                True,
                2,
            )
        draw_text(
            surf,
            t("touch_to_finish", m.lang),
            Rect(b.x, b.bottom - round(b.h * 0.07), b.w, round(b.h * 0.07)),
            round(b.h * 0.045),
            MUTED,
            False,
            1,
        )

    def _refused(self, surf: pygame.Surface, m: Model, L: Layout, local: datetime) -> None:
        b = self._body(L)
        draw_text(
            surf,
            t("refused", m.lang),
            Rect(b.x, b.y + b.h // 6, b.w, b.h // 5),
            round(b.h * 0.11),
            ALERT,
            True,
            1,
        )
        err = m.pending.error if m.pending is not None else ""
        if err:
            draw_text(
                surf,
                err,
                Rect(b.x, b.y + b.h * 2 // 5, b.w, b.h // 5),
                round(b.h * 0.05),
                INK,
                False,
                3,
            )
        draw_text(
            surf,
            t("refused_help", m.lang),
            Rect(b.x, b.y + b.h * 3 // 5, b.w, b.h // 6),
            round(b.h * 0.07),
            INK,
            True,
            2,
        )

    def _closed(self, surf: pygame.Surface, m: Model, L: Layout, local: datetime) -> None:
        b = self._body(L)
        h = b.h // 6
        draw_text(
            surf,
            t("closed_title", m.lang),
            Rect(b.x, b.y + h // 2, b.w, h),
            round(h * 0.8),
            HEADER,
            True,
            1,
        )
        hours = t("closed_hours", m.lang, open=m.cfg.hours.open, close=m.cfg.hours.close)
        draw_text(surf, hours, Rect(b.x, b.y + 2 * h, b.w, h), round(h * 0.6), INK, True, 1)
        days = t("closed_days", m.lang, days=days_text(list(m.cfg.hours.days), m.lang))
        draw_text(surf, days, Rect(b.x, b.y + 3 * h, b.w, h), round(h * 0.45), INK, False, 1)
        draw_text(
            surf,
            t("closed_come_back", m.lang),
            Rect(b.x, b.y + 4 * h + h // 3, b.w, h),
            round(h * 0.4),
            MUTED,
            False,
            2,
        )

    def _clock(self, surf: pygame.Surface, m: Model, L: Layout, local: datetime) -> None:
        b = self._body(L)
        h = b.h // 6
        draw_text(
            surf,
            t("clock_title", m.lang),
            Rect(b.x, b.y + h // 2, b.w, h),
            round(h * 0.8),
            HEADER,
            True,
            1,
        )
        draw_text(
            surf,
            t("clock_help", m.lang),
            Rect(b.x, b.y + 2 * h, b.w, 2 * h),
            round(h * 0.45),
            INK,
            False,
            3,
        )
        # The technician's reason (times, what to do), small: `kiosk doctor` says it too.
        draw_text(
            surf,
            m.clock_detail,
            Rect(b.x, b.y + 4 * h + h // 3, b.w, h),
            round(h * 0.3),
            MUTED,
            False,
            2,
        )

    def _paused(self, surf: pygame.Surface, m: Model, L: Layout, local: datetime) -> None:
        b = self._body(L)
        h = b.h // 6
        draw_text(
            surf,
            t("paused_title", m.lang),
            Rect(b.x, b.y + h // 2, b.w, h),
            round(h * 0.8),
            ALERT,
            True,
            1,
        )
        box = Rect(b.x + b.w // 10, b.y + 2 * h, b.w * 8 // 10, h)
        pygame.draw.rect(surf, WARN_BG, box, border_radius=12)
        draw_text(
            surf, t(m.problem_key(), m.lang), box.inflate(-20, -8), round(h * 0.55), INK, True, 1
        )
        draw_text(
            surf,
            t("paused_help", m.lang),
            Rect(b.x, b.y + 3 * h + h // 2, b.w, h),
            round(h * 0.45),
            INK,
            False,
            2,
        )

    def _code(self, surf: pygame.Surface, m: Model, L: Layout, local: datetime) -> None:
        title, field, keys, back, ok = L.code_screen()
        if m.code_error is not None:
            pygame.draw.rect(surf, WARN_BG, title, border_radius=8)
            err = m.code_error[0] if m.lang == "vi" else m.code_error[1]
            draw_text(surf, err, title.inflate(-16, -4), round(title.h * 0.45), ALERT, True, 2)
        else:
            draw_text(surf, t("code_title", m.lang), title, round(title.h * 0.6), INK, True, 1)
        pygame.draw.rect(surf, WHITE, field, border_radius=10)
        pygame.draw.rect(surf, BOOKING, field, 3, border_radius=10)
        draw_text(surf, m.code or "…", field.inflate(-20, -8), round(field.h * 0.6), INK, True, 1)
        for ch, r in keys:
            pygame.draw.rect(surf, KEY_BG, r, border_radius=8)
            draw_text(surf, ch, r, round(r.h * 0.5), INK, True, 1)
        pygame.draw.rect(surf, INK, back, border_radius=12)
        draw_text(surf, t("back", m.lang), back, round(back.h * 0.4), WHITE, True, 1)
        pygame.draw.rect(surf, BOOKING, ok, border_radius=12)
        draw_text(surf, t("code_ok", m.lang), ok, round(ok.h * 0.4), WHITE, True, 1)

    def _guide(self, surf: pygame.Surface, m: Model, L: Layout, local: datetime) -> None:
        field, back, keys, cells = L.guide_screen()
        pygame.draw.rect(surf, WHITE, field, border_radius=10)
        pygame.draw.rect(surf, SERVICE, field, 3, border_radius=10)
        if m.guide_query:
            draw_text(
                surf,
                m.guide_query + "▏",
                field.inflate(-20, -8),
                round(field.h * 0.55),
                INK,
                True,
                1,
                "left",
            )
        else:
            hint = m.guide_field or t("guide_type", m.lang)
            draw_text(
                surf, hint, field.inflate(-20, -8), round(field.h * 0.4), MUTED, False, 2, "left"
            )
        pygame.draw.rect(surf, INK, back, border_radius=12)
        draw_text(surf, t("back", m.lang), back, round(back.h * 0.4), WHITE, True, 1)
        items = m.guide_items(len(cells))
        if not items:
            draw_text(
                surf, t("guide_none", m.lang), cells[0], round(cells[0].h * 0.5), MUTED, True, 1
            )
        for r, (kind, _, label) in zip(cells, items, strict=False):
            color = INK if kind == "guide_more" else SERVICE if kind == "guide_open" else BOOKING
            pygame.draw.rect(surf, color, r, border_radius=10)
            text = t("guide_more", m.lang) if kind == "guide_more" else label
            draw_text(surf, text, r.inflate(-16, -4), round(r.h * 0.42), WHITE, True, 2)
        for ch, r in keys:
            pygame.draw.rect(surf, KEY_BG, r, border_radius=8)
            draw_text(surf, ch, r, round(r.h * 0.5), INK, True, 1)

    def _procedure(self, surf: pygame.Surface, m: Model, L: Layout, local: datetime) -> None:
        p = m.procedure
        if p is None:
            return
        title, body, back, take = L.procedure_screen()
        name = p.name if m.lang == "vi" or not p.name_en else p.name_en
        draw_text(surf, name, title, round(title.h * 0.5), HEADER, True, 2)
        lines = [t("guide_bring", m.lang)] + [f"{i}. {d}" for i, d in enumerate(p.documents, 1)]
        try:
            svc = m.cfg.service(p.service)
            sname = svc.name if m.lang == "vi" else svc.name_en
        except KeyError:
            sname = p.service
        facts = [
            t("guide_fee", m.lang, fee=p.fee),
            t("guide_time", m.lang, time=p.time_limit),
            t("guide_service", m.lang, name=sname),
        ]
        n = len(lines) + len(facts) + 1
        lh = min(body.h // n, round(L.h * 0.07))
        y = body.y
        for i, line in enumerate(lines):
            draw_text(
                surf, line, Rect(body.x, y, body.w, lh), round(lh * 0.72), INK, i == 0, 1, "left"
            )
            y += lh
        y += lh // 2
        for line in facts:
            draw_text(
                surf, line, Rect(body.x, y, body.w, lh), round(lh * 0.66), MUTED, False, 1, "left"
            )
            y += lh
        pygame.draw.rect(surf, INK, back, border_radius=12)
        draw_text(surf, t("back", m.lang), back, round(back.h * 0.4), WHITE, True, 1)
        pygame.draw.rect(surf, SERVICE, take, border_radius=12)
        draw_text(surf, t("guide_take", m.lang), take, round(take.h * 0.45), WHITE, True, 1)

    def _help(self, surf: pygame.Surface, m: Model, L: Layout) -> None:
        assert self.keymap is not None
        lines = self.keymap.help_lines()
        columns = [
            [x for x in lines if x.group == "citizen"],
            [x for x in lines if x.group == "staff"],
        ]
        columns = [c for c in columns if c]
        panel = L.header.copy()
        panel.update(L.margin, L.margin, L.w - 2 * L.margin, L.h - 2 * L.margin)
        shade = pygame.Surface(panel.size, pygame.SRCALPHA)
        shade.fill((10, 14, 24, 240))
        surf.blit(shade, panel.topleft)
        rows = max(len(c) for c in columns)
        row_h = min(panel.h // (rows + 2), 56)
        title = t("help_title", m.lang)
        if self.keymap.staff and m.counter is not None:
            title += " — " + t("counter_selected", m.lang, name=m.cfg.counter(m.counter).name)
        draw_text(
            surf,
            title,
            Rect(panel.x, panel.y + row_h // 4, panel.w, row_h),
            round(row_h * 0.6),
            GOLD,
            True,
            1,
        )
        col_w = panel.w // len(columns)
        key_w = col_w // 4
        for ci, col in enumerate(columns):
            x0 = panel.x + ci * col_w
            for i, line in enumerate(col):
                y = panel.y + (i + 1) * row_h + row_h // 2
                draw_text(
                    surf,
                    line.keys,
                    Rect(x0 + 8, y, key_w, row_h),
                    round(row_h * 0.5),
                    GOLD,
                    True,
                    1,
                )
                text = line.vi if m.lang == "vi" else line.en
                draw_text(
                    surf,
                    text,
                    Rect(x0 + key_w + 20, y, col_w - key_w - 32, row_h),
                    round(row_h * 0.45),
                    WHITE,
                    False,
                    1,
                    "left",
                )
