"""Sweeps: every (configuration, seed) pair of a set of hyperparameter configurations as one program.

A configuration is a dict of dotted hyperparameter names (:mod:`sleepjax.hparams`) to values, applied
on top of a base hyperparameter pytree, e.g. ``{"sleep.src.inc": 0.02, "sleep.src.beta[1]": 30.0}``.
Sets of configurations come from :func:`grid` (every combination), :func:`random_configs` (draws from
a :data:`Space`) or an explicit list. :func:`sweep` checks every configuration before anything is
computed, flattens configurations x seeds into one batch and runs it with
:func:`sleepjax.run.run_batch`: one jit-compiled, vmapped program, in chunks sized to a memory budget,
each chunk split over all devices along a 1-D ``jax.sharding`` mesh.

Results are a tidy table, one row per configuration x seed (hyperparameter values, final per-task
accuracies, overall accuracy, BWT, forgetting), written as CSV and JSON next to a resumable record
(:mod:`sleepjax.record`): each finished chunk is saved at once, and rerunning the same sweep computes
only the pairs that are missing.

More than one machine: start every host with ``jax.distributed.initialize()`` (coordinator address,
number of processes and process id, or read from the cluster environment under SLURM/TPU pods) before
calling :func:`sweep`; ``jax.devices()`` then lists the devices of all hosts, and the mesh built by
:func:`sleepjax.run.batch_mesh` spans them, so each host computes its share of every chunk. Every host
runs the same program; give ``out`` only on process 0 (``jax.process_index() == 0``) so that a single
host writes the record.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import math
import os
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import equinox as eqx
import jax
import numpy as np
from tqdm.auto import tqdm

from sleepjax import hparams as hp
from sleepjax import metrics
from sleepjax.interrupt import check_stop
from sleepjax.record import Record, check_writable, is_number, require, write_atomic, write_text_atomic
from sleepjax.run import AccuracyEvaluator, Evaluate, batch_mesh, check_seeds, run_batch
from sleepjax.sleep.mlp import SRCPhaseHparams
from sleepjax.sleep.src import check_hparams

EXPERIMENT = "sweep"
Config = Mapping[str, Any]


class Setup(NamedTuple):
    """What every configuration of a sweep shares: the phase, the initial model, tasks and evaluation
    (as for :func:`sleepjax.run.run_seeds`)."""

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


def _is_src(node) -> bool:
    return isinstance(node, SRCPhaseHparams)


def check_src(hparams, num_layers: int | None = None) -> None:
    """Check every :class:`SRCPhaseHparams` inside ``hparams`` (NaN, negative rates, thresholds per layer,
    sleep lengths); ``ValueError`` naming the node's dotted path and the field."""
    nodes, _ = jax.tree_util.tree_flatten_with_path(hparams, is_leaf=_is_src)
    for path, node in nodes:
        if not _is_src(node):
            continue
        where = ".".join(hp._key_name(k) for k in path) or "(top level)"
        layers = num_layers if num_layers is not None else int(np.size(node.src.beta))
        try:
            check_hparams(node.src, layers)
        except ValueError as err:
            raise ValueError(f"{where}.src: {err}") from None
        for field in ("base_steps", "steps_per_task"):
            value = np.asarray(getattr(node, field))
            if not np.all(value >= 0):
                raise ValueError(f"{where}.{field}: SRC sleep length must be non-negative, got {value}")


def network_layers(make_params) -> int | None:
    """Number of weight layers of the initial model if it is a layered network (``.layers``), else None."""
    shapes = eqx.filter_eval_shape(make_params, jax.random.key(0))
    layers = getattr(shapes, "layers", None)
    return len(layers) if layers is not None else None


def build_configs(base, configs: Sequence[Config], make_params=None, validate=None) -> list:
    """The hyperparameter pytree of every configuration, all checked before any computation.

    Each configuration is applied to ``base`` by name (:func:`sleepjax.hparams.set_values`); then every
    leaf must be finite, every SRC node must pass :func:`check_src` (thresholds: one per layer of the
    network ``make_params`` builds), and ``validate(hparams)`` (if given) must not raise. Raises
    ``ValueError`` naming the configuration index and the offending hyperparameter.
    """
    if len(configs) == 0:
        raise ValueError("a sweep needs at least one configuration")
    layers = network_layers(make_params) if make_params is not None else None
    out = []
    for i, config in enumerate(configs):
        try:
            if not isinstance(config, Mapping):
                raise ValueError(f"expected a dict of hyperparameter names to values, got {type(config).__name__}")
            tree = hp.set_values(base, config)
            for name, leaf in hp.leaf_names(tree).items():
                if not np.all(np.isfinite(np.asarray(leaf, dtype=np.float64))):
                    raise ValueError(f"hyperparameter {name} must be finite, got {np.asarray(leaf).tolist()}")
            check_src(tree, layers)
            if validate is not None:
                validate(tree)
        except ValueError as err:
            raise ValueError(
                f"configuration {i} {dict(config) if isinstance(config, Mapping) else ''}: {err}"
            ) from None
        out.append(tree)
    return out


