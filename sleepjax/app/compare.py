"""``sleepjax compare``: continual-learning methods side by side on one benchmark and scenario, every
method's seeds as one vmapped program, kept in a resumable record.

:func:`plan` checks everything a comparison needs before any data are loaded (benchmark, scenario,
protocol, methods, hyperparameter overrides and their values, memory budget, task split); :func:`run`
builds the scenario and runs the methods one after another, each for all of its missing seeds in one
compiled call of :func:`sleepjax.run_batch` (vmapped over the seeds), storing the seeds' accuracy
matrices as soon as the call returns. The record (``--out``) maps ``methods[<method>]`` to its settings,
runs (per seed: accuracy matrix, the untrained network's accuracy for forward transfer, phase metrics,
seconds) and ``summary`` (:func:`sleepjax.app.compare_report.summarize`); rerunning the same command runs
only what is missing.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence

import equinox as eqx
import jax
import numpy as np

from sleepjax import _hparams as hp
from sleepjax._datasets import Dataset
from sleepjax._engine import check_seeds, split_seed
from sleepjax._evaluate import AccuracyEvaluator
from sleepjax._scenarios import SPLIT_MNIST_CLASSES, Scenario, _checked_tasks, split_by_class
from sleepjax._shifted import ROTATED_MNIST_ANGLES, permuted_pixels, rotated_images
from sleepjax._sweep import build_configs
from sleepjax.app.compare_methods import (
    BENCHMARKS,
    DEFAULT_PROTOCOL,
    MEMORY_METHODS,
    METHODS,
    PROTOCOLS,
    SCENARIOS,
    MethodSetup,
    Protocol,
    build_method,
    evaluator_for,
    method_settings,
    stream_for,
)
from sleepjax.app.compare_report import summarize
from sleepjax.app.records import Record, RecordError, check_matrix, differences, is_number, require
from sleepjax.app.split_mnist import data_fingerprint
from sleepjax.app.stored_runs import run_and_store

EXPERIMENT = "compare"


@dataclasses.dataclass(frozen=True)
class Settings:
    """What a comparison runs; every field has the flag of the same name (``--task-classes`` ...).

    ``protocol``: a name of :data:`PROTOCOLS` (default: the benchmark's published one); ``epochs``,
    ``steps``, ``memory``, ``examples_per_task`` override the protocol's (``examples_per_task=0``: all
    of the task's examples); ``hparams``: ``(method or "", name, value)`` overrides of the methods'
    hyperparameters (a name without a method applies to every chosen method that has it).
    """

    benchmark: str = "split-mnist"
    scenario: str = "class"
    protocol: str | None = None
    task_classes: tuple[tuple[int, ...], ...] = SPLIT_MNIST_CLASSES
    num_tasks: int = 10
    permutation_seed: int = 0
    epochs: int | None = None
    steps: int | None = None
    memory: int | None = None
    examples_per_task: int | None = None
    split: str = "test"
    validation_fraction: float = 0.1
    hparams: tuple[tuple[str, str, float], ...] = ()

    def effective_protocol(self) -> Protocol:
        """The protocol with this comparison's overrides applied."""
        protocol = PROTOCOLS[self.protocol or DEFAULT_PROTOCOL[self.benchmark]]
        changes = {}
        if self.epochs is not None:
            changes.update(epochs=self.epochs, steps=None)
        if self.steps is not None:
            changes.update(steps=self.steps, epochs=None)
        if self.memory is not None:
            changes["memory"] = self.memory
        if self.examples_per_task is not None:
            changes["examples_per_task"] = self.examples_per_task or None
        return dataclasses.replace(protocol, **changes)


def check_methods(methods: Sequence[str]) -> list[str]:
    """``methods`` as a list of distinct names of :data:`METHODS`; ``ValueError`` naming an unknown one."""
    methods = list(methods)
    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        raise ValueError(f"--methods: unknown method {unknown[0]!r}; the methods are {', '.join(METHODS)}")
    if not methods or len(set(methods)) != len(methods):
        raise ValueError(f"--methods must list distinct methods, got {methods}")
    return methods


def check_settings(settings: Settings) -> Protocol:
    """Refuse (one ``ValueError`` naming the flag) a benchmark, scenario, protocol, split or size that no
    comparison can run; return the effective protocol."""
    if settings.benchmark not in BENCHMARKS:
        raise ValueError(f"unknown benchmark {settings.benchmark!r}; choose from {', '.join(BENCHMARKS)}")
    if settings.scenario not in SCENARIOS[settings.benchmark]:
        raise ValueError(
            f"--scenario {settings.scenario}: {settings.benchmark} offers {', '.join(SCENARIOS[settings.benchmark])}"
        )
    if settings.protocol is not None and settings.protocol not in PROTOCOLS:
        raise ValueError(f"--protocol: unknown protocol {settings.protocol!r}; choose from {', '.join(PROTOCOLS)}")
    if settings.epochs is not None and settings.steps is not None:
        raise ValueError("--epochs and --steps exclude each other")
    if settings.split not in ("test", "validation"):
        raise ValueError(f"--split must be test or validation, got {settings.split!r}")
    if not 0.0 < settings.validation_fraction < 1.0:
        raise ValueError(f"--validation-fraction must lie strictly between 0 and 1, got {settings.validation_fraction}")
    if settings.memory is not None and settings.memory < 1:
        raise ValueError(f"--memory must be a positive number of examples, got {settings.memory}")
    protocol = settings.effective_protocol()
    if protocol.examples_per_task is not None and protocol.examples_per_task < protocol.batch_size:
        raise ValueError(
            f"--examples-per-task {protocol.examples_per_task} is less than one batch of {protocol.batch_size}"
        )
    if settings.benchmark == "split-mnist":
        try:
            _checked_tasks(settings.task_classes, 10, settings.scenario)
        except ValueError as err:
            raise ValueError(f"--task-classes: {err}") from None
    return protocol


def method_hparams(method: str, setup: MethodSetup, overrides: Sequence[tuple[str, str, float]]) -> dict:
    """The method's hyperparameters with the overrides that concern it applied and every value checked
    (finite; each method's own rules, e.g. no negative strength)."""
    names = hp.hparam_names(setup.hparams)
    values = {name: value for target, name, value in overrides if target in ("", method) and name in names}
    for target, name, _ in overrides:
        if target == method and name not in names:
            raise ValueError(
                f"--hparam {method}:{name}: {method} has no such hyperparameter; it has {', '.join(names)}"
            )
    try:
        return build_configs(setup.hparams, [values])[0]
    except ValueError as err:  # the sweep's checks, without its "configuration 0 {...}: "
        raise ValueError(f"--hparam for {method}: {str(err).removeprefix(f'configuration 0 {values}: ')}") from None


def plan(methods: Sequence[str], settings: Settings, num_tasks: int) -> dict[str, MethodSetup]:
    """Every method's setup with its hyperparameters checked, before any data are loaded; ``ValueError``
    naming the method, the hyperparameter or the flag otherwise."""
    methods = check_methods(methods)
    protocol = check_settings(settings)
    setups = {}
    for method in methods:
        setup = build_method(method, settings.benchmark, settings.scenario, protocol, num_tasks)
        setups[method] = setup._replace(hparams=method_hparams(method, setup, settings.hparams))
    for target, name, _ in settings.hparams:
        if target and target not in methods:
            raise ValueError(f"--hparam {target}:{name}: {target} is not among --methods")
        if not target and not any(name in hp.hparam_names(s.hparams) for s in setups.values()):
            known = sorted({n for s in setups.values() for n in hp.hparam_names(s.hparams)})
            raise ValueError(f"--hparam {name}: no chosen method has it; their hyperparameters are {', '.join(known)}")
    return setups


def task_count(settings: Settings) -> int:
    """Tasks of the benchmark: the split's, or ``num_tasks`` (permuted), or the rotation angles."""
    if settings.benchmark == "split-mnist":
        return len(settings.task_classes)
    return settings.num_tasks


def make_scenario(dataset: Dataset, settings: Settings, protocol: Protocol) -> Scenario:
    """The benchmark's scenario in ``protocol``'s input format, evaluated on ``settings.split``."""
    common = {
        "examples_per_task": protocol.examples_per_task,
        "input_format": protocol.input_format,
        "split": settings.split,
        "validation_fraction": settings.validation_fraction,
    }
    if settings.benchmark == "split-mnist":
        return split_by_class(
            dataset, settings.task_classes, mode=settings.scenario, train_outputs=protocol.train_outputs, **common
        )
    if settings.benchmark == "permuted-mnist":
        return permuted_pixels(dataset, settings.num_tasks, settings.permutation_seed, **common)
    return rotated_images(dataset, rotation_angles(settings.num_tasks), **common)


def rotation_angles(num_tasks: int) -> tuple[float, ...]:
    """Rotated MNIST's angles: :data:`~sleepjax.ROTATED_MNIST_ANGLES` for ten tasks, else ``num_tasks``
    angles evenly spaced in [0, 180)."""
    return ROTATED_MNIST_ANGLES if num_tasks == 10 else tuple(180.0 * k / num_tasks for k in range(num_tasks))


def check_memory(method: str, memory: int, scenario: Scenario) -> None:
    """A rehearsal memory larger than the whole stream's training examples is refused, naming the method."""
    available = int(scenario.train_sizes.sum())
    if method in MEMORY_METHODS and memory > available:
        raise ValueError(
            f"--memory {memory}: {method}'s memory is larger than the {available} training examples of the whole stream"
        )


def unit_checker(num_tasks: int):
    """Validation of one stored run of a method (accuracy matrix, the untrained network's accuracy)."""

    def check(method: str, seed: str, unit) -> None:
        field = f"methods.{method}.runs.{seed}"
        rows = 1 if method == "joint" else num_tasks
        check_matrix(unit.get("accuracy"), f"{field}.accuracy", (rows, num_tasks))
        check_matrix([unit.get("initial")], f"{field}.initial", (1, num_tasks))
        require(is_number(unit.get("seconds")) and unit["seconds"] >= 0, f"{field}.seconds", "expected seconds >= 0")

    return check


def run(
    dataset: Dataset,
    methods: Sequence[str],
    seeds: Sequence[int],
    settings: Settings = Settings(),
    out=None,
    chunk_size: int | None = None,
    progress: bool = True,
) -> dict:
    """Run ``methods`` for ``seeds`` and return (and, with ``out``, keep saving) the record.

    Each method runs its missing seeds as one vmapped program (``chunk_size`` seeds per compiled call:
    default all), its wall time (compile included) added to ``methods[m]["wall_s"]``; the record's
    ``wall_s`` is the sum over methods, the cost of the whole comparison.
    """
    seeds = [int(s) for s in check_seeds(seeds)]
    setups = plan(methods, settings, task_count(settings))
    scenarios: dict[tuple, Scenario] = {}

    def scenario_of(protocol: Protocol) -> Scenario:
        """The scenario in ``protocol``'s data (the SRC methods' inputs differ), built once."""
        key = (protocol.input_format, protocol.examples_per_task, protocol.train_outputs)
        if key not in scenarios:
            scenarios[key] = make_scenario(dataset, settings, protocol)
        return scenarios[key]

    reference = scenario_of(settings.effective_protocol())
    for method, setup in setups.items():
        check_memory(method, setup.protocol.memory, scenario_of(setup.protocol))
    identity = {
        "benchmark": settings.benchmark,
        "scenario": settings.scenario,
        "protocol": dataclasses.asdict(settings.effective_protocol()),
        "split": settings.split,
        "validation_fraction": settings.validation_fraction if settings.split == "validation" else None,
        "task_classes": [list(c) for c in reference.task_classes],
        "permutation_seed": settings.permutation_seed if settings.benchmark == "permuted-mnist" else None,
        "data_sha256": data_fingerprint(dataset),
        "train_sizes": reference.train_sizes.tolist(),
        "test_sizes": reference.test_sizes.tolist(),
    }
    record = Record.open(out, EXPERIMENT, identity, "methods", unit_checker(reference.num_tasks), METHODS)
    record.data["data_source"] = dataset.source
    for method, setup in setups.items():
        _check_resumable(record, method, setup)
    for method, setup in setups.items():
        scenario = scenario_of(setup.protocol)
        entry = record.group(method, settings=method_settings(setup), wall_s=0.0)
        todo = [s for s in seeds if s not in record.finished(method)]
        if todo:
            start = time.perf_counter()
            _run_method(record, method, setup, scenario, todo, chunk_size, progress)
            entry["wall_s"] += time.perf_counter() - start
        accuracy = np.array([entry["runs"][str(s)]["accuracy"] for s in seeds])
        initial = np.array([entry["runs"][str(s)]["initial"] for s in seeds])
        entry["summary"] = summarize(accuracy, initial, scenario.test_sizes)
        entry["summary_seeds"] = seeds
        record.data["wall_s"] = sum(g.get("wall_s", 0.0) for g in record.data["methods"].values())
        record.save()
    record.data["seeds"] = seeds
    record.save()
    return record.data


def _check_resumable(record: Record, method: str, setup: MethodSetup) -> None:
    stored = record.data["methods"].get(method)
    if stored is None:
        return
    changed = differences(stored.get("settings"), method_settings(setup))
    if changed:
        raise RecordError(
            f"{record.path}: {method} was run with other settings (differing: {', '.join(changed)}); choose another "
            "--out, or rerun it with the settings it was made with"
        )


def _run_method(record, method, setup, scenario, seeds, chunk_size, progress) -> None:
    """Run one method for ``seeds`` (all in one vmapped call unless ``chunk_size``), storing each seed's
    accuracy matrix and the untrained network's accuracy as soon as its call returns."""
    make_params = setup.protocol.make_params(scenario.input_size, scenario.num_outputs)
    # The test set is an argument (not a constant folded into the program).
    untrained = eqx.filter_jit(lambda evaluate, keys: jax.vmap(lambda k: evaluate(make_params(k), None))(keys))

    def entries(chunk_seeds, result):
        keys = jax.vmap(lambda s: split_seed(s)[0])(np.asarray(chunk_seeds, np.uint32))
        initial = np.asarray(untrained(AccuracyEvaluator(scenario.test), keys))
        return [
            {"accuracy": result.evaluation[i].tolist(), "initial": initial[i].tolist()} for i in range(len(chunk_seeds))
        ]

    run_and_store(
        record,
        method,
        seeds,
        entries,
        phase=setup.phase,
        make_params=make_params,
        tasks=stream_for(setup, scenario),
        evaluate=evaluator_for(setup, scenario),
        hparams=setup.hparams,
        chunk_size=chunk_size or len(seeds),
        progress=progress,
    )
