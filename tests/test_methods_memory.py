"""Rehearsal memories and the methods that replay them: replay, A-GEM, iCaRL, DER++, on hand-made cases.

Each test names the mistake it catches; ``tests/mutants/run_mutants.py`` (``methods-memory-*``,
``methods-replay-*``, ``methods-agem-*``, ``methods-icarl-*``, ``methods-der-*``, ``methods-wake-*``)
makes each mistake and checks that the test fails.
"""

import math

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import sleepjax as sj
from sleepjax.methods import memory as mem
from sleepjax.methods.agem import project
from sleepjax.methods.der import der_terms
from sleepjax.methods.icarl import binary_distillation, herding

MODEL = sj.MLP((1, 6), key=jax.random.key(0), head="linear")  # inputs of one feature: an example's id


def after_training(x, y, index=0, classes=None, history_tasks=4) -> sj.SupervisedTask:
    """A task as a method phase sees it right after its training phase ``wake`` ran on it."""
    x, y = jnp.asarray(x, jnp.float32), jnp.asarray(y, jnp.int32)
    peers = {"wake": sj.Peer(None, sj.WakeState((), {}), None, True)}
    history = jnp.zeros((history_tasks, *x.shape), x.dtype)
    return sj.SupervisedTask(x, y, jnp.asarray(index), history, classes, peers)


def ids_task(labels, first_id, index) -> sj.SupervisedTask:
    """Examples whose one input is their id (``first_id, first_id + 1, ...``)."""
    labels = np.asarray(labels)
    x = (first_id + np.arange(labels.size, dtype=np.float32))[:, None]
    return after_training(x, labels, index)


def held(memory: sj.Memory) -> tuple[list[int], list[int]]:
    """The ids and labels of the examples a memory holds."""
    filled = np.asarray(memory.filled)
    return np.asarray(memory.x)[filled, 0].astype(int).tolist(), np.asarray(memory.y)[filled].tolist()


# --- what a memory keeps ------------------------------------------------------------------------------


def two_tasks(phase, first, second):
    """``key -> (memory after the first task, after the second)`` for ``phase`` on tasks ``first``, ``second``."""

    def run(key):
        k1, k2 = jax.random.split(key)
        state = phase.init(MODEL, jax.random.key(0))
        _, after_first, _ = phase.apply(MODEL, state, first, None, k1)
        _, after_second, _ = phase.apply(MODEL, after_first, second, None, k2)
        return after_first, after_second

    return run


def test_class_balanced_memory_keeps_each_class_share_exactly():
    # Budget 7: two classes seen keep 3 each (7 // 2), four keep 1 each (7 // 4), the remainder empty; an
    # old class keeps a subset of what it had. Catches a share computed from the current task's classes
    # (3 each again, 12 > 7), ranks taken over all classes instead of within each, and shares that
    # ignore the total budget.
    run = two_tasks(
        sj.replay(7, "class_balanced"), ids_task([0] * 5 + [1] * 5, 0, 0), ids_task([2] * 5 + [3] * 5, 10, 1)
    )
    firsts, seconds = jax.jit(jax.vmap(run))(jax.random.split(jax.random.key(1), 4))
    for m in range(4):
        ids0, labels0 = held(jax.tree.map(lambda a, m=m: a[m], firsts))
        ids1, labels1 = held(jax.tree.map(lambda a, m=m: a[m], seconds))
        assert sorted(labels0) == [0, 0, 0, 1, 1, 1]
        assert sorted(labels1) == [0, 1, 2, 3]
        assert {i for i in ids1 if i < 10} <= set(ids0)
    assert np.asarray(seconds.count).tolist() == [20] * 4 and np.asarray(seconds.seen)[:, :4].all()


