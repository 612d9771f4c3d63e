"""Continual-learning scenarios as stacked fixed-shape arrays.

A scenario is a training stream of ``T`` tasks, ``x (T, n, d)`` and ``y (T, n)``, and an evaluation
set per task, padded to a common length with a mask. Fixed shapes let a whole run be one ``lax.scan``
over tasks. Evaluation sets also carry the classes a prediction may choose from: all classes in the
class-incremental scenario (one shared head), only the task's own in the task-incremental one.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Literal, NamedTuple

import numpy as np

from sleepjax._datasets import NUM_CLASSES, Dataset
from sleepjax._phases import SupervisedTask

SPLIT_MNIST_CLASSES = ((0, 1), (2, 3), (4, 5), (6, 7), (8, 9))


class TaskStream(NamedTuple):
    """Training data of ``T`` tasks: ``x (T, n, d)`` float32, ``y (T, n)`` int32, and optionally
    ``classes (T, C)`` bools, the outputs each task's training may use (``None``: all)."""

    x: np.ndarray
    y: np.ndarray
    classes: np.ndarray | None = None

    def at(self, t) -> SupervisedTask:
        """Task ``t`` as a phase sees it, with every task's inputs as its history."""
        classes = None if self.classes is None else self.classes[t]
        return SupervisedTask(self.x[t], self.y[t], t, self.x, classes)


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
    """A named task sequence with its test sets and the joint-training stream (one task, all data)."""

    name: str
    task_classes: tuple[tuple[int, ...], ...]
    train: TaskStream
    test: EvalSet
    joint: TaskStream

    @property
    def num_tasks(self) -> int:
        return self.train.x.shape[0]

    @property
    def test_sizes(self) -> np.ndarray:
        """Number of real test examples per task."""
        return self.test.mask.sum(axis=1)


def split_by_class(
    dataset: Dataset,
    task_classes: Sequence[Sequence[int]] = SPLIT_MNIST_CLASSES,
    examples_per_task: int | None = 5000,
    mode: Literal["class", "task"] = "class",
    name: str = "split-mnist",
) -> Scenario:
    """Split a (MNIST) :class:`~sleepjax._datasets.Dataset` into tasks by class, as in split MNIST; see
    :func:`split_arrays`."""
    return split_arrays(
        dataset.x_train,
        dataset.y_train,
        dataset.x_test,
        dataset.y_test,
        task_classes,
        examples_per_task,
        mode,
        name,
        num_classes=NUM_CLASSES,
    )


def _task_indices(y: np.ndarray, task_classes) -> list[np.ndarray]:
    """Indices (in data order) of the examples of each task's classes."""
    return [np.flatnonzero(np.isin(y, cs)) for cs in task_classes]


def _checked_tasks(task_classes, num_classes: int) -> tuple[tuple[int, ...], ...]:
    task_classes = tuple(tuple(int(c) for c in cs) for cs in task_classes)
    if not task_classes or any(not cs for cs in task_classes):
        raise ValueError(f"task_classes must list at least one non-empty task, got {task_classes}")
    flat = [c for cs in task_classes for c in cs]
    if len(set(flat)) != len(flat) or not all(0 <= c < num_classes for c in flat):
        raise ValueError(f"task classes must be distinct labels in 0..{num_classes - 1}, got {task_classes}")
    return task_classes


def _checked_arrays(name: str, x, y) -> tuple[np.ndarray, np.ndarray]:
    x, y = np.asarray(x), np.asarray(y)
    if x.ndim != 2 or x.shape[0] == 0 or not np.issubdtype(x.dtype, np.floating):
        raise ValueError(f"x_{name} must be a non-empty float array of shape (N, d), got {x.dtype} {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError(f"x_{name} holds NaN or infinite values")
    if y.shape != (x.shape[0],) or not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"y_{name} must be integer labels of shape ({x.shape[0]},), got {y.dtype} {y.shape}")
    return x.astype(np.float32), y.astype(np.int32)


def split_arrays(
    x_train,
    y_train,
    x_test,
    y_test,
    task_classes: Sequence[Sequence[int]],
    examples_per_task: int | None = None,
    mode: Literal["class", "task"] = "class",
    name: str = "split",
    num_classes: int | None = None,
) -> Scenario:
    """A class-split scenario from plain arrays: any input size, any class order and task split.

    ``x_* (N, d)`` float inputs (images flattened or any feature vectors), ``y_* (N,)`` integer labels
    in ``0 .. num_classes - 1`` (default: the largest label + 1). Task ``t`` trains on the *first*
    ``examples_per_task`` training examples (in data order) whose label is in ``task_classes[t]``, as
    the reference split-MNIST protocol does; ``None`` keeps as many as the smallest task has, so all
    tasks have the same length. Tests use every test example of the task's classes.
    ``mode="class"``: predictions range over all classes (class-incremental); ``mode="task"``: over the
    task's own classes (task-incremental).
    """
    x_train, y_train = _checked_arrays("train", x_train, y_train)
    x_test, y_test = _checked_arrays("test", x_test, y_test)
    if x_test.shape[1] != x_train.shape[1]:
        raise ValueError(f"x_test has {x_test.shape[1]} features but x_train has {x_train.shape[1]}")
    if num_classes is None:
        num_classes = int(max(y_train.max(), y_test.max())) + 1
    task_classes = _checked_tasks(task_classes, num_classes)
    if mode not in ("class", "task"):
        raise ValueError(f"mode must be 'class' or 'task', got {mode!r}")

    train_idx = _task_indices(y_train, task_classes)
    available = min(len(i) for i in train_idx)
    n = available if examples_per_task is None else int(examples_per_task)
    if n < 1 or n > available:
        raise ValueError(
            f"examples_per_task={examples_per_task} but the smallest task has {available} training examples"
        )
    train = TaskStream(
        x=np.stack([x_train[i[:n]] for i in train_idx]),
        y=np.stack([y_train[i[:n]] for i in train_idx]),
    )

    test_idx = _task_indices(y_test, task_classes)
    if min(len(i) for i in test_idx) == 0:
        raise ValueError(f"some task of {task_classes} has no test example")
    m = max(len(i) for i in test_idx)
    num_tasks, dim = len(task_classes), x_test.shape[1]
    x = np.zeros((num_tasks, m, dim), np.float32)
    y = np.zeros((num_tasks, m), np.int32)
    mask = np.zeros((num_tasks, m), bool)
    classes = np.zeros((num_tasks, num_classes), bool)
    for t, (idx, cs) in enumerate(zip(test_idx, task_classes)):
        x[t, : len(idx)] = x_test[idx]
        y[t, : len(idx)] = y_test[idx]
        mask[t, : len(idx)] = True
        classes[t] = True if mode == "class" else np.isin(np.arange(num_classes), cs)

    seen = np.flatnonzero(np.isin(y_train, [c for cs in task_classes for c in cs]))
    joint = TaskStream(x=x_train[seen][None], y=y_train[seen][None])
    return Scenario(name, task_classes, train, EvalSet(x, y, mask, classes), joint)


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
    for cs, idx in zip(task_classes, _task_indices(y_train, task_classes)):
        rest = idx[examples_per_task:]
        if rest.size == 0:
            raise ValueError(
                f"task {tuple(cs)} has no training example beyond the first {examples_per_task} to validate on"
            )
        picked.append(rest if per_task is None else rest[:per_task])
    order = np.sort(np.concatenate(picked))
    return np.asarray(x_train)[order], y_train[order]
