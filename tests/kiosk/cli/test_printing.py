"""kiosk print, kiosk print-test, kiosk ticket-preview; and the [printer] keys of the site file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image

from kiosk.cli import main
from kiosk.core.config import ConfigError, load
from kiosk.core.store import Store
from printer import raster, virtual

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = (ROOT / "config" / "example.toml").read_text(encoding="utf-8")


@pytest.fixture
def office_store(tmp_path: Path) -> None:
    """The office's queue database exists, as after `kiosk init`."""
    Store(tmp_path / "q.db").close()


def run(capsys, *argv: str) -> tuple[int, str, str]:
    rc = main(list(argv))
    out, err = capsys.readouterr()
    return rc, out, err


def test_ticket_preview_draws_a_png_at_the_paper_width(capsys, tmp_path: Path) -> None:
    for paper, width in ((58, 384), (80, 576)):
        out = tmp_path / f"t{paper}.png"
        rc, text, _ = run(
            capsys, "ticket-preview", "hotich", "--paper", str(paper), "--out", str(out)
        )
        assert rc == 0 and str(out) in text
        with Image.open(out) as im:
            assert im.mode == "1" and im.width == width


def test_ticket_preview_of_an_unknown_service_names_the_known_ones(capsys, tmp_path) -> None:
    rc, _, err = run(capsys, "ticket-preview", "nope", "--out", str(tmp_path / "x.png"))
    assert rc == 2 and 'unknown service "nope"' in err and "hotich" in err
    assert "Traceback" not in err


def test_print_test_reports_status_before_and_after(capsys, tmp_path: Path) -> None:
    folder = tmp_path / "png"
    rc, out, _ = run(capsys, "print-test", "--printer", f"png:{folder}", "--json")
    data = json.loads(out)
    assert rc == 0 and data["printed"] and data["before"].startswith("ok")
    assert [p.name for p in folder.glob("*.png")] == ["0001-TEST.png"]
    virtual.set_state(folder, "paper_out")
    rc, out, _ = run(capsys, "print-test", "--printer", f"png:{folder}")
    assert rc == 1 and "NOT printed" in out and "paper roll is empty" in out


def test_print_test_on_a_missing_usb_printer_says_to_plug_it_in(capsys) -> None:
    rc, out, err = run(capsys, "print-test", "--printer", "usb:1234:5678")
    assert rc == 1 and "not plugged in or switched off" in out and "lsusb" in out


def test_print_test_with_a_malformed_uri_is_a_usage_error(capsys) -> None:
    rc, _, err = run(capsys, "print-test", "--printer", "usb:12")
    assert rc == 2 and "usb:VENDOR:PRODUCT" in err


@pytest.mark.usefixtures("office_store")
def test_print_reprints_a_ticket_of_today_and_records_it(capsys, tmp_path: Path) -> None:
    db = str(tmp_path / "q.db")
    folder = tmp_path / "png"
    rc, out, _ = run(capsys, "issue", "hotich", "--db", db, "--json")
    code = json.loads(out)["code"]
    rc, out, _ = run(capsys, "print", code.lower(), "--db", db, "--printer", f"png:{folder}")
    assert rc == 0 and f"{code} printed" in out
    (png,) = folder.glob("*.png")
    assert png.name == f"0001-{code}.png"
    virtual.set_state(folder, "offline")
    rc, out, _ = run(capsys, "print", code, "--db", db, "--printer", f"png:{folder}")
    assert rc == 1 and "NOT printed" in out
    rc, out, _ = run(capsys, "events", "--db", db, "--json")
    types = [json.loads(line)["type"] for line in out.splitlines()]
    assert types[-2:] == ["ticket_printed", "ticket_print_failed"]


@pytest.mark.usefixtures("office_store")
def test_print_of_an_unknown_code_says_so(capsys, tmp_path: Path) -> None:
    rc, _, err = run(capsys, "print", "Z999", "--db", str(tmp_path / "q.db"), "--printer", "dummy:")
    assert rc == 2 and "no ticket Z999 today" in err


