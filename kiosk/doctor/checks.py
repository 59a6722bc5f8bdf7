"""``kiosk doctor``: check everything a kiosk needs and say in plain words what to fix.

One line per check: site file, store, disk space, printer (connection, status,
paper), hall-display link (port opens, display answers), GPIO pin factory, screen
driver, fonts, audio, clock and time zone, SD-card health. Exit 0 only when no
check fails; ``--json`` gives the same for the uplink to the central server.

A check returns a :class:`Check` with status ``ok``, ``warn`` (works, but worth
knowing) or ``fail`` (the kiosk will not work right), plus a fix a technician can
act on. Checks never raise: an unexpected error is itself a failed check. Paths
to the machine (``/sys``, ``/proc``) are module attributes so tests can point
them at a made-up machine; faults (missing printer, unreadable port, full disk)
are simulated with real files, ptys and file systems.
"""

from __future__ import annotations

import os
import struct
import subprocess
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from kiosk.core.config import EXAMPLE_PATH, Config, ConfigError, find_config, load
from printer.uri import PrinterUriError
from printer.uri import parse as parse_printer_uri

SYS = Path("/sys")
PROC = Path("/proc")

#: Below this much free space the store cannot be trusted to commit; warn earlier.
DISK_FAIL_BYTES = 20 * 1024 * 1024
DISK_WARN_BYTES = 200 * 1024 * 1024
#: How long the printer and the display get to answer a status request.
ANSWER_TIMEOUT_S = 1.5


#: Every Vietnamese letter, lower and upper case, that a screen or ticket may show.
VIETNAMESE = (
    "aàáảãạăằắẳẵặâầấẩẫậbcdđeèéẻẽẹêềếểễệghiìíỉĩịklmnoòóỏõọôồốổỗộơờớởỡợpqrstuùúủũụưừứửữựvxyỳýỷỹỵ"
)
VIETNAMESE += VIETNAMESE.upper()


@dataclass
class Check:
    """The outcome of one check, as printed and as sent in ``--json``."""

    name: str
    status: str  # ok, warn, fail, skip
    detail: str
    fix: str = ""

    @property
    def failed(self) -> bool:
        return self.status == "fail"


def ok(name: str, detail: str) -> Check:
    return Check(name, "ok", detail)


def warn(name: str, detail: str, fix: str) -> Check:
    return Check(name, "warn", detail, fix)


def fail(name: str, detail: str, fix: str) -> Check:
    return Check(name, "fail", detail, fix)


@dataclass
class Context:
    """What the checks look at: the site file (if valid) and where the store is."""

    config_path: Path
    cfg: Config | None
    db_path: Path | None
    statvfs: Callable[[str], os.statvfs_result] = os.statvfs
    now: Callable[[], float] = time.time
    #: A large centre's PostgreSQL store ([storage] url or --db URL); db_path is None then.
    db_url: str | None = None


# ---------------------------------------------------------------- site file and store


def check_site(ctx: Context, problems: list[str]) -> Check:
    if ctx.cfg is not None:
        if Path(ctx.config_path).resolve() == EXAMPLE_PATH.resolve():
            # Running on the built-in example: numbers would print another office's name.
            return warn(
                "site file",
                f"no site file found: running on the built-in example ({ctx.cfg.summary()})",
                "copy config/example.toml to /boot/firmware/kiosk.toml (the SD card's boot "
                "partition), set this office's [site], services and counters, then reboot",
            )
        return ok("site file", f"{ctx.config_path}: {ctx.cfg.summary()}")
    first = problems[0] if problems else f"{ctx.config_path}: unreadable"
    more = f" (+{len(problems) - 1} more)" if len(problems) > 1 else ""
    return fail(
        "site file",
        first + more,
        f"edit {ctx.config_path} on any PC (it is on the SD card's boot partition); "
        f"`kiosk check-config {ctx.config_path}` lists every problem",
    )


def _is_dir(p: Path) -> bool:
    try:
        return p.is_dir()
    except OSError:
        return False


#: Clock difference between the kiosk and the PostgreSQL server that is worth a warning,
#: and one that is a failure (tickets' times and business days would disagree).
CLOCK_WARN_S, CLOCK_FAIL_S = 2.0, 60.0


