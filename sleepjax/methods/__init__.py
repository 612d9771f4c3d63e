"""Continual-learning baselines as phases: EWC and online EWC, SI, LwF, experience replay, A-GEM, iCaRL
and DER++, each a :class:`~sleepjax.Phase` composed after a training phase in a
:func:`~sleepjax.sequence` (``sequence(wake=..., ewc=sj.ewc(), sleep=sj.src_phase())``), with its
strengths as apply-time hyperparameters addressed by name (``ewc.lambda``), so that sweeps vmap over
them. Fine-tuning is the training phase alone; joint training is the same on the joint stream.

One module per method; each has ``published_defaults(scenario, benchmark)``, and :func:`published_defaults` looks
them up by method name.
"""

from __future__ import annotations

from sleepjax.methods import agem, der, ewc, icarl, lwf, replay, si

_MODULES = {"ewc": ewc, "si": si, "lwf": lwf, "replay": replay, "agem": agem, "icarl": icarl, "der++": der}
METHODS = ("ewc", "online-ewc", "si", "lwf", "replay", "agem", "icarl", "der++")


def published_defaults(method: str, scenario: str, benchmark: str = "split-mnist"):
    """The published default strengths of ``method`` (one of :data:`METHODS`) in ``scenario``
    (``"class"``, ``"task"`` or ``"domain"``) of ``benchmark`` (``"split-mnist"`` or
    ``"permuted-mnist"``): the hyperparameters its phase takes, ``None`` for the methods without a strength
    (replay, A-GEM, iCaRL). Each method's module says where its values come from."""
    if method == "online-ewc":
        return ewc.published_defaults(scenario, online=True, benchmark=benchmark)
    if method not in _MODULES:
        raise ValueError(f"unknown method {method!r}; the methods are {', '.join(METHODS)}")
    return _MODULES[method].published_defaults(scenario, benchmark=benchmark)
