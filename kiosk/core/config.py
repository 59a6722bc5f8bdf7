"""Site file: finding it, reading it, and validating it for a technician.

One TOML file per site. Every section is a frozen dataclass below and every key
is declared once, as one of its fields (:func:`display.siteconfig.key`): the
field's type is the key's type to mypy (``cfg.printer.paper_mm`` is an ``int``),
its default is the key's default, and its metadata carries the one line of
documentation and the limits. ``[display]`` and ``[announcer]`` are declared in
``display/siteconfig.py`` (the hall display reads them without the kiosk).
``SCHEMA`` and ``ARRAYS`` are derived from these classes; ``docs/configuration.md``
and ``config/example.toml`` follow them (tests check both).

Validation collects *all* problems, each naming the file, the line where it can
be found, the key path, what was expected and what was found, so a technician
can fix a file in one pass. Whatever a running kiosk would refuse for a reason
written in the file (a plain-http uplink URL, a missing token, a listen address
that is not one, a name the font cannot draw) is refused here too, so a file
``kiosk check-config`` accepts does not fail later.

Other parts of the project add their keys here, in their own section.
"""

from __future__ import annotations

import os
import re
import struct
import tomllib
import typing
import zoneinfo
from collections.abc import Callable, Mapping, Sequence
from dataclasses import MISSING, dataclass, field, fields, is_dataclass
from datetime import time
from ipaddress import ip_address
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from display.siteconfig import REQUIRED, AnnouncerSection, DisplaySection, key

#: Where the running kiosk looks for its site file, after --config and $KIOSK_CONFIG.
SYSTEM_PATHS = (Path("/boot/firmware/kiosk.toml"), Path("/etc/kiosk/kiosk.toml"))
EXAMPLE_PATH = Path(__file__).resolve().parent.parent / "data" / "example.toml"

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
#: BCM GPIO numbers broken out on the 40-pin header.
HEADER_PINS = frozenset(range(2, 28))
BUS_PINS = {
    "i2c": frozenset({2, 3}),
    "spi": frozenset({7, 8, 9, 10, 11}),
    "uart": frozenset({14, 15}),
}
KEY = r"^.{0,1}$"  # one keyboard key, or none
_key = key


class ConfigError(Exception):
    """The site file cannot be used; ``problems`` holds one line per problem."""

    def __init__(self, problems: Sequence[str]):
        super().__init__("\n".join(problems))
        self.problems = list(problems)


# --------------------------------------------------------------------------- sections


@dataclass(frozen=True)
class SiteSection:
    """``[site]``"""

    name: str = key(doc="Office name shown on screens and reports")
    name_en: str = key("", "Office name in English")
    id: str = key(
        "site", "Short id for the uplink to the central server", pattern=r"^[A-Za-z0-9_-]{1,64}$"
    )
    timezone: str = key("Asia/Ho_Chi_Minh", "IANA time zone of the office")
    ticket_header: tuple[str, ...] = key((), "Lines printed at the top of each ticket")
    ticket_footer: tuple[str, ...] = key((), "Lines printed at the bottom of each ticket")
    language: Literal["vi", "en"] = key("vi", "Language the screens start in")


@dataclass(frozen=True)
class HoursSection:
    """``[hours]``"""

    open: str = key("07:30", "Opening time; numbers restart at this time each day", kind="time")
    close: str = key("17:00", "Closing time; tickets still waiting are expired", kind="time")
    days: tuple[str, ...] = key(("mon", "tue", "wed", "thu", "fri"), "Days the office opens")


@dataclass(frozen=True)
class StorageSection:
    """``[storage]``"""

    path: str = key("/var/lib/kiosk/queue.db", "SQLite queue database", kind="path")
    url: str = key(
        "",
        "PostgreSQL store shared by a large centre's kiosks (libpq URL, no password); "
        "empty: the SQLite file at path",
        pattern=r"^$|^postgres(ql)?://\S*$",
    )
    retention_days: int = key(400, "Days of served tickets kept", min=1, max=100000)


@dataclass(frozen=True)
class KioskSection:
    """``[kiosk]``"""

    id: str = key(
        "",
        "This kiosk's name when several share one store ([storage] url): it prints the "
        "tickets issued at it; empty in a one-kiosk office",
        pattern=r"^[A-Za-z0-9_-]{0,32}$",
    )


@dataclass(frozen=True)
class NumberingSection:
    """``[numbering]``"""

    mode: Literal["per_service", "shared"] = key("per_service", "Numbering per service or shared")
    shared_start: int = key(1001, "First number of the shared sequence", min=0, max=999999)
    shared_end: int = key(9999, "Last number of the shared sequence", min=0, max=999999)


@dataclass(frozen=True)
class QueueSection:
    """``[queue]``"""

    policy: Literal["oldest_first", "service_order"] = key(
        "oldest_first", "Which ticket a counter calls next"
    )
    transfer_position: Literal["front", "issue_time", "back"] = key(
        "front", "Where a transferred ticket joins"
    )
    priority_enabled: bool = key(True, "Priority tickets are called first")
    wait_window: int = key(20, "Services averaged for the waiting estimate", min=1, max=1000)
    priority_ratio: int = key(
        0,
        "Serve up to N priority tickets in a row, then one ordinary; 0 = strict priority",
        min=0,
        max=100,
    )
    priority_age: int = key(
        60, "Age from which a scanned ID card gives a priority ticket; 0 = off", min=0, max=130
    )
    per_citizen_daily_limit: int = key(
        0, "Tickets one citizen (by scanned ID card) may take a day; 0 = no limit", min=0, max=100
    )


@dataclass(frozen=True)
class RatingSection:
    """``[rating]``: satisfaction (counter buttons, keys, the counter tablet of kiosk/web/)"""

    scale: int = key(3, "3 levels (Rất hài lòng … Chưa hài lòng) or 5 stars", min=3, max=5)
    reasons: tuple[str, ...] = key(
        ("Chờ lâu", "Thái độ chưa tốt", "Hướng dẫn chưa rõ", "Thủ tục phức tạp"),
        "Reasons the counter tablet offers at the low end of the scale ([] = never asks)",
    )
    reason_at: int = key(
        0, "Ask for a reason at this score or lower; 0 = 1 of 3, or 3 of 5", min=0, max=5
    )


