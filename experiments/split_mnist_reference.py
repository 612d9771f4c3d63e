"""Reproduce the reference SRC experiment on full MNIST and write its table into its documentation page.

Runs the three arms (fine-tune, SRC, joint) of class-incremental split MNIST with the reference
protocol and hyperparameters for 10 seeds, keeps the JSON record in ``experiments/results/`` (resumed
if interrupted) and replaces the table between the ``split-mnist-table`` markers of
``docs/reproductions/split-mnist-src.md``.

    python experiments/split_mnist_reference.py --data-dir ../shared/data/mnist
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from sleepjax._datasets import load_idx_dir
from sleepjax.app import split_mnist

ROOT = Path(__file__).resolve().parents[1]
BEGIN, END = "<!-- split-mnist-table:begin -->", "<!-- split-mnist-table:end -->"


def table_block(record: dict, command: str) -> str:
    """The page's section: the table, the command that made it and the versions used."""
    v = record["environment"]["versions"]
    chunks = sorted({run.get("chunk_size") for arm in record["arms"].values() for run in arm["runs"].values()})
    host = record["environment"].get("cpu")
    cpu = (
        "CPU not recorded"
        if host is None
        else f"CPU {host['model']} with {', '.join(host['extensions']) or 'no listed extensions'}"
    )
    return (
        f"{BEGIN}\n"
        f"Final accuracy (%) after the fifth task, mean ± SD over {len(record['seeds'])} seeds "
        f"(seeds {record['seeds'][0]}..{record['seeds'][-1]}), full MNIST, "
        f"{record['identity']['examples_per_task']} training examples per task, reference SRC hyperparameters. "
        f"Made by `{command}` (jax {v['jax']}, backend {record['environment']['backend']}, {cpu}, seeds per "
        f"compiled call {', '.join(map(str, chunks))}); record: "
        f"`experiments/results/split_mnist_reference.json`.\n\n"
        f"```\n{split_mnist.format_results(record)}\n```\n"
        f"{END}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", required=True, help="directory of the MNIST idx(.gz) files")
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--chunk-size", type=int, default=None, help="seeds per compiled call")
    parser.add_argument("--out", default=str(ROOT / "experiments" / "results" / "split_mnist_reference.json"))
    parser.add_argument(
        "--page",
        default=str(ROOT / "docs" / "reproductions" / "split-mnist-src.md"),
        help="markdown file whose split-mnist-table markers receive the table",
    )
    args = parser.parse_args()

    dataset = load_idx_dir(args.data_dir)
    record = split_mnist.run(
        dataset, split_mnist.ARMS, list(range(args.seeds)), split_mnist.Config(), args.out, args.chunk_size
    )
    print(split_mnist.format_results(record))

    page = Path(args.page)
    text = page.read_text()
    if BEGIN not in text or END not in text:
        raise SystemExit(f"{page} has no {BEGIN} ... {END} markers to fill")
    command = f"python experiments/split_mnist_reference.py --data-dir {args.data_dir} --seeds {args.seeds}"
    block = table_block(record, command)
    page.write_text(re.sub(re.escape(BEGIN) + ".*?" + re.escape(END), lambda _: block, text, flags=re.S))
    print(f"table written to {page}")


if __name__ == "__main__":
    main()
