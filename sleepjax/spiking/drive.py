"""External drive of spiking neurons: Poisson spike trains and single pulses."""

from __future__ import annotations

import jax
import jax.numpy as jnp


def poisson_spikes(key: jax.Array, rate_hz: jax.Array, dt_ms: float) -> jax.Array:
    """One step of Poisson input: a spike with probability ``rate * dt`` per neuron (``rate_hz (N,)``).

    Valid while ``rate * dt << 1`` (at 0.5 ms steps, rates well below 2 kHz).
    """
    p = jnp.clip(rate_hz * (dt_ms * 1e-3), 0.0, 1.0)
    return jax.random.uniform(key, jnp.shape(rate_hz), dtype=jnp.result_type(p)) < p


def poisson_train(key: jax.Array, rate_hz: jax.Array, n_steps: int, dt_ms: float) -> jax.Array:
    """``(n_steps, N)`` Poisson spike masks at rates ``rate_hz (N,)``."""
    p = jnp.clip(rate_hz * (dt_ms * 1e-3), 0.0, 1.0)
    return jax.random.uniform(key, (n_steps,) + jnp.shape(rate_hz), dtype=jnp.result_type(p)) < p[None]


def pulse(active: jax.Array, step: jax.Array, at: int = 0) -> jax.Array:
    """A single pulse: the mask ``active`` at step ``at``, nothing at any other step."""
    return active & (step == at)
