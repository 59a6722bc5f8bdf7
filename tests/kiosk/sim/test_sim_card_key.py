"""The interactive simulator's F12 scans a synthetic ID card into the kiosk."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import pytest

from kiosk.core.config import Config


def test_f12_in_the_interactive_simulator_scans_a_synthetic_card(
    cfg: Config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    import kiosk.sim.office as office
    import kiosk.ui.run as ui_run

    seen: dict[str, Any] = {}

    def fake_run_kiosk(cfg: Config, q: Any, **kw: Any) -> int:
        from kiosk.ui.app import KioskApp

        app = KioskApp(q, size=(1024, 600), fullscreen=False)
        app.start()
        try:
            kw["setup"](app)
            app.key_hooks["f12"]()  # aged 72: the priority screen
            seen["screen"] = app.model.screen if app.model else None
            seen["held"] = app.card is not None
        finally:
            app.close()
        return 0

    monkeypatch.setattr(ui_run, "run_kiosk", fake_run_kiosk)
    args = argparse.Namespace(
        out=str(tmp_path / "o"), db=None, size=None, no_display=True, mute=True
    )
    assert office.run_windows(args, cfg) == 0
    assert seen == {"screen": "priority", "held": True}
    assert "simulated ID card (age 72): ID card read, priority by age" in capsys.readouterr().out
