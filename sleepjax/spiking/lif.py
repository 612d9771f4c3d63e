"""Leaky integrate-and-fire (LIF) neurons: one explicit-Euler time step on arrays of neurons.

The membrane potential ``v`` of each neuron follows

    dv/dt = -v / tau_m + I

where ``I`` is the input current in units of potential per second (so ``tau_m = inf`` is a perfect
integrator, and a constant current ``I`` holds ``v`` at ``tau_m * I`` below threshold). One step of
length ``dt`` is

    v <- v + dt * (I - v / tau_m)        (held, input ignored, while refractory)
    spike = v >= threshold               (not while refractory)
    v <- v_reset          ("zero" reset)  or   v <- v - threshold   ("subtract" reset)

and a neuron that spikes is refractory (clamped, deaf to input) for the next ``round(t_ref / dt)``
steps. With the subtract reset and no leak, a constant current ``I > 0`` gives exactly
``I / threshold`` spikes per second on average (no charge is lost at a reset), the property the
spiking sparse coder (:mod:`sleepjax.lca`) relies on. Euler is accurate for ``dt << tau_m``.

All fields are arrays or floats, so a :class:`LIFParams` can be traced and vmapped; the reset kind is
a static Python argument.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

RESETS = ("zero", "subtract")


class LIFParams(NamedTuple):
    """Constants of a population of LIF neurons (scalars, or arrays broadcastable to the population).

    Attributes:
        tau_m: membrane time constant (s); ``jnp.inf`` for a non-leaky integrate-and-fire neuron.
        threshold: potential at which a neuron spikes.
        v_reset: potential after a spike with the "zero" reset.
        t_ref: refractory period (s) after a spike; 0 for none.
    """

    tau_m: float | jax.Array
    threshold: float | jax.Array
    v_reset: float | jax.Array = 0.0
    t_ref: float | jax.Array = 0.0


class LIFState(NamedTuple):
    """``v``: membrane potentials ``(n,)``; ``refractory``: time (s) each neuron stays refractory ``(n,)``."""

    v: jax.Array
    refractory: jax.Array


def lif_init(n: int, dtype=jnp.float32) -> LIFState:
    """``n`` neurons at rest (``v = 0``) and not refractory."""
    return LIFState(jnp.zeros((n,), dtype), jnp.zeros((n,), dtype))


def lif_step(
    state: LIFState, current: jax.Array, params: LIFParams, dt: float | jax.Array, reset: str = "zero"
) -> tuple[LIFState, jax.Array]:
    """Advance the neurons by one step of length ``dt`` under input ``current`` ``(n,)``.

    Returns the new state and the spikes of this step as a boolean ``(n,)`` array.
    """
    if reset not in RESETS:
        raise ValueError(f"unknown LIF reset {reset!r}; choose from {', '.join(RESETS)}")
    dtype = state.v.dtype
    dt = jnp.asarray(dt, dtype)
    tau_m, threshold, v_reset, t_ref = (jnp.asarray(p, dtype) for p in params)
    # Refractory times are whole multiples of dt up to rounding; half a step decides.
    blocked = state.refractory >= dt / 2
    v = jnp.where(blocked, state.v, state.v + dt * (current - state.v / tau_m))
    spikes = (~blocked) & (v >= threshold)
    after = v - threshold if reset == "subtract" else jnp.broadcast_to(v_reset, v.shape)
    v = jnp.where(spikes, after, v)
    refractory = jnp.where(spikes, t_ref, jnp.maximum(state.refractory - dt, jnp.zeros((), dtype)))
    return LIFState(v, refractory), spikes
