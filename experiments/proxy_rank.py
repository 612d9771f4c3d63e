"""How well a cheaper proxy protocol ranks SRC configurations the way the full protocol does.

A search over class orders (a ``sleepjax tune split-mnist --orders K`` record) holds, for every
configuration it tried, the full-protocol validation score in each of its K orders. This script scores the
same configurations under a proxy protocol (by default 1,000 training examples per task instead of all
of them; the same orders, seeds, validation examples, sleeps and base vector), one ``sleepjax sweep``
record per order in ``--out`` (resumed if interrupted), and prints Spearman's rank correlation between
proxy and full scores in each order and for the mean over the orders, with where each protocol's best
configuration ranks under the other::

    python experiments/proxy_rank.py --search experiments/results/tune_orders3.json \\
        --data-dir ../shared/data/mnist --out experiments/results/proxy_rank
    python experiments/proxy_rank.py --search experiments/results/tune_orders3.json --list

``--plot DIR`` also draws ``proxy_rank.png``: every configuration's full score against its proxy score,
one panel per order and one for the mean over the orders.

``--list`` prints the ``sleepjax sweep`` command of every order (what the script runs) and runs nothing.
``--smoke``: the first two configurations on the bundled subset with tiny sizes and short sleeps,
seconds long, no record unless ``--out``. Otherwise ``--out`` is needed: the sweeps read the
configurations from ``DIR/proxy_configs.json``.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import numpy as np

from sleepjax import _metrics as metrics
from sleepjax.app import cli
from sleepjax.app.arguments import SMOKE_RUNS, positive_int
from sleepjax.app.class_orders import format_order
from sleepjax.app.commands import check_outputs
from sleepjax.app.plots import require_matplotlib
from sleepjax.app.report import format_table

SLEEP_LENGTHS = ("sleep.base_steps", "sleep.steps_per_task")


def read_search(path: str) -> dict:
    """A finished ``tune --orders`` record: its trials (configuration, score per order) and its setup."""
    try:
        record = json.loads(Path(path).read_text())
    except (OSError, ValueError) as err:
        raise SystemExit(f"--search {path}: not a readable JSON record ({err})") from None
    setup = record.get("identity", {}).get("setup", {}) if isinstance(record, dict) else {}
    trials = record.get("trials") if isinstance(record, dict) else None
    orders = setup.get("config", {}).get("task_classes")
    if record.get("experiment") != "tune" or not trials or not isinstance(orders, list) or "orders_seed" not in setup:
        raise SystemExit(f"--search {path}: not a record of a search over class orders (sleepjax tune --orders K)")
    if any(len(t.get("setup_scores", ())) != len(orders) for t in trials):
        raise SystemExit(f"--search {path}: a trial lacks a score for every order")
    return record


def sweep_command(search: dict, order: list, configs_file: str, args) -> list[str]:
    """The ``sleepjax sweep`` arguments that score the search's configurations in ``order`` under the proxy."""
    setup, identity = search["identity"]["setup"], search["identity"]
    config = setup["config"]
    width = config["sizes"][1]
    command = [
        "sweep", "split-mnist", "--configs", configs_file,
        "--seeds", ",".join(str(s) for s in identity["search"]["seeds"]) + ",",
        "--split", "validation", "--task-classes", format_order(order),
        "--src-hparams", config["src_hparams"], "--epochs", str(args.epochs or setup["epochs"]),
    ]  # fmt: skip
    if args.smoke:
        return command + ["--smoke", "--no-progress"]
    command += ["--examples-per-task", str(args.examples_per_task), "--width", str(width)]
    return (
        command
        + (["--data-dir", args.data_dir] if args.data_dir else [])
        + (["--no-progress"] if args.no_progress else [])
    )


def final_scores(record: dict) -> np.ndarray:
    """Each configuration's final overall accuracy in a sweep record (weighted by the evaluation sizes),
    averaged over its seeds, in the order of the record's configurations."""
    sizes = record["identity"]["setup"]["test_sizes"]
    groups = sorted(record["configs"], key=int)
    finals = [[u["evaluation"][-1] for u in record["configs"][g]["runs"].values()] for g in groups]
    return np.array([metrics.overall_accuracy(rows, sizes).mean() for rows in finals])


