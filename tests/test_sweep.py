"""Sweeps and searches: dotted names, a sweep equals its runs one by one, sharding, resume, validation
before computing, and tune on a user's own non-image scenario with an equinox MLP.

Everything runs a tiny 20-16-16-4 bias-free ReLU ``equinox.nn.MLP`` on a synthetic 20-feature dataset
(two tasks of two classes in a shuffled order, no input window) with 150-step sleeps.
"""

import dataclasses
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import equinox as eqx
import jax
import numpy as np
import optax
import pytest

import sleepjax as sj
from sleepjax import _hparams as hp
from sleepjax import _sweep as sw
from sleepjax import _tune as tn
from sleepjax._chunking import batch_mesh, chunk_members, member_bytes
from sleepjax._engine import batch_program, member_key_data, run_seeds
from sleepjax._evaluate import AccuracyEvaluator
from sleepjax._phases import sequence
from sleepjax._scenarios import held_out, split_arrays
from sleepjax._sleep import SRCHparams, SRCPhaseHparams, src_phase
from sleepjax._wake import wake
from sleepjax.app import sweeps as app_sweeps
from sleepjax.app.interrupt import Interrupted

ROOT = Path(__file__).resolve().parents[1]


def synthetic(seed=0, n_train=600, n_test=200, dim=20, classes=4):
    """Clusters in [0, 1]^dim (SRC needs non-negative inputs), labels 0..classes-1."""
    rng = np.random.default_rng(seed)
    centers = rng.uniform(0.1, 0.9, (classes, dim))

    def draw(n):
        y = rng.integers(0, classes, n)
        x = np.clip(centers[y] + 0.15 * rng.normal(size=(n, dim)), 0.0, 1.0).astype(np.float32)
        return x, y.astype(np.int32)

    return (*draw(n_train), *draw(n_test))


TASKS = ((2, 0), (3, 1))  # any class order and split


def make_model(key):
    return eqx.nn.MLP(20, 4, 16, 2, activation=jax.nn.relu, use_bias=False, use_final_bias=False, key=key)


def make_setup(validation=False, tasks=TASKS):
    x_tr, y_tr, x_te, y_te = synthetic()
    if validation:
        x_te, y_te = held_out(x_tr, y_tr, tasks, examples_per_task=100, per_task=60)
    scenario = split_arrays(x_tr, y_tr, x_te, y_te, tasks, examples_per_task=100)
    train = wake(optax.sgd(0.05, momentum=0.5), epochs=3, batch_size=20, loss="mse", num_classes=4)
    phase = sequence(wake=train, sleep=src_phase(window=None))
    return sw.SweepSetup(phase, make_model, scenario.train, AccuracyEvaluator(scenario.test))


BASE = {"sleep": SRCPhaseHparams.create(SRCHparams.create(60.0, 0.01, 0.001, (4.0, 4.0, 4.0), 2.0), 150, 0)}


@pytest.fixture(scope="module")
def setup():
    return make_setup()


