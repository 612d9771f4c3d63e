"""What JAX's persistent compilation cache and sleepjax's store of traced programs save the command line:
one seed of the SRC arm, cold (an empty cache) and warm (the same command again, its programs read from
the cache and the store), in one run, each the best of ``--repeats`` pairs; and the time of
``import sleepjax``.

Each figure is the wall time of a fresh process, as a user starting the command sees it. The goal: the
warm invocation at most 0.6 of the cold one.

    python benchmarks/bench_cold_warm.py --data-dir ../shared/data/mnist

Results are printed and written as JSON to ``benchmarks/results/cold_warm_cpu.json``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import write_result

ROOT = Path(__file__).resolve().parents[1]


def timed(argv: list[str], env: dict) -> float:
    start = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True, env=env)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"bench_cold_warm: {' '.join(argv)} failed:\n{done.stderr[-2000:]}")
    return seconds


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", default=None, help="MNIST idx files (default: the bundled subset)")
    parser.add_argument("--smoke", action="store_true", help="the smoke version of the command (seconds)")
    parser.add_argument("--repeats", type=int, default=2, help="cold and warm pairs; the best of each is kept")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "cold_warm_cpu.json"))
    args = parser.parse_args(argv)

    command = [sys.executable, "-m", "sleepjax.app.cli", "run", "split-mnist", "--arms", "src", "--seeds", "1"]
    command += ["--no-progress"] + (["--data-dir", args.data_dir] if args.data_dir else []) + ["--smoke"] * args.smoke
    imports = [timed([sys.executable, "-c", "import sleepjax"], dict(os.environ)) for _ in range(3)]
    colds, warms = [], []
    for _ in range(args.repeats):
        with tempfile.TemporaryDirectory() as cache:
            env = dict(os.environ, SLEEPJAX_CACHE_DIR=cache)
            colds.append(timed(command, env))
            entries = len([f for f in Path(cache).glob("*") if f.is_file()])
            programs = len(list(Path(cache).glob("programs/*.exported")))
            warms.append(timed(command, env))
    cold, warm = min(colds), min(warms)
    print(f"import sleepjax: {min(imports):.2f} s (best of 3)")
    print(
        f"{' '.join(command[3:])}: cold {cold:.1f} s, warm {warm:.1f} s (best of {args.repeats}) "
        f"-> warm / cold {warm / cold:.2f}"
    )
    print(f"the cold run left {entries} compiled programs in the cache and {programs} traced ones in its store")
    write_result(
        args.out,
        {
            "command": " ".join(["sleepjax", *command[3:]]),
            "import_s": min(imports),
            "cold_s": cold,
            "warm_s": warm,
            "cold_runs_s": colds,
            "warm_runs_s": warms,
            "warm_over_cold": warm / cold,
            "cache_files": entries,
            "stored_programs": programs,
            "load_average_start": os.getloadavg(),
        },
    )


if __name__ == "__main__":
    main()
