"""The 49-784-8 spiking network of the foraging agent and one movement cycle of it.

Layers: 49 input cells (the 7x7 view), 784 hidden Rulkov neurons (28x28), 8 output Rulkov neurons
(the 3x3 grid without its centre, one per move). At the start of every cycle each occupied input
cell fires one supra-threshold pulse; each hidden neuron listens to 9 random input cells through
plastic excitatory synapses; every hidden neuron projects to every output neuron through one
excitatory synapse (``w_out``, plastic) and one inhibitory synapse whose weight is minus the mean of
its excitatory outputs (:func:`~sleepjax.spiking.homeostasis.mirrored_inhibition`).

A cycle is ``steps`` map iterations of 0.5 ms (600 in the paper). :func:`simulate_cycle` runs them in
one ``lax.scan`` and returns the output spike counts of the first half (which choose the move), the
hidden->output STDP trace of the whole cycle, the input->hidden trace, and the hidden spike counts.

The numeric constants are :class:`~sleepjax.foraging.constants.Hparams` (the paper's values, and
calibrated choices where it leaves them open; docs/reproductions/foraging-calibration.md).
"""

from __future__ import annotations

from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from sleepjax.foraging.constants import Hparams
from sleepjax.foraging.environment import DEFAULT_WORLD, OFFSETS, WorldConfig
from sleepjax.spiking import (
    PAIRING_RULES,
    PAIRINGS,
    AllPairsState,
    RulkovParams,
    RulkovState,
    StdpParams,
    StdpState,
    conductance_step,
    mirrored_inhibition,
    poisson_train,
    rulkov_rest,
    rulkov_step,
    scale_inputs,
    stdp_kernel,
    synaptic_current,
)

NEURON_MODELS = ("rulkov",)
#: Slots of ``Agent.task_rate``: none rewarded (the unsupervised period), then one per particle kind.
TASK_SLOTS = 5
#: Which awake spike pairings make the hidden->output trace: those of the ``"decision"`` window (the
#: first half of the cycle, whose spikes choose the move) or of the whole ``"cycle"``.
CREDIT_WINDOWS = ("decision", "cycle")


class NetConfig(NamedTuple):
    """Static sizes and lengths. ``steps`` per movement cycle at ``dt_ms`` per step; ``slots`` cycles
    kept in the eligibility store; ``credit`` (:data:`CREDIT_WINDOWS`, OPEN) which awake spike pairings
    make the hidden->output trace: ``"decision"`` only those whose later spike falls in the first half
    of the cycle, so that an output firing after the move was chosen is not credited with it;
    ``pairing`` (:data:`~sleepjax.spiking.stdp.PAIRINGS`) which pre/post spike pairs make a trace:
    every pair within the 60 ms window (the default; the preprint pairs each new spike with all partner
    spikes within 120 iterations) or the nearest ones."""

    n_hidden: int = 784
    fan_in: int = 9
    n_out: int = 8
    steps: int = 600
    dt_ms: float = 0.5
    slots: int = 6
    neuron: str = "rulkov"
    credit: str = "decision"
    pairing: str = "all"
    world: WorldConfig = DEFAULT_WORLD

    @property
    def n_in(self) -> int:
        return self.world.view**2

    @property
    def stdp_params(self) -> StdpParams:
        """The STDP constants at this step length."""
        return StdpParams(dt_ms=self.dt_ms)

    @property
    def cycle_seconds(self) -> float:
        return self.steps * self.dt_ms * 1e-3

    def check(self) -> None:
        if self.neuron not in NEURON_MODELS:
            raise ValueError(f"NetConfig.neuron must be one of {NEURON_MODELS}, got {self.neuron!r}")
        if self.credit not in CREDIT_WINDOWS:
            raise ValueError(f"NetConfig.credit must be one of {CREDIT_WINDOWS}, got {self.credit!r}")
        if self.pairing not in PAIRINGS:
            raise ValueError(f"NetConfig.pairing must be one of {PAIRINGS}, got {self.pairing!r}")
        if self.steps < 2:
            raise ValueError(f"NetConfig.steps must be at least 2 (the move uses the first half), got {self.steps}")
        if self.fan_in > self.n_in:
            raise ValueError(f"NetConfig.fan_in={self.fan_in} exceeds the {self.n_in} input cells")
        self.world.check()


