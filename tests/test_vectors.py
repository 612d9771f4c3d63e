"""Named SRC vectors against the spec's table, vector files, and the printed table of a hand-made record."""

import json
from pathlib import Path

import numpy as np
import pytest

from sleepjax._sleep.vectors import load_vector, named_vectors, save_src_vector, vector_to_json
from sleepjax.app.records import as_json, differences
from sleepjax.app.split_mnist import Config, format_results, settings_identity

# src-spec.md section 6: [max_rate, inc, dec, beta_1, beta_2, beta_3, alpha_scale]
SPEC = {
    "mnist": [239.515363, 0.032064, 0.003344, 14.548273, 44.560317, 38.046326, 55.882454],
    "fashion-mnist": [181.047258, 0.041001, 0.003344, 40.446884, 27.596929, 33.109393, 31.592987],
    "mnist-rehearsal": [21.0, 0.1, 1e-6, 22.259158, 0.318765, 0.0, 0.1],
    "cifar10-features": [453.020604, 0.078129, 0.003005, 8.070491, 0.907842, 1.728840, 4.131109],
}


@pytest.mark.parametrize("name", sorted(SPEC))
def test_reference_vectors_match_the_spec(name):
    label, vector = load_vector(name)
    hp = vector.src
    got = [float(hp.max_rate), float(hp.inc), float(hp.dec), *np.asarray(hp.beta).tolist(), float(hp.alpha_scale)]
    np.testing.assert_allclose(got, SPEC[name], rtol=1e-6)  # float32 storage
    assert (float(hp.decay), float(hp.threshold), float(hp.dt)) == pytest.approx((0.999, 1.0, 0.001))
    assert (int(vector.base_steps), int(vector.steps_per_task)) == (15000, 5000)
    assert label == name


def test_vector_file_round_trip(tmp_path):
    path = tmp_path / "v.json"
    save_src_vector(path, named_vectors()["mnist"])
    label, vector = load_vector(path)
    assert label == str(path)
    assert vector_to_json(vector) == vector_to_json(named_vectors()["mnist"])
    assert json.loads(path.read_text())["beta"] == pytest.approx([14.548273, 44.560317, 38.046326])


@pytest.mark.parametrize(
    "content,message",
    [
        ("[1]", "must be a JSON object"),
        ('{"inc": 1}', "missing SRC hyperparameter"),
        (
            '{"max_rate": 1, "inc": 1, "dec": 1, "beta": [1], "alpha_scale": 1, "speed": 2}',
            "unknown SRC hyperparameter",
        ),
        ('{"max_rate": "fast", "inc": 1, "dec": 1, "beta": [1], "alpha_scale": 1}', "max_rate must be finite numbers"),
        ('{"max_rate": 1, "inc": 1, "dec": 1, "beta": [1], "alpha_scale": 1, "base_steps": -3}', "base_steps"),
        ("{not json", "not a readable JSON SRC vector"),
    ],
)
def test_malformed_vector_files_name_the_problem(tmp_path, content, message):
    path = tmp_path / "v.json"
    path.write_text(content)
    with pytest.raises(ValueError, match=message) as err:
        load_vector(path)
    assert str(path) in str(err.value)


def test_printed_table_matches_a_hand_made_record():
    record = {
        "identity": {"task_classes": [[0, 1], [2, 3]]},
        "arms": {
            "src": {
                "summary_seeds": [0, 1],
                "summary": {
                    "per_task_final": {"mean": [0.5, 0.25], "sd": [0.1, 0.05]},
                    "overall": {"mean": 0.375, "sd": 0.02},
                    "bwt": {"mean": -0.4, "sd": 0.125},
                },
            },
            "joint": {"summary_seeds": [0], "runs": {}},  # no summary yet: not printed
        },
    }
    lines = format_results(record).splitlines()
    assert lines[0].split() == ["arm", "seeds", "{0,1}", "{2,3}", "overall", "BWT"]
    assert set(lines[1]) <= {"-", " "}
    assert " ".join(lines[2].split()) == "src 2 50.0 ± 10.0 25.0 ± 5.0 37.5 ± 2.0 -40.0 ± 12.5"
    assert len(lines) == 3


RESULTS = Path(__file__).resolve().parents[1] / "experiments" / "results"


@pytest.mark.parametrize("path", sorted(RESULTS.glob("split_mnist_*.json")), ids=lambda p: p.name)
def test_committed_split_mnist_records_resume_under_the_current_identity(path):
    # Catches a change in how the settings are spelled in a record's identity (a field added, dropped or
    # renamed, a None now left out) that would make the committed records refuse to resume or redraw
    # (`--plot` on a finished record) with "made with other settings".
    stored = json.loads(path.read_text())["identity"]
    cfg = stored["config"]
    config = Config(**{**cfg, "sizes": tuple(cfg["sizes"]), "task_classes": tuple(map(tuple, cfg["task_classes"]))})
    wanted = {"config": cfg, "src_vector": stored["src_vector"]}
    assert differences(wanted, as_json(settings_identity(config))) == []
