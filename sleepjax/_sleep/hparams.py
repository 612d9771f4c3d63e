"""SRC's hyperparameters, the input window, and the checks of both.

Values are checked in one place (:class:`Checks`): a concrete value that breaks a rule raises a
``ValueError`` naming the hyperparameter at once; a traced one (inside ``jit``/``vmap``) cannot be read,
so the rule's outcome is collected as a flag that :func:`~sleepjax.src_sleep` reports in
``SleepStats.invalid`` instead. No host callback enters a compiled program that way, so JAX's
persistent compilation cache can keep it, and the run engine raises after the call when a member
reported ``invalid``. The run engine and sweeps check every hyperparameter eagerly before compiling
(:meth:`SRCHparams.check`), so inside them the flag is a second line of defence.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from sleepjax._sleep.plasticity import SRC_WEIGHT_SCALE


def is_traced(*values) -> bool:
    """Whether any of ``values`` is a tracer (its value unknown until the program runs)."""
    return any(isinstance(v, jax.core.Tracer) for v in values)


class Checks:
    """Checks of values that may be traced: concrete failures raise now, traced ones become flags.

    ``require(x, rule, message)`` raises ``ValueError(message + detail)`` if ``x`` is concrete and
    ``rule(x)`` is not true everywhere; if it is traced, it records ``all(rule(x))``; :meth:`valid` is
    the conjunction of the recorded flags (true when nothing was traced).
    """

    def __init__(self):
        self._flags: list[jax.Array] = []

    def require(self, x, rule, message: str, detail: str = "") -> None:
        with jax.ensure_compile_time_eval():
            ok = rule(jnp.asarray(x))
        if is_traced(ok):
            self._flags.append(jnp.all(ok))
        elif not np.all(np.asarray(ok)):
            raise ValueError(message + detail)

    def valid(self) -> jax.Array:
        return jnp.all(jnp.stack(self._flags)) if self._flags else jnp.asarray(True)


def check_unit_interval(x: jax.Array, what: str, checks: Checks | None = None) -> None:
    """Check that ``x`` is finite and in [0, 1] everywhere (SRC codes values as firing rates): a
    ``ValueError`` naming ``what`` for a concrete ``x``; a traced ``x`` is recorded in ``checks``."""
    checks = Checks() if checks is None else checks
    checks.require(x, lambda v: jnp.isfinite(v) & (v >= 0) & (v <= 1), f"{what} must be finite and in [0, 1]")


class SRCHparams(NamedTuple):
    """SRC sleep hyperparameters, all arrays so they can be vmapped.

    Attributes:
        max_rate: input firing rate scale; a pixel of value ``x`` spikes with probability
            ``min(1, 2 * dt * max_rate * x)`` per step.
        inc: potentiation factor.
        dec: depression factor.
        beta: ``(L,)`` threshold scales; layer ``l`` fires when its potential reaches
            ``threshold * beta[l]``.
        alpha_scale: multiplies the normalisation factors to give each layer's input scale.
        decay: membrane potential decay per step.
        threshold: base firing threshold.
        dt: time step in seconds.
        weight_scale: the scale inside the weight dependence ``g(w) = 2 / (1 + exp(w / weight_scale))``.
            The reference fixes it at 0.001; another value is a departure from the reference rule (meant for
            networks whose weights live on another scale).
        window_size: side of the square input window per step, an integer-valued array at most the
            :class:`InputWindow`'s ``size`` (which is then the static maximum), or ``None`` for the
            window's own size (the reference). Another size is a departure from the reference.
    """

    max_rate: jax.Array
    inc: jax.Array
    dec: jax.Array
    beta: jax.Array
    alpha_scale: jax.Array
    decay: jax.Array = np.float32(0.999)
    threshold: jax.Array = np.float32(1.0)
    dt: jax.Array = np.float32(0.001)
    weight_scale: jax.Array = np.float32(SRC_WEIGHT_SCALE)
    window_size: jax.Array | None = None

    def check(self) -> None:
        """Raise ``ValueError`` naming the hyperparameter for a value no sleep can use (NaN, negative rates,
        a decay above 1, ...). Values only, of any shape (also a stack of vectors); the number of
        thresholds is checked against the network when a sleep is traced."""
        _check_values(self, Checks(), None)

    @classmethod
    def create(
        cls,
        max_rate,
        inc,
        dec,
        beta,
        alpha_scale,
        decay=0.999,
        threshold=1.0,
        dt=0.001,
        weight_scale=SRC_WEIGHT_SCALE,
        window_size=None,
    ):
        """Build hyperparameters from Python numbers, as float32 arrays (``window_size`` as int32)."""
        f = lambda v: jnp.asarray(v, jnp.float32)  # noqa: E731
        size = None if window_size is None else jnp.asarray(window_size, jnp.int32)
        return cls(
            f(max_rate), f(inc), f(dec), f(beta), f(alpha_scale), f(decay), f(threshold), f(dt), f(weight_scale), size
        )


class _ReferenceVectors(Mapping):
    """The reference vectors by name, each built as :class:`SRCHparams` on first use: building JAX arrays
    when sleepjax is imported would start JAX's backend then, and ``jax.distributed.initialize`` (or a
    choice of platform) must come before that."""

    def __init__(self, values: dict[str, tuple]):
        self._values, self._built = values, {}

    def __getitem__(self, name: str) -> SRCHparams:
        if name not in self._built:
            with jax.ensure_compile_time_eval():  # concrete arrays, even when first asked for inside a trace
                self._built[name] = SRCHparams.create(*self._values[name])
        return self._built[name]

    def __iter__(self):
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"REFERENCE_HPARAMS({', '.join(self._values)})"


#: The reference hyperparameters of the published experiments (MNIST: 784-1200-1200-10), by name:
#: ``max_rate, inc, dec, beta, alpha_scale`` of :meth:`SRCHparams.create`.
REFERENCE_HPARAMS = _ReferenceVectors(
    {
        "mnist": (239.515363, 0.032064, 0.003344, (14.548273, 44.560317, 38.046326), 55.882454),
        "fashion-mnist": (181.047258, 0.041001, 0.003344, (40.446884, 27.596929, 33.109393), 31.592987),
        "mnist-rehearsal": (21.0, 0.1, 1e-6, (22.259158, 0.318765, 0.0), 0.1),
        "cifar10-features": (453.020604, 0.078129, 0.003005, (8.070491, 0.907842, 1.728840), 4.131109),
    }
)


class _WindowFields(NamedTuple):
    height: int
    width: int
    size: int


class InputWindow(_WindowFields):
    """Show only a random ``size x size`` window of an ``height x width`` input image per step.

    The input vector is the image flattened row by row (``height * width`` entries). Construction
    refuses non-positive sizes and a window larger than the image.
    """

    __slots__ = ()

    def __new__(cls, height: int, width: int, size: int):
        for name, value in (("height", height), ("width", width), ("size", size)):
            if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
                raise ValueError(f"InputWindow {name} must be a positive integer, got {value!r}")
        if size > min(height, width):
            raise ValueError(f"InputWindow size {size} is larger than the {height}x{width} image")
        return super().__new__(cls, int(height), int(width), int(size))


MNIST_WINDOW = InputWindow(28, 28, 11)


def _check_values(hparams: SRCHparams, checks: Checks, window_max: int | None) -> None:
    """The value rules of every hyperparameter (any shape, so a stack of vectors too)."""
    for name, value in hparams._asdict().items():
        if value is None:
            continue
        value = jnp.asarray(value)
        shown = "" if is_traced(value) else f", got {np.asarray(value)}"
        checks.require(value, jnp.isfinite, f"SRC hyperparameter {name} must be finite", shown)
        checks.require(value, lambda v: v >= 0, f"SRC hyperparameter {name} must be non-negative", shown)
        if name in ("dt", "weight_scale"):
            checks.require(value, lambda v: v > 0, f"SRC hyperparameter {name} must be positive", shown)
        if name == "decay":
            checks.require(value, lambda v: v <= 1, "SRC hyperparameter decay must be at most 1", shown)
        if name == "window_size":
            if not jnp.issubdtype(value.dtype, jnp.integer):
                raise ValueError(f"SRC hyperparameter window_size must be an integer array, got {value.dtype}")
            top = jnp.inf if window_max is None else window_max
            checks.require(
                value,
                lambda v, top=top: (v >= 1) & (v <= top),
                f"SRC hyperparameter window_size must be from 1 to the window's size {window_max}",
                shown,
            )


def check_hparams(
    hparams: SRCHparams, num_layers: int, window: InputWindow | None = None, checks: Checks | None = None
) -> None:
    """Check ``hparams`` for a network of ``num_layers`` weight layers: shapes always (a ``ValueError``
    at trace time), values as :class:`Checks` does (concrete: ``ValueError`` naming the hyperparameter and
    its value; traced: recorded in ``checks``)."""
    if jnp.shape(hparams.beta) != (num_layers,):
        raise ValueError(
            f"SRC hyperparameter beta must have one entry per layer, shape ({num_layers},), "
            f"got {jnp.shape(hparams.beta)}"
        )
    for name, value in hparams._asdict().items():
        if value is not None and name != "beta" and jnp.ndim(value) != 0:
            raise ValueError(f"SRC hyperparameter {name} must be a scalar, got shape {jnp.shape(value)}")
    if hparams.window_size is not None and window is None:
        raise ValueError("SRC hyperparameter window_size needs an InputWindow (its size is the maximum)")
    _check_values(hparams, Checks() if checks is None else checks, window.size if window is not None else None)


def sleep_steps(task_index: jax.Array | int, base: int = 15000, per_task: int = 5000) -> jax.Array:
    """Reference sleep length after task ``k`` (0-based): ``base + k * per_task`` steps."""
    return base + jnp.asarray(task_index) * per_task


def reference_hparams(name: str = "mnist") -> SRCHparams:
    """One of :data:`REFERENCE_HPARAMS`, with a clear error for unknown names."""
    try:
        return REFERENCE_HPARAMS[name]
    except KeyError:
        raise ValueError(f"unknown SRC reference {name!r}; choose from {sorted(REFERENCE_HPARAMS)}") from None


__all__ = [
    "MNIST_WINDOW",
    "REFERENCE_HPARAMS",
    "Checks",
    "InputWindow",
    "SRCHparams",
    "check_hparams",
    "check_unit_interval",
    "reference_hparams",
    "sleep_steps",
]
