"""The spiking foraging agent (Golden, Delanois, Sanda & Bazhenov 2022): a food world, a 49-784-8
spiking network learning by rewarded STDP, and the sleep phase that protects an old task.

A block of movement cycles is a phase (:func:`awake_block`, :func:`sleep_block`, :func:`idle_block`);
a schedule of blocks (:func:`schedule`) is the task stream of an ordinary :func:`sleepjax.continual_run`,
stepped by :func:`block_phase`, and a trial's stages run through :func:`sleepjax.run_batch` with
:func:`member_keys` and :func:`split_keys` (:func:`run_stage` runs one stage of one trial).
"""

from sleepjax.foraging.agent import TASK1 as TASK1
from sleepjax.foraging.agent import TASK2 as TASK2
from sleepjax.foraging.agent import ForagingTask as ForagingTask
from sleepjax.foraging.agent import discriminability as discriminability
from sleepjax.foraging.agent import idle_phase as idle_block
from sleepjax.foraging.agent import make_task as make_task
from sleepjax.foraging.agent import sleep_phase as sleep_block
from sleepjax.foraging.agent import wake_phase as awake_block
from sleepjax.foraging.constants import Hparams as Hparams
from sleepjax.foraging.constants import check_hparams as check_hparams
from sleepjax.foraging.environment import KINDS as KINDS
from sleepjax.foraging.environment import World as World
from sleepjax.foraging.environment import WorldConfig as WorldConfig
from sleepjax.foraging.environment import observe as observe
from sleepjax.foraging.environment import reset as reset_world
from sleepjax.foraging.environment import step as step_world
from sleepjax.foraging.network import Agent as Agent
from sleepjax.foraging.network import NetConfig as NetConfig
from sleepjax.foraging.network import init_agent as init_agent
from sleepjax.foraging.network import simulate_cycle as simulate_cycle
from sleepjax.foraging.schedules import CONDITIONS as CONDITIONS
from sleepjax.foraging.schedules import Durations as Durations
from sleepjax.foraging.schedules import block_phase as block_phase
from sleepjax.foraging.schedules import schedule as schedule
from sleepjax.foraging.trials import StageResult as StageResult
from sleepjax.foraging.trials import member_keys as member_keys
from sleepjax.foraging.trials import run_stage as run_stage
from sleepjax.foraging.trials import split_keys as split_keys

__all__ = [
    "CONDITIONS",
    "KINDS",
    "TASK1",
    "TASK2",
    "Agent",
    "Durations",
    "ForagingTask",
    "Hparams",
    "NetConfig",
    "StageResult",
    "World",
    "WorldConfig",
    "awake_block",
    "block_phase",
    "check_hparams",
    "discriminability",
    "idle_block",
    "init_agent",
    "make_task",
    "member_keys",
    "observe",
    "reset_world",
    "run_stage",
    "schedule",
    "simulate_cycle",
    "sleep_block",
    "split_keys",
    "step_world",
]
