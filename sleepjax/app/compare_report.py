"""Summaries, the printed table and the figures of ``sleepjax compare``, from its record.

:func:`summarize` turns the seeds' accuracy matrices of one method into mean ± SD (sample SD over seeds) of
every metric of :mod:`sleepjax._metrics`, both forgetting conventions included. :data:`PUBLISHED` holds
the published means a comparison is checked against: Hsu et al. (2018, Table 2) for split MNIST, where
this project's stand-in for their GEM (rehearsal merged into each task with GEM's projection) is
``replay+agem``; A-GEM alone has no published mean there.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from sleepjax import _metrics as metrics
from sleepjax.app.compare_methods import HSU_SETTINGS, PROTOCOLS, build_method, method_settings
from sleepjax.app.plots import require_matplotlib
from sleepjax.app.records import as_json
from sleepjax.app.report import cell, format_table, mean_sd

#: Published mean final average accuracy (fraction), by (benchmark, protocol, scenario) and method: Hsu et
#: al. 2018, Table 2 (split MNIST; "no method" is Adam fine-tuning, "naive rehearsal" is replay, GEM is
#: compared with replay + A-GEM, "offline" is joint training).
PUBLISHED = {
    ("split-mnist", "hsu", "task"): {
        "finetune": 0.9346, "ewc": 0.9770, "online-ewc": 0.9804, "si": 0.9856, "lwf": 0.9960,
        "replay": 0.9940, "replay+agem": 0.9842, "joint": 0.9952,
    },
    ("split-mnist", "hsu", "domain"): {
        "finetune": 0.5516, "ewc": 0.5885, "online-ewc": 0.5733, "si": 0.6476, "lwf": 0.7102,
        "replay": 0.9516, "replay+agem": 0.9616, "joint": 0.9859,
    },
    ("split-mnist", "hsu", "class"): {
        "finetune": 0.1971, "ewc": 0.1980, "online-ewc": 0.1977, "si": 0.1967, "lwf": 0.2417,
        "replay": 0.9078, "replay+agem": 0.9220, "joint": 0.9753,
    },
}  # fmt: skip
#: Accuracy matrices per row of the matrices figure (more methods wrap onto further rows).
MATRIX_COLUMNS = 6
#: The papers' permuted-MNIST figure that EWC and SI should reach (issue 25): average accuracy >= 0.94.
PERMUTED_TARGET = {"ewc": 0.94, "si": 0.94}


def published(record: dict) -> dict[str, float]:
    """The published means (fractions) that apply to the record: its benchmark, scenario and protocol, run
    as published (on the test set, the protocol unchanged), else none; a method run with other
    hyperparameters than its published ones (``--hparam``, a learning rate included) has none."""
    identity = record["identity"]
    name = identity["protocol"]["name"]
    key = (identity["benchmark"], name, identity["scenario"])
    if identity.get("split") != "test" or identity["protocol"] != as_json(dataclasses.asdict(PROTOCOLS[name])):
        return {}
    if identity["benchmark"] == "permuted-mnist" and name in ("permuted", "permuted32"):
        means = dict(PERMUTED_TARGET)
    else:
        means = dict(PUBLISHED.get(key, {}))
        means.update({variant: means[method] for variant, method in HSU_SETTINGS.items() if method in means})
    tasks = len(identity["train_sizes"])
    for method, entry in record.get("methods", {}).items():
        if method in means:
            setup = build_method(method, identity["benchmark"], identity["scenario"], PROTOCOLS[name], tasks)
            if entry.get("settings", {}).get("hparams") != method_settings(setup)["hparams"]:
                del means[method]
    return means


def summarize(accuracy: np.ndarray, initial: np.ndarray, test_sizes) -> dict:
    """Mean and sample SD over seeds of every metric of the accuracy matrices ``(S, T, T)`` (``(S, 1, T)``
    for joint training): final accuracy per task, ``average_accuracy`` (the mean of the final row: Hsu et
    al.'s "average accuracy"), ``overall`` (pooled over the test examples), and for square matrices BWT,
    forgetting in its three conventions, average incremental accuracy and forward transfer (against the
    untrained network's accuracy ``initial (S, T)``)."""
    accuracy = np.asarray(accuracy, np.float64)
    final = accuracy[:, -1, :]
    per_task = [mean_sd(final[:, j]) for j in range(final.shape[1])]
    summary = {
        "per_task_final": {"mean": [s["mean"] for s in per_task], "sd": [s["sd"] for s in per_task]},
        "overall": mean_sd(metrics.overall_accuracy(final, test_sizes)),
        "average_accuracy": mean_sd(metrics.average_accuracy(accuracy) if _square(accuracy) else final.mean(axis=1)),
    }
    if _square(accuracy):
        summary.update(
            average_incremental_accuracy=mean_sd(metrics.average_incremental_accuracy(accuracy)),
            bwt=mean_sd(metrics.backward_transfer(accuracy)),
            forgetting_after_learning=mean_sd(metrics.forgetting_after_learning(accuracy)),
            forgetting_chaudhry=mean_sd(metrics.forgetting_chaudhry(accuracy)),
            forgetting_since_learned=mean_sd(metrics.forgetting_since_learned(accuracy)),
            forward_transfer=mean_sd(metrics.forward_transfer(accuracy, initial)),
        )
    return summary


def _square(accuracy: np.ndarray) -> bool:
    return accuracy.shape[-1] == accuracy.shape[-2]


def format_results(record: dict, methods=None) -> str:
    """One row per method (of ``methods`` when given, in that order): seeds, final average accuracy (%)
    mean ± SD, the published mean and the difference where one exists, overall accuracy, BWT, forgetting
    from the best earlier accuracy (Chaudhry et al.), and seconds per seed (compile included)."""
    reference = published(record)
    rows = [["method", "seeds", "average acc.", "published", "diff.", "overall", "BWT", "forgetting", "s/seed"]]
    entries = record["methods"]
    for method in methods if methods is not None else list(entries):
        entry = entries.get(method, {})
        if "summary" not in entry:
            continue
        s, seeds = entry["summary"], len(entry["summary_seeds"])
        mean = s["average_accuracy"]["mean"]
        target = reference.get(method)
        diff = "" if target is None else f"{100 * (mean - target):+.1f}"
        runs = entry["runs"].values()
        per_seed = np.mean([u["seconds"] for u in runs]) if runs else float("nan")
        rows.append(
            [
                method,
                str(seeds),
                cell(s["average_accuracy"], digits=2),
                "" if target is None else f"{100 * target:.2f}",
                diff,
                cell(s["overall"]),
                cell(s["bwt"]) if "bwt" in s else "-",
                cell(s["forgetting_chaudhry"]) if "forgetting_chaudhry" in s else "-",
                f"{per_seed:.1f}",
            ]
        )
    return format_table(rows)


def title(record: dict) -> str:
    """What the table shows, in words."""
    identity = record["identity"]
    protocol = identity["protocol"]
    schedule = f"{protocol['epochs']} epochs" if protocol["epochs"] else f"{protocol['steps']} updates"
    return (
        f"{identity['benchmark']}, {identity['scenario']}-incremental, protocol {protocol['name']} "
        f"({'-'.join(map(str, protocol['hidden']))} hidden, {protocol['optimizer']} {protocol['learning_rate']:g}, "
        f"batch {protocol['batch_size']}, {schedule} per task, memory {protocol['memory']}), "
        f"evaluated on the {identity['split']} set; accuracies in %, mean ± SD over seeds"
    )


def figures(record: dict, directory: Path) -> list[Path]:
    """``compare_<benchmark>_<scenario>.png``: final average accuracy per method (bars: mean, whiskers: SD
    over seeds; black ticks: the published means); ``..._matrices.png``: each method's mean accuracy
    matrix."""
    plt = require_matplotlib()
    identity = record["identity"]
    stem = f"compare_{identity['benchmark']}_{identity['scenario']}"
    entries = [(m, e) for m, e in record["methods"].items() if "summary" in e]
    reference = published(record)
    fig, ax = plt.subplots(figsize=(1.0 * len(entries) + 2.5, 4.0))
    xs = np.arange(len(entries))
    means = [100 * e["summary"]["average_accuracy"]["mean"] for _, e in entries]
    sds = [100 * e["summary"]["average_accuracy"]["sd"] for _, e in entries]
    ax.bar(xs, means, yerr=sds, color="tab:blue", alpha=0.8, capsize=3)
    for x, (method, _) in zip(xs, entries):
        if method in reference:
            ax.plot([x - 0.4, x + 0.4], [100 * reference[method]] * 2, color="k", lw=2)
    ax.set_xticks(xs, [m for m, _ in entries], rotation=40, ha="right")
    ax.set(ylabel="final average accuracy (%)", ylim=(0, 100))
    ax.set_title(f"{identity['benchmark']}, {identity['scenario']}-incremental (black: published)", fontsize=10)
    fig.tight_layout()
    bars = Path(directory) / f"{stem}.png"
    fig.savefig(bars, dpi=120)
    plt.close(fig)

    columns = min(len(entries), MATRIX_COLUMNS)
    rows = -(-len(entries) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(2.6 * columns, 2.8 * rows), squeeze=False)
    for ax in axes.flat[len(entries) :]:
        ax.axis("off")
    for ax, (method, entry) in zip(axes.flat, entries):
        r = 100 * np.mean([u["accuracy"] for u in entry["runs"].values()], axis=0)
        ax.imshow(r, vmin=0, vmax=100, cmap="viridis", aspect="auto")
        if r.size <= 100:
            for (i, j), v in np.ndenumerate(r):
                ax.text(j, i, f"{v:.0f}", ha="center", va="center", fontsize=6, color="w" if v < 60 else "k")
        ax.set(title=method, xlabel="task", ylabel="after task")
        ax.set_xticks([])
        ax.set_yticks([])
    fig.tight_layout()
    matrices = Path(directory) / f"{stem}_matrices.png"
    fig.savefig(matrices, dpi=110)
    plt.close(fig)
    return [bars, matrices]
