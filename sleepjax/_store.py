"""Where a sweep or a search keeps its finished runs, so that an interrupted one resumes.

A store holds groups (one per configuration) of finished runs keyed by seed: ``store.group(name)`` is
the group's dict, whose ``"runs"`` maps ``str(seed)`` to that run's results; ``store.save()`` is called
after every finished chunk. :class:`MemoryStore` keeps them in memory; the command line's JSON records
(``sleepjax.app.records.Record``) implement the same two methods on disk, atomically.
"""

from __future__ import annotations

from typing import Protocol


class RunStore(Protocol):
    """What sweeps and searches need of a store of finished runs."""

    def group(self, name: str, **fields) -> dict:
        """The group ``name`` (created with ``fields`` and an empty ``"runs"`` dict if new)."""
        ...

    def save(self) -> None:
        """Persist what is stored (called after every finished chunk)."""
        ...


class MemoryStore:
    """A :class:`RunStore` in memory: ``data["configs"][name] = {**fields, "runs": {seed: run}}``."""

    def __init__(self):
        self.data: dict = {"configs": {}}

    def group(self, name: str, **fields) -> dict:
        return self.data["configs"].setdefault(name, {**fields, "runs": {}})

    def save(self) -> None:
        pass


def finished(store: RunStore, group: str) -> set[int]:
    """Seeds of ``group`` already in ``store``."""
    return {int(s) for s in store.group(group)["runs"]}


__all__ = ["MemoryStore", "RunStore", "finished"]
