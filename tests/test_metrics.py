"""Metrics on a hand-made accuracy matrix."""

import numpy as np
import pytest

from sleepjax import metrics

R = np.array(
    [
        [0.9, 0.1, 0.0],
        [0.6, 0.8, 0.2],
        [0.7, 0.5, 0.9],
    ]
)


def test_average_and_overall_accuracy():
    assert metrics.average_accuracy(R) == pytest.approx((0.7 + 0.5 + 0.9) / 3)
    assert metrics.overall_accuracy(R[-1], [100, 300, 100]) == pytest.approx((70 + 150 + 90) / 500)


def test_backward_transfer_lopez_paz():
    # ((0.7 - 0.9) + (0.5 - 0.8)) / 2
    assert metrics.backward_transfer(R) == pytest.approx(-0.25)


def test_forgetting_chaudhry():
    # task 0: best after learning max(0.9, 0.6) = 0.9 -> 0.2; task 1: best 0.8 -> 0.3
    assert metrics.forgetting(R) == pytest.approx(0.25)
    # improvement after learning counts from the best seen *before the last task*
    r = np.array([[0.5, 0.0], [0.9, 0.9]])
    assert metrics.forgetting(r) == pytest.approx(-0.4)


def test_forward_transfer():
    # (R[0,1] - b1 + R[1,2] - b2) / 2 with b = 0.1
    assert metrics.forward_transfer(R, [0.1, 0.1, 0.1]) == pytest.approx(((0.1 - 0.1) + (0.2 - 0.1)) / 2)


def test_leading_axes_are_kept():
    stacked = np.stack([R, np.eye(3)])
    np.testing.assert_allclose(metrics.backward_transfer(stacked), [-0.25, -1.0])
    np.testing.assert_allclose(metrics.average_accuracy(stacked), [0.7, 1 / 3])


def test_single_task_and_bad_shapes():
    assert metrics.backward_transfer(np.array([[0.5]])) == 0.0
    assert metrics.forgetting(np.array([[0.5]])) == 0.0
    with pytest.raises(ValueError, match="square"):
        metrics.backward_transfer(np.zeros((2, 3)))
