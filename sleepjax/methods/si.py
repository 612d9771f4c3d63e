"""Synaptic intelligence (SI), as a phase.

SI (Zenke, Poole & Ganguli 2017, "Continual learning through synaptic intelligence", ICML) measures each
weight's contribution to the drop of the loss along the training trajectory of a task, the path integral
``omega_i = -sum_steps g_i * (theta_i after - theta_i before)`` over the task's updates (``g``: the
gradient the update was taken from), and after the task consolidates it into an importance
``Omega_i += omega_i / (Delta_i^2 + xi)``, ``Delta_i`` the weight's total change over the task. Later
tasks add the surrogate penalty ``c * sum_i Omega_i (theta_i - theta*_i)^2``, ``theta*`` the weights
after the last task.

The path integral is accumulated by the training phase at every step (a ``step`` hook; the gradient is
the one the update used, penalty included, as van de Ven et al. do) together with the weights the task's
training started from, so both ends of every difference are the right ones: Avalanche 0.6 keeps the
start-of-step weights as a view of the live weights on the CPU, every difference is 0 and so is every
importance (SI silently equals fine-tuning there).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import jax
import jax.numpy as jnp

from sleepjax._phases import Phase, SupervisedTask, TrainingHooks
from sleepjax._typing import Array, PyTree
from sleepjax.methods import _common as common

# van de Ven, Tuytelaars & Tolias 2022, "Three types of incremental learning", Nature Machine Intelligence
# 4 (continual-learning, params/param_values.py; xi is their --epsilon, default 0.1), by benchmark and
# scenario.
_PUBLISHED_C = {
    "split-mnist": {"task": 10.0, "domain": 50_000.0, "class": 5_000.0},
    "permuted-mnist": {"task": 10.0, "domain": 10.0, "class": 5.0},
}
# Hsu et al. 2018's split-MNIST scripts (Continual-Learning-Benchmark, scripts/split_MNIST_incremental_*.sh:
# SI's --reg_coef; their damping is 0.1). Their penalty is this module's.
_HSU_C = {"task": 300.0, "domain": 3000.0, "class": 600.0}


class SIHparams(NamedTuple):
    """SI's strengths (addressed ``si.c``, ``si.xi``).

    Attributes:
        c: the weight of the surrogate penalty.
        xi: the damping of the consolidation ``omega / (Delta^2 + xi)``, positive (Zenke et al. use 1e-3
            on split MNIST, van de Ven et al. 0.1).
    """

    c: float | Array
    xi: float | Array = 0.1

    def check(self) -> None:
        """``ValueError`` naming the field for a NaN, negative or zero (``xi``) value."""
        common.check_values("SI", c=(self.c, 0.0, False, math.inf), xi=(self.xi, 0.0, True, math.inf))


class SIState(NamedTuple):
    """The consolidated ``importance`` (Omega) and the ``anchor`` weights of the penalty, shaped like the
    model's arrays."""

    importance: PyTree
    anchor: PyTree


def published_defaults(scenario: str, benchmark: str = "split-mnist", source: str = "van-de-ven") -> SIHparams:
    """The published SI strength in ``scenario`` (``"class"``, ``"task"`` or ``"domain"``) of ``benchmark``;
    xi = 0.1. ``source="van-de-ven"`` (van de Ven et al. 2022): on split MNIST c = 5,000 / 10 / 50,000, on
    permuted MNIST 5 / 10 / 10. ``source="hsu"`` (Hsu et al. 2018's split-MNIST scripts, which made their
    Table 2): c = 600 / 300 / 3,000."""
    scenario = common.check_published_setting(scenario, benchmark)
    if common.check_source(source, benchmark) == "hsu":
        return SIHparams(jnp.float32(_HSU_C[scenario]), jnp.float32(0.1))
    return SIHparams(jnp.float32(_PUBLISHED_C[benchmark][scenario]), jnp.float32(0.1))


def si() -> Phase:
    """Synaptic intelligence (Zenke, Poole & Ganguli 2017, ICML).

    While the training phase trains, it accumulates SI's path integral ``-sum g * dtheta`` step by step
    (with the weights it started the task from); after training the phase consolidates it into the
    importance ``Omega += omega / (Delta^2 + xi)`` and anchors the penalty ``c * Omega (theta - theta*)^2``
    of later tasks at the weights reached.

    Published default strengths (van de Ven et al. 2022, :func:`published_defaults`): on split MNIST
    c = 10 (task-incremental), 50,000 (domain-incremental), 5,000 (class-incremental); on permuted MNIST
    10 / 10 / 5; xi = 0.1.

    Hyperparameters: :class:`SIHparams`. State: :class:`SIState`. Metrics: ``{"path_integral"}``, the sum
    of the task's path integral. Compose after the training phase: ``sequence(wake=..., si=sj.si())``.
    """

    def init(params, key):
        del key
        theta = common.inexact(params)
        return SIState(jax.tree.map(jnp.zeros_like, theta), theta)

    def step_init(params):
        theta = common.inexact(params)
        return jax.tree.map(jnp.zeros_like, theta), theta

    def step(accumulator, before, after, grads):
        omega, start = accumulator
        moved = jax.tree.map(jnp.subtract, common.inexact(after), common.inexact(before))
        return jax.tree.map(lambda w, g, d: w - g * d, omega, grads, moved), start

    def loss(model, state: SIState, hparams, x, y, key, train_loss, classes):
        hparams = common.checked_hparams("si", hparams, SIHparams)
        theta = common.inexact(model)
        penalty = jax.tree.map(lambda w, t, a: w * (t - a) ** 2, state.importance, theta, state.anchor)
        return hparams.c * common.tree_sum(penalty)

    def apply(params, state: SIState, task: SupervisedTask, hparams, key):
        hparams = common.checked_hparams("si", hparams, SIHparams)
        omega, start = common.own_accumulator(task, "si")
        theta = common.inexact(params)
        importance = jax.tree.map(
            lambda big, w, t, s: big + w / ((t - s) ** 2 + hparams.xi), state.importance, omega, theta, start
        )
        return params, SIState(importance, theta), {"path_integral": common.tree_sum(omega)}

    return Phase(init, apply, TrainingHooks(loss=loss, step_init=step_init, step=step))


__all__ = ["SIHparams", "SIState", "published_defaults", "si"]
