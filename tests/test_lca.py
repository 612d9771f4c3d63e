"""The LCA against a hand-solved sparse code, the Hebbian rule against hand computation, and sleep."""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax import lax

from sleepjax.lca.learning import RULES, check_rule, hebbian_update, learn_steps, presynaptic
from sleepjax.lca.model import NeuronConfig, infer, rate_code, spiking_init, spiking_step
from sleepjax.lca.phases import DictionaryScores, evaluate_dictionary
from sleepjax.lca.sleep import NoiseSleepHparams, noise_level, noise_sleep

pytestmark = pytest.mark.usefixtures("strict_dtypes")

# A 2-D input and four unit features:
#   phi_1 = (1, 0), phi_2 = (0.6, 0.8), phi_3 = (0, 1), phi_4 = (-0.6, 0.8);  x = (1, 1), lam = 0.1.
# Non-negative lasso: min 0.5 |x - phi a|^2 + lam sum(a), a >= 0. Guess the active set {1, 2}: then
#   G a = phi^T x - lam with G = [[1, 0.6], [0.6, 1]], phi^T x = (1, 1.4), so (0.9, 1.3) = G a;
#   det G = 0.64, a_1 = (0.9 - 0.6 * 1.3) / 0.64 = 0.1875, a_2 = (1.3 - 0.6 * 0.9) / 0.64 = 1.1875.
# Check (KKT): e = x - phi a = (1 - 0.1875 - 0.7125, 1 - 0.95) = (0.1, 0.05);
#   phi^T e = (0.1, 0.06 + 0.04, 0.05, -0.06 + 0.04) = (0.1, 0.1, 0.05, -0.02):
#   = lam on the active features, < lam on the others, so a = (0.1875, 1.1875, 0, 0) is the solution.
# Without lateral inhibition a plain soft threshold of phi^T x would give (0.9, 1.3, 0.9, 0).
PHI = jnp.array([[1.0, 0.6, 0.0, -0.6], [0.0, 0.8, 1.0, 0.8]], jnp.float32)
X = jnp.array([1.0, 1.0], jnp.float32)
LAM = 0.1
CODE = np.array([0.1875, 1.1875, 0.0, 0.0])


def test_rate_lca_converges_to_the_hand_solved_code():
    code = rate_code(PHI, X, LAM, tau=0.01, dt=0.001, num_steps=3000)
    np.testing.assert_allclose(code, CODE, atol=1e-4)


def test_spiking_rates_approach_the_code():
    # Fine spikes (threshold 0.001 code units x s) and a weak leak (extra threshold ~ 0.001 / 2 s):
    # the rate code must sit within 0.01 of the lasso solution, with the right active set.
    cfg = NeuronConfig(dt=1e-4, tau_m=1.0, tau_s=0.02, threshold=0.001, lam=LAM)
    out = infer(PHI, X, cfg, num_steps=20000, readout_steps=10000)
    np.testing.assert_allclose(out.code, CODE, atol=0.01)
    np.testing.assert_array_equal(out.active, [True, True, False, False])


def test_hebbian_update_one_atom():
    # phi = (0.6, 0.8), x = (1, 2), a = 0.5: e = x - phi a = (0.7, 1.6);
    # phi + 0.1 * e * a = (0.6 + 0.035, 0.8 + 0.08) = (0.635, 0.88).
    phi = jnp.array([[0.6], [0.8]], jnp.float32)
    a = jnp.array([0.5], jnp.float32)
    e = jnp.array([1.0, 2.0], jnp.float32) - phi @ a
    np.testing.assert_allclose(hebbian_update(phi, e, a, 0.1), [[0.635], [0.88]], rtol=1e-6)


def test_online_learning_one_atom_three_steps():
    # One feature phi = (1, 0), x = (3, 1); dt = 0.25, tau_s = 1, threshold 0.5, lam = 1, no leak,
    # eta = 0.4 (eta dt = 0.1). Drive I = phi.e + a - lam; v += dt I; spike at 0.5, subtract reset;
    # a += dt / tau_s (threshold / dt * spike - a); phi += 0.1 e a with e, a from the start of the step.
    # step 1: a = 0, e = (3, 1), I = 2, v = 0.5 spike -> 0; a = 0.5; phi unchanged (a was 0)
    # step 2: e = (2.5, 1), I = 2.5 + 0.5 - 1 = 2, v = 0.5 spike -> 0; a = 0.5 + 0.25 (2 - 0.5) = 0.875;
    #         phi = (1, 0) + 0.1 * 0.5 * (2.5, 1) = (1.125, 0.05)
    # step 3: phi a = (0.984375, 0.04375), e = (2.015625, 0.95625), phi.e = 2.315390625,
    #         I = 2.315390625 + 0.875 - 1 = 2.190390625, v = 0.54759765625 spike -> 0.04759765625;
    #         phi += 0.1 * 0.875 * e = (1.125 + 0.1763671875, 0.05 + 0.0836718750)
    cfg = NeuronConfig(dt=0.25, tau_m=jnp.inf, tau_s=1.0, threshold=0.5, lam=1.0)
    phi = jnp.array([[1.0], [0.0]], jnp.float32)
    inputs = jnp.tile(jnp.array([3.0, 1.0], jnp.float32), (3, 1))
    phi, state, count = learn_steps(phi, spiking_init(1), inputs, cfg, 0.4, "trace")
    np.testing.assert_allclose(phi[:, 0], [1.3013671875, 0.1336718750], rtol=1e-6)
    np.testing.assert_allclose(state.a, [1.15625], rtol=1e-6)
    np.testing.assert_allclose(state.lif.v, [0.04759765625], rtol=1e-5)
    assert int(count[0]) == 3


