"""``kiosk call 1`` and ``kiosk issue SERVICE`` as processes, against a bare interpreter.

A clerk who calls the next citizen from a terminal waits for a whole Python process:
start-up, imports, one store transaction. Each command runs 20 times (5 with
``--quick``) as a fresh process against a store prepared in a temporary folder, with the
example site file; the median wall time is reported beside ``python -c pass`` measured
in the same run, and the budget is that bare start plus 0.3 s (docs/design: "kiosk call N
as a process").

Run alone to time another checkout of the code (e.g. the commit before a change)::

    .venv/bin/python bench/bench_cli.py --src /tmp/old-checkout
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from bench.common import Row, format_table  # noqa: E402

EXAMPLE = ROOT / "config" / "example.toml"
BUDGET_S = 0.3


def _time(cmd: list[str], env: dict[str, str], cwd: Path, runs: int) -> tuple[float, float]:
    """Median (wall, CPU) seconds of ``cmd`` run ``runs`` times; a failing run raises.

    CPU is the child's user + system time: start-up and imports, without the wait for
    the store's fsync that the wall time includes.
    """
    walls, cpus = [], []
    for _ in range(runs):
        c0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        r = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True)
        walls.append(time.perf_counter() - t0)
        c1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(c1.ru_utime - c0.ru_utime + c1.ru_stime - c0.ru_stime)
        if r.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd[2:4])} exited {r.returncode}: {r.stderr.strip()}")
    return statistics.median(walls), statistics.median(cpus)


def measure(runs: int, src: Path | None = None) -> dict[str, tuple[float, float]]:
    """Median (wall, CPU) seconds of the bare interpreter, ``kiosk issue`` and ``kiosk call``.

    ``src`` is a checkout whose ``kiosk`` package is put first on PYTHONPATH (default:
    the installed one, normally this worktree).
    """
    from kiosk.core.config import load

    site = (src or ROOT) / "config" / "example.toml"  # the site file that code accepts
    service = load(site).services[0].id
    env = dict(os.environ)
    env.pop("KIOSK_CONFIG", None)
    if src is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(src), env.get("PYTHONPATH", "")]).rstrip(":")
    with tempfile.TemporaryDirectory(prefix="bench-cli-") as tmp:
        db = Path(tmp) / "queue.db"
        kiosk = [sys.executable, "-m", "kiosk"]
        where = ["--config", str(site), "--db", str(db)]
        cwd = Path(tmp)
        # The office's store, as `kiosk init` makes it (an older checkout without `init`
        # created it on first use: its failure here is harmless).
        subprocess.run([*kiosk, "init", *where], env=env, cwd=cwd, capture_output=True)
        out = {"bare": _time([sys.executable, "-c", "pass"], env, cwd, runs)}
        # issue first: it also fills the queue that the calls then take from.
        out["issue"] = _time([*kiosk, "issue", service, *where], env, cwd, runs)
        out["call"] = _time([*kiosk, "call", "1", *where], env, cwd, runs)
        out["bare_after"] = _time([sys.executable, "-c", "pass"], env, cwd, runs)
    return out


def rows(m: dict[str, tuple[float, float]], runs: int, label: str = "") -> list[Row]:
    bare = min(m["bare"][0], m["bare_after"][0])
    budget = f"≤ {(bare + BUDGET_S) * 1000:.0f} (bare + {BUDGET_S * 1000:.0f})"
    n = f"median of {runs}{label}"
    out = [
        Row("cli", f"python -c pass, wall ({n})", bare * 1000, "ms"),
        Row("cli", f"python -c pass, CPU user+sys ({n})", m["bare"][1] * 1000, "ms"),
    ]
    for key, what in (("call", "kiosk call 1"), ("issue", "kiosk issue SERVICE")):
        wall, cpu = m[key]
        out.append(Row("cli", f"{what} process, wall ({n})", wall * 1000, "ms", budget))
        out.append(Row("cli", f"{what} process, CPU user+sys ({n})", cpu * 1000, "ms"))
    return out


def run(quick: bool = False) -> list[Row]:
    runs = 5 if quick else 20
    return rows(measure(runs), runs)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="5 runs instead of 20")
    p.add_argument("--src", type=Path, help="time the kiosk package of this checkout")
    args = p.parse_args()
    runs = 5 if args.quick else 20
    label = f", {args.src}" if args.src else ""
    print(format_table(rows(measure(runs, args.src), runs, label)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
