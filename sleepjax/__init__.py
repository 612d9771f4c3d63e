"""sleepjax: functional continual learning with sleep phases in JAX.

Everything that changes a network during continual learning (wake training, SRC sleep, a baseline's
bookkeeping, a block of rewarded STDP) is a :class:`Phase`, a pure ``(init, apply)`` pair; phases compose
by name (:func:`sequence`, :func:`interleave`, ...), a continual run is one ``lax.scan`` over tasks with
the experiment's own evaluation (:func:`continual_run`), and whole runs vmap over seeds and
hyperparameters in one compiled, sharded program (:func:`run_batch`, :func:`sweep`, :func:`tune`).

Every public object is here, once: ``import sleepjax as sj; sj.sequence(...)``. The two spiking systems
have their own namespaces, :mod:`sleepjax.foraging` and :mod:`sleepjax.lca`, over the shared spiking
primitives of :mod:`sleepjax.spiking`. The command line and its records live in :mod:`sleepjax.app`,
which the library never imports.
"""

from sleepjax import foraging as foraging
from sleepjax import lca as lca
from sleepjax import spiking as spiking
from sleepjax._chunking import batch_mesh as batch_mesh
from sleepjax._continual import Carry as Carry
from sleepjax._continual import RunResult as RunResult
from sleepjax._continual import Start as Start
from sleepjax._continual import continual_run as continual_run
from sleepjax._continual import fold_in_keys as fold_in_keys
from sleepjax._continual import split_seed as split_seed
from sleepjax._datasets import Dataset as Dataset
from sleepjax._datasets import load_mnist as load_mnist
from sleepjax._engine import batch_program as batch_program
from sleepjax._engine import run_batch as run_batch
from sleepjax._engine import run_seeds as run_seeds
from sleepjax._evaluate import AccuracyEvaluator as AccuracyEvaluator
from sleepjax._evaluate import accuracy_summary as accuracy_summary
from sleepjax._hparams import get_hparam as get_hparam
from sleepjax._hparams import hparam_names as hparam_names
from sleepjax._hparams import set_hparams as set_hparams
from sleepjax._hparams import stack_hparams as stack_hparams
from sleepjax._idx import DataError as DataError
from sleepjax._images import HSU_MNIST_INPUT as HSU_MNIST_INPUT
from sleepjax._images import InputFormat as InputFormat
from sleepjax._metrics import average_accuracy as average_accuracy
from sleepjax._metrics import average_incremental_accuracy as average_incremental_accuracy
from sleepjax._metrics import backward_transfer as backward_transfer
from sleepjax._metrics import forgetting_after_learning as forgetting_after_learning
from sleepjax._metrics import forgetting_chaudhry as forgetting_chaudhry
from sleepjax._metrics import forgetting_since_learned as forgetting_since_learned
from sleepjax._metrics import forward_transfer as forward_transfer
from sleepjax._metrics import overall_accuracy as overall_accuracy
from sleepjax._nets import MLP as MLP
from sleepjax._nets import weights_of as weights_of
from sleepjax._nets import with_weights as with_weights
from sleepjax._phases import Peer as Peer
from sleepjax._phases import Phase as Phase
from sleepjax._phases import SupervisedTask as SupervisedTask
from sleepjax._phases import TrainingHooks as TrainingHooks
from sleepjax._phases import by_task as by_task
from sleepjax._phases import every_n_tasks as every_n_tasks
from sleepjax._phases import interleave as interleave
from sleepjax._phases import sequence as sequence
from sleepjax._program_store import use_program_store as use_program_store
from sleepjax._scenarios import SPLIT_MNIST_CLASSES as SPLIT_MNIST_CLASSES
from sleepjax._scenarios import EvalSet as EvalSet
from sleepjax._scenarios import Scenario as Scenario
from sleepjax._scenarios import TaskStream as TaskStream
from sleepjax._scenarios import held_out as held_out
from sleepjax._scenarios import split_arrays as split_arrays
from sleepjax._scenarios import split_by_class as split_by_class
from sleepjax._scenarios import validation_split as validation_split
from sleepjax._shifted import ROTATED_MNIST_ANGLES as ROTATED_MNIST_ANGLES
from sleepjax._shifted import permuted_pixels as permuted_pixels
from sleepjax._shifted import rotated_images as rotated_images
from sleepjax._sleep import MNIST_WINDOW as MNIST_WINDOW
from sleepjax._sleep import REFERENCE_HPARAMS as REFERENCE_HPARAMS
from sleepjax._sleep import InputWindow as InputWindow
from sleepjax._sleep import SleepStats as SleepStats
from sleepjax._sleep import SRCHparams as SRCHparams
from sleepjax._sleep import SRCPhaseHparams as SRCPhaseHparams
from sleepjax._sleep import layer_factors as layer_factors
from sleepjax._sleep import max_activations as max_activations
from sleepjax._sleep import reference_hparams as reference_hparams
from sleepjax._sleep import src_phase as src_phase
from sleepjax._sleep import src_sleep as src_sleep
from sleepjax._sleep import src_sleep_mlp as src_sleep_mlp
from sleepjax._sleep import weight_dependence as weight_dependence
from sleepjax._sleep.hparams import sleep_steps as src_sleep_steps
from sleepjax._sleep.vectors import save_src_vector as save_src_vector
from sleepjax._sleep.vectors import src_vector as src_vector
from sleepjax._store import MemoryStore as MemoryStore
from sleepjax._store import RunStore as RunStore
from sleepjax._sweep import IntUniform as IntUniform
from sleepjax._sweep import LogUniform as LogUniform
from sleepjax._sweep import Space as Space
from sleepjax._sweep import SweepResult as SweepResult
from sleepjax._sweep import SweepSetup as SweepSetup
from sleepjax._sweep import Uniform as Uniform
from sleepjax._sweep import grid as grid
from sleepjax._sweep import random_configs as random_configs
from sleepjax._sweep import summary_rows as summary_rows
from sleepjax._sweep import sweep as sweep
from sleepjax._tfds import load_tfds as load_tfds
from sleepjax._tune import SearchConfig as SearchConfig
from sleepjax._tune import TuneResult as TuneResult
from sleepjax._tune import tune as tune
from sleepjax._typing import PhaseApply as PhaseApply
from sleepjax._typing import PhaseInit as PhaseInit
from sleepjax._typing import PRNGKey as PRNGKey
from sleepjax._typing import PyTree as PyTree
from sleepjax._wake import Loss as Loss
from sleepjax._wake import WakeState as WakeState
from sleepjax._wake import cross_entropy_loss as cross_entropy_loss
from sleepjax._wake import mse_loss as mse_loss
from sleepjax._wake import wake as wake
from sleepjax._wake import wake_defaults as wake_defaults
from sleepjax.methods import published_defaults as published_defaults
from sleepjax.methods.agem import agem as agem
from sleepjax.methods.der import DERHparams as DERHparams
from sleepjax.methods.der import der as der
from sleepjax.methods.ewc import EWCHparams as EWCHparams
from sleepjax.methods.ewc import EWCState as EWCState
from sleepjax.methods.ewc import ewc as ewc
from sleepjax.methods.icarl import ICaRLState as ICaRLState
from sleepjax.methods.icarl import NearestMeanEvaluator as NearestMeanEvaluator
from sleepjax.methods.icarl import icarl as icarl
from sleepjax.methods.lwf import LwFHparams as LwFHparams
from sleepjax.methods.lwf import LwFState as LwFState
from sleepjax.methods.lwf import lwf as lwf
from sleepjax.methods.memory import Memory as Memory
from sleepjax.methods.replay import replay as replay
from sleepjax.methods.si import SIHparams as SIHparams
from sleepjax.methods.si import SIState as SIState
from sleepjax.methods.si import si as si

