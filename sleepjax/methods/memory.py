"""A rehearsal memory of fixed shape: stored examples, their labels and outputs, a fill mask and counters.

Every method that keeps examples (:func:`~sleepjax.replay`, :func:`~sleepjax.agem`, :func:`~sleepjax.icarl`,
:func:`~sleepjax.der`) keeps a :class:`Memory` of ``budget`` slots, so a whole run (and a vmapped batch of
runs) has one shape. A memory is updated only after a task's training, from that task's examples: it
never holds an example of a task not yet trained.

Which examples stay is decided by a *priority*, one number per example given when the example is first
offered and kept with it: the memory keeps, among what it holds and what it is offered,

* ``"reservoir"``: the ``budget`` examples of highest priority. With uniform random priorities this is
  reservoir sampling (Vitter's algorithm R, in its random-priority form): after ``N`` examples each one is
  in the memory with probability ``budget / N``, whatever task it came from;
* ``"class_balanced"``: for each class seen so far, its ``budget // classes_seen`` examples of highest
  priority (all of them if it has fewer), so every class keeps exactly its share; the remainder of the
  division stays empty. With random priorities each class's share is a uniform sample of its examples
  (also when a class returns in a later task); with herding ranks (iCaRL) it is the first exemplars of
  the herding order.
"""

from __future__ import annotations

from typing import Literal, NamedTuple

import jax
import jax.numpy as jnp

from sleepjax._typing import Array, Bool, Float, Int

Strategy = Literal["reservoir", "class_balanced"]
STRATEGIES = ("reservoir", "class_balanced")


class Memory(NamedTuple):
    """A rehearsal memory of ``B`` slots (all arrays, so a batch of runs vmaps over it).

    Attributes:
        x: ``(B, ...)`` stored inputs (zeros where empty).
        y: ``(B,)`` their labels.
        classes: ``(B, C)`` the outputs of the task each example was learned in (all outputs where the task
            restricted none, and where the slot is empty).
        logits: ``(B, C)`` the network's outputs on each example when it was stored (DER), or ``None``.
        priority: ``(B,)`` the priority each example was offered with (see the module docstring).
        filled: ``(B,)`` which slots hold an example.
        seen: ``(C,)`` the classes seen so far (the labels of every example offered).
        count: how many examples have been offered so far (the length of the stream).
    """

    x: Float[Array, "B ..."]
    y: Int[Array, " B"]
    classes: Bool[Array, "B C"]
    logits: Float[Array, "B C"] | None
    priority: Float[Array, " B"]
    filled: Bool[Array, " B"]
    seen: Bool[Array, " C"]
    count: Int[Array, ""]


def check_strategy(method: str, strategy: str) -> str:
    if strategy not in STRATEGIES:
        raise ValueError(f"{method} strategy must be one of {', '.join(STRATEGIES)}, got {strategy!r}")
    return strategy


def check_balanced(method: str, budget: int, num_classes: int) -> None:
    """``ValueError`` when a class-balanced memory of ``budget`` cannot keep one example of each of
    ``num_classes`` classes (its per-class share would fall to 0 once they are all seen)."""
    if budget < num_classes:
        raise ValueError(
            f"{method}: a class-balanced memory of {budget} examples cannot keep one example of each of the "
            f"network's {num_classes} classes"
        )


def empty_memory(budget: int, shape: tuple[int, ...], num_classes: int, logits: bool = False) -> Memory:
    """A memory of ``budget`` empty slots for inputs of ``shape`` and ``num_classes`` outputs."""
    return Memory(
        x=jnp.zeros((budget, *shape), jnp.float32),
        y=jnp.zeros(budget, jnp.int32),
        classes=jnp.ones((budget, num_classes), bool),
        logits=jnp.zeros((budget, num_classes), jnp.float32) if logits else None,
        priority=jnp.zeros(budget, jnp.float32),
        filled=jnp.zeros(budget, bool),
        seen=jnp.zeros(num_classes, bool),
        count=jnp.zeros((), jnp.int32),
    )


def rank_in_class(labels: Array, priority: Array, valid: Array, num_classes: int) -> Int[Array, " n"]:
    """Each valid example's rank among the valid examples of its class by priority (0: the highest)."""
    group = jnp.where(valid, labels, num_classes)
    order = jnp.lexsort((-priority, group))
    sorted_group = group[order]
    start = jnp.searchsorted(sorted_group, sorted_group, side="left")
    return jnp.zeros_like(labels).at[order].set(jnp.arange(labels.shape[0]) - start)


