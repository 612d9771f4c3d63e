"""The ``sleepjax`` command: table, JSON record, resuming, and clear errors."""

import json

import pytest

import sleepjax.protocol as protocol
from sleepjax.cli import main

FAST = ["--examples-per-task", "200", "--epochs", "1", "--no-progress"]


def test_run_writes_record_and_table(tmp_path, capsys):
    out = tmp_path / "rec.json"
    assert main(["run", "split-mnist", "--arms", "finetune,joint", "--seeds", "2", "--out", str(out), *FAST]) == 0
    printed = capsys.readouterr().out
    assert "data: bundled subset" in printed
    assert "finetune" in printed and "joint" in printed and "overall" in printed
    record = json.loads(out.read_text())
    assert record["seeds"] == [0, 1]
    assert record["config"]["epochs"] == 1 and record["examples_per_task"] == 200
    assert set(record["versions"]) >= {"jax", "jaxlib", "optax", "equinox", "sleepjax", "python"}
    finetune = record["arms"]["finetune"]
    assert len(finetune["runs"]["0"]["accuracy"]) == 5 and len(finetune["runs"]["0"]["accuracy"][0]) == 5
    assert len(record["arms"]["joint"]["runs"]["1"]["accuracy"]) == 1
    losses = finetune["runs"]["0"]["phase_metrics"]["loss"]
    assert len(losses) == 5 and len(losses[0]) == 1  # per task, per epoch
    assert finetune["runs"]["0"]["chunk_size"] == 1  # CPU default: one seed per compiled call
    assert 0.0 <= finetune["summary"]["overall"]["mean"] <= 1.0
    assert "bwt" in finetune["summary"] and "bwt" not in record["arms"]["joint"]["summary"]


def test_rerun_resumes_finished_seeds(tmp_path, monkeypatch):
    out = tmp_path / "rec.json"
    args = ["run", "split-mnist", "--arms", "finetune", "--out", str(out), *FAST]
    assert main([*args, "--seeds", "2"]) == 0
    first = json.loads(out.read_text())["arms"]["finetune"]["runs"]

    ran = []
    real = protocol.run_seeds

    def spy(*a, **kw):
        ran.append(list(a[5]))
        return real(*a, **kw)

    monkeypatch.setattr(protocol, "run_seeds", spy)
    assert main([*args, "--seeds", "3"]) == 0
    assert ran == [[2]]  # seeds 0 and 1 were kept from the record
    record = json.loads(out.read_text())
    assert record["arms"]["finetune"]["runs"]["0"] == first["0"]
    assert record["arms"]["finetune"]["summary_seeds"] == [0, 1, 2]


def test_record_with_other_settings_is_not_overwritten(tmp_path, capsys):
    out = tmp_path / "rec.json"
    assert main(["run", "split-mnist", "--arms", "finetune", "--out", str(out), *FAST]) == 0
    before = out.read_text()
    assert (
        main(
            [
                "run",
                "split-mnist",
                "--arms",
                "finetune",
                "--out",
                str(out),
                "--examples-per-task",
                "300",
                "--epochs",
                "1",
                "--no-progress",
            ]
        )
        == 2
    )
    assert "other settings" in capsys.readouterr().err
    assert out.read_text() == before


def test_missing_data_dir_is_a_clear_error(tmp_path, capsys):
    assert main(["run", "split-mnist", "--data-dir", str(tmp_path), *FAST]) == 2
    err = capsys.readouterr().err
    assert "train-images-idx3-ubyte" in err and "--data-dir" in err


def test_bad_arguments_exit_with_usage_errors(capsys):
    with pytest.raises(SystemExit):
        main(["run", "split-mnist", "--arms", "sleepless"])
    assert "unknown arm" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["run", "split-mnist", "--seeds", "0"])
    assert main(["run", "split-mnist", "--epochs", "0", "--no-progress"]) == 2
