"""Run one group of an experiment (an arm, a condition) for some seeds, storing each chunk as it ends.

Every experiment runs its groups the same way: the seeds still missing from the record go through
:func:`sleepjax.run_seeds` in chunks (one compiled program, vmapped over the seeds of a chunk); as soon
as a chunk finishes, each of its seeds gets its entry in ``record.group(group)["runs"]``, the record is
saved, and a pending Ctrl-C stops the command there (:func:`sleepjax.app.interrupt.check_stop`), so an
interrupted run loses nothing already finished. A progress bar counts the compiled calls.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import jax
import numpy as np

from sleepjax._chunking import chunk_members, member_bytes
from sleepjax._continual import Evaluate, RunResult
from sleepjax._engine import run_seeds
from sleepjax.app.interrupt import check_stop
from sleepjax.app.records import Record

Entries = Callable[[np.ndarray, RunResult], list[dict]]
"""``entries(chunk_seeds, result)``: the experiment's own part of the record entry of each seed of a
finished chunk, in order (what every entry has is added by :func:`run_and_store`)."""


def without_flags(metrics):
    """``metrics`` without the ``invalid`` flags phases report (the engine raised for any that was set, so
    in a stored run they are all false and say nothing)."""
    if isinstance(metrics, dict):
        return {name: without_flags(m) for name, m in metrics.items() if name != "invalid"}
    if isinstance(metrics, tuple | list):
        return type(metrics)(without_flags(m) for m in metrics)
    return metrics


def run_and_store(
    record: Record,
    group: str,
    seeds: Sequence[int],
    entries: Entries,
    *,
    phase,
    make_params: Callable,
    tasks,
    evaluate: Evaluate,
    hparams: Any,
    chunk_size: int | None,
    progress: bool,
) -> None:
    """Run ``group`` for ``seeds`` and store each seed's entry (plus its ``phase_metrics``, each phase's
    metrics per task as lists, its wall time ``seconds``, the chunk's time shared by its seeds, and
    ``chunk_size``) in ``record``, saving after every chunk.

    ``chunk_size``: seeds per compiled call (default: one on the CPU, as many as fit on an accelerator).
    """
    runs = record.group(group)["runs"]
    per_chunk = chunk_members(
        len(seeds), 1, chunk_size, None, lambda: member_bytes(phase, make_params, tasks, evaluate, hparams)
    )
    clock = [time.perf_counter()]

    def on_chunk_end(chunk_seeds, result):
        seconds = (time.perf_counter() - clock[0]) / len(chunk_seeds)
        metrics = without_flags(result.metrics)
        for i, (seed, entry) in enumerate(zip(chunk_seeds, entries(chunk_seeds, result), strict=True)):
            own = jax.tree.map(lambda a, i=i: a[i].tolist(), metrics)
            runs[str(int(seed))] = {**entry, "phase_metrics": own, "seconds": seconds, "chunk_size": per_chunk}
        record.save()
        clock[0] = time.perf_counter()
        check_stop(record.describe())

    run_seeds(
        phase,
        make_params,
        tasks,
        evaluate,
        hparams,
        seeds,
        chunk_size=per_chunk,
        progress=f"{group} ({len(seeds)} seeds)" if progress else False,
        on_chunk_end=on_chunk_end,
    )
