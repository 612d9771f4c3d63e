"""The experiment's schedules: sequences of blocks, each block one of a few phases on one task.

After an unsupervised period (all four kinds present, plain STDP on input->hidden, which is then
frozen) and Task 1 training, the conditions differ only in what follows:

* ``sequential``: Task 2 training;
* ``interleaved_task1``: Task 2 and Task 1 training alternating block by block (needs the old task);
* ``interleaved_sleep``: Task 2 training alternating with sleep block by block (100 cycles each in
  the paper);
* ``noise_sleep``: the same with uniform-noise sleep (one rate for all hidden neurons);
* ``sleep_only``: the *naive* network (unsupervised period only) sleeps as long as
  ``interleaved_sleep`` sleeps in all, with no Task 2 training.

An interleaved phase lasts as long as the sequential Task 2 phase, half of it Task 2 training (the
paper's; :attr:`Durations.interleave` ``"split"``), or holds as much Task 2 training as the sequential
phase with as many cycles of the other kind added, twice as long (``"added"``, the form before).

Every schedule ends with test blocks on Task 1 and then on Task 2 (no plasticity). A schedule is
*data*: a :class:`~sleepjax.foraging.agent.ForagingTask` pytree with a leading block axis whose
``index`` is the block's :data:`MODES` entry, padded with idle blocks to a common length. The phase
that runs it is ``by_task(test, unsupervised, train, sleep, noise sleep, idle)``
(:func:`block_phase`), stepped by :func:`~sleepjax.continual_run`; so every schedule of a run,
prefix and conditions alike, is one compiled program, and the per-block ``lax.switch`` executes only
the block's own phase (the schedule is the same for every vmapped trial).
"""

from __future__ import annotations

import dataclasses

import jax.numpy as jnp
import numpy as np

from sleepjax._phases import Phase, by_task
from sleepjax.foraging.agent import (
    TASK1,
    TASK2,
    ForagingTask,
    idle_phase,
    sleep_phase,
    wake_phase,
)
from sleepjax.foraging.environment import NOTHING
from sleepjax.foraging.network import NetConfig

CONDITIONS = ("after_task1", "sequential", "interleaved_task1", "interleaved_sleep", "noise_sleep", "sleep_only")

#: Block modes, in the order of :func:`block_phase`'s branches.
MODES = ("test", "unsupervised", "train", "sleep", "noise_sleep", "idle")
TEST, UNSUPERVISED, TRAIN, SLEEP, NOISE_SLEEP, IDLE = range(len(MODES))


#: How an interleaved phase is laid out (module docstring).
INTERLEAVINGS = ("split", "added")


@dataclasses.dataclass(frozen=True)
class Durations:
    """Phase lengths in movement cycles (the paper's are far beyond a CPU; see the reproduction page).

    Every length is a whole number of ``block`` cycles (100 in the paper's interleaving). ``task2`` is
    the length of the Task 2 phase of every condition; ``interleave`` (:data:`INTERLEAVINGS`) says
    whether an interleaved phase splits it into halves of Task 2 training and of the other kind
    (``"split"``, the paper's) or adds as many cycles of the other kind to ``task2`` cycles of Task 2
    training (``"added"``); ``test`` cycles per task score a network; ``curve_block`` cycles make one
    point of a learning curve.
    """

    unsupervised: int = 500
    task1: int = 3000
    task2: int = 3000
    block: int = 100
    test: int = 1000
    curve_block: int = 100
    interleave: str = "split"

    def __post_init__(self):
        if self.interleave not in INTERLEAVINGS:
            raise ValueError(
                f"Durations.interleave (--interleave) must be one of {INTERLEAVINGS}, got {self.interleave!r}"
            )
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if field.name != "interleave" and (not isinstance(value, int) or value < 1):
                flag = field.name.replace("_", "-")
                raise ValueError(f"Durations.{field.name} (--{flag}) must be a positive integer, got {value!r}")
        for name in ("unsupervised", "task1", "task2", "test"):
            if getattr(self, name) % self.block:
                raise ValueError(
                    f"Durations.{name}={getattr(self, name)} (--{name}) is not a multiple of block={self.block}"
                )
        if self.interleave == "split" and self.task2 % (2 * self.block):
            raise ValueError(
                f"Durations.task2={self.task2} (--task2) is not a multiple of 2 x block={2 * self.block}: "
                "an interleaved phase alternates Task 2 blocks with as many blocks of the other kind"
            )
        if self.block % self.curve_block:
            raise ValueError(f"Durations.block={self.block} is not a multiple of curve_block={self.curve_block}")

    @property
    def rounds(self) -> int:
        """Task 2 blocks of an interleaved phase, each followed by one block of the other kind."""
        return self.task2 // self.block // (2 if self.interleave == "split" else 1)


