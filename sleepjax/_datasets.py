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

Broken or missing files raise :class:`DataError` naming the file and the
problem, rather than failing later with a confusing shape error.
"""

from __future__ import annotations

import dataclasses
import gzip
import math
import os
import socket
import threading
import zipfile
import zlib
from importlib import resources
from pathlib import Path
from typing import BinaryIO

import numpy as np

__all__ = [
    "DATA_DIR_ENV",
    "MAX_IDX_PAYLOAD_BYTES",
    "NUM_CLASSES",
    "SOURCES",
    "DataError",
    "Dataset",
    "load_bundled",
    "load_idx_dir",
    "load_mnist",
    "load_tfds",
    "read_idx",
    "read_idx_dir",
    "write_idx_dir",
]

DATA_DIR_ENV = "SLEEPJAX_DATA_DIR"
"""Environment variable naming a directory of MNIST idx files."""

SOURCES = ("auto", "idx", "tfds", "bundled")
"""Valid values of ``load_mnist(source=...)``."""

NUM_CLASSES = 10
IMAGE_PIXELS = 28 * 28

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

_BUNDLED_FILE = "_data/mnist_subset.npz"


class DataError(ValueError):
    """A data file is missing, corrupt, or inconsistent with its partner file."""


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


def load_idx_dir(data_dir: str | os.PathLike) -> Dataset:
    """Load MNIST from the four standard idx files in ``data_dir``.

    See :func:`read_idx_dir` for the accepted file names and the checks made.

    Raises:
        DataError: if the files are missing, corrupt or inconsistent, or hold
            images that are not 28x28 or labels outside 0..9.
    """
    return _make_dataset(*read_idx_dir(data_dir), source=f"idx files in {data_dir}")


TFDS_MNIST_HOST = "storage.googleapis.com"
"""Where TensorFlow Datasets downloads MNIST (and most image sets) from when it is not prepared yet."""


def _check_reachable(host: str, timeout: float, what: str = "MNIST") -> None:
    """Raise :class:`DataError` unless a TCP connection to ``host`` port 443 opens within ``timeout``
    seconds (name lookup included: it runs in a daemon thread, as ``getaddrinfo`` takes no timeout);
    ``what`` names the data set in the message."""
    outcome: list[BaseException | None] = []

    def connect():
        try:
            socket.create_connection((host, 443), timeout=timeout).close()
            outcome.append(None)
        except OSError as err:
            outcome.append(err)

    thread = threading.Thread(target=connect, daemon=True)
    thread.start()
    thread.join(timeout)
    if not outcome or outcome[0] is not None:
        reason = f"{outcome[0]}" if outcome else f"no answer within {timeout:g} s"
        raise DataError(
            f"--source tfds: {what} is not prepared in the TensorFlow Datasets directory and {host} cannot be "
            f"reached to download it ({reason}); prepare it where there is a network, or use --source idx or bundled"
        )


def _image_and_label(features, name: str) -> tuple[str, str, int]:
    """The names of the one image feature and the one class-label feature of a TFDS data set, and its
    number of classes; :class:`DataError` if it is not an image classification set."""
    import tensorflow_datasets as tfds

    images = [k for k, v in features.items() if isinstance(v, tfds.features.Image)]
    labels = [k for k, v in features.items() if isinstance(v, tfds.features.ClassLabel)]
    if len(images) != 1 or len(labels) != 1:
        raise DataError(
            f"--source tfds: {name!r} is not an image classification set (it needs one Image and one ClassLabel "
            f"feature, has {', '.join(f'{k}: {type(v).__name__}' for k, v in features.items())})"
        )
    return images[0], labels[0], int(features[labels[0]].num_classes)


def load_tfds(data_dir: str | os.PathLike | None = None, connect_timeout: float = 10.0, name: str = "mnist") -> Dataset:
    """Load an image classification set of TensorFlow Datasets (default MNIST) through its array-record
    data source (no TensorFlow needed): its ``train`` and ``test`` splits, every image flattened and
    scaled to [0, 1].

    Any TFDS set with one ``Image`` and one ``ClassLabel`` feature works (``fashion_mnist``, ``kmnist``,
    ``emnist/digits``, ``cifar10``, ...); the :class:`Dataset` records its image shape and number of
    classes, so the scenario builders (:func:`~sleepjax.split_by_class`,
    :func:`~sleepjax.permuted_pixels`, :func:`~sleepjax.rotated_images`) take it as they take MNIST.

    TFDS downloads and prepares the dataset on first use if it is not already in ``data_dir``. Without
    a network that download retries for minutes and ends in a traceback, so reachability of the download
    host is checked first, bounded by ``connect_timeout`` seconds.

    Args:
        data_dir: TFDS data directory; ``None`` uses TFDS's default
            (``~/tensorflow_datasets`` or ``$TFDS_DATA_DIR``).
        connect_timeout: seconds to wait for the download host when the data are not prepared.
        name: the TFDS name of the data set.

    Raises:
        ImportError: if tensorflow-datasets is not installed.
        DataError: naming the source, if the data are not prepared and cannot be downloaded, the set is
            not an image classification set, or TFDS fails in any other way (a broken installation,
            corrupt prepared files).
    """
    try:
        import tensorflow_datasets as tfds
    except ImportError as e:
        raise ImportError(
            "--source tfds needs tensorflow-datasets; install it with pip install 'sleepjax[tfds]'"
        ) from e

    try:
        builder = tfds.builder(name, data_dir=data_dir)
        image, label, num_classes = _image_and_label(builder.info.features, name)
        if not builder.is_prepared():
            _check_reachable(TFDS_MNIST_HOST, connect_timeout, "MNIST" if name == "mnist" else repr(name))
            builder.download_and_prepare()
        arrays = []
        for split in builder.as_data_source(split=["train", "test"]):
            records = list(split)
            arrays.append(np.stack([r[image] for r in records]))
            arrays.append(np.array([r[label] for r in records]))
    except DataError:
        raise
    except Exception as e:  # TFDS fails in many ways (download, missing dependencies, corrupt files)
        first_line = (str(e).strip().splitlines() or [""])[0][:300]
        raise DataError(
            f"--source tfds: TensorFlow Datasets could not load {name!r} ({type(e).__name__}: {first_line})"
        ) from None
    return _make_dataset(*arrays, source=f"TensorFlow Datasets {name!r}", num_classes=num_classes)


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
