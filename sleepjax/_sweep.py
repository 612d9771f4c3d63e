"""Sweeps: every (configuration, seed) pair of a set of hyperparameter configurations as one program.

A configuration is a dict of dotted hyperparameter names (:func:`~sleepjax.hparam_names`) to values,
applied on top of a base hyperparameter pytree, e.g. ``{"sleep.src.inc": 0.02, "sleep.src.beta[1]": 30.0}``.
Sets of configurations come from :func:`grid` (every combination), :func:`random_configs` (draws from a
:data:`Space`) or an explicit list. :func:`sweep` checks every configuration before anything is
computed, flattens configurations x seeds into one batch and runs it with :func:`~sleepjax.run_batch`:
one jit-compiled, vmapped program, in chunks sized to a memory budget, each chunk split over all devices
along a 1-D ``jax.sharding`` mesh.

Results are a tidy table, one row per configuration x seed (hyperparameter values and the evaluator's
summary: for classification the final per-task accuracies, overall accuracy, BWT, forgetting). Finished
runs go into a store (:class:`~sleepjax.MemoryStore`, or the command line's JSON records) after every
chunk; given a store that already holds some, a sweep computes only the pairs that are missing.

The sweep knows no particular phase: every hyperparameter leaf must be finite, and any node of the
hyperparameter pytree with a ``check()`` method (e.g. :class:`~sleepjax.SRCPhaseHparams`) checks itself.

More than one machine: start every host with ``jax.distributed.initialize()`` (coordinator address,
number of processes and process id, or read from the cluster environment under SLURM/TPU pods) before
calling :func:`sweep`; ``jax.devices()`` then lists the devices of all hosts, and the mesh built by
:func:`~sleepjax.batch_mesh` spans them, so each host computes its share of every chunk. Every host runs
the same program and receives every result; let one host (``jax.process_index() == 0``) write files.
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

import jax
import numpy as np

from sleepjax import _hparams as hp
from sleepjax._chunking import batch_mesh, chunk_members, member_bytes
from sleepjax._continual import Evaluate
from sleepjax._engine import check_seeds, run_batch
from sleepjax._evaluate import summary_of
from sleepjax._store import MemoryStore, RunStore, finished

Config = Mapping[str, Any]


class SweepSetup(NamedTuple):
    """What every configuration of a sweep shares: the phase, the initial model, tasks and evaluation
    (as for :func:`~sleepjax.run_seeds`)."""

    phase: Any
    make_params: Callable[[jax.Array], Any]
    tasks: Any
    evaluate: Evaluate


# --- configuration sets ---------------------------------------------------------------------------


class Uniform(NamedTuple):
    """Values uniform in ``[low, high]``."""

    low: float
    high: float

    def from_unit(self, u: float) -> float:
        return float(self.low + u * (self.high - self.low))

    def to_unit(self, value: float) -> float:
        return (value - self.low) / (self.high - self.low)


class LogUniform(NamedTuple):
    """Values whose logarithm is uniform in ``[log low, log high]`` (rates, scales); ``low > 0``."""

    low: float
    high: float

    def from_unit(self, u: float) -> float:
        return float(math.exp(math.log(self.low) + u * (math.log(self.high) - math.log(self.low))))

    def to_unit(self, value: float) -> float:
        return (math.log(value) - math.log(self.low)) / (math.log(self.high) - math.log(self.low))


class IntUniform(NamedTuple):
    """Integers uniform in ``low .. high`` (inclusive), e.g. sleep lengths."""

    low: int
    high: int

    def from_unit(self, u: float) -> int:
        return int(min(self.high, self.low + math.floor(u * (self.high - self.low + 1))))

    def to_unit(self, value: float) -> float:
        return (value - self.low + 0.5) / (self.high - self.low + 1)


Dimension = Uniform | LogUniform | IntUniform
Space = Mapping[str, Dimension]
"""A search space: dotted hyperparameter name -> :class:`Uniform`, :class:`LogUniform` or
:class:`IntUniform`."""


def check_space(space: Space, base) -> None:
    """Refuse unknown names and empty or inverted ranges (``ValueError`` naming the hyperparameter)."""
    if not space:
        raise ValueError("the search space is empty")
    for name, dim in space.items():
        hp.parse_name(name, base)
        if not isinstance(dim, Uniform | LogUniform | IntUniform):
            raise ValueError(f"search space {name}: expected Uniform, LogUniform or IntUniform, got {dim!r}")
        if not (math.isfinite(dim.low) and math.isfinite(dim.high) and dim.low < dim.high):
            raise ValueError(f"search space {name}: need finite low < high, got {dim.low}, {dim.high}")
        if isinstance(dim, LogUniform) and dim.low <= 0:
            raise ValueError(f"search space {name}: a log-uniform range needs low > 0, got {dim.low}")


def from_unit(space: Space, u) -> dict:
    """The configuration at point ``u`` of the unit cube (one coordinate per dimension, clipped)."""
    u = np.clip(np.asarray(u, dtype=np.float64), 0.0, 1.0)
    return {name: dim.from_unit(float(x)) for (name, dim), x in zip(space.items(), u)}


def grid(axes: Mapping[str, Sequence]) -> list[dict]:
    """Every combination of the values of ``axes`` (name -> values), the last name varying fastest."""
    if not axes or any(len(v) == 0 for v in axes.values()):
        raise ValueError("a grid needs at least one name with at least one value")
    names = list(axes)
    return [dict(zip(names, combo)) for combo in itertools.product(*(axes[n] for n in names))]


def random_configs(space: Space, n: int, seed: int) -> list[dict]:
    """``n`` configurations drawn independently from ``space`` with NumPy's generator seeded by ``seed``."""
    rng = np.random.default_rng(seed)
    return [from_unit(space, rng.uniform(size=len(space))) for _ in range(n)]