@pytest.mark.parametrize("strategy", ["reservoir", "class_balanced"])
def test_a_memory_never_holds_an_example_of_a_task_not_yet_trained(strategy):
    # Tasks of labels (2, 3), (0, 1), (4, 5): after each, every stored example comes from a task trained
    # (an evaluator reading the run's state lists them). Catches empty slots counted as stored examples
    # (they hold label 0, a future class after the first task) and a memory updated before the task's
    # training (the phase placed before its training phase is refused).
    train = sj.wake(optax.sgd, learning_rate=0.0, epochs=1, batch_size=2, loss="ce", num_classes=6)
    phase = sj.replay(6, strategy)
    pairs = [(2, 3), (0, 1), (4, 5)]
    y = np.stack([np.repeat(pair, 3) for pair in pairs]).astype(np.int32)
    x = np.arange(18, dtype=np.float32).reshape(3, 6, 1)

    class Stored:
        reads_state = True

        def __call__(self, params, key, state):
            memory = state["replay"]
            return jnp.where(memory.filled, memory.y, -1), jnp.where(memory.filled, memory.x[:, 0], -1.0)

    run = sj.continual_run(
        sj.sequence(wake=train, replay=phase), MODEL, sj.TaskStream(x, y), Stored(), {}, jax.random.key(0)
    )
    labels, ids = (np.asarray(a) for a in run.evaluation)
    for t in range(3):
        stored = set(labels[t][labels[t] >= 0].tolist())
        assert stored <= set(sum(pairs[: t + 1], ())), (t, stored)
        assert (ids[t][labels[t] >= 0] < 6 * (t + 1)).all()
        assert len(stored) > 0
    with pytest.raises(ValueError, match="replay must come after its training phase 'wake'"):
        sj.continual_run(
            sj.sequence(replay=phase, wake=train), MODEL, sj.TaskStream(x, y), Stored(), {}, jax.random.key(0)
        )


def test_reservoir_keeps_every_example_of_the_stream_with_probability_budget_over_seen():
    # Budget 2, two tasks of 4 examples: after both, each of the 8 examples is in the memory with
    # probability 2/8, whichever task it came from (measured over 4,000 draws, +-0.03 = 4.4 SD).
    # Catches a memory that favours the latest task (first in, first out: old examples never kept) and
    # priorities drawn afresh at every update (old examples kept with 2/4 * 2/6 = 1/6, new with 1/3).
    run = two_tasks(sj.replay(2, "reservoir"), ids_task([0, 0, 1, 1], 0, 0), ids_task([2, 2, 3, 3], 4, 1))

    def kept(key):
        state = run(key)[1]
        ids = jnp.where(state.filled, state.x[:, 0], -1).astype(jnp.int32)
        return jnp.any(ids[:, None] == jnp.arange(8)[None, :], axis=0)

    frequency = np.asarray(jax.jit(jax.vmap(kept))(jax.random.split(jax.random.key(1), 4000))).mean(axis=0)
    np.testing.assert_allclose(frequency, 0.25, atol=0.03)


def test_budget_zero_and_a_budget_larger_than_the_stream_are_refused():
    with pytest.raises(ValueError, match="replay needs a memory budget of at least 1 example, got 0"):
        sj.replay(0)
    with pytest.raises(ValueError, match="icarl needs a memory budget"):
        sj.icarl(-3)
    with pytest.raises(ValueError, match="a class-balanced memory of 5 examples cannot keep one example of each"):
        sj.replay(5).init(MODEL, jax.random.key(0))
    phase = sj.replay(50)
    state = phase.init(MODEL, jax.random.key(0))
    with pytest.raises(ValueError, match="replay memory budget 50 is larger than the 40 training examples"):
        phase.apply(MODEL, state, ids_task([0] * 10, 0, 0), None, jax.random.key(0))


def test_a_method_without_its_training_phase_is_refused():
    phase = sj.replay(2, "reservoir")
    task = ids_task([0, 1], 0, 0)._replace(peers=None)
    with pytest.raises(ValueError, match="replay needs a training phase beside it in a sequence"):
        phase.apply(MODEL, phase.init(MODEL, jax.random.key(0)), task, None, jax.random.key(0))
    with pytest.raises(ValueError, match="ewc needs a training phase"):
        sj.sequence(ewc=sj.ewc()).apply(MODEL, {"ewc": None}, task, {"ewc": sj.EWCHparams(1.0)}, jax.random.key(0))


