"""Summaries and printed tables shared by every experiment."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def mean_sd(values) -> dict[str, float]:
    """``{"mean", "sd"}`` of ``values`` over their first axis; SD is the sample SD (ddof=1), 0 for one
    value."""
    values = np.asarray(values, dtype=np.float64)
    if values.size == 0:
        raise ValueError("mean_sd needs at least one value")
    ddof = 1 if len(values) > 1 else 0
    return {"mean": float(values.mean()), "sd": float(values.std(ddof=ddof))}


def cell(stat: dict, scale: float = 100.0, digits: int = 1) -> str:
    """``"mean ± sd"`` of a :func:`mean_sd` dict, scaled (percent by default)."""
    return f"{scale * stat['mean']:.{digits}f} ± {scale * stat['sd']:.{digits}f}"


def format_table(rows: Sequence[Sequence[str]]) -> str:
    """Right-aligned columns; the first row is the header, underlined."""
    rows = [[str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.rjust(w) for c, w in zip(r, widths)) for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
