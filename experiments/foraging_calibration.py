"""Calibration probes of the foraging agent's open constants, on calibration seeds (never the
reported trials, which use seeds 0..N-1; these use seeds from 1000).

``sweep``: Task 1 learning for several settings at once (vmapped over settings): the unsupervised
period, Task 1 training, then tests on both tasks; prints the training curve and the test scores.

    python experiments/foraging_calibration.py sweep --steps 200 --task1 4000 \\
        --grid "[dict(g_exc=2.0, g_inh=2.4, learn_gain=g) for g in (1.0, 30.0)]"

``credit``: how selective one reward is. For 30 random views it runs a cycle, rewards it once
(S = +1) and reruns the same view with the same noise: the winning output's spike count should grow
more than the others' if the rewarded STDP assigns credit to the move that was made.

    python experiments/foraging_calibration.py credit --grid "[dict(learn_gain=g) for g in (1.0, 30.0)]"
"""

from __future__ import annotations

import argparse
import time

import jax
import jax.numpy as jnp
import numpy as np

from sleepjax.foraging.agent import (
    TASK1,
    TASK2,
    discriminability,
    learn_output,
    make_task,
    unsupervised_task,
    wake_phase,
)
from sleepjax.foraging.environment import observe, reset
from sleepjax.foraging.network import Hparams, NetConfig, init_agent, rest, simulate_cycle
from sleepjax.spiking import store_init

CALIBRATION_SEED = 1000


def stacked(grid: list[dict]) -> Hparams:
    settings = [Hparams()._replace(**{k: float(v) for k, v in kw.items()}) for kw in grid]
    return jax.tree.map(lambda *x: jnp.asarray(x, jnp.result_type(float)), *settings)


def sweep(args, grid):
    config = NetConfig(steps=args.steps)
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
        return curve, discriminability(e1["eaten"], t1), discriminability(e2["eaten"], t2), jnp.sum(e1["eaten"] >= 0)

    start = time.perf_counter()
    keys = jax.random.split(jax.random.key(CALIBRATION_SEED), len(grid))
    out = jax.block_until_ready(jax.jit(jax.vmap(one))(stacked(grid), keys))
    print(f"{len(grid)} settings in {time.perf_counter() - start:.0f} s")
    for kw, curve, s1, s2, n in zip(grid, *map(np.asarray, out)):
        print(kw, "curve", np.round(curve, 2), f"test Task 1 {s1:.3f}  Task 2 {s2:.3f}  eaten {n} in {args.test}")


def credit(args, grid):
    config = NetConfig(steps=args.steps)
    worlds = jax.vmap(lambda k: reset(k, jnp.ones(4, bool)))(jax.random.split(jax.random.key(CALIBRATION_SEED), 30))
    views = jax.vmap(lambda w: observe(w).reshape(-1))(worlds)
    keys = jax.random.split(jax.random.key(CALIBRATION_SEED + 1), 30)
    for kw in grid:
        hp = Hparams()._replace(**{k: float(v) for k, v in kw.items()})
        agent = init_agent(jax.random.key(CALIBRATION_SEED), config, hp)

        def cycle(a, view, key, hp=hp):
            return simulate_cycle(a, rest(config), view, None, hp, key, config)[1]

        before = jax.jit(jax.vmap(cycle, in_axes=(None, 0, 0)))(agent, views, keys)

        def reward(trace, counts, hp=hp, agent=agent):
            return learn_output(agent, store_init(config.slots, config.n_hidden, 8), trace, 1.0, counts, hp, config)[0]

        agents = jax.vmap(reward)(before.trace, before.counts)
        after = jax.jit(jax.vmap(cycle))(agents, views, keys)
        c1, c2 = np.asarray(before.counts), np.asarray(after.counts)
        win, fired = c1.argmax(1), c1.max(1) > 0
        rows = np.arange(len(c1))
        w1, w2 = c1[rows, win][fired].mean(), c2[rows, win][fired].mean()
        o1, o2 = (c1.sum(1) - c1[rows, win])[fired].mean() / 7, (c2.sum(1) - c2[rows, win])[fired].mean() / 7
        print(
            kw, f"winner {w1:.2f} -> {w2:.2f} (x{w2 / w1:.3f}); each other output {o1:.2f} -> {o2:.2f} (x{o2 / o1:.3f})"
        )


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("probe", choices=("sweep", "credit"))
    parser.add_argument("--grid", required=True, help="a list of dicts of Hparams overrides (Python expression)")
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--unsupervised", type=int, default=200)
    parser.add_argument("--task1", type=int, default=2000)
    parser.add_argument("--test", type=int, default=1000)
    args = parser.parse_args()
    # a Python expression (a list of dicts, comprehensions allowed) evaluated with only dict and range
    grid = eval(args.grid, {"__builtins__": {"dict": dict, "range": range}})
    (sweep if args.probe == "sweep" else credit)(args, grid)


if __name__ == "__main__":
    main()
