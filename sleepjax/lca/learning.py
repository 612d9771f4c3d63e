"""Online dictionary learning of the spiking LCA with a local Hebbian rule, and no normalisation.

Each dictionary weight ``phi[k, i]`` (from neuron ``i`` to residual unit ``k``) changes by the product
of the two activities it connects. Two forms of that product are offered (``rule``):

``"trace"``: at every step, the residual times the code trace held at the start of the step,

    phi <- phi + eta * dt * e a^T                     e = x - phi a (d,),  a the code trace (n,)

which is stochastic gradient descent on ``0.5 |x - phi a|^2``. ``"spike"``: only when neuron ``i``
spikes, its feature takes the residual of that step, the one computed before the spike reaches the
code (the event-driven form of the rule on neuromorphic hardware),

    phi_i <- phi_i + eta * threshold * e              at each spike of neuron i

that is ``eta * dt * e (threshold * spikes / dt)^T`` per step. Since the trace ``a`` is the spike train
filtered to unit area times ``threshold``, both rules move ``phi`` by the same amount per second when
the residual is steady: they differ only in *when* within the code's fluctuations they sample it.

Both are purely local (no column norms, no global renormalisation). Since an active neuron's drive
settles at ``phi_i . e = lam > 0`` (:mod:`sleepjax.lca.model`), both lengthen every feature in use, so
feature norms grow, and with them the response of each neuron to inputs that do not match its feature
at all, pure noise included. With rate codes the growth has no end. With spikes the code fluctuates
around its rate (a sawtooth: up ``threshold / tau_s`` at a spike, decaying in between), and the
residual contains ``-phi_i a_i``:

* the trace rule pairs ``a_i`` with the residual of the same ``a_i``, which takes ``|phi_i|^2 Var(a_i)``
  off the average of ``a_i phi_i . e``: a brake growing with the norm and the spike size, so the norms
  level off, late and high for fine spikes, sooner for coarse ones;
* the spike rule samples the residual at the bottom of the sawtooth, where ``phi_i . e`` is about
  ``lam + |phi_i|^2 threshold / (2 tau_s)``: a push growing with the norm instead, so the growth does
  not level off.

On step-to-step white noise (sleep, :mod:`sleepjax.lca.sleep`) the trace rule pairs the new input of
a step with a code made of earlier spikes, so on average it only shrinks (``-eta phi a a^T``). The
spike rule does the same only if a neuron's spike does not depend on the input of its own step: in
a network whose neurons act on their drive in the same step (``NeuronConfig.delay = 0``) a neuron
fires on noise that points along its feature and the rule then lengthens that feature, in sleep
too. It is meant for ``delay = 1`` (every message takes one step, as on neuromorphic hardware).

:func:`learn_steps` runs the network over a sequence of inputs (one per step) from a given state,
:func:`present` shows one input for a fixed number of steps from rest, :func:`learn_patches` a
sequence of patches, all with the rule active.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax import lax

from sleepjax.lca.model import NeuronConfig, SpikingState, spiking_init, spiking_step

RULES = ("spike", "trace")


def check_rule(rule: str) -> str:
    """``rule`` if it names a learning rule of :data:`RULES`, else a ``ValueError`` naming the choices."""
    if rule not in RULES:
        raise ValueError(f"unknown LCA learning rule {rule!r}; choose from {', '.join(RULES)}")
    return rule


def presynaptic(a: jax.Array, spikes: jax.Array, cfg: NeuronConfig, rule: str) -> jax.Array:
    """The presynaptic factor ``(n,)`` that the rule pairs with the residual of the step.

    ``"trace"``: the code trace ``a`` held at the start of the step. ``"spike"``: this step's spikes as a
    code rate, ``threshold * spikes / dt`` (zero except at a spike, same time integral as the trace).
    """
    if check_rule(rule) == "trace":
        return a
    return spikes.astype(a.dtype) * (jnp.asarray(cfg.threshold, a.dtype) / jnp.asarray(cfg.dt, a.dtype))


def hebbian_update(phi: jax.Array, e: jax.Array, a: jax.Array, eta_dt: float | jax.Array) -> jax.Array:
    """The local rule for one step, ``phi + eta_dt * outer(e, a)``; ``phi (d, n)``, ``e (d,)``, ``a (n,)``."""
    return phi + jnp.asarray(eta_dt, phi.dtype) * jnp.outer(e, a)


def learning_step(
    phi: jax.Array, x: jax.Array, state: SpikingState, cfg: NeuronConfig, eta_dt: jax.Array, rule: str
) -> tuple[jax.Array, SpikingState, jax.Array]:
    """One step of the network on input ``x`` ``(d,)`` with the rule ``rule`` active.

    The residual is the one of the code held at the start of the step (before this step's spikes
    reach it). Returns ``(phi, new_state, spikes)``.
    """
    new_state, spikes, e = spiking_step(phi, x, state, cfg)
    return hebbian_update(phi, e, presynaptic(state.a, spikes, cfg, rule), eta_dt), new_state, spikes


def learn_steps(
    phi: jax.Array,
    state: SpikingState,
    inputs: jax.Array,
    cfg: NeuronConfig,
    eta: float | jax.Array,
    rule: str,
) -> tuple[jax.Array, SpikingState, jax.Array]:
    """Run the spiking LCA over ``inputs`` ``(T, d)`` (one input per step), learning at every step.

    Returns:
        ``(phi, state, spike_count)`` after the ``T`` steps; ``spike_count`` ``(n,)`` counts each
        neuron's spikes.
    """
    check_rule(rule)
    eta_dt = jnp.asarray(eta, phi.dtype) * jnp.asarray(cfg.dt, phi.dtype)

    def step(carry, x):
        phi, state, count = carry
        phi, state, spikes = learning_step(phi, x, state, cfg, eta_dt, rule)
        return (phi, state, count + spikes.astype(count.dtype)), None

    count = jnp.zeros(phi.shape[1], jnp.int32)
    (phi, state, count), _ = lax.scan(step, (phi, state, count), inputs)
    return phi, state, count


def present(
    phi: jax.Array, x: jax.Array, cfg: NeuronConfig, eta: float | jax.Array, num_steps: int, rule: str
) -> tuple[jax.Array, jax.Array]:
    """Show ``x`` ``(d,)`` for ``num_steps`` steps from rest, learning; returns ``(phi, spike_count)``."""
    inputs = jnp.broadcast_to(x, (num_steps,) + x.shape)
    phi, _, count = learn_steps(phi, spiking_init(phi.shape[1], phi.dtype), inputs, cfg, eta, rule)
    return phi, count


def learn_patches(
    phi: jax.Array,
    patches: jax.Array,
    cfg: NeuronConfig,
    eta: float | jax.Array,
    num_steps: int,
    rule: str,
) -> tuple[jax.Array, jax.Array]:
    """Show each of ``patches`` ``(K, d)`` in turn (``num_steps`` steps each, from rest), learning.

    Returns ``(phi, spike_counts (K, n))``.
    """

    def body(phi, x):
        return present(phi, x, cfg, eta, num_steps, rule)

    return lax.scan(body, phi, patches)
