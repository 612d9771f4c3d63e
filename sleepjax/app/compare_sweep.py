"""``sleepjax sweep compare``: one method of a comparison, every configuration of its hyperparameters x
every seed as one batch (:func:`sleepjax.sweep`), kept in a resumable record with its table beside it.

Strengths are chosen here, on the validation split (the last tenth of every class's training examples,
held out of training; never the test set), by the final average accuracy (Hsu et al.'s metric).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sleepjax import _sweep as sw
from sleepjax._datasets import Dataset
from sleepjax.app.compare import Settings, make_scenario, method_settings
from sleepjax.app.compare_methods import MethodSetup, evaluator_for, stream_for
from sleepjax.app.report import format_table
from sleepjax.app.split_mnist import data_fingerprint
from sleepjax.app.split_mnist_search import _short
from sleepjax.app.sweeps import resumable_sweep


def sweep(
    dataset: Dataset,
    method: str,
    setup: MethodSetup,
    settings: Settings,
    configs: Sequence[Mapping],
    seeds: Sequence[int],
    out=None,
    chunk_size: int | None = None,
    memory_budget: int | None = None,
    progress: bool = True,
) -> sw.SweepResult:
    """Every configuration x seed of ``method`` (its :class:`MethodSetup` from
    :func:`sleepjax.app.compare.plan`), evaluated on ``settings.split``, kept in the record ``out``."""
    sw.build_configs(setup.hparams, configs)  # every configuration checked before the data are built
    scenario = make_scenario(dataset, settings, setup.protocol)
    make_params = setup.protocol.make_params(scenario.input_size, scenario.num_outputs)
    tasks = stream_for(setup, scenario)
    swept = sw.SweepSetup(setup.phase, make_params, tasks, evaluator_for(setup, scenario))
    rows = 1 if setup.stream == "joint" else scenario.num_tasks
    identity = {
        "method": method,
        "benchmark": settings.benchmark,
        "scenario": settings.scenario,
        "split": settings.split,
        "validation_fraction": settings.validation_fraction,
        "task_classes": [list(c) for c in scenario.task_classes],
        "settings": method_settings(setup),
        "data_sha256": data_fingerprint(dataset),
    }

    return resumable_sweep(
        swept,
        setup.hparams,
        configs,
        seeds,
        out=out,
        identity=identity,
        evaluation_shape=(rows, scenario.num_tasks),
        chunk_size=chunk_size,
        memory_budget=memory_budget,
        progress=progress,
    )


def format_sweep(rows: list[dict], names: Sequence[str], limit: int = 30) -> str:
    """Final average accuracy and BWT (%) per configuration, mean ± SD over seeds, best first."""
    average = sw.summary_rows(rows, names, "average")
    bwt = {r["config"]: r for r in sw.summary_rows(rows, names, "bwt")} if "bwt" in rows[0] else {}
    table = [["config", *names, "seeds", "average acc.", "BWT"]]
    for r in average[:limit]:
        b = bwt.get(r["config"])
        table.append(
            [
                str(r["config"]),
                *(_short(r[n]) for n in names),
                str(r["seeds"]),
                f"{100 * r['mean']:.2f} ± {100 * r['sd']:.2f}",
                "-" if b is None else f"{100 * b['mean']:.1f} ± {100 * b['sd']:.1f}",
            ]
        )
    return format_table(table)
