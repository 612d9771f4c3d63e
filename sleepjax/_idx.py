"""The idx file format of MNIST: reading one file or the standard four of a directory, with every
check a corrupt or foreign file needs, and writing them back; :class:`DataError`, the error of every data
file sleepjax reads.

Reading returns plain uint8 / integer arrays; :func:`sleepjax.load_mnist` turns them into a
:class:`~sleepjax.Dataset`.
"""

from __future__ import annotations

import gzip
import math
import os
import zlib
from pathlib import Path
from typing import BinaryIO

import numpy as np

__all__ = [
    "DATA_DIR_ENV",
    "MAX_IDX_PAYLOAD_BYTES",
    "NUM_CLASSES",
    "DataError",
    "read_idx",
    "read_idx_dir",
    "write_idx_dir",
]

DATA_DIR_ENV = "SLEEPJAX_DATA_DIR"
"""Environment variable naming a directory of MNIST idx files."""

NUM_CLASSES = 10

# idx magic number -> (number of dimensions, description).  Both MNIST file
# kinds hold unsigned bytes (type code 0x08); the last magic byte is the rank.
_IDX_KINDS = {0x00000803: (3, "idx3 images"), 0x00000801: (1, "idx1 labels")}

# Shapes read_idx_dir demands of each MNIST file kind (None: any number of examples).
_IDX_SHAPES = {"images": (None, 28, 28), "labels": (None,)}

MAX_IDX_PAYLOAD_BYTES = 2**30
"""Largest idx payload read (1 GiB, about 1.4 million 28x28 images, 23 times MNIST's training set):
a header promising more is reported as corrupt rather than read into memory."""

_READ_CHUNK_BYTES = 2**20

# Standard MNIST file stems: (train images, train labels, test images, test labels).
_IDX_STEMS = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)


class DataError(ValueError):
    """A data file is missing, corrupt, or inconsistent with its partner file."""


def read_idx(path: str | os.PathLike, shape: tuple[int | None, ...] | None = None) -> np.ndarray:
    """Parse an MNIST idx file (gzip-compressed if its name ends in ``.gz``).

    The idx format is a big-endian int32 magic number (2051 for 3-D uint8
    images, 2049 for 1-D uint8 labels), one big-endian int32 per dimension,
    then exactly ``prod(dims)`` bytes of payload.  Every part is validated so
    that a truncated download or a wrong file is reported here, by name.  The
    header is checked before the payload is read, and no more than the
    header promises (plus one byte, to detect trailing data) is ever read, so
    a corrupt header or a gzip bomb cannot exhaust memory.

    Args:
        path: the idx file.
        shape: the expected shape, ``None`` for a free dimension (e.g.
            ``(None, 28, 28)`` for MNIST images); ``None`` accepts any shape.

    Returns:
        A read-only uint8 array with the shape given by the header.

    Raises:
        DataError: if the file is missing, unreadable, a directory, empty,
            not valid gzip, has an unknown magic number, a header that does
            not match ``shape`` or promises more than
            :data:`MAX_IDX_PAYLOAD_BYTES`, or a payload whose length does not
            match its header.
    """
    path = Path(path)
    if path.is_dir():
        raise DataError(f"{path}: is a directory, not an idx file")
    try:
        with gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb") as f:
            return _parse_idx(path, f, shape)
    except FileNotFoundError:
        raise DataError(f"{path}: file not found") from None
    except PermissionError:
        raise DataError(f"{path}: permission denied; make the file readable") from None
    except (gzip.BadGzipFile, EOFError, zlib.error) as e:
        raise DataError(f"{path}: not a valid gzip file ({e})") from None
    except OSError as e:
        raise DataError(f"{path}: cannot read file ({e})") from None


def _read_at_most(f: BinaryIO, n: int) -> bytes:
    """Read up to ``n`` bytes in bounded chunks, so memory follows the data actually present."""
    chunks, remaining = [], n
    while remaining > 0:
        chunk = f.read(min(remaining, _READ_CHUNK_BYTES))
        if not chunk:
            break
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def _parse_idx(path: Path, f: BinaryIO, shape: tuple[int | None, ...] | None) -> np.ndarray:
    """Read and validate the idx header and payload from the open file ``f`` (see :func:`read_idx`)."""
    head = _read_at_most(f, 4)
    if not head:
        raise DataError(f"{path}: empty file")
    if len(head) < 4:
        raise DataError(f"{path}: truncated header, file has only {len(head)} bytes")
    magic = int.from_bytes(head, "big")
    if magic not in _IDX_KINDS:
        expected = " or ".join(f"{m} ({desc})" for m, (_, desc) in _IDX_KINDS.items())
        raise DataError(f"{path}: bad magic number {magic}, expected {expected}")
    ndim, desc = _IDX_KINDS[magic]

    dims_bytes = _read_at_most(f, 4 * ndim)
    if len(dims_bytes) < 4 * ndim:
        raise DataError(
            f"{path}: truncated header, expected {4 + 4 * ndim} bytes for {desc}, found {4 + len(dims_bytes)}"
        )
    dims = tuple(int.from_bytes(dims_bytes[i : i + 4], "big", signed=True) for i in range(0, 4 * ndim, 4))
    if any(d < 0 for d in dims):
        raise DataError(f"{path}: negative dimension in header {dims}")
    if shape is not None and (
        len(dims) != len(shape) or any(want is not None and d != want for d, want in zip(dims, shape))
    ):
        wanted = "(" + ", ".join("N" if w is None else str(w) for w in shape) + ")"
        raise DataError(f"{path}: expected an idx array of shape {wanted}, the header says {dims} ({desc})")

    expected_len = math.prod(dims)  # Python ints: no overflow however absurd the header
    if expected_len > MAX_IDX_PAYLOAD_BYTES:
        raise DataError(
            f"{path}: header dimensions {dims} promise {expected_len} bytes, more than the "
            f"{MAX_IDX_PAYLOAD_BYTES} sleepjax reads; the header is corrupt or this is not MNIST"
        )
    payload = _read_at_most(f, expected_len + 1)
    if len(payload) < expected_len:
        raise DataError(f"{path}: truncated payload, header {dims} promises {expected_len} bytes, found {len(payload)}")
    if len(payload) > expected_len:
        raise DataError(f"{path}: trailing data after the {expected_len}-byte payload that header {dims} promises")
    return np.frombuffer(payload, np.uint8).reshape(dims)


