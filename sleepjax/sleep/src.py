"""Sleep Replay Consolidation (SRC): the sleep phase of an ANN viewed as a spiking network.

The network's weight matrices become the synapses of integrate-and-fire layers without leak beyond a
decay, without refractory period and without inhibition. The input layer fires Bernoulli spikes with a
rate proportional to the mean image of the data seen so far (for MNIST only a random 11x11 window of it
per step). Whenever a neuron spikes, its incoming synapses from neurons that spiked in the same step
are potentiated and those from silent neurons depressed, both scaled by ``g(w)``
(:func:`sleepjax.sleep.plasticity.weight_dependence`). After sleep the ANN simply uses the modified
weights.

Two formulations of the same dynamics (:func:`sleep`'s ``method``):

- ``"event"`` (default): a step reads only the outgoing synapses of the neurons that spiked. At the
  reference MNIST settings a step has about 13 input spikes and a few hundredths of a spike per hidden
  layer, so this is one to two orders of magnitude less work than multiplying full weight matrices.
- ``"dense"``: the direct formulation, a matrix-vector product per layer and step, kept as the reference
  the event-driven step is tested against.

Both consume the same random numbers, so they give the same spikes and the same weights up to
floating-point summation order.

What is checked where. Shapes, dtypes and the window are checked when :func:`sleep` is called or traced.
Values are checked as follows:

- hyperparameters, the sleep input (finite, in [0, 1]) and ``num_steps``: eagerly a ``ValueError`` with
  the offending values; under ``jit``/``vmap`` the same checks run on the traced values through
  ``equinox.error_if`` and raise when the program runs: a ``RuntimeError`` (``jax.errors.JaxRuntimeError``)
  whose message contains the same text naming the hyperparameter, but not the value (shorter under
  ``equinox.filter_jit``; the ``EQX_ON_ERROR`` environment variable can turn it into NaN outputs);
- the state of the network (non-finite incoming weights, non-finite or non-positive normalisation
  factors): eagerly a ``ValueError``; under ``jit``/``vmap`` not an error, because one diverged member
  must not abort a whole vmapped sweep, but reported in the returned :class:`SleepStats`
  (``nonfinite_weights``, ``bad_factors``, together with ``active_steps`` for layers that never or
  always fire).

This module works on a plain sequence of weight matrices, so it can be used inside any JAX training
loop; :mod:`sleepjax.sleep.mlp` wraps it for equinox MLPs.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Sequence
from typing import Literal, NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from sleepjax.sleep.batching import mark_done, next_spike, per_spike_loop, shared_bound
from sleepjax.sleep.plasticity import SRC_WEIGHT_SCALE, update_spiking_columns, update_spiking_rows

#: Steps whose input spikes are drawn together (one vectorised draw per block instead of one small draw
#: per step, which cost more than the rest of an event-driven step). Part of the random stream: changing
#: it changes the spikes a key gives.
DRAW_BLOCK = 64

#: Default number of input spikes an event-driven step gathers in one fused block; further spikes of the
#: same step are handled exactly by a loop over more blocks of this size.
INPUT_CAPACITY = 16


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
    decay: jax.Array = jnp.asarray(0.999)
    threshold: jax.Array = jnp.asarray(1.0)
    dt: jax.Array = jnp.asarray(0.001)
    weight_scale: jax.Array = jnp.asarray(SRC_WEIGHT_SCALE)
    window_size: jax.Array | None = None

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


#: The reference hyperparameters of the published experiments (MNIST: 784-1200-1200-10).
REFERENCE_HPARAMS = {
    "mnist": SRCHparams.create(239.515363, 0.032064, 0.003344, (14.548273, 44.560317, 38.046326), 55.882454),
    "fashion-mnist": SRCHparams.create(181.047258, 0.041001, 0.003344, (40.446884, 27.596929, 33.109393), 31.592987),
    "mnist-rehearsal": SRCHparams.create(21.0, 0.1, 1e-6, (22.259158, 0.318765, 0.0), 0.1),
    "cifar10-features": SRCHparams.create(453.020604, 0.078129, 0.003005, (8.070491, 0.907842, 1.728840), 4.131109),
}


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


class SleepStats(NamedTuple):
    """What a sleep did, per layer, for diagnostics and to see a runaway sleep.

    Attributes:
        spikes: ``(L + 1,)`` spikes per layer (input first) summed over the sleep.
        active_steps: ``(L + 1,)`` number of steps in which the layer emitted at least one spike.
        num_steps: the number of steps run.
        nonfinite_weights: ``(L,)`` whether weight matrix ``l`` holds a NaN or infinity after the sleep.
        bad_factors: ``(L,)`` whether the normalisation factor of layer ``l`` was non-finite or
            non-positive (the layer's drive was then meaningless); raised as an error eagerly.
    """

    spikes: jax.Array
    active_steps: jax.Array
    num_steps: jax.Array
    nonfinite_weights: jax.Array
    bad_factors: jax.Array

    def never_fired(self) -> jax.Array:
        """``(L + 1,)`` bools: the layer stayed silent for the whole (non-empty) sleep."""
        return (self.active_steps == 0) & (self.num_steps > 0)

    def fired_every_step(self) -> jax.Array:
        """``(L + 1,)`` bools: the layer spiked in every step of the (non-empty) sleep."""
        return (self.active_steps == self.num_steps) & (self.num_steps > 0)

    def active_fraction(self) -> jax.Array:
        """``(L + 1,)`` fraction of steps in which the layer spiked at all (0 for an empty sleep)."""
        return self.active_steps / jnp.maximum(self.num_steps, 1)


def _is_traced(*values) -> bool:
    return any(isinstance(v, jax.core.Tracer) for v in values)


def _require(x, check, message: str, detail: str = ""):
    """Return ``x``, checked with ``check(x) -> bools``.

    Where ``x`` is concrete (also a constant inside ``jit``), raise ``ValueError(message + detail)`` now
    unless all are true; where it is traced, raise ``message`` at run time through ``equinox.error_if``
    (which ties the check to ``x``: use the returned value).
    """
    with jax.ensure_compile_time_eval():
        ok = check(jnp.asarray(x))
    if not _is_traced(ok):
        if not np.all(np.asarray(ok)):
            raise ValueError(message + detail)
        return x
    return eqx.error_if(x, ~ok, message)


def check_unit_interval(x: jax.Array, what: str) -> jax.Array:
    """Return ``x``, checked to be finite and in [0, 1] everywhere (SRC codes values as firing rates):
    eagerly a ``ValueError``, under ``jit``/``vmap`` a run-time error (see the module docstring)."""
    return _require(x, lambda v: jnp.isfinite(v) & (v >= 0) & (v <= 1), f"{what} must be finite and in [0, 1]")


def check_hparams(hparams: SRCHparams, num_layers: int, window: InputWindow | None = None) -> SRCHparams:
    """Check ``hparams`` and return them, tied to their checks.

    Eagerly a bad value raises ``ValueError`` naming the hyperparameter and its value; under ``jit`` or
    ``vmap`` the same checks raise at run time through ``equinox.error_if`` (use the returned
    hyperparameters so the checks stay in the computation). Shapes are always checked at trace time.
    """
    if jnp.shape(hparams.beta) != (num_layers,):
        raise ValueError(
            f"SRC hyperparameter beta must have one entry per layer, shape ({num_layers},), "
            f"got {jnp.shape(hparams.beta)}"
        )
    checked = {}
    for name, value in hparams._asdict().items():
        if value is None:
            checked[name] = value
            continue
        if name != "beta" and jnp.ndim(value) != 0:
            raise ValueError(f"SRC hyperparameter {name} must be a scalar, got shape {jnp.shape(value)}")
        value = jnp.asarray(value)
        shown = "" if _is_traced(value) else f", got {np.asarray(value)}"
        value = _require(value, jnp.isfinite, f"SRC hyperparameter {name} must be finite", shown)
        value = _require(value, lambda v: v >= 0, f"SRC hyperparameter {name} must be non-negative", shown)
        if name in ("dt", "weight_scale"):
            value = _require(value, lambda v: v > 0, f"SRC hyperparameter {name} must be positive", shown)
        if name == "decay":
            value = _require(value, lambda v: v <= 1, "SRC hyperparameter decay must be at most 1", shown)
        if name == "window_size":
            if window is None:
                raise ValueError("SRC hyperparameter window_size needs an InputWindow (its size is the maximum)")
            if not jnp.issubdtype(value.dtype, jnp.integer):
                raise ValueError(f"SRC hyperparameter window_size must be an integer array, got {value.dtype}")
            value = _require(
                value,
                lambda v: (v >= 1) & (v <= window.size),
                f"SRC hyperparameter window_size must be from 1 to the window's size {window.size}",
                shown,
            )
        checked[name] = value
    return SRCHparams(**checked)


def _check_inputs(weights, mean_input, factors, num_steps, window):
    """Shapes and dtypes always; see the module docstring for which values are checked where.
    Returns ``(mean_input, num_steps)`` tied to their checks."""
    if len(weights) == 0:
        raise ValueError("SRC needs at least one weight matrix")
    for layer, w in enumerate(weights):
        if w.ndim != 2:
            raise ValueError(f"SRC weight {layer} must be a matrix (n_out, n_in), got shape {w.shape}")
        if not jnp.issubdtype(w.dtype, jnp.floating) or w.dtype != weights[0].dtype:
            raise ValueError(f"SRC weights must share one floating dtype; weight {layer} is {w.dtype}")
    n_in = weights[0].shape[1]
    if mean_input.shape != (n_in,):
        raise ValueError(f"sleep input must have shape ({n_in},) to match the first layer, got {mean_input.shape}")
    for layer in range(1, len(weights)):
        if weights[layer].shape[1] != weights[layer - 1].shape[0]:
            raise ValueError(
                f"SRC weight {layer} has {weights[layer].shape[1]} inputs but layer {layer - 1} has "
                f"{weights[layer - 1].shape[0]} outputs"
            )
    if jnp.shape(factors) != (len(weights),):
        raise ValueError(f"factors must have one entry per layer, shape ({len(weights)},), got {jnp.shape(factors)}")
    if window is not None:
        if not isinstance(window, InputWindow):
            raise ValueError(f"window must be an InputWindow, got {type(window).__name__}")
        if window.height * window.width != n_in:
            raise ValueError(f"input window {window.height}x{window.width} does not match input size {n_in}")
    mean_input = check_unit_interval(mean_input, "sleep input")
    num_steps = _require(num_steps, lambda n: n >= 0, "num_steps must be non-negative", f", got {num_steps}")
    if not _is_traced(*weights):
        for layer, w in enumerate(weights):
            if not np.all(np.isfinite(np.asarray(w))):
                raise ValueError(
                    f"SRC weight {layer} has non-finite entries (did an earlier sleep run away? its SleepStats "
                    "reports nonfinite_weights)"
                )
    if not _is_traced(factors):
        f = np.asarray(factors)
        if not (np.all(np.isfinite(f)) and np.all(f > 0)):
            raise ValueError(
                f"normalisation factors must be finite and positive, got {f}; an all-zero or all-negative "
                "layer gives an infinite factor"
            )
    return mean_input, num_steps


def input_draws(
    key: jax.Array, mean_input: jax.Array, hparams: SRCHparams, window: InputWindow | None, num: int = DRAW_BLOCK
) -> tuple[jax.Array, jax.Array]:
    """Input spikes of ``num`` consecutive steps, as the pixels each step can see and which of them fire.

    Returns ``(pixels, fires)``, both ``(num, M)``: ``M = size**2`` pixel indices of the step's window
    (row by row; ``M = n_in`` and all pixels without a window) and bools, pixel ``j`` firing with
    probability ``p = min(1, 2 * dt * max_rate * mean_input[j])``. A window's corner is uniform over all
    positions inside the image. With a traced ``hparams.window_size`` smaller than ``window.size``, only
    the top-left ``window_size x window_size`` part of the grid can fire.
    """
    n_in = mean_input.shape[0]
    k_row, k_col, k_fire = jax.random.split(key, 3)
    if window is None:
        pixels = jnp.broadcast_to(jnp.arange(n_in, dtype=jnp.int32), (num, n_in))
        inside = jnp.ones((1, n_in), bool)
    else:
        size = window.size if hparams.window_size is None else hparams.window_size
        row = jax.random.randint(k_row, (num, 1), 0, window.height - size + 1, jnp.int32)
        col = jax.random.randint(k_col, (num, 1), 0, window.width - size + 1, jnp.int32)
        grid_row, grid_col = (g.reshape(1, -1) for g in jnp.indices((window.size, window.size), jnp.int32))
        inside = (grid_row < size) & (grid_col < size)
        pixels = jnp.where(inside, (row + grid_row) * window.width + col + grid_col, 0)
    rate_scale = (2.0 * hparams.dt * hparams.max_rate).astype(mean_input.dtype)
    p = jnp.minimum(1.0, rate_scale * mean_input[pixels])
    return pixels, (jax.random.uniform(k_fire, pixels.shape, mean_input.dtype) < p) & inside


def _spike_lists(pixels: jax.Array, fires: jax.Array, fill: int, capacity: int) -> tuple[jax.Array, jax.Array]:
    """Compact ``(num, M)`` draws into per-step lists of the firing pixels (in grid order, then ``fill``;
    length ``M`` rounded up to a multiple of ``capacity``) and spike counts ``(num,)``."""
    num, m = fires.shape
    length = -(-m // capacity) * capacity
    rank = jnp.cumsum(fires, axis=1, dtype=jnp.int32) - 1
    slot = jnp.where(fires, rank, length)  # out of range for silent pixels: dropped by the scatter
    lists = jnp.full((num, length), fill, jnp.int32).at[jnp.arange(num)[:, None], slot].set(pixels, mode="drop")
    return lists, rank[:, -1] + 1


def _sum_rows(w_t: jax.Array, ids: jax.Array, count: jax.Array) -> jax.Array:
    """``sum(w_t[ids[k]] for k < count)``: one fused loop over ``len(ids)`` dynamic row slices."""
    zero = jnp.zeros((), w_t.dtype)
    rows = [
        jnp.where(k < count, lax.dynamic_index_in_dim(w_t, ids[k], keepdims=False), zero) for k in range(ids.shape[0])
    ]
    return functools.reduce(operator.add, rows)


def _drive_from_list(w_t: jax.Array, ids: jax.Array, count: jax.Array, capacity: int) -> jax.Array:
    """Summed outgoing synapses ``(n_out,)`` of the ``count`` neurons listed first in ``ids``.

    The first ``capacity`` are gathered in one fused block; a step with more spikes continues exactly
    with further blocks in a ``while_loop`` (under ``vmap`` it runs only while some member has spikes
    left, so rare overflows cost little). ``len(ids)`` must be a multiple of ``capacity``.
    """
    drive = _sum_rows(w_t, ids[:capacity], count)
    if ids.shape[0] == capacity:
        return drive

    def more(carry):
        block, drive = carry
        block_ids = lax.dynamic_slice_in_dim(ids, block * capacity, capacity)
        return block + 1, drive + _sum_rows(w_t, block_ids, count - block * capacity)

    return lax.while_loop(lambda carry: carry[0] * capacity < count, more, (1, drive))[1]


def _drive_members(w_t, spikes, count):
    """Batched core of :func:`_drive_from_spikes` (leading member axis on every argument)."""

    def add_one(_, carry):
        drive, remaining, left = carry
        member, neuron = next_spike(remaining, left)
        row = lax.dynamic_slice(w_t, (member, neuron, 0), (1, 1, w_t.shape[2]))[0]
        drive = lax.dynamic_update_slice(drive, lax.dynamic_slice_in_dim(drive, member, 1) + row, (member, 0))
        return (drive, *mark_done(remaining, left, member, neuron))

    init = (jnp.zeros((w_t.shape[0], w_t.shape[2]), w_t.dtype), spikes, count)
    return lax.fori_loop(0, count.sum(), add_one, init)[0]


#: Summed outgoing synapses ``(n_out,)`` of the ``count`` neurons with ``spikes (n_in,)``, from transposed
#: weights ``w_t (n_in, n_out)``: one loop iteration per spike, none in a silent step (hidden layers are
#: silent in almost every step), and under ``vmap`` one per spike of any member.
_drive_from_spikes = per_spike_loop(_drive_members)


def sleep(
    weights: Sequence[jax.Array],
    mean_input: jax.Array,
    factors: jax.Array,
    hparams: SRCHparams,
    key: jax.Array,
    num_steps: int | jax.Array,
    window: InputWindow | None = None,
    *,
    method: Literal["event", "dense"] = "event",
    capacity: int = INPUT_CAPACITY,
) -> tuple[tuple[jax.Array, ...], SleepStats]:
    """Run one SRC sleep phase on a stack of weight matrices.

    Args:
        weights: ``L`` matrices ``(n_out, n_in)`` of a bias-free ReLU network, input layer first, of one
            floating dtype (float32, or float64 with ``jax_enable_x64``), in which the sleep computes.
        mean_input: ``(n_in,)`` sleep input in [0, 1] (the mean of the data seen so far).
        factors: ``(L,)`` normalisation factors (:func:`sleepjax.sleep.normalize.layer_factors`);
            layer ``l`` receives ``alpha_scale * factors[l] * (W_l @ spikes)``.
        hparams: sleep hyperparameters.
        key: PRNG key.
        num_steps: number of sleep steps; may be a traced integer (the loop length is dynamic).
        window: show a random window of the input per step (MNIST: :data:`MNIST_WINDOW`).
        method: ``"event"`` (read only the synapses of neurons that spiked) or ``"dense"`` (full
            matrix-vector products, the reference formulation); same random numbers, same result up to
            floating-point summation order.
        capacity: input spikes an event-driven step gathers in its first fused block (a speed setting;
            results differ only by floating-point summation order).

    Returns:
        The slept weights and :class:`SleepStats`.

    Per step and layer: ``v = decay * v + alpha * (W @ s_prev)``, ``s = v >= threshold * beta``,
    Hebbian update of the incoming synapses of neurons with ``s``, ``v[s] = 0``. Plasticity is applied
    lazily at the start of the next step (and once after the last), which gives the same weights as
    updating right away but lets XLA update the matrices in place instead of copying them every step.
    Random numbers are drawn in blocks of :data:`DRAW_BLOCK` steps (``fold_in(key, block)``).
    """
    if method not in ("event", "dense"):
        raise ValueError(f"method must be 'event' or 'dense', got {method!r}")
    if isinstance(capacity, bool) or not isinstance(capacity, int) or capacity < 1:
        raise ValueError(f"capacity must be a positive integer, got {capacity!r}")
    weights = tuple(jnp.asarray(w) for w in weights)
    mean_input, factors = jnp.asarray(mean_input), jnp.asarray(factors)
    mean_input, num_steps = _check_inputs(weights, mean_input, factors, num_steps, window)
    hparams = check_hparams(hparams, len(weights), window)
    dtype = weights[0].dtype
    mean_input = mean_input.astype(dtype)
    factors = factors.astype(dtype)
    alphas = hparams.alpha_scale.astype(dtype) * factors
    thresholds = hparams.threshold.astype(dtype) * hparams.beta.astype(dtype)
    decay = hparams.decay.astype(dtype)
    n_in = weights[0].shape[1]
    sizes = [n_in] + [w.shape[0] for w in weights]
    event = method == "event"
    update = update_spiking_columns if event else update_spiking_rows

    rule = (hparams.inc, hparams.dec, hparams.weight_scale)

    def apply_plasticity(weights, spikes, counts):
        return tuple(
            update(w, spikes[layer + 1], spikes[layer], *rule, counts[layer + 1]) for layer, w in enumerate(weights)
        )

    def step(t, carry, draws, live):
        # spikes[0] is the input as a padded index list (event) or bools (dense); spikes[l > 0] are bools.
        # step_counts are the spikes per layer of the previous step, for the lazy plasticity. ``live`` is
        # false in the steps past this sleep's own length (see block): no neuron spikes in them, so they
        # change no weight and no count.
        weights, potentials, spikes, step_counts, counts, active = carry
        weights = apply_plasticity(weights, spikes, step_counts)
        if event:
            lists, list_counts = draws
            x, n = lists[t], list_counts[t]
            drive = _drive_from_list(weights[0], x, n, capacity)
        else:
            pixels, fires = draws
            x = jnp.zeros(n_in, bool).at[pixels[t]].max(fires[t])
            n = x.sum(dtype=jnp.int32)
            drive = weights[0] @ x.astype(dtype)
        new_spikes, new_counts, new_potentials = [x], [n], []
        for layer in range(len(weights)):
            if layer > 0:
                prev = new_spikes[-1]
                if event:
                    drive = _drive_from_spikes(weights[layer], prev, new_counts[-1])
                else:
                    drive = weights[layer] @ prev.astype(dtype)
            v = decay * potentials[layer] + alphas[layer] * drive
            s = (v >= thresholds[layer]) & live[t]
            new_potentials.append(jnp.where(s, jnp.zeros((), dtype), v))
            new_spikes.append(s)
            new_counts.append(s.sum(dtype=jnp.int32))
        step_counts = jnp.stack(new_counts)
        counts, active = counts + step_counts, active + (step_counts > 0).astype(jnp.int32)
        return weights, tuple(new_potentials), tuple(new_spikes), step_counts, counts, active

    # The loops run to a bound shared by all members of a vmapped batch (the longest sleep), so that a
    # swept sleep length does not make their predicates batched (batching.shared_bound); each member's
    # steps past its own num_steps are not live. Unbatched, the bound is num_steps itself.
    bound = shared_bound(num_steps)

    def block(b, carry):
        pixels, fires = input_draws(jax.random.fold_in(key, b), mean_input, hparams, window)
        live = b * DRAW_BLOCK + jnp.arange(DRAW_BLOCK) < num_steps
        fires = fires & live[:, None]
        draws = _spike_lists(pixels, fires, n_in, capacity) if event else (pixels, fires)
        steps_here = jnp.minimum(DRAW_BLOCK, bound - b * DRAW_BLOCK)
        return lax.fori_loop(0, steps_here, lambda t, carry: step(t, carry, draws, live), carry)

    no_counts = jnp.zeros(len(sizes), jnp.int32)
    no_input = jnp.full(-(-(window.size**2 if window else n_in) // capacity) * capacity, n_in, jnp.int32)
    init = (
        tuple(w.T for w in weights) if event else weights,
        tuple(jnp.zeros(n, dtype) for n in sizes[1:]),
        (no_input if event else jnp.zeros(n_in, bool),) + tuple(jnp.zeros(n, bool) for n in sizes[1:]),
        no_counts,
        no_counts,
        no_counts,
    )
    num_blocks = (bound + DRAW_BLOCK - 1) // DRAW_BLOCK
    slept, _, spikes, step_counts, counts, active = lax.fori_loop(0, num_blocks, block, init)
    slept = apply_plasticity(slept, spikes, step_counts)
    if event:
        slept = tuple(w.T for w in slept)
    stats = SleepStats(
        spikes=counts,
        active_steps=active,
        num_steps=jnp.asarray(num_steps, jnp.int32),
        nonfinite_weights=jnp.stack([~jnp.isfinite(w).all() for w in slept]),
        bad_factors=~(jnp.isfinite(factors) & (factors > 0)),
    )
    return slept, stats


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
    "DRAW_BLOCK",
    "INPUT_CAPACITY",
    "InputWindow",
    "MNIST_WINDOW",
    "REFERENCE_HPARAMS",
    "SRCHparams",
    "SleepStats",
    "check_hparams",
    "check_unit_interval",
    "input_draws",
    "reference_hparams",
    "sleep",
    "sleep_steps",
]
