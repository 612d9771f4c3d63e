"""JAX's persistent compilation cache and sleepjax's store of traced programs for the command line: a
second invocation of the same command loads its programs from disk instead of tracing and compiling them
again.

On by default, in ``$SLEEPJAX_CACHE_DIR`` or else ``$XDG_CACHE_HOME/sleepjax/jax`` (``~/.cache/sleepjax/jax``);
``--no-compilation-cache`` (or ``SLEEPJAX_CACHE_DIR=off``) turns it off. Programs are kept whatever their
compile time (the run engine's programs take seconds, a sleep's tiny helpers milliseconds). The library
itself never switches the cache on: a user's own script decides, with ``jax.config`` as below (and
:func:`sleepjax.use_program_store` for the traced programs, kept here in the ``programs`` subdirectory).
"""

from __future__ import annotations

import os
from pathlib import Path

import jax

from sleepjax._program_store import use_program_store

CACHE_ENV = "SLEEPJAX_CACHE_DIR"


def cache_dir() -> Path | None:
    """The cache directory the command line uses, or ``None`` when turned off by the environment."""
    chosen = os.environ.get(CACHE_ENV)
    if chosen is not None:
        return None if chosen.strip().lower() in ("", "off", "0", "none") else Path(chosen).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "sleepjax" / "jax"


def enable(directory: Path | None) -> Path | None:
    """Switch JAX's persistent compilation cache on in ``directory`` (created if missing), and the store of
    traced programs in its ``programs`` subdirectory; a directory that cannot be created leaves both off
    rather than stopping the command. Returns the directory used."""
    if directory is None:
        return None
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    jax.config.update("jax_compilation_cache_dir", str(directory))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
    try:
        use_program_store(directory / "programs")
    except OSError:
        pass
    return directory
