"""Sparse Hebbian updates for sleep: only synapses onto neurons that spiked change.

In a sleep step few neurons fire, so updating the whole weight matrix densely would waste nearly all of
the work (and on a CPU, the exponential in the weight dependence dominates the step). Instead the
incoming synapses of each post-synaptic neuron that spiked are read, updated and written back in place,
one neuron per iteration of a loop that runs as many times as there were spikes (usually zero).

The incoming synapses of neuron ``i`` are row ``i`` of a weight matrix stored ``(n_post, n_pre)``
(:func:`update_spiking_rows`, the layout of ``equinox.nn.Linear``) or column ``i`` of one stored
``(n_pre, n_post)`` (:func:`update_spiking_columns`, the layout the event-driven sleep keeps because its
forward pass reads the outgoing synapses of the neurons that spiked, which are then contiguous rows).

Under ``jax.vmap`` the loop runs over the spikes of all members, one (member, neuron) per iteration
(:func:`sleepjax._sleep.batching.per_spike_loop`), so a batch costs the sum of its members' spikes.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax import lax

from sleepjax._sleep.batching import mark_done, next_spike, per_spike_loop

#: The scale inside the reference weight dependence ``g(w) = 2 / (1 + exp(w / 0.001))``.
SRC_WEIGHT_SCALE = 0.001


def weight_dependence(w: jax.Array, scale: float | jax.Array = SRC_WEIGHT_SCALE) -> jax.Array:
    """SRC's weight dependence ``g(w) = 2 / (1 + exp(w / scale))``.

    Equal to 1 at ``w = 0``, about 2 for strongly negative and about 0 for positive weights above a
    few ``scale``: weak or negative synapses move, strong positive ones are practically frozen.
    Written as ``2 * sigmoid(-w / scale)``, which does not overflow.
    """
    return 2.0 * jax.nn.sigmoid(-w / scale)


def _signed_rates(pre: jax.Array, n_pre: int, inc: jax.Array, dec: jax.Array, dtype) -> jax.Array:
    """``(n_pre,)``: ``inc`` where the pre-synaptic neuron spiked, ``-dec`` elsewhere; ``pre`` holds bools
    ``(n_pre,)`` or the indices ``(m,)`` of the neurons that spiked (entries ``>= n_pre`` ignored)."""
    if pre.dtype == jnp.bool_:
        return jnp.where(pre, inc, -dec).astype(dtype)
    return jnp.full(n_pre, -dec, dtype).at[pre].set(inc.astype(dtype), mode="drop")


def _make_update(post_axis: int):
    """The update for weights whose axis ``post_axis`` indexes the post-synaptic neuron, as a
    :func:`~sleepjax._sleep.batching.per_spike_loop`. Arguments ``(w, post, pre, inc, dec, scale,
    num_post)``: bool ``post (n_post,)``, ``pre`` as in :func:`_signed_rates`, scalar ``inc``, ``dec``,
    ``scale`` and ``num_post``, the number of true entries of ``post``."""

    def members(w, post, pre, inc, dec, scale, num_post):
        # Every argument has a leading member axis. One iteration per spike of any member: read the
        # incoming synapses of that neuron (a row or column of that member's matrix), update them, write
        # them back in place.
        n_pre = w.shape[2 - post_axis]
        size = (1, 1, n_pre) if post_axis == 0 else (1, n_pre, 1)

        def body(_, carry):
            w, remaining, left = carry
            member, neuron = next_spike(remaining, left)
            start = (member, neuron, 0) if post_axis == 0 else (member, 0, neuron)
            old = lax.dynamic_slice(w, start, size).reshape(n_pre)
            signed = _signed_rates(pre[member], n_pre, inc[member], dec[member], w.dtype)
            new = old + signed * weight_dependence(old, scale[member])
            w = lax.dynamic_update_slice(w, new.reshape(size), start)
            return (w, *mark_done(remaining, left, member, neuron))

        total = num_post.sum()

        def loop(w):
            return lax.fori_loop(0, total, body, (w, post, num_post))[0]

        # Inside a cond, the loop-invariant parts of the body that XLA hoists out of the loop are computed
        # only in steps with a spike instead of in every step.
        return lax.cond(total > 0, loop, lambda w: w, w)

    return per_spike_loop(members)


_update_rows = _make_update(post_axis=0)
_update_columns = _make_update(post_axis=1)


def _update(core, w, post, pre, inc, dec, scale, num_post):
    if post.dtype != jnp.bool_:
        raise TypeError(f"post must hold bools, got {post.dtype}")
    if num_post is None:
        num_post = post.sum(dtype=jnp.int32)
    args = (jnp.asarray(v, w.dtype) for v in (inc, dec, scale))
    return core(w, post, pre, *args, jnp.asarray(num_post, jnp.int32))


def update_spiking_rows(
    w: jax.Array,
    post: jax.Array,
    pre: jax.Array,
    inc: jax.Array,
    dec: jax.Array,
    scale: float | jax.Array = SRC_WEIGHT_SCALE,
    num_post: jax.Array | None = None,
) -> jax.Array:
    """SRC's Hebbian rule for one layer and one time step, weights stored ``(n_post, n_pre)``.

    For every post-synaptic neuron ``i`` that spiked (``post[i]``), each incoming weight moves by
    ``+inc * g(w[i, j])`` if the pre-synaptic neuron ``j`` spiked too and by ``-dec * g(w[i, j])``
    otherwise, with ``g`` = :func:`weight_dependence` at ``scale``. Rows of silent neurons are untouched.

    Args:
        w: weights ``(n_post, n_pre)``.
        post: bool spikes of the post-synaptic layer ``(n_post,)``.
        pre: bool spikes of the pre-synaptic layer ``(n_pre,)``, or the indices of the pre-synaptic
            neurons that spiked ``(m,)`` (entries ``>= n_pre`` are ignored, so a padded list works).
        inc, dec: scalar increment and decrement factors.
        scale: the scale inside ``g`` (the reference: 0.001).
        num_post: the number of spikes in ``post`` if the caller knows it (saves a reduction).
    """
    return _update(_update_rows, w, post, pre, inc, dec, scale, num_post)


def update_spiking_columns(
    w_t: jax.Array,
    post: jax.Array,
    pre: jax.Array,
    inc: jax.Array,
    dec: jax.Array,
    scale: float | jax.Array = SRC_WEIGHT_SCALE,
    num_post: jax.Array | None = None,
) -> jax.Array:
    """:func:`update_spiking_rows` for transposed weights ``w_t (n_pre, n_post)``: the incoming synapses
    of post-synaptic neuron ``i`` are column ``i``. Equal to ``update_spiking_rows(w_t.T, ...).T``."""
    return _update(_update_columns, w_t, post, pre, inc, dec, scale, num_post)