def test_names_address_every_leaf_and_entry():
    names = hp.hparam_names(BASE)
    assert list(names)[:5] == [
        "sleep.src.max_rate",
        "sleep.src.inc",
        "sleep.src.dec",
        "sleep.src.beta",
        "sleep.src.alpha_scale",
    ]
    assert "sleep.base_steps" in names and "sleep.steps_per_task" in names
    a = hp.set_hparams(BASE, {"sleep.src.beta[1]": 7.0, "sleep.src.inc": 0.5, "sleep.base_steps": 30})
    b = hp.set_hparams(BASE, {"sleep.src.beta.1": 7.0, "sleep.src.inc": 0.5, "sleep.base_steps": 30})
    np.testing.assert_array_equal(a["sleep"].src.beta, [4.0, 7.0, 4.0])  # only entry 1 changed
    np.testing.assert_array_equal(b["sleep"].src.beta, a["sleep"].src.beta)
    assert a["sleep"].src.inc.dtype == np.float32 and float(a["sleep"].src.inc) == 0.5
    assert a["sleep"].base_steps.dtype == np.int32 and int(a["sleep"].base_steps) == 30
    assert float(hp.get_hparam(a, "sleep.src.beta[1]")) == 7.0
    assert "sleep.src.beta[2]" in hp.expand_names(BASE)
    with pytest.raises(ValueError, match="unknown hyperparameter 'sleep.src.incc'; known: sleep.src.max_rate"):
        hp.set_hparams(BASE, {"sleep.src.incc": 1.0})
    with pytest.raises(ValueError, match=r"index \[3\] is outside sleep.src.beta of shape \(3,\)"):
        hp.set_hparams(BASE, {"sleep.src.beta[3]": 1.0})
    with pytest.raises(ValueError, match="sleep.base_steps must be an integer"):
        hp.set_hparams(BASE, {"sleep.base_steps": 10.5})
    with pytest.raises(ValueError, match=r"sleep.src.beta must have shape \(3,\)"):
        hp.set_hparams(BASE, {"sleep.src.beta": [1.0, 2.0]})


def test_grid_and_random_configs():
    configs = sw.grid({"a": [1, 2], "b": [3, 4, 5]})
    assert len(configs) == 6 and configs[1] == {"a": 1, "b": 4}  # the last name varies fastest
    space = {"x": sw.LogUniform(1e-3, 1e-1), "n": sw.IntUniform(5, 7)}
    draws = sw.random_configs(space, 200, seed=3)
    assert draws == sw.random_configs(space, 200, seed=3)
    xs = np.array([d["x"] for d in draws])
    assert xs.min() >= 1e-3 and xs.max() <= 1e-1
    assert abs(np.median(np.log10(xs)) + 2) < 0.2  # log-uniform: median near 10^-2, not 0.05
    assert {d["n"] for d in draws} == {5, 6, 7}
    for dim, value in ((sw.LogUniform(2.0, 200.0), 20.0), (sw.Uniform(0.0, 4.0), 1.0), (sw.IntUniform(0, 9), 3)):
        assert dim.from_unit(dim.to_unit(value)) == pytest.approx(value)


def test_held_out_examples_are_never_trained_on():
    x_tr, y_tr, _, _ = synthetic()
    x_val, y_val = held_out(x_tr, y_tr, TASKS, examples_per_task=100)
    scenario = split_arrays(x_tr, y_tr, x_tr[:10], y_tr[:10] % 4, TASKS, examples_per_task=100)
    trained = {r.tobytes() for r in scenario.train.x.reshape(-1, 20)}
    assert not trained & {r.tobytes() for r in x_val}
    # every training example of the tasks' classes is either trained on (first 100 per task) or held out
    assert len(trained) + len(x_val) == np.isin(y_tr, [0, 1, 2, 3]).sum()
    with pytest.raises(ValueError, match=r"task \(2, 0\) has no training example beyond the first 10000"):
        held_out(x_tr, y_tr, TASKS, examples_per_task=10000)


@pytest.fixture(scope="module")
def swept(setup):
    configs = [{"sleep.src.inc": 0.01}, {"sleep.src.inc": 0.05, "sleep.src.beta[1]": 2.0}, {"sleep.base_steps": 40}]
    return configs, sw.sweep(setup, BASE, configs, [0, 1], chunk_size=4, progress=False)


def test_sweep_equals_the_runs_one_by_one(setup, swept):
    configs, result = swept
    assert [(r["config"], r["seed"]) for r in result.rows] == [(i, s) for i in range(3) for s in (0, 1)]
    for i, config in enumerate(configs):
        tree = hp.set_hparams(BASE, config)
        alone = run_seeds(setup.phase, setup.make_params, setup.tasks, setup.evaluate, tree, [0, 1], chunk_size=1)
        for k, seed in enumerate((0, 1)):
            stored = np.array(result.store.group(str(i))["runs"][str(seed)]["evaluation"])
            np.testing.assert_allclose(stored, alone.evaluation[k], atol=1e-6)
    # the configurations really differ (a sweep that ignored them would pass the comparison above)
    assert len({json.dumps(r["final_0"]) + json.dumps(r["final_1"]) for r in result.rows}) > 2
    row = result.rows[0]
    assert row["sleep.src.inc"] == 0.01
    assert set(row) >= {"overall", "bwt", "forgetting_chaudhry", "forgetting_since_learned", "final_0", "final_1"}


