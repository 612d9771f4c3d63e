"""Dark experience replay (DER++), as a phase.

DER++ (Buzzega, Boschini, Porrello, Abati & Calderara 2020, "Dark experience for general continual
learning: a strong, simple baseline", NeurIPS) keeps a reservoir memory of examples with their labels
and the network's outputs (logits) when they were stored, and adds to every step's loss
``alpha * mean((f(x') - z')^2) + beta * CE(f(x''), y'')`` on two minibatches drawn independently from the
memory: the first term matches the stored logits, the second is replay with the labels (the training
phase's own loss, with the outputs each example was learned with).

Here the memory is a :class:`~sleepjax.Memory` of ``budget`` examples updated after each task's training
by reservoir sampling, and the logits stored are those of the network at that time (Buzzega et al. store
them during training, as each example streams past, and replay from the first task on); a minibatch
drawn from it is as large as the training minibatch.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import jax
import jax.numpy as jnp

from sleepjax._phases import Phase, TrainingHooks
from sleepjax._typing import Array
from sleepjax.methods import _common as common
from sleepjax.methods import memory as mem
from sleepjax.methods.replay import memory_phase


class DERHparams(NamedTuple):
    """DER++'s strengths (addressed ``der.alpha``, ``der.beta``).

    Attributes:
        alpha: the weight of the logit-matching term.
        beta: the weight of the label-replay term (0: DER without the ++).
    """

    alpha: float | Array
    beta: float | Array

    def check(self) -> None:
        """``ValueError`` naming the field for a NaN or negative value."""
        common.check_values("DER++", alpha=(self.alpha, 0.0, False, math.inf), beta=(self.beta, 0.0, False, math.inf))


def published_defaults(scenario: str, benchmark: str = "split-mnist") -> DERHparams:
    """Buzzega et al. 2020's strengths for a memory of 500 on sequential MNIST (the published setting
    closest to a memory of 1,100; ``mammoth``, ``utils/best_args.py``), for every scenario and benchmark:
    alpha = 1, beta = 0.5 (their permuted MNIST with 500 uses the same)."""
    common.check_published_setting(scenario, benchmark)
    return DERHparams(jnp.float32(1.0), jnp.float32(0.5))


def der_terms(model, memory: mem.Memory, key, size: int, train_loss):
    """DER++'s two terms on two minibatches of ``size`` drawn independently from ``memory``:
    ``(mean squared logit error, training loss on the stored labels)``."""
    k_first, k_second, k_loss = jax.random.split(key, 3)
    first, second = mem.sample(memory, k_first, size), mem.sample(memory, k_second, size)
    matched = jnp.mean((common.outputs(model, memory.x[first]) - memory.logits[first]) ** 2)
    replayed = train_loss(model, memory.x[second], memory.y[second], memory.classes[second], k_loss)
    return matched, replayed


def der(budget: int, *, input_shape: tuple[int, ...] | None = None) -> Phase:
    """DER++ (Buzzega et al. 2020, NeurIPS): replay with the stored logits and labels.

    Args:
        budget: examples the memory holds, over all tasks (reservoir sampling).
        input_shape: the shape of one input, where the model does not tell it.

    Published default strengths (Buzzega et al. 2020, sequential MNIST, memory 500,
    :func:`published_defaults`): alpha = 1, beta = 0.5.

    Hyperparameters: :class:`DERHparams`. State: :class:`~sleepjax.Memory` (with logits). Metrics:
    ``{"stored"}``. Compose after the training phase: ``sequence(wake=..., der=sj.der(1100))``.
    """

    def loss(model, state: mem.Memory, hparams, x, y, key, train_loss, classes):
        hparams = common.checked_hparams("der", hparams, DERHparams)
        matched, replayed = der_terms(model, state, key, y.shape[0], train_loss)
        return jnp.where(state.filled.any(), hparams.alpha * matched + hparams.beta * replayed, 0.0)

    phase = memory_phase("der", budget, "reservoir", TrainingHooks(loss=loss), input_shape=input_shape, logits=True)

    def apply(params, state, task, hparams, key):
        common.checked_hparams("der", hparams, DERHparams)
        return phase.apply(params, state, task, None, key)

    return phase._replace(apply=apply)


__all__ = ["DERHparams", "der", "der_terms", "published_defaults"]
