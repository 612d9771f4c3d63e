"""Calibration probes of the foraging agent's open constants, on calibration seeds (never the
reported trials, which use seeds 0..N-1; these use seeds from 1000).

``sweep``: Task 1 learning for several settings at once (vmapped over settings): the unsupervised
period, Task 1 training, then tests on both tasks; prints the training curve and the test scores.

    python experiments/foraging_calibration.py sweep --steps 200 --task1 4000 \\
        --grid "[dict(g_exc=2.0, g_inh=2.4, learn_gain=g) for g in (1.0, 30.0)]"

``credit``: how selective one reward is. For 30 random views it runs a cycle, rewards it once
(S = +1) and reruns the same view with the same noise; it reports the first-half spikes of the chosen
output, of the other outputs that fired (credited alike) and of the silent ones, before and after: the
chosen output should gain most and the silent ones nothing if the reward credits the move made. It
also compares the views' spike counts in a rested network with those when the neurons carry their state
from one view to the next, as they do while foraging.

    python experiments/foraging_calibration.py credit --grid "[dict(learn_gain=g) for g in (1.0, 30.0)]"

``policy``: Task 1 training in chunks, each followed by the one-step policy on thousands of fresh views
of each task (low-noise learning curves; with output noise, ``noise_rate``, also Task 1 on the same
views without it), then the weights each output gives the detectors of the rewarded and the punished
kind at its move's cell.

    python experiments/foraging_calibration.py policy --chunk 1500 --chunks 6 --grid "[dict(learn_gain=10.0)]"

``code``: what the hidden code says about the moves, to tell whether the code or the learning rule
limits the agent. After the unsupervised period (and ``--task1`` Task 1 training cycles, 0 for none) it
shows ``--views`` fresh Task 1 views, once to a rested network and once with the neurons carrying their
state from view to view as while foraging, and records every hidden neuron's first-half spike count and
what each of the 8 moves would eat. On the last third of the views it scores one-step greedy policies
(rewarded / (rewarded + punished) eaten, and how often they eat): the oracle, random moves, linear
readouts fitted (ridge least squares, offline, on the first two thirds) to the pixels, to the pixels
and their adjacent pairs, and to the hidden code; the learned hidden->output weights used as a linear
readout of the same code; the network's own output spikes (and how often each output fires when its
cell holds the rewarded kind, the punished kind or nothing); and the weights a reward-only Hebbian rule
tends to (:func:`hebbian`). It also gives hidden spikes per view, the fraction of them from a neuron
whose two strongest occupied inputs are one particle, and after training how closely each output's
weights follow its Hebbian template (which outputs learned their own cell).

    python experiments/foraging_calibration.py code --unsupervised 500 --task1 3000 --views 9000 --grid "[dict()]"

``chance``: the test score of an agent whose outputs never fire (it keeps its direction and turns only
when it explores), over ``--keys`` trials of ``--test`` cycles, and what it eats while moving in each
direction: a particle lying along the direction of travel is hit half as often as one across it, so an
agent that keeps one direction scores away from 0.5 without telling the kinds apart.

    python experiments/foraging_calibration.py chance --test 1000 --keys 2000

``shares``: the same share of each kind's detectors in each output's input, read from the first
trial's weights stored in a record made with wired detectors.

    python experiments/foraging_calibration.py shares --record experiments/results/foraging_wired.json

``table``: a record's table beside the paper's, and the settings it was made with that differ from
today's defaults (computes nothing).

    python experiments/foraging_calibration.py table --record experiments/results/foraging_wired.json

``stages``: the experiment's own stages (:mod:`sleepjax.foraging.trials`: the unsupervised period,
Task 1, then the ``--conditions`` asked for) for every setting on ``--keys`` calibration trials (seeds
from 1000), all vmapped: the test scores after Task 1 and after each condition, each condition's Task 2
training curve, the activity normalisation at its end, and, with wired detectors, which kinds'
detectors carry each output's input after each stage (how much of Task 1 a condition kept, and whether
Task 2 took any of it), on how many hidden neurons each output's input rests (:func:`effective_inputs`),
the weight each output gives the rewarded kinds' detectors at its move's cell (did it learn its own
cell) and how far each kind's detectors' summed outputs moved from their start (:func:`row_growth`);
at the end, the mean and SD of the scores over the keys of each setting.

    python experiments/foraging_calibration.py stages --task1 5000 --task2 3000 --keys 2 \
        --conditions sequential,interleaved_sleep --grid "[dict(wired=0.05)]"

Besides the experiment's conditions, ``stages`` takes ``sleep_after_task1``: sleep alone (as long as
``sleep_only`` sleeps) from the Task-1-trained network, to see what sleep by itself does to a learned task.
With ``--anchor`` the conditions after Task 1 take the rewarded update's ``W_i0`` from the summed
outputs at the end of Task 1 instead of at initialisation (the factor ``W_i0 / W_i`` then starts at 1
for every hidden neuron), to see how much of what a condition does comes from that factor's reference.

``nap``: sleep alone (``--sleep`` cycles) from the Task-1-trained network of each setting and key (the
same unsupervised period and Task 1 as ``stages``). First the sleep drive: the Poisson spikes it brings
to the whole hidden layer per cycle (the summed awake rates times ``sleep_gain``). Then, at ten evenly
spaced points: the activity normalisation sleep divides by, the largest change one spike pair can make
to a weight in log terms (``learn_gain * s_sleep * K * sum_k 1 / (t - t_k + c)`` over the eligibility store's
slots, divided by the normalisation, with ``W_i0 / W_i`` at 1), the outputs' first-half spikes per
cycle, and each output's weight from the rewarded kind's detectors at its own move cell (relative to
its mean; with wired detectors). It shows whether sleep keeps, sharpens or scrambles the mapping that
Task 1 learned, and how fast.

    python experiments/foraging_calibration.py nap --unsupervised 500 --task1 30000 --task2 10000 \
        --sleep 3000 --keys 4 --grid "[dict(wired=0.05, s_sleep=s) for s in (0.5, 0.05)]"
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import sys
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from sleepjax.app import foraging
from sleepjax.app.arguments import positive_int
from sleepjax.app.records import Record
from sleepjax.foraging import trials
from sleepjax.foraging.agent import (
    TASK1,
    TASK2,
    choose_move,
    discriminability,
    learn_output,
    make_task,
    sleep_phase,
    sleep_rates,
    sleeps_with_own_norm,
    unsupervised_task,
    wake_phase,
)
from sleepjax.foraging.environment import MOVES, NOTHING, OFFSETS, observe, occupancy, reset, step
from sleepjax.foraging.network import Hparams, NetConfig, init_agent, particle_pairs, rest, simulate_cycle
from sleepjax.foraging.schedules import CONDITIONS, INTERLEAVINGS, Durations, schedule
from sleepjax.spiking import PAIRINGS, connected, delays, store_init

CALIBRATION_SEED = 1000

#: Probe-only condition of ``stages``: sleep alone after Task 1 (``sleep_only``'s schedule, run from the
#: Task-1-trained network instead of the naive one): what sleep does to a learned task by itself.
SLEEP_AFTER_TASK1 = "sleep_after_task1"
#: Points at which ``nap`` reports the weights, evenly spread over its ``--sleep`` cycles.
NAP_POINTS = 10
#: The largest value of each length with ``--smoke``: a check that a command runs, not a measurement.
SMOKE = {
    "steps": 20,
    "hidden": 64,
    "unsupervised": 2,
    "task1": 10,
    "task2": 4,
    "block": 2,
    "test": 2,
    "keys": 1,
    "sleep": 10,
    "chunk": 4,
    "chunks": 1,
    "views": 30,
}


def net_config(args) -> NetConfig:
    """The network of a probe: the run's, or a small one with ``--smoke``."""
    return NetConfig(steps=args.steps, pairing=args.pairing, n_hidden=args.hidden)