@dataclass(frozen=True)
class PrinterSection:
    """``[printer]``: ticket layout and connection (printer/); docs/printers.md"""

    uri: str = key("dummy:", "Printer URI (usb:, serial:, tcp://, file:, cups:, dummy:, png:)")
    paper_mm: int = key(80, "Paper width in millimetres (58 or 80)", min=58, max=80)
    cut: Literal["partial", "full", "none"] = key("partial", "Cut after each ticket")
    on_fault: Literal["show_on_screen", "pause"] = key(
        "show_on_screen", "Policy when the printer fails"
    )
    width_dots: int = key(
        0, "Dots across the print head; 0 = from paper_mm (384 or 576)", min=0, max=2048
    )
    logo: str = key("", "PNG logo printed at the top of each ticket (empty = none)", kind="path")
    qr_url: str = key(
        "", "QR code on the ticket: URL template with {code} {day} {service} {site} {token}"
    )
    feed_lines: int = key(4, "Lines fed before the cut", min=0, max=255)
    timeout: float = key(
        5.0,
        "Seconds a printer may take to accept data before it counts as offline",
        min=0.5,
        max=60,
    )
    status_seconds: int = key(
        30, "Seconds between status checks while idle (paper, cover)", min=2, max=3600
    )
    initials: bool = key(False, "Print a scanned ID card's name initials (never the name)")
    late_print_seconds: int = key(
        90,
        "Seconds after issuing during which a ticket is still printed by itself",
        min=5,
        max=3600,
    )


@dataclass(frozen=True)
class GpioSection:
    """``[gpio]``: buttons and lights (kiosk/inputs/gpio.py)"""

    enabled: bool = key(False, "Read GPIO buttons")
    bounce_ms: int = key(30, "Debounce time in milliseconds", min=0, max=1000)
    i2c: bool = key(False, "I2C bus enabled (pins 2, 3 reserved)")
    spi: bool = key(False, "SPI bus enabled (pins 7-11 reserved)")
    uart: bool = key(False, "UART enabled (pins 14, 15 reserved)")
    ready_led_pin: int = key(
        0, "GPIO pin of the ticket-ready light (lit while tickets can be taken)", kind="pin"
    )
    buzzer_pin: int = key(0, "GPIO pin of a buzzer that beeps on each accepted press", kind="pin")


@dataclass(frozen=True)
class UiSection:
    """``[ui]``: the touchscreen (kiosk/ui/)"""

    width: int = key(0, "Window width in pixels; 0 = the whole screen", min=0, max=7680)
    height: int = key(0, "Window height in pixels; 0 = the whole screen", min=0, max=4320)
    fullscreen: bool = key(True, "Fill the screen (false: a window, for desktops)")
    show_cursor: bool = key(False, "Show the mouse pointer (touchscreens hide it)")
    priority_button: bool = key(True, "Show the priority-ticket path on the home screen")
    result_seconds: float = key(
        6.0, "Seconds the number stays on screen after issuing", min=1, max=60
    )
    print_wait_seconds: float = key(
        3.0, "Longest wait for the printer before showing the number", min=0, max=30
    )
    idle_poll_ms: int = key(
        60, "Touch polling interval when idle (feedback needs <= 100 ms)", min=5, max=90
    )
    active_poll_ms: int = key(
        10, "Touch polling interval while someone is using the screen", min=1, max=50
    )
    rotate: int = key(0, "Degrees the panel is turned clockwise: 0, 90, 180 or 270", min=0, max=270)


@dataclass(frozen=True)
class KeysSection:
    """``[keys]``: keyboard / USB keypad (kiosk/inputs/keys.py); service keys are
    ``[[services]] key``"""

    enabled: bool = key(True, "Read a keyboard or USB keypad as another input")
    staff: bool = key(False, "Counter keys (next, recall, ...) on the kiosk keyboard")
    priority: str = key("p", "Key: next service key issues a priority ticket", pattern=KEY)
    language: str = key("l", "Key: switch Tiếng Việt / English", pattern=KEY)
    help: str = key("h", "Key: show or hide the key help", pattern=KEY)
    next: str = key("n", "Staff key: call next at the selected counter", pattern=KEY)
    recall: str = key("r", "Staff key: recall at the selected counter", pattern=KEY)
    skip: str = key("s", "Staff key: no-show at the selected counter", pattern=KEY)
    transfer: str = key("t", "Staff key: transfer at the selected counter", pattern=KEY)
    rate: tuple[str, ...] = key(
        ("z", "x", "c"), "Staff keys: Rất hài lòng, Hài lòng, Chưa hài lòng"
    )


@dataclass(frozen=True)
class UplinkSection:
    """``[uplink]``: the uplink to the central server (kiosk/office/uplink.py); docs/uplink.md"""

    enabled: bool = key(False, "Send events and heartbeats to the central server")
    url: str = key("", "Base URL of the province's central server (https://…)")
    token: str = key("", "Bearer token the central server issued to this site")
    token_file: str = key(
        "", "File holding the token instead (keeps it out of this file)", kind="path"
    )
    ca_bundle: str = key(
        "", "PEM file of the province's private CA; empty = system CAs", kind="path"
    )
    batch_size: int = key(200, "Events per request", min=1, max=5000)
    timeout: float = key(10.0, "Seconds to wait for the server on each call", min=1, max=120)
    heartbeat_seconds: int = key(60, "Seconds between device-health heartbeats", min=10, max=3600)
    max_backoff: int = key(300, "Longest wait between retries, seconds", min=5, max=3600)


@dataclass(frozen=True)
class MetricsSection:
    """``[metrics]``: Prometheus exposition (kiosk/office/metrics.py)"""

    enabled: bool = key(False, "Serve Prometheus metrics")
    listen: str = key(
        "127.0.0.1:9108",
        "Address:port of the metrics page",
        pattern=r"^[A-Za-z0-9.:\[\]-]+:\d{1,5}$",
    )


@dataclass(frozen=True)
class WebSection:
    """``[web]``: the office network, staff panel, tablets, phone pages, board (kiosk/web/)"""

    enabled: bool = key(False, "Serve the staff panel, tablets, phone pages and board")
    listen: str = key(
        "0.0.0.0:8080",
        "Address:port kiosk web listens on",
        pattern=r"^[A-Za-z0-9.:\[\]-]+:\d{1,5}$",
    )
    public_url: str = key(
        "",
        "Address phones reach kiosk web at, for the ticket QR (empty = this machine's LAN address)",
    )
    secret_file: str = key(
        "",
        "File holding the signing secret (empty = web-secret beside the store; made at first start)",
        kind="path",
    )