def offer(
    memory: Memory,
    x: Array,
    y: Array,
    classes: Array,
    priority: Array,
    offered: Array,
    strategy: Strategy,
    logits: Array | None = None,
) -> Memory:
    """The memory after ``offered`` examples (``x``, ``y``, their task's outputs ``classes (n, C)``, their
    ``priority`` and, for DER, ``logits``) are offered to it under ``strategy``; see the module docstring."""
    budget, num_classes = memory.y.shape[0], memory.seen.shape[0]
    candidates = Memory(
        x=jnp.concatenate([memory.x, x.astype(memory.x.dtype)]),
        y=jnp.concatenate([memory.y, y.astype(jnp.int32)]),
        classes=jnp.concatenate([memory.classes, classes]),
        logits=None if memory.logits is None else jnp.concatenate([memory.logits, logits.astype(memory.logits.dtype)]),
        priority=jnp.concatenate([memory.priority, priority.astype(jnp.float32)]),
        filled=jnp.concatenate([memory.filled, offered]),
        seen=memory.seen | jnp.any(jax.nn.one_hot(y, num_classes, dtype=bool) & offered[:, None], axis=0),
        count=memory.count + jnp.sum(offered, dtype=jnp.int32),
    )
    keep = candidates.filled
    if strategy == "class_balanced":
        quota = budget // jnp.maximum(jnp.sum(candidates.seen, dtype=jnp.int32), 1)
        keep = keep & (rank_in_class(candidates.y, candidates.priority, keep, num_classes) < quota)
    # The kept examples of highest priority first; at most ``budget`` of them are kept.
    order = jnp.argsort(jnp.where(keep, -candidates.priority, jnp.inf), stable=True)[:budget]
    filled = keep[order]

    def slots(a, empty):
        a = a[order]
        return jnp.where(filled.reshape((budget,) + (1,) * (a.ndim - 1)), a, empty)

    return candidates._replace(
        x=slots(candidates.x, 0),
        y=slots(candidates.y, 0),
        classes=slots(candidates.classes, True),
        logits=None if candidates.logits is None else slots(candidates.logits, 0),
        priority=slots(candidates.priority, 0),
        filled=filled,
    )


def sample(memory: Memory, key: jax.Array, size: int) -> Int[Array, " size"]:
    """``size`` slot indices drawn uniformly, with replacement, among the filled slots (meaningless when
    none is filled: check ``memory.filled.any()``)."""
    return jax.random.categorical(key, jnp.where(memory.filled, 0.0, -jnp.inf), shape=(size,))


def merged(memory: Memory, x, y, classes, valid, repeats: int):
    """The training set ``x, y`` (with its examples' outputs ``classes`` or ``None``, and ``valid`` mask)
    followed by the memory repeated ``repeats`` times; empty slots are padding (``valid`` false)."""

    def tiled(a):
        return jnp.concatenate([a] * repeats)

    x = jnp.concatenate([x, tiled(memory.x.astype(x.dtype))])
    y = jnp.concatenate([y, tiled(memory.y.astype(y.dtype))])
    classes = None if classes is None else jnp.concatenate([classes, tiled(memory.classes)])
    valid = jnp.concatenate([valid, tiled(memory.filled)])
    return x, y, classes, valid


def replayed(memory: Memory, x, y, classes, key: jax.Array):
    """A minibatch ``x, y`` (with its examples' outputs ``classes`` or ``None``) followed by as many
    examples drawn from the memory. While the memory is empty the minibatch is followed by itself, which
    leaves a mean loss unchanged."""
    idx = sample(memory, key, y.shape[0])
    some = memory.filled.any()
    xm = jnp.where(some, memory.x[idx].astype(x.dtype), x)
    ym = jnp.where(some, memory.y[idx].astype(y.dtype), y)
    x, y = jnp.concatenate([x, xm]), jnp.concatenate([y, ym])
    if classes is not None:
        classes = jnp.concatenate([classes, jnp.where(some, memory.classes[idx], classes)])
    return x, y, classes


def offered_classes(task_classes: Array, n: int) -> Bool[Array, "n C"]:
    """Every one of ``n`` examples of a task with the task's outputs ``(C,)``."""
    return jnp.broadcast_to(task_classes, (n, task_classes.shape[0]))
