"""Elastic weight consolidation (EWC) and online EWC, as a phase.

EWC (Kirkpatrick et al. 2017, "Overcoming catastrophic forgetting in neural networks", PNAS 114(13))
adds to the loss of each new task a quadratic penalty pulling every weight towards its value after each
earlier task ``t``, weighted by the diagonal of the Fisher information ``F_t`` there:
``lambda / 2 * sum_t sum_i F_t,i (theta_i - theta*_t,i)^2``. Online EWC (Schwarz et al. 2018, "Progress &
compress", ICML; van de Ven et al.'s "online EWC") keeps one running Fisher ``F~ <- gamma F~ + F_t`` and
the last anchor only: ``lambda / 2 * gamma * sum_i F~_i (theta_i - theta*_i)^2``.

Offline EWC's penalties are summed into one quadratic, which is exact: ``A (theta - mu)^2 + c`` with
``A = sum_t F_t``, ``mu`` the Fisher-weighted mean of the anchors and the constant ``c`` the remainder, so
the state has one shape however many tasks have passed.

The Fisher information is estimated after each task's training, on the task's training examples, from
each example's own gradient, over the outputs the task trains (``task.classes``), as van de Ven et al. do
(``continual-learning``, ``models/cl/continual_learner.py``): the mean over examples of
``sum_y p(y|x) (d log p(y|x) / d theta)^2`` (``"exact"``, their default), or of the squared gradient for
one label per example: drawn from the model (``"sampled"``), the most probable (``"predicted"``, Hsu et
al.'s choice) or the true one (``"empirical"``).
"""

from __future__ import annotations

import math
from typing import Literal, NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
from jax import lax

from sleepjax._nets import MLP, weights_of, with_weights
from sleepjax._phases import Phase, SupervisedTask, TrainingHooks
from sleepjax._typing import Array, PyTree
from sleepjax.methods import _common as common

FisherLabels = Literal["exact", "sampled", "predicted", "empirical"]
FISHER_LABELS = ("exact", "sampled", "predicted", "empirical")
_CHUNK_ENTRIES = 2**22  # per-example gradient entries held at once by the Fisher estimate (16 MiB in float32)

# van de Ven, Tuytelaars & Tolias 2022, "Three types of incremental learning", Nature Machine Intelligence
# 4 (continual-learning, params/param_values.py), by benchmark and scenario.
_PUBLISHED_LAMBDA = {
    "split-mnist": {"task": 1e5, "domain": 1e10, "class": 1e9},
    "permuted-mnist": {"task": 100.0, "domain": 100.0, "class": 100.0},
}
# Hsu et al. 2018's split-MNIST scripts (Continual-Learning-Benchmark, scripts/split_MNIST_incremental_*.sh:
# --reg_coef of EWC_mnist and EWC_online_mnist), doubled: their penalty is reg_coef * F (theta - theta*)^2,
# this module's lambda / 2 * F (theta - theta*)^2.
_HSU_LAMBDA = {
    False: {"task": 200.0, "domain": 200.0, "class": 1200.0},
    True: {"task": 800.0, "domain": 1400.0, "class": 200.0},
}


class EWCHparams(NamedTuple):
    """EWC's strengths (addressed ``ewc.lambda``, ``ewc.gamma``).

    Attributes:
        lambda_: ``lambda``, the weight of the penalty (``ewc.lambda``).
        gamma: online EWC's decay of the running Fisher, in ``[0, 1]`` (unused by offline EWC).
    """

    lambda_: float | Array
    gamma: float | Array = 1.0

    def check(self) -> None:
        """``ValueError`` naming the field for a NaN, negative or out-of-range value."""
        common.check_values(
            "EWC", **{"lambda": (self.lambda_, 0.0, False, math.inf), "gamma": (self.gamma, 0.0, False, 1.0)}
        )


class EWCState(NamedTuple):
    """The penalty's quadratic: ``importance * (theta - anchor)^2`` summed, plus ``offset`` (offline EWC's
    constant remainder; 0 online). ``importance`` and ``anchor`` are shaped like the model's arrays."""

    importance: PyTree
    anchor: PyTree
    offset: Array


def published_defaults(
    scenario: str, online: bool = False, benchmark: str = "split-mnist", source: str = "van-de-ven"
) -> EWCHparams:
    """The published EWC strength in ``scenario`` (``"class"``, ``"task"`` or ``"domain"``) of
    ``benchmark``; gamma 1.

    ``source="van-de-ven"`` (van de Ven et al. 2022): on split MNIST lambda 1e9 / 1e5 / 1e10, on permuted
    MNIST 100 in every scenario; they publish no separate online-EWC values, so the same lambda with
    gamma = 1 (their default decay) is the starting point for it. ``source="hsu"`` (Hsu et al. 2018's
    split-MNIST scripts, which made their Table 2): lambda 1,200 / 200 / 200, online 200 / 800 / 1,400
    (twice their ``reg_coef``: their penalty has no 1/2), with their Fisher from the predicted labels
    (:func:`ewc`'s ``fisher="predicted"``)."""
    scenario = common.check_published_setting(scenario, benchmark)
    if common.check_source(source, benchmark) == "hsu":
        return EWCHparams(jnp.float32(_HSU_LAMBDA[online][scenario]), jnp.float32(1.0))
    return EWCHparams(jnp.float32(_PUBLISHED_LAMBDA[benchmark][scenario]), jnp.float32(1.0))


