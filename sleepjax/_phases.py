"""Phases: everything that changes a network during continual learning, as a pair of pure functions.

A :class:`Phase` is ``init(params, key) -> state`` and
``apply(params, state, task, hparams, key) -> (params, state, metrics)``. Wake training, SRC sleep, a
block of rewarded STDP or a noise-sleep epoch are all phases, and phases compose like optax transforms:

* :func:`sequence` applies several *named* phases one after another on each task (e.g.
  ``sequence(wake=..., sleep=...)``);
* :func:`interleave` splits a supervised task's data into chunks and alternates named phases on them;
* :func:`every_n_tasks` applies a phase only after every ``n``-th task;
* :func:`by_task` applies a different phase to each task (schedules such as "train, then train
  interleaved with sleep").

Hyperparameters are a pytree of arrays passed at ``apply`` time (not baked into closures), so a whole
run can be vmapped over them. A composed phase takes a dict keyed by the names of its sub-phases, like
optax's ``named_chain``: ``{"wake": None, "sleep": SRCPhaseHparams(...)}``, so a sweep can address any
leaf by name. A name left out of the dict means ``None`` (for phases without hyperparameters); a name
that is not a sub-phase is an error, so a typo cannot silently leave a setting unused.

A task is whatever the run hands the phase: a :class:`SupervisedTask` for classification, an
environment specification for the foraging agent, and so on. Phases that need the task's position in
the sequence read ``task.index``.

Phases that change how a network trains (a penalty on the loss, replayed examples in every batch, a
projected gradient, a path integral accumulated step by step) do so through :class:`TrainingHooks`: in a
:func:`sequence`, every phase sees its siblings (their hooks, their current state and hyperparameters,
read-only) in ``task.peers``, and a training phase such as :func:`~sleepjax.wake` applies the hooks it
finds there. So ``sequence(wake=..., ewc=..., sleep=...)`` trains with EWC's penalty, then lets EWC
update its Fisher information, then sleeps, and each phase still owns only its own state.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
from jax import lax

from sleepjax._typing import Array, Bool, Float, Int, PhaseApply, PhaseInit, PyTree


class SupervisedTask(NamedTuple):
    """What a phase sees of a supervised task.

    Attributes:
        x: ``(n, d)`` training inputs of this task.
        y: ``(n,)`` integer labels.
        index: scalar task index (0-based), traced inside a run.
        history: inputs of all tasks of the run, ``(T, n, d)``. A phase may read only entries
            ``history[:index + 1]`` (data seen so far); SRC uses them for its input statistics and
            normalisation, as the reference does.
        classes: ``(C,)`` the outputs training may use for this task (a task-incremental scenario's own
            classes, or the classes seen so far), or ``None`` for all.
        peers: the sibling phases of a :func:`sequence` (name -> :class:`Peer`), set by the sequence.
        valid: ``(n,)`` which of the ``n`` examples are real, for tasks padded to a common length
            (:class:`~sleepjax.TaskStream`), or ``None`` if all are. Padding slots hold copies of the
            task's own examples; a phase that reads ``x``/``y`` (training, a memory, a Fisher
            estimate) should weigh them by ``valid``.
    """

    x: Float[Array, "n d"]
    y: Int[Array, " n"]
    index: Int[Array, ""]
    history: Float[Array, "T n d"]
    classes: Bool[Array, " C"] | None = None
    peers: Mapping[str, Peer] | None = None
    valid: Bool[Array, " n"] | None = None


class TrainingHooks(NamedTuple):
    """What a phase adds to the training steps of a training phase it is composed with. Every hook gets
    the phase's own ``state`` and ``hparams`` as they are when the task's training starts (read-only);
    a hook left ``None`` does nothing.

    Examples carry the outputs of the task they were learned in (``classes``, ``(n, C)`` bools, or
    ``None`` when the task restricts no output): a rehearsal memory keeps its examples' own, and the
    training phase scores each example among the current task's outputs when its label is one of them
    (class-incremental: the classes seen so far), else among its own task's (task-incremental rehearsal).

    Attributes:
        data: ``data(state, hparams, x, y, classes, valid) -> (x, y, classes, valid)``: the task's training
            set, extended (a rehearsal memory merged into it); ``valid (n,)`` marks the real examples of
            the fixed-size set.
        batch: ``batch(state, hparams, x, y, classes, key) -> (x, y, classes)``: each minibatch, extended
            (replayed examples).
        loss: ``loss(model, state, hparams, x, y, key, train_loss, classes) -> scalar``: a term added to the
            training loss (a penalty, a distillation), with the minibatch the loss sees. ``train_loss(model,
            x, y, classes, key)`` is the training phase's own loss on any batch (``classes``: its examples'
            own outputs, or ``None`` for the current task's), for terms that replay stored examples;
            ``classes`` is what the minibatch's examples are scored among (``(C,)`` or ``(n, C)`` bools,
            ``None`` for every output).
        grads: ``grads(model, grads, state, hparams, key, train_loss) -> grads``: the gradient, transformed
            before the optimizer sees it (a projection).
        step_init: ``step_init(params) -> accumulator``: a quantity the training phase accumulates over
            the task's steps on this phase's behalf, started afresh each task.
        step: ``step(accumulator, params_before, params_after, grads) -> accumulator`` after each update.
            The training phase keeps the accumulators in its state, under this phase's name, where this
            phase reads them after training (``task.peers[<training phase>].state``).
    """

    data: Callable | None = None
    batch: Callable | None = None
    loss: Callable | None = None
    grads: Callable | None = None
    step_init: Callable | None = None
    step: Callable | None = None


class Phase(NamedTuple):
    """A pure ``(init, apply)`` pair; see the module docstring.

    Attributes:
        init: ``init(params, key) -> state`` (:class:`~sleepjax.PhaseInit`).
        apply: ``apply(params, state, task, hparams, key) -> (params, state, metrics)``
            (:class:`~sleepjax.PhaseApply`).
        hooks: what the phase adds to the training of a sibling training phase (:class:`TrainingHooks`).
    """

    init: PhaseInit
    apply: PhaseApply
    hooks: TrainingHooks | None = None


class Peer(NamedTuple):
    """A sibling phase as a phase of the same :func:`sequence` sees it: its hooks, its state at this
    point of the task, its hyperparameters, and whether it has already been applied to this task (it
    comes earlier in the sequence), so that a phase whose work follows training can insist on it."""

    hooks: TrainingHooks | None
    state: PyTree
    hparams: Any
    applied: bool = False


def named_hparams(combinator: str, names: tuple[str, ...], hparams: Mapping | None) -> dict:
    """The hyperparameters of each named sub-phase: ``hparams[name]``, ``None`` where left out.

    Raises ``ValueError`` for names that are not sub-phases, or if ``hparams`` is not a mapping.
    """
    if hparams is None:
        hparams = {}
    if not isinstance(hparams, Mapping):
        raise ValueError(
            f"{combinator} of phases {list(names)} takes a dict of hyperparameters keyed by phase name, "
            f"got {type(hparams).__name__}"
        )
    unknown = sorted(set(hparams) - set(names))
    if unknown:
        raise ValueError(f"{combinator} has no phase named {unknown}; its phases are {list(names)}")
    return {name: hparams.get(name) for name in names}


def _check_names(combinator: str, phases: Mapping[str, Phase]) -> None:
    if not phases:
        raise ValueError(f"{combinator} needs at least one named phase, e.g. {combinator}(wake=..., sleep=...)")
    for name, phase in phases.items():
        if not isinstance(phase, Phase):
            raise TypeError(f"{combinator}: phase {name!r} must be a sleepjax Phase, got {type(phase).__name__}")


def _takes_peers(init: Callable) -> bool:
    """Whether ``init`` takes a keyword ``peers`` (a training phase that keeps accumulators for its siblings)."""
    try:
        return "peers" in inspect.signature(init).parameters
    except (TypeError, ValueError):  # callables without a signature
        return False


def sequence(**phases: Phase) -> Phase:
    """Apply the named ``phases`` in the given order on each task.

    State, hyperparameters and metrics are dicts keyed by the phase names. A phase whose ``init`` takes a
    keyword ``peers`` gets its siblings (name -> :class:`Peer`, hooks only: no state or hyperparameters
    exist yet), so that a training phase can give its state the accumulators their hooks ask for from the
    start (a run's state must keep one structure from task to task).
    """
    _check_names("sequence", phases)
    names = tuple(phases)

    def init(params, key):
        keys = jax.random.split(key, len(names))
        states = {}
        for name, k in zip(names, keys):
            init = phases[name].init
            if _takes_peers(init):
                states[name] = init(params, k, peers={n: Peer(phases[n].hooks, None, None) for n in names if n != name})
            else:
                states[name] = init(params, k)
        return states

    def apply(params, state, task, hparams, key):
        hparams = named_hparams("sequence", names, hparams)
        keys = jax.random.split(key, len(names))
        new_state, metrics = {}, {}
        for name, k in zip(names, keys):
            own = task
            if "peers" in getattr(task, "_fields", ()):
                current = {n: new_state.get(n, state[n]) for n in names}
                own = task._replace(
                    peers={n: Peer(phases[n].hooks, current[n], hparams[n], n in new_state) for n in names if n != name}
                )
            params, new_state[name], metrics[name] = phases[name].apply(params, state[name], own, hparams[name], k)
        return params, new_state, metrics

    return Phase(init, apply)


def interleave(chunks: int, **phases: Phase) -> Phase:
    """Split each supervised task's data into ``chunks`` equal parts; on each apply the named phases in turn.

    E.g. ``interleave(4, wake=train, sleep=src)`` trains on a quarter of the task, sleeps, and so on.
    Hyperparameters as for :func:`sequence`; metrics are stacked over chunks.
    """
    if chunks < 1:
        raise ValueError(f"chunks must be at least 1, got {chunks}")
    inner = sequence(**phases)

    def apply(params, state, task: SupervisedTask, hparams, key):
        n = task.x.shape[0]
        if n % chunks:
            raise ValueError(f"a task of {n} examples cannot be split into {chunks} equal chunks")
        parts = {"x": task.x, "y": task.y, "valid": getattr(task, "valid", None)}
        parts = {k: v.reshape((chunks, n // chunks) + v.shape[1:]) for k, v in parts.items() if v is not None}

        def body(carry, chunk):
            params, state = carry
            part, k = chunk
            params, state, m = inner.apply(params, state, task._replace(**part), hparams, k)
            return (params, state), m

        (params, state), metrics = lax.scan(body, (params, state), (parts, jax.random.split(key, chunks)))
        return params, state, metrics

    return Phase(inner.init, apply)


def _zeros_like_output(fn, *operands):
    """Zeros shaped like ``fn(*operands)``'s metrics, for branches that skip a phase."""
    shapes = jax.eval_shape(fn, *operands)
    return jax.tree.map(lambda s: jnp.zeros(s.shape, s.dtype), shapes)


def every_n_tasks(phase: Phase, n: int) -> Phase:
    """Apply ``phase`` only after tasks ``n - 1, 2n - 1, ...``; otherwise leave everything unchanged.

    The skipped branch still returns metrics of the same structure (zeros), as ``lax.cond`` requires.
    """
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")

    def apply(params, state, task, hparams, key):
        def run(operands):
            return phase.apply(*operands, task, hparams, key)

        def skip(operands):
            return operands[0], operands[1], _zeros_like_output(run, operands)[2]

        return lax.cond((task.index + 1) % n == 0, run, skip, (params, state))

    return Phase(phase.init, apply)


def by_task(*phases: Phase, metrics: str = "all") -> Phase:
    """Apply ``phases[task.index]`` to task ``index`` (the last phase to any later task).

    For schedules whose treatment differs from task to task, e.g. ``by_task(train, sequence(train=...,
    sleep=...))``. All phases share one state and one hyperparameter pytree, so they must be built from
    the same sub-phases (or at least agree on those structures).

    ``metrics="all"``: each task's metrics are a tuple holding every branch's metrics, zeros for the
    branches not taken (the phases' metrics may differ). ``metrics="taken"``: only the taken branch's
    metrics, for phases whose metrics share one structure (a long schedule then keeps one set per task).
    """
    if not phases:
        raise ValueError("by_task needs at least one phase")
    if metrics not in ("all", "taken"):
        raise ValueError(f"by_task metrics must be 'all' or 'taken', got {metrics!r}")
    for i, phase in enumerate(phases):
        if not isinstance(phase, Phase):
            raise TypeError(f"by_task: phase {i} must be a sleepjax Phase, got {type(phase).__name__}")

    def init(params, key):
        return phases[0].init(params, key)

    def apply(params, state, task, hparams, key):
        runs = [lambda operands, p=p: p.apply(*operands, task, hparams, key) for p in phases]
        if metrics == "taken":
            branches = runs
        else:

            def branch(i):
                def taken(operands):
                    params, state, own = runs[i](operands)
                    every = [own if j == i else _zeros_like_output(run, operands)[2] for j, run in enumerate(runs)]
                    return params, state, tuple(every)

                return taken

            branches = [branch(i) for i in range(len(phases))]
        index = jnp.minimum(task.index, len(phases) - 1)
        return lax.switch(index, branches, (params, state))

    return Phase(init, apply)
