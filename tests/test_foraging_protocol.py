"""The foraging experiment end to end on a tiny configuration: vmapped trials equal trials run one by
one, the record resumes without recomputing what it holds, and the CLI runs and refuses bad input."""

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from sleepjax.app import foraging
from sleepjax.app.cli import main
from sleepjax.app.records import RecordError
from sleepjax.foraging.schedules import CONDITIONS, Durations

TINY = foraging.Config(
    durations=Durations(unsupervised=2, task1=4, task2=4, block=2, test=6, curve_block=2), steps_per_cycle=12
)


@pytest.fixture(scope="module")
def one_by_one(tmp_path_factory):
    """Seeds 0 then 0, 1 one trial per call, resuming the same record (a single compilation)."""
    path = tmp_path_factory.mktemp("rec") / "one.json"
    first = foraging.run([0], TINY, path, chunk_size=1, progress=False)
    first = json.loads(json.dumps(first))
    second = foraging.run([0, 1], TINY, path, chunk_size=1, progress=False)
    return path, first, second


@pytest.mark.slow
def test_record_resumes_keeping_finished_trials(one_by_one):
    path, first, second = one_by_one
    for name in CONDITIONS:
        # seed 0 was not run again: its unit, wall time included, is unchanged
        assert second["conditions"][name]["runs"]["0"] == first["conditions"][name]["runs"]["0"]
        assert set(second["conditions"][name]["runs"]) == {"0", "1"}
        assert set(second["conditions"][name]["summary"]) == {"task1", "task2"}
    assert "w_out" in second["conditions"]["interleaved_sleep"]["runs"]["0"]
    assert "w_out" not in second["conditions"]["interleaved_sleep"]["runs"]["1"]
    assert json.loads(path.read_text())["identity"]["neuron"] == "rulkov"


@pytest.mark.slow
def test_vmapped_trials_equal_trials_run_one_by_one(one_by_one, tmp_path):
    _, _, separate = one_by_one
    together = foraging.run([0, 1], TINY, tmp_path / "two.json", chunk_size=2, progress=False)
    for name in CONDITIONS:
        for seed in ("0", "1"):
            a, b = separate["conditions"][name]["runs"][seed], together["conditions"][name]["runs"][seed]
            assert a["eaten"] == b["eaten"], (name, seed)
            for field in ("task1", "task2", "curve"):
                assert a[field] == pytest.approx(b[field], abs=1e-6), (name, seed, field)


def test_other_settings_are_refused(one_by_one):
    path, _, _ = one_by_one
    other = foraging.Config(TINY.durations, steps_per_cycle=14)
    with pytest.raises(RecordError, match="steps_per_cycle"):
        foraging.run([0], other, path, progress=False)
    # the STDP pairing changes every trace, so a record made with the other pairing is not resumed
    other = dataclasses.replace(TINY, pairing="nearest" if TINY.pairing == "all" else "all")
    with pytest.raises(RecordError, match="pairing"):
        foraging.run([0], other, path, progress=False)


def test_config_errors_name_the_flag():
    with pytest.raises(ValueError, match="--neuron"):
        foraging.Config(neuron="hodgkin")
    with pytest.raises(ValueError, match="--pairing"):
        foraging.Config(pairing="both")
    with pytest.raises(ValueError, match="unknown foraging hyperparameter"):
        foraging.Config(hparams=(("g_typo", 1.0),))
    with pytest.raises(ValueError, match="multiple of block"):
        Durations(task2=150, block=100, curve_block=50)


def test_cli_runs_and_prints_the_table(one_by_one, capsys, tmp_path):
    path, _, _ = one_by_one
    argv = ["run", "foraging", "--trials", "2", "--out", str(path), "--no-progress", "--steps-per-cycle", "12"]
    argv += ["--unsupervised", "2", "--task1", "4", "--task2", "4", "--block", "2", "--test", "6", "--curve-block", "2"]
    assert main(argv + ["--plot", str(tmp_path / "figs")]) == 0  # everything is in the record: nothing runs
    out = capsys.readouterr().out
    assert "interleaved_sleep" in out and "rulkov" in out and "0.70 ± 0.02" in out
    assert "plain-STDP input code" in out  # which hidden code produced the table (not the wired one)
    assert "wired particle detectors of 0.05" in foraging.Config(hparams=(("wired", 0.05),)).input_code
    assert (tmp_path / "figs" / "foraging_learning.png").exists()
    assert (tmp_path / "figs" / "foraging_weights.png").exists()
    assert main(["run", "foraging", "--hparam", "g_typo=1"]) == 2
    assert "unknown foraging hyperparameter" in capsys.readouterr().err


