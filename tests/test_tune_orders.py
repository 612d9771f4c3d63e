"""Searches scored over class orders: the orders a search draws, and a search over several setups.

The orders drawn from a seed are reproducible and never the default order nor a confirmation order; a
search scored over several setups (one per class order) scores each configuration with the mean of the
same configuration run order by order, resumes generation by generation, and bad input ends in one line.
The searches run the tiny synthetic setup of ``test_sweep.py`` (20-16-16-4 MLP, 150-step sleeps).
"""

import dataclasses
import json

import numpy as np
import pytest
from test_sweep import BASE, make_setup

import sleepjax as sj
from sleepjax import _sweep as sw
from sleepjax import _tune as tn
from sleepjax._datasets import load_bundled
from sleepjax.app import class_orders as co
from sleepjax.app import split_mnist
from sleepjax.app import split_mnist_search as search
from sleepjax.app import sweeps as app_sweeps

# --- the orders -----------------------------------------------------------------------------------


def test_orders_drawn_from_a_seed_are_reproducible_and_pinned():
    # Catches orders that depend on anything but the seed (a global generator, the clock) or that change
    # between versions: a search record names its orders, and a resumed search must draw the same.
    assert co.draw_orders(3, 5) == co.draw_orders(3, 5)
    assert co.draw_orders(3, 5) != co.draw_orders(3, 6)
    assert co.draw_orders(2, 5) == co.draw_orders(3, 5)[:2]  # more orders extend the list
    first = co.draw_orders(1, 0)[0]
    expected = [int(c) for c in np.random.default_rng(0).permutation(10)]
    assert first == tuple(tuple(expected[i : i + 2]) for i in range(0, 10, 2))
    for order in co.draw_orders(50, 1):
        assert sorted(c for task in order for c in task) == list(range(10)) and all(len(t) == 2 for t in order)


class _Permutations:
    """A stand-in for NumPy's generator that yields the given permutations in turn."""

    def __init__(self, perms):
        self.perms = iter(perms)

    def permutation(self, n):
        return np.array(next(self.perms))


def _flat(order):
    return [c for task in order for c in task]


def test_a_drawn_order_is_never_the_default_nor_a_confirmation_order(monkeypatch):
    # Catches a draw that keeps an order the search must never see: the default order, a confirmation
    # order, or one of them with the classes of a task swapped (the same tasks, so the same order).
    confirm = co.CONFIRMATION_ORDERS[0]
    swapped = [(b, a) for a, b in confirm]
    fresh = ((9, 8), (7, 6), (5, 4), (3, 2), (1, 0))
    perms = [_flat(co.DEFAULT_ORDER), _flat(confirm), _flat(swapped), _flat(co.CONFIRMATION_ORDERS[4]), _flat(fresh)]
    monkeypatch.setattr(co.np.random, "default_rng", lambda seed: _Permutations(perms + [_flat(fresh), range(10)]))
    assert co.draw_orders(1, 0) == [fresh]
    # an order drawn twice is kept once: the second draw of `fresh` is skipped
    monkeypatch.setattr(co.np.random, "default_rng", lambda seed: _Permutations([_flat(fresh)] * 2 + [range(10)]))
    with pytest.raises(StopIteration):
        co.draw_orders(2, 0)
    monkeypatch.undo()
    excluded = {co.canonical(co.DEFAULT_ORDER), *map(co.canonical, co.CONFIRMATION_ORDERS)}
    drawn = [co.canonical(o) for seed in range(3) for o in co.draw_orders(co.MAX_ORDERS, seed)]
    assert not excluded & set(drawn)
    assert len(set(drawn[: co.MAX_ORDERS])) == co.MAX_ORDERS


def test_confirmation_orders_are_distinct_orders_of_five_pairs():
    assert len({co.canonical(o) for o in co.CONFIRMATION_ORDERS}) == len(co.CONFIRMATION_ORDERS) == 5
    assert co.canonical(co.DEFAULT_ORDER) not in {co.canonical(o) for o in co.CONFIRMATION_ORDERS}
    for order in co.CONFIRMATION_ORDERS:
        assert sorted(_flat(order)) == list(range(10))
        assert co.parse_order(co.format_order(order)) == order
    assert co.format_order(co.CONFIRMATION_ORDERS[0]) == "7,4/0,2/1,5/6,8/3,9"  # the order of issue 27


