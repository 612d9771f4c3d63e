"""Averaged gradient episodic memory (A-GEM), as a phase.

A-GEM (Chaudhry, Ranzato, Rohrbach & Elhoseiny 2019, "Efficient lifelong learning with A-GEM", ICLR)
keeps an episodic memory of earlier examples and, at every step, compares the gradient ``g`` of the
current minibatch with the gradient ``g_ref`` of the training loss on a minibatch drawn from the memory.
Where they conflict (``g . g_ref < 0``) the step uses ``g`` without its component along ``g_ref``,
``g - (g . g_ref) / (g_ref . g_ref) * g_ref``; otherwise ``g`` as it is. The memory is a
:class:`~sleepjax.Memory` of ``budget`` examples in total, updated after each task.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp

from sleepjax._phases import Phase, TrainingHooks
from sleepjax.methods import _common as common
from sleepjax.methods import memory as mem
from sleepjax.methods.replay import memory_phase


def published_defaults(scenario: str, benchmark: str = "split-mnist") -> None:
    """A-GEM has no strength to set: ``None`` for every scenario and benchmark (its memory and reference
    batch are the factory's arguments)."""
    common.check_published_setting(scenario, benchmark)
    return None


def project(grads, reference):
    """``grads`` without their component along ``reference`` where the two conflict (negative dot product
    over every array), unchanged otherwise: A-GEM's projection."""
    dot = common.tree_sum(jax.tree.map(jnp.multiply, grads, reference))
    norm = common.tree_sum(jax.tree.map(jnp.multiply, reference, reference))
    scale = jnp.where((dot < 0) & (norm > 0), dot / jnp.where(norm > 0, norm, 1.0), 0.0)
    return jax.tree.map(lambda g, r: g - scale * r, grads, reference)


def agem(
    budget: int,
    strategy: mem.Strategy = "class_balanced",
    *,
    batch_size: int = 256,
    input_shape: tuple[int, ...] | None = None,
) -> Phase:
    """A-GEM (Chaudhry et al. 2019, ICLR): every step's gradient projected off the memory's gradient
    where they conflict.

    Args:
        budget: examples the memory holds, over all tasks.
        strategy: how the memory keeps them (see :mod:`sleepjax.methods.memory`).
        batch_size: examples drawn from the memory for the reference gradient at each step (Chaudhry et
            al.: 256).
        input_shape: the shape of one input, where the model does not tell it.

    No strength to set (hyperparameters ``None``). State: :class:`~sleepjax.Memory`. Metrics:
    ``{"stored"}``. Compose after the training phase: ``sequence(wake=..., agem=sj.agem(1100))``.
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"agem batch_size must be a positive integer, got {batch_size!r}")

    def grads(model, grads, state: mem.Memory, hparams, key, train_loss):
        k_draw, k_loss = jax.random.split(key)
        idx = mem.sample(state, k_draw, batch_size)
        reference = eqx.filter_grad(train_loss)(model, state.x[idx], state.y[idx], state.classes[idx], k_loss)
        projected = project(grads, reference)
        some = state.filled.any()
        return jax.tree.map(lambda p, g: jnp.where(some, p, g), projected, grads)

    return memory_phase("agem", budget, strategy, TrainingHooks(grads=grads), input_shape=input_shape)


__all__ = ["agem", "project", "published_defaults"]
