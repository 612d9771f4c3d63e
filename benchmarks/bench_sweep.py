"""Throughput of sweeps on this machine.

(b) SRC sleep configurations vmapped against a Python loop over the same jitted single sleep: for 1, 8
    and 64 configurations (the reference vector with ``inc`` spread by +-5 %, so spike rates stay those
    of a real sleep) of a 784-1200-1200-10 network trained on the first split-MNIST task, the
    configuration-steps per second of each and their ratio, in one run;
(c) the whole faithful 5-task protocol (wake training, 125k sleep steps, evaluation) of the SRC arm for
    one seed, in a child process so that the figure includes compilation and data loading, and the wake
    (the fine-tune arm's training and evaluation, compiled beforehand) as a fraction of the float32
    matmul peak measured in the same run.

    python benchmarks/bench_sweep.py --data-dir ../shared/data/mnist

Results are printed and written as JSON to ``benchmarks/results/sweep_cpu.json`` (with the load
average, since a shared machine's figures depend on it).
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
from bench_src import time_call, time_protocol_arm, trained_network
from common import load_data, write_result

from sleepjax._continual import continual_run
from sleepjax._evaluate import AccuracyEvaluator
from sleepjax._sleep import MNIST_WINDOW, reference_hparams, src_sleep
from sleepjax.app.split_mnist import Config, arm_epochs, make_arm, make_model_fn, make_scenario

ROOT = Path(__file__).resolve().parents[1]


def configurations(n: int):
    """``n`` copies of the reference vector with ``inc`` spread over +-5 %, stacked."""
    hp = reference_hparams("mnist")
    spread = np.linspace(0.95, 1.05, n) if n > 1 else np.ones(1)
    return hp, jax.tree.map(lambda leaf: jnp.stack([leaf] * n), hp)._replace(inc=jnp.asarray(hp.inc * spread))


def bench_sleep_configs(dataset, counts, steps) -> list[dict]:
    """(b): vmapped configurations against a loop over the jitted single sleep."""
    weights, mean_input, factors = trained_network(dataset, Config())

    def one(hp, key):
        return src_sleep(weights, mean_input, factors, hp, key, steps, MNIST_WINDOW)[0][0].sum()

    single = jax.jit(one)
    batched = jax.jit(jax.vmap(one))
    out = []
    for n in counts:
        hp, stacked = configurations(n)
        keys = jax.random.split(jax.random.key(0), n)
        single_hps = [jax.tree.map(lambda leaf, i=i: leaf[i], stacked) for i in range(n)]
        time_call(single, single_hps[0], keys[0])  # compile
        start = time.perf_counter()
        for i in range(n):
            jax.block_until_ready(single(single_hps[i], keys[i]))
        loop_s = time.perf_counter() - start
        compile_s = time_call(batched, stacked, keys)
        vmapped_s = time_call(batched, stacked, keys)
        row = {
            "configs": n,
            "steps": steps,
            "loop_s": loop_s,
            "vmapped_s": vmapped_s,
            "vmapped_compile_s": compile_s - vmapped_s,
            "loop_config_steps_per_s": n * steps / loop_s,
            "vmapped_config_steps_per_s": n * steps / vmapped_s,
            "speedup": loop_s / vmapped_s,
        }
        print(
            f"(b) {n:3d} configurations x {steps} steps: loop {loop_s:.2f} s, vmapped {vmapped_s:.2f} s "
            f"-> {row['speedup']:.2f}x ({row['vmapped_config_steps_per_s']:.0f} config-steps/s vmapped)",
            flush=True,
        )
        out.append(row)
    return out


def matmul_peak(n: int = 2048, repeats: int = 10) -> float:
    """Best float32 GFLOP/s of an ``n x n`` matrix product."""
    a = jax.random.normal(jax.random.key(0), (n, n), jnp.float32)
    f = jax.jit(lambda a: a @ a)
    jax.block_until_ready(f(a))
    best = min(time_call(f, a) for _ in range(repeats))
    return 2 * n**3 / best / 1e9


def wake_flops(scenario, config, epochs: int) -> float:
    """FLOPs of the fine-tune arm: training (forward + backward, 6 per weight per example) and the
    evaluation after every task (2 per weight per padded test example)."""
    weights = sum(a * b for a, b in zip(config.sizes[:-1], config.sizes[1:]))
    tasks, per_task = scenario.train.x.shape[:2]
    train = 6 * weights * tasks * per_task * epochs
    evaluate = 2 * weights * scenario.test.x.shape[0] * scenario.test.x.shape[1] * tasks
    return float(train + evaluate)


def bench_wake(dataset) -> dict:
    """The fine-tune arm (wake training and evaluation) for one seed, compiled beforehand."""
    config = Config()
    scenario = make_scenario(dataset, config)
    phase, hparams, stream = make_arm("finetune", scenario, config)
    evaluate = AccuracyEvaluator(scenario.test)
    make_model = make_model_fn(config)

    @jax.jit
    def run(key):
        return continual_run(phase, make_model(key), stream, evaluate, hparams, key).evaluation

    time_call(run, jax.random.key(0))
    seconds = time_call(run, jax.random.key(1))
    flops = wake_flops(scenario, config, arm_epochs("finetune", scenario, config))
    return {"seconds": seconds, "flops": flops, "gflops_per_s": flops / seconds / 1e9}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--configs", default="1,8,64", help="configuration counts of (b)")
    parser.add_argument("--steps", type=int, default=2000, help="sleep steps per configuration in (b)")
    parser.add_argument("--skip", default="", help="comma-separated parts to skip: b, c")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "sweep_cpu.json"))
    args = parser.parse_args()

    dataset = load_data(args.data_dir)
    result = {"load_average_start": os.getloadavg()}
    skip = set(args.skip.split(","))
    if "b" not in skip:
        counts = [int(c) for c in args.configs.split(",")]
        result["sleep_configs"] = bench_sleep_configs(dataset, counts, args.steps)
    if "c" not in skip:
        peak = matmul_peak()
        wake = bench_wake(dataset)
        wake["fraction_of_peak"] = wake["gflops_per_s"] / peak
        print(
            f"(c) float32 matmul peak {peak:.0f} GFLOP/s; wake (fine-tune arm, 1 seed) {wake['seconds']:.1f} s, "
            f"{wake['gflops_per_s']:.0f} GFLOP/s = {100 * wake['fraction_of_peak']:.0f} % of peak",
            flush=True,
        )
        protocol = time_protocol_arm(args.data_dir)
        print(f"(c) whole SRC protocol, one seed, compile and data loading included: {protocol['seconds']:.1f} s")
        result.update(matmul_peak_gflops=peak, wake=wake, protocol=protocol)
    result["load_average_end"] = os.getloadavg()
    write_result(args.out, result)


if __name__ == "__main__":
    main()
