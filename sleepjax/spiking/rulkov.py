"""The Rulkov map neuron (Rulkov 2002; Rulkov, Timofeev & Bazhenov 2004), one step = one map iteration.

A neuron is a fast variable ``V`` (membrane potential, dimensionless), a slow variable ``I`` and the
previous fast value ``V_prev`` (the map's third branch needs it). With a synaptic/external input
current ``I_syn``:

    V' = f(V, I + beta_e I_syn)
    I' = I - mu (V + 1) + mu sigma + mu sigma_e I_syn

    f(V, u) = alpha / (1 - V) + u      if V <= 0
              alpha + u                if 0 < V < alpha + u and V_prev <= 0
              -1                       otherwise

A spike is the step at which ``V`` enters the positive region (``V' > 0`` while ``V <= 0``); the next
step is the spike's peak ``alpha + u`` and the one after resets to ``-1``. With ``sigma = 0.06`` below
the map's bifurcation value the neuron is silent at rest and fires only when driven.

All functions act elementwise on arrays of any shape (one entry per neuron).
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp


class RulkovParams(NamedTuple):
    """Map constants (defaults: the foraging agent's excitatory neurons, Golden et al. 2022)."""

    alpha: float = 3.65
    sigma: float = 0.06
    mu: float = 0.0005
    beta_e: float = 0.133
    sigma_e: float = 1.0


#: The default constants.
RULKOV = RulkovParams()


class RulkovState(NamedTuple):
    """``v`` fast variable, ``v_prev`` its previous value, ``i`` slow variable; all the same shape."""

    v: jax.Array
    v_prev: jax.Array
    i: jax.Array


def rulkov_rest(shape: tuple[int, ...], params: RulkovParams = RULKOV, dtype=jnp.float32) -> RulkovState:
    """The resting fixed point without input: ``V* = sigma - 1``, ``I* = V* - alpha / (1 - V*)``."""
    v = jnp.full(shape, params.sigma - 1.0, dtype)
    i = v - params.alpha / (1.0 - v)
    return RulkovState(v, v, i)


def rulkov_f(v: jax.Array, v_prev: jax.Array, u: jax.Array, alpha) -> jax.Array:
    """The three-branch fast map ``f(V, u)`` (module docstring)."""
    below = alpha / (1.0 - jnp.minimum(v, 0.0)) + u  # the min keeps the unused branch finite
    peak = alpha + u
    return jnp.where(v <= 0, below, jnp.where((v < peak) & (v_prev <= 0), peak, -jnp.ones_like(v)))


def rulkov_step(state: RulkovState, i_syn: jax.Array, params: RulkovParams = RULKOV) -> tuple[RulkovState, jax.Array]:
    """One map iteration with input current ``i_syn``; returns the new state and the spike mask."""
    v_new = rulkov_f(state.v, state.v_prev, state.i + params.beta_e * i_syn, params.alpha)
    i_new = state.i - params.mu * (state.v + 1.0) + params.mu * params.sigma + params.mu * params.sigma_e * i_syn
    spike = (v_new > 0) & (state.v <= 0)
    return RulkovState(v_new, state.v, i_new), spike
