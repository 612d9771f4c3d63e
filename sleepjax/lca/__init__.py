"""Spiking sparse coding (LCA) whose online Hebbian dictionary learning is stabilised by noise sleep
(Watkins et al., CVPR Workshops 2020).

A dictionary ``phi`` ``(d, n)`` is the network's parameters; :func:`learn_phase` learns it online from
a block of patches, :func:`noise_sleep_phase` lets it sleep on sinusoidally modulated noise, and a run
over blocks of patches is an ordinary :func:`sleepjax.continual_run` evaluated by
:class:`DictionaryEvaluator`.
"""

from sleepjax.lca.learning import RULES as RULES
from sleepjax.lca.learning import learn_patches as learn_patches
from sleepjax.lca.model import Inference as Inference
from sleepjax.lca.model import NeuronConfig as NeuronConfig
from sleepjax.lca.model import infer as infer
from sleepjax.lca.model import rate_code as rate_code
from sleepjax.lca.patches import PREPROCESSING as PREPROCESSING
from sleepjax.lca.patches import PatchSet as PatchSet
from sleepjax.lca.patches import make_patches as make_patches
from sleepjax.lca.phases import DictionaryEvaluator as DictionaryEvaluator
from sleepjax.lca.phases import DictionaryScores as DictionaryScores
from sleepjax.lca.phases import LearnHparams as LearnHparams
from sleepjax.lca.phases import PatchBlock as PatchBlock
from sleepjax.lca.phases import evaluate_dictionary as evaluate_dictionary
from sleepjax.lca.phases import init_dictionary as init_dictionary
from sleepjax.lca.phases import learn_and_sleep as learn_and_sleep
from sleepjax.lca.phases import learn_only as learn_only
from sleepjax.lca.phases import learn_phase as learn_phase
from sleepjax.lca.phases import noise_sleep_phase as noise_sleep_phase
from sleepjax.lca.sleep import NoiseSleepHparams as NoiseSleepHparams
from sleepjax.lca.sleep import noise_level as noise_level
from sleepjax.lca.sleep import noise_sleep as noise_sleep

__all__ = [
    "PREPROCESSING",
    "RULES",
    "DictionaryEvaluator",
    "DictionaryScores",
    "Inference",
    "LearnHparams",
    "NeuronConfig",
    "NoiseSleepHparams",
    "PatchBlock",
    "PatchSet",
    "evaluate_dictionary",
    "infer",
    "init_dictionary",
    "learn_and_sleep",
    "learn_only",
    "learn_patches",
    "learn_phase",
    "make_patches",
    "noise_level",
    "noise_sleep",
    "noise_sleep_phase",
    "rate_code",
]
