"""The display Pi's share of the site file: [display] baud/address and [announcer].

The display does not import the kiosk package (it runs alone on its own Pi), so
it reads the few keys it needs from the same TOML site file itself. The kiosk's
``kiosk check-config`` validates the whole file; this reader checks just these
keys and names the file and key of anything wrong.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any


class SiteConfigError(Exception):
    """The site file cannot be used by the display; the message says what to fix."""


@dataclass(frozen=True)
class DisplaySettings:
    baud: int = 115200
    address: int = 0
    announce: bool = True
    numbers: str = "number"
    chime: bool = True
    voice_dir: Path | None = None


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
    disp = raw.get("display", {})
    ann = raw.get("announcer", {})
    problems: list[str] = []

    def get(section: dict[str, Any], name: str, key: str, kind: type, default: Any) -> Any:
        v = section.get(key, default)
        if kind is int and (isinstance(v, bool) or not isinstance(v, int)):
            problems.append(f"{path}: {name}.{key}: expected a whole number, found {v!r}")
            return default
        if kind is not int and not isinstance(v, kind):
            problems.append(f"{path}: {name}.{key}: expected {kind.__name__}, found {v!r}")
            return default
        return v

    s = DisplaySettings(
        baud=get(disp, "display", "baud", int, 115200),
        address=get(disp, "display", "address", int, 0),
        announce=get(ann, "announcer", "enabled", bool, True),
        numbers=get(ann, "announcer", "numbers", str, "number"),
        chime=get(ann, "announcer", "chime", bool, True),
        voice_dir=Path(get(ann, "announcer", "voice_dir", str, "/etc/hall-display/voice")),
    )
    if not 1200 <= s.baud <= 4_000_000:
        problems.append(f"{path}: display.baud: {s.baud} is not 1200–4000000")
    if not 0 <= s.address <= 254:
        problems.append(f"{path}: display.address: {s.address} is not 0–254")
    if s.numbers not in ("number", "digits"):
        problems.append(
            f'{path}: announcer.numbers: expected "number" or "digits", found {s.numbers!r}'
        )
    if problems:
        raise SiteConfigError("\n".join(problems))
    return s
