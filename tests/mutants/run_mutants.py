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
    ".git", ".venv", "__pycache__", ".pytest_cache", ".ruff_cache", "build", "*.egg-info", "results"
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


def data(name: str, old: str, new: str, mistake: str) -> Mutant:
    return Mutant(name, "sleepjax/data.py", old, new, mistake, DATA_TESTS)


def metrics(name: str, old: str, new: str, mistake: str) -> Mutant:
    return Mutant(name, "sleepjax/metrics.py", old, new, mistake, METRICS_TESTS)


MUTANTS = (
    # --- sleepjax/data.py: idx files -------------------------------------------------------------
    data(
        "data-no-size-bound",
        "if expected_len > MAX_IDX_PAYLOAD_BYTES:",
        "if False:",
        "a header promising terabytes is not refused up front",
    ),
    data(
        "data-int64-size",
        "expected_len = math.prod(dims)",
        "expected_len = int(np.prod(dims))",
        "the promised size computed in int64, which wraps for absurd headers",
    ),
    data(
        "data-unbounded-read",
        "payload = _read_at_most(f, expected_len + 1)",
        "payload = f.read()",
        "the whole (possibly gigabytes) stream is read, whatever the header promises",
    ),
    data(
        "data-chunk-ignores-remaining",
        "chunk = f.read(min(remaining, _READ_CHUNK_BYTES))",
        "chunk = f.read(_READ_CHUNK_BYTES)",
        "bounded reads overshoot what was asked for",
    ),
    data(
        "data-no-truncation-check",
        "if len(payload) < expected_len:",
        "if False:",
        "a truncated payload is not reported by name",
    ),
    data(
        "data-no-trailing-check",
        "if len(payload) > expected_len:",
        "if False:",
        "data after the promised payload is not reported by name",
    ),
    data(
        "data-no-shape-check",
        "if shape is not None and (",
        "if False and (",
        "the header is not checked against the expected shape",
    ),
    data(
        "data-rank-only-shape-check",
        "any(want is not None and d != want for d, want in zip(dims, shape))",
        "False",
        "images of any size pass as long as the rank is right (32x32 accepted as MNIST)",
    ),
    data(
        "data-no-negative-dim-check",
        "if any(d < 0 for d in dims):",
        "if False:",
        "negative header dimensions are not reported",
    ),
    data(
        "data-unsigned-dims",
        'int.from_bytes(dims_bytes[i : i + 4], "big", signed=True)',
        'int.from_bytes(dims_bytes[i : i + 4], "big", signed=False)',
        "header dimensions read unsigned, as idx int32 fields are not",
    ),
    data(
        "data-no-empty-message",
        "if not head:",
        "if False:",
        "an empty file is reported as a truncated header",
    ),
    data(
        "data-no-directory-check",
        "if path.is_dir():",
        "if False:",
        "a directory named like an idx file gives an OS error instead of saying so",
    ),
    data(
        "data-directory-counts-as-missing",
        "existing = [p for p in candidates if p.exists()]",
        "existing = [p for p in candidates if p.is_file()]",
        "a directory named like an idx file is reported as a missing file",
    ),
    data(
        "data-permission-as-generic-error",
        "except PermissionError:",
        "except NotImplementedError:",
        "an unreadable file is not reported as a permission problem",
    ),
    data(
        "data-label-off-by-one",
        'if kind == "labels" and array.max() >= NUM_CLASSES:',
        'if kind == "labels" and array.max() > NUM_CLASSES:',
        "label 10 accepted as a digit",
    ),
    data(
        "data-no-empty-split-check",
        "if len(array) == 0:",
        "if False:",
        "a file with no examples is not reported by name",
    ),
    data(
        "data-no-count-mismatch-check",
        "if len(arrays[i]) != len(arrays[i + 1]):",
        "if False:",
        "an image file and its label file may disagree in length",
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
)


def run_tests(root: Path, tests: tuple[str, ...]) -> subprocess.CompletedProcess:
    """Run pytest on ``tests`` in the copy at ``root``, importing sleepjax from that copy."""
    env = os.environ | {"PYTHONPATH": str(root), "PYTHONDONTWRITEBYTECODE": "1"}
    command = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *tests]
    return subprocess.run(command, cwd=root, env=env, capture_output=True, text=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help="mutants to run (default: all)")
    parser.add_argument("--list", action="store_true", help="list the mutants and exit")
    args = parser.parse_args(argv)

    by_name = {m.name: m for m in MUTANTS}
    if len(by_name) != len(MUTANTS):
        parser.error("two mutants share a name")
    unknown = [n for n in args.names if n not in by_name]
    if unknown:
        parser.error(f"unknown mutant(s): {', '.join(unknown)}; see --list")
    chosen = [by_name[n] for n in args.names] if args.names else list(MUTANTS)
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
