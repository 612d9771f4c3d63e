"""SRC sleep: normalisation, one step by hand, deterministic multi-step runs against a direct
transcription of the reference loop, input statistics and input validation."""

import functools

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from sleepjax._nets import MLP, weights_of, with_weights
from sleepjax._sleep import (
    MNIST_WINDOW,
    InputWindow,
    SRCHparams,
    check_src_compatible,
    layer_factors,
    max_activations,
    reference_hparams,
    sleep_steps,
    src_sleep,
    src_sleep_mlp,
)
from sleepjax._sleep.batching import shared_bound
from sleepjax._sleep.src import input_draws

pytestmark = pytest.mark.usefixtures("strict_dtypes")


def g(w):
    with np.errstate(over="ignore"):
        return 2.0 / (1.0 + np.exp(np.asarray(w, np.float64) / 0.001))


def test_layer_factors_hand_built_network():
    w1 = jnp.array([[0.5, -1.0], [2.0, 0.1]])  # largest positive weight 2.0
    w2 = jnp.array([[0.3, 0.2]])  # largest positive weight 0.3
    # layer 1: s = max(2.0, 4.0) = 4 -> applied 4, factor 1/4
    # layer 2: s = max(0.3, 1.0) = 1 -> applied 1/4, factor 4 (divided by the *applied* 4)
    factors = layer_factors([w1, w2], jnp.array([4.0, 1.0]))
    np.testing.assert_allclose(factors, [0.25, 4.0])
    # weights dominate when activations are small
    factors = layer_factors([w1, w2], jnp.array([0.5, 0.1]))
    np.testing.assert_allclose(factors, [0.5, 1 / 0.15], rtol=1e-6)


def test_max_activations_uses_test_mode_dropout_scaling():
    model = MLP((2, 2, 1), key=jax.random.key(0), dropout=0.25)
    w1 = jnp.array([[1.0, 0.0], [0.0, 2.0]])
    w2 = jnp.array([[1.0, 1.0]])
    model = with_weights(model, (w1, w2))
    x = jnp.array([[1.0, 1.0], [3.0, 0.0]])
    # hidden = relu(W1 x) * 0.75: rows [0.75, 1.5] and [2.25, 0]; output = relu(sum): 2.25, 2.25
    np.testing.assert_allclose(max_activations(model.activations, x), [2.25, 2.25])
    np.testing.assert_allclose(max_activations(model.activations, x, jnp.array([True, False])), [1.5, 2.25])


def test_one_sleep_step_by_hand():
    w1 = np.array([[0.004, -0.002], [-0.001, 0.003]], np.float32)
    w2 = np.array([[0.002, 0.001]], np.float32)
    # p = min(1, 2 * dt * max_rate * x): with x = [1, 0] input 0 always spikes, input 1 never
    hp = SRCHparams.create(max_rate=1000.0, inc=0.5, dec=0.25, beta=(0.3, 0.1), alpha_scale=100.0)
    (n1, n2), stats = src_sleep([w1, w2], jnp.array([1.0, 0.0]), jnp.ones(2), hp, jax.random.key(0), 1)
    # layer 1: v = 100 * [0.004, -0.001] = [0.4, -0.1] -> only neuron 0 reaches 0.3
    e1 = w1.astype(np.float64).copy()
    e1[0, 0] += 0.5 * g(0.004)  # pre 0 spiked: potentiate
    e1[0, 1] -= 0.25 * g(-0.002)  # pre 1 silent: depress
    # layer 2: v = 100 * (w2 @ [1, 0]) = 0.2 >= 0.1 -> spikes
    e2 = w2.astype(np.float64).copy()
    e2[0, 0] += 0.5 * g(0.002)
    e2[0, 1] -= 0.25 * g(0.001)
    np.testing.assert_allclose(n1, e1, rtol=1e-6)
    np.testing.assert_allclose(n2, e2, rtol=1e-6)
    np.testing.assert_array_equal(stats.spikes, [1, 1, 1])


