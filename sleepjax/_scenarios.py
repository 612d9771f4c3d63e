"""Continual-learning scenarios as stacked fixed-shape arrays.

A scenario is a training stream of ``T`` tasks, ``x (T, n, d)`` and ``y (T, n)``, and an evaluation
set per task, padded to a common length with a mask. Fixed shapes let a whole run be one ``lax.scan``
over tasks. Tasks of different sizes (split MNIST's tasks hold 11,263 to 12,665 training examples) are
padded to the longest with copies of their own examples, marked invalid in ``TaskStream.valid``: wake
training never draws them, and a phase that ignored the mask would see repeats of real examples, never
made-up ones.

The three scenarios of van de Ven & Tolias (2019) and Hsu et al. (2018), for a split of the classes
into tasks (``mode``):

* ``"class"`` (class-incremental): one head over all classes; evaluation chooses among all of them.
  Training takes the loss over the classes seen so far (``TaskStream.classes``), as Hsu et al.'s code
  does (``train_outputs="seen"``; their ``valid_out_dim`` grows by each task's classes), or over all
  (``"all"``, as Avalanche's strategies do);
* ``"task"`` (task-incremental): each task's training and evaluation choose among its own classes only
  (``TaskStream.classes``, ``EvalSet.classes``): one masked head per task, which is exactly Hsu et al.'s
  multi-head network (a head's rows are its own);
* ``"domain"`` (domain-incremental): every task maps its classes to the same outputs, label = position
  of the class in its task (split MNIST: the digit's parity), so the tasks must have the same number of
  classes and no class in common.

:mod:`sleepjax._shifted` builds the scenarios whose tasks share the classes and change the inputs
(permuted and rotated MNIST).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Literal, NamedTuple

import numpy as np

from sleepjax._datasets import Dataset
from sleepjax._images import InputFormat, formatted
from sleepjax._phases import SupervisedTask

SPLIT_MNIST_CLASSES = ((0, 1), (2, 3), (4, 5), (6, 7), (8, 9))
MODES = ("class", "task", "domain")
Mode = Literal["class", "task", "domain"]


class TaskStream(NamedTuple):
    """Training data of ``T`` tasks: ``x (T, n, d)`` float32, ``y (T, n)`` int32; optionally
    ``classes (T, C)`` bools, the outputs each task's training may use (``None``: all), and ``valid
    (T, n)`` bools, the real examples of each task (``None``: all are)."""

    x: np.ndarray
    y: np.ndarray
    classes: np.ndarray | None = None
    valid: np.ndarray | None = None

    def at(self, t) -> SupervisedTask:
        """Task ``t`` as a phase sees it, with every task's inputs as its history."""
        classes = None if self.classes is None else self.classes[t]
        valid = None if self.valid is None else self.valid[t]
        return SupervisedTask(self.x[t], self.y[t], t, self.x, classes, valid=valid)


class EvalSet(NamedTuple):
    """Test data of ``E`` tasks padded to ``m`` examples.

    ``x (E, m, d)``, ``y (E, m)``, ``mask (E, m)`` (real examples), ``classes (E, C)`` (the outputs a
    prediction for task ``e`` chooses among).
    """

    x: np.ndarray
    y: np.ndarray
    mask: np.ndarray
    classes: np.ndarray


@dataclasses.dataclass(frozen=True)
class Scenario:
    """A named task sequence with its test sets and the joint-training stream (one task, all data).

    ``task_classes``: the classes of each task (every class, for the scenarios that shift the inputs);
    ``mode``: ``"class"``, ``"task"`` or ``"domain"``; ``num_outputs``: the network outputs it needs.
    """

    name: str
    task_classes: tuple[tuple[int, ...], ...]
    train: TaskStream
    test: EvalSet
    joint: TaskStream
    mode: str = "class"
    num_outputs: int = 10

    @property
    def num_tasks(self) -> int:
        return self.train.x.shape[0]

    @property
    def input_size(self) -> int:
        return self.train.x.shape[-1]

    @property
    def test_sizes(self) -> np.ndarray:
        """Number of real test examples per task."""
        return self.test.mask.sum(axis=1)

    @property
    def train_sizes(self) -> np.ndarray:
        """Number of real training examples per task."""
        t, n = self.train.y.shape
        return np.full(t, n) if self.train.valid is None else self.train.valid.sum(axis=1)


