"""The reference SRC experiment: class-incremental split MNIST with fine-tune, SRC and joint arms.

Arms (Tadros et al. 2022, reference protocol):
* ``finetune``: sequential training on the five tasks, nothing else (the lower bound);
* ``src``: the same with an SRC sleep after every task (15k, 20k, ..., 35k steps);
* ``joint``: one task holding all training data of all classes (the upper bound).

Every arm uses the same 784-1200-1200-10 bias-free ReLU network with a ReLU/MSE head, SGD (lr 0.1,
momentum 0.5), dropout 0.25, batch 100 and 2 epochs per task. :func:`run` runs the arms for several
seeds and keeps a JSON record (:mod:`sleepjax.app.records`) that is saved after every finished chunk of
seeds, so an interrupted run resumes where it stopped.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Sequence

import numpy as np
import optax

from sleepjax import _metrics as metrics
from sleepjax._datasets import NUM_CLASSES, Dataset
from sleepjax._engine import check_seeds
from sleepjax._evaluate import AccuracyEvaluator
from sleepjax._nets import MLP
from sleepjax._phases import sequence
from sleepjax._scenarios import SPLIT_MNIST_CLASSES, Scenario, held_out, split_arrays, split_by_class
from sleepjax._sleep.hparams import MNIST_WINDOW, check_hparams
from sleepjax._sleep.mlp import SRCPhaseHparams, src_phase
from sleepjax._sleep.vectors import load_vector, vector_to_json
from sleepjax._wake import wake, wake_defaults
from sleepjax.app.records import Record, check_matrix, is_number, require
from sleepjax.app.report import cell, format_table, mean_sd
from sleepjax.app.stored_runs import run_and_store

EXPERIMENT = "split-mnist"
ARMS = ("finetune", "src", "joint")

#: Training-set sizes of the reference protocol: 5000 examples per task, 60000 for joint training.
REFERENCE_TASK_EXAMPLES = 5000
REFERENCE_JOINT_EXAMPLES = 60000
REFERENCE_EPOCHS = 2


#: Units in each hidden layer of the reference network (784-1200-1200-10).
REFERENCE_WIDTH = 1200


def sizes_of_width(width: int) -> tuple[int, ...]:
    """The layer sizes of the reference network with ``width`` units in each of its two hidden layers
    (``--width``): ``(784, width, width, 10)``."""
    return (784, int(width), int(width), NUM_CLASSES)


@dataclasses.dataclass(frozen=True)
class Config:
    """Settings of a split-MNIST run. Defaults are the reference protocol.

    ``epochs=None`` trains for 2 epochs on reference-sized data and, on smaller data (the bundled
    subset), for as many epochs as give the reference's number of SGD updates per task.
    ``examples_per_task=None`` takes the reference's 5000, or all that the smallest task has if the data
    hold fewer (the bundled subset: 1200); an explicit number the data cannot supply is refused.
    ``src_hparams`` names an SRC vector or a JSON vector file (:mod:`sleepjax._sleep.vectors`);
    ``sleep_steps=None`` takes that vector's schedule.
    Error messages name the command-line flag of each setting.
    """

    sizes: tuple[int, ...] = (784, REFERENCE_WIDTH, REFERENCE_WIDTH, NUM_CLASSES)
    dropout: float = 0.25
    init_scale: float = 0.01
    learning_rate: float = 0.1
    momentum: float = 0.5
    batch_size: int = 100
    epochs: int | None = None
    examples_per_task: int | None = None
    task_classes: tuple[tuple[int, ...], ...] = SPLIT_MNIST_CLASSES
    sleep_steps: tuple[int, int] | None = None
    src_hparams: str = "mnist"

    def __post_init__(self):
        if self.epochs is not None and not (isinstance(self.epochs, int) and 1 <= self.epochs <= 10_000):
            raise ValueError(f"--epochs must be an integer in 1..10000, got {self.epochs}")
        if self.examples_per_task is not None and not (
            isinstance(self.examples_per_task, int) and self.batch_size <= self.examples_per_task <= 10**7
        ):
            raise ValueError(
                f"--examples-per-task must be an integer of at least one batch ({self.batch_size}), "
                f"got {self.examples_per_task}"
            )
        if self.sleep_steps is not None:
            base, per_task = self.sleep_steps
            last = base + per_task * (len(self.task_classes) - 1) if min(base, per_task) >= 0 else -1
            if not 0 <= last < 2**31:
                raise ValueError(
                    f"--sleep-steps BASE PER_TASK must be non-negative with BASE + {len(self.task_classes) - 1} "
                    f"* PER_TASK below 2**31, got {base} {per_task}"
                )
        self.src_vector()  # validates the vector name or file now, before anything runs

    def src_vector(self) -> tuple[str, SRCPhaseHparams]:
        """``(label, SRCPhaseHparams)``: the SRC vector, with ``sleep_steps`` applied when given."""
        try:
            label, vector = load_vector(self.src_hparams)
            check_hparams(vector.src, len(self.sizes) - 1)
        except ValueError as err:
            raise ValueError(f"--src-hparams: {err}") from None
        if self.sleep_steps is not None:
            vector = SRCPhaseHparams.create(vector.src, *self.sleep_steps)
        return label, vector


SEARCH_SPACES = ("faithful", "extended")


def search_space(kind: str = "faithful"):
    """A search space of ``sleepjax tune split-mnist``, log-uniform over ranges that hold the reference
    vector well inside.

    ``"faithful"``: the reference rule's rates, thresholds and sleep lengths. ``"extended"`` adds the
    scale inside ``g(w)`` (``sleep.src.weight_scale``, fixed at 0.001 in the reference): a departure
    from the reference rule, still storing no training example.

    ``alpha_scale`` is left out on purpose: a layer's potential and threshold scale together
    (``v += alpha * drive``, spike when ``v >= beta``, reset to 0), so multiplying ``alpha_scale`` and
    every ``beta`` by the same factor gives the same spikes; the three thresholds already span it.
    """
    from sleepjax._sweep import IntUniform, LogUniform

    if kind not in SEARCH_SPACES:
        raise ValueError(f"--space must be one of {', '.join(SEARCH_SPACES)} or a .json file, got {kind!r}")
    space = {
        "sleep.src.max_rate": LogUniform(30.0, 1000.0),
        "sleep.src.inc": LogUniform(1e-3, 0.3),
        "sleep.src.dec": LogUniform(1e-5, 0.03),
        "sleep.src.beta[0]": LogUniform(2.0, 200.0),
        "sleep.src.beta[1]": LogUniform(2.0, 200.0),
        "sleep.src.beta[2]": LogUniform(2.0, 200.0),
        "sleep.base_steps": IntUniform(5000, 30000),
        "sleep.steps_per_task": IntUniform(0, 10000),
    }
    if kind == "extended":
        space["sleep.src.weight_scale"] = LogUniform(2e-4, 1e-2)
    return space


def matched_epochs(n_examples: int, reference_examples: int, reference_epochs: int = REFERENCE_EPOCHS) -> int:
    """Epochs on ``n_examples`` that give about as many SGD updates as the reference's."""
    return max(1, round(reference_epochs * reference_examples / n_examples))


