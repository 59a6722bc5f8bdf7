"""What the kiosk screen shows, and where a touch lands: a model without pygame windows.

Screens: ``home`` (one button per service, the priority path, the language
button), ``priority`` (the same services, issuing priority tickets),
``printing`` ("Đang in phiếu…", shown within a frame of the touch), ``result``
(number, people ahead, estimated wait), ``refused`` (no number could be
issued), ``closed`` (outside opening hours; touches ignored) and ``paused``
(printer fault under ``[printer] on_fault = "pause"``; touches ignored) and
``code`` (a booking code typed on screen or scanned, when ``[appointments]
enabled``), ``guide`` (the procedure guide: search by typing or browse by field,
when ``[guide] file`` is set), ``procedure`` (what to bring for one procedure,
with a button that takes a number for its service) and ``clock`` ("Đang chờ đồng bộ
giờ…": the clock is clearly wrong, so no number is issued on a wrong day;
:func:`kiosk.core.queue.clock_problem`).

The model is driven by the app (:mod:`kiosk.ui.app`) with monotonic times, so
tests step it without sleeping.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from pygame import Rect

from kiosk.core.config import Config
from kiosk.inputs.actions import Action
from kiosk.office.procedures import Guide, Procedure

#: Printer states (``printer_status`` events) in which a ticket cannot come out.
TROUBLE_STATES = ("paper_out", "offline")
#: A touch right after a screen change is ignored: it is usually the same finger.
TOUCH_GUARD_S = 0.35
#: The booking-code keyboard; "⌫" deletes. Codes are capitals, digits, - and _.
CODE_ROWS = ("1234567890", "QWERTYUIOP", "ASDFGHJKL-", "ZXCVBNM_⌫")
CODE_MAX = 40
#: The screen returns to the site's language after a citizen's ticket, or this long
#: after the language button when nobody took one.
LANGUAGE_IDLE_S = 60.0
#: The booking-code screen goes home after this long without a key.
CODE_IDLE_S = 60.0
#: The procedure guide's keyboard; "⌫" deletes, "␣" is a space. Diacritics are not
#: needed: the search ignores them (kiosk.office.procedures.fold).
GUIDE_ROWS = ("QWERTYUIOP", "ASDFGHJKL⌫", "ZXCVBNM␣")
GUIDE_MAX = 30
#: The guide screens go home after this long without a touch.
GUIDE_IDLE_S = 90.0
#: Screens that belong to one citizen and time out by themselves.
OWN_SCREENS = ("printing", "result", "refused", "code", "guide", "procedure")


@dataclass(frozen=True)
class Target:
    """A touch target: a rectangle and what touching it does."""

    rect: Rect
    action: Action
    label: str = ""


@dataclass
class Pending:
    """The ticket being issued, as the printing and result screens show it."""

    service: str
    priority: bool
    code: str = ""
    ticket_id: int | None = None
    ahead: int | None = None
    wait_minutes: int | None = None
    printed: bool | None = None  # None: no verdict from the printer yet
    error: str = ""


@dataclass
class Layout:
    """Rectangles of one screen size; portrait screens get one column."""

    w: int
    h: int
    header: Rect = field(init=False)
    hint: Rect = field(init=False)
    grid: Rect = field(init=False)
    footer: Rect = field(init=False)
    language: Rect = field(init=False)

    def __post_init__(self) -> None:
        w, h = self.w, self.h
        self.portrait = h > w
        self.margin = max(8, round(min(w, h) * 0.02))
        m = self.margin
        hh = round(h * (0.09 if self.portrait else 0.13))
        self.header = Rect(0, 0, w, hh)
        lw = round(w * (0.26 if self.portrait else 0.17))
        self.language = Rect(w - lw - m, m // 2, lw, hh - m)
        hint_h = round(h * (0.06 if self.portrait else 0.08))
        self.hint = Rect(m, hh, w - 2 * m, hint_h)
        fh = round(h * (0.11 if self.portrait else 0.15))
        self.footer = Rect(m, h - fh - m, w - 2 * m, fh)
        top = hh + hint_h
        self.grid = Rect(m, top, w - 2 * m, self.footer.top - m - top)

    def footer_split(self) -> tuple[Rect, Rect]:
        """The footer shared by the priority path (left) and the booking button (right)."""
        f = self.footer
        left = round(f.w * (0.58 if self.portrait else 0.64))
        return Rect(f.x, f.y, left - self.margin // 2, f.h), Rect(
            f.x + left + self.margin // 2, f.y, f.w - left - self.margin // 2, f.h
        )

    def guide_button(self) -> Rect:
        """The home screen's "Hướng dẫn thủ tục" button, left of the language button."""
        gw = round(self.w * (0.3 if self.portrait else 0.2))
        lang = self.language
        return Rect(lang.left - self.margin - gw, lang.y, gw, lang.h)

    def guide_screen(self) -> tuple[Rect, Rect, list[tuple[str, Rect]], list[Rect]]:
        """Guide screen: (search field, back, [(key, rect)], list rows)."""
        m = self.margin
        top = self.header.bottom + m
        bar_h = max(56, round(self.h * 0.1))
        field = Rect(m, top, round(self.w * 0.66), bar_h)
        back = Rect(field.right + m, top, self.w - field.right - 2 * m, bar_h)
        kb_h = round(self.h * (0.26 if self.portrait else 0.37))
        kb = Rect(m, self.h - m - kb_h, self.w - 2 * m, kb_h)
        rows = GUIDE_ROWS
        gap = m // 2
        kh = (kb.h - (len(rows) - 1) * gap) // len(rows)
        kw = (kb.w - 9 * gap) // 10
        keys: list[tuple[str, Rect]] = []
        for r, row in enumerate(rows):
            x = kb.x + (kb.w - (len(row) * kw + (len(row) - 1) * gap)) // 2
            for ch in row:
                keys.append((ch, Rect(x, kb.y + r * (kh + gap), kw, kh)))
                x += kw + gap
        area = Rect(m, field.bottom + m, self.w - 2 * m, kb.top - field.bottom - 2 * m)
        cols = 1 if self.portrait else 2
        per_col = max(2, area.h // max(56, round(self.h * 0.085)))  # rows ≥ 56 px
        rh = (area.h - (per_col - 1) * gap) // per_col
        cw = (area.w - (cols - 1) * m) // cols
        cells = [
            Rect(area.x + c * (cw + m), area.y + r * (rh + gap), cw, rh)
            for c in range(cols)
            for r in range(per_col)
        ]
        return field, back, keys, cells

    def procedure_screen(self) -> tuple[Rect, Rect, Rect, Rect]:
        """Procedure page: (title, body, back, take a number)."""
        m = self.margin
        top = self.header.bottom + m
        title = Rect(m, top, self.w - 2 * m, round(self.h * 0.1))
        bottom_h = round(self.h * (0.09 if self.portrait else 0.12))
        y = self.h - m - bottom_h
        body = Rect(m, title.bottom + m // 2, self.w - 2 * m, y - title.bottom - m - m // 2)
        back = Rect(m, y, (self.w - 3 * m) // 3, bottom_h)
        take = Rect(back.right + m, y, self.w - back.right - 2 * m, bottom_h)
        return title, body, back, take

    def code_screen(self) -> tuple[Rect, Rect, list[tuple[str, Rect]], Rect, Rect]:
        """Booking-code screen: (title, field, [(key, rect)], back, ok)."""
        m = self.margin
        top = self.header.bottom + m
        title = Rect(m, top, self.w - 2 * m, round(self.h * 0.08))
        field = Rect(self.w // 8, title.bottom + m // 2, self.w * 6 // 8, round(self.h * 0.11))
        rows = CODE_ROWS
        bottom_h = round(self.h * (0.08 if self.portrait else 0.11))
        kb = Rect(m, field.bottom + m, self.w - 2 * m, self.h - field.bottom - 3 * m - bottom_h)
        kh = (kb.h - (len(rows) - 1) * (m // 2)) // len(rows)
        kw = (kb.w - 9 * (m // 2)) // 10
        keys: list[tuple[str, Rect]] = []
        for r, row in enumerate(rows):
            x = kb.x + (kb.w - (len(row) * kw + (len(row) - 1) * (m // 2))) // 2
            for ch in row:
                keys.append((ch, Rect(x, kb.y + r * (kh + m // 2), kw, kh)))
                x += kw + m // 2
        y = self.h - m - bottom_h
        back = Rect(m, y, (self.w - 3 * m) // 3, bottom_h)
        ok = Rect(back.right + m, y, self.w - back.right - 2 * m, bottom_h)
        return title, field, keys, back, ok

    def cells(self, n: int) -> list[Rect]:
        """``n`` equal buttons filling the grid, row by row."""
        if n <= 0:
            return []
        if self.portrait:
            cols = 1 if n <= 7 else 2
        else:
            cols = 1 if n == 1 else 2 if n <= 8 else 3
        rows = math.ceil(n / cols)
        m = self.margin
        cw = (self.grid.w - (cols - 1) * m) // cols
        ch = (self.grid.h - (rows - 1) * m) // rows
        return [
            Rect(self.grid.x + (i % cols) * (cw + m), self.grid.y + (i // cols) * (ch + m), cw, ch)
            for i in range(n)
        ]


class Model:
    """The kiosk screen's state; every change bumps :attr:`version` so the app redraws."""

    def __init__(self, cfg: Config, size: tuple[int, int], guide: Guide | None = None):
        self.cfg = cfg
        #: The office's procedure guide ([guide] file), or None: no guide button.
        self.guide = guide if guide is not None and len(guide) else None
        self.guide_query = ""
        self.guide_field = ""  # a field chosen from the list (query empty)
        self.guide_page = 0
        self.procedure: Procedure | None = None
        self.layout = Layout(*size)
        self.lang: str = cfg.site.language
        self.lang_until = 0.0
        self.screen = "home"
        self.priority_mode = False
        self.help = False
        self.is_open = True
        #: The clock can be trusted (the app re-checks it once a second).
        self.clock_ok = True
        self.clock_detail = ""
        self.printer_state = "unknown"
        self.printer_detail = ""
        self.last_print_failed = False
        self.pending: Pending | None = None
        self.until = 0.0
        self.guard_until = 0.0
        self.counter: int | None = cfg.counters[0].id if cfg.counters else None
        self.version = 0
        self.appointments = cfg.appointments.enabled
        self.code = ""
        self.code_error: tuple[str, str] | None = None  # (vi, en)
        #: A short line for staff keys (what a counter key did), and until when.
        self.toast = ""
        self.toast_until = 0.0

    # ------------------------------------------------------------------ state
    def _changed(self) -> None:
        self.version += 1

    def resize(self, size: tuple[int, int]) -> None:
        self.layout = Layout(*size)
        self._changed()

    @property
    def trouble(self) -> bool:
        """The printer cannot give a ticket right now (last status, or last job failed)."""
        return self.printer_state in TROUBLE_STATES or self.last_print_failed

    @property
    def paused(self) -> bool:
        return self.trouble and self.cfg.printer.on_fault == "pause"

    @property
    def accepting(self) -> bool:
        """A button or key may issue a ticket now. A press while another citizen's
        number is on screen is a new citizen: it is served, never refused (touches
        cannot reach a service button then anyway)."""
        return self.clock_ok and self.is_open and not self.paused

    def problem_key(self) -> str:
        if self.printer_state == "paper_out":
            return "printer_paper_out"
        if self.printer_state == "offline":
            return "printer_offline"
        return "printer_failed"

    def _base(self) -> str:
        if not self.clock_ok:  # open or closed by a wrong clock means nothing
            return "clock"
        if not self.is_open:
            return "closed"
        if self.paused:
            return "paused"
        return "priority" if self.priority_mode else "home"

    def _go(self, screen: str, now: float) -> None:
        if screen != self.screen:
            self.screen = screen
            self.guard_until = now + TOUCH_GUARD_S
        self._changed()

    def settle(self, now: float) -> None:
        """Back to the screen the office state calls for (home, priority, closed, paused,
        clock)."""
        if self.screen not in OWN_SCREENS:
            self._go(self._base(), now)
        elif self.screen in ("code", "guide", "procedure") and not self.accepting:
            self._go(self._base(), now)

    # ------------------------------------------------------------------ inputs
    def targets(self) -> list[Target]:
        """What can be touched on the current screen (nothing on closed/paused/printing)."""
        L = self.layout
        if self.screen in ("home", "priority"):
            services = self.cfg.services
            pr = self.screen == "priority"
            out = [
                Target(r, Action("issue", service=s.id, priority=pr, source="touch"), s.id)
                for r, s in zip(L.cells(len(services)), services, strict=True)
            ]
            out.append(Target(L.language, Action("language", source="touch"), "language"))
            if pr:
                out.append(Target(L.footer, Action("back", source="touch"), "back"))
                return out
            prio = self.cfg.ui.priority_button and self.cfg.queue.priority_enabled
            left, right = L.footer_split() if self.appointments and prio else (L.footer, L.footer)
            if prio:
                out.append(
                    Target(left, Action("priority", priority=True, source="touch"), "priority")
                )
            if self.appointments:
                out.append(Target(right, Action("appointment", source="touch"), "appointment"))
            if self.guide is not None:
                out.append(Target(L.guide_button(), Action("guide", source="touch"), "guide"))
            return out
        if self.screen == "guide":
            field, back, keys, cells = L.guide_screen()
            out = []
            for ch, r in keys:
                if ch == "⌫":
                    out.append(Target(r, Action("guide_delete", source="touch"), "delete"))
                else:
                    text = " " if ch == "␣" else ch
                    out.append(Target(r, Action("guide_key", text=text, source="touch"), ch))
            out.append(Target(back, Action("back", source="touch"), "back"))
            for r, (kind, value, label) in zip(cells, self.guide_items(len(cells)), strict=False):
                out.append(Target(r, Action(kind, text=value, source="touch"), label))
            return out
        if self.screen == "procedure" and self.procedure is not None:
            _, _, back, take = L.procedure_screen()
            p = self.procedure
            return [
                Target(back, Action("back", source="touch"), "back"),
                Target(
                    take,
                    Action("issue", service=p.service, text=p.id, source="touch"),
                    "take",
                ),
            ]
        if self.screen == "code":
            _, _, keys, back, ok = L.code_screen()
            out = [
                Target(r, Action("code_delete", source="touch"), "delete")
                if ch == "⌫"
                else Target(r, Action("code_key", text=ch, source="touch"), ch)
                for ch, r in keys
            ]
            out.append(Target(back, Action("back", source="touch"), "back"))
            out.append(Target(ok, Action("code_submit", source="touch"), "ok"))
            return out
        if self.screen in ("result", "refused"):
            return [Target(Rect(0, 0, L.w, L.h), Action("back", source="touch"), "done")]
        return []

    def guide_items(self, slots: int) -> list[tuple[str, str, str]]:
        """What the guide's list shows, as (action kind, value, label): the fields
        when nothing is typed and no field is chosen, else the matching procedures;
        a last "more" row pages through a list longer than ``slots``."""
        g = self.guide
        if g is None or slots <= 0:
            return []
        items: list[tuple[str, str, str]]
        if not self.guide_query and not self.guide_field:
            items = [("guide_field", f, f) for f in g.fields()]
        else:
            found = g.search(self.guide_query) if self.guide_query else g.in_field(self.guide_field)
            items = [("guide_open", p.id, p.name) for p in found]
        if len(items) <= slots:
            return items
        per = slots - 1
        pages = -(-len(items) // per)
        page = self.guide_page % pages
        return [*items[page * per : (page + 1) * per], ("guide_more", "", "more")]

    def guide_matches(self) -> list[Procedure]:
        """The procedures the typed text or chosen field finds (all when neither)."""
        g = self.guide
        if g is None:
            return []
        if self.guide_query:
            return g.search(self.guide_query)
        return g.in_field(self.guide_field) if self.guide_field else list(g.procedures)

    def touch(self, pos: tuple[int, int], now: float) -> Action | None:
        """The action a touch at ``pos`` asks for, or None (ignored)."""
        if now < self.guard_until:
            return None
        for tg in self.targets():
            if tg.rect.collidepoint(pos):
                return tg.action
        return None

    def screen_action(self, a: Action, now: float) -> None:
        """Apply an action that only changes the screen."""
        if a.kind == "language":
            self.lang = "en" if self.lang == "vi" else "vi"
            self.lang_until = now + LANGUAGE_IDLE_S
        elif a.kind == "help":
            self.help = not self.help
        elif a.kind == "priority":
            if self.screen in ("home", "priority"):
                self.priority_mode = a.priority
                self._go(self._base(), now)
        elif a.kind == "back" and self.screen == "procedure" and not self.help:
            self.procedure = None
            self.until = now + GUIDE_IDLE_S
            self._go("guide", now)
        elif a.kind == "back" and self.screen == "guide" and self.guide_field and not self.help:
            self.guide_field, self.guide_page = "", 0
            self.until = now + GUIDE_IDLE_S
        elif a.kind == "back":
            if self.help:
                self.help = False
            else:
                self.priority_mode = False
                if self.screen in ("result", "refused"):
                    self._finish(now)
                else:
                    self._go(self._base(), now)
        elif a.kind == "select_counter":
            self.counter = a.counter
        elif a.kind == "appointment":
            if (
                self.appointments
                and self.is_open
                and not self.paused
                and self.screen in ("home", "priority")
            ):
                self.code, self.code_error = "", None
                self.priority_mode = False
                self.until = now + CODE_IDLE_S
                self._go("code", now)
        elif a.kind == "guide":
            if self.guide is not None and self.screen in ("home", "priority") and self.accepting:
                self.guide_query, self.guide_field, self.guide_page = "", "", 0
                self.procedure = None
                self.priority_mode = False
                self.until = now + GUIDE_IDLE_S
                self._go("guide", now)
        elif a.kind in ("guide_key", "guide_delete", "guide_field", "guide_more", "guide_open"):
            self._guide_action(a, now)
        elif a.kind == "code_key" and self.screen == "code":
            if len(self.code) < CODE_MAX:
                self.code += a.text.upper()
            self.code_error = None
            self.until = now + CODE_IDLE_S
        elif a.kind == "code_delete" and self.screen == "code":
            self.code = self.code[:-1]
            self.code_error = None
            self.until = now + CODE_IDLE_S
        self._changed()

    def _guide_action(self, a: Action, now: float) -> None:
        if self.screen != "guide" or self.guide is None:
            return
        self.until = now + GUIDE_IDLE_S
        if a.kind == "guide_key":
            q = (self.guide_query + a.text).lstrip()
            if "  " not in q and len(q) <= GUIDE_MAX:
                self.guide_query, self.guide_page = q, 0
        elif a.kind == "guide_delete":
            self.guide_query, self.guide_page = self.guide_query[:-1], 0
        elif a.kind == "guide_field":
            self.guide_field, self.guide_page = a.text, 0
        elif a.kind == "guide_more":
            self.guide_page += 1
        elif a.kind == "guide_open":
            self.procedure = self.guide.get(a.text)
            if self.procedure is not None:
                self._go("procedure", now)

    def booking_refused(self, vi: str, en: str, now: float) -> None:
        """A booking code could not be checked in: say why, keep the code to correct."""
        self.code_error = (vi, en)
        self.until = now + CODE_IDLE_S
        self._changed()

    # ------------------------------------------------------------------ issuing
    def start_issue(self, service: str, priority: bool, now: float) -> None:
        """A citizen asked for a ticket: show "Đang in phiếu…" at once."""
        self.pending = Pending(service, priority)
        self.priority_mode = False
        self.until = now + self.cfg.ui.print_wait_seconds
        self._go("printing", now)

    def issued(self, ticket_id: int, code: str, ahead: int, wait: int | None, now: float) -> None:
        p = self.pending
        if p is None:
            return
        p.ticket_id, p.code, p.ahead, p.wait_minutes = ticket_id, code, ahead, wait
        # With the printer known to be down there is nothing to wait for.
        if self.trouble or self.cfg.ui.print_wait_seconds <= 0:
            self._result(now)
        self._changed()

    def refused(self, text: str, now: float) -> None:
        if self.pending is not None:
            self.pending.error = text
        self.until = now + self.cfg.ui.result_seconds
        self._go("refused", now)

    def print_verdict(self, ticket_id: int, ok: bool, now: float, fault: bool = True) -> None:
        """The printer consumer printed (or failed to print) a ticket; ``fault`` False
        when it was left unprinted on purpose (stale), which is no printer trouble."""
        if ok or fault:
            self.last_print_failed = not ok
        p = self.pending
        if p is not None and p.ticket_id == ticket_id:
            p.printed = ok
            if self.screen == "printing":
                self._result(now)
        self.settle(now)
        self._changed()

    def set_printer(self, state: str, detail: str, now: float) -> None:
        self.printer_state = state
        self.printer_detail = detail
        if state not in TROUBLE_STATES and state != "unknown":
            # The printer says it works again: earlier failures are being reprinted.
            self.last_print_failed = False
        self.settle(now)
        self._changed()

    def set_open(self, is_open: bool, now: float) -> None:
        if is_open != self.is_open:
            self.is_open = is_open
            self.priority_mode = False
            self.settle(now)

    def set_clock(self, problem: str | None, now: float) -> None:
        """The clock became wrong (``problem`` says why, for the log and staff) or right."""
        ok = problem is None
        if ok != self.clock_ok:
            self.clock_ok = ok
            self.priority_mode = False
            self.settle(now)
        self.clock_detail = problem or ""

    def _result(self, now: float) -> None:
        self.until = now + self.cfg.ui.result_seconds
        self._go("result", now)

    def show_toast(self, text: str, now: float, seconds: float = 3.0) -> None:
        self.toast, self.toast_until = text, now + seconds
        self._changed()

    def _finish(self, now: float) -> None:
        """A citizen is done (their number shown): home, in the site's language."""
        self.pending = None
        self.procedure = None
        self.lang = self.cfg.site.language
        self._go(self._base(), now)

    def update(self, now: float) -> None:
        """Time passes: the printing screen gives up waiting, the result goes home."""
        if self.screen == "printing" and now >= self.until:
            if self.pending is not None and self.pending.ticket_id is not None:
                self._result(now)
            elif now >= self.until + 5:
                # No answer from the store at all; never strand the screen.
                self.refused("", now)
        elif self.screen in ("result", "refused") and now >= self.until:
            self._finish(now)
        elif self.screen in ("code", "guide", "procedure") and now >= self.until:
            self._go(self._base(), now)  # walked away from the keyboard or the guide
        if self.toast and now >= self.toast_until:
            self.toast = ""
            self._changed()
        if self.lang != self.cfg.site.language and now >= self.lang_until:
            if self.screen in ("home", "priority", "closed", "paused", "clock"):
                self.lang = self.cfg.site.language
                self._changed()

    def busy(self, now: float) -> bool:
        """Someone is using the screen (poll fast)."""
        return self.screen in (*OWN_SCREENS, "priority") or self.help

    def describe(self) -> dict[str, Any]:
        """The screen as data (tests, the simulator's log)."""
        p = self.pending
        return {
            "screen": self.screen,
            "lang": self.lang,
            "help": self.help,
            "printer": self.printer_state,
            "trouble": self.trouble,
            "open": self.is_open,
            "clock_ok": self.clock_ok,
            "code": self.code,
            "code_error": self.code_error,
            "guide_query": self.guide_query,
            "procedure": None if self.procedure is None else self.procedure.id,
            "pending": None if p is None else dict(p.__dict__),
        }
