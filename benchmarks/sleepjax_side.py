"""PLACEHOLDER: the sleepjax half of ``benchmarks/bench_vs_avalanche.py``, to be written once the methods of
issue 25 (fine-tuning, EWC, SI, LwF, replay, joint training as phases) exist.

``bench_vs_avalanche.py`` imports :func:`sleepjax_side` and calls it once, in the project's own venv, after
the PyTorch side has run. Until it is filled in it raises ``NotImplementedError``; the orchestrator then
records the error and prints the table with the sleepjax columns empty.

What it must run (the protocol of ``benchmarks/torch_side.py``, so that both sides do the same work):
class-incremental split MNIST, tasks {0,1}..{8,9}; every 28x28 image zero-padded to 32x32, /255, then
(x - 0.1000) / 0.2752 (input 1024-D); a 1024-400-400-10 ReLU MLP with biases; Adam lr 1e-3, its state
kept across tasks; batch 128; 4 epochs per task on all training examples of the task's classes;
evaluation on every task's test set after every task (the full 5x5 matrix; joint: one row, at the end).
All ``seeds`` of a method run together as one vmapped program; its wall time includes compilation.

What it must return::

    {
      "methods": {
        "<method>": {                       # for each of ``methods``
          "seeds": [0, 1, ...],             # the seeds run together
          "wall_s": 12.3,                   # the whole method, all seeds, compile included (data loading not)
          "compile_s": 4.5,                 # optional: of which compilation
          "wake_s": 6.7,                    # optional: of which training (wake) only, for its fraction of peak
          "train_examples_per_seed": 240000,  # examples through forward and backward, per seed
          "accuracy": [[[...], ...], ...],  # per seed, the accuracy matrix (rows: after each task)
          "final_average_accuracy": [...],  # per seed, the mean of the last row
          "notes": "...",                   # optional: what differs from the PyTorch side (e.g. replay)
        },
      },
      "protocol": {...},                    # optional: settings as run (strengths, memory, input size)
    }
"""

from __future__ import annotations


def sleepjax_side(methods: list[str], seeds: list[int], data_dir: str) -> dict:
    """Run ``methods`` of issue 25 in sleepjax for all ``seeds`` at once (vmapped) on the MNIST idx files in
    ``data_dir``; return the record described in this module's docstring."""
    raise NotImplementedError("needs the sleepjax methods of issue 25")
