"""Phase combinators on toy phases whose effects are easy to count."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from sleepjax.phases import Phase, Task, every_n_tasks, interleave, sequence

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
    return Task(x, jnp.zeros(n, jnp.int32), jnp.asarray(index), x[None])


def test_sequence_applies_in_order_with_own_hparams():
    phase = sequence(recorder(1.0), recorder(2.0))
    params = (jnp.zeros(4), jnp.zeros(()))
    state = phase.init(params, jax.random.key(0))
    params, state, metrics = phase.apply(params, state, make_task(0), (1.0, 10.0), jax.random.key(1))
    np.testing.assert_array_equal(params[0], [0, 0, 1, 20])
    assert float(params[1]) == 2 * 28
    assert [int(s) for s in state] == [1, 1]
    assert len(metrics) == 2


def test_sequence_checks_hparams_structure():
    phase = sequence(recorder(1.0), recorder(2.0))
    with pytest.raises(ValueError, match="tuple of 2 hparams"):
        phase.apply((jnp.zeros(4), jnp.zeros(())), (0, 0), make_task(0), 1.0, jax.random.key(0))


def test_interleave_alternates_on_equal_chunks():
    phase = interleave(recorder(1.0), recorder(2.0), chunks=4)
    params = (jnp.zeros(8), jnp.zeros(()))
    state = phase.init(params, jax.random.key(0))
    params, state, metrics = phase.apply(params, state, make_task(0), (1.0, 1.0), jax.random.key(1))
    np.testing.assert_array_equal(params[0], [1, 2] * 4)
    assert float(params[1]) == 2 * 28  # every example seen once by each phase
    np.testing.assert_array_equal(metrics[0]["seen"], [2, 2, 2, 2])
    with pytest.raises(ValueError, match="cannot be split into 3 equal chunks"):
        interleave(recorder(1.0), recorder(2.0), chunks=3).apply(
            params, state, make_task(0), (1.0, 1.0), jax.random.key(1)
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


def test_combinators_reject_bad_arguments():
    with pytest.raises(ValueError):
        sequence()
    with pytest.raises(ValueError):
        interleave(recorder(1.0), recorder(1.0), chunks=0)
    with pytest.raises(ValueError):
        every_n_tasks(recorder(1.0), 0)
