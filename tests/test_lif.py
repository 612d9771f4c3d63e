"""The LIF step against hand-computed trajectories and exact spike counts."""

import jax.numpy as jnp
import numpy as np
import pytest

from sleepjax.spiking.lif import LIFParams, lif_init, lif_step

pytestmark = pytest.mark.usefixtures("strict_dtypes")


def run(params, current, num_steps, dt, reset="zero", n=1):
    state = lif_init(n)
    vs, spikes = [], []
    for _ in range(num_steps):
        state, s = lif_step(state, jnp.full((n,), current, jnp.float32), params, dt, reset)
        vs.append(float(state.v[0]))
        spikes.append(bool(s[0]))
    return np.array(vs), np.array(spikes)


def test_leaky_trajectory_matches_hand_computation():
    # tau_m = 0.1, threshold 1, dt = 0.01, I = 50, v0 = 0; v <- v + dt (I - v / tau_m):
    #   v1 = 0.01 * 50                       = 0.5
    #   v2 = 0.5 + 0.01 * (50 - 5)           = 0.95
    #   v3 = 0.95 + 0.01 * (50 - 9.5) = 1.355 >= 1: spike, zero reset -> 0, subtract reset -> 0.355
    #   v4 = 0.5 again after the zero reset
    params = LIFParams(tau_m=0.1, threshold=1.0)
    v, s = run(params, 50.0, 4, 0.01)
    np.testing.assert_allclose(v, [0.5, 0.95, 0.0, 0.5], rtol=1e-6)
    np.testing.assert_array_equal(s, [False, False, True, False])
    v, s = run(params, 50.0, 3, 0.01, reset="subtract")
    np.testing.assert_allclose(v, [0.5, 0.95, 0.355], rtol=1e-5)
    np.testing.assert_array_equal(s, [False, False, True])


def test_refractory_period_blocks_exactly_its_steps():
    # Same neuron, t_ref = 2 dt: spike at step 3, held at v_reset = -0.1 on steps 4 and 5, integrating
    # again on step 6: v6 = -0.1 + 0.01 * (50 + 1) = 0.41.
    params = LIFParams(tau_m=0.1, threshold=1.0, v_reset=-0.1, t_ref=0.02)
    v, s = run(params, 50.0, 6, 0.01)
    np.testing.assert_allclose(v, [0.5, 0.95, -0.1, -0.1, -0.1, 0.41], rtol=1e-5)
    np.testing.assert_array_equal(s, [False, False, True, False, False, False])


def test_perfect_integrator_rates():
    # No leak, dt = 2**-7, I = 40: each step adds exactly 5/16. Over 100 steps the input totals 31.25
    # thresholds: the subtract reset keeps the overshoot and spikes 31 times (rate I / threshold); the
    # zero reset crosses every 4 steps (1.25 >= 1, losing 0.25) and spikes 25 times.
    params = LIFParams(tau_m=jnp.inf, threshold=1.0)
    _, s = run(params, 40.0, 100, 2.0**-7, reset="subtract")
    assert s.sum() == 31
    _, s = run(params, 40.0, 100, 2.0**-7, reset="zero")
    assert s.sum() == 25


def test_subthreshold_potential_settles_at_tau_times_current():
    # tau_m I = 0.05 * 10 = 0.5 < threshold: never spikes. Euler from 0 gives
    # v_n = tau_m I (1 - (1 - dt / tau_m)^n) = 0.5 (1 - 0.98^n), approaching tau_m I.
    v, s = run(LIFParams(tau_m=0.05, threshold=1.0), 10.0, 400, 1e-3)
    assert not s.any()
    np.testing.assert_allclose(v[[0, 99, 399]], 0.5 * (1 - 0.98 ** np.array([1, 100, 400])), rtol=1e-5)


def test_neurons_are_independent_and_per_neuron_params_broadcast():
    params = LIFParams(tau_m=jnp.array([0.1, jnp.inf], jnp.float32), threshold=jnp.array([1.0, 0.5], jnp.float32))
    state = lif_init(2)
    state, s = lif_step(state, jnp.array([50.0, 60.0], jnp.float32), params, 0.01)
    # neuron 0 as in the hand computation; neuron 1: 0.6 >= 0.5 spikes at once.
    np.testing.assert_allclose(state.v, [0.5, 0.0], rtol=1e-6)
    np.testing.assert_array_equal(s, [False, True])


def test_unknown_reset_is_refused():
    with pytest.raises(ValueError, match="unknown LIF reset 'hard'"):
        lif_step(lif_init(1), jnp.zeros(1), LIFParams(0.1, 1.0), 0.01, reset="hard")
