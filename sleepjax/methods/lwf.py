"""Learning without forgetting (LwF), as a phase.

LwF (Li & Hoiem 2017, "Learning without forgetting", IEEE TPAMI 40(12)) keeps a copy of the network
after each task (the teacher) and, while a new task trains, distils the teacher's outputs for the earlier
tasks on the new task's inputs: ``alpha * sum_heads CE(softmax(teacher / T), softmax(student / T))`` over
the outputs of each earlier head, averaged over the minibatch (Li & Hoiem: ``lambda_o = 1``, ``T = 2``).

A head is the set of outputs the same earlier task last trained: with task-incremental outputs
(``task.classes``, disjoint per task) each earlier task is its own head, as in Li & Hoiem's multi-head
network; with the classes seen so far (class-incremental) or no restriction, all earlier outputs form one
head, as in van de Ven et al.'s class-incremental LwF. Without ``task.classes`` the outputs a task trained
are those of the labels it held.

Three conventions of the loss (``lwf(convention=...)``):

* ``"li-hoiem"`` (default): the term above, summed over the earlier heads, added to the task's loss.
* ``"van-de-ven"``: the loss of van de Ven & Tolias's split-MNIST code as it stands since May 2019
  (the code behind the LwF numbers usually quoted for split MNIST, whose first release differs: below).
  With ``t`` the task's number (1, 2, ...), their loss is ``CE / t + (1 - 1/t) * T**2 * mean_heads KD``,
  and in class-incremental learning the student's distribution is over every output the task answers
  among (the earlier classes and the new ones), the new classes' targets being zero, so the term also
  pulls the new classes' outputs down on the new task's inputs. This phase adds
  ``alpha * (t - 1) * T**2 * mean_heads KD`` to the task's loss: their loss times ``t``: nearly the same
  updates under Adam (whose steps do not see a constant factor of the loss; here the factor changes
  between tasks while Adam's moments carry over), not under plain SGD. A head's distribution takes in the
  task's outputs only where they hold the whole head (class-incremental); task-incremental heads stay on
  their own.
* ``"van-de-ven-2018"``: the same, with each head's KD averaged over the outputs of the student's
  distribution instead of summed over them: the loss of the first release of their code (September 2018,
  the version behind the LwF rows usually quoted for split MNIST), which averaged the distillation over
  classes as well as examples until a fix in May 2019.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import jax
import jax.numpy as jnp

from sleepjax._phases import Phase, SupervisedTask, TrainingHooks
from sleepjax._typing import Array, Int, PyTree
from sleepjax.methods import _common as common


class LwFHparams(NamedTuple):
    """LwF's strengths (addressed ``lwf.alpha``, ``lwf.temperature``).

    Attributes:
        alpha: the weight of the distillation term (Li & Hoiem's ``lambda_o``).
        temperature: the softening ``T`` of both distributions, positive.
    """

    alpha: float | Array = 1.0
    temperature: float | Array = 2.0

    def check(self) -> None:
        """``ValueError`` naming the field for a NaN, negative or zero (``temperature``) value."""
        common.check_values(
            "LwF",
            alpha=(self.alpha, 0.0, False, math.inf),
            temperature=(self.temperature, 0.0, True, math.inf),
        )


class LwFState(NamedTuple):
    """The ``teacher`` (the network after the last task) and each output's ``head``: the index of the last
    task that trained it, ``-1`` for none yet."""

    teacher: PyTree
    head: Int[Array, " C"]


def published_defaults(scenario: str, benchmark: str = "split-mnist") -> LwFHparams:
    """Li & Hoiem 2017's settings, for every scenario and benchmark: alpha (their ``lambda_o``) = 1, T = 2
    (van de Ven et al. 2022 also distil at T = 2)."""
    common.check_published_setting(scenario, benchmark)
    return LwFHparams(jnp.float32(1.0), jnp.float32(2.0))


CONVENTIONS = ("li-hoiem", "van-de-ven", "van-de-ven-2018")


def distillation(
    student: Array, teacher: Array, head: Array, temperature, active: Array | None = None, class_mean: bool = False
) -> Array:
    """Li & Hoiem's distillation loss of one example's outputs: for each head (outputs sharing a
    non-negative ``head`` index), the cross-entropy of the student's softened distribution over the head
    against the teacher's, summed over heads.

    With ``active`` (``(C,)`` bools: the outputs the current task answers among), a head that ``active``
    holds whole is distilled with the student's distribution over the head and the active outputs, the
    teacher's target being zero on the active outputs outside the head (van de Ven & Tolias's
    class-incremental LwF). With ``class_mean``, each head's term is divided by the number of outputs in the
    student's distribution (the 2018 release of van de Ven & Tolias's code)."""
    same = head[:, None] == head[None, :]
    support = same
    if active is not None:
        holds_head = jnp.all(jnp.where(same, active[None, :], True), axis=1)
        support = same | (holds_head[:, None] & active[None, :])

    def log_softmax(z, over):
        z = z / temperature
        return z - jax.nn.logsumexp(jnp.where(over, z[None, :], -jnp.inf), axis=1)

    target = jnp.exp(log_softmax(jax.lax.stop_gradient(teacher), same))
    terms = target * log_softmax(student, support)
    if class_mean:
        terms = terms / jnp.sum(support, axis=1)
    return -jnp.sum(jnp.where(head >= 0, terms, 0.0))


def count_heads(head: Int[Array, " C"]) -> Array:
    """The number of distinct non-negative ``head`` indices (earlier heads)."""
    ordered = jnp.sort(head)
    first = jnp.concatenate([jnp.ones(1, bool), ordered[1:] != ordered[:-1]])
    return jnp.sum(first & (ordered >= 0))


def lwf(*, convention: str = "li-hoiem", input_shape: tuple[int, ...] | None = None) -> Phase:
    """Learning without forgetting (Li & Hoiem 2017, IEEE TPAMI).

    After each task the phase keeps the network as the teacher; every later task's loss gains
    ``alpha * CE(softmax(teacher / T), softmax(student / T))`` over the outputs of each earlier head, on
    the new task's inputs (see the module docstring for heads and for ``convention="van-de-ven"``).

    Published default strengths (Li & Hoiem 2017, :func:`published_defaults`): alpha = 1, T = 2, in every
    scenario.

    Args:
        convention: ``"li-hoiem"`` (the term summed over heads, as above), ``"van-de-ven"`` (van de Ven
            & Tolias's weighting and class-incremental distribution) or ``"van-de-ven-2018"`` (the same,
            averaged over classes as their first release computed it; module docstring).
        input_shape: the shape of one input, where the model does not tell it (to count its outputs).

    Hyperparameters: :class:`LwFHparams`. State: :class:`LwFState`. Compose after the training phase:
    ``sequence(wake=..., lwf=sj.lwf())``.
    """

    if convention not in CONVENTIONS:
        raise ValueError(f"lwf: unknown convention {convention!r}; choose from {', '.join(CONVENTIONS)}")

    def init(params, key):
        del key
        outputs = common.num_outputs(params, common.example_shape(params, input_shape))
        return LwFState(params, jnp.full(outputs, -1, jnp.int32))

    def loss(model, state: LwFState, hparams, x, y, key, train_loss, classes):
        hparams = common.checked_hparams("lwf", hparams, LwFHparams)
        student = common.outputs(model, x)
        teacher = common.outputs(state.teacher, x)
        # van de Ven & Tolias's student spans the outputs the minibatch is scored among; Li & Hoiem's its head
        active = None if convention == "li-hoiem" or classes is None else jnp.broadcast_to(classes, student.shape)
        class_mean = convention == "van-de-ven-2018"
        per_example = jax.vmap(lambda s, t, a: distillation(s, t, state.head, hparams.temperature, a, class_mean))(
            student, teacher, active
        )
        if convention == "li-hoiem":
            return hparams.alpha * per_example.mean()
        earlier_tasks = jnp.max(state.head) + 1  # the last task that trained an output was the previous one
        mean_over_heads = per_example.mean() / jnp.maximum(count_heads(state.head), 1)
        return hparams.alpha * earlier_tasks * hparams.temperature**2 * mean_over_heads

    def apply(params, state: LwFState, task: SupervisedTask, hparams, key):
        common.checked_hparams("lwf", hparams, LwFHparams)
        common.trainer(task, "lwf")
        if task.classes is None:
            trained = jnp.any(jax.nn.one_hot(task.y, state.head.shape[0], dtype=bool), axis=0) | (state.head >= 0)
        else:
            trained = jnp.asarray(task.classes, bool)
        head = jnp.where(trained, jnp.asarray(task.index, jnp.int32), state.head)
        return params, LwFState(params, head), {}

    return Phase(init, apply, TrainingHooks(loss=loss))


__all__ = ["CONVENTIONS", "LwFHparams", "LwFState", "count_heads", "distillation", "lwf", "published_defaults"]