class Agent(NamedTuple):
    """Everything learned or measured by the network, carried from phase to phase.

    ``in_idx (H, 9)`` input cell of each input synapse; ``w_in (H, 9)``; ``w_out (H, 8)`` excitatory
    hidden->output; ``w_out0 (H,)`` initial summed outputs ``W_i0``; ``target (8,)`` summed-input
    targets of the output neurons; ``trace_norm`` running average of the summed absolute trace per
    cycle (the activity normalisation); ``rate (H,)`` running mean awake firing rate (Hz) of each
    hidden neuron (the sleep drive at ``Hparams.task_drive`` 0); ``learned (,)`` the number of learning
    cycles behind ``rate``; ``sleep_norm`` sleep's own normalisation at ``Hparams.own_sleep_norm`` 1 (0
    until the first sleep); ``task_rate (K, H)`` each hidden neuron's mean awake rate while learning with
    each rewarded kind (slot 0: none, the unsupervised period; slot ``1 + kind`` the task rewarding
    ``kind``) over ``task_cycles (K,)`` learning cycles (the sleep drive at ``task_drive`` 1).
    """

    in_idx: jax.Array
    w_in: jax.Array
    w_out: jax.Array
    w_out0: jax.Array
    target: jax.Array
    trace_norm: jax.Array
    rate: jax.Array
    learned: jax.Array
    sleep_norm: jax.Array
    task_rate: jax.Array
    task_cycles: jax.Array


class Neurons(NamedTuple):
    """Dynamic state carried from cycle to cycle: neuron maps, conductances, and the STDP state (spike
    ages for nearest pairing, windowed spike sums for all-pairs)."""

    hidden: RulkovState
    out: RulkovState
    g_hidden: jax.Array
    g_exc: jax.Array
    g_inh: jax.Array
    stdp: StdpState | AllPairsState


class CycleOutput(NamedTuple):
    """What one cycle produced: ``counts (8,)`` output spikes in the first half, ``trace (H, 8)``
    hidden->output STDP trace, ``trace_in (H, 9)`` input->hidden trace, ``hidden_spikes (H,)``."""

    counts: jax.Array
    trace: jax.Array
    trace_in: jax.Array
    hidden_spikes: jax.Array


def _positions(view: int) -> list[tuple[int, int, int]]:
    """Every particle position inside a ``view`` x ``view`` field: (anchor cell, second cell, kind)."""
    return [
        (r * view + c, (r + dr) * view + c + dc, kind)
        for kind, (dr, dc) in enumerate(OFFSETS.tolist())
        for r in range(view)
        for c in range(view)
        if 0 <= r + dr < view and 0 <= c + dc < view
    ]


def particle_pairs(view: int) -> jax.Array:
    """``(P, 2)`` the input cells of every particle position inside a ``view`` x ``view`` field, in the
    four orientations (156 for the 7x7 view): a particle's anchor cell and the anchor plus its
    orientation's offset (:data:`~sleepjax.foraging.environment.OFFSETS`)."""
    return jnp.array([(a, b) for a, b, _ in _positions(view)], jnp.int32)


#: Which task shows each particle kind (Task 1: horizontal and negative diagonal; Task 2: the others).
KIND_TASK = np.array([0, 1, 1, 0], np.int32)


def _other_cells(key, taken, count):
    """``count`` distinct random cells per row outside the mask ``taken (H, cells)``."""
    scores = jnp.where(taken, -1.0, jax.random.uniform(key, taken.shape))
    return lax.top_k(scores, count)[1]


