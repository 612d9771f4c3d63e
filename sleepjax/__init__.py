"""sleepjax: functional continual learning with sleep phases in JAX.

The core idea: every change to a network during continual learning (wake training, sleep, a
baseline's bookkeeping) is a :class:`~sleepjax.phases.Phase`, a pure ``(init, apply)`` pair; phases
compose, a continual run is one ``lax.scan`` over tasks, and sweeps vmap whole runs over seeds.
"""

from sleepjax import data, metrics, nets, phases, run, scenarios, wake
from sleepjax.nets import MLP
from sleepjax.phases import Phase, Task, every_n_tasks, interleave, sequence
from sleepjax.run import RunResult, continual_run, evaluate, run_seeds
from sleepjax.scenarios import Scenario, split_by_class
from sleepjax.sleep import SRCHparams, sleep_mlp, src_phase
from sleepjax.wake import wake as wake_phase

__version__ = "0.1.0"

__all__ = [
    "MLP",
    "Phase",
    "RunResult",
    "SRCHparams",
    "Scenario",
    "Task",
    "continual_run",
    "data",
    "evaluate",
    "every_n_tasks",
    "interleave",
    "metrics",
    "nets",
    "phases",
    "run",
    "run_seeds",
    "scenarios",
    "sequence",
    "sleep_mlp",
    "split_by_class",
    "src_phase",
    "wake",
    "wake_phase",
]
