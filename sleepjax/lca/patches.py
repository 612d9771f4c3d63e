"""Image patches from MNIST for sparse-coding experiments, with a documented preprocessing.

Patches are square windows of ``size x size`` pixels cut at random positions from the images of a
:class:`sleepjax._datasets.Dataset` (training images for learning, test images for held-out evaluation),
keeping only windows with some ink (raw pixel SD at least ``min_std``: MNIST is mostly blank
background, which carries nothing to code). Preprocessing, fitted on the training patches only and
applied to both sets:

* ``"raw"``: pixel values in [0, 1] as they are;
* ``"center"`` (default): each patch minus its own mean, then divided by one global scale so that
  pixels have unit variance over the training patches;
* ``"whiten"``: centred as above, then ZCA-whitened (``W = U diag(1 / sqrt(s + eps)) U^T`` from the
  eigendecomposition ``U diag(s) U^T`` of the training patches' covariance, ``eps`` a fraction of the
  mean eigenvalue), rescaled to unit pixel variance.

Unit pixel variance is what makes "pure Gaussian noise" comparable with data: an ``N(0, 1)`` noise
patch has the same expected energy as a data patch.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from sleepjax._datasets import Dataset

PREPROCESSING = ("raw", "center", "whiten")
IMAGE_SIDE = 28


@dataclasses.dataclass(frozen=True)
class PatchSet:
    """Training and held-out patches, flattened row-major.

    Attributes:
        train: ``(N, size * size)`` float32 patches from training images.
        test: ``(M, size * size)`` float32 patches from test images.
        size: patch side in pixels.
        preprocessing: one of :data:`PREPROCESSING`.
        source: where the images came from.
    """

    train: np.ndarray
    test: np.ndarray
    size: int
    preprocessing: str
    source: str


def cut_patches(images: np.ndarray, num: int, size: int, rng: np.random.Generator, min_std: float) -> np.ndarray:
    """``num`` random ``size x size`` windows ``(num, size * size)`` of ``images (N, 784)``, raw SD >= ``min_std``.

    Raises:
        ValueError: for a size that does not fit in an image, or if the images hold too few windows
            with that much ink.
    """
    if not 1 <= size <= IMAGE_SIDE:
        raise ValueError(f"patch size must be in 1..{IMAGE_SIDE}, got {size}")
    if num < 1:
        raise ValueError(f"number of patches must be positive, got {num}")
    grid = images.reshape(-1, IMAGE_SIDE, IMAGE_SIDE)
    kept, drawn = [], 0
    while sum(len(k) for k in kept) < num:
        if drawn > 50 * num:
            raise ValueError(f"fewer than {num} of {drawn} random {size}x{size} windows have pixel SD >= {min_std}")
        batch = 4 * num
        idx = rng.integers(0, len(grid), batch)
        rows = rng.integers(0, IMAGE_SIDE - size + 1, batch)
        cols = rng.integers(0, IMAGE_SIDE - size + 1, batch)
        offsets = np.arange(size)
        windows = grid[idx[:, None, None], rows[:, None, None] + offsets[:, None], cols[:, None, None] + offsets]
        windows = windows.reshape(batch, size * size)
        kept.append(windows[windows.std(axis=1) >= min_std])
        drawn += batch
    return np.concatenate(kept)[:num]


def make_patches(
    data: Dataset,
    num_train: int,
    num_test: int,
    size: int = 8,
    preprocessing: str = "center",
    seed: int = 0,
    min_std: float = 0.15,
    whiten_eps: float = 0.1,
) -> PatchSet:
    """Cut and preprocess training and held-out patches (module docstring).

    Args:
        data: MNIST, e.g. from :func:`sleepjax.load_mnist`.
        num_train: number of patches from the training images.
        num_test: number of patches from the test images.
        size: patch side.
        preprocessing: one of :data:`PREPROCESSING`.
        seed: seed of the patch positions.
        min_std: smallest raw pixel SD of a kept window.
        whiten_eps: ZCA regulariser as a fraction of the mean covariance eigenvalue.
    """
    if preprocessing not in PREPROCESSING:
        raise ValueError(f"unknown patch preprocessing {preprocessing!r}; choose from {', '.join(PREPROCESSING)}")
    rng = np.random.default_rng(seed)
    train = cut_patches(data.x_train, num_train, size, rng, min_std).astype(np.float64)
    test = cut_patches(data.x_test, num_test, size, rng, min_std).astype(np.float64)
    if preprocessing != "raw":
        train = train - train.mean(axis=1, keepdims=True)
        test = test - test.mean(axis=1, keepdims=True)
        if preprocessing == "whiten":
            eigval, eigvec = np.linalg.eigh(train.T @ train / len(train))
            eigval = np.maximum(eigval, 0)
            zca = (eigvec / np.sqrt(eigval + whiten_eps * eigval.mean())) @ eigvec.T
            train, test = train @ zca, test @ zca
        scale = train.std()
        train, test = train / scale, test / scale
    return PatchSet(train.astype(np.float32), test.astype(np.float32), size, preprocessing, data.source)