__version__ = "0.2.0"

__all__ = [
    "AccuracyEvaluator",
    "Carry",
    "DERHparams",
    "DataError",
    "Dataset",
    "EWCHparams",
    "EWCState",
    "EvalSet",
    "HSU_MNIST_INPUT",
    "ICaRLState",
    "InputFormat",
    "InputWindow",
    "IntUniform",
    "LogUniform",
    "Loss",
    "LwFHparams",
    "LwFState",
    "MLP",
    "MNIST_WINDOW",
    "Memory",
    "MemoryStore",
    "NearestMeanEvaluator",
    "PRNGKey",
    "Peer",
    "Phase",
    "PhaseApply",
    "PhaseInit",
    "PyTree",
    "REFERENCE_HPARAMS",
    "ROTATED_MNIST_ANGLES",
    "RunResult",
    "RunStore",
    "SIHparams",
    "SIState",
    "SPLIT_MNIST_CLASSES",
    "SRCHparams",
    "SRCPhaseHparams",
    "Scenario",
    "SearchConfig",
    "SleepStats",
    "Space",
    "Start",
    "SupervisedTask",
    "TrainingHooks",
    "SweepResult",
    "SweepSetup",
    "TaskStream",
    "TuneResult",
    "Uniform",
    "WakeState",
    "accuracy_summary",
    "agem",
    "average_accuracy",
    "average_incremental_accuracy",
    "backward_transfer",
    "batch_mesh",
    "batch_program",
    "by_task",
    "continual_run",
    "cross_entropy_loss",
    "der",
    "every_n_tasks",
    "ewc",
    "fold_in_keys",
    "foraging",
    "forgetting_after_learning",
    "forgetting_chaudhry",
    "forgetting_since_learned",
    "forward_transfer",
    "get_hparam",
    "grid",
    "held_out",
    "hparam_names",
    "icarl",
    "interleave",
    "layer_factors",
    "lca",
    "load_mnist",
    "load_tfds",
    "lwf",
    "max_activations",
    "mse_loss",
    "overall_accuracy",
    "permuted_pixels",
    "published_defaults",
    "random_configs",
    "reference_hparams",
    "replay",
    "rotated_images",
    "run_batch",
    "run_seeds",
    "use_program_store",
    "save_src_vector",
    "sequence",
    "set_hparams",
    "si",
    "spiking",
    "split_arrays",
    "split_by_class",
    "split_seed",
    "src_phase",
    "src_sleep",
    "src_sleep_mlp",
    "src_sleep_steps",
    "src_vector",
    "stack_hparams",
    "summary_rows",
    "sweep",
    "tune",
    "validation_split",
    "wake",
    "wake_defaults",
    "weight_dependence",
    "weights_of",
    "with_weights",
]
