"""Evaluation after every task: accuracy on each task's test set, and the row metrics of a run.

An evaluator is what :func:`~sleepjax.continual_run` calls after each task, ``evaluate(params, key)``.
One that also has a ``summary(evaluation) -> dict`` method tells sweeps and searches which numbers to
tabulate for a finished run; :class:`AccuracyEvaluator` has one (final per-task accuracy, overall,
average, BWT and forgetting in both conventions).
"""

from __future__ import annotations

from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from sleepjax import _metrics as metrics
from sleepjax._scenarios import EvalSet
from sleepjax._typing import Array, Float, PRNGKey, PyTree


class AccuracyEvaluator(eqx.Module):
    """``evaluate`` for classification: accuracy of the model on each eval task, predicting among that
    task's allowed classes (all classes in class-incremental scenarios, the task's own in task-incremental
    ones).

    A pytree holding the test set, so that a compiled run receives the test arrays as arguments instead
    of baking them into the program as constants.
    """

    test: EvalSet

    def __init__(self, test: EvalSet):
        self.test = jax.tree.map(jnp.asarray, test)

    def __call__(self, model: PyTree, key: PRNGKey | None) -> Float[Array, " E"]:
        del key

        def task_accuracy(x, y, mask, classes):
            out = jax.vmap(model)(x)
            pred = jnp.argmax(jnp.where(classes, out, -jnp.inf), axis=-1)
            return jnp.sum((pred == y) & mask) / jnp.maximum(mask.sum(), 1)

        t = self.test
        return jax.vmap(task_accuracy)(t.x, t.y, t.mask, t.classes)

    def summary(self, evaluation) -> dict:
        """Row metrics of one run's accuracy matrix (:func:`accuracy_summary` with this test set's sizes)."""
        return accuracy_summary(np.asarray(self.test.mask).sum(axis=1))(evaluation)


def accuracy_summary(test_sizes) -> Callable[[np.ndarray], dict]:
    """Row metrics of one run's accuracy matrix ``R (T, E)``: final per-task accuracies ``final_j``,
    ``overall`` (pooled over ``test_sizes``), ``average``, and for square ``R`` ``bwt``,
    ``forgetting_chaudhry`` and ``forgetting_since_learned`` (:mod:`sleepjax.metrics` conventions)."""
    sizes = np.asarray(test_sizes)

    def summarize(r) -> dict:
        r = np.asarray(r, dtype=np.float64)
        final = r[-1]
        row = {f"final_{j}": float(a) for j, a in enumerate(final)}
        row["overall"] = float(metrics.overall_accuracy(final, sizes))
        row["average"] = float(final.mean())
        if r.shape[0] == r.shape[1]:
            row["bwt"] = float(metrics.backward_transfer(r))
            row["forgetting_chaudhry"] = float(metrics.forgetting_chaudhry(r))
            row["forgetting_since_learned"] = float(metrics.forgetting_since_learned(r))
        return row

    return summarize


def summary_of(evaluate) -> Callable[[PyTree], dict]:
    """How a finished run of ``evaluate`` is tabulated: its ``summary`` method where it has one, else the
    final evaluation's entries as ``final_0, final_1, ...``."""
    own = getattr(evaluate, "summary", None)
    if callable(own):
        return own

    def summarize(evaluation) -> dict:
        final = np.ravel(np.asarray(jax.tree.leaves(evaluation)[0])[-1])
        return {f"final_{j}": float(v) for j, v in enumerate(final)}

    return summarize


__all__ = ["AccuracyEvaluator", "accuracy_summary", "summary_of"]
