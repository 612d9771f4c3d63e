"""The eligibility store of rewarded STDP: the traces of the last few cycles, and the rewarded update.

Each movement cycle's summed STDP trace ``tr (N, M)`` is pushed into a store of ``K`` slots (``K = 6``
for the foraging agent); slot ``k`` holds the trace of ``k`` cycles ago, so a trace is forgotten after
``K`` pushes. At a reward event of value ``S`` every stored trace acts (Golden et al. 2022):

    W_ij <- W_ij * prod_k (1 + (W_i0 / W_i) ** p D_k,ij),    D_k = S tr_k / ((t - t_k + c) A)

with ``W_i = sum_j W_ij`` the summed output of presynaptic neuron ``i`` and ``W_i0`` its initial value,
and ``A`` the activity normalisation: a running average of the summed absolute trace per cycle (the
update is divided by it, so the total change per reward stays bounded whatever the network's activity;
``A = 1`` without it). The delay ``t - t_k + c`` of each slot (:func:`delays`) is counted either in
timesteps, as the paper's "t is the current timestep" with ``c`` = 1 cycle: a cycle's trace is dated at
the cycle's first step and the reward comes at the end of the current cycle, so ``t - t_k = (k + 1) T``
for cycles of ``T`` steps and the delay is ``(k + 1 + c) T``; or in cycles, ``k + c``, with the trace
counted as if it fell at the reward (the form used before; about ``2 T`` times larger a step for the
current cycle's trace). The exponent ``p`` is 1 in the paper's rule; other values weaken (``p`` < 1) or
drop (``p`` = 0) the factor that speeds up neurons whose summed output fell below its start and slows
down those above it.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp


def store_init(slots: int, n_pre: int, n_post: int, dtype=None) -> jax.Array:
    """An empty store ``(slots, n_pre, n_post)``."""
    if slots < 1:
        raise ValueError(f"an eligibility store needs at least one slot, got {slots}")
    return jnp.zeros((slots, n_pre, n_post), dtype or jnp.result_type(float))


def store_push(store: jax.Array, trace: jax.Array) -> jax.Array:
    """Push this cycle's trace into slot 0; every stored trace ages by one cycle, the oldest is dropped."""
    return jnp.concatenate([trace[None].astype(store.dtype), store[:-1]], axis=0)


def delays(slots: int, c, cycle_steps, in_steps) -> jax.Array:
    """``(slots,)``: ``t - t_k + c`` of every slot ``k`` (module docstring), ``c`` in cycles: in timesteps
    ``(k + 1 + c) * cycle_steps`` where ``in_steps`` (a traced bool), else in cycles ``k + c``."""
    k = jnp.arange(slots, dtype=jnp.result_type(float))
    return jnp.where(in_steps, (k + 1.0 + c) * cycle_steps, k + c)


def discounted_sum_factor(store: jax.Array, delay: jax.Array) -> jax.Array:
    """``tr_k / (t - t_k + c)`` for each slot, shape of ``store``; ``delay (K,)`` from :func:`delays`."""
    return store / delay[:, None, None]


def connected(w_out: jax.Array, w_out0: jax.Array) -> jax.Array:
    """``(N,)``: the presynaptic neurons whose summed output ``W_i`` (``w_out``) is above the float
    resolution of their initial value ``W_i0``. The others count as disconnected in the rewarded update
    (ratio 0, as at exactly 0): ``W_i0 / W_i`` would otherwise reach inf on the way to 0 (and inf * 0 =
    NaN for a synapse without trace), and a multiplicative update never moves them again."""
    return w_out > w_out0 * jnp.finfo(w_out.dtype).eps


def rewarded_update(
    w: jax.Array, store: jax.Array, reward, w_out0: jax.Array, norm, delay, ratio_power=1.0
) -> jax.Array:
    """The multiplicative rewarded update above.

    Args:
        w: ``(N, M)`` excitatory weights, presynaptic ``i`` by postsynaptic ``j``.
        store: ``(K, N, M)`` stored traces, slot ``k`` from ``k`` cycles ago.
        reward: the scalar ``S`` of this event.
        w_out0: ``(N,)`` initial summed outputs ``W_i0``.
        norm: the activity normalisation ``A`` (scalar, > 0).
        delay: ``(K,)`` the delay ``t - t_k + c`` of every slot (:func:`delays`).
        ratio_power: the exponent ``p`` of ``W_i0 / W_i`` (1: the rule as published).
    """
    d = reward * discounted_sum_factor(store, delay) / norm
    w_out = jnp.sum(w, axis=1)
    alive = connected(w_out, w_out0)
    ratio = jnp.where(alive, (w_out0 / jnp.where(alive, w_out, 1.0)) ** ratio_power, 0.0)
    factors = 1.0 + ratio[None, :, None] * d
    return w * jnp.prod(factors, axis=0)