def reference_sleep(weights, x, alphas, thresholds, inc, dec, decay, steps):
    """The spec's loop, transcribed directly, for inputs whose spike probabilities are 0 or 1."""
    weights = [np.asarray(w, np.float64).copy() for w in weights]
    v = [np.zeros(w.shape[0]) for w in weights]
    for _ in range(steps):
        prev = x > 0
        for k, w in enumerate(weights):
            v[k] = decay * v[k] + alphas[k] * (w @ prev)
            s = v[k] >= thresholds[k]
            for i in np.flatnonzero(s):
                w[i] += np.where(prev, inc, -dec) * g(w[i])
            v[k][s] = 0.0
            prev = s
    return weights


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_deterministic_sleep_matches_reference_loop(seed):
    rng = np.random.default_rng(seed)
    sizes = (12, 9, 6, 3)
    weights = [rng.uniform(-0.004, 0.008, (o, i)).astype(np.float32) for i, o in zip(sizes[:-1], sizes[1:])]
    x = (rng.random(sizes[0]) < 0.5).astype(np.float32)  # rates 0 or saturated: spikes are deterministic
    factors = np.array([1.0, 0.8, 1.2], np.float32)
    hp = SRCHparams.create(max_rate=1e4, inc=0.02, dec=0.003, beta=(0.35, 0.2, 0.25), alpha_scale=30.0)
    out, stats = src_sleep(weights, jnp.asarray(x), jnp.asarray(factors), hp, jax.random.key(seed), 60)
    expected = reference_sleep(weights, x, 30.0 * factors, [0.35, 0.2, 0.25], 0.02, 0.003, 0.999, 60)
    assert stats.spikes[1:].sum() > 20  # the test exercises real plasticity
    for a, b, w0 in zip(out, expected, weights):
        assert np.abs(b - w0).max() > 1e-3
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)


@pytest.fixture
def x64():
    with jax.enable_x64(True):
        yield


def random_network(rng, sizes, dtype, low=-0.004, high=0.008):
    return [jnp.asarray(rng.uniform(low, high, (o, i)), dtype) for i, o in zip(sizes[:-1], sizes[1:])]


@pytest.mark.parametrize("seed", [0, 1])
def test_event_driven_equals_dense_in_float64(x64, seed):
    """Binary input shown whole with 2 * dt * max_rate >= 1: every spike is deterministic, so the two
    formulations must agree spike for spike, and the weights up to summation order."""
    rng = np.random.default_rng(seed)
    sizes = (40, 30, 20, 5)
    weights = random_network(rng, sizes, jnp.float64)
    x = jnp.asarray(rng.random(sizes[0]) < 0.4, jnp.float64)
    hp = SRCHparams.create(max_rate=600.0, inc=0.02, dec=0.003, beta=(0.35, 0.2, 0.25), alpha_scale=30.0)
    factors = jnp.array([1.0, 0.8, 1.2])
    run = functools.partial(src_sleep, weights, x, factors, hp, jax.random.key(seed), 150)
    (event, event_stats), (dense, dense_stats) = run(method="event"), run(method="dense")
    assert event[0].dtype == jnp.float64
    np.testing.assert_array_equal(event_stats.spikes, dense_stats.spikes)
    np.testing.assert_array_equal(event_stats.active_steps, dense_stats.active_steps)
    assert event_stats.spikes[1:].sum() > 50  # real plasticity in every layer
    for a, b, w0 in zip(event, dense, weights):
        assert np.abs(np.asarray(b) - np.asarray(w0)).max() > 1e-3
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-10)


def test_event_driven_equals_dense_in_float32_with_random_windows():
    rng = np.random.default_rng(5)
    weights = random_network(rng, (784, 64, 32, 10), jnp.float32, -0.01, 0.012)
    x = jnp.asarray(rng.random(784) * 0.6, jnp.float32)
    hp = SRCHparams.create(max_rate=240.0, inc=0.03, dec=0.003, beta=(0.5, 0.3, 0.3), alpha_scale=12.0)
    run = functools.partial(src_sleep, weights, x, jnp.ones(3), hp, jax.random.key(7), 200, MNIST_WINDOW)
    (event, event_stats), (dense, dense_stats) = run(method="event"), run(method="dense")
    np.testing.assert_array_equal(event_stats.spikes, dense_stats.spikes)
    assert event_stats.spikes[1:].min() > 5
    for a, b in zip(event, dense):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)


