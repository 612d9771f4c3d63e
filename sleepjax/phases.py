"""Phases: everything that changes a network during continual learning, as a pair of pure functions.

A :class:`Phase` is ``init(params, key) -> state`` and
``apply(params, state, task, hparams, key) -> (params, state, metrics)``. Wake training, SRC sleep, a
block of rewarded STDP or a noise-sleep epoch are all phases, and phases compose like optax transforms:

* :func:`sequence` applies several *named* phases one after another on each task (e.g.
  ``sequence(wake=..., sleep=...)``);
* :func:`interleave` splits a supervised task's data into chunks and alternates named phases on them;
* :func:`every_n_tasks` applies a phase only after every ``n``-th task;
* :func:`by_task` applies a different phase to each task (schedules such as "train, then train
  interleaved with sleep").

Hyperparameters are a pytree of arrays passed at ``apply`` time (not baked into closures), so a whole
run can be vmapped over them. A composed phase takes a dict keyed by the names of its sub-phases, like
optax's ``named_chain``: ``{"wake": None, "sleep": SRCPhaseHparams(...)}``, so a sweep can address any
leaf by name. A name left out of the dict means ``None`` (for phases without hyperparameters); a name
that is not a sub-phase is an error, so a typo cannot silently leave a setting unused.

A task is whatever the run hands the phase: a :class:`SupervisedTask` for classification, an
environment specification for the foraging agent, and so on. Phases that need the task's position in
the sequence read ``task.index``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
from jax import lax

PyTree = Any


class SupervisedTask(NamedTuple):
    """What a phase sees of a supervised task.

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
    apply: Callable[[PyTree, PyTree, Any, PyTree, jax.Array], tuple[PyTree, PyTree, PyTree]]


def named_hparams(combinator: str, names: tuple[str, ...], hparams: Mapping | None) -> dict:
    """The hyperparameters of each named sub-phase: ``hparams[name]``, ``None`` where left out.

    Raises ``ValueError`` for names that are not sub-phases, or if ``hparams`` is not a mapping.
    """
    if hparams is None:
        hparams = {}
    if not isinstance(hparams, Mapping):
        raise ValueError(
            f"{combinator} of phases {list(names)} takes a dict of hyperparameters keyed by phase name, "
            f"got {type(hparams).__name__}"
        )
    unknown = sorted(set(hparams) - set(names))
    if unknown:
        raise ValueError(f"{combinator} has no phase named {unknown}; its phases are {list(names)}")
    return {name: hparams.get(name) for name in names}


def _check_names(combinator: str, phases: Mapping[str, Phase]) -> None:
    if not phases:
        raise ValueError(f"{combinator} needs at least one named phase, e.g. {combinator}(wake=..., sleep=...)")
    for name, phase in phases.items():
        if not isinstance(phase, Phase):
            raise TypeError(f"{combinator}: phase {name!r} must be a sleepjax Phase, got {type(phase).__name__}")


def sequence(**phases: Phase) -> Phase:
    """Apply the named ``phases`` in the given order on each task.

    State, hyperparameters and metrics are dicts keyed by the phase names.
    """
    _check_names("sequence", phases)
    names = tuple(phases)

    def init(params, key):
        keys = jax.random.split(key, len(names))
        return {name: phases[name].init(params, k) for name, k in zip(names, keys)}

    def apply(params, state, task, hparams, key):
        hparams = named_hparams("sequence", names, hparams)
        keys = jax.random.split(key, len(names))
        new_state, metrics = {}, {}
        for name, k in zip(names, keys):
            params, new_state[name], metrics[name] = phases[name].apply(params, state[name], task, hparams[name], k)
        return params, new_state, metrics

    return Phase(init, apply)


def interleave(chunks: int, **phases: Phase) -> Phase:
    """Split each supervised task's data into ``chunks`` equal parts; on each apply the named phases in turn.

    E.g. ``interleave(4, wake=train, sleep=src)`` trains on a quarter of the task, sleeps, and so on.
    Hyperparameters as for :func:`sequence`; metrics are stacked over chunks.
    """
    if chunks < 1:
        raise ValueError(f"chunks must be at least 1, got {chunks}")
    inner = sequence(**phases)

    def apply(params, state, task: SupervisedTask, hparams, key):
        n = task.x.shape[0]
        if n % chunks:
            raise ValueError(f"a task of {n} examples cannot be split into {chunks} equal chunks")
        xs = task.x.reshape((chunks, n // chunks) + task.x.shape[1:])
        ys = task.y.reshape((chunks, n // chunks) + task.y.shape[1:])

        def body(carry, chunk):
            params, state = carry
            x, y, k = chunk
            params, state, m = inner.apply(params, state, task._replace(x=x, y=y), hparams, k)
            return (params, state), m

        (params, state), metrics = lax.scan(body, (params, state), (xs, ys, jax.random.split(key, chunks)))
        return params, state, metrics

    return Phase(inner.init, apply)


def _zeros_like_output(fn, *operands):
    """Zeros shaped like ``fn(*operands)``'s metrics, for branches that skip a phase."""
    shapes = jax.eval_shape(fn, *operands)
    return jax.tree.map(lambda s: jnp.zeros(s.shape, s.dtype), shapes)


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
            return operands[0], operands[1], _zeros_like_output(run, operands)[2]

        return lax.cond((task.index + 1) % n == 0, run, skip, (params, state))

    return Phase(phase.init, apply)


def by_task(*phases: Phase) -> Phase:
    """Apply ``phases[task.index]`` to task ``index`` (the last phase to any later task).

    For schedules whose treatment differs from task to task, e.g. ``by_task(train, sequence(train=...,
    sleep=...))``. All phases share one state and one hyperparameter pytree, so they must be built from
    the same sub-phases (or at least agree on those structures); their metrics may differ: each task's
    metrics hold every branch's metrics, zeros for the branches not taken.
    """
    if not phases:
        raise ValueError("by_task needs at least one phase")
    for i, phase in enumerate(phases):
        if not isinstance(phase, Phase):
            raise TypeError(f"by_task: phase {i} must be a sleepjax Phase, got {type(phase).__name__}")

    def init(params, key):
        return phases[0].init(params, key)

    def apply(params, state, task, hparams, key):
        def branch(i):
            def run(operands):
                return phases[i].apply(*operands, task, hparams, key)

            def taken(operands):
                params, state, metrics = run(operands)
                all_metrics = [
                    metrics if j == i else _zeros_like_output(run_j, operands)[2] for j, run_j in enumerate(runs)
                ]
                return params, state, tuple(all_metrics)

            return run, taken

        runs, branches = [], []
        for i in range(len(phases)):
            run, taken = branch(i)
            runs.append(run)
            branches.append(taken)
        index = jnp.minimum(task.index, len(phases) - 1)
        return lax.switch(index, branches, (params, state))

    return Phase(init, apply)
