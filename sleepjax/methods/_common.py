"""What the baseline methods share: finding the training phase they work with, checking strengths and
budgets, and the shapes a memory is built for.

Every method is a phase composed after a training phase (:func:`~sleepjax.wake`) in a
:func:`~sleepjax.sequence`: its hooks change how that phase trains, its ``apply`` does the work that
follows a task's training (a Fisher information, a consolidated importance, a memory update, a teacher
snapshot). The training phase is the sibling whose state is a :class:`~sleepjax.WakeState`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from sleepjax._phases import Peer, SupervisedTask
from sleepjax._wake import WakeState

SCENARIOS = ("class", "task", "domain")
"""The three continual-learning scenarios of van de Ven et al. (2022) that published defaults are given for."""


BENCHMARKS = ("split-mnist", "permuted-mnist")
"""The benchmarks published defaults are given for: the strengths that suit split MNIST's five two-class
tasks are orders of magnitude off for permuted MNIST's ten ten-class tasks."""


SOURCES = ("van-de-ven", "hsu")
"""Where published strengths come from: van de Ven, Tuytelaars & Tolias 2022 (``continual-learning``,
``params/param_values.py``), or the scripts of Hsu et al. 2018 (``Continual-Learning-Benchmark``,
``scripts/split_MNIST_incremental_*.sh``), whose runs made the split-MNIST means of their Table 2."""


def check_source(source: str, benchmark: str) -> str:
    """``source`` if it is one of :data:`SOURCES` and gives values for ``benchmark``, else ``ValueError``
    naming it. Source ``"hsu"`` holds their split-MNIST settings only: their permuted-MNIST scripts train
    for 10 epochs per task with a minibatch Fisher, another protocol than ``"permuted-mnist"``'s here."""
    if source not in SOURCES:
        raise ValueError(f"unknown source {source!r} of published strengths; the sources are {', '.join(SOURCES)}")
    if source == "hsu" and benchmark != "split-mnist":
        raise ValueError(f"source 'hsu' holds Hsu et al.'s settings for 'split-mnist' only, not for {benchmark!r}")
    return source


def check_published_setting(scenario: str, benchmark: str) -> str:
    """``scenario`` if it and ``benchmark`` are among :data:`SCENARIOS` and :data:`BENCHMARKS`, else
    ``ValueError`` naming the unknown one."""
    if benchmark not in BENCHMARKS:
        given = ", ".join(BENCHMARKS)
        raise ValueError(f"no published defaults for benchmark {benchmark!r}; they are given for {given}")
    return check_scenario(scenario)


def check_scenario(scenario: str) -> str:
    """``scenario`` if it is one of :data:`SCENARIOS`, else ``ValueError`` naming it."""
    if scenario not in SCENARIOS:
        raise ValueError(f"unknown scenario {scenario!r}; the scenarios are {', '.join(SCENARIOS)}")
    return scenario


def trainer(task: SupervisedTask, method: str) -> tuple[str, Peer]:
    """The training phase ``method`` is composed with: its name and :class:`~sleepjax.Peer`.

    Raises ``ValueError`` when there is none, more than one, or when it has not yet trained on this task
    (the method comes before it in the sequence, so its after-task work would see untrained weights).
    """
    peers: Mapping[str, Peer] = getattr(task, "peers", None) or {}
    found = [(name, peer) for name, peer in peers.items() if isinstance(peer.state, WakeState)]
    if not found:
        raise ValueError(
            f"{method} needs a training phase beside it in a sequence, e.g. sequence(wake=sj.wake(...), "
            f"{method}=sj.{method}(...)); it has none"
        )
    if len(found) > 1:
        names = ", ".join(n for n, _ in found)
        raise ValueError(f"{method} found several training phases ({names}); it works with one")
    name, peer = found[0]
    if not peer.applied:
        raise ValueError(
            f"{method} must come after its training phase {name!r} in the sequence (the order of the keywords): "
            "its work follows each task's training"
        )
    return name, peer


def own_accumulator(task: SupervisedTask, method: str):
    """What the training phase accumulated over this task for the calling method: its accumulators are
    keyed by the name of the phase that asked, and the one name that is not among the caller's peers is
    the caller's own."""
    _, peer = trainer(task, method)
    mine = [name for name in peer.state.accumulators if name not in task.peers]
    if len(mine) != 1:
        raise ValueError(f"{method}: the training phase keeps no accumulator for it (found {sorted(mine)})")
    return peer.state.accumulators[mine[0]]


