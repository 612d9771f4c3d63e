"""Metrics on hand-made accuracy matrices, each value worked out by hand in a comment."""

import numpy as np
import pytest

from sleepjax import _metrics as metrics

# R[i, j]: accuracy on task j after training task i. Task 1 is better before it is trained (0.65 in
# row 0) than after (0.6 in row 1), which separates the two forgetting conventions; task 0's best
# earlier accuracy (0.7) is in row T-2 = 2, the last row either maximum may use.
R = np.array(
    [
        [0.50, 0.65, 0.10, 0.00],
        [0.40, 0.60, 0.20, 0.10],
        [0.70, 0.50, 0.80, 0.40],
        [0.20, 0.40, 0.30, 0.90],
    ]
)


def test_average_accuracy():
    # (0.2 + 0.4 + 0.3 + 0.9) / 4
    assert metrics.average_accuracy(R) == pytest.approx(0.45)


def test_overall_accuracy_pools_examples():
    # (0.2 * 10 + 0.4 * 30 + 0.3 * 0 + 0.9 * 60) / 100 = (2 + 12 + 0 + 54) / 100; a task without
    # test examples weighs nothing
    assert metrics.overall_accuracy(R[-1], [10, 30, 0, 60]) == pytest.approx(0.68)
    # leading (seed) axes: second row (1, 0, 0, 0) -> 10 / 100
    np.testing.assert_allclose(metrics.overall_accuracy(np.stack([R[-1], np.eye(4)[0]]), [10, 30, 0, 60]), [0.68, 0.1])


def test_backward_transfer_lopez_paz():
    # ((0.2 - 0.5) + (0.4 - 0.6) + (0.3 - 0.8)) / 3 = -1.0 / 3
    assert metrics.backward_transfer(R) == pytest.approx(-1.0 / 3)


def test_forgetting_chaudhry_max_over_all_earlier_rows():
    # task 0: max(0.5, 0.4, 0.7) - 0.2 = 0.5; task 1: max(0.65, 0.6, 0.5) - 0.4 = 0.25;
    # task 2: max(0.1, 0.2, 0.8) - 0.3 = 0.5; mean 1.25 / 3
    assert metrics.forgetting_chaudhry(R) == pytest.approx(1.25 / 3)


def test_forgetting_since_learned_max_from_the_task_on():
    # task 0: max(0.5, 0.4, 0.7) - 0.2 = 0.5; task 1: max(0.6, 0.5) - 0.4 = 0.2 (row 0 skipped);
    # task 2: max(0.8) - 0.3 = 0.5; mean 1.2 / 3
    assert metrics.forgetting_since_learned(R) == pytest.approx(1.2 / 3)


def test_forgetting_after_learning_from_the_diagonal():
    # task 0: 0.5 - 0.2 = 0.3; task 1: 0.6 - 0.4 = 0.2; task 2: 0.8 - 0.3 = 0.5; mean 1.0 / 3 (= -BWT)
    assert metrics.forgetting_after_learning(R) == pytest.approx(1.0 / 3)


# The three forgetting conventions on one matrix that tells them apart: task 0 peaks after a later task
# (0.9 in row 1), task 1 is best before it is trained (0.7 in row 0). Worked out per task:
#   after learning   (R[j, j] - final):        task 0: 0.6 - 0.1 = 0.5;  task 1: 0.5 - 0.2 = 0.3  -> 0.4
#   since learned    (max rows j..T-2 - final): task 0: 0.9 - 0.1 = 0.8;  task 1: 0.5 - 0.2 = 0.3  -> 0.55
#   Chaudhry         (max rows 0..T-2 - final): task 0: 0.9 - 0.1 = 0.8;  task 1: 0.7 - 0.2 = 0.5  -> 0.65
CONVENTIONS = np.array(
    [
        [0.6, 0.7, 0.0],
        [0.9, 0.5, 0.1],
        [0.1, 0.2, 0.9],
    ]
)


@pytest.mark.parametrize(
    ("metric", "expected"),
    [
        (metrics.forgetting_after_learning, 0.4),
        (metrics.forgetting_since_learned, 0.55),
        (metrics.forgetting_chaudhry, 0.65),
    ],
)
def test_forgetting_conventions_differ_as_defined(metric, expected):
    assert metric(CONVENTIONS) == pytest.approx(expected)


def test_forgetting_is_read_with_rows_as_training_steps():
    # The transposed matrix (rows: evaluated task, as Hsu et al.'s acc_table[task][after]) is a different
    # matrix: read as R it gives another number, so a metric that transposed R would fail the tests above.
    assert metrics.forgetting_after_learning(CONVENTIONS.T) == pytest.approx(((0.6 - 0.0) + (0.5 - 0.1)) / 2)
    assert metrics.forgetting_after_learning(CONVENTIONS.T) != pytest.approx(0.4)


def test_average_incremental_accuracy():
    # rows' averages over the tasks seen so far: 0.5; (0.4 + 0.6) / 2 = 0.5; (0.7 + 0.5 + 0.8) / 3 = 2 / 3;
    # (0.2 + 0.4 + 0.3 + 0.9) / 4 = 0.45; mean over the four steps (0.5 + 0.5 + 2/3 + 0.45) / 4
    assert metrics.average_incremental_accuracy(R) == pytest.approx((0.5 + 0.5 + 2 / 3 + 0.45) / 4)
    # the entries above the diagonal (tasks not yet seen) play no part
    assert metrics.average_incremental_accuracy(np.triu(np.ones((4, 4)), 1)) == 0.0


