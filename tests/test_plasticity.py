"""SRC's weight dependence and the row-sparse Hebbian update, against direct formulas."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from sleepjax._sleep.plasticity import update_spiking_columns, update_spiking_rows, weight_dependence

pytestmark = pytest.mark.usefixtures("strict_dtypes")


def g_reference(w, scale=0.001):
    with np.errstate(over="ignore"):  # exp overflows to inf for large w, and g correctly becomes 0
        return 2.0 / (1.0 + np.exp(np.asarray(w, np.float64) / scale))


def test_weight_dependence_values():
    w = jnp.array([-0.02, -0.005, -0.001, 0.0, 0.001, 0.005, 0.02, 1.0, -1.0], jnp.float32)
    g = np.asarray(weight_dependence(w))
    np.testing.assert_allclose(g, g_reference(w), rtol=1e-5, atol=1e-12)
    assert g[3] == 1.0  # g(0) = 1
    np.testing.assert_allclose(g[1], 2 / (1 + np.exp(-5)), rtol=1e-6)  # ~1.9866
    np.testing.assert_allclose(g[5], 2 / (1 + np.exp(5)), rtol=1e-5)  # ~0.0134
    assert np.all(np.diff(g[:7]) < 0)  # strictly decreasing
    assert g[7] == 0.0 and g[8] == 2.0  # saturates without overflow
    assert np.all(np.isfinite(g))


def dense_reference(w, post, pre, inc, dec, scale=0.001):
    w = np.asarray(w, np.float64)
    signed = np.where(pre, inc, -dec)
    return w + post[:, None] * signed[None, :] * g_reference(w, scale)


@pytest.mark.parametrize("n_spikes", [0, 1, 3, 7])
def test_update_rows_matches_dense_rule(n_spikes):
    rng = np.random.default_rng(n_spikes)
    w = rng.uniform(-0.01, 0.01, (7, 5)).astype(np.float32)
    post = np.zeros(7, bool)
    post[rng.choice(7, n_spikes, replace=False)] = True
    pre = rng.random(5) < 0.5
    out = update_spiking_rows(jnp.asarray(w), jnp.asarray(post), jnp.asarray(pre), 0.03, 0.004)
    np.testing.assert_allclose(out, dense_reference(w, post, pre, 0.03, 0.004), rtol=1e-6, atol=1e-9)
    np.testing.assert_array_equal(np.asarray(out)[~post], w[~post])  # silent rows untouched


def test_update_rows_under_vmap_and_nested_vmap():
    rng = np.random.default_rng(0)
    w = rng.uniform(-0.01, 0.01, (2, 3, 6, 4)).astype(np.float32)
    post = rng.random((2, 3, 6)) < 0.4
    pre = rng.random((2, 3, 4)) < 0.5
    inc = np.array([0.01, 0.05], np.float32)
    dec = np.float32(0.002)
    f = jax.jit(jax.vmap(jax.vmap(update_spiking_rows, (0, 0, 0, None, None)), (0, 0, 0, 0, None)))
    out = np.asarray(f(w, post, pre, inc, dec))
    for a in range(2):
        for b in range(3):
            single = jax.jit(update_spiking_rows)(w[a, b], post[a, b], pre[a, b], inc[a], dec)
            np.testing.assert_array_equal(out[a, b], np.asarray(single))
            np.testing.assert_allclose(
                out[a, b], dense_reference(w[a, b], post[a, b], pre[a, b], inc[a], dec), rtol=1e-6, atol=1e-9
            )


def test_unbatched_weights_with_batched_hyperparameters():
    w = jnp.full((3, 2), -0.001, jnp.float32)
    post = jnp.array([True, False, True])
    pre = jnp.array([True, False])
    incs = jnp.array([0.0, 0.1], jnp.float32)
    out = jax.vmap(update_spiking_rows, (None, None, None, 0, None))(w, post, pre, incs, jnp.float32(0.0))
    np.testing.assert_array_equal(out[0], w)
    expected = -0.001 + 0.1 * g_reference(-0.001)
    np.testing.assert_allclose(out[1][[0, 2], 0], [expected, expected], rtol=1e-6)
    np.testing.assert_array_equal(out[1][1], w[1])


@pytest.mark.parametrize("scale", [0.001, 0.004])
def test_update_columns_and_index_lists_match_dense_rule(scale):
    """Transposed weights, pre-synaptic spikes as bools or as a padded index list, another g scale."""
    rng = np.random.default_rng(1)
    w = rng.uniform(-0.01, 0.01, (7, 5)).astype(np.float32)
    post = rng.random(7) < 0.5
    pre = np.array([True, False, False, True, False])
    expected = dense_reference(w, post, pre, 0.03, 0.004, scale)
    padded = jnp.array([0, 3, 5, 5, 5, 5], jnp.int32)  # entries >= n_pre = 5 are padding
    for pre_arg in (jnp.asarray(pre), padded):
        rows = update_spiking_rows(jnp.asarray(w), jnp.asarray(post), pre_arg, 0.03, 0.004, scale)
        cols = update_spiking_columns(jnp.asarray(w.T), jnp.asarray(post), pre_arg, 0.03, 0.004, scale)
        np.testing.assert_allclose(rows, expected, rtol=1e-6, atol=1e-9)
        np.testing.assert_allclose(np.asarray(cols).T, expected, rtol=1e-6, atol=1e-9)
