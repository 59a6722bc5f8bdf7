"""The simulator end to end: a scripted office day, headless, through the real
kiosk screen, the hall-display app over a pty pair, and the consumers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from kiosk.core.config import Config
from kiosk.sim.office import ScriptError, demo_script, parse_script

ROOT = Path(__file__).resolve().parents[3]


def sim(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, SDL_VIDEODRIVER="dummy", SDL_AUDIODRIVER="dummy")
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from kiosk.cli import main; sys.exit(main())",
            "sim",
            *args,
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def jsonl(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="module")
def demo_day(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("sim")
    r = sim("--headless", "--demo", "--out", str(out))
    assert r.returncode == 0, r.stderr
    return out, json.loads((out / "summary.json").read_text(encoding="utf-8"))


def test_the_demo_day_exits_0_and_writes_everything(demo_day) -> None:
    out, s = demo_day
    for name in (
        "summary.json",
        "events.jsonl",
        "calls.jsonl",
        "tickets.json",
        "display-snapshots.jsonl",
        "script.txt",
    ):
        assert (out / name).stat().st_size > 0, name
    assert s["issued"] > 80 and s["calls"] > 60
    assert s["priority"] > 0
    assert s["by_status"].get("no_show", 0) > 0
    assert s["commands"]["transfer"] == 1 and s["commands"]["recall"] > 0


def test_the_demo_day_reaches_every_kiosk_screen(demo_day) -> None:
    out, s = demo_day
    for screen in ("home", "priority", "printing", "result", "home-printer-trouble", "closed"):
        assert f"kiosk-{screen}" in s["kiosk_screens"]
        assert (out / "screens" / f"kiosk-{screen}.png").stat().st_size > 5000


def test_every_number_is_issued_once_and_every_call_is_of_an_issued_ticket(demo_day) -> None:
    out, s = demo_day
    tickets = json.loads((out / "tickets.json").read_text(encoding="utf-8"))
    codes = [t["code"] for t in tickets]
    assert len(codes) == len(set(codes)) == s["issued"]
    calls = jsonl(out / "calls.jsonl")
    assert {c["code"] for c in calls} <= set(codes)
    issued_by = {t["code"]: t["source"] for t in tickets}
    assert {"touch", "gpio"} <= set(issued_by.values())


def test_the_printer_ran_out_of_paper_was_refilled_and_reprinted_for_those_waiting(
    demo_day,
) -> None:
    out, s = demo_day
    events = jsonl(out / "events.jsonl")
    states = [e["state"] for e in events if e["type"] == "printer_status"]
    assert "paper_out" in states
    assert states[-1] in ("ok", "paper_near_end")
    failed = {e["code"] for e in events if e["type"] == "ticket_print_failed"}
    assert failed, "no ticket failed while the paper was out"
    assert s["reprinted"] > 0
    # Every ticket came out of the PNG printer, or is flagged, or was left unprinted
    # as stale (its citizen was called, or waited past [printer] late_print_seconds,
    # while the printer was down, and saw the number on screen).
    assert set(s["print_status"]) <= {"printed", "failed", "not_printed"}
    stale = {e["code"] for e in events if e["type"] == "ticket_not_printed"}
    assert stale and stale <= failed  # only tickets the outage held up
    assert s["ticket_pngs"] >= s["print_status"]["printed"]
    assert (out / "screens" / "kiosk-result-printer-trouble.png").exists()


def test_every_priority_step_of_the_script_gave_a_priority_ticket(demo_day) -> None:
    out, s = demo_day
    script = (out / "script.txt").read_text(encoding="utf-8")
    assert s["priority"] == script.count(" priority\n") > 0


def test_the_hall_display_followed_the_day(demo_day) -> None:
    out, s = demo_day
    if s["display"] is None:
        pytest.fail("the hall display did not run")
    assert s["display"]["matched_before_close"] is True
    snaps = jsonl(out / "display-snapshots.jsonl")
    assert len(snaps) >= 5
    # The check before closing compared real numbers, not an emptied office.
    settled = [x for x in snaps if any(x["core"].values())]
    assert settled and settled[-1]["display"]["counters"] == settled[-1]["core"]


def test_the_written_script_replays_to_the_same_tickets(demo_day, tmp_path: Path) -> None:
    out, s = demo_day
    r = sim(
        "--headless", "--no-display", "--script", str(out / "script.txt"), "--out", str(tmp_path)
    )
    assert r.returncode == 0, r.stderr
    first = [t["code"] for t in json.loads((out / "tickets.json").read_text(encoding="utf-8"))]
    again = [t["code"] for t in json.loads((tmp_path / "tickets.json").read_text(encoding="utf-8"))]
    assert first == again


def test_a_small_script_plays_each_counter_command(tmp_path: Path) -> None:
    script = tmp_path / "day.txt"
    script.write_text(
        "\ufeff# a BOM from Notepad is fine\n"
        "07:40 issue hotich\n"
        "07:41 issue hotich priority\n"
        "07:41 button chungthuc\n"
        "07:45 next 1\n"
        "07:46 recall 1\n"
        "07:47 skip 1\n"
        "07:50 transfer 1 tracuu\n"
        "07:55 next 3\n"
        "07:56 rate 3 2\n"
        "08:00 printer paper_out\n"
        "08:01 issue datdai\n"
        "08:02 snapshot paper-out\n"
        "08:10 printer ok\n"
        "17:00 close\n",
        encoding="utf-8",
    )
    r = sim("--headless", "--no-display", "--script", str(script), "--out", str(tmp_path / "o"))
    assert r.returncode == 0, r.stderr
    events = jsonl(tmp_path / "o" / "events.jsonl")
    kinds = [e["type"] for e in events]
    for k in (
        "ticket_recalled",
        "ticket_skipped",
        "ticket_transferred",
        "ticket_rated",
        "day_closed",
    ):
        assert k in kinds
    called = [e["code"] for e in events if e["type"] == "ticket_called"]
    # The priority ticket A002 goes first; after its no-show A001 is called; B001 at counter 3
    assert called[:2] == ["A002", "A001"]
    transfer = next(e for e in events if e["type"] == "ticket_transferred")
    assert (transfer["code"], transfer["to_service"]) == ("A001", "tracuu")
    assert (tmp_path / "o" / "screens" / "kiosk-paper-out.png").exists()


def test_a_script_scans_synthetic_id_cards_and_a_senior_is_served_first(tmp_path: Path) -> None:
    script = tmp_path / "cards.txt"
    script.write_text(
        "07:35 issue hotich\n07:36 scan 72 hotich\n07:37 scan 30 chungthuc\n07:40 next 1\n",
        encoding="utf-8",
    )
    r = sim("--headless", "--no-display", "--script", str(script), "--out", str(tmp_path / "o"))
    assert r.returncode == 0, r.stderr
    assert "ID card read (priority by age)" in r.stdout
    events = jsonl(tmp_path / "o" / "events.jsonl")
    issued = [(e["code"], e["priority"]) for e in events if e["type"] == "ticket_issued"]
    assert issued == [("A001", False), ("A002", True), ("B001", False)]
    called = [e["code"] for e in events if e["type"] == "ticket_called"]
    assert called == ["A002"]
    # Nothing of a card reaches the event log or the ticket list.
    for name in ("events.jsonl", "tickets.json"):
        text = (tmp_path / "o" / name).read_text(encoding="utf-8")
        assert "Nguyễn Văn Mẫu" not in text and "Trần Thị Thử" not in text and "|" not in text
    bad = tmp_path / "bad.txt"
    bad.write_text("07:35 scan old hotich\n", encoding="utf-8")
    r = sim("--headless", "--script", str(bad), "--out", str(tmp_path / "o2"))
    assert r.returncode == 2 and "scan needs the card holder's age" in r.stderr


def test_script_mistakes_are_reported_by_line_and_nothing_is_played(tmp_path: Path) -> None:
    script = tmp_path / "bad.txt"
    script.write_text(
        "07:40 issue hotich\n7h40 issue hotich\n07:41 issue nope\n07:42 dance 1\n07:30 next 1\n"
        "07:50 rate 1 5\n",
        encoding="utf-8",
    )
    r = sim("--headless", "--script", str(script), "--out", str(tmp_path / "o"))
    assert r.returncode == 2
    err = r.stderr
    assert f"{script}:2:" in err and "not a time" in err
    assert f"{script}:3:" in err and "hotich" in err
    assert f"{script}:4:" in err and "unknown command 'dance'" in err
    assert f"{script}:5:" in err and "time order" in err
    assert f"{script}:6:" in err and "score 1, 2 or 3" in err
    assert "Traceback" not in err
    assert not (tmp_path / "o" / "summary.json").exists()


def test_the_demo_script_is_the_same_for_a_seed_and_differs_between_seeds(cfg: Config) -> None:
    a, b, c = demo_script(cfg, 1), demo_script(cfg, 1), demo_script(cfg, 2)
    assert a == b and a != c
    assert parse_script("".join(s.text() + "\n" for s in a), cfg) == [
        s.__class__(s.seconds, s.command, s.args, i + 1) for i, s in enumerate(a)
    ]


def test_an_empty_script_says_what_to_write(cfg: Config) -> None:
    with pytest.raises(ScriptError, match="07:35 issue hotich"):
        parse_script("# nothing\n", cfg)


def test_the_windowed_simulator_starts_both_apps_and_stops_cleanly_on_sigterm(
    tmp_path: Path,
) -> None:
    import signal
    import time

    env = dict(os.environ, SDL_VIDEODRIVER="dummy", SDL_AUDIODRIVER="dummy")
    cmd = [sys.executable, "-c", "import sys; from kiosk.cli import main; sys.exit(main())"]
    p = subprocess.Popen(
        [*cmd, "sim", "--mute", "--out", str(tmp_path)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120  # a hang, never a busy machine, reaches it
        status = tmp_path / "display-status.json"
        # The hall display answers over the pty pair: its status file says the link is up.
        while time.monotonic() < deadline and '"link": "up"' not in (
            status.read_text(encoding="utf-8") if status.exists() else ""
        ):
            time.sleep(0.2)
        assert '"link": "up"' in status.read_text(encoding="utf-8")
        p.send_signal(signal.SIGTERM)
        out, err = p.communicate(timeout=60)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    assert p.returncode == 0, err
    assert "Press H" in out and "Traceback" not in err
    assert json.loads((tmp_path / "tickets.json").read_text(encoding="utf-8")) == []
    pid = int(out.split("hall display: pid ")[1].split(",")[0])
    assert not Path(f"/proc/{pid}").exists(), "the hall-display process outlived the simulator"
