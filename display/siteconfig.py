"""The display Pi's share of the site file: the ``[display]`` and ``[announcer]`` sections.

These two sections are declared here, once: each key is a dataclass field whose
``metadata`` carries its documentation and limits (see :func:`key`). The kiosk's
site-file schema (``kiosk/core/config.py``) imports these classes, so ``kiosk
check-config`` and this reader check the same keys against the same defaults.

The display does not import the kiosk package (it runs alone on its own Pi), so
:func:`read` checks just these two sections of the same TOML file and names the
file and key of anything wrong.
"""

from __future__ import annotations

import tomllib
import typing
from dataclasses import MISSING, dataclass, field, fields
from pathlib import Path
from typing import Any, Literal

#: ``key(REQUIRED, ...)``: the site file must give this key.
REQUIRED: Any = MISSING


def key(
    default: Any = REQUIRED,
    doc: str = "",
    *,
    kind: str | None = None,
    min: float | None = None,
    max: float | None = None,
    pattern: str | None = None,
) -> Any:
    """One site-file key, declared as a dataclass field.

    The field's type annotation gives the kind (``str``, ``int``, ``float``, ``bool``,
    ``Literal[...]`` for a choice, ``tuple[str, ...]``/``tuple[int, ...]`` for a list);
    ``kind`` names the special text and number kinds: ``"path"``, ``"time"`` ("HH:MM")
    and ``"pin"`` (a BCM GPIO number, 0 = none). ``min``/``max`` bound numbers;
    ``pattern`` is a regular expression a text must match.
    """
    meta = {"doc": doc, "kind": kind, "min": min, "max": max, "pattern": pattern}
    if default is REQUIRED:
        return field(metadata=meta)
    return field(default=default, metadata=meta)


@dataclass(frozen=True)
class DisplaySection:
    """``[display]``: the serial link from the kiosk to the hall display."""

    port: str = key("/dev/hall-display", "Serial port of the hall display link")
    baud: int = key(115200, "Baud rate of the display link", min=1200, max=4000000)
    address: int = key(0, "Address of the hall display", min=0, max=254)
    enabled: bool = key(True, "Feed the hall display over the serial link")
    notice: str = key("", "Notice line scrolling at the bottom of the hall display")
    call_max_age: int = key(
        120, "Calls older than this (seconds) are shown but not announced", min=5, max=3600
    )


@dataclass(frozen=True)
class AnnouncerSection:
    """``[announcer]``: the voice that calls numbers on the hall display."""

    enabled: bool = key(True, "Speak calls aloud on the hall display")
    numbers: Literal["number", "digits"] = key(
        "number", "Read numbers as a whole number or digit by digit"
    )
    chime: bool = key(True, "Play a chime before each call")
    voice_dir: str = key(
        "/etc/hall-display/voice",
        "Folder of recorded WAV clips that replace the built-in voice",
        kind="path",
    )


class SiteConfigError(Exception):
    """The site file cannot be used by the display; the message says what to fix."""


@dataclass(frozen=True)
class DisplaySettings:
    """What the hall display reads from the site file."""

    display: DisplaySection = DisplaySection()
    announcer: AnnouncerSection = AnnouncerSection()


def read(path: Path) -> DisplaySettings:
    """Read [display] and [announcer] from a site file; raises SiteConfigError."""
    try:
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise SiteConfigError(f"{path}: file not found; give the site file's path") from None
    except UnicodeDecodeError:
        raise SiteConfigError(f"{path}: not UTF-8 text; save it as UTF-8") from None
    except OSError as e:
        raise SiteConfigError(f"{path}: cannot be read: {e.strerror}") from None
    try:
        raw = tomllib.loads(text.removeprefix("\ufeff").replace("\r\n", "\n"))
    except tomllib.TOMLDecodeError as e:
        raise SiteConfigError(f"{path}: TOML syntax error: {e}") from None
    problems: list[str] = []
    display = _section(raw, "display", DisplaySection, path, problems)
    announcer = _section(raw, "announcer", AnnouncerSection, path, problems)
    if problems:
        raise SiteConfigError("\n".join(problems))
    return DisplaySettings(display, announcer)


def _section(
    raw: dict[str, Any], name: str, cls: type[Any], path: Path, problems: list[str]
) -> Any:
    """``cls`` filled from ``raw[name]``; a key that is wrong keeps its default, named in
    ``problems``. Unknown keys are left to ``kiosk check-config`` (the kiosk's keys share
    the file)."""
    table = raw.get(name, {})
    if not isinstance(table, dict):
        problems.append(f"{path}: {name}: expected a table [{name}]")
        return cls()
    hints = typing.get_type_hints(cls)
    values: dict[str, Any] = {}
    for f in fields(cls):
        if f.name not in table:
            continue
        v, m, t = table[f.name], f.metadata, hints[f.name]
        kp = f"{name}.{f.name}"
        if typing.get_origin(t) is Literal:
            choices = typing.get_args(t)
            if v not in choices:
                want = " or ".join(f'"{c}"' for c in choices)
                problems.append(f"{path}: {kp}: expected {want}, found {v!r}")
                continue
        elif t is bool:
            if not isinstance(v, bool):
                problems.append(f"{path}: {kp}: expected true or false, found {v!r}")
                continue
        elif t is int:
            if isinstance(v, bool) or not isinstance(v, int):
                problems.append(f"{path}: {kp}: expected a whole number, found {v!r}")
                continue
            lo, hi = m["min"], m["max"]
            if lo is not None and v < lo or hi is not None and v > hi:
                problems.append(f"{path}: {kp}: {v} is not {lo:g}–{hi:g}")
                continue
        elif t is str and not isinstance(v, str):
            problems.append(f"{path}: {kp}: expected text in quotes, found {v!r}")
            continue
        values[f.name] = v
    return cls(**values)
