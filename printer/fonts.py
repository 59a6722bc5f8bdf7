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

import struct
from bisect import bisect_left
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


class CharMap:
    """Which characters a TrueType font draws, read from its ``cmap`` table (formats 4
    and 12) without Pillow or fontTools: opening costs about 0.3 ms, a look-up one
    binary search. Characters mapped to glyph 0 (the empty box) count as missing."""

    def __init__(self, path: Path):
        data = b""
        with open(path, "rb") as f:
            (num_tables,) = struct.unpack(">H", f.read(12)[4:6])
            directory = f.read(16 * num_tables)
            for i in range(num_tables):
                tag, _, offset, length = struct.unpack_from(">4sIII", directory, 16 * i)
                if tag == b"cmap":
                    f.seek(offset)
                    data = f.read(length)
        self.data = data
        #: format 4 (the BMP): segment ends, starts, deltas, range offsets
        self.bmp: tuple[tuple[int, ...], ...] | None = None
        self.range_offsets_at = 0
        #: format 12 (all planes): (first char, last char, first glyph)
        self.groups: list[tuple[int, int, int]] = []
        if not data:
            return
        (n,) = struct.unpack_from(">H", data, 2)
        for i in range(n):
            _, _, t = struct.unpack_from(">HHI", data, 4 + 8 * i)
            (fmt,) = struct.unpack_from(">H", data, t)
            if fmt == 4 and self.bmp is None:
                (seg2,) = struct.unpack_from(">H", data, t + 6)
                segs = seg2 // 2
                ends = struct.unpack_from(f">{segs}H", data, t + 14)
                starts = struct.unpack_from(f">{segs}H", data, t + 16 + seg2)
                deltas = struct.unpack_from(f">{segs}h", data, t + 16 + 2 * seg2)
                self.range_offsets_at = t + 16 + 3 * seg2
                offsets = struct.unpack_from(f">{segs}H", data, self.range_offsets_at)
                self.bmp = (ends, starts, deltas, offsets)
            elif fmt == 12 and not self.groups:
                (count,) = struct.unpack_from(">I", data, t + 12)
                self.groups = [
                    struct.unpack_from(">III", data, t + 16 + 12 * g) for g in range(count)
                ]
        self.group_ends = [g[1] for g in self.groups]

    def __contains__(self, char: object) -> bool:
        if not isinstance(char, str) or len(char) != 1:
            return False
        c = ord(char)
        if self.groups:
            k = bisect_left(self.group_ends, c)
            if k == len(self.groups):
                return False
            start, _, first = self.groups[k]
            return c >= start and first + c - start != 0
        if self.bmp is None or c > 0xFFFF:
            return False
        ends, starts, deltas, offsets = self.bmp
        k = bisect_left(ends, c)
        if k == len(ends) or starts[k] > c:
            return False
        if offsets[k] == 0:
            return (c + deltas[k]) & 0xFFFF != 0
        at = self.range_offsets_at + 2 * k + offsets[k] + 2 * (c - starts[k])
        (g,) = struct.unpack_from(">H", self.data, at)
        return g != 0 and (g + deltas[k]) & 0xFFFF != 0


@lru_cache(maxsize=4)
def charmap(bold: bool = False) -> CharMap:
    """The character map of the font :func:`font_path` gives; OSError if unreadable."""
    return CharMap(font_path(bold))


def cannot_draw(text: str) -> list[str]:
    """The characters of ``text`` that the regular or the bold font lacks (each drawn as
    an empty box), in order of appearance; [] when every character is there.
    Line ends, tabs and the non-breaking space are layout, not glyphs."""
    regular, bold = charmap(False), charmap(True)
    out: list[str] = []
    for ch in text:
        if ch in "\n\t\u00a0" or ch in out:
            continue
        if ch not in regular or ch not in bold:
            out.append(ch)
    return out
