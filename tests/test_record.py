"""The record layer: validation on load (file and field named, file untouched), identity differences,
environment history, atomic writes that never follow a planted link, and output paths checked early."""

import json
import os

import pytest

from sleepjax import record as rec
from sleepjax.protocols.split_mnist import unit_checker
from sleepjax.record import Record, RecordError

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