def test_spike_rule_one_atom_five_steps_with_delayed_drive():
    # Same feature and input as above; threshold 0.8, eta 0.5, delay 1. The neuron integrates the drive
    # I = phi.e + a - lam of the previous step (none at step 1); each spike moves the feature by
    # eta * threshold * e = 0.4 e, with e from the start of the step (before the spike reaches a).
    # step 1: a = 0, e = (3, 1), I = 2 (sent on); v += 0.25 * 0 = 0; no spike
    # step 2: v = 0.25 * 2 = 0.5; no spike
    # step 3: v = 1.0 spike -> 0.2; phi = (1, 0) + 0.4 (3, 1) = (2.2, 0.4); a = 0.25 * 0.8 / 0.25 = 0.8
    # step 4: phi a = (1.76, 0.32), e = (1.24, 0.68), phi.e = 2.728 + 0.272 = 3, I = 3 + 0.8 - 1 = 2.8;
    #         v = 0.2 + 0.25 * 2 (step 3's I) = 0.7: no spike, phi unchanged (the trace rule would move
    #         it by 0.125 * 0.8 * e); a = 0.8 * 0.75 = 0.6
    # step 5: phi a = (1.32, 0.24), e = (1.68, 0.76), phi.e = 3.696 + 0.304 = 4, I = 4 + 0.6 - 1 = 3.6;
    #         v = 0.7 + 0.25 * 2.8 = 1.4 spike -> 0.6; phi = (2.2 + 0.672, 0.4 + 0.304) = (2.872, 0.704);
    #         a = 0.6 + 0.25 (3.2 - 0.6) = 1.25
    # (With delay 0 step 2 would already spike, at v = 1.0.)
    cfg = NeuronConfig(dt=0.25, tau_m=jnp.inf, tau_s=1.0, threshold=0.8, lam=1.0, delay=1)
    phi = jnp.array([[1.0], [0.0]], jnp.float32)
    inputs = jnp.tile(jnp.array([3.0, 1.0], jnp.float32), (5, 1))
    phi, state, count = learn_steps(phi, spiking_init(1), inputs, cfg, 0.5, "spike")
    np.testing.assert_allclose(phi[:, 0], [2.872, 0.704], rtol=1e-6)
    np.testing.assert_allclose(state.a, [1.25], rtol=1e-6)
    np.testing.assert_allclose(state.lif.v, [0.6], rtol=1e-5)
    np.testing.assert_allclose(state.current, [3.6], rtol=1e-6)
    assert int(count[0]) == 2


def test_delayed_neurons_ignore_the_input_of_their_own_step():
    # With delay 1 the spikes of step t depend on inputs up to t - 1 only: two input sequences that
    # differ in their last step give the same spikes at every step (and with delay 0 they do not).
    phi = long_feature_dictionary()
    inputs = 3.0 * jax.random.normal(jax.random.key(5), (40, 16), jnp.float32)
    changed = inputs.at[-1].add(100.0 * phi[:, 0])  # drives neuron 0 over threshold within one step

    def spikes(cfg, xs):
        def step(state, x):
            state, s, _ = spiking_step(phi, x, state, cfg)
            return state, s

        return lax.scan(step, spiking_init(8), xs)[1]

    delayed = sleep_cfg()._replace(delay=1)
    np.testing.assert_array_equal(spikes(delayed, inputs), spikes(delayed, changed))
    assert int(spikes(delayed, inputs).sum()) > 0
    immediate = sleep_cfg()
    assert not np.array_equal(spikes(immediate, inputs)[-1], spikes(immediate, changed)[-1])