# --- how a memory is replayed -------------------------------------------------------------------------


def two_of_three() -> sj.Memory:
    """A memory of 3 slots holding 2 examples (ids 7 and 8, labels 4 and 5, outputs of task {4, 5})."""
    memory = mem.empty_memory(3, (1,), 6)
    classes = jnp.broadcast_to(jnp.arange(6) >= 4, (2, 6))
    return mem.offer(
        memory, jnp.asarray([[7.0], [8.0]]), jnp.asarray([4, 5]), classes, jnp.ones(2), jnp.ones(2, bool), "reservoir"
    )


def test_merged_rehearsal_set_marks_empty_slots_as_padding_and_repeats_the_memory():
    # Hsu et al.'s merge: 6 task examples + the 3-slot memory repeated 6 // 3 = 2 times, its empty slot
    # padding (valid false) each time. Catches empty slots trained on as examples, and a memory merged
    # once whatever the task's size.
    memory = two_of_three()
    x, y = jnp.arange(6, dtype=jnp.float32)[:, None], jnp.zeros(6, jnp.int32)
    own = jnp.broadcast_to(jnp.arange(6) < 2, (6, 6))
    hooks = sj.replay(3).hooks
    mx, my, mc, valid = hooks.data(memory, None, x, y, own, jnp.ones(6, bool))
    assert np.asarray(mx)[:, 0].tolist() == list(range(6)) + [7.0, 8.0, 0.0] * 2
    assert np.asarray(valid).tolist() == [True] * 6 + [True, True, False] * 2
    assert np.asarray(my).tolist() == [0] * 6 + [4, 5, 0] * 2
    np.testing.assert_array_equal(np.asarray(mc)[6:8], np.broadcast_to(np.arange(6) >= 4, (2, 6)))
    np.testing.assert_array_equal(np.asarray(mc)[:6], np.asarray(own))


def test_batch_replay_draws_filled_slots_and_repeats_the_batch_while_the_memory_is_empty():
    # Catches draws from empty slots (label 0, a zero input) and an empty memory replayed as zeros (which
    # would change the first task's loss).
    hooks = sj.replay(3, mode="batch").hooks
    x, y = jnp.asarray([[1.0], [2.0], [3.0], [4.0]]), jnp.asarray([1, 1, 0, 0])
    for k in range(5):
        bx, by, bc = hooks.batch(two_of_three(), None, x, y, None, jax.random.key(k))
        assert bc is None and set(np.asarray(by)[4:].tolist()) <= {4, 5} and set(np.asarray(bx)[4:, 0]) <= {7.0, 8.0}
    bx, by, _ = hooks.batch(mem.empty_memory(3, (1,), 6), None, x, y, None, jax.random.key(0))
    np.testing.assert_array_equal(bx, jnp.concatenate([x, x]))
    np.testing.assert_array_equal(by, jnp.concatenate([y, y]))


