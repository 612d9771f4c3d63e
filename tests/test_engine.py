"""The run engine: segments, starts and resumes give the numbers of one uninterrupted run; a phase's
``invalid`` flag stops the batch; wake's optimizer settings are sweepable by name; the compiled programs
hold no host callback (so JAX's persistent compilation cache can keep them).

Everything runs the tiny setup of ``tests/test_sweep.py`` (a 20-16-16-4 ReLU MLP, two synthetic tasks).
"""

from typing import NamedTuple

import equinox as eqx
import jax
import numpy as np
import optax
import pytest
from test_sweep import BASE, make_model, make_setup

import sleepjax as sj
from sleepjax._engine import member_key_data


@pytest.fixture(scope="module")
def setup():
    return make_setup()


def run(setup, **options):
    return sj.run_batch(setup.phase, setup.make_params, setup.tasks, setup.evaluate, BASE, [3, 4], **options)


@pytest.fixture(scope="module")
def whole(setup):
    return run(setup, hparams_batched=False, chunk_size=2, keep_final=True)


@pytest.mark.slow
def test_segments_give_the_numbers_of_one_call(setup, whole):
    # Catches a segmented run that restarts the phase state, reuses the first segment's keys or drops the
    # carry between calls: any of them changes the second task's row.
    seen = []
    segmented = run(
        setup,
        hparams_batched=False,
        chunk_size=2,
        segment=1,
        keep_final=True,
        on_segment_end=lambda m, t, r: seen.append(t),
    )
    np.testing.assert_array_equal(segmented.evaluation, whole.evaluation)
    np.testing.assert_array_equal(segmented.metrics["sleep"]["spikes"], whole.metrics["sleep"]["spikes"])
    for a, b in zip(
        jax.tree.leaves(eqx.filter(segmented.final, eqx.is_array)),
        jax.tree.leaves(eqx.filter(whole.final, eqx.is_array)),
    ):
        np.testing.assert_array_equal(a, b)
    assert seen == [1]  # after the first of two segments


def test_a_run_resumed_from_its_carry_continues_as_if_uninterrupted(setup, whole):
    # Catches a resumed run that re-initialises the phase state or draws the keys of task 0 again.
    saved = []
    run(setup, hparams_batched=False, chunk_size=2, segment=1, on_segment_end=lambda m, t, so_far: saved.append(so_far))
    (so_far,) = saved
    np.testing.assert_array_equal(so_far.evaluation, whole.evaluation[:, :1])
    resumed = run(setup, hparams_batched=False, chunk_size=2, start=sj.Start(*so_far.final, task=1))
    np.testing.assert_array_equal(resumed.evaluation, whole.evaluation[:, 1:])


def test_a_phase_reporting_invalid_values_stops_the_batch_naming_the_seed(setup):
    # Catches an engine that ignores the flag a phase raises from inside a compiled program (no host
    # callback there): the run would go on and store meaningless numbers.
    def apply(params, state, task, hparams, key):
        return params, state, {"invalid": task.index == 1}

    flagged = sj.sequence(wake=setup.phase, check=sj.Phase(lambda p, k: (), apply))
    with pytest.raises(ValueError, match=r"phase metric check.invalid .* seed\(s\) 3;"):
        sj.run_batch(
            flagged, setup.make_params, setup.tasks, setup.evaluate, {"wake": BASE}, [3, 4], hparams_batched=False
        )


def test_wake_learning_rate_is_a_sweepable_hyperparameter():
    # Catches a learning rate fixed in a closure: a sweep over it would run one setting several times.
    base_setup = make_setup()
    train = sj.wake(optax.sgd, learning_rate=0.05, momentum=0.5, epochs=2, batch_size=20, loss="mse", num_classes=4)
    setup = base_setup._replace(phase=sj.sequence(wake=train))
    base = {"wake": sj.wake_defaults(learning_rate=0.05, momentum=0.5)}
    result = sj.sweep(setup, base, sj.grid({"wake.learning_rate": [0.0, 0.05]}), [0], progress=False)
    untrained = setup.evaluate(make_model(jax.random.split(jax.random.key(0))[0]), None)
    frozen = np.asarray(result.store.group("0")["runs"]["0"]["evaluation"])
    np.testing.assert_allclose(frozen, np.broadcast_to(untrained, frozen.shape), atol=1e-7)  # lr 0: nothing learned
    assert result.rows[1]["overall"] > result.rows[0]["overall"] + 0.1