def test_input_spikes_over_capacity_are_all_counted(x64):
    """About 20 input spikes per step against a capacity of 3: the overflow loop must add every one."""
    rng = np.random.default_rng(2)
    sizes = (40, 30, 20, 5)
    weights = random_network(rng, sizes, jnp.float64)
    x = jnp.asarray(rng.random(sizes[0]) < 0.5, jnp.float64)
    hp = SRCHparams.create(max_rate=600.0, inc=0.02, dec=0.003, beta=(0.35, 0.2, 0.25), alpha_scale=30.0)
    run = functools.partial(src_sleep, weights, x, jnp.array([1.0, 0.8, 1.2]), hp, jax.random.key(0), 100)
    (small, small_stats), (dense, dense_stats) = run(capacity=3), run(method="dense")
    assert small_stats.spikes[0] / 100 > 3 * 5  # more than five blocks of 3 per step
    np.testing.assert_array_equal(small_stats.spikes, dense_stats.spikes)
    for a, b in zip(small, dense):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-10)


def test_sleep_jit_with_traced_length_equals_eager():
    rng = np.random.default_rng(3)
    weights = [rng.uniform(-0.01, 0.01, (5, 8)).astype(np.float32), rng.uniform(-0.01, 0.01, (2, 5)).astype(np.float32)]
    x = jnp.asarray(rng.random(8), jnp.float32)
    hp = SRCHparams.create(50.0, 0.03, 0.003, (0.2, 0.2), 40.0)
    eager, _ = src_sleep(weights, x, jnp.ones(2), hp, jax.random.key(1), 100)
    jitted, _ = jax.jit(src_sleep)(weights, x, jnp.ones(2), hp, jax.random.key(1), jnp.asarray(100))
    for a, b in zip(eager, jitted):
        np.testing.assert_array_equal(a, b)


def test_window_is_a_square_anywhere_in_range():
    pixels, _ = input_draws(jax.random.key(0), jnp.zeros(784), reference_hparams(), MNIST_WINDOW, num=300)
    rows, cols = np.asarray(pixels) // 28, np.asarray(pixels) % 28
    # each step's 121 pixels are the 11x11 square below and right of its corner, listed row by row
    corner_row, corner_col = rows[:, :1], cols[:, :1]
    np.testing.assert_array_equal(rows - corner_row, np.repeat(np.arange(11), 11)[None].repeat(300, 0))
    np.testing.assert_array_equal(cols - corner_col, np.tile(np.arange(11), 11)[None].repeat(300, 0))
    # corners uniform over 0..17 in each axis (300 draws cover both ends)
    assert corner_row.min() == 0 and corner_row.max() == 17 and corner_col.min() == 0 and corner_col.max() == 17


def test_input_spike_probability():
    x = jnp.array([0.0, 0.05, 0.1, 0.5, 1.0])
    hp = SRCHparams.create(max_rate=2.0 / (2 * 0.001) * 0.5, inc=0, dec=0, beta=(1.0,), alpha_scale=1)
    # 2 * dt * max_rate = 1 -> p = min(1, x)
    pixels, fires = input_draws(jax.random.key(0), x, hp, None, num=20000)
    np.testing.assert_array_equal(pixels, np.broadcast_to(np.arange(5), (20000, 5)))
    rates = np.asarray(fires).mean(axis=0)
    np.testing.assert_allclose(rates, [0.0, 0.05, 0.1, 0.5, 1.0], atol=0.012)
    assert rates[0] == 0.0 and rates[-1] == 1.0


def test_window_limits_input_to_121_pixels():
    hp = SRCHparams.create(max_rate=1e6, inc=0, dec=0, beta=(1.0,), alpha_scale=1)
    _, fires = input_draws(jax.random.key(0), jnp.ones(784), hp, MNIST_WINDOW, num=5)
    np.testing.assert_array_equal(np.asarray(fires).sum(axis=1), 121)


def test_sleep_lengths_follow_reference_schedule():
    np.testing.assert_array_equal(sleep_steps(jnp.arange(5)), [15000, 20000, 25000, 30000, 35000])


def test_reference_hparams_and_unknown_name():
    hp = reference_hparams("mnist")
    np.testing.assert_allclose(hp.beta, [14.548273, 44.560317, 38.046326])
    with pytest.raises(ValueError, match="unknown SRC reference"):
        reference_hparams("cifar100")


