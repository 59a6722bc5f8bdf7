"""The kiosk's fonts: the shipped DejaVu Sans (full Vietnamese coverage).

pygame's bundled freesansbold.ttf lacks about 99 Vietnamese letters, so the
screen uses the same TTF the ticket printer ships (``printer.fonts``), falling
back to the Debian fonts-dejavu-core copy.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pygame

SYSTEM_DEJAVU = Path("/usr/share/fonts/truetype/dejavu")


def font_path(bold: bool = False) -> str:
    """Path of the TTF with Vietnamese coverage the screen draws with."""
    try:
        from printer.fonts import font_path as shipped

        p = Path(shipped(bold))
        if p.is_file():
            return str(p)
    except (ImportError, AttributeError, OSError):
        pass
    p = SYSTEM_DEJAVU / ("DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf")
    if p.is_file():
        return str(p)
    raise FileNotFoundError(
        "no font with Vietnamese letters found: install the package (it ships DejaVu Sans) "
        "or the Debian package fonts-dejavu-core"
    )


@lru_cache(maxsize=64)
def font(size: int, bold: bool = False) -> pygame.font.Font:
    """A loaded font, cached (loading a TTF costs about a millisecond)."""
    if not pygame.font.get_init():
        pygame.font.init()
    return pygame.font.Font(font_path(bold), max(6, int(size)))
