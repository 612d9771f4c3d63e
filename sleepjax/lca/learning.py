"""Online dictionary learning of the spiking LCA with the local Hebbian rule, and no normalisation.

At every simulation step each dictionary weight ``phi[k, i]`` (from neuron ``i`` to residual unit
``k``) changes by the product of the two activities it connects,

    phi <- phi + eta * dt * e a^T                     e = x - phi a (d,),  a the code trace (n,)

which is stochastic gradient descent on ``0.5 |x - phi a|^2``. It is purely local (no column norms,
no global renormalisation), as on neuromorphic hardware. Since an active neuron's drive settles at
``phi_i . e = lam > 0`` (:mod:`sleepjax.lca.model`), the rule lengthens every feature in use:
``d|phi_i|^2 / dt = 2 eta a_i phi_i . e`` is positive on average during wake, so feature norms grow
without bound, and with them the response of each neuron to inputs that do not match its feature at
all, pure noise included.

:func:`present` shows one input for a fixed number of steps with the rule active; :func:`learn_stream`
shows a sequence of inputs (``(K, T, d)``: an input per step) from a given state.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax import lax

from sleepjax.lca.model import NeuronConfig, SpikingState, spiking_init, spiking_step


def hebbian_update(phi: jax.Array, e: jax.Array, a: jax.Array, eta_dt: float | jax.Array) -> jax.Array:
    """The local rule for one step, ``phi + eta_dt * outer(e, a)``; ``phi (d, n)``, ``e (d,)``, ``a (n,)``."""
    return phi + jnp.asarray(eta_dt, phi.dtype) * jnp.outer(e, a)


def learn_steps(
    phi: jax.Array, state: SpikingState, inputs: jax.Array, cfg: NeuronConfig, eta: float | jax.Array
) -> tuple[jax.Array, SpikingState, jax.Array]:
    """Run the spiking LCA over ``inputs`` ``(T, d)`` (one input per step), learning at every step.

    The update of step ``t`` pairs the residual and the code held at the start of that step.

    Returns:
        ``(phi, state, spike_count)`` after the ``T`` steps; ``spike_count`` ``(n,)`` counts each
        neuron's spikes.
    """
    eta_dt = jnp.asarray(eta, phi.dtype) * jnp.asarray(cfg.dt, phi.dtype)

    def step(carry, x):
        phi, state, count = carry
        new_state, spikes, e = spiking_step(phi, x, state, cfg)
        phi = hebbian_update(phi, e, state.a, eta_dt)
        return (phi, new_state, count + spikes.astype(count.dtype)), None

    count = jnp.zeros(phi.shape[1], jnp.int32)
    (phi, state, count), _ = lax.scan(step, (phi, state, count), inputs)
    return phi, state, count


def present(
    phi: jax.Array, x: jax.Array, cfg: NeuronConfig, eta: float | jax.Array, num_steps: int
) -> tuple[jax.Array, jax.Array]:
    """Show ``x`` ``(d,)`` for ``num_steps`` steps from rest, learning; returns ``(phi, spike_count)``."""
    inputs = jnp.broadcast_to(x, (num_steps,) + x.shape)
    phi, _, count = learn_steps(phi, spiking_init(phi.shape[1], phi.dtype), inputs, cfg, eta)
    return phi, count


def learn_patches(
    phi: jax.Array, patches: jax.Array, cfg: NeuronConfig, eta: float | jax.Array, num_steps: int
) -> tuple[jax.Array, jax.Array]:
    """Show each of ``patches`` ``(K, d)`` in turn (``num_steps`` steps each, from rest), learning.

    Returns ``(phi, spike_counts (K, n))``.
    """

    def body(phi, x):
        return present(phi, x, cfg, eta, num_steps)

    return lax.scan(body, phi, patches)
