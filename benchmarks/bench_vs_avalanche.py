"""Speed of sleepjax against Avalanche (and a plain PyTorch loop) on class-incremental split MNIST, side by
side in one run on this CPU (issue 25).

One command runs both sides one after the other on the same machine and writes one record:

1. the PyTorch side, ``benchmarks/torch_side.py``, in a throwaway virtualenv outside the repository
   (``--setup`` creates it first with ``benchmarks/avalanche_env.sh``; torch and Avalanche are never
   dependencies of sleepjax and never run in CI): Avalanche 0.6's Naive, EWC, SI, LwF, Replay and
   JointTraining, and a minimal PyTorch loop for Naive, each for every seed of ``--seeds``;
2. the sleepjax side, :func:`sleepjax_side.sleepjax_side` (``benchmarks/sleepjax_side.py``), in this venv:
   every method for all ``--sleepjax-seeds`` at once, vmapped, compilation included;
3. the float32 matmul peak of this CPU, measured in the same run (``jnp.dot`` here, ``torch.mm`` in the
   PyTorch side's process), and the work per seed in floating-point operations, so that the fraction of
   the peak each side reaches can be read off.

The protocol (Hsu et al. 2018) is stated in ``benchmarks/torch_side.py``: 28x28 images padded to 32x32
(input 1024-D), 1024-400-400-10 ReLU MLP, Adam lr 1e-3, batch 128, 4 epochs per task, 5 tasks of 2 classes,
one 10-way head, evaluation of every task after every task. Both sides use ``--threads`` cores (2: both
cores of the reference machine). Figures mean something only on an otherwise idle machine: the load
average is recorded at the start and end of each side.

Work per seed, counted as 6 x parameters x examples for a forward and backward pass of an example (2 for
the forward, 4 for the backward; this slightly overcounts the first layer, whose input gradient is not
needed) and 2 x parameters per example for a forward pass only: the training examples each side reports
(memory batches of replay included), plus EWC's Fisher pass (forward and backward over each task's data),
plus LwF's teacher forward on every training example after the first task, plus the evaluations (10,000
test images after each task). The network has 574,410 parameters.

    python benchmarks/bench_vs_avalanche.py --setup --data-dir ../shared/data/mnist
    python benchmarks/bench_vs_avalanche.py --methods naive,ewc,si,lwf,replay,joint --seeds 0,1,2 \\
        --sleepjax-seeds 0,1,2,3,4,5,6,7,8,9 --data-dir ../shared/data/mnist

Results are printed as a table and written to ``benchmarks/results/vs_avalanche_cpu.json`` (``--out``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import jax
import jax.numpy as jnp
from torch_side import DEFAULTS, EVALUATORS, IDX_FILES, METHODS, SIZES, TASKS, num_parameters

ROOT = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve().parent
DEFAULT_VENV = Path(os.environ.get("SLEEPJAX_AVALANCHE_VENV", Path.home() / ".cache/sleepjax-bench/avalanche-venv"))
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "mnist"
TEST_EXAMPLES = 10_000
GOAL = 0.4  # sleepjax seconds per seed at most 0.4 of Avalanche's (issue 25)


def fail(message: str) -> None:
    """Stop with one line naming what is wrong."""
    sys.exit(f"bench_vs_avalanche.py: {message}")


def parse_methods(text: str) -> list[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names:
        fail(f"--methods is empty; choose from {','.join(METHODS)}")
    for name in names:
        if name not in METHODS:
            fail(f"unknown method {name!r} in --methods; choose from {','.join(METHODS)}")
    return list(dict.fromkeys(names))


def parse_seeds(text: str, flag: str) -> list[int]:
    try:
        seeds = [int(s) for s in text.split(",") if s.strip()]
    except ValueError:
        fail(f"{flag} must be comma-separated integers, got {text!r}")
    if not seeds or min(seeds) < 0 or len(set(seeds)) != len(seeds):
        fail(f"{flag} must be distinct non-negative integers, got {text!r}")
    return seeds


def check_data_dir(data_dir: Path) -> None:
    if not data_dir.is_dir():
        fail(f"--data-dir {str(data_dir)!r} is not a directory (it must hold the four MNIST idx files)")
    for stem in IDX_FILES.values():
        if not any((data_dir / name).is_file() for name in (stem, stem + ".gz")):
            fail(f"--data-dir {str(data_dir)!r} has no {stem}[.gz]")


def jax_matmul_peak(n: int = 2048, repeats: int = 5) -> dict:
    """Best float32 ``jnp.dot`` rate on n x n matrices, in GFLOP/s (2 n^3 operations per product)."""
    ka, kb = jax.random.split(jax.random.key(0))
    a = jax.random.normal(ka, (n, n), jnp.float32)
    b = jax.random.normal(kb, (n, n), jnp.float32)
    dot = jax.jit(jnp.dot)
    dot(a, b).block_until_ready()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        dot(a, b).block_until_ready()
        best = min(best, time.perf_counter() - start)
    return {"n": n, "best_s": best, "gflops": 2 * n**3 / best / 1e9, "backend": jax.default_backend()}


def work_flops(method: str, train_examples: int, rows: int, params: int, task_sizes: list[int], epochs: int) -> dict:
    """Floating-point operations of one seed (see the module docstring for how they are counted)."""
    train = 6 * params * train_examples
    extra = 0
    if method == "ewc":
        extra = 6 * params * sum(task_sizes)
    elif method == "lwf":
        extra = 2 * params * epochs * sum(task_sizes[1:])
    evaluation = 2 * params * TEST_EXAMPLES * rows
    return {"train": train, "extra": extra, "eval": evaluation, "total": train + extra + evaluation}


def run_torch_side(args, methods: list[str], python: Path) -> dict:
    """Run ``torch_side.py`` in the throwaway venv, its output shown as it comes; its JSON record."""
    with tempfile.TemporaryDirectory(prefix="sleepjax-vs-avalanche-") as tmp:
        out = Path(tmp) / "torch_side.json"
        command = [
            str(python),
            str(HERE / "torch_side.py"),
            "--methods",
            ",".join(methods),
            "--seeds",
            ",".join(map(str, args.seeds)),
            "--data-dir",
            str(args.data_dir),
            "--out",
            str(out),
            "--threads",
            str(args.threads),
            "--evaluator",
            args.evaluator,
        ]
        if args.train_per_task:
            command += ["--train-per-task", str(args.train_per_task)]
        print("PyTorch side:", " ".join(command), flush=True)
        start = time.perf_counter()
        done = subprocess.run(command, check=False)
        if done.returncode != 0 or not out.is_file():
            fail(f"the PyTorch side failed (exit code {done.returncode}); see its output above")
        record = json.loads(out.read_text())
    record["command"] = command
    record["process_wall_s"] = time.perf_counter() - start
    return record


def summarize_torch(record: dict, params: int) -> dict:
    """Per implementation and method: seconds per seed (mean, per seed), accuracy, work, fraction of peak."""
    peak = record["matmul_peak"]["gflops"] * 1e9
    summary: dict = {}
    for run in record["runs"]:
        entry = summary.setdefault(run["implementation"], {}).setdefault(run["method"], {"runs": []})
        entry["runs"].append(run)
    for impl in summary.values():
        for method, entry in impl.items():
            runs = entry.pop("runs")
            wall = [r["wall_s"] for r in runs]
            excl = [r["wall_excl_data_s"] for r in runs]
            flops = [
                work_flops(
                    method, r["train_examples"], len(r["accuracy"]), params, r["train_task_sizes"], DEFAULTS["epochs"]
                )
                for r in runs
            ]
            entry.update(
                seeds=[r["seed"] for r in runs],
                s_per_seed=statistics.mean(excl),
                s_per_seed_incl_data=statistics.mean(wall),
                wall_s=wall,
                wall_excl_data_s=excl,
                train_s=[r["train_s"] for r in runs],
                eval_s=[r["eval_s"] for r in runs],
                final_average_accuracy=statistics.mean(r["final_average_accuracy"] for r in runs),
                final_average_accuracy_per_seed=[r["final_average_accuracy"] for r in runs],
                flops_per_seed=flops[0],
                fraction_of_torch_mm_peak=statistics.mean(f["total"] / s / peak for f, s in zip(flops, excl)),
            )
            if "si_check" in runs[0]:
                entry["si_check"] = [r["si_check"] for r in runs]
    return summary


def summarize_sleepjax(result: dict, params: int, peak_gflops: float) -> dict:
    """Per method: seconds per seed of the vmapped run, accuracy, work and fractions of the jnp.dot peak."""
    peak = peak_gflops * 1e9
    summary = {}
    for method, entry in result.get("methods", {}).items():
        seeds = entry["seeds"]
        rows = len(entry["accuracy"][0]) if entry.get("accuracy") else (1 if method == "joint" else len(TASKS))
        examples = entry.get("train_examples_per_seed")
        task_sizes = entry.get("train_task_sizes", [])
        flops = work_flops(method, examples, rows, params, task_sizes, DEFAULTS["epochs"]) if examples else None
        s_per_seed = entry["wall_s"] / len(seeds)
        out = {
            "seeds": seeds,
            "s_per_seed": s_per_seed,
            "wall_s": entry["wall_s"],
            "compile_s": entry.get("compile_s"),
            "final_average_accuracy": statistics.mean(entry["final_average_accuracy"]),
            "final_average_accuracy_per_seed": entry["final_average_accuracy"],
            "flops_per_seed": flops,
        }
        if flops:
            out["fraction_of_jnp_dot_peak"] = flops["total"] / s_per_seed / peak
            if entry.get("wake_s"):
                out["wake_fraction_of_jnp_dot_peak"] = flops["train"] / (entry["wake_s"] / len(seeds)) / peak
        summary[method] = out
    return summary


def environment() -> dict:
    """What the sleepjax side and the matmul peak ran on (the PyTorch side records its own)."""
    versions = {"python": platform.python_version()}
    for name in ("sleepjax", "jax", "jaxlib", "optax", "equinox", "numpy"):
        try:
            versions[name] = version(name)
        except PackageNotFoundError:
            versions[name] = None
    return {
        "versions": versions,
        "backend": jax.default_backend(),
        "devices": [str(d) for d in jax.devices()],
        "cpu_count": os.cpu_count(),
        "affinity": sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "machine": platform.machine(),
    }


def write_record(path: Path, record: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=1) + "\n")
    print(f"written to {path}")


def cell(value, fmt: str) -> str:
    """``value`` formatted, or a dash of the same width where there is none."""
    width = int(fmt.split(".")[0] or 0)
    return "-".rjust(width) if value is None else format(value, fmt)


def print_table(methods: list[str], torch_summary: dict, sleepjax_summary: dict, peaks: dict) -> None:
    avalanche, plain = torch_summary.get("avalanche", {}), torch_summary.get("torch", {})
    header = (
        f"{'method':8s} {'Avalanche s/seed':>16s} {'torch s/seed':>12s} {'sleepjax s/seed':>15s} "
        f"{'sj/Av (<=0.4)':>13s} {'acc Av':>7s} {'acc torch':>9s} {'acc sj':>7s} {'GFLOP/seed':>10s} "
        f"{'Av %peak':>8s} {'sj %peak':>8s}"
    )
    print(header)
    print("-" * len(header))
    for method in methods:
        av, pt, sj = avalanche.get(method, {}), plain.get(method, {}), sleepjax_summary.get(method, {})
        ratio = sj["s_per_seed"] / av["s_per_seed"] if sj and av else None
        flops = (av or sj).get("flops_per_seed")
        av_peak = av.get("fraction_of_torch_mm_peak")
        sj_peak = sj.get("wake_fraction_of_jnp_dot_peak", sj.get("fraction_of_jnp_dot_peak"))
        print(
            f"{method:8s} {cell(av.get('s_per_seed'), '16.2f')} {cell(pt.get('s_per_seed'), '12.2f')} "
            f"{cell(sj.get('s_per_seed'), '15.2f')} {cell(ratio, '13.2f')} "
            f"{cell(av.get('final_average_accuracy'), '7.4f')} {cell(pt.get('final_average_accuracy'), '9.4f')} "
            f"{cell(sj.get('final_average_accuracy'), '7.4f')} {cell(flops and flops['total'] / 1e9, '10.0f')} "
            f"{cell(av_peak and 100 * av_peak, '8.1f')} {cell(sj_peak and 100 * sj_peak, '8.1f')}"
        )
    print(
        f"s/seed: wall seconds per seed excluding data loading (reading the idx files, building the datasets); "
        f"Avalanche, torch: mean over seeds run one by one; sleepjax: its vmapped run / seeds, compile included. "
        f"%peak: work / those seconds / float32 matmul peak "
        f"(torch.mm {cell(peaks.get('torch_mm'), '.1f')} GFLOP/s, jnp.dot {cell(peaks.get('jnp_dot'), '.1f')} "
        f"GFLOP/s); sleepjax: its wake alone where it reports wake_s."
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--methods", default=",".join(METHODS), help=f"comma-separated, of {','.join(METHODS)}")
    parser.add_argument("--seeds", default="0,1,2", help="seeds of the PyTorch side, run one after the other")
    parser.add_argument("--sleepjax-seeds", default=",".join(map(str, range(10))), help="seeds vmapped together")
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA, help=f"MNIST idx files (default {DEFAULT_DATA})")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "vs_avalanche_cpu.json")
    parser.add_argument("--venv", type=Path, default=DEFAULT_VENV, help=f"throwaway venv (default {DEFAULT_VENV})")
    parser.add_argument("--setup", action="store_true", help="create the venv first (benchmarks/avalanche_env.sh)")
    parser.add_argument("--sides", default="torch,sleepjax", help="which sides to run (default both)")
    parser.add_argument("--threads", type=int, default=2, help="torch threads of the PyTorch side (default 2)")
    parser.add_argument("--evaluator", default="lean", help="Avalanche metrics: lean (default) or default")
    parser.add_argument("--train-per-task", type=int, default=None, help="smoke tests of the PyTorch side only")
    args = parser.parse_args()

    methods = parse_methods(args.methods)
    args.seeds = parse_seeds(args.seeds, "--seeds")
    sleepjax_seeds = parse_seeds(args.sleepjax_seeds, "--sleepjax-seeds")
    sides = [s.strip() for s in args.sides.split(",") if s.strip()]
    for side in sides:
        if side not in ("torch", "sleepjax"):
            fail(f"unknown side {side!r} in --sides; choose from torch,sleepjax")
    if not sides:
        fail("--sides is empty; choose from torch,sleepjax")
    if args.evaluator not in EVALUATORS:
        fail(f"unknown --evaluator {args.evaluator!r}; choose from {','.join(EVALUATORS)}")
    if args.threads < 1:
        fail(f"--threads must be at least 1, got {args.threads}")
    if args.train_per_task is not None and args.train_per_task < 1:
        fail(f"--train-per-task must be at least 1, got {args.train_per_task}")
    args.data_dir = args.data_dir.resolve()
    check_data_dir(args.data_dir)
    if os.environ.get("CI"):
        fail("refusing to run in CI (CI is set): this benchmark installs and runs Avalanche")
    python = args.venv / "bin" / "python"
    if "torch" in sides:
        if args.setup:
            subprocess.run(["bash", str(HERE / "avalanche_env.sh"), str(args.venv)], check=True)
        elif not python.is_file():
            fail(f"no venv at {args.venv}; pass --setup, or run: bash benchmarks/avalanche_env.sh {args.venv}")

    params = num_parameters(SIZES)
    record: dict = {
        "benchmark": "sleepjax vs Avalanche 0.6 vs plain PyTorch, class-IL split MNIST (Hsu et al. 2018)",
        "methods": methods,
        "parameters": params,
        "flop_counting": "6 x parameters per example forward+backward, 2 x parameters per forward only; training "
        "examples as reported (replay memory batches included), plus EWC's Fisher pass, LwF's teacher forwards "
        "and the 10,000 test images per evaluation",
        "goal": f"sleepjax s/seed <= {GOAL} x Avalanche's",
    }
    peaks = {}

    if "torch" in sides:
        load = os.getloadavg()
        torch_record = run_torch_side(args, methods, python)
        torch_record["load_average_before"] = load
        record["torch_side"] = torch_record
        record["torch_summary"] = summarize_torch(torch_record, params)
        peaks["torch_mm"] = torch_record["matmul_peak"]["gflops"]

    peak = jax_matmul_peak()
    peaks["jnp_dot"] = peak["gflops"]
    record["jnp_dot_peak"] = peak
    if "sleepjax" in sides:
        from sleepjax_side import sleepjax_side

        load = os.getloadavg()
        start = time.perf_counter()
        try:
            result = sleepjax_side(methods, sleepjax_seeds, str(args.data_dir))
        except NotImplementedError as err:
            print(f"sleepjax side not run: {err}", flush=True)
            result = {"error": f"NotImplementedError: {err}"}
        result["process_wall_s"] = time.perf_counter() - start
        result["load_average_before"], result["load_average_after"] = load, os.getloadavg()
        record["sleepjax_side"] = result
        record["sleepjax_summary"] = summarize_sleepjax(result, params, peak["gflops"])

    record["matmul_peak_gflops"] = peaks
    print()
    print_table(methods, record.get("torch_summary", {}), record.get("sleepjax_summary", {}), peaks)
    record["environment"] = environment()
    record["load_average_at_end"] = os.getloadavg()
    write_record(args.out, record)


if __name__ == "__main__":
    main()
