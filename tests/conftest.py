"""Test configuration.

Rank promotion raises everywhere, so silent broadcasts fail loudly. Strict dtype promotion is applied
by the ``strict_dtypes`` fixture to the tests of sleepjax's own numerics (optax's Adam is not written
for strict promotion, so it cannot be switched on globally).

Every test module ends by dropping JAX's caches of compiled programs: XLA keeps each CPU executable in
memory mappings of its own, and a whole suite's thousands of programs in one process would exceed the
kernel's limit on mappings (``vm.max_map_count``, 65,530 by default), where compiling segfaults.

The command line switches JAX's persistent compilation cache on by default; tests that call it in this
process would switch it on for every later test and write into the user's own cache, so it is off here
(``SLEEPJAX_CACHE_DIR=off``). The tests that run commands as subprocesses give them a cache of their own.
"""

import gc
import os

import jax
import pytest

os.environ["SLEEPJAX_CACHE_DIR"] = "off"
jax.config.update("jax_numpy_rank_promotion", "raise")


@pytest.fixture
def strict_dtypes():
    with jax.numpy_dtype_promotion("strict"):
        yield


@pytest.fixture(autouse=True, scope="module")
def fresh_compilation_caches():
    yield
    jax.clear_caches()
    gc.collect()
