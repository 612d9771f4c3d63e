"""Type names shared by the library's signatures.

``PyTree`` is any JAX pytree; ``PRNGKey`` a typed key array (``jax.random.key``). Array shapes are
written with jaxtyping (``Float[Array, "n d"]``) where they help the reader.
"""

from __future__ import annotations

from typing import Any, Protocol, TypeAlias

from jaxtyping import Array, Bool, Float, Int, PRNGKeyArray

PyTree: TypeAlias = Any
"""Any JAX pytree (nested tuples, lists, dicts, NamedTuples, equinox modules, arrays)."""

PRNGKey: TypeAlias = PRNGKeyArray
"""A typed PRNG key, as made by ``jax.random.key``."""


class PhaseInit(Protocol):
    """``init(params, key) -> state``: a phase's state before its first task."""

    def __call__(self, params: PyTree, key: PRNGKey, /) -> PyTree: ...


class PhaseApply(Protocol):
    """``apply(params, state, task, hparams, key) -> (params, state, metrics)``: one task's work."""

    def __call__(
        self, params: PyTree, state: PyTree, task: Any, hparams: PyTree, key: PRNGKey, /
    ) -> tuple[PyTree, PyTree, PyTree]: ...


__all__ = ["Array", "Bool", "Float", "Int", "PRNGKey", "PhaseApply", "PhaseInit", "PyTree"]
