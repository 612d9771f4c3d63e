"""The sleepjax half of ``benchmarks/bench_vs_avalanche.py``: class-incremental split MNIST of Hsu et al. (2018)
for each method, every seed of a method at once as one vmapped program, through the same machinery as
``sleepjax compare`` (:mod:`sleepjax.app.compare`).

``bench_vs_avalanche.py`` imports :func:`sleepjax_side` and calls it once, in the project's own venv, after
the PyTorch side has run. It can also run alone (its own record, no Avalanche needed)::

    python benchmarks/sleepjax_side.py --methods naive,ewc,si,lwf,replay,joint --seeds 0,1,2,3,4,5,6,7,8,9 \\
        --data-dir ../shared/data/mnist --out benchmarks/results/sleepjax_side_cpu.json

What it runs (the protocol of ``benchmarks/torch_side.py``, so that both sides do the same work): tasks
{0,1}..{8,9}; every 28x28 image zero-padded to 32x32, /255, then (x - 0.1000) / 0.2752 (input 1024-D;
:data:`sleepjax.HSU_MNIST_INPUT`); a 1024-400-400-10 ReLU MLP with biases (equinox's default
initialisation, PyTorch's); Adam lr 1e-3, its state kept across tasks; batch 128; 4 epochs per task on all
training examples of the task's classes; evaluation on every task's test set after every task (the full
5x5 matrix; joint: one row, at the end). Method names map to ``sleepjax compare``'s: naive = finetune, lwf =
lwf-li-hoiem (Avalanche's LwF is Li & Hoiem's loss, CE + alpha KD);
strengths are the published defaults the PyTorch side also uses (van de Ven et al. 2022's class-IL EWC
lambda 1e9 and SI c 5,000; LwF alpha 1, T 2).

What differs from the PyTorch side, and is said in each method's ``notes``:

* the loss is the cross-entropy over the classes seen so far (Hsu et al.; Avalanche: all 10 outputs);
* tasks hold 11,263 to 12,665 examples; sleepjax pads them to the longest (a fixed shape for one compiled
  program) and skips a minibatch that holds a padding slot, so each epoch runs ``len // 128`` full batches
  of real examples (no partial last batch, as ``drop_last=True``). The padded minibatches are computed
  and their update discarded (under ``vmap`` a skipped step still costs a step), and they are counted in
  ``train_examples_per_seed``: that count is the work done, not the examples learned from;
* replay merges the memory into each task's training set (Hsu et al.; Avalanche appends a memory batch to
  every batch); the first task's memory slots are empty padding, whose batches are computed and skipped;
* EWC's Fisher is van de Ven et al.'s exact Fisher (every label weighted by the model's probability) on
  every training example of the task: one forward pass per example, one backward pass of the layer
  outputs per example and label class, and one matrix product per layer and chunk of examples.

The seconds of a method are the wall time of its vmapped run (``sleepjax.run_batch``), compilation
included (JAX's persistent compilation cache is not enabled here); loading the data and building the
scenario are excluded, as on the PyTorch side.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
from pathlib import Path

import jax
import numpy as np

from sleepjax._datasets import load_bundled, load_idx_dir
from sleepjax._engine import run_batch
from sleepjax._hparams import hparam_names
from sleepjax._metrics import average_accuracy
from sleepjax.app import compare
from sleepjax.app.compare_methods import evaluator_for, stream_for

#: The benchmark's method names and the ``sleepjax compare`` methods they run.
METHODS = {"naive": "finetune", "ewc": "ewc", "si": "si", "lwf": "lwf-li-hoiem", "replay": "replay", "joint": "joint"}


def computed_examples(method: str, setup, scenario) -> tuple[int, list[int]]:
    """Examples through a forward and backward pass per seed, as run: ``steps x batch`` over each task's
    training set as the wake phase sees it (padded to the longest task, and for replay extended by the
    merged memory, repeated ``len // memory`` times as :func:`sleepjax.replay` does), and the real
    training examples of each task."""
    protocol, stream = setup.protocol, stream_for(setup, scenario)
    tasks, n = stream.y.shape
    if method == "replay":
        n += protocol.memory * max(1, n // protocol.memory)
    sizes = stream.valid.sum(axis=1) if stream.valid is not None else np.full(tasks, n)
    return (n // protocol.batch_size) * protocol.batch_size * protocol.epochs * tasks, [int(k) for k in sizes]


def sleepjax_side(methods: list[str], seeds: list[int], data_dir: str | None, smoke: bool = False) -> dict:
    """Run ``methods`` (names of :data:`METHODS`) for all ``seeds`` at once (vmapped) on the MNIST idx files in
    ``data_dir``; return the record ``bench_vs_avalanche.py`` reads (see its ``summarize_sleepjax``).
    ``smoke``: the bundled subset, 128 examples per task, one epoch, a memory of 64 (seconds; for the
    documentation tests)."""
    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        raise ValueError(f"unknown method {unknown[0]!r}; the sleepjax side runs {', '.join(METHODS)}")
    shrink = {"examples_per_task": 128, "epochs": 1, "memory": 64} if smoke else {}
    settings = compare.Settings(benchmark="split-mnist", scenario="class", **shrink)
    setups = compare.plan([METHODS[m] for m in methods], settings, 5)
    dataset = load_bundled() if smoke else load_idx_dir(data_dir)
    scenario = compare.make_scenario(dataset, settings, settings.effective_protocol())
    out = {"methods": {}, "protocol": _protocol(settings, setups)}
    for name in methods:
        setup = setups[METHODS[name]]
        make_params = setup.protocol.make_params(scenario.input_size, scenario.num_outputs)
        start = time.perf_counter()
        result = run_batch(
            setup.phase,
            make_params,
            stream_for(setup, scenario),
            evaluator_for(setup, scenario),
            setup.hparams,
            seeds,
            hparams_batched=False,
            chunk_size=len(seeds),
            devices=jax.devices()[:1],
        )
        wall = time.perf_counter() - start
        accuracy = np.asarray(result.evaluation)
        examples, sizes = computed_examples(name, setup, scenario)
        final = accuracy[:, -1, :].mean(axis=1) if name == "joint" else average_accuracy(accuracy)
        out["methods"][name] = {
            "seeds": list(seeds),
            "wall_s": wall,
            "train_examples_per_seed": examples,
            "train_task_sizes": sizes,
            "accuracy": accuracy.tolist(),
            "final_average_accuracy": [float(a) for a in final],
            "notes": NOTES.get(name, COMMON_NOTE),
        }
        print(f"sleepjax {name}: {len(seeds)} seeds in {wall:.1f} s, accuracy {final.mean():.4f}", flush=True)
    return out


COMMON_NOTE = (
    "loss over the classes seen so far (Hsu et al.); tasks padded to 12,665 examples, minibatches holding padding "
    "computed and skipped (counted in train_examples_per_seed)"
)
NOTES = {
    "replay": COMMON_NOTE + "; memory of 1,100 merged into each task's training set, repeated len // 1,100 times "
    "(Hsu et al.), the first task's empty memory computed as skipped padding",
    "ewc": COMMON_NOTE + "; exact Fisher (every label weighted by its probability) on every training example",
    "joint": "one task of all 60,000 examples, 4 epochs, loss over all 10 outputs",
}


def _protocol(settings, setups) -> dict:
    """The settings as run: the protocol, and every method's hyperparameters by name."""
    protocol = dataclasses.asdict(settings.effective_protocol())
    return {
        "benchmark": "split-mnist class-incremental (Hsu et al. 2018)",
        "protocol": protocol,
        "hparams": {
            m: {k: np.asarray(v).tolist() for k, v in hparam_names(s.hparams).items()} for m, s in setups.items()
        },
        "backend": jax.default_backend(),
        "devices": [str(d) for d in jax.devices()],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--methods", default=",".join(METHODS), help=f"comma-separated, of {','.join(METHODS)}")
    parser.add_argument("--seeds", default=",".join(map(str, range(10))), help="seeds vmapped together")
    parser.add_argument("--data-dir", default=str(Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"))
    parser.add_argument("--out", type=Path, default=None, help="write the record here (JSON)")
    parser.add_argument("--smoke", action="store_true", help="seconds: bundled subset, 2 seeds, tiny tasks")
    args = parser.parse_args()
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    seeds = [int(s) for s in args.seeds.split(",")][: 2 if args.smoke else None]
    result = sleepjax_side(methods, seeds, args.data_dir, smoke=args.smoke)
    if args.out is not None:
        args.out.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