def make_scenario(dataset: Dataset, config: Config, split: str = "test", validation_per_task: int = 1000) -> Scenario:
    """Class-incremental split MNIST; see :class:`Config` for ``examples_per_task``.

    ``split="test"`` evaluates on the test set (reported results). ``split="validation"`` evaluates on up
    to ``validation_per_task`` training examples per task that the task never trains on (the ones after
    its first ``examples_per_task``; :func:`sleepjax._scenarios.held_out`): what a search scores on, so
    that it never sees the test set.
    """
    if split not in ("test", "validation"):
        raise ValueError(f"split must be 'test' or 'validation', got {split!r}")
    available = min(int(np.isin(dataset.y_train, cs).sum()) for cs in config.task_classes)
    if config.examples_per_task is None:
        per_task = min(REFERENCE_TASK_EXAMPLES, available)
    elif config.examples_per_task > available:
        raise ValueError(
            f"--examples-per-task {config.examples_per_task}: the data hold only {available} training examples "
            f"for the smallest task ({dataset.source})"
        )
    else:
        per_task = config.examples_per_task
    if split == "test":
        return split_by_class(dataset, config.task_classes, examples_per_task=per_task, mode="class", name=EXPERIMENT)
    if per_task >= available:
        raise ValueError(
            f"a search scores on training examples no task trains on, but every task trains on all it has "
            f"({per_task} for the smallest, {dataset.source}); pass --examples-per-task below {available}, "
            f"or full MNIST with --data-dir"
        )
    x_val, y_val = held_out(dataset.x_train, dataset.y_train, config.task_classes, per_task, validation_per_task)
    return split_arrays(
        dataset.x_train, dataset.y_train, x_val, y_val, config.task_classes, per_task, "class", EXPERIMENT, NUM_CLASSES
    )


def arm_epochs(arm: str, scenario: Scenario, config: Config) -> int:
    """Epochs per task for ``arm`` (see :class:`Config`)."""
    if config.epochs is not None:
        return config.epochs
    if arm == "joint":
        return matched_epochs(scenario.joint.x.shape[1], REFERENCE_JOINT_EXAMPLES)
    return matched_epochs(scenario.train.x.shape[1], REFERENCE_TASK_EXAMPLES)