def test_replayed_examples_are_scored_among_their_own_outputs_only_where_the_task_lacks_their_label():
    # Logits (0, 1, 2, 3) for every example; the task holds labels 2, 3, the memory labels 0, 1 learned
    # with outputs {0, 1}. Task-incremental (outputs {2, 3}): each example among its own task's two
    # outputs; classes seen so far ({0..3}): every example among all four. Catches replayed examples
    # scored among the current task's outputs (an infinite loss in task-incremental rehearsal) and among
    # their own where the current task's include their label (class-incremental replay that never
    # separates old from new classes).
    model = sj.with_weights(sj.MLP((1, 4), key=jax.random.key(0), head="linear"), (jnp.arange(4.0)[:, None],))
    memory = mem.offer(
        mem.empty_memory(2, (1,), 4),
        jnp.ones((2, 1)),
        jnp.asarray([0, 1]),
        jnp.broadcast_to(jnp.arange(4) < 2, (2, 4)),
        jnp.ones(2),
        jnp.ones(2, bool),
        "reservoir",
    )
    train = sj.wake(optax.sgd, learning_rate=0.0, epochs=1, batch_size=4, loss="ce", num_classes=4)
    run = sj.sequence(wake=train, replay=sj.replay(2, "reservoir"))
    state = run.init(model, jax.random.key(0))
    state["replay"] = memory

    @jax.jit
    def first_loss(classes):
        task = sj.SupervisedTask(jnp.ones((2, 1)), jnp.asarray([2, 3]), jnp.asarray(1), jnp.ones((2, 2, 1)), classes)
        return run.apply(model, state, task, {}, jax.random.key(0))[2]["wake"]["loss"][0]

    task_il = (2 * math.log(1 + math.e) + 2 * math.log(1 + 1 / math.e)) / 4
    class_il = math.log(1 + math.e + math.e**2 + math.e**3) - 1.5
    assert float(first_loss(jnp.asarray([False, False, True, True]))) == pytest.approx(task_il, rel=1e-5)
    assert float(first_loss(jnp.ones(4, bool))) == pytest.approx(class_il, rel=1e-5)


# --- A-GEM --------------------------------------------------------------------------------------------


def test_agem_removes_exactly_the_conflicting_component():
    # g = (1, 0), g_ref = (-1, 1): g . g_ref = -1 < 0, so g - (-1 / 2) g_ref = (0.5, 0.5), orthogonal to
    # g_ref; g = (1, 0), g_ref = (1, 1) do not conflict: g unchanged. Catches a projection applied
    # always, one with the wrong sign, and one scaled by |g|^2 instead of |g_ref|^2.
    g = {"a": jnp.asarray([1.0]), "b": jnp.asarray([0.0])}
    conflict = project(g, {"a": jnp.asarray([-1.0]), "b": jnp.asarray([1.0])})
    np.testing.assert_allclose([conflict["a"][0], conflict["b"][0]], [0.5, 0.5])
    agree = project(g, {"a": jnp.asarray([1.0]), "b": jnp.asarray([1.0])})
    np.testing.assert_allclose([agree["a"][0], agree["b"][0]], [1.0, 0.0])
    wide = project(
        {"a": jnp.asarray([2.0]), "b": jnp.asarray([0.0])}, {"a": jnp.asarray([-1.0]), "b": jnp.asarray([1.0])}
    )
    np.testing.assert_allclose([wide["a"][0], wide["b"][0]], [1.0, 1.0])


def test_agem_projects_on_the_training_loss_of_the_memory_and_leaves_the_gradient_while_it_is_empty():
    # The hook's reference gradient is the training loss's gradient on the memory's examples; with an
    # empty memory the gradient passes unchanged. Catches a reference gradient from the empty slots.
    hooks = sj.agem(2, batch_size=4).hooks
    model = sj.with_weights(sj.MLP((1, 1), key=jax.random.key(0), head="linear"), (jnp.asarray([[1.0]]),))

    def train_loss(m, x, y, classes, key):  # d/dw of -w * (mean(x) + 1) is -(mean(x) + 1)
        return -sj.weights_of(m)[0][0, 0] * (jnp.mean(x) + 1.0)

    grads = sj.with_weights(model, (jnp.asarray([[1.0]]),))
    memory = mem.offer(
        mem.empty_memory(2, (1,), 1),
        jnp.ones((1, 1)),
        jnp.zeros(1, jnp.int32),
        jnp.ones((1, 1), bool),
        jnp.ones(1),
        jnp.ones(1, bool),
        "reservoir",
    )
    out = hooks.grads(model, grads, memory, None, jax.random.key(0), train_loss)
    assert float(sj.weights_of(out)[0][0, 0]) == pytest.approx(0.0)  # g = 1 against g_ref = -2: removed
    empty = hooks.grads(model, grads, mem.empty_memory(2, (1,), 1), None, jax.random.key(0), train_loss)
    assert float(sj.weights_of(empty)[0][0, 0]) == 1.0


# --- iCaRL --------------------------------------------------------------------------------------------

