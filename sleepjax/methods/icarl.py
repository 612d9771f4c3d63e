"""iCaRL: exemplars chosen by herding, distillation, and the nearest-mean-of-exemplars classifier.

iCaRL (Rebuffi, Kolesnikov, Sperl & Lampert 2017, "iCaRL: incremental classifier and representation
learning", CVPR) keeps ``K`` exemplars in total, ``K / classes seen`` per class, chosen by *herding*
(Algorithm 4): with ``phi`` the L2-normalised features and ``mu`` the mean of a class's features, the
``k``-th exemplar is the example ``x`` minimising ``|| mu - (phi(x) + sum_{j<k} phi(p_j)) / k ||``
(among those not yet chosen). When more classes arrive each class keeps its first exemplars in herding
order. A new task trains on its data merged with the exemplars, with a distillation term for the earlier
classes' outputs, ``sum_old BCE(sigmoid(f(x)), sigmoid(f_teacher(x)))``, the teacher being the network
after the previous task; and classification picks the class whose (normalised) mean exemplar feature is
nearest (:class:`NearestMeanEvaluator`).

Rebuffi et al. train the new classes' outputs with sigmoid binary cross-entropy too; here the
classification term is the training phase's own loss (e.g. wake's cross-entropy over the classes seen
so far), the distillation term is theirs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar, NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from sleepjax._evaluate import accuracy_summary
from sleepjax._phases import Phase, SupervisedTask, TrainingHooks
from sleepjax._scenarios import EvalSet
from sleepjax._typing import Array, Float, Int, PRNGKey, PyTree
from sleepjax.methods import _common as common
from sleepjax.methods import memory as mem
from sleepjax.methods.replay import check_no_hparams

Features = Callable[[PyTree, Array], Array]
"""``features(model, x) -> (f,)``: the feature vector of one input that herding and the nearest-mean
classifier compare."""


class ICaRLState(NamedTuple):
    """The exemplars (a :class:`~sleepjax.Memory` whose priorities are herding ranks) and the ``teacher``
    (the network after the last task)."""

    memory: mem.Memory
    teacher: PyTree


def published_defaults(scenario: str, benchmark: str = "split-mnist") -> None:
    """iCaRL has no strength to set: ``None`` for every scenario and benchmark (its budget is the factory's
    argument)."""
    common.check_published_setting(scenario, benchmark)
    return None


def penultimate(model, x: Array) -> Array:
    """The default features: the last hidden layer's activity (test mode) of a model with ``activations``
    (:class:`~sleepjax.MLP`)."""
    if not hasattr(model, "activations"):
        raise ValueError("iCaRL's default features need a model with activations(x) (sj.MLP); pass features=...")
    return model.activations(x)[-2]


def normalized(v: Array) -> Array:
    """``v`` scaled to unit L2 norm along its last axis (zero stays zero)."""
    norm = jnp.linalg.norm(v, axis=-1, keepdims=True)
    return v / jnp.where(norm > 0, norm, 1.0)


def herding(phi: Float[Array, "n f"], member: Array, count: Array, limit: int) -> Int[Array, " n"]:
    """Herding order (Rebuffi et al., Algorithm 4) of the examples where ``member`` is true: ``phi`` their
    (normalised) features; the first ``count`` picks (at most ``limit``, a static bound) get ranks
    ``0, 1, ...``, every other example ``-1``."""
    members = jnp.sum(member, dtype=jnp.int32)
    mu = jnp.sum(jnp.where(member[:, None], phi, 0.0), axis=0) / jnp.maximum(members, 1)

    def pick(k, carry):
        rank, chosen = carry
        candidate = (chosen[None, :] + phi) / (k + 1).astype(phi.dtype)
        distance = jnp.sum((mu[None, :] - candidate) ** 2, axis=1)
        i = jnp.argmin(jnp.where(member & (rank < 0), distance, jnp.inf))
        return rank.at[i].set(k), chosen + phi[i]

    picks = jnp.minimum(jnp.minimum(count, members), limit)
    rank = -jnp.ones(member.shape[0], jnp.int32)
    rank, _ = lax.fori_loop(0, picks, pick, (rank, jnp.zeros(phi.shape[1], phi.dtype)))
    return rank


def exemplar_ranks(phi, y, present, per_class, limit: int) -> Int[Array, " n"]:
    """Herding ranks of a task's examples, class by class (``present (C,)``: the classes the task holds;
    ``per_class`` picks each): an example's rank among its class's exemplars, ``-1`` if not picked."""

    def one_class(c, ranks):
        def herd(ranks):
            own = herding(phi, y == c, per_class, limit)
            return jnp.where(own >= 0, own, ranks)

        return lax.cond(present[c], herd, lambda r: r, ranks)

    return lax.fori_loop(0, present.shape[0], one_class, -jnp.ones(y.shape[0], jnp.int32))


def class_means(model, memory: mem.Memory, features: Features) -> tuple[Float[Array, "C f"], Array]:
    """The normalised mean feature of each class's exemplars, and which classes have exemplars."""
    phi = normalized(jax.vmap(lambda x: features(model, x))(memory.x))
    onehot = jax.nn.one_hot(memory.y, memory.seen.shape[0], dtype=phi.dtype) * memory.filled[:, None]
    counts = onehot.sum(axis=0)
    means = normalized(onehot.T @ phi / jnp.maximum(counts, 1.0)[:, None])
    return means, counts > 0


