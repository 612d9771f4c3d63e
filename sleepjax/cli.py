"""The ``sleepjax`` command: parses arguments and dispatches to the experiments in :mod:`sleepjax.protocols`.

``sleepjax run split-mnist`` runs the reference SRC experiment (arms fine-tune, SRC, joint) for several
seeds, prints a table of mean ± SD final accuracies and writes a resumable JSON record.
``sleepjax run foraging`` runs the spiking foraging agent's six conditions over several trials and prints
their pattern discriminability next to the published table; ``sleepjax run lca`` the spiking sparse coding.

Every user mistake ends in one line ``sleepjax: error: ...`` and exit code 2 (argument syntax errors:
argparse's usage line and exit code 2); Ctrl-C stops after the run in progress is saved, with exit code
130 and a line saying how to resume.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

from sleepjax import plots
from sleepjax.data import DATA_DIR_ENV, SOURCES, DataError, load_mnist
from sleepjax.foraging.figures import foraging_figures
from sleepjax.interrupt import Interrupted, stop_at_safe_point
from sleepjax.lca import plots as lca_plots
from sleepjax.protocols import foraging, lca, split_mnist
from sleepjax.record import RecordError, check_writable, writable_directory, write_atomic

USER_ERRORS = (DataError, RecordError, ValueError, ImportError, OSError)
#: Runs one command may ask for (seeds or trials): far beyond any real use, and refused before an absurd
#: request starts allocating.
MAX_RUNS = 100_000


def parse_seeds(text: str) -> list[int]:
    """``"5"`` means seeds 0..4; ``"3,7,11"`` lists seeds explicitly (distinct, in 0 .. 2**32 - 1)."""
    try:
        if "," in text:
            seeds = [int(s) for s in text.split(",") if s.strip()]
        else:
            n = int(text)
            if not 1 <= n <= MAX_RUNS:
                raise argparse.ArgumentTypeError(f"--seeds count must be in 1..{MAX_RUNS}, got {n}")
            seeds = list(range(n))
    except ValueError:
        raise argparse.ArgumentTypeError(f"--seeds takes a count or a comma-separated list, got {text!r}") from None
    if not seeds:
        raise argparse.ArgumentTypeError(f"--seeds lists no seed: {text!r}")
    bad = [s for s in seeds if not 0 <= s < 2**32]
    if bad:
        raise argparse.ArgumentTypeError(f"--seeds must lie in 0 .. 2**32 - 1 (unsigned 32-bit), got {bad[0]}")
    if len(set(seeds)) != len(seeds):
        raise argparse.ArgumentTypeError(f"--seeds lists a seed twice: {text!r}")
    return seeds


def parse_arms(text: str) -> list[str]:
    arms = [a.strip() for a in text.split(",") if a.strip()]
    unknown = [a for a in arms if a not in split_mnist.ARMS]
    if unknown or not arms:
        raise argparse.ArgumentTypeError(f"unknown arm(s) {unknown}; choose from {', '.join(split_mnist.ARMS)}")
    if len(set(arms)) != len(arms):
        raise argparse.ArgumentTypeError(f"--arms lists an arm twice: {text!r}")
    return arms


def parse_task_classes(text: str) -> tuple[tuple[int, ...], ...]:
    """``"9,8/7,6/5,4/3,2/1,0"``: tasks separated by ``/``, each a comma-separated list of classes."""
    try:
        tasks = tuple(tuple(int(c) for c in task.split(",")) for task in text.split("/"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--task-classes takes tasks separated by '/' of comma-separated digits, e.g. 9,8/7,6/5,4/3,2/1,0; "
            f"got {text!r}"
        ) from None
    flat = [c for t in tasks for c in t]
    if len(set(flat)) != len(flat) or not all(0 <= c <= 9 for c in flat):
        raise argparse.ArgumentTypeError(f"--task-classes must use distinct digits 0..9, got {text!r}")
    return tasks


def int_at_least(minimum: int, what: str, maximum: int | None = None):
    """An argparse type: an integer of at least ``minimum`` (and at most ``maximum`` if given; ``what``
    names it in the error)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a {what} integer, got {text!r}") from None
        if value < minimum or (maximum is not None and value > maximum):
            raise argparse.ArgumentTypeError(f"expected a {what} integer, got {value}")
        return value

    return parse


