"""The event-driven parts of an SRC sleep step: the input spikes of a step as a short list, and the
drive of a layer summed over the outgoing synapses of the neurons that spiked.

At the reference MNIST settings a step has about 13 input spikes and a few hundredths of a spike per
hidden layer, so reading only those rows is one to two orders of magnitude less work than multiplying
full weight matrices (:func:`sleepjax.src_sleep`'s ``method="event"``).
"""

from __future__ import annotations

import functools
import operator

import jax
import jax.numpy as jnp
from jax import lax

from sleepjax._sleep.batching import mark_done, next_spike, per_spike_loop


def spike_lists(pixels: jax.Array, fires: jax.Array, fill: int, capacity: int) -> tuple[jax.Array, jax.Array]:
    """Compact ``(num, M)`` draws into per-step lists of the firing pixels (in grid order, then ``fill``;
    length ``M`` rounded up to a multiple of ``capacity``) and spike counts ``(num,)``."""
    num, m = fires.shape
    length = -(-m // capacity) * capacity
    rank = jnp.cumsum(fires, axis=1, dtype=jnp.int32) - 1
    slot = jnp.where(fires, rank, length)  # out of range for silent pixels: dropped by the scatter
    lists = jnp.full((num, length), fill, jnp.int32).at[jnp.arange(num)[:, None], slot].set(pixels, mode="drop")
    return lists, rank[:, -1] + 1


def _sum_rows(w_t: jax.Array, ids: jax.Array, count: jax.Array) -> jax.Array:
    """``sum(w_t[ids[k]] for k < count)``: one fused loop over ``len(ids)`` dynamic row slices."""
    zero = jnp.zeros((), w_t.dtype)
    rows = [
        jnp.where(k < count, lax.dynamic_index_in_dim(w_t, ids[k], keepdims=False), zero) for k in range(ids.shape[0])
    ]
    return functools.reduce(operator.add, rows)


def drive_from_list(w_t: jax.Array, ids: jax.Array, count: jax.Array, capacity: int) -> jax.Array:
    """Summed outgoing synapses ``(n_out,)`` of the ``count`` neurons listed first in ``ids``.

    The first ``capacity`` are gathered in one fused block; a step with more spikes continues exactly
    with further blocks in a ``while_loop`` (under ``vmap`` it runs only while some member has spikes
    left, so rare overflows cost little). ``len(ids)`` must be a multiple of ``capacity``.
    """
    drive = _sum_rows(w_t, ids[:capacity], count)
    if ids.shape[0] == capacity:
        return drive

    def more(carry):
        block, drive = carry
        block_ids = lax.dynamic_slice_in_dim(ids, block * capacity, capacity)
        return block + 1, drive + _sum_rows(w_t, block_ids, count - block * capacity)

    return lax.while_loop(lambda carry: carry[0] * capacity < count, more, (1, drive))[1]


def _drive_members(w_t, spikes, count):
    """Batched core of :func:`_drive_from_spikes` (leading member axis on every argument)."""

    def add_one(_, carry):
        drive, remaining, left = carry
        member, neuron = next_spike(remaining, left)
        row = lax.dynamic_slice(w_t, (member, neuron, 0), (1, 1, w_t.shape[2]))[0]
        drive = lax.dynamic_update_slice(drive, lax.dynamic_slice_in_dim(drive, member, 1) + row, (member, 0))
        return (drive, *mark_done(remaining, left, member, neuron))

    init = (jnp.zeros((w_t.shape[0], w_t.shape[2]), w_t.dtype), spikes, count)
    return lax.fori_loop(0, count.sum(), add_one, init)[0]


#: Summed outgoing synapses ``(n_out,)`` of the ``count`` neurons with ``spikes (n_in,)``, from transposed
#: weights ``w_t (n_in, n_out)``: one loop iteration per spike, none in a silent step (hidden layers are
#: silent in almost every step), and under ``vmap`` one per spike of any member.
drive_from_spikes = per_spike_loop(_drive_members)


__all__ = ["drive_from_list", "drive_from_spikes", "spike_lists"]
