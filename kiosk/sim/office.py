"""``kiosk sim``: the whole office on one PC, with no hardware.

Windows (``kiosk sim``): the kiosk touchscreen in a window, the hall-display app
in a second process joined to the kiosk by a real pseudo-terminal pair (the same
serial protocol as the real cable), the printer writing each ticket as a PNG
into the output folder, and the keyboard standing in for every button (``H``
shows the keys).

Headless (``kiosk sim --headless --demo`` or ``--script FILE``): a scripted
office day on a simulated clock, through the same code: citizens touch the
kiosk screen (SDL's dummy driver), counters press their buttons, a citizen is
recalled, another does not come, one is transferred, the printer runs out of
paper and is refilled. Everything that happened lands in the output folder:
``events.jsonl``, ``tickets.json``, ``calls.jsonl``, ``display-snapshots.jsonl``,
``tickets/*.png``, ``screens/kiosk-*.png``, ``script.txt`` (replayable with
``--script``) and ``summary.json``.

The script format is :data:`kiosk.sim.SCRIPT_FORMAT` (``kiosk sim --help`` shows it).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from kiosk.compose import Overrides, start_consumers, stop_consumers
from kiosk.core import events
from kiosk.core.config import Config
from kiosk.core.queue import Queue
from kiosk.core.store import Store
from kiosk.inputs.actions import Action, Outcome
from kiosk.sim.demo import SimClock, _poisson, demo_start

COUNTER_COMMANDS = ("next", "recall", "skip", "finish", "transfer", "rate")
#: States of the simulated printer; "silent" answers no status query (the kiosk sees
#: ``unknown``), and "unknown" is accepted as its other name.
PRINTER_STATES = ("ok", "paper_near_end", "paper_out", "offline", "silent", "unknown")
COMMANDS = (
    "issue",
    "button",
    "scan",
    *COUNTER_COMMANDS,
    "printer",
    "snapshot",
    "close",
    "wait",
)


class ScriptError(Exception):
    """A script line that cannot be played; ``problems`` names each line."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Step:
    seconds: int  # since local midnight of the simulated day
    command: str
    args: tuple[str, ...]
    line: int = 0

    @property
    def hhmm(self) -> str:
        h, rest = divmod(self.seconds, 3600)
        m, s = divmod(rest, 60)
        return f"{h:02d}:{m:02d}" + (f":{s:02d}" if s else "")

    def text(self) -> str:
        return " ".join([self.hhmm, self.command, *self.args])


# --------------------------------------------------------------------------- scripts


def parse_script(text: str, cfg: Config, source: str = "<script>") -> list[Step]:
    """Read a script; every problem is reported with its line and what to write instead."""
    steps: list[Step] = []
    problems: list[str] = []
    services = {s.id for s in cfg.services}
    counters = {str(c.id) for c in cfg.counters}
    last = -1
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        where = f"{source}:{n}"
        parts = line.split()
        try:
            hms = [int(x) for x in parts[0].split(":")]
            if len(hms) not in (2, 3) or not (0 <= hms[0] < 24 and 0 <= hms[1] < 60):
                raise ValueError
            secs = hms[0] * 3600 + hms[1] * 60 + (hms[2] if len(hms) == 3 else 0)
        except ValueError:
            problems.append(f'{where}: "{parts[0]}" is not a time; start each line with HH:MM')
            continue
        if len(parts) < 2 or parts[1] not in COMMANDS:
            got = parts[1] if len(parts) > 1 else "nothing"
            problems.append(f"{where}: unknown command {got!r}; use one of {', '.join(COMMANDS)}")
            continue
        cmd, args = parts[1], tuple(parts[2:])
        bad = _check_step(cmd, args, services, counters)
        if bad:
            problems.append(f"{where}: {bad}")
            continue
        if secs < last:
            problems.append(
                f"{where}: {parts[0]} is earlier than the line before; keep steps in time order"
            )
            continue
        last = secs
        steps.append(Step(secs, cmd, args, n))
    if problems:
        raise ScriptError(problems)
    if not steps:
        raise ScriptError(
            [f"{source}: no steps; write lines like '07:35 issue {cfg.services[0].id}'"]
        )
    return steps


