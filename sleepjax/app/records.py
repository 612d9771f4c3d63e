"""Resumable JSON records: one layer for every experiment and the sweep, so that nothing finished is lost.

A record is a JSON file holding what identifies a run (``identity``: the settings and a fingerprint of
the data), the environment it ran in, and the finished units of work grouped by arm or condition
(``record[groups_key][group]["runs"][seed]``). Experiments store each unit as soon as it is finished
and save; rerunning the same command opens the record and runs only what is missing.

What this layer guarantees:

* :func:`check_writable` refuses an unusable output path *before* anything is computed (a directory, a
  parent that is a file, a read-only directory);
* :meth:`Record.save` writes through a fresh, unpredictably named temporary file in the same directory
  and atomically replaces the record, so a crash never leaves half a file and a link planted at a
  predictable temporary name is never followed;
* :meth:`Record.open` validates an existing file (JSON object, format, fields and every stored unit, via
  the experiment's own check) and raises :class:`RecordError` naming the file and the field, leaving the
  file untouched; a record made with other settings is refused with the fields that differ;
* a change of package versions, backend or host CPU between sessions is appended to ``environment_history``
  rather than silently overwritten.
"""

from __future__ import annotations

import json
import math
import os
import platform
import re
import tempfile
from collections.abc import Callable, Mapping, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

import jax

from sleepjax._files import write_bytes_atomic

FORMAT = "sleepjax-record/1"

MAX_RECORD_BYTES = 256 * 2**20
"""Largest record file read (256 MiB, thousands of times a split-MNIST record of 30 runs): anything
larger is refused rather than read into memory."""

_SEED_KEY = re.compile(r"0|[1-9][0-9]*")

UnitCheck = Callable[[str, str, Any], None]
"""``check(group, seed, unit)`` raises :class:`RecordError` (via :func:`require`) for a malformed unit."""


class RecordError(ValueError):
    """A record file that cannot be used; the message names the file and the field."""


def require(condition: bool, field: str, problem: str) -> None:
    """Raise :class:`RecordError` ``"field <field>: <problem>"`` unless ``condition`` (the file name is
    added by :meth:`Record.open`)."""
    if not condition:
        raise RecordError(f"field {field}: {problem}")


def is_number(value: Any) -> bool:
    """A finite JSON number (not a bool)."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def check_matrix(value: Any, field: str, shape: tuple[int, int], low: float = 0.0, high: float = 1.0) -> None:
    """Require a list of ``shape[0]`` lists of ``shape[1]`` finite numbers in ``[low, high]``."""
    ok = (
        isinstance(value, list)
        and len(value) == shape[0]
        and all(isinstance(row, list) and len(row) == shape[1] for row in value)
    )
    require(ok, field, f"expected a {shape[0]}x{shape[1]} matrix")
    bad = [v for row in value for v in row if not (is_number(v) and low <= v <= high)]
    require(not bad, field, f"values must be numbers in [{low}, {high}], found {bad[0]!r}" if bad else "")


def host_cpu() -> dict:
    """The host CPU's model and the vector extensions XLA's CPU code generator picks from. Two CPUs with
    different extensions (e.g. AVX-512 or not) compile the same program to differently rounded code, so
    a seed's numbers reproduce digit for digit only on the same kind of CPU."""
    model, flags = platform.processor() or platform.machine(), set()
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                key, _, value = line.partition(":")
                if key.strip() == "model name":
                    model = value.strip()
                elif key.strip() == "flags":
                    flags = set(value.split())
                    break
    except OSError:
        pass
    return {"model": model, "extensions": sorted(f for f in flags if f in _VECTOR_EXTENSIONS or f.startswith("avx512"))}


_VECTOR_EXTENSIONS = {"sse4_1", "sse4_2", "avx", "avx2", "fma", "f16c", "amx_bf16", "amx_tile"}


def environment() -> dict:
    """Versions of Python, sleepjax and its main dependencies, the JAX backend and devices, and the host
    CPU (:func:`host_cpu`)."""
    versions = {"python": platform.python_version()}
    for name in ("sleepjax", "jax", "jaxlib", "optax", "equinox", "numpy"):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    devices = [str(d) for d in jax.devices()]
    return {"versions": versions, "backend": jax.default_backend(), "devices": devices, "cpu": host_cpu()}


