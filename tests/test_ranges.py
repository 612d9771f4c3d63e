"""The shared range check: every bound, open or closed, and non-finite values, named in the message."""

import math

import pytest

from sleepjax._ranges import NON_NEGATIVE, POSITIVE, UNIT, Range, check_ranges


@pytest.mark.parametrize(
    ("span", "inside", "outside", "shown"),
    [
        (POSITIVE, [1e-12, 5.0], [0.0, -1.0], "(0, inf)"),  # open low end: 0 itself refused
        (NON_NEGATIVE, [0.0, 3.0], [-1e-12], "[0, inf)"),  # closed low end: 0 allowed
        (UNIT, [0.0, 1.0, 0.5], [1.0 + 1e-9, -0.1], "[0, 1]"),  # high end included, above refused
        (Range(None, 2.0), [-1e9, 2.0], [2.5], "(-inf, 2]"),
        (Range(), [-1e300, 1e300], [], "(-inf, inf)"),
    ],
)
def test_range_membership_and_text(span, inside, outside, shown):
    # Mistakes caught: an open bound treated as closed (or the reverse), the high bound excluded or
    # ignored, the interval printed with the wrong brackets.
    assert all(v in span for v in inside)
    assert not any(v in span for v in outside)
    assert str(span) == shown


def test_check_ranges_names_the_first_bad_value():
    ranges = {"rate": POSITIVE, "share": UNIT}
    label = lambda name: f"--{name}"  # noqa: E731
    check_ranges({"rate": 2.0, "share": 1.0, "free": -7.0}, ranges, label)  # unlisted: only finite
    with pytest.raises(ValueError, match=r"^--rate must be in \(0, inf\), got 0$"):
        check_ranges({"rate": 0.0, "share": 2.0}, ranges, label)
    with pytest.raises(ValueError, match=r"^--share must be in \[0, 1\], got 2$"):
        check_ranges({"rate": 1.0, "share": 2.0}, ranges, label)
    # NaN compares false with every bound: it must be refused as non-finite, not slip through
    with pytest.raises(ValueError, match="^--free must be finite, got nan$"):
        check_ranges({"free": math.nan}, ranges, label)
    with pytest.raises(ValueError, match="^--rate must be finite, got inf$"):
        check_ranges({"rate": math.inf}, ranges, label)
