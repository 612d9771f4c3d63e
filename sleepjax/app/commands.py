"""What each ``sleepjax`` command does once its arguments are parsed: check every setting and output path
before loading data or computing, run the experiment, print its table, write the record and figures."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from sleepjax._datasets import load_mnist
from sleepjax.app import foraging, lca, lca_plots, plots, split_mnist
from sleepjax.app.arguments import protocol_config
from sleepjax.app.foraging_figures import foraging_figures
from sleepjax.app.records import check_writable, writable_directory, write_atomic


def check_outputs(args) -> Path | None:
    """Refuse ``--out`` and ``--plot`` before computing: a record path that cannot be written, matplotlib
    missing, a plot directory that is a file or cannot be written. Returns the plot directory (or None)."""
    if args.out is not None:
        check_writable(args.out)
    if args.plot is None:
        return None
    plots.require_matplotlib()
    path = Path(args.plot)
    if path.exists() and not path.is_dir():
        raise ValueError(f"--plot {args.plot}: exists and is not a directory")
    return writable_directory(path, f"--plot {args.plot}")


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
    plot_dir = check_outputs(args)
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
    plot_dir = check_outputs(args)
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
    plot_dir = check_outputs(args)
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
    from sleepjax._sweep import grid
    from sleepjax.app.sweeps import load_configs_file

    if bool(args.grid) == bool(args.configs):
        raise ValueError("sleepjax sweep needs either --grid NAME=V1,V2 (repeatable) or --configs FILE")
    if args.configs:
        axes, configs = load_configs_file(args.configs)
        return grid(axes) if axes is not None else configs
    names = [name for name, _ in args.grid]
    if len(set(names)) != len(names):
        raise ValueError(f"--grid names a hyperparameter twice: {names}")
    return grid(dict(args.grid))


def _check_vector_path(path: str | None) -> None:
    if path is not None:
        if not path.endswith(".json"):
            raise ValueError(f"{path}: a vector file name must end in .json (what --src-hparams reads)")
        check_writable(path)


def _budget_bytes(args) -> int | None:
    return None if args.memory_budget is None else int(args.memory_budget * 2**30)


def run_sweep(args) -> int:
    from sleepjax.app import split_mnist_search as search
    from sleepjax.app.sweeps import table_paths

    config = protocol_config(args)
    configs = _sweep_configs(args)[: 2 if args.smoke else None]
    base = search.base_and_check(config, configs)
    axes = search.grid_axes(configs)
    plot_dir = check_outputs(args)
    if plot_dir is not None and len(axes) != 2:
        raise ValueError(f"--plot draws a heatmap of a 2-D grid; this sweep varies {len(axes)} names: {axes}")
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
        from sleepjax._sweep import summary_rows

        best = summary_rows(result.rows, names)[0]["config"]
        search.best_vector(base, configs[best], args.save_best)
        print(f"best configuration ({best}) written to {args.save_best}")
    if args.out:
        print(f"\nrecord written to {args.out}; table: {', '.join(map(str, table_paths(args.out)))}")
    return 0


def run_tune(args) -> int:
    from sleepjax import _sweep as sweep
    from sleepjax import _tune as tune
    from sleepjax.app import class_orders
    from sleepjax.app import split_mnist_search as search

    config = protocol_config(args)
    orders, orders_seed = None, args.orders_seed
    if args.orders is not None:
        if args.task_classes != split_mnist.SPLIT_MNIST_CLASSES:
            raise ValueError("--orders draws the class orders of the search; leave out --task-classes")
        orders_seed = 0 if orders_seed is None else orders_seed
        orders = class_orders.draw_orders(args.orders, orders_seed)
    elif orders_seed is not None:
        raise ValueError("--orders-seed goes with --orders K")
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
    base = search.base_and_check(config, [{}], names=list(space))
    sweep.check_space(space, base)
    check_outputs(args)
    _check_vector_path(args.save_vector)
    dataset = load_mnist(args.source, args.data_dir)
    scope = (
        ""
        if orders is None
        else f" over {len(orders)} class orders ({'; '.join(map(class_orders.format_order, orders))})"
    )
    print(
        f"data: {dataset.source}; {args.method} search of {len(space)} hyperparameters, "
        f"{tune.evaluations(search_config, 1 if orders is None else len(orders))} runs, "
        f"scored on held-out training examples{scope}",
        flush=True,
    )
    result, record = search.tune(
        dataset, config, space, search_config, args.out, args.chunk_size, not args.no_progress, orders, orders_seed
    )
    print("\nbest configurations (validation overall accuracy, %)")
    print(search.format_trials(result.trials))
    search.best_vector(base, result.best, args.save_vector)
    runs = sum(len(g["runs"]) for g in record["configs"].values())
    seconds = sum(u["seconds"] for g in record["configs"].values() for u in g["runs"].values())
    where = "" if orders is None else f" and {len(orders)} class orders"
    print(
        f"\nwinner {record['winner']['group']}: {100 * result.score:.1f} % on validation over seeds "
        f"{result.seeds}{where}; {runs} runs in {seconds:.0f} s of computing; vector written to {args.save_vector}"
    )
    return 0
