"""Ctrl-C that keeps finished work: the first interrupt asks the run to stop at the next safe point.

Long experiments save each finished unit of work (a chunk of seeds) to their record. Inside
:func:`stop_at_safe_point`, a first Ctrl-C only sets a flag; the experiment checks
:func:`check_stop` after saving each unit and stops there with :class:`Interrupted`, so the unit that was
running when the key was pressed is finished and kept rather than thrown away. A second Ctrl-C restores
Python's default behaviour and stops at once (losing only the unit in progress).
"""

from __future__ import annotations

import contextlib
import signal
import sys
import threading


class Interrupted(Exception):
    """The user asked the run to stop; everything finished so far has been saved.

    ``saved`` says what (e.g. :meth:`sleepjax.app.records.Record.describe`), or is ``None``.
    """

    def __init__(self, saved: str | None = None):
        super().__init__(saved)
        self.saved = saved


_requested = threading.Event()


def _on_sigint(signum, frame):
    _requested.set()
    signal.signal(signal.SIGINT, signal.default_int_handler)
    print(
        "\nsleepjax: stopping after the run in progress is finished and saved (Ctrl-C again to stop at once)",
        file=sys.stderr,
        flush=True,
    )


@contextlib.contextmanager
def stop_at_safe_point():
    """Within this block the first Ctrl-C requests a stop at the next :func:`check_stop`."""
    _requested.clear()
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, _on_sigint)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        _requested.clear()


def request_stop() -> None:
    """Ask the run to stop at the next safe point (what the first Ctrl-C does)."""
    _requested.set()


def check_stop(saved: str | None = None) -> None:
    """Raise :class:`Interrupted` if a stop was requested. Call it right after saving finished work,
    with ``saved`` saying what the save holds."""
    if _requested.is_set():
        raise Interrupted(saved)
