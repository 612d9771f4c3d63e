"""The protocols and methods of ``sleepjax compare``: which network, optimiser, data and phases each
method of a comparison runs with, built from the library's phases.

A :class:`Protocol` is one published training setup: Hsu et al. (2018) for split MNIST, the permuted-MNIST
setup of issue 25 (784-1000-1000-10, Adam 1e-4, batch 128, 5,000 updates per task), and the reference SRC
protocol (Tadros et al. 2022) for split MNIST. Every method of a comparison uses its protocol's network,
optimiser, batch, schedule and data; a method is the wake phase plus its own phases (:data:`METHODS`):

* ``finetune``: the wake phase alone; ``joint``: the same on the joint stream (one task, all data);
* the baselines of :mod:`sleepjax.methods` (EWC, online EWC, SI, LwF, replay, A-GEM, iCaRL, DER++) after
  the wake phase, with their published default strengths (:func:`sleepjax.published_defaults`, van de Ven
  et al.'s); ``ewc-hsu``, ``online-ewc-hsu`` and ``si-hsu`` take Hsu et al.'s own settings instead (their
  scripts' strengths, EWC's Fisher from the predicted labels: :data:`HSU_SETTINGS`); ``lwf``
  takes van de Ven & Tolias's loss as their code computes it since May 2019,
  ``lwf-li-hoiem`` Li & Hoiem's, ``lwf-2018`` van de Ven & Tolias's as their 2018 code computed it
  (averaged over classes; ``sleepjax.lwf``'s ``convention``);
* ``replay+agem``: rehearsal merged into the training set and A-GEM's projection (each with its own memory
  of the budget): Hsu et al.'s "GEM", whose agent inherits their naive rehearsal's merging, with A-GEM's
  projection in place of GEM's quadratic programme;
* ``src`` and ``src-tuned``: an SRC sleep after the wake phase (the reference vector ``mnist`` and the
  released ``mnist-tuned``); ``src+replay`` and ``src+icarl``: rehearsal (same memory budget), then sleep.

SRC needs what Hsu et al.'s network does not have: no biases (a bias is a constant current with no
spiking counterpart) and inputs in [0, 1] (its input spikes fire with the pixel intensities). So in
protocols whose network has biases or standardised inputs, the SRC methods and ``finetune-bias-free``
(their control: fine-tuning with the same network and inputs) use the protocol with those two changes
(:meth:`Protocol.for_src`), and nothing else.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from functools import partial
from typing import NamedTuple

import optax

from sleepjax import _hparams as hp
from sleepjax._evaluate import AccuracyEvaluator
from sleepjax._images import HSU_MNIST_INPUT, InputFormat
from sleepjax._nets import MLP
from sleepjax._phases import Phase, sequence
from sleepjax._scenarios import Scenario
from sleepjax._sleep.hparams import InputWindow
from sleepjax._sleep.mlp import src_phase
from sleepjax._sleep.vectors import load_vector
from sleepjax._wake import wake, wake_defaults
from sleepjax.app.records import as_json
from sleepjax.methods import published_defaults
from sleepjax.methods._common import check_source
from sleepjax.methods.agem import agem
from sleepjax.methods.der import der
from sleepjax.methods.ewc import ewc
from sleepjax.methods.icarl import NearestMeanEvaluator, icarl
from sleepjax.methods.lwf import lwf
from sleepjax.methods.replay import replay
from sleepjax.methods.si import si

BENCHMARKS = ("split-mnist", "permuted-mnist", "rotated-mnist")
#: The scenarios each benchmark offers: split MNIST all three; the shifted ones are domain-incremental.
SCENARIOS = {"split-mnist": ("class", "task", "domain"), "permuted-mnist": ("domain",), "rotated-mnist": ("domain",)}


@dataclasses.dataclass(frozen=True)
class Protocol:
    """A training setup shared by every method of a comparison (see the module docstring).

    ``epochs`` or ``steps`` per task (``steps``: minibatch updates); ``memory``: the rehearsal budget
    (examples in total) of every method that keeps one; ``examples_per_task``: ``None`` for all of the
    task's training examples.
    """

    name: str
    hidden: tuple[int, ...]
    optimizer: str
    learning_rate: float
    batch_size: int
    epochs: int | None
    steps: int | None
    loss: str
    head: str
    bias: bool
    input_format: InputFormat
    memory: int
    examples_per_task: int | None = None
    momentum: float = 0.0
    dropout: float = 0.0
    init_scale: float | None = None
    train_outputs: str = "seen"

    def for_src(self) -> Protocol:
        """The protocol SRC can sleep: no biases, inputs padded but not standardised (in [0, 1])."""
        return dataclasses.replace(self, bias=False, input_format=InputFormat(pad=self.input_format.pad))

    def make_params(self, input_size: int, outputs: int) -> Callable:
        """The initial-network factory for :func:`sleepjax.run_batch`."""
        sizes = (input_size, *self.hidden, outputs)

        def make(key):
            return MLP(
                sizes, key=key, use_bias=self.bias, dropout=self.dropout, head=self.head, init_scale=self.init_scale
            )

        return make

    def wake_phase(self, joint_tasks: int | None = None) -> tuple[Phase, dict]:
        """The wake phase and its hyperparameters (the optimiser's settings, sweepable as
        ``wake.learning_rate``). Joint training of ``joint_tasks`` tasks' data runs ``steps`` times as
        many updates when the protocol counts updates (its epochs are epochs over all the data)."""
        settings = {"learning_rate": self.learning_rate}
        if self.optimizer == "sgd":
            settings["momentum"] = self.momentum
        factory = {"adam": optax.adam, "sgd": optax.sgd}[self.optimizer]
        steps = None if self.steps is None else self.steps * (joint_tasks or 1)
        phase = wake(factory, epochs=self.epochs, steps=steps, batch_size=self.batch_size, loss=self.loss, **settings)
        return phase, wake_defaults(**settings)


# Permuted (and rotated) MNIST of issue 25: 784 inputs, 1000-1000, Adam 1e-4, batch 128, 5,000 updates per task;
# Hsu et al.'s rehearsal memory for permuted MNIST, 4,000.
_PERMUTED = Protocol("permuted", (1000, 1000), "adam", 1e-4, 128, None, 5000, "ce", "linear", True, InputFormat(), 4000)
PROTOCOLS = {
    # Hsu et al. 2018, split MNIST: 32x32 padded inputs (1024), 400-400 ReLU with biases, Adam 1e-3, batch 128,
    # 4 epochs per task on all training examples of the task's classes, rehearsal memory 1,100 in total.
    "hsu": Protocol("hsu", (400, 400), "adam", 1e-3, 128, 4, None, "ce", "linear", True, HSU_MNIST_INPUT, 1100),
    "permuted": _PERMUTED,
    # The same with van de Ven et al.'s permuted-MNIST input: 28x28 padded to 32x32 (1,024 inputs, not
    # standardised) before the pixels are permuted.
    "permuted32": dataclasses.replace(_PERMUTED, name="permuted32", input_format=InputFormat(pad=2)),
    # The reference SRC protocol (Tadros et al. 2022; ``sleepjax run split-mnist``): 784-1200-1200-10 without
    # biases, ReLU output trained with squared error, SGD 0.1 momentum 0.5, dropout 0.25, batch 100,
    # 2 epochs on the first 5,000 examples of each task.
    "src": Protocol(
        "src", (1200, 1200), "sgd", 0.1, 100, 2, None, "mse", "relu", False, InputFormat(), 1100,
        examples_per_task=5000, momentum=0.5, dropout=0.25, init_scale=0.01,
    ),
}  # fmt: skip
DEFAULT_PROTOCOL = {"split-mnist": "hsu", "permuted-mnist": "permuted", "rotated-mnist": "permuted"}


class MethodSetup(NamedTuple):
    """What one method of a comparison runs: the phase, its hyperparameters, the stream it trains on
    (``"train"`` or ``"joint"``), how it is evaluated (``"accuracy"`` or ``"nearest-mean"``), the
    protocol it runs with (the comparison's, or its SRC form), and what its phases are built with beyond
    their hyperparameters (:data:`PHASE_OPTIONS`, empty for most methods)."""

    phase: Phase
    hparams: dict
    stream: str
    evaluator: str
    protocol: Protocol
    options: dict


def _window(benchmark: str, protocol: Protocol) -> InputWindow | None:
    """SRC's input window (an 11x11 patch of the image per step, as the reference): none for permuted
    pixels, which have no neighbourhoods."""
    if benchmark == "permuted-mnist":
        return None
    side = 28 + 2 * protocol.input_format.pad
    return InputWindow(side, side, 11)


#: The methods run with Hsu et al.'s own settings (``published_defaults(..., source="hsu")``; EWC's Fisher
#: from the predicted labels, as their ``EWC_mnist`` agent), by the method they are a setting of.
HSU_SETTINGS = {"ewc-hsu": "ewc", "online-ewc-hsu": "online-ewc", "si-hsu": "si"}
#: What a method's phases are built with beyond their hyperparameters (kept in its record entry, so that a
#: record made with another construction is not resumed).
PHASE_OPTIONS = {
    "lwf": {"lwf.convention": "van-de-ven"},
    "lwf-li-hoiem": {"lwf.convention": "li-hoiem"},
    "lwf-2018": {"lwf.convention": "van-de-ven-2018"},
    **{method: {"ewc.fisher": "predicted"} for method, base in HSU_SETTINGS.items() if base.endswith("ewc")},
}


#: The benchmark whose published strengths a benchmark's methods start from: rotated MNIST has none of its
#: own and runs the permuted-MNIST protocol (the same network, optimiser and updates per task).
STRENGTHS_OF = {"split-mnist": "split-mnist", "permuted-mnist": "permuted-mnist", "rotated-mnist": "permuted-mnist"}


def _method_phases(method: str, benchmark: str, scenario: str, memory: int) -> tuple[dict, dict]:
    """The phases a method runs after the wake phase (before any sleep), and their hyperparameters (the
    published defaults of :func:`sleepjax.published_defaults` for the benchmark's :data:`STRENGTHS_OF`)."""
    phases, hparams = {}, {}
    if method in ("replay", "replay+agem", "src+replay"):
        phases["replay"] = replay(memory)
    if method in ("icarl", "src+icarl"):
        phases["icarl"] = icarl(memory)
    if method in ("agem", "replay+agem"):
        phases["agem"] = agem(memory)
    strengths = {
        "ewc": ("ewc", ewc),
        "online-ewc": ("ewc", lambda: ewc(online=True)),
        "si": ("si", si),
        # every LwF method is the same phase, with the loss convention its PHASE_OPTIONS entry names
        **{
            m: ("lwf", partial(lwf, convention=o["lwf.convention"]))
            for m, o in PHASE_OPTIONS.items()
            if "lwf.convention" in o
        },
        "der++": ("der", lambda: der(memory)),
        "ewc-hsu": ("ewc", lambda: ewc(fisher=PHASE_OPTIONS["ewc-hsu"]["ewc.fisher"])),
        "online-ewc-hsu": ("ewc", lambda: ewc(online=True, fisher=PHASE_OPTIONS["online-ewc-hsu"]["ewc.fisher"])),
        "si-hsu": ("si", si),
    }
    if method in strengths:
        name, factory = strengths[method]
        defaults = "lwf" if method.startswith("lwf") else HSU_SETTINGS.get(method, method)
        source = "hsu" if method in HSU_SETTINGS else "van-de-ven"
        phases[name] = factory()
        hparams[name] = published_defaults(defaults, scenario, STRENGTHS_OF[benchmark], source=source)
    return phases, hparams


def build_method(method: str, benchmark: str, scenario: str, protocol: Protocol, num_tasks: int) -> MethodSetup:
    """The :class:`MethodSetup` of ``method`` (one of :data:`METHODS`) in ``scenario`` of ``benchmark``."""
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; the methods are {', '.join(METHODS)}")
    if method in HSU_SETTINGS:
        try:
            check_source("hsu", benchmark)
        except ValueError as error:
            raise ValueError(f"{method}: {error}") from None
    uses_src = method.startswith("src") or method == "finetune-bias-free"
    own = protocol.for_src() if uses_src else protocol
    train, train_hparams = own.wake_phase(num_tasks if method == "joint" else None)
    extra, extra_hparams = _method_phases(method, benchmark, scenario, own.memory)
    phases, hparams = {"wake": train, **extra}, {"wake": train_hparams, **extra_hparams}
    if method.startswith("src"):
        phases["sleep"] = src_phase(_window(benchmark, own))
        hparams["sleep"] = load_vector("mnist-tuned" if method == "src-tuned" else "mnist")[1]
    evaluator = "nearest-mean" if "icarl" in phases else "accuracy"
    stream = "joint" if method == "joint" else "train"
    return MethodSetup(sequence(**phases), hparams, stream, evaluator, own, PHASE_OPTIONS.get(method, {}))


METHODS = (
    "finetune",
    "joint",
    "ewc",
    "online-ewc",
    "si",
    "ewc-hsu",
    "online-ewc-hsu",
    "si-hsu",
    "lwf",
    "lwf-li-hoiem",
    "lwf-2018",
    "replay",
    "agem",
    "replay+agem",
    "icarl",
    "der++",
    "src",
    "src-tuned",
    "src+replay",
    "src+icarl",
    "finetune-bias-free",
)
#: Methods that keep a rehearsal memory of the protocol's budget.
MEMORY_METHODS = ("replay", "agem", "replay+agem", "icarl", "der++", "src+replay", "src+icarl")


def method_settings(setup: MethodSetup) -> dict:
    """What identifies a method's runs in the record: its hyperparameters by name, its protocol and, where
    it has any, what its phases are built with (``MethodSetup.options``)."""
    settings = {
        "hparams": {name: hp.to_json(v) for name, v in hp.hparam_names(setup.hparams).items()},
        "protocol": dataclasses.asdict(setup.protocol),
        "stream": setup.stream,
        "evaluator": setup.evaluator,
    }
    if setup.options:
        settings["phase_options"] = setup.options
    return as_json(settings)


def evaluator_for(setup: MethodSetup, scenario: Scenario):
    """The evaluation after every task: accuracy of the network, or iCaRL's nearest-mean classifier."""
    if setup.evaluator == "nearest-mean":
        return NearestMeanEvaluator(scenario.test)
    return AccuracyEvaluator(scenario.test)


def stream_for(setup: MethodSetup, scenario: Scenario):
    """The task stream the method trains on."""
    return scenario.joint if setup.stream == "joint" else scenario.train
