"""A worker process for the uplink crash test: sends the backlog until killed.

Usage: uplink_worker.py DB URL TOKEN. Runs the real uplink loop (thread) against the
receiver the test serves on 127.0.0.1, with small batches so a SIGKILL lands between
a receiver's acknowledgement and the cursor's commit often enough.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

from kiosk.core.store import Store  # noqa: E402
from kiosk.office.uplink import Uplink, UplinkSettings  # noqa: E402


def main() -> None:
    db, url, token = sys.argv[1:4]
    settings = UplinkSettings(
        url=url, token=token, site="crash", batch_size=3, min_backoff=0.01, max_backoff=0.05
    )
    Uplink(Store(db), settings).start()
    print("STARTED", flush=True)
    while True:
        time.sleep(1)


if __name__ == "__main__":
    main()
