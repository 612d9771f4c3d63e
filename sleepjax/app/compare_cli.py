"""The command lines of comparisons: ``sleepjax compare BENCHMARK`` and ``sleepjax sweep compare BENCHMARK``.

``sleepjax compare split-mnist --scenario class --methods finetune,ewc,replay,joint --seeds 10`` runs every
method for every seed (each method's seeds as one vmapped program), prints the table (final average
accuracy, the published mean, BWT, forgetting, seconds per seed) and keeps the record (``--out``);
``sleepjax sweep compare split-mnist --method ewc --grid ewc.lambda=1e2,1e3,1e4 --seeds 3`` runs every
strength x seed of one method as one batch, scored on the validation split unless told otherwise.
"""

from __future__ import annotations

import argparse

from sleepjax._datasets import load_mnist
from sleepjax.app import compare, compare_report
from sleepjax.app.arguments import (
    add_batch_options,
    add_common,
    add_data,
    add_sweep_options,
    non_negative_int,
    parse_seeds,
    parse_task_classes,
    positive_float,
    positive_int,
)
from sleepjax.app.compare_methods import BENCHMARKS, METHODS, PROTOCOLS, SCENARIOS

#: The methods a comparison runs when ``--methods`` is not given: the baselines of issue 25.
DEFAULT_METHODS = ("finetune", "ewc", "online-ewc", "si", "lwf", "replay", "agem", "icarl", "der++", "joint")
#: What ``--smoke`` sets for a comparison: 128 examples per task, one pass, three tasks of the shifted
#: benchmarks, a memory of 64, and (for the SRC methods) sleeps of 64 + 16 k steps.
SMOKE = {"examples_per_task": 128, "epochs": 1, "steps": None, "memory": 64, "num_tasks": 3}
SMOKE_SLEEP = (("", "sleep.base_steps", 64.0), ("", "sleep.steps_per_task", 16.0))


def parse_methods(text: str) -> list[str]:
    """``"finetune,ewc,joint"``: methods of :data:`~sleepjax.app.compare_methods.METHODS`."""
    try:
        return compare.check_methods([m.strip() for m in text.split(",") if m.strip()])
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def parse_method_hparam(text: str) -> tuple[str, str, float]:
    """``[METHOD:]NAME=VALUE``: a method's hyperparameter (for the named method only, or for every chosen
    method that has it). The value is any number, NaN included: the methods' own checks refuse it."""
    name, sep, value = text.partition("=")
    target, colon, name = name.rpartition(":") if ":" in name else ("", "", name)
    try:
        number = float(value)
    except ValueError:
        number = None
    if not sep or number is None or not name.strip():
        raise argparse.ArgumentTypeError(f"--hparam takes [METHOD:]NAME=VALUE with a number, got {text!r}")
    if target and target not in METHODS:
        raise argparse.ArgumentTypeError(
            f"--hparam {text}: unknown method {target!r}; choose from {', '.join(METHODS)}"
        )
    return target.strip(), name.strip(), number


def add_settings(p: argparse.ArgumentParser, benchmark: str) -> None:
    """The settings of a comparison (:class:`~sleepjax.app.compare.Settings`)."""
    scenarios = SCENARIOS[benchmark]
    p.add_argument("--scenario", choices=scenarios, default=scenarios[0], help=f"default: {scenarios[0]}")
    p.add_argument("--protocol", choices=sorted(PROTOCOLS), default=None, help="training setup (default: published)")
    if benchmark == "split-mnist":
        p.add_argument(
            "--task-classes", type=parse_task_classes, default=compare.SPLIT_MNIST_CLASSES, help="e.g. 9,8/7,6/5,4"
        )
    else:
        p.add_argument("--num-tasks", type=positive_int, default=10, help="tasks (default: 10)")
        p.add_argument("--permutation-seed", type=non_negative_int, default=0, help="seed of the pixel permutations")
    p.add_argument("--epochs", type=positive_int, default=None, help="epochs per task (default: the protocol's)")
    p.add_argument("--steps", type=positive_int, default=None, help="minibatch updates per task instead of epochs")
    p.add_argument("--memory", type=positive_int, default=None, help="rehearsal budget (default: protocol's)")
    p.add_argument(
        "--examples-per-task",
        type=non_negative_int,
        default=None,
        help="training examples per task, the first ones (0: all; default: the protocol's)",
    )
    p.add_argument("--validation-fraction", type=positive_float, default=0.1, help="held out per class (default 0.1)")
    p.add_argument(
        "--hparam",
        type=parse_method_hparam,
        action="append",
        default=[],
        metavar="[METHOD:]NAME=VALUE",
        help="override a method's hyperparameter, e.g. ewc.lambda=1e4 or online-ewc:ewc.gamma=0.9 (repeatable)",
    )
    add_data(p)