@pytest.mark.parametrize(
    ("old", "new", "words"),
    [
        ('uri = "usb:0416:5011"', 'uri = "usb:0416"', "printer.uri: printer URI"),
        ('uri = "usb:0416:5011"', 'uri = "lp0"', "is not one of"),
        ("width_dots = 0", "width_dots = 500", "multiple of 8"),
        ('qr_url = ""', 'qr_url = "https://x/{ticket}"', "unknown placeholder 'ticket'"),
        ('cut = "partial"', 'cut = "half"', "printer.cut"),
        (
            'logo = ""',
            'logo = "/nowhere/logo.png"',
            "printer.logo: /nowhere/logo.png is not a file",
        ),
    ],
)
def test_bad_printer_settings_are_named_with_file_and_line(
    tmp_path: Path, old: str, new: str, words: str
) -> None:
    assert old in EXAMPLE
    site = tmp_path / "kiosk.toml"
    site.write_text(EXAMPLE.replace(old, new), encoding="utf-8")
    with pytest.raises(ConfigError) as e:
        load(site)
    (line,) = [p for p in e.value.problems if words in p]
    assert line.startswith(f"{site}:")


def test_the_example_site_prints_with_its_printer_settings(tmp_path: Path) -> None:
    cfg = load(ROOT / "config" / "example.toml")
    from printer.job import layout_from_config, width_of

    assert width_of(cfg) == 576
    layout = layout_from_config(cfg)
    assert layout.header == list(cfg.site.ticket_header)
    # The cut the site asks for is the last command of a job.
    assert raster.finish(cfg.printer.cut, cfg.printer.feed_lines).endswith(b"\x1dV\x01")


@pytest.mark.usefixtures("office_store")
def test_stale_tickets_are_listed_with_their_reason_and_print_only_on_demand(
    capsys, tmp_path: Path
) -> None:
    """The issue's repro: a served and an expired ticket are not printed at start-up;
    `kiosk status` (and --json) says why; `kiosk print CODE` still prints one."""
    from kiosk.core.queue import Queue
    from kiosk.core.store import Store
    from kiosk.outputs.printer_feed import PrinterConsumer

    db = str(tmp_path / "q.db")
    folder = tmp_path / "png"
    for argv in (("issue", "hotich"), ("call", "1"), ("finish", "1"), ("issue", "hotich")):
        assert run(capsys, *argv, "--db", db)[0] == 0
    assert run(capsys, "close-day", "--db", db)[0] == 0
    store = Store(db)
    try:
        consumer = PrinterConsumer(
            Queue(load(ROOT / "config" / "example.toml"), store), uri=f"png:{folder}"
        )
        consumer.run_once()
        consumer.on_idle()
        consumer.link.close()
    finally:
        store.close()
    assert list(folder.glob("*.png")) == []
    rc, out, _ = run(capsys, "status", "--db", db)
    assert rc == 0
    assert "2 ticket(s) not printed" in out and "kiosk print CODE" in out
    assert "A001   already served" in out and "A002   expired" in out
    rc, out, _ = run(capsys, "status", "--db", db, "--json")
    s = json.loads(out)
    assert [(t["code"], t["reason"]) for t in s["not_printed"]] == [
        ("A001", "served"),
        ("A002", "expired"),
    ]
    assert s["print_pending"] == 0
    rc, out, _ = run(capsys, "print", "A002", "--db", db, "--printer", f"png:{folder}")
    assert rc == 0 and "A002 printed" in out
    assert [p.name for p in folder.glob("*.png")] == ["0001-A002.png"]
    s = json.loads(run(capsys, "status", "--db", db, "--json")[1])
    assert [t["code"] for t in s["not_printed"]] == ["A001"]


@pytest.mark.usefixtures("office_store")
def test_print_of_an_empty_code_asks_for_a_code_in_one_line(capsys, tmp_path: Path) -> None:
    rc, out, err = run(capsys, "print", "  ", "--db", str(tmp_path / "q.db"), "--printer", "dummy:")
    assert rc == 2 and out == ""
    assert err.strip() == (
        "kiosk: the ticket code is empty; give one such as A012 (`kiosk status` lists today's)"
    )
    assert "  today" not in err


@pytest.mark.parametrize(
    ("out", "words"),
    [
        ("{tmp}", "is a folder; give a file name, e.g. --out {tmp}/hotich.png"),
        ("", "--out is empty; give a file name, e.g. --out hotich.png"),
        ("{tmp}/ticket.txt", "the preview is a PNG image; end the file name in .png"),
        ("/proc/nowhere/ticket.png", "cannot write /proc/nowhere/ticket.png"),
    ],
)
def test_ticket_preview_to_a_folder_or_an_unwritable_place_says_what_to_give(
    capsys, tmp_path: Path, out: str, words: str
) -> None:
    rc, text, err = run(capsys, "ticket-preview", "hotich", "--out", out.format(tmp=tmp_path))
    assert rc == 2 and text == ""
    assert words.format(tmp=tmp_path) in err and "internal error" not in err
    assert err.count("\n") == 1
    assert list(tmp_path.iterdir()) == []  # nothing written