def wired_detectors(key: jax.Array, n_hidden: int, fan_in: int, view: int, mixed=False) -> jax.Array:
    """``(n_hidden, fan_in)`` input cells of hand-wired particle detectors (:attr:`Hparams.wired`): the
    first two of each neuron are the two pixels of one particle position (every position wired to
    ``n_hidden / P`` neurons, ~5 for 784 over 156), the others distinct random cells (weighted 0).
    ``mixed`` (a traced bool; :attr:`Hparams.wired_mixed`): the third and fourth are the pixels of a
    second position, drawn among the positions of the other task's kinds that share no cell with the
    first, so that every neuron fires in both tasks (the first pair and the others as without it)."""
    positions = _positions(view)
    pairs = jnp.array([(a, b) for a, b, _ in positions], jnp.int32)
    kinds = jnp.array([k for _, _, k in positions], jnp.int32)
    k_order, k_others = jax.random.split(key)
    order = jax.random.permutation(k_order, jnp.arange(n_hidden) % pairs.shape[0])
    wired = pairs[order]
    cells = jnp.arange(view * view)

    def holds(pair):  # (H, cells): the cells of each neuron's pair
        return (cells[None, :] == pair[:, :1]) | (cells[None, :] == pair[:, 1:])

    single = jnp.concatenate([wired, _other_cells(k_others, holds(wired), fan_in - 2)], axis=1)
    # the second position: another task's kind, no cell shared with the first (random among those)
    kind_task = jnp.asarray(KIND_TASK)
    other_task = kind_task[kinds][None, :] != kind_task[kinds[order]][:, None]  # (H, P)
    shares = (pairs[None, :, :, None] == wired[:, None, None, :]).any(axis=(-1, -2))  # (H, P)
    allowed = other_task & ~shares
    k_second = jax.random.fold_in(key, 1)
    second = pairs[jnp.argmax(jnp.where(allowed, jax.random.uniform(k_second, allowed.shape), -1.0), axis=1)]
    both = holds(wired) | holds(second)
    double = jnp.concatenate([wired, second, _other_cells(k_others, both, fan_in - 4)], axis=1)
    return jnp.where(mixed, double, single).astype(jnp.int32)


def init_agent(key: jax.Array, config: NetConfig, hp: Hparams) -> Agent:
    """Random input wiring (9 distinct cells per hidden neuron), uniform random weights normalised to
    ``in_total`` per hidden neuron (capped at ``w_in_max``) and ``out_total`` per output neuron; with
    ``hp.wired`` > 0 the input wiring is :func:`wired_detectors` instead, ``hp.wired`` on each neuron's
    pair and 0 elsewhere."""
    config.check()
    k_idx, k_in, k_out = jax.random.split(key, 3)
    idx_keys = jax.random.split(k_idx, config.n_hidden)
    in_idx = jax.vmap(lambda k: jax.random.choice(k, config.n_in, (config.fan_in,), replace=False))(idx_keys)
    dtype = jnp.result_type(float)
    w_in = jax.random.uniform(k_in, (config.n_hidden, config.fan_in), dtype)
    w_in = jnp.minimum(w_in * (hp.in_total / jnp.sum(w_in, axis=1))[:, None], hp.w_in_max)
    # wired detectors from their own key, so that the default wiring's draws are unchanged
    wired = jnp.asarray(hp.wired, dtype) > 0
    mixed = jnp.asarray(hp.wired_mixed) > 0
    view = config.world.view
    pair_idx = wired_detectors(jax.random.fold_in(key, 7), config.n_hidden, config.fan_in, view, mixed)
    in_idx = jnp.where(wired, pair_idx, in_idx)
    pairs_in = jnp.where(mixed, 4, 2)  # the first two or four inputs carry the wired weight
    wired_w = jnp.where(jnp.arange(config.fan_in) < pairs_in, hp.wired, 0.0).astype(dtype)
    w_in = jnp.where(wired, jnp.broadcast_to(wired_w, w_in.shape), w_in)
    target = jnp.full((config.n_out,), hp.out_total, dtype)
    w_out = scale_inputs(jax.random.uniform(k_out, (config.n_hidden, config.n_out), dtype) ** hp.init_power, target)
    return Agent(
        in_idx.astype(jnp.int32),
        w_in,
        w_out,
        jnp.sum(w_out, axis=1),
        target,
        jnp.ones((), dtype),
        jnp.zeros((config.n_hidden,), dtype),
        jnp.zeros((), jnp.int32),
        jnp.zeros((), dtype),
        jnp.zeros((TASK_SLOTS, config.n_hidden), dtype),
        jnp.zeros((TASK_SLOTS,), jnp.int32),
    )