@pytest.mark.parametrize(
    "field,value,message",
    [
        ("inc", float("nan"), "inc must be finite"),
        ("dec", -0.1, "dec must be non-negative"),
        ("max_rate", float("inf"), "max_rate must be finite"),
        ("decay", 1.5, "decay must be at most 1"),
        ("dt", 0.0, "dt must be positive"),
    ],
)
def test_bad_hyperparameters_are_refused(field, value, message):
    hp = reference_hparams()._replace(**{field: jnp.asarray(value, jnp.float32)})
    weights = [jnp.zeros((4, 784)), jnp.zeros((3, 4)), jnp.zeros((2, 3))]
    with pytest.raises(ValueError, match=message):
        src_sleep(weights, jnp.zeros(784), jnp.ones(3), hp, jax.random.key(0), 1)


def test_shape_errors_name_the_problem():
    hp = reference_hparams()
    with pytest.raises(ValueError, match="beta must have one entry per layer"):
        src_sleep([jnp.zeros((4, 784)), jnp.zeros((2, 4))], jnp.zeros(784), jnp.ones(2), hp, jax.random.key(0), 1)
    w = [jnp.zeros((4, 784)), jnp.zeros((3, 5)), jnp.zeros((2, 3))]
    with pytest.raises(ValueError, match="weight 1 has 5 inputs but layer 0 has 4 outputs"):
        src_sleep(w, jnp.zeros(784), jnp.ones(3), hp, jax.random.key(0), 1)
    w = [jnp.zeros((4, 100)), jnp.zeros((3, 4)), jnp.zeros((2, 3))]
    with pytest.raises(ValueError, match="sleep input must have shape"):
        src_sleep(w, jnp.zeros(784), jnp.ones(3), hp, jax.random.key(0), 1)
    with pytest.raises(ValueError, match="input window 28x28 does not match input size 100"):
        src_sleep(w, jnp.zeros(100), jnp.ones(3), hp, jax.random.key(0), 1, InputWindow(28, 28, 11))
    with pytest.raises(ValueError, match="num_steps must be non-negative, got -5"):
        src_sleep(w, jnp.zeros(100), jnp.ones(3), hp, jax.random.key(0), -5)
    with pytest.raises(ValueError, match="method must be 'event' or 'dense'"):
        src_sleep(w, jnp.zeros(100), jnp.ones(3), hp, jax.random.key(0), 1, method="sparse")


def test_bad_sleep_input_or_factors_are_refused():
    hp = SRCHparams.create(100.0, 0.01, 0.001, (1.0, 1.0), 1.0)
    w = [jnp.zeros((3, 4)), jnp.zeros((2, 3))]
    with pytest.raises(ValueError, match=r"sleep input must be finite and in \[0, 1\]"):
        src_sleep(w, jnp.array([0.1, -0.2, 0.0, 0.3]), jnp.ones(2), hp, jax.random.key(0), 1)
    with pytest.raises(ValueError, match=r"sleep input must be finite and in \[0, 1\]"):
        src_sleep(w, jnp.array([0.1, 1.5, 0.0, 0.3]), jnp.ones(2), hp, jax.random.key(0), 1)
    with pytest.raises(ValueError, match="sleep input must be finite"):
        src_sleep(w, jnp.array([0.1, jnp.nan, 0.0, 0.3]), jnp.ones(2), hp, jax.random.key(0), 1)
    with pytest.raises(ValueError, match="factors must be finite and positive"):
        src_sleep(w, jnp.zeros(4), layer_factors(w, jnp.zeros(2)), hp, jax.random.key(0), 1)
    with pytest.raises(ValueError, match="factors must have one entry per layer"):
        src_sleep(w, jnp.zeros(4), jnp.ones(3), hp, jax.random.key(0), 1)


def test_incompatible_networks_are_refused():
    with pytest.raises(TypeError, match="bias-free"):
        check_src_compatible(MLP((4, 3, 2), key=jax.random.key(0), use_bias=True))
    with pytest.raises(TypeError, match="sleeps a sleepjax._nets.MLP"):
        check_src_compatible([jnp.zeros((2, 2))])