@pytest.mark.parametrize("forgetting", [metrics.forgetting_chaudhry, metrics.forgetting_since_learned])
def test_forgetting_excludes_the_final_row_and_can_be_negative(forgetting):
    # task 0: 0.5 - 0.9 = -0.4 (the final row's 0.9 is not part of the maximum)
    assert forgetting(np.array([[0.5, 0.0], [0.9, 0.9]])) == pytest.approx(-0.4)


def test_forgetting_orderings():
    # chaudhry >= since_learned (its maximum runs over more rows) >= -BWT (its maximum includes R[j, j])
    r = np.random.default_rng(0).uniform(size=(200, 5, 5))
    chaudhry, since, bwt = (
        metrics.forgetting_chaudhry(r),
        metrics.forgetting_since_learned(r),
        metrics.backward_transfer(r),
    )
    assert np.all(chaudhry >= since) and np.all(since >= -bwt)
    assert np.any(chaudhry > since) and np.any(since > -bwt) and np.any(since < 0)


def test_forward_transfer():
    # (R[0,1] - b1) + (R[1,2] - b2) + (R[2,3] - b3) = (0.65 - 0.2) + (0.2 - 0.05) + (0.4 - 0.3) = 0.7, / 3
    assert metrics.forward_transfer(R, [0.1, 0.2, 0.05, 0.3]) == pytest.approx(0.7 / 3)


def test_leading_axes_are_kept():
    stacked = np.stack([R, np.eye(4)])
    # eye: BWT ((0 - 1) * 3) / 3 = -1; forgetting: every task max 1 then 0 -> 1; average 1 / 4
    np.testing.assert_allclose(metrics.backward_transfer(stacked), [-1.0 / 3, -1.0])
    np.testing.assert_allclose(metrics.average_accuracy(stacked), [0.45, 0.25])
    np.testing.assert_allclose(metrics.forgetting_chaudhry(stacked), [1.25 / 3, 1.0])
    np.testing.assert_allclose(metrics.forgetting_since_learned(stacked), [1.2 / 3, 1.0])
    np.testing.assert_allclose(metrics.forward_transfer(stacked, np.zeros((2, 4))), [1.25 / 3, 0.0])
    np.testing.assert_allclose(metrics.forgetting_after_learning(stacked), [1.0 / 3, 1.0])
    # eye: step i sees i + 1 tasks with one accuracy 1 among them: mean(1, 1/2, 1/3, 1/4)
    np.testing.assert_allclose(
        metrics.average_incremental_accuracy(stacked), [(0.5 + 0.5 + 2 / 3 + 0.45) / 4, (1 + 1 / 2 + 1 / 3 + 1 / 4) / 4]
    )


def test_single_task_has_no_earlier_tasks():
    one = np.array([[0.5]])
    for metric in (
        metrics.backward_transfer,
        metrics.forgetting_chaudhry,
        metrics.forgetting_since_learned,
        metrics.forgetting_after_learning,
    ):
        assert metric(one) == 0.0
    assert metrics.average_incremental_accuracy(one) == 0.5
    assert metrics.forward_transfer(one, [0.1]) == 0.0


MATRIX_METRICS = [
    metrics.average_accuracy,
    metrics.backward_transfer,
    metrics.forgetting_chaudhry,
    metrics.forgetting_since_learned,
    metrics.forgetting_after_learning,
    metrics.average_incremental_accuracy,
    lambda r: metrics.forward_transfer(r, np.zeros(r.shape[-1])),
]


@pytest.mark.parametrize("metric", MATRIX_METRICS)
def test_matrix_metrics_reject_bad_matrices(metric):
    with pytest.raises(ValueError, match="square"):
        metric(np.zeros((2, 3)))
    for bad in (np.nan, 1.5, -0.1, 95.0):  # NaN, out of range, a percentage
        r = R.copy()
        r[1, 0] = bad
        with pytest.raises(ValueError, match=r"accuracy matrix must hold accuracies in \[0, 1\]"):
            metric(r)


def test_forward_transfer_rejects_a_bad_baseline():
    with pytest.raises(ValueError, match=r"baseline must have shape \(\.\.\., T\) with T = 4 tasks, got \(3,\)"):
        metrics.forward_transfer(R, [0.1, 0.1, 0.1])
    with pytest.raises(ValueError, match=r"baseline must hold accuracies in \[0, 1\]"):
        metrics.forward_transfer(R, [0.1, np.nan, 0.1, 0.1])


def test_overall_accuracy_rejects_bad_input():
    with pytest.raises(ValueError, match="undefined with no test examples"):
        metrics.overall_accuracy(R[-1], [0, 0, 0, 0])
    with pytest.raises(ValueError, match=r"sizes must have shape \(T,\) matching final_row"):
        metrics.overall_accuracy(R[-1], [10, 30, 60])
    with pytest.raises(ValueError, match=r"sizes must have shape \(T,\) matching final_row"):
        metrics.overall_accuracy(R[-1], [[10, 30, 0, 60]])
    with pytest.raises(ValueError, match="sizes must be non-negative finite"):
        metrics.overall_accuracy(R[-1], [10, -30, 0, 60])
    with pytest.raises(ValueError, match="sizes must be non-negative finite"):
        metrics.overall_accuracy(R[-1], [10, np.inf, 0, 60])
    for bad in (np.nan, 1.01, -0.5):
        row = R[-1].copy()
        row[2] = bad
        with pytest.raises(ValueError, match=r"final_row must hold accuracies in \[0, 1\]"):
            metrics.overall_accuracy(row, [10, 30, 0, 60])
