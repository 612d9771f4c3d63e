"""EWC, online EWC, SI and LwF against hand-computed cases.

Each test names the mistake it catches; ``tests/mutants/run_mutants.py`` (names ``methods-ewc-*``,
``methods-si-*``, ``methods-lwf-*``) makes each mistake and checks that the test fails.
"""

import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import sleepjax as sj
from sleepjax.methods import ewc as ewc_module
from sleepjax.methods.lwf import distillation

LN3 = math.log(3.0)


def linear(weights) -> sj.MLP:
    """A one-layer network without bias, ``z = W x``, with the given ``(outputs, inputs)`` weights."""
    weights = jnp.asarray(weights, jnp.float32)
    model = sj.MLP(weights.shape[::-1], key=jax.random.key(0), head="linear")
    return sj.with_weights(model, (weights,))


def after_training(x, y, index=0, classes=None, accumulators=None) -> sj.SupervisedTask:
    """A task as a method phase sees it right after its training phase ``wake`` ran on it."""
    x, y = jnp.asarray(x, jnp.float32), jnp.asarray(y, jnp.int32)
    peers = {"wake": sj.Peer(None, sj.WakeState((), accumulators or {}), None, True)}
    return sj.SupervisedTask(x, y, jnp.asarray(index), x[None], classes, peers)


def ewc_penalty(phase, state, hparams, model):
    return phase.hooks.loss(model, state, hparams, None, None, None, None, None)


# --- the Fisher information ---------------------------------------------------------------------------

# z = (w0 x, w1 x), W = (ln 3, 0): at x = 1 p = (3/4, 1/4), at x = 2 p = (9/10, 1/10).
# d log p_y / d w_k = x (delta_yk - p_k), so for every label weighting:
EXACT = (1 * 0.75 * 0.25 + 4 * 0.9 * 0.1) / 2  # sum_y p_y (.)^2 = x^2 p_0 p_1, mean over examples
EMPIRICAL = ((1 * 0.75) ** 2 + (2 * 0.1) ** 2) / 2  # labels (1, 0)
PREDICTED = ((1 * 0.25) ** 2 + (2 * 0.1) ** 2) / 2  # argmax labels (0, 0)
X, Y = [[1.0], [2.0]], [1, 0]


class Wrapped(eqx.Module):
    """Any model that is not an :class:`sj.MLP`: its Fisher takes the per-example gradients of every array."""

    net: sj.MLP

    def __call__(self, x):
        return self.net(x)


def fisher_of(model, *args, generic=False, **kwargs):
    """The Fisher of an MLP through the MLP's layer-by-layer path, or (``generic``) through the path every
    other model takes; shaped like ``model`` either way."""
    if not generic:
        return ewc_module.fisher_information(model, *args, **kwargs)
    return ewc_module.fisher_information(Wrapped(model), *args, **kwargs).net


@pytest.mark.parametrize("generic", [False, True], ids=["mlp", "any-model"])
@pytest.mark.parametrize(("labels", "expected"), [("exact", EXACT), ("empirical", EMPIRICAL), ("predicted", PREDICTED)])
def test_fisher_is_the_mean_of_per_example_squared_gradients(labels, expected, generic):
    # Catches the minibatch Fisher (the square of the mean gradient, as Avalanche computes it: 0.0756 for
    # the empirical case here), a Fisher without the expectation over the model's labels, and (MLP path)
    # a layer's squared gradient taken with its input unsquared.
    model = linear([[LN3], [0.0]])
    fisher = fisher_of(model, jnp.asarray(X), jnp.asarray(Y), None, jax.random.key(0), labels, generic=generic)
    np.testing.assert_allclose(sj.weights_of(fisher)[0], [[expected], [expected]], rtol=1e-5)


