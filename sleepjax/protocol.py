"""The reference SRC experiment: class-incremental split MNIST with fine-tune, SRC and joint arms.

Arms (Tadros et al. 2022, reference protocol):
* ``finetune``: sequential training on the five tasks, nothing else (the lower bound);
* ``src``: the same with an SRC sleep after every task (15k, 20k, ..., 35k steps);
* ``joint``: one task holding all training data of all classes (the upper bound).

Every arm uses the same 784-1200-1200-10 bias-free ReLU network with a ReLU/MSE head, SGD (lr 0.1,
momentum 0.5), dropout 0.25, batch 100 and 2 epochs per task. :func:`run_protocol` runs the arms for
several seeds and keeps a JSON record that is rewritten after every finished chunk of seeds, so an
interrupted run resumes where it stopped.
"""

from __future__ import annotations

import dataclasses
import json
import os
import platform
import time
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path

import jax
import numpy as np
import optax
from tqdm.auto import tqdm

from sleepjax import metrics
from sleepjax.data import Dataset
from sleepjax.nets import MLP
from sleepjax.phases import sequence
from sleepjax.run import resolve_chunk_size, run_seeds
from sleepjax.scenarios import SPLIT_MNIST_CLASSES, Scenario, split_by_class
from sleepjax.sleep.mlp import src_phase
from sleepjax.sleep.src import MNIST_WINDOW, reference_hparams
from sleepjax.wake import wake

ARMS = ("finetune", "src", "joint")

#: Training-set sizes of the reference protocol: 5000 examples per task, 60000 for joint training.
REFERENCE_TASK_EXAMPLES = 5000
REFERENCE_JOINT_EXAMPLES = 60000
REFERENCE_EPOCHS = 2


@dataclasses.dataclass(frozen=True)
class ProtocolConfig:
    """Settings of a split-MNIST run. Defaults are the reference protocol.

    ``epochs=None`` trains for 2 epochs on reference-sized data and, on smaller data (the bundled
    subset), for as many epochs as give the reference's number of SGD updates per task.
    """

    sizes: tuple[int, ...] = (784, 1200, 1200, 10)
    dropout: float = 0.25
    init_scale: float = 0.01
    learning_rate: float = 0.1
    momentum: float = 0.5
    batch_size: int = 100
    epochs: int | None = None
    examples_per_task: int | None = REFERENCE_TASK_EXAMPLES
    sleep_base_steps: int = 15000
    sleep_steps_per_task: int = 5000
    src_hparams: str = "mnist"

    def __post_init__(self):
        if self.epochs is not None and self.epochs < 1:
            raise ValueError(f"epochs must be positive, got {self.epochs}")
        if self.examples_per_task is not None and self.examples_per_task < self.batch_size:
            raise ValueError(
                f"examples_per_task ({self.examples_per_task}) must be at least one batch ({self.batch_size})"
            )
        reference_hparams(self.src_hparams)  # validates the name


def matched_epochs(n_examples: int, reference_examples: int, reference_epochs: int = REFERENCE_EPOCHS) -> int:
    """Epochs on ``n_examples`` that give about as many SGD updates as the reference's."""
    return max(1, round(reference_epochs * reference_examples / n_examples))


def make_scenario(dataset: Dataset, config: ProtocolConfig) -> Scenario:
    """Class-incremental split MNIST with at most ``examples_per_task`` examples per task."""
    available = min(int(np.isin(dataset.y_train, cs).sum()) for cs in SPLIT_MNIST_CLASSES)
    per_task = None if config.examples_per_task is None else min(config.examples_per_task, available)
    return split_by_class(dataset, examples_per_task=per_task, mode="class", name="split-mnist")


def arm_epochs(arm: str, scenario: Scenario, config: ProtocolConfig) -> int:
    """Epochs per task for ``arm`` (see :class:`ProtocolConfig`)."""
    if config.epochs is not None:
        return config.epochs
    if arm == "joint":
        return matched_epochs(scenario.joint.x.shape[1], REFERENCE_JOINT_EXAMPLES)
    return matched_epochs(scenario.train.x.shape[1], REFERENCE_TASK_EXAMPLES)


def make_arm(arm: str, scenario: Scenario, config: ProtocolConfig):
    """The (phase, hparams, training stream) of one arm."""
    if arm not in ARMS:
        raise ValueError(f"unknown arm {arm!r}; choose from {ARMS}")
    optimizer = optax.sgd(config.learning_rate, momentum=config.momentum)
    train = wake(optimizer, epochs=arm_epochs(arm, scenario, config), batch_size=config.batch_size, loss="mse")
    if arm == "finetune":
        return train, None, scenario.train
    if arm == "joint":
        return train, None, scenario.joint
    sleep = src_phase(MNIST_WINDOW, config.sleep_base_steps, config.sleep_steps_per_task)
    return sequence(train, sleep), (None, reference_hparams(config.src_hparams)), scenario.train


def make_model_fn(config: ProtocolConfig):
    """Initial-model factory for :func:`sleepjax.run.run_seeds`."""

    def make_model(key):
        return MLP(config.sizes, key=key, dropout=config.dropout, head="relu", init_scale=config.init_scale)

    return make_model


