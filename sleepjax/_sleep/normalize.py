"""Data-based normalisation that turns ANN weights into spiking-layer input scales (SRC).

Before every sleep the reference forwards the data seen so far through the network (in test mode) and,
layer by layer, divides by the largest positive weight or activation, chaining the factors. Note the
chain divides by the previous layer's *applied* factor, not by its raw maximum; only the ratio of the
threshold scale to the input scale decides spiking, but a faithful reproduction keeps this form.
"""

from __future__ import annotations

from collections.abc import Sequence

import jax
import jax.numpy as jnp


def layer_factors(weights: Sequence[jax.Array], max_activations: jax.Array) -> jax.Array:
    """Per-layer scale factors of the SRC normalisation.

    Args:
        weights: the ``L`` weight matrices, each ``(n_out, n_in)``.
        max_activations: ``(L,)`` largest activation of each layer's output over the data (test mode).

    Returns:
        ``(L,)`` factors; the sleep input scale of layer ``l`` is ``alpha_scale * factor[l]``.

    For each layer ``s = max(largest positive weight, largest positive activation)``,
    ``applied = s / previous_applied`` (starting from 1) and ``factor = 1 / applied``.
    """
    if len(weights) != max_activations.shape[0]:
        raise ValueError(f"got {len(weights)} weight matrices but {max_activations.shape[0]} activation maxima")
    factors = []
    previous = jnp.ones((), max_activations.dtype)
    for w, act_max in zip(weights, max_activations):
        scale = jnp.maximum(jnp.maximum(w.max(), act_max), 0.0)
        applied = scale / previous
        factors.append(1.0 / applied)
        previous = applied
    return jnp.stack(factors)


def max_activations(forward, x: jax.Array, mask: jax.Array | None = None) -> jax.Array:
    """Largest activation of every layer over the rows of ``x`` whose ``mask`` is true.

    Args:
        forward: maps one example to the tuple of its layer outputs (e.g. ``MLP.activations``).
        x: ``(n, d)`` inputs.
        mask: optional ``(n,)`` bools selecting which rows count.

    Returns:
        ``(L,)`` maxima (0 where a layer never activates).
    """
    acts = jax.vmap(forward)(x)
    maxima = []
    for a in acts:
        per_row = a.reshape(a.shape[0], -1).max(axis=1)
        if mask is not None:
            per_row = jnp.where(mask, per_row, 0.0)
        maxima.append(jnp.maximum(per_row.max(), 0.0))
    return jnp.stack(maxima)