def test_sleep_mlp_changes_only_weights():
    model = MLP((784, 16, 16, 10), key=jax.random.key(0), dropout=0.25)
    data = jax.random.uniform(jax.random.key(1), (32, 784))
    slept, stats = src_sleep_mlp(model, data, reference_hparams(), jax.random.key(2), 500, MNIST_WINDOW)
    assert stats.spikes[0] > 0
    assert jax.tree.structure(slept) == jax.tree.structure(model)
    assert any(not np.array_equal(a.weight, b.weight) for a, b in zip(model.layers, slept.layers))


@pytest.mark.parametrize("method", ["event", "dense"])
@pytest.mark.slow
def test_sleep_vmaps_over_hyperparameters_and_seeds(method):
    rng = np.random.default_rng(4)
    weights = random_network(rng, (784, 16, 10), jnp.float32, -0.01, 0.01)
    x = jnp.asarray(rng.random(784) * 0.5, jnp.float32)
    configs = [
        SRCHparams.create(200.0, 0.03, 0.003, (0.2, 0.1), 60.0),
        SRCHparams.create(100.0, 0.05, 0.001, (0.3, 0.2), 40.0),
    ]
    stacked = jax.tree.map(lambda *v: jnp.stack(v), *configs)
    keys = jax.random.split(jax.random.key(0), 3)

    def one(hp, key):
        return src_sleep(weights, x, jnp.ones(2), hp, key, 150, MNIST_WINDOW, method=method)

    swept, stats = jax.jit(jax.vmap(jax.vmap(one, (None, 0)), (0, None)))(stacked, keys)
    for i, hp in enumerate(configs):
        for j, key in enumerate(keys):
            alone, alone_stats = one(hp, key)
            for field in ("spikes", "active_steps", "nonfinite_weights"):
                np.testing.assert_array_equal(getattr(stats, field)[i, j], getattr(alone_stats, field))
            for a, b in zip(swept, alone):
                np.testing.assert_allclose(a[i, j], b, rtol=1e-6, atol=1e-7)
    assert stats.spikes[:, :, 1:].min() > 0


@pytest.mark.parametrize("method", ["event", "dense"])
def test_sleeps_of_different_lengths_vmapped_equal_each_alone(method):
    # A vmapped batch runs its loops to the longest member's length (batching.shared_bound); each member
    # must treat the steps past its own length as no-ops. Catches padded steps that still spike: with a
    # threshold of 0 (beta 0, as in the mnist-rehearsal vector) a silent layer fires at potential 0, so a
    # member would go on learning after its sleep ended. Also catches a member cut to another's length.
    rng = np.random.default_rng(5)
    weights = random_network(rng, (784, 16, 10), jnp.float32, -0.01, 0.01)
    x = jnp.asarray(rng.random(784) * 0.5, jnp.float32)
    hp = SRCHparams.create(200.0, 0.03, 0.003, (0.2, 0.0), 60.0)
    lengths = jnp.asarray([70, 150, 0], jnp.int32)
    keys = jax.random.split(jax.random.key(1), 3)

    def one(steps, key):
        return src_sleep(weights, x, jnp.ones(2), hp, key, steps, MNIST_WINDOW, method=method)

    swept, stats = jax.jit(jax.vmap(one))(lengths, keys)
    for i in range(3):
        alone, alone_stats = jax.jit(one)(lengths[i], keys[i])
        for field in ("spikes", "active_steps", "num_steps"):
            np.testing.assert_array_equal(getattr(stats, field)[i], getattr(alone_stats, field))
        for a, b in zip(swept, alone):
            np.testing.assert_allclose(a[i], b, rtol=1e-6, atol=1e-7)
    assert stats.active_steps[:2, 2].min() > 0  # the threshold-0 output layer does fire


def test_shared_bound_is_the_largest_member_under_nested_vmaps():
    # Catches a bound taken over one vmapped axis only (the inner one of configurations x seeds).
    n = jnp.asarray([[3, 9], [4, 2]], jnp.int32)
    bounds = jax.vmap(jax.vmap(shared_bound))(n)
    np.testing.assert_array_equal(bounds, np.full((2, 2), 9))
    assert int(shared_bound(jnp.asarray(5))) == 5


