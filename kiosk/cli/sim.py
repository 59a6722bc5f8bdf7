"""``kiosk sim``: the whole office on one PC, with no hardware (:mod:`kiosk.sim.office`).

The simulator (pygame, the printer, the hall display) loads only when the command runs.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from kiosk.cli.common import UsageError, common
from kiosk.core.config import load
from kiosk.sim import SCRIPT_FORMAT


def cmd_sim(args: argparse.Namespace) -> int:
    from kiosk.sim.office import ScriptError, Simulation, demo_script, parse_script, run_windows

    cfg = load(args.config)
    if not args.headless:
        if args.script or args.demo:
            raise UsageError("--demo and --script play headless; add --headless")
        return run_windows(args, cfg)
    if args.script:
        path = Path(args.script)
        try:
            text = path.read_text(encoding="utf-8-sig")
        except OSError as e:
            raise UsageError(f"cannot read the script {path}: {e.strerror}") from None
        try:
            steps = parse_script(text, cfg, str(path))
        except ScriptError as e:
            for p in e.problems:
                print(p, file=sys.stderr)
            raise UsageError(
                f"{len(e.problems)} problem(s) in the script; nothing was played"
            ) from None
    else:
        steps = demo_script(cfg, args.seed)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    sim = Simulation(cfg, out, steps, display=not args.no_display)
    print(f"Simulating a day at {cfg.site.name} ({len(steps)} steps), output in {out}/")
    t0 = time.monotonic()
    s = sim.run()
    bs = s["by_status"]
    print(
        f"\nDay {'closed' if s['commands'].get('close') else 'played'}: {s['issued']} issued ({s['priority']} priority), {s['calls']} calls, "
        f"{bs.get('no_show', 0)} no-shows, {s['commands'].get('transfer', 0)} transfer(s), "
        f"{bs.get('expired', 0)} expired at closing; {s['ticket_pngs']} ticket PNGs; "
        f"{len(s['refused'])} refused action(s). {time.monotonic() - t0:.1f} s."
    )
    if s["display"] is not None:
        d = s["display"]
        print(
            f"Hall display agreed with the queue before closing: {d['matched_before_close']}, "
            f"after: {d['matches_core']}"
        )
    print(
        f"Written to {out}/: summary.json, events.jsonl, calls.jsonl, tickets.json, "
        "display-snapshots.jsonl, script.txt, tickets/, screens/"
    )
    return 0


def register(sub: Any) -> None:
    help = (
        "simulate the office on this PC: kiosk, hall display and printer (headless: a scripted day)"
    )
    sp = sub.add_parser(
        "sim",
        help=help,
        description=help,
        epilog=SCRIPT_FORMAT.replace("``", "").replace("::", ":"),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    common(sp, json_output=False)
    sp.add_argument(
        "--out", default="sim-out", metavar="DIR", help="folder for what the simulation writes"
    )
    sp.add_argument("--headless", action="store_true", help="no windows: play a scripted day")
    sp.add_argument("--demo", action="store_true", help="play the built-in scripted office day")
    sp.add_argument("--script", metavar="FILE", help="play this script (see `kiosk sim --help`)")
    sp.add_argument("--seed", type=int, default=1, help="random seed of the built-in day")
    sp.add_argument("--size", metavar="WxH", help="kiosk window size (default 1024x600)")
    sp.add_argument("--no-display", action="store_true", help="do not start the hall-display app")
    sp.add_argument("--mute", action="store_true", help="the hall display does not speak")
    sp.set_defaults(func=cmd_sim)