def versions() -> dict[str, str]:
    """Versions of Python, sleepjax and its main dependencies, for the run record."""
    out = {"python": platform.python_version()}
    for name in ("sleepjax", "jax", "jaxlib", "optax", "equinox", "numpy"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def summarize_arm(accuracies: np.ndarray, test_sizes: np.ndarray) -> dict:
    """Mean and sample SD (ddof=1) over seeds of per-task final accuracy, overall accuracy, and for
    square accuracy matrices BWT and forgetting (conventions in :mod:`sleepjax.metrics`)."""
    final = accuracies[:, -1, :]
    ddof = 1 if len(accuracies) > 1 else 0
    stat = lambda v: {"mean": float(np.mean(v)), "sd": float(np.std(v, ddof=ddof))}  # noqa: E731
    summary = {
        "per_task_final": {
            "mean": final.mean(axis=0).tolist(),
            "sd": final.std(axis=0, ddof=ddof).tolist(),
        },
        "overall": stat(metrics.overall_accuracy(final, test_sizes)),
        "average_accuracy": stat(final.mean(axis=1)),
    }
    if accuracies.shape[1] == accuracies.shape[2]:
        summary["bwt"] = stat(metrics.backward_transfer(accuracies))
        summary["forgetting"] = stat(metrics.forgetting(accuracies))
    return summary


def _write_atomic(path: Path, record: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(record, indent=1))
    os.replace(tmp, path)


def _load_resumable(path: Path | None, identity: dict) -> dict:
    """The record at ``path`` if it was made with the same settings, else a fresh one."""
    if path is not None and path.exists():
        try:
            old = json.loads(path.read_text())
        except json.JSONDecodeError as err:
            raise ValueError(f"{path}: existing record is not valid JSON ({err}); move it away") from None
        if all(old.get(k) == v for k, v in identity.items()):
            return old
        raise ValueError(f"{path} holds a record made with other settings; choose another --out or remove it")
    return dict(identity, arms={})


def run_protocol(
    dataset: Dataset,
    arms: Sequence[str] = ARMS,
    seeds: Sequence[int] = (0,),
    config: ProtocolConfig = ProtocolConfig(),
    out: str | os.PathLike | None = None,
    chunk_size: int | None = None,
    progress: bool = True,
) -> dict:
    """Run ``arms`` for ``seeds`` and return (and, with ``out``, keep writing) the JSON record.

    The record holds the config, data source, seeds, versions, and per arm each seed's accuracy matrix,
    its phase metrics per task (wake: training loss per epoch; SRC: spikes per layer and normalisation
    factors), wall time and the number of seeds vmapped with it, and the summaries. Seeds already in a
    matching record at ``out`` are not run again.
    """
    arms = list(arms)
    for arm in arms:
        if arm not in ARMS:
            raise ValueError(f"unknown arm {arm!r}; choose from {ARMS}")
    seeds = [int(s) for s in seeds]
    if not seeds or len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds must be a non-empty list of distinct integers, got {seeds}")
    scenario = make_scenario(dataset, config)
    path = Path(out) if out is not None else None
    identity = {
        "experiment": "split-mnist class-incremental",
        "config": dataclasses.asdict(config),
        "data_source": dataset.source,
        "task_classes": [list(c) for c in scenario.task_classes],
        "examples_per_task": int(scenario.train.x.shape[1]),
        "test_sizes": scenario.test_sizes.tolist(),
    }
    identity = json.loads(json.dumps(identity))  # compare as stored (tuples become lists)
    record = _load_resumable(path, identity)
    record.update(versions=versions(), backend=jax.default_backend(), devices=[str(d) for d in jax.devices()])
    save = (lambda: _write_atomic(path, record)) if path is not None else (lambda: None)
    for arm in arms:
        entry = record["arms"].setdefault(arm, {"epochs": arm_epochs(arm, scenario, config), "runs": {}})
        todo = [s for s in seeds if str(s) not in entry["runs"]]
        if todo:
            _run_arm(arm, scenario, config, entry, todo, chunk_size, progress, save)
        done = np.array([entry["runs"][str(s)]["accuracy"] for s in seeds])
        entry["summary"] = summarize_arm(done, scenario.test_sizes)
        entry["summary_seeds"] = seeds
    record["seeds"] = seeds
    save()
    return record


def _run_arm(arm, scenario, config, entry, seeds, chunk_size, progress, save) -> None:
    """Run one arm for ``seeds``, storing each chunk's accuracy matrices in ``entry`` and saving."""
    phase, hparams, stream = make_arm(arm, scenario, config)
    per_chunk = resolve_chunk_size(chunk_size, len(seeds))
    n_chunks = -(-len(seeds) // per_chunk)
    bar = tqdm(
        total=n_chunks * stream.x.shape[0], desc=f"{arm} ({len(seeds)} seeds)", unit="task", disable=not progress
    )
    clock = [time.perf_counter()]

    def on_chunk_end(chunk_seeds, result):
        seconds = (time.perf_counter() - clock[0]) / len(chunk_seeds)
        for i, seed in enumerate(chunk_seeds):
            entry["runs"][str(int(seed))] = {
                "accuracy": result.accuracy[i].tolist(),
                "phase_metrics": jax.tree.map(lambda a, i=i: a[i].tolist(), result.metrics),
                "seconds": seconds,
                "chunk_size": per_chunk,
            }
        save()
        clock[0] = time.perf_counter()

    run_seeds(
        phase,
        make_model_fn(config),
        stream,
        scenario.test,
        hparams,
        seeds,
        per_chunk,
        on_task_end=lambda _t: bar.update(1),
        on_chunk_end=on_chunk_end,
    )
    bar.close()
