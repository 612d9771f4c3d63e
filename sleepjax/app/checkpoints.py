"""Checkpoints of long runs: the arrays a run needs to continue where it stopped, kept beside its record.

A checkpoint is one ``.npz`` file (``<record>.checkpoint.npz``) holding named pytrees of arrays (a
network, a phase state, what was measured so far) and a JSON header: what the checkpoint belongs to
(``owner``, e.g. the record's identity and the chunk of trials) and small metadata per entry (the stage,
the next task). It is rewritten atomically after every update, so an interruption at any moment leaves
either the previous checkpoint or the new one. A checkpoint whose owner differs from the run asking for
it is ignored (and replaced by the run's own).
"""

from __future__ import annotations

import io
import json
import os
from pathlib import Path
from typing import Any

import equinox as eqx
import jax
import numpy as np

from sleepjax._files import write_bytes_atomic


def _is_leaf_array(x) -> bool:
    return eqx.is_array(x) or isinstance(x, jax.ShapeDtypeStruct | np.ndarray)


class Checkpoint:
    """Named pytrees of arrays in one file, for one ``owner`` (a JSON-able value)."""

    def __init__(self, path: str | os.PathLike, owner: Any):
        self.path = Path(path)
        self.owner = json.loads(json.dumps(owner))
        self.meta: dict[str, Any] = {}
        self.arrays: dict[str, list[np.ndarray]] = {}
        if self.path.exists():
            self._read()

    def _read(self) -> None:
        try:
            with np.load(self.path, allow_pickle=False) as data:
                header = json.loads(bytes(data["header"]).decode())
                if header.get("owner") != self.owner:
                    return
                self.meta = header["meta"]
                self.arrays = {name: [data[f"{name}/{i}"] for i in range(n)] for name, n in header["counts"].items()}
        except (OSError, ValueError, KeyError):  # unreadable: started afresh and overwritten
            self.meta, self.arrays = {}, {}

    def __contains__(self, name: str) -> bool:
        return name in self.arrays

    def get(self, name: str, template):
        """Entry ``name`` in the structure of ``template`` (its array leaves, or shape structs, replaced in
        order by the stored arrays; its other leaves kept)."""
        arrays, static = eqx.partition(template, _is_leaf_array)
        leaves = self.arrays[name]
        treedef = jax.tree.structure(arrays)
        if treedef.num_leaves != len(leaves):
            raise ValueError(f"{self.path}: checkpoint entry {name} does not fit this run's structure")
        return eqx.combine(jax.tree.unflatten(treedef, leaves), static)

    def put(self, name: str, tree, **meta) -> None:
        """Keep ``tree``'s arrays as entry ``name`` (with ``meta``) and rewrite the file."""
        self.arrays[name] = [np.asarray(x) for x in jax.tree.leaves(eqx.filter(tree, _is_leaf_array))]
        self.meta[name] = meta
        self._write()

    def drop(self, name: str) -> None:
        """Forget entry ``name`` (rewrite the file)."""
        self.arrays.pop(name, None)
        self.meta.pop(name, None)
        self._write()

    def remove(self) -> None:
        """Delete the file (the run it belonged to is finished)."""
        self.path.unlink(missing_ok=True)
        self.meta, self.arrays = {}, {}

    def _write(self) -> None:
        header = {"owner": self.owner, "meta": self.meta, "counts": {n: len(a) for n, a in self.arrays.items()}}
        buffer = io.BytesIO()
        named = {f"{name}/{i}": a for name, arrays in self.arrays.items() for i, a in enumerate(arrays)}
        np.savez(buffer, header=np.frombuffer(json.dumps(header).encode(), np.uint8), **named)
        write_bytes_atomic(self.path, buffer.getvalue())


def checkpoint_path(record_path: str | os.PathLike) -> Path:
    """Where the checkpoint of the record ``record_path`` is kept."""
    return Path(str(record_path) + ".checkpoint.npz")