@dataclass(frozen=True)
class AppointmentsSection:
    """``[appointments]``: online bookings and check-in (kiosk/office/bookings.py)"""

    enabled: bool = key(False, "Fetch the day's online bookings and accept booking codes")
    url: str = key("", "URL that returns the day's bookings as JSON (https://…)")
    token: str = key("", "Bearer token for the bookings URL")
    ca_bundle: str = key("", "PEM file of a private CA; empty = system CAs", kind="path")
    refresh_minutes: int = key(15, "Minutes between fetches of the booking list", min=1, max=1440)
    timeout: float = key(10.0, "Seconds to wait for the bookings server", min=1, max=120)
    by_id_card: bool = key(True, "A scanned ID card finds the citizen's booking as its code does")


@dataclass(frozen=True)
class ScannerSection:
    """``[scanner]``: a 2D scanner reading citizen ID cards' QR codes
    (kiosk/inputs/idcard.py, scanner.py); docs/privacy.md"""

    id_cards: bool = key(True, "Accept citizen ID cards (CCCD) scanned at the kiosk")
    port: str = key("", "Serial port of the scanner; empty = a USB scanner typing as a keyboard")
    baud: int = key(9600, "Serial speed of the scanner", min=1200, max=921600)
    key_file: str = key(
        "", "File of the site's key for ID hashes; empty = citizen.key next to the database"
    )


@dataclass(frozen=True)
class GuideSection:
    """``[guide]``: the procedure guide on the kiosk screen (kiosk/office/procedures.py,
    docs/guide.md)"""

    file: str = key(
        "", "Procedure list (TOML) beside the site file, e.g. procedures.toml; empty = no guide"
    )


@dataclass(frozen=True)
class Service:
    """One ``[[services]]`` entry: a kind of business citizens take a ticket for."""

    id: str = key(doc="Service id typed by staff and the CLI", pattern=r"^[a-z0-9_-]{1,32}$")
    name: str = key(doc="Vietnamese name")
    name_en: str = key(doc="English name")
    prefix: str = key("", "Letters before the number on the ticket", pattern=r"^[A-Z]{0,3}$")
    width: int = key(3, "Digits in the number (zero-padded)", min=1, max=6)
    start: int = key(1, "First number each day", min=0, max=999999)
    end: int = key(999, "Last number each day", min=0, max=999999)
    minutes: float = key(8.0, "Average minutes per citizen until measured", min=0.1, max=600)
    key: str = key("", "Keyboard/keypad key that issues this service", pattern=KEY)
    # (``key`` is now this field's default inside the class body: call the helper by its alias)
    button_pin: int = _key(0, "GPIO pin of this service's ticket button (0 = none)", kind="pin")

    def code(self, number: int) -> str:
        """The ticket code printed and called, e.g. ``A007``."""
        return f"{self.prefix}{number:0{self.width}d}"


@dataclass(frozen=True)
class Counter:
    """One ``[[counters]]`` entry: a desk that calls tickets of the services it serves."""

    id: int = key(doc="Counter number (called aloud)", min=1, max=254)
    name: str = key(doc="Counter name")
    services: tuple[str, ...] = key(doc="Ordered list of service ids it serves")
    next_pin: int = key(0, "GPIO pin of the call-next button", kind="pin")
    recall_pin: int = key(0, "GPIO pin of the recall button", kind="pin")
    skip_pin: int = key(0, "GPIO pin of the skip (no-show) button", kind="pin")
    transfer_pin: int = key(0, "GPIO pin of the transfer button", kind="pin")
    rate_pins: tuple[int, ...] = key((0, 0, 0), "Pins of Rất hài lòng / Hài lòng / Chưa hài lòng")
    busy_led_pin: int = key(0, "GPIO pin of the counter-busy light", kind="pin")


@dataclass
class Config:
    """A validated site configuration: one typed attribute per section.

    Each section is read-only; a test (or the simulator) that needs other settings
    swaps a whole section: ``cfg.printer = replace(cfg.printer, on_fault="pause")``.
    """

    source: str
    site: SiteSection
    services: list[Service]
    counters: list[Counter]
    hours: HoursSection = HoursSection()
    storage: StorageSection = StorageSection()
    kiosk: KioskSection = KioskSection()
    numbering: NumberingSection = NumberingSection()
    queue: QueueSection = QueueSection()
    rating: RatingSection = RatingSection()
    printer: PrinterSection = PrinterSection()
    display: DisplaySection = DisplaySection()
    announcer: AnnouncerSection = AnnouncerSection()
    gpio: GpioSection = GpioSection()
    ui: UiSection = UiSection()
    keys: KeysSection = KeysSection()
    uplink: UplinkSection = UplinkSection()
    metrics: MetricsSection = MetricsSection()
    appointments: AppointmentsSection = AppointmentsSection()
    web: WebSection = WebSection()
    scanner: ScannerSection = ScannerSection()
    guide: GuideSection = GuideSection()
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def sections(self) -> dict[str, Any]:
        """Every plain section by name (``{"site": SiteSection(...), ...}``), in file order."""
        return {name: getattr(self, name) for name in SECTION_TYPES}

    def service(self, service_id: str) -> Service:
        for s in self.services:
            if s.id == service_id:
                return s
        raise KeyError(service_id)

    def counter(self, counter_id: int) -> Counter:
        for c in self.counters:
            if c.id == counter_id:
                return c
        raise KeyError(counter_id)

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.site.timezone)

    @property
    def open_time(self) -> time:
        return _parse_time(self.hours.open)

    @property
    def close_time(self) -> time:
        return _parse_time(self.hours.close)

    def summary(self) -> str:
        return (
            f"{self.site.name}: {len(self.services)} services, {len(self.counters)} counters, "
            f"open {self.hours.open}–{self.hours.close} {self.site.timezone}, "
            f"printer {self.printer.uri}, display {self.display.port}@{self.display.baud}"
        )


# --------------------------------------------------------------------------- schema


@dataclass(frozen=True)
class Field:
    """What one key accepts, read from its dataclass field (see :func:`schema_of`)."""

    kind: str  # str, int, float, bool, time, list[str], list[int], enum, pin, path
    default: Any = REQUIRED
    doc: str = ""
    choices: tuple[str, ...] = ()
    min: float | None = None
    max: float | None = None
    pattern: str | None = None


_KINDS: dict[Any, str] = {
    str: "str",
    int: "int",
    float: "float",
    bool: "bool",
    tuple[str, ...]: "list[str]",
    tuple[int, ...]: "list[int]",
}


