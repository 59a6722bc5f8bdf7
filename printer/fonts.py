"""The one font location: DejaVu Sans 2.37 (Debian fonts-dejavu-core), regular and bold.

It covers every Vietnamese letter in both cases with all five tone marks, and ₫
(tests/printer/test_fonts.py reads its character map to prove it). Everything that
draws text finds its font here and nowhere else: the ticket (``printer.layout``),
the kiosk touchscreen (``kiosk.ui.fonts``), the report charts (``kiosk.office.report``),
``kiosk doctor``'s font check and the hall display (``display.render``; ``display`` may
import this module and nothing else of ``printer``, a layer contract in pyproject.toml).
So what the citizen sees on screen, on the hall display and on paper match. The licence
is next to the fonts in ``printer/data/fonts/LICENSE-DejaVu.txt``.

If the packaged files are missing (a distribution that strips package data), the
system's copy from fonts-dejavu-core is used.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # Pillow is imported only by the callers that draw with it
    from PIL import ImageFont

FONT_DIR = Path(__file__).resolve().parent / "data" / "fonts"
REGULAR = FONT_DIR / "DejaVuSans.ttf"
BOLD = FONT_DIR / "DejaVuSans-Bold.ttf"
LICENSE = FONT_DIR / "LICENSE-DejaVu.txt"
#: Debian's fonts-dejavu-core: the fallback when the packaged copy is absent.
SYSTEM_DIR = Path("/usr/share/fonts/truetype/dejavu")


def font_path(bold: bool = False) -> Path:
    """Path of the TTF to draw with (bold or regular); FileNotFoundError says what to install."""
    shipped = BOLD if bold else REGULAR
    for p in (shipped, SYSTEM_DIR / shipped.name):
        if p.is_file():
            return p
    raise FileNotFoundError(
        f"no font with Vietnamese letters: {shipped} is missing; reinstall the package "
        "(it ships DejaVu Sans) or apt-get install fonts-dejavu-core"
    )


@lru_cache(maxsize=64)
def font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
    """A Pillow font of ``size`` pixels, cached (loading a TTF costs about a millisecond)."""
    from PIL import ImageFont

    return ImageFont.truetype(str(font_path(bold)), max(6, int(size)))