def _cost(setup, hparams_batched):
    """XLA's cost analysis of the compiled one-member program of run_batch."""
    mesh = batch_mesh(jax.devices()[:1])
    program = batch_program(setup.phase, setup.make_params, mesh, hparams_batched=hparams_batched, num=2)
    hparams = hp.stack_hparams([BASE]) if hparams_batched else BASE
    keys = member_key_data(np.zeros(1, np.uint32))
    compiled = program.lower(keys, hparams, setup.tasks, setup.evaluate, None, None, np.int32(0)).compile()
    return compiled.compiled.cost_analysis()


def test_a_one_member_sweep_compiles_to_the_runs_program(setup):
    # Catches a loop whose trip count comes from a swept hyperparameter (the sleep length): vmapped over
    # the hyperparameters its predicate becomes batched and every carried weight matrix is guarded by a
    # select in every step, a sweep ten times slower than the same run. Such a program does more work per
    # iteration than the run's, which its cost analysis shows without timing anything.
    run, swept = _cost(setup, hparams_batched=False), _cost(setup, hparams_batched=True)
    # Equal up to the few scalar operations on the hyperparameters' extra axis (measured: 1e-5 of each);
    # with the bug the bytes differ by 4 % even for this tiny network.
    for measure in ("flops", "bytes accessed"):
        assert abs(swept[measure] - run[measure]) <= 1e-3 * run[measure], measure


def test_rows_carry_every_swept_name_with_the_base_value_where_a_configuration_leaves_it(swept):
    # Catches rows that list only the names their own configuration sets: a sweep of `{}` (the base)
    # beside a tuned configuration then has no value to print or plot for the base (KeyError).
    configs, result = swept
    names = ("sleep.src.inc", "sleep.src.beta[1]", "sleep.base_steps")
    by_config = {r["config"]: r for r in result.rows}
    assert all(set(names) <= set(r) for r in result.rows)
    assert by_config[0]["sleep.src.beta[1]"] == pytest.approx(float(hp.get_hparam(BASE, "sleep.src.beta[1]")))
    assert by_config[1]["sleep.src.beta[1]"] == 2.0
    assert by_config[2]["sleep.src.inc"] == pytest.approx(float(hp.get_hparam(BASE, "sleep.src.inc")))
    assert by_config[2]["sleep.base_steps"] == 40
    assert by_config[0]["sleep.base_steps"] == int(hp.get_hparam(BASE, "sleep.base_steps"))
    sw.summary_rows(result.rows, list(names))  # one column set for all: no KeyError


def test_invalid_configurations_are_refused_before_computing(setup, monkeypatch):
    monkeypatch.setattr(sw, "run_batch", lambda *a, **k: pytest.fail("computed despite an invalid configuration"))
    cases = [
        ({"sleep.src.inc": float("nan")}, r"configuration 1 .*hyperparameter sleep.src.inc must be finite"),
        ({"sleep.src.max_rate": -5.0}, r"configuration 1 .*sleep: SRC hyperparameter max_rate must be non-neg"),
        ({"sleep.src.beta": [1.0, 2.0]}, r"configuration 1 .*sleep.src.beta must have shape \(3,\)"),
        ({"sleep.base_steps": -1}, r"configuration 1 .*sleep: SRC sleep length base_steps must be non-negative"),
        ({"sleep.src.bta": 1.0}, r"configuration 1 .*unknown hyperparameter 'sleep.src.bta'"),
    ]
    for bad, message in cases:
        with pytest.raises(ValueError, match=message):
            sw.sweep(setup, BASE, [{"sleep.src.inc": 0.02}, bad], [0], progress=False)
    # a base vector with thresholds for another depth than the network's: refused when the program is
    # traced, before it runs, so nothing is stored
    monkeypatch.undo()
    short = {"sleep": BASE["sleep"]._replace(src=BASE["sleep"].src._replace(beta=np.ones(2, np.float32)))}
    store = sj.MemoryStore()
    with pytest.raises(ValueError, match=r"beta must have one entry per layer, shape \(3,\)"):
        sw.sweep(setup, short, [{}], [0], store=store, progress=False)
    assert store.group("0")["runs"] == {}


