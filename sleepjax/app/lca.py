"""Spiking sparse coding with online Hebbian dictionary learning, with and without noise sleep.

Arms (all share the network, the data and the wake learning; :mod:`sleepjax.lca`):

* ``no_sleep``: blocks of MNIST patches learned one after another, nothing else;
* ``plain_noise_sleep``: after each block, a sleep on white Gaussian noise of constant level;
* ``sinusoidal_sleep``: after each block, a sleep on white noise whose level follows a sinusoid
  (same mean level as the plain arm).

After every block (and once before learning) each seed's dictionary is scored: feature L2 norms,
the fraction of neurons that fire on pure-noise patches, the relative reconstruction error and the
fraction of active neurons on held-out patches. :func:`run` keeps a resumable JSON record
(:mod:`sleepjax.app.records`) with every seed's trajectories; :func:`sweep` runs a frequency x amplitude
grid of sinusoidal sleeps, vmapped over the settings in one compiled program.

The constants are this implementation's choices (the paper's were not available), calibrated on a
CPU (seeds other than the reported ones) so that the growth appears within minutes and the three
claims can be checked; see :class:`Config`.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Sequence

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from sleepjax._datasets import Dataset
from sleepjax._engine import check_seeds, run_batch
from sleepjax._ranges import NON_NEGATIVE, POSITIVE, check_ranges
from sleepjax.app.records import Record, is_number, require
from sleepjax.app.report import format_table, mean_sd
from sleepjax.app.stored_runs import run_and_store
from sleepjax.lca.learning import RULES
from sleepjax.lca.model import NeuronConfig
from sleepjax.lca.patches import PREPROCESSING, PatchSet, make_patches
from sleepjax.lca.phases import (
    DictionaryEvaluator,
    DictionaryScores,
    LearnHparams,
    PatchBlock,
    init_dictionary,
    learn_and_sleep,
    learn_only,
)
from sleepjax.lca.sleep import NoiseSleepHparams

EXPERIMENT = "lca"
ARMS = ("no_sleep", "plain_noise_sleep", "sinusoidal_sleep")
METRICS = ("final_max_norm", "final_mean_norm", "noise_fire_fraction", "recon_error", "sparsity")
TRAJECTORIES = ("max_norm", "mean_norm", "noise_fire_fraction", "recon_error", "sparsity")


#: Settings of :class:`Config` that must be positive, and those that may also be zero.
POSITIVE_SETTINGS = ("dt", "tau_m", "tau_s", "threshold", "lam", "eta")
NON_NEGATIVE_SETTINGS = ("sleep_seconds", "sleep_level", "sleep_frequency")


@dataclasses.dataclass(frozen=True)
class Config:
    """Settings of an LCA run (defaults: the calibrated experiment of the README).

    Data: ``blocks`` x ``patches_per_block`` training patches of ``patch_size`` pixels a side
    (``preprocessing``, :mod:`sleepjax.lca.patches`), ``num_test`` held-out patches from the test images
    and ``num_noise`` ``N(0, 1)`` noise patches (fixed across evaluations). Network: ``num_neurons``
    LIF neurons (:class:`sleepjax.lca.model.NeuronConfig` constants), features initialised on training
    patches at unit norm. Each patch is shown for ``steps_per_patch`` steps of ``dt``; codes and
    activity are read over the last ``readout_steps``. ``eta`` is the Hebbian learning rate, awake and
    asleep. A sleep lasts ``sleep_seconds``; the sinusoidal arm's noise level is
    ``max(sleep_level + sleep_level * sin(2 pi sleep_frequency t), 0)`` (full-depth modulation), the
    plain arm's is ``sleep_level`` throughout.

    Learning rule. By default the spike-triggered rule on a network whose neurons receive their drive
    one step late (``rule="spike"``, ``delay=1``; :mod:`sleepjax.lca.learning`): without sleep its
    growth does not level off; the norms grow faster and faster until the network's inhibition loop,
    simulated in steps of ``dt``, no longer settles and nearly every neuron fires on every input,
    noise included. ``rule="trace"``, ``delay=0``, ``eta=1``, ``sleep_level=2.25`` is the earlier
    default, whose growth levels off (a brake from the code's spike-count noise).

    Calibration (spike rule, seeds 100-101, sleep at 8 Hz). ``eta`` 0.02 makes the growth visible over
    the whole 40-block run (without sleep the network breaks down after about 30 blocks; with ``eta``
    0.05-0.1 after 10-20). ``sleep_level`` 6: over 200 blocks it holds the mean norm at 1.3 and
    noise-driven firing under 1 % on both seeds, where level 5 (slightly better reconstruction over 40
    blocks) let the mean norm of seed 100 creep to 1.7 and its noise firing to 1.4 %; levels 3-4.5 let
    more neurons fire on noise (1.2-1.9 % after 40 blocks), level 8 shrinks all features and
    reconstructs worse. The spike rule learns features that reconstruct worse than the trace rule's
    (relative error about 0.7 with sleep, against 0.45 for the trace rule with its sleep).
    """

    patch_size: int = 8
    preprocessing: str = "center"
    num_neurons: int = 128
    blocks: int = 40
    patches_per_block: int = 250
    num_test: int = 200
    num_noise: int = 200
    steps_per_patch: int = 60
    readout_steps: int = 30
    dt: float = 1e-3
    tau_m: float = 0.02
    tau_s: float = 0.03
    threshold: float = 0.015
    lam: float = 2.5
    eta: float = 0.02
    rule: str = "spike"
    delay: int = 1
    sleep_seconds: float = 10.0
    sleep_frequency: float = 8.0
    sleep_level: float = 6.0
    patch_seed: int = 0

    def __post_init__(self):
        if self.delay not in (0, 1):
            raise ValueError(f"--delay must be 0 or 1 (steps), got {self.delay!r}")
        if self.rule not in RULES:
            raise ValueError(f"--rule must be one of {', '.join(RULES)}, got {self.rule!r}")
        if self.preprocessing not in PREPROCESSING:
            raise ValueError(f"--preprocessing must be one of {', '.join(PREPROCESSING)}, got {self.preprocessing!r}")
        for name in ("patch_size", "num_neurons", "blocks", "patches_per_block", "num_test", "num_noise"):
            if not (isinstance(getattr(self, name), int) and getattr(self, name) >= 1):
                raise ValueError(f"--{name.replace('_', '-')} must be a positive integer, got {getattr(self, name)}")
        if not 1 <= self.readout_steps <= self.steps_per_patch:
            raise ValueError(f"readout_steps must be in 1..steps_per_patch ({self.steps_per_patch})")
        if self.num_neurons > self.blocks * self.patches_per_block:
            raise ValueError("--num-neurons cannot exceed the number of training patches (features start on them)")
        names = (*POSITIVE_SETTINGS, *NON_NEGATIVE_SETTINGS)
        ranges = {name: POSITIVE if name in POSITIVE_SETTINGS else NON_NEGATIVE for name in names}
        check_ranges({name: getattr(self, name) for name in names}, ranges, lambda name: f"--{name.replace('_', '-')}")

    @classmethod
    def tiny(cls) -> Config:
        """A few-second version for notebooks and tests (too short to show the effect)."""
        return cls(num_neurons=16, blocks=3, patches_per_block=16, num_test=16, num_noise=16, sleep_seconds=0.2)

    def neuron(self) -> NeuronConfig:
        return NeuronConfig(self.dt, self.tau_m, self.tau_s, self.threshold, self.lam, 0.0, self.delay)

    def sleep_steps(self) -> int:
        return int(round(self.sleep_seconds / self.dt))

    def sleep_hparams(self, frequency: float, amplitude: float, offset: float) -> NoiseSleepHparams:
        return NoiseSleepHparams(frequency, amplitude, offset, self.sleep_seconds, self.eta)


def arm_setup(arm: str, config: Config):
    """``(phase, hparams)`` of one arm."""
    wake = LearnHparams(config.eta)
    cfg = config.neuron()
    if arm == "no_sleep":
        return learn_only(cfg, config.steps_per_patch, config.rule), {"wake": wake}
    phase = learn_and_sleep(cfg, config.steps_per_patch, config.sleep_steps(), config.rule)
    level = config.sleep_level
    if arm == "plain_noise_sleep":
        return phase, {"wake": wake, "sleep": config.sleep_hparams(0.0, 0.0, level)}
    if arm == "sinusoidal_sleep":
        return phase, {"wake": wake, "sleep": config.sleep_hparams(config.sleep_frequency, level, level)}
    raise ValueError(f"unknown arm {arm!r}; choose from {', '.join(ARMS)}")


def make_data(dataset: Dataset, config: Config) -> tuple[PatchSet, PatchBlock, DictionaryEvaluator]:
    """Patches, the training blocks as tasks, and the evaluator (held-out and fixed noise patches)."""
    patches = make_patches(
        dataset,
        config.blocks * config.patches_per_block,
        config.num_test,
        config.patch_size,
        config.preprocessing,
        seed=config.patch_seed,
    )
    d = config.patch_size**2
    blocks = PatchBlock(
        jnp.asarray(patches.train).reshape(config.blocks, config.patches_per_block, d), jnp.arange(config.blocks)
    )
    noise = np.random.default_rng(config.patch_seed + 1).standard_normal((config.num_noise, d)).astype(np.float32)
    evaluator = DictionaryEvaluator(
        jnp.asarray(patches.test), jnp.asarray(noise), config.neuron(), config.steps_per_patch, config.readout_steps
    )
    return patches, blocks, evaluator


def make_params_fn(patches: PatchSet, config: Config):
    """Initial dictionary from a key: ``num_neurons`` training patches at unit norm."""
    train = jnp.asarray(patches.train)

    def make_params(key):
        return init_dictionary(key, train, config.num_neurons)

    return make_params


def trajectory(evaluations: DictionaryScores) -> dict[str, np.ndarray]:
    """Scalar trajectories over a leading time axis from stacked evaluations."""
    norms = np.asarray(evaluations.norms)
    return {
        "max_norm": norms.max(-1),
        "mean_norm": norms.mean(-1),
        "noise_fire_fraction": np.asarray(evaluations.noise_fire_fraction),
        "recon_error": np.asarray(evaluations.recon_error),
        "sparsity": np.asarray(evaluations.sparsity),
    }


def summarize_arm(runs: Sequence[dict]) -> dict:
    """Final values (mean, sample SD over seeds) and the mean/SD trajectories."""
    traj = {k: np.array([r["trajectories"][k] for r in runs]) for k in TRAJECTORIES}
    final = {
        "final_max_norm": traj["max_norm"][:, -1],
        "final_mean_norm": traj["mean_norm"][:, -1],
        "noise_fire_fraction": traj["noise_fire_fraction"][:, -1],
        "recon_error": traj["recon_error"][:, -1],
        "sparsity": traj["sparsity"][:, -1],
    }
    summary = {k: mean_sd(v) for k, v in final.items()}
    summary["trajectories"] = {
        k: {"mean": v.mean(0).tolist(), "sd": v.std(0, ddof=1 if len(v) > 1 else 0).tolist()} for k, v in traj.items()
    }
    return summary


def unit_checker(config: Config):
    """Validation of one stored run."""
    points = config.blocks + 1

    def check(arm: str, seed: str, unit) -> None:
        field = f"arms.{arm}.runs.{seed}"
        traj = unit.get("trajectories")
        require(isinstance(traj, dict), f"{field}.trajectories", "missing or not an object")
        for k in TRAJECTORIES:
            v = traj.get(k)
            ok = isinstance(v, list) and len(v) == points and all(is_number(x) and x >= 0 for x in v)
            require(ok, f"{field}.trajectories.{k}", f"expected {points} non-negative numbers")
        d, n = config.patch_size**2, config.num_neurons
        atoms = unit.get("final_dictionary")
        ok = isinstance(atoms, list) and len(atoms) == d and all(isinstance(r, list) and len(r) == n for r in atoms)
        require(ok, f"{field}.final_dictionary", f"expected a {d}x{n} matrix")
        require(is_number(unit.get("seconds")) and unit["seconds"] >= 0, f"{field}.seconds", "expected seconds >= 0")

    return check


def data_fingerprint(patches: PatchSet) -> str:
    """SHA-256 of the training and held-out patches."""
    digest = hashlib.sha256()
    for array in (patches.train, patches.test):
        digest.update(str(array.shape).encode())
        digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()


def run(
    dataset: Dataset,
    seeds: Sequence[int] = (0,),
    config: Config = Config(),
    out=None,
    chunk_size: int | None = None,
    progress: bool = True,
    arms: Sequence[str] = ARMS,
) -> dict:
    """Run ``arms`` for ``seeds``; return (and with ``out`` keep saving) the JSON record.

    Each chunk of seeds is stored as soon as it finishes; rerunning with the same settings resumes.
    """
    arms = list(arms)
    if not arms or any(a not in ARMS for a in arms) or len(set(arms)) != len(arms):
        raise ValueError(f"arms must be distinct names among {', '.join(ARMS)}, got {arms}")
    seeds = [int(s) for s in check_seeds(seeds)]
    patches, blocks, evaluator = make_data(dataset, config)
    identity = {"config": dataclasses.asdict(config), "data_sha256": data_fingerprint(patches)}
    record = Record.open(out, EXPERIMENT, identity, "arms", unit_checker(config), ARMS)
    record.data["data_source"] = patches.source
    make_params = make_params_fn(patches, config)
    initial = jax.jit(jax.vmap(lambda s: evaluator(make_params(jax.random.split(jax.random.key(s))[0]), None)))
    for arm in arms:
        entry = record.group(arm)
        todo = [s for s in seeds if s not in record.finished(arm)]
        if todo:
            _run_arm(arm, config, blocks, evaluator, make_params, initial, record, todo, chunk_size, progress)
        entry["summary"] = summarize_arm([entry["runs"][str(s)] for s in seeds])
        entry["summary_seeds"] = seeds
    record.data["seeds"] = seeds
    record.save()
    return record.data


class WithDictionary(eqx.Module):
    """An evaluator that also returns the dictionary, so a run's final features can be stored."""

    evaluator: DictionaryEvaluator

    def __call__(self, phi, key):
        return self.evaluator(phi, key), phi


def _run_arm(arm, config, blocks, evaluator, make_params, initial, record, seeds, chunk_size, progress) -> None:
    """Run one arm for ``seeds``, storing and saving each chunk's results as it finishes."""
    phase, hparams = arm_setup(arm, config)

    def entries(chunk_seeds, result):
        evaluations, dictionaries = result.evaluation
        diverged = ~np.isfinite(np.asarray(dictionaries)).all(axis=tuple(range(1, dictionaries.ndim)))
        if diverged.any():
            seeds_out = ", ".join(str(int(s)) for s in np.asarray(chunk_seeds)[diverged])
            raise ValueError(
                f"the dictionary of arm {arm} diverged (features grew to inf or NaN) for seed(s) {seeds_out}; "
                f"lower --eta (now {config.eta}) or shorten the run"
            )
        start = jax.tree.map(np.asarray, initial(jnp.asarray(chunk_seeds, jnp.uint32)))
        out = []
        for i in range(len(chunk_seeds)):
            first = trajectory(jax.tree.map(lambda a, i=i: a[i : i + 1], start))
            later = trajectory(jax.tree.map(lambda a, i=i: a[i], evaluations))
            out.append(
                {
                    "trajectories": {k: np.concatenate([first[k], later[k]]).tolist() for k in TRAJECTORIES},
                    "final_norms": evaluations.norms[i, -1].tolist(),
                    "final_dictionary": np.round(dictionaries[i, -1], 5).tolist(),
                }
            )
        return out

    run_and_store(
        record,
        arm,
        seeds,
        entries,
        phase=phase,
        make_params=make_params,
        tasks=blocks,
        evaluate=WithDictionary(evaluator),
        hparams=hparams,
        chunk_size=chunk_size,
        progress=progress,
    )


def sweep(
    dataset: Dataset,
    frequencies: Sequence[float],
    levels: Sequence[float],
    config: Config = Config(),
    seed: int = 0,
) -> dict:
    """Sinusoidal sleep over a ``frequencies`` x ``levels`` grid (offset = amplitude = level), one seed.

    All settings run in one compiled program, vmapped over the sleep hyperparameters (the same seed,
    hence the same initial dictionary, data order and noise keys, for every setting). Returns the
    grid and each final metric as a ``(len(frequencies), len(levels))`` nested list.
    """
    if not frequencies or not levels or min(frequencies) < 0 or min(levels) < 0:
        raise ValueError("--sweep-freq and --sweep-amp need non-empty lists of non-negative numbers")
    patches, blocks, evaluator = make_data(dataset, config)
    phase, hparams = arm_setup("sinusoidal_sleep", config)
    f_grid, a_grid = np.meshgrid(np.asarray(frequencies, float), np.asarray(levels, float), indexing="ij")
    settings = config.sleep_hparams(f_grid.ravel(), a_grid.ravel(), a_grid.ravel())
    n = f_grid.size
    batched = jax.tree.map(lambda v: np.broadcast_to(np.asarray(v, np.float32), (n,) + np.shape(v)), hparams)
    batched["sleep"] = jax.tree.map(lambda v: np.broadcast_to(np.asarray(v, np.float32), (n,)), settings)
    result = run_batch(phase, make_params_fn(patches, config), blocks, evaluator, batched, [seed] * n, chunk_size=n)
    final = trajectory(jax.tree.map(lambda a: a[:, -1], result.evaluation))
    shape = f_grid.shape
    # A setting whose dictionary grew to inf or NaN is a result of the sweep (where sleep fails), not an
    # error: its metrics are stored as null (JSON has no inf/NaN) and it is flagged as diverged.
    diverged = ~np.all([np.isfinite(v) for v in final.values()], axis=0)
    return {
        "seed": seed,
        "frequencies": [float(f) for f in frequencies],
        "levels": [float(a) for a in levels],
        "final": {k: np.where(diverged, None, v).reshape(shape).tolist() for k, v in final.items()},
        "diverged": diverged.reshape(shape).tolist(),
    }


def format_results(record: dict) -> str:
    """Final values per arm, mean ± SD over seeds."""
    rows = [["arm", "seeds", "max norm", "mean norm", "noise-fire %", "recon error", "active %"]]
    for arm in ARMS:
        entry = record["arms"].get(arm)
        if not entry or "summary" not in entry:
            continue
        s = entry["summary"]

        def c(name, scale=1.0, digits=2, s=s):
            return f"{scale * s[name]['mean']:.{digits}f} ± {scale * s[name]['sd']:.{digits}f}"

        rows.append(
            [
                arm,
                str(len(entry["summary_seeds"])),
                c("final_max_norm"),
                c("final_mean_norm"),
                c("noise_fire_fraction", 100, 1),
                c("recon_error", 1, 3),
                c("sparsity", 100, 1),
            ]
        )
    return format_table(rows)


def format_sweep(result: dict) -> str:
    """Final mean norm / noise-fire % / recon error for each setting of a sweep."""
    rows = [["frequency (Hz)", "level", "mean norm", "noise-fire %", "recon error"]]
    final = result["final"]
    for i, f in enumerate(result["frequencies"]):
        for j, a in enumerate(result["levels"]):
            if final["mean_norm"][i][j] is None:
                rows.append([f"{f:g}", f"{a:g}", "diverged", "-", "-"])
                continue
            rows.append(
                [
                    f"{f:g}",
                    f"{a:g}",
                    f"{final['mean_norm'][i][j]:.2f}",
                    f"{100 * final['noise_fire_fraction'][i][j]:.1f}",
                    f"{final['recon_error'][i][j]:.3f}",
                ]
            )
    return format_table(rows)
