"""Continual-learning metrics computed from an accuracy matrix.

``R[i, j]`` is the accuracy on task ``j`` after training on task ``i`` (``T x T``). All functions take
NumPy or JAX arrays and accept extra leading axes (e.g. seeds), reducing only the last two.

Conventions:
* average accuracy: mean over tasks of the final row, ``mean_j R[T-1, j]``;
* overall accuracy: final accuracy over all test examples pooled (tasks weighted by their size);
* backward transfer, BWT (Lopez-Paz & Ranzato 2017): ``mean_{j<T-1} (R[T-1, j] - R[j, j])``,
  negative when tasks are forgotten;
* forgetting (Chaudhry et al. 2018): ``mean_{j<T-1} (max_{j<=i<T-1} R[i, j] - R[T-1, j])``, the drop
  from the best accuracy a task ever had after being learned, non-negative;
* forward transfer, FWT (Lopez-Paz & Ranzato 2017): ``mean_{j>0} (R[j-1, j] - b[j])`` with ``b`` the
  accuracy of the untrained network.
"""

from __future__ import annotations

import numpy as np


def _check(r) -> np.ndarray:
    r = np.asarray(r, dtype=np.float64)
    if r.ndim < 2 or r.shape[-1] != r.shape[-2]:
        raise ValueError(f"an accuracy matrix must be square in its last two axes, got shape {r.shape}")
    return r


def average_accuracy(r) -> np.ndarray:
    """Mean final accuracy over tasks."""
    return _check(r)[..., -1, :].mean(axis=-1)


def overall_accuracy(final_row, sizes) -> np.ndarray:
    """Accuracy over all test examples pooled: per-task final accuracies weighted by ``sizes``."""
    sizes = np.asarray(sizes, dtype=np.float64)
    return (np.asarray(final_row, dtype=np.float64) * sizes).sum(axis=-1) / sizes.sum()


def backward_transfer(r) -> np.ndarray:
    """BWT (Lopez-Paz & Ranzato 2017)."""
    r = _check(r)
    t = r.shape[-1]
    if t < 2:
        return np.zeros(r.shape[:-2])
    diag = np.diagonal(r, axis1=-2, axis2=-1)
    return (r[..., -1, : t - 1] - diag[..., : t - 1]).mean(axis=-1)


def forgetting(r) -> np.ndarray:
    """Average forgetting (Chaudhry et al. 2018), best accuracy since learning minus final."""
    r = _check(r)
    t = r.shape[-1]
    if t < 2:
        return np.zeros(r.shape[:-2])
    rows = np.arange(t)[:, None]
    after_learning = (rows >= np.arange(t)[None, :]) & (rows < t - 1)
    best = np.where(after_learning, r, -np.inf).max(axis=-2)
    return (best[..., : t - 1] - r[..., -1, : t - 1]).mean(axis=-1)


def forward_transfer(r, baseline) -> np.ndarray:
    """FWT (Lopez-Paz & Ranzato 2017) against per-task ``baseline`` accuracies of an untrained net."""
    r = _check(r)
    t = r.shape[-1]
    if t < 2:
        return np.zeros(r.shape[:-2])
    above_diag = np.stack([r[..., j - 1, j] for j in range(1, t)], axis=-1)
    return (above_diag - np.asarray(baseline, dtype=np.float64)[..., 1:]).mean(axis=-1)
