"""Wake and sleep phases of the spiking LCA and its evaluation, for :func:`sleepjax._engine.continual_run`.

A run shows the network ``B`` blocks of ``K`` training patches (the tasks: a :class:`PatchBlock` with a
leading block axis). After each block it may sleep, and is then evaluated on held-out data patches and
on pure-noise patches (:class:`DictionaryEvaluator`). Params are the dictionary ``phi`` ``(d, n)`` alone.
"""

from __future__ import annotations

from typing import NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp

from sleepjax._phases import Phase, sequence
from sleepjax.lca.learning import learn_patches
from sleepjax.lca.model import NeuronConfig, infer
from sleepjax.lca.sleep import noise_sleep


class PatchBlock(NamedTuple):
    """One task of an LCA run: ``x`` ``(K, d)`` training patches and the block's ``index``."""

    x: jax.Array
    index: jax.Array


class LearnHparams(NamedTuple):
    """``eta``: learning rate of the Hebbian rule while awake."""

    eta: float | jax.Array


def init_dictionary(key: jax.Array, patches: jax.Array, n: int, norm: float = 1.0) -> jax.Array:
    """Dictionary ``(d, n)`` of ``n`` distinct random training patches ``(N, d)``, scaled to L2 norm ``norm``.

    Starting from data (rather than random directions) gives every neuron inputs it responds to, so
    none stays silent and unlearned. The norms are set once here and never renormalised after.
    """
    if n > patches.shape[0]:
        raise ValueError(f"cannot draw {n} dictionary features from {patches.shape[0]} patches")
    picked = patches[jax.random.choice(key, patches.shape[0], (n,), replace=False)].T
    return picked * (jnp.asarray(norm, patches.dtype) / jnp.linalg.norm(picked, axis=0, keepdims=True))


def learn_phase(cfg: NeuronConfig, steps_per_patch: int, rule: str) -> Phase:
    """Learn online from every patch of the block (``steps_per_patch`` steps each) with the learning rule
    ``rule`` (:data:`sleepjax.lca.learning.RULES`); hparams :class:`LearnHparams`.

    Metrics: ``wake_rate``, the mean firing rate (Hz) over neurons and steps.
    """

    def apply(phi, state, task, hparams, key):
        phi, counts = learn_patches(phi, task.x, cfg, hparams.eta, steps_per_patch, rule)
        seconds = counts.shape[0] * steps_per_patch * jnp.asarray(cfg.dt, phi.dtype)
        return phi, state, {"wake_rate": counts.sum(0).mean().astype(phi.dtype) / seconds}

    return Phase(lambda phi, key: (), apply)


def noise_sleep_phase(cfg: NeuronConfig, max_steps: int, rule: str) -> Phase:
    """Sleep on modulated noise (:func:`sleepjax.lca.sleep.sleep`); hparams :class:`NoiseSleepHparams`.

    Metrics: ``sleep_rate``, the mean firing rate (Hz) over neurons and sleeping steps (0 if none).
    """

    def apply(phi, state, task, hparams, key):
        phi, counts = noise_sleep(phi, hparams, cfg, key, max_steps, rule)
        seconds = jnp.maximum(jnp.asarray(hparams.duration, phi.dtype), jnp.asarray(cfg.dt, phi.dtype))
        return phi, state, {"sleep_rate": counts.mean().astype(phi.dtype) / seconds}

    return Phase(lambda phi, key: (), apply)


def learn_and_sleep(cfg: NeuronConfig, steps_per_patch: int, max_sleep_steps: int, rule: str) -> Phase:
    """Wake on the block, then sleep, both learning with ``rule``.

    Hparams ``{"wake": LearnHparams, "sleep": NoiseSleepHparams}``.
    """
    return sequence(wake=learn_phase(cfg, steps_per_patch, rule), sleep=noise_sleep_phase(cfg, max_sleep_steps, rule))


def learn_only(cfg: NeuronConfig, steps_per_patch: int, rule: str) -> Phase:
    """Wake on the block with ``rule``, no sleep; hparams ``{"wake": LearnHparams}``."""
    return sequence(wake=learn_phase(cfg, steps_per_patch, rule))


class DictionaryScores(NamedTuple):
    """Scores of a dictionary (scalars except ``norms``).

    Attributes:
        norms: ``(n,)`` L2 norm of every feature.
        noise_fire_fraction: fraction of neurons that spike (in the read-out window) on a pure-noise
            patch, averaged over the noise patches.
        recon_error: ``|x - phi a| / |x|`` of the rate code ``a``, averaged over held-out patches.
        sparsity: fraction of neurons active on a held-out patch, averaged over patches.
    """

    norms: jax.Array
    noise_fire_fraction: jax.Array
    recon_error: jax.Array
    sparsity: jax.Array


def evaluate_dictionary(
    phi: jax.Array, test: jax.Array, noise: jax.Array, cfg: NeuronConfig, num_steps: int, readout_steps: int
) -> DictionaryScores:
    """Score ``phi`` on held-out patches ``test`` ``(M, d)`` and noise patches ``noise`` ``(P, d)``, no learning."""

    def run(x):
        return infer(phi, x, cfg, num_steps, readout_steps)

    on_data = jax.vmap(run)(test)
    on_noise = jax.vmap(run)(noise)
    recon = test - on_data.code @ phi.T
    error = jnp.linalg.norm(recon, axis=1) / jnp.linalg.norm(test, axis=1)
    dtype = phi.dtype
    return DictionaryScores(
        norms=jnp.linalg.norm(phi, axis=0),
        noise_fire_fraction=on_noise.active.astype(dtype).mean(),
        recon_error=error.mean(),
        sparsity=on_data.active.astype(dtype).mean(),
    )


class DictionaryEvaluator(eqx.Module):
    """``evaluate_dictionary(phi, key)`` for :func:`sleepjax._engine.continual_run`: :func:`evaluate` on fixed patches.

    The held-out and noise patches are array fields, so they are inputs of the compiled program.
    """

    test: jax.Array
    noise: jax.Array
    cfg: NeuronConfig = eqx.field(static=True)
    num_steps: int = eqx.field(static=True)
    readout_steps: int = eqx.field(static=True)

    def __call__(self, phi: jax.Array, key: jax.Array) -> DictionaryScores:
        return evaluate_dictionary(phi, self.test, self.noise, self.cfg, self.num_steps, self.readout_steps)
