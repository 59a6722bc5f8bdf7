"""Under X11 the kiosk screen and the hall display draw on X's native framebuffer:
no Mesa (libLLVM, swrast, libGL) mapped into either process (display.sdlvideo)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SITE = ROOT / "config" / "example.toml"
GL = ("libLLVM", "swrast", "libgallium", "libGLX", "libGL.so", "libEGL", "/dri/")


@pytest.fixture
def x_display() -> object:
    if shutil.which("Xvfb") is None:
        pytest.fail(
            "Xvfb is missing: apt-get install xvfb (make test installs it (tools/system-packages.txt))"
        )
    r, w = os.pipe()
    xvfb = subprocess.Popen(
        ["Xvfb", "-displayfd", str(w), "-screen", "0", "1024x600x24", "-nolisten", "tcp"],
        pass_fds=(w,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(w)
    with os.fdopen(r) as f:
        number = f.readline().strip()
    yield f":{number}"
    xvfb.terminate()
    xvfb.wait(10)


def _mapped_after_ready(cmd: list[str], display: object, tmp_path: Path) -> list[str]:
    """Start ``cmd`` on ``display``; after READY=1, the GL libraries it has mapped."""
    path = str(tmp_path / "notify")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.settimeout(30)
    env = {k: v for k, v in os.environ.items() if k not in ("SDL_VIDEODRIVER", "WAYLAND_DISPLAY")}
    env.update(DISPLAY=str(display), SDL_AUDIODRIVER="dummy", NOTIFY_SOCKET=path)
    env.pop("SDL_FRAMEBUFFER_ACCELERATION", None)
    p = subprocess.Popen(cmd, env=env, cwd=tmp_path, stderr=subprocess.PIPE, text=True)
    try:
        while not sock.recv(4096).startswith(b"READY=1"):
            pass
        maps = Path(f"/proc/{p.pid}/maps").read_text()
        assert "libSDL2" in maps  # it did open the window through SDL
        return sorted(
            {line.split()[-1] for line in maps.splitlines() if any(g in line for g in GL)}
        )
    finally:
        p.terminate()
        p.wait(15)
        sock.close()


def test_kiosk_run_under_x11_maps_no_mesa(x_display: object, tmp_path: Path) -> None:
    cmd = [sys.executable, "-c", "import sys; from kiosk.cli import main; sys.exit(main())"]
    cmd += ["run", "--config", str(SITE), "--db", str(tmp_path / "q.db"), "--no-gpio"]
    cmd += ["--printer", f"png:{tmp_path / 'tickets'}", "--windowed", "--size", "1024x600"]
    assert _mapped_after_ready(cmd, x_display, tmp_path) == []


def test_hall_display_under_x11_maps_no_mesa(x_display: object, tmp_path: Path) -> None:
    cmd = [sys.executable, "-m", "display.cli", "run", "--port", str(tmp_path / "no-port")]
    cmd += ["--mute", "--windowed", "--size", "1024x600"]
    assert _mapped_after_ready(cmd, x_display, tmp_path) == []
