"""The ``sleepjax`` command.

``sleepjax run split-mnist`` runs the reference SRC experiment (arms fine-tune, SRC, joint) for
several seeds, prints a table of mean +- SD final accuracies and writes a JSON record.
"""

from __future__ import annotations

import argparse
import sys

from sleepjax.data import DATA_DIR_ENV, SOURCES, DataError, load_mnist
from sleepjax.protocol import ARMS, ProtocolConfig, run_protocol


def _parse_seeds(text: str) -> list[int]:
    """``"5"`` means seeds 0..4; ``"3,7,11"`` lists seeds explicitly."""
    try:
        if "," in text:
            return [int(s) for s in text.split(",") if s.strip()]
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--seeds takes a count or a comma-separated list, got {text!r}") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"--seeds must be at least 1, got {n}")
    return list(range(n))


def _parse_arms(text: str) -> list[str]:
    arms = [a.strip() for a in text.split(",") if a.strip()]
    unknown = [a for a in arms if a not in ARMS]
    if unknown or not arms:
        raise argparse.ArgumentTypeError(f"unknown arm(s) {unknown}; choose from {', '.join(ARMS)}")
    return arms


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sleepjax", description="Continual learning with sleep phases in JAX.")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run an experiment")
    run.add_argument("experiment", choices=["split-mnist"], help="the experiment to run")
    run.add_argument(
        "--arms",
        type=_parse_arms,
        default=list(ARMS),
        help=f"comma-separated arms among {', '.join(ARMS)} (default: all)",
    )
    run.add_argument(
        "--seeds",
        type=_parse_seeds,
        default=[0],
        help="number of seeds (0..N-1) or a comma-separated list (default: 1)",
    )
    run.add_argument(
        "--data-dir",
        default=None,
        help=f"directory of MNIST idx(.gz) files (default: ${DATA_DIR_ENV}, else the bundled subset)",
    )
    run.add_argument(
        "--source",
        choices=SOURCES,
        default="auto",
        help="data source: auto (idx dir if given, else bundled), idx, tfds or bundled",
    )
    run.add_argument("--out", default=None, help="JSON record to write; a matching existing record is resumed")
    run.add_argument(
        "--chunk-size",
        type=int,
        default=None,
        help="seeds per compiled (vmapped) call (default: all on an accelerator, 1 on the CPU)",
    )
    run.add_argument(
        "--epochs",
        type=int,
        default=None,
        help="epochs per task (default: 2, or matched to the reference's SGD updates on smaller data)",
    )
    run.add_argument(
        "--examples-per-task",
        type=int,
        default=5000,
        help="training examples per task, the first ones of its classes (default: 5000)",
    )
    run.add_argument(
        "--sleep-steps",
        type=int,
        nargs=2,
        default=(15000, 5000),
        metavar=("BASE", "PER_TASK"),
        help="SRC sleep length after task k: BASE + k * PER_TASK (default: 15000 5000)",
    )
    run.add_argument("--no-progress", action="store_true", help="hide progress bars")
    return parser


def format_table(record: dict) -> str:
    """Final accuracies (%) per task and overall, mean +- SD over seeds, one row per arm."""
    num_tasks = len(record["task_classes"])
    tasks = ["{" + ",".join(map(str, c)) + "}" for c in record["task_classes"]]
    header = ["arm", "seeds", *tasks, "overall", "BWT"]
    rows = [header]
    for arm, entry in record["arms"].items():
        if "summary" not in entry:
            continue
        s = entry["summary"]
        cell = lambda m, sd: f"{100 * m:.1f} ± {100 * sd:.1f}"  # noqa: E731
        per_task = [cell(s["per_task_final"]["mean"][j], s["per_task_final"]["sd"][j]) for j in range(num_tasks)]
        bwt = cell(s["bwt"]["mean"], s["bwt"]["sd"]) if "bwt" in s else "-"
        rows.append(
            [arm, str(len(entry["summary_seeds"])), *per_task, cell(s["overall"]["mean"], s["overall"]["sd"]), bwt]
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines = ["  ".join(c.rjust(w) for c, w in zip(r, widths)) for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        dataset = load_mnist(args.source, args.data_dir)
        config = ProtocolConfig(
            epochs=args.epochs,
            examples_per_task=args.examples_per_task,
            sleep_base_steps=args.sleep_steps[0],
            sleep_steps_per_task=args.sleep_steps[1],
        )
    except (DataError, ValueError, ImportError) as err:
        print(f"sleepjax: error: {err}", file=sys.stderr)
        return 2
    print(f"data: {dataset.source}", flush=True)
    try:
        record = run_protocol(
            dataset, args.arms, args.seeds, config, args.out, args.chunk_size, progress=not args.no_progress
        )
    except ValueError as err:
        print(f"sleepjax: error: {err}", file=sys.stderr)
        return 2
    print(
        f"\nclass-incremental split MNIST, final accuracy (%), mean ± SD over seeds "
        f"({record['examples_per_task']} training examples per task)"
    )
    print(format_table(record))
    if args.out:
        print(f"\nrecord written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
