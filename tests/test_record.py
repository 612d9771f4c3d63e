"""The record layer: validation on load (file and field named, file untouched), identity differences,
environment history, atomic writes that never follow a planted link, and output paths checked early."""

import json
import os

import pytest

from sleepjax.app import records as rec
from sleepjax.app.records import Record, RecordError
from sleepjax.app.split_mnist import unit_checker

IDENTITY = {"config": {"epochs": 1, "dir": "a"}, "tasks": [[0, 1], [2, 3]]}


def good_unit():
    return {"accuracy": [[0.9, 0.1], [0.5, 0.8]], "seconds": 1.0, "chunk_size": 1}


def open_record(path, identity=IDENTITY):
    return Record.open(path, "split-mnist", identity, "arms", unit_checker(2), ("finetune", "src", "joint"))


def saved(tmp_path, mutate=None):
    """A valid record with one run, optionally edited by ``mutate(data)``, written to disk."""
    path = tmp_path / "rec.json"
    r = open_record(path)
    r.group("finetune")["runs"]["0"] = good_unit()
    r.save()
    if mutate is not None:
        data = json.loads(path.read_text())
        mutate(data)
        path.write_text(json.dumps(data))
    return path


def test_round_trip_and_resume(tmp_path):
    path = saved(tmp_path)
    r = open_record(path)
    assert r.finished("finetune") == {0} and r.num_finished() == 1
    assert r.data["arms"]["finetune"]["runs"]["0"] == good_unit()


@pytest.mark.parametrize(
    "content,field",
    [
        ("[1, 2]", "top level"),
        ("null", "top level"),
        ("{}", "field format"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "not a JSON record"),
        ('{"format": "sleepjax-record/1"', "not a JSON record"),
    ],
)
def test_unusable_files_name_the_file_and_stay_untouched(tmp_path, content, field):
    path = tmp_path / "rec.json"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    before = path.read_bytes()
    with pytest.raises(RecordError, match=field) as err:
        open_record(path)
    assert str(path) in str(err.value)
    assert path.read_bytes() == before


@pytest.mark.parametrize(
    "mutate,field",
    [
        (lambda d: d.update(arms=[1]), "field arms: missing or not an object"),
        (lambda d: d.pop("identity"), "field identity"),
        (lambda d: d["arms"]["finetune"].pop("runs"), "field arms.finetune.runs"),
        (lambda d: d["arms"]["finetune"]["runs"].update({"x": good_unit()}), "arms.finetune.runs.x"),
        (lambda d: d["arms"]["finetune"]["runs"]["0"].update(accuracy=[[0.5, 0.5]]), "expected a 2x2 matrix"),
        (lambda d: d["arms"]["finetune"]["runs"]["0"].update(accuracy=[[1.5, 0.1], [0, 0]]), r"in \[0.0, 1.0\]"),
        (lambda d: d["arms"]["finetune"]["runs"]["0"].update(accuracy=[["a", 0.1], [0, 0]]), "found 'a'"),
        (lambda d: d["arms"]["finetune"]["runs"]["0"].pop("seconds"), "runs.0.seconds"),
        (lambda d: d["arms"].update(sleepless={"runs": {}}), "field arms.sleepless: unknown name"),
        (lambda d: d.update(experiment="foraging"), "record of 'foraging'"),
    ],
)
def test_malformed_fields_are_named(tmp_path, mutate, field):
    path = saved(tmp_path, mutate)
    before = path.read_bytes()
    with pytest.raises(RecordError, match=field) as err:
        open_record(path)
    assert str(path) in str(err.value) and "left as it is" in str(err.value)
    assert path.read_bytes() == before


def test_other_settings_name_the_differing_fields(tmp_path):
    path = saved(tmp_path)
    other = {"config": {"epochs": 2, "dir": "a"}, "tasks": [[0, 1], [2, 3]], "extra": 1}
    with pytest.raises(RecordError, match=r"differing: config\.epochs, extra"):
        open_record(path, other)


def test_identity_compares_as_stored(tmp_path):
    """Tuples and lists are the same once stored, so a resumed run matches its own record."""
    path = saved(tmp_path)
    open_record(path, {"config": {"epochs": 1, "dir": "a"}, "tasks": ((0, 1), (2, 3))})


