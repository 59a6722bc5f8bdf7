"""Keyboard and USB keypad mapping: another input beside the touchscreen and GPIO.

A USB numeric keypad at the kiosk issues tickets with the service keys of the
site file (``[[services]] key``); the priority key before a service key makes it
a priority ticket. With ``[keys] staff = true`` (the simulator turns it on) the
keyboard also stands in for every counter button: F1–F12 select a counter, then
the next / recall / skip / transfer / rating keys act on it.

:class:`KeyMap` is pure: it takes a key name and the typed character (as pygame
reports them) and returns an :class:`~kiosk.inputs.actions.Action` or ``None``, so it is
tested without a window.
"""

from __future__ import annotations

from dataclasses import dataclass

from kiosk.core.config import Config
from kiosk.inputs.actions import Action

#: Key names (pygame.key.name) of the function keys that select counters 1..12 by position.
FUNCTION_KEYS = tuple(f"f{i}" for i in range(1, 13))


@dataclass
class HelpLine:
    keys: str
    vi: str
    en: str
    group: str = "citizen"  # or "staff"


class KeyMap:
    """Turns key presses into actions, remembering a pending priority key and the
    counter selected for staff keys."""

    def __init__(self, cfg: Config, staff: bool | None = None):
        self.cfg = cfg
        k = cfg.keys
        self.enabled = bool(k.enabled)
        self.staff = bool(k.staff) if staff is None else staff
        self.service_keys = {s.key.lower(): s.id for s in cfg.services if s.key}
        self.screen_keys = {
            k.priority.lower(): "priority",
            k.language.lower(): "language",
            k.help.lower(): "help",
        }
        self.staff_keys: dict[str, tuple[str, int | None]] = {}
        if self.staff:
            for kind, key in (
                ("next", k.next),
                ("recall", k.recall),
                ("skip", k.skip),
                ("transfer", k.transfer),
            ):
                self.staff_keys[key.lower()] = (kind, None)
            for key, score in zip(k.rate, (3, 2, 1), strict=False):
                self.staff_keys[key.lower()] = ("rate", score)
        self.screen_keys.pop("", None)
        self.staff_keys.pop("", None)
        self.priority_pending = False
        self.counter = cfg.counters[0].id if cfg.counters else None
        #: Lines the simulator adds to the help overlay (its printer keys).
        self.extra_help: list[HelpLine] = []

    def translate(self, name: str, text: str = "") -> Action | None:
        """The action for one key press. ``name`` is pygame's key name (``"f3"``,
        ``"escape"``, ``"[1]"`` for keypad 1), ``text`` the character typed."""
        if not self.enabled:
            return None
        name = name.lower()
        ch = (text or "").lower()
        if not ch and len(name) == 3 and name[0] == "[" and name[2] == "]":
            ch = name[1]  # keypad digit with Num Lock off still means the digit
        if not ch and len(name) == 1:
            ch = name  # a backend that sends no text with its key events
        if name in ("escape", "backspace"):
            self.priority_pending = False
            return Action("back", source="key")
        if self.staff and name in FUNCTION_KEYS:
            i = FUNCTION_KEYS.index(name)
            if i < len(self.cfg.counters):
                self.counter = self.cfg.counters[i].id
                return Action("select_counter", counter=self.counter, source="key")
            return None
        if ch in self.service_keys:
            pr = self.priority_pending
            self.priority_pending = False
            return Action("issue", service=self.service_keys[ch], priority=pr, source="key")
        if ch in self.screen_keys:
            kind = self.screen_keys[ch]
            if kind == "priority":
                self.priority_pending = not self.priority_pending
                return Action("priority", priority=self.priority_pending, source="key")
            return Action(kind, source="key")
        if ch in self.staff_keys and self.counter is not None:
            kind, score = self.staff_keys[ch]
            return Action(kind, counter=self.counter, score=score, source="key")
        return None

    def help_lines(self) -> list[HelpLine]:
        """What the on-screen help overlay lists: citizens' keys, then staff keys."""
        k = self.cfg.keys
        out = [HelpLine(s.key.upper(), s.name, s.name_en) for s in self.cfg.services if s.key]
        out += [
            HelpLine(f"{k.priority.upper()}, 1…", "số ưu tiên", "priority ticket"),
            HelpLine(k.language.upper(), "Tiếng Việt / English", "Tiếng Việt / English"),
            HelpLine(k.help.upper(), "ẩn / hiện bảng phím", "show / hide this help"),
            HelpLine("Esc", "quay lại", "back"),
        ]
        if self.staff:
            n = min(len(self.cfg.counters), 12)
            out += [
                HelpLine(f"F1–F{n}", "chọn quầy", "select counter", "staff"),
                HelpLine(k.next.upper(), "gọi số tiếp theo", "call next", "staff"),
                HelpLine(k.recall.upper(), "gọi lại", "recall", "staff"),
                HelpLine(k.skip.upper(), "vắng mặt, gọi số sau", "no-show, call next", "staff"),
                HelpLine(k.transfer.upper(), "chuyển dịch vụ khác", "transfer", "staff"),
            ]
            for key, vi, en in zip(
                k.rate,
                ("Rất hài lòng", "Hài lòng", "Chưa hài lòng"),
                ("very satisfied", "satisfied", "not satisfied"),
                strict=False,
            ):
                out.append(HelpLine(key.upper(), vi, en, "staff"))
        return out + self.extra_help