def _check_step(cmd: str, args: tuple[str, ...], services: set[str], counters: set[str]) -> str:
    known_s = ", ".join(sorted(services))
    if cmd in ("issue", "button"):
        if not args or args[0] not in services:
            return f"{cmd} needs a service id ({known_s})"
        if args[1:] not in ((), ("priority",)) or (cmd == "button" and len(args) > 1):
            return f"{cmd} takes a service id" + (
                " and optionally 'priority'" if cmd == "issue" else ""
            )
    elif cmd == "scan":
        if len(args) != 2 or not args[0].isdigit() or not 14 <= int(args[0]) <= 120:
            return "scan needs the card holder's age (14-120) and a service id"
        if args[1] not in services:
            return f"scan: unknown service {args[1]!r} ({known_s})"
    elif cmd in COUNTER_COMMANDS:
        if not args or args[0] not in counters:
            return f"{cmd} needs a counter number ({', '.join(sorted(counters, key=int))})"
        if cmd == "rate" and (len(args) != 2 or args[1] not in ("1", "2", "3")):
            return "rate needs a counter and a score 1, 2 or 3"
        if cmd == "transfer" and len(args) == 2 and args[1] not in services:
            return f"transfer: unknown service {args[1]!r} ({known_s})"
        if cmd not in ("rate", "transfer") and len(args) != 1 or len(args) > 2:
            return f"{cmd} takes a counter number only"
    elif cmd == "printer":
        if len(args) != 1 or args[0] not in PRINTER_STATES:
            return f"printer needs one state: {', '.join(PRINTER_STATES)}"
    elif cmd == "snapshot":
        if len(args) != 1 or not args[0].replace("-", "").replace("_", "").isalnum():
            return "snapshot needs one name (letters, digits, - or _)"
    elif cmd in ("close", "wait") and args:
        return f"{cmd} takes no arguments"
    return ""


def demo_script(cfg: Config, seed: int = 1, minutes: int = 240) -> list[Step]:
    """The scripted office day of ``--demo``: seeded, so every run is the same."""
    rng = random.Random(seed)
    start = cfg.open_time.hour * 3600 + cfg.open_time.minute * 60 + 60
    steps: list[Step] = [Step(start, "snapshot", ("home",))]
    weights = [max(1.0, 20 - s.minutes) for s in cfg.services]
    free_at = {c.id: start + 5 * 60 for c in cfg.counters}
    transferred = False
    paper_out_at, refill_at = start + 125 * 60, start + 140 * 60
    for minute in range(minutes):
        now = start + minute * 60
        if paper_out_at <= now < paper_out_at + 60:
            steps.append(Step(now, "printer", ("paper_out",)))
        if refill_at <= now < refill_at + 60:
            steps.append(Step(now, "printer", ("ok",)))
        rate = 0.7 if minute < 120 else 0.35
        for i in range(_poisson(rng, rate)):
            s = rng.choices(cfg.services, weights)[0]
            at = now + min(59, i * 7 + rng.randrange(5))
            how = ("issue", s.id, "priority") if rng.random() < 0.1 else ("issue", s.id)
            if s.button_pin and rng.random() < 0.2:
                how = ("button", s.id)
            steps.append(Step(at, how[0], how[1:]))
        for c in cfg.counters:
            if now < free_at[c.id]:
                continue
            at = now + 30
            if not transferred and minute > 30 and len(c.services) > 1:
                steps.append(Step(at, "transfer", (str(c.id),)))
                transferred = True
                at += 5
            elif rng.random() < 0.5:
                steps.append(
                    Step(at, "rate", (str(c.id), str(rng.choices([3, 2, 1], [90, 8, 2])[0])))
                )
            steps.append(Step(at + 1, "next", (str(c.id),)))
            if rng.random() < 0.08:
                steps.append(Step(at + 20, "recall", (str(c.id),)))
                if rng.random() < 0.5:
                    steps.append(Step(at + 40, "skip", (str(c.id),)))
            svc = cfg.service(rng.choice(c.services))
            free_at[c.id] = now + max(60, int(rng.expovariate(1 / (svc.minutes * 60))))
    end = start + minutes * 60
    close = cfg.close_time.hour * 3600 + cfg.close_time.minute * 60
    steps.append(Step(end, "snapshot", ("afternoon",)))
    steps.append(Step(close, "close", ()))
    steps.append(Step(close + 60, "snapshot", ("closed",)))
    steps.sort(key=lambda s: s.seconds)
    return steps


# --------------------------------------------------------------------------- the hall display


