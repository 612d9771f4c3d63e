"""``sleepjax run lca`` end to end on a tiny configuration: record, resume, sweep, figures, errors."""

import json

import pytest

from sleepjax import cli
from sleepjax.protocols import lca

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
