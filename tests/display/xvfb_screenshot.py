"""Screenshot of the real hall-display app under Xvfb, fed by the kiosk link over a pty.

    .venv/bin/python tests/display/xvfb_screenshot.py --out docs/img/hall-display-1920.png

Starts Xvfb, a kiosk queue with the example site (a Monday morning, a few tickets
called), the kiosk's display link, and ``hall-display run`` full screen on the
virtual X server; waits until the app's status file shows the kiosk's state, then
grabs the X screen with Pillow. Used by tests/display/test_app.py and to make the
picture in docs/.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from display.ptylink import PtyRelay  # noqa: E402
from kiosk.core.config import load  # noqa: E402
from kiosk.core.queue import Queue  # noqa: E402
from kiosk.core.store import Store  # noqa: E402
from kiosk.outputs.display_feed import DisplayLink  # noqa: E402


def start_xvfb(width: int, height: int) -> tuple[subprocess.Popen[bytes], str]:
    r, w = os.pipe()
    proc = subprocess.Popen(
        ["Xvfb", "-displayfd", str(w), "-screen", "0", f"{width}x{height}x24", "-nolisten", "tcp"],
        pass_fds=(w,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(w)
    with os.fdopen(r) as f:
        number = f.readline().strip()
    if not number:
        proc.kill()
        raise RuntimeError("Xvfb did not start")
    return proc, f":{number}"


def shoot(out: Path, width: int = 1920, height: int = 1080) -> dict:
    from PIL import ImageGrab

    cfg = load(ROOT / "config" / "example.toml")
    t = datetime.fromisoformat("2026-11-30T09:41:00").replace(tzinfo=cfg.tz).timestamp()
    start = time.time()

    def clock() -> float:
        return t + (time.time() - start)

    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        xvfb, xdisplay = start_xvfb(width, height)
        store = Store(d / "queue.db")
        queue = Queue(cfg, store, clock)
        line = PtyRelay(d).start()
        link = DisplayLink(queue, port=str(line.kiosk_port))
        status = d / "status.json"
        env = dict(os.environ, DISPLAY=xdisplay, SDL_AUDIODRIVER="dummy")
        env.pop("SDL_VIDEODRIVER", None)
        app = subprocess.Popen(
            [sys.executable, "-m", "display.cli", "run", "--port", str(line.display_port)]
            + ["--status-file", str(status), "--mute"],
            cwd=ROOT,
            env=env,
        )
        try:
            for sid, n in [("hotich", 9), ("chungthuc", 6), ("datdai", 3), ("ldtbxh", 4)]:
                for _ in range(n):
                    queue.issue(sid)
            queue.issue("kinhte")
            queue.issue("tracuu")
            for c in (1, 2, 3, 4, 1, 5, 2):
                queue.call_next(c)
            link.start()
            time.sleep(1.0)
            newest = queue.call_next(3)
            assert newest is not None
            deadline = time.monotonic() + 20
            doc: dict = {}
            while time.monotonic() < deadline:
                try:
                    doc = json.loads(status.read_text(encoding="utf-8"))
                except (FileNotFoundError, json.JSONDecodeError):
                    doc = {}
                if (
                    doc.get("link") == "up"
                    # Items arrive one by one: the list may still be empty.
                    and (doc.get("last_calls") or [{}])[0].get("code") == newest.code
                ):
                    break
                time.sleep(0.05)
            else:
                raise RuntimeError(f"the display did not show the state: {doc}")
            time.sleep(1.2)  # mid-flash of the newest call
            img = ImageGrab.grab(xdisplay=xdisplay)
            out.parent.mkdir(parents=True, exist_ok=True)
            img.save(out)
            return doc
        finally:
            app.terminate()
            app.wait(10)
            link.stop()
            line.stop()
            store.close()
            xvfb.terminate()
            xvfb.wait(10)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--size", default="1920x1080")
    args = ap.parse_args()
    w, h = (int(x) for x in args.size.split("x"))
    doc = shoot(args.out, w, h)
    print(f"{args.out}: {json.dumps(doc['counters'], ensure_ascii=False)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
