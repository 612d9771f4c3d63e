"""sleepjax: functional continual learning with sleep phases in JAX.

The core idea: every change to a network during continual learning (wake training, sleep, a
baseline's bookkeeping) is a :class:`~sleepjax.phases.Phase`, a pure ``(init, apply)`` pair; phases
compose by name, a continual run is one ``lax.scan`` over tasks with the experiment's own evaluation,
and whole runs vmap over seeds and hyperparameters.
"""

from sleepjax import data, hparams, metrics, nets, phases, run, scenarios, sweep, tune, wake
from sleepjax.nets import MLP
from sleepjax.phases import Phase, SupervisedTask, by_task, every_n_tasks, interleave, sequence
from sleepjax.run import AccuracyEvaluator, RunResult, continual_run, run_batch, run_seeds
from sleepjax.scenarios import Scenario, TaskStream, held_out, split_arrays, split_by_class
from sleepjax.sleep import SRCHparams, SRCPhaseHparams, sleep_mlp, src_phase
from sleepjax.wake import wake as wake_phase

__version__ = "0.1.0"

__all__ = [
    "MLP",
    "AccuracyEvaluator",
    "Phase",
    "RunResult",
    "SRCHparams",
    "SRCPhaseHparams",
    "Scenario",
    "SupervisedTask",
    "TaskStream",
    "by_task",
    "continual_run",
    "data",
    "every_n_tasks",
    "held_out",
    "hparams",
    "interleave",
    "metrics",
    "nets",
    "phases",
    "run",
    "run_batch",
    "run_seeds",
    "scenarios",
    "sequence",
    "sleep_mlp",
    "split_arrays",
    "split_by_class",
    "src_phase",
    "sweep",
    "tune",
    "wake",
    "wake_phase",
]
