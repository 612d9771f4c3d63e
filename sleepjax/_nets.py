"""Networks: a fully connected ReLU network as an equinox module.

The multilayer perceptron here is the network that Sleep Replay Consolidation (SRC) sleeps: ReLU hidden
units, optionally no biases (a spiking view of the network has no bias term), dropout on the hidden
layers, and either a ReLU output trained with squared error (the reference SRC setup) or a linear output
read through softmax/cross-entropy.

Dropout follows the reference implementation: during training each hidden unit is kept with probability
``1 - dropout`` and *not* rescaled; at test time hidden activations are multiplied by ``1 - dropout``.
That test-time scaling is also what SRC's data-based normalisation sees.
"""

from __future__ import annotations

from typing import Literal

import equinox as eqx
import jax

Head = Literal["relu", "linear"]


class MLP(eqx.Module):
    """Fully connected network ``sizes[0] -> ... -> sizes[-1]`` with ReLU hidden layers.

    Call it on one example ``x`` of shape ``(sizes[0],)``; pass ``key`` to train with dropout.
    Use ``jax.vmap`` for batches.
    """

    layers: tuple[eqx.nn.Linear, ...]
    dropout: float = eqx.field(static=True)
    head: Head = eqx.field(static=True)

    def __init__(
        self,
        sizes: tuple[int, ...] | list[int],
        *,
        key: jax.Array,
        use_bias: bool = False,
        dropout: float = 0.0,
        head: Head = "relu",
        init_scale: float | None = 0.01,
    ):
        """Build the network.

        Args:
            sizes: layer widths including input and output, e.g. ``(784, 1200, 1200, 10)``.
            key: PRNG key for the initial weights.
            use_bias: add bias terms (SRC needs ``False``).
            dropout: probability of dropping a hidden unit during training, in ``[0, 1)``.
            head: ``"relu"`` (ReLU output, squared-error training) or ``"linear"`` (logits for softmax).
            init_scale: weights drawn uniformly in ``[-init_scale, init_scale]`` (the reference uses
                0.01); ``None`` keeps equinox's default fan-in initialisation.
        """
        sizes = tuple(int(s) for s in sizes)
        if len(sizes) < 2 or min(sizes) < 1:
            raise ValueError(f"sizes must list at least two positive layer widths, got {sizes}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout}")
        if head not in ("relu", "linear"):
            raise ValueError(f"head must be 'relu' or 'linear', got {head!r}")
        if init_scale is not None and not init_scale > 0:
            raise ValueError(f"init_scale must be positive or None, got {init_scale}")
        keys = jax.random.split(key, len(sizes) - 1)
        layers = []
        for k, n_in, n_out in zip(keys, sizes[:-1], sizes[1:]):
            layer = eqx.nn.Linear(n_in, n_out, use_bias=use_bias, key=k)
            if init_scale is not None:
                kw, kb = jax.random.split(k)
                w = jax.random.uniform(kw, (n_out, n_in), minval=-init_scale, maxval=init_scale)
                layer = eqx.tree_at(lambda lin: lin.weight, layer, w)
                if use_bias:
                    b = jax.random.uniform(kb, (n_out,), minval=-init_scale, maxval=init_scale)
                    layer = eqx.tree_at(lambda lin: lin.bias, layer, b)
            layers.append(layer)
        self.layers = tuple(layers)
        self.dropout = float(dropout)
        self.head = head

    @property
    def sizes(self) -> tuple[int, ...]:
        return (self.layers[0].in_features,) + tuple(layer.out_features for layer in self.layers)

    def activations(
        self, x: jax.Array, *, key: jax.Array | None = None, shifts: tuple[jax.Array, ...] | None = None
    ) -> tuple[jax.Array, ...]:
        """Outputs of every layer for one example (hidden ones after dropout or its test scaling).

        ``shifts``: one vector per layer added to its linear output before the nonlinearity. At zero they
        change nothing; a gradient with respect to them is the gradient at each layer's linear output, from
        which a layer's weight gradient is the outer product with its input (per-example gradients without
        per-example weight copies: the EWC Fisher information uses this).
        """
        keep = 1.0 - self.dropout
        outs = []
        h = x
        n_hidden = len(self.layers) - 1
        keys = jax.random.split(key, n_hidden) if key is not None and n_hidden else [None] * n_hidden

        def linear(i, h):
            return self.layers[i](h) if shifts is None else self.layers[i](h) + shifts[i]

        for i, k in enumerate(keys):
            h = jax.nn.relu(linear(i, h))
            if self.dropout > 0.0:
                h = h * jax.random.bernoulli(k, keep, h.shape).astype(h.dtype) if k is not None else h * keep
            outs.append(h)
        out = linear(n_hidden, h)
        outs.append(jax.nn.relu(out) if self.head == "relu" else out)
        return tuple(outs)

    def __call__(self, x: jax.Array, *, key: jax.Array | None = None) -> jax.Array:
        return self.activations(x, key=key)[-1]


def weights_of(model) -> tuple[jax.Array, ...]:
    """The weight matrices of ``model`` (any module whose ``layers`` are ``eqx.nn.Linear``), each
    ``(n_out, n_in)``."""
    return tuple(layer.weight for layer in model.layers)


def with_weights(model, weights: tuple[jax.Array, ...] | list[jax.Array]):
    """A copy of ``model`` (as for :func:`weights_of`) whose weight matrices are replaced by ``weights``."""
    return eqx.tree_at(lambda m: tuple(layer.weight for layer in m.layers), model, tuple(weights))