@pytest.mark.parametrize(
    "call,message",
    [
        (lambda: co.draw_orders(0, 0), "--orders must be a number of class orders from 1 to 1000, got 0"),
        (lambda: co.draw_orders(1001, 0), "--orders must be a number of class orders from 1 to 1000, got 1001"),
        (lambda: co.draw_orders("x", 0), "--orders must be a number of class orders from 1 to 1000, got 'x'"),
        (lambda: co.draw_orders(2, -1), "--orders-seed must be a non-negative integer, got -1"),
        (lambda: co.parse_order("0,1/1,2/3,4"), "class order 0,1/1,2/3,4 repeats class 1"),
        (lambda: co.parse_order("0,1/2,10"), "classes must be labels 0..9"),
        (lambda: co.parse_order("0,1//2,3"), "takes tasks separated by '/'"),
        (lambda: co.check_order([[0, 1], []]), "no empty task"),
    ],
)
def test_bad_orders_are_refused_naming_the_problem(call, message):
    with pytest.raises(ValueError, match=None) as err:
        call()
    assert message in str(err.value)


# --- a search over several setups -----------------------------------------------------------------

ORDERS = (((2, 0), (3, 1)), ((1, 3), (0, 2)), ((3, 2), (1, 0)))
SPACE = {"sleep.src.inc": sw.LogUniform(1e-3, 0.1), "sleep.src.beta[0]": sw.LogUniform(1.0, 20.0)}


@pytest.fixture(scope="module")
def setups():
    return [make_setup(validation=True, tasks=order) for order in ORDERS]


def test_a_search_over_orders_scores_the_mean_of_the_orders_run_one_by_one(setups):
    # Catches a search over several setups that scores only one of them, stores the runs of every setup
    # under one name (the later setups then look finished and are never run), or weighs them unequally.
    config = tn.SearchConfig(method="random", budget=4, population=2, seeds=(5, 6), confirm=1, confirm_seeds=(7,))
    result = tn.tune(setups, BASE, SPACE, config, progress=False, log=lambda _: None)
    assert len(result.trials) == 4
    configs = [t["config"] for t in result.trials]
    by_order = []
    for setup in setups:
        rows = sw.sweep(setup, BASE, configs, [5, 6], progress=False).rows
        by_order.append([np.mean([r["overall"] for r in rows if r["config"] == i]) for i in range(len(configs))])
    by_order = np.array(by_order)  # (orders, configurations)
    assert np.ptp(by_order, axis=0).max() > 0  # the orders do score differently
    for i, trial in enumerate(result.trials):
        assert trial["search_score"] == pytest.approx(by_order[:, i].mean(), abs=1e-12)
        np.testing.assert_allclose(trial["setup_scores"], by_order[:, i], atol=1e-12)
    # the confirmed winner: the mean over every (order, seed) of the search's and the confirmation's seeds
    winner = result.trials[0]
    rows = [sw.sweep(s, BASE, [winner["config"]], [5, 6, 7], progress=False).rows for s in setups]
    assert result.seeds == [5, 6, 7]
    assert winner["scores"] == pytest.approx([r["overall"] for rs in rows for r in rs], abs=1e-12)
    assert result.score == pytest.approx(np.mean(winner["scores"]), abs=1e-12)
    assert tn.evaluations(config, len(setups)) == 3 * (4 * 2 + 1 * 1)


