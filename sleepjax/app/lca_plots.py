"""Figures of an LCA record (:mod:`sleepjax.app.lca`), drawn from the JSON data alone."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sleepjax.app.plots import require_matplotlib

ARM_COLOURS = {"no_sleep": "tab:red", "plain_noise_sleep": "tab:blue", "sinusoidal_sleep": "tab:green"}


def _trajectories(plt, record: dict, panels: list[tuple[str, str, float]], title: str, path: Path) -> Path:
    """One panel per ``(trajectory, label, scale)``: mean ± SD over seeds of every arm against patches seen."""
    config = record["identity"]["config"]
    fig, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 3.4), squeeze=False)
    for ax, (name, label, scale) in zip(axes[0], panels):
        for arm, entry in record["arms"].items():
            if "summary" not in entry:
                continue
            t = entry["summary"]["trajectories"][name]
            mean, sd = scale * np.array(t["mean"]), scale * np.array(t["sd"])
            x = np.arange(len(mean)) * config["patches_per_block"]
            ax.plot(x, mean, color=ARM_COLOURS[arm], label=f"{arm} ({len(entry['summary_seeds'])} seeds)")
            ax.fill_between(x, mean - sd, mean + sd, color=ARM_COLOURS[arm], alpha=0.2)
        ax.set(xlabel="training patches seen", ylabel=label)
    axes[0][0].legend(fontsize=7)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def _norm_growth(plt, record: dict, path: Path) -> Path:
    """Mean and largest feature norm (mean over seeds) against patches seen, on log-log axes.

    Growth that levels off bends to a flat line; growth by a power of training time stays straight,
    its slope the exponent.
    """
    per_block = record["identity"]["config"]["patches_per_block"]
    fig, ax = plt.subplots(figsize=(5.2, 3.8))
    for arm, entry in record["arms"].items():
        if "summary" not in entry:
            continue
        for name, style in (("mean_norm", "-"), ("max_norm", ":")):
            mean = np.array(entry["summary"]["trajectories"][name]["mean"])[1:]
            x = np.arange(1, len(mean) + 1) * per_block
            ax.loglog(x, mean, style, color=ARM_COLOURS[arm], label=f"{arm}, {name.replace('_', ' ')}")
    ax.set(xlabel="training patches seen", ylabel="feature L2 norm", title="norm growth (log-log)")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def _atoms(plt, record: dict, path: Path, count: int = 32) -> Path:
    """The first ``count`` final features of the first seed of every arm, on one shared grey scale per arm."""
    size = record["identity"]["config"]["patch_size"]
    arms = [(arm, e) for arm, e in record["arms"].items() if e.get("runs")]
    fig, axes = plt.subplots(1, len(arms), figsize=(4 * len(arms), 2.4), squeeze=False)
    for ax, (arm, entry) in zip(axes[0], arms):
        seed = sorted(entry["runs"], key=int)[0]
        phi = np.array(entry["runs"][seed]["final_dictionary"])[:, :count]
        cols = 8
        rows = -(-phi.shape[1] // cols)
        tiles = np.full((rows * (size + 1), cols * (size + 1)), np.nan)
        for k in range(phi.shape[1]):
            r, c = divmod(k, cols)
            tiles[r * (size + 1) : r * (size + 1) + size, c * (size + 1) : c * (size + 1) + size] = phi[:, k].reshape(
                size, size
            )
        bound = np.nanmax(np.abs(tiles))
        ax.imshow(tiles, cmap="gray", vmin=-bound, vmax=bound)
        norms = np.linalg.norm(phi, axis=0)
        ax.set_title(f"{arm}, seed {seed}\nnorms {norms.min():.1f}..{norms.max():.1f}", fontsize=8)
        ax.axis("off")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def sweep_figure(sweep: dict, path: Path) -> Path:
    """Heatmaps of final mean norm, noise-driven firing and reconstruction error over the sweep grid of
    :func:`sleepjax.app.lca.sweep` (a diverged setting is left blank and labelled)."""
    plt = require_matplotlib()
    panels = [("mean_norm", "final mean feature norm", 1.0), ("noise_fire_fraction", "noise-driven firing (%)", 100.0)]
    panels.append(("recon_error", "held-out reconstruction error", 1.0))
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
    for ax, (name, label, scale) in zip(axes, panels):
        values = scale * np.array(sweep["final"][name], dtype=float)  # a diverged setting (null) is NaN: blank
        im = ax.imshow(values, cmap="viridis", aspect="auto", origin="lower")
        for i in range(values.shape[0]):
            for j in range(values.shape[1]):
                finite = np.isfinite(values[i, j])
                text, color = (f"{values[i, j]:.2g}", "w") if finite else ("diverged", "k")
                ax.text(j, i, text, ha="center", va="center", color=color, fontsize=7)
        ax.set_xticks(range(len(sweep["levels"])), [f"{a:g}" for a in sweep["levels"]])
        ax.set_yticks(range(len(sweep["frequencies"])), [f"{f:g}" for f in sweep["frequencies"]])
        ax.set(xlabel="noise level (offset = amplitude)", ylabel="frequency (Hz)", title=label)
        fig.colorbar(im, ax=ax)
    fig.suptitle(f"sinusoidal sleep sweep (seed {sweep['seed']}), after the last block")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def figures(record: dict, directory: str | Path) -> list[Path]:
    """Write the LCA figures into ``directory``; returns their paths."""
    plt = require_matplotlib()
    directory = Path(directory)
    paths = [
        _trajectories(
            plt,
            record,
            [("mean_norm", "mean feature norm", 1.0), ("max_norm", "largest feature norm", 1.0)],
            "dictionary feature L2 norms",
            directory / "lca_norms.png",
        ),
        _trajectories(
            plt,
            record,
            [("recon_error", "held-out relative reconstruction error", 1.0), ("sparsity", "active neurons (%)", 100)],
            "held-out patches",
            directory / "lca_recon_sparsity.png",
        ),
        _trajectories(
            plt,
            record,
            [("noise_fire_fraction", "neurons firing on pure noise (%)", 100.0)],
            "noise-driven firing",
            directory / "lca_noise_firing.png",
        ),
        _norm_growth(plt, record, directory / "lca_norm_growth.png"),
        _atoms(plt, record, directory / "lca_atoms.png"),
    ]
    if "sweep" in record:
        paths.append(sweep_figure(record["sweep"], directory / "lca_sweep.png"))
    return paths