# Unit features a = (1, 0), b = (0, 1), c = (0.6, 0.8), d = (-0.6, 0.8); their mean mu = (0.25, 0.65).
# Pick 1: || mu - x || is least for c (0.145 against 0.185, 0.745, 0.985, squared).
# Pick 2: || mu - (c + x) / 2 ||^2: a 0.365, b 0.065, d 0.085 -> b.
# Pick 3: || mu - (c + b + x) / 3 ||^2: a 0.0828, d 0.1094 -> a. Then d.
SQUARE = jnp.asarray([[1.0, 0.0], [0.0, 1.0], [0.6, 0.8], [-0.6, 0.8]])


def test_herding_picks_the_hand_computed_exemplars():
    # Catches exemplars ranked by distance to the mean alone (c, b, d, a), an exemplar picked twice, and
    # picks beyond the count asked for.
    member = jnp.ones(4, bool)
    assert herding(SQUARE, member, jnp.asarray(4), 4).tolist() == [2, 1, 0, 3]
    assert herding(SQUARE, member, jnp.asarray(2), 4).tolist() == [-1, 1, 0, -1]
    outsider = jnp.concatenate([SQUARE, jnp.asarray([[0.25, 0.65]])])
    assert herding(outsider, jnp.asarray([True] * 4 + [False]), jnp.asarray(1), 4).tolist() == [-1, -1, 0, -1, -1]


def test_icarl_keeps_the_herding_exemplars_of_normalised_features_budget_over_classes_each():
    # Budget 4, one task of two classes: 2 exemplars each, the first two herding picks of the features
    # normalised (the inputs are the features scaled by 1..4, which must not matter), plus the teacher.
    # Catches unnormalised features (herding would then prefer the long vectors).
    scale = jnp.asarray([1.0, 3.0, 2.0, 4.0])[:, None]
    x = jnp.concatenate([SQUARE * scale, -SQUARE * scale])
    y = jnp.asarray([0] * 4 + [1] * 4)
    phase = sj.icarl(4, features=lambda model, xi: xi, input_shape=(2,))
    model = sj.MLP((2, 2), key=jax.random.key(0), head="linear")
    state = phase.init(model, jax.random.key(0))
    _, state, metrics = jax.jit(lambda s: phase.apply(model, s, after_training(x, y), None, jax.random.key(0)))(state)
    stored = {
        tuple(np.round(np.asarray(xi) / np.linalg.norm(xi), 3))
        for xi in np.asarray(state.memory.x)[np.asarray(state.memory.filled)]
    }
    square = np.round(np.asarray(SQUARE), 3)
    assert stored == {tuple(square[2]), tuple(square[1]), tuple(-square[2]), tuple(-square[1])}
    assert int(metrics["stored"]) == 4


def test_nearest_mean_classifier_picks_the_closest_normalised_exemplar_mean_among_classes_with_exemplars():
    # Class 0's exemplars (1, 0), (0.6, 0.8) have the normalised mean (0.894, 0.447); class 1's (-1, 0).
    # The input (0.1, 1) is nearer class 0 (distance^2 0.93 against 2.2), (0, -1) nearer class 1 (2 against
    # 2.89); class 2 has no exemplar, and its (zero) mean, at distance^2 1 from every input, must not be
    # chosen. Catches classes without exemplars competing.
    model = sj.MLP((2, 3), key=jax.random.key(0), head="linear")
    memory = mem.offer(
        mem.empty_memory(4, (2,), 3),
        jnp.asarray([[1.0, 0.0], [0.6, 0.8], [-1.0, 0.0]]),
        jnp.asarray([0, 0, 1]),
        jnp.ones((3, 3), bool),
        jnp.ones(3),
        jnp.ones(3, bool),
        "reservoir",
    )
    test = sj.EvalSet(
        jnp.asarray([[[0.1, 1.0], [0.0, -1.0]]]), jnp.asarray([[0, 1]]), jnp.ones((1, 2), bool), jnp.ones((1, 3), bool)
    )
    evaluate = sj.NearestMeanEvaluator(test, features=lambda m, xi: xi)
    state = {"icarl": sj.ICaRLState(memory, model)}
    assert evaluate(model, None, state).tolist() == [1.0]
    assert evaluate.reads_state


