"""SDL video settings shared by the hall display and the kiosk screen.

Both programs draw into a plain window surface and flip it; neither needs a GPU.
Left to itself SDL 2 puts that surface on a GL texture ("framebuffer
acceleration") whenever the video driver can, which on a machine without a GPU
(Xvfb, a desktop PC's X session over llvmpipe) maps Mesa — libLLVM and the swrast
driver — into the process: measured under Xvfb, the kiosk 122 MB PSS of which
48 MB Mesa, against 45 MB with X11's native framebuffer (XShm), and the hall
display 1.5 % of a core and 108 MB against 0.10 % and 29 MB.

KMSDRM (the Raspberry Pi) has no native framebuffer in SDL 2: its window surface
always goes through the OpenGL ES renderer (EGL/GBM, the Pi's V3D driver), so the
hint is only set for X11, where it is safe.
"""

from __future__ import annotations

import os

#: SDL hint (read when the window surface is created) that turns the GL texture off.
HINT = "SDL_FRAMEBUFFER_ACCELERATION"


def prefer_native_framebuffer() -> str:
    """Call after ``pygame.display.init()`` and before ``set_mode``; returns the driver.

    Under X11 asks SDL for the native framebuffer unless the environment already
    says otherwise (``SDL_FRAMEBUFFER_ACCELERATION=1`` brings the GL texture back).
    """
    import pygame

    driver = str(pygame.display.get_driver())
    if driver == "x11":
        os.environ.setdefault(HINT, "0")
    return driver