def test_equinox_mlp_can_sleep_and_matches_sleepjax_mlp():
    """A bias-free ReLU equinox.nn.MLP sleeps exactly like the sleepjax MLP with the same weights."""
    eqx_model = eqx.nn.MLP(
        784, 10, 32, 2, activation=jax.nn.relu, use_bias=False, use_final_bias=False, key=jax.random.key(0)
    )
    ours = with_weights(MLP((784, 32, 32, 10), key=jax.random.key(1), head="linear"), weights_of(eqx_model))
    data = jax.random.uniform(jax.random.key(2), (16, 784))
    hp = reference_hparams()
    slept_eqx, stats_eqx = src_sleep_mlp(eqx_model, data, hp, jax.random.key(3), 300, MNIST_WINDOW)
    slept_ours, stats_ours = src_sleep_mlp(ours, data, hp, jax.random.key(3), 300, MNIST_WINDOW)
    assert isinstance(slept_eqx, eqx.nn.MLP)
    np.testing.assert_array_equal(stats_eqx.spikes, stats_ours.spikes)
    for a, b in zip(weights_of(slept_eqx), weights_of(slept_ours)):
        np.testing.assert_array_equal(a, b)


def test_equinox_mlp_with_bias_or_other_activation_is_refused():
    with pytest.raises(TypeError, match="bias-free"):
        check_src_compatible(eqx.nn.MLP(4, 2, 3, 1, activation=jax.nn.relu, key=jax.random.key(0)))
    with pytest.raises(TypeError, match="ReLU hidden units"):
        check_src_compatible(
            eqx.nn.MLP(4, 2, 3, 1, activation=jax.nn.tanh, use_bias=False, use_final_bias=False, key=jax.random.key(0))
        )


# ---------------------------------------------------------------------------------------------------
# Float64, runaway statistics, checks under jit, window and structural options.


@pytest.mark.slow
def test_public_functions_run_in_float64(x64):
    """Float32 hyperparameters (as stored) with float64 weights: everything computes in float64."""
    model = MLP((784, 12, 10, 10), key=jax.random.key(0), dropout=0.25)
    assert model.layers[0].weight.dtype == jnp.float64
    data = jax.random.uniform(jax.random.key(1), (16, 784), jnp.float64)
    hp = reference_hparams()
    slept, stats = src_sleep_mlp(model, data, hp, jax.random.key(2), 200, MNIST_WINDOW)
    assert all(w.dtype == jnp.float64 for w in weights_of(slept))
    assert stats.spikes.dtype == jnp.int32 and stats.spikes[0] > 0
    weights = weights_of(model)
    factors = layer_factors(weights, max_activations(model.activations, data))
    assert factors.dtype == jnp.float64
    for method in ("event", "dense"):
        out, _ = jax.jit(functools.partial(src_sleep, method=method), static_argnums=6)(
            weights, data.mean(axis=0), factors, hp, jax.random.key(3), jnp.asarray(70), MNIST_WINDOW
        )
        assert all(w.dtype == jnp.float64 for w in out)
    pixels, fires = input_draws(jax.random.key(0), data.mean(axis=0), hp, MNIST_WINDOW, num=4)
    assert pixels.shape == fires.shape == (4, 121)


def test_stats_report_silent_and_saturated_layers():
    """Input shown whole with p = 1 everywhere: the input layer fires every step. beta = 0 lets layer 1
    fire every step (v >= 0 always); layer 2's huge threshold keeps it silent."""
    weights = [jnp.full((3, 4), 0.001), jnp.full((2, 3), 0.001)]
    hp = SRCHparams.create(max_rate=1000.0, inc=0.0, dec=0.0, beta=(0.0, 1e6), alpha_scale=1.0)
    _, stats = src_sleep(weights, jnp.ones(4), jnp.ones(2), hp, jax.random.key(0), 10)
    np.testing.assert_array_equal(stats.active_steps, [10, 10, 0])
    np.testing.assert_array_equal(stats.fired_every_step(), [True, True, False])
    np.testing.assert_array_equal(stats.never_fired(), [False, False, True])
    np.testing.assert_allclose(stats.active_fraction(), [1.0, 1.0, 0.0])
    np.testing.assert_array_equal(stats.spikes, [40, 30, 0])


