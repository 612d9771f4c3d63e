"""The Locally Competitive Algorithm (LCA; Rozell, Johnson, Baraniuk & Olshausen 2008) in
predictive-coding form: a rate (ODE) version and a spiking version built on LIF neurons.

A dictionary ``phi`` ``(d, n)`` has one feature (atom) per column. For an input ``x`` ``(d,)`` the
network holds a code ``a`` ``(n,)``, its prediction ``phi @ a`` and the residual

    e = x - phi @ a                                   (d,)   the prediction error

Every neuron is driven by the projection of the residual on its own feature plus its own activity,

    I = phi.T @ e + a = phi.T @ x - (phi.T @ phi - 1) @ a

which is Rozell's LCA drive: feed-forward input ``phi.T @ x`` and lateral inhibition through the
Gram matrix ``phi.T @ phi`` with the self-connection taken out. Written with the residual it needs no
Gram matrix at all, only the two local products ``phi @ a`` and ``phi.T @ e``.

Rate LCA (:func:`rate_code`), Rozell's ODE with a one-sided soft threshold (non-negative codes):

    tau du/dt = -u + I,        a = max(u - lam, 0)

Spiking LCA (:func:`spiking_step`): each neuron is a LIF neuron (:mod:`sleepjax.spiking.lif`,
subtract reset) integrating ``I - lam``; its spikes are filtered by an exponential synapse into the
code,

    tau_s da/dt = -a + threshold * spikes(t)

so that ``a`` is ``threshold`` times the neuron's firing rate. Without leak, a neuron with steady
drive fires at ``(I - lam) / threshold`` per second, hence on average ``a = max(I - lam, 0)``: the same
fixed point as the rate LCA (Tang, Lin & Davies 2017 prove the convergence for the non-leaky case).
The leak (``tau_m``) adds a small extra threshold of about ``threshold / (2 tau_m)``.

Both have their fixed points where ``phi_i . e = lam`` for active neurons and ``phi_i . e <= lam``
for silent ones: the KKT conditions of the non-negative lasso

    min_a  0.5 |x - phi a|^2 + lam * sum(a),   a >= 0

for any feature norms. That is the root of the instability of Hebbian dictionary learning studied
in :mod:`sleepjax.lca.learning`: an active neuron always sees ``phi_i . e = lam > 0``, so the rule
``dphi = eta e a^T`` lengthens every feature that is used.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
from jax import lax

from sleepjax.spiking.lif import LIFParams, LIFState, lif_init, lif_step


class NeuronConfig(NamedTuple):
    """Constants of the spiking LCA (a pytree of scalars, so it can be traced and vmapped).

    Attributes:
        dt: simulation step (s).
        tau_m: LIF membrane time constant (s).
        tau_s: synaptic time constant of the code trace (s).
        threshold: LIF threshold; also the code carried by one spike (code units x s).
        lam: sparsity penalty, a negative bias current on every neuron (code units / s).
        t_ref: LIF refractory period (s).
        delay: steps (0 or 1) before a neuron receives the drive computed from the residual. With 0
            it acts on it in the same step; with 1 in the next one, as on neuromorphic hardware where
            every message between units takes one step. With 1 a neuron's spike never depends on the
            input of its own step, which the spike-triggered rule (:mod:`sleepjax.lca.learning`)
            needs on step-to-step white noise.
    """

    dt: float | jax.Array = 1e-3
    tau_m: float | jax.Array = 0.1
    tau_s: float | jax.Array = 0.02
    threshold: float | jax.Array = 0.02
    lam: float | jax.Array = 2.0
    t_ref: float | jax.Array = 0.0
    delay: int | jax.Array = 0


class SpikingState(NamedTuple):
    """Network state: LIF neurons, the code trace ``a`` ``(n,)`` and the drive ``current`` ``(n,)``
    computed in the previous step (what a neuron receives next with ``delay = 1``)."""

    lif: LIFState
    a: jax.Array
    current: jax.Array


def residual(phi: jax.Array, x: jax.Array, a: jax.Array) -> jax.Array:
    """Prediction error ``x - phi @ a`` ``(d,)``."""
    return x - phi @ a


def drive(phi: jax.Array, e: jax.Array, a: jax.Array) -> jax.Array:
    """LCA drive ``phi.T @ e + a`` ``(n,)`` (lateral inhibition through the Gram matrix, minus self)."""
    return phi.T @ e + a


def rate_code(phi: jax.Array, x: jax.Array, lam: float | jax.Array, tau: float, dt: float, num_steps: int) -> jax.Array:
    """Code ``(n,)`` of the rate LCA after ``num_steps`` Euler steps from ``u = 0``.

    For ``dt / tau`` small enough (below ``2 / (largest eigenvalue of phi.T phi)``) and enough steps
    it converges to the non-negative lasso solution (module docstring).
    """
    dtype = phi.dtype
    lam = jnp.asarray(lam, dtype)
    rate = jnp.asarray(dt / tau, dtype)

    def step(u, _):
        a = jnp.maximum(u - lam, 0)
        return u + rate * (drive(phi, residual(phi, x, a), a) - u), None

    u, _ = lax.scan(step, jnp.zeros(phi.shape[1], dtype), None, length=num_steps)
    return jnp.maximum(u - lam, 0)


def spiking_init(n: int, dtype=jnp.float32) -> SpikingState:
    """``n`` neurons at rest with an empty code trace and no drive on its way."""
    return SpikingState(lif_init(n, dtype), jnp.zeros((n,), dtype), jnp.zeros((n,), dtype))


def spiking_step(
    phi: jax.Array, x: jax.Array, state: SpikingState, cfg: NeuronConfig
) -> tuple[SpikingState, jax.Array, jax.Array]:
    """One step of the spiking LCA on input ``x`` ``(d,)``.

    The residual ``e`` is that of the code held at the start of the step (this step's spikes reach the
    code, and so the residual, in the next step). The neurons integrate the drive ``phi.T e + a - lam``
    of this step (``cfg.delay = 0``) or of the previous one (``cfg.delay = 1``).

    Returns ``(new_state, spikes (n,) bool, e (d,))``.
    """
    dtype = phi.dtype
    dt, _, tau_s, threshold, lam, _, delay = (jnp.asarray(c, dtype) for c in cfg)
    e = residual(phi, x, state.a)
    current = drive(phi, e, state.a) - lam
    received = jnp.where(delay > 0, state.current, current)
    lif, spikes = lif_step(state.lif, received, lif_params(cfg), dt, reset="subtract")
    a = state.a + (dt / tau_s) * (spikes.astype(dtype) * (threshold / dt) - state.a)
    return SpikingState(lif, a, current), spikes, e


def lif_params(cfg: NeuronConfig) -> LIFParams:
    """The LIF constants of the spiking LCA's neurons."""
    return LIFParams(tau_m=cfg.tau_m, threshold=cfg.threshold, v_reset=0.0, t_ref=cfg.t_ref)