def test_resume_after_an_interruption_gives_the_same_table(setup, swept, tmp_path, monkeypatch):
    configs, full = swept
    out = tmp_path / "sweep.json"
    stops = iter([True])

    def stop_once():
        if next(stops, False):
            raise Interrupted()

    monkeypatch.setattr(app_sweeps, "check_stop", stop_once)
    with pytest.raises(Interrupted):
        app_sweeps.resumable_sweep(setup, BASE, configs, [0, 1], out=out, chunk_size=4, progress=False)
    assert json.loads(out.read_text())["configs"]["0"]["runs"].keys() == {"0", "1"}  # the first chunk is kept
    ran = []
    real = sw.run_batch

    def spy(*args, **kwargs):
        ran.append(len(args[5]))
        return real(*args, **kwargs)

    monkeypatch.setattr(sw, "run_batch", spy)
    resumed = app_sweeps.resumable_sweep(setup, BASE, configs, [0, 1], out=out, chunk_size=4, progress=False)
    assert ran == [2]  # only the two runs of the second chunk
    assert resumed.rows == full.rows
    csv_path, json_path = app_sweeps.table_paths(out)
    assert csv_path.read_text().splitlines()[0].startswith("config,seed,sleep.src.inc,")
    assert json.loads(json_path.read_text())["rows"] == full.rows
    again = app_sweeps.resumable_sweep(setup, BASE, configs, [0, 1], out=out, chunk_size=4, progress=False)
    assert ran == [2] and again.rows == full.rows  # nothing left to compute


SHARDED = """
import json, numpy as np, jax, sys
sys.path.insert(0, {root!r}); sys.path.insert(0, {tests!r})
from test_sweep import BASE, make_setup
from sleepjax import _sweep as sw
assert len(jax.devices()) == 4, jax.devices()
setup = make_setup()
configs = [{{"sleep.src.inc": v}} for v in (0.005, 0.01, 0.02, 0.05)]
sharded = sw.sweep(setup, BASE, configs, [0, 1], chunk_size=8, progress=False)  # 2 runs per device
single = sw.sweep(setup, BASE, configs, [0, 1], chunk_size=2, devices=jax.devices()[:1], progress=False)
print(json.dumps([sharded.rows, single.rows, sharded.chunk_size]))
"""


@pytest.mark.slow
def test_a_sharded_sweep_equals_the_unsharded_one():
    code = SHARDED.format(root=str(ROOT), tests=str(ROOT / "tests"))
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=4", JAX_PLATFORMS="cpu")
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    sharded, single, chunk = json.loads(done.stdout.strip().splitlines()[-1])
    assert chunk == 8 and len(sharded) == 8
    assert sharded == single


