"""What this kiosk runs: its own version and the installed versions of the packages it
depends on, from the installed distributions' metadata (:mod:`importlib.metadata`).

``kiosk doctor`` prints them and the uplink's heartbeat sends them, so a province can
say what each device in its fleet runs. Read once per process (10–50 ms on a PC: the
metadata files of some twenty installed packages).
"""

from __future__ import annotations

import functools
import importlib.metadata as metadata
import re

#: The kiosk's distribution name (pyproject.toml ``[project] name``).
DISTRIBUTION = "queue-kiosk"
_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@functools.lru_cache(maxsize=1)
def installed() -> dict[str, str]:
    """``{name: version}``: ``queue-kiosk`` first, then each runtime dependency named in
    its metadata (not the ``central`` or ``test`` extras), then ``python``. A missing
    dependency is ``"not installed"``, unless it is only for another machine (``lgpio``
    off a Pi)."""
    import platform

    try:
        dist = metadata.distribution(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        from kiosk import __version__

        return {DISTRIBUTION: f"{__version__} (not installed)", "python": platform.python_version()}
    out = {DISTRIBUTION: dist.version}
    for req in dist.requires or []:
        if "extra ==" in req:
            continue
        m = _NAME.match(req)
        if m is None:
            continue
        name = _normal(m.group(1))
        if name in out:
            continue
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            if ";" not in req:  # one for another machine (lgpio: Pi only) is left out
                out[name] = "not installed"
    out["python"] = platform.python_version()
    return out


def summary(versions: dict[str, str] | None = None) -> str:
    """One line: ``queue-kiosk 0.1.0; pygame-ce 2.5.2, python-escpos 3.1, …``."""
    v = dict(versions if versions is not None else installed())
    head = f"{DISTRIBUTION} {v.pop(DISTRIBUTION, '?')}"
    return head + "; " + ", ".join(f"{k} {x}" for k, x in v.items())