def schema_of(cls: type[Any]) -> dict[str, Field]:
    """The keys of one section class, in declaration order."""
    hints = typing.get_type_hints(cls)
    out: dict[str, Field] = {}
    for f in fields(cls):
        meta, hint = f.metadata, hints[f.name]
        choices: tuple[str, ...] = ()
        if typing.get_origin(hint) is Literal:
            kind, choices = "enum", typing.get_args(hint)
        else:
            kind = meta.get("kind") or _KINDS[hint]
        out[f.name] = Field(
            kind,
            REQUIRED if f.default is MISSING else f.default,
            meta.get("doc", ""),
            choices,
            meta.get("min"),
            meta.get("max"),
            meta.get("pattern"),
        )
    return out


def _section_types() -> dict[str, type[Any]]:
    hints = typing.get_type_hints(Config)
    return {
        f.name: hints[f.name]
        for f in fields(Config)
        if typing.get_origin(hints[f.name]) is None and is_dataclass(hints[f.name])
    }


#: Plain sections (``[site]``, ``[printer]``, …) by name, in the order of ``Config``.
SECTION_TYPES: dict[str, type[Any]] = _section_types()
#: Every key of every plain section.
SCHEMA: dict[str, dict[str, Field]] = {n: schema_of(c) for n, c in SECTION_TYPES.items()}
#: Arrays of tables: ``[[services]]`` and ``[[counters]]``.
ARRAY_TYPES: dict[str, type[Any]] = {"services": Service, "counters": Counter}
ARRAYS: dict[str, dict[str, Field]] = {n: schema_of(c) for n, c in ARRAY_TYPES.items()}
REQUIRED_SECTIONS = ("site", "services", "counters")


# --------------------------------------------------------------------------- reading