def test_one_setup_keeps_the_single_setup_layout(setups):
    # Catches the single-setup search renaming its groups: the stored record of mnist-tuned's search
    # (groups g<generation>.<i>) would no longer resume.
    config = tn.SearchConfig(method="random", budget=2, population=2, seeds=(5,), confirm=0)
    alone = tn.tune(setups[0], BASE, SPACE, config, progress=False, log=lambda _: None)
    listed = tn.tune([setups[0]], BASE, SPACE, config, progress=False, log=lambda _: None)
    assert sorted(alone.store.data["configs"]) == ["g0.0", "g0.1"] == sorted(listed.store.data["configs"])
    assert [t["search_score"] for t in alone.trials] == [t["search_score"] for t in listed.trials]
    assert "setup_scores" not in alone.trials[0]
    with pytest.raises(ValueError, match="a SweepSetup or a non-empty sequence"):
        tn.tune([], BASE, SPACE, config, progress=False)


def test_a_search_over_orders_resumes_generation_by_generation(setups, tmp_path, monkeypatch):
    # Catches a resumed search over several setups that recomputes finished runs, or one that resumes
    # with other proposals than the uninterrupted search (its scores would then differ).
    space = SPACE
    config = tn.SearchConfig(method="cmaes", budget=8, population=4, seeds=(5,), confirm=0)
    options = dict(chunk_size=1, progress=False, log=lambda _: None)
    whole = tn.tune(setups[:2], BASE, space, config, **options)
    out = tmp_path / "tune.json"
    real = sw.run_batch
    chunks = []

    def stop_after_six(*args, on_chunk_end, **kwargs):
        def counted(members, result):
            on_chunk_end(members, result)  # stores and saves the chunk
            chunks.append(members)
            if len(chunks) == 6:  # generation 1: order 0 finished, order 1 half-way
                raise KeyboardInterrupt

        return real(*args, on_chunk_end=counted, **kwargs)

    monkeypatch.setattr(sw, "run_batch", stop_after_six)
    with pytest.raises(KeyboardInterrupt):
        app_sweeps.resumable_tune(setups[:2], BASE, space, config, out=out, **options)
    stored = json.loads(out.read_text())["configs"]
    assert sum(len(g["runs"]) for g in stored.values()) == 6
    ran = []
    monkeypatch.setattr(sw, "run_batch", lambda *a, **k: ran.append(len(a[5])) or real(*a, **k))
    resumed, record = app_sweeps.resumable_tune(setups[:2], BASE, space, config, out=out, **options)
    assert sum(ran) == 16 - 6  # only the missing (configuration, order) runs
    assert [t["search_score"] for t in resumed.trials] == [t["search_score"] for t in whole.trials]
    assert resumed.best == whole.best
    assert set(record["configs"]) == {f"g{g}.{i}/s{k}" for g in range(2) for i in range(4) for k in range(2)}


# --- the split-MNIST search over orders ----------------------------------------------------------


def test_split_mnist_orders_share_one_program_and_the_record_names_them():
    # Catches setups of several orders that build a phase each (each order would compile its own program)
    # and a record identity that does not say which orders were searched.
    dataset = load_bundled()
    config = split_mnist.Config(examples_per_task=100, epochs=1, sleep_steps=(20, 5))
    orders = co.draw_orders(2, 3)
    setups, base, identity = search.order_setups(dataset, config, orders, names=["sleep.src.inc"])
    assert setups[0].phase is setups[1].phase and setups[0].make_params is setups[1].make_params
    assert identity["config"]["task_classes"] == [[list(t) for t in o] for o in orders]
    assert identity["split"] == "validation" and len(identity["test_sizes"]) == 2
    for setup, order in zip(setups, orders):
        single, _, _ = split_mnist.sweep_setup(dataset, dataclasses.replace(config, task_classes=order), "validation")
        np.testing.assert_array_equal(setup.tasks.x, single.tasks.x)
        np.testing.assert_array_equal(setup.evaluate.test.y, single.evaluate.test.y)
    assert "sleep" in base


TUNE = ["tune", "split-mnist", "--no-progress", "--save-vector", "v.json"]