positive_int = int_at_least(1, "positive")
non_negative_int = int_at_least(0, "non-negative")
run_count = int_at_least(1, f"positive (at most {MAX_RUNS})", MAX_RUNS)


def add_common(parser: argparse.ArgumentParser) -> None:
    """Options every experiment takes: the record, plots, progress."""
    parser.add_argument("--out", default=None, help="JSON record to write; a matching existing record is resumed")
    parser.add_argument("--plot", default=None, metavar="DIR", help="write PNG figures into DIR (needs matplotlib)")
    parser.add_argument("--no-progress", action="store_true", help="hide progress bars")


def add_data(parser: argparse.ArgumentParser) -> None:
    """MNIST source options."""
    parser.add_argument(
        "--data-dir",
        default=None,
        help=f"directory of MNIST idx(.gz) files (default: ${DATA_DIR_ENV}, else the bundled subset)",
    )
    parser.add_argument(
        "--source",
        choices=SOURCES,
        default="auto",
        help="data source: auto (idx dir if given, else bundled), idx, tfds or bundled",
    )


def add_protocol(p: argparse.ArgumentParser) -> None:
    """Settings of the split-MNIST protocol shared by ``run``, ``sweep`` and ``tune``."""
    add_data(p)
    p.add_argument(
        "--epochs",
        type=positive_int,
        default=None,
        help="epochs per task (default: 2, or matched to the reference's SGD updates on smaller data)",
    )
    p.add_argument(
        "--examples-per-task",
        type=positive_int,
        default=None,
        help="training examples per task, the first ones of its classes (default: 5000, or all the data hold)",
    )
    p.add_argument(
        "--task-classes",
        type=parse_task_classes,
        default=split_mnist.SPLIT_MNIST_CLASSES,
        help="class order and split, e.g. 9,8/7,6/5,4/3,2/1,0 (default: 0,1/2,3/4,5/6,7/8,9)",
    )
    p.add_argument(
        "--src-hparams",
        default="mnist",
        metavar="NAME_OR_FILE",
        help="SRC vector: a name (mnist = the reference) or a JSON vector file (default: mnist)",
    )
    p.add_argument(
        "--sleep-steps",
        type=non_negative_int,
        nargs=2,
        default=None,
        metavar=("BASE", "PER_TASK"),
        help="SRC sleep length after task k: BASE + k * PER_TASK (default: the vector's, 15000 5000)",
    )


def protocol_config(args) -> split_mnist.Config:
    return split_mnist.Config(
        epochs=args.epochs,
        examples_per_task=args.examples_per_task,
        task_classes=args.task_classes,
        sleep_steps=tuple(args.sleep_steps) if args.sleep_steps else None,
        src_hparams=args.src_hparams,
    )


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
    p.set_defaults(handler=run_split_mnist)


def parse_hparam(text: str) -> tuple[str, float]:
    """``NAME=VALUE`` overriding one foraging hyperparameter."""
    name, sep, value = text.partition("=")
    try:
        number = float(value)
    except ValueError:
        number = None
    if not sep or number is None:
        raise argparse.ArgumentTypeError(f"--hparam takes NAME=VALUE with a number, got {text!r}")
    return name.strip(), number


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
        help="0.5 ms steps per movement cycle (default: %(default)s, the calibrated length; paper: 600)",
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
        help="override one constant of sleepjax.foraging.network.Hparams (repeatable)",
    )
    p.add_argument("--chunk-size", type=positive_int, default=None, help="trials per vmapped call (default: all)")
    add_common(p)
    p.set_defaults(handler=run_foraging)


