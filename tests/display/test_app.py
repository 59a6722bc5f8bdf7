"""The hall-display app as a real process on a pty, fed by the kiosk link; its rendering; its CLI."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pygame
import pytest

from display import protocol as p
from display import render
from display.ptylink import PtyRelay
from display.state import HallState, status_dict, write_status
from kiosk.core.queue import Queue, QueueError
from kiosk.outputs.display_feed import DisplayLink
from printer import fonts

ROOT = Path(__file__).resolve().parents[2]
ENV = dict(os.environ, SDL_VIDEODRIVER="dummy", SDL_AUDIODRIVER="dummy")

VIETNAMESE = (
    "aàáảãạăằắẳẵặâầấẩẫậbcdđeèéẻẽẹêềếểễệghiìíỉĩịklmnoòóỏõọôồốổỗộơờớởỡợpqrstuùúủũụưừứửữựvxyỳýỷỹỵ"
)


def wait_for(cond: Callable[[], bool], timeout: float = 20.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def start_display(port: Path, status: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "display.cli", "run", "--port", str(port)]
        + ["--status-file", str(status), "--mute"],
        cwd=ROOT,
        env=ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


class StatusWatch:
    """Reads the status file continuously, as a monitoring tool would."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.seen_codes: set[str] = set()
        self.reads = 0
        self.last: dict | None = None
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)
        self._t.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                raw = self.path.read_text(encoding="utf-8")
            except FileNotFoundError:
                time.sleep(0.01)
                continue
            doc = json.loads(raw)  # never half-written: it must always parse
            self.reads += 1
            self.last = doc
            self.seen_codes.update(c for c in doc["counters"].values() if c)
            self.seen_codes.update(c["code"] for c in doc["last_calls"])
            time.sleep(0.01)

    def stop(self) -> None:
        self._stop.set()
        self._t.join()


def matches(queue: Queue, doc: dict | None) -> bool:
    if doc is None or doc["link"] != "up":
        return False
    st = queue.status()
    return doc["counters"] == {str(c["id"]): c["current"] for c in st["counters"]} and doc[
        "waiting"
    ] == {s["id"]: s["waiting"] for s in st["services"]}


def called_codes(queue: Queue) -> set[str]:
    evs = queue.store.events_since(0, 10000, types=("ticket_called", "ticket_recalled"))
    return {e.code or "" for e in evs}


@pytest.fixture
def line(tmp_path: Path) -> Iterator[PtyRelay]:
    relay = PtyRelay(tmp_path, seed=7).start()
    yield relay
    relay.stop()


@pytest.fixture
def link(queue: Queue, line: PtyRelay) -> Iterator[DisplayLink]:
    lk = DisplayLink(queue, port=str(line.kiosk_port))
    lk.start()
    yield lk
    lk.stop()


def test_display_app_converges_on_a_noisy_line_and_survives_a_reboot(queue, line, link, tmp_path):
    status = tmp_path / "status.json"
    proc = start_display(line.display_port, status)
    watch = StatusWatch(status)
    try:
        line.set_noise(drop=0.01, duplicate=0.002, corrupt=0.01)
        for i in range(12):
            queue.issue(["hotich", "chungthuc", "datdai"][i % 3])
        for counter in (1, 2, 3, 4, 1, 2, 3, 1):
            try:
                queue.call_next(counter)
            except QueueError:
                pass
            time.sleep(0.05)
        queue.recall(1)
        # The noise must be real however fast this machine is: how many bytes cross the
        # line in a given time depends on the machine, so recall until the seeded relay
        # has dropped and corrupted bytes (a count of frames decides, not a time).
        for _ in range(500):
            if line.stats["dropped"] and line.stats["corrupted"]:
                break
            queue.recall(1)
            time.sleep(0.02)
        wait_for(lambda: bool(line.stats["dropped"] and line.stats["corrupted"]), 60, "noise")
        wait_for(lambda: matches(queue, watch.last), 40, "status file to match the kiosk")
        # Reboot the display mid-day: killed at once, started again, empty.
        proc.kill()
        proc.wait()
        newest = queue.call_next(3)
        assert newest is not None
        proc = start_display(line.display_port, status)

        def caught_up() -> bool:
            doc = watch.last
            return (
                matches(queue, doc)
                and doc["site"] == queue.cfg.site.name
                and doc["last_calls"][:1]
                == [{"code": newest.code, "counter": 3, "service": newest.service, "recall": False}]
            )

        # Items arrive one by one: the counter may show B003 before the list has it.
        wait_for(caught_up, 40, "rebooted display to catch up")
        doc = watch.last
        assert doc is not None
        assert doc["site"] == queue.cfg.site.name
    finally:
        watch.stop()
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=10)
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    assert watch.reads > 20
    assert line.stats["corrupted"] > 0 and line.stats["dropped"] > 0  # the noise was real
    assert watch.seen_codes <= called_codes(queue), "showed a number that was not called"


