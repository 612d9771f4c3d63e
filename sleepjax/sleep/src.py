"""Sleep Replay Consolidation (SRC): the sleep phase of an ANN viewed as a spiking network.

The network's weight matrices become the synapses of integrate-and-fire layers without leak beyond a
decay, without refractory period and without inhibition. The input layer fires Bernoulli spikes with a
rate proportional to the mean image of the data seen so far (for MNIST only a random 11x11 window of it
per step). Whenever a neuron spikes, its incoming synapses from neurons that spiked in the same step
are potentiated and those from silent neurons depressed, both scaled by ``g(w)``
(:func:`sleepjax.sleep.plasticity.weight_dependence`). After sleep the ANN simply uses the modified
weights.

This module works on a plain sequence of weight matrices, so it can be used inside any JAX training
loop; :mod:`sleepjax.phases.src` wraps it as a phase for equinox MLPs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from sleepjax.sleep.plasticity import update_spiking_rows


class SRCHparams(NamedTuple):
    """SRC sleep hyperparameters, all arrays so they can be vmapped.

    Attributes:
        max_rate: input firing rate scale; a pixel of value ``x`` spikes with probability
            ``min(1, 2 * dt * max_rate * x)`` per step.
        inc: potentiation factor.
        dec: depression factor.
        beta: ``(L,)`` threshold scales; layer ``l`` fires when its potential reaches
            ``threshold * beta[l]``.
        alpha_scale: multiplies the normalisation factors to give each layer's input scale.
        decay: membrane potential decay per step.
        threshold: base firing threshold.
        dt: time step in seconds.
    """

    max_rate: jax.Array
    inc: jax.Array
    dec: jax.Array
    beta: jax.Array
    alpha_scale: jax.Array
    decay: jax.Array = jnp.asarray(0.999)
    threshold: jax.Array = jnp.asarray(1.0)
    dt: jax.Array = jnp.asarray(0.001)

    @classmethod
    def create(cls, max_rate, inc, dec, beta, alpha_scale, decay=0.999, threshold=1.0, dt=0.001):
        """Build hyperparameters from Python numbers, as float32 arrays."""
        f = lambda v: jnp.asarray(v, jnp.float32)  # noqa: E731
        return cls(f(max_rate), f(inc), f(dec), f(beta), f(alpha_scale), f(decay), f(threshold), f(dt))


#: The reference hyperparameters of the published experiments (MNIST: 784-1200-1200-10).
REFERENCE_HPARAMS = {
    "mnist": SRCHparams.create(239.515363, 0.032064, 0.003344, (14.548273, 44.560317, 38.046326), 55.882454),
    "fashion-mnist": SRCHparams.create(181.047258, 0.041001, 0.003344, (40.446884, 27.596929, 33.109393), 31.592987),
    "mnist-rehearsal": SRCHparams.create(21.0, 0.1, 1e-6, (22.259158, 0.318765, 0.0), 0.1),
    "cifar10-features": SRCHparams.create(453.020604, 0.078129, 0.003005, (8.070491, 0.907842, 1.728840), 4.131109),
}


class InputWindow(NamedTuple):
    """Show only a random ``size x size`` window of an ``height x width`` input image per step."""

    height: int
    width: int
    size: int


MNIST_WINDOW = InputWindow(28, 28, 11)


class SleepStats(NamedTuple):
    """Spike counts per layer (input first) summed over the sleep, for diagnostics."""

    spikes: jax.Array


def check_hparams(hparams: SRCHparams, num_layers: int) -> None:
    """Raise ``ValueError`` for hyperparameters that cannot give a meaningful sleep.

    Only concrete (non-traced) values are checked; inside ``jit`` the check is skipped.
    """
    if jnp.shape(hparams.beta) != (num_layers,):
        raise ValueError(
            f"SRC hyperparameter beta must have one entry per layer, shape ({num_layers},), "
            f"got {jnp.shape(hparams.beta)}"
        )
    if any(isinstance(v, jax.core.Tracer) for v in hparams):
        return
    values = {name: np.asarray(value) for name, value in hparams._asdict().items()}
    for name, value in values.items():
        if not np.all(np.isfinite(value)):
            raise ValueError(f"SRC hyperparameter {name} must be finite, got {value}")
        if np.any(value < 0):
            raise ValueError(f"SRC hyperparameter {name} must be non-negative, got {value}")
    if not np.all(values["dt"] > 0):
        raise ValueError(f"SRC hyperparameter dt must be positive, got {hparams.dt}")
    if not np.all(values["decay"] <= 1):
        raise ValueError(f"SRC hyperparameter decay must be at most 1, got {hparams.decay}")


def _check_inputs(weights: Sequence[jax.Array], mean_input: jax.Array, factors: jax.Array) -> None:
    """Shapes always; values of the sleep input and factors when they are concrete (not traced)."""
    if len(weights) == 0:
        raise ValueError("SRC needs at least one weight matrix")
    for layer, w in enumerate(weights):
        if w.ndim != 2:
            raise ValueError(f"SRC weight {layer} must be a matrix (n_out, n_in), got shape {w.shape}")
    if mean_input.shape != (weights[0].shape[1],):
        raise ValueError(
            f"sleep input must have shape ({weights[0].shape[1]},) to match the first layer, got {mean_input.shape}"
        )
    for layer in range(1, len(weights)):
        if weights[layer].shape[1] != weights[layer - 1].shape[0]:
            raise ValueError(
                f"SRC weight {layer} has {weights[layer].shape[1]} inputs but layer {layer - 1} has "
                f"{weights[layer - 1].shape[0]} outputs"
            )
    if jnp.shape(factors) != (len(weights),):
        raise ValueError(f"factors must have one entry per layer, shape ({len(weights)},), got {jnp.shape(factors)}")
    if not isinstance(mean_input, jax.core.Tracer):
        x = np.asarray(mean_input)
        if not (np.all(np.isfinite(x)) and np.all(x >= 0)):
            raise ValueError("sleep input must be finite and non-negative (a mean image in [0, 1])")
    if not isinstance(factors, jax.core.Tracer):
        f = np.asarray(factors)
        if not (np.all(np.isfinite(f)) and np.all(f > 0)):
            raise ValueError(
                f"normalisation factors must be finite and positive, got {f}; an all-zero or all-negative "
                "layer gives an infinite factor"
            )


def window_mask(key: jax.Array, window: InputWindow) -> jax.Array:
    """A flat ``(height * width,)`` 0/1 mask of one uniformly placed square window."""
    k_row, k_col = jax.random.split(key)
    row = jax.random.randint(k_row, (), 0, window.height - window.size + 1)
    col = jax.random.randint(k_col, (), 0, window.width - window.size + 1)
    rows = jnp.arange(window.height)
    cols = jnp.arange(window.width)
    in_rows = (rows >= row) & (rows < row + window.size)
    in_cols = (cols >= col) & (cols < col + window.size)
    return (in_rows[:, None] & in_cols[None, :]).reshape(-1)


def input_spikes(key: jax.Array, mean_input: jax.Array, hparams: SRCHparams, window: InputWindow | None):
    """Bernoulli input spikes for one step: ``p = min(1, 2 * dt * max_rate * x)`` per pixel."""
    k_window, k_spikes = jax.random.split(key)
    rate = mean_input
    if window is not None:
        rate = jnp.where(window_mask(k_window, window), rate, 0.0)
    p = jnp.minimum(1.0, 2.0 * hparams.dt * hparams.max_rate * rate)
    return jax.random.uniform(k_spikes, rate.shape) < p


def sleep(
    weights: Sequence[jax.Array],
    mean_input: jax.Array,
    factors: jax.Array,
    hparams: SRCHparams,
    key: jax.Array,
    num_steps: int | jax.Array,
    window: InputWindow | None = None,
) -> tuple[tuple[jax.Array, ...], SleepStats]:
    """Run one SRC sleep phase on a stack of weight matrices.

    Args:
        weights: ``L`` matrices ``(n_out, n_in)`` of a bias-free ReLU network, input layer first.
        mean_input: ``(n_in,)`` non-negative sleep input (the mean of the data seen so far, in [0, 1]).
        factors: ``(L,)`` normalisation factors (:func:`sleepjax.sleep.normalize.layer_factors`);
            layer ``l`` receives ``alpha_scale * factors[l] * (W_l @ spikes)``.
        hparams: sleep hyperparameters.
        key: PRNG key.
        num_steps: number of sleep steps; may be a traced integer (the loop length is dynamic).
        window: show a random window of the input per step (MNIST: :data:`MNIST_WINDOW`).

    Returns:
        The slept weights and spike statistics.

    Per step and layer: ``v = decay * v + alpha * (W @ s_prev)``, ``s = v >= threshold * beta``,
    Hebbian update of the rows of neurons with ``s``, ``v[s] = 0``. Plasticity is applied lazily at the
    start of the next step (and once after the last), which gives the same weights as updating right
    away but lets XLA update the matrices in place instead of copying them every step.
    """
    weights = tuple(jnp.asarray(w) for w in weights)
    _check_inputs(weights, mean_input, factors)
    check_hparams(hparams, len(weights))
    if window is not None and window.height * window.width != mean_input.shape[0]:
        raise ValueError(f"input window {window.height}x{window.width} does not match input size {mean_input.shape[0]}")
    dtype = weights[0].dtype
    alphas = (hparams.alpha_scale * factors).astype(dtype)
    thresholds = (hparams.threshold * hparams.beta).astype(dtype)
    decay = jnp.asarray(hparams.decay, dtype)
    sizes = [weights[0].shape[1]] + [w.shape[0] for w in weights]

    def apply_plasticity(weights, spikes):
        return tuple(
            update_spiking_rows(w, spikes[layer + 1], spikes[layer], hparams.inc, hparams.dec)
            for layer, w in enumerate(weights)
        )

    def step(t, carry):
        weights, potentials, spikes, counts = carry
        weights = apply_plasticity(weights, spikes)
        new_spikes = [input_spikes(jax.random.fold_in(key, t), mean_input, hparams, window)]
        new_potentials = []
        for layer, w in enumerate(weights):
            drive = w @ new_spikes[-1].astype(dtype)
            v = decay * potentials[layer] + alphas[layer] * drive
            s = v >= thresholds[layer]
            new_potentials.append(jnp.where(s, 0.0, v).astype(dtype))
            new_spikes.append(s)
        counts = counts + jnp.stack([s.sum() for s in new_spikes])
        return weights, tuple(new_potentials), tuple(new_spikes), counts

    init = (
        weights,
        tuple(jnp.zeros(n, dtype) for n in sizes[1:]),
        tuple(jnp.zeros(n, bool) for n in sizes),
        jnp.zeros(len(sizes), jnp.int32),
    )
    weights, _, spikes, counts = lax.fori_loop(0, num_steps, step, init)
    return apply_plasticity(weights, spikes), SleepStats(spikes=counts)


def sleep_steps(task_index: jax.Array | int, base: int = 15000, per_task: int = 5000) -> jax.Array:
    """Reference sleep length after task ``k`` (0-based): ``base + k * per_task`` steps."""
    return base + jnp.asarray(task_index) * per_task


def reference_hparams(name: str = "mnist") -> SRCHparams:
    """One of :data:`REFERENCE_HPARAMS`, with a clear error for unknown names."""
    try:
        return REFERENCE_HPARAMS[name]
    except KeyError:
        raise ValueError(f"unknown SRC reference {name!r}; choose from {sorted(REFERENCE_HPARAMS)}") from None


__all__ = [
    "InputWindow",
    "MNIST_WINDOW",
    "REFERENCE_HPARAMS",
    "SRCHparams",
    "SleepStats",
    "check_hparams",
    "input_spikes",
    "reference_hparams",
    "sleep",
    "sleep_steps",
    "window_mask",
]
