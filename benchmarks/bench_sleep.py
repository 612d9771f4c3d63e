"""Speed of one SRC sleep step, event-driven against dense, and of vmapped sleep configurations.

On a 784-1200-1200-10 network wake-trained on the first split-MNIST task (so that spike rates are those
of a real sleep), in one run:

(a) microseconds per sleep step, ``method="event"`` and ``method="dense"``, also as a ratio to one dense
    1200x784 plus one 1200x1200 matrix-vector product timed in the same run (comparable across
    machines);
(b) throughput of 1, 8 and 64 sleep configurations (reference hyperparameters each scaled by a random
    factor in [0.9, 1.1], one key each) vmapped in one program, against a Python loop over the same
    jitted single sleep: configuration-steps per second and their ratio;
(c) the same sleep with thresholds so high that the hidden layers never fire, alone and as 64 vmapped
    members: what is left is the work every member does on its own in every step (drawing its input
    spikes, gathering its own weight rows), which vmapping cannot share. A loop's microseconds per step
    of (b) divided by this per-member figure bound the speed-up any batching of this step can reach.

Compile time is excluded (every program is run once before it is timed). Wall-clock and process CPU
times are both recorded, with the load average: on a shared machine the CPU time is the steadier figure.

    python benchmarks/bench_sleep.py [--data-dir ../shared/data/mnist]

Without ``--data-dir`` the idx files next to the repository (``../shared/data/mnist``) are used when
present, the bundled subset otherwise. Results are printed and written as JSON to
``benchmarks/results/sleep_cpu.json``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
from bench_src import trained_network
from common import load_data, write_result

from sleepjax._sleep import MNIST_WINDOW, reference_hparams, src_sleep
from sleepjax.app.split_mnist import Config

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "mnist"


def timed(fn, *args) -> dict:
    """Wall and process CPU seconds of one call (after a first call that compiles)."""
    jax.block_until_ready(fn(*args))
    wall, cpu = time.perf_counter(), time.process_time()
    jax.block_until_ready(fn(*args))
    return {"wall_s": time.perf_counter() - wall, "cpu_s": time.process_time() - cpu}


def matvec_reference(weights, steps: int) -> dict:
    """Seconds per dense ``W1 @ x`` (1200x784) plus ``W2 @ h`` (1200x1200), ``steps`` pairs in one loop
    whose inputs change every step (so nothing is hoisted)."""
    inputs = jax.random.uniform(jax.random.key(0), (64, weights[0].shape[1]))

    def run(n):
        def body(t, acc):
            h = weights[0] @ inputs[t % 64]
            return acc + weights[1] @ (h + acc * 1e-3)

        return jax.lax.fori_loop(0, n, body, jnp.zeros(weights[1].shape[0]))

    return {k: v / steps for k, v in timed(jax.jit(run), steps).items()}


def scaled_configs(count: int, seed: int = 0) -> list:
    """``count`` hyperparameter vectors: the MNIST reference with every value scaled by a random factor."""
    rng = np.random.default_rng(seed)
    hp = reference_hparams("mnist")
    fields = ("max_rate", "inc", "dec", "beta", "alpha_scale")

    def scale(v):
        return (v * rng.uniform(0.9, 1.1, np.shape(v))).astype(np.float32)

    return [hp._replace(**{f: jnp.asarray(scale(np.asarray(getattr(hp, f)))) for f in fields}) for _ in range(count)]


def own_work(single, hp, steps: int, members: int = 64) -> dict:
    """Microseconds (wall and CPU) per member-step of a sleep whose hidden layers never fire, run alone
    (``single``) and as ``members`` vmapped members (``vmapped``)."""
    silent = hp._replace(threshold=hp.threshold * 1e9)
    n = jnp.asarray(steps)
    alone = timed(jax.jit(lambda k: single(silent, k, n)), jax.random.key(3))
    keys = jax.random.split(jax.random.key(3), members)
    batched = timed(jax.jit(jax.vmap(lambda k: single(silent, k, n))), keys)
    per = lambda t, count: {k.replace("_s", "_us"): 1e6 * v / (count * steps) for k, v in t.items()}  # noqa: E731
    return {"members": members, "single": per(alone, 1), "vmapped": per(batched, members)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=str(DEFAULT_DATA) if DEFAULT_DATA.is_dir() else None)
    parser.add_argument("--steps", type=int, default=20000, help="steps of the single sleep in (a)")
    parser.add_argument("--sweep-steps", type=int, default=5000, help="steps of each sleep in (b)")
    parser.add_argument("--configs", default="1,8,64", help="numbers of vmapped configurations in (b)")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "sleep_cpu.json"))
    args = parser.parse_args()

    dataset = load_data(args.data_dir)
    weights, mean_input, factors = trained_network(dataset, Config())
    hp = reference_hparams("mnist")

    step = {}
    for method in ("event", "dense"):
        one = jax.jit(lambda k, n, m=method: src_sleep(weights, mean_input, factors, hp, k, n, MNIST_WINDOW, method=m))
        times = timed(one, jax.random.key(1), jnp.asarray(args.steps))
        step[method] = {"wall_us": 1e6 * times["wall_s"] / args.steps, "cpu_us": 1e6 * times["cpu_s"] / args.steps}
        _, stats = one(jax.random.key(1), jnp.asarray(args.steps))
        step[method]["spikes_per_step"] = (np.asarray(stats.spikes) / args.steps).tolist()
    matvec = {k.replace("_s", "_us"): 1e6 * v for k, v in matvec_reference(weights, args.steps).items()}
    for method, row in step.items():
        row["ratio_to_matvecs"] = {k: row[k] / matvec[k] for k in ("wall_us", "cpu_us")}
        print(
            f"(a) {method:5s}: {row['wall_us']:7.2f} us/step wall, {row['cpu_us']:7.2f} us/step CPU, "
            f"{row['cpu_us'] / matvec['cpu_us']:.3f} x the two mat-vecs; spikes per step "
            f"{np.round(row['spikes_per_step'], 3).tolist()}",
            flush=True,
        )
    print(f"    two mat-vecs (1200x784, 1200x1200): {matvec['wall_us']:.2f} us wall, {matvec['cpu_us']:.2f} us CPU")
    print(f"    event-driven speed-up over dense (CPU time): {step['dense']['cpu_us'] / step['event']['cpu_us']:.1f}x")

    def single(hparams, key, n):
        return src_sleep(weights, mean_input, factors, hparams, key, n, MNIST_WINDOW)

    one = jax.jit(single)
    many = jax.jit(jax.vmap(single, (0, 0, None)))
    n = jnp.asarray(args.sweep_steps)
    sweeps = []
    for count in (int(c) for c in args.configs.split(",")):
        configs = scaled_configs(count)
        keys = jax.random.split(jax.random.key(2), count)
        stacked = jax.tree.map(lambda *v: jnp.stack(v), *configs)
        vmapped = timed(many, stacked, keys, n)
        jax.block_until_ready(one(configs[0], keys[0], n))
        wall, cpu = time.perf_counter(), time.process_time()
        for config, key in zip(configs, keys):
            jax.block_until_ready(one(config, key, n))
        loop = {"wall_s": time.perf_counter() - wall, "cpu_s": time.process_time() - cpu}
        work = count * args.sweep_steps
        row = {
            "configs": count,
            "steps": args.sweep_steps,
            "vmapped": vmapped,
            "loop": loop,
            "vmapped_config_steps_per_s": {k: work / v for k, v in vmapped.items()},
            "loop_config_steps_per_s": {k: work / v for k, v in loop.items()},
            "speedup": {k: loop[k] / vmapped[k] for k in vmapped},
        }
        sweeps.append(row)
        print(
            f"(b) {count:3d} configs x {args.sweep_steps} steps: vmapped {work / vmapped['cpu_s']:9.0f} steps/s CPU "
            f"({work / vmapped['wall_s']:9.0f} wall), loop {work / loop['cpu_s']:9.0f} steps/s CPU "
            f"({work / loop['wall_s']:9.0f} wall); vmapped/loop {row['speedup']['cpu_s']:.2f}x CPU, "
            f"{row['speedup']['wall_s']:.2f}x wall",
            flush=True,
        )

    floor = own_work(single, hp, args.sweep_steps)
    loop_us = 1e6 * sweeps[-1]["loop"]["cpu_s"] / (sweeps[-1]["configs"] * args.sweep_steps)
    floor["loop_us_per_config_step"] = loop_us
    floor["speedup_bound"] = loop_us / floor["vmapped"]["cpu_us"]
    print(
        f"(c) hidden layers silent: {floor['single']['cpu_us']:.2f} us/step CPU alone, "
        f"{floor['vmapped']['cpu_us']:.2f} us per member-step CPU in {floor['members']} vmapped; the loop's "
        f"{loop_us:.2f} us per config-step of (b) / that = a {floor['speedup_bound']:.2f}x bound on batching",
        flush=True,
    )

    result = {
        "data": dataset.source,
        "step_us": step,
        "two_matvecs_us": matvec,
        "sweeps": sweeps,
        "silent_hidden_us": floor,
    }
    write_result(args.out, result)


if __name__ == "__main__":
    main()
