"""A continual run: one ``lax.scan`` over tasks, applying a phase and the experiment's evaluation.

:func:`continual_run` applies a phase to each task in turn and, after each, calls the experiment's own
``evaluate``; for classification (:class:`~sleepjax.AccuracyEvaluator`) that yields the accuracy matrix
``R[i, j]``, for the foraging agent nothing (what it ate is in the phase metrics), for the sparse-coding
network its reconstruction scores. Tasks are any pytree with a leading task axis: a
:class:`~sleepjax.TaskStream` of datasets, a stack of environment blocks, a stack of patch sets. A run's
randomness derives from one key (:data:`KeySchedule`), so a run continued from its carry at task ``t``
draws what it would have drawn uninterrupted. Batches of runs are :mod:`sleepjax._engine`'s.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
from jax import lax

from sleepjax._phases import Phase
from sleepjax._typing import PRNGKey, PyTree

Evaluate = Callable[[PyTree, PRNGKey], PyTree]
"""``evaluate(params, key) -> pytree``: what the experiment measures after every task. An evaluator
whose attribute ``reads_state`` is true is called ``evaluate(params, key, state)`` with the phase state
(e.g. a classifier over a rehearsal memory's exemplars, :class:`~sleepjax.NearestMeanEvaluator`)."""

KeySchedule = Callable[[PRNGKey, jax.Array], tuple[jax.Array, jax.Array]]
"""``schedule(run_key, task_indices) -> (apply_keys, eval_keys)``: the keys of the given (absolute) task
indices, each with a leading task axis. Part of a run's random stream."""

MemberKeys = Callable[[jax.Array], tuple[PRNGKey, PRNGKey]]
"""``member_keys(seed) -> (params_key, run_key)``: how a batch member's seed becomes its keys."""


def fold_in_keys(run_key: PRNGKey, tasks: jax.Array) -> tuple[jax.Array, jax.Array]:
    """The default :data:`KeySchedule`: task ``t`` splits ``fold_in(run_key, t)`` into (apply, eval)."""
    keys = jax.vmap(lambda t: jax.random.split(jax.random.fold_in(run_key, t)))(tasks)
    return keys[:, 0], keys[:, 1]


def split_seed(seed: jax.Array) -> tuple[PRNGKey, PRNGKey]:
    """The default :data:`MemberKeys`: ``jax.random.split(jax.random.key(seed))``."""
    k_params, k_run = jax.random.split(jax.random.key(seed))
    return k_params, k_run


class Carry(NamedTuple):
    """What a run carries from task to task: the network's ``params`` and the phase ``state``."""

    params: PyTree
    state: PyTree


class Start(NamedTuple):
    """Where a batch of runs starts instead of at task 0 from ``make_params``: every member's ``params``
    (and ``state``; ``None`` lets the phase initialise it), each leaf with a leading member axis, and the
    index of the first task to run (a resumed run continues with the keys it would have had)."""

    params: PyTree
    state: PyTree | None = None
    task: int = 0


class RunResult(NamedTuple):
    """``evaluation``: the experiment's evaluation after each task, stacked (leading axis: tasks), e.g.
    accuracy ``(T, E)`` on eval task ``j`` after training task ``i``; ``metrics``: the phase metrics
    stacked over tasks; ``final``: the :class:`Carry` after the last task, where it was asked for."""

    evaluation: PyTree
    metrics: PyTree
    final: Carry | None = None


def num_tasks(tasks: PyTree) -> int:
    """Length of the leading task axis shared by every leaf of ``tasks``."""
    lengths = {jnp.shape(leaf)[0] if jnp.ndim(leaf) else None for leaf in jax.tree.leaves(tasks)}
    if len(lengths) != 1 or None in lengths:
        raise ValueError(f"every leaf of the tasks pytree needs the same leading task axis, got lengths {lengths}")
    return lengths.pop()


def task_at(tasks: PyTree, t: jax.Array) -> PyTree:
    """Task ``t`` as a phase sees it: ``tasks.at(t)`` where the stream defines it, else its slice."""
    at = getattr(tasks, "at", None)
    return at(t) if callable(at) else jax.tree.map(lambda a: a[t], tasks)


def continual_run(
    phase: Phase,
    params: PyTree,
    tasks: PyTree,
    evaluate: Evaluate,
    hparams: PyTree,
    key: PRNGKey,
    *,
    state: PyTree | None = None,
    first_task: int | jax.Array = 0,
    num: int | None = None,
    key_schedule: KeySchedule = fold_in_keys,
) -> RunResult:
    """Apply ``phase`` to tasks ``first_task .. first_task + num - 1`` of ``tasks`` in order, calling
    ``evaluate`` after each.

    Args:
        phase: the (composed) phase applied to each task.
        params: initial parameters (e.g. an equinox model).
        tasks: pytree whose leaves share a leading task axis ``T``; see :func:`task_at`.
        evaluate: ``evaluate(params, key) -> pytree`` (or ``(params, key, state)``, see :data:`Evaluate`),
            stacked over tasks in the result.
        hparams: the phase's hyperparameters (a pytree of arrays; may be traced, e.g. vmapped).
        key: PRNG key of the run; ``split(key)`` gives the phase's init key and the key every task's keys
            come from (:data:`KeySchedule`), so a run continued from ``first_task`` draws what it would have.
        state: the phase state to continue from (default: ``phase.init(params, init_key)``).
        first_task: index of the first task to run (``0``: the whole run).
        num: how many tasks to run (default: all from ``first_task`` on); a static integer.
        key_schedule: how each task's apply and evaluation keys derive from the run key.

    Returns:
        A :class:`RunResult` whose ``final`` is the carry after the last task run.
    """
    total = num_tasks(tasks)
    count = total - int(first_task) if num is None else int(num)
    tasks = jax.tree.map(jnp.asarray, tasks)
    k_init, k_run = jax.random.split(key)
    if state is None:
        state = phase.init(params, k_init)
    indices = first_task + jnp.arange(count)
    apply_keys, eval_keys = key_schedule(k_run, indices)

    # Only arrays are carried through the scan; the rest of the model (e.g. an equinox.nn.MLP's
    # activation function) is static.
    carry, static = eqx.partition((params, state), eqx.is_array)
    reads_state = bool(getattr(evaluate, "reads_state", False))

    def step(carry, inputs):
        t, k_apply, k_eval = inputs
        params, state = eqx.combine(carry, static)
        params, state, metrics = phase.apply(params, state, task_at(tasks, t), hparams, k_apply)
        evaluation = evaluate(params, k_eval, state) if reads_state else evaluate(params, k_eval)
        return eqx.filter((params, state), eqx.is_array), (evaluation, metrics)

    carry, (evaluation, metrics) = lax.scan(step, carry, (indices, apply_keys, eval_keys))
    return RunResult(evaluation, metrics, Carry(*eqx.combine(carry, static)))
