"""Phases: everything that changes a network during continual learning, as a pair of pure functions.

A :class:`Phase` is ``init(params, key) -> state`` and
``apply(params, state, task, hparams, key) -> (params, state, metrics)``. Wake training, SRC sleep and
later baselines are all phases, and phases compose like optax transforms:

* :func:`sequence` applies several phases one after another on each task (e.g. wake then sleep);
* :func:`interleave` splits a task's data into chunks and alternates two phases chunk by chunk;
* :func:`every_n_tasks` applies a phase only after every ``n``-th task.

Hyperparameters are a pytree of arrays passed at ``apply`` time (not baked into closures), so a whole
run can be vmapped over them. A composed phase takes a tuple with one entry per sub-phase.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
from jax import lax

PyTree = Any


class Task(NamedTuple):
    """What a phase sees of the current task.

    Attributes:
        x: ``(n, d)`` training inputs of this task.
        y: ``(n,)`` integer labels.
        index: scalar task index (0-based), traced inside a run.
        history: inputs of all tasks of the run, ``(T, n, d)``. A phase may read only entries
            ``history[:index + 1]`` (data seen so far); SRC uses them for its input statistics and
            normalisation, as the reference does.
    """

    x: jax.Array
    y: jax.Array
    index: jax.Array
    history: jax.Array


class Phase(NamedTuple):
    """A pure (init, apply) pair; see the module docstring."""

    init: Callable[[PyTree, jax.Array], PyTree]
    apply: Callable[[PyTree, PyTree, Task, PyTree, jax.Array], tuple[PyTree, PyTree, PyTree]]


def sequence(*phases: Phase) -> Phase:
    """Apply ``phases`` in order on each task; state and hparams are tuples, one entry per phase."""
    if not phases:
        raise ValueError("sequence needs at least one phase")

    def init(params, key):
        keys = jax.random.split(key, len(phases))
        return tuple(p.init(params, k) for p, k in zip(phases, keys))

    def apply(params, state, task, hparams, key):
        _check_tuple("sequence", hparams, len(phases))
        keys = jax.random.split(key, len(phases))
        new_states, metrics = [], []
        for phase, s, h, k in zip(phases, state, hparams, keys):
            params, s, m = phase.apply(params, s, task, h, k)
            new_states.append(s)
            metrics.append(m)
        return params, tuple(new_states), tuple(metrics)

    return Phase(init, apply)


def interleave(first: Phase, second: Phase, chunks: int) -> Phase:
    """Split each task's data into ``chunks`` equal parts; on each apply ``first`` then ``second``.

    E.g. ``interleave(wake, sleep, chunks=4)`` trains on a quarter of the task, sleeps, and so on.
    ``hparams`` is ``(first_hparams, second_hparams)``; metrics are stacked over chunks.
    """
    if chunks < 1:
        raise ValueError(f"chunks must be at least 1, got {chunks}")
    pair = sequence(first, second)

    def apply(params, state, task, hparams, key):
        n = task.x.shape[0]
        if n % chunks:
            raise ValueError(f"a task of {n} examples cannot be split into {chunks} equal chunks")
        xs = task.x.reshape((chunks, n // chunks) + task.x.shape[1:])
        ys = task.y.reshape((chunks, n // chunks) + task.y.shape[1:])

        def body(carry, chunk):
            params, state = carry
            x, y, k = chunk
            params, state, m = pair.apply(params, state, task._replace(x=x, y=y), hparams, k)
            return (params, state), m

        (params, state), metrics = lax.scan(body, (params, state), (xs, ys, jax.random.split(key, chunks)))
        return params, state, metrics

    return Phase(pair.init, apply)


def every_n_tasks(phase: Phase, n: int) -> Phase:
    """Apply ``phase`` only after tasks ``n - 1, 2n - 1, ...``; otherwise leave everything unchanged.

    The skipped branch still returns metrics of the same structure (zeros), as ``lax.cond`` requires.
    """
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")

    def apply(params, state, task, hparams, key):
        def run(operands):
            return phase.apply(*operands, task, hparams, key)

        def skip(operands):
            shapes = jax.eval_shape(run, operands)
            return operands[0], operands[1], jax.tree.map(lambda s: jnp.zeros(s.shape, s.dtype), shapes[2])

        return lax.cond((task.index + 1) % n == 0, run, skip, (params, state))

    return Phase(phase.init, apply)


def _check_tuple(name: str, hparams: PyTree, n: int) -> None:
    if not isinstance(hparams, tuple) or len(hparams) != n:
        raise ValueError(f"{name} of {n} phases needs a tuple of {n} hparams entries, got {hparams!r}")
