"""kiosk web: panel click → hall-display frame, POST next under load, idle cost with 200
SSE clients; and the idle cost of the store wake-up that replaced polling.

``kiosk web`` runs as its own process (real uvicorn on 127.0.0.1). The kiosk side — the
display link writing frames to a pty read by a receiver — runs in this process, so a
click crosses the real path: HTTP → web process → store commit → wake-up datagram →
this process's display link → CALL frame written.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import Row, percentile  # noqa: E402

CLK_TCK = os.sysconf("SC_CLK_TCK")
EXAMPLE = ROOT / "config" / "example.toml"

SSE_CLIENTS = """
import asyncio, sys
import httpx

async def one(client, url):
    while True:
        try:
            async with client.stream("GET", url) as r:
                async for _ in r.aiter_raw():
                    pass
        except Exception:
            await asyncio.sleep(0.5)

async def main():
    base, n = sys.argv[1], int(sys.argv[2])
    limits = httpx.Limits(max_connections=n + 10, max_keepalive_connections=n + 10)
    async with httpx.AsyncClient(base_url=base, timeout=None, limits=limits) as c:
        urls = [sys.argv[3 + i % (len(sys.argv) - 3)] for i in range(n)]
        tasks = [asyncio.create_task(one(c, u)) for u in urls]
        print("connected", flush=True)
        await asyncio.gather(*tasks)

asyncio.run(main())
"""


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def _pss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _start_web(db: Path) -> tuple[subprocess.Popen[bytes], str]:
    import httpx

    port = _port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "kiosk.cli", "web", "--db", str(db), "--config", str(EXAMPLE)]
        + ["--listen", f"127.0.0.1:{port}"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/api/status", timeout=2).status_code == 200:
                return proc, url
        except httpx.TransportError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("kiosk web did not start")


def _login(url: str, user: str) -> object:
    import httpx

    c = httpx.Client(base_url=url, timeout=30)
    r = httpx.post(url + "/api/login", json={"user": user, "pin": "2468"}, timeout=30)
    r.raise_for_status()
    c.cookies.set("kiosk_session", r.cookies["kiosk_session"])
    return c


def bench_click_to_frame(d: Path, n: int) -> list[float]:
    from bench.bench_display import TimedLink
    from display.ptylink import PtyRelay
    from display.receiver import Receiver
    from display.state import HallState
    from kiosk.core import staff
    from kiosk.core.config import load
    from kiosk.core.queue import Queue
    from kiosk.core.store import Store
    from kiosk.outputs.display_feed import DisplayLink

    cfg = load(EXAMPLE)
    db = d / "click.db"
    queue = Queue(cfg, Store(db))
    staff.add(cfg, queue.store, "clerk", "2468", [4])
    for _ in range(n + 5):
        queue.issue("datdai")
    web, url = _start_web(db)
    samples: list[float] = []
    try:
        with PtyRelay(d) as line:
            rx = Receiver(str(line.display_port), HallState()).start()
            link = DisplayLink(queue, port=str(line.kiosk_port))
            drv = TimedLink(str(line.kiosk_port), 115200, on_state=link._record_state)
            link.driver = drv
            link.start()
            drv.wait_up(5)
            client = _login(url, "clerk")
            time.sleep(0.5)
            for _ in range(n):
                before = len(drv.call_written)
                t0 = time.perf_counter()
                client.post("/api/counters/4/next").raise_for_status()  # type: ignore[attr-defined]
                deadline = time.monotonic() + 5
                while len(drv.call_written) == before and time.monotonic() < deadline:
                    time.sleep(0.0002)
                if len(drv.call_written) > before:
                    samples.append((drv.call_written[before] - t0) * 1000)
                time.sleep(0.03)
            link.stop()
            rx.stop()
    finally:
        web.terminate()
        web.wait(10)
    return samples


def bench_load(d: Path, clerks: int, sse: int, per_clerk: int, idle_s: float) -> dict[str, float]:
    from kiosk.core import staff
    from kiosk.core.config import load
    from kiosk.core.queue import Queue
    from kiosk.core.store import Store
    from kiosk.core.tokens import load_secret, secret_path, ticket_token

    cfg = load(EXAMPLE)
    db = d / "load.db"
    queue = Queue(cfg, Store(db))
    counters = [c.id for c in cfg.counters]
    for i in range(clerks):
        staff.add(cfg, queue.store, f"clerk{i}", "2468", [counters[i % len(counters)]])
    tickets = []
    for i in range(clerks * per_clerk + 50):
        tickets.append(queue.issue(cfg.services[i % len(cfg.services)].id).ticket)
    secret = load_secret(secret_path(cfg, db))
    phone_urls = [
        f"/t/{t.day}/{t.code}/events?k={ticket_token(secret, t.day, t.code, t.id)}"
        for t in tickets[-150:]
    ]
    web, url = _start_web(db)
    out: dict[str, float] = {}
    try:
        clients = subprocess.Popen(
            [sys.executable, "-c", SSE_CLIENTS, url, str(sse), "/board/events", *phone_urls],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        assert clients.stdout is not None and clients.stdout.readline().strip() == b"connected"
        time.sleep(3)  # every stream open and its first state sent
        sessions = [_login(url, f"clerk{i}") for i in range(clerks)]
        lat: list[float] = []
        lock = threading.Lock()
        start = threading.Barrier(clerks)

        def clerk(i: int) -> None:
            c = sessions[i]
            cid = counters[i % len(counters)]
            start.wait()
            for _ in range(per_clerk):
                t0 = time.perf_counter()
                r = c.post(f"/api/counters/{cid}/next")  # type: ignore[attr-defined]
                dt = (time.perf_counter() - t0) * 1000
                if r.status_code == 200:
                    with lock:
                        lat.append(dt)

        threads = [threading.Thread(target=clerk, args=(i,)) for i in range(clerks)]
        t0 = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - t0
        out["next_p50"] = percentile(lat, 50)
        out["next_p99"] = percentile(lat, 99)
        out["next_per_s"] = len(lat) / wall
        out["next_n"] = len(lat)
        time.sleep(3)  # the streams catch up, then nothing happens
        c0 = _cpu_s(web.pid)
        time.sleep(idle_s)
        out["idle_cpu_pct"] = (_cpu_s(web.pid) - c0) / idle_s * 100
        out["pss_mb"] = _pss_mb(web.pid)
        clients.terminate()
        clients.wait(10)
    finally:
        web.terminate()
        web.wait(10)
    return out


WAITER = """
import sys, threading, time
from kiosk.core.store import Store
s = Store(sys.argv[1])
stop = threading.Event()
for _ in range(4):  # a kiosk's consumers: printer, display link, uplink, metrics
    threading.Thread(target=lambda: [s.wait_for_events(s.last_seq(), 30.0, stop=stop) for _ in range(100)], daemon=True).start()
