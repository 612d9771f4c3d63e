"""Continual-learning baselines as phases: EWC and online EWC, SI, LwF, experience replay, A-GEM, iCaRL
and DER++, each a :class:`~sleepjax.Phase` composed after a training phase in a
:func:`~sleepjax.sequence` (``sequence(wake=..., ewc=sj.ewc(), sleep=sj.src_phase())``), with its
strengths as apply-time hyperparameters addressed by name (``ewc.lambda``), so that sweeps vmap over
them. Fine-tuning is the training phase alone; joint training is the same on the joint stream.

One module per method; each has ``published_defaults(scenario, benchmark)``, and :func:`published_defaults` looks
them up by method name.
"""

from __future__ import annotations

from sleepjax.methods import _common, agem, der, ewc, icarl, lwf, replay, si

_MODULES = {"ewc": ewc, "si": si, "lwf": lwf, "replay": replay, "agem": agem, "icarl": icarl, "der++": der}
METHODS = ("ewc", "online-ewc", "si", "lwf", "replay", "agem", "icarl", "der++")
#: The methods whose strengths Hsu et al.'s split-MNIST scripts set (``published_defaults``'s ``source="hsu"``).
HSU_METHODS = ("ewc", "online-ewc", "si")


def published_defaults(method: str, scenario: str, benchmark: str = "split-mnist", source: str = "van-de-ven"):
    """The published default strengths of ``method`` (one of :data:`METHODS`) in ``scenario``
    (``"class"``, ``"task"`` or ``"domain"``) of ``benchmark`` (``"split-mnist"`` or
    ``"permuted-mnist"``): the hyperparameters its phase takes, ``None`` for the methods without a strength
    (replay, A-GEM, iCaRL). ``source``: van de Ven et al. 2022's values (``"van-de-ven"``) or those of
    Hsu et al. 2018's split-MNIST scripts (``"hsu"``; EWC, online EWC and SI only). Each method's module
    says where its values come from."""
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; the methods are {', '.join(METHODS)}")
    if method == "online-ewc":
        return ewc.published_defaults(scenario, online=True, benchmark=benchmark, source=source)
    if method in HSU_METHODS:
        return _MODULES[method].published_defaults(scenario, benchmark=benchmark, source=source)
    if _common.check_source(source, benchmark) == "hsu":
        raise ValueError(
            f"Hsu et al.'s scripts set no strength for {method!r}; source 'hsu' covers {', '.join(HSU_METHODS)}"
        )
    return _MODULES[method].published_defaults(scenario, benchmark=benchmark)