def test_status_file_shows_link_lost_when_heartbeats_stop_and_keeps_the_state(
    queue, line, link, tmp_path
):
    status = tmp_path / "status.json"
    proc = start_display(line.display_port, status)
    watch = StatusWatch(status)
    try:
        queue.issue("hotich")
        queue.call_next(1)
        wait_for(lambda: matches(queue, watch.last), what="first state")
        link.stop()  # the kiosk stops talking
        wait_for(lambda: watch.last is not None and watch.last["link"] == "down", 30)
        assert watch.last is not None and watch.last["counters"]["1"] == "A001"
    finally:
        watch.stop()
        proc.terminate()
        proc.communicate(timeout=10)


def test_cli_refuses_bad_arguments_with_a_message_not_a_traceback(tmp_path):
    for args, needle in [
        (["--address", "300"], "address"),
        (["--baud", "fast"], "baud"),
        (["--size", "big"], "1920x1080"),
        (["--status-file", str(tmp_path / "no" / "s.json")], "does not exist"),
    ]:
        r = subprocess.run(
            [sys.executable, "-m", "display.cli", "run", "--port", "/dev/null", *args],
            cwd=ROOT,
            env=ENV,
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert r.returncode == 2, (args, r.stderr)
        assert needle in r.stderr and "Traceback" not in r.stderr


def test_missing_port_keeps_the_app_running_and_shows_link_lost(tmp_path):
    status = tmp_path / "status.json"
    proc = start_display(tmp_path / "no-such-port", status)
    try:
        wait_for(status.exists, what="status file")
        assert json.loads(status.read_text())["link"] == "down"
        assert proc.poll() is None
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=10)
    assert "no-such-port" in err and "Traceback" not in err


def test_status_file_is_replaced_atomically(tmp_path):
    path = tmp_path / "s.json"
    state = HallState()
    write_status(path, status_dict(state.view()))
    assert json.loads(path.read_text())["link"] == "down"
    assert [f.name for f in tmp_path.iterdir()] == ["s.json"]


# ----------------------------------------------------------------------------- rendering


@pytest.fixture(scope="module")
def fonts_ready() -> Iterator[None]:
    pygame.font.init()
    yield


def _glyph(font: pygame.font.Font, ch: str) -> bytes:
    return pygame.image.tobytes(font.render(ch, False, (255, 255, 255), (0, 0, 0)), "RGB")


def test_the_shipped_font_has_every_vietnamese_letter(fonts_ready):
    path = fonts.font_path(bold=True)
    font = pygame.font.Font(str(path), 40)
    missing_glyph = _glyph(font, "\ue000")  # a private-use code point: the .notdef box
    letters = VIETNAMESE + VIETNAMESE.upper()
    missing = [ch for ch in letters if _glyph(font, ch) == missing_glyph]
    assert not missing, f"{path.name} lacks {''.join(missing)}"


def _snapshot(n_counters: int = 5) -> p.Snapshot:
    return p.Snapshot(
        state_id=9,
        clock=p.Clock(1764468000, 420),
        site="UBND phường Nghĩa Tân",
        counters=tuple(
            p.CounterState(i, f"Quầy {i}", f"A{i:03d}" if i % 2 else "", i != 4)
            for i in range(1, n_counters + 1)
        ),
        services=(
            p.ServiceState("hotich", "Tư pháp – Hộ tịch", 12),
            p.ServiceState("ldtbxh", "Lao động – Thương binh và Xã hội", 3),
        ),
        recent=tuple(p.Call(f"A{i:03d}", i, "hotich", call_id=i) for i in (5, 3, 1)),
        notice="Xin cảm ơn",
    )


def _count(surface: pygame.Surface, rect: pygame.Rect, color: tuple[int, int, int]) -> int:
    n = 0
    for x in range(rect.left, rect.right, 3):
        for y in range(rect.top, rect.bottom, 3):
            if surface.get_at((x, y))[:3] == color:
                n += 1
    return n


