"""Sleep Replay Consolidation (SRC): the sleep phase of an ANN viewed as a spiking network.

The network's weight matrices become the synapses of integrate-and-fire layers without leak beyond a
decay, without refractory period and without inhibition. The input layer fires Bernoulli spikes with a
rate proportional to the mean image of the data seen so far (for MNIST only a random 11x11 window of it
per step). Whenever a neuron spikes, its incoming synapses from neurons that spiked in the same step
are potentiated and those from silent neurons depressed, both scaled by ``g(w)``
(:func:`~sleepjax.weight_dependence`). After sleep the ANN simply uses the modified weights.

Two formulations of the same dynamics (:func:`src_sleep`'s ``method``):

- ``"event"`` (default): a step reads only the outgoing synapses of the neurons that spiked. At the
  reference MNIST settings a step has about 13 input spikes and a few hundredths of a spike per hidden
  layer, so this is one to two orders of magnitude less work than multiplying full weight matrices.
- ``"dense"``: the direct formulation, a matrix-vector product per layer and step, kept as the reference
  the event-driven step is tested against.

Both consume the same random numbers, so they give the same spikes and the same weights up to
floating-point summation order.

What is checked where. Shapes, dtypes and the window are checked when :func:`src_sleep` is called or
traced. Values are checked as follows:

- hyperparameters, the sleep input (finite, in [0, 1]) and ``num_steps``: eagerly a ``ValueError`` with
  the offending values; under ``jit``/``vmap`` the same rules are evaluated on the traced values and a
  failure is reported in ``SleepStats.invalid`` (no host callback enters the program, so it can be
  kept in JAX's persistent compilation cache; :func:`~sleepjax.run_batch` raises after the call when a
  member reports ``invalid``), see :mod:`sleepjax._sleep.hparams`;
- the state of the network (non-finite incoming weights, non-finite or non-positive normalisation
  factors): eagerly a ``ValueError``; under ``jit``/``vmap`` not an error, because one diverged member
  must not abort a whole vmapped sweep, but reported in the returned :class:`SleepStats`
  (``nonfinite_weights``, ``bad_factors``, together with ``active_steps`` for layers that never or
  always fire).

This module works on a plain sequence of weight matrices, so it can be used inside any JAX training
loop; :func:`~sleepjax.src_sleep_mlp` wraps it for equinox MLPs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from sleepjax._sleep.batching import shared_bound
from sleepjax._sleep.events import drive_from_list, drive_from_spikes, spike_lists
from sleepjax._sleep.hparams import (
    Checks,
    InputWindow,
    SRCHparams,
    check_hparams,
    check_unit_interval,
    is_traced,
)
from sleepjax._sleep.plasticity import update_spiking_columns, update_spiking_rows

#: Steps whose input spikes are drawn together (one vectorised draw per block instead of one small draw
#: per step, which cost more than the rest of an event-driven step). Part of the random stream: changing
#: it changes the spikes a key gives.
DRAW_BLOCK = 64

#: Default number of input spikes an event-driven step gathers in one fused block; further spikes of the
#: same step are handled exactly by a loop over more blocks of this size.
INPUT_CAPACITY = 16


class SleepStats(NamedTuple):
    """What a sleep did, per layer, for diagnostics and to see a runaway sleep.

    Attributes:
        spikes: ``(L + 1,)`` spikes per layer (input first) summed over the sleep.
        active_steps: ``(L + 1,)`` number of steps in which the layer emitted at least one spike.
        num_steps: the number of steps run.
        nonfinite_weights: ``(L,)`` whether weight matrix ``l`` holds a NaN or infinity after the sleep.
        bad_factors: ``(L,)`` whether the normalisation factor of layer ``l`` was non-finite or
            non-positive (the layer's drive was then meaningless); raised as an error eagerly.
        invalid: whether a traced hyperparameter, sleep input or length broke its rule (raised as a
            ``ValueError`` eagerly; the sleep's result is then meaningless).
    """

    spikes: jax.Array
    active_steps: jax.Array
    num_steps: jax.Array
    nonfinite_weights: jax.Array
    bad_factors: jax.Array
    invalid: jax.Array

    def never_fired(self) -> jax.Array:
        """``(L + 1,)`` bools: the layer stayed silent for the whole (non-empty) sleep."""
        return (self.active_steps == 0) & (self.num_steps > 0)

    def fired_every_step(self) -> jax.Array:
        """``(L + 1,)`` bools: the layer spiked in every step of the (non-empty) sleep."""
        return (self.active_steps == self.num_steps) & (self.num_steps > 0)

    def active_fraction(self) -> jax.Array:
        """``(L + 1,)`` fraction of steps in which the layer spiked at all (0 for an empty sleep)."""
        return self.active_steps / jnp.maximum(self.num_steps, 1)


def _check_inputs(weights, mean_input, factors, num_steps, window, checks: Checks) -> None:
    """Shapes and dtypes always; values as the module docstring says (traced ones into ``checks``)."""
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
    check_unit_interval(mean_input, "sleep input", checks)
    checks.require(num_steps, lambda n: n >= 0, "num_steps must be non-negative", f", got {num_steps}")
    if not is_traced(*weights):
        for layer, w in enumerate(weights):
            if not np.all(np.isfinite(np.asarray(w))):
                raise ValueError(
                    f"SRC weight {layer} has non-finite entries (did an earlier sleep run away? its SleepStats "
                    "reports nonfinite_weights)"
                )
    if not is_traced(factors):
        f = np.asarray(factors)
        if not (np.all(np.isfinite(f)) and np.all(f > 0)):
            raise ValueError(
                f"normalisation factors must be finite and positive, got {f}; an all-zero or all-negative "
                "layer gives an infinite factor"
            )


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


def src_sleep(
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
        factors: ``(L,)`` normalisation factors (:func:`sleepjax._sleep.normalize.layer_factors`);
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
    checks = Checks()
    _check_inputs(weights, mean_input, factors, num_steps, window, checks)
    check_hparams(hparams, len(weights), window, checks)
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
            drive = drive_from_list(weights[0], x, n, capacity)
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
                    drive = drive_from_spikes(weights[layer], prev, new_counts[-1])
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
        draws = spike_lists(pixels, fires, n_in, capacity) if event else (pixels, fires)
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
        invalid=~checks.valid(),
    )
    return slept, stats


__all__ = ["DRAW_BLOCK", "INPUT_CAPACITY", "SleepStats", "input_draws", "src_sleep"]
