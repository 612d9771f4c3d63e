"""The agent's movement cycles and its phases: unsupervised, rewarded training, testing and sleep.

Awake, each cycle (:func:`wake_cycle`) shows the agent's 7x7 view to the network, picks the move
from the output spike counts of the cycle's first half (ties at random; no spike repeats the last
move), explores at random with probability ``1 % + 1 %`` per cycle without food, moves, and then
learns according to ``learn``:

* ``"none"``: nothing (testing);
* ``"input"``: plain STDP on input->hidden (the unsupervised period), summed input weight of every
  hidden neuron kept at ``in_total``;
* ``"output"``: rewarded STDP on hidden->output with the eligibility store (``S`` = +1 for a rewarded
  particle, -0.001 for a punished one, -0.0001 for an empty square), followed by homeostatic scaling
  of every output neuron's summed input.

Asleep (:func:`sleep_phase`) the input is silent and nothing moves; every hidden neuron is driven by
Poisson input at its mean awake rate (or, for the uniform-noise control, all at the mean over
neurons; both times ``sleep_gain``, 1 by default), and hidden->output learns by the same rule with
constant ``S = s_sleep`` (+0.5).

Every phase (:func:`wake_phase`, :func:`sleep_phase`, :func:`idle_phase`) is a
:class:`~sleepjax._phases.Phase` that runs ``cycles`` cycles in one ``lax.scan``, with one state
structure (:class:`WakeState`) and one metrics structure (the kind eaten and the output spikes in every
cycle), so that :mod:`~sleepjax.foraging.schedules` can switch between them block by block.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
from jax import lax

from sleepjax._phases import Phase
from sleepjax.foraging.environment import (
    HORIZONTAL,
    NEGATIVE_DIAGONAL,
    NOTHING,
    POSITIVE_DIAGONAL,
    VERTICAL,
    observe,
    reset,
    step,
)
from sleepjax.foraging.network import Agent, Hparams, NetConfig, Neurons, rest, simulate_cycle
from sleepjax.spiking import (
    adapt_target,
    delays,
    rewarded_update,
    running_average,
    scale_inputs,
    store_init,
    store_push,
)

LEARN_MODES = ("none", "input", "output")


class ForagingTask(NamedTuple):
    """A task of the food world: ``present (4,) bool`` kinds placed in it, ``rewarded`` and
    ``punished`` kind, and its ``index`` in the run."""

    present: jax.Array
    rewarded: jax.Array
    punished: jax.Array
    index: jax.Array


def make_task(rewarded: int, punished: int, index: int = 0) -> ForagingTask:
    """The task where only ``rewarded`` and ``punished`` particles are present."""
    present = jnp.zeros(4, bool).at[rewarded].set(True).at[punished].set(True)
    return ForagingTask(present, jnp.asarray(rewarded), jnp.asarray(punished), jnp.asarray(index))


#: Task 1: horizontal rewarded, negative diagonal punished. Task 2: vertical / positive diagonal.
TASK1 = (HORIZONTAL, NEGATIVE_DIAGONAL)
TASK2 = (VERTICAL, POSITIVE_DIAGONAL)


def unsupervised_task() -> ForagingTask:
    """All four kinds present, nothing rewarded (the unsupervised period)."""
    return ForagingTask(jnp.ones(4, bool), jnp.asarray(NOTHING), jnp.asarray(NOTHING), jnp.asarray(0))


class WakeState(NamedTuple):
    """Carried across the phases' applications: neurons, eligibility store, last move, cycles since
    the last meal, and whether the last phase was sleep (:func:`switch_store`)."""

    neurons: Neurons
    store: jax.Array
    last_move: jax.Array
    hungry: jax.Array
    asleep: jax.Array


def wake_state(config: NetConfig, key: jax.Array) -> WakeState:
    return WakeState(
        rest(config),
        store_init(config.slots, config.n_hidden, config.n_out),
        jax.random.randint(key, (), 0, config.n_out),
        jnp.zeros((), jnp.int32),
        jnp.zeros((), bool),
    )


def switch_store(state: WakeState, asleep: bool, hp: Hparams) -> WakeState:
    """Start a wake (``asleep`` False) or sleep phase: where it follows the other kind, the eligibility
    store is emptied, so that no wake trace receives sleep's S and no sleep trace the next reward
    (``hp.keep_store`` 1 carries it across instead, the form before)."""
    switched = state.asleep != asleep
    clear = switched & (jnp.asarray(hp.keep_store) <= 0)
    store = jnp.where(clear, jnp.zeros_like(state.store), state.store)
    return state._replace(store=store, asleep=jnp.asarray(asleep))


def choose_move(counts, last_move, hungry, hp: Hparams, key):
    """Most first-half spikes (ties at random; none: repeat ``last_move``), then exploration."""
    k_tie, k_explore, k_random = jax.random.split(key, 3)
    jitter = jax.random.uniform(k_tie, counts.shape)  # < 1, so it only breaks ties
    best = jnp.argmax(counts.astype(jitter.dtype) + jitter)
    move = jnp.where(jnp.sum(counts) > 0, best, last_move)
    p_explore = hp.explore_base + hp.explore_step * jnp.asarray(hungry).astype(jitter.dtype)
    explore = jax.random.uniform(k_explore) < p_explore
    return jnp.where(explore, jax.random.randint(k_random, (), 0, counts.shape[0]), move)


def reward_of(eaten, task: ForagingTask, hp: Hparams):
    """``S`` of a cycle: +s_reward, s_punish or s_empty (eating a kind outside the task: empty)."""
    return jnp.where(eaten == task.rewarded, hp.s_reward, jnp.where(eaten == task.punished, hp.s_punish, hp.s_empty))


def sleeps_with_own_norm(hp: Hparams) -> jax.Array:
    """Whether sleep's updates are divided by sleep's own running average of the summed trace
    (``hp.own_sleep_norm`` above 0) instead of the one wake uses."""
    return jnp.asarray(hp.own_sleep_norm) > 0


def learn_output(
    agent: Agent, store, trace, reward, out_counts, hp: Hparams, config: NetConfig, ratio_power=1.0, asleep=False
):
    """Rewarded STDP with the eligibility store (divided by the activity normalisation unless
    ``hp.activity_norm`` is 0), the weights' lower bound (``w_floor``, 0 by default), then homeostasis.
    ``ratio_power`` p turns the update's factor W_i0 / W_i into (W_i0 / W_i) ** p (1: the rule as
    written; sleep passes ``hp.sleep_ratio``). ``asleep``: the update is sleep's, which at
    ``hp.own_sleep_norm`` 1 is divided by sleep's own running average (``agent.sleep_norm``) instead of
    the one wake uses. Returns ``(agent, store)``."""
    store = store_push(store, trace)
    own = asleep & sleeps_with_own_norm(hp)
    activity = jnp.sum(jnp.abs(trace))
    # sleep's own average starts at its first cycle's activity (0: not slept yet)
    previous = jnp.where(own, jnp.where(agent.sleep_norm > 0, agent.sleep_norm, activity), agent.trace_norm)
    norm = jnp.maximum(running_average(previous, activity, hp.norm_rate), 1e-6)
    trace_norm = jnp.where(own, agent.trace_norm, norm)
    sleep_norm = jnp.where(own, norm, agent.sleep_norm)
    delay = delays(config.slots, hp.delay_c, config.steps, jnp.asarray(hp.discount_steps) > 0)
    divisor = jnp.where(jnp.asarray(hp.activity_norm) > 0, norm, 1.0)
    w = rewarded_update(agent.w_out, store, hp.learn_gain * reward, agent.w_out0, divisor, delay, ratio_power)
    w = jnp.maximum(w, hp.w_floor * hp.out_total / config.n_hidden)
    out_rate = out_counts.astype(w.dtype) / (config.cycle_seconds / 2)
    target = adapt_target(agent.target, out_rate, hp.goal_rate, hp.eta_target)
    w = scale_inputs(w, target)
    return agent._replace(w_out=w, target=target, trace_norm=trace_norm, sleep_norm=sleep_norm), store


def learn_input(agent: Agent, trace_in, hp: Hparams) -> Agent:
    """Plain STDP on input->hidden (the trace times ``in_gain``); each hidden neuron's summed input
    rescaled to ``in_total``, then every weight capped at ``w_in_max``. Wired detectors (``hp.wired`` >
    0) do not learn."""
    w = jnp.maximum(agent.w_in + hp.in_gain * trace_in, 0.0)
    w = scale_inputs(w.T, jnp.full(w.shape[0], hp.in_total, w.dtype)).T
    w = jnp.where(jnp.asarray(hp.wired) > 0, agent.w_in, jnp.minimum(w, hp.w_in_max))
    return agent._replace(w_in=w)


def record_rate(agent: Agent, hidden_spikes, task: ForagingTask, hp: Hparams, config: NetConfig) -> Agent:
    """Fold one learning cycle's hidden rates into the sleep drives: the mean of ``task``'s slot
    (``Agent.task_rate``, weight ``1 / n`` for its ``n``-th cycle), and ``Agent.rate``, an exponential
    running average at ``rate_avg``, or at ``rate_avg`` 0 the plain mean over every learning cycle so far,
    in which each task counts by how long it was trained."""
    rate = hidden_spikes.astype(agent.rate.dtype) / config.cycle_seconds
    learned = agent.learned + 1
    weight = jnp.where(jnp.asarray(hp.rate_avg) > 0, hp.rate_avg, 1.0 / learned.astype(rate.dtype))
    slot = task.rewarded + 1  # NOTHING (-1): the unsupervised period's slot 0
    cycles = agent.task_cycles.at[slot].add(1)
    mean = running_average(agent.task_rate[slot], rate, 1.0 / cycles[slot].astype(rate.dtype))
    return agent._replace(
        rate=running_average(agent.rate, rate, weight),
        learned=learned,
        task_rate=agent.task_rate.at[slot].set(mean),
        task_cycles=cycles,
    )


def task_mean_rates(agent: Agent) -> jax.Array:
    """``(H,)``: the mean over the tasks trained so far, with equal weights, of each hidden neuron's mean
    awake rate during each of them; before any task, its mean rate in the unsupervised period."""
    trained = agent.task_cycles[1:] > 0
    count = jnp.sum(trained)
    total = jnp.sum(jnp.where(trained[:, None], agent.task_rate[1:], 0.0), axis=0)
    mean = total / jnp.maximum(count, 1).astype(total.dtype)
    return jnp.where(count > 0, mean, agent.task_rate[0])


def wake_cycle(agent: Agent, state: WakeState, world, task: ForagingTask, hp: Hparams, key, config, learn: str):
    """One awake movement cycle; returns ``(agent, state, world, eaten, output spikes)``."""
    k_net, k_move, k_world = jax.random.split(key, 3)
    view = observe(world, config.world).reshape(-1)
    neurons, out = simulate_cycle(agent, state.neurons, view, None, hp, k_net, config)
    move = choose_move(out.counts, state.last_move, state.hungry, hp, k_move)
    world, eaten = step(world, move, k_world, task.present, config.world)
    if learn != "none":  # the sleep drive is the rate measured while learning, not while testing
        agent = record_rate(agent, out.hidden_spikes, task, hp, config)
    store = state.store
    if learn == "output":
        agent, store = learn_output(agent, store, out.trace, reward_of(eaten, task, hp), out.counts, hp, config)
    elif learn == "input":
        agent = learn_input(agent, out.trace_in, hp)
    hungry = jnp.where(eaten == NOTHING, state.hungry + 1, 0)
    return (
        agent,
        state._replace(neurons=neurons, store=store, last_move=move, hungry=hungry),
        world,
        eaten,
        jnp.sum(out.counts),
    )


def wake_phase(cycles: int, config: NetConfig, learn: str) -> Phase:
    """``cycles`` awake cycles in a freshly placed world of the task; metrics: ``eaten (cycles,)`` (the
    kind eaten, :data:`~sleepjax.foraging.environment.NOTHING` if none) and ``out_spikes (cycles,)``
    (first-half output spikes)."""
    if learn not in LEARN_MODES:
        raise ValueError(f"learn must be one of {LEARN_MODES}, got {learn!r}")
    config.check()

    def init(agent, key):
        return wake_state(config, key)

    def apply(agent, state, task, hp, key):
        k_world, k_cycles = jax.random.split(key)
        world = reset(k_world, task.present, config.world)
        state = switch_store(state, False, hp)

        def body(carry, k):
            agent, state, world = carry
            agent, state, world, eaten, spikes = wake_cycle(agent, state, world, task, hp, k, config, learn)
            return (agent, state, world), (eaten, spikes)

        keys = jax.random.split(k_cycles, cycles)
        (agent, state, _), (eaten, spikes) = lax.scan(body, (agent, state, world), keys)
        return agent, state, {"eaten": eaten, "out_spikes": spikes}

    return Phase(init, apply)


def sleep_rates(agent: Agent, hp: Hparams, uniform: bool = False) -> jax.Array:
    """The sleep drive's Poisson rates (Hz), one per hidden neuron: its mean awake rate
    (:func:`task_mean_rates`, or at ``hp.task_drive`` 0 the running average ``Agent.rate``; ``uniform``:
    the mean over neurons, for all) times ``hp.sleep_gain``."""
    awake = jnp.where(jnp.asarray(hp.task_drive) > 0, task_mean_rates(agent), agent.rate)
    awake = jnp.full_like(awake, jnp.mean(awake)) if uniform else awake
    return hp.sleep_gain * awake


def sleep_phase(cycles: int, config: NetConfig, uniform: bool = False) -> Phase:
    """``cycles`` sleep cycles: Poisson drive at :func:`sleep_rates` (``uniform``: the uniform-noise
    control), rewarded STDP with constant ``S = s_sleep``; the task is ignored. State and metrics have
    the wake phase's structure (nothing is eaten: ``eaten`` is all
    :data:`~sleepjax.foraging.environment.NOTHING`), so sleep and wake blocks can share a schedule."""
    config.check()

    def init(agent, key):
        return wake_state(config, key)

    def apply(agent, state, task, hp, key):
        rate = sleep_rates(agent, hp, uniform)
        silent = jnp.zeros(config.n_in, bool)

        def body(carry, k):
            agent, state = carry
            neurons, out = simulate_cycle(agent, state.neurons, silent, rate, hp, k, config)
            agent, store = learn_output(
                agent, state.store, out.trace, hp.s_sleep, out.counts, hp, config, hp.sleep_ratio, asleep=True
            )
            return (agent, state._replace(neurons=neurons, store=store)), jnp.sum(out.counts)

        state = switch_store(state, True, hp)
        (agent, state), out_spikes = lax.scan(body, (agent, state), jax.random.split(key, cycles))
        return agent, state, {"eaten": jnp.full((cycles,), NOTHING, jnp.int32), "out_spikes": out_spikes}

    return Phase(init, apply)


def idle_phase(cycles: int, config: NetConfig) -> Phase:
    """Nothing happens (padding of a schedule); metrics shaped like the other phases'."""

    def init(agent, key):
        return wake_state(config, key)

    def apply(agent, state, task, hp, key):
        return (
            agent,
            state,
            {"eaten": jnp.full((cycles,), NOTHING, jnp.int32), "out_spikes": jnp.zeros((cycles,), jnp.int32)},
        )

    return Phase(init, apply)


def discriminability(eaten: jax.Array, task: ForagingTask) -> jax.Array:
    """Rewarded eaten / (rewarded + punished eaten) over the last axis; 0.5 (chance) if none eaten."""
    good = jnp.sum(eaten == task.rewarded, axis=-1)
    bad = jnp.sum(eaten == task.punished, axis=-1)
    return jnp.where(good + bad > 0, good / jnp.maximum(good + bad, 1), 0.5)