@pytest.mark.slow
def test_tune_on_a_users_own_scenario_scores_on_validation(tmp_path, monkeypatch):
    setup = make_setup(validation=True)
    space = {"sleep.src.inc": sw.LogUniform(1e-3, 0.1), "sleep.src.beta[0]": sw.LogUniform(1.0, 20.0)}
    out = tmp_path / "tune.json"
    config = tn.SearchConfig(method="cmaes", budget=8, population=4, seeds=(5,), confirm=1, confirm_seeds=(6,))
    options = dict(out=out, chunk_size=4, progress=False, log=lambda _: None)
    result, _ = app_sweeps.resumable_tune(setup, BASE, space, config, **options)
    record = json.loads(out.read_text())
    assert len(record["configs"]) == 8 and result.seeds == [5, 6]
    best = record["configs"][record["winner"]["group"]]["runs"]
    summarize = setup.evaluate.summary
    assert result.score == pytest.approx(np.mean([summarize(best[s]["evaluation"])["overall"] for s in ("5", "6")]))
    assert 1e-3 <= result.best["sleep.src.inc"] <= 0.1
    np.testing.assert_allclose(
        hp.get_hparam(result.hparams, "sleep.src.beta[0]"), result.best["sleep.src.beta[0]"], rtol=1e-6
    )
    # CMA-ES starts at the base vector: the first generation is spread around it
    first = [record["configs"][f"g0.{i}"]["values"] for i in range(4)]
    assert all(v != first[0] for v in first[1:])
    real = sw.run_batch
    monkeypatch.setattr(sw, "run_batch", lambda *a, **k: pytest.fail("a finished search was recomputed"))
    resumed, _ = app_sweeps.resumable_tune(setup, BASE, space, config, **options)
    assert resumed.best == result.best and resumed.score == result.score
    # a larger budget continues the stored search: only the new generation runs
    ran = []
    monkeypatch.setattr(sw, "run_batch", lambda *a, **k: ran.append(list(a[5])) or real(*a, **k))
    longer = dataclasses.replace(config, budget=12, confirm=0)
    app_sweeps.resumable_tune(setup, BASE, space, longer, **options)
    assert ran == [[5, 5, 5, 5]]
    assert {f"g2.{i}" for i in range(4)} <= set(json.loads(out.read_text())["configs"])


def test_random_search_draws_the_same_configurations_for_the_same_seed():
    space = {"sleep.src.inc": sw.LogUniform(1e-3, 0.1)}
    config = tn.SearchConfig(method="random", budget=4, population=4, confirm=0)
    a = tn._Proposer(config, space, tn.start_point(space, BASE)).ask(0)[0]
    b = tn._Proposer(config, space, tn.start_point(space, BASE)).ask(0)[0]
    assert a == b and len({c["sleep.src.inc"] for c in a}) == 4
    with pytest.raises(ValueError, match="SearchConfig.confirm_seeds must differ"):
        tn.SearchConfig(seeds=(1,), confirm_seeds=(1, 2))
    with pytest.raises(ValueError, match="unknown hyperparameter 'sleep.src.nope'"):
        sw.check_space({"sleep.src.nope": sw.Uniform(0, 1)}, BASE)


# --- the sleepjax sweep / tune commands ------------------------------------------------------------

SWEEP = ["sweep", "split-mnist", "--no-progress"]
TUNE = ["tune", "split-mnist", "--no-progress"]


@pytest.mark.parametrize(
    "args,message",
    [
        ([*SWEEP, "--grid", "sleep.src.incc=0.1"], "configuration 0 {'sleep.src.incc': 0.1}: unknown hyperparameter"),
        ([*SWEEP, "--grid", "sleep.src.inc=0.01,nan"], "configuration 1 {'sleep.src.inc': nan}: hyperparameter "),
        ([*SWEEP, "--grid", "sleep.src.dec=-0.1"], "SRC hyperparameter dec must be non-negative"),
        ([*SWEEP, "--grid", "sleep.src.beta=3"], "sleep.src.beta must have shape (3,)"),
        ([*SWEEP, "--grid", "sleep.base_steps=10.5"], "sleep.base_steps must be an integer"),
        ([*SWEEP, "--grid", "a=1", "--configs", "x.json"], "either --grid NAME=V1,V2 (repeatable) or --configs"),
        ([*SWEEP, "--grid", "sleep.src.inc=1", "--grid", "sleep.src.inc=2"], "names a hyperparameter twice"),
        ([*SWEEP, "--grid", "sleep.src.inc=0.1,0.2", "--plot", "figs"], "heatmap of a 2-D grid; this sweep varies 1"),
        ([*SWEEP, "--grid", "sleep.src.inc=0.1", "--save-best", "best.txt"], "a vector file name must end in .json"),
        ([*SWEEP, "--configs", "missing.json"], "missing.json: cannot read the sweep file"),
        ([*TUNE, "--save-vector", "v.json", "--space", "nope"], "--space must be one of faithful, extended"),
        (
            [*TUNE, "--save-vector", "v.json", "--method", "cmaes", "--population", "2"],
            "--population must be at least 4 for CMA-ES",
        ),
        (
            [*TUNE, "--save-vector", "v.json", "--search-seeds", "3,4", "--confirm-seeds", "4,5"],
            "--confirm-seeds must differ from --search-seeds",
        ),
    ],
)
def test_cli_refuses_bad_sweeps_before_loading_data(args, message, tmp_path, monkeypatch, capsys):
    from sleepjax.app import cli, commands

    monkeypatch.setattr(commands, "load_mnist", lambda *a, **k: pytest.fail("loaded data despite a bad setting"))
    monkeypatch.chdir(tmp_path)
    assert cli.main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("sleepjax: error:") and message in err and err.count("\n") == 1


