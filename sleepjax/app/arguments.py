"""The command line's argument types and shared option groups.

Each type turns one flag's text into a value or raises ``argparse.ArgumentTypeError`` naming the flag;
checks that the library already makes (seeds, arms) are the library's, translated into that error.
"""

from __future__ import annotations

import argparse

from sleepjax._datasets import DATA_DIR_ENV, SOURCES
from sleepjax._engine import check_seeds
from sleepjax.app import split_mnist

#: Runs one command may ask for (seeds or trials): far beyond any real use, and refused before an absurd
#: request starts allocating.
MAX_RUNS = 100_000
#: Widest hidden layer ``--width`` takes (a 784-16384-16384-10 network holds 280 M weights, over 1 GiB).
MAX_WIDTH = 16384


def parse_seeds(text: str) -> list[int]:
    """``"5"`` means seeds 0..4; ``"3,7,11"`` lists seeds explicitly (distinct, in 0 .. 2**32 - 1, as
    :func:`sleepjax._engine.check_seeds` requires)."""
    try:
        if "," in text:
            seeds = [int(s) for s in text.split(",") if s.strip()]
        else:
            n = int(text)
            if not 1 <= n <= MAX_RUNS:
                raise argparse.ArgumentTypeError(f"--seeds count must be in 1..{MAX_RUNS}, got {n}")
            seeds = list(range(n))
    except ValueError:
        raise argparse.ArgumentTypeError(f"--seeds takes a count or a comma-separated list, got {text!r}") from None
    try:
        return [int(s) for s in check_seeds(seeds)]
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"--seeds {text!r}: {err}") from None


def parse_arms(text: str) -> list[str]:
    """``"src,joint"``: arms of split MNIST, checked by :func:`sleepjax.app.split_mnist.check_arms`."""
    try:
        return split_mnist.check_arms([a.strip() for a in text.split(",") if a.strip()])
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def parse_task_classes(text: str) -> tuple[tuple[int, ...], ...]:
    """``"9,8/7,6/5,4/3,2/1,0"``: tasks separated by ``/``, each a comma-separated list of classes."""
    try:
        tasks = tuple(tuple(int(c) for c in task.split(",")) for task in text.split("/"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--task-classes takes tasks separated by '/' of comma-separated digits, e.g. 9,8/7,6/5,4/3,2/1,0; "
            f"got {text!r}"
        ) from None
    flat = [c for t in tasks for c in t]
    if len(set(flat)) != len(flat) or not all(0 <= c <= 9 for c in flat):
        raise argparse.ArgumentTypeError(f"--task-classes must use distinct digits 0..9, got {text!r}")
    return tasks


def int_at_least(minimum: int, what: str, maximum: int | None = None):
    """An argparse type: an integer of at least ``minimum`` (and at most ``maximum`` if given; ``what``
    names it in the error)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a {what} integer, got {text!r}") from None
        if value < minimum or (maximum is not None and value > maximum):
            raise argparse.ArgumentTypeError(f"expected a {what} integer, got {value}")
        return value

    return parse


positive_int = int_at_least(1, "positive")


def int_or_text(text: str) -> int | str:
    """An integer, or the text as given: for settings whose range the command checks itself, so that a
    value out of range ends in the command's one-line error naming the flag."""
    try:
        return int(text)
    except ValueError:
        return text


non_negative_int = int_at_least(0, "non-negative")


run_count = int_at_least(1, f"positive (at most {MAX_RUNS})", MAX_RUNS)


def parse_hparam(text: str) -> tuple[str, float]:
    """``NAME=VALUE`` overriding one foraging hyperparameter."""
    name, sep, value = text.partition("=")
    try:
        number = float(value)
    except ValueError:
        number = None
    if not sep or number is None:
        raise argparse.ArgumentTypeError(f"--hparam takes NAME=VALUE with a number, got {text!r}")
    return name.strip(), number


def parse_floats(text: str) -> list[float]:
    """``"0.5,2,8"``: a comma-separated list of non-negative numbers."""
    try:
        values = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got {text!r}") from None
    if not values or any(not v >= 0 or v == float("inf") for v in values):
        raise argparse.ArgumentTypeError(f"expected comma-separated finite non-negative numbers, got {text!r}")
    return values


def parse_grid(text: str) -> tuple[str, list]:
    """``"sleep.src.inc=0.01,0.03"``: a hyperparameter name and its values (integers stay integers)."""
    name, sep, values = text.partition("=")
    if not sep or not name.strip() or not values.strip():
        raise argparse.ArgumentTypeError(f"--grid takes NAME=V1,V2,..., e.g. sleep.src.inc=0.01,0.03; got {text!r}")
    out = []
    for v in values.split(","):
        try:
            out.append(int(v) if v.strip().lstrip("-").isdigit() else float(v))
        except ValueError:
            raise argparse.ArgumentTypeError(f"--grid {name}: {v!r} is not a number") from None
    return name.strip(), out


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {value}")
    return value


def add_common(parser: argparse.ArgumentParser) -> None:
    """Options every experiment takes: the record, plots, progress."""
    parser.add_argument("--out", default=None, help="JSON record to write; a matching existing record is resumed")
    parser.add_argument("--plot", default=None, metavar="DIR", help="write PNG figures into DIR (needs matplotlib)")
    parser.add_argument("--no-progress", action="store_true", help="hide progress bars")
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="a seconds-long version on the bundled subset (for a first look; what the documentation tests run)",
    )
    parser.add_argument(
        "--no-compilation-cache",
        action="store_true",
        help="compile afresh instead of reusing the compiled programs of an earlier invocation "
        "(kept in $SLEEPJAX_CACHE_DIR, default ~/.cache/sleepjax/jax)",
    )