def rest(config: NetConfig) -> Neurons:
    """All neurons at rest, no conductance, no spike seen."""
    dtype = jnp.result_type(float)
    params = RulkovParams()
    return Neurons(
        rulkov_rest((config.n_hidden,), params, dtype),
        rulkov_rest((config.n_out,), params, dtype),
        jnp.zeros((config.n_hidden,), dtype),
        jnp.zeros((config.n_out,), dtype),
        jnp.zeros((), dtype),
        PAIRING_RULES[config.pairing].init(config.n_hidden, config.n_out, config.stdp_params),
    )


def _release(key, shape, hp: Hparams, dtype):
    """Release variability: each spike's efficacy scaled by ``1 + R xi``, ``xi`` uniform in [-1, 1]."""
    return 1.0 + hp.release * jax.random.uniform(key, shape, dtype, -1.0, 1.0)


class Release(NamedTuple):
    """The hidden->output release of one cycle (:func:`release_draws`): ``w_cycle (H, M)`` the mean
    efficacies, ``spread (H, M)`` each event's efficacy variance, ``z (steps, M)`` standard normals."""

    w_cycle: jax.Array
    spread: jax.Array
    z: jax.Array


def release_draws(key: jax.Array, w_out: jax.Array, hp: Hparams, steps: int) -> Release:
    """Release variability of the hidden->output synapses for one cycle of ``steps`` steps.

    Per synaptic event (``hp.release_per_event`` 1): every spike's efficacy is ``w (1 + R xi)`` with its
    own ``xi``, Gaussian with the variance of a uniform on [-1, 1] (1/3), so that the summed efficacy of
    one step's spikes at an output is exactly one Gaussian, ``sum w + sqrt(R^2 / 3 sum w^2) z``: eight
    draws per step instead of one per synapse. Per cycle (0, the form before): one uniform ``xi`` per
    synapse for the whole cycle, and no per-step spread."""
    per_event = jnp.asarray(hp.release_per_event) > 0
    w_cycle = w_out * jnp.where(per_event, 1.0, _release(key, w_out.shape, hp, w_out.dtype))
    spread = jnp.where(per_event, hp.release**2 / 3.0 * w_out**2, 0.0)
    # the events' draws from a stream of their own: per cycle, the draws are those made before
    z = jax.random.normal(jax.random.fold_in(key, 4), (steps, w_out.shape[1]), w_out.dtype)
    return Release(w_cycle, spread, z)


def excitation(spikes: jax.Array, release: Release, step: jax.Array) -> jax.Array:
    """``(M,)`` the excitatory efficacy arriving at the outputs from the hidden ``spikes (H,)`` (float)
    of step ``step``: ``spikes @ w_cycle + sqrt(spikes @ spread) z[step]``."""
    return spikes @ release.w_cycle + jnp.sqrt(spikes @ release.spread) * release.z[step]


