"""How wake training reads a scenario: it never draws a padding slot of a task, ``steps=`` makes exactly that
many updates drawn as epochs would draw them, and a task's classes restrict its loss.

A linear "network" ``w . x`` with the loss ``sum(w . x)`` over a batch has the gradient ``sum(x)``: with SGD
at learning rate 1 from ``w = 0``, the final ``-w`` is the sum of every input drawn, so which examples were
drawn, and how often, can be read off exactly.
"""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import sleepjax as sj


class Linear(eqx.Module):
    w: jax.Array

    def __call__(self, x, key=None):
        return jnp.dot(self.w, x)[None]


def drawn_sum(model, x, y, key, classes=None):
    return jax.vmap(model)(x).sum()


def sum_of_drawn_inputs(task, **schedule):
    phase = sj.wake(optax.sgd, learning_rate=1.0, loss=drawn_sum, batch_size=2, **schedule)
    model = Linear(jnp.zeros(1))
    state = phase.init(model, jax.random.key(0))
    model, _, metrics = eqx.filter_jit(phase.apply)(model, state, task, None, jax.random.key(1))
    return -float(model.w[0]), metrics


def padded_task():
    # four real examples with x = 1 and four padding slots with x = 1000
    x = jnp.array([1.0] * 4 + [1000.0] * 4)[:, None]
    valid = jnp.arange(8) < 4
    return sj.SupervisedTask(x, jnp.zeros(8, jnp.int32), 0, x[None], valid=valid)


def test_wake_never_draws_a_padding_slot():
    # one epoch: 4 batches of 2, the 2 of real examples run (sum 4), the 2 holding padding are skipped
    drawn, metrics = sum_of_drawn_inputs(padded_task(), epochs=1)
    assert drawn == 4.0
    assert np.isfinite(metrics["loss"]).all()  # the mean loss is over the batches that ran


def test_a_stream_hands_its_padding_mask_to_the_task():
    x = np.array([[[1.0], [1.0]], [[1.0], [1000.0]]], np.float32)
    stream = sj.TaskStream(x, np.zeros((2, 2), np.int32), valid=np.array([[True, True], [True, False]]))
    task = jax.tree.map(jnp.asarray, stream).at(1)
    assert task.valid.tolist() == [True, False]
    phase = sj.wake(optax.sgd, learning_rate=1.0, loss=drawn_sum, batch_size=1, epochs=1)
    model = Linear(jnp.zeros(1))
    state = phase.init(model, jax.random.key(0))
    model, _, _ = eqx.filter_jit(phase.apply)(model, state, task, None, jax.random.key(1))
    assert float(model.w[0]) == -1.0


def test_steps_make_exactly_that_many_updates():
    x = jnp.arange(1.0, 7.0)[:, None]  # 6 examples, 3 batches of 2 per epoch
    task = sj.SupervisedTask(x, jnp.zeros(6, jnp.int32), 0, x[None])
    # 3 steps = one whole epoch: every example once
    assert sum_of_drawn_inputs(task, steps=3)[0] == 21.0
    # 6 steps = two epochs, drawn as epochs=2 draws them
    assert sum_of_drawn_inputs(task, steps=6)[0] == sum_of_drawn_inputs(task, epochs=2)[0] == 42.0
    # 4 steps: one epoch and the first batch of the second; the loss per epoch-long block (2 blocks)
    drawn, metrics = sum_of_drawn_inputs(task, steps=4)
    assert metrics["loss"].shape == (2,)
    assert 21.0 + 3.0 <= drawn <= 21.0 + 11.0  # the second epoch's first batch: two distinct examples


