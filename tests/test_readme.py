"""The README's two set-up commands stay true: CI runs the test command verbatim, and the main job's
command names options the CLI accepts."""

import re
import shlex
from pathlib import Path

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
