"""Wake phase: supervised training of a network on a task with an optax optimizer.

One task's training (all epochs and minibatches) is a ``lax.scan`` inside the run's single jit. Each
epoch draws a fresh permutation and uses ``n // batch_size`` full minibatches. The optimizer state is
part of the phase state, so momentum carries over from task to task as in the reference.
"""

from __future__ import annotations

from typing import Literal

import equinox as eqx
import jax
import jax.numpy as jnp
import optax
from jax import lax

from sleepjax.phases import Phase

Loss = Literal["mse", "ce"]


def loss_fn(model, x, y, key, loss: Loss, num_classes: int) -> jax.Array:
    """Training loss of ``model`` on a batch with dropout.

    ``"mse"``: ``0.5 * sum((out - onehot)^2) / batch`` on the network output (the reference SRC setup
    with a ReLU head). ``"ce"``: softmax cross-entropy on the output as logits.
    """
    keys = jax.random.split(key, x.shape[0])
    out = jax.vmap(lambda xi, ki: model(xi, key=ki))(x, keys)
    if loss == "mse":
        target = jax.nn.one_hot(y, num_classes, dtype=out.dtype)
        return 0.5 * jnp.sum((out - target) ** 2) / x.shape[0]
    return optax.softmax_cross_entropy_with_integer_labels(out, y).mean()


def wake(
    optimizer: optax.GradientTransformation,
    *,
    epochs: int,
    batch_size: int,
    loss: Loss = "mse",
    num_classes: int = 10,
) -> Phase:
    """Train on each task for ``epochs`` epochs of ``batch_size`` minibatches.

    The phase takes no hyperparameters at apply time (pass ``None``); wrap the optimizer with
    ``optax.inject_hyperparams`` to make e.g. the learning rate part of the state instead.
    Metrics: ``{"loss": (epochs,) mean training loss per epoch}``.
    """
    if epochs < 1 or batch_size < 1:
        raise ValueError(f"epochs and batch_size must be positive, got {epochs} and {batch_size}")
    if loss not in ("mse", "ce"):
        raise ValueError(f"loss must be 'mse' or 'ce', got {loss!r}")
    grad_fn = eqx.filter_value_and_grad(loss_fn)

    def init(params, key):
        del key
        return optimizer.init(eqx.filter(params, eqx.is_inexact_array))

    def apply(params, state, task, hparams, key):
        del hparams
        n = task.x.shape[0]
        num_batches = n // batch_size
        if num_batches == 0:
            raise ValueError(f"a task of {n} examples has no full batch of {batch_size}")

        # The scans carry only the model's arrays; the rest (e.g. an equinox.nn.MLP's activation) is static.
        carry, static = eqx.partition((params, state), eqx.is_array)

        def train_step(carry, batch):
            model, opt_state = eqx.combine(carry, static)
            idx, k = batch
            value, grads = grad_fn(model, task.x[idx], task.y[idx], k, loss, num_classes)
            updates, opt_state = optimizer.update(grads, opt_state, eqx.filter(model, eqx.is_inexact_array))
            return eqx.filter((eqx.apply_updates(model, updates), opt_state), eqx.is_array), value

        def epoch(carry, k):
            k_perm, k_steps = jax.random.split(k)
            order = jax.random.permutation(k_perm, n)[: num_batches * batch_size]
            batches = (order.reshape(num_batches, batch_size), jax.random.split(k_steps, num_batches))
            carry, losses = lax.scan(train_step, carry, batches)
            return carry, losses.mean()

        carry, losses = lax.scan(epoch, carry, jax.random.split(key, epochs))
        params, state = eqx.combine(carry, static)
        return params, state, {"loss": losses}

    return Phase(init, apply)


def reference_sgd() -> optax.GradientTransformation:
    """The reference SRC optimizer: SGD, learning rate 0.1, momentum 0.5."""
    return optax.sgd(0.1, momentum=0.5)
