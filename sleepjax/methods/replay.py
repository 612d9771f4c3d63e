"""Experience replay with a fixed total budget, as a phase.

Naive rehearsal (Hsu et al. 2018, "Re-evaluating continual learning scenarios: a categorization and case
for strong baselines", arXiv:1810.12488) keeps a memory of earlier examples and trains on them beside each
new task. The memory here is a :class:`~sleepjax.Memory` of ``budget`` examples in total, updated after
each task's training from that task's examples (reservoir or class-balanced; see
:mod:`sleepjax.methods.memory`). Two ways to replay it:

* ``mode="merge"`` (Hsu et al.): the memory is merged into each task's training set, repeated
  ``len(task) // budget`` times (at least once) so that old and new examples are about 1:1, and shuffled
  with it; the steps per epoch grow accordingly. Empty slots are padding, which the training phase skips
  (a minibatch that holds one is not used, so the first task trains on its own examples only);
* ``mode="batch"`` (Avalanche's ``Replay`` strategy): every minibatch is followed by as many examples
  drawn from the memory, so the steps per epoch stay those of the task alone.

Hsu et al.'s memory is task-balanced (``budget / tasks seen`` per task, random within the task); with two
classes per task, ``strategy="class_balanced"`` keeps the same shares.

Fine-tuning needs no phase: it is ``sequence(wake=...)`` alone; joint training is the same wake on the
joint stream (one task holding every example, :attr:`~sleepjax.Scenario.joint`).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from sleepjax._phases import Phase, SupervisedTask, TrainingHooks
from sleepjax.methods import _common as common
from sleepjax.methods import memory as mem

MODES = ("merge", "batch")


def published_defaults(scenario: str, benchmark: str = "split-mnist") -> None:
    """Replay has no strength to set (its budget and modes are the factory's arguments): ``None`` for
    every scenario and benchmark. Hsu et al. 2018 use a memory of 1,100 examples on split MNIST."""
    common.check_published_setting(scenario, benchmark)
    return None


def memory_phase(
    method: str,
    budget: int,
    strategy: mem.Strategy,
    hooks: TrainingHooks,
    *,
    input_shape=None,
    logits: bool = False,
) -> Phase:
    """A phase that keeps a :class:`~sleepjax.Memory` of ``budget`` examples under ``strategy``, offering it
    every training example of each task (random priorities) after the task's training, and trains with
    ``hooks``. Its hyperparameters must be ``None``. With ``logits``, the memory keeps the network's outputs
    on each example at that time (DER)."""
    budget = common.check_budget(method, budget)
    strategy = mem.check_strategy(method, strategy)

    def init(params, key):
        del key
        shape = common.example_shape(params, input_shape)
        num_classes = common.num_outputs(params, shape)
        if strategy == "class_balanced":
            mem.check_balanced(method, budget, num_classes)
        return mem.empty_memory(budget, shape, num_classes, logits)

    def apply(params, state: mem.Memory, task: SupervisedTask, hparams, key):
        check_no_hparams(method, hparams)
        common.trainer(task, method)
        common.check_fillable(method, budget, task)
        n = task.y.shape[0]
        classes = mem.offered_classes(common.task_classes(task, state.seen.shape[0]), n)
        outputs = common.outputs(params, task.x) if logits else None
        priority = jax.random.uniform(key, (n,))
        real = jnp.ones(n, bool) if getattr(task, "valid", None) is None else task.valid  # never a padding copy
        state = mem.offer(state, task.x, task.y, classes, priority, real, strategy, outputs)
        return params, state, {"stored": jnp.sum(state.filled, dtype=jnp.int32)}

    return Phase(init, apply, hooks)


def check_no_hparams(method: str, hparams) -> None:
    if hparams is not None:
        raise ValueError(f"{method} takes no hyperparameters (leave it out of the dict), got {type(hparams).__name__}")


def replay(
    budget: int,
    strategy: mem.Strategy = "class_balanced",
    mode: str = "merge",
    *,
    input_shape: tuple[int, ...] | None = None,
) -> Phase:
    """Experience replay from a memory of ``budget`` examples in total (naive rehearsal, Hsu et al. 2018).

    Args:
        budget: examples the memory holds, over all tasks (Hsu et al.: 1,100 on split MNIST).
        strategy: ``"class_balanced"`` (each class seen keeps ``budget // classes seen``) or
            ``"reservoir"`` (a uniform sample of the whole stream); see :mod:`sleepjax.methods.memory`.
        mode: ``"merge"`` (the memory merged into each task's training set, repeated so that old and new
            are about 1:1, as Hsu et al.) or ``"batch"`` (a memory minibatch beside every minibatch, as
            Avalanche's ``Replay``).
        input_shape: the shape of one input, where the model does not tell it (the memory is allotted
            at ``init``).

    No hyperparameters (``None``). State: :class:`~sleepjax.Memory`. Metrics: ``{"stored"}``, the examples
    held after each task. Compose after the training phase: ``sequence(wake=..., replay=sj.replay(1100))``.
    """
    if mode not in MODES:
        raise ValueError(f"replay mode must be one of {', '.join(MODES)}, got {mode!r}")
    repeats_of = lambda n: max(1, n // budget)  # noqa: E731

    def data(state, hparams, x, y, classes, valid):
        return mem.merged(state, x, y, classes, valid, repeats_of(x.shape[0]))

    def batch(state, hparams, x, y, classes, key):
        return mem.replayed(state, x, y, classes, key)

    hooks = TrainingHooks(data=data) if mode == "merge" else TrainingHooks(batch=batch)
    return memory_phase("replay", budget, strategy, hooks, input_shape=input_shape)


__all__ = ["published_defaults", "replay"]
