"""Continual runs: one ``lax.scan`` over tasks, and ``vmap`` over seeds in one compiled program.

:func:`continual_run` applies a phase to each task in turn and, after each, calls the experiment's own
``evaluate``; for classification (:func:`accuracy_evaluator`) that yields the accuracy matrix
``R[i, j]``, for the foraging agent the score on each task, and so on. Tasks are any pytree with a
leading task axis: a :class:`~sleepjax.scenarios.TaskStream` of datasets, a stack of environment
specifications, a stack of patch sets. :func:`run_seeds` vmaps a run over seeds (each seed builds its own
initial parameters), compiles once and runs the seeds in chunks so that memory stays bounded; results
of a chunk are handed back as soon as it finishes. Both are :func:`run_batch`, which runs a flat batch
of (hyperparameters, seed) pairs sharded over devices; :mod:`sleepjax.sweep` builds on it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from sleepjax.phases import Phase
from sleepjax.scenarios import EvalSet

Evaluate = Callable[[Any, jax.Array], Any]
"""``evaluate(params, key) -> pytree``: what the experiment measures after every task."""


class RunResult(NamedTuple):
    """``evaluation``: the experiment's evaluation after each task, stacked (leading axis: tasks), e.g.
    accuracy ``(T, E)`` on eval task ``j`` after training task ``i``; ``metrics``: the phase metrics
    stacked over tasks."""

    evaluation: Any
    metrics: Any


class AccuracyEvaluator(eqx.Module):
    """``evaluate`` for classification: accuracy of the model on each eval task, predicting among that
    task's allowed classes (all classes in class-incremental scenarios).

    A pytree holding the test set, so that a compiled run receives the test arrays as arguments instead
    of baking them into the program as constants.
    """

    test: EvalSet

    def __init__(self, test: EvalSet):
        self.test = jax.tree.map(jnp.asarray, test)

    def __call__(self, model, key: jax.Array) -> jax.Array:
        del key

        def task_accuracy(x, y, mask, classes):
            out = jax.vmap(model)(x)
            pred = jnp.argmax(jnp.where(classes, out, -jnp.inf), axis=-1)
            return jnp.sum((pred == y) & mask) / jnp.maximum(mask.sum(), 1)

        t = self.test
        return jax.vmap(task_accuracy)(t.x, t.y, t.mask, t.classes)


def num_tasks(tasks) -> int:
    """Length of the leading task axis shared by every leaf of ``tasks``."""
    lengths = {jnp.shape(leaf)[0] if jnp.ndim(leaf) else None for leaf in jax.tree.leaves(tasks)}
    if len(lengths) != 1 or None in lengths:
        raise ValueError(f"every leaf of the tasks pytree needs the same leading task axis, got lengths {lengths}")
    return lengths.pop()


def task_at(tasks, t):
    """Task ``t`` as a phase sees it: ``tasks.at(t)`` where the stream defines it, else its slice."""
    at = getattr(tasks, "at", None)
    return at(t) if callable(at) else jax.tree.map(lambda a: a[t], tasks)


def continual_run(
    phase: Phase,
    params,
    tasks,
    evaluate: Evaluate,
    hparams,
    key: jax.Array,
    on_task_end: Callable[[int], None] | None = None,
) -> RunResult:
    """Apply ``phase`` to every task of ``tasks`` in order, calling ``evaluate`` after each.

    Args:
        phase: the (composed) phase applied to each task.
        params: initial parameters (e.g. an equinox model).
        tasks: pytree whose leaves share a leading task axis ``T``; see :func:`task_at`.
        evaluate: ``evaluate(params, key) -> pytree``, stacked over tasks in the result.
        hparams: the phase's hyperparameters (a pytree of arrays; may be traced, e.g. vmapped).
        key: PRNG key of the run.
        on_task_end: called on the host with the task index after each task (progress bars).
    """
    t_count = num_tasks(tasks)
    tasks = jax.tree.map(jnp.asarray, tasks)
    k_init, k_run = jax.random.split(key)
    state = phase.init(params, k_init)

    # Only arrays are carried through the scan; the rest of the model (e.g. an equinox.nn.MLP's
    # activation function) is static.
    carry, static = eqx.partition((params, state), eqx.is_array)

    def step(carry, t):
        params, state = eqx.combine(carry, static)
        k_apply, k_eval = jax.random.split(jax.random.fold_in(k_run, t))
        params, state, metrics = phase.apply(params, state, task_at(tasks, t), hparams, k_apply)
        evaluation = evaluate(params, k_eval)
        if on_task_end is not None:
            jax.debug.callback(on_task_end, t)
        return eqx.filter((params, state), eqx.is_array), (evaluation, metrics)

    _, (evaluation, metrics) = lax.scan(step, carry, jnp.arange(t_count))
    return RunResult(evaluation, metrics)


def resolve_chunk_size(chunk_size: int | None, num_runs: int) -> int:
    """Runs per compiled call: ``chunk_size`` capped at ``num_runs``; by default all runs on an
    accelerator and one on the CPU (see :func:`run_seeds`)."""
    if chunk_size is None:
        chunk_size = 1 if jax.default_backend() == "cpu" else num_runs
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be positive, got {chunk_size}")
    return min(int(chunk_size), num_runs)


def check_seeds(seeds, distinct: bool = True) -> np.ndarray:
    """``seeds`` as a 1-D int64 array of integers that ``jax.random.key`` takes as they are.

    Seeds are drawn as unsigned 32-bit values; anything outside ``0 .. 2**32 - 1`` would wrap around
    and could silently run the same seed twice, so it is refused. ``distinct=False`` allows repeats (a
    batch of (configuration, seed) pairs repeats each seed once per configuration).
    """
    values = list(seeds) if not isinstance(seeds, np.ndarray) else seeds.tolist()
    if not values:
        raise ValueError("seeds must be a non-empty list of integers")
    for s in values:
        if isinstance(s, bool) or not isinstance(s, int | np.integer):
            raise ValueError(f"seeds must be integers, got {s!r}")
        if not 0 <= int(s) < 2**32:
            raise ValueError(f"seed {s} is outside 0 .. 2**32 - 1 (seeds are unsigned 32-bit integers)")
    if distinct and len(set(int(s) for s in values)) != len(values):
        raise ValueError(f"seeds must be distinct, got {values}")
    return np.asarray(values, dtype=np.int64)


def batch_mesh(devices=None) -> jax.sharding.Mesh:
    """A 1-D mesh named ``"batch"`` over ``devices`` (default: every device of the default backend)."""
    devices = jax.devices() if devices is None else list(devices)
    return jax.sharding.Mesh(np.asarray(devices), ("batch",))


def batch_program(
    phase: Phase,
    make_params: Callable[[jax.Array], Any],
    mesh: jax.sharding.Mesh,
    *,
    hparams_batched: bool,
    on_task_end: Callable[[int], None] | None = None,
):
    """The compiled program of :func:`run_batch`: ``program(seeds, hparams, tasks, evaluate) -> RunResult``
    for one chunk, its members vmapped and split over ``mesh``'s ``"batch"`` axis with ``jax.shard_map``.

    ``seeds`` are ``uint32`` with a leading member axis, as are the leaves of ``hparams`` when
    ``hparams_batched``. Exposed so that tests can lower it and compare a sweep's program with a run's.
    """
    spec = jax.sharding.PartitionSpec("batch")
    replicated = jax.sharding.PartitionSpec()
    hp_spec = spec if hparams_batched else replicated

    @eqx.filter_jit
    def program(seeds, hparams, tasks, evaluate):
        # tasks, evaluate and hparams are arguments (not closed over) so their arrays stay inputs of the
        # program; non-array parts (functions, static fields) are static.
        arrays, static = eqx.partition((tasks, evaluate), eqx.is_array)

        def one(seed, hp, arrays):
            tasks, evaluate = eqx.combine(arrays, static)
            k_params, k_run = jax.random.split(jax.random.key(seed))
            return continual_run(phase, make_params(k_params), tasks, evaluate, hp, k_run, on_task_end)

        def local(seeds, hparams, arrays):
            return jax.vmap(one, in_axes=(0, 0 if hparams_batched else None, None))(seeds, hparams, arrays)

        specs = (spec, jax.tree.map(lambda _: hp_spec, hparams), jax.tree.map(lambda _: replicated, arrays))
        return jax.shard_map(local, mesh=mesh, in_specs=specs, out_specs=spec, check_vma=False)(seeds, hparams, arrays)

    return program


def run_batch(
    phase: Phase,
    make_params: Callable[[jax.Array], Any],
    tasks,
    evaluate: Evaluate,
    hparams,
    seeds,
    *,
    hparams_batched: bool = True,
    chunk_size: int | None = None,
    devices=None,
    on_task_end: Callable[[int], None] | None = None,
    on_chunk_end: Callable[[np.ndarray, RunResult], None] | None = None,
) -> RunResult:
    """Run a flat batch of ``(hyperparameters, seed)`` pairs as one compiled, vmapped program.

    Member ``i`` runs :func:`continual_run` from ``make_params(key_i)`` with seed ``seeds[i]`` and
    hyperparameters ``hparams[i]`` (every leaf of ``hparams`` has a leading axis of ``len(seeds)``), or
    the same ``hparams`` for all with ``hparams_batched=False``. :func:`run_seeds` (many seeds, one
    setting) and :func:`sleepjax.sweep.sweep` (configurations x seeds) are both this.

    The batch runs in chunks of ``chunk_size`` members (the last one padded by repeating its last member,
    so every chunk reuses the one compiled program). Each chunk is split over ``devices`` (default: all
    devices of the default backend) along a 1-D mesh axis ``"batch"`` with ``jax.shard_map``: every
    device runs its own members, vmapped, with no communication; the chunk size is rounded up to a
    multiple of the device count; each member's seed and hyperparameters are placed on its device with a
    ``NamedSharding`` of that mesh. Tasks and the evaluation data are replicated on every device.

    Args:
        phase, make_params, tasks, evaluate: as for :func:`run_seeds`.
        hparams: the phase hyperparameters, batched (leading axis ``len(seeds)``) unless
            ``hparams_batched=False``.
        seeds: integers in ``0 .. 2**32 - 1`` (repeats allowed), seed ``s`` uses ``jax.random.key(s)``.
        chunk_size: members per compiled call (default: :func:`resolve_chunk_size`).
        devices: the devices to shard each chunk over.
        on_task_end: host callback after each task of each chunk.
        on_chunk_end: ``on_chunk_end(member_indices, chunk_result)`` as each chunk finishes.

    Returns:
        A :class:`RunResult` with a leading member axis, as NumPy arrays.
    """
    seeds = check_seeds(seeds, distinct=False)
    n = seeds.size
    if hparams_batched:
        sizes = {np.shape(leaf)[0] if np.ndim(leaf) else None for leaf in jax.tree.leaves(hparams)}
        if sizes - {n}:
            raise ValueError(f"batched hparams need a leading axis of {n} (one entry per seed) on every leaf")
    mesh = batch_mesh(devices)
    num_devices = mesh.devices.size
    chunk = resolve_chunk_size(chunk_size, n)
    chunk = -(-chunk // num_devices) * num_devices
    batch_sharding = jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec("batch"))
    batched = batch_program(phase, make_params, mesh, hparams_batched=hparams_batched, on_task_end=on_task_end)

    results = []
    for start in range(0, n, chunk):
        members = np.arange(start, min(start + chunk, n))
        padded = np.concatenate([members, np.repeat(members[-1:], chunk - members.size)])
        chunk_hparams = jax.tree.map(lambda a, p=padded: np.asarray(a)[p], hparams) if hparams_batched else hparams
        # Each member's seed and hyperparameters go straight to the device that runs it.
        chunk_seeds = jax.device_put(np.asarray(seeds[padded], np.uint32), batch_sharding)
        if hparams_batched:
            chunk_hparams = jax.device_put(chunk_hparams, batch_sharding)
        out = batched(chunk_seeds, chunk_hparams, tasks, evaluate)
        out = jax.tree.map(lambda a, k=members.size: np.asarray(a)[:k], out)
        if on_chunk_end is not None:
            on_chunk_end(members, out)
        results.append(out)
    return jax.tree.map(lambda *parts: np.concatenate(parts), *results)


def run_seeds(
    phase: Phase,
    make_params: Callable[[jax.Array], Any],
    tasks,
    evaluate: Evaluate,
    hparams,
    seeds,
    chunk_size: int | None = None,
    on_task_end: Callable[[int], None] | None = None,
    on_chunk_end: Callable[[np.ndarray, RunResult], None] | None = None,
) -> RunResult:
    """Run the same continual-learning setup for several seeds, vmapped (:func:`run_batch` with one
    hyperparameter setting shared by all seeds, on one device).

    Args:
        phase: the composed phase applied to each task.
        make_params: builds the initial parameters from a PRNG key.
        tasks: the tasks (shared by all seeds, not copied per seed).
        evaluate: the experiment's evaluation, see :func:`continual_run`; best a pytree holding its data
            (like :class:`AccuracyEvaluator`), so that the data are inputs of the compiled program.
        hparams: phase hyperparameters, shared by all seeds.
        seeds: distinct integer seeds in ``0 .. 2**32 - 1``; seed ``s`` uses ``jax.random.key(s)`` for
            initialisation and the run.
        chunk_size: seeds per compiled call. The last chunk is padded so that every chunk reuses the
            one compiled program. Default: all seeds at once on an accelerator, one at a time on the
            CPU.
        on_task_end: host callback after each task of each chunk.
        on_chunk_end: called with ``(chunk_seeds, chunk_result)`` as each chunk finishes, so a caller
            can save results before the next chunk starts.

    Returns:
        A :class:`RunResult` with a leading seed axis, as NumPy arrays.

    The same seed and chunk size always give the same numbers. Across chunk sizes a seed's numbers may
    agree only to rounding: batched and single matrix products sum in different orders, and over tens of
    thousands of sleep steps one flipped threshold crossing is enough to send a sleep elsewhere.
    """
    seeds = check_seeds(seeds)
    on_members = None if on_chunk_end is None else (lambda members, out: on_chunk_end(seeds[members], out))
    return run_batch(
        phase,
        make_params,
        tasks,
        evaluate,
        hparams,
        seeds,
        hparams_batched=False,
        chunk_size=chunk_size,
        devices=jax.devices()[:1],
        on_task_end=on_task_end,
        on_chunk_end=on_members,
    )
