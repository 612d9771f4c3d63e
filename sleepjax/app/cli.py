"""The ``sleepjax`` command: parses arguments and dispatches to the experiment drivers of :mod:`sleepjax.app`.

``sleepjax run split-mnist`` runs the reference SRC experiment (arms fine-tune, SRC, joint) for several
seeds, prints a table of mean ± SD final accuracies and writes a resumable JSON record.
``sleepjax run foraging`` runs the spiking foraging agent's six conditions over several trials and prints
their pattern discriminability next to the published table; ``sleepjax run lca`` the spiking sparse coding.
``sleepjax compare BENCHMARK`` runs continual-learning methods side by side (:mod:`sleepjax.app.compare_cli`).

Every user mistake ends in one line ``sleepjax: error: ...`` and exit code 2 (argument syntax errors:
argparse's usage line and exit code 2); Ctrl-C stops after the run in progress is saved, with exit code
130 and a line saying how to resume.
"""

from __future__ import annotations

import argparse
import re
import sys

from sleepjax._idx import DataError
from sleepjax.app import cache, commands, foraging, lca, split_mnist
from sleepjax.app.arguments import (
    add_batch_options,
    add_common,
    add_data,
    add_protocol,
    add_sweep_options,
    apply_smoke,
    int_or_text,
    non_negative_int,
    parse_arms,
    parse_floats,
    parse_hparam,
    parse_seeds,
    positive_float,
    positive_int,
    run_count,
)
from sleepjax.app.compare_cli import add_compare, add_sweep_compare
from sleepjax.app.interrupt import Interrupted, stop_at_safe_point
from sleepjax.app.records import RecordError

USER_ERRORS = (DataError, RecordError, ValueError, ImportError, OSError)


def add_split_mnist(sub) -> None:
    p = sub.add_parser("split-mnist", help="SRC on class-incremental split MNIST (fine-tune, SRC, joint)")
    p.add_argument(
        "--arms",
        type=parse_arms,
        default=list(split_mnist.ARMS),
        help=f"comma-separated arms among {', '.join(split_mnist.ARMS)} (default: all)",
    )
    p.add_argument("--seeds", type=parse_seeds, default=[0], help="number of seeds (0..N-1) or a list (default: 1)")
    p.add_argument(
        "--chunk-size",
        type=positive_int,
        default=None,
        help="seeds per compiled (vmapped) call (default: all on an accelerator, 1 on the CPU)",
    )
    add_protocol(p)
    add_common(p)
    p.set_defaults(handler=commands.run_split_mnist)


def add_foraging(sub) -> None:
    d = foraging.Durations()
    p = sub.add_parser("foraging", help="the spiking foraging agent: rewarded STDP, forgetting and interleaved sleep")
    p.add_argument("--trials", type=run_count, default=10, help="number of trials (default: 10)")
    p.add_argument(
        "--first-seed", type=non_negative_int, default=0, help="seed of the first trial; trials use consecutive seeds"
    )
    p.add_argument("--neuron", choices=foraging.NEURON_MODELS, default="rulkov", help="neuron model (default: rulkov)")
    p.add_argument(
        "--pairing",
        choices=foraging.PAIRINGS,
        default=foraging.Config().pairing,
        help="STDP spike pairing: nearest spikes or every pair within 60 ms (default: %(default)s)",
    )
    p.add_argument(
        "--steps-per-cycle",
        type=positive_int,
        default=foraging.Config().steps_per_cycle,
        help="0.5 ms steps per movement cycle (default: %(default)s, the paper's)",
    )
    for name, help_text in (
        ("unsupervised", "cycles of the unsupervised period"),
        ("task1", "cycles of Task 1 training"),
        ("task2", "cycles of Task 2 training in every condition"),
        ("block", "cycles per block of the interleaved conditions"),
        ("test", "test cycles per task"),
        ("curve-block", "cycles per point of a learning curve"),
    ):
        field = name.replace("-", "_")
        p.add_argument(
            f"--{name}", type=positive_int, default=getattr(d, field), help=f"{help_text} (default: %(default)s)"
        )
    p.add_argument(
        "--hparam",
        type=parse_hparam,
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="override one constant of sleepjax.foraging.Hparams (repeatable)",
    )
    p.add_argument("--chunk-size", type=positive_int, default=None, help="trials per vmapped call (default: all)")
    add_common(p)
    p.set_defaults(handler=commands.run_foraging)


