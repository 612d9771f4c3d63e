"""Scenarios whose tasks share the classes and shift the inputs: permuted and rotated MNIST (or any image
set of a :class:`~sleepjax.Dataset`).

Every task holds the same training images (all of them, or the first ``examples_per_task``) transformed
its own way: a fixed permutation of the pixels (Goodfellow et al. 2013; Kirkpatrick et al. 2017) or a
rotation by a fixed angle (Lopez-Paz & Ranzato 2017). The labels and the outputs are the same for every
task (domain-incremental: one head over all classes), and each task is tested on the whole test set
transformed the same way. Inputs of every task are held ready in the stream (``T`` copies of the
images: 1.9 GB of float32 for ten tasks of the 60,000 MNIST training images).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Literal

import numpy as np

from sleepjax._datasets import Dataset
from sleepjax._images import InputFormat, pixel_permutations, rotate_images
from sleepjax._scenarios import EvalSet, Scenario, TaskStream, dataset_arrays

#: Rotated MNIST's angles here: ten tasks, 0 to 162 degrees in steps of 18.
ROTATED_MNIST_ANGLES = tuple(18.0 * k for k in range(10))


def _shifted(
    dataset: Dataset,
    transforms: Sequence[Callable[[np.ndarray], np.ndarray]],
    name: str,
    examples_per_task: int | None,
    input_format: InputFormat | None,
    split: str,
    validation_fraction: float,
    before_format: bool,
) -> Scenario:
    """The scenario of one task per transform of the images (applied to the raw images when
    ``before_format``, e.g. a rotation, else to the formatted inputs, e.g. a permutation of the padded
    pixels, as Hsu et al. permute their 32x32 inputs)."""
    if not transforms:
        raise ValueError(f"{name} needs at least one task")
    fmt = InputFormat() if input_format is None else input_format
    if before_format:  # transform the raw images, then format every task's copy

        def arrays(t):
            images = Dataset(
                np.clip(t(dataset.x_train), 0, 1), dataset.y_train, np.clip(t(dataset.x_test), 0, 1),
                dataset.y_test, dataset.source, dataset.image_shape, dataset.num_classes,
            )  # fmt: skip
            return dataset_arrays(images, fmt, split, validation_fraction)
    else:  # format once, then transform the inputs
        x_train, y_train, x_eval, y_eval = dataset_arrays(dataset, fmt, split, validation_fraction)

        def arrays(t):
            return t(x_train), y_train, t(x_eval), y_eval

    # Every task's inputs are written straight into the stacked arrays: T copies of the data set, once.
    x = y = test = None
    for k, transform in enumerate(transforms):
        xt, yt, xe, ye = arrays(transform)
        if x is None:
            if examples_per_task is not None and not 1 <= int(examples_per_task) <= len(yt):
                raise ValueError(f"examples_per_task={examples_per_task} but the data hold {len(yt)} training examples")
            n = len(yt) if examples_per_task is None else int(examples_per_task)
            x, y = np.empty((len(transforms), n, xt.shape[1]), np.float32), np.stack([yt[:n]] * len(transforms))
            test = np.empty((len(transforms), *xe.shape), np.float32)
        x[k], test[k] = xt[: len(y[k])], xe
    classes = np.ones((len(transforms), dataset.num_classes), bool)
    evaluation = EvalSet(test, np.stack([ye] * len(transforms)), np.ones(test.shape[:2], bool), classes)
    joint = TaskStream(x.reshape(1, -1, x.shape[-1]), y.reshape(1, -1))  # a view of the tasks, no copy
    task_classes = (tuple(range(dataset.num_classes)),) * len(transforms)
    return Scenario(name, task_classes, TaskStream(x, y), evaluation, joint, "domain", dataset.num_classes)


def permuted_pixels(
    dataset: Dataset,
    num_tasks: int = 10,
    seed: int = 0,
    *,
    first_unpermuted: bool = True,
    examples_per_task: int | None = None,
    input_format: InputFormat | None = None,
    split: Literal["test", "validation"] = "test",
    validation_fraction: float = 0.1,
    name: str = "permuted-mnist",
) -> Scenario:
    """Permuted MNIST: ``num_tasks`` tasks, each the whole data set with its input pixels shuffled by a
    permutation of its own (drawn from ``seed``, part of the scenario, not of a run's seed; the first
    task keeps the original images when ``first_unpermuted``, as in Hsu et al.'s code). The permutation
    applies to the formatted inputs (after ``input_format``'s padding).

    Training: all training images (or the first ``examples_per_task``) per task; evaluation: the test set
    (``split="test"``) or the last ``validation_fraction`` of every class's training images, held out of
    training (``"validation"``). Domain-incremental: one head over all classes.
    """
    if isinstance(num_tasks, bool) or not isinstance(num_tasks, int) or num_tasks < 1:
        raise ValueError(f"num_tasks must be a positive integer, got {num_tasks!r}")
    fmt = InputFormat() if input_format is None else input_format
    size = int(np.prod(fmt.image_shape(dataset.image_shape)))
    perms = pixel_permutations(num_tasks, size, seed, first_unpermuted)
    transforms = [lambda x, p=p: x[:, p] for p in perms]
    return _shifted(dataset, transforms, name, examples_per_task, fmt, split, validation_fraction, False)


def rotated_images(
    dataset: Dataset,
    angles: Sequence[float] = ROTATED_MNIST_ANGLES,
    *,
    examples_per_task: int | None = None,
    input_format: InputFormat | None = None,
    split: Literal["test", "validation"] = "test",
    validation_fraction: float = 0.1,
    name: str = "rotated-mnist",
) -> Scenario:
    """Rotated MNIST: one task per angle (degrees, counter-clockwise), each the whole data set with every
    image rotated by it (bilinear, zero fill; before ``input_format``'s padding).

    Training, evaluation and outputs as for :func:`permuted_pixels`.
    """
    angles = [float(a) for a in angles]
    if not all(np.isfinite(angles)):
        raise ValueError(f"rotation angles must be finite, got {angles}")
    transforms = [lambda x, a=a: rotate_images(x, dataset.image_shape, a) for a in angles]
    return _shifted(dataset, transforms, name, examples_per_task, input_format, split, validation_fraction, True)


__all__ = ["ROTATED_MNIST_ANGLES", "permuted_pixels", "rotated_images"]
