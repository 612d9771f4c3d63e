"""Wake phase: supervised training of a network on a task with an optax optimizer.

One task's training (all epochs and minibatches) is a ``lax.scan`` inside the run's single jit. Each
epoch draws a fresh permutation and uses ``n // batch_size`` full minibatches. The optimizer state is
part of the phase state, so momentum carries over from task to task as in the reference.

Composed in a :func:`~sleepjax.sequence`, wake applies the :class:`~sleepjax.TrainingHooks` of its
sibling phases (``task.peers``): a training set extended with a rehearsal memory, replayed examples in
every minibatch, penalty terms on the loss, gradient projections, and per-step accumulators such as SI's
path integral, which it keeps in its state (:class:`WakeState`) for the phase that asked for them (in a
sequence its init gets the siblings' hooks, so the state has them from the start). A task's ``classes``
(a task-incremental task's own outputs, or the classes seen so far) restrict the loss to those outputs;
a replayed example whose label is not among them is scored among the outputs of the task it was learned
in (task-incremental rehearsal).

The optimizer's own settings are apply-time hyperparameters when the optimizer is given as an optax
factory with its settings, ``wake(optax.sgd, learning_rate=0.1, momentum=0.5, ...)``: it is wrapped in
``optax.inject_hyperparams``, the settings become the phase's hyperparameters (a dict, e.g.
``{"learning_rate": 0.1, "momentum": 0.5}``) and can be swept by name (``wake.learning_rate``). Passing
``None`` for them keeps the values given here. A ready ``optax.GradientTransformation`` is used as it is
and takes no hyperparameters.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal, NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import optax
from jax import lax

from sleepjax._phases import Phase
from sleepjax._typing import Array, Float, Int, PRNGKey, PyTree

Loss = Callable[[PyTree, Float[Array, "b d"], Int[Array, " b"], PRNGKey, Any], Float[Array, ""]]
"""``loss(model, x, y, key, classes) -> scalar``: the training loss of a minibatch (``key`` for dropout;
``classes``: the outputs the task may use, ``(C,)`` bools, or ``None`` for all)."""


def _outputs(model, x, key):
    keys = jax.random.split(key, x.shape[0])
    return jax.vmap(lambda xi, ki: model(xi, key=ki))(x, keys)


def mse_loss(num_classes: int = 10) -> Loss:
    """``0.5 * sum((out - onehot)^2) / batch`` on the network output (the reference SRC setup with a
    ReLU head), with dropout keys."""

    def loss(model, x, y, key, classes=None):
        del classes  # every output is pulled towards its one-hot target
        out = _outputs(model, x, key)
        target = jax.nn.one_hot(y, num_classes, dtype=out.dtype)
        return 0.5 * jnp.sum((out - target) ** 2) / x.shape[0]

    return loss


def cross_entropy_loss() -> Loss:
    """Softmax cross-entropy on the network output as logits, averaged over the batch; with ``classes``,
    over those outputs only (a task-incremental task's own head, or the classes seen so far)."""

    def loss(model, x, y, key, classes=None):
        logits = _outputs(model, x, key)
        if classes is not None:
            logits = jnp.where(classes, logits, -jnp.inf)
        return optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()

    return loss


def _loss_of(loss: Loss | Literal["mse", "ce"], num_classes: int) -> Loss:
    if loss == "mse":
        return mse_loss(num_classes)
    if loss == "ce":
        return cross_entropy_loss()
    if callable(loss):
        return loss
    raise ValueError(f"loss must be 'mse', 'ce' or a function loss(model, x, y, key, classes), got {loss!r}")


def wake_defaults(**settings: float) -> dict:
    """The hyperparameters of ``wake(factory, **settings)`` as its ``apply`` takes them (float32 arrays),
    for a base vector that a sweep varies by name (``wake.learning_rate``)."""
    return {name: jnp.asarray(value, jnp.float32) for name, value in settings.items()}


def _optimizer(optimizer, settings: dict) -> tuple[optax.GradientTransformation, dict | None]:
    """The transformation and its default apply-time hyperparameters (``None`` if it takes none)."""
    if isinstance(optimizer, optax.GradientTransformation):
        if settings:
            raise ValueError(
                f"wake got optimizer settings {sorted(settings)} beside a ready optax transformation; pass the "
                "factory instead, e.g. wake(optax.sgd, learning_rate=0.1, ...)"
            )
        return optimizer, None
    if not callable(optimizer):
        raise ValueError(f"wake needs an optax factory or GradientTransformation, got {type(optimizer).__name__}")
    if not settings:
        raise ValueError("wake(factory, ...) needs the factory's settings, e.g. learning_rate=0.1")
    for name, value in settings.items():
        if isinstance(value, bool) or not isinstance(value, int | float) or not jnp.isfinite(value) or value < 0:
            raise ValueError(f"wake optimizer setting {name} must be a finite non-negative number, got {value!r}")
    return optax.inject_hyperparams(optimizer)(**settings), wake_defaults(**settings)


class WakeState(NamedTuple):
    """Wake's state: the optimizer state (carried from task to task) and the accumulators its sibling
    phases' hooks asked for over the last task (phase name -> accumulator)."""

    optimizer: PyTree
    accumulators: dict


def _accumulators(params, peers) -> dict:
    """A fresh accumulator for every sibling whose hooks ask for one (``step_init``), by its name."""
    hooks = {n: p.hooks for n, p in (peers or {}).items() if p.hooks is not None}
    return {n: h.step_init(params) for n, h in hooks.items() if h.step_init is not None}


def _with_settings(opt_state, hparams, defaults):
    """The optimizer state with the apply-time settings ``hparams`` in place of the injected ones."""
    if hparams is None:
        return opt_state
    if defaults is None:
        raise ValueError("this wake phase takes no hyperparameters (its optimizer was given ready-made)")
    unknown = sorted(set(hparams) - set(defaults))
    if unknown:
        raise ValueError(f"wake has no optimizer setting {unknown}; its settings are {sorted(defaults)}")
    return opt_state._replace(hyperparams={**opt_state.hyperparams, **hparams})


def wake(
    optimizer: optax.GradientTransformation | Callable[..., optax.GradientTransformation],
    *,
    epochs: int | None = None,
    batch_size: int,
    loss: Loss | Literal["mse", "ce"] = "mse",
    num_classes: int = 10,
    steps: int | None = None,
    **settings: float,
) -> Phase:
    """Train on each task for ``epochs`` epochs of ``batch_size`` minibatches, or for ``steps`` minibatch
    updates.

    Args:
        optimizer: an optax factory (``optax.sgd``, ``optax.adam``, ...) with its ``settings`` as keywords,
            whose settings become sweepable hyperparameters; or a ready ``GradientTransformation``.
        epochs: passes over each task's data.
        batch_size: examples per update.
        loss: ``"mse"`` (:func:`mse_loss`), ``"ce"`` (:func:`cross_entropy_loss`) or any :data:`Loss`.
        num_classes: outputs of the network (for ``"mse"``'s one-hot targets).
        steps: instead of ``epochs``, this many minibatch updates per task (permuted MNIST's 5,000
            iterations): the batches of as many epochs as they need, drawn as ``epochs`` would draw
            them, cut after ``steps`` (a batch skipped for holding padding counts as a step).
        settings: the factory's keyword arguments, e.g. ``learning_rate=0.1, momentum=0.5``.

    Hyperparameters: a dict of the factory's settings (``None``: the values given here). State:
    :class:`WakeState`. Metrics: ``{"loss": (epochs,) mean training loss per epoch}`` (with ``steps``:
    per block of one epoch's number of batches, the last block possibly shorter).
    """
    if (epochs is None) == (steps is None):
        raise ValueError(f"wake takes either epochs or steps, got epochs={epochs} and steps={steps}")
    for name, value in (("epochs", epochs), ("steps", steps), ("batch_size", batch_size)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
            raise ValueError(f"wake {name} must be a positive integer, got {value!r}")
    loss_fn = _loss_of(loss, num_classes)
    transform, defaults = _optimizer(optimizer, settings)

    def init(params, key, peers=None):
        del key
        return WakeState(transform.init(eqx.filter(params, eqx.is_inexact_array)), _accumulators(params, peers))

    def apply(params, state, task, hparams, key):
        opt_state = _with_settings(state.optimizer, hparams, defaults)
        hooks = {n: p for n, p in (getattr(task, "peers", None) or {}).items() if p.hooks is not None}
        accumulators = _accumulators(params, hooks)
        if set(accumulators) != set(state.accumulators):
            raise ValueError(
                f"wake's state keeps accumulators for {sorted(state.accumulators)} but its siblings' hooks ask for "
                f"{sorted(accumulators)}: initialise the state with the init of the sequence that holds them"
            )
        classes = getattr(task, "classes", None)
        extends = any(p.hooks.data is not None or p.hooks.batch is not None for p in hooks.values())
        # With examples from elsewhere (a rehearsal memory), every example carries its own task's outputs.
        own = None if classes is None or not extends else jnp.broadcast_to(classes, task.y.shape + classes.shape)
        x, y, valid = task.x, task.y, getattr(task, "valid", None)
        for peer in hooks.values():
            if peer.hooks.data is not None:
                valid = jnp.ones(x.shape[0], bool) if valid is None else valid
                x, y, own, valid = peer.hooks.data(peer.state, peer.hparams, x, y, own, valid)
        n = x.shape[0]
        num_batches = n // batch_size
        if num_batches == 0:
            raise ValueError(f"a task of {n} examples has no full batch of {batch_size}")

        def scored(yb, cb):
            """The outputs each example is scored among: the task's where its label is one of them, else
            its own task's."""
            if classes is None or cb is None:
                return classes
            return jnp.where(classes[yb][:, None], classes, cb)

        def train_loss(model, xb, yb, cb, k):
            return loss_fn(model, xb, yb, k, scored(yb, cb))

        def total_loss(model, xb, yb, cb, k):
            if not hooks:
                return train_loss(model, xb, yb, cb, k)
            keys = jax.random.split(k, len(hooks) + 1)
            value = train_loss(model, xb, yb, cb, keys[0])
            for peer, kh in zip(hooks.values(), keys[1:]):
                if peer.hooks.loss is not None:
                    value = value + peer.hooks.loss(
                        model, peer.state, peer.hparams, xb, yb, kh, train_loss, scored(yb, cb)
                    )
            return value

        grad_fn = eqx.filter_value_and_grad(total_loss)

        # The scans carry only the model's arrays; the rest (e.g. an equinox.nn.MLP's activation) is static.
        carry, static = eqx.partition((params, opt_state, accumulators), eqx.is_array)

        def train_step(carry, batch):
            model, opt, acc = eqx.combine(carry, static)
            idx, k = batch
            xb, yb, cb = x[idx], y[idx], None if own is None else own[idx]
            k_batch, k_loss, k_grads = jax.random.split(k, 3) if hooks else (None, k, None)
            for peer in hooks.values():
                if peer.hooks.batch is not None:
                    k_batch, k_hook = jax.random.split(k_batch)
                    xb, yb, cb = peer.hooks.batch(peer.state, peer.hparams, xb, yb, cb, k_hook)
            value, grads = grad_fn(model, xb, yb, cb, k_loss)
            for peer in hooks.values():
                if peer.hooks.grads is not None:
                    k_grads, k_hook = jax.random.split(k_grads)
                    grads = peer.hooks.grads(model, grads, peer.state, peer.hparams, k_hook, train_loss)
            updates, new_opt = transform.update(grads, opt, eqx.filter(model, eqx.is_inexact_array))
            new_model = eqx.apply_updates(model, updates)
            new_acc = {n: hooks[n].hooks.step(a, model, new_model, grads) for n, a in acc.items()}
            new = (new_model, new_opt, new_acc)
            if valid is not None:  # a batch holding a padding slot of the extended set is skipped
                keep = valid[idx].all()
                new = jax.tree.map(lambda a, b: jnp.where(keep, a, b), new, (model, opt, acc))
                value = jnp.where(keep, value, jnp.nan)
            return eqx.filter(new, eqx.is_array), value

        def epoch_batches(k):
            """One epoch's minibatches (indices) and their step keys."""
            k_perm, k_steps = jax.random.split(k)
            if valid is None:
                order = jax.random.permutation(k_perm, n)[: num_batches * batch_size]
            else:  # the real examples in random order first, the padding after them
                order = jnp.argsort(jnp.where(valid, jax.random.uniform(k_perm, (n,)), 2.0))[: num_batches * batch_size]
            return order.reshape(num_batches, batch_size), jax.random.split(k_steps, num_batches)

        def mean_loss(losses):
            return losses.mean(axis=-1) if valid is None else jnp.nanmean(losses, axis=-1)

        if steps is None:

            def epoch(carry, k):
                carry, losses = lax.scan(train_step, carry, epoch_batches(k))
                return carry, mean_loss(losses)

            carry, losses = lax.scan(epoch, carry, jax.random.split(key, epochs))
        else:
            blocks = -(-steps // num_batches)
            batches = jax.tree.map(
                lambda a: a.reshape((blocks * num_batches,) + a.shape[2:])[:steps],
                jax.vmap(epoch_batches)(jax.random.split(key, blocks)),
            )
            carry, losses = lax.scan(train_step, carry, batches)
            padded = jnp.full(blocks * num_batches, jnp.nan, losses.dtype).at[:steps].set(losses)
            losses = jnp.nanmean(padded.reshape(blocks, num_batches), axis=-1)
        params, opt_state, accumulators = eqx.combine(carry, static)
        return params, WakeState(opt_state, accumulators), {"loss": losses}

    return Phase(init, apply)


__all__ = ["Loss", "WakeState", "cross_entropy_loss", "mse_loss", "wake", "wake_defaults"]
