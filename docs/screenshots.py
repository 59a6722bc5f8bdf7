"""Screenshots of the kiosk screens for the README and docs/ui.md.

Run through docs/screenshots.sh, which starts Xvfb so the window is a real X11
window drawn by the same code as on a kiosk. Each screen is reached the way a
citizen or a fault reaches it (a touch, a printer_status event, the clock
passing closing time), then the window's surface is saved as
docs/img/kiosk-NAME.png.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from dataclasses import replace
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import pygame  # noqa: E402

from kiosk.core.config import load  # noqa: E402
from kiosk.inputs.keys import KeyMap  # noqa: E402
from kiosk.core.queue import Queue  # noqa: E402
from kiosk.core.store import Store  # noqa: E402
from kiosk.ui.app import KioskApp, parse_size  # noqa: E402


class Clock:
    def __init__(self, t: float):
        self.t = t

    def __call__(self) -> float:
        return self.t


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--out", default=str(ROOT / "docs" / "img"))
    p.add_argument("--size", default="1024x600")
    p.add_argument("--suffix", default="", help="added to each file name, e.g. -800x480")
    args = p.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    cfg = load(ROOT / "config" / "example.toml")
    tmp = tempfile.mkdtemp()
    clock = Clock(datetime(2026, 11, 30, 9, 41, tzinfo=cfg.tz).timestamp())
    mono = Clock(1000.0)
    store = Store(Path(tmp) / "queue.db")
    q = Queue(cfg, store, clock)
    for sid in ("hotich", "hotich", "chungthuc", "hotich", "datdai"):
        q.issue(sid)
    q.call_next(1)
    app = KioskApp(
        q, size=parse_size(args.size), fullscreen=False, mono=mono, keymap=KeyMap(cfg, staff=True)
    )
    app.start()
    m = app.model
    assert m is not None

    def shot(name: str) -> None:
        app.step()
        app.draw(force=True)
        path = out / f"kiosk-{name}{args.suffix}.png"
        pygame.image.save(app.surface, str(path))
        print(path)

    def touch(label: str) -> None:
        mono.t += 1
        for t in m.targets():
            if t.label == label:
                app.touch(t.rect.center)
                return
        raise SystemExit(f"no {label} on {m.screen}")

    shot("home")
    touch("hotich")
    # The feedback frame, as drawn within a frame of the touch.
    pygame.image.save(app.surface, str(out / f"kiosk-printing{args.suffix}.png"))
    print(out / f"kiosk-printing{args.suffix}.png")
    pending = m.pending
    assert pending is not None and pending.ticket_id is not None
    q.record_print(pending.ticket_id, True, "screenshot")
    app.follow()
    shot("result")
    mono.t += 60
    app.step()
    touch("priority")
    shot("priority")
    touch("back")
    touch("language")
    shot("home-en")
    touch("language")
    q.record("printer_status", state="paper_out", detail="screenshot")
    app.follow()
    shot("printer-trouble")
    touch("ldtbxh")
    shot("result-printer-trouble")
    mono.t += 60
    cfg.printer = replace(cfg.printer, on_fault="pause")
    m.settle(mono.t)
    shot("paused")
    cfg.printer = replace(cfg.printer, on_fault="show_on_screen")
    q.record("printer_status", state="ok", detail="screenshot")
    app.follow()
    m.help = True
    m.version += 1
    shot("help")
    m.help = False
    # The procedure guide ([guide] file): search typed without diacritics, a procedure.
    touch("guide")
    for ch in "HO TICH":
        touch("␣" if ch == " " else ch)
    shot("guide")
    touch("Đăng ký khai sinh")
    shot("procedure")
    touch("back")
    touch("back")
    # Appointment check-in ([appointments] enabled): the booking button, the code screen.
    from kiosk.office.bookings import Booking, save_bookings

    save_bookings(store, q.today(), [Booking(q.today(), "HEN0425", "datdai")], clock())
    m.appointments = True
    m.version += 1
    shot("home-booking")
    touch("appointment")
    for ch in "HEN04":
        touch(ch)
    shot("booking-code")
    for ch in "99":
        touch(ch)
    touch("ok")
    shot("booking-refused")
    touch("back")
    m.appointments = False
    clock.t = datetime(2026, 11, 30, 17, 30, tzinfo=cfg.tz).timestamp()
    mono.t += 2
    shot("closed")
    app.close()
    store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