@pytest.mark.parametrize("size", [(1920, 1080), (1280, 720)])
def test_rendering_shows_the_newest_call_the_counters_and_the_link_mark(fonts_ready, size):
    w, h = size
    surface = pygame.Surface(size)
    r = render.Renderer(surface)
    state = HallState()
    state.apply_snapshot(_snapshot())
    header = pygame.Rect(0, 0, w, int(h * 0.09))
    call_panel = pygame.Rect(int(w * 0.015), int(h * 0.2), int(w * 0.5), int(h * 0.3))
    counters = pygame.Rect(int(w * 0.54), int(h * 0.17), int(w * 0.445), int(h * 0.4))

    r.draw(state.view(), time.monotonic(), state.now())
    assert _count(surface, header, render.RED) > 50  # "Mất kết nối": link not up yet
    assert _count(surface, call_panel, render.ACCENT) > 50  # the newest code, large
    assert _count(surface, counters, render.ACCENT) > 20  # current numbers per counter

    state.set_link(True)
    r.draw(state.view(), time.monotonic(), state.now())
    assert _count(surface, header, render.RED) == 0

    state.apply_call(p.Call("B007", 2, "chungthuc", call_id=99))
    k = int(time.monotonic() / render.FLASH_PERIOD_S) + 2
    now = (k + k % 2) * render.FLASH_PERIOD_S + 0.01  # an even half-period: flash "on"
    r.draw(state.view(), now, state.now())  # an "on" phase of the flash
    assert _count(surface, call_panel, render.FLASH_BG) > 1000
    r.draw(state.view(), now + 60, state.now())  # long after: steady again
    assert _count(surface, call_panel, render.FLASH_BG) == 0


def test_many_counters_and_long_names_fit_the_screen(fonts_ready):
    surface = pygame.Surface((1280, 720))
    r = render.Renderer(surface)
    state = HallState()
    state.apply_snapshot(_snapshot(30))
    r.draw(state.view(), time.monotonic(), state.now())
    assert r.fit("Lao động – Thương binh và Xã hội", 40, 200).endswith("…")
    assert r.font(40).size(r.fit("Lao động – Thương binh và Xã hội", 40, 200))[0] <= 200


def test_screenshot_of_the_real_app_under_xvfb(tmp_path):
    out = tmp_path / "shot.png"
    r = subprocess.run(
        [sys.executable, str(ROOT / "tests" / "display" / "xvfb_screenshot.py")]
        + ["--out", str(out), "--size", "1280x720"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    from PIL import Image

    img = Image.open(out).convert("RGB")
    assert img.size == (1280, 720)
    colors = img.getcolors(maxcolors=1 << 20) or []
    top = {c for _, c in sorted(colors, reverse=True)[:6]}
    assert render.BG in top and render.ACCENT in top  # drawn, not a blank X screen


def test_rendered_text_cache_stays_within_its_memory_bound(fonts_ready):
    surface = pygame.Surface((1920, 1080))
    r = render.Renderer(surface)
    state = HallState()
    state.apply_snapshot(_snapshot())
    for i in range(150):  # a busy day: every call a new big number
        state.apply_call(p.Call(f"A{i:03d}", 1 + i % 5, call_id=1000 + i))
        r.draw(state.view(), time.monotonic(), state.now())
    total = sum(s.get_width() * s.get_height() * s.get_bytesize() for s in r._texts.values())
    assert total <= render.TEXT_CACHE_BYTES


def test_the_site_file_sets_baud_address_and_voice_and_bad_values_are_named(tmp_path):
    from display.siteconfig import SiteConfigError, read

    s = read(ROOT / "config" / "example.toml")
    assert (s.display.baud, s.display.address) == (115200, 0)
    assert (s.announcer.numbers, s.announcer.chime) == ("number", True)
    bad = tmp_path / "site.toml"
    bad.write_bytes(
        '\ufeff[display]\r\nbaud = "fast"\r\naddress = 300\r\n[announcer]\r\nnumbers = "roman"\r\n'.encode()
    )
    with pytest.raises(SiteConfigError) as e:
        read(bad)
    msg = str(e.value)
    assert "display.baud" in msg and "display.address" in msg and "announcer.numbers" in msg
    r = subprocess.run(
        [sys.executable, "-m", "display.cli", "run", "--port", "/dev/null", "--config", str(bad)],
        cwd=ROOT,
        env=ENV,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert r.returncode == 2 and "announcer.numbers" in r.stderr and "Traceback" not in r.stderr


def test_under_systemd_it_reports_ready_after_the_first_frame_and_pings_the_watchdog(tmp_path):
    import socket

    sock_path = tmp_path / "notify.sock"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(sock_path))
    sock.settimeout(10)
    env = dict(ENV, NOTIFY_SOCKET=str(sock_path), WATCHDOG_USEC="400000")
    proc = subprocess.Popen(
        [sys.executable, "-m", "display.cli", "run", "--port", str(tmp_path / "none"), "--mute"],
        cwd=ROOT,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        msgs = []
        t0 = time.monotonic()
        while sum(m == "WATCHDOG=1" for m in msgs) < 3:
            msgs.append(sock.recv(4096).decode())
        assert msgs[0].startswith("READY=1")
        assert time.monotonic() - t0 < 30  # start-up included: a hang, not a busy machine
    finally:
        proc.terminate()
        proc.communicate(timeout=10)
        sock.close()
    assert proc.returncode == 0
