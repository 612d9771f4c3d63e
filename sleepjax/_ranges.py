"""Ranges of user-given constants, and the check that refuses a value outside its range by name.

A NaN, an infinite or a negative rate would otherwise run a whole experiment to a silent wrong result
(NaN compares false with everything, so it slips through checks written as ``value < low``). The
experiments declare each constant's :class:`Range` next to the constant and call :func:`check_ranges`
before anything is computed. (SRC's hyperparameters may also be traced, inside ``jit``; their checks in
:mod:`sleepjax._sleep.src` run inside the program and are not these.)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import NamedTuple


class Range(NamedTuple):
    """An interval: ``low`` (``None``: unbounded) included unless ``open_low``, ``high`` (``None``:
    unbounded) always included."""

    low: float | None = None
    high: float | None = None
    open_low: bool = False

    def __contains__(self, value: float) -> bool:
        above = self.low is None or value > self.low or (value == self.low and not self.open_low)
        return above and (self.high is None or value <= self.high)

    def __str__(self) -> str:
        low = "(-inf" if self.low is None else f"{'(' if self.open_low else '['}{self.low:g}"
        return f"{low}, {'inf)' if self.high is None else f'{self.high:g}]'}"


#: Common ranges.
POSITIVE = Range(0.0, None, open_low=True)
NON_NEGATIVE = Range(0.0)
UNIT = Range(0.0, 1.0)


def check_ranges(values: Mapping[str, object], ranges: Mapping[str, Range], label: Callable[[str], str]) -> None:
    """``ValueError`` naming (``label(name)``) the first of ``values`` that is not finite or lies outside
    its range in ``ranges`` (a name without a range only has to be finite)."""
    for name, value in values.items():
        value = float(value)
        if not math.isfinite(value):
            raise ValueError(f"{label(name)} must be finite, got {value}")
        span = ranges.get(name, Range())
        if value not in span:
            raise ValueError(f"{label(name)} must be in {span}, got {value:g}")
