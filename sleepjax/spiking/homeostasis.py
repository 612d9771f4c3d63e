"""Homeostatic rules: synaptic scaling of summed inputs, mirrored inhibition, slow target adaptation."""

from __future__ import annotations

import jax
import jax.numpy as jnp


def scale_inputs(w: jax.Array, target: jax.Array) -> jax.Array:
    """Rescale each postsynaptic neuron's summed excitatory input to its target.

    ``w (N, M)`` presynaptic by postsynaptic, ``target (M,)``: column ``j`` becomes
    ``w[:, j] * target[j] / sum_i w[i, j]``. A column summing to zero is left at zero.
    """
    total = jnp.sum(w, axis=0)
    safe = jnp.where(total > 0, total, 1.0)
    return w * jnp.where(total > 0, target / safe, 0.0)[None, :]


def mirrored_inhibition(w_exc: jax.Array) -> jax.Array:
    """Inhibitory weight of presynaptic neuron ``i`` onto every target: minus the mean of its
    excitatory outputs, ``-mean_j w_exc[i, j]``, shape ``(N,)``."""
    return -jnp.mean(w_exc, axis=1)


def adapt_target(target: jax.Array, rate: jax.Array, goal_rate, eta) -> jax.Array:
    """Slow target-rate adaptation: ``target * (1 + eta (goal - rate) / goal)``, floored at 0.

    A neuron firing below its goal rate gets a larger summed-input target, one above it a smaller one.
    """
    return jnp.maximum(target * (1.0 + eta * (goal_rate - rate) / goal_rate), 0.0)


def running_average(avg: jax.Array, value: jax.Array, rate) -> jax.Array:
    """Exponential running average ``avg + rate (value - avg)``."""
    return avg + rate * (value - avg)
