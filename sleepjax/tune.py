"""Hyperparameter search over a sweep: random search and CMA-ES, scored on a validation split.

A search proposes configurations (dicts of dotted hyperparameter names, :mod:`sleepjax.hparams`) in
generations; each generation is evaluated as one batch by :func:`sleepjax.sweep.run_configs` (one
compiled, vmapped, sharded program) and stored in a resumable record, so an interrupted search resumes
without recomputing a finished generation. The caller's ``Setup`` decides what is scored: for
:mod:`sleepjax.protocols.split_mnist` it evaluates on training examples held out from every task
(``split="validation"``), never on the test set.

Methods:

* ``random``: configurations drawn independently from the space (log-uniform for rates and scales);
* ``cmaes``: CMA-ES (evosax's ``CMA_ES``) on the unit cube that the space maps to, started at the base
  vector (e.g. the reference SRC vector). CMA-ES was chosen over optuna's TPE because its population is
  exactly one vmapped batch (TPE proposes one point at a time and needs heuristics such as a constant
  liar to propose a batch), it is JAX-native and deterministic given its key, so a resumed search
  replays the same proposals, and it adapts step sizes and correlations between hyperparameters (the
  SRC thresholds and rates act jointly), which coordinate-wise TPE does not model.

After the search, the ``confirm`` best configurations are rerun on ``confirm_seeds`` further seeds and
the winner is the best mean over all its seeds, which guards against a configuration that won on one
lucky seed.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from sleepjax import hparams as hp
from sleepjax.record import Record, check_writable
from sleepjax.run import check_seeds
from sleepjax.sweep import (
    Setup,
    Space,
    build_configs,
    check_space,
    default_summary,
    from_unit,
    run_configs,
    unit_checker,
)

EXPERIMENT = "tune"
METHODS = ("random", "cmaes")
#: Settings a stored search may be resumed with changed values (they do not change any proposal).
RESUMABLE_CHANGES = ("budget", "confirm", "confirm_seeds")


@dataclasses.dataclass(frozen=True)
class SearchConfig:
    """Settings of a search (part of the record's identity, except :data:`RESUMABLE_CHANGES`).

    Attributes:
        method: ``"random"`` or ``"cmaes"``.
        budget: configurations evaluated by the search (rounded up to whole generations).
        population: configurations per generation (one batch).
        seeds: seeds every searched configuration runs (its score is the mean over them).
        search_seed: seed of the proposals.
        sigma: CMA-ES initial step size in unit-cube coordinates.
        confirm: how many of the best configurations are rerun on ``confirm_seeds``.
        confirm_seeds: the further seeds of the confirmation stage.
        metric: the row metric maximised (:func:`sleepjax.sweep.accuracy_summary`: ``overall``, ...).
    """

    method: str = "cmaes"
    budget: int = 32
    population: int = 8
    seeds: tuple[int, ...] = (1000,)
    search_seed: int = 0
    sigma: float = 0.2
    confirm: int = 2
    confirm_seeds: tuple[int, ...] = (1001, 1002)
    metric: str = "overall"

    def __post_init__(self):
        if self.method not in METHODS:
            raise ValueError(f"--method must be one of {', '.join(METHODS)}, got {self.method!r}")
        for name in ("budget", "population"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"--{name} must be a positive integer, got {value!r}")
        if self.method == "cmaes" and self.population < 4:
            raise ValueError(f"--population must be at least 4 for CMA-ES, got {self.population}")
        if not 0 < self.sigma <= 1:
            raise ValueError(f"--sigma must be in (0, 1], got {self.sigma}")
        if not 0 <= self.confirm:
            raise ValueError(f"--confirm must be non-negative, got {self.confirm}")
        check_seeds(self.seeds)
        if self.confirm:
            check_seeds(self.confirm_seeds)
            if set(self.seeds) & set(self.confirm_seeds):
                raise ValueError("--confirm-seeds must differ from --search-seeds")

    @property
    def generations(self) -> int:
        return -(-self.budget // self.population)


class TuneResult(NamedTuple):
    """``best``: the winning configuration (dict of names to values); ``hparams``: its full pytree;
    ``score``: its mean validation score over ``seeds``; ``trials``: every evaluated configuration with
    its scores, best first; ``record``: the record's JSON; ``seconds``: wall time of this call."""

    best: dict
    hparams: Any
    score: float
    seeds: list[int]
    trials: list[dict]
    record: dict
    seconds: float


class _Proposer:
    """The configurations of generation ``g``, deterministic given the search seed, plus what CMA-ES
    learns from each generation's scores."""

    def __init__(self, config: SearchConfig, space: Space, start: np.ndarray):
        self.config, self.space = config, space
        self.key = jax.random.key(config.search_seed)
        if config.method == "cmaes":
            from evosax.algorithms import CMA_ES

            with _evosax_numpy():
                self.es = CMA_ES(population_size=config.population, solution=jnp.zeros(len(space)))
                self.params = self.es.default_params.replace(std_init=jnp.asarray(config.sigma))
                self.state = self.es.init(jax.random.fold_in(self.key, 0), jnp.asarray(start), self.params)

    def ask(self, g: int) -> tuple[list[dict], np.ndarray]:
        k = jax.random.fold_in(self.key, g + 1)
        if self.config.method == "random":
            u = np.asarray(jax.random.uniform(k, (self.config.population, len(self.space))), np.float64)
        else:
            with _evosax_numpy():
                u, self.pending = self.es.ask(k, self.state, self.params)
            u = np.asarray(u, np.float64)
        u = np.clip(u, 0.0, 1.0)
        return [from_unit(self.space, row) for row in u], u

    def tell(self, g: int, u: np.ndarray, scores: np.ndarray) -> None:
        if self.config.method == "cmaes":
            fitness = jnp.asarray(np.where(np.isfinite(scores), -scores, np.inf), jnp.float32)  # evosax minimises
            k = jax.random.fold_in(self.key, 10_000 + g)
            with _evosax_numpy():
                self.state, _ = self.es.tell(k, jnp.asarray(u, jnp.float32), fitness, self.pending, self.params)


def _evosax_numpy():
    """evosax relies on NumPy-style rank promotion; allow it inside its calls even where a program
    raises on implicit broadcasts elsewhere (as sleepjax's tests do)."""
    return jax.numpy_rank_promotion("allow")


def start_point(space: Space, base) -> np.ndarray:
    """The base hyperparameters' position in the unit cube of ``space`` (clipped to it)."""
    return np.clip([dim.to_unit(float(hp.get_value(base, name))) for name, dim in space.items()], 0.0, 1.0)


def _scores(record: Record, group: str, seeds, summarize, metric: str) -> list[float]:
    runs = record.data["configs"][group]["runs"]
    return [float(summarize(runs[str(s)]["evaluation"])[metric]) for s in seeds]


def tune(
    setup: Setup,
    base,
    space: Space,
    config: SearchConfig = SearchConfig(),
    *,
    out: str | os.PathLike | None = None,
    identity: dict | None = None,
    chunk_size: int | None = None,
    devices=None,
    validate: Callable[[Any], None] | None = None,
    summarize: Callable[[Any], dict] | None = None,
    progress: bool = True,
    log: Callable[[str], None] = print,
) -> TuneResult:
    """Search ``space`` around ``base``; see the module docstring.

    ``setup`` must evaluate on a validation split (the search maximises its ``config.metric``).
    Every proposal is checked like a sweep configuration before it runs; a proposal that fails the
    check (e.g. a range that allows a zero threshold) stops the search with that message. ``out``
    keeps every finished generation; rerunning the same search resumes it.
    """
    start_clock = time.perf_counter()
    check_space(space, base)
    build_configs(base, [{}], setup.make_params, validate)  # the base itself must be valid
    if out is not None:
        check_writable(out)
    summarize = summarize or default_summary(setup.evaluate)
    # The proposals of generation g depend on everything here but not on the budget or the confirmation
    # settings, so a search can be resumed with a larger (or smaller) budget or another confirmation.
    proposals = {k: v for k, v in dataclasses.asdict(config).items() if k not in RESUMABLE_CHANGES}
    full_identity = {
        "search": proposals,
        "space": {name: [type(d).__name__, d.low, d.high] for name, d in space.items()},
        "base": {name: hp.to_json(v) for name, v in hp.leaf_names(base).items()},
        "setup": dict(identity or {}),
    }
    record = Record.open(out, EXPERIMENT, full_identity, "configs", unit_checker(), None)
    proposer = _Proposer(config, space, start_point(space, base))
    trials = []
    for g in range(config.generations):
        configs, u = proposer.ask(g)
        groups = [f"g{g}.{i}" for i in range(len(configs))]
        for group, c in zip(groups, configs):
            stored = record.data["configs"].get(group)
            if stored is not None and stored.get("values") != hp.to_json(list(c.values())):
                raise ValueError(
                    f"{out}: generation {g} of the stored search proposed other values; choose another --out"
                )
            record.group(group, values=hp.to_json(list(c.values())), names=list(c))
        trees = build_configs(base, configs, setup.make_params, validate)
        run_configs(
            setup,
            trees,
            config.seeds,
            record,
            groups,
            chunk_size=chunk_size,
            devices=devices,
            progress=progress,
            description=f"generation {g + 1}/{config.generations}",
        )
        scores = np.array([np.mean(_scores(record, grp, config.seeds, summarize, config.metric)) for grp in groups])
        proposer.tell(g, u, scores)
        trials += [{"group": grp, "config": c, "search_score": float(s)} for grp, c, s in zip(groups, configs, scores)]
        best = max(trials, key=lambda t: _finite(t["search_score"]))
        log(
            f"generation {g + 1}/{config.generations}: best {config.metric} this generation "
            f"{100 * np.nanmax(scores):.1f} %, best so far {100 * best['search_score']:.1f} % ({best['group']})"
        )
    ranked = sorted(trials, key=lambda t: -_finite(t["search_score"]))
    all_seeds = list(config.seeds)
    if config.confirm:
        finalists = ranked[: config.confirm]
        groups = [t["group"] for t in finalists]
        trees = build_configs(base, [t["config"] for t in finalists], setup.make_params, validate)
        run_configs(
            setup,
            trees,
            config.confirm_seeds,
            record,
            groups,
            chunk_size=chunk_size,
            devices=devices,
            progress=progress,
            description="confirmation",
        )
        all_seeds += list(config.confirm_seeds)
        for t in finalists:
            t["scores"] = _scores(record, t["group"], all_seeds, summarize, config.metric)
            t["score"] = float(np.mean(t["scores"]))
        winner = max(finalists, key=lambda t: _finite(t["score"]))
    else:
        winner = ranked[0]
        winner["score"] = winner["search_score"]
    record.data["trials"] = [{**t, "config": {k: hp.to_json(v) for k, v in t["config"].items()}} for t in ranked]
    record.data["winner"] = {"group": winner["group"], "config": winner["config"], "score": winner["score"]}
    record.save()
    tree = build_configs(base, [winner["config"]], setup.make_params, validate)[0]
    seeds = all_seeds if config.confirm else list(config.seeds)
    return TuneResult(
        winner["config"], tree, winner["score"], seeds, ranked, record.data, time.perf_counter() - start_clock
    )


def _finite(x: float) -> float:
    return x if np.isfinite(x) else -np.inf


def evaluations(config: SearchConfig) -> int:
    """Runs (configuration x seed) a search costs: search plus confirmation."""
    return config.generations * config.population * len(config.seeds) + config.confirm * len(config.confirm_seeds)


__all__ = ["METHODS", "SearchConfig", "TuneResult", "evaluations", "start_point", "tune"]
