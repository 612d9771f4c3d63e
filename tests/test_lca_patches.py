"""MNIST patches: cutting, the ink filter and the three preprocessings."""

import numpy as np
import pytest

from sleepjax._datasets import load_bundled
from sleepjax.lca.patches import cut_patches, make_patches


@pytest.fixture(scope="module")
def mnist():
    return load_bundled()


def test_cut_patches_are_windows_with_ink(mnist):
    rng = np.random.default_rng(0)
    windows = cut_patches(mnist.x_train, 50, 5, rng, min_std=0.2)
    assert windows.shape == (50, 25)
    assert (windows.std(axis=1) >= 0.2).all()
    # every window occurs in some image at some position
    grid = mnist.x_train.reshape(-1, 28, 28)
    w = windows[0].reshape(5, 5)
    views = np.lib.stride_tricks.sliding_window_view(grid, (5, 5), axis=(1, 2))
    assert (views == w).all(axis=(-1, -2)).any()


def test_center_and_whiten_preprocessing(mnist):
    centred = make_patches(mnist, 400, 100, size=6, preprocessing="center", seed=1)
    assert centred.train.shape == (400, 36) and centred.test.shape == (100, 36)
    np.testing.assert_allclose(centred.train.mean(axis=1), 0, atol=1e-5)
    np.testing.assert_allclose(centred.train.std(), 1, rtol=1e-5)
    raw = make_patches(mnist, 400, 100, size=6, preprocessing="raw", seed=1)
    assert raw.train.min() >= 0 and raw.train.max() <= 1
    white = make_patches(mnist, 400, 100, size=6, preprocessing="whiten", seed=1)
    # ZCA flattens the spectrum: the eigenvalue spread of the covariance shrinks by orders of magnitude.
    spread = [np.linalg.eigvalsh(np.cov(p.train.T))[[-1, 5]] for p in (centred, white)]
    assert spread[1][0] / spread[1][1] < 0.05 * spread[0][0] / spread[0][1]


def test_bad_settings_are_refused(mnist):
    with pytest.raises(ValueError, match="unknown patch preprocessing 'zca'"):
        make_patches(mnist, 10, 10, preprocessing="zca")
    with pytest.raises(ValueError, match="patch size must be in 1..28"):
        make_patches(mnist, 10, 10, size=29)
    with pytest.raises(ValueError, match="have pixel SD >= 0.9"):
        make_patches(mnist, 10, 10, min_std=0.9)
