"""Class-incremental split MNIST in Avalanche 0.6 and in plain PyTorch, timed: the PyTorch half of
``benchmarks/bench_vs_avalanche.py``.

It runs INSIDE the throwaway virtualenv of ``benchmarks/avalanche_env.sh`` (never in the project's own
venv, never in CI; sleepjax depends on neither torch nor Avalanche):

    bash benchmarks/avalanche_env.sh
    ~/.cache/sleepjax-bench/avalanche-venv/bin/python benchmarks/torch_side.py \\
        --methods naive,ewc,si,lwf,replay,joint --seeds 0,1,2 \\
        --data-dir ../shared/data/mnist --out /tmp/torch_side.json

Protocol (Hsu et al. 2018, "Re-evaluating continual learning scenarios", split MNIST, class-IL), the same
for every method and both implementations:

* data: the MNIST idx files, all training examples of each task's classes, held in memory as float32
  tensors; each 28x28 image is zero-padded to 32x32 as Hsu et al. do, scaled to [0, 1] and normalised
  with their 32x32 statistics (mean 0.1000, std 0.2752), so the INPUT IS 1024-D;
* 5 tasks {0,1}, {2,3}, ..., {8,9} in that order, one shared 10-way head (class-incremental);
* network 1024-400-400-10, ReLU, with biases, PyTorch's default initialisation (574,410 parameters);
* Adam, lr 1e-3, optimiser state kept across tasks (as Hsu et al. and Avalanche do), batch 128, 4 epochs
  per task, cross-entropy;
* evaluation on the whole test set after EVERY task, every task's test set each time: the full 5x5
  accuracy matrix (row i: after training task i; column j: test classes of task j); joint training is
  evaluated once, at its end (one row). ``final_average_accuracy`` is the mean of the last row over tasks
  (Hsu et al.'s metric), ``final_overall_accuracy`` the accuracy on all 10,000 test images;
* ``torch.set_num_threads(--threads)`` (2: both cores of the reference machine); nothing runs on a GPU.

Implementations:

``avalanche``: Avalanche 0.6 strategies with their standard plugins: ``Naive``, ``EWC`` (mode
  "separate"), ``SynapticIntelligence``, ``LwF``, ``Replay`` (``mem_size`` 1,100 in total, Avalanche's
  default experience-balanced buffer, and its ReplayDataLoader that appends a memory batch of 128 to
  every batch of 128 from the current task), ``JointTraining`` (one training run on all five tasks'
  data). The benchmark is built with ``nc_benchmark`` from in-memory tensor datasets, with the fixed class
  order 0..9. Metrics: an ``EvaluationPlugin`` with experience accuracy only and no logger
  (``--evaluator lean``, the default: what a user who times Avalanche would switch off), or Avalanche's
  own ``default_evaluator`` (``--evaluator default``: epoch/experience/stream accuracy and loss plus the
  interactive progress logger).
``torch``: a minimal PyTorch loop, for ``naive`` only: the floor of what torch itself costs for this work.
  Its loss, like Hsu et al.'s class-IL code, is the cross-entropy over the outputs of the classes seen so
  far (the first 2, 4, ... 10 logits); Avalanche's Naive uses all 10. Evaluation uses all 10 outputs in
  both.

Timing per (implementation, method, seed), wall clock: ``data_s`` (reading the idx files, padding,
normalising, building the Avalanche benchmark), ``train_s`` (everything inside training: forward and
backward, the optimiser, the plugins' work such as EWC's Fisher pass and the replay buffer's update),
``eval_s`` (the evaluations after each task), ``wall_s`` = all of it, ``wall_excl_data_s`` = wall_s -
data_s (strategy and model construction included). Loading the packages is not timed.

Avalanche 0.6's SI is a silent no-op on the CPU: ``SynapticIntelligencePlugin.extract_weights`` stores
``param.detach().cpu().flatten()``, which on a CPU tensor is a view of the live weights, not a copy, so
"old" and "new" weights are always equal, the path integral is 0 and every importance is 0 (SI then
trains as Naive). Each SI run records the largest importance, the largest path-integral term and
whether the stored "old" weights share memory with the live ones (``si_check``). It is not fixed here:
the point is to time (and show) Avalanche as users get it.

The JSON written to ``--out`` holds the protocol, the environment (torch / torchvision / avalanche
versions, threads, load average), a float32 ``torch.mm`` peak measured in the same process, and one
record per run with its timings, accuracy matrix, counts of examples processed and hyperparameters.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import random
import struct
import sys
import time
import warnings
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import numpy as np

try:
    import torch
except ImportError:  # the orchestrator imports this module's constants from the project's venv
    torch = None

METHODS = ("naive", "ewc", "si", "lwf", "replay", "joint")
IMPLEMENTATIONS = ("avalanche", "torch")
#: Methods that have a plain-PyTorch implementation.
TORCH_METHODS = ("naive",)
EVALUATORS = ("lean", "default")
TASKS = ((0, 1), (2, 3), (4, 5), (6, 7), (8, 9))
PAD = 2  # 28x28 -> 32x32, as Hsu et al.
SIDE = 28 + 2 * PAD
MEAN, STD = 0.1000, 0.2752  # Hsu et al.'s normalisation of the padded 32x32 images
SIZES = (SIDE * SIDE, 400, 400, 10)
IDX_FILES = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}
DEFAULTS = {
    "lr": 1e-3,
    "batch_size": 128,
    "epochs": 4,
    "eval_batch_size": 1000,
    # Class-IL strengths of van de Ven et al. 2022 as issue 25 gives them, passed unchanged to Avalanche
    # (whose EWC penalty is lambda * sum F (w - w*)^2 with F the mean over minibatches of the squared
    # minibatch gradient, and whose SI penalty is lambda / 2 * sum omega (w - w*)^2): a starting point, not
    # tuned values. They change what is learned, hardly what a step costs.
    "ewc_lambda": 1e9,
    "si_lambda": 5000.0,
    "si_eps": 1e-7,
    "lwf_alpha": 1.0,
    "lwf_temperature": 2.0,
    "mem_size": 1100,
}


def num_parameters(sizes: tuple[int, ...] = SIZES) -> int:
    """Weights and biases of the fully connected network with these layer widths."""
    return sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))


def fail(message: str) -> None:
    """Stop with one line naming what is wrong."""
    sys.exit(f"torch_side.py: {message}")


def parse_list(text: str, allowed: tuple[str, ...], flag: str) -> list[str]:
    """Comma-separated names, each one of ``allowed``, in the given order, without duplicates."""
    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names:
        fail(f"{flag} is empty; choose from {','.join(allowed)}")
    for name in names:
        if name not in allowed:
            fail(f"unknown {flag[2:].rstrip('s')} {name!r} in {flag}; choose from {','.join(allowed)}")
    return list(dict.fromkeys(names))


def parse_seeds(text: str) -> list[int]:
    """Comma-separated non-negative integer seeds."""
    try:
        seeds = [int(s) for s in text.split(",") if s.strip()]
    except ValueError:
        fail(f"--seeds must be comma-separated integers, got {text!r}")
    if not seeds or min(seeds) < 0 or len(set(seeds)) != len(seeds):
        fail(f"--seeds must be distinct non-negative integers, got {text!r}")
    return seeds


def find_idx_files(data_dir: str | os.PathLike) -> dict[str, Path]:
    """The four MNIST idx files in ``data_dir`` (gzip-compressed or not); one-line error if any is missing."""
    root = Path(data_dir)
    if not root.is_dir():
        fail(f"--data-dir {str(data_dir)!r} is not a directory (it must hold the four MNIST idx files)")
    found = {}
    for key, stem in IDX_FILES.items():
        candidates = [root / (stem + ".gz"), root / stem]
        path = next((p for p in candidates if p.is_file()), None)
        if path is None:
            fail(f"--data-dir {str(data_dir)!r} has no {stem}[.gz]")
        found[key] = path
    return found


def read_idx(path: Path) -> np.ndarray:
    """One idx file (magic 2051: uint8 images N x rows x cols; 2049: uint8 labels N)."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        raw = f.read()
    magic, count = struct.unpack(">ii", raw[:8])
    if magic == 2051:
        rows, cols = struct.unpack(">ii", raw[8:16])
        return np.frombuffer(raw, np.uint8, count * rows * cols, 16).reshape(count, rows, cols)
    if magic == 2049:
        return np.frombuffer(raw, np.uint8, count, 8)
    fail(f"{path} is not an idx file of MNIST (magic number {magic})")


