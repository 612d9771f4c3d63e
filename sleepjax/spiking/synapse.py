"""Conductance-based synapses shared by the spiking models.

A synapse population has a conductance ``g`` that decays by a factor ``gamma`` per step and jumps by
the summed weights of the presynaptic spikes; the current it injects into a postsynaptic neuron of
potential ``v`` is ``-g_syn * g * (v - e_rev)`` (positive, depolarising, when ``v < e_rev``).
"""

from __future__ import annotations

import jax


def conductance_step(g: jax.Array, arriving: jax.Array, gamma) -> jax.Array:
    """``g' = gamma g + arriving``, where ``arriving`` is the weighted sum of this step's spikes."""
    return gamma * g + arriving


def synaptic_current(g: jax.Array, v: jax.Array, g_syn, e_rev) -> jax.Array:
    """``-g_syn * g * (v - e_rev)``, elementwise."""
    return -g_syn * g * (v - e_rev)
