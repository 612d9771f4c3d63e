"""The batching helpers of the sleep loop: ``skip_unless`` computes its work once per batch, only when needed."""

import jax
import jax.numpy as jnp
import numpy as np

from sleepjax.sleep.batching import skip_unless


def counted(calls):
    """``fn(x, step) = x + step`` that records each time it really runs (once per run, even batched)."""

    def fn(x, step):
        jax.debug.callback(lambda: calls.append(1))
        return x + step

    return fn


def test_skip_unless_plain_follows_busy():
    # Mistake caught: a guard that returns args[0] even when busy, or runs the work when idle.
    calls = []
    fn = jax.jit(lambda busy, x, step: skip_unless(busy, counted(calls), x, step))
    x = jnp.arange(3.0)
    np.testing.assert_array_equal(fn(True, x, 2.0), [2.0, 3.0, 4.0])
    np.testing.assert_array_equal(fn(False, x, 0.0), [0.0, 1.0, 2.0])
    jax.effects_barrier()
    assert len(calls) == 1


def test_skip_unless_under_vmap_runs_once_for_the_batch_and_never_when_all_idle():
    # Mistakes caught: vmap turning the guard into a select (the work would run in every call: the
    # count would be 2 with an idle batch), the batch predicate taken as "all" instead of "any" (the one
    # busy member would get x back), per-member runs instead of one batched run (count 3, not 1).
    calls = []
    fn = jax.jit(jax.vmap(lambda busy, x, step: skip_unless(busy, counted(calls), x, step)))
    x = jnp.arange(6.0).reshape(3, 2)
    busy = jnp.array([False, True, False])
    step = jnp.array([0.0, 5.0, 0.0])  # idle members' work changes nothing, as the contract asks
    np.testing.assert_array_equal(fn(busy, x, step), x + step[:, None])
    jax.effects_barrier()
    assert len(calls) == 1
    np.testing.assert_array_equal(fn(jnp.zeros(3, bool), x, jnp.full(3, 7.0)), x)  # skipped: x back
    jax.effects_barrier()
    assert len(calls) == 1


def test_skip_unless_nested_vmap_and_unbatched_arguments():
    # Mistake caught: nested vmaps (seeds x configurations) or an argument shared by all members
    # (not vmapped) broken by the batching rule.
    calls = []
    inner = jax.vmap(lambda busy, x, step: skip_unless(busy, counted(calls), x, step), (0, None, 0))
    fn = jax.jit(jax.vmap(inner, (0, None, 0)))
    x = jnp.array([1.0, 2.0])
    busy = jnp.array([[False, False], [False, True]])
    step = jnp.where(busy, 3.0, 0.0)
    out = fn(busy, x, step)
    assert out.shape == (2, 2, 2)
    for a in range(2):
        for b in range(2):
            np.testing.assert_array_equal(out[a, b], x + step[a, b])
    jax.effects_barrier()
    assert len(calls) == 1
