"""kiosk doctor against simulated faults: real files, ptys, file systems and processes.

The printer and the hall display are played by threads on the other end of real
pseudo-terminals, answering the way the devices do (ESC/POS DLE EOT 4 paper
status; the display protocol's status frame) or staying silent.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import tty
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from display import protocol as proto
from kiosk.cli import main
from kiosk.doctor import checks as doctor
from printer.status import ASK_OFFLINE_CAUSE, ASK_PAPER, ASK_PRINTER

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = (ROOT / "config/example.toml").read_text(encoding="utf-8")


def site(tmp_path: Path, printer: str = "dummy:", port: str = "none", gpio: bool = False) -> Path:
    """The example site file with this machine's printer, link port and GPIO."""
    text = (
        EXAMPLE.replace('uri = "usb:0416:5011"', f'uri = "{printer}"')
        .replace('port = "/dev/hall-display"', f'port = "{port}"')
        .replace("[gpio]\n# Read the GPIO buttons", "[gpio]\n# (test)\n# Read the GPIO buttons")
    )
    text = text.replace(
        "enabled = true\n# Ignore contacts", f"enabled = {str(gpio).lower()}\n# Ignore contacts"
    )
    p = tmp_path / "kiosk.toml"
    p.write_text(text, encoding="utf-8")
    return p


@pytest.fixture(autouse=True)
def headless(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SDL_VIDEODRIVER", "dummy")
    monkeypatch.setenv("SDL_AUDIODRIVER", "dummy")


def by_name(checks: list[doctor.Check]) -> dict[str, doctor.Check]:
    return {c.name: c for c in checks}


def run(tmp_path: Path, cfg: Path, *only: str) -> dict[str, doctor.Check]:
    return by_name(doctor.run_checks(str(cfg), str(tmp_path / "data/queue.db"), list(only) or None))


class FakeDevice:
    """The far end of a pty: answers each request with what ``reply`` returns."""

    def __init__(self, reply: Callable[[bytes], bytes | None]):
        self.master, slave = os.openpty()
        tty.setraw(slave)
        self.path = os.ttyname(slave)
        self._slave = slave
        self.reply = reply
        self.received = b""
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._loop, daemon=True)
        self._t.start()

    def _loop(self) -> None:
        import select

        while not self._stop.is_set():
            r, _, _ = select.select([self.master], [], [], 0.05)
            if not r:
                continue
            try:
                data = os.read(self.master, 4096)
            except OSError:
                return
            self.received += data
            answer = self.reply(data)
            if answer:
                os.write(self.master, answer)

    def close(self) -> None:
        self._stop.set()
        self._t.join(2)
        os.close(self.master)
        os.close(self._slave)


@pytest.fixture
def device() -> Iterator[Callable[[Callable[[bytes], bytes | None]], FakeDevice]]:
    made: list[FakeDevice] = []

    def make(reply: Callable[[bytes], bytes | None]) -> FakeDevice:
        d = FakeDevice(reply)
        made.append(d)
        return d

    yield make
    for d in made:
        d.close()


def printer_answering(
    online: int | None, paper: int | None, cause: int = 0x12
) -> Callable[[bytes], bytes | None]:
    """An ESC/POS printer's real-time status answers (DLE EOT 1, 2 and 4)."""
    answers = {ASK_PRINTER: online, ASK_OFFLINE_CAUSE: cause, ASK_PAPER: paper}

    def reply(data: bytes) -> bytes | None:
        out = b""
        for question, answer in answers.items():
            if question in data and answer is not None:
                out += bytes([answer])
        return out or None

    return reply


# ------------------------------------------------------------------ all well


