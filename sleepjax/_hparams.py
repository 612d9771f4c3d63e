"""Hyperparameters by dotted name: read and set any leaf of a phase's hyperparameter pytree.

A composed phase takes its hyperparameters as a named pytree, e.g.
``{"sleep": SRCPhaseHparams(src=SRCHparams(...), base_steps=..., steps_per_task=...)}``. Every leaf has
a dotted name built from the dict keys and field names on its path: ``sleep.src.inc``,
``sleep.base_steps``. One entry of an array leaf is named with an index, ``sleep.src.beta[1]`` or
``sleep.src.beta.1`` (both mean the same). Sweeps and searches address hyperparameters only through
these names, so a user sweeps any leaf of any phase without touching library code.

Values set by name keep the leaf's shape and dtype: a value of another shape (e.g. two thresholds for
a three-layer network) or a fractional value for an integer leaf is refused with the name.
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Mapping
from typing import Any

import jax
import numpy as np

_INDEX = re.compile(r"^(?P<leaf>.+?)(?:\[(?P<bracket>\d+(?:\s*,\s*\d+)*)\]|\.(?P<dot>\d+))$")


def key_name(key) -> str:
    """The name of one pytree path entry: a dict key, a field name, an index. A field named with a
    trailing underscore because its name is a Python keyword (``lambda_``) is named without it
    (``ewc.lambda``), as the papers name it."""
    for attr in ("key", "name", "idx"):
        if hasattr(key, attr):
            name = str(getattr(key, attr))
            return name[:-1] if attr == "name" and keyword.iskeyword(name[:-1]) and name.endswith("_") else name
    raise TypeError(f"unsupported pytree key {key!r}")


def hparam_names(hparams) -> dict[str, Any]:
    """Every leaf of ``hparams`` by its dotted name, in pytree order."""
    leaves, _ = jax.tree_util.tree_flatten_with_path(hparams)
    return {".".join(key_name(k) for k in path): leaf for path, leaf in leaves}


def parse_name(name: str, hparams) -> tuple[str, tuple[int, ...] | None]:
    """``(leaf name, index)`` of a dotted name: the index is ``None`` for a whole leaf, else the entry.

    Raises ``ValueError`` naming the unknown name and listing the known ones, or an index out of range.
    """
    names = hparam_names(hparams)
    if name in names:
        return name, None
    match = _INDEX.match(name)
    if match and match["leaf"] in names:
        text = match["bracket"] or match["dot"]
        index = tuple(int(i) for i in text.split(","))
        shape = np.shape(names[match["leaf"]])
        if len(index) != len(shape) or not all(0 <= i < n for i, n in zip(index, shape)):
            raise ValueError(f"hyperparameter {name}: index {list(index)} is outside {match['leaf']} of shape {shape}")
        return match["leaf"], index
    raise ValueError(f"unknown hyperparameter {name!r}; known: {', '.join(names)}")


def expand_names(hparams) -> list[str]:
    """Names of every scalar: whole scalar leaves, and each entry of array leaves (``beta[0]``, ...)."""
    out = []
    for name, leaf in hparam_names(hparams).items():
        shape = np.shape(leaf)
        if shape == ():
            out.append(name)
        else:
            out.extend(f"{name}[{','.join(map(str, i))}]" for i in np.ndindex(*shape))
    return out


def get_hparam(hparams, name: str) -> np.ndarray:
    """The value of ``name`` (a leaf or one entry of it) as a NumPy array."""
    leaf, index = parse_name(name, hparams)
    value = np.asarray(hparam_names(hparams)[leaf])
    return value if index is None else value[index]


def _converted(name: str, value, like: np.ndarray) -> np.ndarray:
    """``value`` with the shape and dtype of ``like``; ``ValueError`` naming ``name`` otherwise."""
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"hyperparameter {name} must be numeric, got {value!r}") from None
    if array.shape != like.shape:
        raise ValueError(f"hyperparameter {name} must have shape {like.shape}, got {array.shape} ({value!r})")
    if np.issubdtype(like.dtype, np.integer):
        if not np.all(np.isfinite(array)) or not np.all(array == np.round(array)):
            raise ValueError(f"hyperparameter {name} must be an integer, got {value!r}")
        info = np.iinfo(like.dtype)
        if not np.all((array >= info.min) & (array <= info.max)):
            raise ValueError(f"hyperparameter {name} = {value!r} does not fit {like.dtype}")
    if like.dtype == np.bool_:
        return array.astype(bool)
    return array.astype(like.dtype)


def set_hparams(hparams, values: Mapping[str, Any]):
    """``hparams`` with the leaves (or entries) named in ``values`` replaced; the rest unchanged.

    Leaves become NumPy arrays of the original shape and dtype. Raises ``ValueError`` naming the
    hyperparameter for an unknown name, a wrong shape, or a fractional value for an integer leaf.
    """
    names = hparam_names(hparams)
    new = {name: np.array(leaf) for name, leaf in names.items()}
    for name, value in values.items():
        leaf, index = parse_name(name, hparams)
        if index is None:
            new[leaf] = _converted(name, value, new[leaf])
        else:
            new[leaf][index] = _converted(name, value, new[leaf][index])
    treedef = jax.tree.structure(hparams)
    return jax.tree.unflatten(treedef, list(new.values()))


def check_nodes(hparams) -> None:
    """Call ``check()`` on every node of ``hparams`` that has one (a hyperparameter type checking its
    own values); ``ValueError`` naming the node's dotted path and the problem."""

    def checks_itself(node) -> bool:
        return callable(getattr(node, "check", None))

    nodes, _ = jax.tree_util.tree_flatten_with_path(hparams, is_leaf=checks_itself)
    for path, node in nodes:
        if checks_itself(node):
            where = ".".join(key_name(k) for k in path) or "(top level)"
            try:
                node.check()
            except ValueError as err:
                raise ValueError(f"{where}: {err}") from None


def stack_hparams(trees: list):
    """Stack pytrees of the same structure along a new leading axis (NumPy)."""
    return jax.tree.map(lambda *leaves: np.stack(leaves), *trees)


def to_json(value) -> Any:
    """A NumPy hyperparameter value as plain JSON (numbers or nested lists)."""
    return np.asarray(value).tolist()
