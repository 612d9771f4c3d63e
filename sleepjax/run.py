"""Continual runs: one ``lax.scan`` over tasks, and ``vmap`` over seeds in one compiled program.

:func:`continual_run` applies a phase to each task in turn and evaluates every task after every task,
which yields the accuracy matrix ``R[i, j]``. :func:`run_seeds` vmaps it over seeds (the model is
initialised inside, from each seed's key), compiles once and runs the seeds in chunks so that memory
stays bounded; results of a chunk are kept as soon as it finishes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from sleepjax.phases import Phase, Task
from sleepjax.scenarios import EvalSet, TaskStream


class RunResult(NamedTuple):
    """``accuracy (T, E)``: accuracy on eval task ``j`` after training task ``i``; ``metrics``: the
    phase metrics stacked over training tasks."""

    accuracy: jax.Array
    metrics: Any


def evaluate(model, test: EvalSet) -> jax.Array:
    """Accuracy of ``model`` on each eval task, predicting among that task's allowed classes."""

    def task_accuracy(x, y, mask, classes):
        out = jax.vmap(model)(x)
        pred = jnp.argmax(jnp.where(classes, out, -jnp.inf), axis=-1)
        return jnp.sum((pred == y) & mask) / jnp.maximum(mask.sum(), 1)

    return jax.vmap(task_accuracy)(test.x, test.y, test.mask, test.classes)


def continual_run(
    phase: Phase,
    model,
    train: TaskStream,
    test: EvalSet,
    hparams,
    key: jax.Array,
    on_task_end: Callable[[int], None] | None = None,
) -> RunResult:
    """Train ``model`` on the tasks of ``train`` with ``phase``, evaluating on ``test`` after each.

    ``on_task_end(task_index)`` is called on the host after each task (for progress reporting).
    """
    if train.x.ndim != 3 or train.y.shape != train.x.shape[:2]:
        raise ValueError(f"train stream must be x (T, n, d) and y (T, n), got {train.x.shape} and {train.y.shape}")
    train = jax.tree.map(jnp.asarray, train)
    test = jax.tree.map(jnp.asarray, test)
    k_init, k_run = jax.random.split(key)
    state = phase.init(model, k_init)

    def step(carry, t):
        model, state = carry
        task = Task(train.x[t], train.y[t], t, train.x)
        model, state, metrics = phase.apply(model, state, task, hparams, jax.random.fold_in(k_run, t))
        accuracy = evaluate(model, test)
        if on_task_end is not None:
            jax.debug.callback(on_task_end, t)
        return (model, state), (accuracy, metrics)

    _, (accuracy, metrics) = lax.scan(step, (model, state), jnp.arange(train.x.shape[0]))
    return RunResult(accuracy, metrics)


def resolve_chunk_size(chunk_size: int | None, num_seeds: int) -> int:
    """Seeds per compiled call: ``chunk_size`` capped at ``num_seeds``; by default all seeds on an
    accelerator and one on the CPU (see :func:`run_seeds`)."""
    if chunk_size is None:
        chunk_size = 1 if jax.default_backend() == "cpu" else num_seeds
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be positive, got {chunk_size}")
    return min(int(chunk_size), num_seeds)


def run_seeds(
    phase: Phase,
    make_model: Callable[[jax.Array], Any],
    train: TaskStream,
    test: EvalSet,
    hparams,
    seeds: list[int] | np.ndarray,
    chunk_size: int | None = None,
    on_task_end: Callable[[int], None] | None = None,
    on_chunk_end: Callable[[np.ndarray, RunResult], None] | None = None,
) -> RunResult:
    """Run the same continual-learning setup for several seeds, vmapped.

    Args:
        phase: the composed phase applied to each task.
        make_model: builds the initial model from a PRNG key.
        train, test: the scenario's arrays (shared by all seeds, not copied per seed).
        hparams: phase hyperparameters, shared by all seeds.
        seeds: integer seeds; seed ``s`` uses ``jax.random.key(s)`` for initialisation and the run.
        chunk_size: seeds per compiled call. The last chunk is padded so that every chunk reuses the
            one compiled program. Default: all seeds at once on an accelerator, one at a time on the
            CPU, where a vmapped SRC sleep measured slower than the same seeds in turn
            (``benchmarks/bench_src.py``).
        on_task_end: host callback after each task of each chunk.
        on_chunk_end: called with ``(chunk_seeds, chunk_result)`` as each chunk finishes, so a caller
            can save results before the next chunk starts.

    Returns:
        A :class:`RunResult` with a leading seed axis, as NumPy arrays.

    The same seed and chunk size always give the same numbers. Across chunk sizes a seed's numbers agree
    only to rounding: batched and single matrix products sum in different orders, and over tens of
    thousands of sleep steps one flipped threshold crossing is enough to send the sleep elsewhere.
    """
    seeds = np.asarray(seeds, dtype=np.int64)
    if seeds.ndim != 1 or seeds.size == 0:
        raise ValueError(f"seeds must be a non-empty 1-D list of integers, got {seeds!r}")
    chunk_size = resolve_chunk_size(chunk_size, seeds.size)

    def one_seed(seed, train, test, hparams):
        k_model, k_run = jax.random.split(jax.random.key(seed))
        return continual_run(phase, make_model(k_model), train, test, hparams, k_run, on_task_end)

    batched = jax.jit(jax.vmap(one_seed, in_axes=(0, None, None, None)))
    results = []
    for start in range(0, seeds.size, chunk_size):
        chunk = seeds[start : start + chunk_size]
        padded = np.concatenate([chunk, np.repeat(chunk[-1:], chunk_size - chunk.size)])
        out = batched(jnp.asarray(padded, jnp.uint32), train, test, hparams)
        out = jax.tree.map(lambda a, n=chunk.size: np.asarray(a)[:n], out)
        if on_chunk_end is not None:
            on_chunk_end(chunk, out)
        results.append(out)
    return jax.tree.map(lambda *parts: np.concatenate(parts), *results)