def test_spike_and_trace_rules_have_the_same_rate_on_a_steady_residual():
    # One neuron, phi = (1, 0), x = (3, 1), lam = 1, no leak, phi held fixed: the rate code is
    # phi.x - lam = 2 (with a = 2: e = (1, 1), phi.e = 1 = lam). Over T steps from rest the trace
    # a' = a + dt / tau_s (threshold s / dt - a) sums to
    #     dt * sum_t a_t = threshold * N - tau_s * a_T          (N spikes; telescoping a_T - a_0),
    # and the spike rule's factor threshold * s / dt sums to threshold * N / dt: the two updates per
    # second differ by tau_s * a_T / (T dt) only, and both tend to the rate code.
    cfg = NeuronConfig(dt=1e-3, tau_m=jnp.inf, tau_s=0.02, threshold=0.01, lam=1.0)
    phi = jnp.array([[1.0], [0.0]], jnp.float32)
    x = jnp.array([3.0, 1.0], jnp.float32)
    steps = 10000

    def step(state, _):
        new, spikes, _ = spiking_step(phi, x, state, cfg)
        return new, (presynaptic(state.a, spikes, cfg, "trace"), presynaptic(state.a, spikes, cfg, "spike"), spikes)

    state, (trace, spike, fired) = lax.scan(step, spiking_init(1), None, length=steps)
    n = int(fired.sum())
    np.testing.assert_allclose(1e-3 * spike.sum(), 0.01 * n, rtol=1e-5)
    np.testing.assert_allclose(1e-3 * trace.sum(), 0.01 * n - 0.02 * float(state.a[0]), rtol=1e-4)
    seconds = steps * 1e-3
    np.testing.assert_allclose(1e-3 * spike.sum() / seconds, 2.0, rtol=0.005)
    np.testing.assert_allclose(1e-3 * trace.sum() / seconds, 2.0, rtol=0.005)


def test_unknown_rule_is_refused():
    assert set(RULES) == {"spike", "trace"} and check_rule("spike") == "spike"
    with pytest.raises(ValueError, match="unknown LCA learning rule 'oja'; choose from spike, trace"):
        learn_steps(PHI, spiking_init(4), X[None], sleep_cfg(), 1.0, "oja")


def test_noise_level_is_the_clipped_sinusoid():
    # offset 1, amplitude 2, 1 Hz: A(0.25) = 1 + 2 = 3, A(0.75) = max(1 - 2, 0) = 0, A(0) = 1.
    hp = NoiseSleepHparams(frequency=1.0, amplitude=2.0, offset=1.0, duration=1.0, eta=1.0)
    np.testing.assert_allclose(noise_level(jnp.array([0.0, 0.25, 0.75], jnp.float32), hp), [1, 3, 0], atol=1e-6)


def sleep_cfg(delay=0):
    return NeuronConfig(dt=1e-3, tau_m=0.02, tau_s=0.03, threshold=0.005, lam=2.5, delay=delay)


# The rule with the network it is meant for: (rule, NeuronConfig.delay).
RULE_NETWORKS = pytest.mark.parametrize("rule, delay", [("trace", 0), ("spike", 1)])


def long_feature_dictionary():
    """Eight unit features in 16-D and one of norm 4, which noise drives hardest."""
    phi = jax.random.normal(jax.random.key(3), (16, 8), jnp.float32)
    phi = phi / jnp.linalg.norm(phi, axis=0, keepdims=True)
    return phi.at[:, 0].multiply(4.0)


@RULE_NETWORKS
def test_zero_amplitude_noise_leaves_the_dictionary_unchanged(rule, delay):
    # A tiny lam, so that even weak noise would make neurons fire (and learn): with zero input the
    # drive is -lam, nothing fires, the code stays 0 and so does every update.
    cfg = sleep_cfg(delay)._replace(lam=0.01)
    phi = long_feature_dictionary()
    silent = NoiseSleepHparams(frequency=5.0, amplitude=0.0, offset=0.0, duration=0.3, eta=3.0)
    slept, count = noise_sleep(phi, silent, cfg, jax.random.key(0), 300, rule)
    np.testing.assert_array_equal(slept, phi)
    assert int(count.sum()) == 0
    weak, count = noise_sleep(phi, silent._replace(offset=0.5), cfg, jax.random.key(0), 300, rule)
    assert int(count.sum()) > 0 and not np.array_equal(weak, phi)


@RULE_NETWORKS
def test_noise_sleep_shrinks_the_feature_that_fires(rule, delay):
    # White noise is uncorrelated with the code (or spike) it is paired with, so on average the rule
    # is -eta phi a a^T: the long feature (norm 4), which fires, shrinks (to 3.56 with the trace rule
    # and 3.63 with the spike rule at this seed); features that stay silent keep their norms.
    phi = long_feature_dictionary()
    hp = NoiseSleepHparams(frequency=5.0, amplitude=4.0, offset=4.0, duration=2.0, eta=1.0)
    slept, count = noise_sleep(phi, hp, sleep_cfg(delay), jax.random.key(0), 2000, rule)
    norms = jnp.linalg.norm(slept, axis=0)
    assert int(count[0]) > 0
    assert float(norms[0]) < 3.8
    silent = np.asarray(count == 0)
    np.testing.assert_allclose(np.asarray(norms)[silent], 1.0, rtol=1e-5)


