"""Figures of a foraging record (PNG): learning curves per condition and hidden->output weights."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sleepjax.app.plots import require_matplotlib


def learning_curves(record: dict, directory: Path) -> Path:
    """``foraging_learning.png``: discriminability of what the agent ate per block of training cycles,
    mean over trials: Task 1 training (from ``after_task1``) then each condition's Task 2 training."""
    plt = require_matplotlib()
    block = record["identity"]["durations"]["curve_block"]
    fig, ax = plt.subplots(figsize=(7, 4))
    task1 = np.mean([r["curve"] for r in record["conditions"]["after_task1"]["runs"].values()], axis=0)
    x1 = block * np.arange(1, len(task1) + 1)
    ax.plot(x1, task1, color="k", label="Task 1 training")
    for name, entry in record["conditions"].items():
        curves = [r["curve"] for r in entry["runs"].values() if r["curve"]]
        if name == "after_task1" or not curves:
            continue
        mean = np.mean(curves, axis=0)
        ax.plot(x1[-1] + block * np.arange(1, len(mean) + 1), mean, label=f"{name}: Task 2 training")
    ax.axhline(0.5, color="grey", lw=0.8, ls=":")
    ax.set(xlabel="movement cycle", ylabel="discriminability while training", ylim=(0, 1))
    ax.set_title(f"foraging ({record['identity']['neuron']} neurons), mean over trials", fontsize=10)
    ax.legend(fontsize=7)
    fig.tight_layout()
    path = Path(directory) / "foraging_learning.png"
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def weights(record: dict, directory: Path) -> Path | None:
    """``foraging_weights.png``: the first trial's hidden->output weights after Task 1 (before sleep)
    and after each later condition that kept them, hidden neurons sorted by their preferred output
    after Task 1. ``None`` if the record holds no weights."""
    plt = require_matplotlib()
    kept = [
        (name, np.asarray(run["w_out"]))
        for name, entry in record["conditions"].items()
        for run in entry["runs"].values()
        if "w_out" in run
    ]
    if not kept:
        return None
    before = kept[0][1]
    order = np.lexsort((-before.max(axis=1), before.argmax(axis=1)))
    fig, axes = plt.subplots(1, len(kept), figsize=(2.6 * len(kept), 5), squeeze=False)
    top = max(w.max() for _, w in kept)
    for ax, (name, w) in zip(axes[0], kept):
        ax.imshow(w[order], aspect="auto", cmap="magma", vmin=0, vmax=top, interpolation="nearest")
        ax.set(title=name, xlabel="output (move)", ylabel="hidden neuron (sorted)")
        ax.set_xticks(range(w.shape[1]))
    fig.suptitle("hidden->output excitatory weights, first trial")
    fig.tight_layout()
    path = Path(directory) / "foraging_weights.png"
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def foraging_figures(record: dict, directory: Path) -> list[Path]:
    """Every foraging figure of ``record`` written into ``directory``."""
    paths = [learning_curves(record, directory), weights(record, directory)]
    return [p for p in paths if p is not None]
