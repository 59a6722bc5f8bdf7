"""Run every benchmark in bench/ and print one table. Reports; never fails the build.

Each ``bench/bench_*.py`` module has ``run(quick: bool) -> list[Row]``: rows of
(area, what, value, unit, budget). ``--quick`` shortens runs (used by a smoke test).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from bench.common import Row, format_table  # noqa: E402


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--quick", action="store_true", help="short runs")
    p.add_argument(
        "--only", action="append", default=[], help="run only bench_NAME.py (repeatable)"
    )
    p.add_argument("--json", metavar="FILE", help="also write the rows as JSON")
    args = p.parse_args()
    rows: list[Row] = []
    for path in sorted(HERE.glob("bench_*.py")):
        name = path.stem.removeprefix("bench_")
        if args.only and name not in args.only:
            continue
        spec = importlib.util.spec_from_file_location(f"bench.{path.stem}", path)
        assert spec and spec.loader
        mod = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = mod  # dataclasses look their module up there
        t0 = time.perf_counter()
        try:
            spec.loader.exec_module(mod)
            rows.extend(mod.run(quick=args.quick))
        except Exception as e:  # a broken benchmark is reported, not fatal
            traceback.print_exc()
            rows.append(Row(name, "benchmark failed", float("nan"), "", f"{type(e).__name__}: {e}"))
        print(f"  {name}: {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    print(format_table(rows))
    if args.json:
        Path(args.json).write_text(
            json.dumps([r._asdict() for r in rows], ensure_ascii=False, indent=1)
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