@contextmanager
def hall_display(
    out: Path, *, windowed: bool, mute: bool, baud: int, kiosk_width: int = 1024
) -> Iterator[tuple[Path | None, Path | None, str]]:
    """The hall-display app in a second process, joined to the kiosk over a pty pair.

    Yields (kiosk side port, display status file, note); the port is None when the
    display app is not available in this checkout.
    """
    try:
        from display.ptylink import PtyRelay
    except ImportError:
        yield None, None, "hall display not available (display/ptylink.py missing)"
        return
    status = out / "display-status.json"
    status.unlink(missing_ok=True)
    relay = PtyRelay(out)
    relay.start()
    cmd = [sys.executable, "-m", "display.cli", "run", "--port", str(relay.display_port)]
    cmd += ["--baud", str(baud), "--status-file", str(status)]
    env = dict(os.environ, PYGAME_HIDE_SUPPORT_PROMPT="1")
    if windowed:
        # Side by side with the kiosk window (placed at 0,0), on a 1920-wide desktop.
        cmd += ["--windowed", "--size", "880x495"]
        env["SDL_VIDEO_WINDOW_POS"] = f"{kiosk_width + 8},0"
    else:
        env.update(SDL_VIDEODRIVER="dummy", SDL_AUDIODRIVER="dummy")
    if mute or not windowed:
        cmd.append("--mute")
    log = (out / "hall-display.log").open("w")
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        yield relay.kiosk_port, status, f"hall display: pid {proc.pid}, {relay.display_port}"
    finally:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
        relay.stop()


def read_status(path: Path | None) -> dict[str, Any] | None:
    if path is None:
        return None
    try:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        return data
    except (OSError, ValueError):
        return None


def displayed_codes(status: dict[str, Any] | None) -> dict[str, str | None]:
    """Counter → code shown, from the display's status file (format tolerant)."""
    if not status:
        return {}
    counters = status.get("counters", {})
    out: dict[str, str | None] = {}
    if isinstance(counters, dict):
        for k, v in counters.items():
            out[str(k)] = v.get("code") if isinstance(v, dict) else v
    elif isinstance(counters, list):
        for c in counters:
            if isinstance(c, dict):
                out[str(c.get("counter", c.get("id")))] = c.get("code", c.get("current"))
    return out


# --------------------------------------------------------------------------- the run