def writable_directory(directory: str | os.PathLike, what: str) -> Path:
    """Create ``directory`` if missing and check that it accepts new files; ``what`` names it in the
    :class:`RecordError` (e.g. ``"--plot figs"``)."""
    directory = Path(directory)
    for ancestor in [directory, *directory.parents]:
        if ancestor.exists() and not ancestor.is_dir():
            raise RecordError(f"{what}: cannot create a directory there, {ancestor} is a file, not a directory")
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=directory, prefix=".sleepjax-", suffix=".probe"):
            pass
    except OSError as err:
        raise RecordError(f"{what}: cannot write in {directory} ({err.strerror or err})") from None
    return directory


def check_writable(path: str | os.PathLike) -> Path:
    """Refuse an output path that could not be written, before any computing starts; return the path
    records are written to.

    Creates missing parent directories. Raises :class:`RecordError` if ``path`` is a directory (or a link
    to one), a link to nothing, something other than a regular file, if a parent is a file, or if the
    directory does not accept new files. A link to a file is followed: the record replaces the file it
    points to and the link stays.
    """
    path = Path(path)
    if path.is_symlink():
        target = path.resolve()
        if not target.exists():
            raise RecordError(f"{path}: is a link to {target}, which does not exist; remove the link or fix it")
        path = target
    if path.is_dir():
        raise RecordError(f"{path}: is a directory; --out needs a file name, e.g. {path / 'record.json'}")
    if path.exists() and not path.is_file():
        raise RecordError(f"{path}: exists and is not a regular file; --out needs a file name")
    writable_directory(path.parent, str(path))
    if path.exists() and not os.access(path, os.W_OK):
        raise RecordError(f"{path}: the existing record is not writable")
    return path


def write_atomic(path: Path, data: Mapping) -> None:
    """Write ``data`` as JSON to ``path`` through a unique temporary file and an atomic replace."""
    write_text_atomic(path, json.dumps(data, indent=1, allow_nan=False))