def binary_distillation(student: Array, teacher: Array, old: Array) -> Array:
    """iCaRL's distillation of one example: ``sum over old outputs of BCE(sigmoid(student), sigmoid(teacher))``."""
    target = jax.nn.sigmoid(lax.stop_gradient(teacher))
    bce = jax.nn.softplus(student) - target * student  # -(t log s(z) + (1 - t) log(1 - s(z)))
    return jnp.sum(jnp.where(old, bce, 0.0))


def icarl(
    budget: int,
    *,
    features: Features | None = None,
    input_shape: tuple[int, ...] | None = None,
) -> Phase:
    """iCaRL (Rebuffi et al. 2017, CVPR): herding exemplars merged into each task's training set,
    distillation of the earlier classes' outputs, nearest-mean-of-exemplars classification
    (evaluate with :class:`NearestMeanEvaluator`).

    Args:
        budget: exemplars kept over all classes (``budget // classes seen`` each).
        features: ``features(model, x)`` for herding and the class means (default: the last hidden layer
            of an :class:`~sleepjax.MLP`, :func:`penultimate`). Give the evaluator the same.
        input_shape: the shape of one input, where the model does not tell it.

    No strength to set (hyperparameters ``None``; Rebuffi et al.'s loss has no weight). State:
    :class:`ICaRLState`. Metrics: ``{"stored"}``. Compose after the training phase:
    ``sequence(wake=..., icarl=sj.icarl(1100))``.
    """
    budget = common.check_budget("icarl", budget)
    features = penultimate if features is None else features

    def init(params, key):
        del key
        shape = common.example_shape(params, input_shape)
        num_classes = common.num_outputs(params, shape)
        mem.check_balanced("icarl", budget, num_classes)
        return ICaRLState(mem.empty_memory(budget, shape, num_classes), params)

    def data(state: ICaRLState, hparams, x, y, classes, valid):
        return mem.merged(state.memory, x, y, classes, valid, 1)

    def loss(model, state: ICaRLState, hparams, x, y, key, train_loss, classes):
        student = common.outputs(model, x)
        teacher = common.outputs(state.teacher, x)
        old = state.memory.seen
        return jax.vmap(lambda s, t: binary_distillation(s, t, old))(student, teacher).mean()

    def apply(params, state: ICaRLState, task: SupervisedTask, hparams, key):
        check_no_hparams("icarl", hparams)
        common.trainer(task, "icarl")
        common.check_fillable("icarl", budget, task)
        num_classes = state.memory.seen.shape[0]
        present = jnp.any(jax.nn.one_hot(task.y, num_classes, dtype=bool), axis=0)
        per_class = budget // jnp.maximum(jnp.sum(present | state.memory.seen, dtype=jnp.int32), 1)
        phi = normalized(jax.vmap(lambda x: features(params, x))(task.x))
        real = getattr(task, "valid", None)  # padding copies are never exemplars (label -1 matches no class)
        rank = exemplar_ranks(phi, task.y if real is None else jnp.where(real, task.y, -1), present, per_class, budget)
        picked = rank >= 0
        classes = mem.offered_classes(common.task_classes(task, num_classes), task.y.shape[0])
        priority = jnp.where(picked, budget - rank, 0).astype(jnp.float32)
        memory = mem.offer(state.memory, task.x, task.y, classes, priority, picked, "class_balanced")
        return params, ICaRLState(memory, params), {"stored": jnp.sum(memory.filled, dtype=jnp.int32)}

    return Phase(init, apply, TrainingHooks(data=data, loss=loss))


class NearestMeanEvaluator(eqx.Module):
    """``evaluate`` for iCaRL: accuracy on each eval task of the nearest-mean-of-exemplars classifier,
    which predicts, among the task's allowed classes that have exemplars, the class whose normalised mean
    exemplar feature is nearest to the input's normalised feature (Rebuffi et al. 2017). The class means
    are taken with the network being evaluated (so a sleep after iCaRL's update is seen).

    It reads the exemplars from the phase state (``state[phase]``, an :class:`ICaRLState`), so the run
    calls it with the state (``reads_state``). ``summary`` as :class:`~sleepjax.AccuracyEvaluator`'s.
    """

    test: EvalSet
    phase: str = eqx.field(static=True)
    features: Features = eqx.field(static=True)
    reads_state: ClassVar[bool] = True

    def __init__(self, test: EvalSet, phase: str = "icarl", features: Features | None = None):
        self.test = jax.tree.map(jnp.asarray, test)
        self.phase = phase
        self.features = penultimate if features is None else features

    def __call__(self, model: PyTree, key: PRNGKey | None, state: PyTree) -> Float[Array, " E"]:
        del key
        if not isinstance(state, dict) or self.phase not in state or not isinstance(state[self.phase], ICaRLState):
            raise ValueError(f"NearestMeanEvaluator reads the exemplars of an icarl phase named {self.phase!r}")
        means, has = class_means(model, state[self.phase].memory, self.features)

        def task_accuracy(x, y, mask, classes):
            phi = normalized(jax.vmap(lambda xi: self.features(model, xi))(x))
            distance = jnp.sum((phi[:, None, :] - means[None, :, :]) ** 2, axis=-1)
            pred = jnp.argmin(jnp.where((classes & has)[None, :], distance, jnp.inf), axis=-1)
            return jnp.sum((pred == y) & mask) / jnp.maximum(mask.sum(), 1)

        t = self.test
        return jax.vmap(task_accuracy)(t.x, t.y, t.mask, t.classes)

    def summary(self, evaluation) -> dict:
        """Row metrics of one run's accuracy matrix (:func:`~sleepjax.accuracy_summary`)."""
        return accuracy_summary(np.asarray(self.test.mask).sum(axis=1))(evaluation)


__all__ = ["ICaRLState", "NearestMeanEvaluator", "herding", "icarl", "published_defaults"]