def _find_idx_files(data_dir: Path) -> list[Path]:
    """Locate the four MNIST idx files in ``data_dir``, preferring ``.gz`` names.

    Anything that exists under an expected name is returned (a directory or
    an unreadable file is then reported by :func:`read_idx`, by name, rather
    than as missing).

    Raises:
        DataError: listing every file that is missing, and how to point
            sleepjax at the right directory.
    """
    if not data_dir.is_dir():
        raise DataError(
            f"{data_dir}: not a directory; pass the folder holding the MNIST "
            f"idx files with --data-dir or {DATA_DIR_ENV}"
        )
    found, missing = [], []
    for stem in _IDX_STEMS:
        candidates = [data_dir / f"{stem}.gz", data_dir / stem]
        existing = [p for p in candidates if p.exists()]
        if existing:
            found.append(existing[0])
        else:
            missing.append(f"{stem}[.gz]")
    if missing:
        raise DataError(
            f"{data_dir}: missing MNIST idx file(s): {', '.join(missing)}. "
            f"Point sleepjax at a directory holding all four with --data-dir "
            f"or the environment variable {DATA_DIR_ENV}"
        )
    return found


def read_idx_dir(data_dir: str | os.PathLike) -> tuple[np.ndarray, ...]:
    """Read the four standard MNIST idx files in ``data_dir`` as raw uint8 arrays.

    Accepts the usual names, gzip-compressed (``train-images-idx3-ubyte.gz``)
    or not (``train-images-idx3-ubyte``); the ``.gz`` file wins if both exist.

    Returns:
        ``(x_train, y_train, x_test, y_test)``: images ``(N, 28, 28)`` and
        labels ``(N,)`` with values in ``0..9``, exactly as stored in the files.

    Raises:
        DataError: naming the file, if one is missing or corrupt, holds the
            wrong kind of record, images that are not 28x28, no examples,
            labels outside 0..9, or an image file and its label file disagree
            in length.
    """
    paths = _find_idx_files(Path(data_dir))
    arrays = []
    for path, kind in zip(paths, ("images", "labels", "images", "labels"), strict=True):
        array = read_idx(path, _IDX_SHAPES[kind])
        if len(array) == 0:
            raise DataError(f"{path}: holds no {kind}")
        if kind == "labels" and array.max() >= NUM_CLASSES:
            bad = int(np.argmax(array >= NUM_CLASSES))
            raise DataError(f"{path}: label {array[bad]} at index {bad} is outside 0..{NUM_CLASSES - 1}")
        arrays.append(array)
    for i in (0, 2):
        if len(arrays[i]) != len(arrays[i + 1]):
            raise DataError(
                f"{paths[i]} holds {len(arrays[i])} images but {paths[i + 1]} holds {len(arrays[i + 1])} labels"
            )
    return tuple(arrays)


def write_idx_dir(data_dir: str | os.PathLike, x_train, y_train, x_test, y_test) -> Path:
    """Write MNIST-shaped uint8 arrays as the four standard (uncompressed) idx files in ``data_dir``.

    The inverse of :func:`read_idx_dir`: ``write_idx_dir(d, *read_idx_dir(src))`` reproduces the data
    byte for byte. Useful to carry a copy loaded elsewhere (TFDS, the bundled subset) to a machine that
    reads idx files. ``data_dir`` is created; existing files of those names are replaced.

    Raises:
        ValueError: if an array is not uint8 (a silent cast would wrap values around).
    """
    directory = Path(data_dir)
    directory.mkdir(parents=True, exist_ok=True)
    for stem, array in zip(_IDX_STEMS, (x_train, y_train, x_test, y_test), strict=True):
        array = np.ascontiguousarray(array)
        if array.dtype != np.uint8:
            raise ValueError(f"{stem}: idx files hold uint8 values, got an array of {array.dtype}")
        header = (0x800 + array.ndim).to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in array.shape)
        (directory / stem).write_bytes(header + array.tobytes())
    return directory
