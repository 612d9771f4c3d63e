"""A foraging run interrupted in the middle of a stage resumes from its checkpoint with the numbers of an
uninterrupted run, and leaves no checkpoint behind once finished.

Catches a resume that restarts the stage (or the whole chunk) from scratch, reuses the keys of the first
blocks, drops what was eaten before the interruption, or loses the naive / trained networks.
"""

import json

import pytest

from sleepjax.app import checkpoints, foraging
from sleepjax.app.interrupt import Interrupted

TINY = foraging.Config(
    foraging.Durations(unsupervised=4, task1=8, task2=8, block=2, test=6, curve_block=2),
    steps_per_cycle=12,
    hparams=(("learn_gain", 2.0),),
)


pytestmark = pytest.mark.slow  # minutes: run with python -m pytest -m slow


def conditions(path):
    """Every stored trial's numbers (not its wall time)."""
    record = json.loads(path.read_text())
    return {
        name: {seed: {k: v for k, v in unit.items() if k != "seconds"} for seed, unit in entry["runs"].items()}
        for name, entry in record["conditions"].items()
    }


def test_an_interrupted_run_resumes_mid_stage_with_the_uninterrupted_numbers(tmp_path, monkeypatch):
    whole = tmp_path / "whole.json"
    foraging.run([0, 1], TINY, whole, progress=False)

    monkeypatch.setattr(foraging, "SEGMENT_BLOCKS", 2)  # several checkpoints per stage
    real_put = checkpoints.Checkpoint.put
    calls = []

    def put_then_stop(self, name, tree, **meta):
        real_put(self, name, tree, **meta)
        calls.append(name)
        if "task1" in calls and calls[calls.index("task1") :].count("current") == 2:
            raise Interrupted()  # in the first condition's stage, after two of its segments

    monkeypatch.setattr(checkpoints.Checkpoint, "put", put_then_stop)
    out = tmp_path / "resumed.json"
    with pytest.raises(Interrupted):
        foraging.run([0, 1], TINY, out, progress=False)
    assert checkpoints.checkpoint_path(out).exists()
    assert "unsupervised" in calls and "task1" in calls and calls[-1] == "current"
    monkeypatch.setattr(checkpoints.Checkpoint, "put", real_put)
    ran = []
    real_run_batch = foraging.run_batch

    def spy(*args, **kwargs):
        ran.append(kwargs["start"].task if kwargs["start"] is not None else 0)
        return real_run_batch(*args, **kwargs)

    monkeypatch.setattr(foraging, "run_batch", spy)
    foraging.run([0, 1], TINY, out, progress=False)
    assert ran[0] > 0  # the interrupted stage continued where it stopped, the prefix was not rerun
    assert conditions(out) == conditions(whole)
    assert not checkpoints.checkpoint_path(out).exists()


def test_a_checkpoint_of_other_settings_is_ignored(tmp_path):
    path = tmp_path / "x.checkpoint.npz"
    checkpoints.Checkpoint(path, {"a": 1}).put("naive", {"w": [1.0, 2.0]}, note=1)
    assert "naive" in checkpoints.Checkpoint(path, {"a": 1})
    assert "naive" not in checkpoints.Checkpoint(path, {"a": 2})
