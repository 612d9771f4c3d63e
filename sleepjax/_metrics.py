"""Continual-learning metrics computed from an accuracy matrix.

``R[i, j]`` is the accuracy on task ``j`` after training on task ``i`` (``T x T``, values in [0, 1]). All
functions take NumPy or JAX arrays and accept extra leading axes (e.g. seeds), reducing only the last two.
Inputs are validated: a non-square matrix, NaN, or an accuracy outside [0, 1] raises ``ValueError``.

Conventions (``T`` tasks; the averages over earlier tasks are 0 for a single task, which has none):
* average accuracy: mean over tasks of the final row, ``mean_j R[T-1, j]``;
* overall accuracy: final accuracy over all test examples pooled (tasks weighted by their size);
* backward transfer, BWT (Lopez-Paz & Ranzato 2017): ``mean_{j<T-1} (R[T-1, j] - R[j, j])``,
  negative when tasks are forgotten;
* average incremental accuracy (Rebuffi et al. 2017, iCaRL): the mean over steps ``i`` of the average
  accuracy on the tasks seen so far, ``mean_i mean_{j<=i} R[i, j]``;
* forgetting, from the accuracy just after learning or from the best earlier accuracy:

  - :func:`forgetting_after_learning`: ``mean_{j<T-1} (R[j, j] - R[T-1, j])``, the drop from the
    accuracy just after task ``j`` was learned (numerically ``-BWT``, named for the convention);
  - :func:`forgetting_chaudhry` (Chaudhry et al. 2018, eq. for ``f_j^k`` with ``k = T``):
    ``mean_{j<T-1} (max_{0<=l<=T-2} R[l, j] - R[T-1, j])``, the maximum over *all* earlier rows,
    including those before task ``j`` was trained;
  - :func:`forgetting_since_learned`: ``mean_{j<T-1} (max_{j<=l<=T-2} R[l, j] - R[T-1, j])``, the
    maximum only over the rows after task ``j`` was trained.

  None of the three is non-negative in general: a task's term is negative exactly when its final
  accuracy is above every accuracy its maximum (or ``R[j, j]``) runs over (positive backward transfer).
  Since their maxima run over more rows, ``forgetting_chaudhry >= forgetting_since_learned >=
  forgetting_after_learning = -BWT`` always; so a run with ``R[T-1, j] <= R[j, j]`` for every ``j``
  has all three non-negative.
* forward transfer, FWT (Lopez-Paz & Ranzato 2017): ``mean_{j>0} (R[j-1, j] - b[j])`` with ``b`` the
  accuracy of the untrained network.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "average_accuracy",
    "average_incremental_accuracy",
    "backward_transfer",
    "forgetting_after_learning",
    "forgetting_chaudhry",
    "forgetting_since_learned",
    "forward_transfer",
    "overall_accuracy",
]


def _accuracies(name: str, a) -> np.ndarray:
    """``a`` as float64, after checking that every value is an accuracy in [0, 1] (NaN fails)."""
    a = np.asarray(a, dtype=np.float64)
    if not np.all((a >= 0.0) & (a <= 1.0)):
        bad = a[~((a >= 0.0) & (a <= 1.0))]
        raise ValueError(f"{name} must hold accuracies in [0, 1] (no NaN), found {bad.flat[0]} ({bad.size} such)")
    return a


def _check(r) -> np.ndarray:
    """An accuracy matrix ``(..., T, T)`` as float64, validated."""
    r = np.asarray(r)
    if r.ndim < 2 or r.shape[-1] != r.shape[-2]:
        raise ValueError(f"an accuracy matrix must be square in its last two axes, got shape {r.shape}")
    return _accuracies("an accuracy matrix", r)


def average_accuracy(r) -> np.ndarray:
    """Mean final accuracy over tasks, ``(...,)`` from ``r`` ``(..., T, T)``."""
    return _check(r)[..., -1, :].mean(axis=-1)


def average_incremental_accuracy(r) -> np.ndarray:
    """Average incremental accuracy (Rebuffi et al. 2017), ``(...,)`` from ``r`` ``(..., T, T)``:
    ``mean_i (mean_{j<=i} R[i, j])``, the average accuracy on the tasks seen so far, averaged over the
    ``T`` steps (Hsu et al.'s per-step "average accuracy", averaged)."""
    r = _check(r)
    t = r.shape[-1]
    seen = np.tril(np.ones((t, t), bool))
    per_step = np.where(seen, r, 0.0).sum(axis=-1) / np.arange(1, t + 1)
    return per_step.mean(axis=-1)


def overall_accuracy(final_row, sizes) -> np.ndarray:
    """Accuracy over all test examples pooled: per-task final accuracies weighted by ``sizes``.

    Args:
        final_row: ``(..., T)`` final accuracy on each task.
        sizes: ``(T,)`` number of test examples of each task (non-negative, not all zero).

    Returns:
        ``(...,)`` pooled accuracy.

    Raises:
        ValueError: if the shapes differ, an accuracy is NaN or outside [0, 1], a size is negative or not
            finite, or there are no test examples at all (the pooled accuracy would be 0/0).
    """
    final_row = _accuracies("final_row", final_row)
    sizes = np.asarray(sizes, dtype=np.float64)
    if sizes.ndim != 1 or final_row.shape[-1:] != sizes.shape:
        raise ValueError(
            f"sizes must have shape (T,) matching final_row (..., T); got {sizes.shape} and {final_row.shape}"
        )
    if not np.all((sizes >= 0) & np.isfinite(sizes)):
        raise ValueError(f"sizes must be non-negative finite test-set sizes, got {sizes.tolist()}")
    total = sizes.sum()
    if total == 0:
        raise ValueError("overall accuracy is undefined with no test examples (all sizes are 0)")
    return (final_row * sizes).sum(axis=-1) / total


def backward_transfer(r) -> np.ndarray:
    """BWT (Lopez-Paz & Ranzato 2017), ``(...,)`` from ``r`` ``(..., T, T)``; 0 for a single task."""
    r = _check(r)
    t = r.shape[-1]
    if t < 2:
        return np.zeros(r.shape[:-2])
    diag = np.diagonal(r, axis1=-2, axis2=-1)
    return (r[..., -1, : t - 1] - diag[..., : t - 1]).mean(axis=-1)


def forgetting_after_learning(r) -> np.ndarray:
    """Average forgetting from the accuracy just after learning, ``(...,)`` from ``r`` ``(..., T, T)``:
    ``mean_{j<T-1} (R[j, j] - R[T-1, j])``; 0 for a single task. Equal to ``-BWT``
    (:func:`backward_transfer`); papers that define forgetting this way (e.g. van de Ven et al.'s
    "forgetting" as the drop since training) report this number."""
    return -backward_transfer(r)


def _forgetting(r, since_learned: bool) -> np.ndarray:
    """Mean over tasks ``j < T-1`` of ``max_l R[l, j] - R[T-1, j]``, ``l`` in ``0..T-2`` or ``j..T-2``."""
    r = _check(r)
    t = r.shape[-1]
    if t < 2:
        return np.zeros(r.shape[:-2])
    rows, cols = np.arange(t)[:, None], np.arange(t)[None, :]
    counted = rows <= t - 2
    if since_learned:
        counted = counted & (rows >= cols)
    best = np.where(counted, r, -np.inf).max(axis=-2)
    return (best[..., : t - 1] - r[..., -1, : t - 1]).mean(axis=-1)


def forgetting_chaudhry(r) -> np.ndarray:
    """Average forgetting as Chaudhry et al. (2018) define it, ``(...,)`` from ``r`` ``(..., T, T)``.

    ``mean_{j<T-1} (max_{0<=l<=T-2} R[l, j] - R[T-1, j])``: the best accuracy on task ``j`` after *any*
    earlier task minus its final accuracy. Not non-negative in general (see the module docstring);
    0 for a single task.
    """
    return _forgetting(r, since_learned=False)


def forgetting_since_learned(r) -> np.ndarray:
    """Average forgetting from the best accuracy since each task was learned, ``(...,)`` from ``(..., T, T)``.

    ``mean_{j<T-1} (max_{j<=l<=T-2} R[l, j] - R[T-1, j])``: like :func:`forgetting_chaudhry` but the
    maximum skips the rows before task ``j`` was trained. At least ``-BWT``; not non-negative in general
    (see the module docstring); 0 for a single task.
    """
    return _forgetting(r, since_learned=True)


def forward_transfer(r, baseline) -> np.ndarray:
    """FWT (Lopez-Paz & Ranzato 2017), ``(...,)``; 0 for a single task.

    Args:
        r: ``(..., T, T)`` accuracy matrix.
        baseline: ``(..., T)`` accuracy of an untrained network on each task.
    """
    r = _check(r)
    baseline = _accuracies("baseline", baseline)
    t = r.shape[-1]
    if baseline.shape[-1:] != (t,):
        raise ValueError(f"baseline must have shape (..., T) with T = {t} tasks, got {baseline.shape}")
    if t < 2:
        return np.zeros(r.shape[:-2])
    above_diag = np.stack([r[..., j - 1, j] for j in range(1, t)], axis=-1)
    return (above_diag - baseline[..., 1:]).mean(axis=-1)