def test_runaway_weights_are_reported_not_raised_under_jit():
    # dec * g(w) = 3e38 * 2 overflows float32: a firing neuron's synapse from a silent input becomes -inf
    hp = SRCHparams.create(max_rate=1000.0, inc=0.0, dec=3e38, beta=(0.0,), alpha_scale=1.0)
    weights = [jnp.full((2, 2), 0.001)]
    slept, stats = jax.jit(src_sleep, static_argnums=5)(
        weights, jnp.array([1.0, 0.0]), jnp.ones(1), hp, jax.random.key(0), 3
    )
    assert not np.all(np.isfinite(slept[0]))
    np.testing.assert_array_equal(stats.nonfinite_weights, [True])
    # eagerly, a later sleep on those weights names the cause instead of the normalisation factors
    with pytest.raises(ValueError, match="SRC weight 0 has non-finite entries"):
        src_sleep(slept, jnp.array([1.0, 0.0]), jnp.ones(1), hp, jax.random.key(1), 3)


def test_bad_factors_raise_eagerly_and_are_reported_under_jit():
    hp = SRCHparams.create(100.0, 0.01, 0.001, (1.0, 1.0), 1.0)
    w = [jnp.full((3, 4), 0.001), jnp.full((2, 3), 0.001)]
    factors = jnp.array([1.0, jnp.inf])
    with pytest.raises(ValueError, match="factors must be finite and positive"):
        src_sleep(w, jnp.zeros(4), factors, hp, jax.random.key(0), 2)
    _, stats = jax.jit(src_sleep, static_argnums=5)(w, jnp.zeros(4), factors, hp, jax.random.key(0), 2)
    np.testing.assert_array_equal(stats.bad_factors, [False, True])


@pytest.mark.parametrize(
    "field,value,message",
    [
        ("max_rate", float("nan"), "max_rate must be finite"),
        ("beta", float("nan"), "beta must be finite"),
        ("inc", float("nan"), "inc must be finite"),
        ("dec", -0.1, "dec must be non-negative"),
        ("decay", 1.5, "decay must be at most 1"),
        ("weight_scale", 0.0, "weight_scale must be positive"),
    ],
)
def test_bad_hyperparameters_are_flagged_under_jit_and_vmap(field, value, message):
    # Catches a traced check that is dropped (a bad vector sleeps silently) or that flags the good one.
    hp = reference_hparams()
    bad = hp._replace(**{field: jnp.full(jnp.shape(getattr(hp, field)), value, jnp.float32)})
    weights = [jnp.zeros((3, 4)), jnp.zeros((2, 3)), jnp.zeros((2, 2))]

    def run(hp):
        return src_sleep(weights, jnp.zeros(4), jnp.ones(3), hp, jax.random.key(0), 1)[1].invalid

    assert bool(jax.jit(run)(bad))
    stacked = jax.tree.map(lambda a, b: jnp.stack([a, b]), hp, bad)
    np.testing.assert_array_equal(jax.jit(jax.vmap(run))(stacked), [False, True])
    assert not bool(jax.jit(run)(hp))  # the good vector passes the same compiled checks
    with pytest.raises(ValueError, match=f"SRC hyperparameter {message}"):
        bad.check()  # and eagerly the rule is named


def test_bad_sleep_input_is_flagged_under_jit():
    hp = SRCHparams.create(100.0, 0.01, 0.001, (1.0, 1.0), 1.0)
    w = [jnp.zeros((3, 4)), jnp.zeros((2, 3))]
    run = jax.jit(lambda x: src_sleep(w, x, jnp.ones(2), hp, jax.random.key(0), 1)[1].invalid)
    for x in ([0.1, -0.2, 0.0, 0.3], [0.1, 1.2, 0.0, 0.3], [0.1, jnp.nan, 0.0, 0.3]):
        assert bool(run(jnp.asarray(x)))
    assert not bool(run(jnp.asarray([0.1, 1.0, 0.0, 0.3])))