@dataclass
class Simulation:
    """One simulated office day, headless, through the real kiosk screen and consumers."""

    cfg: Config
    out: Path
    steps: list[Step]
    date: str = "2026-11-30"
    display: bool = True
    size: tuple[int, int] = (1024, 600)
    say: Any = print
    counts: dict[str, int] = field(default_factory=dict)
    refusals: list[str] = field(default_factory=list)
    screens: set[str] = field(default_factory=set)
    match_before_close: bool | None = None
    consumers: list[Any] = field(default_factory=list)

    def run(self) -> dict[str, Any]:
        os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
        os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
        from kiosk.ui.app import KioskApp

        out = self.out
        for sub in ("tickets", "screens"):
            shutil.rmtree(out / sub, ignore_errors=True)
            (out / sub).mkdir(parents=True)
        db = out / "queue.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
        (out / "script.txt").write_text(
            "# kiosk sim --headless --script script.txt replays this day\n"
            + "".join(s.text() + "\n" for s in self.steps),
            encoding="utf-8",
        )
        midnight = datetime.fromisoformat(self.date).replace(tzinfo=self.cfg.tz).timestamp()
        clock = SimClock(midnight + self.steps[0].seconds)
        snaps = (out / "display-snapshots.jsonl").open("w", encoding="utf-8")
        with ExitStack() as stack:
            stack.callback(snaps.close)
            port, status_file, note = (
                stack.enter_context(
                    hall_display(out, windowed=False, mute=True, baud=self.cfg.display.baud)
                )
                if self.display
                else (None, None, "hall display off (--no-display)")
            )
            self.say(note)
            store = stack.enter_context(Store(db))
            q = Queue(self.cfg, store, clock)
            consumers = start_consumers(
                self.cfg,
                q,
                Overrides(
                    printer_uri=f"png:{out / 'tickets'}",
                    display_port=str(port) if port else None,
                    extra={"no_display": port is None},
                ),
            )
            stack.callback(stop_consumers, consumers)
            self.consumers = consumers
            self.say(f"consumers: {', '.join(c.name for c in consumers) or 'none yet'}")
            app = KioskApp(q, size=self.size, fullscreen=False, mono=clock, on_frame=self._frame)
            app.start()
            stack.callback(app.close)
            next_snap = clock() + 1800
            closing = midnight + self.cfg.close_time.hour * 3600 + self.cfg.close_time.minute * 60
            for step in self.steps:
                target = midnight + step.seconds
                if step.command == "close" or (
                    target >= closing and self.match_before_close is None
                ):
                    # Before closing clears the counters (the close step, or the
                    # kiosk's own tick at closing time): has the display caught up?
                    self._drain(store, consumers)
                    self.match_before_close = self._display_snapshot(
                        snaps, q, status_file, clock, settle=status_file is not None
                    )
                # Let the screen's timers run through the simulated time in between:
                # second by second while someone is at the screen, faster when idle.
                assert app.model is not None
                while clock() < target:
                    clock.t = min(target, clock() + (1.0 if app.model.busy(clock()) else 10.0))
                    app.step()
                self._play(step, app, q, clock)
                app.step()
                if clock() >= next_snap:
                    next_snap = clock() + 1800
                    self._display_snapshot(snaps, q, status_file, clock)
            self._drain(store, consumers)
            self._display_snapshot(snaps, q, status_file, clock, settle=status_file is not None)
            return self._write(store, q, clock, status_file, consumers)

    # ------------------------------------------------------------------ steps
    def _play(self, step: Step, app: Any, q: Queue, clock: SimClock) -> None:
        cmd, args = step.command, step.args
        self.counts[cmd] = self.counts.get(cmd, 0) + 1
        hm = datetime.fromtimestamp(clock(), self.cfg.tz).strftime("%H:%M")
        out: Outcome | None = None
        if cmd == "issue":
            waited = 0
            while app.model.screen == "printing" and waited < 30:
                clock.t += 0.5  # the next citizen waits while the ticket comes out
                waited += 1
                app.step()
            before = app.acted
            app.model.guard_until = 0  # a new citizen, not the same finger
            if app.model.screen in ("result", "refused"):
                app.touch((1, app.model.layout.h - 1))  # the previous citizen leaves
                clock.t += 1
                app.step()
                app.model.guard_until = 0
            if len(args) > 1 and app.model.screen == "home":
                app.touch(self._target(app, "priority"))
                clock.t += 1
                app.step()
                app.model.guard_until = 0
            if app.model.screen in ("home", "priority"):
                app.touch(self._target(app, args[0]))
            if app.acted > before:
                out = app.outcomes[-1]
            else:
                out = Outcome(
                    Action("issue", service=args[0]), False, f"screen shows {app.model.screen}"
                )
        elif cmd == "button":
            out = app.act(Action("issue", service=args[0], source="gpio"))
        elif cmd == "scan":
            out = self._scan(app, clock, int(args[0]), args[1])
        if cmd in ("issue", "button", "scan") and out is not None and out.ok:
            # The citizen waits at the printer: real time for the consumer thread,
            # so the screen shows what the printer really answered.
            self._await_print(app, q, out.result.ticket.id)
        elif cmd in COUNTER_COMMANDS:
            kind = "next" if cmd == "next" else cmd
            a = Action(
                kind if cmd != "finish" else "next",
                counter=int(args[0]),
                service=args[1] if cmd == "transfer" and len(args) > 1 else None,
                score=int(args[1]) if cmd == "rate" else None,
                source="script",
            )
            if cmd == "finish":
                try:
                    t = q.finish(int(args[0]))
                    out = Outcome(a, True, f"counter {args[0]}: finished {t.code}")
                except Exception as e:
                    out = Outcome(a, False, str(e))
            else:
                out = app.act(a)
        elif cmd == "printer":
            # Tickets issued before the change print (or fail) under the old state.
            self._drain(q.store, self.consumers, timeout=10)
            self._printer(args[0], q)
            self.say(f"{hm}  printer  {args[0]}")
            if args[0] in ("ok", "paper_near_end"):
                n = self._await_reprints(app, q)
                if n:
                    self.say(
                        f"{hm}  printer  {n} flagged ticket(s) of waiting citizens still not reprinted"
                    )
        elif cmd == "snapshot":
            self._save(app, f"kiosk-{args[0]}")
        elif cmd == "close":
            expired = q.close_day()
            self.say(f"{hm}  close    {len(expired)} waiting ticket(s) expired")
        if out is not None:
            self.say(f"{hm}  {cmd:<8} {out.text}" + ("" if out.ok else "  (refused)"))
            if not out.ok:
                self.refusals.append(f"{hm} {cmd} {' '.join(args)}: {out.text}")

    def _scan(self, app: Any, clock: SimClock, age: int, service: str) -> Outcome:
        """A citizen scans a synthetic ID card (a keyboard-wedge scanner's keys, then
        Enter), then touches a service."""
        import pygame

        from kiosk.inputs.idcard import synthetic, synthetic_id

        today = datetime.fromtimestamp(clock(), self.cfg.tz).date()
        birth = today.replace(year=today.year - age, day=min(today.day, 28))
        n = self.counts.get("scan", 0)
        text = synthetic(
            synthetic_id(birth, female=bool(n % 2), serial=n),
            ("Nguyễn Văn Mẫu", "Trần Thị Thử")[n % 2],
            birth.strftime("%d%m%Y"),
        )
        while app.model.screen == "printing":
            clock.t += 0.5
            app.step()
        app.model.guard_until = 0
        for ch in text:
            try:
                code = pygame.key.key_code(ch.lower())
            except ValueError:
                code = 0
            pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=code, unicode=ch))
        pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=pygame.K_RETURN, unicode="\r"))
        before = app.acted
        app.step()
        read = app.outcomes[-1] if app.acted > before else None
        if read is None or not read.ok or read.result is not None:
            return read or Outcome(Action("scan"), False, f"screen shows {app.model.screen}")
        clock.t += 2
        app.step()
        app.model.guard_until = 0
        app.touch(self._target(app, service))
        out: Outcome = app.outcomes[-1]
        if out.ok:
            self.say(
                f"           ID card read{' (priority by age)' if 'priority' in read.text else ''}"
            )
        return out

    def _await_print(self, app: Any, q: Queue, ticket_id: int, timeout: float = 3.0) -> None:
        if not any(c.name == "printer" for c in self.consumers):
            return
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with q.store.read() as tx:
                t = tx.ticket(ticket_id)
            if t is None or t.print_status != "pending":
                break
            time.sleep(0.003)
        app.step()

    def _await_reprints(self, app: Any, q: Queue, timeout: float = 10.0) -> int:
        """Wait (real time) until the printer has reprinted the flagged tickets of
        citizens still waiting; returns how many are left."""
        deadline = time.monotonic() + timeout
        while True:
            with q.store.read() as tx:
                left = tx.count_waiting_print_failed(q.today())
            if not left or time.monotonic() >= deadline:
                app.step()
                return int(left)
            time.sleep(0.05)

    def _printer(self, state: str, q: Queue) -> None:
        set_printer_state(self.out / "tickets", state)

    @staticmethod
    def _target(app: Any, label: str) -> tuple[int, int]:
        for t in app.model.targets():
            if t.label == label:
                return t.rect.center  # type: ignore[no-any-return]
        return (-1, -1)

    def _frame(self, app: Any, now: float) -> None:
        m = app.model
        key = m.screen + (
            "-printer-trouble" if m.trouble and m.screen in ("home", "result") else ""
        )
        if key not in self.screens:
            self.screens.add(key)
            self._save(app, f"kiosk-{key}")

    def _save(self, app: Any, name: str) -> None:
        import pygame

        pygame.image.save(app.surface, str(self.out / "screens" / f"{name}.png"))

    def _display_snapshot(
        self, f: Any, q: Queue, status_file: Path | None, clock: SimClock, settle: bool = False
    ) -> bool | None:
        """Append what the hall display shows beside the queue's truth; True when they agree."""
        core = {str(c["id"]): c["current"] for c in q.status()["counters"]}
        shown = displayed_codes(read_status(status_file))
        if settle:
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline and any(shown.get(k) != v for k, v in core.items()):
                time.sleep(0.2)
                shown = displayed_codes(read_status(status_file))
        at = datetime.fromtimestamp(clock(), self.cfg.tz).isoformat(timespec="minutes")
        f.write(
            json.dumps(
                {"at": at, "core": core, "display": read_status(status_file)}, ensure_ascii=False
            )
            + "\n"
        )
        f.flush()
        return None if status_file is None else shown == core

    def _drain(self, store: Store, consumers: list[Any], timeout: float = 30) -> None:
        """Wait (real time) until every consumer has caught up with the log."""
        deadline = time.monotonic() + timeout
        last = store.last_seq()
        while time.monotonic() < deadline:
            if all(store.cursor(c.name) >= last or c.failures for c in consumers):
                return
            time.sleep(0.1)

    # ------------------------------------------------------------------ output
    def _write(
        self,
        store: Store,
        q: Queue,
        clock: SimClock,
        status_file: Path | None,
        consumers: list[Any],
    ) -> dict[str, Any]:
        out = self.out
        status = q.status()
        calls = 0
        types: dict[str, int] = {}
        expired_at_close = 0
        with (
            (out / "events.jsonl").open("w", encoding="utf-8") as ev_f,
            (out / "calls.jsonl").open("w", encoding="utf-8") as calls_f,
        ):
            seq = 0
            while batch := store.events_since(seq):
                for ev in batch:
                    line = json.dumps(ev.as_dict(), ensure_ascii=False) + "\n"
                    ev_f.write(line)
                    types[ev.type] = types.get(ev.type, 0) + 1
                    if ev.type == events.DAY_CLOSED:
                        expired_at_close += int(ev.payload.get("expired", 0))
                    if ev.type in events.CALLS:
                        calls_f.write(line)
                        calls += 1
                seq = batch[-1].seq
        with store.read() as tx:
            tickets = [t.as_dict() for t in tx.tickets_of_day(status["day"])]
        (out / "tickets.json").write_text(
            json.dumps(tickets, ensure_ascii=False, indent=1), encoding="utf-8"
        )
        shown = displayed_codes(read_status(status_file))
        core = {str(c["id"]): c["current"] for c in status["counters"]}
        summary = {
            "day": status["day"],
            "site": self.cfg.site.name,
            "steps": len(self.steps),
            "commands": self.counts,
            "issued": len(tickets),
            "priority": sum(1 for t in tickets if t["priority"]),
            "calls": calls,
            # The foundation demo's counts, from the event log.
            "called": types.get(events.TICKET_CALLED, 0),
            "recalled": types.get(events.TICKET_RECALLED, 0),
            "skipped": types.get(events.TICKET_SKIPPED, 0),
            "transferred": types.get(events.TICKET_TRANSFERRED, 0),
            "rated": types.get(events.TICKET_RATED, 0),
            "expired_at_close": expired_at_close,
            "by_status": status["by_status"],
            "print_status": _count(t["print_status"] for t in tickets),
            "reprinted": sum(
                1
                for e in store.events_since(0, limit=1_000_000, types=(events.TICKET_PRINTED,))
                if e.payload.get("detail") == "reprinted"
            ),
            "ticket_pngs": len(list((out / "tickets").glob("*.png"))),
            "kiosk_screens": sorted(p.stem for p in (out / "screens").glob("*.png")),
            "refused": self.refusals,
            "events": store.last_seq(),
            "consumers": {
                c.name: {"cursor": store.cursor(c.name), "failures": c.failures} for c in consumers
            },
            "display": None
            if status_file is None
            else {
                "status_file": status_file.name,
                "matched_before_close": self.match_before_close,
                "matches_core": shown == core,
                "shown": shown,
            },
        }
        (out / "summary.json").write_text(
            json.dumps(summary, ensure_ascii=False, indent=1), encoding="utf-8"
        )
        return summary


