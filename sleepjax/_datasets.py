"""MNIST loading for sleepjax: idx files, TensorFlow Datasets, or a bundled subset.

Every loader returns a :class:`Dataset` with flattened float32 images in [0, 1]
and int32 labels, so the training code never has to care where the data came
from.  Three sources are supported:

* ``idx``: the four original MNIST idx files (gzip-compressed or raw) in a
  directory given by ``data_dir`` or the ``SLEEPJAX_DATA_DIR`` environment
  variable;
* ``tfds``: TensorFlow Datasets' ``mnist`` through its array-record data
  source, which works without TensorFlow (optional extra ``sleepjax[tfds]``);
* ``bundled``: a small class-balanced subset shipped inside the package, so
  that the examples and tests run offline with no set-up at all.

Broken or missing files raise :class:`~sleepjax.DataError` naming the file and the
problem, rather than failing later with a confusing shape error. The idx format lives in
``_idx.py``, the TFDS loader in ``_tfds.py``.
"""

from __future__ import annotations

import dataclasses
import math
import os
import zipfile
import zlib
from importlib import resources

import numpy as np

from sleepjax._idx import DATA_DIR_ENV, NUM_CLASSES, DataError, read_idx_dir

__all__ = ["DATA_DIR_ENV", "NUM_CLASSES", "SOURCES", "Dataset", "load_bundled", "load_idx_dir", "load_mnist"]

SOURCES = ("auto", "idx", "tfds", "bundled")
"""Valid values of ``load_mnist(source=...)``."""

IMAGE_PIXELS = 28 * 28

_BUNDLED_FILE = "_data/mnist_subset.npz"


