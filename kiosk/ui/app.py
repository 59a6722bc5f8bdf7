"""The kiosk's main loop: touches, keys and GPIO in; frames, store transactions and
systemd pings out.

Why the loop looks like this:

- It never blocks on I/O. Issuing is one store transaction (well under a
  millisecond plus an fsync); printing, the display link and the uplink are
  consumers in their own threads that tell the screen what happened through the
  event log.
- It never sits in ``pygame.event.wait(timeout)``: pygame-ce polls every 1 ms
  inside it (about 1.4 % of a core doing nothing). Instead it polls events at an
  adaptive rate — every ``[ui] active_poll_ms`` while someone uses the screen,
  every ``[ui] idle_poll_ms`` when idle — and really sleeps in between on a
  :class:`threading.Event` that GPIO callbacks and the store watcher set, so
  news from another thread wakes it at once.
- It pings the systemd watchdog from the loop itself, so a stuck loop is
  restarted, and says READY=1 after the first frame.
"""

from __future__ import annotations

import logging
import os
import select
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any

import pygame

from display.sdlvideo import prefer_native_framebuffer
from display.sdnotify import Notifier
from kiosk.core import events
from kiosk.core.queue import ClockNotSet, Queue, QueueError, is_open_at
from kiosk.core.store import Event, StoreError
from kiosk.inputs.actions import CITIZEN_KINDS, COUNTER_KINDS, Action, Outcome, perform
from kiosk.inputs.keys import KeyMap
from kiosk.inputs.scanner import KeyBurst
from kiosk.ui import inputwait
from kiosk.ui.render import Renderer
from kiosk.ui.screens import Model
from kiosk.ui.text import t

log = logging.getLogger(__name__)

#: Event types the screen follows.
WATCHED = (
    events.TICKET_PRINTED,
    events.TICKET_PRINT_FAILED,
    events.TICKET_NOT_PRINTED,
    events.PRINTER_STATUS,
    events.DAY_CLOSED,
    events.DAY_OPENED,
)
#: Seconds without input after which the loop polls at the idle rate.
ACTIVE_SECONDS = 5.0
#: Seconds between housekeeping ticks (closing the day at closing time).
TICK_SECONDS = 20.0
#: Keys closer than this are a barcode scanner typing a booking code, not a person.
SCAN_GAP_S = 0.06
#: Seconds a scanned ID card waits for its holder to choose a service.
CARD_HOLD_S = 60.0
#: Screens on which a scanned code is read (an ID card, or a booking code).
SCAN_SCREENS = ("home", "priority", "code", "result", "refused")
#: Longest gap between watchdog pings when systemd asks for none.
PING_SECONDS = 5.0
#: Longest sleep of an idle loop that waits on its input (kiosk.ui.inputwait).
IDLE_SLEEP_MAX_S = 1.0

ALLOWED_EVENTS = (
    pygame.QUIT,
    pygame.KEYDOWN,
    pygame.MOUSEBUTTONDOWN,
    pygame.FINGERDOWN,
    pygame.VIDEORESIZE,
    pygame.VIDEOEXPOSE,
    pygame.WINDOWEXPOSED,
    pygame.WINDOWSIZECHANGED,
)


def parse_size(text: str) -> tuple[int, int]:
    """``"1024x600"`` → (1024, 600); raises ValueError with a plain message."""
    try:
        w, h = (int(x) for x in text.lower().replace("×", "x").split("x"))
    except ValueError:
        raise ValueError(f'screen size "{text}" should look like 1024x600') from None
    if not (100 <= w <= 7680 and 100 <= h <= 4320):
        raise ValueError(f'screen size "{text}" is out of range (100x100 to 7680x4320)')
    return w, h


def _wm_info() -> dict[str, Any]:
    try:
        return dict(pygame.display.get_wm_info())
    except pygame.error:
        return {}


def last_printer_status(queue: Queue) -> tuple[str, str]:
    """The newest ``printer_status`` in the store (state, detail), or unknown."""
    ev = events.latest(queue.store, events.PRINTER_STATUS)
    if ev is None:
        return "unknown", ""
    return str(ev.payload.get("state", "unknown")), str(ev.payload.get("detail", ""))