# --- chunking -------------------------------------------------------------------------------------


def default_memory_budget() -> int:
    """Bytes a sweep chunk may use: half an accelerator's memory, or a quarter of the host's RAM."""
    stats = jax.devices()[0].memory_stats() or {}
    if "bytes_limit" in stats:
        return int(stats["bytes_limit"] // 2)
    return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 4)


def member_bytes(setup: Setup, hparams) -> int:
    """Estimated memory of one (configuration, seed) member of a batch.

    The compiled program's own figure for one run (temporaries and outputs) where the backend reports
    one, but at least 8 copies of the model's parameters (parameters, gradients, optimizer moments and
    the copies a sleep updates in place), since the CPU backend under-reports temporaries.
    """
    params = eqx.filter_eval_shape(setup.make_params, jax.random.key(0))
    param_bytes = sum(leaf.size * leaf.dtype.itemsize for leaf in jax.tree.leaves(params) if hasattr(leaf, "size"))
    reported = 0
    try:
        from sleepjax.run import continual_run

        @eqx.filter_jit
        def one(tasks, evaluate, hparams):
            key = jax.random.key(0)
            return continual_run(setup.phase, setup.make_params(key), tasks, evaluate, hparams, key)

        stats = one.lower(setup.tasks, setup.evaluate, hparams).compile().memory_analysis()
        reported = int(stats.temp_size_in_bytes + stats.output_size_in_bytes) if stats is not None else 0
    except (AttributeError, NotImplementedError):  # backends without a memory analysis
        reported = 0
    return max(reported, 8 * param_bytes)