@pytest.mark.parametrize("generic", [False, True], ids=["mlp", "any-model"])
def test_fisher_is_taken_over_the_outputs_the_task_trains(generic):
    # Catches a Fisher over every output when the task restricts them: a third output masked out leaves
    # the two-output Fisher unchanged and has none itself.
    model = linear([[LN3], [0.0], [5.0]])
    classes = jnp.asarray([True, True, False])
    fisher = fisher_of(model, jnp.asarray(X), jnp.asarray(Y), classes, jax.random.key(0), generic=generic)
    np.testing.assert_allclose(sj.weights_of(fisher)[0], [[EXACT], [EXACT], [0.0]], rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("labels", ewc_module.FISHER_LABELS)
def test_mlp_fisher_layer_by_layer_equals_per_example_gradients(labels, monkeypatch):
    # Catches the MLP's layer-by-layer Fisher departing from the per-example gradients of its arrays: a
    # bias summed wrongly, a hidden layer's input taken before its ReLU or without dropout's test scaling,
    # a ReLU output's gradient, masked outputs, or examples split into chunks unevenly (37 examples in
    # chunks of 9 and of 2 here).
    monkeypatch.setattr(ewc_module, "_CHUNK_ENTRIES", 500)
    model = sj.MLP((6, 5, 4, 3), key=jax.random.key(1), use_bias=True, dropout=0.25, head="relu", init_scale=0.6)
    x = jax.random.normal(jax.random.key(2), (37, 6))
    y = jax.random.randint(jax.random.key(3), (37,), 0, 2)
    classes = jnp.asarray([True, True, False])
    args = (x, y, classes, jax.random.key(4), labels)
    fast, slow = fisher_of(model, *args), fisher_of(model, *args, generic=True)
    for a, b in zip(jax.tree.leaves(fast), jax.tree.leaves(slow), strict=True):
        np.testing.assert_allclose(a, b, rtol=2e-5, atol=1e-8)
    assert float(jnp.abs(fast.layers[0].bias).sum()) > 0 and float(jnp.abs(fast.layers[0].weight).sum()) > 0


# --- the penalty --------------------------------------------------------------------------------------


def fisher_at(d: float) -> float:
    """The exact Fisher of either weight of ``linear([[w0], [w1]])``, ``w0 - w1 = d``, on inputs 1 and 2
    (see EXACT): ``mean_x x^2 p (1 - p)`` with ``p = sigmoid(d x)``."""
    p = [1 / (1 + math.exp(-d * x)) for x in (1.0, 2.0)]
    return (1 * p[0] * (1 - p[0]) + 4 * p[1] * (1 - p[1])) / 2


def test_ewc_penalty_is_the_sum_of_each_tasks_fisher_quadratic():
    # Catches a missing 1/2, penalties that keep only the last task's anchor, or a merged quadratic
    # whose constant or anchor is wrong: after two tasks the penalty at W must be
    # lambda/2 * sum_t F_t (W - W_t)^2, and its gradient lambda * sum_t F_t (W - W_t).
    phase, hp = sj.ewc(), sj.EWCHparams(lambda_=3.0)
    w1, w2, w = [[LN3], [0.0]], [[0.5], [-0.2]], [[1.0], [0.3]]
    state = phase.init(linear(w1), jax.random.key(0))
    for weights in (w1, w2):
        _, state, _ = phase.apply(linear(weights), state, after_training(X, Y), hp, jax.random.key(1))
    f1, f2 = np.asarray([fisher_at(LN3)] * 2), np.asarray([fisher_at(0.7)] * 2)
    w1, w2, w = (np.asarray(a).ravel() for a in (w1, w2, w))
    expected = 1.5 * np.sum(f1 * (w - w1) ** 2 + f2 * (w - w2) ** 2)
    assert float(ewc_penalty(phase, state, hp, linear(w[:, None]))) == pytest.approx(expected, rel=1e-5)
    grad = jax.grad(lambda m: ewc_penalty(phase, state, hp, m))(linear(w[:, None]))
    np.testing.assert_allclose(sj.weights_of(grad)[0].ravel(), 3.0 * (f1 * (w - w1) + f2 * (w - w2)), rtol=1e-5)


def test_online_ewc_decays_the_running_fisher_and_keeps_the_last_anchor():
    # Catches online EWC without the decay (F~ = F1 + F2 instead of gamma F1 + F2), without gamma on the
    # penalty (Schwarz et al.: lambda/2 * gamma * F~ (W - W_2)^2) or anchored at the first task.
    phase, hp = sj.ewc(online=True), sj.EWCHparams(lambda_=2.0, gamma=0.5)
    state = phase.init(linear([[0.0], [0.0]]), jax.random.key(0))
    for weights in ([[LN3], [0.0]], [[0.5], [-0.2]]):
        _, state, _ = phase.apply(linear(weights), state, after_training(X, Y), hp, jax.random.key(1))
    running = 0.5 * fisher_at(LN3) + fisher_at(0.7)
    w = np.asarray([1.0, 0.3])
    expected = 0.5 * 2.0 * 0.5 * running * np.sum((w - [0.5, -0.2]) ** 2)
    assert float(ewc_penalty(phase, state, hp, linear(w[:, None]))) == pytest.approx(expected, rel=1e-5)


def test_ewc_penalty_is_zero_before_any_task_and_at_its_anchor():
    phase, hp = sj.ewc(), sj.EWCHparams(lambda_=1e9)
    model = linear([[LN3], [0.0]])
    state = phase.init(model, jax.random.key(0))
    assert float(ewc_penalty(phase, state, hp, linear([[9.0], [9.0]]))) == 0.0
    _, state, _ = phase.apply(model, state, after_training(X, Y), hp, jax.random.key(1))
    assert float(ewc_penalty(phase, state, hp, model)) == 0.0


# --- SI -----------------------------------------------------------------------------------------------


def to_three(model, x, y, key, classes):
    """A loss that ignores the data: ``0.5 (w - 3)^2`` of the network's one weight."""
    return 0.5 * (sj.weights_of(model)[0][0, 0] - 3.0) ** 2


def test_si_importance_is_its_path_integral_over_the_tasks_updates():
    # SGD (lr 0.5) from w = 1 on 0.5 (w - 3)^2, two steps: g = -2 takes w to 2, g = -1 takes it to 2.5.
    # omega = -(g0 dw0 + g1 dw1) = -((-2)(1) + (-1)(0.5)) = 2.5; Delta = 2.5 - 1 = 1.5;
    # Omega = omega / (Delta^2 + xi) = 2.5 / (2.25 + 0.1).
    # Catches exactly Avalanche 0.6's mistake on the CPU (the weights before a step read after it, so every
    # step's change, and every importance, is 0), Delta taken against the weights after training instead
    # of those it started from (2.5 / 0.1), and a path integral of the wrong sign.
    train = sj.wake(optax.sgd, learning_rate=0.5, epochs=1, batch_size=1, loss=to_three)
    phase = sj.sequence(wake=train, si=sj.si())
    model = linear([[1.0]])
    state = phase.init(model, jax.random.key(0))
    task = sj.SupervisedTask(jnp.ones((2, 1)), jnp.zeros(2, jnp.int32), jnp.asarray(0), jnp.ones((1, 2, 1)))
    hparams = {"si": sj.SIHparams(c=1.0, xi=0.1)}
    model, state, metrics = phase.apply(model, state, task, hparams, jax.random.key(1))
    assert float(sj.weights_of(model)[0][0, 0]) == pytest.approx(2.5)
    assert float(metrics["si"]["path_integral"]) == pytest.approx(2.5)
    assert float(sj.weights_of(state["si"].importance)[0][0, 0]) == pytest.approx(2.5 / 2.35, rel=1e-6)
    assert float(sj.weights_of(state["si"].anchor)[0][0, 0]) == pytest.approx(2.5)
    # The surrogate penalty of the next task: c * Omega * (w - 2.5)^2.
    value = sj.si().hooks.loss(linear([[3.5]]), state["si"], sj.SIHparams(c=2.0), None, None, None, None, None)
    assert float(value) == pytest.approx(2.0 * 2.5 / 2.35 * 1.0, rel=1e-6)


# --- LwF ----------------------------------------------------------------------------------------------


def softmax(z):
    e = np.exp(z - np.max(z))
    return e / e.sum()


def test_lwf_distils_the_teachers_softened_outputs_over_the_earlier_outputs():
    # Catches an unsoftened teacher (or student), distillation over outputs no earlier task trained, and
    # a missing minus sign: -sum p log q over the first two outputs at T = 2.
    student, teacher = np.asarray([1.0, 0.0, 5.0, 2.0]), np.asarray([0.0, 2.0, -1.0, 3.0])
    p, q = softmax(teacher[:2] / 2), softmax(student[:2] / 2)
    value = distillation(jnp.asarray(student), jnp.asarray(teacher), jnp.asarray([0, 0, -1, -1]), 2.0)
    assert float(value) == pytest.approx(-np.sum(p * np.log(q)), rel=1e-6)


def test_lwf_distils_each_earlier_head_on_its_own():
    # Task-incremental heads (outputs 0-1 of task 0, 2-3 of task 1) are distilled one softmax each, as
    # Li & Hoiem's multi-head network; catches one softmax over all earlier outputs.
    student, teacher = np.asarray([1.0, 0.0, -1.0, 0.5]), np.asarray([0.0, 2.0, 1.0, 1.5])
    expected = sum(
        -np.sum(softmax(teacher[h] / 2) * np.log(softmax(student[h] / 2))) for h in (slice(0, 2), slice(2, 4))
    )
    value = distillation(jnp.asarray(student), jnp.asarray(teacher), jnp.asarray([0, 0, 1, 1]), 2.0)
    assert float(value) == pytest.approx(expected, rel=1e-6)


def test_lwf_heads_follow_the_outputs_each_task_trained():
    # Task-incremental classes: each task its own head; classes seen so far: one head; no classes: the
    # labels a task held. Catches heads that ignore task.classes, or that forget earlier outputs.
    phase = sj.lwf()
    model = linear(np.zeros((4, 1)))

    def heads(classes_per_task, labels_per_task):
        state = phase.init(model, jax.random.key(0))
        for t, (classes, labels) in enumerate(zip(classes_per_task, labels_per_task)):
            cls = None if classes is None else jnp.isin(jnp.arange(4), jnp.asarray(classes))
            task = after_training([[1.0], [1.0]], labels, index=t, classes=cls)
            _, state, _ = phase.apply(model, state, task, sj.LwFHparams(), jax.random.key(t))
        return state.head.tolist()

    assert heads([(0, 1), (2, 3)], [(0, 1), (2, 3)]) == [0, 0, 1, 1]
    assert heads([(0, 1), (0, 1, 2, 3)], [(0, 1), (2, 3)]) == [1, 1, 1, 1]
    assert heads([None, None], [(0, 1), (2, 3)]) == [1, 1, 1, 1]
    assert heads([None], [(1, 1)]) == [-1, 0, -1, -1]


def test_lwf_term_is_alpha_times_the_mean_distillation_against_the_stored_teacher():
    # Catches a teacher that is not the network after the last task, or a term not weighted by alpha.
    phase = sj.lwf()
    teacher = linear([[1.0], [0.0], [2.0]])
    state = phase.init(linear(np.zeros((3, 1))), jax.random.key(0))
    _, state, _ = phase.apply(teacher, state, after_training([[1.0], [1.0]], [0, 1]), sj.LwFHparams(), None)
    student = linear([[0.0], [1.0], [0.0]])
    value = phase.hooks.loss(
        student, state, sj.LwFHparams(alpha=3.0, temperature=1.0), jnp.asarray([[1.0], [2.0]]), None, None, None, None
    )
    per_example = [-np.sum(softmax(np.asarray([x, 0.0])) * np.log(softmax(np.asarray([0.0, x])))) for x in (1.0, 2.0)]
    assert float(value) == pytest.approx(3.0 * np.mean(per_example), rel=1e-6)


def test_lwf_van_de_ven_distils_class_incremental_heads_against_zero_targets_for_new_classes():
    # van de Ven & Tolias's class-incremental LwF: the student's distribution is over every output the task
    # answers among (earlier and new classes), the teacher's over the earlier classes only, so the new
    # classes get a zero target. Catches a student over the head alone (Li & Hoiem's), and a teacher
    # softened over the new classes too.
    student, teacher = np.asarray([1.0, 0.0, 5.0, 2.0]), np.asarray([0.0, 2.0, -1.0, 3.0])
    p, q = softmax(teacher[:2] / 2), softmax(student / 2)[:2]
    active = jnp.asarray([True, True, True, True])  # the classes seen so far, the new task's included
    value = distillation(jnp.asarray(student), jnp.asarray(teacher), jnp.asarray([0, 0, -1, -1]), 2.0, active)
    assert float(value) == pytest.approx(-np.sum(p * np.log(q)), rel=1e-6)


def test_lwf_van_de_ven_keeps_task_incremental_heads_on_their_own():
    # Task-incremental: the task answers among its own two outputs, which do not hold the earlier head, so
    # the earlier head is distilled over its own outputs only. Catches the new task's outputs folded into
    # every head's distribution.
    student, teacher = np.asarray([1.0, 0.0, 5.0, 2.0]), np.asarray([0.0, 2.0, -1.0, 3.0])
    head, active = jnp.asarray([0, 0, -1, -1]), jnp.asarray([False, False, True, True])
    value = distillation(jnp.asarray(student), jnp.asarray(teacher), head, 2.0, active)
    assert float(value) == pytest.approx(float(distillation(jnp.asarray(student), jnp.asarray(teacher), head, 2.0)))


@pytest.mark.parametrize(("head", "heads"), [([1, 1, 1, 1, -1, -1], 1), ([0, 0, 1, 1, -1, -1], 2)])
def test_lwf_van_de_ven_term_is_their_loss_times_the_task_number(head, heads):
    # Their loss on task t is CE / t + (1 - 1/t) T^2 mean_heads KD; the phase adds alpha (t - 1) T^2
    # mean_heads KD to the task's loss (their loss times t). Third task (two earlier tasks), one head
    # (class-incremental) or two (task-incremental). Catches a sum over heads, a missing T^2, and a
    # weight that does not grow with the tasks seen.
    phase = sj.lwf(convention="van-de-ven")
    teacher, student = (
        linear([[1.0], [0.0], [2.0], [0.5], [0.0], [0.0]]),
        linear([[0.0], [1.0], [0.0], [1.0], [0.0], [0.0]]),
    )
    state = sj.LwFState(teacher, jnp.asarray(head, jnp.int32))
    x = jnp.asarray([[1.0], [2.0]])
    hparams = sj.LwFHparams(alpha=3.0, temperature=2.0)
    active = jnp.asarray([False] * 4 + [True] * 2) if heads == 2 else jnp.ones(6, bool)
    value = phase.hooks.loss(student, state, hparams, x, None, None, None, active)
    kd = jax.vmap(lambda s, t: distillation(s, t, state.head, 2.0, active))(
        sj.weights_of(student)[0].T * x, sj.weights_of(teacher)[0].T * x
    ).mean()
    assert float(value) == pytest.approx(3.0 * 2 * 4.0 * float(kd) / heads, rel=1e-6)


def test_lwf_van_de_ven_2018_averages_each_heads_distillation_over_its_students_outputs():
    # Their 2018 code averaged the KD over classes as well as examples: each head's term divided by the
    # number of outputs in the student's distribution (4 in class-incremental learning after the second
    # task, the new classes included; 2 for each task-incremental head). Catches a 2018 loss that still
    # sums over classes, and one divided by the head's own size (2) in class-incremental learning.
    student, teacher = np.asarray([1.0, 0.0, 5.0, 2.0]), np.asarray([0.0, 2.0, -1.0, 3.0])
    s, t, head = jnp.asarray(student), jnp.asarray(teacher), jnp.asarray([0, 0, -1, -1])
    class_il = jnp.ones(4, bool)
    summed = float(distillation(s, t, head, 2.0, class_il))
    assert float(distillation(s, t, head, 2.0, class_il, class_mean=True)) == pytest.approx(summed / 4, rel=1e-6)
    two_heads, task_il = jnp.asarray([0, 0, 1, 1]), jnp.asarray([False, False, True, True])
    per_head = [float(distillation(s, t, jnp.where(two_heads == h, two_heads, -1), 2.0, task_il)) for h in (0, 1)]
    value = distillation(s, t, two_heads, 2.0, task_il, class_mean=True)
    assert float(value) == pytest.approx(sum(per_head) / 2, rel=1e-6)
    phase, ref = sj.lwf(convention="van-de-ven-2018"), sj.lwf(convention="van-de-ven")
    state = sj.LwFState(linear([[1.0], [0.0], [2.0], [0.5]]), jnp.asarray([0, 0, -1, -1], jnp.int32))
    model, x, hparams = linear([[0.0], [1.0], [0.0], [1.0]]), jnp.asarray([[1.0], [2.0]]), sj.LwFHparams()
    terms = [p.hooks.loss(model, state, hparams, x, None, None, None, class_il) for p in (phase, ref)]
    assert float(terms[0]) == pytest.approx(float(terms[1]) / 4, rel=1e-6)


def test_wake_gives_loss_hooks_the_outputs_the_minibatch_is_scored_among():
    # Catches a wake that hands its siblings' loss hooks no classes: van de Ven's class-incremental LwF
    # would then leave the new classes out of the student's distribution without a word.
    import optax

    seen = []

    def loss(model, state, hparams, x, y, key, train_loss, classes):
        seen.append(None if classes is None else (classes.shape, classes.dtype))
        return 0.0

    spy = sj.Phase(lambda p, k: (), lambda p, s, t, h, k: (p, s, {}), sj.TrainingHooks(loss=loss))
    phase = sj.sequence(wake=sj.wake(optax.sgd, learning_rate=0.1, epochs=1, batch_size=2), spy=spy)
    model = linear(np.zeros((10, 1)))
    classes = jnp.arange(10) < 2
    task = sj.SupervisedTask(jnp.ones((2, 1)), jnp.asarray([0, 1]), jnp.asarray(0), jnp.ones((1, 2, 1)), classes)
    hparams = {"wake": sj.wake_defaults(learning_rate=0.1), "spy": None}
    phase.apply(model, phase.init(model, jax.random.key(0)), task, hparams, jax.random.key(1))
    assert seen and all(s == ((10,), jnp.bool_) for s in seen)


def test_lwf_refuses_an_unknown_convention():
    with pytest.raises(ValueError, match="lwf: unknown convention 'hinton'"):
        sj.lwf(convention="hinton")


# --- strengths ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("hparams", "message"),
    [
        (sj.EWCHparams(float("nan")), "EWC hyperparameter lambda must be a finite number >= 0, got nan"),
        (sj.EWCHparams(-1.0), "EWC hyperparameter lambda"),
        (sj.EWCHparams(1.0, gamma=1.5), "EWC hyperparameter gamma must be a finite number >= 0 and <= 1"),
        (sj.SIHparams(-2.0), "SI hyperparameter c"),
        (sj.SIHparams(1.0, xi=0.0), "SI hyperparameter xi must be a finite number > 0"),
        (sj.LwFHparams(float("inf")), "LwF hyperparameter alpha"),
        (sj.LwFHparams(1.0, temperature=0.0), "LwF hyperparameter temperature"),
        (sj.DERHparams(1.0, -0.5), "DER\\+\\+ hyperparameter beta"),
    ],
)
def test_a_bad_strength_is_named(hparams, message):
    with pytest.raises(ValueError, match=message):
        hparams.check()


