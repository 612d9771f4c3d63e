"""What every benchmark script shares: loading its data the same way and writing its result record.

The scripts are run as ``python benchmarks/NAME.py`` (so this directory is on ``sys.path``).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import jax

from sleepjax._datasets import Dataset, load_mnist
from sleepjax.app.records import environment


def load_data(data_dir: str | None) -> Dataset:
    """MNIST from the idx files in ``data_dir``, or the bundled subset without one; prints what was loaded,
    the backend and the load average (speed figures on a shared machine mean little without it)."""
    dataset = load_mnist("idx" if data_dir else "bundled", data_dir)
    print(f"data: {dataset.source}; backend: {jax.default_backend()}; load average {os.getloadavg()}", flush=True)
    return dataset


def write_result(path: str | os.PathLike, result: dict) -> None:
    """Write a benchmark's result record as indented JSON (creating its directory) and say where; the
    record starts with what the figures were measured on: backend, versions, CPU count, load average."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    context = {
        "backend": jax.default_backend(),
        "environment": environment(),
        "cpu_count": os.cpu_count(),
        "load_average_at_end": os.getloadavg(),
    }
    path.write_text(json.dumps({**context, **result}, indent=1) + "\n")
    print(f"written to {path}")