@dataclasses.dataclass(frozen=True)
class Dataset:
    """Image-classification train and test splits in the form the models consume (MNIST by default).

    Attributes:
        x_train: ``(N, prod(image_shape))`` float32 images, flattened, with pixel values in [0, 1]
            (MNIST: ``(N, 784)``).
        y_train: ``(N,)`` int32 labels in ``0 .. num_classes - 1``.
        x_test: ``(M, prod(image_shape))`` float32 images like ``x_train``.
        y_test: ``(M,)`` int32 labels.
        source: human-readable description of where the data came from,
            for logs and result files.
        image_shape: the shape of one image, ``(height, width)`` or ``(height, width, channels)``, which
            the flattened rows unfold to (for padding and rotating them).
        num_classes: number of classes.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    source: str
    image_shape: tuple[int, ...] = (28, 28)
    num_classes: int = NUM_CLASSES

    def __post_init__(self):
        """Reject arrays that would silently break training or evaluation."""
        shape = self.image_shape
        if not (isinstance(shape, tuple) and len(shape) in (2, 3) and all(isinstance(s, int) and s > 0 for s in shape)):
            raise ValueError(f"image_shape must be (height, width) or (height, width, channels), got {shape!r}")
        if isinstance(self.num_classes, bool) or not isinstance(self.num_classes, int) or self.num_classes < 2:
            raise ValueError(f"num_classes must be an integer of at least 2, got {self.num_classes!r}")
        for split in ("train", "test"):
            _check_images(f"x_{split}", getattr(self, f"x_{split}"), math.prod(shape))
            _check_labels(f"y_{split}", getattr(self, f"y_{split}"), self.num_classes)
            n_x, n_y = len(getattr(self, f"x_{split}")), len(getattr(self, f"y_{split}"))
            if n_x != n_y:
                raise ValueError(f"x_{split} has {n_x} images but y_{split} has {n_y} labels")


def _check_images(name: str, x: np.ndarray, pixels: int = IMAGE_PIXELS) -> None:
    """Raise ValueError unless ``x`` is a non-empty (N, pixels) float32 array in [0, 1]."""
    if not isinstance(x, np.ndarray) or x.dtype != np.float32:
        raise ValueError(
            f"{name} must be a float32 numpy array, got {type(x).__name__} of dtype {getattr(x, 'dtype', None)}"
        )
    if x.ndim != 2 or x.shape[1] != pixels or x.shape[0] == 0:
        raise ValueError(f"{name} must have shape (N, {pixels}) with N > 0, got {x.shape}")
    # Written so that NaN fails the check too.
    if not (x.min() >= 0.0 and x.max() <= 1.0):
        raise ValueError(f"{name} values must lie in [0, 1], got [{x.min()}, {x.max()}]")


def _check_labels(name: str, y: np.ndarray, num_classes: int = NUM_CLASSES) -> None:
    """Raise ValueError unless ``y`` is a non-empty (N,) int32 array of labels in 0..num_classes-1."""
    if not isinstance(y, np.ndarray) or y.dtype != np.int32:
        raise ValueError(
            f"{name} must be an int32 numpy array, got {type(y).__name__} of dtype {getattr(y, 'dtype', None)}"
        )
    if y.ndim != 1 or y.shape[0] == 0:
        raise ValueError(f"{name} must have shape (N,) with N > 0, got {y.shape}")
    if y.min() < 0 or y.max() >= num_classes:
        raise ValueError(f"{name} labels must lie in 0..{num_classes - 1}, got [{y.min()}, {y.max()}]")


def _make_dataset(x_train, y_train, x_test, y_test, source: str, num_classes: int = NUM_CLASSES) -> Dataset:
    """Build a Dataset from uint8 images ``(N, height, width[, channels])`` and integer labels; a single
    channel is dropped from ``image_shape``."""

    def images(x):
        return np.asarray(x, dtype=np.uint8).reshape(len(x), -1).astype(np.float32) / 255

    def labels(y):
        return np.asarray(y).astype(np.int32)

    shape = tuple(int(s) for s in np.shape(x_train)[1:])
    shape = shape[:2] if len(shape) == 3 and shape[2] == 1 else shape
    return Dataset(images(x_train), labels(y_train), images(x_test), labels(y_test), source, shape, num_classes)


def load_idx_dir(data_dir: str | os.PathLike) -> Dataset:
    """Load MNIST from the four standard idx files in ``data_dir``.

    See :func:`read_idx_dir` for the accepted file names and the checks made.

    Raises:
        DataError: if the files are missing, corrupt or inconsistent, or hold
            images that are not 28x28 or labels outside 0..9.
    """
    return _make_dataset(*read_idx_dir(data_dir), source=f"idx files in {data_dir}")


def load_bundled() -> Dataset:
    """Load the class-balanced MNIST subset shipped with sleepjax.

    It holds the first 600 training and first 200 test images of each digit
    (6000 / 2000), built by ``experiments/make_mnist_subset.py``; enough for
    examples and tests to run offline.

    Raises:
        DataError: naming the file, if it is missing or corrupt.
    """
    return _load_npz(resources.files("sleepjax").joinpath(_BUNDLED_FILE))


def _load_npz(resource) -> Dataset:
    """Load a Dataset from an npz archive like the bundled subset.

    Args:
        resource: a path or ``importlib.resources`` traversable naming an npz
            archive that holds uint8 images ``x_train``, ``x_test`` of shape
            ``(N, 28, 28)`` and integer labels ``y_train``, ``y_test`` ``(N,)``.

    Raises:
        DataError: naming the file, if it is missing, not a readable npz
            archive, lacks an array, or holds arrays of the wrong dtype,
            shape or range.
    """
    if not resource.is_file():
        raise DataError(
            f"{resource}: bundled subset not found; the installation is "
            f"incomplete (rebuild with experiments/make_mnist_subset.py)"
        )
    keys = ("x_train", "y_train", "x_test", "y_test")
    try:
        with resource.open("rb") as f:
            loaded = np.load(f)
            contents = dict(loaded.items()) if isinstance(loaded, np.lib.npyio.NpzFile) else None
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError) as e:
        raise DataError(f"{resource}: corrupt npz archive ({e}); reinstall sleepjax") from None
    if contents is None:
        raise DataError(f"{resource}: not an npz archive (found a single {type(loaded).__name__})")
    missing = [k for k in keys if k not in contents]
    if missing:
        raise DataError(f"{resource}: npz archive lacks the array(s) {', '.join(missing)}")
    arrays = [contents[k] for k in keys]
    for key, array in zip(keys, arrays, strict=True):
        want_images = key.startswith("x")
        if want_images and (array.dtype != np.uint8 or array.shape[1:] != (28, 28)):
            raise DataError(f"{resource}: {key} must be uint8 images (N, 28, 28), got {array.dtype} {array.shape}")
        if not want_images and array.dtype.kind not in "iu":
            raise DataError(f"{resource}: {key} must hold integer labels, got dtype {array.dtype}")
    n_train, n_test = len(arrays[0]), len(arrays[2])
    try:
        return _make_dataset(*arrays, source=f"bundled subset ({n_train} train / {n_test} test)")
    except ValueError as e:
        raise DataError(f"{resource}: {e}") from None


def load_mnist(source: str = "auto", data_dir: str | os.PathLike | None = None) -> Dataset:
    """Load MNIST from the requested source.

    Args:
        source: one of :data:`SOURCES`.

            * ``"auto"``: idx files in ``data_dir`` or ``$SLEEPJAX_DATA_DIR``
              if either is set (an error if they are missing there: a
              directory the user named is never silently ignored), otherwise
              the bundled subset.
            * ``"idx"``: idx files in ``data_dir`` or ``$SLEEPJAX_DATA_DIR``.
            * ``"tfds"``: TensorFlow Datasets; ``data_dir`` is the TFDS data
              directory (the environment variable is not used).
            * ``"bundled"``: the subset shipped with the package.
        data_dir: directory for the ``idx``/``auto`` or ``tfds`` sources.

    Raises:
        ValueError: for an unknown source, ``"idx"`` without a directory, or
            a ``data_dir`` given with ``"bundled"`` (which would ignore it).
        DataError: if the idx files are missing or corrupt.
    """
    if source not in SOURCES:
        raise ValueError(f"unknown data source {source!r}; valid sources: {', '.join(SOURCES)}")
    if source == "tfds":
        from sleepjax._tfds import load_tfds  # TFDS is optional and heavy: imported only when asked for

        return load_tfds(data_dir)
    if source == "bundled":
        if data_dir is not None:
            raise ValueError(
                "--data-dir cannot be used with --source bundled (the bundled subset ships inside sleepjax)"
            )
        return load_bundled()

    if data_dir is not None:
        return load_idx_dir(data_dir)
    env_dir = os.environ.get(DATA_DIR_ENV) or None
    if env_dir is not None:
        try:
            return load_idx_dir(env_dir)
        except DataError as err:
            raise DataError(f"${DATA_DIR_ENV}: {err}") from None
    if source == "idx":
        raise ValueError(f"--source idx needs a directory of MNIST idx files: pass --data-dir or set ${DATA_DIR_ENV}")
    return load_bundled()
