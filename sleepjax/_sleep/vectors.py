"""Named SRC hyperparameter vectors and vector files, for ``--src-hparams NAME_OR_FILE``.

A vector is a :class:`~sleepjax._sleep.mlp.SRCPhaseHparams`: the sleep's hyperparameters and its
schedule. The named ones are the published reference vectors (with the reference schedule, 15,000 steps
after the first task and 5,000 more per later task) and the vectors found by ``sleepjax tune`` that ship
with the package (:data:`TUNED_VECTORS`, kept as JSON vector files in ``sleepjax/_data/vectors``).

A vector file is a JSON object with the fields of :class:`~sleepjax._sleep.src.SRCHparams` (``beta`` a
list, one entry per layer; fields left out take their defaults) and optionally ``base_steps`` and
``steps_per_task``; ``sleepjax sweep`` and ``sleepjax tune`` write such files.
"""

from __future__ import annotations

import json
import math
import os
from importlib import resources
from pathlib import Path

import numpy as np

from sleepjax._sleep.hparams import REFERENCE_HPARAMS, SRCHparams
from sleepjax._sleep.mlp import SRCPhaseHparams

SCHEDULE_FIELDS = ("base_steps", "steps_per_task")


#: Vectors found by ``sleepjax tune`` and shipped as package data (``sleepjax/_data/vectors/<name>.json``);
#: how each was found and how it scores on test is in the README.
TUNED_VECTORS = ("mnist-tuned",)


def _tuned_vector(name: str) -> SRCPhaseHparams:
    text = resources.files("sleepjax").joinpath(f"_data/vectors/{name}.json").read_text()
    return vector_from_json(json.loads(text), f"packaged vector {name}")


def named_vectors() -> dict[str, SRCPhaseHparams]:
    """Every vector that can be selected by name: the published reference vectors and the tuned ones."""
    vectors = {name: SRCPhaseHparams.create(hp) for name, hp in REFERENCE_HPARAMS.items()}
    vectors.update({name: _tuned_vector(name) for name in TUNED_VECTORS})
    return vectors


def vector_to_json(vector: SRCPhaseHparams) -> dict:
    """The JSON form of a vector (what :func:`load_vector` reads back)."""
    out = {name: np.asarray(value).tolist() for name, value in vector.src._asdict().items() if value is not None}
    out.update({name: int(getattr(vector, name)) for name in SCHEDULE_FIELDS})
    return out


def vector_from_json(data, where: str) -> SRCPhaseHparams:
    """Build a vector from its JSON form; ``ValueError`` naming ``where`` and the field when malformed."""
    if not isinstance(data, dict):
        raise ValueError(f"{where}: an SRC vector must be a JSON object, got {type(data).__name__}")
    known = set(SRCHparams._fields) | set(SCHEDULE_FIELDS)
    unknown = sorted(set(data) - known)
    if unknown:
        raise ValueError(f"{where}: unknown SRC hyperparameter(s) {unknown}; known: {sorted(known)}")
    required = [f for f in SRCHparams._fields if f not in SRCHparams._field_defaults]
    missing = [f for f in required if f not in data]
    if missing:
        raise ValueError(f"{where}: missing SRC hyperparameter(s) {missing}")
    values = {}
    for name in SRCHparams._fields:
        if name not in data:
            continue
        value = data[name]
        flat = value if isinstance(value, list) else [value]
        if not all(isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) for v in flat):
            raise ValueError(f"{where}: SRC hyperparameter {name} must be finite numbers, got {value!r}")
        values[name] = value
    schedule = {}
    for name in SCHEDULE_FIELDS:
        if name in data:
            schedule[name] = data[name]
    try:
        return SRCPhaseHparams.create(SRCHparams.create(**values), **schedule)
    except ValueError as err:
        raise ValueError(f"{where}: {err}") from None


def load_vector(name_or_path: str | os.PathLike) -> tuple[str, SRCPhaseHparams]:
    """``(label, vector)`` for a vector name (see :func:`named_vectors`) or a JSON vector file."""
    vectors = named_vectors()
    if str(name_or_path) in vectors:
        return str(name_or_path), vectors[str(name_or_path)]
    path = Path(name_or_path)
    if not path.suffix == ".json" and not path.exists():
        raise ValueError(f"unknown SRC vector {str(name_or_path)!r}; choose from {sorted(vectors)} or a .json file")
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise ValueError(f"{path}: SRC vector file not found") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ValueError(f"{path}: not a readable JSON SRC vector ({err})") from None
    return str(path), vector_from_json(data, str(path))


def src_vector(name_or_path: str | os.PathLike = "mnist") -> SRCPhaseHparams:
    """The SRC vector (sleep hyperparameters and schedule) of a name (``"mnist"``, the reference;
    ``"mnist-tuned"``, ...; see :func:`named_vectors`) or of a JSON vector file."""
    return load_vector(name_or_path)[1]


def save_src_vector(path: str | os.PathLike, vector: SRCPhaseHparams) -> None:
    """Write ``vector`` as a JSON vector file (what :func:`src_vector` reads back)."""
    Path(path).write_text(json.dumps(vector_to_json(vector), indent=1) + "\n")
