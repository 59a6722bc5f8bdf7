"""Make the sample report in docs/sample-report/ from a simulated month at the example site.

    .venv/bin/python tools/sample_report.py [--out docs/sample-report] [--month 2026-11]

Plays every opening day of the month on a simulated clock through the real queue
rules (arrivals peaking mid-morning and early afternoon, five counters, no-shows,
transfers, priority tickets, ratings), then writes report.csv, report.png and
report.html with ``kiosk.office.report``. The figures are the simulation's, not a real office's.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
from datetime import date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kiosk.core.config import load  # noqa: E402
from kiosk.sim.demo import SimClock  # noqa: E402
from kiosk.core.queue import Queue  # noqa: E402
from kiosk.office.report import build, chart, month_bounds, text, write_csv, write_html  # noqa: E402
from kiosk.core.store import Store  # noqa: E402

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
#: Arrivals per minute by local hour: a morning peak, a lunch lull, an afternoon peak.
ARRIVALS = {7: 0.3, 8: 0.5, 9: 0.6, 10: 0.55, 11: 0.3, 12: 0.1, 13: 0.3, 14: 0.45, 15: 0.3, 16: 0.1}
STEP = 30.0


def play_day(q: Queue, clock: SimClock, rng: random.Random, until: float) -> None:
    """One office day from the current clock to ``until`` (local closing)."""
    cfg = q.cfg
    services = [s.id for s in cfg.services]
    weights = [max(1.0, 16 - s.minutes) for s in cfg.services]
    busy: dict[int, float] = {}
    fate: dict[int, str] = {}
    while clock() < until:
        hour = datetime.fromtimestamp(clock(), cfg.tz).hour
        for _ in range(_poisson(rng, ARRIVALS.get(hour, 0.0) * STEP / 60)):
            q.issue(rng.choices(services, weights)[0], priority=rng.random() < 0.08)
        for c in cfg.counters:
            if c.id in fate and clock() < busy[c.id]:
                continue
            what = fate.pop(c.id, None)
            if what == "no_show":
                _, t = q.skip(c.id)  # skip() calls the next citizen itself
            else:
                if what == "serve":
                    q.finish(c.id)
                    if rng.random() < 0.65:
                        q.rate(c.id, rng.choices([3, 2, 1], [82, 16.5, 1.5])[0])
                elif what == "transfer":
                    q.transfer(c.id, rng.choice([s for s in services if s not in c.services]))
                t = q.call_next(c.id)
            if t is None:
                continue
            roll = rng.random()
            minutes = cfg.service(t.service).minutes
            if roll < 0.04:
                fate[c.id], busy[c.id] = "no_show", clock() + 120
            elif roll < 0.06:
                fate[c.id], busy[c.id] = "transfer", clock() + 180
            else:
                fate[c.id] = "serve"
                busy[c.id] = clock() + 60 + rng.gammavariate(2.0, minutes * 30)
        clock.advance(STEP)


def _poisson(rng: random.Random, lam: float) -> int:
    n, p, limit = 0, 1.0, pow(2.718281828, -lam)
    while True:
        p *= rng.random()
        if p <= limit:
            return n
        n += 1


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--out", default="docs/sample-report")
    p.add_argument("--month", default="2026-11")
    p.add_argument("--seed", type=int, default=7)
    args = p.parse_args()
    cfg = load(Path(__file__).resolve().parent.parent / "config" / "example.toml")
    first, last = month_bounds(f"{args.month}-01")
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "queue.db")
        clock = SimClock(0)
        q = Queue(cfg, store, clock)
        d = date.fromisoformat(first)
        while d.isoformat() <= last:
            if WEEKDAYS[d.weekday()] in cfg.hours.days:
                clock.t = datetime.combine(d, cfg.open_time, cfg.tz).timestamp() + 60
                close = datetime.combine(d, cfg.close_time, cfg.tz).timestamp()
                play_day(q, clock, rng, until=close - 1800)
                clock.t = close + 60
                q.close_day()
            d += timedelta(days=1)
        rep = build(cfg, store, first, last)
        store.close()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    png = chart(rep)
    (out / "report.png").write_bytes(png)
    write_html(rep, out / "report.html", png)
    write_csv(rep, out / "report.csv")
    print(text(rep))
    print(f"wrote {out}/report.html, report.csv, report.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