def simulate_cycle(
    agent: Agent,
    neurons: Neurons,
    view: jax.Array,
    sleep_rate: jax.Array | None,
    hp: Hparams,
    key: jax.Array,
    config: NetConfig,
) -> tuple[Neurons, CycleOutput]:
    """Run one movement cycle of ``config.steps`` steps.

    Args:
        view: ``(49,)`` bool occupied input cells; each fires one pulse at step 0.
        sleep_rate: ``None`` awake; else ``(H,)`` Poisson rates (Hz) driving the hidden neurons
            through synapses of weight ``hp.w_sleep`` (and ``view`` should be all False).
    """
    dtype = agent.w_out.dtype
    k_pulse, k_release, k_drive = jax.random.split(key, 3)
    k_noise = jax.random.fold_in(key, 3)  # a separate stream: without noise the other draws are unchanged
    pulse = jnp.sum(agent.w_in * view[agent.in_idx].astype(dtype), axis=1)  # (H,)
    pulse = pulse * _release(k_pulse, pulse.shape, hp, dtype)
    draws = release_draws(k_release, agent.w_out, hp, config.steps)
    inhibition = -mirrored_inhibition(agent.w_out)  # (H,) positive inhibitory weights
    half = config.steps // 2
    # awake, only the pairings of the decision window (the spikes that chose the move) are credited
    credit_steps = half if sleep_rate is None and config.credit == "decision" else config.steps
    stdp_params = config.stdp_params
    pair_step = PAIRING_RULES[config.pairing].step
    rulkov = RulkovParams()

    def step(credited, carry, inputs):
        n, counts, trace, a_in, spikes_h = carry
        t, drive, spont = inputs
        hidden, s_h = rulkov_step(n.hidden, synaptic_current(n.g_hidden, n.hidden.v, hp.g_in, hp.e_exc), rulkov)
        i_out = synaptic_current(n.g_exc, n.out.v, hp.g_exc, hp.e_exc) + synaptic_current(
            n.g_inh, n.out.v, hp.g_inh, hp.e_inh
        )
        out, s_o = rulkov_step(n.out, i_out, rulkov)
        arriving = jnp.where(t == 0, pulse, 0.0)
        if sleep_rate is not None:
            arriving = arriving + hp.w_sleep * drive.astype(dtype)
        release = s_h.astype(dtype)
        stdp, d_trace = pair_step(n.stdp, s_h, s_o, stdp_params)
        n = Neurons(
            hidden,
            out,
            conductance_step(n.g_hidden, arriving, hp.gamma_exc),
            conductance_step(n.g_exc, excitation(release, draws, t) + hp.w_noise * spont.astype(dtype), hp.gamma_exc),
            conductance_step(n.g_inh, jnp.dot(release, inhibition), hp.gamma_inh),
            stdp,
        )
        # all input pulses are at step 0, so the input->hidden trace of a hidden spike at step t is
        # the STDP kernel at age t, on every synapse whose cell was occupied (applied after the scan)
        a_in = a_in + s_h.astype(dtype) * stdp_kernel(jnp.full(s_h.shape, t), stdp_params.k_plus, stdp_params)
        counts = counts + (s_o & (t < half)).astype(jnp.int32)
        if credited:  # uncredited steps leave the increment unused, and the compiler drops it
            trace = trace + d_trace
        return (n, counts, trace, a_in, spikes_h + s_h.astype(jnp.int32)), None

    h = config.n_hidden
    init = (
        neurons,
        jnp.zeros((config.n_out,), jnp.int32),
        jnp.zeros((h, config.n_out), dtype),
        jnp.zeros((h,), dtype),
        jnp.zeros((h,), jnp.int32),
    )
    steps = jnp.arange(config.steps)
    drive = None if sleep_rate is None else poisson_train(k_drive, sleep_rate, config.steps, config.dt_ms)
    # spontaneous events on the outputs, awake only (all False asleep or at noise_rate 0: adds exactly 0)
    rate = jnp.full((config.n_out,), hp.noise_rate if sleep_rate is None else 0.0, dtype)
    spont = poisson_train(k_noise, rate, config.steps, config.dt_ms)
    # the credited steps, then the others (awake, the second half of the cycle) in a scan of their own
    inputs = (steps, drive, spont)
    carry, _ = lax.scan(partial(step, True), init, jax.tree.map(lambda x: x[:credit_steps], inputs))
    if credit_steps < config.steps:
        carry, _ = lax.scan(partial(step, False), carry, jax.tree.map(lambda x: x[credit_steps:], inputs))
    neurons, counts, trace, a_in, spikes_h = carry
    trace_in = a_in[:, None] * view[agent.in_idx].astype(dtype)
    return neurons, CycleOutput(counts, trace, trace_in, spikes_h)
