"""The SRC phase inside a continual run: it reads only the data seen so far, and its sleep length
follows the task index and its schedule hyperparameters."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from sleepjax._nets import MLP, weights_of
from sleepjax._phases import SupervisedTask
from sleepjax._sleep import SRCHparams, SRCPhaseHparams, layer_factors, max_activations, src_phase

pytestmark = pytest.mark.usefixtures("strict_dtypes")

# 2 * dt * max_rate = 2: every pixel with value >= 0.5 spikes on every step, so input spike counts are
# (steps x bright pixels) exactly, and a pixel's mean decides whether it spikes at all.
DETERMINISTIC = SRCHparams.create(max_rate=1000.0, inc=0.0, dec=0.0, beta=(1e9, 1e9), alpha_scale=1.0)


def history():
    """Three tasks of 4 examples x 6 pixels: task 0 lights pixels 0-1, task 1 pixels 2-3, task 2 (not
    yet seen while sleeping after task 1) lights every pixel, which changes the layer maxima."""
    h = np.zeros((3, 4, 6), np.float32)
    h[0, :, 0:2] = 1.0
    h[1, :, 2:4] = 1.0
    h[2] = 1.0
    return jnp.asarray(h)


def model():
    return MLP((6, 5, 3), key=jax.random.key(0), dropout=0.0, head="relu", init_scale=0.5)


def sleep_after(task_index, base=10, per_task=7):
    h = history()
    task = SupervisedTask(h[task_index], jnp.zeros(4, jnp.int32), jnp.asarray(task_index), h)
    phase = src_phase()
    hp = SRCPhaseHparams.create(DETERMINISTIC, base, per_task)
    return phase.apply(model(), phase.init(model(), None), task, hp, jax.random.key(1))


@pytest.mark.parametrize("task_index", [0, 1])
def test_sleep_input_is_the_mean_of_seen_tasks_only(task_index):
    _, _, metrics = sleep_after(task_index)
    steps = 10 + 7 * task_index
    # mean input after task 0: pixels 0-1 at 1.0 (2 bright pixels); after task 1: pixels 0-3 at 0.5
    # (4 pixels at p = min(1, 2 * 0.5) = 1). Task 2 (all pixels) must not leak in.
    bright = 2 if task_index == 0 else 4
    assert int(metrics["spikes"][0]) == steps * bright


@pytest.mark.parametrize("task_index", [0, 1])
def test_normalisation_uses_seen_tasks_only(task_index):
    _, _, metrics = sleep_after(task_index)
    m = model()
    seen = history()[: task_index + 1].reshape(-1, 6)
    expected = layer_factors(weights_of(m), max_activations(m.activations, seen))
    np.testing.assert_allclose(metrics["factors"], expected, rtol=1e-6)
    everything = layer_factors(weights_of(m), max_activations(m.activations, history().reshape(-1, 6)))
    assert not np.allclose(expected, everything)  # the unseen task would have changed them


@pytest.mark.parametrize("base,per_task", [(10, 7), (3, 0), (0, 5)])
def test_sleep_length_follows_task_index_and_schedule(base, per_task):
    for task_index in (0, 1):
        _, _, metrics = sleep_after(task_index, base, per_task)
        steps = base + per_task * task_index
        bright = {0: 2, 1: 4}[task_index]
        assert int(metrics["spikes"][0]) == steps * bright


def test_sleep_lengths_are_traced_hyperparameters():
    """Different schedules under one vmap, as a sweep runs them."""
    h = history()
    task = SupervisedTask(h[1], jnp.zeros(4, jnp.int32), jnp.asarray(1), h)
    phase = src_phase()
    hps = [SRCPhaseHparams.create(DETERMINISTIC, b, p) for b, p in ((10, 7), (4, 1))]
    stacked = jax.tree.map(lambda *v: jnp.stack(v), *hps)
    _, _, metrics = jax.vmap(lambda hp: phase.apply(model(), (), task, hp, jax.random.key(1)))(stacked)
    np.testing.assert_array_equal(metrics["spikes"][:, 0], [17 * 4, 5 * 4])


def test_bad_schedules_are_refused():
    with pytest.raises(ValueError, match="base_steps must be an integer"):
        SRCPhaseHparams.create(DETERMINISTIC, -1, 5)
    with pytest.raises(ValueError, match="steps_per_task must be an integer"):
        SRCPhaseHparams.create(DETERMINISTIC, 1, 2**31)
    with pytest.raises(TypeError, match="src_phase takes SRCPhaseHparams"):
        phase = src_phase()
        h = history()
        phase.apply(model(), (), SupervisedTask(h[0], jnp.zeros(4, jnp.int32), 0, h), DETERMINISTIC, None)


@pytest.mark.parametrize("task_index", [0, 1, 2])
def test_sleep_is_driven_by_the_exact_mean_of_seen_inputs(task_index, monkeypatch):
    """The mean image handed to the sleep, value by value. Spike counts alone cannot tell a mean of 0.5
    from one of 1.0 (both saturate the input rate), so this catches a wrong denominator."""
    from sleepjax._sleep import mlp

    seen_means = []
    real_sleep = mlp.src_sleep

    def spy(weights, mean_input, *args):
        seen_means.append(np.asarray(mean_input))
        return real_sleep(weights, mean_input, *args)

    monkeypatch.setattr(mlp, "src_sleep", spy)
    sleep_after(task_index)
    # after task 0: pixels 0-1 at 4/4 = 1; after task 1: 8 examples, pixels 0-3 each lit in 4 -> 0.5;
    # after task 2: 12 examples, pixels 0-3 at (4 + 4) / 12 = 2/3, pixels 4-5 at 4 / 12 = 1/3
    expected = {
        0: [1.0, 1.0, 0.0, 0.0, 0.0, 0.0],
        1: [0.5, 0.5, 0.5, 0.5, 0.0, 0.0],
        2: [2 / 3, 2 / 3, 2 / 3, 2 / 3, 1 / 3, 1 / 3],
    }[task_index]
    assert len(seen_means) == 1
    np.testing.assert_allclose(seen_means[0], expected, rtol=1e-6)
