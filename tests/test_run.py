"""Continual runs: vmapped seeds equal the same seeds run one by one; scenarios; wake training;
and the end-to-end SRC result on the bundled subset."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import sleepjax as sj
from sleepjax._datasets import load_bundled
from sleepjax.app.split_mnist import Config, make_arm, make_model_fn, make_scenario


@pytest.fixture(scope="module")
def bundled():
    return load_bundled()


@pytest.fixture(scope="module")
def small_scenario(bundled):
    return sj.split_by_class(bundled, examples_per_task=200)


def small_model(key):
    return sj.MLP((784, 48, 48, 10), key=key, dropout=0.25)


def test_split_by_class_takes_first_examples_and_pads_tests(bundled, small_scenario):
    sc = small_scenario
    assert sc.train.x.shape == (5, 200, 784) and sc.train.y.shape == (5, 200)
    first01 = np.flatnonzero(np.isin(bundled.y_train, [0, 1]))[:200]
    np.testing.assert_array_equal(sc.train.x[0], bundled.x_train[first01])
    for t, cs in enumerate(sc.task_classes):
        assert set(np.unique(sc.train.y[t])) == set(cs)
        assert set(np.unique(sc.test.y[t][sc.test.mask[t]])) == set(cs)
    np.testing.assert_array_equal(sc.test_sizes, [400] * 5)
    assert sc.test.classes.all()  # class-incremental: one shared head
    assert sc.joint.x.shape == (1, 6000, 784)
    task_il = sj.split_by_class(bundled, examples_per_task=200, mode="task")
    np.testing.assert_array_equal(task_il.test.classes[1], np.isin(np.arange(10), [2, 3]))


def test_split_by_class_errors(bundled):
    with pytest.raises(ValueError, match="smallest task has 1200"):
        sj.split_by_class(bundled, examples_per_task=5000)
    with pytest.raises(ValueError, match="distinct labels"):
        sj.split_by_class(bundled, task_classes=((0, 1), (1, 2)))


def test_evaluate_respects_masks_and_allowed_classes():
    class Fixed:
        def __call__(self, x):
            return x  # the input is the output: class = argmax

    x = jnp.array([[[0.0, 1.0, 5.0], [2.0, 1.0, 0.0]]])
    test = sj.EvalSet(x, jnp.array([[1, 0]]), jnp.array([[True, False]]), jnp.array([[True, True, True]]))
    key = jax.random.key(0)
    assert float(sj.AccuracyEvaluator(test)(Fixed(), key)[0]) == 0.0  # predicts 2, label 1; second row masked out
    test = test._replace(classes=jnp.array([[True, True, False]]))
    assert float(sj.AccuracyEvaluator(test)(Fixed(), key)[0]) == 1.0  # class 2 not allowed: predicts 1


def test_wake_phase_learns_a_task(small_scenario):
    phase = sj.wake(optax.sgd(0.1, momentum=0.5), epochs=5, batch_size=20, loss="mse")
    model = sj.MLP((784, 64, 10), key=jax.random.key(0), dropout=0.0, init_scale=None)
    train = small_scenario.train
    evaluate = sj.AccuracyEvaluator(small_scenario.test)
    result = jax.jit(lambda m, k: sj.continual_run(phase, m, train, evaluate, None, k))(model, jax.random.key(1))
    assert float(result.evaluation[0, 0]) > 0.95
    losses = result.metrics["loss"][0]
    assert losses[-1] < losses[0]


def test_wake_cross_entropy_head(small_scenario):
    phase = sj.wake(optax.adam(1e-3), epochs=3, batch_size=20, loss="ce")
    model = sj.MLP((784, 64, 10), key=jax.random.key(0), head="linear", init_scale=None)
    evaluate = sj.AccuracyEvaluator(small_scenario.test)
    result = sj.continual_run(phase, model, small_scenario.train, evaluate, None, jax.random.key(1))
    assert float(result.evaluation[0, 0]) > 0.95


@pytest.mark.slow
def test_vmapped_seeds_equal_seeds_run_one_by_one(small_scenario):
    phase = sj.sequence(
        wake=sj.wake(optax.sgd(0.1, momentum=0.5), epochs=2, batch_size=50), sleep=sj.src_phase(sj.MNIST_WINDOW)
    )
    hp = {"sleep": sj.SRCPhaseHparams.create(sj.reference_hparams(), 300, 100)}
    args = (phase, small_model, small_scenario.train, sj.AccuracyEvaluator(small_scenario.test), hp)
    together = sj.run_seeds(*args, seeds=[0, 1, 2], chunk_size=3)
    chunked = sj.run_seeds(*args, seeds=[0, 1, 2], chunk_size=2)  # the last chunk is padded
    for i, seed in enumerate([0, 1, 2]):
        alone = sj.run_seeds(*args, seeds=[seed], chunk_size=1)
        np.testing.assert_allclose(together.evaluation[i], alone.evaluation[0], atol=1e-6)
        np.testing.assert_array_equal(together.metrics["sleep"]["spikes"][i], alone.metrics["sleep"]["spikes"][0])
    np.testing.assert_allclose(chunked.evaluation, together.evaluation, atol=1e-6)
    np.testing.assert_array_equal(chunked.metrics["sleep"]["spikes"], together.metrics["sleep"]["spikes"])
    assert not np.array_equal(together.evaluation[0], together.evaluation[1])  # seeds differ
    assert together.metrics["sleep"]["spikes"][:, :, 1:].sum() > 0  # sleep really spiked


def test_same_seed_same_numbers(small_scenario):
    phase = sj.wake(optax.sgd(0.1), epochs=1, batch_size=50)
    evaluate = sj.AccuracyEvaluator(small_scenario.test)
    a = sj.run_seeds(phase, small_model, small_scenario.train, evaluate, None, [7])
    b = sj.run_seeds(phase, small_model, small_scenario.train, evaluate, None, [7])
    np.testing.assert_array_equal(a.evaluation, b.evaluation)


@pytest.mark.slow
def test_src_beats_finetuning_on_bundled_subset(bundled):
    """The reference protocol (784-1200-1200-10, reference hyperparameters and sleep lengths) on the
    bundled subset, one seed: fine-tuning keeps only the last task, SRC keeps a clear part of the rest."""
    config = Config()
    scenario = make_scenario(bundled, config)
    final = {}
    for arm in ("finetune", "src"):
        phase, hparams, stream = make_arm(arm, scenario, config)
        result = sj.run_seeds(phase, make_model_fn(config), stream, sj.AccuracyEvaluator(scenario.test), hparams, [0])
        final[arm] = sj.overall_accuracy(result.evaluation[0, -1], scenario.test_sizes)
    assert final["finetune"] < 0.21
    assert final["src"] > final["finetune"] + 0.15
