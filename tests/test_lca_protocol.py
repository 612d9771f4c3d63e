"""``sleepjax run lca`` end to end on a tiny configuration: record, resume, sweep, figures, errors."""

import dataclasses
import json

import numpy as np
import pytest

from sleepjax._datasets import load_mnist
from sleepjax.app import cli, lca

SUMMARY_KEYS = {"final_max_norm", "final_mean_norm", "noise_fire_fraction", "recon_error", "sparsity"}


def test_tiny_run_record_resume_sweep_and_plots(tmp_path, capsys):
    out = tmp_path / "lca.json"
    args = ["run", "lca", "--tiny", "--seeds", "2", "--chunk-size", "2", "--source", "bundled", "--no-progress"]
    args += ["--out", str(out)]
    assert cli.main(args + ["--sweep-freq", "1,8", "--sweep-amp", "0,4", "--plot", str(tmp_path / "fig")]) == 0
    record = json.loads(out.read_text())
    assert set(record["arms"]) == set(lca.ARMS)
    for entry in record["arms"].values():
        summary = entry["summary"]
        assert SUMMARY_KEYS <= set(summary)
        for key in SUMMARY_KEYS:
            assert set(summary[key]) == {"mean", "sd"}
        assert len(summary["trajectories"]["mean_norm"]["mean"]) == lca.Config.tiny().blocks + 1
        assert set(entry["runs"]) == {"0", "1"}
    assert len(record["sweep"]["final"]["mean_norm"]) == 2
    assert sorted(p.name for p in (tmp_path / "fig").iterdir()) == [
        "lca_atoms.png",
        "lca_noise_firing.png",
        "lca_norm_growth.png",
        "lca_norms.png",
        "lca_recon_sparsity.png",
        "lca_sweep.png",
    ]
    printed = capsys.readouterr().out
    assert "sinusoidal_sleep" in printed and "noise-fire %" in printed
    # Rerunning resumes: nothing is recomputed, the stored runs are unchanged.
    assert cli.main(args) == 0
    assert json.loads(out.read_text())["arms"]["no_sleep"]["runs"] == record["arms"]["no_sleep"]["runs"]


def test_sweep_options_go_together(capsys):
    assert cli.main(["run", "lca", "--tiny", "--source", "bundled", "--sweep-freq", "1,2"]) == 2
    assert "--sweep-freq and --sweep-amp go together" in capsys.readouterr().err


def test_bad_config_is_refused():
    with pytest.raises(ValueError, match="--preprocessing must be one of"):
        lca.Config(preprocessing="zca")
    with pytest.raises(ValueError, match="--blocks must be a positive integer"):
        lca.Config(blocks=0)
    with pytest.raises(ValueError, match=r"--threshold must be in \(0, inf\), got 0"):
        lca.Config(threshold=0.0)
    with pytest.raises(ValueError, match="--rule must be one of spike, trace, got 'oja'"):
        lca.Config(rule="oja")
    with pytest.raises(ValueError, match=r"--delay must be 0 or 1 \(steps\), got 2"):
        lca.Config(delay=2)
    # non-finite values: inf used to reach the record (a JSON error), NaN was called "negative"
    with pytest.raises(ValueError, match="--threshold must be finite, got inf"):
        lca.Config(threshold=float("inf"))
    with pytest.raises(ValueError, match="--sleep-level must be finite, got nan"):
        lca.Config(sleep_level=float("nan"))


@pytest.mark.slow
def test_vmapped_sweep_equals_the_settings_run_one_by_one():
    # Each cell of the frequency x level grid must hold the final scores of an ordinary run of the
    # sinusoidal arm with that frequency and level (same seed, hence the same initial dictionary,
    # data order and noise keys); a transposed grid, a mixed-up offset or another key would differ.
    dataset = load_mnist("bundled")
    base = dataclasses.replace(lca.Config.tiny(), blocks=2, sleep_seconds=0.3)
    frequencies, levels = [2.0, 40.0], [4.0, 10.0]
    grid = lca.sweep(dataset, frequencies, levels, base, seed=3)["final"]
    assert np.asarray(grid["mean_norm"]).shape == (2, 2)
    for i, f in enumerate(frequencies):
        for j, level in enumerate(levels):
            config = dataclasses.replace(base, sleep_frequency=f, sleep_level=level)
            one = lca.run(dataset, [3], config, progress=False, arms=["sinusoidal_sleep"])
            final = {k: v[-1] for k, v in one["arms"]["sinusoidal_sleep"]["runs"]["3"]["trajectories"].items()}
            for key in lca.TRAJECTORIES:
                np.testing.assert_allclose(
                    grid[key][i][j], final[key], rtol=1e-5, atol=1e-6, err_msg=f"{key} {f} {level}"
                )
    # The settings lead to different dictionaries, so a cell taken from the wrong setting is caught.
    assert len({round(v, 4) for row in grid["mean_norm"] for v in row}) == 4


def test_a_diverging_dictionary_is_reported_by_name():
    # A learning rate far too large for the spike rule on the same-step network: the features overflow
    # within the first block. The run must stop with an error naming the arm, the seed and --eta rather
    # than store inf (not JSON) or NaN trajectories.
    config = dataclasses.replace(lca.Config.tiny(), eta=200.0, delay=0)
    with pytest.raises(ValueError, match=r"arm no_sleep diverged .* seed\(s\) 0; lower --eta \(now 200.0\)"):
        lca.run(load_mnist("bundled"), [0], config, progress=False, arms=["no_sleep"])


def test_a_diverging_sweep_setting_is_reported_in_the_table_not_as_an_error(tmp_path):
    # Catches a sweep that stores inf/NaN (the record's JSON writer refuses them, so the whole sweep was
    # lost with a JSON error) or that hides a diverged setting among numbers: where sleep fails to hold
    # the features is a result of the sweep.
    config = dataclasses.replace(lca.Config.tiny(), eta=200.0, delay=0, sleep_seconds=0.05)
    result = lca.sweep(load_mnist("bundled"), [8.0], [0.0, 2.0], config, seed=0)
    assert result["diverged"] == [[True, True]]
    assert result["final"]["mean_norm"] == [[None, None]]
    json.dumps(result, allow_nan=False)  # storable
    assert "diverged" in lca.format_sweep(result)
    from sleepjax.app.lca_plots import sweep_figure

    assert sweep_figure(result, tmp_path / "sweep.png").stat().st_size > 0