def write_text_atomic(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically (:func:`sleepjax._files.write_bytes_atomic`)."""
    write_bytes_atomic(path, text.encode("utf-8"))


def differences(stored: Any, wanted: Any, prefix: str = "") -> list[str]:
    """Dotted names of the fields where two JSON values differ (leaves and missing keys)."""
    if isinstance(stored, dict) and isinstance(wanted, dict):
        out = []
        for key in sorted(set(stored) | set(wanted), key=str):
            name = f"{prefix}.{key}" if prefix else str(key)
            if key not in stored or key not in wanted:
                out.append(name)
            else:
                out.extend(differences(stored[key], wanted[key], name))
        return out
    return [] if stored == wanted else [prefix or "(whole value)"]


def as_json(value: Any) -> Any:
    """``value`` as it reads back from JSON (tuples become lists), for comparing with a stored record."""
    return json.loads(json.dumps(value))


class Record:
    """An experiment's record: ``data`` (the JSON object) and where it is kept (``path``, or ``None`` for
    a run without ``--out``)."""

    def __init__(self, path: Path | None, data: dict, groups_key: str):
        self.path = path
        self.data = data
        self.groups_key = groups_key
        self._saved = self.describe() if path is not None and path.exists() else None

    @classmethod
    def open(
        cls,
        path: str | os.PathLike | None,
        experiment: str,
        identity: Mapping,
        groups_key: str,
        check_unit: UnitCheck,
        groups: Sequence[str] | None = None,
    ) -> Record:
        """The record at ``path`` if it exists and was made with the same ``identity``; else a new one.

        ``groups`` lists the group names (arms, conditions) the experiment knows; ``check_unit`` checks
        one stored run.

        Raises :class:`RecordError` (naming the file and the field) for an unreadable, malformed or
        foreign record; the file is left untouched.
        """
        identity = as_json(identity)
        fresh = {
            "format": FORMAT,
            "experiment": experiment,
            "identity": identity,
            "environment": environment(),
            "environment_history": [],
            groups_key: {},
        }
        if path is None:
            return cls(None, fresh, groups_key)
        path = check_writable(path)
        if not path.exists():
            return cls(path, fresh, groups_key)
        try:
            with path.open("rb") as f:
                raw = f.read(MAX_RECORD_BYTES + 1)
            if len(raw) > MAX_RECORD_BYTES:
                raise RecordError(f"larger than {MAX_RECORD_BYTES // 2**20} MiB, not a record this version wrote")
            data = json.loads(raw.decode("utf-8"))
            cls._validate(data, experiment, groups_key, check_unit, groups)
            changed = differences(data["identity"], identity)
        except (UnicodeDecodeError, json.JSONDecodeError) as err:
            raise RecordError(f"{path}: not a JSON record ({err}); move it away or choose another --out") from None
        except RecursionError:
            raise RecordError(f"{path}: JSON nested too deeply to be a record; the file was left as it is") from None
        except OSError as err:
            raise RecordError(f"{path}: cannot read the existing record ({err.strerror or err})") from None
        except RecordError as err:
            raise RecordError(f"{path}: {err}; the file was left as it is") from None
        if changed:
            raise RecordError(
                f"{path}: holds a record made with other settings (differing: {', '.join(changed)}); "
                "choose another --out, or rerun with the settings it was made with to resume it"
            )
        record = cls(path, data, groups_key)
        record._note_environment(environment())
        return record

    @staticmethod
    def _validate(data: Any, experiment: str, groups_key: str, check_unit: UnitCheck, known) -> None:
        require(isinstance(data, dict), "(top level)", f"expected a JSON object, got {type(data).__name__}")
        require(data.get("format") == FORMAT, "format", f"expected {FORMAT!r}, got {data.get('format')!r}")
        require(
            data.get("experiment") == experiment,
            "experiment",
            f"this is a record of {data.get('experiment')!r}, not {experiment!r}",
        )
        require(isinstance(data.get("identity"), dict), "identity", "missing or not an object")
        require(isinstance(data.get("environment"), dict), "environment", "missing or not an object")
        require(isinstance(data.get("environment_history"), list), "environment_history", "missing or not a list")
        groups = data.get(groups_key)
        require(isinstance(groups, dict), groups_key, "missing or not an object")
        for group, entry in groups.items():
            field = f"{groups_key}.{group}"
            require(known is None or group in known, field, f"unknown name; expected one of {list(known or [])}")
            require(isinstance(entry, dict), field, "expected an object")
            require(isinstance(entry.get("runs"), dict), f"{field}.runs", "missing or not an object")
            for seed, unit in entry["runs"].items():
                is_seed = _SEED_KEY.fullmatch(seed) is not None and int(seed) < 2**32
                require(is_seed, f"{field}.runs.{seed}", "run keys must be seeds written as 0 .. 4294967295")
                require(isinstance(unit, dict), f"{field}.runs.{seed}", "expected an object")
                check_unit(group, seed, unit)

    def _note_environment(self, now: dict) -> None:
        before = self.data["environment"]
        if before != now:
            finished = sum(len(g["runs"]) for g in self.data[self.groups_key].values())
            self.data["environment_history"].append(dict(before, runs_before_change=finished))
            self.data["environment"] = now

    def group(self, name: str, **fields) -> dict:
        """The entry of group ``name`` (created with ``fields`` and no runs if new)."""
        return self.data[self.groups_key].setdefault(name, {**as_json(fields), "runs": {}})

    def finished(self, group: str) -> set[int]:
        """Seeds of ``group`` already in the record."""
        return {int(s) for s in self.data[self.groups_key].get(group, {}).get("runs", {})}

    def num_finished(self) -> int:
        """Finished units over all groups."""
        return sum(len(g["runs"]) for g in self.data[self.groups_key].values())

    def describe(self) -> str:
        """The finished units, e.g. ``"finetune: seeds 0, 1; src: seed 0"`` (long seed lists shortened)."""
        parts = []
        for name, entry in self.data[self.groups_key].items():
            seeds = sorted(int(s) for s in entry["runs"])
            if seeds:
                shown = ", ".join(map(str, seeds[:8])) + (f", ... ({len(seeds)} in all)" if len(seeds) > 8 else "")
                parts.append(f"{name}: seed{'s' if len(seeds) > 1 else ''} {shown}")
        return "; ".join(parts) or "no finished run"

    def save(self) -> None:
        """Write the record (no-op without a path).

        A failed write (disk full, permissions changed during the run) raises :class:`RecordError` naming
        the file and what it still holds: the write is atomic, so the file keeps the previous save.
        """
        if self.path is None:
            return
        try:
            write_atomic(self.path, self.data)
        except OSError as err:
            kept = f"it still holds {self._saved}" if self._saved is not None else "no record was written"
            raise RecordError(
                f"{self.path}: cannot save the record ({err.strerror or err}); {kept}; "
                "fix that and rerun the same command to resume"
            ) from None
        self._saved = self.describe()
