"""Hyperparameter search over a sweep: random search and CMA-ES, scored on a validation split.

A search proposes configurations (dicts of dotted hyperparameter names, :mod:`sleepjax._hparams`) in
generations; each generation is evaluated as one batch (one compiled, vmapped, sharded program,
:func:`~sleepjax._sweep.run_configs`) and kept in a store of finished runs (:class:`~sleepjax.MemoryStore`,
or the command line's JSON record), so a search given the store of an interrupted one resumes without
recomputing a finished generation. The caller's ``SweepSetup`` decides what is scored: the command line's
split-MNIST search evaluates on training examples held out from every task, never on the test set.

A search may score over several setups (e.g. one per class order of a class-incremental benchmark, so
that the winner is not tuned to one order): each proposal's score is then its mean over every (setup,
seed) pair. Setups that differ only in their arrays (tasks, evaluation data of the same shapes) and share
the phase and the initial-model function run the same compiled program.

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
from collections.abc import Callable, Sequence
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
    ``score``: its mean validation score over ``seeds`` (and every setup); ``trials``: every evaluated
    configuration with its scores, best first (``group`` names its runs in ``store``; ``search_score``
    the mean over the search's seeds and setups, ``setup_scores`` the mean of each setup when there are
    several, ``scores`` every (setup, seed) run of a confirmed finalist, setup-major); ``store``: the
    finished runs; ``seconds``: wall time of this call."""

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


def setup_groups(group: str, num_setups: int) -> list[str]:
    """The store groups of trial ``group``'s runs, one per setup: the trial's own name for a single setup
    (so records of single-setup searches keep their layout), ``<group>/s<k>`` for setup ``k`` of several."""
    return [group] if num_setups == 1 else [f"{group}/s{k}" for k in range(num_setups)]


def _scores(store: RunStore, group: str, seeds, summaries, metric: str) -> list[float]:
    """The metric of every (setup, seed) run of trial ``group``, setup-major."""
    out = []
    for name, summarize in zip(setup_groups(group, len(summaries)), summaries):
        runs = store.group(name)["runs"]
        out += [float(summarize(runs[str(s)]["evaluation"])[metric]) for s in seeds]
    return out


def _setup_list(setup) -> list[SweepSetup]:
    setups = [setup] if isinstance(setup, SweepSetup) else list(setup)
    if not setups or not all(isinstance(s, SweepSetup) for s in setups):
        raise ValueError("tune needs a SweepSetup or a non-empty sequence of them")
    return setups


def tune(
    setup: SweepSetup | Sequence[SweepSetup],
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

    ``setup`` (one :class:`~sleepjax.SweepSetup`, or several: each proposal then scores the mean over
    every setup and seed) must evaluate on a validation split (the search maximises its
    ``config.metric``). Every proposal is checked like a sweep configuration before it runs; a proposal
    that fails the check (e.g. a range that allows a zero threshold) stops the search with that message.
    ``store`` keeps every finished generation (group ``g<generation>.<i>``, or ``g<generation>.<i>/s<k>``
    for setup ``k`` of several); given the store of an interrupted search with the same settings, the
    search resumes. ``summarize`` (default: each setup's evaluator's summary) turns one run's evaluation
    into row metrics. ``log`` receives one line per generation.
    """
    start_clock = time.perf_counter()
    setups = _setup_list(setup)
    check_space(space, base)
    build_configs(base, [{}], validate)  # the base itself must be valid
    store = MemoryStore() if store is None else store
    summaries = [summarize or summary_of(s.evaluate) for s in setups]
    proposer = _Proposer(config, space, start_point(space, base))
    options = dict(chunk_size=chunk_size, memory_budget=memory_budget, devices=devices, progress=progress)
    trials = []
    for g in range(config.generations):
        configs, u = proposer.ask(g)
        groups = [f"g{g}.{i}" for i in range(len(configs))]
        for group, c in zip(groups, configs):
            values = hp.to_json(list(c.values()))
            for name in setup_groups(group, len(setups)):
                if store.group(name, values=values, names=list(c)).get("values") != values:
                    raise ValueError(f"generation {g} of the stored search proposed other values; start a new store")
        trees = build_configs(base, configs, validate)
        description = f"generation {g + 1}/{config.generations}"
        _run_setups(setups, trees, config.seeds, store, groups, description, on_chunk_end, options)
        runs = [
            np.reshape(_scores(store, grp, config.seeds, summaries, config.metric), (len(setups), -1)) for grp in groups
        ]
        scores = np.array([r.mean() for r in runs])
        proposer.tell(g, u, scores)
        for grp, c, s, r in zip(groups, configs, scores, runs):
            trials.append({"group": grp, "config": c, "search_score": float(s)})
            if len(setups) > 1:
                trials[-1]["setup_scores"] = r.mean(axis=1).tolist()
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
        _run_setups(setups, trees, config.confirm_seeds, store, groups, "confirmation", on_chunk_end, options)
        all_seeds += list(config.confirm_seeds)
        for t in finalists:
            t["scores"] = _scores(store, t["group"], all_seeds, summaries, config.metric)
            t["score"] = float(np.mean(t["scores"]))
        winner = max(finalists, key=lambda t: _finite(t["score"]))
    else:
        winner = ranked[0]
        winner["score"] = winner["search_score"]
    tree = build_configs(base, [winner["config"]], validate)[0]
    seeds = all_seeds if config.confirm else list(config.seeds)
    return TuneResult(winner["config"], tree, winner["score"], seeds, ranked, store, time.perf_counter() - start_clock)


def _run_setups(setups, trees, seeds, store, groups, description, on_chunk_end, options) -> None:
    """Run every configuration x seed on every setup, setup by setup (one batch each)."""
    for k, setup in enumerate(setups):
        label = description if len(setups) == 1 else f"{description}, setup {k + 1}/{len(setups)}"
        names = [setup_groups(group, len(setups))[k] for group in groups]
        run_configs(setup, trees, seeds, store, names, description=label, on_chunk_end=on_chunk_end, **options)


def _finite(x: float) -> float:
    return x if np.isfinite(x) else -np.inf


def evaluations(config: SearchConfig, setups: int = 1) -> int:
    """Runs (configuration x setup x seed) a search over ``setups`` setups costs: search plus confirmation."""
    per_setup = config.generations * config.population * len(config.seeds) + config.confirm * len(config.confirm_seeds)
    return setups * per_setup


__all__ = ["METHODS", "SearchConfig", "TuneResult", "evaluations", "setup_groups", "start_point", "tune"]
