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

from sleepjax.data import NUM_CLASSES, Dataset
from sleepjax.phases import SupervisedTask

SPLIT_MNIST_CLASSES = ((0, 1), (2, 3), (4, 5), (6, 7), (8, 9))


class TaskStream(NamedTuple):
    """Training data of ``T`` tasks: ``x (T, n, d)`` float32, ``y (T, n)`` int32."""

    x: np.ndarray
    y: np.ndarray

    def at(self, t) -> SupervisedTask:
        """Task ``t`` as a phase sees it, with every task's inputs as its history."""
        return SupervisedTask(self.x[t], self.y[t], t, self.x)


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
    """Split a dataset into tasks by class, as in split MNIST.

    Each task trains on the *first* ``examples_per_task`` training examples (in dataset order) whose
    label is among its classes, as the reference protocol does; ``None`` keeps as many as the
    smallest task has, so all tasks have the same length. Tests use every test example of the task's
    classes. ``mode="class"``: predictions range over all classes (class-incremental);
    ``mode="task"``: over the task's own classes (task-incremental).
    """
    task_classes = tuple(tuple(int(c) for c in cs) for cs in task_classes)
    if not task_classes or any(not cs for cs in task_classes):
        raise ValueError(f"task_classes must list at least one non-empty task, got {task_classes}")
    flat = [c for cs in task_classes for c in cs]
    if len(set(flat)) != len(flat) or not all(0 <= c < NUM_CLASSES for c in flat):
        raise ValueError(f"task classes must be distinct labels in 0..{NUM_CLASSES - 1}, got {task_classes}")
    if mode not in ("class", "task"):
        raise ValueError(f"mode must be 'class' or 'task', got {mode!r}")

    train_idx = [np.flatnonzero(np.isin(dataset.y_train, cs)) for cs in task_classes]
    available = min(len(i) for i in train_idx)
    n = available if examples_per_task is None else int(examples_per_task)
    if n < 1 or n > available:
        raise ValueError(
            f"examples_per_task={examples_per_task} but the smallest task has {available} training examples"
        )
    train = TaskStream(
        x=np.stack([dataset.x_train[i[:n]] for i in train_idx]),
        y=np.stack([dataset.y_train[i[:n]] for i in train_idx]).astype(np.int32),
    )

    test_idx = [np.flatnonzero(np.isin(dataset.y_test, cs)) for cs in task_classes]
    m = max(len(i) for i in test_idx)
    num_tasks, dim = len(task_classes), dataset.x_test.shape[1]
    x = np.zeros((num_tasks, m, dim), np.float32)
    y = np.zeros((num_tasks, m), np.int32)
    mask = np.zeros((num_tasks, m), bool)
    classes = np.zeros((num_tasks, NUM_CLASSES), bool)
    for t, (idx, cs) in enumerate(zip(test_idx, task_classes)):
        x[t, : len(idx)] = dataset.x_test[idx]
        y[t, : len(idx)] = dataset.y_test[idx]
        mask[t, : len(idx)] = True
        classes[t] = True if mode == "class" else np.isin(np.arange(NUM_CLASSES), cs)

    seen = np.flatnonzero(np.isin(dataset.y_train, flat))
    joint = TaskStream(x=dataset.x_train[seen][None], y=dataset.y_train[seen][None].astype(np.int32))
    return Scenario(name, task_classes, train, EvalSet(x, y, mask, classes), joint)