@pytest.mark.parametrize(
    "args,message",
    [
        (["--orders", "0"], "--orders must be a number of class orders from 1 to 1000, got 0"),
        (["--orders", "many"], "--orders must be a number of class orders from 1 to 1000, got 'many'"),
        (["--orders", "2", "--orders-seed", "-3"], "--orders-seed must be a non-negative integer, got -3"),
        (["--orders-seed", "3"], "--orders-seed goes with --orders K"),
        (
            ["--orders", "2", "--task-classes", "1,0/3,2/5,4/7,6/9,8"],
            "--orders draws the class orders of the search; leave out --task-classes",
        ),
    ],
)
def test_bad_orders_on_the_command_line_end_in_one_line(args, message, tmp_path, monkeypatch, capsys):
    from sleepjax.app import cli, commands

    monkeypatch.setattr(commands, "load_mnist", lambda *a, **k: pytest.fail("loaded data despite a bad setting"))
    monkeypatch.chdir(tmp_path)
    assert cli.main([*TUNE, *args]) == 2
    err = capsys.readouterr().err
    assert err == f"sleepjax: error: {message}\n"


def test_width_sets_the_hidden_layers():
    from sleepjax.app import cli
    from sleepjax.app.arguments import protocol_config

    args = cli.build_parser().parse_args(["run", "split-mnist", "--width", "4000"])
    assert protocol_config(args).sizes == (784, 4000, 4000, 10)
    default = cli.build_parser().parse_args(["run", "split-mnist"])
    assert protocol_config(default).sizes == (784, 1200, 1200, 10) == split_mnist.Config().sizes


# --- the confirmation driver (experiments/confirm_src_vector.py) ------------------------------------