def probe_durations(args) -> Durations:
    """The phase lengths of ``stages`` and ``nap``, in blocks of ``--block`` cycles."""
    return Durations(
        args.unsupervised,
        args.task1,
        args.task2,
        args.block,
        args.test,
        curve_block=args.block,
        interleave=args.interleave,
    )


def setting(kw: dict) -> Hparams:
    """The constants of one ``--grid`` entry: the defaults with its overrides, checked as a run's are
    (``ValueError`` naming an unknown constant or one out of its range)."""
    return foraging.Config(hparams=tuple(kw.items())).hp()


def stacked(grid: list[dict]) -> Hparams:
    return jax.tree.map(lambda *x: jnp.asarray(x, jnp.result_type(float)), *map(setting, grid))


def sweep(args, grid):
    config = net_config(args)
    unsup = wake_phase(args.unsupervised, config, "input")
    train = wake_phase(args.task1, config, "output")
    test = wake_phase(args.test, config, "none")
    t1, t2 = make_task(*TASK1), make_task(*TASK2)

    def one(hp, key):
        ks = jax.random.split(key, 6)
        agent = init_agent(ks[0], config, hp)
        state = unsup.init(agent, ks[1])
        agent, state, _ = unsup.apply(agent, state, unsupervised_task(), hp, ks[2])
        agent, state, m = train.apply(agent, state, t1, hp, ks[3])
        _, _, e1 = test.apply(agent, state, t1, hp, ks[4])
        _, _, e2 = test.apply(agent, state, t2, hp, ks[5])
        curve = discriminability(m["eaten"].reshape(10, -1), t1)
        # Task 1 test split by whether an output spike chose the move (else the last move was repeated)
        spiked = e1["out_spikes"] > 0
        by_spike = [discriminability(jnp.where(mask, e1["eaten"], NOTHING), t1) for mask in (spiked, ~spiked)]
        scores = discriminability(e1["eaten"], t1), discriminability(e2["eaten"], t2), jnp.sum(e1["eaten"] >= 0)
        return curve, *scores, jnp.mean(spiked), *by_spike

    start = time.perf_counter()
    keys = jax.random.split(jax.random.key(CALIBRATION_SEED), len(grid))
    out = jax.block_until_ready(jax.jit(jax.vmap(one))(stacked(grid), keys))
    print(f"{len(grid)} settings in {time.perf_counter() - start:.0f} s")
    for kw, curve, s1, s2, n, frac, s_spike, s_silent in zip(grid, *map(np.asarray, out)):
        print(kw, "curve", np.round(curve, 2), f"test Task 1 {s1:.3f}  Task 2 {s2:.3f}  eaten {n} in {args.test}")
        print(f"    Task 1 test: {frac:.2f} of moves chosen by a spike, scoring {s_spike:.3f}; others {s_silent:.3f}")


def credit(args, grid):
    config = net_config(args)
    worlds = jax.vmap(lambda k: reset(k, jnp.ones(4, bool)))(jax.random.split(jax.random.key(CALIBRATION_SEED), 30))
    views = jax.vmap(lambda w: observe(w).reshape(-1))(worlds)
    keys = jax.random.split(jax.random.key(CALIBRATION_SEED + 1), 30)
    for kw in grid:
        hp = setting(kw)
        agent = init_agent(jax.random.key(CALIBRATION_SEED), config, hp)

        def cycle(a, view, key, hp=hp):
            return simulate_cycle(a, rest(config), view, None, hp, key, config)[1]

        before = jax.jit(jax.vmap(cycle, in_axes=(None, 0, 0)))(agent, views, keys)

        def carried(neurons, view_key, hp=hp, agent=agent):
            view, key = view_key
            neurons, out = simulate_cycle(agent, neurons, view, None, hp, key, config)
            return neurons, (out.hidden_spikes, out.counts)

        # the same views in a row, the neurons carrying their state from cycle to cycle as in foraging
        _, (hidden_c, counts_c) = jax.jit(lambda v, k: lax.scan(carried, rest(config), (v, k)))(views, keys)
        calm = hp._replace(explore_base=0.0, explore_step=0.0)
        moves = jax.vmap(lambda c, k, calm=calm: choose_move(c, 0, 0, calm, k))(before.counts, keys)

        def reward(trace, counts, hp=hp, agent=agent):
            return learn_output(agent, store_init(config.slots, config.n_hidden, 8), trace, 1.0, counts, hp, config)[0]

        agents = jax.vmap(reward)(before.trace, before.counts)
        after = jax.jit(jax.vmap(cycle))(agents, views, keys)
        c1, c2 = np.asarray(before.counts, float), np.asarray(after.counts, float)
        fired = c1.max(1) > 0  # views where a spike chose the move (else the move is the last one)
        chosen = np.zeros_like(c1, bool)
        chosen[np.arange(len(c1)), np.asarray(moves)] = True
        groups = {"chosen": chosen, "co-fired": (c1 > 0) & ~chosen, "silent": c1 == 0}
        parts = []
        for name, mask in groups.items():
            m = mask & fired[:, None]
            parts.append(f"{name} {c1[m].mean():.2f} -> {c2[m].mean():.2f} (n {m.sum()})")
        # after the reward, how often is the chosen output the only maximum (the move repeated for sure)
        sole = (c2[chosen] > 0) & (np.sum(c2 == c2[chosen][:, None], axis=1) == 1)
        print(kw, f"views with a spike {fired.sum()}/30; first-half spikes per output:", "; ".join(parts))
        print(f"    chosen output alone at the maximum after the reward: {sole[fired].mean():.2f}")
        print(
            f"    per view, rested / carried state: hidden spikes {np.sum(before.hidden_spikes, 1).mean():.1f} / "
            f"{np.sum(hidden_c, 1).mean():.1f}, first-half output spikes {c1.sum(1).mean():.2f} / "
            f"{np.sum(counts_c, 1).mean():.2f}"
        )


