"""Two SRC vectors (or two versions of the code) on the same seeds, from their split-MNIST records: the final
overall accuracy of each, mean ± SD over the seeds the records share, the paired difference seed by seed,
its t statistic and on how many seeds the tested side wins.

Each side is one record or several (seeds pooled), each a file or ``REV:PATH`` (a record as committed at
``REV``), for example the reference and the tuned vector on
seeds 0..19::

    python experiments/paired_records.py \\
        --reference experiments/results/split_mnist_reference.json \\
                    experiments/results/split_mnist_reference_seeds10-19.json \\
        --tested experiments/results/split_mnist_tuned.json experiments/results/split_mnist_tuned_seeds10-19.json

Nothing is computed but the statistics: the runs are the records' (so ``--smoke``, which every script
takes, changes nothing: the script is seconds long as it is).
"""

from __future__ import annotations

import argparse
import json
import subprocess
from pathlib import Path

import numpy as np
from confirm_src_vector import final_overall

from sleepjax.app.report import cell, format_table, mean_sd

ROOT = Path(__file__).resolve().parents[1]


def read_record(spec: str) -> dict:
    """A record from a file, or from ``REV:PATH``, the version of ``PATH`` committed at ``REV`` (read with
    ``git show``), so a record replaced since can be compared with its replacement."""
    if Path(spec).exists() or ":" not in spec:
        try:
            text = Path(spec).read_text()
        except OSError as err:
            raise SystemExit(f"{spec}: cannot read the record ({err.strerror or err})") from None
    else:
        shown = subprocess.run(["git", "show", spec], capture_output=True, text=True, cwd=ROOT)
        if shown.returncode != 0:
            raise SystemExit(f"{spec}: not a file, and git cannot show it: {shown.stderr.strip()}")
        text = shown.stdout
    try:
        record = json.loads(text)
    except ValueError as err:
        raise SystemExit(f"{spec}: not a JSON record ({err})") from None
    if not isinstance(record, dict) or not isinstance(record.get("arms", {}).get("src", {}).get("runs"), dict):
        raise SystemExit(f"{spec}: not a split-MNIST record with an SRC arm (arms.src.runs)")
    return record


def pooled(paths: list[str]) -> dict[int, float]:
    """Each seed's final overall accuracy of the SRC arm, over the records ``paths`` (files or
    ``REV:PATH``; a seed in two records must have the same accuracy in both)."""
    by_seed: dict[int, float] = {}
    for path in paths:
        record = read_record(path)
        seeds = sorted(int(s) for s in record["arms"]["src"]["runs"])
        for seed, accuracy in zip(seeds, final_overall(record, seeds)):
            if seed in by_seed and by_seed[seed] != accuracy:
                raise SystemExit(f"seed {seed} has two different results in {paths}")
            by_seed[seed] = float(accuracy)
    return by_seed


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reference", nargs="+", required=True, help="record(s) of the reference side")
    parser.add_argument("--tested", nargs="+", required=True, help="record(s) of the tested side")
    parser.add_argument("--smoke", action="store_true", help="accepted for uniformity; changes nothing")
    args = parser.parse_args(argv)
    reference, tested = pooled(args.reference), pooled(args.tested)
    seeds = sorted(set(reference) & set(tested))
    if len(seeds) < 2:
        raise SystemExit(f"the two sides share {len(seeds)} seed(s); a paired comparison needs at least 2")
    ref, test = np.array([reference[s] for s in seeds]), np.array([tested[s] for s in seeds])
    diff = test - ref
    t = diff.mean() / (diff.std(ddof=1) / np.sqrt(len(diff))) if diff.std() > 0 else float("inf")
    print(f"final overall accuracy (%) of SRC on seeds {seeds[0]}..{seeds[-1]} ({len(seeds)} shared seeds)")
    rows = [["seeds", "reference", "tested", "tested - reference", "paired t", "tested better"]]
    rows.append(
        [
            str(len(seeds)),
            cell(mean_sd(ref)),
            cell(mean_sd(test)),
            cell(mean_sd(diff)),
            f"{t:.1f}",
            str(int((diff > 0).sum())),
        ]
    )
    print(format_table(rows))


if __name__ == "__main__":
    main()