def test_spike_rule_with_same_step_drive_lengthens_the_feature_that_fires_on_noise():
    # With delay 0 a spike is caused in part by the noise of its own step, which points along the
    # feature, and the spike rule pairs the spike with that noise: the long feature grows in sleep
    # (to 5.47 here, where the delayed network of the test above shrinks it to 3.63).
    phi = long_feature_dictionary()
    hp = NoiseSleepHparams(frequency=5.0, amplitude=4.0, offset=4.0, duration=2.0, eta=1.0)
    slept, count = noise_sleep(phi, hp, sleep_cfg(0), jax.random.key(0), 2000, "spike")
    assert int(count[0]) > 0
    assert float(jnp.linalg.norm(slept[:, 0])) > 4.5


@RULE_NETWORKS
def test_duration_masks_the_steps_past_it(rule, delay):
    # 0.1 s of a 300-step scan equals a 100-step scan.
    phi = long_feature_dictionary()
    hp = NoiseSleepHparams(frequency=5.0, amplitude=4.0, offset=4.0, duration=0.1, eta=3.0)
    short, count_short = noise_sleep(phi, hp, sleep_cfg(delay), jax.random.key(0), 100, rule)
    masked, count_masked = noise_sleep(phi, hp, sleep_cfg(delay), jax.random.key(0), 300, rule)
    assert int(count_short.sum()) > 0
    np.testing.assert_array_equal(count_short, count_masked)
    np.testing.assert_allclose(short, masked, rtol=1e-6)


@RULE_NETWORKS
def test_vmapped_sleep_settings_equal_runs_one_by_one(rule, delay):
    phi = long_feature_dictionary()
    settings = [
        NoiseSleepHparams(frequency=2.0, amplitude=4.0, offset=4.0, duration=0.3, eta=3.0),
        NoiseSleepHparams(frequency=10.0, amplitude=6.0, offset=3.0, duration=0.2, eta=1.0),
        NoiseSleepHparams(frequency=0.0, amplitude=0.0, offset=5.0, duration=0.3, eta=3.0),
    ]
    stacked = jax.tree.map(lambda *v: jnp.array(v, jnp.float32), *settings)
    run = functools.partial(noise_sleep, cfg=sleep_cfg(delay), key=jax.random.key(1), max_steps=300, rule=rule)
    batched, batched_count = jax.jit(jax.vmap(lambda hp: run(phi, hp)))(stacked)
    for i, hp in enumerate(settings):
        one, one_count = jax.jit(lambda hp: run(phi, hp))(jax.tree.map(lambda v: jnp.float32(v), hp))
        assert int(one_count.sum()) > 0
        np.testing.assert_array_equal(batched_count[i], one_count)
        np.testing.assert_allclose(batched[i], one, rtol=1e-5, atol=1e-6)


def test_evaluation_of_a_known_dictionary():
    # phi = 0: nothing fires, the reconstruction is 0, so the relative error is exactly 1.
    # phi = 1.5 I (d = n = 4): the code is (1.5 xi - lam)_+ / 2.25 per neuron; drives 1.5 xi of 6, 0.75,
    # -3, 4.5 and 0, 0, 0, 6 against lam = 2.5 give codes 1.56, 0, 0, 0.89 and 0, 0, 0, 1.56 (311 and
    # 178 Hz: several spikes in the 30 ms read-out): 3 of 8 neuron-patches fire.
    cfg = NeuronConfig(dt=1e-3, tau_m=0.02, tau_s=0.03, threshold=0.005, lam=2.5)
    test = jax.random.normal(jax.random.key(0), (6, 4), jnp.float32)
    noise = jnp.array([[4.0, 0.5, -2.0, 3.0], [0.0, 0.0, 0.0, 4.0]], jnp.float32)
    zero = evaluate_dictionary(jnp.zeros((4, 4), jnp.float32), test, noise, cfg, 60, 30)
    assert isinstance(zero, DictionaryScores)
    assert float(zero.recon_error) == 1.0 and float(zero.sparsity) == 0 and float(zero.noise_fire_fraction) == 0
    scaled = evaluate_dictionary(1.5 * jnp.eye(4, dtype=jnp.float32), test, noise, cfg, 60, 30)
    np.testing.assert_allclose(scaled.noise_fire_fraction, 3 / 8)
    np.testing.assert_allclose(scaled.norms, [1.5, 1.5, 1.5, 1.5])