def load_split_mnist(data_dir: str | os.PathLike, train_per_task: int | None = None) -> dict:
    """Padded, normalised MNIST as torch tensors, and each task's training and test indices.

    ``train_per_task`` keeps only the first that many training examples of each task (smoke tests only;
    the protocol uses all)."""
    arrays = {key: read_idx(path) for key, path in find_idx_files(data_dir).items()}
    data = {}
    for split in ("train", "test"):
        images = np.pad(arrays[f"x_{split}"], ((0, 0), (PAD, PAD), (PAD, PAD)))
        x = (images.reshape(len(images), -1).astype(np.float32) / 255.0 - MEAN) / STD
        data[f"x_{split}"] = torch.from_numpy(x)
        data[f"y_{split}"] = torch.from_numpy(arrays[f"y_{split}"].astype(np.int64))
    for split in ("train", "test"):
        labels = data[f"y_{split}"].numpy()
        indices = [np.flatnonzero(np.isin(labels, classes)) for classes in TASKS]
        if split == "train" and train_per_task is not None:
            indices = [i[:train_per_task] for i in indices]
        data[f"{split}_indices"] = [torch.from_numpy(i) for i in indices]
    return data


def make_model() -> torch.nn.Module:
    """The 1024-400-400-10 ReLU MLP with biases, PyTorch's default initialisation."""
    layers = []
    for i, (a, b) in enumerate(zip(SIZES[:-1], SIZES[1:])):
        layers.append(torch.nn.Linear(a, b))
        if i < len(SIZES) - 2:
            layers.append(torch.nn.ReLU())
    return torch.nn.Sequential(*layers)