def check_values(method: str, **rules) -> None:
    """Check named strengths: ``rules[name] = (value, low, low_open, high)`` requires every entry of
    ``value`` finite and in ``[low, high]`` (``(low, high]`` with ``low_open``); ``ValueError`` naming the
    method's hyperparameter and the value otherwise. Works on arrays (a stack of configurations) too."""
    for name, (value, low, low_open, high) in rules.items():
        v = np.asarray(value, dtype=np.float64)
        ok = np.isfinite(v) & ((v > low) if low_open else (v >= low)) & (v <= high)
        if not np.all(ok):
            bound = f"{'>' if low_open else '>='} {low:g}" + ("" if math.isinf(high) else f" and <= {high:g}")
            shown = v.tolist() if v.ndim else float(v)
            raise ValueError(f"{method} hyperparameter {name} must be a finite number {bound}, got {shown}")


def is_traced(tree) -> bool:
    """Whether any leaf of ``tree`` is a tracer (its value unknown until the program runs)."""
    return any(isinstance(leaf, jax.core.Tracer) for leaf in jax.tree.leaves(tree))


def checked_hparams(method: str, hparams, kind: type):
    """``hparams`` if it is a ``kind``; its ``check()`` is run when its values are known (outside ``jit``;
    inside, :func:`~sleepjax.run_batch` and :func:`~sleepjax.sweep` have checked them before compiling)."""
    if not isinstance(hparams, kind):
        raise ValueError(
            f"{method} takes {kind.__name__} hyperparameters (e.g. {{'{method}': sj.{kind.__name__}(...)}} or "
            f"published_defaults), got {type(hparams).__name__}"
        )
    if not is_traced(hparams):
        hparams.check()
    return hparams


def check_budget(method: str, budget) -> int:
    """A memory budget: a positive integer number of examples, else ``ValueError`` naming ``method``."""
    if isinstance(budget, bool) or not isinstance(budget, int | np.integer) or budget < 1:
        raise ValueError(f"{method} needs a memory budget of at least 1 example, got {budget!r}")
    return int(budget)


def check_fillable(method: str, budget: int, task: SupervisedTask) -> None:
    """``ValueError`` when the whole stream holds fewer training examples than the memory's budget (shapes
    only, so it fires while the run is traced, before anything is computed)."""
    available = math.prod(task.history.shape[:2])
    if budget > available:
        raise ValueError(
            f"{method} memory budget {budget} is larger than the {available} training examples of the whole stream "
            "it fills from"
        )


def example_shape(params, input_shape) -> tuple[int, ...]:
    """The shape of one input: ``input_shape`` where given, else the input width of a network whose first
    layer has ``in_features`` (:class:`~sleepjax.MLP`, ``equinox.nn.MLP``)."""
    if input_shape is not None:
        shape = tuple(int(s) for s in np.atleast_1d(input_shape))
        if not shape or min(shape) < 1:
            raise ValueError(f"input_shape must list positive sizes, got {input_shape!r}")
        return shape
    layers = getattr(params, "layers", None)
    width = getattr(layers[0], "in_features", None) if layers else None
    if not isinstance(width, int):
        raise ValueError("the memory cannot tell the input shape from this model; pass input_shape=(...)")
    return (width,)


def num_outputs(params, shape: tuple[int, ...]) -> int:
    """How many outputs the model has (its output on one input of ``shape``)."""
    out = jax.eval_shape(lambda m: m(jnp.zeros(shape, jnp.float32)), params)
    if len(out.shape) != 1:
        raise ValueError(f"a method's model must give a vector of outputs per example, got shape {out.shape}")
    return out.shape[0]


def inexact(params):
    """The trainable (floating-point) arrays of ``params``, ``None`` elsewhere (as gradients have them)."""
    return eqx.filter(params, eqx.is_inexact_array)


def outputs(model, x):
    """The model's outputs on a batch ``x`` in test mode (no dropout)."""
    return jax.vmap(model)(x)


def task_classes(task: SupervisedTask, num_classes: int) -> jax.Array:
    """The outputs the task trains (``(C,)`` bools): ``task.classes``, or all of them."""
    if task.classes is None:
        return jnp.ones(num_classes, bool)
    return jnp.asarray(task.classes, bool)


def tree_sum(tree) -> jax.Array:
    """The sum of every entry of every leaf."""
    return sum(jnp.sum(leaf) for leaf in jax.tree.leaves(tree))
