"""How a batch of runs is laid out: the 1-D device mesh its members are sharded over, and how many members
go into one compiled call (a chunk), from a given size, the backend, or a memory budget and the
compiled program's own memory figure.
"""

from __future__ import annotations

import os
from collections.abc import Callable

import equinox as eqx
import jax
import numpy as np

from sleepjax._continual import continual_run
from sleepjax._phases import Phase

__all__ = ["batch_mesh", "chunk_members", "default_memory_budget", "member_bytes"]


def batch_mesh(devices=None) -> jax.sharding.Mesh:
    """A 1-D mesh named ``"batch"`` over ``devices`` (default: every device of the default backend, on
    every host after ``jax.distributed.initialize``)."""
    devices = jax.devices() if devices is None else list(devices)
    return jax.sharding.Mesh(np.asarray(devices), ("batch",))


def default_memory_budget() -> int:
    """Bytes one chunk may use per device: half an accelerator's memory, or a quarter of the host's RAM."""
    stats = jax.devices()[0].memory_stats() or {}
    if "bytes_limit" in stats:
        return int(stats["bytes_limit"] // 2)
    return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 4)


def member_bytes(phase: Phase, make_params, tasks, evaluate, hparams) -> int:
    """Estimated memory of one member of a batch: the compiled program's own figure for one run
    (temporaries and outputs) where the backend reports one, but at least 8 copies of the model's
    parameters (parameters, gradients, optimizer moments and the copies a sleep updates in place), since
    the CPU backend under-reports temporaries."""
    params = eqx.filter_eval_shape(make_params, jax.random.key(0))
    param_bytes = sum(leaf.size * leaf.dtype.itemsize for leaf in jax.tree.leaves(params) if hasattr(leaf, "size"))

    @eqx.filter_jit
    def one(tasks, evaluate, hparams):
        key = jax.random.key(0)
        return continual_run(phase, make_params(key), tasks, evaluate, hparams, key)[:2]

    try:
        stats = one.lower(tasks, evaluate, hparams).compile().memory_analysis()
        reported = int(stats.temp_size_in_bytes + stats.output_size_in_bytes) if stats is not None else 0
    except (AttributeError, NotImplementedError):  # backends without a memory analysis
        reported = 0
    return max(reported, 8 * param_bytes)


def chunk_members(
    num_members: int, num_devices: int, chunk_size: int | None, memory_budget: int | None, estimate: Callable[[], int]
) -> int:
    """Members per compiled call, a multiple of ``num_devices``: ``chunk_size`` where given; else on the
    CPU one per device (a vmapped batch of SRC sleeps measured slower there than the same sleeps one after
    another, ``benchmarks/bench_sweep.py``) unless a ``memory_budget`` is given; else as many per device
    as fit the budget (default :func:`default_memory_budget`) at ``estimate()`` bytes per member."""
    if chunk_size is not None:
        if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1:
            raise ValueError(f"chunk_size must be a positive integer, got {chunk_size!r}")
        chunk = chunk_size
    elif memory_budget is None and jax.default_backend() == "cpu":
        chunk = num_devices
    else:
        budget = default_memory_budget() if memory_budget is None else int(memory_budget)
        if budget <= 0:
            raise ValueError(f"memory_budget must be a positive number of bytes, got {memory_budget}")
        chunk = max(1, budget // max(1, estimate())) * num_devices
    chunk = min(chunk, -(-num_members // num_devices) * num_devices)
    return -(-chunk // num_devices) * num_devices
