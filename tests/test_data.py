"""Tests for sleepjax._datasets: idx parsing, error reporting, and the three MNIST sources."""

import gzip
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from sleepjax import _datasets as data
from sleepjax import _idx as idx
from sleepjax import _tfds as tfds_loader
from sleepjax._idx import DataError

REAL_MNIST = Path(__file__).parents[1].parent / "shared" / "data" / "mnist"


def idx_bytes(array: np.ndarray, magic: int | None = None) -> bytes:
    """Encode a uint8 array as idx bytes (magic 2051 for 3-D, 2049 for 1-D by default)."""
    if magic is None:
        magic = 0x800 + array.ndim
    header = magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in array.shape)
    return header + np.ascontiguousarray(array, np.uint8).tobytes()


def write_idx(path: Path, payload: bytes) -> Path:
    """Write idx bytes to ``path``, gzip-compressed if its name ends in .gz."""
    path.write_bytes(gzip.compress(payload) if path.suffix == ".gz" else payload)
    return path


def fake_mnist_dir(root: Path, n_train=20, n_test=10, gz=True) -> Path:
    """Write four small, valid MNIST-style idx files into ``root`` and return it."""
    rng = np.random.default_rng(0)
    suffix = ".gz" if gz else ""
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        labels = (np.arange(n) % 10).astype(np.uint8)
        write_idx(root / f"{prefix}-images-idx3-ubyte{suffix}", idx_bytes(images))
        write_idx(root / f"{prefix}-labels-idx1-ubyte{suffix}", idx_bytes(labels))
    return root


@pytest.mark.parametrize("name", ["images-idx3-ubyte.gz", "images-idx3-ubyte"])
def test_read_idx_round_trip_images(tmp_path, name):
    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    path = write_idx(tmp_path / name, idx_bytes(images))
    out = idx.read_idx(path)
    assert out.dtype == np.uint8
    np.testing.assert_array_equal(out, images)


@pytest.mark.parametrize("name", ["labels-idx1-ubyte.gz", "labels-idx1-ubyte"])
def test_read_idx_round_trip_labels(tmp_path, name):
    labels = np.array([7, 2, 1, 0, 9], dtype=np.uint8)
    out = idx.read_idx(write_idx(tmp_path / name, idx_bytes(labels)))
    np.testing.assert_array_equal(out, labels)


def test_read_idx_bad_magic_names_file(tmp_path):
    path = write_idx(tmp_path / "x.gz", idx_bytes(np.zeros((1, 2, 2), np.uint8), magic=1234))
    with pytest.raises(DataError, match=r"x\.gz: bad magic number 1234, expected 2051"):
        idx.read_idx(path)


def test_read_idx_truncated_payload(tmp_path):
    raw = idx_bytes(np.zeros((3, 4, 5), np.uint8))[:-7]
    path = write_idx(tmp_path / "x.gz", raw)
    # 3 * 4 * 5 = 60 bytes promised, 60 - 7 = 53 present
    with pytest.raises(DataError, match=r"x\.gz: truncated payload, header \(3, 4, 5\) promises 60 bytes, found 53"):
        idx.read_idx(path)


def test_read_idx_truncated_header(tmp_path):
    path = write_idx(tmp_path / "x", idx_bytes(np.zeros((3, 4, 5), np.uint8))[:10])
    with pytest.raises(DataError, match="truncated header"):
        idx.read_idx(path)


def test_read_idx_trailing_bytes(tmp_path):
    path = write_idx(tmp_path / "x", idx_bytes(np.zeros(4, np.uint8)) + b"\0\0")
    with pytest.raises(DataError, match=r"x: trailing data after the 4-byte payload that header \(4,\) promises"):
        idx.read_idx(path)


def test_read_idx_not_gzip(tmp_path):
    path = tmp_path / "x.gz"
    path.write_bytes(idx_bytes(np.zeros(4, np.uint8)))  # raw bytes under a .gz name
    with pytest.raises(DataError, match=r"x\.gz: not a valid gzip file"):
        idx.read_idx(path)


@pytest.mark.parametrize("name", ["x", "x.gz"])
def test_read_idx_absurd_header_is_refused_before_reading(tmp_path, name):
    # A header claiming 2**31 - 1 images of 28x28 (1.7e12 bytes) followed by one image: refused by size.
    header = idx_bytes(np.zeros((1, 28, 28), np.uint8))[:4] + b"".join(
        d.to_bytes(4, "big") for d in (2**31 - 1, 28, 28)
    )
    path = write_idx(tmp_path / name, header + bytes(784))
    promised = (2**31 - 1) * 28 * 28
    with pytest.raises(DataError, match=rf"{name}: header dimensions \(2147483647, 28, 28\) promise {promised} bytes"):
        idx.read_idx(path, (None, 28, 28))