def check_server_store(ctx: Context, url: str) -> Check:
    """A large centre's PostgreSQL store: reachable, schema known, clocks agree."""
    from kiosk.core.store import StoreError, redact

    name = redact(url)
    try:
        from kiosk.core.pgstore import SCHEMA_VERSION, PgStore

        store = PgStore(url, create=False, connect_timeout=5)
    except StoreError as e:
        return fail(
            "store",
            str(e),
            "check that the database server is up and reachable from this kiosk "
            "(`pg_isready`), the URL in [storage] url, and the password in ~/.pgpass",
        )
    try:
        version = store.schema_version
        server = store.server_time()
    except StoreError as e:
        return fail("store", str(e), "check the database server (`pg_isready`)")
    finally:
        store.close()
    skew = ctx.now() - server
    if version != SCHEMA_VERSION:
        return fail(
            "store",
            f"{name}: schema {version}, this kiosk knows {SCHEMA_VERSION}",
            "give every kiosk of the centre the same software version",
        )
    if abs(skew) >= CLOCK_FAIL_S:
        return fail(
            "store",
            f"{name}: this kiosk's clock is {skew:+.0f} s from the database server's",
            "set the time on both (NTP: `timedatectl`); business days and waits would be wrong",
        )
    if abs(skew) >= CLOCK_WARN_S:
        return warn(
            "store",
            f"{name}: schema {version}; clocks differ by {skew:+.1f} s",
            "let both machines take their time from the same NTP server",
        )
    return ok(
        "store", f"{name}: schema {version}, reachable; clocks agree within {abs(skew):.1f} s"
    )


def check_store(ctx: Context) -> Check:
    from kiosk.core.store import Store, StoreError

    if ctx.db_url is not None:
        return check_server_store(ctx, ctx.db_url)
    p = ctx.db_path
    if p is None:
        return Check("store", "skip", "no valid site file, so no store path")
    try:
        exists = p.exists()
    except PermissionError:
        return fail(
            "store",
            f"{p} cannot be reached: a folder on the way is closed to this user",
            f"give the kiosk user the folder: chown kiosk: {p.parent}",
        )
    if not exists:
        d = p.parent
        while not _is_dir(d) and d != d.parent:
            d = d.parent  # the kiosk creates missing folders below the nearest one
        if not os.access(d, os.W_OK):
            return fail(
                "store",
                f"cannot create {p}: folder {d} is not writable",
                f"the data partition is not mounted, or give the kiosk user the folder: "
                f"chown kiosk: {d}",
            )
        return ok("store", f"{p} will be created when the kiosk starts")
    if not os.access(p, os.R_OK | os.W_OK):
        return fail(
            "store",
            f"{p} is not readable and writable by this user",
            f"chown kiosk: {p}*  (the database and its -wal/-shm files)",
        )
    try:
        with Store.read_only(p) as tx:
            result = tx.quick_check()
            events = tx.last_seq()
    except StoreError as e:
        return fail(
            "store",
            f"{p} cannot be read as a queue database: {e}",
            "restore last night's copy from the backups folder (docs/deployment.md)",
        )
    if result != "ok":
        return fail(
            "store",
            f"{p} is damaged: {result}",
            "restore last night's copy from the backups folder (docs/deployment.md)",
        )
    return ok("store", f"{p}: intact, {events} events")


def check_disk(ctx: Context) -> Check:
    if ctx.db_path is None:
        return Check("disk space", "skip", "no valid site file, so no store path")
    d = ctx.db_path.parent
    while not d.exists() and d != d.parent:
        d = d.parent
    try:
        st = ctx.statvfs(str(d))
    except OSError as e:
        return fail("disk space", f"cannot read free space of {d}: {e.strerror}", "")
    free = st.f_bavail * st.f_frsize
    total = st.f_blocks * st.f_frsize
    text = f"{d}: {free / 1e6:.0f} MB free of {total / 1e6:.0f} MB"
    if free < DISK_FAIL_BYTES:
        return fail(
            "disk space",
            text,
            "the data partition is full: delete old files in its backups folder, "
            "or lower [storage] retention_days and run `kiosk prune`",
        )
    if free < DISK_WARN_BYTES:
        return warn("disk space", text, "free some space soon (old backups, retention_days)")
    return ok("disk space", text)