def auto_chunk_size(setup: Setup, hparams, budget: int, num_devices: int) -> int:
    """Members per compiled call that fit ``budget`` bytes on each device (at least one per device)."""
    return max(1, budget // max(1, member_bytes(setup, hparams))) * num_devices


# --- results --------------------------------------------------------------------------------------


def accuracy_summary(test_sizes) -> Callable[[np.ndarray], dict]:
    """Row metrics of one run's accuracy matrix ``R (T, E)``: final per-task accuracies, overall
    (pooled over ``test_sizes``), average, and for square ``R`` BWT and forgetting in both conventions
    (:mod:`sleepjax.metrics`)."""
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


def default_summary(evaluate) -> Callable[[Any], dict]:
    """:func:`accuracy_summary` for an :class:`~sleepjax.run.AccuracyEvaluator`, else the final
    evaluation's entries as ``final_0, final_1, ...``."""
    if isinstance(evaluate, AccuracyEvaluator):
        return accuracy_summary(np.asarray(evaluate.test.mask).sum(axis=1))

    def summarize(evaluation) -> dict:
        final = np.ravel(np.asarray(jax.tree.leaves(evaluation)[0])[-1])
        return {f"final_{j}": float(v) for j, v in enumerate(final)}

    return summarize


class SweepResult(NamedTuple):
    """``rows``: one dict per (configuration, seed), configuration-major; ``record``: the record's JSON."""

    rows: list[dict]
    record: dict


def unit_checker(check_evaluation: Callable[[str, Any], None] | None = None):
    """Validation of one stored run (``evaluation``, ``seconds``, ``chunk_size``)."""

    def check(group: str, seed: str, unit) -> None:
        field = f"configs.{group}.runs.{seed}"
        require("evaluation" in unit, f"{field}.evaluation", "missing")
        if check_evaluation is not None:
            check_evaluation(f"{field}.evaluation", unit["evaluation"])
        require(is_number(unit.get("seconds")) and unit["seconds"] >= 0, f"{field}.seconds", "expected seconds >= 0")
        require(isinstance(unit.get("chunk_size"), int) and unit["chunk_size"] >= 1, f"{field}.chunk_size", "")

    return check


def run_configs(
    setup: Setup,
    trees: Sequence,
    seeds: Sequence[int],
    record: Record,
    groups: Sequence[str],
    *,
    chunk_size: int | None = None,
    memory_budget: int | None = None,
    devices=None,
    progress: bool = True,
    description: str = "sweep",
) -> int:
    """Run every (configuration ``trees[i]``, seed) pair not yet stored under ``record``'s group
    ``groups[i]``, saving each finished chunk; returns the members per compiled call.

    The missing pairs, configuration-major, form one flat batch for :func:`sleepjax.run.run_batch`;
    ``chunk_size`` and ``memory_budget`` as for :func:`sweep`.
    After each chunk is stored and saved, :func:`sleepjax.interrupt.check_stop` lets Ctrl-C stop there.
    """
    seeds = [int(s) for s in check_seeds(seeds)]
    todo = [(i, s) for i, g in enumerate(groups) for s in seeds if s not in record.finished(g)]
    num_devices = batch_mesh(devices).devices.size
    if chunk_size is None and memory_budget is None and jax.default_backend() == "cpu":
        chunk_size = num_devices
    elif chunk_size is None:
        budget = default_memory_budget() if memory_budget is None else int(memory_budget)
        chunk_size = auto_chunk_size(setup, trees[0], budget, num_devices)
    chunk_size = -(-min(chunk_size, max(1, len(todo))) // num_devices) * num_devices
    if not todo:
        return chunk_size
    batch = hp.stack([trees[i] for i, _ in todo])
    n_chunks = -(-len(todo) // chunk_size)
    bar = tqdm(total=n_chunks, desc=f"{description} ({len(todo)} runs)", unit="chunk", disable=not progress)
    clock = [time.perf_counter()]

    def on_chunk_end(members, result):
        seconds = (time.perf_counter() - clock[0]) / len(members)
        for k, m in enumerate(members):
            i, seed = todo[m]
            record.group(groups[i])["runs"][str(seed)] = {
                "evaluation": jax.tree.map(lambda a, k=k: np.asarray(a[k]).tolist(), result.evaluation),
                "seconds": seconds,
                "chunk_size": chunk_size,
            }
        record.save()
        bar.update(1)
        clock[0] = time.perf_counter()
        check_stop()

    try:
        run_batch(
            setup.phase,
            setup.make_params,
            setup.tasks,
            setup.evaluate,
            batch,
            [s for _, s in todo],
            chunk_size=chunk_size,
            devices=devices,
            on_chunk_end=on_chunk_end,
        )
    finally:
        bar.close()
    return chunk_size


def table(record: dict, groups: Sequence[str], configs: Sequence[Config], seeds, summarize, base) -> list[dict]:
    """One row per (configuration, seed) present in ``record``: index, seed, the value of every
    hyperparameter that any configuration sets (``base``'s value where this one leaves it), and
    ``summarize(evaluation)``; so configurations that set different names (``{}``, the base itself,
    beside a tuned one) share the same columns."""
    names = list(dict.fromkeys(name for config in configs for name in config))
    rows = []
    for i, (group, config) in enumerate(zip(groups, configs)):
        runs = record["configs"].get(group, {}).get("runs", {})
        values = {n: hp.to_json(config[n] if n in config else hp.get_value(base, n)) for n in names}
        for seed in seeds:
            if str(seed) not in runs:
                continue
            rows.append({"config": i, "seed": int(seed), **values, **summarize(runs[str(seed)]["evaluation"])})
    return rows


def write_table(rows: list[dict], csv_path: str | os.PathLike, json_path: str | os.PathLike | None = None) -> None:
    """Write ``rows`` as CSV (list values joined by spaces) and, if ``json_path``, as a JSON list."""
    columns = list(dict.fromkeys(k for row in rows for k in row))
    text = io.StringIO()
    writer = csv.DictWriter(text, columns)
    writer.writeheader()
    for row in rows:
        writer.writerow({k: " ".join(map(str, np.ravel(v))) if isinstance(v, list) else v for k, v in row.items()})
    write_text_atomic(Path(csv_path), text.getvalue())
    if json_path is not None:
        write_atomic(Path(json_path), {"rows": rows})


def table_paths(out: str | os.PathLike) -> tuple[Path, Path]:
    """The CSV and JSON table written next to the record ``out`` (``x.json`` -> ``x.csv``, ``x.rows.json``)."""
    out = Path(out)
    stem = out.with_suffix("") if out.suffix == ".json" else out
    return stem.with_name(stem.name + ".csv"), stem.with_name(stem.name + ".rows.json")


def sweep(
    setup: Setup,
    base,
    configs: Sequence[Config],
    seeds: Sequence[int],
    *,
    out: str | os.PathLike | None = None,
    identity: Mapping | None = None,
    chunk_size: int | None = None,
    memory_budget: int | None = None,
    devices=None,
    validate: Callable[[Any], None] | None = None,
    summarize: Callable[[Any], dict] | None = None,
    check_evaluation: Callable[[str, Any], None] | None = None,
    progress: bool = True,
) -> SweepResult:
    """Run every (configuration, seed) pair as one compiled, vmapped, sharded program; see the module
    docstring.

    Args:
        setup: the phase, initial model, tasks and evaluation shared by all configurations.
        base: the base hyperparameter pytree (e.g. ``{"sleep": SRCPhaseHparams(...)}``).
        configs: dicts of dotted names to values (:func:`grid`, :func:`random_configs`, or explicit).
        seeds: distinct seeds; every configuration runs every seed.
        out: the JSON record (resumable); the table goes next to it as ``.csv`` and ``.rows.json``.
        identity: what else identifies the sweep for a resume (data fingerprint, protocol settings).
        chunk_size: members per compiled call. Default: on an accelerator as many per device as fit
            ``memory_budget``; on the CPU one per device (one compiled program, reused), because there a
            vmapped batch of SRC sleeps measured slower than the same sleeps one after another
            (``benchmarks/bench_sweep.py``, part b). An explicit ``memory_budget`` chunks to it on the CPU too.
        memory_budget: bytes per device for one chunk (default: :func:`default_memory_budget`).
        devices: the devices to shard over (default: all).
        validate: an extra check of each configuration's hyperparameter pytree (raise ``ValueError``).
        summarize: one run's evaluation -> dict of row metrics (default: :func:`default_summary`).
        check_evaluation: ``check(field, stored_evaluation)`` for records read back from disk.

    Everything (configurations, seeds, the output path and an existing record there) is checked before
    anything is computed.
    """
    trees = build_configs(base, configs, setup.make_params, validate)
    seeds = [int(s) for s in check_seeds(seeds)]
    if out is not None:
        check_writable(out)
    full_identity = {
        "base": {name: hp.to_json(v) for name, v in hp.leaf_names(base).items()},
        "configs": [{name: hp.to_json(v) for name, v in c.items()} for c in configs],
        "setup": dict(identity or {}),
    }
    groups = [str(i) for i in range(len(configs))]
    record = Record.open(out, EXPERIMENT, full_identity, "configs", unit_checker(check_evaluation), groups)
    for group, config in zip(groups, full_identity["configs"]):
        record.group(group, values=config)
    chunk = run_configs(
        setup,
        trees,
        seeds,
        record,
        groups,
        chunk_size=chunk_size,
        memory_budget=memory_budget,
        devices=devices,
        progress=progress,
    )
    summarize = summarize or default_summary(setup.evaluate)
    rows = table(record.data, groups, configs, seeds, summarize, base)
    record.data["seeds"] = seeds
    record.data["chunk_size"] = chunk
    record.save()
    if out is not None:
        write_table(rows, *table_paths(out))
    return SweepResult(rows, record.data)


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


def load_configs_file(path: str | os.PathLike) -> tuple[dict[str, list] | None, list[dict] | None]:
    """A sweep config file: JSON or TOML with either ``grid = {name = [values]}`` or ``configs = [{...}]``.

    Returns ``(grid_axes, explicit_configs)``, one of them ``None``; ``ValueError`` naming the file and
    the problem.
    """
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as err:
        raise ValueError(f"{path}: cannot read the sweep file ({err.strerror or err})") from None
    try:
        if path.suffix == ".toml":
            import tomllib

            data = tomllib.loads(text)
        else:
            data = json.loads(text)
    except ValueError as err:
        raise ValueError(
            f"{path}: not a valid {'TOML' if path.suffix == '.toml' else 'JSON'} sweep file ({err})"
        ) from None
    if not isinstance(data, dict) or set(data) - {"grid", "configs"} or len(data) != 1:
        raise ValueError(f"{path}: a sweep file holds exactly one of 'grid' (name -> list of values) or 'configs'")
    if "grid" in data:
        axes = data["grid"]
        if not isinstance(axes, dict) or not all(isinstance(v, list) and v for v in axes.values()):
            raise ValueError(f"{path}: 'grid' must map each hyperparameter name to a non-empty list of values")
        return axes, None
    configs = data["configs"]
    if not isinstance(configs, list) or not all(isinstance(c, dict) for c in configs) or not configs:
        raise ValueError(f"{path}: 'configs' must be a non-empty list of objects (name -> value)")
    return None, configs


__all__ = [
    "IntUniform",
    "LogUniform",
    "Setup",
    "Space",
    "SweepResult",
    "Uniform",
    "accuracy_summary",
    "build_configs",
    "grid",
    "random_configs",
    "run_configs",
    "summary_rows",
    "sweep",
    "write_table",
]
