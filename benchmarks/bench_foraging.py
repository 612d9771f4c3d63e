"""Speed of the spiking foraging agent on this machine.

Measures simulated movement cycles per second of Task 1 training (Rulkov network, rewarded STDP, the
world) for one trial and for 16 vmapped trials, at the paper's 600 steps per cycle and at any other
``--steps`` given, with each STDP pairing given (``--pairing nearest all``: what every pair within
the window costs against nearest pairing), compile time separately; then, with ``--table``, the wall
time of the whole 10-trial table through the ``sleepjax`` command at the given durations.

    python benchmarks/bench_foraging.py --steps 600 200
    python benchmarks/bench_foraging.py --steps 200 --pairing nearest all
    python benchmarks/bench_foraging.py --table --steps-per-cycle 200 --task1 1000 --task2 1000 --test 500

Results are printed and written as JSON to ``benchmarks/results/foraging_<backend>.json``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import jax

from sleepjax.app.records import environment
from sleepjax.foraging.agent import TASK1, make_task, wake_phase
from sleepjax.foraging.network import Hparams, NetConfig, init_agent
from sleepjax.spiking import PAIRINGS

ROOT = Path(__file__).resolve().parents[1]


def cycles_per_second(steps: int, trials: int, cycles: int, pairing: str, repeats: int = 2) -> dict:
    """Compile once, then time ``repeats`` calls of ``cycles`` training cycles for ``trials`` trials."""
    config, hp = NetConfig(steps=steps, pairing=pairing), Hparams()
    phase = wake_phase(cycles, config, "output")
    task = make_task(*TASK1)
    keys = jax.random.split(jax.random.key(0), trials)
    agents = jax.vmap(lambda k: init_agent(k, config, hp))(keys)
    states = jax.vmap(phase.init)(agents, keys)
    run = jax.jit(jax.vmap(lambda a, s, k: phase.apply(a, s, task, hp, k)))
    start = time.perf_counter()
    jax.block_until_ready(run(agents, states, keys))
    compile_s = time.perf_counter() - start
    times = []
    for r in range(repeats):
        start = time.perf_counter()
        jax.block_until_ready(run(agents, states, jax.random.split(jax.random.key(r + 1), trials)))
        times.append(time.perf_counter() - start)
    best = min(times)
    return {
        "steps_per_cycle": steps,
        "pairing": pairing,
        "trials": trials,
        "cycles": cycles,
        "first_call_s": compile_s,
        "best_s": best,
        "cycles_per_s_per_trial": cycles / best,
        "trial_cycles_per_s": trials * cycles / best,
    }


def table_wall_time(args) -> dict:
    """The 10-trial table through the ``sleepjax`` command, in a child process, timed end to end."""
    out = ROOT / "benchmarks" / "results" / "foraging_table_bench.json"
    out.unlink(missing_ok=True)
    command = [sys.executable, "-m", "sleepjax.app.cli", "run", "foraging", "--trials", "10", "--no-progress"]
    command += ["--out", str(out), "--steps-per-cycle", str(args.steps_per_cycle)]
    for name in ("unsupervised", "task1", "task2", "block", "test"):
        command += [f"--{name}", str(getattr(args, name))]
    start = time.perf_counter()
    subprocess.run(command, check=True, cwd=ROOT)
    return {"command": " ".join(command[1:]), "wall_s": time.perf_counter() - start}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, nargs="+", default=[600], help="steps per cycle to measure")
    parser.add_argument("--cycles", type=int, default=20, help="cycles per timed call")
    parser.add_argument("--pairing", nargs="+", choices=PAIRINGS, default=["nearest"], help="STDP pairings to measure")
    parser.add_argument("--table", action="store_true", help="also time the whole 10-trial table")
    parser.add_argument("--steps-per-cycle", type=int, default=200)
    parser.add_argument("--unsupervised", type=int, default=200)
    parser.add_argument("--task1", type=int, default=1000)
    parser.add_argument("--task2", type=int, default=1000)
    parser.add_argument("--block", type=int, default=100)
    parser.add_argument("--test", type=int, default=500)
    args = parser.parse_args()
    results = {"environment": environment(), "speed": []}
    for steps in args.steps:
        for pairing in args.pairing:
            for trials in (1, 16):
                r = cycles_per_second(steps, trials, args.cycles, pairing)
                results["speed"].append(r)
                print(
                    f"{steps} steps/cycle, {pairing} pairing, {trials:2d} trial(s): "
                    f"{r['cycles_per_s_per_trial']:7.1f} cycles/s per trial, "
                    f"{r['trial_cycles_per_s']:7.1f} trial-cycles/s (first call {r['first_call_s']:.1f} s)",
                    flush=True,
                )
    if args.table:
        results["table"] = table_wall_time(args)
        print(f"10-trial table: {results['table']['wall_s']:.0f} s  ({results['table']['command']})")
    path = ROOT / "benchmarks" / "results" / f"foraging_{jax.default_backend()}.json"
    path.write_text(json.dumps(results, indent=1))
    print(f"written to {path}")


if __name__ == "__main__":
    main()
