"""The udev rules give the printer and the display link stable names.

Two checks: udev's own parser (`udevadm test`, run in a private mount namespace so
the host's rules are untouched; systemd 252 has no `udevadm verify`), and a small
evaluator of the rule subset 70-kiosk.rules uses, fed with the attributes real
printers and USB-serial adapters report, because no such device is plugged in here.
"""

from __future__ import annotations

import fnmatch
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest

RULES = Path(__file__).resolve().parents[2] / "systemd" / "70-kiosk.rules"

PAIR = re.compile(r'\s*([A-Z_]+(?:\{[^}]+\})?)\s*(==|!=|\+=|-=|:=|=)\s*"([^"]*)"\s*(,?)')
MATCH_KEYS = {"ACTION", "SUBSYSTEM", "KERNEL", "ATTR", "ATTRS", "ENV"}
ASSIGN_KEYS = {"GROUP", "MODE", "SYMLINK", "TAG", "ENV", "OPTIONS", "GOTO", "LABEL"}


def parse_rules(text: str) -> list[list[tuple[str, str, str]]]:
    rules = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        pairs: list[tuple[str, str, str]] = []
        pos = 0
        while pos < len(line):
            m = PAIR.match(line, pos)
            assert m, f"line {n}: cannot parse from column {pos}: {line[pos:]!r}"
            key, op, value, sep = m.groups()
            base = key.split("{")[0]
            known = MATCH_KEYS if op in ("==", "!=") else ASSIGN_KEYS
            assert base in known, f"line {n}: {key}{op} is not a key these rules may use"
            pairs.append((key, op, value))
            pos = m.end()
            assert sep or pos >= len(line), f"line {n}: missing comma"
        rules.append(pairs)
    return rules


@dataclass
class Device:
    subsystem: str
    kernel: str
    attr: dict[str, str] = field(default_factory=dict)  # the device's own attributes
    parent: dict[str, str] = field(default_factory=dict)  # its USB device ancestor
    env: dict[str, str] = field(default_factory=dict)
    action: str = "add"


@dataclass
class Result:
    group: str = "root"
    mode: str = "0600"
    symlinks: list[tuple[str, int]] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    tags: set[str] = field(default_factory=set)


def glob(value: str, pattern: str) -> bool:
    return any(fnmatch.fnmatchcase(value, p) for p in pattern.split("|"))


def run_rules(dev: Device) -> Result:
    rules = parse_rules(RULES.read_text())
    res = Result()
    env = dict(dev.env)
    labels = {p[0][2]: i for i, p in enumerate(rules) if p[0][0] == "LABEL"}
    i = 0
    while i < len(rules):
        pairs = rules[i]
        i += 1
        ok = True
        for key, op, value in pairs:
            if op not in ("==", "!="):
                continue
            base = key.split("{")[0]
            name = key[len(base) + 1 : -1] if "{" in key else ""
            actual = {
                "ACTION": dev.action,
                "SUBSYSTEM": dev.subsystem,
                "KERNEL": dev.kernel,
                "ATTR": dev.attr.get(name),
                "ATTRS": dev.attr.get(name, dev.parent.get(name)),
                "ENV": env.get(name, ""),
            }[base]
            hit = actual is not None and glob(actual, value)
            if hit != (op == "=="):
                ok = False
                break
        if not ok:
            continue
        prio = 0
        jump = None
        for key, op, value in pairs:
            if op in ("==", "!="):
                continue
            if key == "GROUP":
                res.group = value
            elif key == "MODE":
                res.mode = value
            elif key == "SYMLINK":
                res.symlinks.append((value, 0))
            elif key == "TAG":
                res.tags.add(value)
            elif key == "OPTIONS" and value.startswith("link_priority="):
                prio = int(value.split("=")[1])
            elif key.startswith("ENV{"):
                name = key[4:-1]
                env[name] = f"{env[name]} {value}".strip() if op == "+=" and name in env else value
            elif key == "GOTO":
                jump = labels[value]
        if prio:
            res.symlinks = [(s, prio) for s, _ in res.symlinks]
        if jump is not None:
            i = jump
    res.env = env
    return res


def usb_tty(vid: str, pid: str, kernel: str = "ttyUSB0") -> Device:
    return Device("tty", kernel, parent={"idVendor": vid, "idProduct": pid})


def links(res: Result) -> set[str]:
    return {s for s, _ in res.symlinks}


# ------------------------------------------------------------------ udev's parser


