"""Test configuration.

Rank promotion raises everywhere, so silent broadcasts fail loudly. Strict dtype promotion is applied
by the ``strict_dtypes`` fixture to the tests of sleepjax's own numerics (optax's Adam is not written
for strict promotion, so it cannot be switched on globally).

The command line switches JAX's persistent compilation cache on by default; tests that call it in this
process would switch it on for every later test and write into the user's own cache, so it is off here
(``SLEEPJAX_CACHE_DIR=off``). The tests that run commands as subprocesses give them a cache of their own.
"""

import os

import jax
import pytest

os.environ["SLEEPJAX_CACHE_DIR"] = "off"
jax.config.update("jax_numpy_rank_promotion", "raise")


@pytest.fixture
def strict_dtypes():
    with jax.numpy_dtype_promotion("strict"):
        yield
