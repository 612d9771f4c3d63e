"""The foraging experiment (Golden, Delanois, Sanda & Bazhenov 2022): six conditions over many trials.

Every trial runs the unsupervised period and Task 1 training once (scored: ``after_task1``) and then
each condition's second stage from that same network (:mod:`sleepjax.foraging.schedules`):
``sequential``, ``interleaved_task1``, ``interleaved_sleep``, ``noise_sleep``, and ``sleep_only`` from
the naive network. Trials run vmapped in chunks; each finished (condition, chunk of trials) is stored
in the JSON record at once, so an interrupted run resumes where it stopped.

The record's ``conditions.<name>`` holds ``runs.<seed>`` (scores on both tasks, particles eaten while
testing, the learning curve, seconds per trial) and ``summary`` (``task1``/``task2``: mean and SD over
the trials). The configuration, including the neuron model and every constant, is the record's
identity, so a record always says what produced it.
"""

from __future__ import annotations

import dataclasses
import functools
import time
from collections.abc import Sequence

import equinox as eqx
import jax
import numpy as np
from tqdm.auto import tqdm

from sleepjax._continual import Carry, Start
from sleepjax._engine import check_seeds, run_batch
from sleepjax.app.checkpoints import Checkpoint, checkpoint_path
from sleepjax.foraging import trials
from sleepjax.foraging.constants import Hparams, check_hparams
from sleepjax.foraging.network import NEURON_MODELS, NetConfig, init_agent
from sleepjax.foraging.schedules import CONDITIONS, Durations, block_phase, schedule

__all__ = ["CONDITIONS", "NEURON_MODELS", "PAIRINGS", "PUBLISHED", "Config", "Durations", "format_results", "run"]
from sleepjax.app.interrupt import check_stop
from sleepjax.app.records import Record, is_number, require
from sleepjax.app.report import format_table, mean_sd
from sleepjax.spiking import PAIRINGS

EXPERIMENT = "foraging"

#: The published table (mean, SD over trials; Task 1 and Task 2 discriminability).
PUBLISHED = {
    "after_task1": ((0.70, 0.02), (0.53, 0.02)),
    "sequential": ((0.52, 0.02), (0.69, 0.03)),
    "interleaved_task1": ((0.68, 0.03), (0.65, 0.04)),
    "interleaved_sleep": ((0.70, 0.03), (0.68, 0.05)),
    "noise_sleep": ((0.67, 0.05), (0.69, 0.03)),
    "sleep_only": (None, None),
}

#: Conditions whose first trial keeps its hidden->output weights in the record (for the figures).
WEIGHT_CONDITIONS = ("after_task1", "sequential", "interleaved_sleep", "noise_sleep")


@dataclasses.dataclass(frozen=True)
class Config:
    """Settings of a foraging run: phase lengths, steps per movement cycle (the paper's 600 by default;
    the committed records before it used 200), the neuron model, overrides of
    :class:`~sleepjax.foraging.Hparams` by name, and the STDP spike pairing
    (:data:`~sleepjax.spiking.stdp.PAIRINGS`; every pair within the window by default, the paper's "all
    partner spikes within 120 iterations"; the committed records before it paired nearest spikes)."""

    durations: Durations = Durations()
    steps_per_cycle: int = 600
    neuron: str = "rulkov"
    hparams: tuple[tuple[str, float], ...] = ()
    pairing: str = "all"

    def __post_init__(self):
        if self.neuron not in NEURON_MODELS:
            raise ValueError(f"--neuron must be one of {', '.join(NEURON_MODELS)}, got {self.neuron!r}")
        if not (isinstance(self.steps_per_cycle, int) and 2 <= self.steps_per_cycle <= 10_000):
            raise ValueError(f"--steps-per-cycle must be an integer in 2..10000, got {self.steps_per_cycle}")
        if self.pairing not in PAIRINGS:
            raise ValueError(f"--pairing must be one of {', '.join(PAIRINGS)}, got {self.pairing!r}")
        unknown = [k for k, _ in self.hparams if k not in Hparams._fields]
        if unknown:
            raise ValueError(f"unknown foraging hyperparameter(s) {unknown}; known: {', '.join(Hparams._fields)}")
        check_hparams(self.hp())

    def net(self) -> NetConfig:
        return NetConfig(steps=self.steps_per_cycle, neuron=self.neuron, pairing=self.pairing)

    def hp(self) -> Hparams:
        return Hparams()._replace(**{k: float(v) for k, v in self.hparams})

    @property
    def input_code(self) -> str:
        """Which hidden code produced the results: the paper's (plain STDP) or the wired detectors."""
        wired = self.hp().wired
        return f"wired particle detectors of {wired:g}, not the paper's code" if wired > 0 else "plain-STDP input code"

    @classmethod
    def from_identity(cls, identity: dict) -> Config:
        """The configuration a record's ``identity`` (:meth:`identity`) was made with: its constants
        that differ from the defaults become the overrides."""
        defaults = Hparams()._asdict()
        overrides = tuple((k, v) for k, v in identity["hparams"].items() if defaults.get(k) != v)
        durations = Durations(**identity["durations"])
        return cls(durations, identity["steps_per_cycle"], identity["neuron"], overrides, identity["pairing"])

    def identity(self) -> dict:
        return {
            "durations": dataclasses.asdict(self.durations),
            "steps_per_cycle": self.steps_per_cycle,
            "neuron": self.neuron,
            "credit": self.net().credit,
            "pairing": self.pairing,
            "hparams": self.hp()._asdict(),
        }


