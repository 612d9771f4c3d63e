"""Figures of experiment records (PNG, matplotlib with the non-interactive Agg backend).

Every function here draws from a record (the JSON data), so a figure can be remade without re-running.
matplotlib is an optional dependency (``pip install 'sleepjax[plot]'``); :func:`require_matplotlib`
lets a command refuse ``--plot`` before it computes anything.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


def require_matplotlib():
    """The ``matplotlib.pyplot`` module on the Agg backend; ``ImportError`` with the install hint if absent."""
    try:
        import matplotlib
    except ImportError:
        raise ImportError("--plot needs matplotlib: pip install 'sleepjax[plot]'") from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def split_mnist_figures(record: dict, directory: Path) -> list[Path]:
    """``accuracy_matrices.png``: the mean accuracy matrix ``R[i, j]`` of every arm (percent)."""
    plt = require_matplotlib()
    tasks = ["{" + ",".join(map(str, c)) + "}" for c in record["identity"]["task_classes"]]
    arms = [(arm, entry) for arm, entry in record["arms"].items() if entry["runs"]]
    fig, axes = plt.subplots(1, len(arms), figsize=(3.6 * len(arms), 3.6), squeeze=False)
    for ax, (arm, entry) in zip(axes[0], arms):
        r = 100 * np.mean([run["accuracy"] for run in entry["runs"].values()], axis=0)
        ax.imshow(r, vmin=0, vmax=100, cmap="viridis", aspect="auto")
        for i in range(r.shape[0]):
            for j in range(r.shape[1]):
                ax.text(j, i, f"{r[i, j]:.0f}", ha="center", va="center", color="w" if r[i, j] < 60 else "k")
        ax.set_xticks(range(len(tasks)), tasks, fontsize=7)
        rows = ["all"] if r.shape[0] == 1 else tasks
        ax.set_yticks(range(len(rows)), rows, fontsize=7)
        ax.set(title=f"{arm} ({len(entry['runs'])} seeds)", xlabel="evaluated task", ylabel="after training")
    fig.suptitle("split MNIST: mean accuracy (%) on each task after each task")
    fig.tight_layout()
    path = Path(directory) / "accuracy_matrices.png"
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return [path]


def sweep_heatmap(x_name: str, y_name: str, xs, ys, grid: np.ndarray, path: Path, metric: str = "overall") -> Path:
    """A heatmap of a 2-D grid sweep: mean ``metric`` (percent) over seeds per grid point."""
    plt = require_matplotlib()
    fig, ax = plt.subplots(figsize=(1.2 * len(xs) + 2.5, 0.8 * len(ys) + 2.0))
    image = ax.imshow(100 * grid, origin="lower", cmap="viridis", aspect="auto")
    for j in range(len(ys)):
        for i in range(len(xs)):
            value = 100 * grid[j, i]
            if np.isfinite(value):
                ax.text(i, j, f"{value:.1f}", ha="center", va="center", color="w" if value < 60 else "k")
    ax.set_xticks(range(len(xs)), [f"{v:.4g}" for v in xs], fontsize=8)
    ax.set_yticks(range(len(ys)), [f"{v:.4g}" for v in ys], fontsize=8)
    ax.set(xlabel=x_name, ylabel=y_name, title=f"sweep: mean {metric} accuracy (%) over seeds")
    fig.colorbar(image, ax=ax)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