def fisher_information(
    model,
    x: Array,
    y: Array,
    classes: Array | None,
    key: jax.Array,
    labels: FisherLabels = "exact",
    samples: int | None = None,
) -> PyTree:
    """The diagonal Fisher information of ``model`` on examples ``x`` (labels ``y``), over the outputs
    ``classes`` (``(C,)`` bools, ``None``: all): the mean over examples of the squared gradient of
    ``log p(label | x)``, weighted over every label by ``p`` (``"exact"``) or for one label (see the module
    docstring). ``samples``: estimate it on that many examples drawn at random (``None``: all). Shaped like
    the model's floating-point arrays.

    For a :class:`~sleepjax.MLP` each layer's per-example squared gradients are outer products (the squared
    gradient at the layer's output times its squared input), so a chunk of examples costs one matrix
    product per layer; any other model gets per-example gradients of all its arrays (slower, the same
    result)."""
    params, static = eqx.partition(model, eqx.is_inexact_array)
    n = y.shape[0]
    k_pick, k_labels = jax.random.split(key)
    if samples is not None and samples < n:
        pick = jax.random.permutation(k_pick, n)[:samples]
        x, y, n = x[pick], y[pick], samples
    num_labels = common.num_outputs(model, x.shape[1:]) if labels == "exact" else 1
    dense = type(model) is MLP
    if dense:
        per_example = sum(num_labels * layer.out_features + layer.in_features for layer in model.layers)
    else:
        per_example = num_labels * sum(leaf.size for leaf in jax.tree.leaves(params))
    chunk = max(1, min(n, _CHUNK_ENTRIES // per_example))
    num_chunks = -(-n // chunk)
    pad = num_chunks * chunk - n

    def chunked(a):
        return jnp.concatenate([a, jnp.zeros((pad, *a.shape[1:]), a.dtype)]).reshape(num_chunks, chunk, *a.shape[1:])

    weight = chunked(jnp.ones(n)) / n
    batches = (chunked(x), chunked(y), chunked(jax.random.split(k_labels, n)), weight)

    def log_probs(z):
        return jax.nn.log_softmax(z if classes is None else jnp.where(classes, z, -jnp.inf))

    def label_cotangents(logp, yi, ki):
        """The labels whose squared gradients are averaged, as cotangents of ``log p`` (``(K, C)``), and
        their weights (``(K,)``)."""
        if labels == "exact":
            return jnp.eye(logp.shape[0], dtype=logp.dtype), jnp.exp(logp)
        if labels == "sampled":
            label = jax.random.categorical(ki, logp)
        elif labels == "predicted":
            label = jnp.argmax(logp)
        else:
            label = yi
        return jax.nn.one_hot(label, logp.shape[0], dtype=logp.dtype)[None], jnp.ones((1,), logp.dtype)

    def squared_gradients(f, primal, xi, yi, ki, wi):
        """``sum_k wi * weight_k * (d cotangent_k . log p / d primal)^2``, ``f(primal) = (log p, aux)``."""
        logp, pullback, aux = jax.vjp(f, primal, has_aux=True)
        cotangents, label_weights = label_cotangents(logp, yi, ki)
        grads = jax.vmap(lambda e: pullback(e)[0])(cotangents)
        return jax.tree.map(lambda g: jnp.tensordot(wi * label_weights, g**2, axes=1), grads), aux

    def generic_body(total, batch):
        def one(xi, yi, ki, wi):
            def f(p):
                return log_probs(eqx.combine(p, static)(xi)), None

            return squared_gradients(f, params, xi, yi, ki, wi)[0]

        return jax.tree.map(lambda t, g: t + g.sum(axis=0), total, jax.vmap(one)(*batch)), None

    def dense_body(total, batch):
        def one(xi, yi, ki, wi):
            def f(shifts):
                outputs = model.activations(xi, shifts=shifts)
                return log_probs(outputs[-1]), (xi, *outputs[:-1])

            shifts = tuple(jnp.zeros(layer.out_features, layer.weight.dtype) for layer in model.layers)
            return squared_gradients(f, shifts, xi, yi, ki, wi)

        at_outputs, inputs = jax.vmap(one)(*batch)  # per layer: (chunk, out), (chunk, in)
        weights = tuple(w + d.T @ a**2 for w, d, a in zip(total[0], at_outputs, inputs))
        biases = tuple(b + d.sum(axis=0) for b, d in zip(total[1], at_outputs))
        return (weights, biases), None

    if not dense:
        return lax.scan(generic_body, jax.tree.map(jnp.zeros_like, params), batches)[0]
    matrices = weights_of(model)
    zeros = tuple(jnp.zeros_like(w) for w in matrices), tuple(jnp.zeros_like(w[:, 0]) for w in matrices)
    weights, biases = lax.scan(dense_body, zeros, batches)[0]
    fisher = with_weights(jax.tree.map(jnp.zeros_like, params), weights)
    if model.layers[0].bias is not None:
        fisher = eqx.tree_at(lambda m: tuple(layer.bias for layer in m.layers), fisher, biases)
    return fisher


def ewc(
    online: bool = False,
    *,
    fisher: FisherLabels = "exact",
    fisher_samples: int | None = None,
) -> Phase:
    """Elastic weight consolidation (Kirkpatrick et al. 2017, PNAS), or online EWC (Schwarz et al. 2018).

    After each task's training the phase estimates the diagonal Fisher information on the task's training
    examples and adds ``lambda / 2 * F (theta - theta*)^2`` (summed over earlier tasks; online: one decayed
    running Fisher and the latest anchor, times ``gamma``) to the training loss of every later task.

    Published default strengths (van de Ven et al. 2022, :func:`published_defaults`): on split MNIST
    lambda = 1e5 (task-incremental), 1e10 (domain-incremental), 1e9 (class-incremental); on permuted
    MNIST lambda = 100; gamma = 1.

    Args:
        online: online EWC (one running Fisher decayed by ``gamma``, the latest anchor) instead of one
            penalty per earlier task.
        fisher: which labels the Fisher information is taken over: ``"exact"`` (every label, weighted by
            the model's probabilities: van de Ven et al.'s default), ``"sampled"``, ``"predicted"`` (Hsu et
            al. 2018) or ``"empirical"`` (the true labels).
        fisher_samples: estimate the Fisher on this many of the task's examples, drawn at random (``None``:
            all, as van de Ven et al.).

    Hyperparameters: :class:`EWCHparams`. State: :class:`EWCState`. Metrics: ``{"fisher"}``, the sum of the
    task's Fisher information. Compose after the training phase: ``sequence(wake=..., ewc=sj.ewc())``.
    """
    if fisher not in FISHER_LABELS:
        raise ValueError(f"ewc fisher must be one of {', '.join(FISHER_LABELS)}, got {fisher!r}")
    if fisher_samples is not None and (
        isinstance(fisher_samples, bool) or not isinstance(fisher_samples, int) or fisher_samples < 1
    ):
        raise ValueError(f"ewc fisher_samples must be a positive integer or None, got {fisher_samples!r}")

    def init(params, key):
        del key
        theta = common.inexact(params)
        return EWCState(jax.tree.map(jnp.zeros_like, theta), theta, jnp.zeros((), jnp.float32))

    def loss(model, state: EWCState, hparams, x, y, key, train_loss, classes):
        hparams = common.checked_hparams("ewc", hparams, EWCHparams)
        theta = common.inexact(model)
        quadratic = jax.tree.map(lambda a, m, t: a * (t - m) ** 2, state.importance, state.anchor, theta)
        weight = hparams.gamma if online else 1.0
        return 0.5 * hparams.lambda_ * weight * (common.tree_sum(quadratic) + state.offset)

    def apply(params, state: EWCState, task: SupervisedTask, hparams, key):
        hparams = common.checked_hparams("ewc", hparams, EWCHparams)
        common.trainer(task, "ewc")
        fisher_t = fisher_information(params, task.x, task.y, task.classes, key, fisher, fisher_samples)
        theta = common.inexact(params)
        if online:
            importance = jax.tree.map(lambda a, f: hparams.gamma * a + f, state.importance, fisher_t)
            new = EWCState(importance, theta, state.offset)
        else:
            # A (t - m)^2 + F (t - s)^2 = (A + F)(t - m')^2 + A F / (A + F) (m - s)^2, m' = (A m + F s) / (A + F)
            importance = jax.tree.map(jnp.add, state.importance, fisher_t)
            safe = jax.tree.map(lambda total: jnp.where(total > 0, total, 1.0), importance)
            anchor = jax.tree.map(
                lambda total, a, m, f, s, d: jnp.where(total > 0, (a * m + f * s) / d, s),
                importance, state.importance, state.anchor, fisher_t, theta, safe,
            )  # fmt: skip
            remainder = jax.tree.map(
                lambda a, m, f, s, d: a * f / d * (m - s) ** 2, state.importance, state.anchor, fisher_t, theta, safe
            )
            new = EWCState(importance, anchor, state.offset + common.tree_sum(remainder))
        return params, new, {"fisher": common.tree_sum(fisher_t)}

    return Phase(init, apply, TrainingHooks(loss=loss))


__all__ = ["EWCHparams", "EWCState", "ewc", "fisher_information", "published_defaults"]
