"""The kiosk screenshots script under Xvfb: a real X11 window, every screen drawn."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[3]
SCREENS = (
    "home",
    "printing",
    "result",
    "priority",
    "home-en",
    "printer-trouble",
    "result-printer-trouble",
    "paused",
    "help",
    "home-booking",
    "booking-code",
    "booking-refused",
    "guide",
    "procedure",
    "closed",
)


def test_the_screenshot_script_draws_every_screen_in_an_x11_window(tmp_path: Path) -> None:
    if shutil.which("xvfb-run") is None:
        pytest.fail(
            "xvfb-run is missing: apt-get install xvfb (make test installs it (tools/system-packages.txt))"
        )
    env = {k: v for k, v in os.environ.items() if k != "SDL_VIDEODRIVER"}
    env.update(SDL_AUDIODRIVER="dummy", PYGAME_HIDE_SUPPORT_PROMPT="1")
    r = subprocess.run(
        ["xvfb-run", "-a", "-s", "-screen 0 1280x1024x24", sys.executable,
         str(ROOT / "docs" / "screenshots.py"), "--out", str(tmp_path), "--size", "1024x600"],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    for name in SCREENS:
        im = Image.open(tmp_path / f"kiosk-{name}.png").convert("RGB")
        assert im.size == (1024, 600)
        # Not a blank window: many colours, and the header band in its dark red.
        assert len(im.getcolors(1 << 16) or range(1 << 16)) > 50, name
        assert im.getpixel((400, 5)) == (140, 22, 22), name
