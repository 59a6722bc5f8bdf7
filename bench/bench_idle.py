"""Idle cost of ``kiosk run`` and ``hall-display run`` in every state, and what wakes them.

Both programs run as real processes, joined by a pty pair (display.ptylink) as by
the RS-485 line on site, first under SDL's dummy video driver, then on X11 (an Xvfb
server the benchmark starts itself when Xvfb is installed: 1920×1080, the kiosk in
a 1024×600 window, the hall display full screen). States:

- healthy: the kiosk prints to a working printer (``png:``), the display link is up;
- printer absent: ``[printer] uri = usb:0416:5011`` (the example's printer) with no
  such device on the bus;
- display port absent: the kiosk's display port and the display's own port are both
  missing (the USB serial adapters unplugged);
- display silent: the ports are there but nobody answers at the far end (the hall
  display, and for the display the kiosk, switched off).

After ``settle`` seconds, over ``seconds``: CPU as a share of one core (nanoseconds
on a CPU from /proc/PID/task/*/schedstat), PSS (/proc/PID/smaps_rollup), of which GL
and Mesa libraries (libLLVM, the DRI/swrast driver, libGL*: what SDL's OpenGL
renderer or framebuffer acceleration pulls in), and wake-ups per second per thread:
voluntary and involuntary context switches from /proc/PID/task/*/status, each
thread named by bench/launch.py so the cause is visible.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import Row  # noqa: E402

EXAMPLE = ROOT / "config" / "example.toml"
LAUNCH = ROOT / "bench" / "launch.py"
#: A USB printer id with no device behind it here: the example's 80 mm printer.
ABSENT_USB = "usb:0416:5011"
#: Mapped files counted as GL / Mesa.
GL_LIBS = re.compile(r"libLLVM|/dri/|swrast|libgallium|libGL|libEGL|libglapi|libvulkan")

#: What each (truncated, 15-byte) thread name stands for.
CAUSES = {
    "main": "screen main loop",
    "ui-store-watch": "screen's store watcher",
    "store-watch": "store data_version poll",
    "store-wake": "store wake-up socket",
    "consumer-printe": "printer consumer",
    "consumer-displa": "display-link consumer",
    "display-link-re": "display-link reader",
    "display-receive": "display receiver",
    "announcer": "announcer",
}


def always_open(site: str) -> str:
    """The example site open every day, all day: the kiosk shows its home screen."""
    site = re.sub(r'(?m)^open = ".*"$', 'open = "00:00"', site, count=1)
    site = re.sub(r'(?m)^close = ".*"$', 'close = "23:59"', site, count=1)
    days = '["mon", "tue", "wed", "thu", "fri", "sat", "sun"]'
    return re.sub(r"(?m)^days = \[.*\]$", f"days = {days}", site, count=1)


@dataclass(frozen=True)
class State:
    name: str
    printer_ok: bool = True
    port: str = "ok"  # ok, absent, silent


STATES = (
    State("healthy"),
    State("printer absent (USB)", printer_ok=False),
    State("display port absent", port="absent"),
    State("display silent", port="silent"),
)


@dataclass
class Sample:
    """One process over one measuring window."""

    cpu_pct: float = float("nan")
    pss_mb: float = float("nan")
    gl_mb: float = float("nan")
    wakeups: float = float("nan")
    by_thread: dict[str, float] = field(default_factory=dict)
    cpu_by_thread: dict[str, float] = field(default_factory=dict)


# ---------------------------------------------------------------------- /proc readers
def _tasks(pid: int) -> dict[int, tuple[str, float, int]]:
    """tid → (name, seconds on a CPU, context switches)."""
    out: dict[int, tuple[str, float, int]] = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        with suppress(OSError, ValueError):
            name = (task / "comm").read_text().strip()
            ns = int((task / "schedstat").read_text().split()[0])
            switches = 0
            for line in (task / "status").read_text().splitlines():
                if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")):
                    switches += int(line.split()[1])
            out[int(task.name)] = (name, ns / 1e9, switches)
    return out


def pss(pid: int) -> tuple[float, float]:
    """(PSS MB, of which GL/Mesa libraries MB)."""
    total = gl = 0
    current_gl = False
    for line in Path(f"/proc/{pid}/smaps").read_text().splitlines():
        first = line.split(maxsplit=1)[0]
        if not first.endswith(":"):  # a mapping header: "start-end perms offset dev inode path"
            current_gl = bool(GL_LIBS.search(line))
        elif first == "Pss:":
            kb = int(line.split()[1])
            total += kb
            if current_gl:
                gl += kb
    return total / 1024, gl / 1024


def gl_libraries(pid: int) -> list[str]:
    """GL/Mesa libraries mapped into a process (evidence of what loaded them)."""
    names = set()
    for line in Path(f"/proc/{pid}/maps").read_text().splitlines():
        path = line.split()[-1] if len(line.split()) >= 6 else ""
        if GL_LIBS.search(path):
            names.add(Path(path).name)
    return sorted(names)


def measure(pids: list[int], seconds: float) -> list[Sample]:
    """Sample every process over the same window."""
    before = [_tasks(pid) for pid in pids]
    t0 = time.monotonic()
    time.sleep(seconds)
    after = [_tasks(pid) for pid in pids]
    dt = time.monotonic() - t0
    out = []
    for pid, b, a in zip(pids, before, after, strict=True):
        s = Sample()
        cpu = sw = 0.0
        for tid, (name, c1, w1) in a.items():
            c0, w0 = (b[tid][1], b[tid][2]) if tid in b else (0.0, 0)
            label = CAUSES.get(name, name)
            s.by_thread[label] = s.by_thread.get(label, 0.0) + (w1 - w0) / dt
            s.cpu_by_thread[label] = s.cpu_by_thread.get(label, 0.0) + (c1 - c0) / dt * 100
            cpu += c1 - c0
            sw += w1 - w0
        s.cpu_pct = cpu / dt * 100
        s.wakeups = sw / dt
        s.pss_mb, s.gl_mb = pss(pid)
        out.append(s)
    return out


# ---------------------------------------------------------------------- processes
@contextmanager
def xvfb(size: str = "1920x1080x24") -> Iterator[str | None]:
    """An X server of our own (its DISPLAY), or None when Xvfb is not installed."""
    if shutil.which("Xvfb") is None:
        yield None
        return
    r, w = os.pipe()
    proc = subprocess.Popen(
        ["Xvfb", "-displayfd", str(w), "-screen", "0", size, "-nolisten", "tcp"],
        pass_fds=(w,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(w)
    with os.fdopen(r) as f:
        number = f.readline().strip()
    try:
        yield f":{number}" if number else None
    finally:
        proc.terminate()
        proc.wait(10)


class Notify:
    """A $NOTIFY_SOCKET of our own: waits for READY=1."""

    def __init__(self, path: Path) -> None:
        self.path = str(path)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)

    def ready(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            self.sock.settimeout(left)
            try:
                if b"READY=1" in self.sock.recv(4096):
                    return True
            except TimeoutError:
                return False
        return False

    def drain(self) -> None:
        self.sock.setblocking(False)
        with suppress(BlockingIOError):
            while self.sock.recv(4096):
                pass
        self.sock.setblocking(True)

    def close(self) -> None:
        self.sock.close()


def _env(display: str | None, notify: Notify) -> dict[str, str]:
    env = dict(os.environ, SDL_AUDIODRIVER="dummy", PYGAME_HIDE_SUPPORT_PROMPT="1")
    env["NOTIFY_SOCKET"] = notify.path
    env["WATCHDOG_USEC"] = "30000000"  # as kiosk.service and hall-display.service set it
    env["XDG_CACHE_HOME"] = str(Path(notify.path).parent / "cache")
    if display:
        env["DISPLAY"] = display
        env.pop("SDL_VIDEODRIVER", None)
        env.pop("WAYLAND_DISPLAY", None)
    else:
        env["SDL_VIDEODRIVER"] = "dummy"
    return env


def run_state(
    state: State, display: str | None, settle: float, seconds: float
) -> tuple[Sample, Sample, list[str], list[str]]:
    """Both programs in one state; (kiosk, hall display, their GL libraries)."""
    from display.ptylink import PtyRelay

    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        site = tmp / "site.toml"
        site.write_text(always_open(EXAMPLE.read_text(encoding="utf-8")), encoding="utf-8")
        # A silent line drops every byte both ways: each end hears nobody.
        relay = PtyRelay(tmp, drop=1.0 if state.port == "silent" else 0.0)
        procs: list[subprocess.Popen[bytes]] = []
        notes: list[Notify] = []
        try:
            if state.port == "absent":
                kiosk_port, display_port = str(tmp / "no-kiosk-port"), str(tmp / "no-display-port")
            else:
                relay.start()
                kiosk_port, display_port = str(relay.kiosk_port), str(relay.display_port)
            printer = f"png:{tmp / 'tickets'}" if state.printer_ok else ABSENT_USB
            kiosk_cmd = [sys.executable, str(LAUNCH), "kiosk.cli", "run", "--config", str(site)]
            kiosk_cmd += ["--db", str(tmp / "q.db"), "--windowed", "--size", "1024x600"]
            kiosk_cmd += ["--no-gpio", "--printer", printer, "--display-port", kiosk_port]
            display_cmd = [sys.executable, str(LAUNCH), "display.cli", "run", "--mute"]
            display_cmd += ["--config", str(site), "--port", display_port]
            for cmd, name in ((display_cmd, "display"), (kiosk_cmd, "kiosk")):
                n = Notify(tmp / f"{name}.notify")
                notes.append(n)
                procs.append(
                    subprocess.Popen(
                        cmd,
                        env=_env(display, n),
                        cwd=tmp,
                        stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL,
                    )
                )
            for n, p in zip(notes, procs, strict=True):
                if not n.ready(20):
                    raise RuntimeError(f"{p.args[3]} did not start (exit {p.poll()})")
            time.sleep(settle)
            for n in notes:
                n.drain()
            display_s, kiosk_s = measure([p.pid for p in procs], seconds)
            libs = [gl_libraries(p.pid) for p in procs]
            return kiosk_s, display_s, libs[1], libs[0]
        finally:
            for p in procs:
                p.terminate()
            for p in procs:
                try:
                    p.wait(10)
                except subprocess.TimeoutExpired:
                    p.kill()
            for n in notes:
                n.close()
            relay.stop()


def run_all(
    quick: bool,
    drivers: tuple[str, ...] = ("dummy", "x11"),
    states: tuple[State, ...] = STATES,
    settle: float | None = None,
    seconds: float | None = None,
) -> list[Row]:
    settle = settle if settle is not None else 3.0 if quick else 10.0
    seconds = seconds if seconds is not None else 5.0 if quick else 30.0
    rows: list[Row] = []
    load0 = os.getloadavg()[0]
    for driver in drivers:
        with xvfb() if driver == "x11" else _nothing() as display:
            if driver == "x11" and display is None:
                rows.append(Row("idle", "X11 states", float("nan"), "", "Xvfb not installed"))
                continue
            for state in states:
                try:
                    k, h, klibs, hlibs = run_state(state, display, settle, seconds)
                except Exception as e:  # one broken state must not hide the others
                    rows.append(Row("idle", f"{driver}, {state.name}", float("nan"), "", str(e)))
                    continue
                rows += _rows(driver, state, k, h, klibs, hlibs, seconds)
    rows.append(
        Row("idle", "load average (1 min) before / after", load0, "", f"{os.getloadavg()[0]:.2f}")
    )
    return rows


@contextmanager
def _nothing() -> Iterator[None]:
    yield None


def _rows(
    driver: str,
    state: State,
    k: Sample,
    h: Sample,
    klibs: list[str],
    hlibs: list[str],
    seconds: float,
) -> list[Row]:
    where = f"{driver}, {state.name}"
    out = []
    for prog, s, libs in (("kiosk run", k, klibs), ("hall-display run", h, hlibs)):
        out.append(
            Row("idle", f"{prog}, {where}: CPU over {seconds:g} s", s.cpu_pct, "% core", "≤ 0.5 %")
        )
        gl = f"{s.gl_mb:.1f} MB GL/Mesa ({len(libs)} libs)" if libs else "no GL mapped"
        out.append(Row("idle", f"{prog}, {where}: PSS", s.pss_mb, "MB", f"≤ 60 MB; {gl}"))
        causes = sorted(s.by_thread.items(), key=lambda kv: -kv[1])
        detail = ", ".join(
            f"{name} {n:.1f} ({s.cpu_by_thread.get(name, 0):.2f} %)"
            for name, n in causes
            if n >= 0.05
        )
        out.append(Row("idle", f"{prog}, {where}: wake-ups", s.wakeups, "/s", detail))
    return out


def run(quick: bool) -> list[Row]:
    return run_all(quick)


if __name__ == "__main__":
    import argparse

    from bench.common import format_table

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--driver", action="append", choices=("dummy", "x11"))
    ap.add_argument("--state", action="append", help="only states whose name starts so")
    ap.add_argument("--seconds", type=float)
    ap.add_argument("--settle", type=float)
    a = ap.parse_args()
    states = tuple(s for s in STATES if not a.state or any(s.name.startswith(x) for x in a.state))
    drivers = tuple(a.driver or ("dummy", "x11"))
    print(format_table(run_all(a.quick, drivers, states, a.settle, a.seconds)))