def test_published_defaults_are_van_de_vens_strengths():
    # Catches split MNIST's strengths used on permuted MNIST (lambda 1e10 there freezes the network after
    # the first task), a scenario's value swapped with another's, and an unknown benchmark passing silently.
    scenarios = ("task", "domain", "class")
    lam = {s: float(sj.published_defaults("ewc", s).lambda_) for s in scenarios}
    c = {s: float(sj.published_defaults("si", s).c) for s in scenarios}
    assert lam == {"task": 1e5, "domain": 1e10, "class": 1e9}
    assert c == {"task": 10.0, "domain": 50_000.0, "class": 5_000.0}
    lam = {s: float(sj.published_defaults("online-ewc", s, "permuted-mnist").lambda_) for s in scenarios}
    c = {s: float(sj.published_defaults("si", s, "permuted-mnist").c) for s in scenarios}
    assert lam == {"task": 100.0, "domain": 100.0, "class": 100.0}
    assert c == {"task": 10.0, "domain": 10.0, "class": 5.0}
    assert sj.published_defaults("replay", "class") is None
    with pytest.raises(ValueError, match="no published defaults for benchmark 'cifar'"):
        sj.published_defaults("lwf", "class", "cifar")
    with pytest.raises(ValueError, match="unknown method 'ewk'"):
        sj.published_defaults("ewk", "class")
    with pytest.raises(ValueError, match="unknown scenario 'classes'"):
        sj.published_defaults("si", "classes")