def check_arms(arms: Sequence[str]) -> list[str]:
    """``arms`` as a list, refused (``ValueError`` naming ``--arms``) unless distinct names of :data:`ARMS`."""
    arms = list(arms)
    choices = ", ".join(ARMS)
    if not arms:
        raise ValueError(f"--arms lists no arm; choose among {choices}")
    for position, arm in enumerate(arms):
        if arm not in ARMS:
            raise ValueError(f"unknown arm {arm!r}; --arms chooses among {choices}")
        if arm in arms[:position]:
            raise ValueError(f"--arms lists {arm!r} twice")
    return arms


def make_arm(arm: str, scenario: Scenario, config: Config):
    """The ``(phase, hparams, training stream)`` of one arm."""
    if arm not in ARMS:
        raise ValueError(f"unknown arm {arm!r}; choose from {ARMS}")
    train = wake(
        optax.sgd,
        learning_rate=config.learning_rate,
        momentum=config.momentum,
        epochs=arm_epochs(arm, scenario, config),
        batch_size=config.batch_size,
        loss="mse",
    )
    if arm == "finetune":
        return sequence(wake=train), {}, scenario.train
    if arm == "joint":
        return sequence(wake=train), {}, scenario.joint
    return sequence(wake=train, sleep=src_phase(MNIST_WINDOW)), {"sleep": config.src_vector()[1]}, scenario.train


def make_model_fn(config: Config):
    """Initial-model factory for :func:`sleepjax._engine.run_seeds`."""

    def make_model(key):
        return MLP(config.sizes, key=key, dropout=config.dropout, head="relu", init_scale=config.init_scale)

    return make_model


def base_hparams(config: Config, names=()) -> dict:
    """The SRC arm's base hyperparameters for a sweep or search of ``names``: ``{"sleep": <the config's SRC
    vector>}``, and wake's optimizer settings (``wake.learning_rate``, ``wake.momentum``) when some name
    is one of them (left out otherwise, so the records of sweeps of the sleep alone keep their identity)."""
    base = {"sleep": config.src_vector()[1]}
    if any(str(name).startswith("wake.") for name in names):
        base["wake"] = wake_defaults(learning_rate=config.learning_rate, momentum=config.momentum)
    return base


def sweep_setup(dataset: Dataset, config: Config, split: str = "test", validation_per_task: int = 1000, names=()):
    """``(SweepSetup, base_hparams, identity)`` of the SRC arm for :func:`sleepjax.sweep` and
    :func:`sleepjax.tune`: the protocol of ``config`` evaluated on ``split`` (see :func:`make_scenario`),
    the base hyperparameters of a sweep of ``names`` (:func:`base_hparams`), and what identifies the setup
    in a record (config, data fingerprint, split)."""
    from sleepjax._sweep import SweepSetup

    scenario = make_scenario(dataset, config, split, validation_per_task)
    phase, _, stream = make_arm("src", scenario, config)
    hparams = base_hparams(config, names)
    identity = {
        "protocol": EXPERIMENT,
        "config": dataclasses.asdict(config),
        "data_sha256": data_fingerprint(dataset),
        "split": split,
        "validation_per_task": validation_per_task if split == "validation" else None,
        "test_sizes": scenario.test_sizes.tolist(),
        "epochs": arm_epochs("src", scenario, config),
    }
    return SweepSetup(phase, make_model_fn(config), stream, AccuracyEvaluator(scenario.test)), hparams, identity


def data_fingerprint(dataset: Dataset) -> str:
    """SHA-256 of the data's arrays: the same data give the same fingerprint wherever they were loaded
    from (a directory named with or without a trailing slash, a copy elsewhere)."""
    digest = hashlib.sha256()
    for array in (dataset.x_train, dataset.y_train, dataset.x_test, dataset.y_test):
        digest.update(str(array.shape).encode())
        digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()


def summarize_arm(accuracies: np.ndarray, test_sizes: np.ndarray) -> dict:
    """Mean and sample SD over seeds of per-task final accuracy, overall accuracy, and for square accuracy
    matrices BWT and forgetting in both conventions (:mod:`sleepjax._metrics`)."""
    final = accuracies[:, -1, :]
    per_task = [mean_sd(final[:, j]) for j in range(final.shape[1])]
    summary = {
        "per_task_final": {"mean": [s["mean"] for s in per_task], "sd": [s["sd"] for s in per_task]},
        "overall": mean_sd(metrics.overall_accuracy(final, test_sizes)),
        "average_accuracy": mean_sd(final.mean(axis=1)),
    }
    if accuracies.shape[1] == accuracies.shape[2]:
        summary["bwt"] = mean_sd(metrics.backward_transfer(accuracies))
        summary["forgetting_chaudhry"] = mean_sd(metrics.forgetting_chaudhry(accuracies))
        summary["forgetting_since_learned"] = mean_sd(metrics.forgetting_since_learned(accuracies))
    return summary