def add_lca(sub) -> None:
    p = sub.add_parser("lca", help="spiking sparse coding: Hebbian dictionary learning with and without noise sleep")
    p.add_argument("--seeds", type=parse_seeds, default=[0], help="number of seeds (0..N-1) or a list (default: 1)")
    add_data(p)
    p.add_argument(
        "--chunk-size",
        type=positive_int,
        default=None,
        help="seeds per compiled (vmapped) call (default: all on an accelerator, 1 on the CPU)",
    )
    defaults = lca.Config()
    p.add_argument("--blocks", type=positive_int, default=defaults.blocks, help="blocks of training patches")
    p.add_argument("--patches-per-block", type=positive_int, default=defaults.patches_per_block)
    p.add_argument("--preprocessing", choices=lca.PREPROCESSING, default=defaults.preprocessing)
    p.add_argument("--sleep-seconds", type=float, default=defaults.sleep_seconds, help="sleep length after a block")
    p.add_argument("--sleep-level", type=float, default=defaults.sleep_level, help="mean noise level of the sleeps")
    p.add_argument("--sleep-frequency", type=float, default=defaults.sleep_frequency, help="sinusoid frequency (Hz)")
    p.add_argument(
        "--threshold", type=float, default=defaults.threshold, help="LIF threshold = code carried by one spike"
    )
    p.add_argument(
        "--rule",
        choices=lca.RULES,
        default=defaults.rule,
        help="Hebbian rule: residual x spike (spike-triggered) or x code trace (trace)",
    )
    p.add_argument("--eta", type=float, default=defaults.eta, help="Hebbian learning rate (wake and sleep)")
    p.add_argument(
        "--delay",
        type=int,
        choices=(0, 1),
        default=defaults.delay,
        help="steps before a neuron receives its drive (1: next step, as on neuromorphic hardware)",
    )
    p.add_argument(
        "--tiny", action="store_true", help="a few-second version (16 neurons, 3 short blocks) for smoke tests"
    )
    p.add_argument("--sweep-freq", type=parse_floats, default=None, help="sweep sinusoid frequencies, e.g. 0.5,2,8,32")
    p.add_argument("--sweep-amp", type=parse_floats, default=None, help="sweep noise levels (offset = amplitude)")
    add_common(p)
    p.set_defaults(handler=commands.run_lca)


def add_sweep(sub) -> None:
    sweep = sub.add_parser("sweep", help="run every configuration x seed of a grid or list as one program")
    experiments = sweep.add_subparsers(dest="experiment", required=True, metavar="EXPERIMENT")
    p = experiments.add_parser("split-mnist", help="sweep the SRC arm of class-incremental split MNIST")
    add_sweep_options(
        p,
        "sleep.src.inc=0.01,0.03 (repeat for more axes; every combination runs)",
        "test",
        "evaluate on the test set or on held-out training examples (default: test)",
    )
    p.add_argument("--save-best", default=None, metavar="FILE", help="write the best configuration as a vector file")
    add_batch_options(p)
    add_protocol(p)
    add_common(p)
    p.set_defaults(handler=commands.run_sweep)
    add_sweep_compare(experiments)