def test_a_search_on_data_with_nothing_left_to_validate_on_says_what_to_pass(tmp_path, monkeypatch, capsys):
    # Catches the search's default on the bundled subset (every task trains on all its examples) failing
    # with a message about one task's indices instead of naming the flag that fixes it, or not at all.
    from sleepjax.app import cli

    monkeypatch.setattr(tn, "tune", lambda *a, **k: pytest.fail("searched with no validation data"))
    monkeypatch.chdir(tmp_path)
    assert cli.main([*TUNE, "--source", "bundled", "--save-vector", "v.json"]) == 2
    err = capsys.readouterr().err
    assert "pass --examples-per-task below 1200" in err and err.count("\n") == 1


def test_space_file_names_are_checked(tmp_path, monkeypatch, capsys):
    from sleepjax.app import cli, commands

    monkeypatch.setattr(commands, "load_mnist", lambda *a, **k: pytest.fail("loaded data despite a bad space"))
    space = tmp_path / "space.json"
    space.write_text(json.dumps({"sleep.src.inc": ["log", 0.001, 0.1], "sleep.src.betta": ["log", 1, 9]}))
    assert cli.main([*TUNE, "--space", str(space), "--save-vector", str(tmp_path / "v.json")]) == 2
    assert "unknown hyperparameter 'sleep.src.betta'" in capsys.readouterr().err


def test_sweep_files_and_written_vectors(tmp_path):
    from sleepjax.app import split_mnist
    from sleepjax.app import split_mnist_search as search

    toml = tmp_path / "grid.toml"
    toml.write_text('[grid]\n"sleep.src.inc" = [0.01, 0.02]\n"sleep.src.beta[1]" = [5.0, 6.0, 7.0]\n')
    axes, configs = app_sweeps.load_configs_file(toml)
    assert configs is None and len(sw.grid(axes)) == 6
    listed = tmp_path / "list.json"
    listed.write_text(json.dumps({"configs": [{"sleep.src.inc": 0.02}, {"sleep.base_steps": 100}]}))
    assert app_sweeps.load_configs_file(listed) == (None, [{"sleep.src.inc": 0.02}, {"sleep.base_steps": 100}])
    # a vector a sweep or search writes is one `run split-mnist --src-hparams FILE` reads back
    base = search.base_and_check(split_mnist.Config(), [{}])
    values = {"sleep.src.inc": 0.02, "sleep.src.beta[2]": 9.5, "sleep.src.weight_scale": 0.002, "sleep.base_steps": 123}
    search.best_vector(base, values, tmp_path / "best.json")
    label, vector = split_mnist.Config(src_hparams=str(tmp_path / "best.json")).src_vector()
    for name, value in values.items():
        assert float(hp.get_hparam({"sleep": vector}, name)) == pytest.approx(value)
    assert float(vector.src.max_rate) == pytest.approx(239.515363) and int(vector.steps_per_task) == 5000