# ---------------------------------------------------------------- printer


def usb_present(vid_pid: str) -> Path | None:
    """The sysfs folder of a plugged-in USB device ``VID:PID``, or None."""
    vid, _, pid = vid_pid.lower().partition(":")
    for dev in sorted((SYS / "bus/usb/devices").glob("*")):
        try:
            v = (dev / "idVendor").read_text().strip()
            p = (dev / "idProduct").read_text().strip()
        except OSError:
            continue
        if v == vid.removeprefix("0x") and (not pid or p == pid.removeprefix("0x")):
            return dev
    return None


#: URI schemes of the virtual printers (printer/virtual.py): nothing to check.
VIRTUAL_PRINTERS = ("dummy", "png")

#: How each printer state (printer/status.py) counts for the doctor, and what to do.
PRINTER_STATES = {
    "ok": ("ok", ""),
    "paper_near_end": ("warn", "have a new paper roll ready"),
    "paper_out": (
        "fail",
        "load a new paper roll (thermal side facing the print head), close the lid",
    ),
    "offline": ("fail", "switch the printer on, close its cover, clear any paper jam"),
    "unknown": (
        "warn",
        "normal for printers that never answer status requests; otherwise check it is on",
    ),
}


def _live_status(name: str, uri: str, where: str) -> Check:
    """Ask the printer itself, through the same connection code the kiosk prints with."""
    from printer.connection import PrinterFault, PrinterUriError, open_link

    try:
        link = open_link(uri, timeout=ANSWER_TIMEOUT_S)
    except PrinterUriError as e:
        return fail(name, str(e), "correct [printer] uri in the site file")
    try:
        st = link.status()
    except PrinterFault as e:
        return fail(name, f"{where}: {e.detail}", _fault_fix(e.detail))
    finally:
        link.close()
    level, fix = PRINTER_STATES.get(st.state, PRINTER_STATES["unknown"])
    return Check(name, level, f"{where}: {st.state.replace('_', ' ')} ({st.detail})", fix)


def _fault_fix(detail: str) -> str:
    low = detail.lower()
    if "permission" in low or "errno 13" in low or "access" in low:
        return "install the udev rules (image/install.sh) so the kiosk user may open it"
    if "busy" in low or "lock" in low:
        return "another program holds the printer (the kiosk itself: systemctl stop kiosk)"
    return "check the cable and that the printer is switched on"


def _last_reported(ctx: Context) -> str:
    """The newest printer_status the running kiosk recorded, for USB printers it holds."""
    if ctx.db_path is None or not ctx.db_path.is_file():
        return ""
    try:
        from kiosk.core.store import Store
        from kiosk.outputs.printer_feed import printer_status

        with Store(ctx.db_path) as store:
            st = printer_status(store)
    except Exception:
        return ""
    return f"; last status from the kiosk: {st.state.replace('_', ' ')} ({st.detail})"


def check_printer(ctx: Context) -> Check:
    name = "printer"
    if ctx.cfg is None:
        return Check(name, "skip", "no valid site file")
    uri = str(ctx.cfg.printer.uri)
    try:
        target = parse_printer_uri(uri)
    except PrinterUriError as e:
        return fail(name, str(e), "correct [printer] uri in the site file")
    kind, where = target.kind, target.where
    if kind in VIRTUAL_PRINTERS:
        return ok(name, f"{uri}: no real printer (simulator or test setting)")
    if kind == "usb":
        dev = usb_present(where)
        if dev is None:
            return fail(
                name,
                f"USB printer {where} is not plugged in (not on the USB bus)",
                "plug the printer's USB cable in and switch it on; `lsusb` must list "
                f"{where} (if it shows another number, put that in [printer] uri)",
            )
        try:
            node = Path("/dev/bus/usb") / (
                f"{int((dev / 'busnum').read_text()):03d}/{int((dev / 'devnum').read_text()):03d}"
            )
        except (OSError, ValueError):
            node = None
        if node is not None and node.exists() and not os.access(node, os.R_OK | os.W_OK):
            return fail(
                name,
                f"USB printer {where} found, but this user may not open {node}",
                "install the udev rules (image/install.sh) and add the user to group lp",
            )
        # The running kiosk holds a USB printer's interface; report what it last saw.
        return ok(name, f"USB printer {where} connected{_last_reported(ctx)}")
    if kind == "cups":
        return _check_cups(name, where)
    if kind == "tcp":
        return _live_status(name, uri, f"network printer {where}")
    if not Path(where).exists():
        return fail(
            name,
            f"{where} does not exist: the printer is not connected",
            "plug the printer's USB cable in and switch it on; /dev/kiosk-printer appears "
            "when a known printer is connected",
        )
    return _live_status(name, uri, where)


