"""One trial of the experiment: stages run as block schedules, and their scores and learning curves.

A stage is a continual run (:func:`~sleepjax.continual_run`) whose tasks are the blocks of a schedule
(:mod:`sleepjax.foraging.schedules`) and whose phase is :func:`~sleepjax.foraging.schedules.block_phase`;
its final network is where the next stage starts (conditions branch from the Task-1-trained one). The
command line runs every stage of a batch of trials through :func:`~sleepjax.run_batch` with
:func:`member_keys` and :func:`split_keys`; :func:`run_stage` is one stage of one trial, for probes.
A trial's stages are ``unsupervised`` (-> the naive network), ``task1`` from it (-> the trained network,
scored: ``after_task1``), then each condition from the trained network (``sleep_only``: from the naive
one).

Scores and curves are computed on the host from the eaten kinds and the schedule: the pattern
discriminability of the test blocks of each task, and of the training blocks of the stage's task per
``curve_block`` cycles. Keys are derived from the trial's seed and the stage alone, so a trial gives the
same numbers whether it runs alone or vmapped among others.
"""

from __future__ import annotations

import dataclasses
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from sleepjax._continual import continual_run
from sleepjax.foraging.agent import TASK1, TASK2, ForagingTask, discriminability, make_task
from sleepjax.foraging.network import Agent, Hparams, NetConfig, init_agent
from sleepjax.foraging.schedules import STAGES, TEST, TRAIN, Durations, block_phase


class StageResult(NamedTuple):
    """``agent`` at the end of the stage; ``eaten (L, block)`` kind eaten per cycle of every block."""

    agent: Agent
    eaten: jax.Array


def stage_key(seed_key: jax.Array, stage: str) -> jax.Array:
    """The key of ``stage`` in the trial of ``seed_key``."""
    return jax.random.fold_in(seed_key, STAGES.index(stage))


def agent_key(seed_key: jax.Array) -> jax.Array:
    """The key of the trial's initial network."""
    return jax.random.fold_in(seed_key, len(STAGES))


def initial_agent(seed_key: jax.Array, hp: Hparams, config: NetConfig) -> Agent:
    return init_agent(agent_key(seed_key), config, hp)


def member_keys(stage: str):
    """The engine's member keys of ``stage`` (:data:`~sleepjax._engine.MemberKeys`): a trial's seed gives
    the key of its initial network and the stage's run key."""

    def keys(seed):
        seed_key = jax.random.key(seed)
        return agent_key(seed_key), stage_key(seed_key, stage)

    return keys


@dataclasses.dataclass(frozen=True)
class split_keys:  # noqa: N801 (a function-like value: equal for equal lengths, so compiled programs are shared)
    """The key schedule of a stage of ``num_blocks`` blocks: block ``t`` gets ``split(run_key,
    num_blocks)[t]`` (its evaluation key is unused)."""

    num_blocks: int

    def __call__(self, run_key, tasks):
        keys = jax.random.split(run_key, self.num_blocks)[tasks]
        return keys, keys


def no_evaluation(agent: Agent, key: jax.Array) -> tuple:
    """A stage measures nothing after a block: what the agent ate is in the phase metrics."""
    del agent, key
    return ()


def run_stage(
    agent: Agent, blocks: ForagingTask, hp: Hparams, key: jax.Array, durations: Durations, config: NetConfig
) -> StageResult:
    """Run the block schedule ``blocks`` (leading block axis) from ``agent`` with the stage key ``key``."""
    n_blocks = blocks.index.shape[0]
    phase = block_phase(durations, config)
    result = continual_run(phase, agent, blocks, no_evaluation, hp, key, key_schedule=split_keys(n_blocks))
    return StageResult(result.final.params, result.metrics["eaten"])


def _test_score(eaten: np.ndarray, task: tuple[int, int]) -> tuple[float, list[int]]:
    """Discriminability of ``eaten`` on ``task`` and the rewarded and punished counts behind it."""
    score = float(discriminability(jnp.asarray(eaten).reshape(-1), make_task(*task)))
    return score, [int(np.sum(eaten == task[0])), int(np.sum(eaten == task[1]))]


def scores(eaten: np.ndarray, blocks: ForagingTask) -> tuple[list[float], list[list[int]]]:
    """Discriminability on Task 1 and Task 2 over the stage's test blocks, and the rewarded and
    punished counts behind each."""
    mode, rewarded = np.asarray(blocks.index), np.asarray(blocks.rewarded)
    results = [_test_score(eaten[(mode == TEST) & (rewarded == task[0])], task) for task in (TASK1, TASK2)]
    return [r[0] for r in results], [r[1] for r in results]


def curve(eaten: np.ndarray, blocks: ForagingTask, task: tuple[int, int], curve_block: int) -> list[float]:
    """Discriminability of what was eaten while training on ``task``, per ``curve_block`` cycles."""
    mode, rewarded = np.asarray(blocks.index), np.asarray(blocks.rewarded)
    trained = eaten[(mode == TRAIN) & (rewarded == task[0])].reshape(-1, curve_block)
    return [float(v) for v in np.asarray(discriminability(jnp.asarray(trained), make_task(*task)))]


def curve_task(stage: str) -> tuple[int, int] | None:
    """The task whose training a stage's learning curve follows (``None``: no training)."""
    return {"unsupervised": None, "task1": TASK1, "sleep_only": None}.get(stage, TASK2)
