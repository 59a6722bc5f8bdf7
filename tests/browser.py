"""Launching a real browser for the tests: Playwright driving Debian's chromium.

Playwright cannot download its own browser here: it drives /usr/bin/chromium
(``apt-get install chromium``; make test installs it, tools/system-packages.txt).
Shared by tests/kiosk/web/test_browser.py and tests/central/test_browser.py.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SIZES = {"phone": (360, 740), "tablet": (800, 1280), "pc": (1366, 768)}
#: KIOSK_SCREENSHOTS=1 writes the screenshots into docs/img (else a temporary folder).
IMG = ROOT / "docs" / "img"


def wait_for(cond: Callable[[], Any], timeout: float = 20.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = cond()
        if v:
            return v
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


@contextmanager
def chromium() -> Iterator[Any]:
    """A headless chromium (a Playwright ``Browser``), closed afterwards."""
    if not Path(CHROMIUM).exists():
        pytest.fail(
            "chromium is missing: apt-get install chromium; make test installs it (tools/system-packages.txt)"
        )
    from playwright.sync_api import sync_playwright

    pw = sync_playwright().start()
    try:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield b
        finally:
            b.close()
    finally:
        pw.stop()
