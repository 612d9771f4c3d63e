"""The ``sleepjax`` command: table, JSON record, resuming, and one clear line for every user mistake."""

import json
import os
import sys

import numpy as np
import pytest

import sleepjax.app.stored_runs as stored_runs
from sleepjax.app.cli import main

FAST = ["--examples-per-task", "200", "--epochs", "1", "--no-progress"]
RUN = ["run", "split-mnist"]


def test_run_writes_record_and_table(tmp_path, capsys):
    out = tmp_path / "rec.json"
    assert main([*RUN, "--arms", "finetune,joint", "--seeds", "2", "--out", str(out), *FAST]) == 0
    printed = capsys.readouterr().out
    assert "data: bundled subset" in printed
    assert "finetune" in printed and "joint" in printed and "overall" in printed
    record = json.loads(out.read_text())
    assert record["seeds"] == [0, 1]
    assert record["identity"]["config"]["epochs"] == 1 and record["identity"]["examples_per_task"] == 200
    assert set(record["environment"]["versions"]) >= {"jax", "jaxlib", "optax", "equinox", "sleepjax", "python"}
    finetune = record["arms"]["finetune"]
    assert len(finetune["runs"]["0"]["accuracy"]) == 5 and len(finetune["runs"]["0"]["accuracy"][0]) == 5
    assert len(record["arms"]["joint"]["runs"]["1"]["accuracy"]) == 1
    losses = finetune["runs"]["0"]["phase_metrics"]["wake"]["loss"]
    assert len(losses) == 5 and len(losses[0]) == 1  # per task, per epoch
    assert finetune["runs"]["0"]["chunk_size"] == 1  # CPU default: one seed per compiled call
    assert 0.0 <= finetune["summary"]["overall"]["mean"] <= 1.0
    assert "bwt" in finetune["summary"] and "bwt" not in record["arms"]["joint"]["summary"]


def test_rerun_resumes_finished_seeds(tmp_path, monkeypatch):
    out = tmp_path / "rec.json"
    args = [*RUN, "--arms", "finetune", "--out", str(out), *FAST]
    assert main([*args, "--seeds", "2"]) == 0
    first = json.loads(out.read_text())["arms"]["finetune"]["runs"]

    ran = []
    real = stored_runs.run_seeds

    def spy(*a, **kw):
        ran.append(list(a[5]))
        return real(*a, **kw)

    monkeypatch.setattr(stored_runs, "run_seeds", spy)
    assert main([*args, "--seeds", "3"]) == 0
    assert ran == [[2]]  # seeds 0 and 1 were kept from the record
    record = json.loads(out.read_text())
    assert record["arms"]["finetune"]["runs"]["0"] == first["0"]
    assert record["arms"]["finetune"]["summary_seeds"] == [0, 1, 2]

    # a subset of the stored seeds: nothing runs, the summary is over the seeds asked, nothing is dropped
    assert main([*args, "--seeds", "0,2"]) == 0
    assert ran == [[2]]
    entry = json.loads(out.read_text())["arms"]["finetune"]
    assert sorted(entry["runs"]) == ["0", "1", "2"] and entry["summary_seeds"] == [0, 2]
    finals = np.array([entry["runs"][s]["accuracy"][-1] for s in ("0", "2")])
    np.testing.assert_allclose(entry["summary"]["per_task_final"]["mean"], finals.mean(axis=0))

    # the table shows the arms asked for, not an unchecked summary another run left in the record
    record = json.loads(out.read_text())
    record["arms"]["src"] = {"runs": {}, "summary": "left by hand"}
    out.write_text(json.dumps(record))
    assert main([*args, "--seeds", "0,2"]) == 0 and ran == [[2]]


