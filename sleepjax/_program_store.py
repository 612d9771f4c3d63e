"""A store of traced programs on disk, so that a second invocation of the same run skips tracing too.

JAX's persistent compilation cache skips XLA's compilation, but to look a program up JAX must first trace
and lower it, seconds for a whole continual run. With a store switched on (:func:`use_program_store`),
the run engine serialises each program it traces (:mod:`jax.export`) under a key computed *without*
tracing: a fingerprint of everything the program is built from (the phase's functions, their code and
the values they close over, the arguments' shapes, dtypes and static parts, the devices, the versions of
jax, jaxlib, optax, equinox and numpy, JAX's settings and sleepjax's own source). A later invocation with
the same key deserialises the program instead of tracing it; the persistent compilation cache then
supplies the compiled code.

A program whose parts cannot all be fingerprinted (an object of a kind the fingerprint does not know) or
that cannot be exported (a host callback inside) is simply run as usual and not stored.
The store is off by default; the command line switches it on beside the compilation cache.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import hashlib
import importlib
import importlib.metadata
import io
import os
import pickle
import types
import weakref
from collections.abc import Callable
from pathlib import Path

import equinox as eqx
import jax
import numpy as np

from sleepjax._files import write_bytes_atomic

_DIRECTORY: Path | None = None
#: key -> (the jitted call of the stored program, its output skeleton), or None (cannot be exported)
_LOADED: dict[str, tuple | None] = {}
#: program -> the fingerprint of what it was built from (None: cannot be fingerprinted), taken at its first
#: call: a program object is built once from its identity (the engine caches programs by it).
_IDENTITY_KEYS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

#: Top-level packages whose functions are identified by name alone: their code is pinned by the versions
#: (and, for sleepjax, the source hash) in every key.
_PINNED = ("sleepjax", "jax", "jaxlib", "optax", "equinox", "numpy", "ml_dtypes", "builtins", "math", "operator")
_VERSIONED = ("jax", "jaxlib", "optax", "equinox", "numpy")


def use_program_store(directory: str | os.PathLike | None) -> Path | None:
    """Keep the programs :func:`~sleepjax.run_batch` traces in ``directory`` (created if missing), and
    take them from there instead of tracing them again; ``None`` switches the store off (the default).

    Use it beside JAX's persistent compilation cache (``jax.config.update("jax_compilation_cache_dir",
    ...)``), which then supplies the compiled code: together they make a second invocation of the same
    run skip both tracing and compiling. Returns the directory in use."""
    global _DIRECTORY
    if directory is not None:
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
    _DIRECTORY = directory
    return directory


class Unfingerprintable(TypeError):
    """An object the fingerprint cannot describe, so its program is not stored."""


def fingerprint(*objects) -> str:
    """A hex digest that two processes compute alike for equal programs' ingredients, and differently
    when any function's code, a value it closes over, an array's contents or a static field differs.
    Raises :class:`Unfingerprintable` for an object of an unknown kind."""
    digest = hashlib.sha256()
    _Walker(digest).walk(objects)
    return digest.hexdigest()


class _Walker:
    """Feeds a structural description of objects into a hash; objects met twice are named by order."""

    def __init__(self, digest):
        self.digest = digest
        self.seen: dict[int, int] = {}
        self.keep: list = []  # keeps the walked objects alive, so that their ids stay unique

    def put(self, *parts) -> None:
        for part in parts:
            self.digest.update(repr(part).encode() + b"\x00")

    def walk(self, obj) -> None:
        kind = type(obj)
        if obj is None or kind in (bool, int, float, complex, str, bytes):
            return self.put(kind.__name__, obj)
        if isinstance(obj, np.dtype):
            return self.put("dtype", obj.str)
        if isinstance(obj, np.ndarray | np.generic | jax.Array):
            array = np.asarray(obj)
            self.put("array", array.dtype.str, array.shape)
            return self.digest.update(hashlib.sha256(np.ascontiguousarray(array).tobytes()).digest())
        if id(obj) in self.seen:
            return self.put("again", self.seen[id(obj)])
        self.seen[id(obj)] = len(self.seen)
        self.keep.append(obj)
        if isinstance(obj, tuple | list):
            self.put(_name(kind), len(obj))
            for item in obj:
                self.walk(item)
        elif isinstance(obj, dict):
            self.put(_name(kind), len(obj))
            for k, v in obj.items():
                self.walk(k)
                self.walk(v)
        elif isinstance(obj, set | frozenset):
            self.put(_name(kind), sorted(fingerprint(item) for item in obj))
        elif isinstance(obj, types.FunctionType):
            self.function(obj)
        elif isinstance(obj, functools.partial):
            self.put("partial")
            self.walk((obj.func, obj.args, obj.keywords))
        elif isinstance(obj, types.MethodType):
            self.put("method")
            self.walk((obj.__func__, obj.__self__))
        elif isinstance(obj, type | types.BuiltinFunctionType | types.ModuleType):
            self.put("named", _name(obj))
        elif isinstance(obj, enum.Enum):
            self.put("enum", _name(kind), obj.name)
        elif isinstance(obj, jax.sharding.Mesh):
            devices = [(d.platform, d.device_kind, d.id) for d in obj.devices.flat]
            self.put("mesh", obj.axis_names, obj.devices.shape, devices)
        elif dataclasses.is_dataclass(obj):  # equinox modules included
            self.put("dataclass", _name(kind))
            for field in dataclasses.fields(obj):
                self.put(field.name)
                self.walk(getattr(obj, field.name, None))
        elif _pinned(obj):  # e.g. jax.nn.relu (a custom_jvp), jax.numpy's jitted functions
            self.put("named", _name(kind), _name(obj))
        elif hasattr(obj, "__wrapped__"):  # a user's jax.jit, custom_jvp or functools.wraps wrapper
            self.put("wrapped", _name(kind))
            self.walk(tuple(getattr(obj, a, None) for a in ("__wrapped__", "jvp", "fwd", "bwd")))
        else:
            raise Unfingerprintable(f"cannot fingerprint an object of type {_name(kind)}")
        return None

    def function(self, fn: types.FunctionType) -> None:
        """A function: its code (unless a pinned package's) with the module-level values it reads, its
        defaults and the values it closes over (always: a pinned factory's closures hold the settings)."""
        self.put("function", _name(fn))
        if not _pinned(fn):
            self.code(fn.__code__, fn.__globals__)
        self.walk((fn.__defaults__, fn.__kwdefaults__))
        self.walk(tuple(_cell(c) for c in fn.__closure__ or ()))

    def code(self, code: types.CodeType, namespace: dict) -> None:
        self.put(code.co_code, code.co_names, code.co_varnames, code.co_freevars)
        for const in code.co_consts:
            if isinstance(const, types.CodeType):
                self.code(const, namespace)
            else:
                self.walk(const)
        for name in code.co_names:  # the module-level values it reads (attribute names are skipped)
            if name in namespace and not isinstance(namespace[name], types.ModuleType):
                self.put("global", name)
                self.walk(namespace[name])


def _cell(cell):
    try:
        return cell.cell_contents
    except ValueError:  # an empty cell (a name not yet bound)
        return "<empty cell>"


def _name(obj) -> str:
    return f"{getattr(obj, '__module__', '?')}.{getattr(obj, '__qualname__', getattr(obj, '__name__', '?'))}"


def _pinned(obj) -> bool:
    """Whether ``obj``'s code belongs to a package the key pins by version (or source hash)."""
    module = getattr(obj, "__module__", None)
    return isinstance(module, str) and module.split(".")[0] in _PINNED and callable(obj)


@functools.cache
def _installed() -> str:
    """The versions of the packages and sleepjax's own source, which every key includes."""
    digest = hashlib.sha256()
    for package in _VERSIONED:
        digest.update(f"{package}={importlib.metadata.version(package)};".encode())
    root = Path(__file__).resolve().parent
    for path in sorted(root.rglob("*.py")):
        digest.update(str(path.relative_to(root)).encode() + b"\x00" + path.read_bytes())
    return digest.hexdigest()


def _settings() -> list:
    """JAX's settings as they are now (x64, matmul precision, ...), less those of caching and logging,
    which leave the traced program as it is."""
    quiet = ("cache", "log", "explain")
    return sorted((k, repr(v)) for k, v in jax.config.values.items() if not any(q in k for q in quiet))


def call_stored(program: Callable, identity: tuple, args: tuple):
    """``program(*args)``, through the store when one is in use: ``identity`` is everything the program
    was built from (the arguments of its factory), ``args`` its arguments (arrays and static parts).

    Without a store, in a multi-process run, or for a program that cannot be fingerprinted or exported,
    this is ``program(*args)`` itself."""
    if _DIRECTORY is None or jax.process_count() > 1:
        return program(*args)
    arrays, static = eqx.partition(args, eqx.is_array)
    leaves, in_tree = jax.tree.flatten(arrays)
    avals = [
        (leaf.dtype.str, leaf.shape, bool(getattr(leaf, "weak_type", False)), str(getattr(leaf, "sharding", None)))
        for leaf in leaves
    ]
    built_from = _identity_key(program, identity)
    if built_from is None:
        return program(*args)
    try:
        key = fingerprint(_installed(), _settings(), built_from, str(in_tree), avals, static)
    except Unfingerprintable:
        return program(*args)
    if key not in _LOADED:
        _LOADED[key] = _load(_DIRECTORY / f"{key}.exported") or _export(program, static, in_tree, leaves, key)
    if _LOADED[key] is None:  # cannot be exported: the program as it is
        return program(*args)
    call, skeleton = _LOADED[key]
    outputs = call(leaves)
    return jax.tree.map(lambda x: outputs[x.index] if isinstance(x, _Slot) else x, skeleton, is_leaf=_is_slot)


def _identity_key(program: Callable, identity: tuple) -> str | None:
    """The fingerprint of ``identity`` (``None`` where it cannot be taken), once per program object."""
    if program not in _IDENTITY_KEYS:
        try:
            _IDENTITY_KEYS[program] = fingerprint(identity)
        except Unfingerprintable:
            _IDENTITY_KEYS[program] = None
    return _IDENTITY_KEYS[program]


class _Slot:
    """Where the ``index``-th output array goes in a stored program's output skeleton."""

    __slots__ = ("index",)

    def __init__(self, index: int):
        self.index = index

    def __reduce__(self):
        return _Slot, (self.index,)


def _is_slot(x) -> bool:
    return isinstance(x, _Slot)


def _load(path: Path):
    """The jitted call and output skeleton of a stored program, or ``None`` when absent or unreadable."""
    try:
        serialized, skeleton = pickle.loads(path.read_bytes())
        exported = jax.export.deserialize(bytearray(serialized))
    except Exception:  # noqa: BLE001 - a missing, truncated or foreign file is traced again
        return None
    return jax.jit(exported.call), skeleton


def _export(program, static, in_tree, leaves, key: str):
    """Trace ``program`` once, as a function of its arrays only, and return its jitted call and output
    skeleton (the output with a :class:`_Slot` for each array: its structure and non-array parts, e.g. a
    final model's activation function), saved under ``key`` where the skeleton can be pickled; ``None``
    when it cannot be exported (e.g. a host callback inside)."""
    parts = {}

    def program_of_arrays(leaves):
        out = program(*eqx.combine(jax.tree.unflatten(in_tree, leaves), static))
        out_arrays, parts["static"] = eqx.partition(out, eqx.is_array)
        flat_out, parts["tree"] = jax.tree.flatten(out_arrays)
        return flat_out

    try:
        exported = jax.export.export(jax.jit(program_of_arrays))(leaves)
        serialized = exported.serialize()
    except Exception:  # noqa: BLE001 - whatever export refuses runs as usual
        return None
    slots = [_Slot(i) for i in range(parts["tree"].num_leaves)]
    skeleton = eqx.combine(jax.tree.unflatten(parts["tree"], slots), parts["static"], is_leaf=_is_slot)
    buffer = io.BytesIO()
    try:
        _ByName(buffer).dump((bytes(serialized), skeleton))
    except Exception:  # noqa: BLE001 - e.g. a lambda in the output: usable in this process only
        pass
    else:
        _write(_DIRECTORY / f"{key}.exported", buffer.getvalue())
    return jax.jit(exported.call), skeleton


def _named(module: str, qualname: str, unwrap: bool):
    """The object at ``module.qualname`` (its ``__wrapped__`` function with ``unwrap``)."""
    found = importlib.import_module(module)
    for part in qualname.split("."):
        found = getattr(found, part)
    return found.__wrapped__ if unwrap else found


class _ByName(pickle.Pickler):
    """A pickler that names a pinned package's functions and callables by their import path, also where
    the path holds a wrapper of the function (``jax.nn.relu``, a ``custom_jvp`` object, would otherwise be
    pickled with its inner function, which plain pickling refuses)."""

    def reducer_override(self, obj):
        if isinstance(obj, type) or not _pinned(obj) or not isinstance(getattr(obj, "__qualname__", None), str):
            return NotImplemented
        try:
            found = _named(obj.__module__, obj.__qualname__, unwrap=False)
        except (ImportError, AttributeError):
            return NotImplemented
        if found is obj and isinstance(obj, types.FunctionType | types.BuiltinFunctionType):
            return NotImplemented  # plain pickling names it
        if found is obj or getattr(found, "__wrapped__", None) is obj:
            return _named, (obj.__module__, obj.__qualname__, found is not obj)
        return NotImplemented


def _write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically; a store that cannot be written is left as it is."""
    try:
        write_bytes_atomic(path, data)
    except OSError:
        pass


__all__ = ["Unfingerprintable", "call_stored", "fingerprint", "use_program_store"]