def ranks(values: np.ndarray) -> np.ndarray:
    """Ranks from 1 (the smallest), ties given their mean rank."""
    order = np.argsort(values, kind="stable")
    r = np.empty(len(values))
    r[order] = np.arange(1, len(values) + 1)
    for v in np.unique(values):
        tied = values == v
        r[tied] = r[tied].mean()
    return r


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman's rank correlation: Pearson's correlation of the two rankings."""
    return float(np.corrcoef(ranks(a), ranks(b))[0, 1])


def rank_of_best(by: np.ndarray, under: np.ndarray) -> int:
    """Where the configuration that ``by`` scores best ranks under ``under`` (1 = best)."""
    return int(np.sum(under > under[np.argmax(by)]) + 1)


def comparison_rows(labels: list[str], full: np.ndarray, proxy: np.ndarray) -> list[list[str]]:
    """One row per order (columns of ``full`` and ``proxy``, configurations x orders) and one for the mean."""
    rows = []
    for label, f, p in [*zip(labels, full.T, proxy.T), ("mean over the orders", full.mean(1), proxy.mean(1))]:
        n = len(f)
        rows.append(
            [label, str(n), f"{spearman(f, p):+.2f}", f"{rank_of_best(p, f)} of {n}", f"{rank_of_best(f, p)} of {n}"]
        )
    return rows


def scatter_figure(labels: list[str], full: np.ndarray, proxy: np.ndarray, path: Path) -> Path:
    """One panel per order (columns of ``full`` and ``proxy``, configurations x orders) and one for the
    mean: each configuration's full score against its proxy score (percent), Spearman's rho in the title,
    each protocol's best configuration marked."""
    plt = require_matplotlib()
    panels = [*zip(labels, full.T, proxy.T), ("mean over the orders", full.mean(1), proxy.mean(1))]
    fig, axes = plt.subplots(1, len(panels), figsize=(3.4 * len(panels), 3.4), squeeze=False)
    for ax, (label, f, p) in zip(axes[0], panels):
        ax.scatter(100 * p, 100 * f, s=14, color="tab:blue")
        ax.scatter(100 * p[np.argmax(f)], 100 * f.max(), s=60, facecolors="none", edgecolors="tab:red",
                   label="full protocol's best")  # fmt: skip
        ax.scatter(100 * p.max(), 100 * f[np.argmax(p)], s=60, marker="s", facecolors="none",
                   edgecolors="tab:green", label="proxy's best")  # fmt: skip
        ax.set(title=f"{label}: rho {spearman(f, p):+.2f}", xlabel="proxy score (%)", ylabel="full score (%)")
    axes[0][0].legend(fontsize=7, loc="lower right")
    fig.suptitle("validation scores of the same configurations: full protocol against the proxy")
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--search", required=True, help="record of a search over class orders (tune --orders K)")
    parser.add_argument("--examples-per-task", type=positive_int, default=1000, help="the proxy's (default 1000)")
    parser.add_argument("--epochs", type=positive_int, default=None, help="the proxy's (default: the search's)")
    parser.add_argument("--data-dir", default=None, help="directory of the MNIST idx(.gz) files")
    parser.add_argument("--out", default=None, metavar="DIR", help="directory of the sweep records (resumed)")
    parser.add_argument("--plot", default=None, metavar="DIR", help="also draw proxy_rank.png in DIR")
    parser.add_argument("--list", action="store_true", help="print the sweep commands, run nothing")
    parser.add_argument("--no-progress", action="store_true", help="hide progress bars")
    parser.add_argument("--smoke", action="store_true", help="seconds-long version on the bundled subset")
    args = parser.parse_args(argv)
    if not (args.out or args.smoke):
        parser.error("--out DIR is needed: it keeps the configurations file and the sweep records")
    try:
        plot_dir = check_outputs(argparse.Namespace(out=None, plot=args.plot))
    except (ImportError, ValueError) as err:
        parser.error(str(err))

    search = read_search(args.search)
    trials = search["trials"][:SMOKE_RUNS] if args.smoke else search["trials"]
    configs = [dict(t["config"]) for t in trials]
    if args.smoke:  # the searched sleep lengths are minutes long on the bundled subset
        configs = [{k: v for k, v in c.items() if k not in SLEEP_LENGTHS} for c in configs]
    orders = search["identity"]["setup"]["config"]["task_classes"]
    full = np.array([t["setup_scores"] for t in trials])
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(args.out or tmp)
        configs_file = str(root / "proxy_configs.json")
        if args.list:
            for order in orders:
                print("sleepjax " + " ".join(sweep_command(search, order, configs_file, args)))
            return
        Path(configs_file).parent.mkdir(parents=True, exist_ok=True)
        Path(configs_file).write_text(json.dumps({"configs": configs}, indent=1) + "\n")
        proxy, seconds = [], []
        for k, order in enumerate(orders):
            out = str(root / f"order{k}.json")
            if cli.main([*sweep_command(search, order, configs_file, args), "--out", out]) != 0:
                raise SystemExit(f"the proxy sweep of order {format_order(order)} failed")
            record = json.loads(Path(out).read_text())
            proxy.append(final_scores(record))
            seconds += [u["seconds"] for g in record["configs"].values() for u in g["runs"].values()]
    proxy = np.array(proxy).T
    full_seconds = [u["seconds"] for g in search["configs"].values() for u in g["runs"].values()]
    print(
        f"\n{len(configs)} configurations of {args.search}, full protocol (the search's scores) against the proxy "
        f"({'smoke sizes' if args.smoke else f'{args.examples_per_task} training examples per task'}); "
        f"seconds per run: full {np.mean(full_seconds):.1f}, proxy {np.mean(seconds):.1f}"
    )
    headers = ["class order", "configs", "Spearman rho", "proxy's best, full rank", "full's best, proxy rank"]
    labels = [format_order(o) for o in orders]
    print(format_table([headers, *comparison_rows(labels, full, proxy)]))
    if plot_dir is not None:
        print(f"figure written to {scatter_figure(labels, full, proxy, plot_dir / 'proxy_rank.png')}")


if __name__ == "__main__":
    main()
