"""Class orders of split MNIST: the ones a search draws from a seed and the fixed ones kept to confirm.

An order is the sequence of tasks, each a tuple of classes, e.g. ``((7, 4), (0, 2), (1, 5), (6, 8), (3, 9))``
(written ``7,4/0,2/1,5/6,8/3,9`` on the command line). Two orders are the same when they hold the same
tasks in the same sequence; the order of the classes inside a task does not count (a task trains on its
classes' examples in data order and is evaluated on all of them).

A search scored over class orders (``sleepjax tune split-mnist --orders K``) draws its orders with
:func:`draw_orders`; it never draws the default order nor one of :data:`CONFIRMATION_ORDERS`, so both
stay unseen by every search and a vector can be confirmed on them.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from sleepjax._scenarios import SPLIT_MNIST_CLASSES

Order = tuple[tuple[int, ...], ...]

#: The default order of split MNIST, {0,1} {2,3} {4,5} {6,7} {8,9}: the reference protocol's.
DEFAULT_ORDER: Order = SPLIT_MNIST_CLASSES

#: Orders kept for confirmation only, never drawn by a search: the order of issue 27, in which the first
#: ``mnist-tuned`` fell below the reference, and the first four permutations of
#: ``numpy.random.default_rng(27)``, cut into pairs.
CONFIRMATION_ORDERS: tuple[Order, ...] = (
    ((7, 4), (0, 2), (1, 5), (6, 8), (3, 9)),
    ((8, 0), (1, 5), (9, 6), (2, 3), (4, 7)),
    ((7, 8), (2, 6), (3, 4), (0, 5), (9, 1)),
    ((5, 0), (3, 4), (1, 2), (9, 7), (8, 6)),
    ((4, 1), (6, 2), (3, 5), (8, 9), (0, 7)),
)

#: Most orders one search may draw.
MAX_ORDERS = 1000

NUM_CLASSES = 10
CLASSES_PER_TASK = 2


def canonical(order: Sequence[Sequence[int]]) -> tuple[frozenset[int], ...]:
    """What makes two orders the same: the sequence of their tasks' class sets."""
    return tuple(frozenset(int(c) for c in task) for task in order)


def check_order(order: Sequence[Sequence[int]], what: str = "class order") -> Order:
    """``order`` as a tuple of tuples of ints, refused (``ValueError`` naming ``what``) unless its tasks
    are non-empty and its classes distinct labels in 0..9."""
    try:
        tasks = tuple(tuple(int(c) for c in task) for task in order)
    except (TypeError, ValueError):
        raise ValueError(f"{what} must be a sequence of tasks of class labels, got {order!r}") from None
    flat = [c for task in tasks for c in task]
    if not tasks or any(not task for task in tasks):
        raise ValueError(f"{what} needs at least one task and no empty task, got {format_order(tasks)}")
    repeated = sorted({c for c in flat if flat.count(c) > 1})
    if repeated:
        raise ValueError(f"{what} {format_order(tasks)} repeats class {', '.join(map(str, repeated))}")
    if not all(0 <= c < NUM_CLASSES for c in flat):
        raise ValueError(f"{what} {format_order(tasks)}: classes must be labels 0..{NUM_CLASSES - 1}")
    return tasks


def format_order(order: Sequence[Sequence[int]]) -> str:
    """The command line's spelling of an order, e.g. ``7,4/0,2/1,5/6,8/3,9`` (``--task-classes``)."""
    return "/".join(",".join(str(c) for c in task) for task in order)


def parse_order(text: str, what: str = "class order") -> Order:
    """An order from its spelling (:func:`format_order`), checked by :func:`check_order`."""
    try:
        tasks = [[int(c) for c in task.split(",")] for task in text.split("/")]
    except ValueError:
        raise ValueError(
            f"{what} takes tasks separated by '/' of comma-separated digits, e.g. 7,4/0,2/1,5/6,8/3,9; got {text!r}"
        ) from None
    return check_order(tasks, what)


def draw_orders(count: int, seed: int) -> list[Order]:
    """``count`` distinct class orders of five two-class tasks, reproducible from ``seed``.

    Each is a permutation of the ten classes from ``numpy.random.default_rng(seed)``, cut into pairs;
    a permutation giving the default order, a confirmation order (:data:`CONFIRMATION_ORDERS`) or an
    order already drawn is skipped. Refuses (``ValueError`` naming ``--orders`` / ``--orders-seed``) a
    count outside 1..:data:`MAX_ORDERS` or a seed that is not a non-negative integer.
    """
    if isinstance(count, bool) or not isinstance(count, int | np.integer) or not 1 <= count <= MAX_ORDERS:
        raise ValueError(f"--orders must be a number of class orders from 1 to {MAX_ORDERS}, got {count!r}")
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"--orders-seed must be a non-negative integer, got {seed!r}")
    excluded = {canonical(DEFAULT_ORDER), *(canonical(o) for o in CONFIRMATION_ORDERS)}
    rng = np.random.default_rng(int(seed))
    orders: list[Order] = []
    while len(orders) < count:
        p = [int(c) for c in rng.permutation(NUM_CLASSES)]
        order = tuple(tuple(p[i : i + CLASSES_PER_TASK]) for i in range(0, NUM_CLASSES, CLASSES_PER_TASK))
        if canonical(order) not in excluded:
            excluded.add(canonical(order))
            orders.append(order)
    return orders