#: Simulator keys for the PNG printer: (pygame key name, state, vi, en).
SIM_PRINTER_KEYS = (
    ("f9", "paper_out", "máy in hết giấy", "printer out of paper"),
    ("f10", "ok", "nạp giấy, máy in chạy lại", "paper loaded, printer back"),
    ("f11", "offline", "rút cáp máy in", "printer unplugged"),
)


def set_printer_state(folder: Path, state: str) -> None:
    """Put the simulated png: printer into ``state``; the printer consumer notices it
    as it would a real printer's status answer and writes printer_status."""
    folder.mkdir(parents=True, exist_ok=True)
    state = "silent" if state == "unknown" else state
    from printer.virtual import set_state

    set_state(folder, state)


def _count(items: Any) -> dict[str, int]:
    out: dict[str, int] = {}
    for x in items:
        out[x] = out.get(x, 0) + 1
    return out


# --------------------------------------------------------------------------- commands


def office_clock(cfg: Config, at: str = "09:00") -> SimClock:
    """A clock that runs in real time from a weekday morning, so the simulator is
    open whatever the hour on this PC."""
    base = demo_start(cfg) - 60
    h, m = (int(x) for x in at.split(":"))
    return _RealClock(
        base + h * 3600 + m * 60 - (cfg.open_time.hour * 3600 + cfg.open_time.minute * 60)
    )