def unit_checker(num_tasks: int):
    """Validation of one stored run: accuracy matrix shape and range, numbers where numbers belong."""

    def check(arm: str, seed: str, unit) -> None:
        field = f"arms.{arm}.runs.{seed}"
        rows = 1 if arm == "joint" else num_tasks
        check_matrix(unit.get("accuracy"), f"{field}.accuracy", (rows, num_tasks))
        require(is_number(unit.get("seconds")) and unit["seconds"] >= 0, f"{field}.seconds", "expected seconds >= 0")
        require(isinstance(unit.get("chunk_size"), int) and unit["chunk_size"] >= 1, f"{field}.chunk_size", "")

    return check


def settings_identity(config: Config) -> dict:
    """The part of a record's identity that comes from the settings alone: the config and the SRC vector
    it names, spelled out (so that a record is not resumed under a vector file whose content changed)."""
    label, vector = config.src_vector()
    return {"config": dataclasses.asdict(config), "src_vector": {"name": label, **vector_to_json(vector)}}


def run(
    dataset: Dataset,
    arms: Sequence[str] = ARMS,
    seeds: Sequence[int] = (0,),
    config: Config = Config(),
    out=None,
    chunk_size: int | None = None,
    progress: bool = True,
) -> dict:
    """Run ``arms`` for ``seeds`` and return (and, with ``out``, keep saving) the JSON record.

    Everything is checked before the first seed runs: arms, seeds, settings, the SRC vector, the output
    path and any existing record there. The record holds the identity of the run (config, SRC vector,
    data fingerprint, tasks), the environment, and per arm each seed's accuracy matrix, its phase
    metrics per task (wake: training loss per epoch; SRC: spikes per layer and normalisation factors),
    wall time and chunk size, and the summaries. Seeds already in a matching record are not run again.
    """
    arms = check_arms(arms)
    seeds = [int(s) for s in check_seeds(seeds)]
    if chunk_size is not None and not (isinstance(chunk_size, int) and chunk_size >= 1):
        raise ValueError(f"--chunk-size must be a positive integer, got {chunk_size}")
    scenario = make_scenario(dataset, config)
    identity = {
        **settings_identity(config),
        "data_sha256": data_fingerprint(dataset),
        "task_classes": [list(c) for c in scenario.task_classes],
        "examples_per_task": int(scenario.train.x.shape[1]),
        "test_sizes": scenario.test_sizes.tolist(),
    }
    record = Record.open(out, EXPERIMENT, identity, "arms", unit_checker(scenario.num_tasks), ARMS)
    record.data["data_source"] = dataset.source
    evaluate = AccuracyEvaluator(scenario.test)
    for arm in arms:
        entry = record.group(arm, epochs=arm_epochs(arm, scenario, config))
        todo = [s for s in seeds if s not in record.finished(arm)]
        if todo:
            _run_arm(arm, scenario, config, evaluate, record, todo, chunk_size, progress)
        done = np.array([entry["runs"][str(s)]["accuracy"] for s in seeds])
        entry["summary"] = summarize_arm(done, scenario.test_sizes)
        entry["summary_seeds"] = seeds
    record.data["seeds"] = seeds
    record.save()
    return record.data


def _run_arm(arm, scenario, config, evaluate, record, seeds, chunk_size, progress) -> None:
    """Run one arm for ``seeds``, storing and saving each chunk's results as it finishes."""
    phase, hparams, stream = make_arm(arm, scenario, config)

    def entries(chunk_seeds, result):
        return [{"accuracy": result.evaluation[i].tolist()} for i in range(len(chunk_seeds))]

    run_and_store(
        record,
        arm,
        seeds,
        entries,
        phase=phase,
        make_params=make_model_fn(config),
        tasks=stream,
        evaluate=evaluate,
        hparams=hparams,
        chunk_size=chunk_size,
        progress=progress,
    )


def format_results(record: dict, arms: Sequence[str] | None = None) -> str:
    """Final accuracies (%) per task and overall, mean ± SD over seeds, one row per arm (of ``arms``
    only when given: the summaries a run just made, not older ones another run left in the record)."""
    tasks = ["{" + ",".join(map(str, c)) + "}" for c in record["identity"]["task_classes"]]
    rows = [["arm", "seeds", *tasks, "overall", "BWT"]]
    for arm, entry in record["arms"].items():
        if "summary" not in entry or (arms is not None and arm not in arms):
            continue
        s = entry["summary"]
        per_task = [
            cell({"mean": m, "sd": sd}) for m, sd in zip(s["per_task_final"]["mean"], s["per_task_final"]["sd"])
        ]
        bwt = cell(s["bwt"]) if "bwt" in s else "-"
        rows.append([arm, str(len(entry["summary_seeds"])), *per_task, cell(s["overall"]), bwt])
    return format_table(rows)
