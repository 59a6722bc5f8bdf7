"""`kiosk run` as systemd runs it: a real process, READY=1 after the first frame,
watchdog pings from the loop, a clean stop on SIGTERM, plain words for bad input."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kiosk.cli import main

ROOT = Path(__file__).resolve().parents[3]
SITE = ROOT / "config" / "example.toml"


def test_kiosk_run_says_ready_pings_the_watchdog_and_stops_on_sigterm(tmp_path: Path) -> None:
    path = str(tmp_path / "notify")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.settimeout(20)
    env = dict(
        os.environ,
        NOTIFY_SOCKET=path,
        WATCHDOG_USEC="2000000",  # pings every second at most
        SDL_VIDEODRIVER="dummy",
        SDL_AUDIODRIVER="dummy",
    )
    cmd = [sys.executable, "-c", "import sys; from kiosk.cli import main; sys.exit(main())"]
    cmd += ["run", "--config", str(SITE), "--db", str(tmp_path / "q.db"), "--no-gpio"]
    cmd += ["--printer", f"png:{tmp_path / 'tickets'}", "--size", "800x480"]
    p = subprocess.Popen(cmd, env=env, cwd=ROOT, stderr=subprocess.PIPE, text=True)
    try:
        got: list[bytes] = []
        t0 = time.monotonic()
        while not any(m.startswith(b"READY=1") for m in got):
            got.append(sock.recv(4096))
        ready_s = time.monotonic() - t0
        # WATCHDOG_PID is not set, so the interval applies to this child: a ping within ~1 s.
        sock.settimeout(3)
        assert sock.recv(4096) == b"WATCHDOG=1"
        p.send_signal(signal.SIGTERM)
        assert p.wait(15) == 0
        rest = []
        sock.settimeout(1)
        try:
            while True:
                rest.append(sock.recv(4096))
        except TimeoutError:
            pass
        assert b"STOPPING=1" in rest
        assert "Traceback" not in (p.stderr.read() if p.stderr else "")
        assert ready_s < 20
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        sock.close()


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--size", "huge"], 'screen size "huge" should look like 1024x600'),
        (["--size", "10x10"], "out of range"),
    ],
)
def test_bad_arguments_are_named_and_exit_2(
    args: list[str], words: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rc = main(["run", "--config", str(SITE), "--db", str(tmp_path / "q.db"), *args])
    err = capsys.readouterr().err
    assert rc == 2 and words in err and "Traceback" not in err