def test_a_healthy_headless_kiosk_passes_every_check_and_exits_0(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = site(tmp_path)
    code = main(["doctor", "--config", str(cfg), "--db", str(tmp_path / "queue.db")])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "FAIL" not in out and out.rstrip().endswith("All checks passed.")
    # One line per check (warnings carry a second line: the fix).
    assert sum(1 for ln in out.splitlines() if ln[:4] in ("ok  ", "WARN", "--  ")) == 13


def test_json_output_lists_every_check_for_the_uplink(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = site(tmp_path, printer="serial:/nonexistent/printer")
    code = main(["doctor", "--json", "--config", str(cfg), "--db", str(tmp_path / "q.db")])
    data = json.loads(capsys.readouterr().out)
    assert code == 1 and data["ok"] is False
    names = [c["name"] for c in data["checks"]]
    assert names[0] == "site file" and "printer" in names and len(names) == 13
    printer = next(c for c in data["checks"] if c["name"] == "printer")
    assert printer["status"] == "fail" and printer["fix"]


# ------------------------------------------------------------------ site file


def test_bad_site_file_fails_with_its_line_and_skips_what_depends_on_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = tmp_path / "kiosk.toml"
    cfg.write_text(EXAMPLE.replace("paper_mm = 80", "paper_mm = 75mm"), encoding="utf-8")
    code = main(["doctor", "--config", str(cfg)])
    out = capsys.readouterr().out
    assert code == 1
    first = out.splitlines()[0]
    assert first.startswith("FAIL site file") and f"{cfg}:" in first
    assert "kiosk check-config" in out
    assert "--   printer       no valid site file" in out
    assert "Traceback" not in out


def test_missing_site_file_is_named(tmp_path: Path) -> None:
    c = run(tmp_path, tmp_path / "nowhere.toml", "site")["site file"]
    assert c.status == "fail" and "not found" in c.detail


# ------------------------------------------------------------------ printer


def test_missing_printer_fails_with_a_plug_it_in_hint(tmp_path: Path) -> None:
    c = run(tmp_path, site(tmp_path, printer="serial:/dev/kiosk-printer-absent"), "printer")[
        "printer"
    ]
    assert c.status == "fail" and "not connected" in c.detail
    assert "plug" in c.fix


def test_usb_printer_not_on_the_bus_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sysfs = tmp_path / "sys"
    dev = sysfs / "bus/usb/devices/1-1"
    dev.mkdir(parents=True)
    (dev / "idVendor").write_text("046d\n")  # a mouse, not the printer
    (dev / "idProduct").write_text("c52b\n")
    monkeypatch.setattr(doctor, "SYS", sysfs)
    c = run(tmp_path, site(tmp_path, printer="usb:0416:5011"), "printer")["printer"]
    assert c.status == "fail" and "not plugged in" in c.detail
    (dev / "idVendor").write_text("0416\n")
    (dev / "idProduct").write_text("5011\n")
    c = run(tmp_path, site(tmp_path, printer="usb:0416:5011"), "printer")["printer"]
    assert c.status == "ok", c


def test_printer_uri_is_read_by_the_one_parser_printer_uri(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Upper-case hex ids, as some labels print them, name the same device lsusb shows.
    sysfs = tmp_path / "sys"
    dev = sysfs / "bus/usb/devices/1-1"
    dev.mkdir(parents=True)
    (dev / "idVendor").write_text("04b8\n")
    (dev / "idProduct").write_text("0e15\n")
    monkeypatch.setattr(doctor, "SYS", sysfs)
    c = run(tmp_path, site(tmp_path, printer="usb:04B8:0E15?in_ep=0x81"), "printer")["printer"]
    assert (c.status, c.detail) == ("ok", "USB printer 04b8:0e15 connected")
    for uri in ("dummy:", f"png:{tmp_path / 'tickets'}"):
        c = run(tmp_path, site(tmp_path, printer=uri), "printer")["printer"]
        assert c.status == "ok" and "no real printer" in c.detail


def test_serial_printer_with_paper_passes(
    tmp_path: Path, device: Callable[..., FakeDevice]
) -> None:
    d = device(printer_answering(online=0x12, paper=0x12))
    c = run(tmp_path, site(tmp_path, printer=f"serial:{d.path}?baudrate=19200"), "printer")[
        "printer"
    ]
    assert c.status == "ok" and c.detail.startswith(f"{d.path}: ok (online, paper present")
    assert ASK_PAPER in d.received


def test_printer_out_of_paper_fails_and_says_load_paper(
    tmp_path: Path, device: Callable[..., FakeDevice]
) -> None:
    # Out of paper, an ESC/POS printer goes offline with "paper stop" as the cause.
    d = device(printer_answering(online=0x1A, cause=0x32, paper=0x72))
    c = run(tmp_path, site(tmp_path, printer=f"serial:{d.path}"), "printer")["printer"]
    assert c.status == "fail" and "paper out" in c.detail and "paper roll" in c.fix


def test_printer_near_paper_end_warns(tmp_path: Path, device: Callable[..., FakeDevice]) -> None:
    d = device(printer_answering(online=0x12, paper=0x1E))
    c = run(tmp_path, site(tmp_path, printer=f"serial:{d.path}"), "printer")["printer"]
    assert c.status == "warn" and "paper near end" in c.detail


def test_printer_with_its_cover_open_fails(
    tmp_path: Path, device: Callable[..., FakeDevice]
) -> None:
    d = device(printer_answering(online=0x1A, cause=0x16, paper=0x12))
    c = run(tmp_path, site(tmp_path, printer=f"file:{d.path}"), "printer")["printer"]
    assert c.status == "fail" and "cover is open" in c.detail


def test_silent_printer_is_unknown_not_plenty(
    tmp_path: Path, device: Callable[..., FakeDevice]
) -> None:
    d = device(printer_answering(online=None, paper=None))
    c = run(tmp_path, site(tmp_path, printer=f"file:{d.path}"), "printer")["printer"]
    assert c.status == "warn" and "unknown" in c.detail


def test_network_printer_on_loopback_reports_paper(tmp_path: Path) -> None:
    import socket

    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    port = srv.getsockname()[1]

    def serve() -> None:
        conn, _ = srv.accept()
        with conn:
            reply = printer_answering(online=0x1A, cause=0x32, paper=0x72)
            conn.settimeout(2)
            try:
                while data := conn.recv(16):
                    conn.sendall(reply(data) or b"")
            except OSError:
                pass

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    c = run(tmp_path, site(tmp_path, printer=f"tcp://127.0.0.1:{port}"), "printer")["printer"]
    t.join(2)
    srv.close()
    assert c.status == "fail" and "paper out" in c.detail


def test_network_printer_that_refuses_fails(tmp_path: Path) -> None:
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there now
    c = run(tmp_path, site(tmp_path, printer=f"tcp://127.0.0.1:{port}"), "printer")["printer"]
    assert c.status == "fail" and "network printer" in c.detail


def context(cfg: Path, db: Path) -> doctor.Context:
    from kiosk.core.config import load

    return doctor.Context(cfg, load(cfg), db)


def run_as_nobody(fn: Callable[[], doctor.Check]) -> doctor.Check:
    """Run a check in a child process without root's powers (EACCES must be real)."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - child
        try:
            os.close(r)
            os.setgroups([])
            os.setgid(65534)
            os.setuid(65534)
            c = fn()
            os.write(w, json.dumps(c.__dict__).encode())
        except BaseException as e:
            os.write(w, json.dumps({"name": "?", "status": "error", "detail": repr(e)}).encode())
        finally:
            os._exit(0)
    os.close(w)
    data = b""
    while chunk := os.read(r, 65536):
        data += chunk
    os.close(r)
    os.waitpid(pid, 0)
    return doctor.Check(**json.loads(data))


def test_unreadable_printer_port_fails_and_points_at_the_udev_rules(
    tmp_path: Path, device: Callable[..., FakeDevice]
) -> None:
    d = device(printer_answering(online=0x12, paper=0x12))
    os.chmod(d.path, 0o600)
    ctx = context(site(tmp_path, printer=f"serial:{d.path}"), tmp_path / "q.db")
    if os.geteuid() == 0:
        c = run_as_nobody(lambda: doctor.check_printer(ctx))
    else:  # the pty is ours: take our own permission away
        os.chmod(d.path, 0o000)
        c = doctor.check_printer(ctx)
    assert c.status == "fail" and "cannot be opened" in c.detail
    assert "udev rules" in c.fix


# ------------------------------------------------------------------ display link


def display_answering(d_state: dict[str, int]) -> Callable[[bytes], bytes | None]:
    decoder = proto.FrameDecoder()

    def reply(data: bytes) -> bytes | None:
        for item in decoder.feed(data):
            if isinstance(item, proto.Frame) and item.type == proto.T_PING:
                d_state["pings"] += 1
                return proto.encode_frame(
                    proto.Frame(proto.T_STATUS, payload=proto.Status(False, 0, 5).encode())
                )
        return None

    return reply


def test_display_that_answers_the_ping_passes(
    tmp_path: Path, device: Callable[..., FakeDevice]
) -> None:
    state = {"pings": 0}
    d = device(display_answering(state))
    c = run(tmp_path, site(tmp_path, port=d.path), "display")["display link"]
    assert c.status == "ok" and "answered" in c.detail
    assert state["pings"] == 1


def test_silent_display_fails_with_cable_and_baud_hints(
    tmp_path: Path, device: Callable[..., FakeDevice]
) -> None:
    d = device(lambda data: None)
    c = run(tmp_path, site(tmp_path, port=d.path), "display")["display link"]
    assert c.status == "fail" and "did not answer" in c.detail and "baud" in c.fix


def test_missing_display_adapter_fails(tmp_path: Path) -> None:
    c = run(tmp_path, site(tmp_path, port="/dev/hall-display-absent"), "display")["display link"]
    assert c.status == "fail" and "not plugged in" in c.detail


# ------------------------------------------------------------------ store and disk


def test_damaged_store_fails_and_says_restore_the_backup(tmp_path: Path) -> None:
    db = tmp_path / "data/queue.db"
    db.parent.mkdir()
    db.write_bytes(b"this is not a database" * 100)
    c = run(tmp_path, site(tmp_path), "store")["store"]
    assert c.status == "fail" and "backup" in c.fix


def test_store_with_events_is_reported_intact(tmp_path: Path) -> None:
    from kiosk.core.config import load
    from kiosk.core.queue import Queue
    from kiosk.core.store import Store

    cfg = site(tmp_path)
    with Store(tmp_path / "data/queue.db") as store:
        Queue(load(cfg), store).issue("hotich")
    c = run(tmp_path, cfg, "store")["store"]
    assert c.status == "ok" and "intact" in c.detail


def test_full_disk_fails_with_injected_free_space(tmp_path: Path) -> None:
    real = os.statvfs(tmp_path)

    class Full:
        f_frsize = real.f_frsize
        f_blocks = real.f_blocks
        f_bavail = 1

    checks = doctor.run_checks(
        str(site(tmp_path)),
        str(tmp_path / "q.db"),
        ["disk"],
        statvfs=lambda p: Full(),  # type: ignore[arg-type,return-value]
    )
    assert checks[0].status == "fail" and "full" in checks[0].fix


def test_really_full_tmpfs_fails_the_disk_check(tmp_path: Path) -> None:
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a tmpfs needs root; the injected-statvfs test covers the logic")
    mnt = tmp_path / "data"
    mnt.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", mnt]).returncode != 0:
        pytest.skip("cannot mount a tmpfs here")
    try:
        with open(mnt / "filler", "wb") as f:
            try:
                f.write(b"\0" * (3 << 20))
            except OSError:
                pass  # ENOSPC: the disk is now full
        c = run(tmp_path, site(tmp_path), "disk")["disk space"]
        assert c.status == "fail" and str(mnt) in c.detail
    finally:
        subprocess.run(["umount", "-l", mnt])


def test_store_folder_not_writable_fails(tmp_path: Path) -> None:
    # Under a folder anyone may enter (pytest's own are closed to other users).
    base = Path(tempfile.mkdtemp(prefix="doctor-"))
    try:
        data = base / "data"
        data.mkdir()
        os.chmod(data, 0o555)
        os.chmod(base, 0o755)
        ctx = context(site(tmp_path), data / "queue.db")
        c = (
            run_as_nobody(lambda: doctor.check_store(ctx))
            if os.geteuid() == 0
            else doctor.check_store(ctx)
        )
    finally:
        shutil.rmtree(base)
    assert c.status == "fail" and "not writable" in c.detail, c


def test_store_behind_a_closed_folder_fails_without_a_traceback(tmp_path: Path) -> None:
    # pytest's tmp_path lies in a folder only root may enter.
    if os.geteuid() != 0:
        pytest.skip("needs root to drop to another user")
    ctx = context(site(tmp_path), tmp_path / "data/queue.db")
    c = run_as_nobody(lambda: doctor.check_store(ctx))
    assert c.status == "fail" and "cannot be reached" in c.detail, c


# ------------------------------------------------------------------ GPIO, fonts, clock, card


def test_gpio_without_a_pin_factory_fails_with_lgpio_hint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GPIOZERO_PIN_FACTORY", "no-such-factory")
    c = run(tmp_path, site(tmp_path, gpio=True), "gpio")["GPIO"]
    assert c.status == "fail" and "lgpio" in c.fix


def test_gpio_with_gpiozero_mock_factory_passes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GPIOZERO_PIN_FACTORY", "mock")
    c = run(tmp_path, site(tmp_path, gpio=True), "gpio")["GPIO"]
    assert (c.status, c.detail) == ("ok", "pin factory MockFactory")


def test_font_without_vietnamese_letters_fails() -> None:
    import pygame

    freesans = Path(pygame.__file__).parent / "freesansbold.ttf"
    ctx = doctor.Context(Path("x"), None, None)
    c = doctor.check_fonts(ctx, freesans)
    assert c.status == "fail" and "lacks" in c.detail
    dejavu = doctor.ui_font()
    assert dejavu is not None
    assert doctor.check_fonts(ctx, dejavu).status == "ok"


def test_clock_that_was_never_set_fails(tmp_path: Path) -> None:
    checks = doctor.run_checks(str(site(tmp_path)), None, ["clock"], now=lambda: 86400.0)
    assert checks[0].status == "fail" and "NTP" in checks[0].fix


def test_clock_is_shown_in_the_site_time_zone(tmp_path: Path) -> None:
    # 2026-11-30 01:00 UTC is 08:00 in Hà Nội.
    checks = doctor.run_checks(str(site(tmp_path)), None, ["clock"], now=lambda: 1796000400.0)
    assert checks[0].status == "ok"
    assert checks[0].detail.startswith("2026-11-30 08:00 Asia/Ho_Chi_Minh")


def test_sd_card_file_system_errors_fail(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sysfs = tmp_path / "sys"
    (sysfs / "fs/ext4/mmcblk0p3").mkdir(parents=True)
    (sysfs / "fs/ext4/mmcblk0p3/errors_count").write_text("0\n")
    monkeypatch.setattr(doctor, "SYS", sysfs)
    ctx = doctor.Context(Path("x"), None, None)
    assert doctor.check_sd_card(ctx).status == "ok"
    (sysfs / "fs/ext4/mmcblk0p3/errors_count").write_text("7\n")
    c = doctor.check_sd_card(ctx)
    assert c.status == "fail" and "7 file-system errors" in c.detail


def test_worn_out_card_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    dev = tmp_path / "sys/block/mmcblk0/device"
    dev.mkdir(parents=True)
    (dev / "pre_eol_info").write_text("0x03\n")
    monkeypatch.setattr(doctor, "SYS", tmp_path / "sys")
    c = doctor.check_sd_card(doctor.Context(Path("x"), None, None))
    assert c.status == "fail" and "replace the SD card" in c.fix


def test_no_sound_card_only_warns(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SDL_AUDIODRIVER")
    (tmp_path / "asound").mkdir()
    (tmp_path / "asound/cards").write_text("--- no soundcards ---\n")
    monkeypatch.setattr(doctor, "PROC", tmp_path)
    assert doctor.check_audio(doctor.Context(Path("x"), None, None)).status == "warn"
    (tmp_path / "asound/cards").write_text(
        " 0 [Headphones     ]: bcm2835_headpho - bcm2835 Headphones\n"
    )
    assert doctor.check_audio(doctor.Context(Path("x"), None, None)).status == "ok"


def test_screen_driver_that_cannot_start_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SDL_VIDEODRIVER", "kmsdrm")
    c = doctor.check_screen(doctor.Context(Path("x"), None, None))
    if c.status == "ok":
        pytest.skip("this machine really has a KMS screen")
    assert c.status == "fail" and "video and render" in c.fix


def test_screen_held_by_the_running_kiosk_is_not_a_fault(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SDL_VIDEODRIVER", "kmsdrm")
    monkeypatch.setattr(doctor, "service_active", lambda unit: unit == "kiosk.service")
    c = doctor.check_screen(doctor.Context(Path("x"), None, None))
    if "in use" not in c.detail and c.status == "ok":
        pytest.skip("this machine really has a KMS screen")
    assert (c.status, c.detail) == ("ok", "kmsdrm: in use by the running kiosk")


def test_doctor_as_a_command_never_shows_a_traceback(tmp_path: Path) -> None:
    cfg = site(tmp_path, printer="serial:/nonexistent", port="/nonexistent")
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "kiosk.cli",
            "doctor",
            "--config",
            str(cfg),
            "--db",
            str(tmp_path / "q.db"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy"},
    )
    assert r.returncode == 1
    assert "Traceback" not in r.stdout + r.stderr
    assert r.stdout.count("\nFAIL ") == 2  # printer and display link


def test_the_built_in_example_site_is_a_warning_not_ok(tmp_path: Path) -> None:
    from kiosk.core.config import EXAMPLE_PATH

    got = run(tmp_path, EXAMPLE_PATH, "site")["site file"]
    assert got.status == "warn" and "built-in example" in got.detail
    assert "/boot/firmware/kiosk.toml" in got.fix
    assert run(tmp_path, site(tmp_path), "site")["site file"].status == "ok"


def test_a_kiosk_without_a_hall_display_is_not_told_its_link_is_missing(tmp_path: Path) -> None:
    cfg = site(tmp_path, port="/dev/no-such-adapter")
    raw = cfg.read_text(encoding="utf-8")
    section = re.search(r"\[display\](.*?)\n\[", raw, re.S)
    assert section is not None
    body = re.sub(r"\nenabled = \w+", "", section.group(1))
    cfg.write_text(raw.replace(section.group(1), "\nenabled = false" + body), encoding="utf-8")
    assert run(tmp_path, cfg, "display")["display link"].status == "ok"
    cfg.write_text(raw, encoding="utf-8")  # switched on, the missing adapter is a failure
    assert run(tmp_path, cfg, "display")["display link"].status == "fail"


def test_the_names_the_command_line_offers_are_the_checks_that_run() -> None:
    from kiosk.doctor import CHECK_NAMES

    assert CHECK_NAMES == ("site", *(key for key, _ in doctor.CHECKS))


def test_the_uplink_check_warns_about_events_stuck_for_an_hour(tmp_path: Path) -> None:
    import time
    import tomllib

    from kiosk.core.config import validate
    from kiosk.core.store import Store
    from kiosk.doctor.checks import Context, check_uplink

    raw = tomllib.loads(EXAMPLE)
    raw["uplink"].update(enabled=True, url="https://central.example/k", token="t")
    cfg = validate(raw, "kiosk.toml")
    db = tmp_path / "q.db"
    store = Store(db)
    with store.transaction() as tx:
        tx.append_event("day_opened", time.time() - 7200, "2026-11-30", None, {})
    store.close()
    c = check_uplink(Context(tmp_path / "kiosk.toml", cfg, db))
    assert c.status == "warn" and "1 event(s) not yet accepted" in c.detail
    assert "2.0 h old" in c.detail and "kiosk uplink --send" in c.fix
    store = Store(db)
    store.set_cursor("uplink", 1)
    store.close()
    c = check_uplink(Context(tmp_path / "kiosk.toml", cfg, db))
    assert c.status == "ok" and "0 event(s) waiting, last accepted" in c.detail
    # A token file that went missing after the site file was checked:
    from dataclasses import replace

    gone = replace(cfg, uplink=replace(cfg.uplink, token="", token_file=str(tmp_path / "gone")))
    c = check_uplink(Context(tmp_path / "kiosk.toml", gone, db))
    assert c.status == "fail" and "uplink.token_file: cannot read" in c.detail


def test_a_centres_postgresql_store_is_checked_for_reach_schema_and_clock(
    tmp_path: Path, db_url: str
) -> None:
    from kiosk.core.pgstore import PgStore

    PgStore(db_url).close()  # `kiosk init --db URL`
    cfg = site(tmp_path)
    got = by_name(doctor.run_checks(str(cfg), db_url, ["store"]))["store"]
    assert got.status == "ok" and "clocks agree" in got.detail
    late = by_name(doctor.run_checks(str(cfg), db_url, ["store"], now=lambda: time.time() + 120))
    assert late["store"].status == "fail" and "+120 s" in late["store"].detail
    down = "postgresql://kiosk@/nowhere?host=" + str(tmp_path)
    gone = by_name(doctor.run_checks(str(cfg), down, ["store"]))["store"]
    assert gone.status == "fail" and "pg_isready" in gone.fix


def test_clock_before_the_newest_event_in_the_store_fails_and_says_why(tmp_path: Path) -> None:
    from kiosk.core.config import load
    from kiosk.core.queue import Queue
    from kiosk.core.store import Store
    from tests.conftest import Clock

    p = site(tmp_path)
    cfg = load(p)
    db = tmp_path / "queue.db"
    clock = Clock(0)
    clock.set_local(cfg, "2026-11-30T16:55:00")
    with Store(db) as store:
        Queue(cfg, store, clock).issue("hotich")
    clock.set_local(cfg, "2026-11-30T15:00:00")  # back after a power cut, no network
    checks = doctor.run_checks(str(p), str(db), ["clock"], now=clock)
    assert checks[0].status == "fail"
    assert "before the newest event in the store (2026-11-30 16:55)" in checks[0].detail
    assert "kiosk time set" in checks[0].fix
    clock.set_local(cfg, "2026-12-01T07:30:00")
    assert doctor.run_checks(str(p), str(db), ["clock"], now=clock)[0].status == "ok"


def test_versions_check_reports_the_kiosk_and_its_dependencies(tmp_path: Path) -> None:
    import importlib.metadata as metadata

    c = doctor.run_checks(str(site(tmp_path)), None, ["versions"])[0]
    assert c.status == "ok"
    assert c.detail.startswith(f"queue-kiosk {metadata.version('queue-kiosk')}; ")
    assert f"python-escpos {metadata.version('python-escpos')}" in c.detail