def parse_floats(text: str) -> list[float]:
    """``"0.5,2,8"``: a comma-separated list of non-negative numbers."""
    try:
        values = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got {text!r}") from None
    if not values or any(not v >= 0 or v == float("inf") for v in values):
        raise argparse.ArgumentTypeError(f"expected comma-separated finite non-negative numbers, got {text!r}")
    return values


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
    p.set_defaults(handler=run_lca)


def parse_grid(text: str) -> tuple[str, list]:
    """``"sleep.src.inc=0.01,0.03"``: a hyperparameter name and its values (integers stay integers)."""
    name, sep, values = text.partition("=")
    if not sep or not name.strip() or not values.strip():
        raise argparse.ArgumentTypeError(f"--grid takes NAME=V1,V2,..., e.g. sleep.src.inc=0.01,0.03; got {text!r}")
    out = []
    for v in values.split(","):
        try:
            out.append(int(v) if v.strip().lstrip("-").isdigit() else float(v))
        except ValueError:
            raise argparse.ArgumentTypeError(f"--grid {name}: {v!r} is not a number") from None
    return name.strip(), out


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {value}")
    return value


def add_batch_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--chunk-size",
        type=positive_int,
        default=None,
        help="(configuration, seed) runs per compiled call (default: as many as fit --memory-budget on an "
        "accelerator, one per device on the CPU)",
    )
    p.add_argument(
        "--memory-budget",
        type=positive_float,
        default=None,
        metavar="GIB",
        help="memory per device for one chunk, in GiB (default: half an accelerator's; on the CPU only if given)",
    )


def add_sweep(sub) -> None:
    sweep = sub.add_parser("sweep", help="run every configuration x seed of a grid or list as one program")
    experiments = sweep.add_subparsers(dest="experiment", required=True, metavar="EXPERIMENT")
    p = experiments.add_parser("split-mnist", help="sweep the SRC arm of class-incremental split MNIST")
    p.add_argument(
        "--grid",
        type=parse_grid,
        action="append",
        default=[],
        metavar="NAME=V1,V2,...",
        help="a grid axis, e.g. sleep.src.inc=0.01,0.03 (repeat for more axes; every combination runs)",
    )
    p.add_argument("--configs", default=None, metavar="FILE", help="JSON or TOML file with 'grid' or 'configs'")
    p.add_argument("--seeds", type=parse_seeds, default=[0], help="number of seeds (0..N-1) or a list (default: 1)")
    p.add_argument(
        "--split",
        choices=("test", "validation"),
        default="test",
        help="evaluate on the test set or on held-out training examples (default: test)",
    )
    p.add_argument("--save-best", default=None, metavar="FILE", help="write the best configuration as a vector file")
    add_batch_options(p)
    add_protocol(p)
    add_common(p)
    p.set_defaults(handler=run_sweep)


def add_tune(sub) -> None:
    from sleepjax.tune import METHODS, SearchConfig

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
    p.add_argument("--save-vector", required=True, metavar="FILE", help="write the winner as a JSON vector file")
    add_batch_options(p)
    add_protocol(p)
    add_common(p)
    p.set_defaults(handler=run_tune)


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
    return parser


def check_plot_dir(directory: str | None) -> Path | None:
    """Refuse ``--plot`` before computing if matplotlib is missing or the directory is unusable."""
    if directory is None:
        return None
    plots.require_matplotlib()
    path = Path(directory)
    if path.exists() and not path.is_dir():
        raise ValueError(f"--plot {directory}: exists and is not a directory")
    return writable_directory(path, f"--plot {directory}")


def report_files(record: dict, plot_dir: Path | None, figures, out: str | None) -> int:
    """Draw ``figures(record, plot_dir)`` when ``--plot`` was given and say where every file went; the
    end of every ``run`` command (exit status 0)."""
    if plot_dir is not None:
        for path in figures(record, plot_dir):
            print(f"figure written to {path}")
    if out:
        print(f"\nrecord written to {out}")
    return 0


