"""What a sweep adds over the same runs: one configuration through ``run_seeds``, ``sweep`` and the
search's evaluation path (``run_configs``, which ``tune`` calls for every generation), same seed; and a
4-configuration sweep against the same four runs one after another.

Every figure is the wall time of the call as a user makes it, compilation included, measured in one
process, one after another, so their ratios are comparable. The goals: sweep / run <= 1.1 for one
configuration; the 4-configuration sweep no slower than the four runs.

    python benchmarks/bench_sweep_overhead.py                       # bundled subset, 400 examples per task
    python benchmarks/bench_sweep_overhead.py --data-dir ../shared/data/mnist --examples-per-task 5000

Results are printed and written as JSON to ``benchmarks/results/sweep_overhead_cpu.json``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from common import load_data, write_result

import sleepjax as sj
from sleepjax._hparams import to_json
from sleepjax._sweep import run_configs
from sleepjax.app import split_mnist as sm

ROOT = Path(__file__).resolve().parents[1]
#: Four configurations around the reference vector (the sleep length among the swept names, as in a
#: search of the faithful space).
FOUR = sj.grid({"sleep.src.inc": [0.032064, 0.02], "sleep.base_steps": [15000, 10000]})


def timed(fn):
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", default=None, help="MNIST idx files (default: the bundled subset)")
    parser.add_argument("--examples-per-task", type=int, default=400)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "sweep_overhead_cpu.json"))
    args = parser.parse_args(argv)

    setup, base, _ = sm.sweep_setup(load_data(args.data_dir), sm.Config(examples_per_task=args.examples_per_task))
    seeds = [args.seed]

    def run(tree):
        return sj.run_seeds(setup.phase, setup.make_params, setup.tasks, setup.evaluate, tree, seeds)

    def overall(evaluation) -> float:
        return float(np.asarray(evaluation)[-1].mean())

    run_s, alone = timed(lambda: run(base))
    sweep_s, swept = timed(lambda: sj.sweep(setup, base, [{}], seeds, progress=False))
    store = sj.MemoryStore()
    tune_s, _ = timed(lambda: run_configs(setup, [base], seeds, store, ["g0.0"], progress=False))
    same = {
        "run": overall(alone.evaluation[0]),
        "sweep": overall(swept.store.group("0")["runs"][str(args.seed)]["evaluation"]),
        "tune_path": overall(store.group("g0.0")["runs"][str(args.seed)]["evaluation"]),
    }
    print(f"one configuration, seed {args.seed}: run {run_s:.1f} s, sweep {sweep_s:.1f} s, tune path {tune_s:.1f} s")
    print(f"  sweep / run {sweep_s / run_s:.2f}, tune path / run {tune_s / run_s:.2f}; mean final accuracy {same}")

    trees = [sj.set_hparams(base, config) for config in FOUR]
    runs_s, _ = timed(lambda: [run(tree) for tree in trees])
    four_s, _ = timed(lambda: sj.sweep(setup, base, FOUR, seeds, progress=False))
    print(f"four configurations: four runs one after another {runs_s:.1f} s, one sweep {four_s:.1f} s")
    print(f"  sweep / runs {four_s / runs_s:.2f}")

    write_result(
        args.out,
        {
            "data": "bundled subset" if args.data_dir is None else args.data_dir,
            "examples_per_task": args.examples_per_task,
            "seed": args.seed,
            "one_config": {
                "run_s": run_s,
                "sweep_s": sweep_s,
                "tune_path_s": tune_s,
                "sweep_over_run": sweep_s / run_s,
                "tune_path_over_run": tune_s / run_s,
                "mean_final_accuracy": same,
            },
            "four_configs": {
                "configs": [{k: to_json(v) for k, v in c.items()} for c in FOUR],
                "runs_s": runs_s,
                "sweep_s": four_s,
                "sweep_over_runs": four_s / runs_s,
            },
        },
    )


if __name__ == "__main__":
    main()