def test_accuracies(model: torch.nn.Module, data: dict, batch_size: int) -> list[float]:
    """Accuracy (argmax over all 10 outputs) on each task's test set."""
    model.eval()
    row = []
    with torch.no_grad():
        for idx in data["test_indices"]:
            x, y = data["x_test"][idx], data["y_test"][idx]
            correct = sum(
                int((model(x[i : i + batch_size]).argmax(1) == y[i : i + batch_size]).sum())
                for i in range(0, len(x), batch_size)
            )
            row.append(correct / len(x))
    model.train()
    return row


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch as Avalanche's RNGManager does (so both implementations start from the
    same initial weights for the same seed)."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


# ------------------------------------------------------------------------------------------------ plain torch


def run_torch(method: str, seed: int, data: dict, hp: dict) -> dict:
    """Naive fine-tuning in a minimal PyTorch loop: shuffled minibatches sliced from in-memory tensors."""
    assert method == "naive"
    seed_everything(seed)
    model = make_model()
    optimizer = torch.optim.Adam(model.parameters(), lr=hp["lr"])
    accuracy, examples, train_s, eval_s = [], 0, 0.0, 0.0
    bs = hp["batch_size"]
    for t, classes in enumerate(TASKS):
        start = time.perf_counter()
        idx = data["train_indices"][t]
        x, y = data["x_train"][idx], data["y_train"][idx]
        # Hsu et al.'s class-IL loss: only the outputs of the classes seen so far (the task order makes
        # them the first ones).
        seen = max(c for task in TASKS[: t + 1] for c in task) + 1
        assert seen == 2 * (t + 1) and set(classes) <= set(range(seen))
        for _ in range(hp["epochs"]):
            order = torch.randperm(len(x))
            for i in range(0, len(x), bs):
                batch = order[i : i + bs]
                loss = torch.nn.functional.cross_entropy(model(x[batch])[:, :seen], y[batch])
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                examples += len(batch)
        train_s += time.perf_counter() - start
        start = time.perf_counter()
        accuracy.append(test_accuracies(model, data, hp["eval_batch_size"]))
        eval_s += time.perf_counter() - start
    return {
        "accuracy": accuracy,
        "train_s": train_s,
        "eval_s": eval_s,
        "train_examples": examples,
        "loss_outputs": "outputs of the classes seen so far (Hsu et al.)",
    }


# ------------------------------------------------------------------------------------------------ Avalanche


