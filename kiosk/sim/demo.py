"""A scripted office day played through the queue core on a simulated clock.

Used by ``kiosk sim --headless --demo`` (and by ``make sim`` when there is no
screen). Citizens arrive at random (seeded, so every run is the same), counters
call, recall, skip no-shows, transfer one citizen, and collect ratings; at
closing the day is closed. Everything lands in the store's event log; the run
writes ``events.jsonl``, ``tickets.json`` and ``summary.json`` to the output
folder and prints a readable log.
"""

from __future__ import annotations

import argparse
import json
import random
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from kiosk.core.config import Config, load
from kiosk.core.queue import Queue, business_day
from kiosk.core.store import Store


class SimClock:
    """A clock the script moves forward by hand."""

    def __init__(self, start: float):
        self.t = start

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds


def demo_start(cfg: Config, date: str = "2026-11-30") -> float:
    d = datetime.fromisoformat(date).date()
    return datetime.combine(d, cfg.open_time, cfg.tz).timestamp() + 60


def play_day(
    q: Queue, clock: SimClock, rng: random.Random, *, minutes: int = 240, say: Any = print
) -> dict[str, Any]:
    """Play ``minutes`` of an office day; returns counts of what happened."""
    cfg = q.cfg
    counts = {"issued": 0, "called": 0, "recalled": 0, "skipped": 0, "transferred": 0, "rated": 0}
    busy_until: dict[int, float] = {}
    transferred = False
    services = [s.id for s in cfg.services]
    weights = [max(1.0, 20 - s.minutes) for s in cfg.services]
    for minute in range(minutes):
        # Arrivals: busier in the morning.
        rate = 0.7 if minute < 120 else 0.35
        for _ in range(_poisson(rng, rate)):
            sid = rng.choices(services, weights)[0]
            pr = rng.random() < 0.1
            r = q.issue(sid, priority=pr, source="demo")
            counts["issued"] += 1
            say(
                f"{_hm(q, clock)}  issue    {r.ticket.code:<6} {cfg.service(sid).name}"
                f"{' (ưu tiên)' if pr else ''}: {r.ahead} ahead, ~{r.wait_minutes} min"
            )
        for c in cfg.counters:
            if clock() < busy_until.get(c.id, 0):
                continue
            st = q.status()
            cur = next(x["current"] for x in st["counters"] if x["id"] == c.id)
            if cur and rng.random() < 0.5:
                q.rate_button(c.id, rng.choices([3, 2, 1], [90, 8, 2])[0])
                counts["rated"] += 1
            if cur and not transferred and minute > 30:
                other = next((s for s in services if s not in c.services), None)
                if other:
                    moved = q.transfer(c.id, other)
                    transferred = True
                    counts["transferred"] += 1
                    say(
                        f"{_hm(q, clock)}  transfer {moved.code:<6} quầy {c.id} → {cfg.service(other).name}"
                    )
            t = q.call_next(c.id)
            if t is None:
                continue
            counts["called"] += 1
            say(f"{_hm(q, clock)}  call     {t.code:<6} → {c.name}")
            roll = rng.random()
            if roll < 0.08:
                q.recall(c.id)
                counts["recalled"] += 1
                say(f"{_hm(q, clock)}  recall   {t.code:<6} → {c.name}")
                if rng.random() < 0.5:
                    skipped, nxt = q.skip(c.id)
                    counts["skipped"] += 1
                    say(
                        f"{_hm(q, clock)}  no-show  {skipped.code:<6} at {c.name}"
                        + (f"; calling {nxt.code}" if nxt else "")
                    )
            svc = cfg.service(t.service)
            busy_until[c.id] = clock() + rng.expovariate(1 / (svc.minutes * 60))
        clock.advance(60)
    return counts


def _poisson(rng: random.Random, lam: float) -> int:
    n, p, limit = 0, 1.0, pow(2.718281828, -lam)
    while True:
        p *= rng.random()
        if p <= limit:
            return n
        n += 1


def _hm(q: Queue, clock: SimClock) -> str:
    return datetime.fromtimestamp(clock(), q.cfg.tz).strftime("%H:%M")


def run_demo(args: argparse.Namespace) -> int:
    cfg = load(args.config)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    db = Path(args.db) if args.db else out / "queue.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    clock = SimClock(demo_start(cfg))
    rng = random.Random(args.seed)
    with Store(db) as store:
        q = Queue(cfg, store, clock)
        print(
            f"Simulating a day at {cfg.site.name} ({business_day(cfg, clock())}), seed {args.seed}"
        )
        counts = play_day(q, clock, rng)
        clock.t = max(clock.t, demo_start(cfg) + timedelta(hours=10).total_seconds())
        expired = q.close_day()
        status = q.status()
        with (out / "events.jsonl").open("w", encoding="utf-8") as f:
            seq = 0
            while batch := store.events_since(seq):
                for ev in batch:
                    f.write(json.dumps(ev.as_dict(), ensure_ascii=False) + "\n")
                seq = batch[-1].seq
        with store.read() as tx:
            tickets = [t.as_dict() for t in tx.tickets_of_day(status["day"])]
    (out / "tickets.json").write_text(
        json.dumps(tickets, ensure_ascii=False, indent=1), encoding="utf-8"
    )
    summary = {
        "day": status["day"],
        "site": cfg.site.name,
        **counts,
        "expired_at_close": len(expired),
        "by_status": status["by_status"],
        "events": status["last_seq"],
    }
    (out / "summary.json").write_text(
        json.dumps(summary, ensure_ascii=False, indent=1), encoding="utf-8"
    )
    print(
        f"\nDay closed: {counts['issued']} issued, {counts['called']} called, {counts['recalled']} recalled, "
        f"{counts['skipped']} no-shows, {counts['transferred']} transferred, {len(expired)} expired at closing."
    )
    print(f"Written to {out}/: events.jsonl, tickets.json, summary.json")
    return 0
