"""Sleep for the spiking LCA: epochs of sinusoidally modulated Gaussian noise, the same local rule on.

During sleep the input is white Gaussian noise (a fresh ``N(0, 1)`` draw per pixel and step) whose
amplitude is modulated by a sinusoid, a surrogate for the up and down states of slow-wave sleep
(Watkins, Kim, Sornborger & Kenyon, CVPR Workshops 2020):

    x(t) = A(t) * xi(t),     A(t) = max(offset + amplitude * sin(2 pi frequency t), 0)

The dictionary keeps learning with the wake rule (:mod:`sleepjax.lca.learning`). The noise of a step
is uncorrelated with the code (trace rule) or the spikes (spike rule, on a network with
``NeuronConfig.delay = 1``) it is paired with, so on average the update is ``-phi a a^T`` times the
learning rate: for any neuron the noise drives to fire, the rule shrinks its feature (and pushes it
away from co-active features), while silent neurons are left alone. Features grown long in wake are
exactly the ones that fire on noise, so sleep trims them; the modulation sweeps the noise level,
reaching neurons over a range of norms in every cycle. The level decides how selective this is:
noise that only the longest features respond to trims just those, while strong noise drives every
neuron and shrinks short features fastest (relative to their length), which erases what wake has
learned.

``amplitude = 0`` gives plain, unmodulated noise of level ``offset``; ``duration = 0`` gives no
sleep (the phase then changes nothing, so arms with and without sleep share one compiled program).
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
from jax import lax

from sleepjax.lca.learning import check_rule, learning_step
from sleepjax.lca.model import NeuronConfig, spiking_init


class NoiseSleepHparams(NamedTuple):
    """One sleep setting; every field is a (traceable, vmappable) scalar.

    Attributes:
        frequency: sinusoid frequency (Hz).
        amplitude: sinusoid amplitude, in units of the data's pixel standard deviation.
        offset: mean noise level, same units.
        duration: sleep length (s); at most the phase's ``max_steps * dt``.
        eta: learning rate of the Hebbian rule during sleep.
    """

    frequency: float | jax.Array
    amplitude: float | jax.Array
    offset: float | jax.Array
    duration: float | jax.Array
    eta: float | jax.Array


def noise_level(t: jax.Array, hp: NoiseSleepHparams) -> jax.Array:
    """The noise amplitude ``A(t)`` at time ``t`` (s)."""
    dtype = jnp.result_type(t)
    phase = 2 * jnp.pi * jnp.asarray(hp.frequency, dtype) * t
    return jnp.maximum(jnp.asarray(hp.offset, dtype) + jnp.asarray(hp.amplitude, dtype) * jnp.sin(phase), 0)


def noise_sleep(
    phi: jax.Array, hp: NoiseSleepHparams, cfg: NeuronConfig, key: jax.Array, max_steps: int, rule: str
) -> tuple[jax.Array, jax.Array]:
    """Sleep for ``hp.duration`` seconds (``max_steps`` steps at most) from rest, learning with ``rule``.

    Steps past the duration change nothing, so ``duration`` can be traced and vmapped.

    Returns:
        ``(phi, spike_count (n,))``.
    """
    check_rule(rule)
    dtype = phi.dtype
    dt = jnp.asarray(cfg.dt, dtype)
    eta_dt = jnp.asarray(hp.eta, dtype) * dt
    num_awake_steps = jnp.round(jnp.asarray(hp.duration, dtype) / dt)

    def step(carry, inputs):
        phi, state, count = carry
        t, k = inputs
        x = noise_level(t.astype(dtype) * dt, hp) * jax.random.normal(k, (phi.shape[0],), dtype)
        new_phi, new_state, spikes = learning_step(phi, x, state, cfg, eta_dt, rule)
        on = t.astype(dtype) < num_awake_steps

        def keep(new, old):
            return jnp.where(on, new, old)

        count = count + (spikes & on).astype(count.dtype)
        return (keep(new_phi, phi), jax.tree.map(keep, new_state, state), count), None

    carry = (phi, spiking_init(phi.shape[1], dtype), jnp.zeros(phi.shape[1], jnp.int32))
    steps = jnp.arange(max_steps)
    (phi, _, count), _ = lax.scan(step, carry, (steps, jax.random.split(key, max_steps)))
    return phi, count