def add_data(parser: argparse.ArgumentParser) -> None:
    """MNIST source options."""
    parser.add_argument(
        "--data-dir",
        default=None,
        help=f"directory of MNIST idx(.gz) files (default: ${DATA_DIR_ENV}, else the bundled subset)",
    )
    parser.add_argument(
        "--source",
        choices=SOURCES,
        default="auto",
        help="data source: auto (idx dir if given, else bundled), idx, tfds or bundled",
    )


def add_protocol(p: argparse.ArgumentParser) -> None:
    """Settings of the split-MNIST protocol shared by ``run``, ``sweep`` and ``tune``."""
    add_data(p)
    p.add_argument(
        "--epochs",
        type=positive_int,
        default=None,
        help="epochs per task (default: 2, or matched to the reference's SGD updates on smaller data)",
    )
    p.add_argument(
        "--examples-per-task",
        type=positive_int,
        default=None,
        help="training examples per task, the first ones of its classes (default: 5000, or all the data hold)",
    )
    p.add_argument(
        "--task-classes",
        type=parse_task_classes,
        default=split_mnist.SPLIT_MNIST_CLASSES,
        help="class order and split, e.g. 9,8/7,6/5,4/3,2/1,0 (default: 0,1/2,3/4,5/6,7/8,9)",
    )
    p.add_argument(
        "--width",
        type=int_at_least(1, f"positive (at most {MAX_WIDTH})", MAX_WIDTH),
        default=split_mnist.REFERENCE_WIDTH,
        help="units in each of the two hidden layers: 784-WIDTH-WIDTH-10 (default: 1200, the reference; "
        "4000 is the width a public PyTorch port reports with an altered rule)",
    )
    p.add_argument(
        "--src-hparams",
        default="mnist",
        metavar="NAME_OR_FILE",
        help="SRC vector: a name (mnist = the reference) or a JSON vector file (default: mnist)",
    )
    p.add_argument(
        "--sleep-steps",
        type=non_negative_int,
        nargs=2,
        default=None,
        metavar=("BASE", "PER_TASK"),
        help="SRC sleep length after task k: BASE + k * PER_TASK (default: the vector's, 15000 5000)",
    )


def protocol_config(args) -> split_mnist.Config:
    return split_mnist.Config(
        sizes=split_mnist.sizes_of_width(args.width),
        epochs=args.epochs,
        examples_per_task=args.examples_per_task,
        task_classes=args.task_classes,
        sleep_steps=tuple(args.sleep_steps) if args.sleep_steps else None,
        src_hparams=args.src_hparams,
    )


def add_sweep_options(p: argparse.ArgumentParser, example: str, split_default: str, split_help: str) -> None:
    """The options every sweep takes: grid axes (``example`` shows one), a configurations file, seeds and
    the split it is scored on."""
    p.add_argument(
        "--grid",
        type=parse_grid,
        action="append",
        default=[],
        metavar="NAME=V1,V2,...",
        help=f"a grid axis, e.g. {example}",
    )
    p.add_argument("--configs", default=None, metavar="FILE", help="JSON or TOML file with 'grid' or 'configs'")
    p.add_argument("--seeds", type=parse_seeds, default=[0], help="number of seeds (0..N-1) or a list (default: 1)")
    p.add_argument("--split", choices=("test", "validation"), default=split_default, help=split_help)


def add_batch_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--chunk-size",
        type=positive_int,
        default=None,
        help="(configuration, seed) runs per compiled call (default: as many as fit --memory-budget on an "
        "accelerator, one per device on the CPU)",
    )
    p.add_argument(
        "--memory-budget",
        type=positive_float,
        default=None,
        metavar="GIB",
        help="memory per device for one chunk, in GiB (default: half an accelerator's; on the CPU only if given)",
    )


#: What ``--smoke`` sets, per experiment: sizes a 2-core CPU runs in seconds (too small to show any result).
SMOKE_SIZES = {
    "split-mnist": {"examples_per_task": 100, "epochs": 1, "sleep_steps": [64, 16]},
    "foraging": {
        "unsupervised": 2,
        "task1": 4,
        "task2": 4,
        "block": 2,
        "test": 6,
        "curve_block": 2,
        "steps_per_cycle": 12,
    },  # fmt: skip
    "lca": {"tiny": True},
}
#: Runs (seeds, trials, configurations, frequencies) a smoke run keeps at most.
SMOKE_RUNS = 2


def apply_smoke(args) -> None:
    """Shrink a parsed command to its ``--smoke`` version in place: the bundled data, the sizes of
    :data:`SMOKE_SIZES`, at most :data:`SMOKE_RUNS` seeds or trials, and a four-configuration search."""
    if not getattr(args, "smoke", False):
        return
    if hasattr(args, "source"):
        args.source, args.data_dir = "bundled", None
    for name, value in SMOKE_SIZES.get(getattr(args, "experiment", ""), {}).items():
        setattr(args, name, value)
    for name in ("seeds", "search_seeds", "confirm_seeds", "sweep_freq", "sweep_amp"):
        if getattr(args, name, None) is not None:
            setattr(args, name, getattr(args, name)[:SMOKE_RUNS])
    if hasattr(args, "trials"):
        args.trials = min(args.trials, SMOKE_RUNS)
    if getattr(args, "command", None) == "tune":
        args.budget, args.population, args.confirm = 4, 4, min(args.confirm, 1)
