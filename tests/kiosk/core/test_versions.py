"""What the kiosk runs: its version and its dependencies' installed versions."""

from __future__ import annotations

import importlib.metadata as metadata

from kiosk.core import versions


def test_installed_lists_the_kiosk_first_then_its_runtime_dependencies_then_python() -> None:
    v = versions.installed()
    names = list(v)
    assert names[0] == "queue-kiosk" and names[-1] == "python"
    assert v["queue-kiosk"] == metadata.version("queue-kiosk")
    assert v["pygame-ce"] == metadata.version("pygame-ce")
    assert v["python-escpos"] == metadata.version("python-escpos")
    # The central and test extras are not what a kiosk runs.
    assert "fastapi" not in v and "pytest" not in v


def test_a_dependency_for_another_machine_is_left_out_not_reported_missing() -> None:
    v = versions.installed()
    assert v.get("lgpio") != "not installed"


def test_summary_is_one_line_naming_each_version() -> None:
    line = versions.summary({"queue-kiosk": "0.1.0", "pygame-ce": "2.5.8", "python": "3.11.2"})
    assert line == "queue-kiosk 0.1.0; pygame-ce 2.5.8, python 3.11.2"