def check_unit(condition: str, seed: str, unit) -> None:
    """Validation of one stored trial."""
    field = f"conditions.{condition}.runs.{seed}"
    for task in ("task1", "task2"):
        value = unit.get(task)
        require(is_number(value) and 0 <= value <= 1, f"{field}.{task}", "expected a score in [0, 1]")
    eaten = unit.get("eaten")
    ok = isinstance(eaten, list) and len(eaten) == 2 and all(isinstance(r, list) and len(r) == 2 for r in eaten)
    require(
        ok and all(isinstance(v, int) and v >= 0 for r in eaten for v in r), f"{field}.eaten", "expected 2x2 counts"
    )
    curve = unit.get("curve")
    require(
        isinstance(curve, list) and all(is_number(v) for v in curve), f"{field}.curve", "expected a list of numbers"
    )
    require(is_number(unit.get("seconds")) and unit["seconds"] >= 0, f"{field}.seconds", "expected seconds >= 0")


def _unit(stage: str, result, blocks, index: int, config: Config, seconds: float, keep_weights: bool) -> dict:
    eaten = np.asarray(result.eaten[index])
    score, counts = trials.scores(eaten, blocks)
    task = trials.curve_task(stage)
    unit = {
        "task1": score[0],
        "task2": score[1],
        "eaten": counts,
        "curve": trials.curve(eaten, blocks, task, config.durations.curve_block) if task else [],
        "seconds": seconds,
    }
    if keep_weights:
        unit["w_out"] = np.round(np.asarray(result.agent.w_out[index]), 6).tolist()
    return unit


def run(
    seeds: Sequence[int] = tuple(range(10)),
    config: Config = Config(),
    out=None,
    chunk_size: int | None = None,
    progress: bool = True,
) -> dict:
    """Run every condition for the trials ``seeds`` and return (and, with ``out``, keep saving) the record.

    ``chunk_size`` trials run vmapped per compiled call (default: all). Trials already in a matching
    record are not run again; the shared prefix of a chunk is recomputed only if some condition of that
    chunk is missing.
    """
    seeds = [int(s) for s in check_seeds(seeds)]
    if chunk_size is not None and not (isinstance(chunk_size, int) and chunk_size >= 1):
        raise ValueError(f"--chunk-size must be a positive integer, got {chunk_size}")
    record = Record.open(out, EXPERIMENT, config.identity(), "conditions", check_unit, CONDITIONS)
    for name in CONDITIONS:
        record.group(name)
    per_chunk = min(chunk_size or len(seeds), len(seeds))
    chunks = [seeds[i : i + per_chunk] for i in range(0, len(seeds), per_chunk)]
    todo = [[c for c in CONDITIONS if not set(chunk) <= record.finished(c)] for chunk in chunks]
    bar = tqdm(
        total=sum(len(t) for t in todo), desc=f"foraging ({len(seeds)} trials)", unit="unit", disable=not progress
    )
    try:
        for chunk, missing in zip(chunks, todo):
            if missing:
                _run_chunk(chunk, missing, config, record, keep_weights=seeds[0], bar=bar)
    finally:
        bar.close()
    for name in CONDITIONS:
        entry = record.group(name)
        runs = [entry["runs"][str(s)] for s in seeds]
        entry["summary"] = {task: mean_sd([r[task] for r in runs]) for task in ("task1", "task2")}
        entry["summary_seeds"] = seeds
    record.data["seeds"] = seeds
    record.save()
    return record.data


@functools.lru_cache(maxsize=8)
def _model(config: Config):
    """The block phase and initial-network factory of ``config``, built once so that every stage reuses
    the engine's compiled program (every stage's schedule has the same padded length)."""
    net, hp = config.net(), config.hp()
    return block_phase(config.durations, net), lambda key: init_agent(key, net, hp)


#: Blocks per compiled call of a stage run with a record: the run is checkpointed after each (5,000 movement
#: cycles at the default block of 100), so an interruption loses at most that much.
SEGMENT_BLOCKS = 50


