"""Phase combinators on toy phases whose effects are easy to count."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from sleepjax._phases import Phase, SupervisedTask, by_task, every_n_tasks, interleave, sequence

pytestmark = pytest.mark.usefixtures("strict_dtypes")


def recorder(tag: float) -> Phase:
    """params is a log: each apply appends ``tag`` (shifting the log) and adds the data sum."""

    def init(params, key):
        return jnp.zeros((), jnp.int32)

    def apply(params, state, task, hparams, key):
        log, total = params
        log = jnp.concatenate([log[1:], jnp.array([tag * hparams], log.dtype)])
        return (log, total + task.x.sum()), state + 1, {"seen": task.x.shape[0] * jnp.ones((), jnp.int32)}

    return Phase(init, apply)


def make_task(index, n=8):
    x = jnp.arange(n, dtype=jnp.float32)[:, None]
    return SupervisedTask(x, jnp.zeros(n, jnp.int32), jnp.asarray(index), x[None])


def test_sequence_applies_named_phases_in_order_with_their_own_hparams():
    phase = sequence(first=recorder(1.0), second=recorder(2.0))
    params = (jnp.zeros(4), jnp.zeros(()))
    state = phase.init(params, jax.random.key(0))
    params, state, metrics = phase.apply(params, state, make_task(0), {"first": 1.0, "second": 10.0}, jax.random.key(1))
    # first appends 1 * 1, then second appends 2 * 10: order and per-name hparams both show
    np.testing.assert_array_equal(params[0], [0, 0, 1, 20])
    assert float(params[1]) == 2 * 28
    assert {k: int(v) for k, v in state.items()} == {"first": 1, "second": 1}
    assert set(metrics) == {"first", "second"}


def test_sequence_rejects_unknown_names_and_positional_hparams():
    phase = sequence(wake=recorder(1.0), sleep=recorder(2.0))
    params = (jnp.zeros(4), jnp.zeros(()))
    state = phase.init(params, jax.random.key(0))
    with pytest.raises(ValueError, match=r"no phase named \['slep'\]; its phases are \['wake', 'sleep'\]"):
        phase.apply(params, state, make_task(0), {"wake": 1.0, "slep": 1.0}, jax.random.key(0))
    with pytest.raises(ValueError, match="takes a dict of hyperparameters keyed by phase name"):
        phase.apply(params, state, make_task(0), (1.0, 1.0), jax.random.key(0))


def test_sequence_leaves_out_names_as_none():
    seen = []

    def apply(params, state, task, hparams, key):
        seen.append(hparams)
        return params, state, {}

    phase = sequence(wake=Phase(lambda p, k: (), apply), sleep=recorder(1.0))
    phase.apply(
        (jnp.zeros(2), jnp.zeros(())),
        phase.init(None, jax.random.key(0)),
        make_task(0),
        {"sleep": 1.0},
        jax.random.key(0),
    )
    assert seen == [None]


def test_interleave_alternates_on_equal_chunks():
    phase = interleave(4, a=recorder(1.0), b=recorder(2.0))
    params = (jnp.zeros(8), jnp.zeros(()))
    state = phase.init(params, jax.random.key(0))
    params, state, metrics = phase.apply(params, state, make_task(0), {"a": 1.0, "b": 1.0}, jax.random.key(1))
    np.testing.assert_array_equal(params[0], [1, 2] * 4)
    assert float(params[1]) == 2 * 28  # every example seen once by each phase
    np.testing.assert_array_equal(metrics["a"]["seen"], [2, 2, 2, 2])
    with pytest.raises(ValueError, match="cannot be split into 3 equal chunks"):
        interleave(3, a=recorder(1.0), b=recorder(2.0)).apply(
            params, state, make_task(0), {"a": 1.0, "b": 1.0}, jax.random.key(1)
        )


def test_every_n_tasks_gates_by_task_index():
    phase = every_n_tasks(recorder(1.0), 2)
    params = (jnp.zeros(3), jnp.zeros(()))
    state = phase.init(params, jax.random.key(0))
    seen = []
    for t in range(4):
        params, state, metrics = jax.jit(phase.apply)(params, state, make_task(t), 1.0, jax.random.key(t))
        seen.append(int(metrics["seen"]))
    assert seen == [0, 8, 0, 8]
    assert int(state) == 2


def test_by_task_applies_the_phase_of_each_task_and_the_last_one_after():
    phase = by_task(recorder(1.0), recorder(2.0))
    params = (jnp.zeros(3), jnp.zeros(()))
    state = phase.init(params, jax.random.key(0))
    apply = jax.jit(phase.apply)
    for t in range(3):
        params, state, metrics = apply(params, state, make_task(t), 1.0, jax.random.key(t))
    # task 0 -> phase 0 (tag 1), tasks 1 and 2 -> phase 1 (tag 2)
    np.testing.assert_array_equal(params[0], [1, 2, 2])
    # each task's metrics hold both branches, zeros for the branch not taken (task 2 took branch 1)
    assert [int(m["seen"]) for m in metrics] == [0, 8]


def test_combinators_reject_bad_arguments():
    with pytest.raises(ValueError):
        sequence()
    with pytest.raises(TypeError, match="phase 'wake' must be a sleepjax Phase"):
        sequence(wake=lambda: None)
    with pytest.raises(ValueError):
        interleave(0, a=recorder(1.0))
    with pytest.raises(ValueError):
        every_n_tasks(recorder(1.0), 0)
    with pytest.raises(ValueError):
        by_task()
