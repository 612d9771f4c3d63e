"""SRC for equinox MLPs: compatibility checks, normalisation from data, and the sleep phase.

:func:`src_sleep_mlp` sleeps one :class:`~sleepjax.MLP` or bias-free ReLU ``equinox.nn.MLP`` given the
data it has seen (for use in any training loop); :func:`src_phase` is the same as a
:class:`~sleepjax.Phase` for continual runs, sleeping after every task on statistics of all data seen
so far.
"""

from __future__ import annotations

from typing import NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from sleepjax._nets import MLP, weights_of, with_weights
from sleepjax._phases import Phase, SupervisedTask
from sleepjax._sleep.hparams import Checks, InputWindow, SRCHparams, check_unit_interval, sleep_steps
from sleepjax._sleep.normalize import layer_factors, max_activations
from sleepjax._sleep.src import src_sleep

_RELU_PROBE = np.array([-1e3, -2.5, -1.0, -1e-3, -1e-30, 0.0, 1e-30, 1e-3, 0.5, 1.0, 3.0, 1e3], np.float32)


def _acts_as_relu(activation) -> bool:
    """Whether ``activation`` (applied to scalars, as ``equinox.nn.MLP`` does) gives ``max(x, 0)`` on a
    range of probe values; a learnt activation (with array parameters) does not count.

    ``jax.nn.relu`` itself is accepted without probing: the probe cannot run inside ``vmap`` (as in every
    vmapped run over seeds or configurations), where its values are tracers."""
    if activation is jax.nn.relu:
        return True
    if jax.tree.leaves(eqx.filter(activation, eqx.is_array)):
        return False
    try:
        with jax.ensure_compile_time_eval():
            out = np.asarray(jax.vmap(activation)(jnp.asarray(_RELU_PROBE)))
    except Exception:  # an activation that cannot even run on scalars is not a ReLU
        return False
    return out.shape == _RELU_PROBE.shape and np.array_equal(out, np.maximum(_RELU_PROBE, 0))


def check_src_compatible(model) -> None:
    """Raise ``TypeError`` unless ``model`` is a bias-free ReLU network SRC can sleep.

    Accepted: :class:`sleepjax._nets.MLP` and ``equinox.nn.MLP`` (built with ``scan=False``) whose hidden
    activation acts as ReLU (checked by its values, so ``lambda x: jnp.maximum(x, 0)`` is accepted and a
    leaky ReLU is not), both without biases. SRC views the network as integrate-and-fire layers driven by
    ``W @ spikes``; a bias would be a constant current with no spiking counterpart, so it is refused
    rather than silently dropped. The output activation plays no part in the spiking view (output
    neurons threshold their linear drive).
    """
    if isinstance(model, eqx.nn.MLP):
        if model.scan:
            raise TypeError(
                "SRC cannot sleep an equinox.nn.MLP built with scan=True (its hidden layers are stacked into one "
                "module); build it with scan=False"
            )
        if "scalar" in (model.in_size, model.out_size):
            raise TypeError("SRC needs vector inputs and outputs, but the equinox MLP uses in_size/out_size='scalar'")
        if not _acts_as_relu(model.activation):
            raise TypeError(
                f"SRC needs ReLU hidden units, but the equinox MLP's activation {model.activation!r} does not "
                "act as max(x, 0)"
            )
    elif not isinstance(model, MLP):
        raise TypeError(
            "SRC sleeps a sleepjax._nets.MLP or a bias-free ReLU equinox.nn.MLP (or a list of weight matrices "
            f"via sleepjax._sleep.src.sleep), got {type(model).__name__}"
        )
    with_bias = [i for i, layer in enumerate(model.layers) if layer.bias is not None]
    if with_bias:
        raise TypeError(f"SRC needs a bias-free network, but layers {with_bias} have biases; build it without biases")


def layer_outputs(model):
    """A function of one example returning the outputs of every layer, as SRC's normalisation sees them:
    hidden layers in test mode (after any dropout scaling), the output layer as its linear drive."""
    if isinstance(model, MLP):
        return model.activations

    def forward(x):
        outs = []
        for layer in model.layers[:-1]:
            x = jax.nn.relu(layer(x))
            outs.append(x)
        return (*outs, model.layers[-1](x))

    return forward


def src_sleep_mlp(
    model,
    data: jax.Array,
    hparams: SRCHparams,
    key: jax.Array,
    num_steps: int | jax.Array,
    window: InputWindow | None = None,
):
    """Sleep ``model`` (see :func:`check_src_compatible`) once, using ``data`` ``(n, d)`` (everything
    seen so far) for its input mean and normalisation. Returns ``(slept_model, SleepStats)``; data outside
    [0, 1] raise a ``ValueError``, or under ``jit`` set ``SleepStats.invalid``."""
    check_src_compatible(model)
    checks = Checks()
    check_unit_interval(data, "sleep data", checks)
    maxima = max_activations(layer_outputs(model), data)
    slept, stats, _ = _sleep_on_statistics(model, data.mean(axis=0), maxima, hparams, key, num_steps, window)
    return slept, stats._replace(invalid=stats.invalid | ~checks.valid())


