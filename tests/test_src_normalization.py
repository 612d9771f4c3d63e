"""SRC's data-based normalisation: the factor chain divides by the previous layer's *applied* scale, and
scales count only positive weights and activations."""

import jax.numpy as jnp
import numpy as np
import pytest

from sleepjax._sleep import layer_factors, max_activations

pytestmark = pytest.mark.usefixtures("strict_dtypes")


def test_three_layer_chain_divides_by_the_applied_scale():
    """Two layers cannot tell the applied scale from the raw maximum (layer 1's applied scale is its raw
    maximum); the third layer can."""
    weights = [jnp.full((2, 2), 0.5), jnp.full((2, 2), 0.5), jnp.full((1, 2), 0.5)]
    # scales s = max(0.5, activation max) = 4, 2, 8
    # applied: 4 / 1 = 4, 2 / 4 = 0.5, 8 / 0.5 = 16 -> factors 1/4, 2, 1/16
    # (dividing by the previous raw maximum instead would give 8 / 2 = 4 -> 1/4 for layer 3)
    factors = layer_factors(weights, jnp.array([4.0, 2.0, 8.0]))
    np.testing.assert_allclose(factors, [0.25, 2.0, 1 / 16], rtol=1e-6)


def test_only_positive_weights_and_activations_count():
    """A layer with no positive weight and no positive activation has scale 0 (factor +inf), never a
    negative scale that would invert its drive."""
    weights = [jnp.array([[1.0, 2.0]]), jnp.full((1, 1), -0.5)]
    factors = layer_factors(weights, jnp.array([3.0, -1.0]))
    assert factors[0] == pytest.approx(1 / 3)
    assert factors[1] == np.inf  # s = max(-0.5, -1, 0) = 0; applied = 0 / 3 = 0


def test_a_layer_that_never_activates_has_maximum_zero():
    """Linear drives that are negative for every example give a maximum of 0, not the least negative."""

    def forward(x):
        return (x, -x - 1.0)

    x = jnp.array([[0.5, 2.0], [1.0, 0.25]])
    np.testing.assert_allclose(max_activations(forward, x), [2.0, 0.0])
