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

Where the two sides may differ, and what to say about it in ``notes``:

* replay: Avalanche's ``Replay`` keeps an experience-balanced buffer of 1,100 in total and appends a memory
  batch of 128 to every batch of 128 of the current task (same number of steps as Naive, batch 256 from the
  second task on). Hsu et al. instead merge the memory (1,100 / tasks seen so far per task) into the task's
  training set, repeated len(task) // 1,100 times so that old and new are about 1:1, and shuffle it in
  batches of 128 (about twice the steps). Both do about the same work per seed (about 420,000 examples
  through forward and backward, against 240,000 for Naive); follow the paper and count what was run;
* class-IL loss: Hsu et al. (and the plain PyTorch loop) take the cross-entropy over the outputs of the
  classes seen so far; Avalanche's strategies over all 10. Evaluation uses all 10 outputs everywhere;
* EWC: Avalanche's Fisher is the mean over minibatches of 128 of the squared minibatch gradient, computed
  after every task (one more forward and backward pass over its data); its penalty has no 1/2 and one term
  per earlier task. LwF: Avalanche distils only the outputs of earlier classes (KL, temperature 2, alpha 1)
  with a copy of the model after the previous task. SI: a no-op in Avalanche 0.6 on the CPU (importances
  all 0), so its Avalanche time is Naive's plus bookkeeping;
* Adam's state is kept across tasks on both sides; data loading (reading, padding, building datasets) is
  excluded from the seconds on both sides, compilation included.

What it must return::

    {
      "methods": {
        "<method>": {                       # for each of ``methods``
          "seeds": [0, 1, ...],             # the seeds run together
          "wall_s": 12.3,                   # the whole method, all seeds, compile included (data loading not)
          "compile_s": 4.5,                 # optional: of which compilation
          "wake_s": 6.7,                    # optional: of which training (wake) only, for its fraction of peak
          "train_examples_per_seed": 240000,  # examples through forward and backward, per seed
          "train_task_sizes": [12665, ...],  # optional: training examples per task (for EWC's and LwF's
                                            # extra passes in the count of FLOPs)
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