# --- validation -----------------------------------------------------------------------------------


def build_configs(base, configs: Sequence[Config], validate: Callable[[Any], None] | None = None) -> list:
    """The hyperparameter pytree of every configuration, all checked before any computation.

    Each configuration is applied to ``base`` by name (:func:`~sleepjax.set_hparams`); then every leaf
    must be finite, every node with a ``check()`` method must pass it (:func:`~sleepjax._hparams.check_nodes`), and
    ``validate(hparams)`` (if given) must not raise. Raises ``ValueError`` naming the configuration index
    and the offending hyperparameter.
    """
    if len(configs) == 0:
        raise ValueError("a sweep needs at least one configuration")
    out = []
    for i, config in enumerate(configs):
        try:
            if not isinstance(config, Mapping):
                raise ValueError(f"expected a dict of hyperparameter names to values, got {type(config).__name__}")
            tree = hp.set_hparams(base, config)
            for name, leaf in hp.hparam_names(tree).items():
                if not np.all(np.isfinite(np.asarray(leaf, dtype=np.float64))):
                    raise ValueError(f"hyperparameter {name} must be finite, got {np.asarray(leaf).tolist()}")
            hp.check_nodes(tree)
            if validate is not None:
                validate(tree)
        except ValueError as err:
            raise ValueError(
                f"configuration {i} {dict(config) if isinstance(config, Mapping) else ''}: {err}"
            ) from None
        out.append(tree)
    return out


# --- results --------------------------------------------------------------------------------------


class SweepResult(NamedTuple):
    """``rows``: one dict per (configuration, seed), configuration-major; ``store``: the finished runs
    (group ``str(i)`` for configuration ``i``); ``chunk_size``: members per compiled call."""

    rows: list[dict]
    store: RunStore
    chunk_size: int


def run_configs(
    setup: SweepSetup,
    trees: Sequence,
    seeds: Sequence[int],
    store: RunStore,
    groups: Sequence[str],
    *,
    chunk_size: int | None = None,
    memory_budget: int | None = None,
    devices=None,
    progress: bool = True,
    description: str = "sweep",
    on_chunk_end: Callable[[], None] | None = None,
) -> int:
    """Run every (configuration ``trees[i]``, seed) pair not yet in ``store``'s group ``groups[i]``, and
    store each run (``evaluation``, ``seconds``, ``chunk_size``) as its chunk finishes, saving the store
    and then calling ``on_chunk_end()``. Returns the members per compiled call.

    The missing pairs, configuration-major, form one flat batch for :func:`~sleepjax.run_batch`;
    ``chunk_size`` and ``memory_budget`` as there (:func:`~sleepjax._chunking.chunk_members`).
    """
    seeds = [int(s) for s in check_seeds(seeds)]
    todo = [(i, s) for i, g in enumerate(groups) for s in seeds if s not in finished(store, g)]
    num_devices = batch_mesh(devices).devices.size

    def estimate() -> int:
        return member_bytes(setup.phase, setup.make_params, setup.tasks, setup.evaluate, trees[0])

    chunk = chunk_members(max(1, len(todo)), num_devices, chunk_size, memory_budget, estimate)
    if not todo:
        return chunk
    clock = [time.perf_counter()]

    def store_chunk(members, result):
        seconds = (time.perf_counter() - clock[0]) / len(members)
        for k, m in enumerate(members):
            i, seed = todo[m]
            store.group(groups[i])["runs"][str(seed)] = {
                "evaluation": jax.tree.map(lambda a, k=k: np.asarray(a[k]).tolist(), result.evaluation),
                "seconds": seconds,
                "chunk_size": chunk,
            }
        store.save()
        clock[0] = time.perf_counter()
        if on_chunk_end is not None:
            on_chunk_end()

    run_batch(
        setup.phase,
        setup.make_params,
        setup.tasks,
        setup.evaluate,
        hp.stack_hparams([trees[i] for i, _ in todo]),
        [s for _, s in todo],
        chunk_size=chunk,
        devices=devices,
        progress=description if progress else False,
        on_chunk_end=store_chunk,
    )
    return chunk


