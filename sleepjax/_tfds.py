"""Image classification sets of TensorFlow Datasets (MNIST by default) as a :class:`~sleepjax.Dataset`,
through TFDS's array-record data source (no TensorFlow needed; optional extra ``sleepjax[tfds]``).
"""

from __future__ import annotations

import os
import socket
import threading

import numpy as np

from sleepjax._datasets import Dataset, _make_dataset
from sleepjax._idx import DataError

__all__ = ["TFDS_MNIST_HOST", "load_tfds"]

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