def settings_of(args) -> compare.Settings:
    """The comparison's settings from the parsed flags (shrunk to :data:`SMOKE` with ``--smoke``)."""
    if args.smoke:
        for name, value in SMOKE.items():
            if hasattr(args, name):
                setattr(args, name, value)
        chosen = getattr(args, "methods", None) or [args.method]
        if any(m.startswith("src") for m in chosen):
            args.hparam = [*args.hparam, *SMOKE_SLEEP]
    return compare.Settings(
        benchmark=args.benchmark,
        scenario=args.scenario,
        protocol=args.protocol,
        task_classes=getattr(args, "task_classes", compare.SPLIT_MNIST_CLASSES),
        num_tasks=getattr(args, "num_tasks", 10),
        permutation_seed=getattr(args, "permutation_seed", 0),
        epochs=args.epochs,
        steps=args.steps,
        memory=args.memory,
        examples_per_task=args.examples_per_task,
        split=args.split,
        validation_fraction=args.validation_fraction,
        hparams=tuple(args.hparam),
    )


def add_compare(sub) -> None:
    compare_parser = sub.add_parser("compare", help="continual-learning methods side by side, seeds vmapped")
    benchmarks = compare_parser.add_subparsers(dest="benchmark", required=True, metavar="BENCHMARK")
    for benchmark in BENCHMARKS:
        p = benchmarks.add_parser(benchmark, help=f"methods on {benchmark}")
        p.add_argument(
            "--methods",
            type=parse_methods,
            default=list(DEFAULT_METHODS),
            help=f"comma-separated, of {','.join(METHODS)} (default: {','.join(DEFAULT_METHODS)})",
        )
        p.add_argument("--seeds", type=parse_seeds, default=[0], help="number of seeds (0..N-1) or a list (default: 1)")
        p.add_argument("--split", choices=("test", "validation"), default="test", help="evaluate on (default: test)")
        p.add_argument(
            "--chunk-size", type=positive_int, default=None, help="seeds per compiled (vmapped) call (default: all)"
        )
        add_settings(p, benchmark)
        add_common(p)
        p.set_defaults(handler=run_compare)


def add_sweep_compare(experiments) -> None:
    sweep = experiments.add_parser("compare", help="sweep one method of a comparison (strengths x seeds)")
    benchmarks = sweep.add_subparsers(dest="benchmark", required=True, metavar="BENCHMARK")
    for benchmark in BENCHMARKS:
        p = benchmarks.add_parser(benchmark, help=f"sweep a method on {benchmark}")
        p.add_argument("--method", choices=METHODS, required=True, help="the method whose hyperparameters vary")
        add_sweep_options(
            p,
            "ewc.lambda=1e2,1e3,1e4 (repeat for more axes)",
            "validation",
            "score on held-out training examples (default) or on the test set",
        )
        add_settings(p, benchmark)
        add_batch_options(p)
        add_common(p)
        p.set_defaults(handler=run_sweep_compare)


def run_compare(args) -> int:
    from sleepjax.app.commands import check_outputs, report_files

    settings = settings_of(args)
    compare.plan(args.methods, settings, compare.task_count(settings))
    plot_dir = check_outputs(args)
    dataset = load_mnist(args.source, args.data_dir)
    print(f"data: {dataset.source}; {len(args.methods)} methods x {len(args.seeds)} seeds", flush=True)
    record = compare.run(
        dataset, args.methods, args.seeds, settings, args.out, args.chunk_size, progress=not args.no_progress
    )
    print(f"\n{compare_report.title(record)}")
    print(compare_report.format_results(record, args.methods))
    print(f"wall time of the comparison: {record['wall_s']:.0f} s (every method's runs, compilation included)")
    return report_files(record, plot_dir, compare_report.figures, args.out)


def run_sweep_compare(args) -> int:
    from sleepjax.app.commands import _budget_bytes, _sweep_configs, check_outputs
    from sleepjax.app.compare_sweep import format_sweep, sweep
    from sleepjax.app.sweeps import table_paths

    settings = settings_of(args)
    configs = _sweep_configs(args)[: 2 if args.smoke else None]
    check_outputs(args)
    setup = compare.plan([args.method], settings, compare.task_count(settings))[args.method]
    names = list(dict.fromkeys(n for c in configs for n in c))
    dataset = load_mnist(args.source, args.data_dir)
    print(f"data: {dataset.source}; {args.method}: {len(configs)} configurations x {len(args.seeds)} seeds", flush=True)
    result = sweep(
        dataset, args.method, setup, settings, configs, args.seeds, args.out,
        args.chunk_size, _budget_bytes(args), progress=not args.no_progress,
    )  # fmt: skip
    print(f"\n{args.method} on {settings.benchmark} ({settings.scenario}-incremental), final average accuracy (%) on "
          f"the {settings.split} set, mean ± SD over seeds, best first")  # fmt: skip
    print(format_sweep(result.rows, names))
    if args.out:
        print(f"\nrecord written to {args.out}; table: {', '.join(map(str, table_paths(args.out)))}")
    return 0


__all__ = ["add_compare", "add_sweep_compare"]