def add_tune(sub) -> None:
    from sleepjax._tune import METHODS, SearchConfig

    d = SearchConfig()
    tune = sub.add_parser("tune", help="search hyperparameters on a validation split")
    experiments = tune.add_subparsers(dest="experiment", required=True, metavar="EXPERIMENT")
    p = experiments.add_parser("split-mnist", help="search the SRC vector of class-incremental split MNIST")
    p.add_argument("--method", choices=METHODS, default=d.method, help=f"search method (default: {d.method})")
    p.add_argument("--budget", type=positive_int, default=d.budget, help="configurations to evaluate")
    p.add_argument("--population", type=positive_int, default=d.population, help="configurations per generation")
    p.add_argument("--sigma", type=positive_float, default=d.sigma, help="CMA-ES initial step (unit cube)")
    p.add_argument("--search-seed", type=non_negative_int, default=d.search_seed, help="seed of the proposals")
    p.add_argument(
        "--search-seeds",
        type=parse_seeds,
        default=list(d.seeds),
        help=f"seeds each configuration runs (default: {','.join(map(str, d.seeds))})",
    )
    p.add_argument("--confirm", type=non_negative_int, default=d.confirm, help="best configurations to rerun")
    p.add_argument(
        "--confirm-seeds",
        type=parse_seeds,
        default=list(d.confirm_seeds),
        help=f"seeds of the confirmation runs (default: {','.join(map(str, d.confirm_seeds))})",
    )
    p.add_argument(
        "--space",
        default="faithful",
        metavar="NAME_OR_FILE",
        help="faithful (the reference rule's rates, thresholds, sleep lengths), extended (also the scale in g(w)), "
        "or a JSON file {name: [log|linear|int, low, high]} (default: faithful)",
    )
    p.add_argument(
        "--orders",
        type=int_or_text,
        default=None,
        metavar="K",
        help="score every configuration over K class orders drawn from --orders-seed (never the default order "
        "nor a confirmation order) instead of the one of --task-classes",
    )
    p.add_argument(
        "--orders-seed",
        type=int_or_text,
        default=None,
        metavar="S",
        help="seed of the class orders of --orders (default: 0)",
    )
    p.add_argument("--save-vector", required=True, metavar="FILE", help="write the winner as a JSON vector file")
    add_batch_options(p)
    add_protocol(p)
    add_common(p)
    p.set_defaults(handler=commands.run_tune)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sleepjax", description="Continual learning with sleep phases in JAX.")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run an experiment")
    experiments = run.add_subparsers(dest="experiment", required=True, metavar="EXPERIMENT")
    add_split_mnist(experiments)
    add_foraging(experiments)
    add_lca(experiments)
    add_sweep(sub)
    add_tune(sub)
    add_compare(sub)
    return parser


#: Library parameters as the command line calls them, so that a library error names the flag to change.
FLAGS = {
    "SearchConfig.method": "--method",
    "SearchConfig.budget": "--budget",
    "SearchConfig.population": "--population",
    "SearchConfig.sigma": "--sigma",
    "SearchConfig.confirm_seeds": "--confirm-seeds",
    "SearchConfig.confirm": "--confirm",
    "SearchConfig.seeds": "--search-seeds",
    "chunk_size": "--chunk-size",
    "memory_budget": "--memory-budget",
}
_FLAG_NAMES = re.compile(r"(?<![\w.-])(" + "|".join(map(re.escape, sorted(FLAGS, key=len, reverse=True))) + r")\b")


def in_flags(message: str) -> str:
    """``message`` with the library parameters it names replaced by their flags (:data:`FLAGS`)."""
    return _FLAG_NAMES.sub(lambda m: FLAGS[m.group(1)], message)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    apply_smoke(args)
    out = getattr(args, "out", None)
    if not getattr(args, "no_compilation_cache", False):
        cache.enable(cache.cache_dir())
    try:
        with stop_at_safe_point():
            return args.handler(args)
    except (Interrupted, KeyboardInterrupt) as stop:
        if out is None:
            kept = "nothing was saved (no --out given)"
        elif isinstance(stop, Interrupted) and stop.saved is not None:
            kept = f"saved in {out}: {stop.saved}; rerun the same command to resume"
        else:
            kept = f"every run finished before is saved in {out}; rerun the same command to resume"
        print(f"sleepjax: interrupted; {kept}", file=sys.stderr)
        return 130
    except USER_ERRORS as err:
        print(f"sleepjax: error: {in_flags(str(err))}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