def find_config(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The site file the running kiosk uses: ``--config``, ``$KIOSK_CONFIG``,
    ``/boot/firmware/kiosk.toml``, ``/etc/kiosk/kiosk.toml``, then the example."""
    if explicit:
        return Path(explicit)
    env = os.environ.get("KIOSK_CONFIG")
    if env:
        return Path(env)
    for p in SYSTEM_PATHS:
        if p.is_file():
            return p
    return EXAMPLE_PATH


def load(path: str | os.PathLike[str] | None = None) -> Config:
    """Find, read and validate the site file; raises ConfigError."""
    p = find_config(path)
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        raise ConfigError(
            [f"{p}: file not found; give the path of the site file (e.g. config/example.toml)"]
        ) from None
    except IsADirectoryError:
        raise ConfigError([f"{p}: is a folder, expected a .toml site file"]) from None
    except OSError as e:
        raise ConfigError([f"{p}: cannot be read: {e.strerror}"]) from None
    return parse(data, str(p))


def read_toml(data: bytes | str, source: str) -> tuple[dict[str, Any], str]:
    """A TOML file as a person on any PC saves it: (the table, its text).

    UTF-8 only (a clear message otherwise), a BOM and CRLF line ends accepted (Windows
    editors), a syntax error named with its file, line and column. Shared by the site
    file and the files beside it (the procedure guide).
    """
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as e:
            line = data[: e.start].count(b"\n") + 1
            raise ConfigError(
                [
                    f"{source}:{line}: the file is not UTF-8 text; save it as UTF-8 "
                    "(Notepad: Save as → Encoding: UTF-8) so Vietnamese letters are kept"
                ]
            ) from None
    else:
        text = data
    text = text.removeprefix("\ufeff").replace("\r\n", "\n")
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        msg = str(e)
        m = re.search(r"\(at line (\d+), column (\d+)\)", msg)
        where = f"{source}:{m.group(1)}" if m else source
        msg = re.sub(r"\s*\(at line \d+, column \d+\)", "", msg)
        if m:
            msg += f" (column {m.group(2)})"
        raise ConfigError(
            [f"{where}: TOML syntax error: {msg}; check quotes, brackets and '=' on that line"]
        ) from None
    return raw, text


def parse(data: bytes | str, source: str = "<site file>") -> Config:
    raw, text = read_toml(data, source)
    return validate(raw, source, text)


# --------------------------------------------------------------------------- validation


class _Locator:
    """Finds the line a key path is written on, for messages."""

    def __init__(self, text: str):
        self.lines: dict[str, int] = {}
        table = ""
        counts: dict[str, int] = {}
        for n, line in enumerate(text.splitlines(), 1):
            s = line.strip()
            if m := re.match(r"^\[\[\s*([A-Za-z0-9_.-]+)\s*\]\]", s):
                name = m.group(1)
                idx = counts.get(name, 0)
                counts[name] = idx + 1
                table = f"{name}[{idx}]"
                self.lines.setdefault(table, n)
            elif m := re.match(r"^\[\s*([A-Za-z0-9_.-]+)\s*\]", s):
                table = m.group(1)
                self.lines.setdefault(table, n)
            elif m := re.match(r'^("?)([A-Za-z0-9_-]+)\1\s*=', s):
                key = f"{table}.{m.group(2)}" if table else m.group(2)
                self.lines.setdefault(key, n)

    def line(self, path: str) -> int | None:
        while path:
            if path in self.lines:
                return self.lines[path]
            if "." not in path:
                break
            path = path.rsplit(".", 1)[0]
        return None


def _parse_time(value: str) -> time:
    h, m = value.split(":")
    return time(int(h), int(m))


def _describe(v: Any) -> str:
    if isinstance(v, bool):
        return f"{str(v).lower()} (true/false)"
    if isinstance(v, str):
        return f'"{v}" (text)'
    if isinstance(v, int):
        return f"{v} (a whole number)"
    if isinstance(v, float):
        return f"{v} (a decimal number)"
    if isinstance(v, list):
        return "a list"
    if isinstance(v, dict):
        return "a table"
    return repr(v)


def _check(f: Field, v: Any) -> tuple[Any, str | None]:
    """Returns (value, problem)."""
    k = f.kind
    if k in ("str", "path"):
        if not isinstance(v, str):
            return v, f"expected text in quotes, found {_describe(v)}"
        if k == "str" and f.default is REQUIRED and not v.strip():
            return v, "must not be empty"
        if f.pattern and not re.match(f.pattern, v):
            return v, f'"{v}" is not allowed here (expected {_pattern_hint(f.pattern)})'
        return v, None
    if k == "enum":
        if not isinstance(v, str) or v not in f.choices:
            return (
                v,
                f"expected one of {', '.join(repr(c) for c in f.choices)}, found {_describe(v)}",
            )
        return v, None
    if k == "bool":
        if not isinstance(v, bool):
            return v, f"expected true or false, found {_describe(v)}"
        return v, None
    if k in ("int", "pin"):
        if isinstance(v, bool) or not isinstance(v, int):
            return v, f"expected a whole number, found {_describe(v)}"
        if k == "pin" and v != 0 and v not in HEADER_PINS:
            return v, f"GPIO {v} is not on the 40-pin header; use a BCM number 2–27, or 0 for none"
        if f.min is not None and v < f.min or f.max is not None and v > f.max:
            return v, f"expected a number from {f.min:g} to {f.max:g}, found {v}"
        return v, None
    if k == "float":
        if isinstance(v, bool) or not isinstance(v, int | float):
            return v, f"expected a number, found {_describe(v)}"
        if f.min is not None and v < f.min or f.max is not None and v > f.max:
            return v, f"expected a number from {f.min:g} to {f.max:g}, found {v}"
        return float(v), None
    if k == "time":
        if not isinstance(v, str) or not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", v):
            return v, f'expected a time like "07:30" (24-hour, in quotes), found {_describe(v)}'
        return v, None
    if k in ("list[str]", "list[int]"):
        want = str if k == "list[str]" else int
        if not isinstance(v, list) or not all(
            isinstance(x, want) and not isinstance(x, bool) for x in v
        ):
            what = (
                'texts in quotes, like ["a", "b"]' if want is str else "whole numbers, like [1, 2]"
            )
            return v, f"expected a list of {what}, found {_describe(v)}"
        return tuple(v), None
    raise AssertionError(f"unknown field kind {k}")


def _pattern_hint(p: str) -> str:
    return {
        r"^[a-z0-9_-]{1,32}$": "lower-case letters without accents, digits, - or _, up to 32",
        r"^[A-Z]{0,3}$": "up to 3 capital letters without accents",
        r"^[A-Za-z0-9_-]{1,64}$": "letters without accents, digits, - or _",
        r"^.{0,1}$": "a single character",
        r"^[A-Za-z0-9.:\[\]-]+:\d{1,5}$": 'an address and port like "127.0.0.1:9108"',
    }.get(p, f"text matching {p}")


def _fill(
    table: Any,
    schema: dict[str, Field],
    path: str,
    where: Callable[[str], str],
    problems: list[str],
) -> dict[str, Any]:
    """The keys of one table, checked and with defaults filled in (a missing required
    key is left out); wrong values are kept as found, for the cross-checks to skip."""
    out: dict[str, Any] = {}
    if not isinstance(table, dict):
        problems.append(f"{where(path)}{path}: expected a table [{path}], found {_describe(table)}")
        return out
    for name in table:
        if name not in schema:
            near = _near(name, schema)
            problems.append(f"{where(f'{path}.{name}')}{path}.{name}: unknown key{near}")
    for name, f in schema.items():
        kp = f"{path}.{name}"
        if name not in table:
            if f.default is REQUIRED:
                problems.append(
                    f"{where(path)}{kp}: missing; add {name} = … to [{path.split('[')[0]}]"
                )
            else:
                out[name] = f.default
            continue
        value, problem = _check(f, table[name])
        if problem:
            problems.append(f"{where(kp)}{kp}: {problem}")
        out[name] = value
    return out


def _near(key: str, schema: Mapping[str, object]) -> str:
    import difflib

    m = difflib.get_close_matches(key, list(schema), n=1)
    return f" (did you mean {m[0]!r}?)" if m else f" (known keys: {', '.join(schema)})"


def validate(raw: dict[str, Any], source: str = "<site file>", text: str = "") -> Config:
    loc = _Locator(text)
    problems: list[str] = []

    def where(path: str) -> str:
        n = loc.line(path)
        return f"{source}:{n}: " if n else f"{source}: "

    for name in raw:
        if name not in SCHEMA and name not in ARRAYS:
            problems.append(
                f"{where(name)}{name}: unknown section{_near(name, {**SCHEMA, **ARRAYS})}"
            )
    for name in REQUIRED_SECTIONS:
        if name not in raw:
            problems.append(f"{source}: [{name}] is missing; see config/example.toml")
    sections = {
        name: _fill(raw.get(name, {}), schema, name, where, problems)
        for name, schema in SCHEMA.items()
    }

    services: list[Service] = []
    counters: list[Counter] = []
    for name, schema in ARRAYS.items():
        items = raw.get(name, [])
        if not isinstance(items, list):
            problems.append(f"{where(name)}{name}: write each entry as [[{name}]], not [{name}]")
            continue
        if name in raw and not items:
            problems.append(f"{source}: at least one [[{name}]] is needed")
        for i, item in enumerate(items):
            sec = _fill(item, schema, f"{name}[{i}]", where, problems)
            if any(k not in sec for k in schema):
                continue
            if name == "services":
                services.append(Service(**sec))
            else:
                counters.append(Counter(**sec))

    _cross_checks(raw, sections, services, counters, where, problems)
    if problems:
        raise ConfigError(problems)
    typed = {name: cls(**sections[name]) for name, cls in SECTION_TYPES.items()}
    return Config(source=source, services=services, counters=counters, raw=raw, **typed)


def _cross_checks(
    raw: dict[str, Any],
    sections: dict[str, dict[str, Any]],
    services: list[Service],
    counters: list[Counter],
    where: Callable[[str], str],
    problems: list[str],
) -> None:
    url = sections.get("storage", {}).get("url")
    if isinstance(url, str) and url:
        from urllib.parse import urlsplit

        if urlsplit(url).password is not None:
            problems.append(
                f"{where('storage.url')}: the URL holds a password; remove it and put it in "
                "the kiosk user's ~/.pgpass (or PGPASSFILE), as libpq reads it from there"
            )
    tz = sections["site"].get("timezone")
    if isinstance(tz, str):
        try:
            zoneinfo.ZoneInfo(tz)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            problems.append(
                f'{where("site.timezone")}site.timezone: unknown time zone "{tz}"; use e.g. "Asia/Ho_Chi_Minh"'
            )
    hours = sections["hours"]
    try:
        if _parse_time(hours["open"]) >= _parse_time(hours["close"]):
            problems.append(
                f"{where('hours.close')}hours.close: {hours['close']} is not after hours.open {hours['open']}"
            )
    except (ValueError, AttributeError):
        pass
    days = hours.get("days")
    if isinstance(days, tuple):
        for d in days:
            if d not in WEEKDAYS:
                problems.append(
                    f'{where("hours.days")}hours.days: "{d}" is not a day; use {", ".join(WEEKDAYS)}'
                )
    num = sections["numbering"]
    if (
        isinstance(num.get("shared_start"), int)
        and isinstance(num.get("shared_end"), int)
        and num["shared_start"] > num["shared_end"]
    ):
        problems.append(
            f"{where('numbering.shared_end')}numbering.shared_end: {num['shared_end']} is below shared_start {num['shared_start']}"
        )
    if sections["printer"].get("paper_mm") not in (58, 80, None):
        problems.append(
            f"{where('printer.paper_mm')}printer.paper_mm: expected 58 or 80, found {sections['printer']['paper_mm']}"
        )
    problems += _printer_problems(sections["printer"], where)
    scale = sections["rating"].get("scale")
    if isinstance(scale, int) and scale not in (3, 5):
        problems.append(
            f"{where('rating.scale')}rating.scale: expected 3 (three levels) or 5 (stars), found {scale}"
        )
    reason_at = sections["rating"].get("reason_at")
    if isinstance(scale, int) and isinstance(reason_at, int) and reason_at > scale:
        problems.append(
            f"{where('rating.reason_at')}rating.reason_at: {reason_at} is above the scale's "
            f"top ({scale}); use 1 to {scale}, or 0 for the default"
        )

    seen: dict[str, int] = {}
    prefixes: dict[str, str] = {}
    keys: dict[str, str] = {}
    for i, s in enumerate(services):
        p = f"services[{i}]"
        if s.id in seen:
            problems.append(
                f'{where(p + ".id")}{p}.id: "{s.id}" is used twice (also services[{seen[s.id]}]); service ids must be unique'
            )
        seen.setdefault(s.id, i)
        if s.start > s.end:
            problems.append(f"{where(p + '.end')}{p}.end: {s.end} is below start {s.start}")
        if len(str(s.end)) > s.width:
            problems.append(
                f"{where(p + '.width')}{p}.width: {s.width} digits cannot hold the last number {s.end}; raise width or lower end"
            )
        if num.get("mode") == "per_service":
            if s.prefix in prefixes:
                problems.append(
                    f'{where(p + ".prefix")}{p}.prefix: "{s.prefix}" is also the prefix of service "{prefixes[s.prefix]}"; '
                    "with per_service numbering each service needs its own prefix, or their tickets would share codes"
                )
            prefixes.setdefault(s.prefix, s.id)
        if s.key:
            if s.key in keys:
                problems.append(
                    f'{where(p + ".key")}{p}.key: "{s.key}" is also the key of service "{keys[s.key]}"'
                )
            keys.setdefault(s.key, s.id)

    served: set[str] = set()
    cseen: dict[int, int] = {}
    for i, c in enumerate(counters):
        p = f"counters[{i}]"
        if c.id in cseen:
            problems.append(
                f"{where(p + '.id')}{p}.id: counter {c.id} is defined twice (also counters[{cseen[c.id]}]); counter ids must be unique"
            )
        cseen.setdefault(c.id, i)
        if not c.services:
            problems.append(
                f"{where(p + '.services')}{p}.services: the list is empty; name at least one service id"
            )
        for sid in c.services:
            if sid not in seen:
                problems.append(
                    f'{where(p + ".services")}{p}.services: "{sid}" is not a service id; known: {", ".join(seen) or "none"}'
                )
            served.add(sid)
        if len(set(c.services)) != len(c.services):
            problems.append(f"{where(p + '.services')}{p}.services: a service is listed twice")
        if len(c.rate_pins) != 3:
            problems.append(
                f"{where(p + '.rate_pins')}{p}.rate_pins: expected 3 pins (Rất hài lòng, Hài lòng, Chưa hài lòng), found {len(c.rate_pins)}"
            )
        for pin in c.rate_pins:
            if pin != 0 and pin not in HEADER_PINS:
                problems.append(
                    f"{where(p + '.rate_pins')}{p}.rate_pins: GPIO {pin} is not on the 40-pin header; use 2–27, or 0"
                )
    for s in services:
        if counters and s.id not in served:
            i = seen[s.id]
            problems.append(
                f'{where(f"services[{i}].id")}services[{i}]: no counter serves "{s.id}"; add it to a counter\'s services, or its tickets would never be called'
            )

    _pin_checks(sections, services, counters, where, problems)
    _key_checks(sections, services, where, problems)
    problems += _storage_problems(sections["storage"], where)
    problems += _office_problems(sections, where)
    problems += _font_problems(raw, services, counters, where)


def _pin_checks(
    sections: dict[str, dict[str, Any]],
    services: list[Service],
    counters: list[Counter],
    where: Callable[[str], str],
    problems: list[str],
) -> None:
    uses: list[tuple[int, str]] = []
    for i, s in enumerate(services):
        uses.append((s.button_pin, f"services[{i}].button_pin"))
    for i, c in enumerate(counters):
        for name in ("next_pin", "recall_pin", "skip_pin", "transfer_pin", "busy_led_pin"):
            uses.append((getattr(c, name), f"counters[{i}].{name}"))
        for j, pin in enumerate(c.rate_pins):
            uses.append((pin, f"counters[{i}].rate_pins[{j}]"))
    uses.extend(extra_pin_uses(sections))
    owner: dict[int, str] = {}
    gpio = sections["gpio"]
    for pin, path in uses:
        if not isinstance(pin, int) or pin == 0:
            continue
        if pin in owner:
            at = where(re.sub(r"\[\d+\]$", "", path))
            problems.append(
                f"{at}{path}: GPIO {pin} is already used by {owner[pin]}; every button and light needs its own pin"
            )
        owner.setdefault(pin, path)
        for bus, pins in BUS_PINS.items():
            if gpio.get(bus) and pin in pins:
                problems.append(
                    f"{where(path)}{path}: GPIO {pin} belongs to the enabled {bus.upper()} bus; pick another pin or set gpio.{bus} = false"
                )


def extra_pin_uses(sections: dict[str, dict[str, Any]]) -> list[tuple[int, str]]:
    """Pins claimed by other sections (LEDs, buzzer), as (pin, key path)."""
    out: list[tuple[int, str]] = []
    for section, keys in PIN_KEYS.items():
        for name in keys:
            v = sections.get(section, {}).get(name)
            if isinstance(v, int) and not isinstance(v, bool):
                out.append((v, f"{section}.{name}"))
    return out


#: Pin-valued keys in plain sections, checked for reuse with the others.
PIN_KEYS: dict[str, tuple[str, ...]] = {}
PIN_KEYS["gpio"] = ("ready_led_pin", "buzzer_pin")


def _key_checks(
    sections: dict[str, dict[str, Any]],
    services: list[Service],
    where: Callable[[str], str],
    problems: list[str],
) -> None:
    """Keyboard keys (kiosk/inputs/keys.py): one meaning per key."""
    rotate = sections.get("ui", {}).get("rotate")
    if isinstance(rotate, int) and rotate not in (0, 90, 180, 270):
        problems.append(
            f"{where('ui.rotate')}ui.rotate: {rotate} is not a quarter turn; use 0, 90, 180 or 270"
        )
    keys = sections.get("keys", {})
    used: dict[str, str] = {
        s.key.lower(): f"services[{i}].key" for i, s in enumerate(services) if s.key
    }
    named = [(k, keys.get(k)) for k in ("priority", "language", "help")]
    if keys.get("staff"):
        named += [(k, keys.get(k)) for k in ("next", "recall", "skip", "transfer")]
        rate = keys.get("rate")
        if isinstance(rate, tuple):
            if len(rate) != 3:
                problems.append(
                    f"{where('keys.rate')}keys.rate: expected 3 keys (Rất hài lòng, Hài lòng, Chưa hài lòng), found {len(rate)}"
                )
            named += [(f"rate[{i}]", k) for i, k in enumerate(rate)]
    for name, k in named:
        if not isinstance(k, str) or not k:
            continue
        if len(k) != 1:
            problems.append(
                f'{where("keys." + name.split("[")[0])}keys.{name}: "{k}" is not a single key'
            )
            continue
        if k.lower() in used:
            problems.append(
                f'{where("keys." + name.split("[")[0])}keys.{name}: "{k}" is also {used[k.lower()]}; every key needs one meaning'
            )
        used.setdefault(k.lower(), f"keys.{name}")


#: First bytes of the picture formats a ticket logo may be in (Pillow reads them all).
IMAGE_SIGNATURES = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a", b"BM")


def _is_image(path: Path) -> bool:
    """Whether ``path`` starts like a picture the ticket can print (without loading Pillow,
    which would cost every command a tenth of a second)."""
    try:
        with open(path, "rb") as f:
            head = f.read(8)
    except OSError:
        return False
    return head.startswith(IMAGE_SIGNATURES)


def _printer_problems(sec: Mapping[str, Any], where: Callable[[str], str]) -> list[str]:
    """[printer] checks the schema cannot express (printer/uri.py parses the URI)."""
    from printer.uri import PrinterUriError, parse

    out: list[str] = []
    if isinstance(sec.get("uri"), str):
        try:
            parse(sec["uri"])
        except PrinterUriError as e:
            out.append(f"{where('printer.uri')}printer.uri: {e}")
    dots = sec.get("width_dots")
    if isinstance(dots, int) and dots and (dots % 8 or dots < 128):
        out.append(
            f"{where('printer.width_dots')}printer.width_dots: {dots} must be 0 or a multiple of 8 "
            "from 128 (384 for 58 mm paper, 576 for 80 mm)"
        )
    logo = sec.get("logo")
    if isinstance(logo, str) and logo and not Path(logo).is_file():
        out.append(
            f"{where('printer.logo')}printer.logo: {logo} is not a file; "
            'give the full path of a PNG, or "" for no logo'
        )
    elif isinstance(logo, str) and logo and not _is_image(Path(logo)):
        out.append(
            f"{where('printer.logo')}printer.logo: {logo} is not a PNG, JPEG, GIF or BMP "
            'picture (tickets would print without it); save the logo as PNG, or "" for no logo'
        )
    qr = sec.get("qr_url")
    if isinstance(qr, str) and qr:
        try:
            qr.format(code="A001", day="2026-01-02", service="s", number=1, site="site", token="t")
        except (KeyError, IndexError, ValueError) as e:
            out.append(
                f"{where('printer.qr_url')}printer.qr_url: unknown placeholder {e}; "
                "use {code}, {day}, {service}, {number}, {site} or {token}"
            )
    return out


# --------------------------------------------------------------------------- run-time checks
# What a running kiosk would otherwise find only when it starts a service: refused here,
# so that a file `kiosk check-config` accepts does not fail later for a reason written in it.


def _storage_problems(sec: Mapping[str, Any], where: Callable[[str], str]) -> list[str]:
    """[storage] path must name a file that outlives the process."""
    path = sec.get("path")
    if not isinstance(path, str):
        return []
    at = f"{where('storage.path')}storage.path"
    if not path.strip() or path.strip() == ":memory:" or path.startswith("file::memory:"):
        shown = f'"{path}"'
        return [
            f"{at}: {shown} keeps the queue in memory only, so numbers would start again "
            'at 001 after every restart; give a file, e.g. "/var/lib/kiosk/queue.db"'
        ]
    if Path(path).is_dir():
        return [f'{at}: {path} is a folder; give a file in it, e.g. "{path.rstrip("/")}/queue.db"']
    return []


def check_url(url: str) -> str | None:
    """Why ``url`` cannot be a central-server or bookings URL, or None. Plain http is for
    loopback tests only."""
    if not url:
        return 'empty; set the central server\'s address, e.g. "https://trungtam.tinh.gov.vn/kiosk"'
    parts = urlsplit(url)
    try:
        _ = parts.port
    except ValueError:
        return f'"{url}" has a port that is not a number from 1 to 65535'
    if parts.scheme == "https" and parts.hostname:
        return None
    if parts.scheme == "http" and parts.hostname:
        host = parts.hostname
        try:
            if host == "localhost" or ip_address(host).is_loopback:
                return None
        except ValueError:
            pass
        return f'"{url}" is plain http; use https:// (data must not cross the LAN unencrypted)'
    return f'"{url}" is not a web address; write it like "https://trungtam.tinh.gov.vn/kiosk"'


def uplink_settings(
    url: str, token: str, token_file: str, ca_bundle: str
) -> tuple[str, list[tuple[str, str]]]:
    """The token ``[uplink]`` sends (``token``, or read from ``token_file``) and its
    problems as (key, what is wrong and the fix). Used by the validator for an enabled
    uplink and by ``kiosk.office.uplink`` when it starts."""
    problems: list[tuple[str, str]] = []
    url_problem = check_url(url.strip().rstrip("/"))
    if url_problem:
        problems.append(("url", url_problem))
    if token_file:
        try:
            token = Path(token_file).read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as e:
            why = getattr(e, "strerror", None) or "not UTF-8 text"
            problems.append(
                (
                    "token_file",
                    f"cannot read {token_file} ({why}); "
                    "check the path and that the kiosk user may read it",
                )
            )
            return "", problems
        if not token:
            problems.append(
                (
                    "token_file",
                    f"{token_file} is empty; put the token the central server issued in it",
                )
            )
    elif not token:
        problems.append(
            (
                "token",
                "empty; set the token the central server issued to this site "
                '(token = "…" or token_file = "/etc/kiosk/uplink.token")',
            )
        )
    if ca_bundle and not Path(ca_bundle).is_file():
        problems.append(
            (
                "ca_bundle",
                f"{ca_bundle} does not exist; give the PEM file of the province's CA, "
                'or "" to use the system\'s CAs',
            )
        )
    return token, problems


def listen_problem(
    listen: str, example: str = "127.0.0.1:9108", any_port: bool = True
) -> str | None:
    """Why ``host:port`` cannot be a listening address, or None. The host is an IP
    address (IPv6 in brackets) or ``localhost``: a name would depend on DNS at start-up.
    Port 0 (any free port, for tests) only where ``any_port``."""
    host, _, port = listen.rpartition(":")
    if not port.isdigit() or int(port) > 65535 or (int(port) == 0 and not any_port):
        return f'"{listen}": the port must be a number from 1 to 65535, as in "{example}"'
    if host.startswith("[") and host.endswith("]"):
        try:
            if ip_address(host[1:-1]).version == 6:
                return None
        except ValueError:
            pass
        return f'"{listen}": {host} is not an IPv6 address'
    if ":" in host:
        return f'"{listen}": write an IPv6 address in brackets, as in "[::1]:9108"'
    if host == "localhost":
        return None
    try:
        ip_address(host)
    except ValueError:
        return (
            f'"{listen}": "{host}" is not an IP address; use "127.0.0.1:9108" (this machine '
            'only) or "0.0.0.0:9108" (every network interface)'
        )
    return None


def _office_problems(sections: dict[str, dict[str, Any]], where: Callable[[str], str]) -> list[str]:
    """[uplink] and [appointments] when enabled, and [metrics] listen (which `kiosk
    metrics --serve` uses even when the page is off)."""
    out: list[str] = []

    def strs(sec: Mapping[str, Any], *names: str) -> list[str] | None:
        values = [sec.get(n) for n in names]
        return (
            [v for v in values if isinstance(v, str)]
            if all(isinstance(v, str) for v in values)
            else None
        )

    up = sections["uplink"]
    args = strs(up, "url", "token", "token_file", "ca_bundle")
    if up.get("enabled") is True and args is not None:
        _, found = uplink_settings(*args)
        out += [f"{where('uplink.' + k)}uplink.{k}: {p}" for k, p in found]
    ap = sections["appointments"]
    args = strs(ap, "url", "ca_bundle")
    if ap.get("enabled") is True and args is not None:
        url, ca = args
        if not url:
            out.append(
                f"{where('appointments.url')}appointments.url: empty; set the address of the "
                'day\'s booking list, e.g. "https://dichvucong.example.gov.vn/bookings"'
            )
        elif bad := check_url(url):
            out.append(f"{where('appointments.url')}appointments.url: {bad}")
        if ca and not Path(ca).is_file():
            out.append(
                f"{where('appointments.ca_bundle')}appointments.ca_bundle: {ca} does not exist; "
                'give the PEM file of the private CA, or "" to use the system\'s CAs'
            )
    listen = sections["metrics"].get("listen")
    if isinstance(listen, str) and re.match(SCHEMA["metrics"]["listen"].pattern or "", listen):
        if bad := listen_problem(listen):
            out.append(f"{where('metrics.listen')}metrics.listen: {bad}")
    # [web] (kiosk web, kiosk/web/): checked even when off, as `kiosk web` serves it anyway
    web = sections.get("web", {})
    listen = web.get("listen")
    if isinstance(listen, str) and re.match(SCHEMA["web"]["listen"].pattern or "", listen):
        if bad := listen_problem(listen, "0.0.0.0:8080", any_port=False):
            out.append(f"{where('web.listen')}web.listen: {bad}")
    public = web.get("public_url")
    if isinstance(public, str) and public:
        parts = urlsplit(public)
        try:
            port_ok = parts.port is None or parts.port > 0
        except ValueError:
            port_ok = False
        if parts.scheme not in ("http", "https") or not parts.hostname or not port_ok:
            out.append(
                f'{where("web.public_url")}web.public_url: "{public}" is not an address phones '
                'can open; write it like "http://192.168.1.10:8080", or "" for this machine\'s '
                "LAN address"
            )
    return out


#: Text a citizen reads on the ticket, the touchscreen or the hall display.
DRAWN_TEXT = (
    ("site", "name"),
    ("site", "name_en"),
    ("site", "ticket_header"),
    ("site", "ticket_footer"),
    ("display", "notice"),
)


def _font_problems(
    raw: dict[str, Any],
    services: list[Service],
    counters: list[Counter],
    where: Callable[[str], str],
) -> list[str]:
    """Names the shipped font cannot draw (emoji, CJK …) would print as empty boxes."""
    from printer.fonts import cannot_draw

    texts: list[tuple[str, str, str]] = []  # (key path, what, text)
    for section, name in DRAWN_TEXT:
        v = raw.get(section, {}).get(name) if isinstance(raw.get(section), dict) else None
        lines = v if isinstance(v, list) else [v]
        texts += [
            (f"{section}.{name}", f"{section}.{name}", x) for x in lines if isinstance(x, str)
        ]
    for i, s in enumerate(services):
        for name in ("name", "name_en"):
            texts.append((f"services[{i}].{name}", f'service "{s.id}"', getattr(s, name)))
    for i, c in enumerate(counters):
        texts.append((f"counters[{i}].name", f"counter {c.id}", c.name))
    out: list[str] = []
    try:
        for path, what, text in texts:
            missing = cannot_draw(text)
            if missing:
                chars = ", ".join(f"{ch} (U+{ord(ch):04X})" for ch in missing)
                out.append(
                    f"{where(path)}{path}: the name of {what} has {chars}, which the ticket "
                    "and screen font (DejaVu Sans) cannot draw: it would show as an empty box; "
                    "write it with letters, digits and common punctuation"
                    if what.startswith(("service", "counter"))
                    else f"{where(path)}{path}: {chars} cannot be drawn by the ticket and screen "
                    "font (DejaVu Sans): it would show as an empty box; remove it"
                )
    except (OSError, struct.error):
        return []  # no readable font: `kiosk doctor` reports that, with the fix
    return out
