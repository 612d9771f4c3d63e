"""The foraging agent's network, move choice, learning rules and phases on small, countable cases."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from sleepjax.foraging.agent import (
    TASK1,
    TASK2,
    choose_move,
    discriminability,
    learn_input,
    learn_output,
    make_task,
    record_rate,
    reward_of,
    sleep_phase,
    sleep_rates,
    switch_store,
    task_mean_rates,
    unsupervised_task,
    wake_phase,
)
from sleepjax.foraging.environment import HORIZONTAL, NEGATIVE_DIAGONAL, NOTHING, OFFSETS, VERTICAL
from sleepjax.foraging.network import (
    Hparams,
    NetConfig,
    excitation,
    init_agent,
    release_draws,
    rest,
    simulate_cycle,
)
from sleepjax.foraging.schedules import IDLE, SLEEP, TEST, TRAIN, Durations, schedule, schedule_blocks
from sleepjax.spiking import scale_inputs, store_init

pytestmark = pytest.mark.usefixtures("strict_dtypes")

SMALL = NetConfig(n_hidden=16, steps=40)
HP = Hparams()
#: The defaults before the paper-aligned ones, by name: the tests below that pin a mechanism's numbers
#: computed by hand in that form (or recorded before) run on them.
OLD = HP._replace(discount_steps=0.0, keep_store=1.0, release_per_event=0.0, task_drive=0.0, init_power=1.0)


def test_choose_move_ties_silence_and_exploration():
    no_explore = HP._replace(explore_base=0.0, explore_step=0.0)
    counts = jnp.array([0, 3, 0, 0, 3, 0, 1, 0], jnp.int32)
    picks = {int(choose_move(counts, 7, 0, no_explore, jax.random.key(i))) for i in range(40)}
    assert picks == {1, 4}  # both tied maxima are chosen, nothing else
    silent = jnp.zeros(8, jnp.int32)
    assert {int(choose_move(silent, 5, 0, no_explore, jax.random.key(i))) for i in range(10)} == {5}
    # 1 % + 1 % per cycle without food: after 99 hungry cycles every move is random
    always = {int(choose_move(silent, 5, 99, HP, jax.random.key(i))) for i in range(200)}
    assert always == set(range(8))
    # 1 % exploration: about 2 of 200 moves differ from the repeated one
    moves = np.array([int(choose_move(silent, 5, 0, HP, jax.random.key(i))) for i in range(400)])
    assert 0 < np.sum(moves != 5) < 15


def test_reward_of_and_discriminability():
    task = make_task(*TASK1)
    assert float(reward_of(jnp.asarray(HORIZONTAL), task, HP)) == 1.0
    assert float(reward_of(jnp.asarray(NEGATIVE_DIAGONAL), task, HP)) == pytest.approx(-0.001)
    assert float(reward_of(jnp.asarray(NOTHING), task, HP)) == pytest.approx(-0.0001)
    # 3 rewarded, 1 punished, the rest nothing: 3 / 4
    eaten = jnp.array([HORIZONTAL, NOTHING, HORIZONTAL, NEGATIVE_DIAGONAL, HORIZONTAL, VERTICAL])
    assert float(discriminability(eaten, task)) == 0.75
    assert float(discriminability(jnp.full(5, NOTHING), task)) == 0.5


def test_learn_output_rewarded_then_homeostasis():
    """A trace on synapse (0, 2) with S = +1 moves weight onto it; every column still sums to its target."""
    agent = init_agent(jax.random.key(0), SMALL, HP)
    trace = jnp.zeros((16, 8)).at[0, 2].set(0.04)
    new, store = learn_output(agent, store_init(6, 16, 8), trace, 1.0, jnp.zeros(8, jnp.int32), HP, SMALL)
    np.testing.assert_allclose(new.w_out.sum(axis=0), agent.target, rtol=1e-5)
    assert float(new.w_out[0, 2] / agent.w_out[0, 2]) > 1.0
    others = np.delete(np.asarray(new.w_out[:, 2] / agent.w_out[:, 2]), 0)
    assert np.all(others < 1.0)  # the rescaling took it from the other synapses of output 2
    np.testing.assert_allclose(
        np.delete(np.asarray(new.w_out), 2, axis=1), np.delete(np.asarray(agent.w_out), 2, axis=1), rtol=1e-6
    )
    assert float(store[0, 0, 2]) == pytest.approx(0.04)


def test_rewarded_update_counts_the_delay_in_timesteps():
    """``discount_steps`` 1 (the default): the delay of the current cycle's trace is ``(0 + 1 + c)``
    cycles of 40 steps = 80 timesteps, so a trace 0.04 on synapse (0, 2) with S 1, gain 10, ratio 1 and
    the shared normalisation 1 + 0.01 (0.04 - 1) = 0.9904 grows the synapse against its column by
    1 + 10 * 0.04 / (80 * 0.9904); counted in cycles (0), by 1 + 10 * 0.04 / (1 * 0.9904). Catches
    the option ignored (either way), the steps per cycle left out, and the normalisation applied when
    switched off (``activity_norm`` 0)."""
    agent = init_agent(jax.random.key(0), SMALL, HP)
    trace = jnp.zeros((16, 8)).at[0, 2].set(0.04)

    def growth(hp):
        new, _ = learn_output(agent, store_init(6, 16, 8), trace, 1.0, jnp.zeros(8, jnp.int32), hp, SMALL)
        return float((new.w_out[0, 2] / new.w_out[1, 2]) / (agent.w_out[0, 2] / agent.w_out[1, 2]))

    assert growth(HP) == pytest.approx(1.0 + 0.4 / (80 * 0.9904), rel=1e-6)
    assert growth(HP._replace(discount_steps=0.0)) == pytest.approx(1.0 + 0.4 / 0.9904, rel=1e-6)
    # without the activity normalisation (activity_norm 0) the update is not divided: 1 + 10 * 0.04 / 80
    assert growth(HP._replace(activity_norm=0.0)) == pytest.approx(1.0 + 0.4 / 80, rel=1e-6)


def test_weight_floor_keeps_a_drained_detector_learnable():
    """``w_floor``: a hidden neuron whose weights drained to 0 stays at 0 without the bound (a
    multiplicative update never revives it, and it counts as disconnected), but with the bound its
    weights sit at the floor (rescaled with the rest of each output's input) and a rewarded trace grows
    them. Catches the bound being ignored, or applied after the rescaling (the columns would then miss
    their targets)."""
    agent = init_agent(jax.random.key(0), SMALL, OLD)
    drained = scale_inputs(agent.w_out.at[3].set(0.0), agent.target)
    agent = agent._replace(w_out=drained)
    trace = jnp.zeros((16, 8)).at[3, 5].set(0.04)
    floor = OLD._replace(w_floor=0.01)
    args = (store_init(6, 16, 8), trace, 1.0, jnp.zeros(8, jnp.int32))
    plain, _ = learn_output(agent, *args, OLD, SMALL)
    assert np.all(np.asarray(plain.w_out[3]) == 0.0)
    bounded, store = learn_output(agent, *args, floor, SMALL)
    np.testing.assert_allclose(bounded.w_out.sum(axis=0), agent.target, rtol=1e-5)
    bound = 0.01 * OLD.out_total / 16
    others = np.delete(np.asarray(bounded.w_out[3]), 5)
    np.testing.assert_allclose(
        others, bound * np.delete(np.asarray(agent.target / (agent.target + bound)), 5), rtol=1e-4
    )
    again, _ = learn_output(bounded, store, trace, 1.0, jnp.zeros(8, jnp.int32), floor, SMALL)
    assert float(again.w_out[3, 5]) > 10 * float(bounded.w_out[3, 5])  # W_i0 / W_i is large: it regrows fast


def test_sleep_ratio_is_the_exponent_of_the_presynaptic_factor():
    """``ratio_power`` p makes the update's factor (W_i0 / W_i) ** p. Hidden neuron 0 is shrunk to a
    quarter of its initial summed output, so the factor is 4 ** p: its paired synapse grows by
    ``1 + 4 ** p d`` against its column (the rescaling divides the whole column alike), i.e. the growth
    at p 0.5 and 0 is 1/2 and 1/4 of that at p 1. Asleep the phase passes ``hp.sleep_ratio``: p 0
    and p 1 sleep differently. Catches the exponent ignored, the ratio inverted, or the sleep phase not
    passing it."""
    agent = init_agent(jax.random.key(0), SMALL, OLD)
    agent = agent._replace(w_out=agent.w_out.at[0].multiply(0.25))  # W_0 = W_00 / 4
    trace = jnp.zeros((16, 8)).at[0, 2].set(0.04)

    def growth(p):
        new, _ = learn_output(agent, store_init(6, 16, 8), trace, 1.0, jnp.zeros(8, jnp.int32), OLD, SMALL, p)
        relative = (new.w_out[0, 2] / new.w_out[1, 2]) / (agent.w_out[0, 2] / agent.w_out[1, 2])
        return float(relative) - 1.0

    full = growth(1.0)
    assert full > 0.1
    assert growth(0.5) == pytest.approx(full / 2, rel=1e-4)
    assert growth(0.0) == pytest.approx(full / 4, rel=1e-4)

    config = NetConfig(n_hidden=32, steps=30)
    sleeper = init_agent(jax.random.key(6), config, OLD)
    sleeper = sleeper._replace(rate=jnp.full(32, 30.0), w_out0=2.0 * sleeper.w_out0)
    sleep = sleep_phase(3, config)

    def slept(p):
        hp = OLD._replace(sleep_ratio=p)
        state = sleep.init(sleeper, jax.random.key(7))
        return sleep.apply(sleeper, state, make_task(*TASK1), hp, jax.random.key(8))[0].w_out

    assert float(jnp.abs(slept(1.0) - slept(0.0)).max()) > 1e-4


@pytest.mark.slow
def test_sleep_gain_multiplies_the_drive_rates():
    """``sleep_gain`` g drives each hidden neuron at g times its rate: sleeping at g 2 from rates r is
    exactly sleeping at g 1 from rates 2 r (same keys), for the replay and for the uniform-noise
    control, and g 2 differs from g 1. Catches the gain ignored, or applied to one branch only."""
    config = NetConfig(n_hidden=32, steps=30)
    agent = init_agent(jax.random.key(6), config, OLD)
    rates = jnp.linspace(0.0, 60.0, 32)

    def slept(gain, scale, uniform):
        sleeper = agent._replace(rate=scale * rates)
        sleep = sleep_phase(4, config, uniform=uniform)
        state = sleep.init(sleeper, jax.random.key(7))
        hp = OLD._replace(sleep_gain=gain)
        return sleep.apply(sleeper, state, make_task(*TASK1), hp, jax.random.key(8))[0].w_out

    for uniform in (False, True):
        np.testing.assert_array_equal(slept(2.0, 1.0, uniform), slept(1.0, 2.0, uniform))
        assert float(jnp.abs(slept(2.0, 1.0, uniform) - slept(1.0, 1.0, uniform)).max()) > 1e-4


def test_own_sleep_norm_keeps_a_separate_average_for_sleep():
    """At ``own_sleep_norm`` 1 a sleep update is divided by sleep's own running average, which starts at
    its first cycle's summed trace; wake's average is left alone, and a wake update leaves sleep's alone.
    Hand computation, one trace 0.04 on synapse (0, 2), S 1, gain 10, W_i0 / W_i 1: the first sleep
    update divides by 0.04 itself, so the synapse grows 1 + 10 against its column; with one shared
    average (the default) it divides by 1 + 0.01 (0.04 - 1) = 0.9904. A second sleep cycle with trace
    0.08 moves sleep's average to 0.04 + 0.01 (0.08 - 0.04) = 0.0404. The sleep phase must pass
    ``asleep``. Catches the option ignored, sleep's average starting from 0 (it would divide by 1e-6),
    sleep's average written into wake's, and wake updates touching sleep's."""
    agent = init_agent(jax.random.key(0), SMALL, OLD)
    own = OLD._replace(own_sleep_norm=1.0)
    trace = jnp.zeros((16, 8)).at[0, 2].set(0.04)
    silent = jnp.zeros(8, jnp.int32)

    def growth(new):
        return float((new.w_out[0, 2] / new.w_out[1, 2]) / (agent.w_out[0, 2] / agent.w_out[1, 2]))

    first, store = learn_output(agent, store_init(6, 16, 8), trace, 1.0, silent, own, SMALL, asleep=True)
    assert growth(first) == pytest.approx(11.0, rel=1e-5)
    assert float(first.sleep_norm) == pytest.approx(0.04, rel=1e-6)
    assert float(first.trace_norm) == float(agent.trace_norm) == 1.0
    shared, _ = learn_output(agent, store_init(6, 16, 8), trace, 1.0, silent, OLD, SMALL, asleep=True)
    assert growth(shared) == pytest.approx(1.0 + 0.4 / 0.9904, rel=1e-5)
    assert float(shared.trace_norm) == pytest.approx(0.9904, rel=1e-6) and float(shared.sleep_norm) == 0.0
    second, _ = learn_output(first, store, 2.0 * trace, 1.0, silent, own, SMALL, asleep=True)
    assert float(second.sleep_norm) == pytest.approx(0.0404, rel=1e-6)
    awake, _ = learn_output(first, store, trace, 1.0, silent, own, SMALL)
    assert float(awake.sleep_norm) == float(first.sleep_norm)
    assert float(awake.trace_norm) == pytest.approx(0.9904, rel=1e-6)

    config = NetConfig(n_hidden=32, steps=30)
    sleeper = init_agent(jax.random.key(6), config, OLD)._replace(rate=jnp.full(32, 30.0))
    sleep = sleep_phase(3, config)
    slept = sleep.apply(sleeper, sleep.init(sleeper, jax.random.key(7)), make_task(*TASK1), own, jax.random.key(8))[0]
    assert float(slept.trace_norm) == 1.0 and float(slept.sleep_norm) > 0.0


def test_learn_input_keeps_totals_and_cap():
    agent = init_agent(jax.random.key(1), SMALL, HP)
    trace = jnp.zeros((16, 9)).at[:, 0].set(0.04)
    new = learn_input(agent, trace, HP)
    assert float(new.w_in.max()) <= HP.w_in_max + 1e-7
    assert np.all(np.asarray(new.w_in.sum(axis=1)) <= HP.in_total + 1e-6)
    assert np.all(np.asarray(new.w_in[:, 0] >= agent.w_in[:, 0] - 1e-7))
    # in_gain scales the step: a tenth of the trace at gain 0.1 is the whole trace's tenth
    uncapped = HP._replace(w_in_max=1.0)
    np.testing.assert_allclose(
        learn_input(agent, trace, uncapped._replace(in_gain=0.1)).w_in,
        learn_input(agent, 0.1 * trace, uncapped).w_in,
        rtol=1e-6,
    )


def test_cycle_silent_without_input_and_first_half_counts():
    agent = init_agent(jax.random.key(2), SMALL, HP)
    _, out = simulate_cycle(agent, rest(SMALL), jnp.zeros(49, bool), None, HP, jax.random.key(3), SMALL)
    assert int(out.hidden_spikes.sum()) == 0 and int(out.counts.sum()) == 0
    assert float(jnp.abs(out.trace).sum()) == 0.0
    # a full view drives the hidden layer; hidden spikes follow the pulse, so traces appear
    _, out = simulate_cycle(
        agent, rest(SMALL), jnp.ones(49, bool), None, HP._replace(g_inh=0.0), jax.random.key(3), SMALL
    )
    assert int(out.hidden_spikes.sum()) > 0
    assert int(out.counts.sum()) > 0 and float(out.trace.sum()) > 0


def test_sleep_drive_follows_the_awake_rates():
    """Sleep drives hidden neurons at their awake rates: silent neurons stay silent, driven ones fire."""
    config = NetConfig(n_hidden=4, steps=2000)
    agent = init_agent(jax.random.key(4), config, HP)
    rates = jnp.array([0.0, 0.0, 20.0, 40.0])
    _, out = simulate_cycle(agent, rest(config), jnp.zeros(49, bool), rates, HP, jax.random.key(5), config)
    spikes = np.asarray(out.hidden_spikes)
    # 2000 steps = 1 s: 20 Hz and 40 Hz give on the order of 20 and 40 spikes
    assert spikes[0] == spikes[1] == 0
    assert 5 <= spikes[2] < spikes[3] <= 80


def test_sleep_drive_is_a_running_or_a_plain_mean_of_the_learning_rates():
    """Mistakes caught: the plain mean (rate_avg 0) weighting the n-th cycle by 1/(n+1) or never
    counting cycles (it would stay at the first cycle's rate), and the exponential average at
    rate_avg > 0 being switched to the plain mean."""
    config = NetConfig(n_hidden=2, steps=200)  # 0.1 s per cycle: 1 spike = 10 Hz
    agent = init_agent(jax.random.key(0), config, HP)
    counts = [jnp.array([1, 0]), jnp.array([3, 0]), jnp.array([8, 6])]
    plain, running = agent, agent
    for c in counts:
        plain = record_rate(plain, c, make_task(*TASK1), HP._replace(rate_avg=0.0), config)
        running = record_rate(running, c, make_task(*TASK1), HP._replace(rate_avg=0.5), config)
    np.testing.assert_allclose(plain.rate, [40.0, 20.0], rtol=1e-6)  # (10 + 30 + 80) / 3, 60 / 3
    # 0 -> 5 -> 17.5 -> 48.75, and 0 -> 0 -> 0 -> 30
    np.testing.assert_allclose(running.rate, [48.75, 30.0], rtol=1e-6)
    assert int(plain.learned) == int(running.learned) == 3


def test_phases_run_and_sleep_changes_weights_without_moving():
    config = NetConfig(n_hidden=32, steps=30)
    agent = init_agent(jax.random.key(6), config, OLD)
    agent = agent._replace(rate=jnp.full(32, 30.0))
    sleep = sleep_phase(3, config)
    slept, _, metrics = sleep.apply(
        agent, sleep.init(agent, jax.random.key(7)), make_task(*TASK1), OLD, jax.random.key(8)
    )
    assert metrics["out_spikes"].shape == (3,)
    np.testing.assert_allclose(slept.w_out.sum(axis=0), agent.target, rtol=1e-5)
    wake = wake_phase(4, config, "output")
    _, _, metrics = wake.apply(agent, wake.init(agent, jax.random.key(9)), make_task(*TASK1), OLD, jax.random.key(10))
    assert metrics["eaten"].shape == (4,)
    with pytest.raises(ValueError, match="learn must be one of"):
        wake_phase(4, config, "both")


def test_awake_trace_credits_only_the_decision_window():
    """Awake, the trace of a ``2h``-step cycle is that of its first ``h`` steps: exactly the whole-cycle
    trace of an ``h``-step cycle (the first ``h`` steps are the same dynamics; the noise is drawn per
    cycle). The late spikes that follow are real, so crediting them changes the trace; asleep, the whole
    cycle counts in both modes."""
    strong = HP._replace(g_inh=0.0, g_exc=0.5)  # outputs keep firing after step 40
    view = jnp.ones(49, bool)
    agent = init_agent(jax.random.key(11), SMALL, strong)

    def trace(steps, credit, rate=None):
        config = NetConfig(n_hidden=16, steps=steps, credit=credit)
        return simulate_cycle(agent, rest(config), view, rate, strong, jax.random.key(12), config)[1].trace

    decision = trace(80, "decision")
    np.testing.assert_allclose(decision, trace(40, "cycle"), rtol=1e-6)
    assert float(jnp.abs(trace(80, "cycle") - decision).max()) > 1e-3  # the second half paired spikes too
    rate = jnp.full(16, 200.0)
    np.testing.assert_allclose(trace(80, "decision", rate), trace(80, "cycle", rate), rtol=1e-6)
    with pytest.raises(ValueError, match="NetConfig.credit must be one of"):
        NetConfig(credit="half").check()


def test_pairing_changes_only_the_trace_and_all_pairs_removes_the_rate_bias():
    """``NetConfig.pairing``: within a cycle the spikes are the same under both pairings (same key), only
    the trace differs. Asleep, with outputs firing far more often than each hidden neuron, nearest
    pairing sums to a clearly positive trace from chance coincidences alone, all-pairs to much less.
    Catches the option being accepted but ignored (the traces would be equal) or swapped."""
    agent = init_agent(jax.random.key(16), NetConfig(n_hidden=64, steps=400), HP)
    rate = jnp.full(64, 40.0)
    silent = jnp.zeros(49, bool)
    outs = {}
    for pairing in ("nearest", "all"):
        config = NetConfig(n_hidden=64, steps=400, pairing=pairing)
        outs[pairing] = simulate_cycle(agent, rest(config), silent, rate, HP, jax.random.key(17), config)[1]
    np.testing.assert_array_equal(outs["nearest"].counts, outs["all"].counts)
    np.testing.assert_array_equal(outs["nearest"].hidden_spikes, outs["all"].hidden_spikes)
    assert int(outs["all"].counts.sum()) > 8 * int(outs["all"].hidden_spikes.mean())  # outputs fire more
    nearest, all_pairs = float(outs["nearest"].trace.sum()), float(outs["all"].trace.sum())
    assert nearest > 0.5 * float(jnp.abs(outs["nearest"].trace).sum())
    assert all_pairs < 0.5 * nearest
    with pytest.raises(ValueError, match="NetConfig.pairing must be one of"):
        NetConfig(pairing="both").check()


def test_output_noise_off_is_unchanged_and_on_fires_outputs_without_input():
    """At ``noise_rate`` 0 (whatever ``w_noise``) the cycle is the same, bit for bit, as without the
    constants (the spike counts and trace recorded before they existed); at 2 kHz of supra-threshold
    events every output fires with no input at all, awake only."""
    agent = init_agent(jax.random.key(13), SMALL, OLD)
    view = jnp.ones(49, bool)
    base = simulate_cycle(agent, rest(SMALL), view, None, OLD, jax.random.key(14), SMALL)
    assert np.asarray(base[1].counts).tolist() == [3, 2, 2, 1, 2, 3, 1, 2]
    assert np.asarray(base[1].hidden_spikes).tolist() == [1] * 16
    assert float(base[1].trace.sum()) == pytest.approx(8.54986, rel=1e-5)
    off = simulate_cycle(agent, rest(SMALL), view, None, OLD._replace(w_noise=5.0), jax.random.key(14), SMALL)
    for a, b in zip(jax.tree.leaves(base), jax.tree.leaves(off)):
        np.testing.assert_array_equal(a, b)
    noisy = OLD._replace(noise_rate=2000.0, w_noise=0.5)  # p = 1 per 0.5 ms step: an event every step
    _, out = simulate_cycle(agent, rest(SMALL), jnp.zeros(49, bool), None, noisy, jax.random.key(15), SMALL)
    assert int(out.hidden_spikes.sum()) == 0  # nothing reached the hidden layer
    assert np.all(np.asarray(out.counts) > 0)  # yet every output fired in the decision window
    # asleep with no drive the outputs stay silent: the noise is awake only
    _, out = simulate_cycle(agent, rest(SMALL), jnp.zeros(49, bool), jnp.zeros(16), noisy, jax.random.key(15), SMALL)
    assert int(out.counts.sum()) == 0


def test_wired_detectors_are_particles_and_never_learn():
    """``Hparams.wired`` (the hand-wired code that stands in for orientation detectors): every hidden
    neuron must be wired to the two pixels of one particle inside the view (mistakes caught: a pair
    split across the view's row edge, an orientation missing, a cell wired twice to one neuron), each
    of the 156 positions to 5 or 6 of the 784 neurons, nothing but the pair weighted; the unsupervised
    STDP must leave the wired weights alone; and ``wired = 0`` must leave the paper's random wiring
    exactly as it was (its draws unchanged)."""
    plain = init_agent(jax.random.key(0), NetConfig(), HP)
    agent = init_agent(jax.random.key(0), NetConfig(), HP._replace(wired=0.05))
    idx, w = np.asarray(agent.in_idx), np.asarray(agent.w_in)
    assert idx.shape == (784, 9) and all(len(set(row)) == 9 for row in idx)
    np.testing.assert_allclose(w[:, :2], 0.05, rtol=1e-6)
    np.testing.assert_array_equal(w[:, 2:], 0.0)
    (r1, c1), (r2, c2) = divmod(idx[:, 0], 7), divmod(idx[:, 1], 7)
    assert set(zip(r2 - r1, c2 - c1)) == {tuple(o) for o in np.asarray(OFFSETS).tolist()}
    pairs, counts = np.unique(idx[:, :2], axis=0, return_counts=True)
    assert len(pairs) == 42 + 42 + 36 + 36 and set(counts) == {5, 6}
    np.testing.assert_array_equal(agent.w_out, plain.w_out)
    # the paper's wiring is untouched by the option's existence
    assert np.asarray(plain.in_idx)[:2].tolist() == [
        [18, 0, 10, 16, 41, 21, 28, 8, 25],
        [12, 4, 19, 28, 3, 29, 10, 37, 46],
    ]
    trace_in = jnp.ones_like(agent.w_in)
    np.testing.assert_array_equal(learn_input(agent, trace_in, HP._replace(wired=0.05)).w_in, agent.w_in)
    assert not np.array_equal(learn_input(plain, trace_in, HP).w_in, plain.w_in)


def test_store_is_emptied_at_a_switch_between_wake_and_sleep():
    """``keep_store`` 0 (the default): a phase that follows the other kind starts with an empty
    eligibility store, one that follows its own kind keeps it (consecutive training blocks are one
    phase); at 1 the store is always carried. Through the sleep phase: after one sleep cycle the slot
    of one cycle ago holds the last wake trace only when it is carried. Catches the store never
    emptied, emptied at every block, and the sleep phase not switching."""
    config = NetConfig(n_hidden=8, steps=20)
    wake_trace = jnp.full((6, 8, 8), 0.5)
    awake = wake_phase(1, config, "output").init(None, jax.random.key(0))._replace(store=wake_trace)
    assert not bool(awake.asleep)
    np.testing.assert_array_equal(switch_store(awake, True, HP).store, 0.0)
    assert bool(switch_store(awake, True, HP).asleep)
    np.testing.assert_array_equal(switch_store(awake, False, HP).store, wake_trace)
    np.testing.assert_array_equal(switch_store(awake, True, HP._replace(keep_store=1.0)).store, wake_trace)
    dozing = awake._replace(asleep=jnp.asarray(True))
    np.testing.assert_array_equal(switch_store(dozing, False, HP).store, 0.0)
    np.testing.assert_array_equal(switch_store(dozing, True, HP).store, wake_trace)

    agent = init_agent(jax.random.key(1), config, HP)._replace(rate=jnp.full(8, 30.0))
    sleep = sleep_phase(1, config)
    for hp, kept in ((HP, 0.0), (HP._replace(keep_store=1.0), 0.5)):
        _, state, _ = sleep.apply(agent, awake, make_task(*TASK1), hp, jax.random.key(2))
        np.testing.assert_array_equal(state.store[1], kept)
        assert bool(state.asleep)


def test_release_varies_per_event_or_per_cycle():
    """Per event (the default): the efficacy arriving at an output from one step's spikes is
    ``sum w + sqrt(R^2 / 3 sum w^2) z`` with a new ``z`` every step. By hand: hidden neurons 0 and 1
    spike onto output 0 with weights 0.2 and 0.3, R 0.12, z = 1: 0.5 + sqrt(0.0048 * 0.13) = 0.5249800;
    over 4000 steps of the same spikes the efficacy's SD is sqrt(0.0048 * 0.13) = 0.0249800. Per cycle
    (0): one uniform draw per synapse, the same efficacy at every step of the cycle. Catches the
    per-event spread ignored, the variance not divided by 3, and the per-cycle draw applied per event."""
    w = jnp.array([[0.2, 0.1], [0.3, 0.1], [0.5, 0.1]])
    spikes = jnp.array([1.0, 1.0, 0.0])
    draws = release_draws(jax.random.key(0), w, HP, 4000)
    draws = draws._replace(z=draws.z.at[0, 0].set(1.0))
    assert float(excitation(spikes, draws, 0)[0]) == pytest.approx(0.5 + np.sqrt(0.0048 * 0.13), rel=1e-6)
    per_step = jax.vmap(lambda t: excitation(spikes, draws, t))(jnp.arange(4000))[:, 0]
    assert float(jnp.std(per_step)) == pytest.approx(np.sqrt(0.0048 * 0.13), rel=0.05)
    assert float(jnp.mean(per_step)) == pytest.approx(0.5, abs=1e-3)
    cycle = release_draws(jax.random.key(0), w, HP._replace(release_per_event=0.0), 4000)
    per_step = jax.vmap(lambda t: excitation(spikes, cycle, t))(jnp.arange(4000))[:, 0]
    assert float(per_step.max() - per_step.min()) == 0.0
    assert 0.5 * 0.88 <= float(per_step[0]) <= 0.5 * 1.12 and float(per_step[0]) != 0.5


def test_interleaved_phase_is_as_long_as_the_task2_phase_half_of_it_asleep():
    """``interleave`` "split" (the default): with a 400-cycle Task 2 phase in blocks of 100, sequential
    training is 4 Task 2 blocks, interleaved sleep 2 Task 2 blocks each followed by a sleep block (400
    cycles, half asleep), and sleep alone sleeps as long as that (2 blocks); "added" doubles the
    interleaved phase (4 + 4) and the sleep alone (4). Every stage ends with the tests and is padded
    with idle blocks to the longest. Catches the phase not halved, sleep_only not following it, and a
    Task 2 length that cannot be halved into whole blocks being accepted."""
    d = Durations(unsupervised=100, task1=200, task2=400, block=100, test=100, curve_block=100)
    modes = lambda stage, d=d: [b[3] for b in schedule_blocks(stage, d)]  # noqa: E731
    tests = [TEST, TEST]
    assert modes("sequential") == [TRAIN] * 4 + tests
    assert modes("interleaved_sleep") == [TRAIN, SLEEP, TRAIN, SLEEP] + tests
    assert [b[1] for b in schedule_blocks("interleaved_task1", d)][:4] == [VERTICAL, HORIZONTAL] * 2
    assert modes("sleep_only") == [SLEEP] * 2 + tests
    added = Durations(unsupervised=100, task1=200, task2=400, block=100, test=100, interleave="added")
    assert modes("interleaved_sleep", added) == [TRAIN, SLEEP] * 4 + tests
    assert modes("sleep_only", added) == [SLEEP] * 4 + tests
    padded = np.asarray(schedule("sleep_only", d).index)
    assert padded.tolist() == [SLEEP, SLEEP, TEST, TEST, IDLE, IDLE]
    with pytest.raises(ValueError, match="multiple of 2 x block=200"):
        Durations(task2=300, block=100)
    with pytest.raises(ValueError, match="--interleave"):
        Durations(interleave="halved")


def test_sleep_drive_is_the_equal_weight_mean_of_the_tasks_mean_rates():
    """``task_drive`` 1 (the default): the drive of each hidden neuron is the mean, with equal weights,
    of its mean rates during each task trained so far. By hand, 0.1 s cycles (1 spike = 10 Hz): Task 1
    cycles with counts (1, 0), (3, 0), (8, 2) -> means (40, 6.67); one Task 2 cycle (2, 4) -> (20, 40);
    the drive is (30, 23.33), not the mean over the four cycles (35, 15). An unsupervised cycle (5, 5)
    counts in no task, and is the drive before any task. Catches the tasks weighed by their cycles,
    the unsupervised period counted, the mean off by one, and the option ignored."""
    config = NetConfig(n_hidden=2, steps=200)
    agent = init_agent(jax.random.key(0), config, HP)
    learn = lambda a, counts, task: record_rate(a, jnp.array(counts), task, HP, config)  # noqa: E731
    agent = learn(agent, [5, 5], unsupervised_task())
    np.testing.assert_allclose(task_mean_rates(agent), [50.0, 50.0], rtol=1e-6)
    for counts in ([1, 0], [3, 0], [8, 2]):
        agent = learn(agent, counts, make_task(*TASK1))
    np.testing.assert_allclose(task_mean_rates(agent), [40.0, 20.0 / 3], rtol=1e-6)
    agent = learn(agent, [2, 4], make_task(*TASK2))
    np.testing.assert_allclose(task_mean_rates(agent), [30.0, 70.0 / 3], rtol=1e-6)
    np.testing.assert_allclose(sleep_rates(agent, HP._replace(sleep_gain=2.0)), [60.0, 140.0 / 3], rtol=1e-6)
    np.testing.assert_allclose(sleep_rates(agent, HP, uniform=True), [(30.0 + 70.0 / 3) / 2] * 2, rtol=1e-6)
    np.testing.assert_allclose(sleep_rates(agent, HP._replace(task_drive=0.0)), agent.rate, rtol=1e-6)


def test_initial_output_weights_are_equal_or_random():
    """``init_power`` 0 (the default): every hidden->output weight starts at out_total / n_hidden
    (20 / 16 = 1.25) and every W_i0 at 8 x 1.25 = 10; at 1 they are uniformly random, each output's
    still summing to out_total. Catches the equal start left random and the power ignored."""
    equal = init_agent(jax.random.key(0), SMALL, HP)
    np.testing.assert_allclose(equal.w_out, 1.25, rtol=1e-6)
    np.testing.assert_allclose(equal.w_out0, 10.0, rtol=1e-6)
    random = init_agent(jax.random.key(0), SMALL, HP._replace(init_power=1.0))
    np.testing.assert_allclose(random.w_out.sum(axis=0), 20.0, rtol=1e-5)
    assert float(random.w_out.std()) > 0.3


def test_mixed_wired_detectors_fire_in_both_tasks():
    """``wired_mixed`` 1: every wired neuron holds a second particle position, of a kind the other task
    shows, sharing no cell with the first; both pairs weigh ``wired``, the rest 0. Without it the
    wiring is exactly the one the committed wired records were made with (first two neurons pinned).
    Catches the second pair drawn from the same task, overlapping the first, left unweighted, and the
    single wiring changed by the option's existence."""
    from sleepjax.foraging.network import KIND_TASK

    single = init_agent(jax.random.key(0), NetConfig(), HP._replace(wired=0.05))
    assert np.asarray(single.in_idx)[:2].tolist() == [
        [9, 17, 6, 40, 48, 34, 31, 29, 3],
        [29, 36, 14, 37, 31, 18, 21, 7, 23],
    ]
    mixed = init_agent(jax.random.key(0), NetConfig(), HP._replace(wired=0.05, wired_mixed=1.0))
    idx, w = np.asarray(mixed.in_idx), np.asarray(mixed.w_in)
    np.testing.assert_array_equal(idx[:, :2], np.asarray(single.in_idx)[:, :2])
    assert all(len(set(row)) == 9 for row in idx)
    np.testing.assert_allclose(w[:, :4], 0.05, rtol=1e-6)
    np.testing.assert_array_equal(w[:, 4:], 0.0)
    offsets = {tuple(o): k for k, o in enumerate(np.asarray(OFFSETS).tolist())}

    def kind(a, b):
        (r1, c1), (r2, c2) = divmod(a, 7), divmod(b, 7)
        return offsets[(r2 - r1, c2 - c1)]

    tasks = np.asarray(KIND_TASK)
    first = np.array([kind(a, b) for a, b in idx[:, :2]])
    second = np.array([kind(a, b) for a, b in idx[:, 2:4]])
    assert np.all(tasks[first] != tasks[second])
