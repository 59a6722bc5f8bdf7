"""Shared helpers for benchmarks: rows, percentiles, the table."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple


class Row(NamedTuple):
    area: str
    what: str
    value: float
    unit: str
    budget: str = ""


def percentile(samples: Sequence[float], p: float) -> float:
    """The p-th percentile (0–100) by nearest rank."""
    if not samples:
        return float("nan")
    s = sorted(samples)
    k = max(0, min(len(s) - 1, math.ceil(p / 100 * len(s)) - 1))
    return s[k]


def format_table(rows: Sequence[Row]) -> str:
    head = ("area", "what", "value", "unit", "budget / peer")
    cells = [head] + [(r.area, r.what, _num(r.value), r.unit, r.budget) for r in rows]
    widths = [max(len(c[i]) for c in cells) for i in range(5)]
    out = []
    for n, c in enumerate(cells):
        out.append(
            "| "
            + " | ".join(
                x.ljust(widths[i]) if i != 2 else x.rjust(widths[i]) for i, x in enumerate(c)
            )
            + " |"
        )
        if n == 0:
            out.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(out)


def _num(v: float) -> str:
    if isinstance(v, float) and math.isnan(v):
        return "—"
    if abs(v) >= 100 or float(v).is_integer():
        return f"{v:,.0f}"
    return f"{v:.3g}" if abs(v) < 1 else f"{v:.2f}"
