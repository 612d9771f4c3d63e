"""Hyperparameter search over a sweep: random search and CMA-ES, scored on a validation split.

A search proposes configurations (dicts of dotted hyperparameter names, :mod:`sleepjax._hparams`) in
generations; each generation is evaluated as one batch (one compiled, vmapped, sharded program,
:func:`~sleepjax._sweep.run_configs`) and kept in a store of finished runs (:class:`~sleepjax.MemoryStore`,
or the command line's JSON record), so a search given the store of an interrupted one resumes without
recomputing a finished generation. The caller's ``SweepSetup`` decides what is scored: the command line's
split-MNIST search evaluates on training examples held out from every task, never on the test set.

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
import time
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from sleepjax import _hparams as hp
from sleepjax._engine import check_seeds
from sleepjax._evaluate import summary_of
from sleepjax._store import MemoryStore, RunStore
from sleepjax._sweep import Space, SweepSetup, build_configs, check_space, from_unit, run_configs

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
        metric: the row metric maximised (:func:`sleepjax._sweep.accuracy_summary`: ``overall``, ...).
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
            raise ValueError(f"SearchConfig.method must be one of {', '.join(METHODS)}, got {self.method!r}")
        for name in ("budget", "population"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"SearchConfig.{name} must be a positive integer, got {value!r}")
        if self.method == "cmaes" and self.population < 4:
            raise ValueError(f"SearchConfig.population must be at least 4 for CMA-ES, got {self.population}")
        if not 0 < self.sigma <= 1:
            raise ValueError(f"SearchConfig.sigma must be in (0, 1], got {self.sigma}")
        if not 0 <= self.confirm:
            raise ValueError(f"SearchConfig.confirm must be non-negative, got {self.confirm}")
        check_seeds(self.seeds)
        if self.confirm:
            check_seeds(self.confirm_seeds)
            if set(self.seeds) & set(self.confirm_seeds):
                raise ValueError("SearchConfig.confirm_seeds must differ from SearchConfig.seeds")

    @property
    def generations(self) -> int:
        return -(-self.budget // self.population)


class TuneResult(NamedTuple):
    """``best``: the winning configuration (dict of names to values); ``hparams``: its full pytree;
    ``score``: its mean validation score over ``seeds``; ``trials``: every evaluated configuration with
    its scores, best first (``group`` names its runs in ``store``); ``store``: the finished runs;
    ``seconds``: wall time of this call."""

    best: dict
    hparams: Any
    score: float
    seeds: list[int]
    trials: list[dict]
    store: RunStore
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
    return np.clip([dim.to_unit(float(hp.get_hparam(base, name))) for name, dim in space.items()], 0.0, 1.0)


def _scores(store: RunStore, group: str, seeds, summarize, metric: str) -> list[float]:
    runs = store.group(group)["runs"]
    return [float(summarize(runs[str(s)]["evaluation"])[metric]) for s in seeds]


def tune(
    setup: SweepSetup,
    base,
    space: Space,
    config: SearchConfig = SearchConfig(),
    *,
    store: RunStore | None = None,
    chunk_size: int | None = None,
    memory_budget: int | None = None,
    devices=None,
    validate: Callable[[Any], None] | None = None,
    summarize: Callable[[Any], dict] | None = None,
    progress: bool = True,
    log: Callable[[str], None] = print,
    on_chunk_end: Callable[[], None] | None = None,
) -> TuneResult:
    """Search ``space`` around ``base``; see the module docstring.

    ``setup`` must evaluate on a validation split (the search maximises its ``config.metric``).
    Every proposal is checked like a sweep configuration before it runs; a proposal that fails the
    check (e.g. a range that allows a zero threshold) stops the search with that message. ``store``
    keeps every finished generation (group ``g<generation>.<i>``); given the store of an interrupted
    search with the same settings, the search resumes. ``log`` receives one line per generation.
    """
    start_clock = time.perf_counter()
    check_space(space, base)
    build_configs(base, [{}], validate)  # the base itself must be valid
    store = MemoryStore() if store is None else store
    summarize = summarize or summary_of(setup.evaluate)
    proposer = _Proposer(config, space, start_point(space, base))
    options = dict(chunk_size=chunk_size, memory_budget=memory_budget, devices=devices, progress=progress)
    trials = []
    for g in range(config.generations):
        configs, u = proposer.ask(g)
        groups = [f"g{g}.{i}" for i in range(len(configs))]
        for group, c in zip(groups, configs):
            values = hp.to_json(list(c.values()))
            if store.group(group, values=values, names=list(c)).get("values") != values:
                raise ValueError(f"generation {g} of the stored search proposed other values; start a new store")
        trees = build_configs(base, configs, validate)
        description = f"generation {g + 1}/{config.generations}"
        run_configs(
            setup, trees, config.seeds, store, groups, description=description, on_chunk_end=on_chunk_end, **options
        )
        scores = np.array([np.mean(_scores(store, grp, config.seeds, summarize, config.metric)) for grp in groups])
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
        trees = build_configs(base, [t["config"] for t in finalists], validate)
        run_configs(
            setup, trees, config.confirm_seeds, store, groups,
            description="confirmation", on_chunk_end=on_chunk_end, **options,
        )  # fmt: skip
        all_seeds += list(config.confirm_seeds)
        for t in finalists:
            t["scores"] = _scores(store, t["group"], all_seeds, summarize, config.metric)
            t["score"] = float(np.mean(t["scores"]))
        winner = max(finalists, key=lambda t: _finite(t["score"]))
    else:
        winner = ranked[0]
        winner["score"] = winner["search_score"]
    tree = build_configs(base, [winner["config"]], validate)[0]
    seeds = all_seeds if config.confirm else list(config.seeds)
    return TuneResult(winner["config"], tree, winner["score"], seeds, ranked, store, time.perf_counter() - start_clock)


def _finite(x: float) -> float:
    return x if np.isfinite(x) else -np.inf


def evaluations(config: SearchConfig) -> int:
    """Runs (configuration x seed) a search costs: search plus confirmation."""
    return config.generations * config.population * len(config.seeds) + config.confirm * len(config.confirm_seeds)


__all__ = ["METHODS", "SearchConfig", "TuneResult", "evaluations", "start_point", "tune"]
