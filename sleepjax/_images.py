"""Image transforms for building scenarios: padding, standardising, rotating, permuting pixels (NumPy).

Scenario builders apply them once, on the host, before a run: a task stream holds its inputs ready,
so the compiled run does nothing but train and evaluate. Images come flattened, ``(N, prod(shape))``,
with their ``shape`` ``(height, width)`` or ``(height, width, channels)`` beside them.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np


class InputFormat(NamedTuple):
    """How images become a network's inputs: ``pad`` zero pixels on every side, then
    ``(x - mean) / std``.

    ``HSU_MNIST_INPUT`` is Hsu et al.'s (2018) MNIST input: 28x28 padded to 32x32 (1024 inputs), then
    standardised with the statistics of the padded images (mean 0.1000, std 0.2752).
    """

    pad: int = 0
    mean: float = 0.0
    std: float = 1.0

    def check(self) -> None:
        """Raise ``ValueError`` naming the field for a negative pad or a non-positive or non-finite std."""
        if isinstance(self.pad, bool) or not isinstance(self.pad, int) or self.pad < 0:
            raise ValueError(f"input pad must be a non-negative integer, got {self.pad!r}")
        if not (math.isfinite(self.mean) and math.isfinite(self.std) and self.std > 0):
            raise ValueError(f"input mean must be finite and std positive, got {self.mean!r}, {self.std!r}")

    def image_shape(self, shape: tuple[int, ...]) -> tuple[int, ...]:
        """The shape of an image after padding."""
        return (shape[0] + 2 * self.pad, shape[1] + 2 * self.pad, *shape[2:])


HSU_MNIST_INPUT = InputFormat(pad=2, mean=0.1000, std=0.2752)


def pad_images(x: np.ndarray, shape: tuple[int, ...], pad: int) -> np.ndarray:
    """``x (N, prod(shape))`` with ``pad`` zero pixels around every image, flattened again."""
    if pad == 0:
        return x
    images = x.reshape(len(x), *shape)
    widths = ((0, 0), (pad, pad), (pad, pad)) + ((0, 0),) * (len(shape) - 2)
    return np.pad(images, widths).reshape(len(x), -1)


def formatted(x: np.ndarray, shape: tuple[int, ...], fmt: InputFormat) -> np.ndarray:
    """``x`` padded and standardised as ``fmt`` says, float32."""
    x = pad_images(x, shape, fmt.pad)
    if fmt.mean == 0 and fmt.std == 1:  # the identity (the default): no copy of the whole set
        return x.astype(np.float32, copy=False)
    return ((x - np.float32(fmt.mean)) / np.float32(fmt.std)).astype(np.float32)


def rotate_images(x: np.ndarray, shape: tuple[int, ...], degrees: float) -> np.ndarray:
    """Every image of ``x (N, prod(shape))`` rotated counter-clockwise by ``degrees`` about its centre,
    with bilinear interpolation; pixels that come from outside the image are 0. Flattened again.

    Each output pixel ``p`` takes the input at ``R(-degrees) (p - c) + c`` (``c`` the centre), so a
    rotation by 90 degrees moves the top row to the left column exactly.
    """
    height, width = shape[:2]
    images = x.reshape(len(x), height, width, -1)
    theta = np.deg2rad(degrees)
    cy, cx = (height - 1) / 2, (width - 1) / 2
    rows, cols = np.meshgrid(np.arange(height), np.arange(width), indexing="ij")
    # Image coordinates: y down, x right; a counter-clockwise turn on screen maps (dx, dy) with y up.
    dy, dx = -(rows - cy), cols - cx
    src_dx = np.cos(theta) * dx + np.sin(theta) * dy
    src_dy = -np.sin(theta) * dx + np.cos(theta) * dy
    src_r, src_c = cy - src_dy, cx + src_dx
    # Round what is an integer up to float error, so exact turns copy pixels exactly.
    src_r = np.where(np.abs(src_r - np.round(src_r)) < 1e-9, np.round(src_r), src_r)
    src_c = np.where(np.abs(src_c - np.round(src_c)) < 1e-9, np.round(src_c), src_c)
    r0, c0 = np.floor(src_r).astype(int), np.floor(src_c).astype(int)
    fr, fc = src_r - r0, src_c - c0
    out = np.zeros_like(images)
    for dr, dc, weight in ((0, 0, (1 - fr) * (1 - fc)), (0, 1, (1 - fr) * fc), (1, 0, fr * (1 - fc)), (1, 1, fr * fc)):
        r, c = r0 + dr, c0 + dc
        inside = (r >= 0) & (r < height) & (c >= 0) & (c < width) & (weight > 0)
        contribution = images[:, np.clip(r, 0, height - 1), np.clip(c, 0, width - 1)]
        out += np.where(inside[None, :, :, None], weight[None, :, :, None] * contribution, 0)
    return out.astype(x.dtype).reshape(len(x), -1)


def pixel_permutations(num: int, size: int, seed: int, first_identity: bool = True) -> np.ndarray:
    """``(num, size)`` permutations of ``size`` pixels drawn with NumPy's generator seeded by ``seed``; the
    first is the identity when ``first_identity`` (as in Hsu et al.'s permuted MNIST)."""
    rng = np.random.default_rng(seed)
    perms = np.stack([rng.permutation(size) for _ in range(num)])
    if first_identity:
        perms[0] = np.arange(size)
    return perms


__all__ = ["HSU_MNIST_INPUT", "InputFormat", "formatted", "pad_images", "pixel_permutations", "rotate_images"]