def test_read_idx_header_product_does_not_overflow(tmp_path):
    # (2**31 - 1)**3 overflows int64 (it would wrap to a small or negative size); it must be refused as huge.
    dims = (2**31 - 1,) * 3
    path = write_idx(tmp_path / "x", (0x803).to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in dims))
    with pytest.raises(DataError, match=rf"promise {(2**31 - 1) ** 3} bytes, more than the {2**30} sleepjax reads"):
        idx.read_idx(path)


def test_read_idx_negative_dimension(tmp_path):
    # 0xFFFFFFFF is -1 as the idx format's signed int32
    path = write_idx(tmp_path / "x", (0x803).to_bytes(4, "big") + b"\xff\xff\xff\xff" + (28).to_bytes(4, "big") * 2)
    with pytest.raises(DataError, match=r"x: negative dimension in header \(-1, 28, 28\)"):
        idx.read_idx(path, (None, 28, 28))


def test_read_idx_reads_no_more_than_the_header_promises(tmp_path):
    # A gzip bomb: the header promises one 28x28 image, the stream decompresses to 32 MiB.
    bomb = idx_bytes(np.zeros((1, 28, 28), np.uint8)) + bytes(32 * 2**20)
    path = write_idx(tmp_path / "x.gz", bomb)
    tracemalloc.start()
    try:
        with pytest.raises(DataError, match="trailing data after the 784-byte payload"):
            idx.read_idx(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8 * 2**20, f"read_idx allocated {peak} bytes for a 784-byte payload"


def test_read_idx_wrong_shape_is_refused_from_the_header(tmp_path):
    path = write_idx(tmp_path / "x", idx_bytes(np.zeros((2, 32, 32), np.uint8)))
    with pytest.raises(
        DataError, match=r"x: expected an idx array of shape \(N, 28, 28\), the header says \(2, 32, 32\)"
    ):
        idx.read_idx(path, (None, 28, 28))
    np.testing.assert_array_equal(idx.read_idx(path), np.zeros((2, 32, 32)))  # no shape asked: any shape


@pytest.mark.parametrize("payload", [b"", gzip.compress(b"")], ids=["zero-bytes", "gzip-of-nothing"])
def test_read_idx_empty_file(tmp_path, payload):
    for name in ("x", "x.gz") if payload == b"" else ("x.gz",):
        path = tmp_path / name
        path.write_bytes(payload)
        with pytest.raises(DataError, match=rf"{name}: empty file"):
            idx.read_idx(path)


def test_read_idx_truncated_gzip_stream(tmp_path):
    path = tmp_path / "x.gz"
    path.write_bytes(gzip.compress(idx_bytes(np.arange(200, dtype=np.uint8)))[:-12])
    with pytest.raises(DataError, match=r"x\.gz: not a valid gzip file"):
        idx.read_idx(path)


def test_read_idx_directory(tmp_path):
    (tmp_path / "x.gz").mkdir()
    with pytest.raises(DataError, match=r"x\.gz: is a directory, not an idx file"):
        idx.read_idx(tmp_path / "x.gz")


def test_read_idx_permission_denied(tmp_path, monkeypatch):
    path = write_idx(tmp_path / "x", idx_bytes(np.zeros(4, np.uint8)))

    def refuse(file, *args, **kwargs):
        raise PermissionError(13, "Permission denied", str(file))

    # Simulated: the tests may run as root, for whom chmod 000 does not stop reading.
    monkeypatch.setattr(idx, "open", refuse, raising=False)
    with pytest.raises(DataError, match="x: permission denied; make the file readable"):
        idx.read_idx(path)


def test_read_idx_missing_file(tmp_path):
    with pytest.raises(DataError, match="nope.gz: file not found"):
        idx.read_idx(tmp_path / "nope.gz")


def test_load_idx_dir_reads_gz_and_raw(tmp_path):
    for gz in (True, False):
        root = tmp_path / f"gz{gz}"
        root.mkdir()
        ds = data.load_idx_dir(fake_mnist_dir(root, gz=gz))
        assert ds.x_train.shape == (20, 784) and ds.x_test.shape == (10, 784)
        assert ds.x_train.dtype == np.float32 and ds.y_train.dtype == np.int32
        assert str(root) in ds.source


def test_load_idx_dir_lists_missing_files(tmp_path):
    fake_mnist_dir(tmp_path)
    (tmp_path / "t10k-images-idx3-ubyte.gz").unlink()
    (tmp_path / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(DataError) as info:
        data.load_idx_dir(tmp_path)
    message = str(info.value)
    assert "t10k-images-idx3-ubyte" in message and "t10k-labels-idx1-ubyte" in message
    assert "train-images" not in message
    assert "--data-dir" in message and "SLEEPJAX_DATA_DIR" in message


def test_load_idx_dir_count_mismatch(tmp_path):
    fake_mnist_dir(tmp_path)
    write_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", idx_bytes(np.zeros(9, np.uint8)))
    with pytest.raises(DataError, match="10 images but .* 9 labels"):
        data.load_idx_dir(tmp_path)


def test_load_idx_dir_swapped_files(tmp_path):
    fake_mnist_dir(tmp_path)
    labels = (tmp_path / "train-labels-idx1-ubyte.gz").read_bytes()
    (tmp_path / "train-images-idx3-ubyte.gz").write_bytes(labels)
    with pytest.raises(
        DataError,
        match=r"train-images-idx3-ubyte\.gz: expected .* \(N, 28, 28\), the header says \(20,\) \(idx1 labels\)",
    ):
        data.load_idx_dir(tmp_path)


def test_load_idx_dir_images_not_28x28(tmp_path):
    fake_mnist_dir(tmp_path)
    write_idx(tmp_path / "t10k-images-idx3-ubyte.gz", idx_bytes(np.zeros((10, 32, 32), np.uint8)))
    with pytest.raises(DataError, match=r"t10k-images-idx3-ubyte\.gz: expected .* \(N, 28, 28\), the header says"):
        data.load_idx_dir(tmp_path)


def test_load_idx_dir_label_out_of_range(tmp_path):
    fake_mnist_dir(tmp_path)
    labels = np.zeros(20, np.uint8)
    labels[13] = 10
    write_idx(tmp_path / "train-labels-idx1-ubyte.gz", idx_bytes(labels))
    with pytest.raises(DataError, match=r"train-labels-idx1-ubyte\.gz: label 10 at index 13 is outside 0..9"):
        data.load_idx_dir(tmp_path)


def test_load_idx_dir_no_examples(tmp_path):
    fake_mnist_dir(tmp_path)
    write_idx(tmp_path / "t10k-images-idx3-ubyte.gz", idx_bytes(np.zeros((0, 28, 28), np.uint8)))
    write_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", idx_bytes(np.zeros(0, np.uint8)))
    with pytest.raises(DataError, match=r"t10k-images-idx3-ubyte\.gz: holds no images"):
        data.load_idx_dir(tmp_path)


def test_load_idx_dir_directory_named_like_a_file(tmp_path):
    fake_mnist_dir(tmp_path)
    (tmp_path / "train-labels-idx1-ubyte.gz").unlink()
    (tmp_path / "train-labels-idx1-ubyte.gz").mkdir()
    with pytest.raises(DataError, match=r"train-labels-idx1-ubyte\.gz: is a directory"):
        data.load_idx_dir(tmp_path)


def bundled_arrays() -> dict[str, np.ndarray]:
    """A tiny valid bundle: two 28x28 uint8 images and labels per split."""
    x = np.zeros((2, 28, 28), np.uint8)
    y = np.array([3, 9], np.uint8)
    return {"x_train": x, "y_train": y, "x_test": x, "y_test": y}


def test_load_npz_reads_a_valid_bundle(tmp_path):
    path = tmp_path / "b.npz"
    np.savez(path, **bundled_arrays())
    ds = data._load_npz(path)
    assert ds.x_train.shape == (2, 784) and ds.y_test.tolist() == [3, 9]


def corrupt_npz(tmp_path, how):
    path = tmp_path / "b.npz"
    arrays = bundled_arrays()
    if how == "truncated":
        np.savez_compressed(path, **arrays)
        path.write_bytes(path.read_bytes()[:-40])
    elif how == "garbage":
        path.write_bytes(b"\x00garbage" * 50)
    elif how == "npy":
        np.save(tmp_path / "b.npy", arrays["x_train"])
        (tmp_path / "b.npy").rename(path)
    elif how == "missing-array":
        np.savez(path, **{k: v for k, v in arrays.items() if k != "y_test"})
    elif how == "float-images":
        np.savez(path, **(arrays | {"x_train": arrays["x_train"].astype(np.float32)}))
    elif how == "flat-images":
        np.savez(path, **(arrays | {"x_test": arrays["x_test"].reshape(2, 784)}))
    elif how == "label-10":
        np.savez(path, **(arrays | {"y_train": np.array([3, 10], np.int64)}))
    elif how == "float-labels":
        np.savez(path, **(arrays | {"y_train": np.array([3.0, 9.5])}))
    return path


@pytest.mark.parametrize(
    "how, message",
    [
        ("truncated", "corrupt npz archive"),
        ("garbage", "corrupt npz archive"),
        ("npy", "not an npz archive"),
        ("missing-array", "npz archive lacks the array.s. y_test"),
        ("float-images", r"x_train must be uint8 images \(N, 28, 28\), got float32"),
        ("flat-images", r"x_test must be uint8 images \(N, 28, 28\), got uint8 \(2, 784\)"),
        ("label-10", "y_train labels must lie in 0..9"),
        ("float-labels", "y_train must hold integer labels"),
    ],
)
def test_load_npz_corrupt_bundle_names_the_file(tmp_path, how, message):
    path = corrupt_npz(tmp_path, how)
    with pytest.raises(DataError, match=rf"b\.npz: {message}"):
        data._load_npz(path)


def test_load_npz_missing_file(tmp_path):
    with pytest.raises(DataError, match=r"b\.npz: bundled subset not found"):
        data._load_npz(tmp_path / "b.npz")


def test_load_bundled_is_class_balanced():
    ds = data.load_bundled()
    assert ds.x_train.shape == (6000, 784) and ds.x_test.shape == (2000, 784)
    assert ds.x_train.dtype == np.float32 and ds.y_train.dtype == np.int32
    assert 0.0 <= ds.x_train.min() and ds.x_train.max() <= 1.0
    np.testing.assert_array_equal(np.bincount(ds.y_train), [600] * 10)
    np.testing.assert_array_equal(np.bincount(ds.y_test), [200] * 10)
    assert ds.source == "bundled subset (6000 train / 2000 test)"


def test_bundled_subset_matches_real_mnist():
    if not REAL_MNIST.is_dir():
        pytest.skip(f"real MNIST idx files not found at {REAL_MNIST}")
    full, bundled = data.load_idx_dir(REAL_MNIST), data.load_bundled()
    for split, per_class in (("train", 600), ("test", 200)):
        y = getattr(full, f"y_{split}")
        # Position of each example among those of its own digit, in file order.
        rank = np.zeros(len(y), int)
        for digit in range(10):
            rank[y == digit] = np.arange(np.sum(y == digit))
        keep = rank < per_class
        np.testing.assert_array_equal(getattr(bundled, f"x_{split}"), getattr(full, f"x_{split}")[keep])
        np.testing.assert_array_equal(getattr(bundled, f"y_{split}"), y[keep])


def test_load_mnist_auto_uses_env_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("SLEEPJAX_DATA_DIR", str(fake_mnist_dir(tmp_path)))
    ds = data.load_mnist("auto")
    assert ds.x_train.shape == (20, 784)
    assert ds.source == f"idx files in {tmp_path}"


def test_load_mnist_auto_does_not_fall_back(tmp_path, monkeypatch):
    monkeypatch.setenv("SLEEPJAX_DATA_DIR", str(tmp_path))  # empty directory
    with pytest.raises(DataError, match="missing MNIST idx file"):
        data.load_mnist("auto")


def test_load_mnist_auto_defaults_to_bundled(monkeypatch):
    monkeypatch.delenv("SLEEPJAX_DATA_DIR", raising=False)
    assert data.load_mnist().source.startswith("bundled subset")


def test_load_mnist_idx_needs_a_directory(monkeypatch):
    monkeypatch.delenv("SLEEPJAX_DATA_DIR", raising=False)
    with pytest.raises(ValueError, match="SLEEPJAX_DATA_DIR"):
        data.load_mnist("idx")


def test_load_mnist_unknown_source():
    with pytest.raises(ValueError, match="auto, idx, tfds, bundled"):
        data.load_mnist("kaggle")


def test_dataset_rejects_bad_arrays():
    x, y = np.zeros((3, 784), np.float32), np.zeros(3, np.int32)
    with pytest.raises(ValueError, match="y_train labels must lie in 0..9"):
        data.Dataset(x, y + 10, x, y, "test")
    with pytest.raises(ValueError, match=r"x_test must have shape \(N, 784\)"):
        data.Dataset(x, y, x.reshape(3, 28, 28), y, "test")
    with pytest.raises(ValueError, match=r"x_train values must lie in \[0, 1\]"):
        data.Dataset(x + 2, y, x, y, "test")
    with pytest.raises(ValueError, match="3 images but y_test has 2 labels"):
        data.Dataset(x, y, x, y[:2], "test")
    with pytest.raises(ValueError, match="x_train must be a float32"):
        data.Dataset(x.astype(np.float64), y, x, y, "test")


def test_load_tfds_with_mock_data(monkeypatch):
    tfds = pytest.importorskip("tensorflow_datasets")
    probed = []
    monkeypatch.setattr(tfds_loader, "_check_reachable", lambda host, timeout, what: probed.append(host))
    with tfds.testing.mock_data(num_examples=12):
        ds = tfds_loader.load_tfds()
    assert probed == [tfds_loader.TFDS_MNIST_HOST]  # mock data count as not prepared: the download host is checked
    for x, y in ((ds.x_train, ds.y_train), (ds.x_test, ds.y_test)):
        assert x.shape == (12, 784) and x.dtype == np.float32
        assert y.shape == (12,) and y.dtype == np.int32
        assert 0.0 <= x.min() and x.max() <= 1.0
        assert 0 <= y.min() and y.max() <= 9
    assert ds.source == "TensorFlow Datasets 'mnist'"


def test_tfds_without_network_is_one_line_naming_the_source(tmp_path, monkeypatch):
    """Unprepared data and an unreachable download host: one error, not minutes of retries."""
    pytest.importorskip("tensorflow_datasets")
    monkeypatch.setattr(tfds_loader, "TFDS_MNIST_HOST", "sleepjax-test.invalid")  # .invalid never resolves
    with pytest.raises(
        DataError, match=r"^--source tfds: MNIST is not prepared .* sleepjax-test\.invalid cannot"
    ) as err:
        data.load_mnist("tfds", tmp_path / "tfds")
    assert "\n" not in str(err.value)


def test_reachability_check_is_bounded(monkeypatch):
    """A network that answers only after the timeout (a lookup or connect that hangs) is not waited for."""
    import time

    def late(*args, **kwargs):
        time.sleep(3)
        raise OSError("answered too late")

    monkeypatch.setattr(tfds_loader.socket, "create_connection", late)
    with pytest.raises(DataError, match=r"no answer within 0\.2 s"):
        tfds_loader._check_reachable("example.org", 0.2)


def test_any_tfds_failure_is_one_line_naming_the_source(monkeypatch):
    """A broken TFDS installation (here: a builder that raises) gives a DataError with the first line."""
    import sys
    import types

    def builder(*args, **kwargs):
        raise ModuleNotFoundError("No module named 'importlib_resources'\nsecond line")

    monkeypatch.setitem(sys.modules, "tensorflow_datasets", types.SimpleNamespace(builder=builder))
    with pytest.raises(DataError) as err:
        tfds_loader.load_tfds()
    assert str(err.value) == (
        "--source tfds: TensorFlow Datasets could not load 'mnist' "
        "(ModuleNotFoundError: No module named 'importlib_resources')"
    )


def test_missing_directory_from_the_environment_names_the_variable(tmp_path, monkeypatch):
    monkeypatch.setenv("SLEEPJAX_DATA_DIR", str(tmp_path / "nowhere"))
    with pytest.raises(DataError, match=r"^\$SLEEPJAX_DATA_DIR: .*nowhere: not a directory"):
        data.load_mnist("auto")


def test_data_dir_with_bundled_source_is_refused(tmp_path):
    with pytest.raises(ValueError, match="--data-dir cannot be used with --source bundled"):
        data.load_mnist("bundled", tmp_path)


def test_write_idx_dir_round_trips_and_refuses_a_wrapping_cast(tmp_path):
    # Catches a writer whose header or byte order read_idx_dir does not read back, and a silent cast of
    # int arrays to uint8 (256 would become 0).
    (tmp_path / "src").mkdir()
    arrays = idx.read_idx_dir(fake_mnist_dir(tmp_path / "src", gz=False))
    out = idx.write_idx_dir(tmp_path / "copy", *arrays)
    for a, b in zip(arrays, idx.read_idx_dir(out), strict=True):
        np.testing.assert_array_equal(a, b)
    assert (out / "train-images-idx3-ubyte").read_bytes() == (tmp_path / "src" / "train-images-idx3-ubyte").read_bytes()
    with pytest.raises(ValueError, match="train-labels-idx1-ubyte: idx files hold uint8 values, got an array of int64"):
        idx.write_idx_dir(tmp_path / "bad", arrays[0], arrays[1].astype(np.int64), *arrays[2:])