def table(store: RunStore, groups: Sequence[str], configs: Sequence[Config], seeds, summarize, base) -> list[dict]:
    """One row per (configuration, seed) present in ``store``: index, seed, the value of every
    hyperparameter that any configuration sets (``base``'s value where this one leaves it), and
    ``summarize(evaluation)``; so configurations that set different names (``{}``, the base itself,
    beside a tuned one) share the same columns."""
    names = list(dict.fromkeys(name for config in configs for name in config))
    rows = []
    for i, (group, config) in enumerate(zip(groups, configs)):
        runs = store.group(group)["runs"]
        values = {n: hp.to_json(config[n] if n in config else hp.get_hparam(base, n)) for n in names}
        for seed in seeds:
            if str(seed) not in runs:
                continue
            rows.append({"config": i, "seed": int(seed), **values, **summarize(runs[str(seed)]["evaluation"])})
    return rows


def sweep(
    setup: SweepSetup,
    base,
    configs: Sequence[Config],
    seeds: Sequence[int],
    *,
    store: RunStore | None = None,
    chunk_size: int | None = None,
    memory_budget: int | None = None,
    devices=None,
    validate: Callable[[Any], None] | None = None,
    summarize: Callable[[Any], dict] | None = None,
    progress: bool = True,
    on_chunk_end: Callable[[], None] | None = None,
) -> SweepResult:
    """Run every (configuration, seed) pair as one compiled, vmapped, sharded program; see the module
    docstring.

    Args:
        setup: the phase, initial model, tasks and evaluation shared by all configurations.
        base: the base hyperparameter pytree (e.g. ``{"sleep": SRCPhaseHparams(...)}``).
        configs: dicts of dotted names to values (:func:`grid`, :func:`random_configs`, or explicit).
        seeds: distinct seeds; every configuration runs every seed.
        store: where finished runs go (default: a new :class:`~sleepjax.MemoryStore`); pairs already in
            it are not run again.
        chunk_size: members per compiled call. Default: on an accelerator as many per device as fit
            ``memory_budget``; on the CPU one per device (one compiled program, reused), because there a
            vmapped batch of SRC sleeps measured slower than the same sleeps one after another
            (``benchmarks/bench_sweep.py``). An explicit ``memory_budget`` chunks to it on the CPU too.
        memory_budget: bytes per device for one chunk (default: half an accelerator's memory).
        devices: the devices to shard over (default: all).
        validate: an extra check of each configuration's hyperparameter pytree (raise ``ValueError``).
        summarize: one run's evaluation -> dict of row metrics (default: the evaluator's ``summary``).
        progress: show a progress bar.
        on_chunk_end: called after every chunk is stored (e.g. to stop there on Ctrl-C).

    Configurations and seeds are checked before anything is computed.
    """
    trees = build_configs(base, configs, validate)
    seeds = [int(s) for s in check_seeds(seeds)]
    store = MemoryStore() if store is None else store
    groups = [str(i) for i in range(len(configs))]
    for group, config in zip(groups, configs):
        store.group(group, values={name: hp.to_json(v) for name, v in config.items()})
    chunk = run_configs(
        setup,
        trees,
        seeds,
        store,
        groups,
        chunk_size=chunk_size,
        memory_budget=memory_budget,
        devices=devices,
        progress=progress,
        on_chunk_end=on_chunk_end,
    )
    rows = table(store, groups, configs, seeds, summarize or summary_of(setup.evaluate), base)
    return SweepResult(rows, store, chunk)


def summary_rows(rows: list[dict], names: Sequence[str], metric: str = "overall") -> list[dict]:
    """Mean and SD of ``metric`` over seeds for each configuration: ``{"config", names..., "seeds",
    "mean", "sd"}``, best mean first."""
    by_config: dict[int, list[dict]] = {}
    for row in rows:
        by_config.setdefault(row["config"], []).append(row)
    out = []
    for i, group in by_config.items():
        values = np.array([r[metric] for r in group], dtype=np.float64)
        sd = float(values.std(ddof=1)) if values.size > 1 else 0.0
        out.append(
            {
                "config": i,
                **{n: group[0][n] for n in names},
                "seeds": values.size,
                "mean": float(values.mean()),
                "sd": sd,
            }
        )
    return sorted(out, key=lambda r: -r["mean"])


__all__ = [
    "Dimension",
    "IntUniform",
    "LogUniform",
    "SweepSetup",
    "Space",
    "SweepResult",
    "Uniform",
    "build_configs",
    "check_space",
    "grid",
    "random_configs",
    "run_configs",
    "summary_rows",
    "sweep",
]
