"""Sweeps and searches of the SRC arm of split MNIST (``sleepjax sweep`` / ``sleepjax tune split-mnist``).

The base hyperparameters are ``{"sleep": <the config's SRC vector>}``, so names are ``sleep.src.inc``,
``sleep.src.beta[1]``, ``sleep.base_steps`` and so on (:mod:`sleepjax._hparams`). A sweep evaluates on
the test set by default (it reports); a search always scores on the validation split (training
examples held out from every task, :func:`sleepjax.app.split_mnist.make_scenario`), never on the
test set. Both can write their best configuration as a JSON vector file that
``sleepjax run split-mnist --src-hparams FILE`` reads.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from sleepjax import _hparams as hp
from sleepjax import _sweep as sw
from sleepjax import _tune as tn
from sleepjax._datasets import Dataset
from sleepjax._sleep.vectors import save_src_vector
from sleepjax.app import split_mnist
from sleepjax.app.class_orders import format_order
from sleepjax.app.report import format_table
from sleepjax.app.sweeps import resumable_sweep, resumable_tune

DIMENSIONS = {"log": sw.LogUniform, "linear": sw.Uniform, "int": sw.IntUniform}


def base_and_check(config: split_mnist.Config, configs: Sequence[Mapping], names: Sequence[str] = ()) -> dict:
    """The base hyperparameters of a sweep of ``configs`` (or a search of ``names``), with every
    configuration checked against them (no data needed)."""
    base = split_mnist.base_hparams(config, [*names, *(n for c in configs for n in c)])
    sw.build_configs(base, configs)
    return base


def load_space(path: str | os.PathLike) -> dict:
    """The search space: a name of :func:`split_mnist.search_space` (``faithful``, ``extended``) or a JSON
    file ``{name: [kind, low, high]}`` with ``kind`` one of ``log``, ``linear``, ``int``."""
    if str(path) in split_mnist.SEARCH_SPACES or not str(path).endswith(".json"):
        return split_mnist.search_space(str(path))
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, ValueError) as err:
        raise ValueError(f"--space {path}: not a readable JSON search space ({err})") from None
    if not isinstance(data, dict) or not data:
        raise ValueError(f"--space {path}: expected a JSON object of name -> [kind, low, high]")
    space = {}
    for name, entry in data.items():
        ok = isinstance(entry, list) and len(entry) == 3 and entry[0] in DIMENSIONS
        ok = ok and all(isinstance(v, int | float) and not isinstance(v, bool) for v in entry[1:])
        if not ok:
            raise ValueError(f"--space {path}: {name} must be [kind, low, high] with kind in {sorted(DIMENSIONS)}")
        space[name] = DIMENSIONS[entry[0]](*entry[1:])
    return space


def best_vector(base: dict, values: Mapping, path: str | os.PathLike) -> None:
    """Write the base vector with ``values`` applied as a JSON vector file (``--src-hparams FILE``)."""
    tree = hp.set_hparams(base, values)
    save_src_vector(path, tree["sleep"])


def sweep(
    dataset: Dataset,
    config: split_mnist.Config,
    configs: Sequence[Mapping],
    seeds: Sequence[int],
    split: str = "test",
    out=None,
    chunk_size: int | None = None,
    memory_budget: int | None = None,
    progress: bool = True,
) -> sw.SweepResult:
    """Every configuration x seed of the SRC arm, evaluated on ``split``, kept in the record ``out``; see
    :func:`sleepjax.sweep`."""
    setup, base, identity = split_mnist.sweep_setup(dataset, config, split, names=[n for c in configs for n in c])
    num_tasks = len(config.task_classes)
    return resumable_sweep(
        setup,
        base,
        configs,
        seeds,
        out=out,
        identity=identity,
        evaluation_shape=(num_tasks, num_tasks),
        chunk_size=chunk_size,
        memory_budget=memory_budget,
        progress=progress,
    )


def order_setups(
    dataset: Dataset, config: split_mnist.Config, orders: Sequence, names: Sequence[str] = ()
) -> tuple[list[sw.SweepSetup], dict, dict]:
    """``(setups, base_hparams, identity)``: the SRC arm of ``config`` in each class order of ``orders``,
    evaluated on the validation split, for a search scored over orders.

    Every setup shares the first one's phase and initial-model function, so all of them run one compiled
    program (only their task and validation arrays differ); orders whose arrays would differ in shape
    (another number of examples per task) are refused. The identity is the single-order one with the
    config's ``task_classes`` replaced by ``orders``.
    """
    setups, identities = [], []
    for order in orders:
        setup, base, identity = split_mnist.sweep_setup(
            dataset, dataclasses.replace(config, task_classes=tuple(order)), "validation", names=names
        )
        if setups:
            first = setups[0]
            shapes = [np.shape(a) for a in (setup.tasks.x, first.tasks.x, setup.evaluate.test.x, first.evaluate.test.x)]
            if shapes[0] != shapes[1] or shapes[2] != shapes[3] or identity["epochs"] != identities[0]["epochs"]:
                raise ValueError(
                    f"class order {format_order(order)} gives tasks of another size than {format_order(orders[0])}; "
                    "pass --examples-per-task so that every order trains on as many examples"
                )
            setup = setup._replace(phase=first.phase, make_params=first.make_params)
        setups.append(setup)
        identities.append(identity)
    identity = dict(identities[0], test_sizes=[i["test_sizes"] for i in identities])
    identity["config"] = dict(identity["config"], task_classes=[[list(t) for t in o] for o in orders])
    return setups, base, identity


def tune(
    dataset: Dataset,
    config: split_mnist.Config,
    space: Mapping,
    search: tn.SearchConfig,
    out=None,
    chunk_size: int | None = None,
    progress: bool = True,
    orders: Sequence | None = None,
    orders_seed: int | None = None,
) -> tuple[tn.TuneResult, dict]:
    """Search the SRC vector on the validation split, starting from the config's vector, kept in the
    record ``out``; returns the result and the record's JSON.

    ``orders`` (e.g. :func:`sleepjax.app.class_orders.draw_orders`, drawn from ``orders_seed``): score
    every proposal as its mean over these class orders (and the search's seeds) instead of the config's
    one order; the record's identity names the orders and the seed they were drawn from.
    """
    if orders is None:
        setup, base, identity = split_mnist.sweep_setup(dataset, config, "validation", names=list(space))
    else:
        setup, base, identity = order_setups(dataset, config, orders, names=list(space))
        identity["orders_seed"] = orders_seed
    return resumable_tune(
        setup, base, space, search, out=out, identity=identity, chunk_size=chunk_size, progress=progress
    )


def format_sweep(rows: list[dict], names: Sequence[str], limit: int = 20) -> str:
    """Overall accuracy and BWT (%) per configuration, mean ± SD over seeds, best first."""
    overall = sw.summary_rows(rows, names, "overall")
    bwt = {r["config"]: r for r in sw.summary_rows(rows, names, "bwt")}
    table = [["config", *names, "seeds", "overall", "BWT"]]
    for r in overall[:limit]:
        b = bwt[r["config"]]
        table.append(
            [
                str(r["config"]),
                *(_short(r[n]) for n in names),
                str(r["seeds"]),
                f"{100 * r['mean']:.1f} ± {100 * r['sd']:.1f}",
                f"{100 * b['mean']:.1f} ± {100 * b['sd']:.1f}",
            ]
        )
    return format_table(table)


def format_trials(trials: list[dict], limit: int = 10) -> str:
    """The best configurations of a search with their validation scores (%); a search over several class
    orders adds each configuration's score on its worst order (the mean over the search's seeds)."""
    names = list(trials[0]["config"])
    orders = "setup_scores" in trials[0]
    table = [["trial", *names, "search", *(["worst order"] if orders else []), "confirmed"]]
    for t in trials[:limit]:
        confirmed = f"{100 * t['score']:.1f}" if "scores" in t else "-"
        worst = [f"{100 * min(t['setup_scores']):.1f}"] if orders else []
        table.append(
            [t["group"], *(_short(t["config"][n]) for n in names), f"{100 * t['search_score']:.1f}", *worst, confirmed]
        )
    return format_table(table)


def _short(value) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_short(v) for v in value) + "]"
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer() and abs(value) >= 1000):
        return str(int(value))
    return f"{value:.4g}" if isinstance(value, float) and math.isfinite(value) else str(value)


def grid_axes(configs: Sequence[Mapping]) -> list[str]:
    """The names a set of configurations varies, in their order of appearance."""
    names = list(dict.fromkeys(n for c in configs for n in c))
    return [n for n in names if len({json.dumps(hp.to_json(c.get(n))) for c in configs}) > 1]


def heatmap_grid(rows: list[dict], x: str, y: str, metric: str = "overall") -> tuple[list, list, np.ndarray]:
    """``(x values, y values, mean metric (len(y), len(x)))`` of a 2-D grid sweep, NaN where missing."""
    xs = sorted({r[x] for r in rows})
    ys = sorted({r[y] for r in rows})
    grid = np.full((len(ys), len(xs)), np.nan)
    for j, yv in enumerate(ys):
        for i, xv in enumerate(xs):
            values = [r[metric] for r in rows if r[x] == xv and r[y] == yv]
            if values:
                grid[j, i] = np.mean(values)
    return xs, ys, grid
