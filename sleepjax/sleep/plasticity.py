"""Row-sparse Hebbian updates for sleep: only synapses onto neurons that spiked change.

In a sleep step few neurons fire, so updating the whole weight matrix densely would waste nearly all of
the work (and on a CPU, the exponential in the weight dependence dominates the step). Instead the rows
of the post-synaptic neurons that spiked are gathered, updated and scattered back, one row per
iteration of a ``while_loop`` that runs as many times as there were spikes (usually zero).

Under ``jax.vmap`` a ``while_loop`` with a batched trip count would re-select the whole weight matrix
on every iteration. ``update_spiking_rows`` therefore carries its own batching rule: the batch is
processed natively, each iteration updating one spiking row in every batch member that still has one,
so vmapped seeds or hyperparameters pay only for the rows they actually change.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax import lax

SRC_WEIGHT_SCALE = 0.001


def weight_dependence(w: jax.Array, scale: float = SRC_WEIGHT_SCALE) -> jax.Array:
    """SRC's weight dependence ``g(w) = 2 / (1 + exp(w / scale))``.

    Equal to 1 at ``w = 0``, about 2 for strongly negative and about 0 for positive weights above a
    few ``scale``: weak or negative synapses move, strong positive ones are practically frozen.
    Written as ``2 * sigmoid(-w / scale)``, which does not overflow.
    """
    return 2.0 * jax.nn.sigmoid(-w / scale)


def _update_batched(w, post, pre, inc, dec):
    """Batched core: ``w (B, n_post, n_pre)``, ``post (B, n_post)``, ``pre (B, n_pre)`` bools,
    ``inc``/``dec`` ``(B,)``. Returns ``w`` with ``w[b, i] += g(w[b, i]) * (inc if pre else -dec)``
    for every ``i`` with ``post[b, i]``."""
    batch, n_post, _ = w.shape
    signed = jnp.where(pre, inc[:, None], -dec[:, None]).astype(w.dtype)  # (B, n_pre)
    members = jnp.arange(batch)

    def body(carry):
        w, remaining = carry
        has_row = remaining.any(axis=1)
        row = jnp.where(has_row, jnp.argmax(remaining, axis=1), n_post)  # n_post: dropped below
        old = w.at[members, row].get(mode="fill", fill_value=0.0)
        new = old + signed * weight_dependence(old)
        w = w.at[members, row].set(new, mode="drop")
        remaining = remaining.at[members, row].set(False, mode="drop")
        return w, remaining

    w, _ = lax.while_loop(lambda carry: carry[1].any(), body, (w, post))
    return w


_update_batched = jax.custom_batching.custom_vmap(_update_batched)


@_update_batched.def_vmap
def _update_batched_vmap(axis_size, in_batched, w, post, pre, inc, dec):
    """Fold a further vmap axis into the native batch axis instead of batching the loop."""
    args = []
    for arg, batched in zip((w, post, pre, inc, dec), in_batched):
        if not batched:
            arg = jnp.broadcast_to(arg, (axis_size,) + arg.shape)
        args.append(arg.reshape((axis_size * arg.shape[1],) + arg.shape[2:]))
    out = _update_batched(*args)
    return out.reshape((axis_size,) + w.shape[-3:]), True


def update_spiking_rows(w: jax.Array, post: jax.Array, pre: jax.Array, inc: jax.Array, dec: jax.Array) -> jax.Array:
    """SRC's Hebbian rule for one layer and one time step.

    For every post-synaptic neuron ``i`` that spiked (``post[i]``), each incoming weight moves by
    ``+inc * g(w[i, j])`` if the pre-synaptic neuron ``j`` spiked too and by ``-dec * g(w[i, j])``
    otherwise. Rows of silent neurons are untouched.

    Args:
        w: weights ``(n_post, n_pre)``.
        post: bool spikes of the post-synaptic layer ``(n_post,)``.
        pre: bool spikes of the pre-synaptic layer ``(n_pre,)``.
        inc, dec: scalar increment and decrement factors.
    """
    inc = jnp.asarray(inc, w.dtype)
    dec = jnp.asarray(dec, w.dtype)
    return _update_batched(w[None], post[None], pre[None], inc[None], dec[None])[0]
