"""The reliability table: bad inputs run through the real ``sleepjax`` command, and what came of each.

Every case runs ``python -m sleepjax.app.cli ...`` in a subprocess (from this checkout, in a scratch
directory, on tiny settings) and records what was tried, the last line the command printed on stderr,
its exit code, and what was kept of the record. A case also states the exit code it must give; the
script fails (exit 1) if any case gives another, or prints a Python traceback, so the table is a check
as well as documentation.

    python experiments/reliability_table.py              # writes docs/reference/reliability.md
    python experiments/reliability_table.py --out -      # prints the table instead

Cases are entries of :data:`CASES`, for every command (``run split-mnist``, ``run foraging``, ``run lca``,
``sweep``, ``tune``): a :class:`Case` with the arguments, an optional ``setup`` that prepares files in the
scratch directory, and a ``kept`` that says what survived.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from sleepjax._idx import write_idx_dir

ROOT = Path(__file__).resolve().parents[1]
TINY = ["--examples-per-task", "200", "--epochs", "1", "--no-progress"]
SPLIT = ["run", "split-mnist", "--arms", "finetune"]
FORAGING = ["run", "foraging", "--no-progress"]
LCA = ["run", "lca", "--tiny", "--source", "bundled", "--no-progress"]
SWEEP = ["sweep", "split-mnist", *TINY]
TUNE = ["tune", "split-mnist", "--save-vector", "{tmp}/best.json", "--no-progress"]
TIMEOUT_S = 600


@dataclasses.dataclass
class Outcome:
    """What one run of the command gave."""

    code: int
    stderr: str
    stdout: str


@dataclasses.dataclass(frozen=True)
class Case:
    """One bad input.

    Attributes:
        tried: what a user did, in words.
        args: the command's arguments after ``sleepjax`` (``{tmp}`` stands for the scratch directory).
        expect: the exit code the command must give.
        setup: prepares files in the scratch directory before the run.
        kept: says what was kept, from the scratch directory and the outcome.
        env: extra environment variables (``{tmp}`` expanded).
        run: replaces the plain run (e.g. to interrupt the command); returns the outcome and what was kept.
    """

    tried: str
    args: tuple[str, ...]
    expect: int = 2
    setup: Callable[[Path], None] | None = None
    kept: Callable[[Path, Outcome], str] | None = None
    env: dict[str, str] = dataclasses.field(default_factory=dict)
    run: Callable[[Case, Path], tuple[Outcome, str]] | None = None


# --- running the command -----------------------------------------------------------------------------


def expand(text: str, tmp: Path) -> str:
    return text.replace("{tmp}", str(tmp))


def command(case: Case, tmp: Path) -> list[str]:
    return [sys.executable, "-m", "sleepjax.app.cli", *(expand(a, tmp) for a in case.args)]


def child_env(case: Case, tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "SLEEPJAX_DATA_DIR"}
    pythonpath = [expand(v, tmp) for v in case.env.get("PYTHONPATH", "").split(os.pathsep) if v]
    env.update({k: expand(v, tmp) for k, v in case.env.items()})
    env.update(PYTHONPATH=os.pathsep.join([*pythonpath, str(ROOT)]), PYTHONDONTWRITEBYTECODE="1")
    return env


def run_plain(case: Case, tmp: Path, preexec=None) -> Outcome:
    done = subprocess.run(
        command(case, tmp),
        cwd=tmp,
        env=child_env(case, tmp),
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        preexec_fn=preexec,
    )
    return Outcome(done.returncode, done.stderr, done.stdout)


# --- what was kept -------------------------------------------------------------------------------------

OUT = "{tmp}/rec.json"


def runs_in(path: Path) -> dict[str, list[int]]:
    """Finished seeds per arm in a record file."""
    data = json.loads(path.read_text())
    return {arm: sorted(int(s) for s in entry["runs"]) for arm, entry in data["arms"].items()}


def describe_runs(path: Path) -> str:
    runs = runs_in(path)
    return "; ".join(f"{arm} seeds {', '.join(map(str, seeds))}" for arm, seeds in runs.items() if seeds) or "no run"


def no_record(tmp: Path, outcome: Outcome) -> str:
    out = tmp / "rec.json"
    return "nothing computed; no record written" if not out.exists() else f"record written: {describe_runs(out)}"


def unchanged(tmp: Path, outcome: Outcome) -> str:
    """For cases whose setup saved the record's bytes in ``rec.json.before``."""
    same = (tmp / "rec.json").read_bytes() == (tmp / "rec.json.before").read_bytes()
    return "nothing computed; record file unchanged" if same else "RECORD CHANGED"