def test_icarl_distillation_is_the_binary_cross_entropy_against_the_teachers_sigmoids_on_old_outputs():
    # Student logits (1, -2, 3), teacher (0, 1, 5), old outputs {0, 1}: sum over them of
    # -(s(t) log s(z) + (1 - s(t)) log(1 - s(z))). Catches a target that is not the teacher's sigmoid and
    # distillation of the new outputs.
    sig = lambda v: 1 / (1 + math.exp(-v))  # noqa: E731
    expected = sum(-(sig(t) * math.log(sig(z)) + (1 - sig(t)) * math.log(1 - sig(z))) for z, t in ((1, 0), (-2, 1)))
    value = binary_distillation(
        jnp.asarray([1.0, -2.0, 3.0]), jnp.asarray([0.0, 1.0, 5.0]), jnp.asarray([True, True, False])
    )
    assert float(value) == pytest.approx(expected, rel=1e-6)


# --- DER++ --------------------------------------------------------------------------------------------


def test_der_terms_match_the_stored_logits_and_replay_the_stored_labels():
    # One stored example (input 2, label 1, logits (0.5, -1)) and the network z = (w0 x, w1 x) with
    # w = (1, 2): outputs (2, 4); the logit term is mean((2 - 0.5)^2, (4 + 1)^2) = 13.625, the label term
    # the training loss on (2, 1). Catches the logit term against the labels' outputs or averaged over
    # the batch only, the two terms' weights swapped, and a term while the memory is empty.
    model = sj.with_weights(sj.MLP((1, 2), key=jax.random.key(0), head="linear"), (jnp.asarray([[1.0], [2.0]]),))
    memory = mem.offer(
        mem.empty_memory(3, (1,), 2, logits=True),
        jnp.asarray([[2.0]]),
        jnp.asarray([1]),
        jnp.ones((1, 2), bool),
        jnp.ones(1),
        jnp.ones(1, bool),
        "reservoir",
        logits=jnp.asarray([[0.5, -1.0]]),
    )
    seen = []

    def train_loss(m, x, y, classes, key):
        seen.append((np.asarray(x)[:, 0].tolist(), np.asarray(y).tolist()))
        return jnp.float32(7.0)

    matched, replayed = der_terms(model, memory, jax.random.key(0), 3, train_loss)
    assert float(matched) == pytest.approx(13.625) and float(replayed) == 7.0
    assert seen == [([2.0, 2.0, 2.0], [1, 1, 1])]
    hooks = sj.der(3).hooks
    value = hooks.loss(
        model,
        memory,
        sj.DERHparams(alpha=0.5, beta=2.0),
        jnp.zeros((3, 1)),
        jnp.zeros(3, jnp.int32),
        jax.random.key(0),
        train_loss,
        None,
    )
    assert float(value) == pytest.approx(0.5 * 13.625 + 2.0 * 7.0)
    empty = hooks.loss(
        model,
        mem.empty_memory(3, (1,), 2, logits=True),
        sj.DERHparams(1.0, 1.0),
        None,
        jnp.zeros(3, jnp.int32),
        jax.random.key(0),
        train_loss,
        None,
    )
    assert float(empty) == 0.0


def test_der_stores_the_networks_outputs_with_each_example():
    # Catches logits stored from another network (or zeros) than the one the task ended with.
    model = sj.with_weights(sj.MLP((1, 6), key=jax.random.key(0), head="linear"), (jnp.arange(6.0)[:, None],))
    phase = sj.der(3)
    state = phase.init(model, jax.random.key(0))
    _, state, _ = phase.apply(model, state, ids_task([0, 1, 1], 1, 0), sj.DERHparams(1.0, 0.5), jax.random.key(0))
    np.testing.assert_allclose(state.logits, np.asarray(state.x) * np.arange(6.0)[None, :])