def run_split_mnist(args) -> int:
    config = protocol_config(args)
    plot_dir = check_plot_dir(args.plot)
    if args.out is not None:
        check_writable(args.out)
    dataset = load_mnist(args.source, args.data_dir)
    print(f"data: {dataset.source}", flush=True)
    record = split_mnist.run(
        dataset, args.arms, args.seeds, config, args.out, args.chunk_size, progress=not args.no_progress
    )
    print(
        f"\nclass-incremental split MNIST, final accuracy (%), mean ± SD over seeds "
        f"({record['identity']['examples_per_task']} training examples per task)"
    )
    print(split_mnist.format_results(record, args.arms))
    return report_files(record, plot_dir, plots.split_mnist_figures, args.out)


def run_lca(args) -> int:
    if (args.sweep_freq is None) != (args.sweep_amp is None):
        raise ValueError("--sweep-freq and --sweep-amp go together")
    base = lca.Config.tiny() if args.tiny else lca.Config()
    chosen = {
        "preprocessing": args.preprocessing,
        "sleep_seconds": args.sleep_seconds,
        "sleep_level": args.sleep_level,
        "sleep_frequency": args.sleep_frequency,
        "threshold": args.threshold,
        "rule": args.rule,
        "delay": args.delay,
        "eta": args.eta,
    }
    if not args.tiny:
        chosen.update(blocks=args.blocks, patches_per_block=args.patches_per_block)
    config = dataclasses.replace(base, **chosen)
    plot_dir = check_plot_dir(args.plot)
    if args.out is not None:
        check_writable(args.out)
    dataset = load_mnist(args.source, args.data_dir)
    print(f"data: {dataset.source}", flush=True)
    record = lca.run(dataset, args.seeds, config, args.out, args.chunk_size, progress=not args.no_progress)
    print(f"\nspiking LCA after {config.blocks} x {config.patches_per_block} patches, mean ± SD over seeds")
    print(lca.format_results(record))
    if args.sweep_freq is not None:
        print(f"\nsweep: sinusoidal sleep, {len(args.sweep_freq)} x {len(args.sweep_amp)} settings vmapped", flush=True)
        record["sweep"] = lca.sweep(dataset, args.sweep_freq, args.sweep_amp, config, seed=args.seeds[0])
        if args.out is not None:
            write_atomic(Path(args.out), record)
        print(lca.format_sweep(record["sweep"]))
    return report_files(record, plot_dir, lca_plots.figures, args.out)


def run_foraging(args) -> int:
    durations = foraging.Durations(
        unsupervised=args.unsupervised,
        task1=args.task1,
        task2=args.task2,
        block=args.block,
        test=args.test,
        curve_block=args.curve_block,
    )
    config = foraging.Config(durations, args.steps_per_cycle, args.neuron, tuple(args.hparam), args.pairing)
    plot_dir = check_plot_dir(args.plot)
    if args.out is not None:
        check_writable(args.out)
    seeds = list(range(args.first_seed, args.first_seed + args.trials))
    record = foraging.run(seeds, config, args.out, args.chunk_size, progress=not args.no_progress)
    print(
        f"\nforaging agent ({config.neuron} neurons, {config.steps_per_cycle} steps per cycle, "
        f"{config.pairing} STDP pairing, {config.input_code}): pattern discriminability, "
        f"mean ± SD over {len(seeds)} trials"
    )
    print(foraging.format_results(record))
    return report_files(record, plot_dir, foraging_figures, args.out)


def _sweep_configs(args) -> list[dict]:
    from sleepjax import sweep

    if bool(args.grid) == bool(args.configs):
        raise ValueError("sleepjax sweep needs either --grid NAME=V1,V2 (repeatable) or --configs FILE")
    if args.configs:
        axes, configs = sweep.load_configs_file(args.configs)
        return sweep.grid(axes) if axes is not None else configs
    names = [name for name, _ in args.grid]
    if len(set(names)) != len(names):
        raise ValueError(f"--grid names a hyperparameter twice: {names}")
    return sweep.grid(dict(args.grid))