class _RealClock(SimClock):
    def __init__(self, start: float):
        super().__init__(start)
        self.t0 = time.monotonic()

    def __call__(self) -> float:
        return self.t + (time.monotonic() - self.t0)


def run_windows(args: argparse.Namespace, cfg: Config) -> int:
    """The interactive simulator: kiosk window, hall-display window, PNG printer."""
    from kiosk.ui.app import parse_size
    from kiosk.ui.run import run_kiosk

    out = Path(args.out)
    (out / "tickets").mkdir(parents=True, exist_ok=True)
    db = Path(args.db) if args.db else out / "queue.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    size = parse_size(args.size) if args.size else (1024, 600)
    with ExitStack() as stack:
        port, _status, note = (
            stack.enter_context(
                hall_display(
                    out, windowed=True, mute=args.mute, baud=cfg.display.baud, kiosk_width=size[0]
                )
            )
            if not args.no_display
            else (None, None, "hall display off")
        )
        os.environ.setdefault("SDL_VIDEO_WINDOW_POS", "0,0")
        print(note)
        print(
            f"Tickets are written to {out / 'tickets'}/ as PNG. Press H in the kiosk window for the keys."
        )
        store = stack.enter_context(Store(db))
        q = Queue(cfg, store, office_clock(cfg))

        from kiosk.inputs.keys import HelpLine

        def printer_state(state: str) -> Any:
            def set_it() -> None:
                set_printer_state(out / "tickets", state)
                print(f"  simulated printer: {state}")

            return set_it

        scans = [0]

        def scan_card(app: Any) -> Any:
            def scan() -> None:
                # A synthetic ID card (never a real person's): aged 72, then 35, in turn.
                from kiosk.inputs.idcard import synthetic, synthetic_id

                n = scans[0] = scans[0] + 1
                today = datetime.fromtimestamp(q.clock(), cfg.tz).date()
                age = 72 if n % 2 else 35
                birth = today.replace(year=today.year - age, day=min(today.day, 28))
                text = synthetic(
                    synthetic_id(birth, serial=n), "Nguyễn Văn Mẫu", birth.strftime("%d%m%Y")
                )
                out_ = app.scanned(text, "sim")
                print(f"  simulated ID card (age {age}): {out_.text}")

            return scan

        def show_help(app: Any) -> None:
            # The simulated printer's keys: paper out, refill, unplugged.
            for key, state, vi, en in SIM_PRINTER_KEYS:
                app.key_hooks[key] = printer_state(state)
                app.keymap.extra_help.append(HelpLine(key.upper(), vi, en, "staff"))
            app.key_hooks["f12"] = scan_card(app)
            app.keymap.extra_help.append(
                HelpLine(
                    "F12", "quét thẻ căn cước (giả lập)", "scan an ID card (synthetic)", "staff"
                )
            )
            app.model.help = True
            app.model.version += 1

        def log(o: Outcome) -> None:
            if o.action.kind != "issue" or not o.ok:
                print(("  " if o.ok else "  refused: ") + o.text)
            else:
                print(f"  {o.text} ({o.action.source})")

        rc = run_kiosk(
            cfg,
            q,
            size=size,
            fullscreen=False,
            staff_keys=True,
            gpio=False,
            overrides=Overrides(
                printer_uri=f"png:{out / 'tickets'}",
                display_port=str(port) if port else None,
                extra={"no_display": port is None},
            ),
            caption=f"Kiosk — {cfg.site.name} (simulator)",
            on_outcome=log,
            setup=show_help,
        )
        write_session(store, q, out)
        return rc


def write_session(store: Store, q: Queue, out: Path) -> None:
    """What an interactive session did: events.jsonl and tickets.json in ``out``."""
    with (out / "events.jsonl").open("w", encoding="utf-8") as f:
        seq = 0
        while batch := store.events_since(seq):
            for ev in batch:
                f.write(json.dumps(ev.as_dict(), ensure_ascii=False) + "\n")
            seq = batch[-1].seq
    with store.read() as tx:
        tickets = [t.as_dict() for t in tx.tickets_of_day(q.today())]
    (out / "tickets.json").write_text(
        json.dumps(tickets, ensure_ascii=False, indent=1), encoding="utf-8"
    )
    print(
        f"{len(tickets)} ticket(s) today; written to {out}/: events.jsonl, tickets.json, tickets/"
    )
