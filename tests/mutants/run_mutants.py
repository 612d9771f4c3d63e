"""Check that the test suite catches real mistakes: apply hand-made mutants and see which survive.

Each mutant is one deliberate mistake in the source (a text replacement, ``old`` -> ``new``, in one
file) together with the tests that ought to catch it. For every mutant the script copies the
repository into a scratch directory, applies the mutation there (the checkout is never touched),
runs the chosen tests against the copy, and reports the mutant as killed (the tests failed) or as a
SURVIVOR (they all passed: a mistake the suite would let through). The unmutated code must pass the
same tests first, and every ``old`` text must occur exactly once, so a mutant cannot go stale
silently after a refactor.

Not part of the normal pytest run (it runs the chosen tests once per mutant). From the repository root:

    python tests/mutants/run_mutants.py            # every mutant
    python tests/mutants/run_mutants.py --list     # names and the mistakes they stand for
    python tests/mutants/run_mutants.py data-no-size-bound metrics-bwt-counts-last-task
    python tests/mutants/run_mutants.py --only record-    # the mutants whose names start so

The tests of each mutant are the few that should catch it (test files or single tests), so that the
whole list runs in minutes.

Exit status: 0 when every mutant was killed, 1 when some survived, 2 for a broken mutant or a failing
baseline.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
COPY_IGNORE = shutil.ignore_patterns(
    ".git", ".venv", "__pycache__", ".pytest_cache", ".ruff_cache", "build", "*.egg-info"
)


@dataclasses.dataclass(frozen=True)
class Mutant:
    """One deliberate mistake: replace ``old`` (which must occur once) by ``new`` in ``file``."""

    name: str
    file: str
    old: str
    new: str
    mistake: str
    tests: tuple[str, ...]


DATA_TESTS = ("tests/test_data.py",)
METRICS_TESTS = ("tests/test_metrics.py",)


def data(
    name: str, old: str, new: str, mistake: str, tests: tuple[str, ...] = DATA_TESTS, module: str = "_datasets"
) -> Mutant:
    """A mutant of the data loaders: ``module`` is ``_datasets``, ``_idx`` (the idx format) or ``_tfds``."""
    return Mutant(name, f"sleepjax/{module}.py", old, new, mistake, tests)


def metrics(name: str, old: str, new: str, mistake: str) -> Mutant:
    return Mutant(name, "sleepjax/_metrics.py", old, new, mistake, METRICS_TESTS)


PHASE = "tests/test_src_phase.py::"
MEAN_TESTS = (PHASE + "test_sleep_is_driven_by_the_exact_mean_of_seen_inputs",)
MAXIMA_TESTS = (PHASE + "test_normalisation_uses_seen_tasks_only",)
LENGTH_TESTS = (PHASE + "test_sleep_length_follows_task_index_and_schedule",)
NORMALIZE_TESTS = (
    "tests/test_src_normalization.py",
    "tests/test_src.py::test_layer_factors_hand_built_network",
    "tests/test_src.py::test_max_activations_uses_test_mode_dropout_scaling",
)
RECORD_TESTS = ("tests/test_record.py",)
INTERRUPT_TESTS = ("tests/test_interrupt.py",)
CLI = "tests/test_cli.py::"
ORDERS = "tests/test_tune_orders.py::"
SYNTAX_TESTS = (CLI + "test_bad_argument_syntax_exits_2_with_the_flag",)
SETTINGS_TESTS = (CLI + "test_bad_settings_are_refused_before_anything_runs",)
RESUME_TESTS = (CLI + "test_rerun_resumes_finished_seeds",)


def src_phase(name: str, old: str, new: str, mistake: str, tests: tuple[str, ...]) -> Mutant:
    return Mutant(name, "sleepjax/_sleep/mlp.py", old, new, mistake, tests)


def normalize(name: str, old: str, new: str, mistake: str) -> Mutant:
    return Mutant(name, "sleepjax/_sleep/normalize.py", old, new, mistake, NORMALIZE_TESTS)


def record(name: str, old: str, new: str, mistake: str, path: str = "sleepjax/app/records.py", tests=()) -> Mutant:
    return Mutant(name, path, old, new, mistake, RECORD_TESTS + tuple(tests))


def interrupt(name: str, old: str, new: str, mistake: str) -> Mutant:
    return Mutant(name, "sleepjax/app/interrupt.py", old, new, mistake, INTERRUPT_TESTS)


def cli(name: str, old: str, new: str, mistake: str, tests: tuple[str, ...]) -> Mutant:
    return Mutant(name, "sleepjax/app/cli.py", old, new, mistake, tests)


def split_mnist(name: str, old: str, new: str, mistake: str, tests: tuple[str, ...]) -> Mutant:
    return Mutant(name, "sleepjax/app/split_mnist.py", old, new, mistake, tests)


REG = "tests/test_methods_regularizers.py::"
MEM = "tests/test_methods_memory.py::"
RUNS = "tests/test_methods_runs.py::"


def method(name: str, module: str, old: str, new: str, mistake: str, tests: tuple[str, ...]) -> Mutant:
    return Mutant(name, f"sleepjax/methods/{module}.py", old, new, mistake, tests)


MUTANTS = (
    # --- sleepjax/data.py: idx files -------------------------------------------------------------
    data(
        "data-no-size-bound",
        "if expected_len > MAX_IDX_PAYLOAD_BYTES:",
        "if False:",
        "a header promising terabytes is not refused up front",
        module="_idx",
    ),
    data(
        "data-int64-size",
        "expected_len = math.prod(dims)",
        "expected_len = int(np.prod(dims))",
        "the promised size computed in int64, which wraps for absurd headers",
        module="_idx",
    ),
    data(
        "data-unbounded-read",
        "payload = _read_at_most(f, expected_len + 1)",
        "payload = f.read()",
        "the whole (possibly gigabytes) stream is read, whatever the header promises",
        module="_idx",
    ),
    data(
        "data-chunk-ignores-remaining",
        "chunk = f.read(min(remaining, _READ_CHUNK_BYTES))",
        "chunk = f.read(_READ_CHUNK_BYTES)",
        "bounded reads overshoot what was asked for",
        module="_idx",
    ),
    data(
        "data-no-truncation-check",
        "if len(payload) < expected_len:",
        "if False:",
        "a truncated payload is not reported by name",
        module="_idx",
    ),
    data(
        "data-no-trailing-check",
        "if len(payload) > expected_len:",
        "if False:",
        "data after the promised payload is not reported by name",
        module="_idx",
    ),
    data(
        "data-no-shape-check",
        "if shape is not None and (",
        "if False and (",
        "the header is not checked against the expected shape",
        module="_idx",
    ),
    data(
        "data-rank-only-shape-check",
        "any(want is not None and d != want for d, want in zip(dims, shape))",
        "False",
        "images of any size pass as long as the rank is right (32x32 accepted as MNIST)",
        module="_idx",
    ),
    data(
        "data-no-negative-dim-check",
        "if any(d < 0 for d in dims):",
        "if False:",
        "negative header dimensions are not reported",
        module="_idx",
    ),
    data(
        "data-unsigned-dims",
        'int.from_bytes(dims_bytes[i : i + 4], "big", signed=True)',
        'int.from_bytes(dims_bytes[i : i + 4], "big", signed=False)',
        "header dimensions read unsigned, as idx int32 fields are not",
        module="_idx",
    ),
    data(
        "data-no-empty-message",
        "if not head:",
        "if False:",
        "an empty file is reported as a truncated header",
        module="_idx",
    ),
    data(
        "data-no-directory-check",
        "if path.is_dir():",
        "if False:",
        "a directory named like an idx file gives an OS error instead of saying so",
        module="_idx",
    ),
    data(
        "data-directory-counts-as-missing",
        "existing = [p for p in candidates if p.exists()]",
        "existing = [p for p in candidates if p.is_file()]",
        "a directory named like an idx file is reported as a missing file",
        module="_idx",
    ),
    data(
        "data-permission-as-generic-error",
        "except PermissionError:",
        "except NotImplementedError:",
        "an unreadable file is not reported as a permission problem",
        module="_idx",
    ),
    data(
        "data-label-off-by-one",
        'if kind == "labels" and array.max() >= NUM_CLASSES:',
        'if kind == "labels" and array.max() > NUM_CLASSES:',
        "label 10 accepted as a digit",
        module="_idx",
    ),
    data(
        "data-no-empty-split-check",
        "if len(array) == 0:",
        "if False:",
        "a file with no examples is not reported by name",
        module="_idx",
    ),
    data(
        "data-no-count-mismatch-check",
        "if len(arrays[i]) != len(arrays[i + 1]):",
        "if False:",
        "an image file and its label file may disagree in length",
        module="_idx",
    ),
    data(
        "data-npz-dtype-unchecked",
        "if want_images and (array.dtype != np.uint8 or array.shape[1:] != (28, 28)):",
        "if want_images and array.shape[1:] != (28, 28):",
        "float images in an npz are silently cast to uint8",
    ),
    data(
        "data-npz-shape-unchecked",
        "if want_images and (array.dtype != np.uint8 or array.shape[1:] != (28, 28)):",
        "if want_images and array.dtype != np.uint8:",
        "npz images of any shape are flattened without a word",
    ),
    data(
        "data-npz-float-labels",
        'if not want_images and array.dtype.kind not in "iu":',
        "if False:",
        "float labels in an npz are silently truncated to integers",
    ),
    data(
        "data-npz-npy-accepted",
        "if isinstance(loaded, np.lib.npyio.NpzFile) else None",
        "if True else None",
        "a single .npy array under the bundle's name fails with an AttributeError",
    ),
    data(
        "data-npz-value-error-unnamed",
        'raise DataError(f"{resource}: {e}") from None',
        "raise",
        "a bad array in the npz is reported without naming the file",
    ),
    # --- sleepjax/metrics.py ------------------------------------------------------------------------
    metrics(
        "metrics-chaudhry-is-since-learned",
        "return _forgetting(r, since_learned=False)",
        "return _forgetting(r, since_learned=True)",
        "Chaudhry's forgetting skips the rows before the task was learned",
    ),
    metrics(
        "metrics-since-learned-is-chaudhry",
        "return _forgetting(r, since_learned=True)",
        "return _forgetting(r, since_learned=False)",
        "forgetting since learning counts the rows before the task was learned",
    ),
    metrics(
        "metrics-forgetting-counts-final-row",
        "counted = rows <= t - 2",
        "counted = rows <= t - 1",
        "the final row is part of the maximum (forgetting can then never be negative)",
    ),
    metrics(
        "metrics-forgetting-skips-row-T-2",
        "counted = rows <= t - 2",
        "counted = rows <= t - 3",
        "the maximum stops one row early",
    ),
    metrics(
        "metrics-since-learned-skips-diagonal",
        "counted = counted & (rows >= cols)",
        "counted = counted & (rows > cols)",
        "forgetting since learning ignores the accuracy just after learning",
    ),
    metrics(
        "metrics-forgetting-clipped-at-zero",
        "return (best[..., : t - 1] - r[..., -1, : t - 1]).mean(axis=-1)",
        "return np.maximum(best - r[..., -1, :], 0)[..., : t - 1].mean(axis=-1)",
        "forgetting clipped at 0 per task, hiding positive backward transfer",
    ),
    metrics(
        "metrics-bwt-counts-last-task",
        "return (r[..., -1, : t - 1] - diag[..., : t - 1]).mean(axis=-1)",
        "return (r[..., -1, :] - diag).mean(axis=-1)",
        "BWT averages over the last task too (a zero term that dilutes it)",
    ),
    metrics(
        "metrics-average-is-diagonal",
        "return _check(r)[..., -1, :].mean(axis=-1)",
        "return np.diagonal(_check(r), axis1=-2, axis2=-1).mean(axis=-1)",
        "average accuracy taken just after learning instead of at the end",
    ),
    metrics(
        "metrics-overall-unweighted",
        "return (final_row * sizes).sum(axis=-1) / total",
        "return final_row.mean(axis=-1)",
        "overall accuracy ignores the sizes of the test sets",
    ),
    metrics(
        "metrics-overall-empty-is-nan",
        "if total == 0:",
        "if False:",
        "pooled accuracy with no test examples returns NaN with a warning",
    ),
    metrics(
        "metrics-overall-no-shape-check",
        "if sizes.ndim != 1 or final_row.shape[-1:] != sizes.shape:",
        "if False:",
        "sizes that do not match the final row are broadcast or fail obscurely",
    ),
    metrics(
        "metrics-overall-negative-sizes",
        "if not np.all((sizes >= 0) & np.isfinite(sizes)):",
        "if False:",
        "negative or infinite test-set sizes are used as weights",
    ),
    metrics(
        "metrics-nan-passes",
        "if not np.all((a >= 0.0) & (a <= 1.0)):",
        "if np.any((a < 0.0) | (a > 1.0)):",
        "the range check written so that NaN passes it",
    ),
    metrics(
        "metrics-percentages-pass",
        "if not np.all((a >= 0.0) & (a <= 1.0)):",
        "if not np.all((a >= 0.0) & (a <= 100.0)):",
        "accuracies in percent accepted as fractions",
    ),
    metrics(
        "metrics-no-square-check",
        "if r.ndim < 2 or r.shape[-1] != r.shape[-2]:",
        "if r.ndim < 2:",
        "a non-square accuracy matrix is accepted",
    ),
    metrics(
        "metrics-fwt-uses-diagonal",
        "above_diag = np.stack([r[..., j - 1, j] for j in range(1, t)], axis=-1)",
        "above_diag = np.stack([r[..., j, j] for j in range(1, t)], axis=-1)",
        "FWT measured after training the task instead of just before",
    ),
    metrics(
        "metrics-fwt-baseline-unchecked",
        "if baseline.shape[-1:] != (t,):",
        "if False:",
        "a baseline of the wrong length is broadcast or fails obscurely",
    ),
    metrics(
        "metrics-fwt-baseline-not-validated",
        'baseline = _accuracies("baseline", baseline)',
        "baseline = np.asarray(baseline, dtype=np.float64)",
        "a NaN baseline accuracy passes into FWT",
    ),
    # --- sleepjax/data.py: TensorFlow Datasets and the environment variable -----------------------
    data(
        "data-tfds-no-reachability-check",
        '_check_reachable(TFDS_MNIST_HOST, connect_timeout, "MNIST" if name == "mnist" else repr(name))',
        "pass",
        "without a network TFDS retries its download for minutes and ends in a traceback",
        ("tests/test_data.py::test_tfds_without_network_is_one_line_naming_the_source",),
        module="_tfds",
    ),
    data(
        "data-tfds-probe-unbounded",
        "thread.join(timeout)",
        "thread.join()",
        "the reachability check waits for a lookup or connect that hangs",
        ("tests/test_data.py::test_reachability_check_is_bounded",),
        module="_tfds",
    ),
    data(
        "data-tfds-failure-traceback",
        "except Exception as e:  # TFDS",
        "except ZeroDivisionError as e:  # TFDS",
        "a broken TFDS installation ends in a traceback",
        ("tests/test_data.py::test_any_tfds_failure_is_one_line_naming_the_source",),
        module="_tfds",
    ),
    data(
        "data-env-dir-unnamed",
        'raise DataError(f"${DATA_DIR_ENV}: {err}") from None',
        "raise",
        "a missing directory from $SLEEPJAX_DATA_DIR is reported without saying where the path came from",
        ("tests/test_data.py::test_missing_directory_from_the_environment_names_the_variable",),
    ),
    data(
        "data-bundled-ignores-data-dir",
        '        if data_dir is not None:\n            raise ValueError(\n                "--data-dir cannot',
        '        if False:\n            raise ValueError(\n                "--data-dir cannot',
        "--data-dir is silently ignored with --source bundled",
        ("tests/test_data.py::test_data_dir_with_bundled_source_is_refused",),
    ),
    # --- sleepjax/sleep/mlp.py: the SRC phase -------------------------------------------------------
    src_phase(
        "src-mean-over-all-tasks",
        "mean_input = total / (seen * history.shape[1])",
        "mean_input = history.mean(axis=(0, 1))",
        "the mean image includes tasks not yet seen",
        MEAN_TESTS,
    ),
    src_phase(
        "src-mean-not-divided-by-tasks",
        "mean_input = total / (seen * history.shape[1])",
        "mean_input = total / history.shape[1]",
        "the mean image is summed over the seen tasks instead of averaged",
        MEAN_TESTS,
    ),
    src_phase(
        "src-mean-divided-by-all-tasks",
        "mean_input = total / (seen * history.shape[1])",
        "mean_input = total / (history.shape[0] * history.shape[1])",
        "the mean image is divided by the number of all tasks, seen or not",
        MEAN_TESTS,
    ),
    src_phase(
        "src-maxima-over-all-tasks",
        "total, maxima = lax.fori_loop(0, seen, accumulate, zeros)",
        "total, maxima = lax.fori_loop(0, seen, accumulate, zeros)\n"
        "        maxima = max_activations(forward, history.reshape(-1, history.shape[-1]))",
        "the normalisation uses tasks not yet seen",
        MAXIMA_TESTS,
    ),
    src_phase(
        "src-sees-next-task",
        "seen = task.index + 1",
        "seen = task.index + 2",
        "the statistics include the next task",
        MEAN_TESTS,
    ),
    src_phase(
        "src-maxima-summed",
        "jnp.maximum(maxima, max_activations(forward, x))",
        "maxima + max_activations(forward, x)",
        "layer maxima summed over tasks instead of max'ed",
        MAXIMA_TESTS,
    ),
    src_phase(
        "src-length-ignores-task-index",
        "steps = sleep_steps(task.index, hparams.base_steps, hparams.steps_per_task)",
        "steps = sleep_steps(0, hparams.base_steps, hparams.steps_per_task)",
        "every sleep is as long as the first",
        LENGTH_TESTS,
    ),
    src_phase(
        "src-length-ignores-schedule",
        "steps = sleep_steps(task.index, hparams.base_steps, hparams.steps_per_task)",
        "steps = sleep_steps(task.index)",
        "the sleep length ignores the schedule hyperparameters (always 15000 + k * 5000)",
        LENGTH_TESTS,
    ),
    src_phase(
        "src-length-schedule-swapped",
        "steps = sleep_steps(task.index, hparams.base_steps, hparams.steps_per_task)",
        "steps = sleep_steps(task.index, hparams.steps_per_task, hparams.base_steps)",
        "base and per-task sleep lengths swapped",
        LENGTH_TESTS,
    ),
    src_phase(
        "src-length-one-task-late",
        "steps = sleep_steps(task.index, hparams.base_steps, hparams.steps_per_task)",
        "steps = sleep_steps(task.index + 1, hparams.base_steps, hparams.steps_per_task)",
        "the sleep after task k is as long as the reference's after task k + 1",
        LENGTH_TESTS,
    ),
    # --- sleepjax/foraging/environment.py: the kinds of the particles placed -------------------------
    Mutant(
        "foraging-kind-redrawn-with-anchor",
        "sleepjax/foraging/environment.py",
        "    def body(carry):\n"
        "        key, _, _ = carry\n"
        "        key, k = jax.random.split(key)\n"
        "        anchor = jax.random.randint(k, (2,), 0, size, jnp.int32)\n"
        "        return key, anchor, _fits(anchor, kind, world.anchors, world.kinds, others, world.agent, size)\n"
        "\n"
        "    start = (key, world.anchors[index], jnp.logical_not(needed))\n"
        "    _, anchor, _ = lax.while_loop(cond, body, start)\n",
        "    def body(carry):\n"
        "        key, _, _ = carry\n"
        "        key, k, k2 = jax.random.split(key, 3)\n"
        "        anchor = jax.random.randint(k, (2,), 0, size, jnp.int32)\n"
        "        kind = jax.random.choice(k2, 4, p=_kind_probabilities(present)).astype(jnp.int32)\n"
        "        fits = _fits(anchor, kind, world.anchors, world.kinds, others, world.agent, size)\n"
        "        return key, jnp.append(anchor, kind), fits\n"
        "\n"
        "    start = (key, jnp.append(world.anchors[index], world.kinds[index]), jnp.logical_not(needed))\n"
        "    _, placed, _ = lax.while_loop(cond, body, start)\n"
        "    anchor, kind = placed[:2], placed[2]\n",
        "the kind is drawn again with every rejected anchor, favouring the kinds that fit more easily",
        ("tests/test_foraging_environment.py::test_present_kinds_are_equally_common",),
    ),
    # --- sleepjax/foraging/network.py: spontaneous noise on the outputs ------------------------------
    Mutant(
        "foraging-noise-never-added",
        "sleepjax/foraging/network.py",
        "excitation(release, draws, t) + hp.w_noise * spont.astype(dtype)",
        "excitation(release, draws, t)",
        "the output noise is drawn but never reaches the outputs",
        ("tests/test_foraging_agent.py::test_output_noise_off_is_unchanged_and_on_fires_outputs_without_input",),
    ),
    Mutant(
        "foraging-noise-asleep",
        "sleepjax/foraging/network.py",
        "hp.noise_rate if sleep_rate is None else 0.0",
        "hp.noise_rate",
        "the awake-only output noise also drives the outputs asleep",
        ("tests/test_foraging_agent.py::test_output_noise_off_is_unchanged_and_on_fires_outputs_without_input",),
    ),
    # --- sleepjax/spiking/stdp.py: all-pairs STDP -------------------------------------------------------
    Mutant(
        "stdp-all-pairs-never-leave",
        "sleepjax/spiking/stdp.py",
        "x = decay * (x + spikes.astype(x.dtype) - leaving * old.astype(x.dtype))",
        "x = decay * (x + spikes.astype(x.dtype))",
        "a spike never leaves the window: pairs further apart than 60 ms still count",
        (
            "tests/test_spiking_primitives.py::test_stdp_pair_traces_by_hand",
            "tests/test_spiking_primitives.py::test_all_pairs_equals_every_pair_within_the_window_summed_by_hand",
        ),
    ),
    Mutant(
        "stdp-all-pairs-window-one-short",
        "sleepjax/spiking/stdp.py",
        "    return int(params.window_ms / params.dt_ms + 1e-9)",
        "    return int(params.window_ms / params.dt_ms + 1e-9) - 1",
        "the windowed sum drops a spike one step before the window's end",
        ("tests/test_spiking_primitives.py::test_stdp_pair_traces_by_hand",),
    ),
    Mutant(
        "stdp-all-pairs-last-spike-only",
        "sleepjax/spiking/stdp.py",
        "x = decay * (x + spikes.astype(x.dtype) - leaving * old.astype(x.dtype))",
        "x = decay * jnp.where(spikes, 1.0, x - leaving * old.astype(x.dtype))",
        "a new spike replaces the windowed sum instead of adding to it (nearest pairing again)",
        (
            "tests/test_spiking_primitives.py::test_stdp_pairings_differ_on_two_pre_spikes",
            "tests/test_spiking_primitives.py::test_independent_trains_leave_no_all_pairs_trace_but_a_nearest_one",
        ),
    ),
    Mutant(
        "foraging-pairing-ignored",
        "sleepjax/foraging/network.py",
        "pair_step = PAIRING_RULES[config.pairing].step",
        'pair_step = PAIRING_RULES["nearest"].step',
        "NetConfig.pairing is accepted but the network always pairs nearest spikes",
        ("tests/test_foraging_agent.py::test_pairing_changes_only_the_trace_and_all_pairs_removes_the_rate_bias",),
    ),
    Mutant(
        "foraging-pairing-not-in-identity",
        "sleepjax/app/foraging.py",
        '            "pairing": self.pairing,\n',
        "",
        "the STDP pairing is left out of the record's identity, so a record made with the other pairing resumes",
        ("tests/test_foraging_protocol.py::test_other_settings_are_refused",),
    ),
    Mutant(
        "foraging-weight-floor-ignored",
        "sleepjax/foraging/agent.py",
        "    w = jnp.maximum(w, hp.w_floor * hp.out_total / config.n_hidden)\n",
        "    w = jnp.maximum(w, 0.0)\n",
        "w_floor is accepted but a drained weight still stays at 0",
        ("tests/test_foraging_agent.py::test_weight_floor_keeps_a_drained_detector_learnable",),
    ),
    Mutant(
        "foraging-weight-floor-after-rescaling",
        "sleepjax/foraging/agent.py",
        "    w = scale_inputs(w, target)\n",
        "    w = jnp.maximum(scale_inputs(w, target), hp.w_floor * hp.out_total / config.n_hidden)\n",
        "the bound is applied after the rescaling, so the outputs' summed inputs miss their targets",
        ("tests/test_foraging_agent.py::test_weight_floor_keeps_a_drained_detector_learnable",),
    ),
    Mutant(
        "foraging-sleep-ratio-not-passed",
        "sleepjax/foraging/agent.py",
        ", hp.sleep_ratio, asleep=True\n",
        ", asleep=True\n",
        "sleep_ratio is accepted but sleep still uses the factor W_i0 / W_i as written",
        ("tests/test_foraging_agent.py::test_sleep_ratio_is_the_exponent_of_the_presynaptic_factor",),
    ),
    Mutant(
        "foraging-sleep-gain-ignored",
        "sleepjax/foraging/agent.py",
        "return hp.sleep_gain * awake",
        "return awake",
        "sleep_gain is accepted but the drive stays at the awake rates",
        ("tests/test_foraging_agent.py::test_sleep_gain_multiplies_the_drive_rates",),
    ),
    Mutant(
        "foraging-sleep-gain-replay-only",
        "sleepjax/foraging/agent.py",
        "jnp.mean(awake)) if uniform",
        "jnp.mean(awake)) / hp.sleep_gain if uniform",
        "the uniform-noise control is not scaled by sleep_gain",
        ("tests/test_foraging_agent.py::test_sleep_gain_multiplies_the_drive_rates",),
    ),
    Mutant(
        "foraging-own-sleep-norm-ignored",
        "sleepjax/foraging/agent.py",
        "return jnp.asarray(hp.own_sleep_norm) > 0",
        "return jnp.asarray(hp.own_sleep_norm) > 1",
        "own_sleep_norm 1 still divides sleep by the shared average",
        ("tests/test_foraging_agent.py::test_own_sleep_norm_keeps_a_separate_average_for_sleep",),
    ),
    Mutant(
        "foraging-sleep-norm-starts-at-zero",
        "sleepjax/foraging/agent.py",
        "jnp.where(agent.sleep_norm > 0, agent.sleep_norm, activity)",
        "agent.sleep_norm",
        "sleep's own average starts from 0, so the first sleep updates divide by ~1e-6",
        ("tests/test_foraging_agent.py::test_own_sleep_norm_keeps_a_separate_average_for_sleep",),
    ),
    Mutant(
        "foraging-sleep-norm-into-wake",
        "sleepjax/foraging/agent.py",
        "trace_norm = jnp.where(own, agent.trace_norm, norm)",
        "trace_norm = norm",
        "sleep's own average is also written into wake's",
        ("tests/test_foraging_agent.py::test_own_sleep_norm_keeps_a_separate_average_for_sleep",),
    ),
    Mutant(
        "foraging-wake-moves-sleep-norm",
        "sleepjax/foraging/agent.py",
        "sleep_norm = jnp.where(own, norm, agent.sleep_norm)",
        "sleep_norm = jnp.where(own | (agent.sleep_norm > 0), norm, agent.sleep_norm)",
        "a wake update also moves sleep's average",
        ("tests/test_foraging_agent.py::test_own_sleep_norm_keeps_a_separate_average_for_sleep",),
    ),
    Mutant(
        "foraging-sleep-not-asleep",
        "sleepjax/foraging/agent.py",
        ", hp.sleep_ratio, asleep=True\n",
        ", hp.sleep_ratio\n",
        "the sleep phase does not mark its updates as sleep's, so it uses wake's average",
        ("tests/test_foraging_agent.py::test_own_sleep_norm_keeps_a_separate_average_for_sleep",),
    ),
    Mutant(
        "eligibility-ratio-power-inverted",
        "sleepjax/spiking/eligibility.py",
        "(w_out0 / jnp.where(alive, w_out, 1.0)) ** ratio_power",
        "(w_out0 / jnp.where(alive, w_out, 1.0)) ** (1.0 - ratio_power)",
        "the exponent acts the wrong way round: p 1 drops the factor and p 0 keeps it",
        ("tests/test_foraging_agent.py::test_sleep_ratio_is_the_exponent_of_the_presynaptic_factor",),
    ),
    # --- sleepjax/spiking/eligibility.py: a vanishing presynaptic neuron -------------------------------
    Mutant(
        "eligibility-vanishing-neuron-alive",
        "sleepjax/spiking/eligibility.py",
        "return w_out > w_out0 * jnp.finfo(w_out.dtype).eps",
        "return w_out > 0",
        "a neuron whose summed output is nearly 0 keeps W_0 / W_i, which overflows to inf and then NaN",
        ("tests/test_spiking_primitives.py::test_rewarded_update_of_a_vanishing_neuron_stays_finite",),
    ),
    Mutant(
        "foraging-nan-weights-stored",
        "sleepjax/app/foraging.py",
        "        if broken.any():\n",
        "        if False:\n",
        "a trial whose weights became NaN is stored as if it were a result",
        ("tests/test_foraging_protocol.py::test_weights_that_blow_up_stop_the_run_naming_the_condition",),
    ),
    # --- sleepjax/foraging/network.py: the wired particle detectors (Hparams.wired) -----------------
    Mutant(
        "foraging-constant-added-records-stale",
        "sleepjax/foraging/constants.py",
        "    wired: float = 0.0\n",
        "    wired: float = 0.0\n    added_later: float = 0.0\n",
        "a constant added to Hparams while the committed records (the README's tables) keep the old settings",
        ("tests/test_foraging_protocol.py::test_committed_records_still_match_the_code",),
    ),
    Mutant(
        "foraging-wired-pairs-wrap-rows",
        "sleepjax/foraging/network.py",
        "if 0 <= r + dr < view and 0 <= c + dc < view",
        "if 0 <= r * view + c + dr * view + dc < view * view",
        "a wired pair may run off one row of the view onto the next (two pixels of no particle)",
        ("tests/test_foraging_agent.py::test_wired_detectors_are_particles_and_never_learn",),
    ),
    Mutant(
        "foraging-wired-fan-in-repeats",
        "sleepjax/foraging/network.py",
        "scores = jnp.where(taken, -1.0, jax.random.uniform(key, taken.shape))",
        "scores = jax.random.uniform(key, taken.shape)",
        "a neuron's unweighted synapses may land on its own pair's cells (an input wired twice)",
        ("tests/test_foraging_agent.py::test_wired_detectors_are_particles_and_never_learn",),
    ),
    Mutant(
        "foraging-wired-learns",
        "sleepjax/foraging/agent.py",
        "w = jnp.where(jnp.asarray(hp.wired) > 0, agent.w_in, jnp.minimum(w, hp.w_in_max))",
        "w = jnp.minimum(w, hp.w_in_max)",
        "the unsupervised STDP rewrites the wired detectors",
        ("tests/test_foraging_agent.py::test_wired_detectors_are_particles_and_never_learn",),
    ),
    # --- sleepjax/foraging/agent.py: the sleep drive's mean (rate_avg 0: over every learning cycle) --
    Mutant(
        "foraging-plain-mean-off-by-one",
        "sleepjax/foraging/agent.py",
        "1.0 / learned.astype(rate.dtype)",
        "1.0 / (learned + 1).astype(rate.dtype)",
        "the plain mean of the sleep drive weights the n-th learning cycle by 1/(n+1) (biased towards 0)",
        ("tests/test_foraging_agent.py::test_sleep_drive_is_a_running_or_a_plain_mean_of_the_learning_rates",),
    ),
    Mutant(
        "foraging-plain-mean-never-counts",
        "sleepjax/foraging/agent.py",
        "learned = agent.learned + 1",
        "learned = agent.learned * 0 + 1",
        "the learning cycles are not counted: the plain mean is only the last cycle's rate",
        ("tests/test_foraging_agent.py::test_sleep_drive_is_a_running_or_a_plain_mean_of_the_learning_rates",),
    ),
    Mutant(
        "foraging-running-mean-ignored",
        "sleepjax/foraging/agent.py",
        "jnp.where(jnp.asarray(hp.rate_avg) > 0, hp.rate_avg, 1.0 / learned",
        "jnp.where(jnp.asarray(hp.rate_avg) < 0, hp.rate_avg, 1.0 / learned",
        "rate_avg > 0 is ignored: the sleep drive is always the plain mean",
        ("tests/test_foraging_agent.py::test_sleep_drive_is_a_running_or_a_plain_mean_of_the_learning_rates",),
    ),
    # --- sleepjax/ranges.py: user-given constants ---------------------------------------------------
    Mutant(
        "ranges-open-bound-closed",
        "sleepjax/_ranges.py",
        "(value == self.low and not self.open_low)",
        "(value == self.low)",
        "an open low bound accepts the bound itself (a zero rate where a positive one is needed)",
        ("tests/test_ranges.py",),
    ),
    Mutant(
        "ranges-high-bound-excluded",
        "sleepjax/_ranges.py",
        "(self.high is None or value <= self.high)",
        "(self.high is None or value < self.high)",
        "the high bound refused (a release variability of exactly 1)",
        ("tests/test_ranges.py",),
    ),
    Mutant(
        "ranges-nan-not-named",
        "sleepjax/_ranges.py",
        "if not math.isfinite(value):",
        "if math.isinf(value):",
        "a NaN reported as out of range instead of as not finite",
        ("tests/test_ranges.py", "tests/test_lca_protocol.py::test_bad_config_is_refused"),
    ),
    # --- sleepjax/sleep/normalize.py ----------------------------------------------------------------
    normalize(
        "norm-chain-by-raw-max",
        "previous = applied",
        "previous = scale",
        "the chain divides by the previous layer's raw maximum, not its applied factor",
    ),
    normalize(
        "norm-scale-not-clamped",
        "jnp.maximum(jnp.maximum(w.max(), act_max), 0.0)",
        "jnp.maximum(w.max(), act_max)",
        "a layer with nothing positive gets a negative scale",
    ),
    normalize(
        "norm-maxima-not-clamped",
        "maxima.append(jnp.maximum(per_row.max(), 0.0))",
        "maxima.append(per_row.max())",
        "a layer that never activates reports a negative maximum",
    ),
    normalize(
        "norm-weights-ignored",
        "jnp.maximum(jnp.maximum(w.max(), act_max), 0.0)",
        "jnp.maximum(act_max, 0.0)",
        "the scale ignores the largest weight",
    ),
    normalize(
        "norm-factor-not-inverted",
        "factors.append(1.0 / applied)",
        "factors.append(applied)",
        "the factor is the applied scale instead of its inverse",
    ),
    normalize(
        "norm-mask-ignored",
        "per_row = jnp.where(mask, per_row, 0.0)",
        "per_row = per_row",
        "padding rows count in the maxima",
    ),
    # --- sleepjax/record.py ---------------------------------------------------------------------------
    record(
        "record-identity-unchecked",
        "        if changed:",
        "        if False:",
        "a record made with other settings is resumed",
    ),
    record(
        "record-identity-ignores-missing-keys",
        "                out.append(name)",
        "                pass",
        "a setting present on one side only is not a difference",
    ),
    record(
        "record-environment-overwritten",
        'self.data["environment_history"].append(dict(before, runs_before_change=finished))',
        "pass",
        "a change of versions or backend overwrites the old environment instead of appending it",
    ),
    record(
        "record-environment-not-updated",
        'self.data["environment"] = now',
        "pass",
        "the environment of the resumed session is not recorded",
    ),
    record(
        "record-matrix-range-unchecked",
        "is_number(v) and low <= v <= high",
        "is_number(v)",
        "accuracies outside [0, 1] (e.g. percentages) accepted",
    ),
    record(
        "record-matrix-range-open-top",
        "is_number(v) and low <= v <= high",
        "is_number(v) and low <= v < high",
        "an accuracy of exactly 1 refused",
    ),
    record(
        "record-matrix-range-open-bottom",
        "is_number(v) and low <= v <= high",
        "is_number(v) and low < v <= high",
        "an accuracy of exactly 0 refused",
    ),
    record(
        "record-matrix-rows-unchecked",
        "and len(value) == shape[0]",
        "and True",
        "an accuracy matrix with the wrong number of rows accepted",
    ),
    record(
        "record-unit-check-skipped",
        "                check_unit(group, seed, unit)",
        "                pass",
        "stored runs are not validated (tracebacks later)",
    ),
    record(
        "record-validation-skipped",
        "cls._validate(data, experiment, groups_key, check_unit, groups)",
        "pass",
        "an existing file is used without validation",
    ),
    record(
        "record-unknown-group-accepted",
        "known is None or group in known",
        "True",
        "an arm the experiment does not know is accepted",
    ),
    record(
        "record-seed-key-wraps",
        "int(seed) < 2**32",
        "int(seed) <= 2**32",
        "a run key of 2**32 (seed 0 again once cast) accepted",
    ),
    record(
        "record-seed-key-any-digits",
        "_SEED_KEY.fullmatch(seed) is not None",
        "seed.isdigit()",
        "run keys like '00' (seed 0 under another key) accepted",
    ),
    record(
        "record-predictable-temp",
        'fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")',
        'tmp = f"{path}.tmp"\n    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)',
        "records and tables written through a fixed temporary name that follows a link planted there",
        path="sleepjax/_files.py",
        tests=("tests/test_sweep.py::test_the_table_is_written_atomically_without_following_a_planted_link",),
    ),
    record(
        "record-write-in-place",
        '        with os.fdopen(fd, "wb") as f:\n'
        "            f.write(data)\n"
        "            f.flush()\n"
        "            os.fsync(f.fileno())\n"
        "        os.replace(tmp, path)",
        "        os.close(fd)\n"
        "        Path(tmp).unlink()\n"
        '        with open(path, "wb") as f:\n'
        "            f.write(data)\n"
        "            f.flush()\n"
        "            os.fsync(f.fileno())",
        "the record is rewritten in place: a write that fails half way destroys the finished runs",
        path="sleepjax/_files.py",
    ),
    record(
        "record-failed-write-leaves-temp",
        "Path(tmp).unlink(missing_ok=True)",
        "pass",
        "a failed write leaves its temporary file behind",
        path="sleepjax/_files.py",
    ),
    record(
        "record-no-size-bound",
        "if len(raw) > MAX_RECORD_BYTES:",
        "if False:",
        "a huge file is parsed whole",
    ),
    record(
        "record-deep-json-traceback",
        "except RecursionError:",
        "except ZeroDivisionError:",
        "deeply nested JSON ends in a RecursionError traceback",
    ),
    record(
        "record-dangling-link-followed",
        "if not target.exists():",
        "if False:",
        "a dangling link as --out is followed (creating the directories it names)",
    ),
    record(
        "record-special-file-accepted",
        "if path.exists() and not path.is_file():",
        "if False:",
        "a FIFO or device as --out is read",
    ),
    record(
        "record-directory-accepted",
        "    if path.is_dir():",
        "    if False:",
        "a directory as --out is accepted and fails at the first save",
    ),
    record(
        "record-save-error-raw",
        "        except OSError as err:\n            kept =",
        "        except ZeroDivisionError as err:\n            kept =",
        "a failed save is a bare OS error that names neither the file nor what it holds",
    ),
    record(
        "record-save-claims-unsaved",
        'f"it still holds {self._saved}"',
        'f"it still holds {self.describe()}"',
        "a failed save claims the file holds the runs it could not write",
    ),
    # --- sleepjax/interrupt.py ------------------------------------------------------------------------
    interrupt(
        "interrupt-first-ctrl-c-stops-at-once",
        "def _on_sigint(signum, frame):\n    _requested.set()",
        "def _on_sigint(signum, frame):\n    raise KeyboardInterrupt",
        "the first Ctrl-C throws away the run in progress",
    ),
    interrupt(
        "interrupt-second-ctrl-c-ignored",
        "    signal.signal(signal.SIGINT, signal.default_int_handler)\n",
        "",
        "a second Ctrl-C cannot stop the run at once",
    ),
    interrupt(
        "interrupt-handler-not-restored",
        "signal.signal(signal.SIGINT, previous)",
        "pass",
        "the Ctrl-C handler outlives the run",
    ),
    interrupt(
        "interrupt-stale-request",
        "    _requested.clear()\n    if threading",
        "    if threading",
        "a stop requested before the run stops it at once",
    ),
    interrupt(
        "interrupt-request-outlives-block",
        "signal.signal(signal.SIGINT, previous)\n        _requested.clear()",
        "signal.signal(signal.SIGINT, previous)",
        "a stop requested in one run stops later code outside any run",
    ),
    interrupt(
        "interrupt-never-stops",
        "if _requested.is_set():",
        "if False:",
        "Ctrl-C is noted but the run never stops",
    ),
    interrupt(
        "interrupt-forgets-what-was-saved",
        "raise Interrupted(saved)",
        "raise Interrupted()",
        "the stop message cannot say what was saved",
    ),
    # --- sleepjax/cli.py ------------------------------------------------------------------------------
    Mutant(
        "cli-seeds-negative-wrap",
        "sleepjax/_engine.py",
        "if not 0 <= int(s) < 2**32:",
        "if not int(s) < 2**32:",
        "negative seeds accepted (they wrap around to large unsigned seeds)",
        SYNTAX_TESTS,
    ),
    Mutant(
        "cli-seeds-2-32-accepted",
        "sleepjax/_engine.py",
        "if not 0 <= int(s) < 2**32:",
        "if not 0 <= int(s) <= 2**32:",
        "seed 2**32 accepted (the same key as seed 0)",
        SYNTAX_TESTS,
    ),
    Mutant(
        "cli-seeds-duplicates",
        "sleepjax/_engine.py",
        "        if repeated:\n",
        "        if False:\n",
        "a seed listed twice runs twice and halves the SD",
        SYNTAX_TESTS,
    ),
    Mutant(
        "cli-seeds-count-unbounded",
        "sleepjax/app/arguments.py",
        "if not 1 <= n <= MAX_RUNS:",
        "if not 1 <= n:",
        "an absurd seed count is accepted",
        SYNTAX_TESTS,
    ),
    cli(
        "cli-second-ctrl-c-traceback",
        "except (Interrupted, KeyboardInterrupt) as stop:",
        "except Interrupted as stop:",
        "a second Ctrl-C ends in a traceback",
        (CLI + "test_second_ctrl_c_exits_130_with_one_line",),
    ),
    cli(
        "cli-interrupt-exit-code",
        "        return 130",
        "        return 1",
        "an interrupted run exits with 1, not 130",
        (CLI + "test_second_ctrl_c_exits_130_with_one_line",),
    ),
    Mutant(
        "cli-plot-not-probed",
        "sleepjax/app/commands.py",
        'return writable_directory(path, f"--plot {args.plot}")',
        "path.mkdir(parents=True, exist_ok=True)\n    return path",
        "--plot under a file gives a bare OS error",
        (CLI + "test_unusable_plot_is_refused_before_computing",),
    ),
    # --- sleepjax/protocols/split_mnist.py ------------------------------------------------------------
    split_mnist(
        "split-resume-recomputes",
        "todo = [s for s in seeds if s not in record.finished(arm)]",
        "todo = list(seeds)",
        "a resumed run recomputes the seeds already in the record",
        RESUME_TESTS,
    ),
    split_mnist(
        "split-summary-over-stored-seeds",
        'done = np.array([entry["runs"][str(s)]["accuracy"] for s in seeds])',
        'done = np.array([entry["runs"][s]["accuracy"] for s in entry["runs"]])',
        "the summary is over every stored seed, not the seeds asked for",
        RESUME_TESTS,
    ),
    split_mnist(
        "split-summary-seeds-mislabelled",
        'entry["summary_seeds"] = seeds',
        'entry["summary_seeds"] = sorted(record.finished(arm))',
        "the summary names other seeds than it was computed over",
        RESUME_TESTS,
    ),
    split_mnist(
        "split-table-shows-stale-arms",
        " or (arms is not None and arm not in arms)",
        "",
        "the table prints (unchecked) summaries of arms not run this time",
        RESUME_TESTS,
    ),
    Mutant(
        "stored-saved-after-check-stop",
        "sleepjax/app/stored_runs.py",
        "record.save()\n        clock[0] = time.perf_counter()\n        check_stop(record.describe())",
        "check_stop(record.describe())\n        record.save()\n        clock[0] = time.perf_counter()",
        "Ctrl-C throws away the seed that was running (saved only after the stop check)",
        (CLI + "test_interrupt_keeps_finished_seeds_and_says_how_to_resume",),
    ),
    split_mnist(
        "split-identity-without-data",
        '        **settings_identity(config),\n        "data_sha256": data_fingerprint(dataset),\n',
        "        **settings_identity(config),\n",
        "a record made on other data is resumed",
        (CLI + "test_identity_is_the_data_not_where_it_was_read",),
    ),
    split_mnist(
        "split-examples-cut-silently",
        "elif config.examples_per_task > available:",
        "elif False:",
        "--examples-per-task above what the data hold is cut silently",
        SETTINGS_TESTS,
    ),
    split_mnist(
        "split-sleep-steps-unchecked",
        "if not 0 <= last < 2**31:",
        "if False:",
        "sleep lengths overflowing the 32-bit step counter accepted",
        SETTINGS_TESTS,
    ),
    Mutant(
        "cli-trials-unbounded",
        "sleepjax/app/arguments.py",
        'run_count = int_at_least(1, f"positive (at most {MAX_RUNS})", MAX_RUNS)',
        'run_count = int_at_least(1, f"positive (at most {MAX_RUNS})")',
        "an absurd foraging trial count is accepted",
        ("tests/test_foraging_protocol.py::test_cli_refuses_an_absurd_trial_count_before_computing",),
    ),
    Mutant(
        "foraging-constants-unchecked",
        "sleepjax/app/foraging.py",
        "        check_hparams(self.hp())\n",
        "",
        "a NaN or out-of-range foraging constant runs the whole table",
        ("tests/test_foraging_protocol.py::test_cli_refuses_bad_values_before_computing",),
    ),
    Mutant(
        "lca-positive-settings-unchecked",
        "sleepjax/app/lca.py",
        "names = (*POSITIVE_SETTINGS, *NON_NEGATIVE_SETTINGS)",
        "names = NON_NEGATIVE_SETTINGS",
        "an infinite or zero threshold accepted (inf reaches the record as a JSON error)",
        ("tests/test_lca_protocol.py::test_bad_config_is_refused",),
    ),
    split_mnist(
        "split-search-without-validation-data",
        "    if per_task >= available:\n",
        "    if False:\n",
        "a search on data with nothing left over to validate on fails with an index message, no flag named",
        ("tests/test_sweep.py::test_a_search_on_data_with_nothing_left_to_validate_on_says_what_to_pass",),
    ),
    # --- sleep lengths under vmap (sleepjax/sleep/src.py, sleepjax/sleep/batching.py) -------------
    Mutant(
        "sleep-loop-bound-batched",
        "sleepjax/_sleep/src.py",
        "    bound = shared_bound(num_steps)\n",
        "    bound = num_steps\n",
        "the sleep's loops run to each member's own length: swept lengths make their predicates batched and "
        "a sweep ten times slower than the same run",
        ("tests/test_sweep.py::test_a_one_member_sweep_compiles_to_the_runs_program",),
    ),
    Mutant(
        "sleep-padded-steps-spike",
        "sleepjax/_sleep/src.py",
        "s = (v >= thresholds[layer]) & live[t]",
        "s = v >= thresholds[layer]",
        "a member whose sleep is shorter than the batch's longest goes on spiking (threshold 0) and learning",
        ("tests/test_src.py::test_sleeps_of_different_lengths_vmapped_equal_each_alone",),
    ),
    Mutant(
        "sleep-padded-steps-take-input",
        "sleepjax/_sleep/src.py",
        "        fires = fires & live[:, None]\n",
        "",
        "a member whose sleep is shorter than the batch's longest goes on receiving input spikes",
        ("tests/test_src.py::test_sleeps_of_different_lengths_vmapped_equal_each_alone",),
    ),
    Mutant(
        "sleep-bound-over-inner-axis-only",
        "sleepjax/_sleep/batching.py",
        "return shared_bound(jnp.max(n, axis=0) if batched else n), False",
        "return (jnp.max(n, axis=0) if batched else n), False",
        "nested vmaps (configurations x seeds) share a bound over the inner axis only",
        ("tests/test_src.py::test_shared_bound_is_the_largest_member_under_nested_vmaps",),
    ),
    # --- the command line's cache and flags (sleepjax/app/cli.py) -------------------------------
    Mutant(
        "cli-cache-never-enabled",
        "sleepjax/app/cli.py",
        "        cache.enable(cache.cache_dir())\n",
        "        pass\n",
        "every invocation compiles afresh: JAX's persistent compilation cache is never switched on",
        ("tests/test_cli.py::test_the_compilation_cache_is_on_by_default_and_can_be_turned_off",),
    ),
    Mutant(
        "cli-library-names-reach-the-user",
        "sleepjax/app/cli.py",
        'print(f"sleepjax: error: {in_flags(str(err))}", file=sys.stderr)',
        'print(f"sleepjax: error: {err}", file=sys.stderr)',
        "a library parameter name (SearchConfig.population) reaches the user instead of the flag",
        ("tests/test_sweep.py::test_cli_refuses_bad_sweeps_before_loading_data",),
    ),
    # --- foraging checkpoints (sleepjax/app/foraging.py) ------------------------------------------
    Mutant(
        "foraging-resume-restarts-the-stage",
        "sleepjax/app/foraging.py",
        '            begin = Start(carry.params, carry.state, saved.meta["current"]["task"])',
        "            begin = None",
        "a resumed run starts the interrupted stage again from its first block",
        ("tests/test_foraging_checkpoint.py",),
    ),
    Mutant(
        "foraging-resume-forgets-what-was-eaten",
        "sleepjax/app/foraging.py",
        '        eaten = result.metrics["eaten"]\n        if eaten_before is not None:',
        '        eaten = result.metrics["eaten"]\n        if False:',
        "a resumed stage scores only the blocks run after the interruption",
        ("tests/test_foraging_checkpoint.py",),
    ),
    # --- sleepjax/sweep.py ------------------------------------------------------------------------
    Mutant(
        "sweep-rows-only-own-names",
        "sleepjax/_sweep.py",
        "names = list(dict.fromkeys(name for config in configs for name in config))",
        "names = []",
        "rows carry only the names their own configuration sets ({} beside a tuned one cannot be tabulated)",
        ("tests/test_sweep.py::test_rows_carry_every_swept_name_with_the_base_value_where_a_configuration_leaves_it",),
    ),
    # --- class orders and searches over several setups (sleepjax/app/class_orders.py, sleepjax/_tune.py) ----
    Mutant(
        "orders-seed-ignored",
        "sleepjax/app/class_orders.py",
        "rng = np.random.default_rng(int(seed))",
        "rng = np.random.default_rng()",
        "the orders of a search are drawn afresh each time (a resumed search or its record names other orders)",
        (ORDERS + "test_orders_drawn_from_a_seed_are_reproducible_and_pinned",),
    ),
    Mutant(
        "orders-draw-confirmation-orders",
        "sleepjax/app/class_orders.py",
        "excluded = {canonical(DEFAULT_ORDER), *(canonical(o) for o in CONFIRMATION_ORDERS)}",
        "excluded = {canonical(DEFAULT_ORDER)}",
        "a search may draw a confirmation order, so the confirmation is no longer on orders the search never saw",
        (ORDERS + "test_a_drawn_order_is_never_the_default_nor_a_confirmation_order",),
    ),
    Mutant(
        "orders-task-classes-ordered",
        "sleepjax/app/class_orders.py",
        "return tuple(frozenset(int(c) for c in task) for task in order)",
        "return tuple(tuple(int(c) for c in task) for task in order)",
        "an order with the two classes of a task swapped counts as new (it is the same order)",
        (ORDERS + "test_a_drawn_order_is_never_the_default_nor_a_confirmation_order",),
    ),
    Mutant(
        "orders-drawn-twice",
        "sleepjax/app/class_orders.py",
        "            excluded.add(canonical(order))\n",
        "",
        "a search draws the same order twice (it weighs that order double and sees fewer orders)",
        (ORDERS + "test_a_drawn_order_is_never_the_default_nor_a_confirmation_order",),
    ),
    Mutant(
        "orders-confirmation-is-default",
        "sleepjax/app/class_orders.py",
        "    ((7, 4), (0, 2), (1, 5), (6, 8), (3, 9)),",
        "    ((0, 1), (2, 3), (4, 5), (6, 7), (8, 9)),",
        "a confirmation order that is the default order (or not the order of issue 27)",
        (ORDERS + "test_confirmation_orders_are_distinct_orders_of_five_pairs",),
    ),
    Mutant(
        "orders-empty-task-allowed",
        "sleepjax/app/class_orders.py",
        "if not tasks or any(not task for task in tasks):",
        "if not tasks:",
        "an order with an empty task is taken (its run would fail deep inside, or train on nothing)",
        (ORDERS + "test_bad_orders_are_refused_naming_the_problem",),
    ),
    Mutant(
        "tune-setups-score-first-only",
        "sleepjax/_tune.py",
        "scores = np.array([r.mean() for r in runs])",
        "scores = np.array([r[0].mean() for r in runs])",
        "a search over several orders scores only the first order",
        (ORDERS + "test_a_search_over_orders_scores_the_mean_of_the_orders_run_one_by_one",),
    ),
    Mutant(
        "tune-setups-share-one-group",
        "sleepjax/_tune.py",
        'return [group] if num_setups == 1 else [f"{group}/s{k}" for k in range(num_setups)]',
        "return [group] * num_setups",
        "the runs of every order stored under one name (later orders look finished and never run)",
        (
            ORDERS + "test_a_search_over_orders_scores_the_mean_of_the_orders_run_one_by_one",
            ORDERS + "test_a_search_over_orders_resumes_generation_by_generation",
        ),
    ),
    Mutant(
        "tune-single-setup-renamed",
        "sleepjax/_tune.py",
        '[group] if num_setups == 1 else [f"{group}/s{k}"',
        '[f"{group}/s{k}"',
        "a single-setup search renames its groups (the records of earlier searches no longer resume)",
        (ORDERS + "test_one_setup_keeps_the_single_setup_layout",),
    ),
    Mutant(
        "orders-setups-own-programs",
        "sleepjax/app/split_mnist_search.py",
        "setup = setup._replace(phase=first.phase, make_params=first.make_params)",
        "setup = setup._replace()",
        "each order of a search builds its own phase, so each compiles its own program",
        (ORDERS + "test_split_mnist_orders_share_one_program_and_the_record_names_them",),
    ),
    Mutant(
        "orders-seed-without-orders-taken",
        "sleepjax/app/commands.py",
        "elif orders_seed is not None:",
        "elif False:",
        "--orders-seed without --orders is silently ignored",
        (ORDERS + "test_bad_orders_on_the_command_line_end_in_one_line",),
    ),
    Mutant(
        "confirm-pooled-takes-default",
        "experiments/confirm_src_vector.py",
        "unseen = rows[1:]",
        "unseen = rows",
        "the pooled row of the confirmation takes in the default order, which every search saw",
        (ORDERS + "test_confirmation_table_pairs_the_same_runs_and_pools_only_the_unseen_orders",),
    ),
    Mutant(
        "confirm-difference-reversed",
        "experiments/confirm_src_vector.py",
        "cell(mean_sd(tested - reference))",
        "cell(mean_sd(reference - tested))",
        "the confirmation's difference taken the wrong way round (a worse vector reads as better)",
        (ORDERS + "test_confirmation_table_pairs_the_same_runs_and_pools_only_the_unseen_orders",),
    ),
    Mutant(
        "confirm-unweighted-overall",
        "experiments/confirm_src_vector.py",
        'return metrics.overall_accuracy(final, np.asarray(record["identity"]["test_sizes"]))',
        "return final.mean(axis=-1)",
        "the confirmation's overall accuracy averages the tasks instead of pooling their test examples",
        (ORDERS + "test_confirmation_table_pairs_the_same_runs_and_pools_only_the_unseen_orders",),
    ),
    Mutant(
        "confirm-skips-issue-order",
        "experiments/confirm_src_vector.py",
        "orders = [DEFAULT_ORDER, *CONFIRMATION_ORDERS[: args.orders]]",
        "orders = [DEFAULT_ORDER, *CONFIRMATION_ORDERS[1 : args.orders + 1]]",
        "the confirmation runs other orders than the ones it lists (the order of issue 27 left out)",
        (ORDERS + "test_confirmation_lists_the_commands_of_every_unseen_order",),
    ),
    Mutant(
        "proxy-pearson",
        "experiments/proxy_rank.py",
        "return float(np.corrcoef(ranks(a), ranks(b))[0, 1])",
        "return float(np.corrcoef(a, b)[0, 1])",
        "the proxy's rank correlation taken on the raw scores (Pearson's) instead of their rankings",
        (ORDERS + "test_proxy_rank_correlation_is_spearmans_with_tied_ranks_averaged",),
    ),
    Mutant(
        "proxy-ties-by-position",
        "experiments/proxy_rank.py",
        "        r[tied] = r[tied].mean()\n",
        "        pass\n",
        "tied scores ranked by their position instead of sharing their mean rank",
        (ORDERS + "test_proxy_rank_correlation_is_spearmans_with_tied_ranks_averaged",),
    ),
    Mutant(
        "proxy-configs-in-string-order",
        "experiments/proxy_rank.py",
        'groups = sorted(record["configs"], key=int)',
        'groups = sorted(record["configs"])',
        "the proxy's configurations read in string order (10 before 2), paired with the wrong full scores",
        (ORDERS + "test_proxy_scores_are_final_overall_accuracies_in_configuration_order",),
    ),
    Mutant(
        "proxy-plot-unchecked",
        "experiments/proxy_rank.py",
        "plot_dir = check_outputs(argparse.Namespace(out=None, plot=args.plot))",
        "plot_dir = None if args.plot is None else Path(args.plot)",
        "--plot naming a file is not refused before the sweeps (savefig fails after minutes of work)",
        (ORDERS + "test_proxy_rank_refuses_a_plot_directory_that_is_a_file_before_reading_anything",),
    ),
    Mutant(
        "proxy-figure-without-mean",
        "experiments/proxy_rank.py",
        'panels = [*zip(labels, full.T, proxy.T), ("mean over the orders", full.mean(1), proxy.mean(1))]',
        "panels = [*zip(labels, full.T, proxy.T)]",
        "the proxy figure drops its panel of the mean over the orders",
        (ORDERS + "test_proxy_rank_figure_has_a_panel_per_order_and_one_for_the_mean",),
    ),
    Mutant(
        "orders-table-best-as-worst",
        "sleepjax/app/split_mnist_search.py",
        "worst = [f\"{100 * min(t['setup_scores']):.1f}\"]",
        "worst = [f\"{100 * max(t['setup_scores']):.1f}\"]",
        "the table of a search over orders shows the best order as the worst",
        (ORDERS + "test_the_table_of_a_search_over_orders_shows_the_worst_order",),
    ),
    Mutant(
        "width-one-layer-only",
        "sleepjax/app/split_mnist.py",
        "return (784, int(width), int(width), NUM_CLASSES)",
        "return (784, int(width), REFERENCE_WIDTH, NUM_CLASSES)",
        "--width widens the first hidden layer only",
        (ORDERS + "test_width_sets_the_hidden_layers",),
    ),
    # --- sleepjax/methods: EWC, SI, LwF -----------------------------------------------------------
    method(
        "methods-ewc-fisher-unweighted-labels",
        "ewc",
        "return jnp.eye(logp.shape[0], dtype=logp.dtype), jnp.exp(logp)",
        "return jnp.eye(logp.shape[0], dtype=logp.dtype), jnp.ones_like(logp)",
        "the exact Fisher sums every label's squared gradient without the model's probabilities",
        (REG + "test_fisher_is_the_mean_of_per_example_squared_gradients",),
    ),
    method(
        "methods-ewc-fisher-empirical-is-predicted",
        "ewc",
        "            label = yi\n",
        "            label = jnp.argmax(logp)\n",
        "the empirical Fisher takes the model's most probable label instead of the true one",
        (REG + "test_fisher_is_the_mean_of_per_example_squared_gradients",),
    ),
    method(
        "methods-ewc-fisher-summed",
        "ewc",
        "weight = chunked(jnp.ones(n)) / n",
        "weight = chunked(jnp.ones(n))",
        "the Fisher summed over the task's examples instead of averaged (its scale then grows with the task)",
        (REG + "test_fisher_is_the_mean_of_per_example_squared_gradients",),
    ),
    method(
        "methods-ewc-fisher-all-outputs",
        "ewc",
        "jax.nn.log_softmax(z if classes is None else jnp.where(classes, z, -jnp.inf))",
        "jax.nn.log_softmax(z)",
        "the Fisher over every output when the task trains only some",
        (REG + "test_fisher_is_taken_over_the_outputs_the_task_trains",),
    ),
    method(
        "methods-ewc-fisher-input-unsquared",
        "ewc",
        "weights = tuple(w + d.T @ a**2 for",
        "weights = tuple(w + d.T @ a for",
        "the MLP's layer-by-layer Fisher multiplies the squared output gradient by the unsquared input",
        (REG + "test_fisher_is_the_mean_of_per_example_squared_gradients",),
    ),
    method(
        "methods-ewc-split-strengths-everywhere",
        "ewc",
        "_PUBLISHED_LAMBDA[benchmark][scenario]",
        '_PUBLISHED_LAMBDA["split-mnist"][scenario]',
        "EWC's published lambda for permuted MNIST taken from split MNIST (1e10 in domain-IL instead of 100)",
        (REG + "test_published_defaults_are_van_de_vens_strengths",),
    ),
    method(
        "methods-ewc-hsu-reg-coef-as-lambda",
        "ewc",
        'False: {"task": 200.0, "domain": 200.0, "class": 1200.0}',
        'False: {"task": 100.0, "domain": 100.0, "class": 600.0}',
        "Hsu et al.'s reg_coef taken as lambda: their EWC at half its strength (their penalty has no 1/2)",
        (REG + "test_hsu_settings_are_their_scripts_strengths_in_this_modules_penalties",),
    ),
    method(
        "methods-ewc-fisher-bias-mean",
        "ewc",
        "biases = tuple(b + d.sum(axis=0) for",
        "biases = tuple(b + d.mean(axis=0) for",
        "the MLP's bias Fisher averaged over each chunk (already weighted by 1/n) instead of summed",
        (REG + "test_mlp_fisher_layer_by_layer_equals_per_example_gradients",),
    ),
    method(
        "methods-ewc-no-half",
        "ewc",
        "return 0.5 * hparams.lambda_ * weight",
        "return hparams.lambda_ * weight",
        "the penalty without Kirkpatrick's 1/2 (every published lambda then means twice the strength)",
        (REG + "test_ewc_penalty_is_the_sum_of_each_tasks_fisher_quadratic",),
    ),
    method(
        "methods-ewc-offline-last-anchor",
        "ewc",
        "jnp.where(total > 0, (a * m + f * s) / d, s)",
        "s",
        "offline EWC anchors every earlier task's penalty at the latest weights",
        (REG + "test_ewc_penalty_is_the_sum_of_each_tasks_fisher_quadratic",),
    ),
    method(
        "methods-ewc-offline-no-remainder",
        "ewc",
        "new = EWCState(importance, anchor, state.offset + common.tree_sum(remainder))",
        "new = EWCState(importance, anchor, state.offset)",
        "the merged quadratic drops the constant, so the penalty's value is not the sum of the tasks' penalties",
        (REG + "test_ewc_penalty_is_the_sum_of_each_tasks_fisher_quadratic",),
    ),
    method(
        "methods-online-ewc-no-decay",
        "ewc",
        "lambda a, f: hparams.gamma * a + f",
        "lambda a, f: a + f",
        "online EWC's running Fisher is not decayed by gamma",
        (REG + "test_online_ewc_decays_the_running_fisher_and_keeps_the_last_anchor",),
    ),
    method(
        "methods-online-ewc-penalty-without-gamma",
        "ewc",
        "weight = hparams.gamma if online else 1.0",
        "weight = 1.0",
        "online EWC's penalty without Schwarz et al.'s gamma on the running Fisher",
        (REG + "test_online_ewc_decays_the_running_fisher_and_keeps_the_last_anchor",),
    ),
    method(
        "methods-online-ewc-first-anchor",
        "ewc",
        "new = EWCState(importance, theta, state.offset)",
        "new = EWCState(importance, state.anchor, state.offset)",
        "online EWC keeps the anchor it had instead of the weights after the latest task",
        (REG + "test_online_ewc_decays_the_running_fisher_and_keeps_the_last_anchor",),
    ),
    method(
        "methods-si-start-of-step-is-a-view",
        "si",
        "common.inexact(after), common.inexact(before))",
        "common.inexact(after), common.inexact(after))",
        "Avalanche 0.6's SI on the CPU: the weights before a step read after it, every change and importance is 0",
        (REG + "test_si_importance_is_its_path_integral_over_the_tasks_updates",),
    ),
    method(
        "methods-si-delta-against-current",
        "si",
        "big + w / ((t - s) ** 2 + hparams.xi)",
        "big + w / ((t - t) ** 2 + hparams.xi)",
        "SI's total change Delta taken against the weights after training instead of those it started from",
        (REG + "test_si_importance_is_its_path_integral_over_the_tasks_updates",),
    ),
    method(
        "methods-si-path-integral-sign",
        "si",
        "lambda w, g, d: w - g * d",
        "lambda w, g, d: w + g * d",
        "SI's path integral with the wrong sign (importances negative where the loss fell)",
        (REG + "test_si_importance_is_its_path_integral_over_the_tasks_updates",),
    ),
    method(
        "methods-si-anchor-not-moved",
        "si",
        "return params, SIState(importance, theta), ",
        "return params, SIState(importance, state.anchor), ",
        "SI's penalty stays anchored at the initial weights",
        (REG + "test_si_importance_is_its_path_integral_over_the_tasks_updates",),
    ),
    method(
        "methods-lwf-unsoftened",
        "lwf",
        "        z = z / temperature\n",
        "",
        "LwF's distributions not softened by the temperature",
        (REG + "test_lwf_distils_the_teachers_softened_outputs_over_the_earlier_outputs",),
    ),
    method(
        "methods-lwf-untrained-outputs",
        "lwf",
        "return -jnp.sum(jnp.where(head >= 0, terms, 0.0))",
        "return -jnp.sum(terms)",
        "LwF distils outputs no earlier task trained",
        (REG + "test_lwf_distils_the_teachers_softened_outputs_over_the_earlier_outputs",),
    ),
    method(
        "methods-lwf-one-softmax-over-heads",
        "lwf",
        "same = head[:, None] == head[None, :]",
        "same = (head[:, None] >= 0) == (head[None, :] >= 0)",
        "task-incremental heads distilled as one softmax over every earlier output",
        (REG + "test_lwf_distils_each_earlier_head_on_its_own",),
    ),
    method(
        "methods-lwf-heads-ignore-classes",
        "lwf",
        "trained = jnp.asarray(task.classes, bool)",
        "trained = jnp.any(jax.nn.one_hot(task.y, state.head.shape[0], dtype=bool), axis=0)",
        "LwF's heads from the labels even where the task says which outputs it trains",
        (REG + "test_lwf_heads_follow_the_outputs_each_task_trained",),
    ),
    method(
        "methods-lwf-stale-teacher",
        "lwf",
        "return params, LwFState(params, head), {}",
        "return params, LwFState(state.teacher, head), {}",
        "LwF's teacher is not refreshed after a task",
        (REG + "test_lwf_term_is_alpha_times_the_mean_distillation_against_the_stored_teacher",),
    ),
    method(
        "methods-lwf-no-alpha",
        "lwf",
        "return hparams.alpha * per_example.mean()",
        "return per_example.mean()",
        "LwF's term not weighted by alpha (a swept lwf.alpha changes nothing)",
        (REG + "test_lwf_term_is_alpha_times_the_mean_distillation_against_the_stored_teacher",),
    ),
    Mutant(
        "compare-published-ignores-overrides",
        "sleepjax/app/compare_report.py",
        "                del means[method]\n",
        "                pass\n",
        "the published mean printed beside a method run with overridden strengths or learning rate",
        ("tests/test_compare.py::test_published_means_apply_only_to_the_published_protocol_on_test",),
    ),
    Mutant(
        "wake-loss-hooks-get-no-classes",
        "sleepjax/_wake.py",
        "xb, yb, kh, train_loss, scored(yb, cb)",
        "xb, yb, kh, train_loss, None",
        "the wake hands its siblings' loss hooks no classes (van de Ven's LwF leaves the new classes out)",
        (REG + "test_wake_gives_loss_hooks_the_outputs_the_minibatch_is_scored_among",),
    ),
    method(
        "methods-lwf-vdv-student-over-head-only",
        "lwf",
        "support = same | (holds_head[:, None] & active[None, :])",
        "support = same",
        "van de Ven's class-incremental LwF without the new classes in the student's distribution",
        (REG + "test_lwf_van_de_ven_distils_class_incremental_heads_against_zero_targets_for_new_classes",),
    ),
    method(
        "methods-lwf-vdv-teacher-over-new-classes",
        "lwf",
        "target = jnp.exp(log_softmax(jax.lax.stop_gradient(teacher), same))",
        "target = jnp.exp(log_softmax(jax.lax.stop_gradient(teacher), support))",
        "the teacher's targets softened over the new classes too (no zero targets)",
        (REG + "test_lwf_van_de_ven_distils_class_incremental_heads_against_zero_targets_for_new_classes",),
    ),
    method(
        "methods-lwf-vdv-extends-task-heads",
        "lwf",
        "holds_head = jnp.all(jnp.where(same, active[None, :], True), axis=1)",
        "holds_head = jnp.ones(head.shape, bool)",
        "task-incremental heads distilled over the new task's outputs too",
        (REG + "test_lwf_van_de_ven_keeps_task_incremental_heads_on_their_own",),
    ),
    method(
        "methods-lwf-2018-sums-over-classes",
        "lwf",
        "        terms = terms / jnp.sum(support, axis=1)\n",
        "        pass\n",
        "the 2018 convention summing the distillation over classes (the same loss as the fixed code)",
        (REG + "test_lwf_van_de_ven_2018_averages_each_heads_distillation_over_its_students_outputs",),
    ),
    method(
        "methods-lwf-2018-mean-over-head",
        "lwf",
        "terms = terms / jnp.sum(support, axis=1)",
        "terms = terms / jnp.sum(same, axis=1)",
        "the 2018 convention averaging over the earlier head's outputs, not the student's distribution",
        (REG + "test_lwf_van_de_ven_2018_averages_each_heads_distillation_over_its_students_outputs",),
    ),
    method(
        "methods-lwf-2018-convention-ignored",
        "lwf",
        'class_mean = convention == "van-de-ven-2018"',
        "class_mean = False",
        "lwf-2018 running the fixed (summed) loss while its record says van-de-ven-2018",
        (REG + "test_lwf_van_de_ven_2018_averages_each_heads_distillation_over_its_students_outputs",),
    ),
    method(
        "methods-lwf-vdv-sum-over-heads",
        "lwf",
        "per_example.mean() / jnp.maximum(count_heads(state.head), 1)",
        "per_example.mean()",
        "van de Ven's LwF summed over the earlier heads instead of averaged",
        (REG + "test_lwf_van_de_ven_term_is_their_loss_times_the_task_number",),
    ),
    method(
        "methods-lwf-vdv-no-t-squared",
        "lwf",
        "earlier_tasks * hparams.temperature**2 * mean_over_heads",
        "earlier_tasks * mean_over_heads",
        "van de Ven's LwF without the T^2 scaling of the distillation",
        (REG + "test_lwf_van_de_ven_term_is_their_loss_times_the_task_number",),
    ),
    method(
        "methods-lwf-vdv-no-task-weight",
        "lwf",
        "return hparams.alpha * earlier_tasks * ",
        "return hparams.alpha * ",
        "van de Ven's LwF weight not growing with the tasks seen (1 - 1/t against 1/t)",
        (REG + "test_lwf_van_de_ven_term_is_their_loss_times_the_task_number",),
    ),
    method(
        "methods-lwf-vdv-heads-miscounted",
        "lwf",
        "first = jnp.concatenate([jnp.ones(1, bool), ordered[1:] != ordered[:-1]])",
        "first = jnp.ones(head.shape, bool)",
        "the earlier heads counted as outputs",
        (REG + "test_lwf_van_de_ven_term_is_their_loss_times_the_task_number",),
    ),
    method(
        "methods-strength-open-bound",
        "_common",
        "((v > low) if low_open else (v >= low))",
        "(v >= low)",
        "a zero SI xi or LwF temperature (a division by zero) is accepted",
        (REG + "test_a_bad_strength_is_named",),
    ),
    # --- sleepjax/methods: memories, replay, A-GEM, iCaRL, DER++ -----------------------------------
    method(
        "methods-memory-share-from-current-task",
        "memory",
        "quota = budget // jnp.maximum(jnp.sum(candidates.seen, dtype=jnp.int32), 1)",
        "quota = budget // jnp.maximum(jnp.sum(jnp.any(jax.nn.one_hot(y, num_classes, dtype=bool) "
        "& offered[:, None], axis=0), dtype=jnp.int32), 1)",
        "a class-balanced share computed from the current task's classes instead of every class seen",
        (MEM + "test_class_balanced_memory_keeps_each_class_share_exactly",),
    ),
    method(
        "methods-memory-rank-over-all-classes",
        "memory",
        "group = jnp.where(valid, labels, num_classes)",
        "group = jnp.where(valid, 0, num_classes)",
        "class-balanced ranks taken over all classes together (the share kept in total, not per class)",
        (MEM + "test_class_balanced_memory_keeps_each_class_share_exactly",),
    ),
    method(
        "methods-memory-empty-slots-count",
        "memory",
        "    filled = keep[order]\n",
        "    filled = jnp.ones_like(keep[order])\n",
        "empty slots counted as stored examples (label 0: a class of a task not yet trained)",
        (MEM + "test_a_memory_never_holds_an_example_of_a_task_not_yet_trained",),
    ),
    method(
        "methods-memory-first-in-first-out",
        "memory",
        "order = jnp.argsort(jnp.where(keep, -candidates.priority, jnp.inf), stable=True)[:budget]",
        "order = jnp.argsort(jnp.where(keep, -jnp.arange(keep.shape[0]), jnp.inf), stable=True)[:budget]",
        "a reservoir that keeps the newest examples (earlier tasks pushed out) instead of a uniform sample",
        (MEM + "test_reservoir_keeps_every_example_of_the_stream_with_probability_budget_over_seen",),
    ),
    method(
        "methods-memory-priorities-redrawn",
        "memory",
        "priority=jnp.concatenate([memory.priority, priority.astype(jnp.float32)]),",
        "priority=jnp.concatenate([jax.random.uniform(jax.random.fold_in(jax.random.key(0), memory.count), "
        "memory.priority.shape), priority.astype(jnp.float32)]),",
        "reservoir priorities drawn afresh at every update (old examples kept with 1/6 instead of 1/4)",
        (MEM + "test_reservoir_keeps_every_example_of_the_stream_with_probability_budget_over_seen",),
    ),
    method(
        "methods-replay-empty-slots-trained",
        "memory",
        "valid = jnp.concatenate([valid, tiled(memory.filled)])",
        "valid = jnp.concatenate([valid, tiled(jnp.ones_like(memory.filled))])",
        "the merged rehearsal set trains on empty memory slots as examples",
        (MEM + "test_merged_rehearsal_set_marks_empty_slots_as_padding_and_repeats_the_memory",),
    ),
    method(
        "methods-replay-merged-once",
        "replay",
        "repeats_of = lambda n: max(1, n // budget)",
        "repeats_of = lambda n: 1",
        "Hsu et al.'s merge without repeating the memory (old:new far from 1:1)",
        (MEM + "test_merged_rehearsal_set_marks_empty_slots_as_padding_and_repeats_the_memory",),
    ),
    method(
        "methods-replay-draws-empty-slots",
        "memory",
        "jax.random.categorical(key, jnp.where(memory.filled, 0.0, -jnp.inf), shape=(size,))",
        "jax.random.categorical(key, jnp.zeros(memory.filled.shape), shape=(size,))",
        "memory minibatches drawn from empty slots too",
        (MEM + "test_batch_replay_draws_filled_slots_and_repeats_the_batch_while_the_memory_is_empty",),
    ),
    method(
        "methods-replay-empty-memory-as-zeros",
        "memory",
        "    some = memory.filled.any()\n    xm = ",
        "    some = True\n    xm = ",
        "an empty memory replayed as zero inputs of label 0 (the first task's loss changes)",
        (MEM + "test_batch_replay_draws_filled_slots_and_repeats_the_batch_while_the_memory_is_empty",),
    ),
    Mutant(
        "methods-wake-replayed-scored-among-current",
        "sleepjax/_wake.py",
        "return jnp.where(classes[yb][:, None], classes, cb)",
        "return classes",
        "replayed examples scored among the current task's outputs (task-incremental rehearsal: infinite loss)",
        (MEM + "test_replayed_examples_are_scored_among_their_own_outputs_only_where_the_task_lacks_their_label",),
    ),
    Mutant(
        "methods-wake-replayed-scored-among-own",
        "sleepjax/_wake.py",
        "return jnp.where(classes[yb][:, None], classes, cb)",
        "return cb",
        "class-incremental replay scores old examples among their old task's outputs only",
        (MEM + "test_replayed_examples_are_scored_among_their_own_outputs_only_where_the_task_lacks_their_label",),
    ),
    method(
        "methods-order-not-checked",
        "_common",
        "    if not peer.applied:\n",
        "    if False:\n",
        "a method placed before its training phase updates its memory with the task before training on it",
        (MEM + "test_a_memory_never_holds_an_example_of_a_task_not_yet_trained",),
    ),
    method(
        "methods-no-trainer-check",
        "_common",
        "    if not found:\n",
        "    if False:\n",
        "a method without a training phase fails with an index error instead of saying what is missing",
        (MEM + "test_a_method_without_its_training_phase_is_refused",),
    ),
    method(
        "methods-budget-beyond-stream",
        "_common",
        "    if budget > available:\n",
        "    if False:\n",
        "a memory larger than the whole stream is accepted (it can never be filled)",
        (MEM + "test_budget_zero_and_a_budget_larger_than_the_stream_are_refused",),
    ),
    method(
        "methods-balanced-smaller-than-classes",
        "memory",
        "    if budget < num_classes:\n",
        "    if False:\n",
        "a class-balanced memory smaller than the number of classes is accepted (its shares fall to 0)",
        (MEM + "test_budget_zero_and_a_budget_larger_than_the_stream_are_refused",),
    ),
    method(
        "methods-agem-always-projects",
        "agem",
        "scale = jnp.where((dot < 0) & (norm > 0), ",
        "scale = jnp.where(norm > 0, ",
        "A-GEM projects gradients that do not conflict with the memory's",
        (MEM + "test_agem_removes_exactly_the_conflicting_component",),
    ),
    method(
        "methods-agem-scaled-by-own-norm",
        "agem",
        "dot / jnp.where(norm > 0, norm, 1.0)",
        "dot / common.tree_sum(jax.tree.map(jnp.multiply, grads, grads))",
        "A-GEM's projection scaled by the gradient's own norm instead of the reference's",
        (MEM + "test_agem_removes_exactly_the_conflicting_component",),
    ),
    method(
        "methods-agem-reference-from-empty-memory",
        "agem",
        "        some = state.filled.any()\n",
        "        some = True\n",
        "A-GEM projects on a reference gradient of empty slots during the first task",
        (MEM + "test_agem_projects_on_the_training_loss_of_the_memory_and_leaves_the_gradient_while_it_is_empty",),
    ),
    method(
        "methods-herding-distance-to-mean",
        "icarl",
        "candidate = (chosen[None, :] + phi) / (k + 1).astype(phi.dtype)",
        "candidate = phi",
        "exemplars ranked by their distance to the class mean alone, not herding's running mean",
        (MEM + "test_herding_picks_the_hand_computed_exemplars",),
    ),
    method(
        "methods-herding-repicks",
        "icarl",
        "jnp.where(member & (rank < 0), distance, jnp.inf)",
        "jnp.where(member, distance, jnp.inf)",
        "herding may pick the same exemplar again",
        (MEM + "test_herding_picks_the_hand_computed_exemplars",),
    ),
    method(
        "methods-icarl-unnormalised-features",
        "icarl",
        "phi = normalized(jax.vmap(lambda x: features(params, x))(task.x))",
        "phi = jax.vmap(lambda x: features(params, x))(task.x)",
        "herding on features that are not L2-normalised",
        (MEM + "test_icarl_keeps_the_herding_exemplars_of_normalised_features_budget_over_classes_each",),
    ),
    method(
        "methods-nme-classes-without-exemplars",
        "icarl",
        "jnp.where((classes & has)[None, :], distance, jnp.inf)",
        "jnp.where(classes[None, :], distance, jnp.inf)",
        "the nearest-mean classifier lets classes without exemplars (a zero mean) compete",
        (MEM + "test_nearest_mean_classifier_picks_the_closest_normalised_exemplar_mean_among_classes_with_exemplars",),
    ),
    method(
        "methods-icarl-distill-raw-target",
        "icarl",
        "target = jax.nn.sigmoid(lax.stop_gradient(teacher))",
        "target = lax.stop_gradient(teacher)",
        "iCaRL's distillation target is the teacher's logit instead of its sigmoid",
        (MEM + "test_icarl_distillation_is_the_binary_cross_entropy_against_the_teachers_sigmoids_on_old_outputs",),
    ),
    method(
        "methods-icarl-distill-new-outputs",
        "icarl",
        "return jnp.sum(jnp.where(old, bce, 0.0))",
        "return jnp.sum(bce)",
        "iCaRL distils the new classes' outputs too",
        (MEM + "test_icarl_distillation_is_the_binary_cross_entropy_against_the_teachers_sigmoids_on_old_outputs",),
    ),
    method(
        "methods-der-weights-swapped",
        "der",
        "hparams.alpha * matched + hparams.beta * replayed",
        "hparams.beta * matched + hparams.alpha * replayed",
        "DER++'s alpha and beta weigh each other's term",
        (MEM + "test_der_terms_match_the_stored_logits_and_replay_the_stored_labels",),
    ),
    method(
        "methods-der-logits-summed-over-outputs",
        "der",
        "jnp.mean((common.outputs(model, memory.x[first]) - memory.logits[first]) ** 2)",
        "jnp.mean(jnp.sum((common.outputs(model, memory.x[first]) - memory.logits[first]) ** 2, axis=-1))",
        "DER's logit term summed over outputs instead of averaged as Buzzega et al.'s mean squared error",
        (MEM + "test_der_terms_match_the_stored_logits_and_replay_the_stored_labels",),
    ),
    method(
        "methods-der-term-with-empty-memory",
        "der",
        "jnp.where(state.filled.any(), hparams.alpha * matched + hparams.beta * replayed, 0.0)",
        "hparams.alpha * matched + hparams.beta * replayed",
        "DER++ replays empty slots during the first task",
        (MEM + "test_der_terms_match_the_stored_logits_and_replay_the_stored_labels",),
    ),
    method(
        "methods-der-stale-logits",
        "replay",
        "outputs = common.outputs(params, task.x) if logits else None",
        "outputs = common.outputs(jax.tree.map(jnp.zeros_like, params), task.x) if logits else None",
        "DER stores logits of another network than the one the task ended with",
        (MEM + "test_der_stores_the_networks_outputs_with_each_example",),
    ),
    # --- the foraging agent's paper-aligned defaults (issue 26) --------------------------------------
    Mutant(
        "foraging-delay-dated-at-reward",
        "sleepjax/spiking/eligibility.py",
        "(k + 1.0 + c) * cycle_steps",
        "(k + c) * cycle_steps",
        "a cycle's trace is dated at the reward, not at its first step (t - t_k one cycle short)",
        ("tests/test_spiking_primitives.py::test_delays_in_timesteps_and_in_cycles_by_hand",),
    ),
    Mutant(
        "foraging-delay-in-cycles",
        "sleepjax/foraging/agent.py",
        "jnp.asarray(hp.discount_steps) > 0",
        "jnp.asarray(hp.discount_steps) > 1",
        "discount_steps 1 is accepted but the delay stays in cycles (a step about 1200 times too large)",
        ("tests/test_foraging_agent.py::test_rewarded_update_counts_the_delay_in_timesteps",),
    ),
    Mutant(
        "foraging-activity-norm-always",
        "sleepjax/foraging/agent.py",
        "jnp.where(jnp.asarray(hp.activity_norm) > 0, norm, 1.0)",
        "norm",
        "activity_norm 0 is accepted but the update is still divided by the normalisation",
        ("tests/test_foraging_agent.py::test_rewarded_update_counts_the_delay_in_timesteps",),
    ),
    Mutant(
        "foraging-store-never-emptied",
        "sleepjax/foraging/agent.py",
        "clear = switched & (jnp.asarray(hp.keep_store) <= 0)",
        "clear = switched & (jnp.asarray(hp.keep_store) < 0)",
        "the eligibility store is carried across wake/sleep switches whatever keep_store says",
        ("tests/test_foraging_agent.py::test_store_is_emptied_at_a_switch_between_wake_and_sleep",),
    ),
    Mutant(
        "foraging-store-emptied-every-block",
        "sleepjax/foraging/agent.py",
        "switched = state.asleep != asleep",
        "switched = jnp.asarray(True)",
        "the store is emptied at every block, also between consecutive training blocks",
        ("tests/test_foraging_agent.py::test_store_is_emptied_at_a_switch_between_wake_and_sleep",),
    ),
    Mutant(
        "foraging-sleep-does-not-switch",
        "sleepjax/foraging/agent.py",
        "        state = switch_store(state, True, hp)\n",
        "",
        "the sleep phase does not mark the switch: the last wake traces receive sleep's S",
        ("tests/test_foraging_agent.py::test_store_is_emptied_at_a_switch_between_wake_and_sleep",),
    ),
    Mutant(
        "foraging-release-per-cycle-always",
        "sleepjax/foraging/network.py",
        "per_event = jnp.asarray(hp.release_per_event) > 0",
        "per_event = jnp.asarray(hp.release_per_event) > 1",
        "release_per_event 1 is accepted but the release is still drawn once per synapse per cycle",
        ("tests/test_foraging_agent.py::test_release_varies_per_event_or_per_cycle",),
    ),
    Mutant(
        "foraging-release-variance-of-a-unit-gaussian",
        "sleepjax/foraging/network.py",
        "hp.release**2 / 3.0 * w_out**2",
        "hp.release**2 * w_out**2",
        "each event's efficacy varies three times as much as the uniform it stands for",
        ("tests/test_foraging_agent.py::test_release_varies_per_event_or_per_cycle",),
    ),
    Mutant(
        "foraging-drive-one-slot",
        "sleepjax/foraging/agent.py",
        "slot = task.rewarded + 1",
        "slot = task.rewarded * 0 + 1",
        "every learning cycle goes to one mean: tasks weighed by their cycles, the unsupervised period counted",
        ("tests/test_foraging_agent.py::test_sleep_drive_is_the_equal_weight_mean_of_the_tasks_mean_rates",),
    ),
    Mutant(
        "foraging-drive-nothing-before-tasks",
        "sleepjax/foraging/agent.py",
        "jnp.where(count > 0, mean, agent.task_rate[0])",
        "mean",
        "before any task the drive is 0 instead of the unsupervised period's rates",
        ("tests/test_foraging_agent.py::test_sleep_drive_is_the_equal_weight_mean_of_the_tasks_mean_rates",),
    ),
    Mutant(
        "foraging-drive-mean-off-by-one",
        "sleepjax/foraging/agent.py",
        "1.0 / cycles[slot].astype(rate.dtype)",
        "1.0 / (cycles[slot] + 1).astype(rate.dtype)",
        "a task's mean rate weighs its n-th cycle by 1/(n+1) (biased towards 0)",
        ("tests/test_foraging_agent.py::test_sleep_drive_is_the_equal_weight_mean_of_the_tasks_mean_rates",),
    ),
    Mutant(
        "foraging-task-drive-ignored",
        "sleepjax/foraging/agent.py",
        "jnp.asarray(hp.task_drive) > 0",
        "jnp.asarray(hp.task_drive) > 1",
        "task_drive 1 is accepted but sleep is driven by the running average",
        ("tests/test_foraging_agent.py::test_sleep_drive_is_the_equal_weight_mean_of_the_tasks_mean_rates",),
    ),
    Mutant(
        "foraging-interleaved-not-halved",
        "sleepjax/foraging/schedules.py",
        '(2 if self.interleave == "split" else 1)',
        "1",
        "the interleaved phase holds as much Task 2 training as the sequential one (twice as long)",
        ("tests/test_foraging_agent.py::test_interleaved_phase_is_as_long_as_the_task2_phase_half_of_it_asleep",),
    ),
    Mutant(
        "foraging-sleep-only-not-halved",
        "sleepjax/foraging/schedules.py",
        "        return _blocks(rounds, SLEEP, TASK2) + tests\n",
        "        return _blocks(n(d.task2), SLEEP, TASK2) + tests\n",
        "sleep alone sleeps as long as the whole Task 2 phase, not as long as interleaved sleep sleeps",
        ("tests/test_foraging_agent.py::test_interleaved_phase_is_as_long_as_the_task2_phase_half_of_it_asleep",),
    ),
    Mutant(
        "foraging-initial-weights-random",
        "sleepjax/foraging/constants.py",
        "    init_power: float = 0.0\n",
        "    init_power: float = 1.0\n",
        "the hidden->output weights start random instead of equal",
        ("tests/test_foraging_agent.py::test_initial_output_weights_are_equal_or_random",),
    ),
    Mutant(
        "import-starts-backend",
        "sleepjax/foraging/environment.py",
        "OFFSETS = np.array([[0, 1], [1, 0], [-1, 1], [1, 1]], np.int32)",
        "OFFSETS = jnp.array([[0, 1], [1, 0], [-1, 1], [1, 1]], jnp.int32)",
        "a module-level JAX array starts the backend on import: jax.distributed.initialize is then refused",
        ("tests/test_layers.py::test_importing_sleepjax_starts_no_jax_backend",),
    ),
    Mutant(
        "foraging-mixed-same-task",
        "sleepjax/foraging/network.py",
        "other_task = kind_task[kinds][None, :] != kind_task[kinds[order]][:, None]",
        "other_task = kind_task[kinds][None, :] == kind_task[kinds[order]][:, None]",
        "a mixed detector's second particle is of the same task as its first (silent in the other task)",
        ("tests/test_foraging_agent.py::test_mixed_wired_detectors_fire_in_both_tasks",),
    ),
    Mutant(
        "foraging-second-half-credited",
        "sleepjax/foraging/network.py",
        "        if credited:  # uncredited steps",
        "        if True:  # uncredited steps",
        "the scan of a cycle's uncredited second half still adds its spike pairs to the trace",
        ("tests/test_foraging_agent.py::test_awake_trace_credits_only_the_decision_window",),
    ),
)


# --- scenarios, metrics and comparisons (issue 25) ----------------------------------------------------
SCEN = "tests/test_scenarios.py::"
SHIFT = "tests/test_scenarios_shifted.py::"
TRAIN = "tests/test_scenarios_training.py::"
COMPARE = "tests/test_compare.py::"
STORE = "tests/test_program_store.py::"
STORE_MUTANTS = (
    Mutant(
        "store-key-ignores-closures",
        "sleepjax/_program_store.py",
        "        self.walk(tuple(_cell(c) for c in fn.__closure__ or ()))\n",
        "",
        "the program key names a function without the values it closes over (a run with 2 epochs would take "
        "the stored program of one with 3)",
        (STORE + "test_equal_phases_built_twice_share_a_key_and_any_difference_changes_it",),
    ),
    Mutant(
        "store-never-read",
        "sleepjax/_program_store.py",
        "serialized, skeleton = pickle.loads(path.read_bytes())",
        'serialized, skeleton = pickle.loads(b"")',
        "the store is written but never read: every invocation traces its programs again",
        (STORE + "test_a_stored_program_runs_without_tracing_and_gives_the_same_numbers",),
    ),
    Mutant(
        "store-key-by-identity",
        "sleepjax/_program_store.py",
        'self.put("function", _name(fn))',
        'self.put("function", _name(fn), id(fn))',
        "the program key depends on where objects live in memory, so a new process never finds its program",
        ("tests/test_cli.py::test_a_second_invocation_neither_traces_nor_compiles_the_run",),
    ),
    Mutant(
        "store-output-skeleton-unordered",
        "sleepjax/_program_store.py",
        'slots = [_Slot(i) for i in range(parts["tree"].num_leaves)]',
        'slots = [_Slot(i) for i in reversed(range(parts["tree"].num_leaves))]',
        "a stored program's outputs put back in the wrong places",
        (STORE + "test_a_stored_program_runs_without_tracing_and_gives_the_same_numbers",),
    ),
)

SCENARIO_MUTANTS = (
    Mutant(
        "compare-permuted-with-split-strengths",
        "sleepjax/app/compare_methods.py",
        "published_defaults(defaults, scenario, STRENGTHS_OF[benchmark], source=source)",
        "published_defaults(defaults, scenario, source=source)",
        "permuted and rotated MNIST compared with split MNIST's strengths (EWC lambda 1e10, SI c 50,000)",
        (COMPARE + "test_permuted_and_rotated_mnist_start_from_permuted_mnists_strengths",),
    ),
    Mutant(
        "compare-ewc-hsu-exact-fisher",
        "sleepjax/app/compare_methods.py",
        'ewc(fisher=PHASE_OPTIONS["ewc-hsu"]["ewc.fisher"])',
        "ewc()",
        "ewc-hsu's record says Fisher from predicted labels while its phase estimates the exact Fisher",
        (COMPARE + "test_hsu_settings_estimate_ewcs_fisher_at_the_predicted_labels",),
    ),
    Mutant(
        "compare-hsu-with-van-de-vens-strengths",
        "sleepjax/app/compare_methods.py",
        'source = "hsu" if method in HSU_SETTINGS else "van-de-ven"',
        'source = "van-de-ven"',
        "the -hsu methods run with van de Ven et al.'s strengths (EWC lambda 1e10 in domain-IL, not 200)",
        (COMPARE + "test_hsu_settings_estimate_ewcs_fisher_at_the_predicted_labels",),
    ),
    Mutant(
        "compare-hsu-refusal-unnamed",
        "sleepjax/app/compare_methods.py",
        'raise ValueError(f"{method}: {error}") from None',
        "raise",
        "si-hsu asked for on rotated MNIST is refused naming permuted MNIST, and not the method the user gave",
        (COMPARE + "test_permuted_and_rotated_mnist_start_from_permuted_mnists_strengths",),
    ),
    Mutant(
        "compare-permuted32-no-target",
        "sleepjax/app/compare_report.py",
        'name in ("permuted", "permuted32")',
        'name == "permuted"',
        "permuted MNIST on 32x32 inputs is printed without the 0.94 target of EWC and SI",
        (COMPARE + "test_permuted32_differs_from_permuted_only_in_its_32x32_inputs",),
    ),
    Mutant(
        "compare-permuted32-unpadded",
        "sleepjax/app/compare_methods.py",
        'name="permuted32", input_format=InputFormat(pad=2)',
        'name="permuted32", input_format=InputFormat()',
        "the permuted32 protocol loses its padding: its runs are the 784-input protocol under another name",
        (COMPARE + "test_permuted32_differs_from_permuted_only_in_its_32x32_inputs",),
    ),
    Mutant(
        "scenarios-class-loss-current-task-only",
        "sleepjax/_scenarios.py",
        "seen = np.logical_or.accumulate(own, axis=0)",
        "seen = own",
        "class-incremental training takes the loss over the current task's classes, not those seen so far",
        (SCEN + "test_class_incremental_trains_over_the_classes_seen_so_far_and_tests_over_all",),
    ),
    Mutant(
        "scenarios-task-il-evaluated-over-all",
        "sleepjax/_scenarios.py",
        'eval_classes = own if mode == "task" else np.ones_like(own)',
        "eval_classes = np.ones_like(own)",
        "task-incremental evaluation chooses among all classes instead of the task's own",
        (SCEN + "test_task_incremental_masks_each_task_to_its_own_classes",),
    ),
    Mutant(
        "scenarios-domain-keeps-the-class-labels",
        "sleepjax/_scenarios.py",
        "lookup[list(cs)] = np.arange(len(cs))",
        "pass",
        "domain-incremental labels stay the classes instead of their position in the task",
        (SCEN + "test_domain_incremental_maps_each_class_to_its_position_in_its_task",),
    ),
    Mutant(
        "scenarios-domain-shared-class-unnamed",
        "sleepjax/_scenarios.py",
        'if shared and mode == "domain":',
        "if False:",
        "a domain-incremental split whose tasks share a class is refused without saying why it matters",
        (SCEN + "test_bad_splits_are_one_line_naming_the_problem",),
    ),
    Mutant(
        "scenarios-padding-marked-real",
        "sleepjax/_scenarios.py",
        "valid = np.stack([np.arange(n) < len(yt) for _, yt in parts])",
        "valid = np.stack([np.arange(n) >= 0 for _, yt in parts])",
        "the copies filling up a shorter task are marked as real examples (trained on twice)",
        (SCEN + "test_tasks_of_different_sizes_are_padded_with_their_own_examples_marked_invalid",),
    ),
    Mutant(
        "scenarios-joint-only-the-tasks-examples",
        "sleepjax/_scenarios.py",
        "TaskStream(x_joint[None], lookup[y_train[joint_idx]][None])",
        "TaskStream(x.reshape(1, -1, x.shape[-1]), y.reshape(1, -1))",
        "joint training sees only the first examples_per_task of each task (and their padding), not all data",
        (SCEN + "test_examples_per_task_takes_the_first_in_data_order_and_joint_keeps_all",),
    ),
    Mutant(
        "scenarios-joint-takes-the-whole-set",
        "sleepjax/_scenarios.py",
        "x_joint = x_train if len(joint_idx) == len(x_train) else x_train[joint_idx]",
        "x_joint = x_train",
        "the joint stream trains on classes no task holds (and misaligns inputs and labels)",
        (SCEN + "test_the_joint_stream_of_tasks_that_leave_classes_out_holds_only_their_examples",),
    ),
    Mutant(
        "images-identity-shortcut-ignores-std",
        "sleepjax/_images.py",
        "if fmt.mean == 0 and fmt.std == 1:",
        "if fmt.mean == 0:",
        "an input format with mean 0 and another std is not standardised",
        (SCEN + "test_an_input_format_standardises_whatever_its_mean",),
    ),
    Mutant(
        "scenarios-validation-from-the-first-examples",
        "sleepjax/_scenarios.py",
        "held[idx[-k:]] = True",
        "held[idx[:k]] = True",
        "the validation split holds out the first examples of each class, not the last",
        (SCEN + "test_validation_split_holds_out_the_last_examples_of_every_class_and_never_trains_on_them",),
    ),
    Mutant(
        "images-rotation-not-a-rotation",
        "sleepjax/_images.py",
        "src_dx = np.cos(theta) * dx + np.sin(theta) * dy",
        "src_dx = np.cos(theta) * dx - np.sin(theta) * dy",
        "the source coordinates of a rotation use the wrong sign (a shear and mirror, not a turn)",
        (SHIFT + "test_quarter_turns_are_exact_and_counter_clockwise",),
    ),
    Mutant(
        "shifted-first-task-permuted",
        "sleepjax/_images.py",
        "perms[0] = np.arange(size)",
        "pass",
        "permuted MNIST's first task is permuted too (Hsu et al. keep the original images)",
        (SHIFT + "test_permuted_tasks_shuffle_the_same_pixels_of_the_same_images",),
    ),
    Mutant(
        "shifted-test-set-not-transformed",
        "sleepjax/_shifted.py",
        "return t(x_train), y_train, t(x_eval), y_eval",
        "return t(x_train), y_train, x_eval, y_eval",
        "every permuted task is tested on the unpermuted test images",
        (SHIFT + "test_permuted_tasks_shuffle_the_same_pixels_of_the_same_images",),
    ),
    Mutant(
        "wake-trains-on-padding",
        "sleepjax/_wake.py",
        'x, y, valid = task.x, task.y, getattr(task, "valid", None)',
        "x, y, valid = task.x, task.y, None",
        "wake ignores a task's padding mask and trains on the filler copies",
        (TRAIN + "test_wake_never_draws_a_padding_slot", TRAIN + "test_a_stream_hands_its_padding_mask_to_the_task"),
    ),
    Mutant(
        "wake-steps-rounded-down",
        "sleepjax/_wake.py",
        "blocks = -(-steps // num_batches)",
        "blocks = max(1, steps // num_batches)",
        "steps= makes fewer updates when they do not fill whole epochs",
        (TRAIN + "test_steps_make_exactly_that_many_updates",),
    ),
    Mutant(
        "interleave-drops-the-padding-mask",
        "sleepjax/_phases.py",
        'parts = {"x": task.x, "y": task.y, "valid": getattr(task, "valid", None)}',
        'parts = {"x": task.x, "y": task.y}',
        "interleave's chunks keep the whole task's padding mask beside a chunk of its data",
        (TRAIN + "test_interleave_splits_the_padding_mask_with_the_data",),
    ),
    Mutant(
        "memory-stores-padding",
        "sleepjax/methods/replay.py",
        'real = jnp.ones(n, bool) if getattr(task, "valid", None) is None else task.valid',
        "real = jnp.ones(n, bool)",
        "a rehearsal memory stores the filler copies of a padded task",
        (TRAIN + "test_a_memory_never_keeps_a_padding_slot",),
    ),
    Mutant(
        "icarl-exemplars-from-padding",
        "sleepjax/methods/icarl.py",
        "task.y if real is None else jnp.where(real, task.y, -1)",
        "task.y",
        "iCaRL's herding may pick the filler copies of a padded task as exemplars",
        (TRAIN + "test_a_memory_never_keeps_a_padding_slot",),
    ),
    metrics(
        "metrics-after-learning-is-since-learned",
        "return -backward_transfer(r)",
        "return forgetting_since_learned(r)",
        "forgetting from the accuracy just after learning takes the best accuracy since instead",
    ),
    metrics(
        "metrics-incremental-over-unseen-tasks",
        "per_step = np.where(seen, r, 0.0).sum(axis=-1) / np.arange(1, t + 1)",
        "per_step = r.mean(axis=-1)",
        "average incremental accuracy averages each step over every task, seen or not",
    ),
    Mutant(
        "compare-seeds-one-call-each",
        "sleepjax/app/compare.py",
        "chunk_size=chunk_size or len(seeds),",
        "chunk_size=chunk_size or 1,",
        "a method's seeds run one compiled call each instead of one vmapped program",
        (COMPARE + "test_record_holds_summaries_matrices_and_wall_time",),
    ),
    Mutant(
        "compare-override-reaches-every-method",
        "sleepjax/app/compare.py",
        'if target in ("", method) and name in names',
        "if name in names",
        "--hparam online-ewc:ewc.lambda=... also changes EWC's lambda",
        (COMPARE + "test_a_method_qualified_override_changes_that_method_only",),
    ),
    Mutant(
        "compare-memory-larger-than-data-runs",
        "sleepjax/app/compare.py",
        "if method in MEMORY_METHODS and memory > available:",
        "if False:",
        "a memory larger than the data is not refused before the runs start",
        (COMPARE + "test_a_memory_larger_than_the_data_is_refused_before_computing",),
    ),
    Mutant(
        "compare-src-on-hsu-network",
        "sleepjax/app/compare_methods.py",
        "return dataclasses.replace(self, bias=False, input_format=InputFormat(pad=self.input_format.pad))",
        "return self",
        "the SRC methods run Hsu et al.'s network (biases, standardised inputs), which SRC cannot sleep",
        (COMPARE + "test_src_methods_run_the_protocol_src_can_sleep",),
    ),
    Mutant(
        "compare-published-beside-any-protocol",
        "sleepjax/app/compare_report.py",
        'if identity.get("split") != "test" or identity["protocol"] != as_json(dataclasses.asdict(PROTOCOLS[name])):',
        'if identity.get("split") != "test":',
        "the published means are set beside a run whose protocol differs from the published one",
        (COMPARE + "test_published_means_apply_only_to_the_published_protocol_on_test",),
    ),
    Mutant(
        "compare-average-is-pooled",
        "sleepjax/app/compare_report.py",
        '"average_accuracy": mean_sd(metrics.average_accuracy(accuracy) if _square(accuracy) else final.mean(axis=1)),',
        '"average_accuracy": mean_sd(metrics.overall_accuracy(final, test_sizes)),',
        "Hsu et al.'s average accuracy (mean over tasks) is computed as the pooled accuracy",
        (COMPARE + "test_summaries_of_hand_made_matrices",),
    ),
    Mutant(
        "compare-resume-ignores-strengths",
        "sleepjax/app/compare.py",
        'changed = differences(stored.get("settings"), method_settings(setup))',
        "changed = []",
        "a record is resumed with other strengths, mixing seeds run with different settings",
        (COMPARE + "test_rerun_resumes_and_refuses_other_strengths",),
    ),
)
MUTANTS += SCENARIO_MUTANTS
MUTANTS += STORE_MUTANTS


def run_tests(root: Path, tests: tuple[str, ...]) -> subprocess.CompletedProcess:
    """Run pytest on ``tests`` in the copy at ``root``, importing sleepjax from that copy."""
    env = os.environ | {"PYTHONPATH": str(root), "PYTHONDONTWRITEBYTECODE": "1"}
    command = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *tests]
    return subprocess.run(command, cwd=root, env=env, capture_output=True, text=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help="mutants to run (default: all)")
    parser.add_argument("--list", action="store_true", help="list the mutants and exit")
    parser.add_argument("--only", metavar="PREFIX", help="run the mutants whose names start with PREFIX")
    args = parser.parse_args(argv)

    by_name = {m.name: m for m in MUTANTS}
    if len(by_name) != len(MUTANTS):
        parser.error("two mutants share a name")
    unknown = [n for n in args.names if n not in by_name]
    if unknown:
        parser.error(f"unknown mutant(s): {', '.join(unknown)}; see --list")
    chosen = [by_name[n] for n in args.names] if args.names else list(MUTANTS)
    if args.only:
        chosen = [m for m in chosen if m.name.startswith(args.only)]
        if not chosen:
            parser.error(f"no mutant name starts with {args.only!r}; see --list")
    if args.list:
        for m in chosen:
            print(f"{m.name:40s} {m.file}: {m.mistake}")
        return 0

    for m in chosen:
        count = (ROOT / m.file).read_text().count(m.old)
        if count != 1:
            print(f"mutant {m.name}: its text occurs {count} times in {m.file}, expected once: update it")
            return 2

    with tempfile.TemporaryDirectory(prefix="sleepjax-mutants-") as scratch:
        root = Path(scratch) / "repo"
        shutil.copytree(ROOT, root, ignore=COPY_IGNORE)
        baseline_tests = tuple(sorted({t for m in chosen for t in m.tests}))
        baseline = run_tests(root, baseline_tests)
        if baseline.returncode != 0:
            print(f"the unmutated code fails {' '.join(baseline_tests)}; fix that first:\n{baseline.stdout[-3000:]}")
            return 2

        survivors = []
        for m in chosen:
            path = root / m.file
            original = path.read_text()
            path.write_text(original.replace(m.old, m.new))
            start = time.perf_counter()
            try:
                result = run_tests(root, m.tests)
            finally:
                path.write_text(original)
            seconds = time.perf_counter() - start
            if result.returncode == 0:
                survivors.append(m)
                verdict = "SURVIVED"
            elif result.returncode == 1:
                verdict = "killed"
            else:
                print(f"mutant {m.name}: pytest exited with {result.returncode}:\n{result.stdout[-3000:]}")
                return 2
            print(f"{verdict:8s} {m.name:40s} {seconds:5.1f} s  {m.mistake}", flush=True)

    print(f"\n{len(chosen) - len(survivors)} of {len(chosen)} mutants killed")
    for m in survivors:
        print(f"survivor: {m.name} ({m.file}): {m.mistake}")
    return 1 if survivors else 0


if __name__ == "__main__":
    sys.exit(main())
