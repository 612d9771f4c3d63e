"""One trial of the experiment: stages run as block schedules, and their scores and learning curves.

:func:`run_stage` steps a network through a stage's schedule (:mod:`sleepjax.foraging.schedules`) in one
``lax.scan`` over blocks and returns the final network (conditions branch from the Task-1-trained
one, which is why this scan, unlike :func:`sleepjax.run.continual_run`, returns its parameters) and,
for every block, what was eaten in each cycle. A trial's stages are ``unsupervised`` (-> the naive
network), ``task1`` from it (-> the trained network, scored: ``after_task1``), then each condition
from the trained network (``sleep_only``: from the naive one).

Scores and curves are computed on the host from the eaten kinds and the schedule:
the pattern discriminability of the test blocks of each task, and of the training blocks of the
stage's task per ``curve_block`` cycles. Keys are derived from the trial's seed and the stage alone,
so a trial gives the same numbers whether it runs alone or vmapped among others.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

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


def initial_agent(seed_key: jax.Array, hp: Hparams, config: NetConfig) -> Agent:
    return init_agent(jax.random.fold_in(seed_key, len(STAGES)), config, hp)


def run_stage(
    agent: Agent, blocks: ForagingTask, hp: Hparams, key: jax.Array, durations: Durations, config: NetConfig
) -> StageResult:
    """Run the block schedule ``blocks`` (leading block axis) from ``agent``."""
    phase = block_phase(durations, config)
    k_init, k_run = jax.random.split(key)
    state = phase.init(agent, k_init)

    def body(carry, inputs):
        agent, state = carry
        block, k = inputs
        agent, state, metrics = phase.apply(agent, state, block, hp, k)
        eaten = jnp.stack([m["eaten"] for m in metrics])[block.index]  # the branch that ran
        return (agent, state), eaten

    n_blocks = blocks.index.shape[0]
    (agent, _), eaten = lax.scan(body, (agent, state), (blocks, jax.random.split(k_run, n_blocks)))
    return StageResult(agent, eaten)


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