def test_udevadm_reads_the_rules_without_a_complaint(tmp_path: Path) -> None:
    if not (shutil.which("udevadm") and shutil.which("unshare")):
        pytest.fail(
            "udevadm is missing: apt-get install udev; make test installs it (tools/system-packages.txt)"
        )
    if not Path("/sys/class/tty/tty1").exists():
        pytest.skip("no /sys/class/tty/tty1 to run `udevadm test` against")
    # The groups install.sh creates (gpio is not a Debian group) exist inside the
    # namespace only, so udev resolves every GROUP= as on an installed kiosk.
    group = tmp_path / "group"
    have = Path("/etc/group").read_text()
    extra = [g for g in ("gpio", "lp", "dialout") if f"\n{g}:" not in "\n" + have]
    group.write_text(have + "".join(f"{g}:x:{990 + i}:\n" for i, g in enumerate(extra)))
    script = (
        f"mount --bind {group} /etc/group && "
        "mount -t tmpfs tmpfs /etc/udev/rules.d && "
        f"cp {RULES} /etc/udev/rules.d/ && "
        "udevadm test --action=add /sys/class/tty/tty1"
    )
    r = subprocess.run(["unshare", "-m", "sh", "-c", script], capture_output=True, text=True)
    if "Operation not permitted" in r.stderr and r.returncode != 0:
        pytest.skip("needs root for a private mount namespace")
    out = r.stdout + r.stderr
    assert "Reading rules file: /etc/udev/rules.d/70-kiosk.rules" in out, out
    complaints = [ln for ln in out.splitlines() if ln.startswith("/etc/udev/rules.d/70-kiosk")]
    assert complaints == []


def test_the_rule_parser_rejects_a_misspelt_key() -> None:
    with pytest.raises(AssertionError, match="ATRS"):
        parse_rules('ATRS{idVendor}=="0403", GROUP="dialout"')
    with pytest.raises(AssertionError, match="missing comma"):
        parse_rules('SUBSYSTEM=="tty" GROUP="dialout"')


# ------------------------------------------------------------------ the hall-display link


@pytest.mark.parametrize(
    "vid,pid",
    [("0403", "6001"), ("0403", "6015"), ("1a86", "7523"), ("10c4", "ea60"), ("067b", "2303")],
)
def test_usb_serial_adapter_becomes_dev_hall_display_for_dialout(vid: str, pid: str) -> None:
    res = run_rules(usb_tty(vid, pid))
    assert links(res) == {"hall-display"}
    assert (res.group, res.mode) == ("dialout", "0660")
    assert res.env["SYSTEMD_WANTS"] == "hall-display.service"
    assert "systemd" in res.tags


def test_unknown_serial_device_gets_no_kiosk_name() -> None:
    res = run_rules(usb_tty("2341", "0043", "ttyACM0"))  # an Arduino
    assert links(res) == set() and res.group == "root"


def test_removal_assigns_nothing() -> None:
    dev = usb_tty("1a86", "7523")
    dev.action = "remove"
    assert links(run_rules(dev)) == set()


def test_the_onboard_uart_is_left_alone() -> None:
    assert links(run_rules(Device("tty", "ttyAMA0"))) == set()


# ------------------------------------------------------------------ printers


def test_usb_printer_class_device_becomes_dev_kiosk_printer_for_lp() -> None:
    res = run_rules(Device("usbmisc", "lp0", parent={"idVendor": "9999", "idProduct": "0001"}))
    assert links(res) == {"kiosk-printer"}
    assert (res.group, res.mode) == ("lp", "0660")
    assert res.env["SYSTEMD_WANTS"] == "kiosk.service"


def test_known_pos_printer_wins_the_name_over_another_printer() -> None:
    epson = run_rules(Device("usbmisc", "lp1", parent={"idVendor": "04b8", "idProduct": "0e15"}))
    office = run_rules(Device("usbmisc", "lp0", parent={"idVendor": "03f0", "idProduct": "1234"}))
    assert max(p for _, p in epson.symlinks) > max(p for _, p in office.symlinks)


@pytest.mark.parametrize(
    "vid,pid",
    [("04b8", "0e15"), ("0416", "5011"), ("1fc9", "2016"), ("0483", "5720"), ("28e9", "0289")],
)
def test_pos_printer_usb_device_is_opened_by_lp_for_python_escpos(vid: str, pid: str) -> None:
    dev = Device(
        "usb",
        "1-1.2",
        attr={"idVendor": vid, "idProduct": pid},
        env={"DEVTYPE": "usb_device", "ID_USB_INTERFACES": ":ffff00:"},
    )
    res = run_rules(dev)
    assert (res.group, res.mode) == ("lp", "0660")


def test_any_printer_class_usb_device_is_opened_by_lp() -> None:
    dev = Device(
        "usb",
        "1-1.3",
        attr={"idVendor": "9999", "idProduct": "0002"},
        env={"DEVTYPE": "usb_device", "ID_USB_INTERFACES": ":070102:"},
    )
    assert run_rules(dev).group == "lp"


def test_an_unrelated_usb_device_stays_root_only() -> None:
    dev = Device(
        "usb",
        "1-1.4",
        attr={"idVendor": "046d", "idProduct": "c52b"},  # a wireless mouse receiver
        env={"DEVTYPE": "usb_device", "ID_USB_INTERFACES": ":030101:030102:"},
    )
    assert run_rules(dev).group == "root"


def test_printer_with_a_serial_port_is_the_printer_not_the_display_link() -> None:
    res = run_rules(usb_tty("0416", "5011", "ttyACM0"))
    assert links(res) == {"kiosk-printer"}
    assert "hall-display.service" not in res.env.get("SYSTEMD_WANTS", "")