def _sleep_on_statistics(model, mean_input, maxima, hparams, key, num_steps, window):
    """Normalise on the layer maxima of the seen data, sleep, and put the weights back into ``model``.
    Returns ``(slept_model, SleepStats, factors)``."""
    weights = weights_of(model)
    factors = layer_factors(weights, maxima)
    weights, stats = src_sleep(weights, mean_input, factors, hparams, key, num_steps, window)
    return with_weights(model, weights), stats, factors


class SRCPhaseHparams(NamedTuple):
    """Hyperparameters of :func:`src_phase`: the sleep's own and its schedule, all sweepable leaves.

    Attributes:
        src: the sleep hyperparameters (:class:`~sleepjax._sleep.src.SRCHparams`).
        base_steps: sleep steps after the first task (integer array).
        steps_per_task: extra steps per later task: after task ``k`` (0-based) the sleep runs
            ``base_steps + k * steps_per_task`` steps, as in the reference protocol (15000, 5000).
    """

    src: SRCHparams
    base_steps: jax.Array = np.int32(15000)
    steps_per_task: jax.Array = np.int32(5000)

    def check(self) -> None:
        """Raise ``ValueError`` naming the field for a value no sleep can use (see
        :meth:`SRCHparams.check`; sleep lengths must be non-negative)."""
        self.src.check()
        for field in ("base_steps", "steps_per_task"):
            value = np.asarray(getattr(self, field))
            if not np.all(value >= 0):
                raise ValueError(f"SRC sleep length {field} must be non-negative, got {value}")

    @classmethod
    def create(cls, src: SRCHparams, base_steps: int = 15000, steps_per_task: int = 5000) -> SRCPhaseHparams:
        """Checked hyperparameters from Python numbers (sleep lengths must be non-negative integers that
        fit a 32-bit step counter over the run)."""
        for name, value in (("base_steps", base_steps), ("steps_per_task", steps_per_task)):
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**31:
                raise ValueError(f"SRC sleep length {name} must be an integer in 0 .. 2**31 - 1, got {value!r}")
        return cls(src, jnp.asarray(base_steps, jnp.int32), jnp.asarray(steps_per_task, jnp.int32))


def src_phase(window: InputWindow | None = None) -> Phase:
    """SRC sleep after each task, as in the reference protocol.

    After task ``k`` (0-based) it runs ``base_steps + k * steps_per_task`` steps
    (:class:`SRCPhaseHparams`), driven by the mean of all training inputs seen so far and normalised on
    their activations (tasks ``0..k`` of ``task.history``, never a later one). No examples are replayed;
    the seen data only provide those statistics. Metrics: ``{"spikes", "factors", "invalid"}``
    (``invalid``: see :class:`~sleepjax.SleepStats`; :func:`~sleepjax.run_batch` raises when it is set).
    """

    def init(params, key):
        del key
        check_src_compatible(params)
        return ()

    def apply(model, state, task: SupervisedTask, hparams: SRCPhaseHparams, key):
        if not isinstance(hparams, SRCPhaseHparams):
            raise TypeError(f"src_phase takes SRCPhaseHparams, got {type(hparams).__name__}")
        check_src_compatible(model)
        history = task.history
        forward = layer_outputs(model)
        num_layers = len(model.layers)

        def accumulate(t, carry):
            total, maxima = carry
            x = history[t]
            return total + x.sum(axis=0), jnp.maximum(maxima, max_activations(forward, x))

        seen = task.index + 1
        # The maxima take the activations' dtype, which differs from the data's when e.g. float32 data
        # meet float64 weights (float64 mode).
        act_dtype = jax.eval_shape(lambda x: max_activations(forward, x), history[0]).dtype
        zeros = (jnp.zeros(history.shape[-1], history.dtype), jnp.zeros(num_layers, act_dtype))
        total, maxima = lax.fori_loop(0, seen, accumulate, zeros)
        mean_input = total / (seen * history.shape[1])
        steps = sleep_steps(task.index, hparams.base_steps, hparams.steps_per_task)
        model, stats, factors = _sleep_on_statistics(model, mean_input, maxima, hparams.src, key, steps, window)
        return model, state, {"spikes": stats.spikes, "factors": factors, "invalid": stats.invalid}

    return Phase(init, apply)