def nothing_written(tmp: Path, outcome: Outcome) -> str:
    return "nothing computed or written"


# --- setups ------------------------------------------------------------------------------------------------


def reference_record(tmp: Path) -> Path:
    """A real record of seed 0 (fine-tune arm), made once and copied into each case that needs one."""
    cache = Path(tempfile.gettempdir()) / f"sleepjax-reliability-{os.getpid()}.json"
    if not cache.exists():
        maker = Case("", (*SPLIT, "--out", str(cache), *TINY), expect=0)
        outcome = run_plain(maker, tmp)
        if outcome.code != 0:
            raise SystemExit(f"could not make the reference record:\n{outcome.stderr}")
    return cache


def existing(edit: Callable[[dict], object] | None = None, raw: bytes | None = None):
    """A setup writing ``rec.json``: raw bytes, or the reference record edited by ``edit``."""

    def setup(tmp: Path) -> None:
        if raw is not None:
            content = raw
        else:
            data = json.loads(reference_record(tmp).read_text())
            if edit is not None:
                edit(data)
            content = json.dumps(data).encode()
        (tmp / "rec.json").write_bytes(content)
        (tmp / "rec.json.before").write_bytes(content)

    return setup


def make_file(name: str) -> Callable[[Path], None]:
    return lambda tmp: (tmp / name).write_text("not a directory")


def link(name: str, target: str) -> Callable[[Path], None]:
    return lambda tmp: os.symlink(expand(target, tmp), tmp / name)


def read_only_dir(tmp: Path) -> None:
    (tmp / "ro").mkdir()
    (tmp / "ro").chmod(0o500)


def idx_dir(corrupt: Callable[[Path], None] | None = None) -> Callable[[Path], None]:
    """The bundled subset written as the four idx files in ``{tmp}/mnist``, then ``corrupt`` applied."""

    def setup(tmp: Path) -> None:
        with np.load(ROOT / "sleepjax" / "_data" / "mnist_subset.npz") as f:
            directory = write_idx_dir(tmp / "mnist", f["x_train"], f["y_train"], f["x_test"], f["y_test"])
        if corrupt is not None:
            corrupt(directory)

    return setup


def truncate(directory: Path) -> None:
    path = directory / "train-images-idx3-ubyte"
    path.write_bytes(path.read_bytes()[:50_000])


def absurd_header(directory: Path) -> None:
    path = directory / "train-images-idx3-ubyte"
    payload = path.read_bytes()
    path.write_bytes(payload[:4] + (2**31 - 1).to_bytes(4, "big") + payload[8:])


def no_matplotlib(tmp: Path) -> None:
    """A ``matplotlib`` package shadowing the real one that cannot be imported, as if not installed."""
    shadow = tmp / "shadow" / "matplotlib"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text("raise ModuleNotFoundError(\"No module named 'matplotlib'\")\n")


# --- cases that need more than one plain run ---------------------------------------------------------------


def disk_full(case: Case, tmp: Path) -> tuple[Outcome, str]:
    """The record may not grow past its size after seed 0 (a file-size limit: writes fail with EFBIG as
    on a full disk), so the save of seed 1 fails mid-run."""
    limit = reference_record(tmp).stat().st_size + 200

    def limit_file_size():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, resource.RLIM_INFINITY))

    outcome = run_plain(case, tmp, preexec=limit_file_size)
    out = tmp / "rec.json"
    if not out.exists():
        return outcome, "NO RECORD"
    kept = runs_in(out)["finetune"]
    return outcome, (
        f"record holds finetune seeds {', '.join(map(str, kept))} (saved before the failure); "
        f"seed {len(kept)} was computed but could not be saved; later seeds not started"
    )