def avalanche_benchmark(data: dict):
    """The class-incremental split-MNIST benchmark of Avalanche, from the in-memory tensors, built with
    ``nc_benchmark`` as Avalanche's own ``SplitMNIST`` is (which would instead read torchvision's MNIST)."""
    from avalanche.benchmarks import nc_benchmark

    class Tensors(torch.utils.data.TensorDataset):
        """A TensorDataset with the ``targets`` Avalanche reads class labels from."""

        def __init__(self, x, y):
            super().__init__(x, y)
            self.targets = y

    def subset(split):
        idx = torch.cat(data[f"{split}_indices"])
        return Tensors(data[f"x_{split}"][idx], data[f"y_{split}"][idx])

    return nc_benchmark(
        train_dataset=subset("train"),
        test_dataset=subset("test"),
        n_experiences=len(TASKS),
        task_labels=False,
        fixed_class_order=[c for task in TASKS for c in task],
        class_ids_from_zero_in_each_exp=False,
    )


def si_check(strategy) -> dict:
    """Largest SI importance and path-integral term, and whether SI's stored weights alias the live ones."""
    from avalanche.training.plugins import SynapticIntelligencePlugin

    plugin = next(p for p in strategy.plugins if isinstance(p, SynapticIntelligencePlugin))
    importance, trajectory = plugin.ewc_data[1], plugin.syn_data["cum_trajectory"]
    live = dict(strategy.model.named_parameters())
    old = plugin.syn_data["old_theta"]
    return {
        "importance_max_abs": max(float(v.data.abs().max()) for v in importance.values()),
        "cum_trajectory_max_abs": max(float(v.data.abs().max()) for v in trajectory.values()),
        "old_weights_share_memory_with_live_weights": all(
            old[name].data.untyped_storage().data_ptr() == live[name].untyped_storage().data_ptr() for name in old
        ),
        "note": "importance 0 means Avalanche's SI added no penalty: it trained as Naive",
    }


def run_avalanche(method: str, seed: int, benchmark, data: dict, hp: dict, evaluator_kind: str) -> dict:
    """One Avalanche strategy over the five experiences (JointTraining: over all of them at once)."""
    from avalanche.core import SupervisedPlugin
    from avalanche.evaluation.metrics import accuracy_metrics
    from avalanche.training import supervised
    from avalanche.training.determinism.rng_manager import RNGManager
    from avalanche.training.plugins import EvaluationPlugin
    from avalanche.training.plugins.evaluation import default_evaluator

    class CountExamples(SupervisedPlugin):
        """Counts the examples that go through forward and backward in training (memory batches included)."""

        def __init__(self):
            super().__init__()
            self.examples = 0

        def after_training_iteration(self, strategy, **kwargs):
            self.examples += len(strategy.mb_x)

    RNGManager.set_random_seeds(seed)
    model = make_model()
    optimizer = torch.optim.Adam(model.parameters(), lr=hp["lr"])
    counter = CountExamples()
    evaluator = (
        EvaluationPlugin(accuracy_metrics(experience=True), loggers=[])
        if evaluator_kind == "lean"
        else default_evaluator()
    )
    common = {
        "model": model,
        "optimizer": optimizer,
        "criterion": torch.nn.CrossEntropyLoss(),
        "train_mb_size": hp["batch_size"],
        "train_epochs": hp["epochs"],
        "eval_mb_size": hp["eval_batch_size"],
        "device": "cpu",
        "plugins": [counter],
        "evaluator": evaluator,
    }
    strategy = {
        "naive": lambda: supervised.Naive(**common),
        "ewc": lambda: supervised.EWC(ewc_lambda=hp["ewc_lambda"], mode="separate", **common),
        "si": lambda: supervised.SynapticIntelligence(si_lambda=hp["si_lambda"], eps=hp["si_eps"], **common),
        "lwf": lambda: supervised.LwF(alpha=hp["lwf_alpha"], temperature=hp["lwf_temperature"], **common),
        "replay": lambda: supervised.Replay(mem_size=hp["mem_size"], **common),
        "joint": lambda: supervised.JointTraining(**common),
    }[method]()

    def evaluate() -> list[float]:
        results = strategy.eval(benchmark.test_stream)
        row = []
        for exp in range(len(TASKS)):
            keys = [
                k
                for k in results
                if k.startswith("Top1_Acc_Exp/eval_phase/test_stream/") and k.endswith(f"Exp{exp:03d}")
            ]
            if len(keys) != 1:
                fail(f"Avalanche's evaluation returned no single accuracy of experience {exp}: {sorted(results)}")
            row.append(float(results[keys[0]]))
        return row

    accuracy, train_s, eval_s = [], 0.0, 0.0
    stages = [benchmark.train_stream] if method == "joint" else list(benchmark.train_stream)
    for stage in stages:
        start = time.perf_counter()
        strategy.train(stage, eval_streams=[])
        train_s += time.perf_counter() - start
        start = time.perf_counter()
        accuracy.append(evaluate())
        eval_s += time.perf_counter() - start
    # What the plugins add to the training loop's work, for a count of floating-point operations.
    task_sizes = [len(i) for i in data["train_indices"]]
    extra = {}
    if method == "ewc":  # Fisher: one forward+backward pass over each task's data after it
        extra["extra_forward_backward_examples"] = sum(task_sizes)
    if method == "lwf":  # the previous model's forward on every training batch after the first task
        extra["extra_forward_examples"] = hp["epochs"] * sum(task_sizes[1:])
    if method == "si":
        extra["si_check"] = si_check(strategy)
    return {"accuracy": accuracy, "train_s": train_s, "eval_s": eval_s, "train_examples": counter.examples, **extra}