def _check_vector_path(path: str | None) -> None:
    if path is not None:
        if not path.endswith(".json"):
            raise ValueError(f"{path}: a vector file name must end in .json (what --src-hparams reads)")
        check_writable(path)


def _budget_bytes(args) -> int | None:
    return None if args.memory_budget is None else int(args.memory_budget * 2**30)


def run_sweep(args) -> int:
    from sleepjax.protocols import split_mnist_search as search
    from sleepjax.sweep import table_paths

    config = protocol_config(args)
    configs = _sweep_configs(args)
    base = search.base_and_check(config, configs)
    axes = search.grid_axes(configs)
    plot_dir = check_plot_dir(args.plot)
    if plot_dir is not None and len(axes) != 2:
        raise ValueError(f"--plot draws a heatmap of a 2-D grid; this sweep varies {len(axes)} names: {axes}")
    if args.out is not None:
        check_writable(args.out)
    _check_vector_path(args.save_best)
    dataset = load_mnist(args.source, args.data_dir)
    print(f"data: {dataset.source}; {len(configs)} configurations x {len(args.seeds)} seeds", flush=True)
    result = search.sweep(
        dataset,
        config,
        configs,
        args.seeds,
        args.split,
        args.out,
        args.chunk_size,
        _budget_bytes(args),
        progress=not args.no_progress,
    )
    names = list(dict.fromkeys(n for c in configs for n in c))
    print(f"\nsplit MNIST sweep, final accuracy (%) on the {args.split} set, mean ± SD over seeds, best first")
    print(search.format_sweep(result.rows, names))
    if plot_dir is not None:
        xs, ys, grid = search.heatmap_grid(result.rows, *axes)
        print(f"figure written to {plots.sweep_heatmap(*axes, xs, ys, grid, plot_dir / 'sweep_heatmap.png')}")
    if args.save_best:
        from sleepjax.sweep import summary_rows

        best = summary_rows(result.rows, names)[0]["config"]
        search.best_vector(base, configs[best], args.save_best)
        print(f"best configuration ({best}) written to {args.save_best}")
    if args.out:
        print(f"\nrecord written to {args.out}; table: {', '.join(map(str, table_paths(args.out)))}")
    return 0


def run_tune(args) -> int:
    from sleepjax import sweep, tune
    from sleepjax.protocols import split_mnist_search as search

    config = protocol_config(args)
    search_config = tune.SearchConfig(
        method=args.method,
        budget=args.budget,
        population=args.population,
        seeds=tuple(args.search_seeds),
        search_seed=args.search_seed,
        sigma=args.sigma,
        confirm=args.confirm,
        confirm_seeds=tuple(args.confirm_seeds),
    )
    space = search.load_space(args.space)
    base = search.base_and_check(config, [{}])
    sweep.check_space(space, base)
    check_plot_dir(args.plot)
    if args.out is not None:
        check_writable(args.out)
    _check_vector_path(args.save_vector)
    dataset = load_mnist(args.source, args.data_dir)
    print(
        f"data: {dataset.source}; {args.method} search of {len(space)} hyperparameters, "
        f"{tune.evaluations(search_config)} runs, scored on held-out training examples",
        flush=True,
    )
    result = search.tune(dataset, config, space, search_config, args.out, args.chunk_size, not args.no_progress)
    print("\nbest configurations (validation overall accuracy, %)")
    print(search.format_trials(result.trials))
    search.best_vector(base, result.best, args.save_vector)
    runs = sum(len(g["runs"]) for g in result.record["configs"].values())
    seconds = sum(u["seconds"] for g in result.record["configs"].values() for u in g["runs"].values())
    print(
        f"\nwinner {result.record['winner']['group']}: {100 * result.score:.1f} % on validation over seeds "
        f"{result.seeds}; {runs} runs in {seconds:.0f} s of computing; vector written to {args.save_vector}"
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    out = getattr(args, "out", None)
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
        print(f"sleepjax: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
