"""A worker process for the crash test: issues or calls in a loop until killed.

Prints ``ISSUED <ticket id> <code>`` after each committed issue, flushed, so the
test knows which numbers were acknowledged before the SIGKILL.
"""

from __future__ import annotations

import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

from kiosk.core.config import load  # noqa: E402
from kiosk.core.queue import Queue, QueueError  # noqa: E402
from kiosk.core.store import Store  # noqa: E402

FIXED_START = (
    1_796_000_000.0  # 2026-12-01 07:53 in Asia/Ho_Chi_Minh: a business day, far from midnight
)


def main() -> None:
    db, role, seed = sys.argv[1], sys.argv[2], int(sys.argv[3])
    cfg = load(Path(__file__).resolve().parents[3] / "config" / "example.toml")
    t0 = time.monotonic()
    q = Queue(cfg, Store(db), clock=lambda: FIXED_START + (time.monotonic() - t0))
    rng = random.Random(seed)
    services = [s.id for s in cfg.services]
    counters = [c.id for c in cfg.counters]
    while True:
        time.sleep(rng.uniform(0.002, 0.01))  # keep within the services' daily ranges
        if role == "issue" or rng.random() < 0.5:
            r = q.issue(rng.choice(services), priority=rng.random() < 0.1)
            print(f"ISSUED {r.ticket.id} {r.ticket.code}", flush=True)
        else:
            c = rng.choice(counters)
            try:
                op = rng.random()
                if op < 0.7:
                    q.call_next(c)
                elif op < 0.8:
                    q.recall(c)
                elif op < 0.9:
                    q.skip(c)
                else:
                    q.transfer(c, rng.choice(services))
            except QueueError:
                pass


if __name__ == "__main__":
    main()