def test_a_ready_made_optimizer_refuses_settings():
    with pytest.raises(ValueError, match="pass the factory instead"):
        sj.wake(optax.sgd(0.1), learning_rate=0.1, epochs=1, batch_size=1)
    with pytest.raises(ValueError, match="finite non-negative"):
        sj.wake(optax.sgd, learning_rate=float("nan"), epochs=1, batch_size=1)


def program_text(setup, hparams=BASE) -> str:
    mesh = sj.batch_mesh(jax.devices()[:1])
    program = sj.batch_program(setup.phase, setup.make_params, mesh, hparams_batched=False, num=2)
    keys = member_key_data(np.zeros(1, np.uint32))
    return program.lower(keys, hparams, setup.tasks, setup.evaluate, None, None, np.int32(0)).as_text()


def test_the_compiled_run_holds_no_host_callback(setup):
    # Catches a progress bar or a value check (equinox.error_if) inside the program: JAX's persistent
    # compilation cache refuses such programs, so every invocation would compile afresh.
    text = program_text(setup)
    assert "callback" not in text.lower(), "a host callback entered the compiled run"


def test_the_callback_check_sees_a_callback(setup):
    # The check itself must catch the mistake: a phase with a debug callback shows in the program text.
    def apply(params, state, task, hparams, key):
        jax.debug.callback(lambda i: None, task.index)
        return params, state, {}

    noisy = setup._replace(phase=sj.sequence(wake=setup.phase, note=sj.Phase(lambda p, k: (), apply)))
    assert "callback" in program_text(noisy, {"wake": BASE}).lower()


class Scale(NamedTuple):
    factor: float


def scaling_phase():
    """Multiplies every weight by ``hparams.factor`` after each task (a phase with hashable hparams)."""

    def apply(params, state, task, hparams, key):
        arrays, static = eqx.partition(params, eqx.is_inexact_array)
        return eqx.combine(jax.tree.map(lambda w: w * hparams.factor, arrays), static), state, {}

    return sj.Phase(lambda p, k: (), apply)


@pytest.mark.slow
def test_constant_hyperparameters_compute_the_same_run(setup):
    # Catches constants that are not the given hyperparameters (the program would scale by something else),
    # and a program cache that serves one setting's program for another.
    train = sj.wake(optax.sgd(0.05, momentum=0.5), epochs=3, batch_size=20, loss="mse", num_classes=4)
    phase = sj.sequence(wake=train, scale=scaling_phase())

    def go(factor, **options):
        hp = {"scale": Scale(factor)}
        return sj.run_batch(phase, setup.make_params, setup.tasks, setup.evaluate, hp, [3], hparams_batched=False,
                            keep_final=True, **options).final.params  # fmt: skip

    def arrays(model):
        return [np.asarray(w) for w in jax.tree.leaves(eqx.filter(model, eqx.is_array))]

    as_input, as_constant, other = go(0.5), go(0.5, constant_hparams=True), go(0.25, constant_hparams=True)
    for a, b in zip(arrays(as_input), arrays(as_constant)):
        np.testing.assert_allclose(a, b, rtol=1e-6)
    assert any(not np.allclose(a, b) for a, b in zip(arrays(as_constant), arrays(other)))
    with pytest.raises(ValueError, match="constant_hparams needs hparams shared"):
        sj.run_batch(phase, setup.make_params, setup.tasks, setup.evaluate, sj.stack_hparams([{"scale": Scale(0.5)}]),
                     [3], constant_hparams=True)  # fmt: skip