def _check_cups(name: str, queue: str) -> Check:
    try:
        r = subprocess.run(["lpstat", "-p", queue], capture_output=True, text=True, timeout=10)
    except FileNotFoundError:
        return fail(name, f"CUPS queue {queue}: CUPS is not installed", "apt-get install cups")
    except subprocess.TimeoutExpired:
        return fail(name, f"CUPS queue {queue}: lpstat did not answer", "restart cups")
    if r.returncode != 0:
        return fail(name, f"CUPS queue {queue}: {r.stderr.strip()}", "add it with lpadmin")
    if "disabled" in r.stdout:
        return fail(name, r.stdout.strip(), f"cupsenable {queue}")
    return ok(name, r.stdout.strip())


def _open_fault(path: str, e: OSError) -> str:
    if e.errno in (13, 1):
        return "install the udev rules (image/install.sh) so the kiosk user may open it"
    if e.errno == 16:
        return "another program holds the port; stop it (the kiosk itself: systemctl stop kiosk)"
    return f"check the cable; `ls -l {path}` must show the device"


# ---------------------------------------------------------------- hall-display link


def check_display(ctx: Context) -> Check:
    name = "display link"
    if ctx.cfg is None:
        return Check(name, "skip", "no valid site file")
    if not ctx.cfg.display.enabled:
        return ok(name, "no hall display at this kiosk ([display] enabled = false)")
    port_name = str(ctx.cfg.display.port)
    baud = int(ctx.cfg.display.baud)
    address = int(ctx.cfg.display.address)
    if port_name in ("", "none") or port_name.startswith("loop://"):
        return ok(name, f"{port_name or 'none'}: no hall display configured")
    if "://" not in port_name and not Path(port_name).exists():
        return fail(
            name,
            f"{port_name} does not exist: the USB-serial adapter is not plugged in",
            "plug the display link's USB-serial adapter in; /dev/hall-display appears for "
            "FTDI, CH340, CP210x and PL2303 adapters",
        )
    try:
        import serial

        from display import protocol as proto
    except ImportError as e:
        return fail(name, f"cannot load the link code: {e}", "reinstall the kiosk")
    try:
        port = serial.serial_for_url(port_name, baud, timeout=0.1, exclusive=True)
    except OSError as e:
        return fail(
            name, f"{port_name} cannot be opened: {e.strerror or e}", _open_fault(port_name, e)
        )
    except Exception as e:  # SerialException: busy, wrong settings
        if "busy" in str(e).lower() or "lock" in str(e).lower():
            return warn(
                name,
                f"{port_name} is in use (the running kiosk holds it)",
                "to test the display's answer: systemctl stop kiosk; kiosk doctor; systemctl start kiosk",
            )
        return fail(
            name, f"{port_name} cannot be opened: {e}", _open_fault(port_name, OSError(0, ""))
        )
    try:
        port.write(proto.encode_frame(proto.Frame(proto.T_PING, address=address)))
        decoder = proto.FrameDecoder()
        deadline = time.monotonic() + ANSWER_TIMEOUT_S
        while time.monotonic() < deadline:
            for item in decoder.feed(port.read(256)):
                if isinstance(item, proto.Frame) and item.type in (proto.T_STATUS, proto.T_ACK):
                    return ok(name, f"{port_name} @ {baud}: the display answered")
    finally:
        port.close()
    garbled = sum(v for k, v in decoder.stats.items() if k != "frames")
    detail = f"{port_name} opens, but the display did not answer within {ANSWER_TIMEOUT_S:g} s"
    if garbled:
        detail += f" ({garbled} garbled frames: check [display] baud on both ends)"
    return fail(
        name,
        detail,
        "check the display Pi is on and its link cable is in (RS-485: A to A, B to B); "
        "both ends need the same baud",
    )


