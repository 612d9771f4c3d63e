"""Spike-timing-dependent plasticity traces with nearest-neighbour pairing and a finite window.

For a pre/post spike pair with ``dt = t_post - t_pre`` the trace is

    tr = K_plus  exp(-|dt| / tau)   if 0 < dt <= window     (pre before post)
    tr = K_minus exp(-|dt| / tau)   if -window <= dt < 0    (post before pre)

and 0 otherwise (simultaneous spikes are not ordered, so they add nothing). Each neuron remembers only
the time of its last spike (its "age" in steps): a post spike pairs with the last pre spike of every
presynaptic neuron, a pre spike with the last post spike of every postsynaptic neuron. Defaults: the
foraging agent's K = +-0.04, tau = 40 ms, window = 60 ms, at 0.5 ms per step.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

#: Age of a neuron that has not spiked yet: far outside any window.
NEVER = 1_000_000


class StdpParams(NamedTuple):
    """Amplitudes and time constants (``tau_ms``, ``window_ms``) with the step length ``dt_ms``."""

    k_plus: float = 0.04
    k_minus: float = -0.04
    tau_ms: float = 40.0
    window_ms: float = 60.0
    dt_ms: float = 0.5


#: The default constants.
STDP = StdpParams()


class StdpState(NamedTuple):
    """Steps since the last spike of each presynaptic ``(N,)`` and postsynaptic ``(M,)`` neuron."""

    age_pre: jax.Array
    age_post: jax.Array


def stdp_init(n_pre: int, n_post: int) -> StdpState:
    """No spike seen yet."""
    return StdpState(jnp.full((n_pre,), NEVER, jnp.int32), jnp.full((n_post,), NEVER, jnp.int32))


def stdp_kernel(age: jax.Array, amplitude, params: StdpParams) -> jax.Array:
    """``amplitude * exp(-age dt / tau)`` for ``0 < age dt <= window``, else 0 (``age`` in steps)."""
    ms = age.astype(jnp.result_type(float)) * params.dt_ms
    inside = (age > 0) & (ms <= params.window_ms)
    return jnp.where(inside, amplitude * jnp.exp(-jnp.minimum(ms, params.window_ms) / params.tau_ms), 0.0)


def stdp_step(
    state: StdpState, pre: jax.Array, post: jax.Array, params: StdpParams = STDP
) -> tuple[StdpState, jax.Array]:
    """Advance one step with this step's spike masks ``pre (N,)`` and ``post (M,)``.

    Returns the new ages and the trace increment ``(N, M)`` of this step's pairings.
    """
    age_pre = state.age_pre + 1
    age_post = state.age_post + 1
    dtype = jnp.result_type(float)
    pre_f = pre.astype(dtype)
    post_f = post.astype(dtype)
    potentiation = jnp.outer(stdp_kernel(age_pre, params.k_plus, params), post_f)
    depression = jnp.outer(pre_f, stdp_kernel(age_post, params.k_minus, params))
    new_state = StdpState(jnp.where(pre, 0, age_pre), jnp.where(post, 0, age_post))
    return new_state, potentiation + depression
