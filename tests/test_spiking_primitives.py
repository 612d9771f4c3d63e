"""Spiking primitives against hand computation and direct transcriptions of their equations."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from sleepjax.spiking import (
    PAIRING_RULES,
    RulkovParams,
    RulkovState,
    StdpParams,
    adapt_target,
    all_pairs_init,
    all_pairs_step,
    delays,
    mirrored_inhibition,
    poisson_train,
    pulse,
    rewarded_update,
    rulkov_rest,
    rulkov_step,
    scale_inputs,
    stdp_init,
    stdp_step,
    store_init,
    store_push,
    synaptic_current,
)

pytestmark = pytest.mark.usefixtures("strict_dtypes")


def rulkov_reference(v, v_prev, i, i_syn, p):
    """The map of the spec written out branch by branch in plain Python floats."""
    u = i + p.beta_e * i_syn
    if v <= 0:
        v_new = p.alpha / (1 - v) + u
    elif v < p.alpha + u and v_prev <= 0:
        v_new = p.alpha + u
    else:
        v_new = -1.0
    i_new = i - p.mu * (v + 1) + p.mu * p.sigma + p.mu * p.sigma_e * i_syn
    return v_new, v, i_new


def test_rulkov_one_step_by_hand():
    p = RulkovParams()
    # V = -0.5, I = -2.5, I_syn = 0.2: u = -2.5 + 0.133 * 0.2 = -2.4734
    # V' = 3.65 / 1.5 - 2.4734 = -0.040066...; I' = -2.5 - 0.0005 * 0.5 + 0.0005 * 0.06 + 0.0005 * 0.2
    state = RulkovState(jnp.array(-0.5), jnp.array(-0.6), jnp.array(-2.5))
    new, spike = rulkov_step(state, jnp.array(0.2), p)
    assert float(new.v) == pytest.approx(3.65 / 1.5 - 2.4734, abs=1e-6)
    assert float(new.i) == pytest.approx(-2.5 - 0.00025 + 0.00003 + 0.0001, abs=1e-6)
    assert float(new.v_prev) == -0.5
    assert not bool(spike)
    # sigma_e scales the input's drive of the slow variable: sigma_e = 2 adds 0.0005 * 2 * 0.2 instead
    new, _ = rulkov_step(state, jnp.array(0.2), p._replace(sigma_e=2.0))
    assert float(new.i) == pytest.approx(-2.5 - 0.00025 + 0.00003 + 0.0002, abs=1e-6)


def test_rulkov_follows_the_map_on_a_known_input_through_spikes():
    """A 2000-step run under a step current: every step equals the reference map, and it spikes
    (each spike goes positive, then to the peak alpha + u, then to -1)."""
    jax.config.update("jax_enable_x64", True)
    try:
        p = RulkovParams()
        state = rulkov_rest((), p, jnp.float64)
        current = np.where(np.arange(2000) >= 100, 0.4, 0.0)
        ref = (float(state.v), float(state.v_prev), float(state.i))
        step = jax.jit(lambda s, c: rulkov_step(s, c, p))
        spikes = 0
        for c in current:
            state, spike = step(state, jnp.asarray(c))
            ref = rulkov_reference(*ref, c, p)
            np.testing.assert_allclose((float(state.v), float(state.v_prev), float(state.i)), ref, rtol=1e-12)
            spikes += int(spike)
        assert spikes >= 3
    finally:
        jax.config.update("jax_enable_x64", False)


def test_rulkov_branches():
    p = RulkovParams()
    # third branch is taken after the peak: V > 0 with V_prev > 0 gives -1
    new, _ = rulkov_step(RulkovState(jnp.array(1.0), jnp.array(0.5), jnp.array(-2.8)), jnp.array(0.0), p)
    assert float(new.v) == -1.0
    # ... even when V lies below the peak value alpha + u = 0.85
    new, _ = rulkov_step(RulkovState(jnp.array(0.3), jnp.array(0.5), jnp.array(-2.8)), jnp.array(0.0), p)
    assert float(new.v) == -1.0
    # second branch: V in (0, alpha + u) and V_prev <= 0 gives the peak alpha + u = 3.65 - 2.8
    new, spike = rulkov_step(RulkovState(jnp.array(0.3), jnp.array(-0.5), jnp.array(-2.8)), jnp.array(0.0), p)
    assert float(new.v) == pytest.approx(0.85, abs=1e-6)
    assert not bool(spike)  # the spike was counted when V first went positive
    # V above the peak value with V_prev <= 0: third branch too
    new, _ = rulkov_step(RulkovState(jnp.array(0.9), jnp.array(-0.5), jnp.array(-2.8)), jnp.array(0.0), p)
    assert float(new.v) == -1.0


def test_rulkov_rests_silently_without_input():
    p = RulkovParams()
    state = rulkov_rest((3,), p)

    def body(s, _):
        s, spike = rulkov_step(s, jnp.zeros(3), p)
        return s, spike

    final, spikes = jax.lax.scan(body, state, None, length=3000)
    assert not bool(spikes.any())
    np.testing.assert_allclose(final.v, state.v, atol=1e-5)


def test_synaptic_current_sign():
    # g_syn 2, g 0.5, v -0.9, e_rev 0: -2 * 0.5 * (-0.9 - 0) = 0.9 (depolarising)
    assert float(synaptic_current(jnp.array(0.5), jnp.array(-0.9), 2.0, 0.0)) == pytest.approx(0.9)


def run_stdp(pre_times, post_times, n_steps=300, pairing="nearest"):
    init, step = PAIRING_RULES[pairing]
    state = init(1, 1, StdpParams())
    total = jnp.zeros((1, 1))
    for t in range(n_steps):
        state, d = step(state, jnp.array([t in pre_times]), jnp.array([t in post_times]))
        total = total + d
    return float(total[0, 0])


@pytest.mark.parametrize("pairing", ["nearest", "all"])
def test_stdp_pair_traces_by_hand(pairing):
    """One pair of spikes: both pairings give the kernel. Catches a wrong sign, time constant or
    window edge (the all-pairs sum dropping a spike one step early or late: 120 / 121 steps)."""
    # pre at step 10, post at step 30: dt = 20 steps = 10 ms -> +0.04 exp(-10 / 40) = 0.0311520
    assert run_stdp({10}, {30}, pairing=pairing) == pytest.approx(0.04 * math.exp(-0.25), rel=1e-5)
    # post before pre by the same interval -> -0.0311520
    assert run_stdp({30}, {10}, pairing=pairing) == pytest.approx(-0.04 * math.exp(-0.25), rel=1e-5)
    # 60 ms = 120 steps is still inside the window, 121 steps is not
    assert run_stdp({0}, {120}, pairing=pairing) == pytest.approx(0.04 * math.exp(-1.5), rel=1e-5)
    assert run_stdp({0}, {121}, pairing=pairing) == 0.0
    assert run_stdp({121}, {0}, pairing=pairing) == 0.0
    # simultaneous spikes are unordered
    assert run_stdp({50}, {50}, pairing=pairing) == 0.0


def test_stdp_pairings_differ_on_two_pre_spikes():
    """pre at 10 and 22, post at 30 (dt 10 and 4 ms): nearest pairs the post spike with the pre spike
    at 22 only, all-pairs with both. Catches the two pairings swapped or all-pairs keeping only the last
    spike."""
    assert run_stdp({10, 22}, {30}) == pytest.approx(0.04 * math.exp(-4 / 40), rel=1e-5)
    both = 0.04 * (math.exp(-10 / 40) + math.exp(-4 / 40))
    assert run_stdp({10, 22}, {30}, pairing="all") == pytest.approx(both, rel=1e-5)


def test_all_pairs_equals_every_pair_within_the_window_summed_by_hand():
    """Random trains of 3 pre and 2 post neurons over 400 steps (spikes repeat inside the window, and
    the bit history runs through its 32-bit words several times) against the double loop over every pair of spike times.
    Catches a spike that never leaves the window, leaves it a step early or late, or is counted twice."""
    rng = np.random.default_rng(0)
    pre, post = rng.random((400, 3)) < 0.05, rng.random((400, 2)) < 0.08
    state, total = all_pairs_init(3, 2), np.zeros((3, 2))
    for t in range(400):
        state, d = all_pairs_step(state, jnp.asarray(pre[t]), jnp.asarray(post[t]))
        total += np.asarray(d)
    expected = np.zeros((3, 2))
    for (tp, i), (tq, j) in ((a, b) for a in zip(*np.nonzero(pre)) for b in zip(*np.nonzero(post))):
        lag = tq - tp  # steps from the pre to the post spike
        if lag != 0 and abs(lag) <= 120:
            expected[i, j] += math.copysign(0.04, lag) * math.exp(-abs(lag) * 0.5 / 40)
    np.testing.assert_allclose(total, expected, rtol=1e-4, atol=1e-6)


def test_independent_trains_leave_no_all_pairs_trace_but_a_nearest_one():
    """Independent Poisson trains, pre at 5 Hz, post at 50 Hz (as asleep, when outputs fire much more
    than hidden neurons), 100 s: all-pairs gives ~0 per pre spike, nearest ~+0.75 K (a pre spike is
    paired with every later post spike but only the last earlier one). Catches the potentiation bias
    that made sleep grow every weak synapse (README, "Spike pairing") coming back into all-pairs."""
    k_pre, k_post = jax.random.split(jax.random.key(1))
    pre = poisson_train(k_pre, jnp.full((20,), 5.0), 200_000, 0.5)
    post = poisson_train(k_post, jnp.full((1,), 50.0), 200_000, 0.5)
    per_spike = {}
    for pairing, (init, step) in PAIRING_RULES.items():
        _, d = jax.lax.scan(lambda s, x, step=step: step(s, *x), init(20, 1, StdpParams()), (pre, post))
        per_spike[pairing] = float(jnp.sum(d)) / int(jnp.sum(pre)) / 0.04
    assert abs(per_spike["all"]) < 0.1
    assert per_spike["nearest"] > 0.5


def test_stdp_two_synapses_outer_structure():
    """Two presynaptic neurons, one postsynaptic: pre 0 at step 0, pre 1 at step 40, post at step 20.
    Synapse 0: +0.04 exp(-10/40); synapse 1: post 20 steps before pre -> -0.04 exp(-10/40)."""
    state = stdp_init(2, 1)
    total = jnp.zeros((2, 1))
    for t in range(60):
        pre = jnp.array([t == 0, t == 40])
        state, d = stdp_step(state, pre, jnp.array([t == 20]))
        total = total + d
    np.testing.assert_allclose(total[:, 0], [0.04 * math.exp(-0.25), -0.04 * math.exp(-0.25)], rtol=1e-5)


def test_eligibility_store_forgets_after_six_cycles():
    store = store_push(store_init(6, 1, 1), jnp.ones((1, 1)))
    w, w0 = jnp.ones((1, 1)), jnp.ones(1)
    for _ in range(6):  # still acting after 0, 1, ..., 5 later pushes
        assert float(rewarded_update(w, store, 1.0, w0, 1.0, IN_CYCLES)[0, 0]) != 1.0
        store = store_push(store, jnp.zeros((1, 1)))
    # six pushes after it, the trace is gone
    assert float(rewarded_update(w, store, 1.0, w0, 1.0, IN_CYCLES)[0, 0]) == 1.0


#: The delays ``k + c`` of the six slots counted in cycles, ``c`` = 1 (the form used before timesteps).
IN_CYCLES = delays(6, 1.0, 600, False)


def test_delays_in_timesteps_and_in_cycles_by_hand():
    """``t - t_k + c`` of each slot. In timesteps, 600-step cycles, c = 1 cycle: the trace of the current
    cycle is dated at its first step and the reward comes at its end, so 600 + 600 = 1200 steps; k
    cycles earlier, 600 k more: 1200, 1800, ..., 4200. In cycles: k + 1. Catches the trace dated at the
    reward (600 k + 600), c left in cycles (600 (k + 1) + 1) and the two forms swapped."""
    np.testing.assert_allclose(delays(6, 1.0, 600, True), [1200, 1800, 2400, 3000, 3600, 4200])
    np.testing.assert_allclose(delays(6, 1.0, 600, False), [1, 2, 3, 4, 5, 6])
    np.testing.assert_allclose(delays(3, 2.0, 200, True), [600, 800, 1000])


def test_rewarded_update_two_synapse_case_by_hand():
    """Presynaptic neuron 0 with two outputs w = [0.2, 0.3] (W_0 = 0.5), W_00 = 0.4; traces
    tr(now) = [0.04, -0.02], tr(2 cycles ago) = [0.01, 0]; S = 1, A = 0.5, c = 1.
    ratio = 0.4 / 0.5 = 0.8; D_0 = tr0 / (0 + 1) / 0.5 = [0.08, -0.04]; D_2 = tr2 / 3 / 0.5 = [0.02/3, 0]
    w0' = 0.2 (1 + 0.8 * 0.08) (1 + 0.8 * 0.02 / 3); w1' = 0.3 (1 - 0.8 * 0.04)."""
    store = store_init(6, 1, 2)
    store = store_push(store, jnp.array([[0.01, 0.0]]))
    store = store_push(store, jnp.zeros((1, 2)))
    store = store_push(store, jnp.array([[0.04, -0.02]]))
    w = rewarded_update(jnp.array([[0.2, 0.3]]), store, 1.0, jnp.array([0.4]), 0.5, IN_CYCLES)
    expected = [0.2 * (1 + 0.8 * 0.08) * (1 + 0.8 * 0.02 / 3), 0.3 * (1 - 0.8 * 0.04)]
    np.testing.assert_allclose(w[0], expected, rtol=1e-6)
    # a punishment reverses the direction of every change
    w_neg = rewarded_update(jnp.array([[0.2, 0.3]]), store, -1.0, jnp.array([0.4]), 0.5, IN_CYCLES)
    assert float(w_neg[0, 0]) < 0.2 < float(w[0, 0])


def test_rewarded_update_of_a_vanishing_neuron_stays_finite():
    """A presynaptic neuron whose summed output has decayed to nearly nothing (homeostatic rescaling
    shrinks the outputs of neurons that never earn a reward) must count as disconnected. Its W_0 / W_i
    (here 1e30) times two cycles' traces overflowed float32 to inf, and inf * 0 made NaN of its synapse
    of weight 0, which the homeostatic rescaling then spread over the whole output neuron (mistake
    caught: the guard only at exactly W_i = 0)."""
    w = jnp.array([[1e-30, 0.0], [0.2, 0.3]], jnp.float32)
    trace = jnp.array([[0.04, 0.04], [0.04, 0.0]], jnp.float32)
    store = store_push(store_push(store_init(6, 2, 2, jnp.float32), trace), trace)
    out = rewarded_update(w, store, jnp.float32(1.0), jnp.ones(2, jnp.float32), jnp.float32(1.0), IN_CYCLES)
    assert bool(jnp.all(jnp.isfinite(out)))
    np.testing.assert_array_equal(out[0], w[0])  # disconnected: unchanged
    # a live neuron as before: ratio 1 / 0.5 = 2, D = 0.04 / 1 now and 0.04 / 2 one cycle ago
    np.testing.assert_allclose(out[1], [0.2 * (1 + 2 * 0.04) * (1 + 2 * 0.02), 0.3], rtol=1e-6)


def test_scale_inputs_and_mirrored_inhibition():
    w = jnp.array([[1.0, 0.0], [3.0, 2.0]])
    # column sums 4 and 2 -> targets 2 and 1: factors 0.5 and 0.5
    np.testing.assert_allclose(scale_inputs(w, jnp.array([2.0, 1.0])), [[0.5, 0.0], [1.5, 1.0]])
    # a column summing to zero stays zero instead of becoming NaN
    np.testing.assert_array_equal(scale_inputs(jnp.zeros((2, 1)), jnp.ones(1)), jnp.zeros((2, 1)))
    np.testing.assert_allclose(mirrored_inhibition(w), [-0.5, -2.5])


def test_adapt_target():
    # goal 10 Hz, rate 5 Hz, eta 0.1: target 2 (1 + 0.1 * 0.5) = 2.1; rate 20 Hz: 2 (1 - 0.1) = 1.8
    np.testing.assert_allclose(adapt_target(jnp.array([2.0, 2.0]), jnp.array([5.0, 20.0]), 10.0, 0.1), [2.1, 1.8])


def test_poisson_rate_statistics():
    """Counts over 20000 steps of 0.5 ms (10 s) at 5, 20 and 80 Hz match rate * 10 s within 5 binomial SDs."""
    rates = jnp.array([5.0, 20.0, 80.0])
    counts = np.asarray(poisson_train(jax.random.key(0), rates, 20000, 0.5).sum(axis=0))
    p = np.asarray(rates) * 0.5e-3
    expected, sd = 20000 * p, np.sqrt(20000 * p * (1 - p))
    assert np.all(np.abs(counts - expected) < 5 * sd), (counts, expected)
    assert not bool(poisson_train(jax.random.key(1), jnp.zeros(4), 1000, 0.5).any())


def test_pulse_only_at_its_step():
    active = jnp.array([True, False, True])
    assert pulse(active, jnp.array(0)).tolist() == [True, False, True]
    assert not bool(pulse(active, jnp.array(1)).any())
