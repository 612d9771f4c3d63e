"""Per-spike loops whose cost under ``jax.vmap`` is the members' own spikes.

Sleep does work per spike (read the synapses of a neuron that fired, update them) in a loop that runs
once per spike. Under ``vmap`` a loop with a per-member trip count becomes one loop that runs until the
busiest member is done, every iteration touching every member: with 64 vmapped sleep configurations
each spike would cost 64 times its work. :func:`per_spike_loop` instead gives such a loop a batching
rule that runs it over the spikes of all members together, one (member, neuron) pair per iteration, so
a batch costs the sum of its members' spikes; nested vmaps (seeds x configurations) fold into one batch
axis.

The same concern holds for a loop whose *length* differs between members (a sleep of ``base_steps``
steps, with ``base_steps`` swept): a loop bound that is batched makes the loop's predicate batched, and
``vmap`` then guards every carried array with a ``select`` in every iteration, which copies the weight
matrices each step instead of updating them in place. :func:`shared_bound` gives such a loop one bound
for the whole batch (the largest member's), so its predicate stays unbatched; the loop masks the steps
past each member's own length itself.
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
from jax import lax


def _broadcast(axis_size, in_batched, args):
    """Give every argument the vmapped axis in front."""
    return [
        arg if batched else jnp.broadcast_to(arg, (axis_size,) + jnp.shape(arg))
        for arg, batched in zip(args, in_batched)
    ]


def per_spike_loop(batched: Callable[..., jax.Array]) -> Callable[..., jax.Array]:
    """Make an unbatched function from ``batched(*args) -> array``, which takes every argument and
    returns its result with a leading member axis ``B``.

    The returned function takes the arguments without the member axis. Called plainly it runs
    ``batched`` with ``B = 1``; under ``vmap`` the vmapped axis becomes the member axis (an argument that
    is not vmapped is broadcast), and under nested vmaps all axes fold into one member axis.
    """
    members = jax.custom_batching.custom_vmap(batched)

    @members.def_vmap
    def _fold(axis_size, in_batched, *args):
        args = _broadcast(axis_size, in_batched, args)
        flat = [a.reshape((axis_size * a.shape[1],) + a.shape[2:]) for a in args]
        out = members(*flat)
        return out.reshape((axis_size, -1) + out.shape[1:]), True

    @jax.custom_batching.custom_vmap
    def single(*args):
        return batched(*(a[None] for a in args))[0]

    @single.def_vmap
    def _batch(axis_size, in_batched, *args):
        return members(*_broadcast(axis_size, in_batched, args)), True

    return single


@jax.custom_batching.custom_vmap
def shared_bound(n: jax.Array) -> jax.Array:
    """``n`` itself; under ``vmap`` the largest ``n`` of all members, unbatched (nested vmaps included).

    A loop run to ``shared_bound(n)`` has a trip count shared by every member, so ``vmap`` keeps it an
    ordinary loop; each member must then treat its iterations from ``n`` on as no-ops.
    """
    return n


@shared_bound.def_vmap
def _shared_bound_batched(axis_size, in_batched, n):
    del axis_size
    (batched,) = in_batched
    # Calling shared_bound again lets an enclosing vmap take the maximum over its own axis too.
    return shared_bound(jnp.max(n, axis=0) if batched else n), False


def next_spike(remaining: jax.Array, left: jax.Array) -> tuple[jax.Array, jax.Array]:
    """The (member, neuron) of the next spike still to process: the first member with spikes ``left``
    ``(B,)`` and its first neuron still marked in ``remaining`` ``(B, n)``."""
    member = jnp.argmax(left > 0)
    neuron = jnp.argmax(lax.dynamic_index_in_dim(remaining, member, keepdims=False))
    return member, neuron


def mark_done(remaining: jax.Array, left: jax.Array, member: jax.Array, neuron: jax.Array):
    """``remaining`` and ``left`` after the spike of ``neuron`` in ``member`` has been processed."""
    return remaining.at[member, neuron].set(False), left.at[member].add(-1)
