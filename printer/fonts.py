"""The shipped font: DejaVu Sans 2.37 (Debian fonts-dejavu-core), regular and bold.

It covers every Vietnamese letter in both cases with all five tone marks, and ₫
(tests/printer/test_fonts.py reads its character map to prove it). The ticket,
the kiosk touchscreen (``kiosk.ui.fonts``) and anything else on the kiosk draw
with these files, so what the citizen sees on screen and on paper match. The
licence is next to the fonts in ``printer/data/fonts/LICENSE-DejaVu.txt``.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from PIL import ImageFont

FONT_DIR = Path(__file__).resolve().parent / "data" / "fonts"
REGULAR = FONT_DIR / "DejaVuSans.ttf"
BOLD = FONT_DIR / "DejaVuSans-Bold.ttf"
LICENSE = FONT_DIR / "LICENSE-DejaVu.txt"


def font_path(bold: bool = False) -> Path:
    """Path of the shipped TTF (bold or regular)."""
    return BOLD if bold else REGULAR


@lru_cache(maxsize=64)
def font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
    """A Pillow font of ``size`` pixels, cached (loading a TTF costs about a millisecond)."""
    return ImageFont.truetype(str(font_path(bold)), max(6, int(size)))