@pytest.mark.parametrize(
    "args,message",
    [
        (["--hparam", "learn_gain=nan"], "learn_gain must be finite, got nan"),
        (["--hparam", "release=-1"], "release must be in [0, 1], got -1"),
        (["--hparam", "norm_rate=0"], "norm_rate must be in (0, 1], got 0"),
    ],
)
def test_cli_refuses_bad_values_before_computing(args, message, monkeypatch, capsys):
    # Catches a NaN or out-of-range constant, or an absurd trial count, accepted and run to a silent
    # wrong result (or an allocation failure) instead of one line naming it.
    monkeypatch.setattr(foraging, "run_batch", lambda *a, **k: pytest.fail("computed despite a bad value"))
    assert main(["run", "foraging", "--no-progress", *args]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_cli_refuses_an_absurd_trial_count_before_computing(monkeypatch, capsys):
    # Catches --trials without an upper bound: 10^8 trials start compiling and allocating instead of
    # one line naming the flag.
    monkeypatch.setattr(foraging, "run_batch", lambda *a, **k: pytest.fail("computed despite a bad value"))
    with pytest.raises(SystemExit) as exit_info:
        main(["run", "foraging", "--no-progress", "--trials", "100001"])
    assert exit_info.value.code == 2
    assert "argument --trials: expected a positive (at most 100000) integer, got 100001" in capsys.readouterr().err


@pytest.mark.slow
def test_weights_that_blow_up_stop_the_run_naming_the_condition(tmp_path, capsys, monkeypatch):
    """A run whose hidden->output weights reach inf or NaN must stop with an error naming the condition
    and the seed, and store nothing of it (mistakes caught: NaN weights stored silently, or a JSON error
    about NaN instead of the cause). Every stage is made to end with NaN weights."""
    real = foraging.run_batch

    def blown(*args, **kwargs):
        result = real(*args, **kwargs)
        agent = result.final.params
        return result._replace(final=result.final._replace(params=agent._replace(w_out=agent.w_out * np.nan)))

    monkeypatch.setattr(foraging, "run_batch", blown)
    out = tmp_path / "blown.json"
    args = ["run", "foraging", "--trials", "1", "--unsupervised", "2", "--task1", "4", "--task2", "4", "--block", "2"]
    args += ["--test", "6", "--curve-block", "2", "--steps-per-cycle", "12", "--hparam", "learn_gain=2"]
    assert main([*args, "--no-progress", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "condition after_task1" in err and "seed(s) 0" in err and "inf or NaN" in err
    assert not out.exists() or json.loads(out.read_text())["conditions"]["after_task1"]["runs"] == {}


RESULTS = Path(__file__).resolve().parents[1] / "experiments" / "results"
COMMITTED_RECORDS = sorted(p.name for p in RESULTS.glob("foraging*.json"))


def test_every_readme_foraging_record_is_checked():
    """The check below finds the committed records by name (mistake caught: a record renamed or moved
    out of ``experiments/results`` would silently drop out of the check)."""
    assert {
        "foraging_rulkov200.json",
        "foraging_wired.json",
        "foraging_wired_long.json",
        "foraging_wired_sleep.json",
        "foraging_wired_weak_sleep.json",
    } <= set(COMMITTED_RECORDS)


@pytest.mark.parametrize("name", COMMITTED_RECORDS)
def test_committed_records_still_match_the_code(name):
    """The README's foraging tables and figures come from the committed records, redrawn by rerunning
    their commands, which compute nothing when the record matches the settings. A constant added to
    Hparams without the records being remade makes those commands refuse them (mistake caught: the
    output-noise constants were added and the README's command no longer accepted its own record)."""
    identity = json.loads((RESULTS / name).read_text())["identity"]
    assert foraging.Config.from_identity(identity).identity() == identity
