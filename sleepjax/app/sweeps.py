"""Sweeps and searches with a resumable JSON record: what ``sleepjax sweep`` and ``sleepjax tune`` run.

:func:`resumable_sweep` and :func:`resumable_tune` open (or resume) a record whose identity is the base
hyperparameters, the configurations or search settings and the caller's setup identity, give it to
:func:`sleepjax.sweep` / :func:`sleepjax.tune` as their store of finished runs, stop at the next chunk
boundary on Ctrl-C, and write the table (CSV and JSON) or the search's trials and winner beside it.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from sleepjax import _hparams as hp
from sleepjax._sweep import SweepResult, SweepSetup, sweep
from sleepjax._tune import RESUMABLE_CHANGES, SearchConfig, TuneResult, tune
from sleepjax.app.interrupt import check_stop
from sleepjax.app.records import (
    Record,
    check_matrix,
    check_writable,
    is_number,
    require,
    write_atomic,
    write_text_atomic,
)


def unit_checker(evaluation_shape: tuple[int, int] | None = None):
    """Validation of one stored run (``evaluation``, ``seconds``, ``chunk_size``); ``evaluation_shape``:
    the accuracy matrix's (rows, tasks), when the evaluation is one."""

    def check(group: str, seed: str, unit) -> None:
        field = f"configs.{group}.runs.{seed}"
        require("evaluation" in unit, f"{field}.evaluation", "missing")
        if evaluation_shape is not None:
            check_matrix(unit["evaluation"], f"{field}.evaluation", evaluation_shape)
        require(is_number(unit.get("seconds")) and unit["seconds"] >= 0, f"{field}.seconds", "expected seconds >= 0")
        require(isinstance(unit.get("chunk_size"), int) and unit["chunk_size"] >= 1, f"{field}.chunk_size", "")

    return check


def _base_identity(base) -> dict:
    return {name: hp.to_json(v) for name, v in hp.hparam_names(base).items()}


def resumable_sweep(
    setup: SweepSetup,
    base,
    configs: Sequence[Mapping],
    seeds: Sequence[int],
    *,
    out: str | os.PathLike | None = None,
    identity: Mapping | None = None,
    evaluation_shape: tuple[int, int] | None = None,
    **options,
) -> SweepResult:
    """:func:`sleepjax.sweep` kept in the record ``out`` (resumed when it matches) with the table beside
    it (``table_paths(out)``); ``identity`` says what else identifies the sweep (data, protocol);
    ``evaluation_shape`` the (rows, tasks) of every stored accuracy matrix."""
    if out is not None:
        check_writable(out)
    full_identity = {
        "base": _base_identity(base),
        "configs": [{name: hp.to_json(v) for name, v in c.items()} for c in configs],
        "setup": dict(identity or {}),
    }
    groups = [str(i) for i in range(len(configs))]
    record = Record.open(out, "sweep", full_identity, "configs", unit_checker(evaluation_shape), groups)
    result = sweep(setup, base, configs, seeds, store=record, on_chunk_end=check_stop, **options)
    record.data["seeds"] = [int(s) for s in seeds]
    record.data["chunk_size"] = result.chunk_size
    record.save()
    if out is not None:
        write_table(result.rows, *table_paths(out))
    return result


def resumable_tune(
    setup: SweepSetup,
    base,
    space: Mapping,
    config: SearchConfig,
    *,
    out: str | os.PathLike | None = None,
    identity: Mapping | None = None,
    **options,
) -> tuple[TuneResult, dict]:
    """:func:`sleepjax.tune` kept in the record ``out`` (resumed generation by generation when it
    matches); the record also gets every trial, best first, and the winner. Returns the result and the
    record's JSON."""
    if out is not None:
        check_writable(out)
    # The proposals of generation g depend on everything here but not on the budget or the confirmation
    # settings, so a search can be resumed with a larger (or smaller) budget or another confirmation.
    proposals = {k: v for k, v in dataclasses.asdict(config).items() if k not in RESUMABLE_CHANGES}
    full_identity = {
        "search": proposals,
        "space": {name: [type(d).__name__, d.low, d.high] for name, d in space.items()},
        "base": _base_identity(base),
        "setup": dict(identity or {}),
    }
    record = Record.open(out, "tune", full_identity, "configs", unit_checker(), None)
    try:
        result = tune(setup, base, space, config, store=record, on_chunk_end=check_stop, **options)
    except ValueError as err:
        raise ValueError(f"{out}: {err}" if out is not None else str(err)) from None
    record.data["trials"] = [{**t, "config": {k: hp.to_json(v) for k, v in t["config"].items()}} for t in result.trials]
    winner = next(t for t in result.trials if t["config"] is result.best)
    record.data["winner"] = {"group": winner["group"], "config": winner["config"], "score": result.score}
    record.save()
    return result, record.data


def write_table(rows: list[dict], csv_path: str | os.PathLike, json_path: str | os.PathLike | None = None) -> None:
    """Write ``rows`` as CSV (list values joined by spaces) and, if ``json_path``, as a JSON list."""
    columns = list(dict.fromkeys(k for row in rows for k in row))
    text = io.StringIO()
    writer = csv.DictWriter(text, columns)
    writer.writeheader()
    for row in rows:
        writer.writerow({k: " ".join(map(str, np.ravel(v))) if isinstance(v, list) else v for k, v in row.items()})
    write_text_atomic(Path(csv_path), text.getvalue())
    if json_path is not None:
        write_atomic(Path(json_path), {"rows": rows})


def table_paths(out: str | os.PathLike) -> tuple[Path, Path]:
    """The CSV and JSON table written next to the record ``out`` (``x.json`` -> ``x.csv``, ``x.rows.json``)."""
    out = Path(out)
    stem = out.with_suffix("") if out.suffix == ".json" else out
    return stem.with_name(stem.name + ".csv"), stem.with_name(stem.name + ".rows.json")


def load_configs_file(path: str | os.PathLike) -> tuple[dict[str, list] | None, list[dict] | None]:
    """A sweep config file: JSON or TOML with either ``grid = {name = [values]}`` or ``configs = [{...}]``.

    Returns ``(grid_axes, explicit_configs)``, one of them ``None``; ``ValueError`` naming the file and
    the problem.
    """
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as err:
        raise ValueError(f"{path}: cannot read the sweep file ({err.strerror or err})") from None
    try:
        if path.suffix == ".toml":
            import tomllib

            data = tomllib.loads(text)
        else:
            data = json.loads(text)
    except ValueError as err:
        raise ValueError(
            f"{path}: not a valid {'TOML' if path.suffix == '.toml' else 'JSON'} sweep file ({err})"
        ) from None
    if not isinstance(data, dict) or set(data) - {"grid", "configs"} or len(data) != 1:
        raise ValueError(f"{path}: a sweep file holds exactly one of 'grid' (name -> list of values) or 'configs'")
    if "grid" in data:
        axes = data["grid"]
        if not isinstance(axes, dict) or not all(isinstance(v, list) and v for v in axes.values()):
            raise ValueError(f"{path}: 'grid' must map each hyperparameter name to a non-empty list of values")
        return axes, None
    configs = data["configs"]
    if not isinstance(configs, list) or not all(isinstance(c, dict) for c in configs) or not configs:
        raise ValueError(f"{path}: 'configs' must be a non-empty list of objects (name -> value)")
    return None, configs