def test_steps_equal_epochs_update_for_update():
    """A model trained for steps = k epochs' batches equals the one trained for k epochs (same draws)."""
    key = jax.random.key(3)
    x = jax.random.normal(key, (40, 5))
    y = (x[:, 0] > 0).astype(jnp.int32)
    task = sj.SupervisedTask(x, y, 0, x[None])
    model = sj.MLP((5, 7, 2), key=jax.random.key(0), head="linear", init_scale=None)
    out = []
    for schedule in ({"epochs": 3}, {"steps": 3 * 4}):
        phase = sj.wake(optax.adam, learning_rate=1e-2, batch_size=10, loss="ce", **schedule)
        trained, _, _ = eqx.filter_jit(phase.apply)(model, phase.init(model, key), task, None, jax.random.key(1))
        out.append(trained)
    for a, b in zip(jax.tree.leaves(out[0]), jax.tree.leaves(out[1])):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(
    ("schedule", "message"),
    [
        ({}, "either epochs or steps"),
        ({"epochs": 2, "steps": 10}, "either epochs or steps"),
        ({"steps": 0}, "wake steps must be a positive integer, got 0"),
        ({"epochs": 1.5}, "wake epochs must be a positive integer, got 1.5"),
    ],
)
def test_wake_schedule_errors(schedule, message):
    with pytest.raises(ValueError, match=message):
        sj.wake(optax.sgd, learning_rate=0.1, batch_size=2, **schedule)


def test_class_incremental_loss_over_the_seen_classes_leaves_unseen_outputs_alone():
    """Trained over the seen classes (Hsu et al.), the outputs of classes not yet seen get no gradient;
    over all classes (Avalanche), they are pushed down."""
    x = np.random.default_rng(0).normal(size=(40, 6)).astype(np.float32)
    y = np.tile([0, 1], 20)
    sc = sj.split_arrays(x, y, x, y, ((0, 1),), num_classes=4)
    model = sj.MLP((6, 8, 4), key=jax.random.key(0), head="linear", init_scale=None, use_bias=True)
    phase = sj.wake(optax.sgd, learning_rate=0.1, batch_size=10, loss="ce", epochs=2)
    trained, _, _ = eqx.filter_jit(phase.apply)(
        model, phase.init(model, None), jax.tree.map(jnp.asarray, sc.train).at(0), None, jax.random.key(1)
    )
    last, before = trained.layers[-1], model.layers[-1]
    np.testing.assert_array_equal(last.weight[2:], before.weight[2:])  # classes 2, 3: untouched
    assert not np.allclose(last.weight[:2], before.weight[:2])
    everything = sj.split_arrays(x, y, x, y, ((0, 1),), num_classes=4, train_outputs="all")
    trained, _, _ = eqx.filter_jit(phase.apply)(
        model, phase.init(model, None), jax.tree.map(jnp.asarray, everything.train).at(0), None, jax.random.key(1)
    )
    assert not np.allclose(trained.layers[-1].weight[2:], before.weight[2:])


def test_interleave_splits_the_padding_mask_with_the_data():
    seen = []

    def record(params, state, task, hparams, key):
        seen.append(task.valid)
        return params, state, {}

    phase = sj.interleave(2, probe=sj.Phase(lambda p, k: (), record))
    task = padded_task()
    eqx.filter_jit(phase.apply)(None, phase.init(None, jax.random.key(0)), task, None, jax.random.key(0))
    assert seen[0].shape == (4,)  # traced inside the scan: one chunk's slice


@pytest.mark.parametrize("method", ["replay", "icarl"])
def test_a_memory_never_keeps_a_padding_slot(method):
    """Padding slots (here x = 1000, label 1, unlike every real example) are never stored or picked as
    exemplars, even with room for every example of the task."""
    x = jnp.concatenate([jax.random.uniform(jax.random.key(0), (6, 3)), jnp.full((4, 3), 1000.0)])
    y = jnp.array([0, 0, 0, 1, 1, 1, 1, 1, 1, 1])
    task = sj.SupervisedTask(x, y, jnp.int32(0), x[None], valid=jnp.arange(10) < 6)
    phase = sj.sequence(
        wake=sj.wake(optax.sgd, learning_rate=0.0, batch_size=2, epochs=1, loss="ce"),
        **{method: sj.replay(8) if method == "replay" else sj.icarl(8)},
    )
    model = sj.MLP((3, 4, 2), key=jax.random.key(1), head="linear", init_scale=None)
    state = phase.init(model, jax.random.key(2))
    _, state, _ = eqx.filter_jit(phase.apply)(model, state, task, None, jax.random.key(3))
    memory = state[method] if method == "replay" else state[method].memory
    assert int(memory.filled.sum()) == 6  # the six real examples, and nothing else
    assert float(memory.x[memory.filled].max()) < 1.0
