"""``kiosk time set "YYYY-MM-DD HH:MM"``: a technician sets the clock of a kiosk without
network or RTC (docs/deployment.md, "Time without network").

The time is read in the site's time zone and refused when it is clearly wrong by the
same rule the queue issues by (:func:`kiosk.core.queue.clock_problem`): never before
the store's newest event, never years after it. Only root may set the system clock;
it is set with ``date -s @SECONDS`` (unambiguous, and it works while NTP is enabled,
where ``timedatectl set-time`` refuses), then copied to an RTC module if one is fitted
and to fake-hwclock's file if it is installed.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from kiosk.cli.common import UsageError, common, emit, store_spec
from kiosk.core.config import load

#: What sets the clock: the system clock first, then what keeps it over a power cut.
#: ``{seconds}`` is the UNIX time. Best-effort steps may be missing on a machine.
SET_CLOCK = ["date", "-s", "@{seconds}"]
KEEP_CLOCK = (
    (["hwclock", "--systohc", "--utc"], Path("/dev/rtc0")),
    (["fake-hwclock", "save", "force"], Path("/usr/sbin/fake-hwclock")),
)

#: Runs one command (tests replace it); returns (exit status, what it printed).
Runner = Callable[[Sequence[str]], tuple[int, str]]


def _run(cmd: Sequence[str]) -> tuple[int, str]:
    import subprocess

    try:
        r = subprocess.run(list(cmd), capture_output=True, text=True, timeout=30)
    except FileNotFoundError:
        return 127, f"{cmd[0]}: not installed"
    return r.returncode, (r.stderr or r.stdout).strip()


runner: Runner = _run


def is_root() -> bool:
    """Whether this process may set the system clock (tests replace it)."""
    return os.geteuid() == 0


def parse_local(text: str, tz: Any) -> float:
    """``YYYY-MM-DD HH:MM`` (or with ``:SS``, or a ``T``) in the site's zone → UNIX time."""
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(
            f'"{text}" is not a date and time; write it as "YYYY-MM-DD HH:MM", '
            'e.g. kiosk time set "2026-11-30 08:15" (the site\'s local time)'
        ) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=tz)
    return when.timestamp()


def _newest(spec: str) -> float | None:
    from kiosk.core.storage import open_store

    store = open_store(spec)
    try:
        with store.read() as tx:
            return tx.newest_event_at()
    finally:
        store.close()


def newest_event_at(spec: str) -> float | None:
    """The store's newest event time. Root reads a kiosk's file as its owner, in a child
    process, so no file of the store (-wal, -shm) is ever created as root."""
    path = Path(spec)
    if spec.startswith(("postgresql://", "postgres://")) or os.geteuid() != 0:
        return _newest(spec)
    st = path.stat() if path.exists() else None
    if st is None or st.st_uid == 0:
        return _newest(spec)
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child (tests run without root)
        code = 1
        try:
            os.close(r)
            os.setgid(st.st_gid)
            os.setuid(st.st_uid)
            os.write(w, repr(_newest(spec)).encode())
            code = 0
        finally:
            os._exit(code)
    os.close(w)
    with os.fdopen(r) as f:
        out = f.read()
    _, status = os.waitpid(pid, 0)
    if status != 0 or not out:
        raise UsageError(f"cannot read the store {spec} as its owner (uid {st.st_uid})")
    return None if out == "None" else float(out)


def cmd_time_set(args: argparse.Namespace) -> int:
    from kiosk.core.queue import QueueError, clock_problem

    cfg = load(args.config)
    target = parse_local(args.when, cfg.tz)
    newest = newest_event_at(store_spec(args, cfg))
    wrong = clock_problem(target, newest, cfg)
    if wrong is not None:
        raise QueueError(
            f"refusing {args.when}: "
            + wrong.detail.replace("the clock says", "that would be", 1)
            + "; nothing was changed"
        )
    if not is_root():
        raise QueueError(
            "setting the clock needs root; nothing was changed. Log in as root (over SSH) "
            f'and run: kiosk time set "{args.when}"'
        )
    seconds = int(round(target))
    status, said = runner([part.format(seconds=seconds) for part in SET_CLOCK])
    if status != 0:
        raise QueueError(f"date -s failed ({said or f'exit {status}'}); the clock was not set")
    kept = []
    for cmd, needs in KEEP_CLOCK:
        if needs.exists() and runner(cmd)[0] == 0:
            kept.append(cmd[0])
    local = datetime.fromtimestamp(seconds, cfg.tz)
    also = f"; saved by {', '.join(kept)}" if kept else "; no RTC: set it again after a power cut"
    emit(
        args,
        {"set": seconds, "local": local.isoformat(), "kept_by": kept},
        f"clock set to {local:%Y-%m-%d %H:%M:%S} {cfg.site.timezone}{also}",
    )
    return 0


def register(sub: Any) -> None:
    """Add ``kiosk time set`` to ``sub`` (the ``kiosk`` subparsers)."""
    sp = sub.add_parser(
        "time",
        help="set the clock of a kiosk without network (root)",
        description="The kiosk's clock. Without network or RTC a Pi boots with a wrong "
        "time; the kiosk then waits and issues no number until the clock is right.",
    )
    tsub = sp.add_subparsers(dest="time_command", metavar="ACTION", required=True)
    sp_set = tsub.add_parser(
        "set",
        help='set the system clock: kiosk time set "2026-11-30 08:15" (root)',
        description="Set the system clock to a local time of the site's time zone, and the "
        "RTC if one is fitted. Refused before the store's newest event or years after it.",
    )
    sp_set.add_argument("when", metavar='"YYYY-MM-DD HH:MM"', help="the site's local time")
    common(sp_set)
    sp_set.set_defaults(func=cmd_time_set)
