"""Sleep Replay Consolidation (SRC) for ordinary networks; re-exported by :mod:`sleepjax`."""

from sleepjax._sleep.hparams import (
    MNIST_WINDOW,
    REFERENCE_HPARAMS,
    InputWindow,
    SRCHparams,
    check_hparams,
    check_unit_interval,
    reference_hparams,
    sleep_steps,
)
from sleepjax._sleep.mlp import SRCPhaseHparams, check_src_compatible, layer_outputs, src_phase, src_sleep_mlp
from sleepjax._sleep.normalize import layer_factors, max_activations
from sleepjax._sleep.plasticity import update_spiking_columns, update_spiking_rows, weight_dependence
from sleepjax._sleep.src import SleepStats, src_sleep

__all__ = [
    "MNIST_WINDOW",
    "REFERENCE_HPARAMS",
    "InputWindow",
    "SRCHparams",
    "SRCPhaseHparams",
    "SleepStats",
    "check_hparams",
    "check_src_compatible",
    "check_unit_interval",
    "layer_factors",
    "layer_outputs",
    "max_activations",
    "reference_hparams",
    "sleep_steps",
    "src_phase",
    "src_sleep",
    "src_sleep_mlp",
    "update_spiking_columns",
    "update_spiking_rows",
    "weight_dependence",
]
