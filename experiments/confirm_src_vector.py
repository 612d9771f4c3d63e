"""Confirm an SRC vector on what no search saw: fresh seeds, the default class order and unseen orders.

Runs the SRC arm of class-incremental split MNIST (reference protocol) with the vector under test and
with the reference vector on exactly the same runs (same seeds, data and class orders, so the two differ
only in their sleep), in the default order and in the first ``--orders`` of the confirmation orders
(``sleepjax.app.class_orders.CONFIRMATION_ORDERS``, which no ``sleepjax tune --orders`` search ever
draws), and prints their final overall accuracy, mean ± SD over the seeds, with the paired difference.

Each (vector, order) is one ``sleepjax run split-mnist`` record in ``--out`` (resumed if interrupted), so
every row is reproduced by the command ``--list`` prints for it::

    python experiments/confirm_src_vector.py --vector mnist-tuned --data-dir path/to/mnist --out DIR
    python experiments/confirm_src_vector.py --list

``--smoke``: the bundled subset, tiny sizes, two seeds, one unseen order, no record unless ``--out``.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from sleepjax import _metrics as metrics
from sleepjax._datasets import load_mnist
from sleepjax._sleep.vectors import load_vector
from sleepjax.app import split_mnist
from sleepjax.app.arguments import MAX_WIDTH, SMOKE_RUNS, SMOKE_SIZES, int_at_least, parse_seeds, positive_int
from sleepjax.app.class_orders import CONFIRMATION_ORDERS, DEFAULT_ORDER, format_order
from sleepjax.app.report import cell, format_table, mean_sd

#: Seeds never used by a search (the searches use 1000 and up, the records of the docs 0..19).
FRESH_SEEDS = (100, 101, 102, 103, 104)


def final_overall(record: dict, seeds: Sequence[int]) -> np.ndarray:
    """Each seed's final overall accuracy (all test examples pooled) in a split-MNIST record's SRC arm."""
    runs = record["arms"]["src"]["runs"]
    final = np.array([runs[str(s)]["accuracy"][-1] for s in seeds])
    return metrics.overall_accuracy(final, np.asarray(record["identity"]["test_sizes"]))


def comparison_row(label: str, reference: np.ndarray, tested: np.ndarray) -> list[str]:
    """One table row: the reference's and the tested vector's accuracy, mean ± SD over the same seeds, and
    their paired difference (tested minus reference, seed by seed)."""
    return [label, str(len(tested)), cell(mean_sd(reference)), cell(mean_sd(tested)), cell(mean_sd(tested - reference))]


def comparison_table(rows: Sequence[tuple[str, np.ndarray, np.ndarray]]) -> str:
    """The confirmation table: a row per order, then the unseen orders pooled (every seed of every order
    but the first row's, the default order)."""
    out = [["class order", "seeds", "reference", "tested", "tested - reference"]]
    out += [comparison_row(*row) for row in rows]
    if len(rows) > 2:
        unseen = rows[1:]
        out.append(
            [
                f"{len(unseen)} unseen orders",
                *comparison_row("", *(np.concatenate([r[i] for r in unseen]) for i in (1, 2)))[1:],
            ]
        )
    return format_table(out)


def reproduce_command(
    vector: str, order, seeds: Sequence[int], smoke: bool = False, width: int = split_mnist.REFERENCE_WIDTH
) -> str:
    """The ``sleepjax`` command that runs one (vector, order) of the confirmation on its own."""
    return (
        f"sleepjax run split-mnist --arms src --src-hparams {vector} --task-classes {format_order(order)} "
        f"--seeds {','.join(map(str, seeds))}"
        + (f" --width {width}" if width != split_mnist.REFERENCE_WIDTH else "")
        + (" --smoke" if smoke else "")
    )


def record_name(vector: str, order, width: int = split_mnist.REFERENCE_WIDTH) -> str:
    """The record of one (vector, order) in ``--out``; a width other than the reference's is in the name, so
    the records of both widths can share a directory."""
    suffix = f"_w{width}" if width != split_mnist.REFERENCE_WIDTH else ""
    return f"confirm_{Path(vector).stem}_{format_order(order).replace(',', '').replace('/', '-')}{suffix}.json"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vector", default="mnist-tuned", help="SRC vector to confirm: a name or a JSON vector file")
    parser.add_argument("--reference", default="mnist", help="vector to compare with (default: mnist, the reference)")
    parser.add_argument(
        "--orders",
        type=int,
        default=len(CONFIRMATION_ORDERS),
        choices=range(len(CONFIRMATION_ORDERS) + 1),
        metavar="K",
        help=f"unseen class orders to run besides the default one: the first K confirmation orders "
        f"(0 to {len(CONFIRMATION_ORDERS)}, default: {len(CONFIRMATION_ORDERS)})",
    )
    parser.add_argument(
        "--seeds", type=parse_seeds, default=list(FRESH_SEEDS), help="seeds (default: 100,101,102,103,104)"
    )
    parser.add_argument("--data-dir", default=None, help="directory of the MNIST idx(.gz) files")
    parser.add_argument(
        "--width",
        type=int_at_least(1, f"positive (at most {MAX_WIDTH})", MAX_WIDTH),
        default=split_mnist.REFERENCE_WIDTH,
        help="hidden units per layer",
    )
    parser.add_argument("--chunk-size", type=positive_int, default=None, help="seeds per compiled call")
    parser.add_argument("--out", default=None, metavar="DIR", help="directory of the records (resumed if present)")
    parser.add_argument("--list", action="store_true", help="print the orders and their commands, run nothing")
    parser.add_argument("--no-progress", action="store_true", help="hide progress bars")
    parser.add_argument("--smoke", action="store_true", help="seconds-long version on the bundled subset")
    args = parser.parse_args(argv)

    sizes = {}
    if args.smoke:
        args.data_dir, args.orders, args.seeds = None, 1, args.seeds[:SMOKE_RUNS]
        sizes = dict(SMOKE_SIZES["split-mnist"], sleep_steps=tuple(SMOKE_SIZES["split-mnist"]["sleep_steps"]))
    for flag, vector in (("--reference", args.reference), ("--vector", args.vector)):
        try:
            load_vector(vector)
        except (OSError, ValueError) as err:
            parser.error(f"{flag}: {err}")
    orders = [DEFAULT_ORDER, *CONFIRMATION_ORDERS[: args.orders]]
    if args.list:
        for order in orders:
            for vector in (args.reference, args.vector):
                print(reproduce_command(vector, order, args.seeds, args.smoke, args.width))
        return
    configs = {
        (vector, order): split_mnist.Config(
            sizes=split_mnist.sizes_of_width(args.width), task_classes=order, src_hparams=vector, **sizes
        )
        for order in orders
        for vector in (args.reference, args.vector)
    }  # every setting checked before anything runs
    if args.out:
        Path(args.out).mkdir(parents=True, exist_ok=True)
    dataset = load_mnist("auto" if args.data_dir else "bundled", args.data_dir)
    rows = []
    for order in orders:
        accuracies = []
        for vector in (args.reference, args.vector):
            command = reproduce_command(vector, order, args.seeds, args.smoke, args.width)
            print(f"{vector}, class order {format_order(order)}: {command}")
            out = Path(args.out) / record_name(vector, order, args.width) if args.out else None
            record = split_mnist.run(
                dataset, ["src"], args.seeds, configs[vector, order], out, args.chunk_size, not args.no_progress
            )
            accuracies.append(final_overall(record, args.seeds))
        label = format_order(order) + (" (default)" if order == DEFAULT_ORDER else "")
        rows.append((label, *accuracies))
    print(
        f"\nfinal overall accuracy (%) of SRC, {args.reference} (reference) and {args.vector} (tested) on the "
        f"same runs, mean ± SD over seeds {','.join(map(str, args.seeds))}; data: {dataset.source}"
    )
    print(comparison_table(rows))


if __name__ == "__main__":
    main()
