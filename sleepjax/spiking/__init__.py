"""Spiking primitives shared by sleepjax's spiking models: neuron maps, synapses, drive, plasticity.

Each is a small pure function on arrays (one entry per neuron or synapse), stepped by the models
inside ``lax.scan``:

* :mod:`~sleepjax.spiking.rulkov`: the Rulkov map neuron;
* :mod:`~sleepjax.spiking.lif`: the leaky integrate-and-fire neuron;
* :mod:`~sleepjax.spiking.synapse`: decaying conductances and their currents;
* :mod:`~sleepjax.spiking.drive`: Poisson and pulse input;
* :mod:`~sleepjax.spiking.stdp`: STDP pair traces (nearest-neighbour or all-pairs);
* :mod:`~sleepjax.spiking.eligibility`: the eligibility store and the rewarded update;
* :mod:`~sleepjax.spiking.homeostasis`: synaptic scaling and target adaptation.
"""

from sleepjax.spiking.drive import poisson_spikes, poisson_train, pulse
from sleepjax.spiking.eligibility import connected, delays, rewarded_update, store_init, store_push
from sleepjax.spiking.homeostasis import adapt_target, mirrored_inhibition, running_average, scale_inputs
from sleepjax.spiking.lif import LIFParams, LIFState, lif_init, lif_step
from sleepjax.spiking.rulkov import RulkovParams, RulkovState, rulkov_f, rulkov_rest, rulkov_step
from sleepjax.spiking.stdp import (
    PAIRING_RULES,
    PAIRINGS,
    AllPairsState,
    StdpParams,
    StdpState,
    all_pairs_init,
    all_pairs_step,
    stdp_init,
    stdp_kernel,
    stdp_step,
)
from sleepjax.spiking.synapse import conductance_step, synaptic_current

__all__ = [
    "PAIRING_RULES",
    "PAIRINGS",
    "AllPairsState",
    "LIFParams",
    "LIFState",
    "RulkovParams",
    "RulkovState",
    "StdpParams",
    "StdpState",
    "adapt_target",
    "all_pairs_init",
    "all_pairs_step",
    "conductance_step",
    "connected",
    "delays",
    "lif_init",
    "lif_step",
    "mirrored_inhibition",
    "poisson_spikes",
    "poisson_train",
    "pulse",
    "rewarded_update",
    "rulkov_f",
    "rulkov_rest",
    "rulkov_step",
    "running_average",
    "scale_inputs",
    "stdp_init",
    "stdp_kernel",
    "stdp_step",
    "store_init",
    "store_push",
    "synaptic_current",
]