def detectors(in_idx: np.ndarray, kind: int, move: int, view: int = 7) -> np.ndarray:
    """Hidden neurons wired to both pixels of some particle of ``kind`` covering the cell of ``move``
    (neither pixel the agent's own cell): the detectors that tell that particle from the others there."""
    half = view // 2
    (mr, mc), (dr, dc) = np.asarray(MOVES[move]), np.asarray(OFFSETS[kind])
    found = np.zeros(in_idx.shape[0], bool)
    for ar, ac in ((mr, mc), (mr - dr, mc - dc)):  # the move's cell is the first or the second pixel
        pixels = ((ar, ac), (ar + dr, ac + dc))
        if (0, 0) in pixels or max(abs(x) for p in pixels for x in p) > half:
            continue
        c1, c2 = ((r + half) * view + c + half for r, c in pixels)
        found |= (in_idx == c1).any(1) & (in_idx == c2).any(1)
    return found


def detector_weights(agent, kind: int) -> np.ndarray:
    """``(8,)``: each output's mean weight from the detectors of ``kind`` at its move's cell, relative
    to its mean weight (1: no preference; learning Task 1 should raise it for the rewarded kind)."""
    w, idx = np.asarray(agent.w_out), np.asarray(agent.in_idx)
    return np.array([w[detectors(idx, kind, k), k].mean() / w[:, k].mean() for k in range(w.shape[1])])


def naive_agent(hp, key, unsup, config):
    """A fresh network after the unsupervised period ``unsup``: ``(agent, wake state)``."""
    agent = init_agent(key, config, hp)
    state = unsup.init(agent, key)
    agent, state, _ = unsup.apply(agent, state, unsupervised_task(), hp, jax.random.fold_in(key, 1))
    return agent, state


def policy(args, grid):
    """Task 1 training in chunks; after each, the one-step policy on ``--views`` fresh random views of
    each task (no exploration, move from the network; silent: a random move): rewarded / (rewarded +
    punished) eaten. A low-noise learning curve (thousands of independent views instead of the few
    particles a test phase eats); at the end, each output's weights from the detectors of the two
    Task 1 kinds at its move's cell (:func:`detector_weights`)."""
    config = net_config(args)
    unsup = wake_phase(args.unsupervised, config, "input")
    train = wake_phase(args.chunk, config, "output")
    tasks = make_task(*TASK1), make_task(*TASK2)

    def probe(agent, hp, key, task):
        calm = hp._replace(explore_base=0.0, explore_step=0.0)

        def one(k):
            k_world, k_net, k_move, k_step = jax.random.split(k, 4)
            world = reset(k_world, task.present)
            out = simulate_cycle(agent, rest(config), observe(world).reshape(-1), None, hp, k_net, config)[1]
            move = choose_move(out.counts, jax.random.randint(k_move, (), 0, 8), 0, calm, k_move)
            return step(world, move, k_step, task.present)[1]

        eaten = lax.map(one, jax.random.split(key, args.views), batch_size=250)
        return discriminability(eaten, task), jnp.sum((eaten == task.rewarded) | (eaten == task.punished))

    def chunk(agent, state, hp, key):
        agent, state, _ = train.apply(agent, state, tasks[0], hp, key)
        scores = [probe(agent, hp, jax.random.fold_in(key, i), task) for i, task in enumerate(tasks)]
        # the same Task 1 views without the output noise: what was learned, apart from the noise's moves
        quiet = probe(agent, hp._replace(noise_rate=0.0 * hp.noise_rate), jax.random.fold_in(key, 0), tasks[0])
        return agent, state, [*scores, quiet]

    hps = stacked(grid)
    keys = jax.random.split(jax.random.key(CALIBRATION_SEED), len(grid))
    agent, state = jax.jit(jax.vmap(lambda hp, key: naive_agent(hp, key, unsup, config)))(hps, keys)
    run = jax.jit(jax.vmap(chunk))
    start_time = time.perf_counter()
    for c in range(args.chunks):
        agent, state, scores = run(agent, state, hps, jax.vmap(lambda k, c=c: jax.random.fold_in(k, 100 + c))(keys))
        print(f"after {(c + 1) * args.chunk} Task 1 cycles ({time.perf_counter() - start_time:.0f} s)")
        (s1, n1), (s2, n2), (q1, m1) = (tuple(map(np.asarray, s)) for s in scores)
        for i, kw in enumerate(grid):
            print(f"    {kw}: Task 1 {s1[i]:.3f} (eaten {n1[i]})  Task 2 {s2[i]:.3f} (eaten {n2[i]})", flush=True)
            if kw.get("noise_rate", 0.0) and kw.get("w_noise", 0.0):
                print(f"        Task 1 without the output noise {q1[i]:.3f} (eaten {m1[i]})", flush=True)
    print("weights from the detectors at each move's cell (relative to the output's mean; 8 outputs):")
    for i, kw in enumerate(grid):
        one = jax.tree.map(lambda x, i=i: x[i], agent)
        for name, kind in zip(("rewarded", "punished"), TASK1):
            print(f"    {kw} {name}: {np.round(detector_weights(one, kind), 2)}")