# ------------------------------------------------------------------------------------------------ driver


def matmul_peak_gflops(n: int = 2048, repeats: int = 5) -> dict:
    """Best float32 ``torch.mm`` rate on n x n matrices, in GFLOP/s (2 n^3 operations per product)."""
    a, b = torch.randn(n, n), torch.randn(n, n)
    torch.mm(a, b)  # warm-up
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        torch.mm(a, b)
        best = min(best, time.perf_counter() - start)
    return {"n": n, "best_s": best, "gflops": 2 * n**3 / best / 1e9}


def package_version(name: str) -> str | None:
    try:
        return version(name)
    except PackageNotFoundError:
        return None


def one_run(impl: str, method: str, seed: int, args, hp: dict) -> dict:
    """Load the data, build what the implementation needs, train, evaluate; the record of one run."""
    load_start = os.getloadavg()
    start = time.perf_counter()
    data = load_split_mnist(args.data_dir, args.train_per_task)
    benchmark = avalanche_benchmark(data) if impl == "avalanche" else None
    data_s = time.perf_counter() - start
    if impl == "avalanche":
        result = run_avalanche(method, seed, benchmark, data, hp, args.evaluator)
    else:
        result = run_torch(method, seed, data, hp)
    wall_s = time.perf_counter() - start
    last = np.asarray(result["accuracy"][-1])
    test_sizes = np.array([len(i) for i in data["test_indices"]])
    return {
        "implementation": impl,
        "method": method,
        "seed": seed,
        "wall_s": wall_s,
        "data_s": data_s,
        "wall_excl_data_s": wall_s - data_s,
        **result,
        "final_average_accuracy": float(last.mean()),
        "final_overall_accuracy": float((last * test_sizes).sum() / test_sizes.sum()),
        "train_task_sizes": [len(i) for i in data["train_indices"]],
        "load_average_start": load_start,
        "load_average_end": os.getloadavg(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--methods", default=",".join(METHODS), help=f"comma-separated, of {','.join(METHODS)}")
    parser.add_argument(
        "--impl",
        default=",".join(IMPLEMENTATIONS),
        help="avalanche and/or torch (torch: the plain loop, for naive only)",
    )
    parser.add_argument("--seeds", default="0,1,2", help="comma-separated integers")
    parser.add_argument("--data-dir", required=True, help="folder with the four MNIST idx files")
    parser.add_argument("--out", required=True, help="JSON file to write")
    parser.add_argument("--threads", type=int, default=2, help="torch.set_num_threads (default 2)")
    parser.add_argument("--evaluator", default="lean", help="lean (experience accuracy, no logger) or default")
    parser.add_argument("--train-per-task", type=int, default=None, help="smoke tests only: fewer examples")
    for key, value in DEFAULTS.items():
        parser.add_argument("--" + key.replace("_", "-"), type=type(value), default=value, help=f"default {value}")
    args = parser.parse_args()

    methods = parse_list(args.methods, METHODS, "--methods")
    impls = parse_list(args.impl, IMPLEMENTATIONS, "--impl")
    seeds = parse_seeds(args.seeds)
    if args.evaluator not in EVALUATORS:
        fail(f"unknown --evaluator {args.evaluator!r}; choose from {','.join(EVALUATORS)}")
    if args.threads < 1:
        fail(f"--threads must be at least 1, got {args.threads}")
    if args.train_per_task is not None and args.train_per_task < 1:
        fail(f"--train-per-task must be at least 1, got {args.train_per_task}")
    hp = {key: getattr(args, key) for key in DEFAULTS}
    for key, value in hp.items():
        positive = key in ("lr", "batch_size", "epochs", "eval_batch_size", "si_eps", "lwf_temperature", "mem_size")
        if not np.isfinite(value) or value < 0 or (positive and value == 0):
            kind = "positive" if positive else "non-negative"
            fail(f"--{key.replace('_', '-')} must be a finite {kind} number, got {value}")
    find_idx_files(args.data_dir)
    if torch is None:
        fail("torch is not installed in this Python; run it in the venv of benchmarks/avalanche_env.sh")
    if "avalanche" in impls:
        try:
            import avalanche  # noqa: F401
        except ImportError as err:
            fail(f"Avalanche does not import here ({err}); run it in the venv of benchmarks/avalanche_env.sh")

    # Avalanche 0.6 warns at every experience about its own deprecated calls (forcing them to show with
    # simplefilter("always")) and about an evaluator without loggers: collect each distinct warning once,
    # into the record, instead of printing them over and over.
    seen_warnings: set[str] = set()
    warnings.showwarning = lambda message, category, *rest, **kw: seen_warnings.add(f"{category.__name__}: {message}")
    torch.set_num_threads(args.threads)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    record = {
        "protocol": {
            "scenario": "split MNIST, class-incremental, tasks " + " ".join(f"{{{a},{b}}}" for a, b in TASKS),
            "reference": "Hsu et al. 2018, Re-evaluating continual learning scenarios",
            "input": f"28x28 zero-padded to {SIDE}x{SIDE} (input {SIDE * SIDE}-D), /255, (x - {MEAN}) / {STD}",
            "network": "-".join(map(str, SIZES)) + " ReLU MLP with biases, PyTorch default init",
            "parameters": num_parameters(),
            "optimizer": f"Adam lr {hp['lr']}, state kept across tasks",
            "batch_size": hp["batch_size"],
            "epochs_per_task": hp["epochs"],
            "train_per_task": args.train_per_task or "all",
            "evaluation": "test set of every task after every task (joint: once, at the end)",
            "final_average_accuracy": "mean over tasks of the last row of the accuracy matrix",
            "avalanche_evaluator": args.evaluator,
            "replay": "Avalanche Replay: experience-balanced buffer of mem_size in total; each batch of the "
            "current task gets a memory batch of the same size (from the second task on)",
            "hparams": hp,
        },
        "environment": {
            "python": platform.python_version(),
            "torch": torch.__version__,
            "torchvision": package_version("torchvision"),
            "avalanche": package_version("avalanche-lib"),
            "numpy": np.__version__,
            "threads": torch.get_num_threads(),
            "interop_threads": torch.get_num_interop_threads(),
            "cpu_count": os.cpu_count(),
            "affinity": sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
            "machine": platform.machine(),
            "processor": platform.processor(),
            "load_average_start": os.getloadavg(),
        },
        "matmul_peak": matmul_peak_gflops(),
        "runs": [],
    }
    print(
        f"torch {torch.__version__}, avalanche {record['environment']['avalanche']}, {args.threads} threads, "
        f"torch.mm peak {record['matmul_peak']['gflops']:.1f} GFLOP/s, load {os.getloadavg()}",
        flush=True,
    )
    for impl in impls:
        for method in methods:
            if impl == "torch" and method not in TORCH_METHODS:
                continue
            for seed in seeds:
                run = one_run(impl, method, seed, args, hp)
                record["runs"].append(run)
                record["environment"]["load_average_end"] = os.getloadavg()
                record["warnings"] = sorted(seen_warnings)
                out.write_text(json.dumps(record, indent=1) + "\n")  # after every run: a partial record survives
                si = f", SI importance max {run['si_check']['importance_max_abs']:.3g}" if "si_check" in run else ""
                print(
                    f"{impl:9s} {method:6s} seed {seed}: {run['wall_s']:6.2f} s "
                    f"(data {run['data_s']:.2f}, train {run['train_s']:.2f}, eval {run['eval_s']:.2f}), "
                    f"final average accuracy {run['final_average_accuracy']:.4f}{si}; load {os.getloadavg()}",
                    flush=True,
                )
    print(f"written to {out}")


if __name__ == "__main__":
    main()
