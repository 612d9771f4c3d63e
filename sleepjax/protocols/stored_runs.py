"""Run one group of an experiment (an arm, a condition) for some seeds, storing each chunk as it ends.

Every experiment runs its groups the same way: the seeds still missing from the record go through
:func:`sleepjax.run.run_seeds` in chunks (one compiled program, vmapped over the seeds of a chunk); as
soon as a chunk finishes, each of its seeds gets its entry in ``record.group(group)["runs"]``, the record
is saved, and a pending Ctrl-C stops the command there (:func:`sleepjax.interrupt.check_stop`), so an
interrupted run loses nothing already finished. A progress bar counts tasks (or blocks) over all chunks.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import jax
import numpy as np
from tqdm.auto import tqdm

from sleepjax.interrupt import check_stop
from sleepjax.record import Record
from sleepjax.run import Evaluate, RunResult, num_tasks, resolve_chunk_size, run_seeds

Entries = Callable[[np.ndarray, RunResult], list[dict]]
"""``entries(chunk_seeds, result)``: the experiment's own part of the record entry of each seed of a
finished chunk, in order (what every entry has is added by :func:`run_and_store`)."""


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
    unit: str,
    progress: bool,
) -> None:
    """Run ``group`` for ``seeds`` and store each seed's entry (plus its ``phase_metrics``, each phase's
    metrics per task as lists, its wall time ``seconds``, the chunk's time shared by its seeds, and
    ``chunk_size``) in ``record``, saving after every chunk.

    ``unit`` names what one step of the progress bar is (one per task of ``tasks`` and seed chunk).
    """
    runs = record.group(group)["runs"]
    per_chunk = resolve_chunk_size(chunk_size, len(seeds))
    n_chunks = -(-len(seeds) // per_chunk)
    bar = tqdm(total=n_chunks * num_tasks(tasks), desc=f"{group} ({len(seeds)} seeds)", unit=unit, disable=not progress)
    clock = [time.perf_counter()]

    def on_chunk_end(chunk_seeds, result):
        seconds = (time.perf_counter() - clock[0]) / len(chunk_seeds)
        for i, (seed, entry) in enumerate(zip(chunk_seeds, entries(chunk_seeds, result), strict=True)):
            metrics = jax.tree.map(lambda a, i=i: a[i].tolist(), result.metrics)
            runs[str(int(seed))] = {**entry, "phase_metrics": metrics, "seconds": seconds, "chunk_size": per_chunk}
        record.save()
        clock[0] = time.perf_counter()
        check_stop(record.describe())

    try:
        run_seeds(
            phase,
            make_params,
            tasks,
            evaluate,
            hparams,
            seeds,
            per_chunk,
            on_task_end=lambda _t: bar.update(1),
            on_chunk_end=on_chunk_end,
        )
    finally:
        bar.close()