def move_labels(world) -> jax.Array:
    """``(8,)``: the kind of particle on the cell of each move (:data:`NOTHING` if empty)."""
    grid = occupancy(world)
    cells = (world.agent[None] + MOVES) % grid.shape[0]
    return grid[cells[:, 0], cells[:, 1]] - 1


def ridge_values(x_train, y_train, x_test, lambdas=(0.1, 1.0, 10.0, 100.0, 1000.0)):
    """Linear least-squares readout of the move values ``y (N, 8)`` from features ``x (N, F)`` (plus a
    bias), ridge-regularised; the penalty is the one of ``lambdas`` with the least squared error on the
    last quarter of the training views when fitted on the rest. Returns the predicted values of
    ``x_test``."""

    def fit(x, y, lam):
        mean = x.mean(0)
        xc = np.concatenate([x - mean, np.ones((len(x), 1))], axis=1)
        a = xc.T @ xc + lam * np.diag(np.r_[np.ones(x.shape[1]), 0.0])
        w = np.linalg.solve(a, xc.T @ y)
        return lambda z: np.concatenate([z - mean, np.ones((len(z), 1))], axis=1) @ w

    cut = len(x_train) * 3 // 4
    errors = [np.mean((fit(x_train[:cut], y_train[:cut], lam)(x_train[cut:]) - y_train[cut:]) ** 2) for lam in lambdas]
    return fit(x_train, y_train, lambdas[int(np.argmin(errors))])(x_test)


def greedy_score(chosen: np.ndarray, rewarded: int, punished: int) -> str:
    """Discriminability of the kinds ``chosen (N,)`` eaten by a policy, and how often it eats at all."""
    good, bad = np.sum(chosen == rewarded), np.sum(chosen == punished)
    return f"{good / max(good + bad, 1):.3f} (eats on {(good + bad) / len(chosen):.3f} of views, n {good + bad})"


def hebbian(spikes: np.ndarray, values: np.ndarray, power: float) -> np.ndarray:
    """``(H, 8)``: what a reward-only Hebbian rule with equal summed input per output converges to,
    each output's weights the mean hidden spike counts over the views whose move eats the rewarded kind
    (``values == 1``), raised to ``power`` (a multiplicative rule sharpens them) and normalised per output."""
    w = np.stack([spikes[values[:, k] == 1].mean(0) for k in range(values.shape[1])], axis=1) ** power
    return w / np.maximum(w.sum(0), 1e-12)


def firing_by_label(fired: np.ndarray, labels: np.ndarray, rewarded: int, punished: int) -> str:
    """How often each output fires in the first half (``fired (N, 8)``) when its move's cell holds the
    rewarded kind, the punished kind, or nothing (``labels (N, 8)``): an output that learned the task
    fires for the first and not the others."""
    parts = []
    for name, kind in (("rewarded", rewarded), ("punished", punished), ("nothing", NOTHING)):
        rate = [fired[labels[:, k] == kind, k].mean() for k in range(fired.shape[1])]
        parts.append(f"{name} {np.round(rate, 2)}")
    return "each output fires when its cell holds: " + "; ".join(parts)


def pair_features(views: np.ndarray, view: int = 7) -> np.ndarray:
    """``(N, 49 + 156)``: the pixels and the product of every adjacent (8-neighbour) pair of pixels
    (:func:`~sleepjax.foraging.network.particle_pairs`), the code of an ideal pair detector (two
    adjacent occupied pixels are always one particle)."""
    pairs = np.asarray(particle_pairs(view))
    return np.concatenate([views, views[:, pairs[:, 0]] & views[:, pairs[:, 1]]], axis=1).astype(float)


def strongest_pairs(agent, views: np.ndarray, spikes: np.ndarray, view: int = 7) -> tuple[float, float]:
    """Of all hidden spikes ``spikes (N, H)``, the fraction from a neuron whose two strongest inputs
    among the view's occupied cells are adjacent (one particle), and the fraction from a neuron with
    fewer than two occupied inputs."""
    w, idx = np.asarray(agent.w_in), np.asarray(agent.in_idx)
    one = single = 0.0
    for start in range(0, len(views), 500):
        v, s = views[start : start + 500], spikes[start : start + 500]
        active = v[:, idx]  # (n, H, 9)
        top = np.argsort(np.where(active, w[None], -1.0), axis=-1)[..., -2:]  # (n, H, 2)
        cells = np.take_along_axis(np.broadcast_to(idx, active.shape), top, axis=-1)
        rows, cols = cells // view, cells % view
        adjacent = np.maximum(np.abs(rows[..., 0] - rows[..., 1]), np.abs(cols[..., 0] - cols[..., 1])) == 1
        few = active.sum(-1) < 2
        one += np.sum(s * (adjacent & ~few))
        single += np.sum(s * few)
    total = max(spikes.sum(), 1)
    return one / total, single / total


def pair_fraction(agent) -> float:
    """The fraction of hidden neurons whose two strongest input weights come from adjacent cells (one
    particle position; 156 adjacent pairs among the 1176 pairs of 49 cells: chance 0.13)."""
    w, idx = np.asarray(agent.w_in), np.asarray(agent.in_idx)
    top = np.take_along_axis(idx, np.argsort(-w, axis=1, kind="stable")[:, :2], axis=1)
    (r1, c1), (r2, c2) = divmod(top[:, 0], 7), divmod(top[:, 1], 7)
    return float(np.mean(np.maximum(np.abs(r1 - r2), np.abs(c1 - c2)) == 1))