def test_sleep_mlp_checks_every_input_value():
    model = MLP((4, 3, 2), key=jax.random.key(0))
    hp = SRCHparams.create(100.0, 0.01, 0.001, (1.0, 1.0), 1.0)
    data = jnp.array([[0.0, 1.4, 0.2, 0.2], [0.4, 0.0, 0.2, 0.2]])  # mean in [0, 1], one value above 1
    with pytest.raises(ValueError, match=r"sleep data must be finite and in \[0, 1\]"):
        src_sleep_mlp(model, data, hp, jax.random.key(0), 1)


@pytest.mark.parametrize(
    "args,message",
    [
        ((28, 28, 29), "size 29 is larger than the 28x28 image"),
        ((28, 28, 0), "size must be a positive integer"),
        ((28, -1, 5), "width must be a positive integer"),
        ((28, 28, 2.5), "size must be a positive integer"),
        ((10, 40, 11), "size 11 is larger than the 10x40 image"),
    ],
)
def test_input_window_refuses_impossible_shapes(args, message):
    with pytest.raises(ValueError, match=message):
        InputWindow(*args)


def test_non_square_image_window():
    window = InputWindow(4, 6, 3)
    pixels, _ = input_draws(jax.random.key(0), jnp.zeros(24), reference_hparams(), window, num=200)
    rows, cols = np.asarray(pixels) // 6, np.asarray(pixels) % 6
    assert rows.max() == 3 and cols.max() == 5 and rows.min() == 0 and cols.min() == 0


def test_relu_is_recognised_by_behaviour_and_scan_is_refused():
    def mlp(activation, **kwargs):
        return eqx.nn.MLP(
            4, 2, 3, 2, activation=activation, use_bias=False, use_final_bias=False, key=jax.random.key(0), **kwargs
        )

    check_src_compatible(mlp(lambda x: jnp.maximum(x, 0.0)))
    check_src_compatible(mlp(jax.nn.relu))
    with pytest.raises(TypeError, match="does not act as max"):
        check_src_compatible(mlp(jax.nn.leaky_relu))
    with pytest.raises(TypeError, match="does not act as max"):
        check_src_compatible(mlp(lambda x: jnp.maximum(x, 0.0) * 1.01))
    with pytest.raises(TypeError, match="scan=True"):
        check_src_compatible(mlp(jax.nn.relu, scan=True))


def test_traced_window_size_and_weight_scale():
    """window_size = window.size and weight_scale = 0.001 give the reference sleep exactly; a smaller
    traced window only fires inside its top-left square, at corners over the whole larger range."""
    rng = np.random.default_rng(1)
    weights = random_network(rng, (784, 16, 10), jnp.float32, -0.01, 0.012)
    x = jnp.asarray(rng.random(784) * 0.5, jnp.float32)
    hp = SRCHparams.create(240.0, 0.03, 0.003, (0.3, 0.2), 20.0)
    explicit = hp._replace(window_size=jnp.asarray(11, jnp.int32), weight_scale=jnp.asarray(0.001, jnp.float32))
    run = jax.jit(lambda hp: src_sleep(weights, x, jnp.ones(2), hp, jax.random.key(0), 100, MNIST_WINDOW))
    (a, sa), (b, sb) = run(hp), run(explicit)
    np.testing.assert_array_equal(sa.spikes, sb.spikes)
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)
    small = hp._replace(window_size=jnp.asarray(5, jnp.int32))
    pixels, fires = input_draws(
        jax.random.key(0), jnp.ones(784), small._replace(max_rate=jnp.float32(1e6)), MNIST_WINDOW, 300
    )
    fires = np.asarray(fires).reshape(300, 11, 11)
    assert fires[:, :5, :5].all() and not fires[:, 5:, :].any() and not fires[:, :, 5:].any()
    corner = np.asarray(pixels)[:, 0]
    assert (corner // 28).max() == 23 and (corner % 28).max() == 23  # 28 - 5: misses it with p ~ 3e-6
    with pytest.raises(ValueError, match="window_size must be from 1"):
        src_sleep(weights, x, jnp.ones(2), hp._replace(window_size=jnp.asarray(12)), jax.random.key(0), 1, MNIST_WINDOW)
    with pytest.raises(ValueError, match="window_size needs an InputWindow"):
        src_sleep(weights, x, jnp.ones(2), small, jax.random.key(0), 1)