def interrupted(case: Case, tmp: Path) -> tuple[Outcome, str]:
    """Ctrl-C (SIGINT to the command) once the record holds a first seed; then the same command again."""
    out = tmp / "rec.json"
    child = subprocess.Popen(
        command(case, tmp), cwd=tmp, env=child_env(case, tmp), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + TIMEOUT_S
    while time.monotonic() < deadline and child.poll() is None:
        if out.exists() and any(runs_in(out).values()):
            break
        time.sleep(0.05)
    at_signal = describe_runs(out) if out.exists() else "no record"
    child.send_signal(signal.SIGINT)
    stdout, stderr = child.communicate(timeout=TIMEOUT_S)
    outcome = Outcome(child.returncode, stderr, stdout)
    after_stop = runs_in(out)["finetune"]
    first = json.loads(out.read_text())["arms"]["finetune"]["runs"]
    rerun = run_plain(case, tmp)
    final = json.loads(out.read_text())["arms"]["finetune"]["runs"]
    resumed = rerun.code == 0 and sorted(map(int, final)) == [0, 1, 2]
    untouched = all(final[s] == first[s] for s in first)
    not_started = [s for s in (0, 1, 2) if s not in after_stop]
    kept = (
        f"Ctrl-C when the record held {at_signal}; the seed in progress finished and was saved: kept finetune "
        f"seeds {', '.join(map(str, after_stop))}, not started: {', '.join(map(str, not_started)) or 'none'}; "
        f"the same command again: exit {rerun.code}, "
        + (
            "ran only the missing seeds (the kept runs, wall times included, are unchanged)"
            if resumed and untouched
            else "DID NOT RESUME CLEANLY"
        )
    )
    return outcome, kept


# --- the cases ----------------------------------------------------------------------------------------------

CASES: list[Case] = [
    # argument syntax
    Case("no experiment named", ("run",), kept=nothing_written),
    Case("seed that wraps around to seed 0", (*SPLIT, "--seeds", "0,4294967296", *TINY), kept=nothing_written),
    Case("negative seed", (*SPLIT, "--seeds=-1,2", *TINY), kept=nothing_written),
    Case("a seed listed twice", (*SPLIT, "--seeds", "3,3", *TINY), kept=nothing_written),
    Case("absurd seed count", (*SPLIT, "--seeds", "100001", *TINY), kept=nothing_written),
    Case("unknown arm", ("run", "split-mnist", "--arms", "sleepless", *TINY), kept=nothing_written),
    Case("zero epochs", (*SPLIT, "--examples-per-task", "200", "--epochs", "0"), kept=nothing_written),
    Case("a class in two tasks", (*SPLIT, "--task-classes", "0,1/1,2", *TINY), kept=nothing_written),
    # settings checked before computing
    Case(
        "sleep lengths that overflow the step counter",
        ("run", "split-mnist", "--out", OUT, "--sleep-steps", "2000000000", "2000000000", *TINY),
        kept=no_record,
    ),
    Case(
        "more examples per task than the data hold",
        (*SPLIT, "--out", OUT, "--examples-per-task", "5000", "--epochs", "1", "--no-progress"),
        kept=no_record,
    ),
    Case("unknown SRC vector", (*SPLIT, "--out", OUT, "--src-hparams", "nonesuch", *TINY), kept=no_record),
    # the output path
    Case("--out naming a directory", (*SPLIT, "--out", "{tmp}", *TINY), kept=nothing_written),
    Case(
        "--out under a path whose parent is a file",
        (*SPLIT, "--out", "{tmp}/file/rec.json", *TINY),
        setup=make_file("file"),
        kept=nothing_written,
    ),
    Case(
        "--out in a read-only directory",
        (*SPLIT, "--out", "{tmp}/ro/rec.json", *TINY),
        setup=read_only_dir,
        kept=nothing_written,
    ),
    Case(
        "--out a link to nothing",
        (*SPLIT, "--out", OUT, *TINY),
        setup=link("rec.json", "{tmp}/gone/rec.json"),
        kept=nothing_written,
    ),
    Case(
        "--out a link to a directory",
        (*SPLIT, "--out", OUT, *TINY),
        setup=link("rec.json", "{tmp}"),
        kept=nothing_written,
    ),
    # existing records
    Case("--out an existing JSON list", (*SPLIT, "--out", OUT, *TINY), setup=existing(raw=b"[1, 2]"), kept=unchanged),
    Case(
        "--out a binary file", (*SPLIT, "--out", OUT, *TINY), setup=existing(raw=b"\x89PNG\r\n\x1a\n\0"), kept=unchanged
    ),
    Case(
        "--out JSON nested 100000 deep",
        (*SPLIT, "--out", OUT, *TINY),
        setup=existing(raw=b"[" * 100_000 + b"]" * 100_000),
        kept=unchanged,
    ),
    Case(
        "record with an accuracy of 1.5",
        (*SPLIT, "--out", OUT, *TINY),
        setup=existing(lambda d: d["arms"]["finetune"]["runs"]["0"]["accuracy"][0].__setitem__(0, 1.5)),
        kept=unchanged,
    ),
    Case(
        "record with arms of the wrong type",
        (*SPLIT, "--out", OUT, *TINY),
        setup=existing(lambda d: d.update(arms=[])),
        kept=unchanged,
    ),
    Case(
        "record with a run under the key '00'",
        (*SPLIT, "--out", OUT, *TINY),
        setup=existing(lambda d: d["arms"]["finetune"]["runs"].update({"00": d["arms"]["finetune"]["runs"]["0"]})),
        kept=unchanged,
    ),
    Case(
        "record made with other settings (2 epochs, now 1)",
        (*SPLIT, "--out", OUT, *TINY),
        setup=existing(lambda d: d["identity"]["config"].update(epochs=2)),
        kept=unchanged,
    ),
    # data
    Case("--data-dir an empty directory", (*SPLIT, "--data-dir", "{tmp}", *TINY), kept=nothing_written),
    Case(
        "$SLEEPJAX_DATA_DIR naming a missing directory",
        (*SPLIT, *TINY),
        env={"SLEEPJAX_DATA_DIR": "{tmp}/nowhere"},
        kept=nothing_written,
    ),
    Case(
        "--data-dir with --source bundled",
        (*SPLIT, "--source", "bundled", "--data-dir", "{tmp}", *TINY),
        kept=nothing_written,
    ),
    Case("--source idx without a directory", (*SPLIT, "--source", "idx", *TINY), kept=nothing_written),
    Case(
        "--source tfds without a network",
        (*SPLIT, "--source", "tfds", "--data-dir", "{tmp}/tfds", *TINY),
        kept=nothing_written,
    ),
    Case(
        "truncated idx image file",
        (*SPLIT, "--data-dir", "{tmp}/mnist", *TINY),
        setup=idx_dir(truncate),
        kept=nothing_written,
    ),
    Case(
        "idx header promising 2**31 - 1 images",
        (*SPLIT, "--data-dir", "{tmp}/mnist", *TINY),
        setup=idx_dir(absurd_header),
        kept=nothing_written,
    ),
    # figures
    Case(
        "--plot naming a file", (*SPLIT, "--plot", "{tmp}/file", *TINY), setup=make_file("file"), kept=nothing_written
    ),
    Case(
        "--plot without matplotlib installed",
        (*SPLIT, "--plot", "{tmp}/figs", *TINY),
        setup=no_matplotlib,
        env={"PYTHONPATH": "{tmp}/shadow"},
        kept=nothing_written,
    ),
    # failures and interruptions during a run
    Case(
        "the disk fills up after seed 0 is saved (a file-size limit on the command)",
        (*SPLIT, "--seeds", "3", "--out", OUT, *TINY),
        run=disk_full,
    ),
    Case("Ctrl-C once seed 0 is saved", (*SPLIT, "--seeds", "3", "--out", OUT, *TINY), expect=130, run=interrupted),
    # the other commands: the foraging agent, the spiking LCA, sweeps and searches
    Case("foraging: a NaN constant", (*FORAGING, "--hparam", "learn_gain=nan", "--out", OUT), kept=no_record),
    Case("foraging: a negative release variability", (*FORAGING, "--hparam", "release=-1"), kept=nothing_written),
    Case("foraging: a misspelt constant", (*FORAGING, "--hparam", "learn_gian=3"), kept=nothing_written),
    Case("foraging: 10^8 trials", (*FORAGING, "--trials", "100000000"), kept=nothing_written),
    Case("foraging: --out holding a split-MNIST record", (*FORAGING, "--out", OUT), setup=existing(), kept=unchanged),
    Case("lca: an infinite threshold", (*LCA, "--threshold", "inf", "--out", OUT), kept=no_record),
    Case("lca: a NaN sleep level", (*LCA, "--sleep-level", "nan"), kept=nothing_written),
    Case("lca: --sweep-freq without --sweep-amp", (*LCA, "--sweep-freq", "1,8"), kept=nothing_written),
    Case("lca: --out holding a split-MNIST record", (*LCA, "--out", OUT), setup=existing(), kept=unchanged),
    Case("sweep: a NaN in the grid", (*SWEEP, "--grid", "sleep.src.inc=0.01,nan", "--out", OUT), kept=no_record),
    Case("sweep: a misspelt hyperparameter", (*SWEEP, "--grid", "sleep.src.betta[1]=2"), kept=nothing_written),
    Case("sweep: an index past the layers", (*SWEEP, "--grid", "sleep.src.beta[7]=2"), kept=nothing_written),
    Case("sweep: a configuration file that is missing", (*SWEEP, "--configs", "{tmp}/grid.toml"), kept=nothing_written),
    Case(
        "sweep: --out holding a split-MNIST record",
        (*SWEEP, "--grid", "sleep.src.inc=0.01,0.02", "--out", OUT),
        setup=existing(),
        kept=unchanged,
    ),
    Case(
        "tune: nothing left to validate on (every bundled example trains)",
        (*TUNE, "--source", "bundled", "--out", OUT),
        kept=no_record,
    ),
    Case("tune: CMA-ES with a population of 2", (*TUNE, "--population", "2"), kept=nothing_written),
    Case("tune: an unknown search space", (*TUNE, "--space", "everything"), kept=nothing_written),
]


def skip_reason(case: Case) -> str | None:
    if case.setup is read_only_dir and os.geteuid() == 0:
        return "not run: root can write into read-only directories"
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--out", default=str(ROOT / "docs" / "reference" / "reliability.md"), help="markdown file, or - to print"
    )
    args = parser.parse_args(argv)

    rows, failures = [], []
    with tempfile.TemporaryDirectory(prefix="sleepjax-reliability-") as scratch_root:
        try:
            for i, case in enumerate(CASES):
                tmp = Path(scratch_root) / f"case{i:02d}"
                tmp.mkdir()
                shown = " ".join(["sleepjax", *case.args]).replace("{tmp}", "$TMP")
                env_shown = " ".join(f"{k}={v}" for k, v in case.env.items() if k != "PYTHONPATH")
                shown = f"{env_shown} {shown}".replace("{tmp}", "$TMP").strip()
                reason = skip_reason(case)
                if reason is not None:
                    rows.append((case.tried, shown, "-", reason, "-"))
                    continue
                if case.setup is not None:
                    case.setup(tmp)
                if case.run is not None:
                    outcome, kept = case.run(case, tmp)
                else:
                    outcome = run_plain(case, tmp)
                    kept = case.kept(tmp, outcome) if case.kept is not None else "-"
                lines = outcome.stderr.strip().splitlines()
                message = (lines[-1] if lines else "(nothing on stderr)").replace(str(tmp), "$TMP")
                problems = []
                if outcome.code != case.expect:
                    problems.append(f"exit {outcome.code}, expected {case.expect}")
                if "Traceback" in outcome.stderr:
                    problems.append("printed a traceback")
                if any(word in kept for word in ("CHANGED", "NO RECORD", "DID NOT")):
                    problems.append(kept)
                if problems:
                    failures.append(f"{case.tried}: {'; '.join(problems)}\n{outcome.stderr[-2000:]}")
                rows.append((case.tried, shown, str(outcome.code), message, kept))
                print(f"{outcome.code:4d}  {case.tried}: {message}", flush=True)
        finally:
            for ro in Path(scratch_root).glob("case*/ro"):
                ro.chmod(0o700)
            Path(tempfile.gettempdir(), f"sleepjax-reliability-{os.getpid()}.json").unlink(missing_ok=True)

    text = render(rows)
    if args.out == "-":
        print(text)
    else:
        Path(args.out).write_text(text)
        print(f"\nwritten to {args.out}")
    for failure in failures:
        print(f"FAILED: {failure}", file=sys.stderr)
    return 1 if failures else 0


def cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render(rows) -> str:
    head = [
        "# Reliability: bad input to the `sleepjax` command",
        "",
        "Made by `python experiments/reliability_table.py` (it fails if a case gives another exit code than",
        "expected or prints a traceback). Each case runs the real command in a subprocess on tiny settings",
        "(bundled data, `--examples-per-task 200 --epochs 1 --no-progress`, `--arms finetune` where a run is",
        "needed; `run lca --tiny`) in a scratch directory `$TMP`. *Message* is the last line the command",
        "printed on stderr. Exit code 2: usage and data errors; 130: interrupted.",
        "",
        "| What was tried | Command | Exit | Message | What was kept |",
        "|---|---|---|---|---|",
    ]
    body = [f"| {cell(t)} | `{cell(c)}` | {e} | {cell(m)} | {cell(k)} |" for t, c, e, m, k in rows]
    return "\n".join(head + body) + "\n"


if __name__ == "__main__":
    sys.exit(main())
