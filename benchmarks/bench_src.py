"""Speed and memory of SRC on this machine.

Measures, on a 784-1200-1200-10 network trained on the first split-MNIST task (so that spike rates are
those of a real sleep):

1. one full SRC sleep of 35,000 steps (the longest of the protocol), compile time separately;
2. the whole SRC arm of the 5-task protocol for one seed through the ``sleepjax`` command, with its
   wall time and peak resident memory (run in a child process so the figure is that run's alone).

    python benchmarks/bench_src.py --data-dir ../shared/data/mnist

Without ``--data-dir`` the bundled subset is used. Results are printed and written as JSON to
``benchmarks/results/``. Sleep steps event-driven against dense, and vmapped sleep configurations against
a loop, are measured by ``benchmarks/bench_sleep.py``.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
from common import load_data, write_result

from sleepjax._nets import weights_of
from sleepjax._sleep import MNIST_WINDOW, layer_factors, max_activations, reference_hparams, src_sleep
from sleepjax.app.split_mnist import Config, make_arm, make_model_fn, make_scenario

ROOT = Path(__file__).resolve().parents[1]


def trained_network(dataset, config):
    """Weights, sleep input and normalisation factors of a network wake-trained on the first task."""
    scenario = make_scenario(dataset, config)
    phase, _, _ = make_arm("finetune", scenario, config)
    x = jnp.asarray(scenario.train.x[0])
    model = make_model_fn(config)(jax.random.key(0))
    state = phase.init(model, jax.random.key(1))
    model, _, _ = jax.jit(phase.apply)(model, state, scenario.train.at(0), {}, jax.random.key(2))
    factors = layer_factors(weights_of(model), max_activations(model.activations, x))
    return weights_of(model), x.mean(axis=0), factors


def time_call(fn, *args):
    start = time.perf_counter()
    jax.block_until_ready(fn(*args))
    return time.perf_counter() - start


def time_protocol_arm(data_dir: str | None) -> dict:
    """The whole SRC arm of the protocol for one seed through the ``sleepjax`` command, in a child process
    (so that its peak memory is that run's alone): seconds (compile and data loading included), peak
    resident memory and the command."""
    record_path = Path(os.environ.get("TMPDIR", "/tmp")) / "sleepjax_bench_protocol.json"
    record_path.unlink(missing_ok=True)
    command = [sys.executable, "-m", "sleepjax.app.cli", "run", "split-mnist", "--arms", "src", "--seeds", "1"]
    command += ["--no-progress", "--out", str(record_path)]
    if data_dir:
        command += ["--data-dir", data_dir]
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    start = time.perf_counter()
    subprocess.run(command, check=True, env=env, stdout=subprocess.DEVNULL)
    seconds = time.perf_counter() - start
    peak_gib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 2**20  # ru_maxrss is in KiB
    return {"seconds": seconds, "peak_rss_gib": peak_gib, "command": " ".join(command[1:])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--steps", type=int, default=35000)
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "src_cpu.json"))
    args = parser.parse_args()

    dataset = load_data(args.data_dir)
    config = Config()
    weights, mean_input, factors = trained_network(dataset, config)
    hp = reference_hparams("mnist")

    one = jax.jit(lambda k, n: src_sleep(weights, mean_input, factors, hp, k, n, MNIST_WINDOW))
    compile_s = time_call(one, jax.random.key(0), 100)
    sleep_s = time_call(one, jax.random.key(1), args.steps)
    _, stats = one(jax.random.key(1), args.steps)
    spikes_per_step = (np.asarray(stats.spikes) / args.steps).tolist()
    print(
        f"one sleep: {args.steps} steps in {sleep_s:.2f} s = {1e6 * sleep_s / args.steps:.1f} us/step "
        f"(compile {compile_s:.1f} s); spikes per step by layer {np.round(spikes_per_step, 3).tolist()}"
    )

    protocol = time_protocol_arm(args.data_dir)
    protocol_s, peak_gib = protocol["seconds"], protocol["peak_rss_gib"]
    print(
        f"whole SRC arm (5 tasks, train + sleep + eval, one seed, compile and data loading included): "
        f"{protocol_s:.1f} s, peak memory {peak_gib:.2f} GiB"
    )

    result = {
        "data": dataset.source,
        "sleep_steps": args.steps,
        "sleep_seconds": sleep_s,
        "sleep_us_per_step": 1e6 * sleep_s / args.steps,
        "sleep_compile_seconds": compile_s,
        "spikes_per_step": spikes_per_step,
        "protocol_src_arm_seconds": protocol_s,
        "protocol_peak_rss_gib": peak_gib,
    }
    write_result(args.out, result)


if __name__ == "__main__":
    main()
