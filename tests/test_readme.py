"""The README's two set-up commands stay true: CI runs the test command verbatim, and the main job's
command names options the CLI accepts."""

import re
import shlex
from pathlib import Path

import pytest

from sleepjax.app.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]


def readme_commands():
    blocks = re.findall(r"```bash\n(.*?)\n```", (ROOT / "README.md").read_text(), flags=re.S)
    return blocks[0].strip(), blocks[1].strip()


def test_ci_runs_the_readme_test_command():
    _, test_command = readme_commands()
    assert "pytest" in test_command
    assert test_command in (ROOT / ".ci" / "run").read_text()


def test_readme_main_command_parses():
    main_command, _ = readme_commands()
    invocation = main_command.split("&&")[-1].strip()
    words = shlex.split(invocation)
    assert words[0].endswith("sleepjax")
    args = build_parser().parse_args(words[1:])
    assert args.command == "run" and args.experiment == "split-mnist"


def test_readme_epochs_claim_comes_from_the_code():
    """The README states the epochs the bundled subset trains for; they must be what the code does."""
    from sleepjax._datasets import load_bundled
    from sleepjax.app.split_mnist import Config, arm_epochs, make_scenario

    scenario = make_scenario(load_bundled(), Config())
    task, joint = arm_epochs("finetune", scenario, Config()), arm_epochs("joint", scenario, Config())
    text = " ".join((ROOT / "README.md").read_text().split())
    assert f"({task} epochs per task, {joint} for joint)" in text


def table_cells(record: dict) -> dict[str, str]:
    """Each arm's row of a split-MNIST record's table, without its name, as one space-separated line."""
    from sleepjax.app.split_mnist import format_results

    rows = [line.split(None, 1) for line in format_results(record).splitlines()[2:]]
    return {arm: " ".join(rest.split()) for arm, rest in rows}


def test_the_split_mnist_tables_of_the_readme_and_docs_are_the_committed_records():
    """Catches a table left behind when its record is remade: every row of the reference and tuned tables
    in the README and the reproduction page must be the committed record's, number for number."""
    import json

    results = ROOT / "experiments" / "results"
    reference = table_cells(json.loads((results / "split_mnist_reference.json").read_text()))
    tuned = table_cells(json.loads((results / "split_mnist_tuned.json").read_text()))
    for page in (ROOT / "README.md", ROOT / "docs" / "reproductions" / "split-mnist-src.md"):
        text = " ".join(page.read_text().split())
        for arm, cells in reference.items():
            assert f"{arm} {cells}" in text, f"{page.name}: the {arm} row is not the record's: {cells}"
    page_text = " ".join((ROOT / "docs" / "reproductions" / "split-mnist-src.md").read_text().split())
    assert f"mnist {reference['src']}" in page_text and f"mnist-tuned {tuned['src']}" in page_text


def test_the_readme_sweep_table_is_the_committed_sweep_record():
    """Catches the README's sweep table left behind when its record is remade (or made on another CPU)."""
    import json

    from sleepjax.app.split_mnist_search import format_sweep

    rows = json.loads((ROOT / "experiments" / "results" / "sweep_inc_bundled.rows.json").read_text())["rows"]
    table = format_sweep(rows, ["sleep.src.inc"])
    assert table in (ROOT / "README.md").read_text()


def table_rows(page: str, marker: str) -> list[list[str]]:
    """The body rows (cells stripped) of the Markdown table between ``<!-- MARKER:begin -->`` and
    ``<!-- MARKER:end -->`` of ``page``."""
    table = page.split(f"<!-- {marker}:begin -->")[1].split(f"<!-- {marker}:end -->")[0]
    return [[c.strip() for c in line.strip("|").split("|")] for line in table.strip().splitlines()[2:]]


#: The first words of each method's row in the baselines page's tables.
BASELINE_ROWS = {
    "finetune": "finetune", "joint": "joint", "ewc": "EWC (", "online-ewc": "online EWC (", "si": "SI (",
    "ewc-hsu": "EWC, Hsu", "online-ewc-hsu": "online EWC, Hsu", "si-hsu": "SI, Hsu",
    "lwf": "LwF, van de Ven", "lwf-li-hoiem": "LwF, Li & Hoiem", "replay": "replay", "agem": "A-GEM",
    "replay+agem": "GEM stand-in", "icarl": "iCaRL", "der++": "DER++", "src": "SRC, reference",
    "src-tuned": "SRC, `mnist-tuned`", "src+replay": "SRC + replay", "src+icarl": "SRC + iCaRL",
}  # fmt: skip
BASELINE_RECORDS = {
    "class": "compare_split_mnist_class_all.json",
    "task": "compare_split_mnist_task.json",
    "domain": "compare_split_mnist_domain.json",
}