def _experiment(name: str):
    """The script ``experiments/NAME.py`` as a module (the experiments are scripts, not a package)."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "experiments" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _confirm_module():
    return _experiment("confirm_src_vector")


def test_confirmation_table_pairs_the_same_runs_and_pools_only_the_unseen_orders():
    # Catches a difference taken the wrong way round or between unpaired means, a pooled row that
    # takes in the default order (seen by every search), and an overall accuracy that is not weighted
    # by the test sizes.
    confirm = _confirm_module()
    record = {
        "identity": {"test_sizes": [1, 3]},
        "arms": {"src": {"runs": {"7": {"accuracy": [[1.0, 0.0], [0.5, 0.25]]}, "8": {"accuracy": [[0, 0], [1, 0]]}}}},
    }
    np.testing.assert_allclose(confirm.final_overall(record, [8, 7]), [0.25, (0.5 + 3 * 0.25) / 4])
    rows = [
        ("default", np.array([0.5, 0.6]), np.array([0.9, 0.9])),
        ("a", np.array([0.5, 0.6]), np.array([0.55, 0.7])),
        ("b", np.array([0.4, 0.4]), np.array([0.41, 0.5])),
    ]
    lines = confirm.comparison_table(rows).splitlines()
    assert lines[3].split() == ["a", "2", "55.0", "±", "7.1", "62.5", "±", "10.6", "7.5", "±", "3.5"]
    # unseen orders pooled: reference 0.5,0.6,0.4,0.4; tested 0.55,0.7,0.41,0.5; differences 5,10,1,10 %
    pooled = lines[-1].split()
    assert pooled[:4] == ["2", "unseen", "orders", "4"]
    assert pooled[4:] == ["47.5", "±", "9.6", "54.0", "±", "12.1", "6.5", "±", "4.4"]


def _vector_file(tmp_path) -> str:
    path = tmp_path / "v.json"
    sj.save_src_vector(path, sj.src_vector("mnist-tuned"))
    return str(path)


def test_confirmation_lists_the_commands_of_every_unseen_order(capsys, tmp_path):
    # Catches a driver that confirms on orders a search may draw, or whose printed commands do not
    # reproduce its rows (another vector, order or seeds).
    confirm = _confirm_module()
    v_json = _vector_file(tmp_path)
    confirm.main(["--list", "--vector", v_json, "--orders", "2", "--seeds", "100,101"])
    lines = capsys.readouterr().out.splitlines()
    orders = [co.DEFAULT_ORDER, *co.CONFIRMATION_ORDERS[:2]]
    assert lines == [
        f"sleepjax run split-mnist --arms src --src-hparams {v} --task-classes {co.format_order(o)} --seeds 100,101"
        for o in orders
        for v in ("mnist", v_json)
    ]


def test_confirmation_at_another_width_names_it_in_commands_and_records(capsys, tmp_path):
    # Catches printed commands that drop --width (they would reproduce the reference width's rows, not the
    # table's), and records of two widths written under one name (a resume would mix them).
    confirm = _confirm_module()
    v_json = _vector_file(tmp_path)
    confirm.main(["--list", "--vector", v_json, "--orders", "0", "--seeds", "100,101", "--width", "4000"])
    lines = capsys.readouterr().out.splitlines()
    order = co.format_order(co.DEFAULT_ORDER)
    assert lines == [
        f"sleepjax run split-mnist --arms src --src-hparams {v} --task-classes {order} --seeds 100,101 --width 4000"
        for v in ("mnist", v_json)
    ]
    assert confirm.record_name("v.json", co.DEFAULT_ORDER, 4000) != confirm.record_name("v.json", co.DEFAULT_ORDER)
    assert confirm.record_name("mnist", co.DEFAULT_ORDER) == "confirm_mnist_01-23-45-67-89.json"  # earlier records


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--width", "-3"], "argument --width: expected a positive (at most 16384) integer, got -3"),
        (["--chunk-size", "0"], "argument --chunk-size: expected a positive integer, got 0"),
        (["--vector", "nope"], "--vector: unknown SRC vector 'nope'"),
        (["--reference", "missing.json"], "--reference: missing.json: SRC vector file not found"),
    ],
)
def test_confirmation_refuses_bad_input_in_one_line_before_listing_or_loading(argv, message, capsys):
    # Catches a width, chunk size or vector that is only refused after the data are loaded (a traceback)
    # or that --list turns into commands that cannot run.
    confirm = _confirm_module()
    with pytest.raises(SystemExit) as exit_info:
        confirm.main(["--list", *argv])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and message in err and len(err.strip().splitlines()[-1]) > len(message)


def test_the_table_of_a_search_over_orders_shows_the_worst_order():
    # Catches a table that hides how unevenly a configuration does across the orders (its best order
    # or its mean shown as the worst).
    trials = [
        {"group": "g0.1", "config": {"sleep.src.inc": 0.01}, "search_score": 0.5, "setup_scores": [0.6, 0.3, 0.6]},
        {"group": "g0.0", "config": {"sleep.src.inc": 0.02}, "search_score": 0.4, "setup_scores": [0.4, 0.4, 0.4]},
    ]
    lines = search.format_trials(trials).splitlines()
    assert lines[0].split() == ["trial", "sleep.src.inc", "search", "worst", "order", "confirmed"]
    assert lines[2].split() == ["g0.1", "0.01", "50.0", "30.0", "-"]
    assert "worst order" not in search.format_trials([{k: v for k, v in trials[0].items() if k != "setup_scores"}])


def test_paired_records_pairs_seed_by_seed_across_pooled_records(tmp_path, capsys):
    # Catches sides paired by position instead of by seed (the tested records list the seeds in another
    # order and split over two files), a difference taken the wrong way round, and a wrong t statistic.
    import json
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "experiments"))
    try:
        import paired_records
    finally:
        sys.path.pop(0)

    def record(path, accuracies):
        runs = {str(s): {"accuracy": [[a]]} for s, a in accuracies.items()}
        path.write_text(json.dumps({"identity": {"test_sizes": [1]}, "arms": {"src": {"runs": runs}}}))
        return str(path)

    reference = record(tmp_path / "r.json", {0: 0.5, 1: 0.6, 2: 0.7, 3: 0.1})  # seed 3: not in the tested side
    tested = [record(tmp_path / "t1.json", {2: 0.9, 0: 0.6}), record(tmp_path / "t2.json", {1: 0.6})]
    paired_records.main(["--reference", reference, "--tested", *tested])
    row = capsys.readouterr().out.splitlines()[-1].split()
    # differences 0.1, 0.0, 0.2: mean 10 %, SD 10 %, t = 0.1 / (0.1 / sqrt 3) = 1.7, better on 2 seeds
    assert row == ["3", "60.0", "±", "10.0", "70.0", "±", "17.3", "10.0", "±", "10.0", "1.7", "2"]


# --- how a proxy protocol ranks configurations (experiments/proxy_rank.py) ---------------------------


def _proxy_module():
    return _experiment("proxy_rank")


def test_proxy_rank_correlation_is_spearmans_with_tied_ranks_averaged():
    # Catches Pearson's correlation of the raw scores in place of the rankings' (0.78 for the first case),
    # ties ranked by position instead of sharing their mean rank, and the rank of the best counted from
    # the worst end.
    proxy = _proxy_module()
    assert proxy.spearman(np.array([1.0, 2, 3, 100]), np.array([1.0, 2, 3, 4])) == pytest.approx(1.0)
    assert proxy.spearman(np.array([1.0, 2, 3, 4]), np.array([1.0, 3, 2, 4])) == pytest.approx(0.8)  # 1 - 6*2/60
    np.testing.assert_array_equal(proxy.ranks(np.array([0.5, 0.5, 0.9, 0.1])), [2.5, 2.5, 4, 1])
    assert proxy.rank_of_best(np.array([0.1, 0.9, 0.5]), np.array([0.3, 0.2, 0.4])) == 3


def test_proxy_scores_are_final_overall_accuracies_in_configuration_order():
    # Catches configurations read in string order ("10" before "2"), a final row averaged without the
    # evaluation sizes, and seeds not averaged.
    proxy = _proxy_module()
    runs = {str(g): {"runs": {"0": {"evaluation": [[0, 0], [g / 10, 0.0]]}, "1": {"evaluation": [[0, 0], [0, 1]]}}}
            for g in range(11)}  # fmt: skip
    record = {"identity": {"setup": {"test_sizes": [3, 1]}}, "configs": runs}
    scores = proxy.final_scores(record)
    np.testing.assert_allclose(scores, [(0.75 * g / 10 + 0.25) / 2 for g in range(11)])


def test_proxy_rank_refuses_a_record_that_is_not_a_search_over_orders(tmp_path):
    # Catches a sweep or single-order search record taken for a search over orders (its scores would be
    # compared with the wrong orders) ending in a traceback instead of one line.
    proxy = _proxy_module()
    path = tmp_path / "s.json"
    path.write_text(json.dumps({"experiment": "sweep", "identity": {}, "configs": {}}))
    with pytest.raises(SystemExit, match="not a record of a search over class orders"):
        proxy.main(["--search", str(path), "--list", "--out", str(tmp_path)])


def test_proxy_rank_refuses_a_plot_directory_that_is_a_file_before_reading_anything(tmp_path, capsys):
    # Catches --plot checked only after the sweeps (minutes of work lost to a typo) or not at all (a
    # traceback from savefig at the end): the error names --plot although the search record is missing too.
    proxy = _proxy_module()
    blocker = tmp_path / "figs"
    blocker.write_text("a file")
    with pytest.raises(SystemExit):
        proxy.main(["--search", str(tmp_path / "missing.json"), "--out", str(tmp_path), "--plot", str(blocker)])
    assert "--plot" in capsys.readouterr().err


def test_proxy_rank_figure_has_a_panel_per_order_and_one_for_the_mean(tmp_path):
    # Catches the mean panel dropped or the orders' panels merged (the figure the docs show).
    pytest.importorskip("matplotlib")
    import matplotlib.image

    proxy = _proxy_module()
    full, scores = np.array([[0.5, 0.4], [0.6, 0.3], [0.2, 0.1]]), np.array([[0.1, 0.2], [0.3, 0.1], [0.2, 0.4]])
    path = proxy.scatter_figure(["a", "b"], full, scores, tmp_path / "p.png")
    height, width = matplotlib.image.imread(path).shape[:2]
    assert width == pytest.approx(3 * height, rel=0.02)  # three square panels side by side
