"""Sleep phases. ``src``: Sleep Replay Consolidation for ANNs viewed as spiking networks."""

from sleepjax.sleep.mlp import SRCPhaseHparams, check_src_compatible, layer_outputs, sleep_mlp, src_phase
from sleepjax.sleep.normalize import layer_factors, max_activations
from sleepjax.sleep.plasticity import update_spiking_rows, weight_dependence
from sleepjax.sleep.src import (
    MNIST_WINDOW,
    REFERENCE_HPARAMS,
    InputWindow,
    SleepStats,
    SRCHparams,
    reference_hparams,
    sleep,
    sleep_steps,
)

__all__ = [
    "MNIST_WINDOW",
    "REFERENCE_HPARAMS",
    "InputWindow",
    "SRCHparams",
    "SRCPhaseHparams",
    "SleepStats",
    "check_src_compatible",
    "layer_outputs",
    "layer_factors",
    "max_activations",
    "reference_hparams",
    "sleep",
    "sleep_mlp",
    "sleep_steps",
    "src_phase",
    "update_spiking_rows",
    "weight_dependence",
]
