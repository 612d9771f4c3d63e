"""Test configuration.

Rank promotion raises everywhere, so silent broadcasts fail loudly. Strict dtype promotion is applied
by the ``strict_dtypes`` fixture to the tests of sleepjax's own numerics (optax's Adam is not written
for strict promotion, so it cannot be switched on globally).
"""

import jax
import pytest

jax.config.update("jax_numpy_rank_promotion", "raise")


@pytest.fixture
def strict_dtypes():
    with jax.numpy_dtype_promotion("strict"):
        yield