@pytest.mark.parametrize("scenario", sorted(BASELINE_RECORDS))
def test_the_baselines_tables_are_the_committed_records(scenario):
    """Catches a baselines table left behind when its record is remade, or a row's numbers set beside the
    wrong method: each method's row must hold its record's average accuracy and BWT (mean ± SD), and the
    table one row per method of the record."""
    import json

    from sleepjax.app.report import cell

    record = json.loads((ROOT / "experiments" / "results" / BASELINE_RECORDS[scenario]).read_text())
    page = (ROOT / "docs" / "reproductions" / "baselines.md").read_text()
    rows = table_rows(page, f"baselines-{scenario}")
    assert len(rows) == len(record["methods"])
    for method, entry in record["methods"].items():
        (row,) = [r for r in rows if r[0].startswith(BASELINE_ROWS[method])]
        summary = entry["summary"]
        assert row[1] == cell(summary["average_accuracy"], digits=2), f"{scenario}: {method}'s accuracy"
        bwt = cell(summary["bwt"]) if "bwt" in summary else "-"
        assert row[4].removeprefix("+") == bwt, f"{scenario}: {method}'s BWT"


def test_the_lwf_loss_table_is_the_committed_lwf_records():
    """Catches the LwF-loss table of the baselines page left behind when its five-seed records are remade,
    or a loss's numbers set in another loss's row: each cell must hold its record's average accuracy."""
    import json

    from sleepjax.app.report import cell

    page = (ROOT / "docs" / "reproductions" / "baselines.md").read_text()
    rows = {r[0]: r[1:] for r in table_rows(page, "lwf-2018")}
    columns = ("class", "task", "domain")
    for method, suffix, first_words in (
        ("lwf-2018", "_2018loss", "van de Ven & Tolias, 2018"),
        ("lwf", "", "van de Ven & Tolias, current"),
    ):
        (row,) = [cells for name, cells in rows.items() if name.startswith(first_words)]
        for scenario, value in zip(columns, row, strict=True):
            path = ROOT / "experiments" / "results" / "lwf" / f"{scenario}_2000updates{suffix}.json"
            if not value:
                assert method == "lwf" and scenario == "task", f"{method} {scenario}: empty cell"
                continue
            summary = json.loads(path.read_text())["methods"][method]["summary"]
            assert value.strip("*") == cell(summary["average_accuracy"], digits=2), f"{method} {scenario}"


#: Van de Ven & Tolias's split-MNIST class orders: their code shuffles the labels for each seed
#: (``np.random.seed(seed); np.random.permutation(10)``, seeds from 1111) and task k takes the two digits
#: shuffled to 2k and 2k + 1.
VAN_DE_VEN_SEEDS = range(1111, 1116)
ORDER_RECORDS = ROOT / "experiments" / "results" / "lwf" / "orders"


def van_de_ven_order(seed: int) -> str:
    """The ``--task-classes`` order of ``seed`` (NumPy's legacy generator, as ``np.random.seed`` seeds it,
    without touching the global one)."""
    import numpy as np

    from sleepjax.app.class_orders import format_order

    return format_order(np.argsort(np.random.RandomState(seed).permutation(10)).reshape(5, 2))


def test_the_lwf_class_order_runs_use_van_de_ven_and_tolias_orders():
    """Catches a class order mistyped in the baselines page's per-seed-order commands (or a command's
    record named after another seed's order): each command's ``--task-classes`` must be the order van de
    Ven & Tolias's code draws for the seed its record is named after."""
    from test_docs import commands

    orders = [c for c in commands(ROOT / "docs" / "reproductions" / "baselines.md") if "/orders/" in c]
    assert len(orders) == 10
    for command in orders:
        words = shlex.split(command)
        seed = int(re.search(r"order(\d+)\.json", words[words.index("--out") + 1]).group(1))
        assert words[words.index("--task-classes") + 1] == van_de_ven_order(seed), command


def test_the_lwf_class_order_table_is_the_committed_records():
    """Catches the per-seed-order LwF table left behind when a record is remade, a method's numbers in
    another's row, or an order's record left out of the mean: each cell must be the mean ± SD over the
    five orders' records."""
    import json

    from sleepjax.app.report import cell, mean_sd

    page = (ROOT / "docs" / "reproductions" / "baselines.md").read_text()
    rows = {r[0]: r[1:] for r in table_rows(page, "lwf-orders")}
    records = {
        scenario: [json.loads(p.read_text()) for s in VAN_DE_VEN_SEEDS
                   if (p := ORDER_RECORDS / f"{scenario}_2000updates_order{s}.json").exists()]
        for scenario in ("class", "task", "domain")
    }  # fmt: skip
    for method, first_words in (("lwf-2018", "van de Ven & Tolias, 2018"), ("lwf", "van de Ven & Tolias, current"),
                                ("finetune", "fine-tuning")):  # fmt: skip
        (row,) = [cells for name, cells in rows.items() if name.startswith(first_words)]
        for (scenario, runs), value in zip(records.items(), row, strict=True):
            if not value:
                assert not any(method in r["methods"] for r in runs), f"{method} {scenario}: a record left out"
                continue
            assert len(runs) == len(VAN_DE_VEN_SEEDS), f"{scenario}: an order's record is missing"
            accuracy = mean_sd([r["methods"][method]["summary"]["average_accuracy"]["mean"] for r in runs])
            assert value.strip("*") == cell(accuracy, digits=2), f"{method} {scenario}"