def test_environment_change_is_recorded_not_overwritten(tmp_path, monkeypatch):
    path = saved(tmp_path)
    old = json.loads(path.read_text())["environment"]
    monkeypatch.setattr(rec, "environment", lambda: {"versions": {"jax": "99"}, "backend": "gpu", "devices": []})
    r = open_record(path)
    assert r.data["environment"]["backend"] == "gpu"
    assert r.data["environment_history"] == [dict(old, runs_before_change=1)]


def test_a_record_names_the_host_cpu_whose_code_made_its_digits(tmp_path, monkeypatch):
    """Catches a record that cannot tell which kind of CPU made it: the same seed's SRC numbers differ
    digit for digit between CPUs with and without AVX-512, so a resumed record must log a change of CPU."""
    cpu = rec.host_cpu()
    assert isinstance(cpu["model"], str) and cpu["model"]
    assert cpu["extensions"] == sorted(set(cpu["extensions"]))
    path = saved(tmp_path)
    old = json.loads(path.read_text())["environment"]
    assert old["cpu"] == cpu
    monkeypatch.setattr(rec, "host_cpu", lambda: {"model": "other", "extensions": ["avx512f"]})
    r = open_record(path)
    assert r.data["environment"]["cpu"]["extensions"] == ["avx512f"]
    assert r.data["environment_history"] == [dict(old, runs_before_change=1)]


def test_save_replaces_atomically_through_a_fresh_temporary_file(tmp_path):
    """A link planted at the old predictable temporary name is not followed, and no temp file is left."""
    path = saved(tmp_path)
    victim = tmp_path / "victim"
    victim.write_text("precious")
    os.symlink(victim, tmp_path / "rec.json.tmp")
    r = open_record(path)
    r.group("finetune")["runs"]["1"] = good_unit()
    r.save()
    assert victim.read_text() == "precious"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rec.json", "rec.json.tmp", "victim"]
    assert open_record(path).finished("finetune") == {0, 1}


def test_failed_write_leaves_the_old_record(tmp_path):
    path = saved(tmp_path)
    before = path.read_text()
    r = open_record(path)
    r.group("finetune")["runs"]["1"] = {"accuracy": float("nan")}  # JSON cannot hold NaN: the write fails
    with pytest.raises(ValueError):
        r.save()
    assert path.read_text() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rec.json"]


def test_check_writable_reports_a_directory_that_refuses_files(tmp_path, monkeypatch):
    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(rec.tempfile, "NamedTemporaryFile", refuse)
    with pytest.raises(RecordError, match="cannot write in .*Permission denied"):
        rec.check_writable(tmp_path / "rec.json")


def test_differences_lists_leaves_and_missing_keys():
    assert rec.differences({"a": {"b": 1, "c": 2}}, {"a": {"b": 1, "c": 3}, "d": 0}) == ["a.c", "d"]
    assert rec.differences([1, 2], [1, 2]) == []


def test_accuracies_at_the_ends_of_the_range_are_valid(tmp_path):
    """0 and 1 are accuracies (a range check off by one at either end would refuse them)."""
    path = saved(tmp_path, lambda d: d["arms"]["finetune"]["runs"]["0"].update(accuracy=[[1.0, 0.0], [0, 1]]))
    assert open_record(path).finished("finetune") == {0}


@pytest.mark.parametrize("key,ok", [("4294967295", True), ("4294967296", False), ("00", False), ("-1", False)])
def test_run_keys_are_seeds_as_written_by_this_layer(tmp_path, key, ok):
    """Seeds are unsigned 32-bit and written in one way (``"00"`` would be seed 0 under another key)."""
    path = saved(tmp_path, lambda d: d["arms"]["finetune"]["runs"].update({key: good_unit()}))
    if ok:
        assert open_record(path).finished("finetune") == {0, int(key)}
    else:
        with pytest.raises(RecordError, match=f"arms.finetune.runs.{key}: run keys must be seeds"):
            open_record(path)


def test_unit_check_runs_on_every_stored_run(tmp_path):
    path = saved(tmp_path, lambda d: d["arms"].update(src={"runs": {"3": {"accuracy": None}}}))
    with pytest.raises(RecordError, match=r"arms\.src\.runs\.3\.accuracy: expected a 2x2 matrix"):
        open_record(path)