# ---------------------------------------------------------------- GPIO, screen, fonts, audio


def check_gpio(ctx: Context) -> Check:
    name = "GPIO"
    if ctx.cfg is None:
        return Check(name, "skip", "no valid site file")
    if not ctx.cfg.gpio.enabled:
        return ok(name, "off in the site file ([gpio] enabled = false)")
    with warnings.catch_warnings(record=True) as tried:
        warnings.simplefilter("always")
        try:
            from gpiozero import Device

            factory = Device._default_pin_factory()
        except Exception as e:
            reasons = "; ".join(str(w.message).removeprefix("Falling back from ") for w in tried)
            error = f"{e} ({reasons})" if reasons else str(e)
            factory = None
    if factory is None:
        return fail(
            name,
            f"no GPIO pin factory: {error}",
            "on a Pi install lgpio (apt-get install python3-lgpio, or pip install lgpio in "
            "/opt/kiosk/venv); on a PC set [gpio] enabled = false",
        )
    try:
        label = type(factory).__name__
    finally:
        factory.close()
    return ok(name, f"pin factory {label}")


def service_active(unit: str) -> bool:
    """Whether systemd runs ``unit`` now (False where there is no systemd)."""
    try:
        r = subprocess.run(
            ["systemctl", "is-active", "--quiet", unit], capture_output=True, timeout=5
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return r.returncode == 0


SCREEN_PROBE = """
import os, pygame
pygame.display.init()
print(pygame.display.get_driver(), *(f"{w}x{h}" for w, h in pygame.display.get_desktop_sizes()))
"""


def check_screen(ctx: Context) -> Check:
    name = "screen"
    driver = os.environ.get("SDL_VIDEODRIVER", "")
    env = {**os.environ, "PYGAME_HIDE_SUPPORT_PROMPT": "1"}
    try:
        r = subprocess.run(
            [sys.executable, "-c", SCREEN_PROBE],
            capture_output=True,
            text=True,
            timeout=20,
            env=env,
        )
    except subprocess.TimeoutExpired:
        return fail(name, f"the {driver or 'default'} video driver hung", "reboot the Pi")
    if r.returncode != 0:
        if service_active("kiosk.service") or service_active("hall-display.service"):
            # Only one program may drive the screen; the running kiosk has it.
            return ok(name, f"{driver or 'default'}: in use by the running kiosk")
        err = (r.stderr.strip().splitlines() or ["unknown error"])[-1]
        hint = "connect the screen (HDMI or DSI) before power-on"
        if driver == "kmsdrm":
            hint += "; /dev/dri/card* must exist and the user must be in groups video and render"
        return fail(name, f"video driver {driver or 'default'} failed: {err}", hint)
    words = r.stdout.split()
    if words and words[0] in ("dummy", "offscreen"):
        return ok(name, f"{words[0]} (headless: nothing is shown)")
    return ok(name, f"{' '.join(words[:1])} {' '.join(words[1:])}".strip())


def ui_font() -> Path | None:
    """The font the screen, the tickets and the hall display draw with (``printer.fonts``)."""
    from printer.fonts import font_path

    try:
        return font_path()
    except FileNotFoundError:
        return None


def check_fonts(ctx: Context, font: Path | None = None) -> Check:
    name = "fonts"
    path = font or ui_font()
    if path is None or not path.is_file():
        return fail(
            name,
            "no font with Vietnamese letters found",
            "apt-get install fonts-dejavu-core, or reinstall the kiosk (it ships DejaVu Sans)",
        )
    from printer.fonts import CharMap

    try:
        have = CharMap(path)
    except (OSError, struct.error) as e:
        return fail(name, f"{path} cannot be read as a font: {e}", "reinstall the kiosk")
    missing = sorted({c for c in VIETNAMESE if c not in have})
    if missing:
        return fail(
            name,
            f"{path} lacks {len(missing)} Vietnamese letters (e.g. {''.join(missing[:8])})",
            "use DejaVu Sans or Noto Sans (fonts-dejavu-core)",
        )
    return ok(name, f"{path.name}: every Vietnamese letter present")


def check_audio(ctx: Context) -> Check:
    name = "audio"
    if os.environ.get("SDL_AUDIODRIVER") in ("dummy", "disk"):
        return ok(name, f"{os.environ['SDL_AUDIODRIVER']} (sound off)")
    cards = PROC / "asound/cards"
    try:
        text = cards.read_text()
    except OSError:
        text = ""
    lines = [ln.strip() for ln in text.splitlines() if ln[:3].strip().isdigit()]
    if not lines:
        return warn(
            name,
            "no sound card",
            "fine when the display Pi speaks the calls; otherwise plug in a USB speaker or "
            "enable HDMI audio",
        )
    return ok(name, f"{len(lines)} sound card(s): {lines[0]}")


# ---------------------------------------------------------------- clock and SD card


def _newest_event_at(ctx: Context) -> float | None:
    """When the store's newest event was written, or None (no store or empty)."""
    from kiosk.core.store import Store, StoreError

    p = ctx.db_path
    if p is None or not p.exists():
        return None
    try:
        with Store.read_only(p) as tx:
            return tx.newest_event_at()
    except (StoreError, OSError):
        return None  # the store check says what is wrong with it


def check_clock(ctx: Context) -> Check:
    from kiosk.core.queue import clock_problem

    name = "clock"
    now = ctx.now()
    wrong = clock_problem(now, _newest_event_at(ctx), ctx.cfg)
    if wrong is not None:
        return fail(
            name,
            f'{wrong.detail}: the kiosk shows "Đang chờ đồng bộ giờ…" and issues no number',
            "connect the network (time comes by NTP), fit an RTC module with a good battery, "
            'or set it as root: kiosk time set "YYYY-MM-DD HH:MM" (a Pi has no battery clock)',
        )
    tzname = ctx.cfg.site.timezone if ctx.cfg is not None else "Asia/Ho_Chi_Minh"
    local = datetime.fromtimestamp(now, ctx.cfg.tz if ctx.cfg is not None else None)
    synced = ""
    try:
        r = subprocess.run(
            ["timedatectl", "show", "-p", "NTPSynchronized", "--value"],
            capture_output=True,
            text=True,
            timeout=5,
        )
        if r.returncode == 0:
            synced = "; NTP synchronised" if r.stdout.strip() == "yes" else "; not NTP-synchronised"
    except (FileNotFoundError, subprocess.TimeoutExpired):
        pass
    rtc = "; RTC " + ("present" if (SYS / "class/rtc/rtc0").exists() else "absent")
    return ok(name, f"{local:%Y-%m-%d %H:%M} {tzname}{synced}{rtc}")


def check_sd_card(ctx: Context) -> Check:
    name = "SD card"
    notes = []
    for dev in sorted((SYS / "block").glob("mmcblk*")):
        life = dev / "device/life_time"
        eol = dev / "device/pre_eol_info"
        if eol.exists():
            v = eol.read_text().strip()
            if v in ("0x03", "0x3"):
                return fail(
                    name,
                    f"{dev.name}: the card reports it is worn out (pre-EOL urgent)",
                    "copy the site file and replace the SD card now",
                )
            notes.append(f"{dev.name} wear {life.read_text().strip() if life.exists() else '?'}")
    errors = []
    for fs in sorted((SYS / "fs/ext4").glob("*/errors_count")):
        try:
            n = int(fs.read_text().strip() or 0)
        except (OSError, ValueError):
            continue
        if n:
            errors.append(f"{fs.parent.name}: {n} file-system errors")
    if errors:
        return fail(
            name,
            "; ".join(errors),
            "the card is failing or was cut off during writes: replace it (keep the site file)",
        )
    if not notes:
        return ok(name, "no file-system errors; the card reports no wear data")
    return ok(name, "no file-system errors; " + ", ".join(notes))


# ---------------------------------------------------------------- running them


#: Unsent events older than this make `kiosk doctor` warn.
UPLINK_STALE_SECONDS = 3600.0


def check_uplink(ctx: Context) -> Check:
    """Uplink to the central server: settings, backlog and last acknowledgement.

    Reads the store read-only and sends nothing; the uplink itself is
    :mod:`kiosk.office.uplink` (imported here only, so the doctor needs no network code
    to start and the uplink knows nothing of the doctor).
    """
    from kiosk.core import events
    from kiosk.core.store import Store, StoreError
    from kiosk.office.uplink import UplinkSettings, _iso

    cfg = ctx.cfg
    if cfg is None:
        return Check("uplink", "skip", "no valid site file")
    if not cfg.uplink.enabled:
        return Check("uplink", "skip", "off ([uplink] enabled = false)")
    try:
        s = UplinkSettings.from_config(cfg)
    except ConfigError as e:
        return fail("uplink", e.problems[0], "correct [uplink] in the site file")
    p = ctx.db_path
    if p is None or not p.exists():
        return ok("uplink", f"→ {s.url}; nothing recorded yet")
    try:
        with Store.read_only(p) as tx:
            row = tx.cursor_row(events.UPLINK_CURSOR)
            seq = row[0] if row else 0
            waiting = tx.count_events_after(seq)
            oldest = tx.oldest_event_after(seq)
    except StoreError as e:
        return fail("uplink", f"cannot read {p}: {e}", "see the store line above")
    now = ctx.now()
    if waiting and oldest is not None and now - oldest > UPLINK_STALE_SECONDS:
        age = (now - oldest) / 3600
        return warn(
            "uplink",
            f"{waiting} event(s) not yet accepted by {s.url}, the oldest {age:.1f} h old "
            "(nothing is lost; they go when the link works)",
            "check the network and the central server; `kiosk uplink --send` shows the error",
        )
    last = f", last accepted {_iso(row[1])}" if row and row[0] else ""
    return ok("uplink", f"→ {s.url}: {waiting} event(s) waiting{last}")


def check_versions(ctx: Context) -> Check:
    """What this kiosk runs (never fails): for a fleet's records and bug reports."""
    from kiosk.core.versions import summary

    return ok("versions", summary())


CHECKS: list[tuple[str, Callable[[Context], Check]]] = [
    ("store", check_store),
    ("disk", check_disk),
    ("printer", check_printer),
    ("display", check_display),
    ("gpio", check_gpio),
    ("screen", check_screen),
    ("fonts", check_fonts),
    ("audio", check_audio),
    ("clock", check_clock),
    ("sdcard", check_sd_card),
    ("uplink", check_uplink),
    ("versions", check_versions),
]


def run_checks(
    config: str | None,
    db: str | None = None,
    only: list[str] | None = None,
    statvfs: Callable[[str], os.statvfs_result] = os.statvfs,
    now: Callable[[], float] = time.time,
) -> list[Check]:
    """Run every check (or those named in ``only``) and return them in order."""
    path = find_config(config)
    problems: list[str] = []
    cfg: Config | None = None
    try:
        cfg = load(path)
    except ConfigError as e:
        problems = e.problems
    spec = db if db else (cfg.storage.url or cfg.storage.path if cfg is not None else None)
    db_url = spec if spec and spec.startswith(("postgresql://", "postgres://")) else None
    db_path = Path(spec) if spec and db_url is None else None
    ctx = Context(path, cfg, db_path, statvfs, now, db_url)
    results = []
    if not only or "site" in only:
        results.append(check_site(ctx, problems))
    for key, fn in CHECKS:
        if only and key not in only:
            continue
        try:
            results.append(fn(ctx))
        except Exception as e:  # a broken check must not hide the others
            results.append(
                fail(key, f"the check itself failed: {type(e).__name__}: {e}", "report this")
            )
    return results


MARK = {"ok": "ok  ", "warn": "WARN", "fail": "FAIL", "skip": "--  "}


def format_line(c: Check) -> str:
    line = f"{MARK[c.status]} {c.name:<13} {c.detail}"
    if c.fix and c.status in ("fail", "warn"):
        line += f"\n{'':18}fix: {c.fix}"
    return line