print("up", flush=True)
time.sleep(600)
"""


def bench_wakeup_idle(d: Path, idle_s: float) -> dict[str, float]:
    """CPU of an idle process with 4 waiting consumers: wake-up socket vs data_version polling."""
    out: dict[str, float] = {}
    for mode in ("socket", "poll"):
        db = d / f"idle-{mode}.db"
        if mode == "poll":
            Path(str(db) + ".wake").write_text("")  # no folder possible: the polling fallback
        p = subprocess.Popen(
            [sys.executable, "-c", WAITER, str(db)], cwd=ROOT, stdout=subprocess.PIPE
        )
        assert p.stdout is not None and p.stdout.readline().strip() == b"up"
        time.sleep(1)
        c0 = _cpu_s(p.pid)
        sw0 = _switches(p.pid)
        time.sleep(idle_s)
        out[f"{mode}_cpu_pct"] = (_cpu_s(p.pid) - c0) / idle_s * 100
        out[f"{mode}_wakeups"] = (_switches(p.pid) - sw0) / idle_s
        p.kill()
        p.wait()
    return out


def _switches(pid: int) -> int:
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        for line in (task / "status").read_text().splitlines():
            if line.startswith("voluntary_ctxt_switches"):
                total += int(line.split()[1])
    return total


def run(quick: bool = False) -> list[Row]:
    n = 30 if quick else 200
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        click = bench_click_to_frame(d, n)
        load = bench_load(
            d,
            clerks=20,
            sse=50 if quick else 200,
            per_clerk=5 if quick else 25,
            idle_s=5 if quick else 20,
        )
        idle = bench_wakeup_idle(d, 3 if quick else 10)
    load_avg = os.getloadavg()[0]
    return [
        Row(
            "web",
            "panel click (POST next) → hall-display CALL frame written, p50",
            percentile(click, 50),
            "ms",
            "",
        ),
        Row(
            "web",
            "panel click (POST next) → hall-display CALL frame written, p99",
            percentile(click, 99),
            "ms",
            "≤ 30 ms; FQM: browser polls every 2 s",
        ),
        Row(
            "web",
            f"POST next, 20 clerks + {50 if quick else 200} SSE clients, p50",
            load["next_p50"],
            "ms",
            "",
        ),
        Row(
            "web",
            f"POST next, 20 clerks + {50 if quick else 200} SSE clients, p99",
            load["next_p99"],
            "ms",
            f"{load['next_per_s']:.0f} calls/s, {load['next_n']:.0f} calls",
        ),
        Row(
            "web",
            f"kiosk web idle CPU, {50 if quick else 200} SSE clients open",
            load["idle_cpu_pct"],
            "% core",
            "≤ 0.5 %",
        ),
        Row(
            "web",
            f"kiosk web PSS, {50 if quick else 200} SSE clients open",
            load["pss_mb"],
            "MB",
            "≤ 60 MB",
        ),
        Row(
            "web",
            "idle process, 4 waiting consumers: CPU with wake-up socket",
            idle["socket_cpu_pct"],
            "% core",
            f"{idle['socket_wakeups']:.1f} wake-ups/s",
        ),
        Row(
            "web",
            "idle process, 4 waiting consumers: CPU with data_version polling (before)",
            idle["poll_cpu_pct"],
            "% core",
            f"{idle['poll_wakeups']:.1f} wake-ups/s; load {load_avg:.1f}",
        ),
    ]


if __name__ == "__main__":
    from bench.common import format_table

    print(format_table(run(quick="--quick" in sys.argv)))