def test_too_large_or_too_deep_json_is_refused_by_name(tmp_path, monkeypatch):
    path = saved(tmp_path)
    monkeypatch.setattr(rec, "MAX_RECORD_BYTES", 100)
    with pytest.raises(RecordError, match="larger than 0 MiB"):
        open_record(path)
    monkeypatch.undo()
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(RecordError, match="nested too deeply") as err:
        open_record(deep)
    assert str(deep) in str(err.value)
    deep_identity = saved(tmp_path, lambda d: d.update(identity={"config": json.loads("[" * 900 + "]" * 900)}))
    with pytest.raises(RecordError, match="nested too deeply|differing: config"):
        open_record(deep_identity)


def test_links_and_special_files_as_out(tmp_path):
    """A link to a file is followed (the link stays); a dangling link, a link to a directory and a
    non-regular file are refused."""
    target = saved(tmp_path)
    link = tmp_path / "link.json"
    os.symlink(target, link)
    r = open_record(link)
    r.group("finetune")["runs"]["1"] = good_unit()
    r.save()
    assert link.is_symlink() and open_record(target).finished("finetune") == {0, 1}
    dangling = tmp_path / "dangling.json"
    os.symlink(tmp_path / "nowhere" / "x.json", dangling)
    with pytest.raises(RecordError, match="is a link to .*which does not exist"):
        rec.check_writable(dangling)
    assert not (tmp_path / "nowhere").exists()
    to_dir = tmp_path / "to_dir"
    os.symlink(tmp_path, to_dir)
    with pytest.raises(RecordError, match="is a directory"):
        rec.check_writable(to_dir)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(RecordError, match="not a regular file"):
        rec.check_writable(fifo)


@pytest.mark.parametrize("kind", ["directory", "parent_is_file"])
def test_check_writable_refuses_directories_and_file_parents(tmp_path, kind):
    if kind == "directory":
        path, message = tmp_path, "is a directory"
    else:
        (tmp_path / "file").write_text("x")
        path, message = tmp_path / "file" / "sub" / "rec.json", "file is a file, not a directory"
    with pytest.raises(RecordError, match=message):
        rec.check_writable(path)


def test_disk_full_while_saving_keeps_the_previous_save(tmp_path):
    """A write that fails half way (here: a file-size limit, as a full disk would) names the file and
    what it still holds; the file is exactly the previous save and no temporary file is left."""
    import resource
    import signal

    path = saved(tmp_path)
    before = path.read_bytes()
    r = open_record(path)
    for seed in range(1, 40):
        r.group("finetune")["runs"][str(seed)] = good_unit()
    limits = resource.getrlimit(resource.RLIMIT_FSIZE)
    previous = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # the write then fails with EFBIG
    resource.setrlimit(resource.RLIMIT_FSIZE, (len(before) + 64, limits[1]))
    try:
        with pytest.raises(RecordError) as err:
            r.save()
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, limits)
        signal.signal(signal.SIGXFSZ, previous)
    assert str(err.value) == (
        f"{path}: cannot save the record (File too large); it still holds finetune: seed 0; "
        "fix that and rerun the same command to resume"
    )
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rec.json"]


def test_describe_lists_finished_seeds(tmp_path):
    r = open_record(tmp_path / "rec.json")
    assert r.describe() == "no finished run"
    r.group("src")["runs"].update({str(s): good_unit() for s in range(10)})
    r.group("finetune")["runs"]["3"] = good_unit()
    assert r.describe() == "src: seeds 0, 1, 2, 3, 4, 5, 6, 7, ... (10 in all); finetune: seed 3"


def test_the_committed_search_record_still_resumes(tmp_path):
    # Catches a change of the sweep/search store (its groups, its run fields or their check) that would
    # refuse, or silently recompute, a search written before it: opened with its own identity, the
    # record is accepted as it is and every stored run counts as finished.
    import shutil
    from pathlib import Path

    from sleepjax.app.sweeps import unit_checker

    source = Path(__file__).resolve().parents[1] / "experiments" / "results" / "tune_split_mnist.json"
    path = tmp_path / source.name
    shutil.copy(source, path)
    stored = json.loads(path.read_text())
    record = rec.Record.open(path, "tune", stored["identity"], "configs", unit_checker(), None)
    for group, entry in stored["configs"].items():
        assert record.finished(group) == {int(s) for s in entry["runs"]}
    assert record.num_finished() == sum(len(e["runs"]) for e in stored["configs"].values()) > 0