def _block(mode: int, task: tuple[int, int] | None) -> tuple:
    present = np.zeros(4, bool)
    if task is None:
        present[:] = True
        rewarded = punished = NOTHING
    else:
        rewarded, punished = task
        present[[rewarded, punished]] = True
    return present, rewarded, punished, mode


def _blocks(n: int, mode: int, task) -> list[tuple]:
    return [_block(mode, task)] * n


def schedule_blocks(stage: str, durations: Durations) -> list[tuple]:
    """The blocks of ``stage``: ``"unsupervised"``, ``"task1"`` (training then tests), or a condition
    after Task 1 (``sleep_only``: from the naive network)."""
    d = durations
    n = lambda cycles: cycles // d.block  # noqa: E731
    tests = _blocks(n(d.test), TEST, TASK1) + _blocks(n(d.test), TEST, TASK2)
    rounds = d.rounds
    if stage == "unsupervised":
        return _blocks(n(d.unsupervised), UNSUPERVISED, None)
    if stage == "task1":
        return _blocks(n(d.task1), TRAIN, TASK1) + tests
    if stage == "sequential":
        return _blocks(n(d.task2), TRAIN, TASK2) + tests
    pairs = {
        "interleaved_task1": (TRAIN, TASK1),
        "interleaved_sleep": (SLEEP, TASK2),
        "noise_sleep": (NOISE_SLEEP, TASK2),
    }
    if stage in pairs:
        other = _block(*pairs[stage])
        return [b for _ in range(rounds) for b in (_block(TRAIN, TASK2), other)] + tests
    if stage == "sleep_only":
        return _blocks(rounds, SLEEP, TASK2) + tests
    raise ValueError(f"unknown stage {stage!r}; expected unsupervised, task1 or one of {CONDITIONS[1:]}")


STAGES = ("unsupervised", "task1", *CONDITIONS[1:])


def schedule_length(durations: Durations) -> int:
    """Blocks of the longest stage; every stage is padded to it."""
    return max(len(schedule_blocks(s, durations)) for s in STAGES)


def schedule(stage: str, durations: Durations) -> ForagingTask:
    """``stage``'s blocks padded with idle blocks to :func:`schedule_length`, as a block-axis pytree."""
    blocks = schedule_blocks(stage, durations)
    blocks += _blocks(schedule_length(durations) - len(blocks), IDLE, None)
    present, rewarded, punished, mode = (np.asarray(x) for x in zip(*blocks))
    return ForagingTask(
        jnp.asarray(present),
        jnp.asarray(rewarded, jnp.int32),
        jnp.asarray(punished, jnp.int32),
        jnp.asarray(mode, jnp.int32),
    )


def block_phase(durations: Durations, config: NetConfig) -> Phase:
    """One block of any mode: ``by_task`` over :data:`MODES` (the task's ``index`` is the mode); its
    metrics are the block's own phase's (every mode reports the same structure)."""
    b = durations.block
    return by_task(
        wake_phase(b, config, "none"),
        wake_phase(b, config, "input"),
        wake_phase(b, config, "output"),
        sleep_phase(b, config),
        sleep_phase(b, config, uniform=True),
        idle_phase(b, config),
        metrics="taken",
    )
