"""Build the MNIST subset bundled with sleepjax (``sleepjax/_data/mnist_subset.npz``).

The subset lets examples and tests run offline.  It is chosen without any
randomness so anyone can rebuild and check it: the first 600 training images
of each digit and the first 200 test images of each digit, kept in file order
(6000 train / 2000 test), stored as uint8 arrays ``x_train`` (N, 28, 28),
``y_train`` (N,), ``x_test``, ``y_test``.

The npz is written with fixed zip timestamps, so two runs produce
byte-identical files (given the same zlib).  The md5 of every array is printed
so that a rebuild can also be checked independently of the zip container.

Run from the repository root, with sleepjax importable (``pip install -e .``
or ``PYTHONPATH=.``)::

    python experiments/make_mnist_subset.py --data-dir ../shared/data/mnist
"""

import argparse
import hashlib
import zipfile
from pathlib import Path

import numpy as np

from sleepjax._idx import NUM_CLASSES, read_idx_dir

REPO_ROOT = Path(__file__).resolve().parents[1]
TRAIN_PER_CLASS = 600
TEST_PER_CLASS = 200
# The earliest timestamp a zip entry can hold; any constant makes output reproducible.
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)


def first_per_class(labels: np.ndarray, per_class: int) -> np.ndarray:
    """Indices of the first ``per_class`` examples of each digit, in file order."""
    picks = []
    for digit in range(NUM_CLASSES):
        idx = np.flatnonzero(labels == digit)[:per_class]
        if len(idx) < per_class:
            raise SystemExit(f"only {len(idx)} examples of digit {digit}, need {per_class}")
        picks.append(idx)
    return np.sort(np.concatenate(picks))


def write_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """Write ``arrays`` as a compressed npz with fixed timestamps.

    ``np.savez_compressed`` stamps each zip entry with the current time, which
    makes every rebuild differ; this writes the same ``.npy`` members through
    ``zipfile`` with a constant date so the bytes only depend on the data.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as zf:
        for name, array in arrays.items():
            info = zipfile.ZipInfo(f"{name}.npy", date_time=ZIP_EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            with zf.open(info, "w") as f:
                np.lib.format.write_array(f, array, allow_pickle=False)


def md5(data: bytes) -> str:
    """Hex md5 digest of ``data``."""
    return hashlib.md5(data).hexdigest()


def main() -> None:
    """Parse arguments, select the subset, write it and print its checksums."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=REPO_ROOT.parent / "shared/data/mnist",
        help="directory holding the four MNIST idx files (default: %(default)s)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=REPO_ROOT / "sleepjax/_data/mnist_subset.npz",
        help="output npz file (default: %(default)s)",
    )
    args = parser.parse_args()

    x_train, y_train, x_test, y_test = read_idx_dir(args.data_dir)
    train = first_per_class(y_train, TRAIN_PER_CLASS)
    test = first_per_class(y_test, TEST_PER_CLASS)
    arrays = {"x_train": x_train[train], "y_train": y_train[train], "x_test": x_test[test], "y_test": y_test[test]}
    write_npz(args.out, arrays)

    for name, array in arrays.items():
        print(f"{name:8s} {array.dtype} {str(array.shape):15s} md5 {md5(array.tobytes())}")
    print(f"wrote {args.out} ({args.out.stat().st_size} bytes, md5 {md5(args.out.read_bytes())})")


if __name__ == "__main__":
    main()
