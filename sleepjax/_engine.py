"""The run engine: a batch of continual runs (:func:`~sleepjax.continual_run`) as one compiled, vmapped,
sharded program.

:func:`run_batch` is the one engine every experiment, sweep and search runs through: a flat batch of
(hyperparameters, seed) members, vmapped and split over the devices of a 1-D mesh, in chunks that fit a
memory budget, and optionally in segments of tasks (each segment one compiled call) so that a long run
reports progress and can be checkpointed and resumed mid-way. :func:`run_seeds` is the common case of one
setting and many seeds.

No host callback runs inside a compiled program (progress is reported between calls), so JAX's
persistent compilation cache can keep the programs across invocations.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jax.experimental import multihost_utils
from tqdm.auto import tqdm

from sleepjax._chunking import batch_mesh, chunk_members, member_bytes
from sleepjax._continual import (
    Carry,
    Evaluate,
    KeySchedule,
    MemberKeys,
    RunResult,
    Start,
    continual_run,
    fold_in_keys,
    num_tasks,
    split_seed,
)
from sleepjax._hparams import check_nodes, key_name
from sleepjax._phases import Phase
from sleepjax._program_store import call_stored
from sleepjax._typing import PRNGKey, PyTree


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
    if distinct:
        repeated = [s for i, s in enumerate(values) if s in values[:i]]
        if repeated:
            raise ValueError(f"seeds must be distinct: {values} lists seed {repeated[0]} twice")
    return np.asarray(values, dtype=np.int64)


def batch_program(
    phase: Phase,
    make_params: Callable[[PRNGKey], PyTree] | None,
    mesh: jax.sharding.Mesh,
    *,
    hparams_batched: bool,
    num: int,
    key_schedule: KeySchedule = fold_in_keys,
    keep_final: bool = False,
    constants: PyTree | None = None,
):
    """The compiled program of :func:`run_batch` for one chunk and one segment of ``num`` tasks:
    ``program(keys, hparams, tasks, evaluate, start_params, start_state, first_task) -> RunResult``.

    ``keys`` is the raw data (``jax.random.key_data``) of every member's ``(params_key, run_key)``,
    stacked ``(2, members, ...)``; members are vmapped and split over ``mesh``'s ``"batch"`` axis with
    ``jax.shard_map``. The leaves of ``hparams`` have a leading member axis when ``hparams_batched``, as
    do those of ``start_params`` / ``start_state`` when given (``None``: built by ``make_params`` /
    ``phase.init``). The keys being inputs, one program serves every seed and every stage of an
    experiment. Programs are cached by their arguments (the same phase object, the same program).
    ``constants``: hyperparameters baked into the program instead (the ``hparams`` argument is then
    ``None``; see :func:`run_batch`'s ``constant_hparams``).
    Exposed so that tests can lower it and compare, e.g., a sweep's program with a run's.
    """
    frozen = None if constants is None else Frozen(constants)
    return _program(phase, make_params, mesh, hparams_batched, int(num), key_schedule, keep_final, frozen)


class Frozen:
    """A pytree of numbers as a hashable value (equal when its structure and every value are), so that
    hyperparameters baked into a program can key the program cache."""

    def __init__(self, tree: PyTree):
        self.tree = tree
        leaves, treedef = jax.tree.flatten(tree)
        arrays = [np.asarray(leaf) for leaf in leaves]
        self._key = (treedef, tuple((a.dtype.str, a.shape, a.tobytes()) for a in arrays))

    def __hash__(self) -> int:
        return hash(self._key)

    def __eq__(self, other) -> bool:
        return isinstance(other, Frozen) and self._key == other._key


@functools.lru_cache(maxsize=64)
def _program(phase, make_params, mesh, hparams_batched, num, key_schedule, keep_final, frozen):
    constants = None if frozen is None else frozen.tree
    spec = jax.sharding.PartitionSpec("batch")
    replicated = jax.sharding.PartitionSpec()

    @eqx.filter_jit
    def program(keys, hparams, tasks, evaluate, start_params, start_state, first_task):
        # tasks, evaluate and hparams are arguments (not closed over) so their arrays stay inputs of the
        # program; non-array parts (functions, static fields) are static.
        shared, shared_static = eqx.partition((tasks, evaluate), eqx.is_array)
        start, start_static = eqx.partition((start_params, start_state), eqx.is_array)

        static_final = {}  # the non-array part of the final carry, known when tracing

        def one(keys, hp, start, shared, first_task):
            hp = constants if constants is not None else hp
            tasks, evaluate = eqx.combine(shared, shared_static)
            params, state = eqx.combine(start, start_static)
            k_params, k_run = (jax.random.wrap_key_data(k) for k in keys)
            if params is None:
                params = make_params(k_params)
            result = continual_run(
                phase, params, tasks, evaluate, hp, k_run,
                state=state, first_task=first_task, num=num, key_schedule=key_schedule,
            )  # fmt: skip
            final = None
            if keep_final:
                final, static_final["carry"] = eqx.partition(result.final, eqx.is_array)
            return RunResult(result.evaluation, result.metrics, final)

        def local(keys, hparams, start, shared, first_task):
            axes = (1, 0 if hparams_batched else None, 0, None, None)
            return jax.vmap(one, in_axes=axes)(keys, hparams, start, shared, first_task)

        hp_spec = spec if hparams_batched else replicated
        specs = (
            jax.sharding.PartitionSpec(None, "batch"),
            jax.tree.map(lambda _: hp_spec, hparams),
            jax.tree.map(lambda _: spec, start),
            jax.tree.map(lambda _: replicated, shared),
            replicated,
        )
        shard = jax.shard_map(local, mesh=mesh, in_specs=specs, out_specs=spec, check_vma=False)
        out = shard(keys, hparams, start, shared, first_task)
        if keep_final:  # whole models again (e.g. an MLP's activation), so a next segment can start from them
            out = out._replace(final=Carry(*eqx.combine(out.final, static_final["carry"])))
        return out

    return program


def member_key_data(seeds: np.ndarray, member_keys: MemberKeys = split_seed) -> np.ndarray:
    """The raw key data ``(2, members, ...)`` of every member's ``(params_key, run_key)``."""
    k_params, k_run = jax.vmap(member_keys)(jnp.asarray(seeds, jnp.uint32))
    return np.stack([np.asarray(jax.random.key_data(k_params)), np.asarray(jax.random.key_data(k_run))])


def _take(tree, rows, placed):
    """``tree``'s rows ``rows`` of every array (NumPy), placed on ``placed``'s sharding; the non-array
    parts (an MLP's activation function) stay as they are; ``None`` stays ``None``."""
    if tree is None:
        return None
    arrays, static = eqx.partition(tree, eqx.is_array)
    return eqx.combine(jax.device_put(jax.tree.map(lambda a: np.asarray(a)[rows], arrays), placed), static)


def run_batch(
    phase: Phase,
    make_params: Callable[[PRNGKey], PyTree] | None,
    tasks: PyTree,
    evaluate: Evaluate,
    hparams: PyTree,
    seeds,
    *,
    hparams_batched: bool = True,
    chunk_size: int | None = None,
    memory_budget: int | None = None,
    devices=None,
    start: Start | None = None,
    segment: int | None = None,
    member_keys: MemberKeys = split_seed,
    key_schedule: KeySchedule = fold_in_keys,
    keep_final: bool = False,
    constant_hparams: bool = False,
    progress: bool | str = False,
    on_segment_end: Callable[[np.ndarray, int, RunResult], None] | None = None,
    on_chunk_end: Callable[[np.ndarray, RunResult], None] | None = None,
) -> RunResult:
    """Run a flat batch of ``(hyperparameters, seed)`` members as one compiled, vmapped, sharded program.

    Member ``i`` runs :func:`continual_run` with seed ``seeds[i]`` (``member_keys`` turns it into the key
    of its initial parameters, ``make_params(key)``, and of its run) and hyperparameters ``hparams[i]``
    (every leaf of ``hparams`` has a leading axis of ``len(seeds)``), or the same ``hparams`` for all with
    ``hparams_batched=False``. :func:`run_seeds` (many seeds, one setting), :func:`sleepjax.sweep`
    (configurations x seeds) and every experiment of the command line are this.

    The batch runs in chunks of members (``chunk_size``, or as many as fit ``memory_budget``: see
    :func:`chunk_members`; the last chunk padded by repeating its last member, so every chunk reuses the
    one compiled program). Each chunk is split over ``devices`` (default: all devices of the default
    backend) along a 1-D mesh axis ``"batch"`` with ``jax.shard_map``: every device runs its own members,
    vmapped, with no communication; each member's seed, hyperparameters and start are placed on its
    device with a ``NamedSharding`` of that mesh. Tasks and the evaluation data are replicated.

    Args:
        phase: the (composed) phase applied to each task.
        make_params: builds a member's initial parameters from its key (may be ``None`` when ``start``
            gives the parameters).
        tasks: the tasks, shared by every member.
        evaluate: the experiment's evaluation after each task (see :func:`continual_run`).
        hparams: the phase hyperparameters, batched (leading axis ``len(seeds)``) unless
            ``hparams_batched=False``.
        seeds: integers in ``0 .. 2**32 - 1`` (repeats allowed).
        chunk_size: members per compiled call (see :func:`chunk_members`).
        memory_budget: bytes per device one chunk may use, when ``chunk_size`` is not given.
        devices: the devices to shard each chunk over.
        start: start every member from given parameters (and state), at a given task, instead of at
            task 0 from ``make_params`` (a later stage of an experiment, or a resumed run).
        segment: run the tasks in segments of this many (each one compiled call, the carry passing
            through the host between them), for progress and checkpoints of long runs. The numbers are
            those of an unsegmented run. Default: all tasks in one call.
        member_keys: how a seed becomes the member's keys (:data:`MemberKeys`).
        key_schedule: how the run key becomes every task's keys (:data:`KeySchedule`).
        keep_final: also return every member's final :class:`Carry` (as NumPy arrays).
        constant_hparams: bake the shared (unbatched) ``hparams`` into the program as constants rather
            than pass them as an input: XLA may then fold them, one program is compiled per setting, and
            the compiled program is kept for equal values. The foraging experiment's records were made so;
            in chaotic dynamics the rounding of folded constants shows.
        progress: show a progress bar over chunks and segments (a string: its label).
        on_segment_end: ``on_segment_end(member_indices, next_task, result_so_far)`` after every segment
            of a chunk but its last; ``result_so_far`` holds the chunk's tasks run so far and its carry.
        on_chunk_end: ``on_chunk_end(member_indices, chunk_result)`` as each chunk finishes.

    Returns:
        A :class:`RunResult` with a leading member axis, as NumPy arrays (tasks from ``start.task`` on).
    """
    seeds = check_seeds(seeds, distinct=False)
    n = seeds.size
    _check_members("hparams", hparams, n, hparams_batched)
    check_nodes(hparams)
    if constant_hparams and hparams_batched:
        raise ValueError("constant_hparams needs hparams shared by every member (hparams_batched=False)")
    first = 0 if start is None else int(start.task)
    if start is not None:
        _check_members("start", eqx.filter((start.params, start.state), eqx.is_array), n, True)
    elif make_params is None:
        raise ValueError("run_batch needs make_params, or a start with every member's parameters")
    total = num_tasks(tasks)
    if not 0 <= first < total:
        raise ValueError(f"start.task {first} is outside the {total} tasks")
    length = total - first if segment is None else int(segment)
    if length < 1:
        raise ValueError(f"segment must be a positive number of tasks, got {segment}")
    mesh = batch_mesh(devices)
    num_devices = mesh.devices.size

    def estimate():
        one_hp = hparams if not hparams_batched else jax.tree.map(lambda a: np.asarray(a)[0], hparams)
        return member_bytes(phase, make_params, tasks, evaluate, one_hp) if make_params is not None else 0

    chunk = chunk_members(n, num_devices, chunk_size, memory_budget, estimate)
    placed = jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec("batch"))
    bounds = list(range(first, total, length)) + [total]
    segments = list(zip(bounds[:-1], bounds[1:]))
    # The carry leaves the program only where it is needed: between segments, or when asked for.
    carried = keep_final or len(segments) > 1
    keys = member_key_data(seeds, member_keys)
    keys_placed = jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec(None, "batch"))

    constants = hparams if constant_hparams else None

    def call(num, *args):
        """The program of ``num`` tasks on ``args``, through the program store when one is in use (what
        the program is built from is its identity there)."""
        settings = dict(
            hparams_batched=hparams_batched, num=num, key_schedule=key_schedule, keep_final=carried,
            constants=constants,
        )  # fmt: skip
        program = batch_program(phase, make_params, mesh, **settings)
        return call_stored(program, (phase, make_params, mesh, settings), args)

    label = progress if isinstance(progress, str) else "runs"
    bar = tqdm(total=-(-n // chunk) * len(segments), desc=f"{label} ({n})", unit="call", disable=not progress)
    results = []
    try:
        for begin in range(0, n, chunk):
            members = np.arange(begin, min(begin + chunk, n))
            rows = np.concatenate([members, np.repeat(members[-1:], chunk - members.size)])
            chunk_keys = jax.device_put(keys[:, rows], keys_placed)
            chunk_hparams = _take(hparams, rows, placed) if hparams_batched else hparams
            chunk_hparams = None if constant_hparams else chunk_hparams
            params = None if start is None else _take(start.params, rows, placed)
            state = None if start is None else _take(start.state, rows, placed)
            parts = []
            for a, b in segments:
                out = call(b - a, chunk_keys, chunk_hparams, tasks, evaluate, params, state, jnp.int32(a))
                if carried:
                    params, state = out.final
                parts.append(jax.tree.map(lambda x, k=members.size: to_host(x)[:k], out[:2]))
                raise_invalid(parts[-1][1], seeds[members])
                bar.update(1)
                if b < total and on_segment_end is not None:
                    on_segment_end(members, b, _joined(parts, out.final, members.size))
            result = _joined(parts, out.final if keep_final else None, members.size)
            if on_chunk_end is not None:
                on_chunk_end(members, result)
            results.append(result)
    finally:
        bar.close()
    evaluation, metrics = jax.tree.map(lambda *chunks: np.concatenate(chunks), *[r[:2] for r in results])
    final = None
    if keep_final:  # every member's arrays, concatenated; the static parts (functions) are the same for all
        finals = [tuple(r.final) for r in results]
        final = Carry(*jax.tree.map(lambda *xs: np.concatenate(xs) if eqx.is_array(xs[0]) else xs[0], *finals))
    return RunResult(evaluation, metrics, final)


def to_host(x: jax.Array) -> np.ndarray:
    """``x`` as a NumPy array on this host; a result sharded over several hosts is gathered from all of
    them first (every host then holds every member's result)."""
    if getattr(x, "is_fully_addressable", True):
        return np.asarray(x)
    return np.asarray(multihost_utils.process_allgather(x, tiled=True))


def raise_invalid(metrics: PyTree, seeds: np.ndarray) -> None:
    """Raise ``ValueError`` when a phase metric named ``invalid`` (leading axis: members) is true for some
    member: a phase's way to report, from inside a compiled program, a value that broke its rule (e.g.
    :attr:`~sleepjax.SleepStats.invalid`), since no host callback runs there."""
    for path, leaf in jax.tree_util.tree_flatten_with_path(metrics)[0]:
        if not path or key_name(path[-1]) != "invalid":
            continue
        bad = np.asarray(leaf).reshape(len(seeds), -1).any(axis=1)
        if bad.any():
            where = ".".join(key_name(k) for k in path)
            raise ValueError(
                f"phase metric {where} reports a hyperparameter, input or length that breaks its rule, for "
                f"seed(s) {', '.join(str(int(s)) for s in seeds[bad])}; check the values eagerly (outside jit) "
                "to see which"
            )


def _joined(parts, final, size) -> RunResult:
    """One chunk's result from its segments' (evaluation, metrics), with ``final`` (or ``None``) as NumPy."""
    evaluation, metrics = jax.tree.map(lambda *xs: np.concatenate(xs, axis=1), *parts)
    if final is not None:
        final = Carry(*jax.tree.map(lambda x: to_host(x)[:size] if eqx.is_array(x) else x, tuple(final)))
    return RunResult(evaluation, metrics, final)


def _check_members(what: str, tree, n: int, batched: bool) -> None:
    if not batched:
        return
    sizes = {np.shape(leaf)[0] if np.ndim(leaf) else None for leaf in jax.tree.leaves(tree)}
    if sizes - {n}:
        raise ValueError(f"batched {what} need a leading axis of {n} (one entry per member) on every leaf")


def run_seeds(
    phase: Phase,
    make_params: Callable[[PRNGKey], PyTree],
    tasks: PyTree,
    evaluate: Evaluate,
    hparams: PyTree,
    seeds,
    *,
    chunk_size: int | None = None,
    progress: bool | str = False,
    on_chunk_end: Callable[[np.ndarray, RunResult], None] | None = None,
    **options,
) -> RunResult:
    """Run the same continual-learning setup for several seeds, vmapped: :func:`run_batch` with one
    hyperparameter setting shared by all seeds, on one device.

    Args:
        phase: the composed phase applied to each task.
        make_params: builds the initial parameters from a PRNG key.
        tasks: the tasks (shared by all seeds, not copied per seed).
        evaluate: the experiment's evaluation, see :func:`continual_run`; best a pytree holding its data
            (like :class:`~sleepjax.AccuracyEvaluator`), so that the data are inputs of the compiled program.
        hparams: phase hyperparameters, shared by all seeds.
        seeds: distinct integer seeds in ``0 .. 2**32 - 1``; seed ``s`` uses ``jax.random.key(s)`` for
            initialisation and the run.
        chunk_size: seeds per compiled call (default: one on the CPU; as many as fit half an
            accelerator's memory there). The last chunk is padded so every chunk reuses one program.
        progress: show a progress bar (a string: its label).
        on_chunk_end: called with ``(chunk_seeds, chunk_result)`` as each chunk finishes, so a caller
            can save results before the next chunk starts.
        options: further keywords of :func:`run_batch` (``segment``, ``start``, ``keep_final``, ...).

    Returns:
        A :class:`RunResult` with a leading seed axis, as NumPy arrays.

    The same seed and chunk size give the same numbers on the same kind of processor (XLA compiles for the
    host's vector extensions, which round differently). Across chunk sizes a seed's numbers may
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
        devices=options.pop("devices", jax.devices()[:1]),
        progress=progress,
        on_chunk_end=on_members,
        **options,
    )