def test_hsu_settings_are_their_scripts_strengths_in_this_modules_penalties():
    # Catches Hsu et al.'s --reg_coef taken as EWC's lambda (their penalty reg_coef * F d^2 has no 1/2, so
    # lambda must be twice it, else EWC runs at half their strength), EWC's and online EWC's values swapped,
    # and the source accepted where their scripts set nothing (another benchmark, LwF, an unknown source).
    scenarios = ("task", "domain", "class")
    hsu = {m: {s: sj.published_defaults(m, s, source="hsu") for s in scenarios} for m in ("ewc", "online-ewc", "si")}
    assert {s: float(h.lambda_) for s, h in hsu["ewc"].items()} == {"task": 200.0, "domain": 200.0, "class": 1200.0}
    assert {s: float(h.lambda_) for s, h in hsu["online-ewc"].items()} == {"task": 800, "domain": 1400, "class": 200}
    assert {s: float(h.c) for s, h in hsu["si"].items()} == {"task": 300.0, "domain": 3000.0, "class": 600.0}
    assert all(float(h.xi) == pytest.approx(0.1) for h in hsu["si"].values())
    with pytest.raises(ValueError, match="settings for 'split-mnist' only, not for 'permuted-mnist'"):
        sj.published_defaults("ewc", "domain", "permuted-mnist", source="hsu")
    with pytest.raises(ValueError, match="set no strength for 'lwf'"):
        sj.published_defaults("lwf", "domain", source="hsu")
    with pytest.raises(ValueError, match="unknown source 'hsu2018'"):
        sj.published_defaults("si", "domain", source="hsu2018")


def test_lambda_is_addressed_as_ewc_lambda():
    base = {"ewc": sj.published_defaults("ewc", "class")}
    assert list(sj.hparam_names(base)) == ["ewc.lambda", "ewc.gamma"]
    assert float(sj.get_hparam(sj.set_hparams(base, {"ewc.lambda": 5.0}), "ewc.lambda")) == 5.0