class Waker:
    """A wake-up flag the main loop sleeps on and any thread sets.

    One pre-acquired lock used as a binary semaphore: ``lock.acquire(timeout)``
    really sleeps, and costs half of what ``threading.Event.wait`` does per
    wake-up (the Event builds a Condition and a fresh lock on every wait) —
    measured 0.085 % vs 0.15 % of a core at 16 wake-ups a second.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._lock.acquire()
        self._pipe: tuple[int, int] | None = None

    def fileno(self) -> int:
        """A descriptor that is readable once set (for ``select``; see :meth:`take`)."""
        if self._pipe is None:
            r, w = os.pipe()
            os.set_blocking(r, False)
            os.set_blocking(w, False)
            self._pipe = (r, w)
            if self.is_set():
                os.write(w, b"x")
        return self._pipe[0]

    def take(self) -> bool:
        """After ``select`` on :meth:`fileno`: True (and cleared) when it was set."""
        if self._pipe is not None:
            try:
                while os.read(self._pipe[0], 64):
                    pass
            except BlockingIOError:
                pass
        return self._lock.acquire(False)

    def set(self) -> None:
        try:
            self._lock.release()
        except RuntimeError:  # already set
            return
        if self._pipe is not None:
            try:
                os.write(self._pipe[1], b"x")
            except OSError:  # full (it is readable anyway), or closed at shutdown
                pass

    def close(self) -> None:
        if self._pipe is not None:
            for fd in self._pipe:
                os.close(fd)
            self._pipe = None

    def wait(self, timeout: float) -> bool:
        """Sleep until set or ``timeout``; True (and cleared) when it was set."""
        return self._lock.acquire(True, max(0.0, timeout))

    def clear(self) -> None:
        self._lock.acquire(False)

    def is_set(self) -> bool:
        if self._lock.acquire(False):
            self._lock.release()
            return True
        return False


class KioskApp:
    """The entrance touchscreen. Create, :meth:`start`, then :meth:`run` (or
    :meth:`step` from tests); other threads hand input over with :meth:`post`."""

    ACTION_EVENT = pygame.event.custom_type()

    def __init__(
        self,
        queue: Queue,
        *,
        size: tuple[int, int] | None = None,
        fullscreen: bool | None = None,
        keymap: KeyMap | None = None,
        notifier: Notifier | None = None,
        on_outcome: Callable[[Outcome], None] | None = None,
        on_frame: Callable[[KioskApp, float], None] | None = None,
        caption: str = "Kiosk",
        mono: Callable[[], float] = time.monotonic,
    ):
        self.queue = queue
        self.cfg = queue.cfg
        ui = self.cfg.ui
        self.size = size or ((ui.width, ui.height) if ui.width and ui.height else None)
        self.fullscreen = ui.fullscreen if fullscreen is None else fullscreen
        self.keymap = keymap or KeyMap(self.cfg)
        self.notifier = notifier or Notifier()
        self.on_outcome = on_outcome
        self.on_frame = on_frame
        self.caption = caption
        self.mono = mono
        self.wake = Waker()
        self._stop = threading.Event()
        self._news = threading.Event()
        #: What the screens are drawn on (upright); the window itself, unless
        #: ``[ui] rotate`` turns the picture for a panel mounted on its side.
        self.surface: pygame.Surface | None = None
        self.window: pygame.Surface | None = None
        self.rotate = self.cfg.ui.rotate
        self.model: Model | None = None
        self.renderer = Renderer(self.keymap)
        self.seen = 0
        self.frames = 0
        self.last_input = -1e9
        self._drawn: tuple[int, int] | None = None
        self._next_tick = 0.0
        self._next_ping = 0.0
        self._next_second = 0.0
        self._watcher: threading.Thread | None = None
        #: The last outcomes (at most 50), and how many there were in all.
        self.outcomes: list[Outcome] = []
        self.acted = 0
        self._held: list[tuple[str, str, float]] = []  # keys held back: (name, char, time)
        #: A scanner's keystrokes told from a person's (kiosk.inputs.scanner).
        self.burst = KeyBurst(SCAN_GAP_S)
        #: The holder of a card scanned just now, until they choose a service (or until).
        self.card: tuple[Any, float] | None = None
        #: Key name → function, tried before the key map (the simulator's printer keys).
        self.key_hooks: dict[str, Callable[[], None]] = {}
        #: Called on the main thread after news from the store or an action (lights).
        self.listeners: list[Callable[[KioskApp], None]] = []
        self._changed = False
        #: What the idle loop sleeps on instead of polling SDL (None: it polls).
        self.input_wait: inputwait.InputWait | None = None

    # ------------------------------------------------------------------ life
    def start(self) -> None:
        """Open the window, draw the first frame, tell systemd we are ready."""
        pygame.display.init()
        # Under X11 the native framebuffer, not a GL texture on Mesa (display.sdlvideo).
        driver = prefer_native_framebuffer()
        pygame.font.init()
        pygame.event.set_allowed(None)
        pygame.event.set_allowed([*ALLOWED_EVENTS, self.ACTION_EVENT])
        if self.fullscreen:
            self.window = pygame.display.set_mode(self.size or (0, 0), pygame.FULLSCREEN)
        else:
            self.window = pygame.display.set_mode(self.size or (1024, 600))
        self._surfaces()
        assert self.surface is not None
        if self.input_wait is None:
            self.input_wait = inputwait.for_driver(driver, _wm_info())
        pygame.display.set_caption(self.caption)
        pygame.mouse.set_visible(bool(self.cfg.ui.show_cursor))
        self.model = Model(self.cfg, self.surface.get_size(), self._load_guide())
        self.seen = self.queue.store.last_seq()
        now = self.mono()
        state, detail = last_printer_status(self.queue)
        self.model.set_printer(state, detail, now)
        self.model.set_open(is_open_at(self.cfg, self.queue.clock()), now)
        self._check_clock(now)
        self.draw()
        self.notifier.ready(f"showing {self.model.screen}")
        self._watcher = threading.Thread(
            target=self._watch_store, name="ui-store-watch", daemon=True
        )
        self._watcher.start()

    def _load_guide(self) -> Any:
        """The procedure guide ([guide] file), or None. A broken list (which
        ``kiosk check-config`` names line by line) hides the guide button but never
        stops the kiosk from giving numbers."""
        from kiosk.core.config import ConfigError
        from kiosk.office.procedures import load_guide

        try:
            return load_guide(self.cfg)
        except ConfigError as e:
            log.error("procedure guide left out: %s", "; ".join(e.problems))
            return None

    def stop(self) -> None:
        """Ask the loop to end (safe from any thread or a signal handler)."""
        self._stop.set()
        self.wake.set()

    def close(self) -> None:
        self.stop()
        self.queue.store.notify()
        if self._watcher is not None:
            self._watcher.join(2)
        self.notifier.stopping()
        if self.input_wait is not None:
            self.input_wait.close()
            self.input_wait = None
        self.wake.close()
        pygame.display.quit()

    def post(self, action: Action) -> None:
        """Hand an action from another thread (GPIO callback) to the main loop."""
        pygame.event.post(pygame.event.Event(self.ACTION_EVENT, action=action))
        self.wake.set()

    def post_scan(self, text: str) -> None:
        """Hand a code from a serial scanner's thread to the main loop."""
        self.post(Action("scan", text=text, source="serial"))

    def _watch_store(self) -> None:
        # Wakes the main loop when any thread (printer consumer, ...) or, within a
        # second, another process commits an event.
        after = self.queue.store.last_seq()
        while not self._stop.is_set():
            try:
                # In-process commits (printer, display link) wake this at once; other
                # processes' (a CLI command) within 5 s are soon enough for a screen.
                if self.queue.store.wait_for_events(after, 10.0, poll=5.0, stop=self._stop):
                    after = self.queue.store.last_seq()
                    self._news.set()
                    self.wake.set()
            except Exception as e:  # the store closed under us at shutdown
                log.debug("store watcher: %s", e)
                return

    # ------------------------------------------------------------------ loop
    def run(self) -> None:
        """Run until :meth:`stop` (or the window is closed)."""
        if self.surface is None:
            self.start()
        assert self.model is not None
        model, mono, wake, stop = self.model, self.mono, self.wake, self._stop
        peek = pygame.event.peek
        active_s = self.cfg.ui.active_poll_ms / 1000
        idle_s = self.cfg.ui.idle_poll_ms / 1000
        waiter = self.input_wait
        woken, busy, due, input_at = True, True, 0.0, -1e9
        while not stop.is_set():
            # Idle, a poll is only "any input?": the full pass runs when something
            # woke us, input is queued, someone is at the screen, or a timer is due
            # (once a second). That keeps each idle wake-up to a few microseconds.
            if woken or busy or peek() or mono() >= due:
                self.step()
                now = mono()
                busy = model.busy(now) or now - self.last_input < ACTIVE_SECONDS
                due = min(self._next_second, self._next_tick, self._next_ping)
            now = mono()
            if busy or waiter is None or now - input_at < active_s:
                # Someone at the screen, input we cannot see coming (dummy, Wayland),
                # or input arriving back to back: poll SDL.
                woken = wake.wait(active_s if busy or waiter is not None else idle_s)
                continue
            # Idle: sleep until input arrives, another thread has news, or a timer.
            timeout = min(IDLE_SLEEP_MAX_S, max(0.0, due - now))
            fds = [wake.fileno(), *waiter.fds()]
            try:
                ready, _, _ = select.select(fds, [], [], timeout)
            except (OSError, ValueError):  # a device went away between refresh and select
                ready = []
                waiter.refresh()
            if any(fd != fds[0] for fd in ready):
                input_at = mono()
                waiter.drain(ready)
            woken = wake.take()

    def step(self) -> None:
        """One pass: input, news from the store, timers, housekeeping, a frame if needed."""
        assert self.model is not None
        m = self.model
        for ev in pygame.event.get():
            self.handle(ev)
        now = self.mono()
        if self._news.is_set():
            self._news.clear()
            try:
                self.follow()
            except StoreError as e:  # busy or broken store: try again on the next news
                log.warning("cannot read new events: %s", e)
                self._news.set()
        if now >= self._next_second:
            self._next_second = now + 1.0
            if self.input_wait is not None:
                self.input_wait.refresh()  # input devices plugged in since
            was = (m.is_open, m.clock_ok)
            m.set_open(is_open_at(self.cfg, self.queue.clock()), now)
            self._check_clock(now)
            self._changed |= was != (m.is_open, m.clock_ok)
        if now >= self._next_tick:
            self._next_tick = now + TICK_SECONDS
            try:
                self.queue.tick()
            except Exception as e:  # a locked store must not stop the screen
                log.warning("housekeeping tick failed: %s", e)
        self._release_held(now)
        scanned = self.burst.ended(now)
        if scanned is not None and m.screen in SCAN_SCREENS:
            self._held = []
            self.scanned(scanned, "scanner")
        m.update(now)
        self.draw()
        if self._changed:
            self._changed = False
            for fn in self.listeners:
                try:
                    fn(self)
                except Exception as e:  # a broken light must not stop the screen
                    log.warning("listener failed: %s", e)
        if now >= self._next_ping:
            interval = self.notifier.watchdog_interval() or PING_SECONDS
            self._next_ping = now + min(interval, PING_SECONDS)
            self.notifier.watchdog()

    def _check_clock(self, now: float) -> None:
        """Once a second (with the opening hours): is the clock sane against the store?
        A wrong clock shows the waiting screen; a clock that became right leaves it."""
        assert self.model is not None
        try:
            problem = self.queue.clock_problem()
        except StoreError as e:  # the store is away: keep the last verdict
            log.warning("cannot check the clock against the store: %s", e)
            return
        if (problem is None) != self.model.clock_ok:
            if problem is None:
                log.info("the clock is right again: issuing numbers")
            else:
                log.error("not issuing: %s", problem)
        self.model.set_clock(None if problem is None else problem.detail, now)

    def handle(self, ev: pygame.event.Event) -> None:
        assert self.model is not None and self.surface is not None
        now = self.mono()
        if ev.type == pygame.QUIT:
            self.stop()
        elif ev.type == self.ACTION_EVENT:
            self.last_input = now
            self.act(ev.action)
        elif ev.type == pygame.MOUSEBUTTONDOWN and not getattr(ev, "touch", False):
            self.touch(self.upright(ev.pos))
        elif ev.type == pygame.FINGERDOWN:
            assert self.window is not None
            w, h = self.window.get_size()
            self.touch(self.upright((int(ev.x * w), int(ev.y * h))))
        elif ev.type == pygame.KEYDOWN:
            self.last_input = now
            self.key(pygame.key.name(ev.key), getattr(ev, "unicode", "") or "", now)
        elif ev.type in (pygame.VIDEORESIZE, pygame.WINDOWSIZECHANGED):
            self._surfaces()
            self.model.resize(self.surface.get_size())
        elif ev.type in (pygame.VIDEOEXPOSE, pygame.WINDOWEXPOSED):
            self._drawn = None

    def _surfaces(self) -> None:
        """The drawing surface for the window's size and ``[ui] rotate``."""
        window = pygame.display.get_surface()
        assert window is not None
        self.window = window
        w, h = window.get_size()
        if self.rotate in (90, 270):
            self.surface = pygame.Surface((h, w))
        elif self.rotate == 180:
            self.surface = pygame.Surface((w, h))
        else:
            self.surface = self.window

    def upright(self, pos: tuple[int, int]) -> tuple[int, int]:
        """A point on the panel (touch, mouse) in the upright picture's coordinates."""
        if not self.rotate or self.surface is None:
            return pos
        x, y = pos
        w, h = self.surface.get_size()
        if self.rotate == 90:  # picture turned counter-clockwise onto the panel
            return (w - 1 - y, x)
        if self.rotate == 270:
            return (y, h - 1 - x)
        return (w - 1 - x, h - 1 - y)

    def touch(self, pos: tuple[int, int]) -> None:
        assert self.model is not None
        now = self.mono()
        self.last_input = now
        a = self.model.touch(pos, now)
        if a is not None:
            self.act(a)

    def act(self, a: Action) -> Outcome | None:
        """Do an action from any input (on the main thread)."""
        assert self.model is not None
        m = self.model
        now = self.mono()
        if a.kind in CITIZEN_KINDS:
            if not m.accepting or a.service is None:
                out = Outcome(a, False, f"not accepting tickets now ({m.screen})")
                self._outcome(out)
                return out
            if self.card is not None and a.citizen is None:
                if now <= self.card[1]:
                    a = replace(a, citizen=self.card[0])  # the card scanned just before
                self.card = None
            m.start_issue(a.service or "", a.priority, now)
            self.draw()  # the feedback frame, before the transaction
            out = self._guided(a) if a.text and m.guide is not None else perform(self.queue, a)
            if out.ok:
                r = out.result
                m.issued(r.ticket.id, r.ticket.code, r.ahead, r.wait_minutes, self.mono())
                self._news.set()
            elif isinstance(out.result, ClockNotSet):
                # The clock went wrong since the last check: wait for the time.
                log.error("cannot issue: %s", out.text)
                m.refused(f"{out.result.vi} — {out.result.en}", self.mono())
                m.set_clock(out.result.detail, self.mono())
            elif isinstance(out.result, StoreError):
                # The store is away (disk, a centre's database server): the citizen
                # reads a plain sentence; the technician's detail goes to the log.
                log.error("cannot issue: %s", out.text)
                m.refused(t("store_down", m.lang), self.mono())
            else:
                m.refused(out.text, self.mono())
            self._outcome(out)
            return out
        if a.kind in COUNTER_KINDS:
            out = perform(self.queue, a)
            self._outcome(out)
            return out
        if a.kind == "code_submit":
            return self.check_in()
        if a.kind == "scan":
            return self.scanned(a.text, a.source)
        m.screen_action(a, now)
        if a.kind == "select_counter":
            self._outcome(Outcome(a, True, f"counter {a.counter} selected"))
        return None

    def _guided(self, a: Action) -> Outcome:
        """Issue for a procedure of the guide: its checklist and portal link are held
        for the ticket's first print (kiosk.core.queue.Queue.print_extras)."""
        assert self.model is not None and self.model.guide is not None
        p = self.model.guide.get(a.text)
        if p is None:
            return perform(self.queue, a)
        extras = {"checklist": p.documents, "checklist_title": p.name, "qr_text": p.url}

        held: list[int] = []

        def keep(tx: Any, t: Any) -> None:
            held.append(t.id)
            self.queue.hold_print_extras(t.id, extras)

        try:
            r = self.queue.issue(
                a.service or "",
                priority=a.priority,
                source=a.source,
                citizen=a.citizen,
                hook=lambda tx, day: keep,
            )
        except (QueueError, StoreError) as e:
            for tid in held:  # rolled back: the id may go to another ticket
                self.queue.print_extras.pop(tid, None)
            return Outcome(a, False, str(e), e)
        return Outcome(a, True, f"issued {r.ticket.code} for {p.id}", r)

    # ------------------------------------------------------------------ keys
    def key(self, name: str, text: str, now: float) -> None:
        """A key press: the booking-code field takes it on the code screen; with
        bookings on, a burst of keys on the home screen is a barcode scanner."""
        assert self.model is not None
        m = self.model
        if name in self.key_hooks:
            self.key_hooks[name]()
            return
        if not text and len(name) == 1:
            text = name  # a backend that sends no text with its key events
        ch = text if len(text) == 1 and text.isprintable() and not text.isspace() else ""
        cards = self.cfg.scanner.id_cards
        if (cards or m.appointments) and m.screen in SCAN_SCREENS:
            # A scanner types its code within milliseconds and ends with Enter; the
            # whole burst is read at once (an ID card keeps its spaces and "|").
            if name in ("return", "enter", "keypad enter"):
                scanned = self.burst.enter(now)
                if scanned is not None:
                    self._held = []
                    self.scanned(scanned, "scanner")
                    return
            else:
                self.burst.key(text if len(text) == 1 and text.isprintable() else "", now)
                if self.burst.in_burst(now):
                    self._held = []  # the first key was the scan's: never a key press
                    return
        if m.screen in ("guide", "procedure"):
            if name == "escape":
                self.act(Action("back", source="key"))
            elif m.screen == "procedure":
                pass
            elif name == "backspace":
                self.act(Action("guide_delete", source="key"))
            elif ch or name == "space":
                self.act(Action("guide_key", text=ch or " ", source="key"))
            return
        if m.screen == "code":
            if name in ("return", "enter"):
                self.act(Action("code_submit", source="key"))
            elif name == "backspace":
                self.act(Action("code_delete", source="key"))
            elif name == "escape":
                self.act(Action("back", source="key"))
            elif ch:
                self.act(Action("code_key", text=ch, source="key"))
            return
        # Every ID number starts with 0 (province codes 001–096): with cards on, a "0"
        # waits a few milliseconds to see whether a scanner goes on typing.
        maybe_scan = m.appointments or (cards and ch == "0")
        if maybe_scan and ch and m.screen in ("home", "priority"):
            if self._held and now - self._held[-1][2] <= SCAN_GAP_S:
                # A second key within a few milliseconds: nobody types that fast, a
                # scanner does. Everything typed so far is the start of a code.
                typed = "".join(h[1] for h in self._held) + ch
                self._held = []
                self.act(Action("appointment", source="scanner"))
                for c in typed:
                    self.act(Action("code_key", text=c, source="scanner"))
                return
            self._release_held()
            self._held = [(name, ch, now)]
            return
        self._release_held()
        a = self.keymap.translate(name, text)
        if a is not None:
            self.act(a)

    def _release_held(self, now: float | None = None) -> None:
        """Act on a key held back to see whether a scanner was typing."""
        if not self._held or (now is not None and now - self._held[-1][2] <= SCAN_GAP_S):
            return
        held, self._held = self._held, []
        for name, ch, _ in held:
            a = self.keymap.translate(name, ch)
            if a is not None:
                self.act(a)

    # ------------------------------------------------------------------ scanner
    def scanned(self, text: str, source: str) -> Outcome:
        """A code read by a scanner (keyboard burst or serial port): an ID card
        (kiosk.inputs.idcard), else a booking code, else "not an ID card"."""
        from kiosk.inputs.idcard import NOT_CARD, looks_like_card
        from kiosk.office.bookings import CODE_MAX, normalise

        assert self.model is not None
        m = self.model
        a = Action("scan", source=source)  # never the text: it may be personal data
        if m.screen in ("result", "refused"):
            m.screen_action(Action("back", source=source), self.mono())  # a new citizen
        if self.cfg.scanner.id_cards and looks_like_card(text):
            m.code = ""  # its first digit may have reached the booking-code field
            return self._card(text, a)
        if m.appointments:
            if m.screen != "code":
                m.screen_action(Action("appointment", source=source), self.mono())
            m.code = normalise(text)[:CODE_MAX]
            return self.check_in()
        return self._refuse(a, NOT_CARD.vi, NOT_CARD.en, "not an ID card")

    def _card(self, text: str, a: Action) -> Outcome:
        """An ID card: its holder's booking of today, or a hold until they choose."""
        from kiosk.core.citizen import CitizenKeyError
        from kiosk.core.queue import CitizenLimit
        from kiosk.inputs.idcard import IdCard, read
        from kiosk.inputs.scanner import citizen_of
        from kiosk.office.bookings import BookingError, check_in_by_card

        assert self.model is not None
        m = self.model
        today = datetime.fromisoformat(self.queue.today()).date()
        card = read(text, today)
        if not isinstance(card, IdCard):
            return self._refuse(a, card.vi, card.en, f"ID card: {card.kind}")
        if not m.accepting:
            return self._refuse(a, "", "", f"not accepting tickets now ({m.screen})")
        try:
            citizen = citizen_of(card, self.queue.citizen_key, self.cfg, today)
            del card  # nothing else of the card is kept
            limit = self.cfg.queue.per_citizen_daily_limit
            if limit:
                with self.queue.store.read() as tx:
                    if tx.count_citizen_tickets(self.queue.today(), citizen.key_hash) >= limit:
                        raise CitizenLimit(limit)
            senior = citizen.senior

            def feedback(b: Any) -> None:
                m.start_issue(b.service, b.priority or senior, self.mono())
                self.draw()  # the feedback frame, before the transaction (as a touch)

            r = check_in_by_card(self.queue, citizen, feedback)
        except (BookingError, CitizenLimit) as e:
            return self._refuse(a, e.vi, e.en, "ID card: refused")
        except (CitizenKeyError, QueueError, StoreError) as e:
            log.error("ID card: %s", e)
            return self._refuse(a, "", "", str(e))
        now = self.mono()
        if r is not None:
            self._show_issued(r, now)
            out = Outcome(a, True, f"ID card: booking checked in, issued {r.ticket.code}", r)
            self._outcome(out)
            return out
        self.card = (citizen, now + CARD_HOLD_S)
        if citizen.senior and self.cfg.queue.priority_enabled:
            m.screen_action(Action("priority", priority=True, source=a.source), now)
        hello = f" ({citizen.initials})" if citizen.initials else ""
        m.show_toast(
            f"Đã đọc thẻ{hello} — mời chọn dịch vụ · Card read — please choose a service",
            now,
            CARD_HOLD_S,
        )
        out = Outcome(a, True, "ID card read" + (", priority by age" if citizen.senior else ""))
        self._outcome(out)
        return out

    def _refuse(self, a: Action, vi: str, en: str, text: str) -> Outcome:
        """Say on the refused screen why a scan gave no number (Vietnamese, English)."""
        assert self.model is not None
        now = self.mono()
        self.card = None
        self.model.start_issue("", False, now)
        self.model.refused(f"{vi} — {en}" if vi else text, now)
        out = Outcome(a, False, text)
        self._outcome(out)
        return out

    def _show_issued(self, r: Any, now: float) -> None:
        assert self.model is not None
        self.model.start_issue(r.ticket.service, r.ticket.priority, now)
        self.model.issued(r.ticket.id, r.ticket.code, r.ahead, r.wait_minutes, now)
        self._news.set()

    def check_in(self) -> Outcome:
        """Redeem the typed or scanned booking code for a ticket (kiosk.office.bookings)."""
        from kiosk.office.bookings import BookingError, check_in

        assert self.model is not None
        m = self.model
        code = m.code
        a = Action("code_submit", source="touch", text=code)
        if not code:
            out = Outcome(a, False, "no booking code typed")
        elif not m.accepting:
            out = Outcome(a, False, f"not accepting tickets now ({m.screen})")
        else:
            try:
                r = check_in(self.queue, code)
            except BookingError as e:
                m.booking_refused(e.vi, e.en, self.mono())
                out = Outcome(a, False, str(e))
            except (QueueError, StoreError) as e:
                m.start_issue("", False, self.mono())
                if isinstance(e, StoreError):
                    # The store is away (disk, a centre's database server): the citizen
                    # reads a plain sentence; the technician's detail goes to the log.
                    log.error("cannot issue: %s", e)
                    m.refused(t("store_down", m.lang), self.mono())
                else:
                    m.refused(str(e), self.mono())
                out = Outcome(a, False, str(e))
            else:
                self._show_issued(r, self.mono())
                out = Outcome(a, True, f"booking {code}: issued {r.ticket.code}", r)
        self._outcome(out)
        return out

    def _outcome(self, out: Outcome) -> None:
        self._changed = True
        self.acted += 1
        if self.keymap.staff and self.model is not None and out.action.source == "key":
            if out.action.kind in COUNTER_KINDS or out.action.kind == "select_counter":
                # Staff keys act on the hall display, not this screen: say what happened.
                self.model.show_toast(out.text if out.ok else f"✗ {out.text}", self.mono())
        self.outcomes.append(out)
        del self.outcomes[:-50]
        if self.on_outcome is not None:
            self.on_outcome(out)

    def follow(self) -> None:
        """Apply new events from the store to the screen (printer verdicts and status)."""
        assert self.model is not None
        last = self.queue.store.last_seq()
        batch = self.queue.store.events_since(self.seen, limit=500, types=WATCHED)
        for ev in batch:
            self.apply(ev)
        self._changed = True
        self.seen = max([last] + [e.seq for e in batch])
        if len(batch) == 500:
            self._news.set()

    def apply(self, ev: Event) -> None:
        assert self.model is not None
        now = self.mono()
        p: dict[str, Any] = ev.payload
        if ev.type == events.PRINTER_STATUS:
            self.model.set_printer(str(p.get("state", "unknown")), str(p.get("detail", "")), now)
        elif ev.type in (events.TICKET_PRINTED, events.TICKET_PRINT_FAILED):
            self.model.print_verdict(
                int(p.get("ticket_id", -1)), ev.type == events.TICKET_PRINTED, now
            )
        elif ev.type == events.TICKET_NOT_PRINTED:
            # Stale, not a printer fault: the number is on screen, nothing is wrong.
            self.model.print_verdict(int(p.get("ticket_id", -1)), False, now, fault=False)

    def draw(self, force: bool = False) -> None:
        """Draw a frame if anything visible changed (the model, or the minute)."""
        assert self.model is not None and self.surface is not None
        now = self.queue.clock()
        # Time zones differ from UTC by whole minutes, so the minute number is the
        # same in every zone: no date arithmetic on the idle path.
        key = (self.model.version, int(now // 60))
        if key == self._drawn and not force:
            return
        self._drawn = key
        local = datetime.fromtimestamp(now, self.cfg.tz)
        self.renderer.draw(self.surface, self.model, local)
        if self.rotate and self.window is not None:
            # pygame turns counter-clockwise; the panel is turned clockwise by `rotate`.
            self.window.blit(pygame.transform.rotate(self.surface, self.rotate), (0, 0))
        pygame.display.flip()
        self.frames += 1
        if self.on_frame is not None:
            self.on_frame(self, self.mono())