def _run_chunk(chunk, missing, config: Config, record: Record, keep_weights: int, bar) -> None:
    """Run the stages of one chunk of trials, each stage one :func:`~sleepjax.run_batch` over the chunk
    (vmapped, sharded), storing every condition as it finishes.

    With a record on disk, the chunk keeps a checkpoint beside it (:mod:`sleepjax.app.checkpoints`): the
    naive and the Task-1-trained networks once computed, and the stage in progress every
    :data:`SEGMENT_BLOCKS` blocks (network, phase state, what was eaten so far). A rerun after an
    interruption continues from it with the numbers of an uninterrupted run; the checkpoint is deleted
    when the chunk is done.
    """
    durations, hp = config.durations, config.hp()
    phase, make_agent = _model(config)
    weights_at = chunk.index(keep_weights) if keep_weights in chunk else None
    owner = {"identity": config.identity(), "chunk": list(chunk)}
    saved = Checkpoint(checkpoint_path(record.path), owner) if record.path is not None else None
    template = eqx.filter_eval_shape(lambda key: _carry_of(phase, make_agent(key), key), jax.random.key(0))

    def run_stage(stage, start):
        blocks = schedule(stage, durations)
        total = blocks.index.shape[0]
        begin, eaten_before = None, None
        if saved is not None and "current" in saved and saved.meta["current"]["stage"] == stage:
            carry, eaten_before = saved.get("current", (template, np.zeros((), np.int32)))
            begin = Start(carry.params, carry.state, saved.meta["current"]["task"])

        def keep(members, next_task, so_far):
            eaten = so_far.metrics["eaten"]
            if eaten_before is not None:
                eaten = np.concatenate([eaten_before, eaten], axis=1)
            saved.put("current", (so_far.final, eaten), stage=stage, task=next_task)

        result = run_batch(
            phase,
            make_agent,
            blocks,
            trials.no_evaluation,
            hp,
            chunk,
            hparams_batched=False,
            chunk_size=len(chunk),
            start=begin if begin is not None else (None if start is None else Start(start)),
            segment=SEGMENT_BLOCKS if saved is not None else None,
            on_segment_end=keep if saved is not None else None,
            member_keys=trials.member_keys(stage),
            key_schedule=trials.split_keys(total),
            keep_final=True,
            constant_hparams=True,
        )
        eaten = result.metrics["eaten"]
        if eaten_before is not None:
            eaten = np.concatenate([eaten_before, eaten], axis=1)
        return trials.StageResult(result.final.params, eaten), blocks

    def prefix(stage, start):
        """The naive or trained network of the chunk: from the checkpoint, or computed and kept there."""
        if saved is not None and stage in saved:
            return saved.get(stage, (template.params, np.zeros((), np.int32)))
        result, _ = run_stage(stage, start)
        if saved is not None:
            saved.put(stage, (result.agent, result.eaten))
            saved.drop("current")
        return result.agent, result.eaten

    def store(name, stage, result, blocks, seconds):
        broken = ~np.isfinite(np.asarray(result.agent.w_out)).all(axis=(1, 2))
        if broken.any():
            seeds_out = ", ".join(str(s) for s, b in zip(chunk, broken) if b)
            raise ValueError(
                f"condition {name}: the hidden->output weights became inf or NaN for seed(s) {seeds_out}; "
                f"nothing of this condition was stored (lower learn_gain or s_sleep with --hparam)"
            )
        runs = record.group(name)["runs"]
        for i, seed in enumerate(chunk):
            keep = i == weights_at and name in WEIGHT_CONDITIONS
            runs[str(seed)] = _unit(stage, result, blocks, i, config, seconds, keep)
        record.save()
        if saved is not None:
            saved.drop("current")
        bar.update(1)
        check_stop()

    clock = time.perf_counter()
    naive, _ = prefix("unsupervised", None)
    trained, trained_eaten = prefix("task1", naive)
    if "after_task1" in missing:
        seconds = (time.perf_counter() - clock) / len(chunk)
        store("after_task1", "task1", trials.StageResult(trained, trained_eaten), schedule("task1", durations), seconds)
    for name in missing:
        if name == "after_task1":
            continue
        clock = time.perf_counter()
        result, blocks = run_stage(name, naive if name == "sleep_only" else trained)
        store(name, name, result, blocks, (time.perf_counter() - clock) / len(chunk))
    if saved is not None:
        saved.remove()


def _carry_of(phase, agent, key):
    """A stage's carry (network and block-phase state) for ``agent``: the structure checkpoints refill."""
    return Carry(agent, phase.init(agent, key))


def format_results(record: dict) -> str:
    """Discriminability (mean ± SD over trials) per condition next to the published values."""
    rows = [["condition", "trials", "Task 1", "Task 2", "paper Task 1", "paper Task 2"]]

    def fmt(stat):
        return f"{stat['mean']:.3f} ± {stat['sd']:.3f}"

    for name in CONDITIONS:
        entry = record["conditions"].get(name, {})
        if "summary" not in entry:
            continue
        paper = [f"{m:.2f} ± {s:.2f}" if m is not None else "no learning" for m, s in _published(name)]
        s = entry["summary"]
        rows.append([name, str(len(entry["summary_seeds"])), fmt(s["task1"]), fmt(s["task2"]), *paper])
    return format_table(rows)


def _published(name):
    return [p if p is not None else (None, None) for p in PUBLISHED[name]]