class Inference(NamedTuple):
    """What one presentation of an input produced (no learning).

    Attributes:
        code: ``(n,)`` rate code over the read-out window: ``threshold * spike count / window``.
        active: ``(n,)`` bool, neurons that spiked at least once in the read-out window.
    """

    code: jax.Array
    active: jax.Array


def infer(phi: jax.Array, x: jax.Array, cfg: NeuronConfig, num_steps: int, readout_steps: int) -> Inference:
    """Present ``x`` for ``num_steps`` steps from rest, reading the code over the last ``readout_steps``.

    The first ``num_steps - readout_steps`` steps let the competition settle, so onset transients
    (every driven neuron starts before inhibition builds up) are not counted.
    """
    if not 0 < readout_steps <= num_steps:
        raise ValueError(f"readout_steps must be in 1..num_steps={num_steps}, got {readout_steps}")
    dtype = phi.dtype

    def step(state, t):
        state, spikes, _ = spiking_step(phi, x, state, cfg)
        return state, spikes & (t >= num_steps - readout_steps)

    _, counted = lax.scan(step, spiking_init(phi.shape[1], dtype), jnp.arange(num_steps))
    counts = counted.sum(0).astype(dtype)
    window = jnp.asarray(readout_steps, dtype) * jnp.asarray(cfg.dt, dtype)
    return Inference(counts * jnp.asarray(cfg.threshold, dtype) / window, counts > 0)