def test_chunks_fit_the_memory_budget(setup):
    tree = hp.set_hparams(BASE, {})
    member = member_bytes(setup.phase, setup.make_params, setup.tasks, setup.evaluate, tree)
    params = sum(
        leaf.size * leaf.dtype.itemsize
        for leaf in jax.tree.leaves(eqx.filter(make_model(jax.random.key(0)), eqx.is_array))
    )
    assert member >= 8 * params  # at least parameters, gradients, optimizer moments and sleep copies

    def chunk(budget, devices):
        return chunk_members(100, devices, None, budget, lambda: member)

    assert chunk(3 * member + member // 2, devices=1) == 3
    assert chunk(3 * member, devices=2) == 6  # the budget is per device
    assert chunk(member // 2, devices=1) == 1  # never zero
    assert chunk_members(5, 2, 8, None, lambda: member) == 6  # capped at the members, a multiple of devices


FLOAT64 = """
import json, sys, jax, numpy as np
jax.config.update("jax_enable_x64", True)
sys.path.insert(0, {root!r}); sys.path.insert(0, {tests!r})
from test_sweep import BASE, make_setup
from sleepjax import _sweep as sw
from sleepjax import _tune as tn
setup = make_setup(validation=True)
assert setup.make_params(jax.random.key(0)).layers[0].weight.dtype == np.float64
rows = sw.sweep(setup, BASE, [{{"sleep.src.inc": 0.02}}], [0], progress=False).rows
space = {{"sleep.src.inc": sw.LogUniform(1e-3, 0.1)}}
search = tn.SearchConfig(method="random", budget=2, population=2, confirm=0)
best = tn.tune(setup, BASE, space, search, progress=False, log=lambda _: None)
print(json.dumps([rows[0]["overall"], best.score]))
"""


def test_sweep_and_tune_run_in_float64():
    code = FLOAT64.format(root=str(ROOT), tests=str(ROOT / "tests"))
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    overall, score = json.loads(done.stdout.strip().splitlines()[-1])
    assert 0.0 <= overall <= 1.0 and 0.0 <= score <= 1.0


def test_the_packaged_tuned_vector_is_the_searchs_winner():
    """`mnist-tuned` is exactly the winner of the search recorded in experiments/results (applied to the
    reference vector), and that search scored on held-out training examples, never on the test set."""
    from sleepjax._sleep.vectors import load_vector

    record = json.loads((ROOT / "experiments" / "results" / "tune_split_mnist.json").read_text())
    assert record["identity"]["setup"]["split"] == "validation"
    _, reference = load_vector("mnist")
    expected = hp.set_hparams({"sleep": reference}, record["winner"]["config"])
    _, tuned = load_vector("mnist-tuned")
    for name, value in hp.hparam_names(expected).items():
        np.testing.assert_array_equal(hp.get_hparam({"sleep": tuned}, name), value, err_msg=name)


def test_the_table_is_written_atomically_without_following_a_planted_link(tmp_path):
    # Catches a CSV written through a predictable temporary name: a link planted there (by an earlier
    # run or another user) would be followed and the file it points at overwritten.
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    csv_path = tmp_path / "table.csv"
    os.symlink(victim, tmp_path / ".table.csv.tmp")
    rows = [{"config": 0, "seed": 1, "sleep.src.beta": [1.0, 2.0], "overall": 0.5}]
    app_sweeps.write_table(rows, csv_path, tmp_path / "table.rows.json")
    assert victim.read_text() == "keep me"
    assert csv_path.read_text().splitlines() == ["config,seed,sleep.src.beta,overall", "0,1,1.0 2.0,0.5"]
    assert json.loads((tmp_path / "table.rows.json").read_text()) == {"rows": rows}
    left = sorted(p.name for p in tmp_path.iterdir())
    assert left == [".table.csv.tmp", "table.csv", "table.rows.json", "victim.txt"]  # no temporary file left
