"""The store of traced programs: a run taken from the store gives the numbers of a traced one, bit for bit,
without tracing; the key tells apart programs built from different code, settings or arrays, and is the
same for equal ones built twice; what cannot be stored runs as usual.

Everything runs the tiny setup of ``tests/test_sweep.py`` (two synthetic tasks) on a 20-16-16-4
:class:`sleepjax.MLP`.
"""

import jax
import numpy as np
import optax
import pytest
from test_sweep import BASE, make_setup

import sleepjax as sj
from sleepjax import _engine
from sleepjax import _program_store as store


@pytest.fixture(scope="module")
def setup():
    return make_setup()


def make_mlp(key):
    return sj.MLP((20, 16, 16, 4), key=key)


def run(setup, phase, make_params=make_mlp, **options):
    return sj.run_batch(phase, make_params, setup.tasks, setup.evaluate, BASE, [3, 4], chunk_size=2, **options)


@pytest.fixture(scope="module")
def traced(setup):
    """The numbers of the setup's run traced as usual (no store)."""
    return run(setup, setup.phase, hparams_batched=False)


@pytest.fixture
def program_store(tmp_path):
    """A store in a fresh directory, emptied of what this process loaded, switched off afterwards."""
    store._LOADED.clear()
    yield sj.use_program_store(tmp_path / "programs")
    sj.use_program_store(None)
    store._LOADED.clear()


TRACED: list[str] = []  # the names of the functions jax.jit has traced in this process
jax.monitoring.register_event_duration_secs_listener(
    lambda event, seconds, **info: (
        TRACED.append(info.get("fun_name")) if event.endswith("jaxpr_trace_duration") else None
    )
)


def forget_loaded_programs():
    """What a new process starts with: no program loaded or traced (the files on disk stay)."""
    store._LOADED.clear()
    _engine._program.cache_clear()


def test_a_stored_program_runs_without_tracing_and_gives_the_same_numbers(setup, traced, program_store):
    # Catches a store that is never read (the second run traces again), and a stored program whose
    # numbers differ from the traced one's (arguments flattened in another order, a lost static part).
    expected = traced
    TRACED.clear()
    first = run(setup, setup.phase, hparams_batched=False)
    assert "program_of_arrays" in TRACED and len(list(program_store.iterdir())) == 1
    TRACED.clear()
    forget_loaded_programs()
    again = run(setup, setup.phase, hparams_batched=False)
    assert "program_of_arrays" not in TRACED  # read from the store, not traced again
    for result in (first, again):
        np.testing.assert_array_equal(result.evaluation, expected.evaluation)
        np.testing.assert_array_equal(result.metrics["sleep"]["spikes"], expected.metrics["sleep"]["spikes"])


@pytest.mark.slow
def test_a_run_keeping_its_final_carry_is_stored_with_the_carry_whole(setup, program_store):
    # Catches the static part of the output (the MLP's head) lost on the way through the store: the final
    # model would come back without it.
    sj.use_program_store(None)
    expected = run(setup, setup.phase, hparams_batched=False, keep_final=True)
    sj.use_program_store(program_store)
    run(setup, setup.phase, hparams_batched=False, keep_final=True)
    assert len(list(program_store.iterdir())) == 1
    forget_loaded_programs()
    stored = run(setup, setup.phase, hparams_batched=False, keep_final=True)
    assert stored.final.params.head == expected.final.params.head == "relu"
    np.testing.assert_array_equal(stored.evaluation, expected.evaluation)
    np.testing.assert_array_equal(stored.final.params.layers[0].weight, expected.final.params.layers[0].weight)


@pytest.mark.slow
def test_a_carry_whose_static_part_cannot_be_saved_runs_through_the_store_unsaved(setup, program_store):
    # Catches an equinox MLP's lambda (its final activation) in the output ending the run with a pickling
    # error, or its carry coming back without its activation function.
    result = run(setup, setup.phase, setup.make_params, hparams_batched=False, keep_final=True)
    assert result.final.params.activation is jax.nn.relu and not list(program_store.iterdir())


@pytest.mark.slow
def test_an_unreadable_stored_program_is_traced_again(setup, traced, program_store):
    # Catches a truncated or foreign file in the store ending the run with an unpickling error.
    run(setup, setup.phase, hparams_batched=False)
    (path,) = program_store.iterdir()
    path.write_bytes(b"not a program")
    forget_loaded_programs()
    result = run(setup, setup.phase, hparams_batched=False)
    np.testing.assert_array_equal(result.evaluation, traced.evaluation)


def test_a_program_with_a_host_callback_runs_as_usual_and_is_not_stored(setup, program_store):
    # Catches a program that export refuses ending the run instead of running without the store.
    def apply(params, state, task, hparams, key):
        jax.debug.callback(lambda i: None, task.index)
        return params, state, {}

    phase = sj.sequence(wake=setup.phase, probe=sj.Phase(lambda p, k: (), apply))
    result = sj.run_batch(
        phase, setup.make_params, setup.tasks, setup.evaluate, {"wake": BASE}, [3], hparams_batched=False
    )
    assert result.evaluation.shape[:2] == (1, 2) and not list(program_store.iterdir())


def wake(**changes):
    settings = dict(epochs=3, batch_size=20, loss="mse", num_classes=4) | changes
    return sj.wake(optax.sgd(0.05, momentum=0.5), **settings)


def test_equal_phases_built_twice_share_a_key_and_any_difference_changes_it():
    # Catches a key that names a function without what it closes over (a run with 2 epochs would take the
    # stored program of a run with 3), that ignores an array's contents, or that differs between two
    # equal constructions (the store would never be read in a new process).
    assert store.fingerprint(wake()) == store.fingerprint(wake())
    assert store.fingerprint(wake()) != store.fingerprint(wake(epochs=2))
    assert store.fingerprint(wake()) != store.fingerprint(wake(loss="ce"))
    assert store.fingerprint(np.zeros(3)) != store.fingerprint(np.ones(3))
    assert store.fingerprint(lambda x: x + 1) != store.fingerprint(lambda x: x + 2)
    with pytest.raises(store.Unfingerprintable, match="cannot fingerprint an object of type"):
        store.fingerprint(object())


SHARDED = """
import sys, numpy as np, jax
sys.path.insert(0, "tests")
import sleepjax as sj
from sleepjax import _engine, _program_store as store
from test_program_store import BASE, make_mlp, make_setup

setup = make_setup()
def run():
    return sj.run_batch(setup.phase, make_mlp, setup.tasks, setup.evaluate, BASE, [3, 4, 5, 6],
                        hparams_batched=False, chunk_size=4).evaluation
plain = run()
sj.use_program_store(sys.argv[1])
first = run()
store._LOADED.clear(); _engine._program.cache_clear()
again = run()
assert len(jax.devices()) == 4
np.testing.assert_array_equal(first, plain); np.testing.assert_array_equal(again, plain)
print("stored", len(list(__import__("pathlib").Path(sys.argv[1]).iterdir())))
"""


@pytest.mark.slow
def test_a_program_sharded_over_four_devices_is_stored_and_gives_the_same_numbers(tmp_path):
    # Catches a stored program whose inputs lose their sharding over the mesh (export records it; a call
    # with the members on other devices would fail or gather them on one).
    import os
    import subprocess
    import sys

    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=4", JAX_PLATFORMS="cpu")
    done = subprocess.run(
        [sys.executable, "-c", SHARDED, str(tmp_path / "programs")], env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.split()[-2:] == ["stored", "1"]