def code(args, grid):
    """What the hidden code after the unsupervised period tells about the moves (module docstring)."""
    config = net_config(args)
    decision = config._replace(steps=args.steps // 2)  # the first half: the spikes that choose the move
    unsup = wake_phase(args.unsupervised, config, "input")
    rewarded, punished = TASK1
    task = make_task(*TASK1)
    world_keys = jax.random.split(jax.random.key(CALIBRATION_SEED + 2), args.views)
    worlds = jax.jit(jax.vmap(lambda k: reset(k, task.present)))(world_keys)
    views = jax.vmap(lambda w: observe(w).reshape(-1))(worlds)
    labels = np.asarray(jax.vmap(move_labels)(worlds))
    net_keys = jax.random.split(jax.random.key(CALIBRATION_SEED + 3), args.views)

    def codes(hp, key):
        agent, state = naive_agent(hp, key, unsup, config)
        if args.task1:
            agent, _, _ = wake_phase(args.task1, config, "output").apply(
                agent, state, task, hp, jax.random.fold_in(key, 2)
            )
        calm = hp._replace(explore_base=0.0, explore_step=0.0)

        def cycle(neurons, view_key):
            """The view's first-half hidden spikes, the network's move (silent: a random one) and the
            neurons after the whole cycle; the same key gives the same first half in both runs."""
            view, k = view_key
            first = simulate_cycle(agent, neurons, view, None, hp, k, decision)[1].hidden_spikes
            neurons, out = simulate_cycle(agent, neurons, view, None, hp, k, config)
            last = jax.random.randint(jax.random.fold_in(k, 1), (), 0, config.n_out)
            move = choose_move(out.counts, last, 0, calm, jax.random.fold_in(k, 2))
            return neurons, (first, move, out.counts > 0)

        rested = lax.map(lambda view_key: cycle(rest(config), view_key)[1], (views, net_keys), batch_size=250)
        _, carried = lax.scan(cycle, rest(config), (views, net_keys))
        return agent, rested, carried

    start_time = time.perf_counter()
    keys = jax.random.split(jax.random.key(CALIBRATION_SEED), len(grid))
    agents, rested_all, carried_all = jax.block_until_ready(jax.jit(jax.vmap(codes))(stacked(grid), keys))
    seconds = time.perf_counter() - start_time
    print(f"{len(grid)} settings, {args.task1} Task 1 cycles, {args.views} views: {seconds:.0f} s")
    views = np.asarray(views)
    values = np.where(labels == rewarded, 1.0, np.where(labels == punished, -1.0, 0.0))
    cut = len(views) * 2 // 3
    test_labels = labels[cut:]
    rng = np.random.default_rng(CALIBRATION_SEED)

    def chosen(predicted):
        return test_labels[np.arange(len(test_labels)), np.argmax(predicted, axis=1)]

    def readout(x):
        return greedy_score(chosen(ridge_values(x[:cut], values[:cut], x[cut:])), rewarded, punished)

    oracle = np.argmax(values[cut:] + 1e-3 * rng.random(values[cut:].shape), axis=1)
    print("one-step greedy policy on the last third of the views, trained on the first two thirds:")
    print(f"    oracle (true labels)     {greedy_score(chosen(np.eye(8)[oracle]), rewarded, punished)}")
    print(f"    random moves             {greedy_score(chosen(rng.random(values[cut:].shape)), rewarded, punished)}")
    print(f"    linear on the 49 pixels  {readout(views.astype(float))}")
    print(f"    pixels + adjacent pairs  {readout(pair_features(views))}")
    for i, kw in enumerate(grid):
        agent = jax.tree.map(lambda x, i=i: x[i], agents)
        w, cap = np.asarray(agent.w_in), float(stacked([kw]).w_in_max[0])
        print(
            f"{kw}: input weights per hidden neuron at >= 0.9 of the cap {np.mean(np.sum(w >= 0.9 * cap, 1)):.2f}; "
            f"neurons whose two strongest inputs are one particle position {pair_fraction(agent):.3f} (chance 0.13)"
        )
        for name, (spikes, moves, fired) in (("rested", rested_all), ("carried", carried_all)):
            spikes, moves, fired = np.asarray(spikes[i], float), np.asarray(moves[i]), np.asarray(fired[i])
            one, single = strongest_pairs(agent, views, spikes)
            # inhibition is the same from a hidden neuron to every output: the argmax of the summed
            # excitatory drive is the learned weights' own linear choice
            learned = chosen(spikes[cut:] @ np.asarray(agent.w_out))
            hebb = {
                p: greedy_score(chosen(spikes[cut:] @ hebbian(spikes[:cut], values[:cut], p)), rewarded, punished)
                for p in (1.0, 4.0)
            }
            print(
                f"    {name}: ideal readout of the hidden code {readout(spikes)}; learned weights as a linear "
                f"readout {greedy_score(learned, rewarded, punished)}; the network's output spikes "
                f"{greedy_score(test_labels[np.arange(len(moves) - cut), moves[cut:]], rewarded, punished)}, "
                f"no output spike on {np.mean(~fired.any(1)):.2f} of views"
            )
            print(f"        {firing_by_label(fired, labels, rewarded, punished)}")
            print(f"        reward-only Hebbian readout {hebb[1.0]}; sharpened (power 4) {hebb[4.0]}")
            if args.task1:  # which outputs learned their own cell: weights against the Hebbian template
                template = hebbian(spikes[:cut], values[:cut], 1.0)
                w_out = np.asarray(agent.w_out)
                r = [np.corrcoef(w_out[:, k], template[:, k])[0, 1] for k in range(w_out.shape[1])]
                print(f"        correlation of each output's weights with its Hebbian template {np.round(r, 2)}")
            print(
                f"        {spikes.sum(1).mean():.1f} hidden spikes per view, {np.mean(spikes.sum(0) > 0):.2f} of the "
                f"neurons ever fire; of the spikes {one:.2f} from a neuron whose two strongest occupied inputs are "
                f"one particle, {single:.2f} from a neuron with one occupied input"
            )


def detector_kinds(in_idx: np.ndarray, view: int = 7) -> np.ndarray:
    """``(H,)`` the kind (orientation) of particle each wired detector's first two inputs form."""
    offsets = [int(dr) * view + int(dc) for dr, dc in np.asarray(OFFSETS)]
    return np.array([offsets.index(int(b) - int(a)) for a, b in in_idx[:, :2]])


def kind_shares(w: np.ndarray, kinds: np.ndarray) -> np.ndarray:
    """``(4, 8)``: the share of each kind's detectors (:func:`detector_kinds`) in each output's input."""
    return np.stack([w[kinds == k].sum(0) for k in range(4)]) / w.sum(0)


def effective_inputs(w: np.ndarray) -> np.ndarray:
    """``(8,)``: how many hidden neurons carry each output's input, ``(sum w)^2 / sum w^2`` (784 for
    equal weights, n for n equal weights and the rest 0)."""
    return np.sum(w, 0) ** 2 / np.sum(w**2, 0)


def row_growth(w_out: np.ndarray, w_out0: np.ndarray, kinds: np.ndarray) -> np.ndarray:
    """``(4,)``: the mean over each kind's detectors (:func:`detector_kinds`) of ``W_i / W_i0``, the
    summed output relative to its start; the rewarded update multiplies every change of neuron ``i`` by
    ``W_i0 / W_i``, so a detector whose output shrank (< 1) learns faster than one whose output grew."""
    ratio = np.sum(w_out, 1) / w_out0
    return np.array([ratio[kinds == k].mean() for k in range(4)])


def drained(w_out: np.ndarray, w_out0: np.ndarray, kinds: np.ndarray) -> np.ndarray:
    """``(4,)``: the fraction of each kind's detectors that the rewarded update treats as disconnected
    for good (:func:`~sleepjax.spiking.eligibility.connected`), judged in float32, the runs' dtype
    unless ``JAX_ENABLE_X64`` is set."""
    dead = ~np.asarray(connected(np.sum(w_out, 1).astype(np.float32), w_out0.astype(np.float32)))
    return np.array([dead[kinds == k].mean() for k in range(4)])


def task1_trained(hp, seed_key, durations: Durations, config: NetConfig, anchor: bool = False):
    """The unsupervised period and Task 1 as a trial of the experiment runs them (same keys and
    schedules): ``(naive agent, Task 1 stage result)``. With ``anchor`` the trained agent's ``W_i0`` is
    its summed outputs at the end of Task 1 (module docstring, ``--anchor``)."""

    def stage(agent, name):
        key = trials.stage_key(seed_key, name)
        return trials.run_stage(agent, schedule(name, durations), hp, key, durations, config)

    naive = stage(trials.initial_agent(seed_key, hp, config), "unsupervised").agent
    trained = stage(naive, "task1")
    if anchor:
        agent = trained.agent
        trained = trained._replace(agent=agent._replace(w_out0=jnp.sum(agent.w_out, 1)))
    return naive, trained


def keyed_trials(one, grid: list[dict], keys: int):
    """``one(hp, seed_key)`` on ``keys`` calibration trials of every setting (seeds from
    ``CALIBRATION_SEED``, the same for every setting), all vmapped in one compiled call; prints the wall
    time. Returns ``(settings, seeds, out)``, one entry per trial along the leading axis."""
    settings = [kw for kw in grid for _ in range(keys)]
    seeds = np.asarray([CALIBRATION_SEED + k for _ in grid for k in range(keys)], np.uint32)
    start = time.perf_counter()
    out = jax.block_until_ready(jax.jit(jax.vmap(one))(stacked(settings), jax.vmap(jax.random.key)(seeds)))
    print(f"{len(settings)} trials in {time.perf_counter() - start:.0f} s")
    return settings, seeds, out


def stages(args, grid):
    """The experiment's stages for every setting and calibration key (module docstring)."""
    config = net_config(args)
    durations = probe_durations(args)
    conditions = args.conditions.split(",")
    # the probe-only condition runs sleep_only's schedule, with sleep_only's key
    stages_run = ("task1", *conditions)
    runs = {stage: "sleep_only" if stage == SLEEP_AFTER_TASK1 else stage for stage in stages_run}
    blocks = {stage: schedule(runs[stage], durations) for stage in runs}

    def one(hp, seed_key):
        naive, trained = task1_trained(hp, seed_key, durations, config, args.anchor)

        def stage(agent, name):
            key = trials.stage_key(seed_key, runs[name])
            return trials.run_stage(agent, blocks[name], hp, key, durations, config)

        ends = {name: stage(naive if name == "sleep_only" else trained.agent, name) for name in conditions}
        return {"after_task1": trained, **ends}

    settings, seeds, out = keyed_trials(one, grid, args.keys)
    table = np.zeros((len(settings), len(out), 2))
    # a point of a training curve: at most 1000 cycles, a whole number of blocks of every trained phase
    curve_cycles = math.gcd(1000, durations.task1, durations.rounds * durations.block)
    for i, kw in enumerate(settings):
        print(f"{kw} seed {seeds[i]}:")
        for name, result in out.items():
            eaten, agent = np.asarray(result.eaten[i]), jax.tree.map(lambda x, i=i: np.asarray(x[i]), result.agent)
            stage = "task1" if name == "after_task1" else name
            stage_blocks = blocks[stage]
            (s1, s2), counts = trials.scores(eaten, stage_blocks)
            table[i, list(out).index(name)] = s1, s2
            line = f"    {name:>17}: Task 1 {s1:.3f} {counts[0]}  Task 2 {s2:.3f} {counts[1]}"
            line += f"  norm {agent.trace_norm:.3g}"
            task = trials.curve_task(runs[stage])  # the probe-only condition trains nothing, as sleep_only
            if task is not None:
                points = trials.curve(eaten, stage_blocks, task, curve_cycles)
                line += f"  training curve {np.round(points, 2)}"
            print(line)
            if kw.get("wired", 0.0):
                kinds = detector_kinds(agent.in_idx)
                share = kind_shares(agent.w_out, kinds)
                print(f"        input share of each kind's detectors (rows) in the 8 outputs: {np.round(share, 2)}")
                print(f"        hidden neurons carrying each output's input: {np.round(effective_inputs(agent.w_out))}")
                print(
                    "        summed output of each kind's detectors relative to its start (W_i / W_i0, mean):"
                    f" {np.round(row_growth(agent.w_out, agent.w_out0, kinds), 2)}"
                )
                for task in (TASK1,) if stage == "task1" else (TASK1, TASK2):
                    print(
                        f"        weight from the rewarded kind's detectors at each output's move cell (Task"
                        f" {1 if task == TASK1 else 2}; relative to the output's mean):"
                        f" {np.round(detector_weights(agent, task[0]), 1)}"
                    )
    print(f"mean ± SD over the {args.keys} calibration trials of each setting (Task 1 / Task 2):")
    for g, kw in enumerate(grid):
        rows = table[g * args.keys : (g + 1) * args.keys]
        print(f"  {kw}")
        for c, name in enumerate(out):
            (m1, m2), (d1, d2) = rows[:, c].mean(0), rows[:, c].std(0, ddof=1) if args.keys > 1 else (0.0, 0.0)
            print(f"    {name:>17}: {m1:.3f} ± {d1:.3f} / {m2:.3f} ± {d2:.3f}")


def nap(args, grid):
    """Sleep alone from the Task-1-trained network, followed in ``NAP_POINTS`` equal steps (module
    docstring)."""
    config = net_config(args)
    durations = probe_durations(args)
    phase = sleep_phase(args.sleep // NAP_POINTS, config)
    task = make_task(*TASK1)  # asleep the task is ignored

    def one(hp, seed_key):
        _, trained = task1_trained(hp, seed_key, durations, config, args.anchor)
        key = trials.stage_key(seed_key, "sleep_only")
        state = phase.init(trained.agent, key)

        def part(carry, k):
            agent, state = carry
            agent, state, metrics = phase.apply(agent, state, task, hp, k)
            # the normalisation sleep's updates are divided by
            norm = jnp.where(sleeps_with_own_norm(hp), agent.sleep_norm, agent.trace_norm)
            return (agent, state), (agent.w_out, norm, jnp.mean(metrics["out_spikes"]))

        _, course = lax.scan(part, (trained.agent, state), jax.random.split(key, NAP_POINTS))
        return trained.agent, course

    settings, seeds, (trained, (w_out, norm, spikes)) = keyed_trials(one, grid, args.keys)
    for i, kw in enumerate(settings):
        hp = setting(kw)
        # a cycle's trace acts at the next `slots` updates with the rewarded update's 1 / (k + c)
        reach = float(jnp.sum(1.0 / delays(config.slots, hp.delay_c, config.steps, hp.discount_steps > 0)))
        agent = jax.tree.map(lambda x, i=i: np.asarray(x[i]), trained)

        def own_cell(w_out, agent=agent, wired=hp.wired > 0):
            """Each output's weight from the horizontal detectors at its move cell (wired detectors only)."""
            weights = detector_weights(agent._replace(w_out=np.asarray(w_out)), TASK1[0])
            return f", own-cell weight {np.round(weights, 1)}" if wired else ""

        print(f"{kw} seed {seeds[i]}:")
        drive = float(jnp.sum(sleep_rates(agent, hp))) * config.cycle_seconds
        print(f"    after Task 1{own_cell(agent.w_out)}; sleep drive {drive:.1f} spikes per cycle to the hidden layer")
        for c in range(NAP_POINTS):
            step = hp.learn_gain * hp.s_sleep * config.stdp_params.k_plus * reach / float(norm[i, c])
            print(
                f"    {(c + 1) * args.sleep // NAP_POINTS:>6} cycles: norm {float(norm[i, c]):.3g}, one pair's"
                f" largest step {step:.3f}, output spikes per cycle {float(spikes[i, c]):.2f}{own_cell(w_out[i, c])}"
            )


def chance(args, grid):
    """The test score of an agent whose outputs never fire: it repeats its last move and changes
    direction only when it explores (module docstring). Per ``--keys`` trials of ``--test`` cycles,
    as one test phase of the experiment; and what it eats while moving in each direction, pooled."""
    hp = setting(grid[0])
    silent = jnp.zeros(8, jnp.int32)

    def trial(key, task):
        k_world, k_move, k_run = jax.random.split(key, 3)

        def body(carry, k):
            world, move, hungry = carry
            k_choose, k_step = jax.random.split(k)
            move = choose_move(silent, move, hungry, hp, k_choose)
            world, eaten = step(world, move, k_step, task.present)
            return (world, move, jnp.where(eaten == NOTHING, hungry + 1, 0)), (eaten, move)

        start = (reset(k_world, task.present), jax.random.randint(k_move, (), 0, 8), jnp.zeros((), jnp.int32))
        _, (eaten, moves) = lax.scan(body, start, jax.random.split(k_run, args.test))
        return eaten, moves

    for name, kinds in (("Task 1", TASK1), ("Task 2", TASK2)):
        task = make_task(*kinds)
        keys = jax.random.split(jax.random.key(CALIBRATION_SEED + 4), args.keys)
        eaten, moves = map(np.asarray, jax.jit(jax.vmap(lambda k, task=task: trial(k, task)))(keys))
        good, bad = np.sum(eaten == kinds[0], 1), np.sum(eaten == kinds[1], 1)
        scores = good[good + bad > 0] / (good + bad)[good + bad > 0]
        n = (good + bad).mean()
        print(
            f"{name}: {len(scores)} trials of {args.test} cycles, score {scores.mean():.3f} ± {scores.std(ddof=1):.3f} "
            f"(SD of a fair coin over the {n:.0f} particles eaten per trial: {0.5 / np.sqrt(n):.3f})"
        )
        for m in range(8):
            g, b = np.sum((eaten == kinds[0]) & (moves == m)), np.sum((eaten == kinds[1]) & (moves == m))
            direction = tuple(int(x) for x in MOVES[m])
            print(f"    eaten moving {direction}: rewarded {g}, punished {b}, score {g / (g + b):.3f}")


def read_record(path: str, wired: bool = False) -> tuple[foraging.Config, dict]:
    """The configuration and data of the foraging record at ``path``, validated by the record module;
    exits with one line naming the file if it is not a foraging record (made with wired detectors, if
    ``wired``)."""
    try:
        data = json.loads(Path(path).read_text())
        experiment = data.get("experiment") if isinstance(data, dict) else None
        if experiment != foraging.EXPERIMENT:
            raise ValueError(f"this is a record of {experiment!r}, not {foraging.EXPERIMENT!r}")
        config = foraging.Config.from_identity(data["identity"])
        record = Record.open(path, foraging.EXPERIMENT, config.identity(), "conditions", foraging.check_unit)
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise SystemExit(f"--record {path}: not a foraging record ({err})") from None
    if wired and config.hp().wired <= 0:
        raise SystemExit(f"--record {path}: made with the paper's plain-STDP code; shares needs wired detectors")
    return config, record.data


def table(args, grid):
    """A foraging record's table beside the paper's, with the settings it was made with that differ
    from today's defaults (``--record``; nothing is computed)."""
    config, data = read_record(args.record)
    default = foraging.Config()
    changed = [
        f"{name} {value}"
        for name, value in (("steps_per_cycle", config.steps_per_cycle), ("pairing", config.pairing))
        if getattr(default, name) != value
    ]
    lengths = dataclasses.asdict(config.durations)
    changed += [f"{k} {v}" for k, v in lengths.items() if getattr(default.durations, k) != v]
    changed += [f"{k} {v:g}" for k, v in config.hparams]
    print(f"{args.record}: {config.input_code}; settings other than today's defaults: {', '.join(changed)}")
    print(foraging.format_results(data))


def shares(args, grid):
    """For a record made with wired detectors (``--record``): the share of each kind's detectors in
    each output's input, in the first trial's stored weights after every condition that keeps them,
    the fraction of those weights that are 0, and of each kind's detectors that are drained."""
    config, data = read_record(args.record, wired=True)
    seed = data["seeds"][0]
    agent = trials.initial_agent(jax.random.key(seed), config.hp(), config.net())
    kinds = detector_kinds(np.asarray(agent.in_idx))
    print(f"trial {seed}: share of each kind's detectors (rows: horizontal, vertical, positive diagonal,")
    print("negative diagonal) in the input of each of the 8 outputs")
    for name, entry in data["conditions"].items():
        w = np.asarray(entry["runs"][str(seed)].get("w_out", []))
        if w.ndim == 2:
            print(f"  {name}:\n{np.round(kind_shares(w, kinds), 3)}")
            w0 = np.asarray(agent.w_out0)
            print(
                f"    weights exactly 0: {np.mean(w == 0):.3f}; per kind, W_i / W_i0 (mean)"
                f" {np.array2string(row_growth(w, w0, kinds), precision=2)} and the fraction drained below"
                f" float32 resolution (W_i <= 1.2e-7 W_i0) {np.round(drained(w, w0, kinds), 2)}"
            )


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "probe", choices=("sweep", "credit", "policy", "code", "stages", "nap", "chance", "shares", "table")
    )
    parser.add_argument(
        "--grid",
        default="[dict()]",
        help="a list of dicts of Hparams overrides (Python expression); default: the defaults",
    )
    parser.add_argument("--record", help="shares (made with wired detectors), table: a foraging record")
    parser.add_argument(
        "--steps", type=positive_int, default=foraging.Config().steps_per_cycle, help="0.5 ms steps per cycle"
    )
    parser.add_argument(
        "--pairing", choices=PAIRINGS, default=foraging.Config().pairing, help="STDP spike pairing (NetConfig.pairing)"
    )
    parser.add_argument("--unsupervised", type=int, default=200)
    parser.add_argument("--task1", type=int, default=2000)
    parser.add_argument("--test", type=positive_int, default=1000)
    parser.add_argument("--task2", type=positive_int, default=3000, help="stages: Task 2 cycles of every condition")
    parser.add_argument(
        "--keys", type=positive_int, default=2, help="stages: calibration trials per setting; chance: trials"
    )
    parser.add_argument("--conditions", default="sequential", help="stages: comma-separated conditions")
    parser.add_argument(
        "--interleave",
        choices=INTERLEAVINGS,
        default=Durations().interleave,
        help="stages, nap: an interleaved phase split from --task2 (the paper's) or added to it (before)",
    )
    parser.add_argument(
        "--anchor",
        action="store_true",
        help="stages, nap: W_i0 after Task 1 is the summed outputs at its end",
    )
    parser.add_argument("--sleep", type=positive_int, default=1000, help="nap: sleep cycles")
    parser.add_argument("--chunk", type=positive_int, default=1000, help="policy: Task 1 cycles between two probes")
    parser.add_argument("--chunks", type=positive_int, default=10, help="policy: number of chunks")
    parser.add_argument(
        "--views", type=positive_int, default=2000, help="policy, code: random views per probe and task"
    )
    parser.add_argument("--block", type=positive_int, default=Durations().block, help="stages, nap: cycles per block")
    parser.add_argument("--hidden", type=positive_int, default=NetConfig().n_hidden, help="hidden neurons")
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="shrink every length to a few cycles of a 64-neuron network: checks that the command runs, in "
        "seconds; its numbers mean nothing",
    )
    args = parser.parse_args()
    if args.smoke:
        for name, value in SMOKE.items():
            setattr(args, name, min(getattr(args, name), value))
    if args.probe in ("shares", "table") and not args.record:
        parser.error(f"{args.probe} needs --record FILE (a foraging record)")
    if args.probe == "nap" and args.sleep % NAP_POINTS:
        parser.error(f"--sleep {args.sleep}: nap reports at {NAP_POINTS} even points; give a multiple of {NAP_POINTS}")
    if args.anchor and args.probe not in ("stages", "nap"):
        parser.error(f"--anchor applies to the stages and nap probes only, not to {args.probe}")
    known = (*CONDITIONS[1:], SLEEP_AFTER_TASK1)
    unknown = [c for c in args.conditions.split(",") if c not in known]
    if unknown:
        parser.error(f"--conditions: unknown {unknown}; known: {', '.join(known)}")
    # a Python expression (a list of dicts, comprehensions allowed) evaluated with only dict and range;
    # any error in it is the user's to fix, so it ends in one line naming the expression
    try:
        grid = eval(args.grid, {"__builtins__": {"dict": dict, "range": range}})
        if not (isinstance(grid, list) and all(isinstance(kw, dict) for kw in grid)):
            raise TypeError("it is not a list of dicts")
        if not grid:
            raise ValueError("it is empty; give at least one dict (dict() for the defaults)")
        for kw in grid:
            setting(kw)
    except Exception as err:
        parser.error(f"--grid {args.grid}: {err}")
    probes = {
        "sweep": sweep,
        "credit": credit,
        "policy": policy,
        "code": code,
        "stages": stages,
        "nap": nap,
        "chance": chance,
        "shares": shares,
        "table": table,
    }
    try:
        probes[args.probe](args, grid)
    except KeyboardInterrupt:
        # a probe runs all its trials in one compiled call and prints at the end: nothing to keep
        sys.exit(f"{parser.prog}: interrupted; {args.probe} prints its results at the end and saves nothing")


if __name__ == "__main__":
    main()