def stack_tasks(parts: Sequence[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """``(x (T, n, d), y (T, n), valid (T, n) or None)`` from each task's ``(x_t, y_t)``: tasks shorter
    than the longest are filled up with their own examples repeated in order and marked invalid
    (``valid`` is ``None`` when all tasks have the same length)."""
    n = max(len(y) for _, y in parts)
    fill = [np.resize(np.arange(len(y)), n) for _, y in parts]
    x = np.stack([xt if len(xt) == n else xt[i] for (xt, _), i in zip(parts, fill)])
    y = np.stack([yt if len(yt) == n else yt[i] for (_, yt), i in zip(parts, fill)])
    valid = np.stack([np.arange(n) < len(yt) for _, yt in parts])
    return x, y, None if valid.all() else valid


def eval_set(parts: Sequence[tuple[np.ndarray, np.ndarray]], classes: np.ndarray) -> EvalSet:
    """An :class:`EvalSet` of each task's ``(x_t, y_t)``, zero-padded to the longest with a mask."""
    m, dim = max(len(y) for _, y in parts), parts[0][0].shape[1]
    x = np.zeros((len(parts), m, dim), np.float32)
    y = np.zeros((len(parts), m), np.int32)
    mask = np.zeros((len(parts), m), bool)
    for t, (xt, yt) in enumerate(parts):
        x[t, : len(yt)], y[t, : len(yt)], mask[t, : len(yt)] = xt, yt, True
    return EvalSet(x, y, mask, classes)


def _checked_tasks(task_classes, num_classes: int, mode: str) -> tuple[tuple[int, ...], ...]:
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
    task_classes = tuple(tuple(int(c) for c in cs) for cs in task_classes)
    if not task_classes or any(not cs for cs in task_classes):
        raise ValueError(f"task_classes must list at least one non-empty task, got {task_classes}")
    flat = [c for cs in task_classes for c in cs]
    if not all(0 <= c < num_classes for c in flat):
        raise ValueError(f"task classes must be distinct labels in 0..{num_classes - 1}, got {task_classes}")
    for i, a in enumerate(task_classes):
        if len(set(a)) != len(a):
            raise ValueError(f"task {a} lists a class twice; task classes must be distinct labels")
        for b in task_classes[i + 1 :]:
            shared = sorted(set(a) & set(b))
            if shared and mode == "domain":
                raise ValueError(
                    f"domain-incremental tasks {a} and {b} share class {shared[0]}: each class must belong to one "
                    "task, whose outputs it is mapped to by its position there"
                )
            if shared:
                raise ValueError(f"task classes must be distinct labels, but tasks {a} and {b} share class {shared[0]}")
    if mode == "domain" and len({len(cs) for cs in task_classes}) > 1:
        raise ValueError(
            f"domain-incremental tasks share their outputs, so they need the same number of classes, got "
            f"{[len(cs) for cs in task_classes]}"
        )
    return task_classes


def _checked_arrays(name: str, x, y) -> tuple[np.ndarray, np.ndarray]:
    x, y = np.asarray(x), np.asarray(y)
    if x.ndim != 2 or x.shape[0] == 0 or not np.issubdtype(x.dtype, np.floating):
        raise ValueError(f"x_{name} must be a non-empty float array of shape (N, d), got {x.dtype} {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError(f"x_{name} holds NaN or infinite values")
    if y.shape != (x.shape[0],) or not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"y_{name} must be integer labels of shape ({x.shape[0]},), got {y.dtype} {y.shape}")
    return x.astype(np.float32, copy=False), y.astype(np.int32, copy=False)


def _mask(classes, num: int) -> np.ndarray:
    return np.isin(np.arange(num), classes)


def split_arrays(
    x_train,
    y_train,
    x_test,
    y_test,
    task_classes: Sequence[Sequence[int]],
    examples_per_task: int | None = None,
    mode: Mode = "class",
    name: str = "split",
    num_classes: int | None = None,
    *,
    train_outputs: Literal["seen", "all"] = "seen",
) -> Scenario:
    """A class-split scenario from plain arrays: any input size, any class order and task split.

    ``x_* (N, d)`` float inputs (images flattened or any feature vectors), ``y_* (N,)`` integer labels
    in ``0 .. num_classes - 1`` (default: the largest label + 1). Task ``t`` trains on the training
    examples whose label is in ``task_classes[t]``, in data order: all of them (``examples_per_task=None``,
    tasks padded to the longest, see :class:`TaskStream`), or the first ``examples_per_task`` (as the
    reference SRC protocol does). It is tested on every test example of its classes.

    ``mode``: ``"class"``, ``"task"`` or ``"domain"`` (see the module docstring); ``train_outputs``:
    in class mode, whether training takes the loss over the classes seen so far (``"seen"``, Hsu et
    al.) or over all (``"all"``). A class in two tasks, a class out of range, domain tasks of different
    sizes or a task without examples raise ``ValueError`` naming it.
    """
    x_train, y_train = _checked_arrays("train", x_train, y_train)
    x_test, y_test = _checked_arrays("test", x_test, y_test)
    if x_test.shape[1] != x_train.shape[1]:
        raise ValueError(f"x_test has {x_test.shape[1]} features but x_train has {x_train.shape[1]}")
    if num_classes is None:
        num_classes = int(max(y_train.max(), y_test.max())) + 1
    task_classes = _checked_tasks(task_classes, num_classes, mode)
    if train_outputs not in ("seen", "all"):
        raise ValueError(f"train_outputs must be 'seen' or 'all', got {train_outputs!r}")

    train_idx = [np.flatnonzero(np.isin(y_train, cs)) for cs in task_classes]
    test_idx = [np.flatnonzero(np.isin(y_test, cs)) for cs in task_classes]
    for cs, i, j in zip(task_classes, train_idx, test_idx):
        if i.size == 0 or j.size == 0:
            raise ValueError(f"task {cs} has no {'training' if i.size == 0 else 'test'} example")
    if examples_per_task is not None:
        smallest = min(len(i) for i in train_idx)
        if not 1 <= int(examples_per_task) <= smallest:
            raise ValueError(
                f"examples_per_task={examples_per_task} but the smallest task has {smallest} training examples"
            )

    # Domain-incremental: a class's position in its task (Hsu et al.'s remapping); else the class itself.
    lookup = np.arange(num_classes, dtype=np.int32)
    if mode == "domain":
        for cs in task_classes:
            lookup[list(cs)] = np.arange(len(cs))
    joint_idx = np.sort(np.concatenate(train_idx))  # joint training: every example of the tasks, in data order
    x_joint = x_train if len(joint_idx) == len(x_train) else x_train[joint_idx]  # every example: no copy
    if examples_per_task is not None:
        train_idx = [i[: int(examples_per_task)] for i in train_idx]
    x, y, valid = stack_tasks([(x_train[i], lookup[y_train[i]]) for i in train_idx])
    test = [(x_test[i], lookup[y_test[i]]) for i in test_idx]
    if mode == "domain":
        outputs = len(task_classes[0])
        train_classes, eval_classes = None, np.ones((len(task_classes), outputs), bool)
    else:
        outputs = num_classes
        own = np.stack([_mask(cs, outputs) for cs in task_classes])
        seen = np.logical_or.accumulate(own, axis=0)
        train_classes = own if mode == "task" else seen if train_outputs == "seen" else None
        eval_classes = own if mode == "task" else np.ones_like(own)
    return Scenario(
        name,
        task_classes,
        TaskStream(x, y, train_classes, valid),
        eval_set(test, eval_classes),
        TaskStream(x_joint[None], lookup[y_train[joint_idx]][None]),
        mode,
        outputs,
    )


def validation_split(x: np.ndarray, y: np.ndarray, fraction: float) -> tuple[np.ndarray, ...]:
    """``(x_fit, y_fit, x_val, y_val)``: the last ``fraction`` of every class's training examples (in data
    order, at least one) held out for validation, the rest kept for training, both in data order.

    What a search scores hyperparameters on instead of the test set. Raises ``ValueError`` unless
    ``0 < fraction < 1`` leaves every class at least one example on each side.
    """
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"validation fraction must lie strictly between 0 and 1, got {fraction}")
    held = np.zeros(len(y), bool)
    for c in np.unique(y):
        idx = np.flatnonzero(y == c)
        k = max(1, int(round(fraction * len(idx))))
        if k >= len(idx):
            raise ValueError(f"class {c} has {len(idx)} training example(s), too few to hold {fraction:g} out")
        held[idx[-k:]] = True
    return x[~held], y[~held], x[held], y[held]


def dataset_arrays(
    dataset: Dataset, input_format: InputFormat | None, split: str, validation_fraction: float
) -> tuple[np.ndarray, ...]:
    """``(x_train, y_train, x_eval, y_eval)`` of ``dataset`` formatted as ``input_format`` says: the
    training and test sets (``split="test"``) or the training set less its validation part and that part
    (``"validation"``, see :func:`validation_split`)."""
    if split not in ("test", "validation"):
        raise ValueError(f"split must be 'test' or 'validation', got {split!r}")
    fmt = InputFormat() if input_format is None else input_format
    fmt.check()
    x_train, y_train, x_eval, y_eval = dataset.x_train, dataset.y_train, dataset.x_test, dataset.y_test
    if split == "validation":
        x_train, y_train, x_eval, y_eval = validation_split(x_train, y_train, validation_fraction)
    shape = dataset.image_shape
    return formatted(x_train, shape, fmt), y_train, formatted(x_eval, shape, fmt), y_eval


def split_by_class(
    dataset: Dataset,
    task_classes: Sequence[Sequence[int]] = SPLIT_MNIST_CLASSES,
    examples_per_task: int | None = 5000,
    mode: Mode = "class",
    name: str = "split-mnist",
    *,
    input_format: InputFormat | None = None,
    split: Literal["test", "validation"] = "test",
    validation_fraction: float = 0.1,
    train_outputs: Literal["seen", "all"] = "seen",
) -> Scenario:
    """Split a :class:`~sleepjax.Dataset` (MNIST, or any TFDS image set) into tasks by class, as in split
    MNIST; see :func:`split_arrays` for ``examples_per_task``, ``mode`` and ``train_outputs``.

    ``examples_per_task=5000`` is the reference SRC protocol; ``None`` trains each task on all training
    examples of its classes (Hsu et al.). ``input_format`` pads and standardises the images
    (:data:`~sleepjax.HSU_MNIST_INPUT`: 32x32, as Hsu et al.). ``split="validation"`` evaluates on the
    last ``validation_fraction`` of every class's training examples and trains on the rest (what a
    search scores on; never the test set).
    """
    x_train, y_train, x_eval, y_eval = dataset_arrays(dataset, input_format, split, validation_fraction)
    return split_arrays(
        x_train,
        y_train,
        x_eval,
        y_eval,
        task_classes,
        examples_per_task,
        mode,
        name,
        num_classes=dataset.num_classes,
        train_outputs=train_outputs,
    )


def held_out(
    x_train, y_train, task_classes: Sequence[Sequence[int]], examples_per_task: int, per_task: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Training examples a class split never trains on, for validation: ``(x_val, y_val)``.

    :func:`split_arrays` trains task ``t`` on the first ``examples_per_task`` training examples of its
    classes; the ones after them are unseen. This returns, per task, the next ``per_task`` of them
    (default: all), so that a search can score on data carved from the training set and never look at
    the test set. Raises ``ValueError`` if some task has no example left over.
    """
    y_train = np.asarray(y_train)
    picked = []
    for cs in task_classes:
        rest = np.flatnonzero(np.isin(y_train, cs))[examples_per_task:]
        if rest.size == 0:
            raise ValueError(
                f"task {tuple(cs)} has no training example beyond the first {examples_per_task} to validate on"
            )
        picked.append(rest if per_task is None else rest[:per_task])
    order = np.sort(np.concatenate(picked))
    return np.asarray(x_train)[order], y_train[order]