def test_record_with_other_settings_is_not_overwritten(tmp_path, capsys):
    out = tmp_path / "rec.json"
    assert main([*RUN, "--arms", "finetune", "--out", str(out), *FAST]) == 0
    before = out.read_text()
    other = [*RUN, "--arms", "finetune", "--out", str(out), "--examples-per-task", "300", "--epochs", "1"]
    assert main([*other, "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "other settings" in err and "config.examples_per_task" in err and "examples_per_task" in err
    assert out.read_text() == before


def test_interrupt_keeps_finished_seeds_and_says_how_to_resume(tmp_path, monkeypatch, capsys):
    """A Ctrl-C during seed 0 finishes and saves seed 0, then stops before seed 1."""
    from sleepjax.app import interrupt

    out = tmp_path / "rec.json"
    real = stored_runs.run_seeds

    def interrupted_during_first_chunk(*a, **kw):
        interrupt.request_stop()  # what the first Ctrl-C does
        return real(*a, **kw)

    monkeypatch.setattr(stored_runs, "run_seeds", interrupted_during_first_chunk)
    assert main([*RUN, "--arms", "finetune", "--seeds", "3", "--out", str(out), *FAST]) == 130
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1] == f"sleepjax: interrupted; saved in {out}: finetune: seed 0; rerun the same command to resume"
    assert list(json.loads(out.read_text())["arms"]["finetune"]["runs"]) == ["0"]
    monkeypatch.setattr(stored_runs, "run_seeds", real)
    assert main([*RUN, "--arms", "finetune", "--seeds", "3", "--out", str(out), *FAST]) == 0
    assert sorted(json.loads(out.read_text())["arms"]["finetune"]["runs"]) == ["0", "1", "2"]


def test_missing_data_dir_is_a_clear_error(tmp_path, capsys):
    assert main([*RUN, "--data-dir", str(tmp_path), *FAST]) == 2
    err = capsys.readouterr().err
    assert "train-images-idx3-ubyte" in err and "--data-dir" in err


@pytest.mark.parametrize(
    "args,message",
    [
        (["--arms", "sleepless"], "unknown arm"),
        (["--seeds", "0"], "--seeds count must be in 1..100000"),
        (["--seeds", "0,4294967296"], "unsigned 32-bit"),
        (["--seeds=-1,2"], "unsigned 32-bit"),
        (["--seeds", "3,3"], "lists seed 3 twice"),
        (["--seeds", "100001"], "--seeds count must be in 1..100000"),
        (["--seeds", "4294967295,4294967296"], "seed 4294967296 is outside 0 .. 2**32 - 1"),
        (["--epochs", "0"], "positive integer"),
        (["--epochs", "x"], "positive integer, got 'x'"),
        (["--task-classes", "0,1/1,2"], "distinct digits"),
    ],
)
def test_bad_argument_syntax_exits_2_with_the_flag(args, message, capsys, monkeypatch):
    monkeypatch.setattr(stored_runs, "run_seeds", lambda *a, **k: pytest.fail("computed despite a bad argument"))
    with pytest.raises(SystemExit) as exit_info:
        main([*RUN, *args])
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize(
    "args,message",
    [
        (["--sleep-steps", "2000000000", "2000000000"], "--sleep-steps BASE PER_TASK"),
        (["--examples-per-task", "5000"], "--examples-per-task 5000: the data hold only 1200"),
        (["--src-hparams", "nonesuch"], "--src-hparams: unknown SRC vector 'nonesuch'"),
        (["--src-hparams", "missing.json"], "--src-hparams: missing.json: SRC vector file not found"),
    ],
)
def test_bad_settings_are_refused_before_anything_runs(args, message, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(stored_runs, "run_seeds", lambda *a, **k: pytest.fail("computed despite a bad setting"))
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "rec.json"
    assert main([*RUN, "--out", str(out), "--no-progress", *args]) == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_bad_src_vector_file_names_the_field(tmp_path, capsys):
    vector = tmp_path / "v.json"
    vector.write_text(json.dumps({"max_rate": 100.0, "inc": 0.01, "dec": 0.001, "beta": [1.0, 2.0], "alpha_scale": 1}))
    assert main([*RUN, "--src-hparams", str(vector), *FAST]) == 2
    assert "beta must have one entry per layer" in capsys.readouterr().err


@pytest.mark.parametrize("kind", ["directory", "parent_is_file", "read_only"])
def test_unusable_out_is_refused_before_computing(kind, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(stored_runs, "run_seeds", lambda *a, **k: pytest.fail("computed despite a bad --out"))
    if kind == "directory":
        out, expected = tmp_path, "is a directory"
    elif kind == "parent_is_file":
        (tmp_path / "file").write_text("x")
        out, expected = tmp_path / "file" / "rec.json", "is a file, not a directory"
    else:
        import os

        if os.geteuid() == 0:
            pytest.skip("root can write into read-only directories")
        ro = tmp_path / "ro"
        ro.mkdir()
        ro.chmod(0o500)
        out, expected = ro / "rec.json", "cannot write in"
    assert main([*RUN, "--out", str(out), *FAST]) == 2
    assert expected in capsys.readouterr().err


def test_failed_save_mid_run_is_one_line_and_keeps_the_finished_seed(tmp_path, monkeypatch, capsys):
    """The disk fills up after seed 0 was saved: seed 1's save fails, the run stops with exit 2 and one
    line naming the file, and the file still holds seed 0 (nothing finished and saved is lost)."""
    from sleepjax.app import records as rec

    out = tmp_path / "rec.json"
    real = rec.write_atomic
    calls = []

    def full_after_first(path, data):
        calls.append(path)
        if len(calls) > 1:
            raise OSError(28, "No space left on device")
        real(path, data)

    monkeypatch.setattr(rec, "write_atomic", full_after_first)
    assert main([*RUN, "--arms", "finetune", "--seeds", "3", "--out", str(out), *FAST]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1] == (
        f"sleepjax: error: {out}: cannot save the record (No space left on device); it still holds finetune: "
        "seed 0; fix that and rerun the same command to resume"
    )
    assert list(json.loads(out.read_text())["arms"]["finetune"]["runs"]) == ["0"]


def test_second_ctrl_c_exits_130_with_one_line(tmp_path, monkeypatch, capsys):
    def stopped_at_once(*a, **kw):
        raise KeyboardInterrupt

    monkeypatch.setattr(stored_runs, "run_seeds", stopped_at_once)
    out = tmp_path / "rec.json"
    try:
        code = main([*RUN, "--arms", "finetune", "--out", str(out), *FAST])
    except KeyboardInterrupt:
        pytest.fail("a second Ctrl-C ended in a traceback")
    assert code == 130
    assert capsys.readouterr().err.strip().splitlines() == [
        f"sleepjax: interrupted; every run finished before is saved in {out}; rerun the same command to resume"
    ]


@pytest.mark.parametrize("kind", ["file", "under_a_file", "no_matplotlib"])
def test_unusable_plot_is_refused_before_computing(kind, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(stored_runs, "run_seeds", lambda *a, **k: pytest.fail("computed despite a bad --plot"))
    (tmp_path / "file").write_text("x")
    plot, expected = {
        "file": (tmp_path / "file", "exists and is not a directory"),
        "under_a_file": (tmp_path / "file" / "figs", "is a file, not a directory"),
        "no_matplotlib": (tmp_path / "figs", "--plot needs matplotlib: pip install 'sleepjax[plot]'"),
    }[kind]
    if kind == "no_matplotlib":
        monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib then fails
    assert main([*RUN, "--plot", str(plot), *FAST]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("sleepjax: error: ") and expected in err[0]


@pytest.mark.parametrize("kind", ["dangling", "to_directory"])
def test_out_as_a_bad_link_is_refused_before_computing(kind, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(stored_runs, "run_seeds", lambda *a, **k: pytest.fail("computed despite a bad --out"))
    out = tmp_path / "rec.json"
    os.symlink(tmp_path / "gone.json" if kind == "dangling" else tmp_path, out)
    assert main([*RUN, "--out", str(out), *FAST]) == 2
    assert ("which does not exist" if kind == "dangling" else "is a directory") in capsys.readouterr().err


def test_identity_is_the_data_not_where_it_was_read(tmp_path, monkeypatch, capsys):
    """The bundled subset written out as idx files (named with a trailing slash) resumes the record made
    from the bundle; the same files with one label changed are other data and are refused by field."""
    from importlib import resources

    from sleepjax._idx import write_idx_dir

    with resources.files("sleepjax").joinpath("_data/mnist_subset.npz").open("rb") as f:
        bundle = dict(np.load(f))

    out = tmp_path / "rec.json"
    args = [*RUN, "--arms", "finetune", "--out", str(out), *FAST]
    assert main([*args, "--source", "bundled"]) == 0
    monkeypatch.setattr(stored_runs, "run_seeds", lambda *a, **k: pytest.fail("ran a seed already in the record"))
    stored = ("x_train", "y_train", "x_test", "y_test")
    same = write_idx_dir(tmp_path / "same", *(bundle[k] for k in stored))
    assert main([*args, "--data-dir", f"{same}/"]) == 0
    changed = dict(bundle, y_test=bundle["y_test"].copy())
    changed["y_test"][0] = (changed["y_test"][0] + 1) % 10
    other = write_idx_dir(tmp_path / "other", *(changed[k] for k in stored))
    capsys.readouterr()
    assert main([*args, "--data-dir", str(other)]) == 2
    assert "differing: data_sha256" in capsys.readouterr().err


def test_the_compilation_cache_is_on_by_default_and_can_be_turned_off(tmp_path, monkeypatch):
    # Catches a command line that never enables JAX's persistent cache (every invocation compiles afresh)
    # or that ignores --no-compilation-cache / SLEEPJAX_CACHE_DIR=off.
    from sleepjax.app import cache, cli

    enabled = []
    monkeypatch.setattr(cache, "enable", lambda directory: enabled.append(directory))
    monkeypatch.setattr(cli.commands, "run_split_mnist", lambda args: 0)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv(cache.CACHE_ENV, raising=False)
    assert cli.main(["run", "split-mnist"]) == 0
    assert enabled == [tmp_path / "xdg" / "sleepjax" / "jax"]
    assert cli.main(["run", "split-mnist", "--no-compilation-cache"]) == 0
    assert len(enabled) == 1
    monkeypatch.setenv(cache.CACHE_ENV, "off")
    assert cache.cache_dir() is None
    monkeypatch.setenv(cache.CACHE_ENV, str(tmp_path / "mine"))
    assert cache.cache_dir() == tmp_path / "mine"


def test_the_cache_also_keeps_the_traced_programs(tmp_path, monkeypatch):
    # Catches the command line's cache leaving sleepjax's store of traced programs off: a warm invocation
    # would still trace every program to find it in JAX's cache.
    import jax

    from sleepjax import _program_store
    from sleepjax.app import cache

    monkeypatch.setattr(jax.config, "update", lambda name, value: None)  # JAX's own cache stays off here
    try:
        assert cache.enable(tmp_path / "jax") == tmp_path / "jax"
        assert _program_store._DIRECTORY == tmp_path / "jax" / "programs"
    finally:
        _program_store.use_program_store(None)


def test_a_second_invocation_neither_traces_nor_compiles_the_run(tmp_path):
    # Catches a warm invocation that traces the run's program again (its store entry not found: a key
    # that differs between processes) or compiles it again (the persistent cache not hit).
    import subprocess

    env = dict(os.environ, SLEEPJAX_CACHE_DIR=str(tmp_path / "cache"), JAX_LOG_COMPILES="1")
    command = [sys.executable, "-m", "sleepjax.app.cli", *RUN, "--arms", "finetune", "--seeds", "1", *FAST]
    logs = [subprocess.run(command, env=env, capture_output=True, text=True, check=True).stderr for _ in range(2)]
    assert "Finished tracing program_of_arrays" in logs[0]
    assert "Finished tracing program_of_arrays" not in logs[1]
    assert "Persistent compilation cache hit for 'jit_call'" in logs[1]


def test_library_errors_name_the_flag():
    # Catches a library parameter name reaching the user instead of the flag they typed.
    from sleepjax.app.cli import in_flags

    message = "SearchConfig.population must be at least 4 for CMA-ES, got 2; chunk_size must be positive"
    assert in_flags(message) == "--population must be at least 4 for CMA-ES, got 2; --chunk-size must be positive"
    assert in_flags("SearchConfig.confirm_seeds must differ from SearchConfig.seeds") == (
        "--confirm-seeds must differ from --search-seeds"
    )
