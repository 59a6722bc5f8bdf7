"""The kiosk's fonts: pygame fonts loaded from the one font location, ``printer.fonts``.

pygame's bundled freesansbold.ttf lacks about 99 Vietnamese letters, so the screen
draws with the DejaVu Sans the ticket printer ships: the citizen sees the same letters
on screen and on paper.
"""

from __future__ import annotations

from functools import lru_cache

import pygame

from printer.fonts import font_path


@lru_cache(maxsize=64)
def font(size: int, bold: bool = False) -> pygame.font.Font:
    """A loaded font, cached (loading a TTF costs about a millisecond)."""
    if not pygame.font.get_init():
        pygame.font.init()
    return pygame.font.Font(str(font_path(bold)), max(6, int(size)))
