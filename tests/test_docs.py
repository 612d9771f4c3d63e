"""Every code block of the README and the documentation runs, so an example that drifts from the API or
the command line fails here.

* ```python blocks of one page run in order, in one fresh interpreter, from an empty directory;
* ```bash blocks: every command line runs. ``sleepjax ...`` commands and ``python experiments/...`` /
  ``python benchmarks/...`` scripts run with ``--smoke`` (their documented seconds-long version on the
  bundled subset) and with ``--out`` / ``--plot`` / ``--save-*`` sent to a scratch directory, so the
  committed records are never touched. The set-up commands (a virtualenv, ``pip install``, ``pytest``,
  ``mkdocs``) are what CI itself runs, so here they are only recognised;
* any other command in a bash block fails the test (a page must not show a command nothing checks).

A page's blocks share JAX's persistent compilation cache with the other pages (one scratch directory
for the session), so the same smoke program compiles once; and a command shown verbatim on several pages
(the README's examples repeat a reproduction page's commands) runs once per session.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
FENCE = re.compile(r"^```(\w+)[^\n]*\n(.*?)^```", flags=re.M | re.S)
#: Set-up commands that CI runs itself (.ci/run): recognised in a page, not run here.
SETUP = ("python3 -m venv", "pip install", ".venv/bin/pip", "python -m pytest", ".venv/bin/python -m pytest", "mkdocs")
#: Directories whose scripts a page may run (each takes ``--smoke``).
SCRIPTS = ("experiments", "benchmarks")
#: Options whose value is a path to write: sent to the scratch directory.
OUTPUTS = ("--out", "--plot", "--save-vector", "--save-best")


def blocks(page: Path, language: str) -> list[str]:
    return [body for lang, body in FENCE.findall(page.read_text()) if lang == language]


def commands(page: Path) -> list[str]:
    """The command lines of a page's bash blocks (continuation lines joined, comments dropped)."""
    out = []
    for body in blocks(page, "bash"):
        for line in body.replace("\\\n", " ").splitlines():
            line = line.strip()
            if line and not line.startswith("#"):
                out.append(line)
    return out


def rel(page: Path) -> str:
    return str(page.relative_to(ROOT))


def smoke_commands(line: str, scratch: Path) -> list[list[str]]:
    """The argv of every part of ``line`` (parts joined by ``&&``) that runs here, in its smoke version;
    set-up parts are left out."""
    out = []
    for part in line.split("&&"):
        part = part.strip()
        if part.startswith(SETUP):
            continue
        words = shlex.split(part)
        program = words[0].removeprefix(".venv/bin/")
        if program == "sleepjax":
            argv = [sys.executable, "-m", "sleepjax.app.cli", *words[1:]]
        elif program in ("python", "python3") and len(words) > 1 and words[1].split("/")[0] in SCRIPTS:
            argv = [sys.executable, str(ROOT / words[1]), *words[2:]]
        else:
            raise AssertionError(f"a bash block runs {part!r}, which the documentation tests cannot check")
        for i, word in enumerate(argv):
            if word in OUTPUTS and i + 1 < len(argv):
                argv[i + 1] = str(scratch / f"{word.strip('-')}-{len(out)}-{i}-{Path(argv[i + 1]).name}")
        out.append([*argv, "--smoke"])
    return out


@pytest.fixture(scope="session")
def compilation_cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("jax-cache")


def environment(cache: Path) -> dict:
    return dict(os.environ, SLEEPJAX_CACHE_DIR=str(cache), JAX_PLATFORMS="cpu", PYTHONPATH=str(ROOT))


@pytest.mark.parametrize("page", [p for p in PAGES if blocks(p, "python")], ids=rel)
@pytest.mark.slow
def test_python_blocks_run(page, tmp_path, compilation_cache):
    code = "\n\n".join(blocks(page, "python"))
    script = tmp_path / "page.py"
    script.write_text(f"import jax\njax.config.update('jax_compilation_cache_dir', {str(compilation_cache)!r})\n{code}")
    done = subprocess.run(
        [sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, env=environment(compilation_cache)
    )
    assert done.returncode == 0, f"{rel(page)}:\n{done.stderr[-4000:]}"


@pytest.fixture(scope="session")
def commands_run() -> set:
    """The smoke commands that already ran (and passed) in this session, with their scratch paths blanked."""
    return set()


@pytest.mark.parametrize("page", [p for p in PAGES if commands(p)], ids=rel)
@pytest.mark.slow
def test_bash_blocks_run(page, tmp_path, compilation_cache, commands_run):
    for line in commands(page):
        for argv in smoke_commands(line, tmp_path):
            key = tuple(word.replace(str(tmp_path), "<scratch>") for word in argv)
            if key in commands_run:
                continue  # the same command, shown on another page, already passed
            done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, env=environment(compilation_cache))
            assert done.returncode == 0, f"{rel(page)}: {line}\n{done.stderr[-4000:]}"
            commands_run.add(key)


def test_the_smoke_rewriting_keeps_committed_records_untouched(tmp_path):
    # Catches a documented command whose --out still points into the repository when the tests run it.
    (argv,) = smoke_commands("sleepjax run split-mnist --seeds 10 --out experiments/results/x.json --plot f", tmp_path)
    assert argv[-1] == "--smoke"
    written = [argv[i + 1] for i, w in enumerate(argv) if w in OUTPUTS]
    assert len(written) == 2 and all(Path(p).parent == tmp_path for p in written)
    setup = "python3 -m venv .venv && .venv/bin/pip install '.[test]' && .venv/bin/python -m pytest"
    assert smoke_commands(setup, tmp_path) == []
    main_job = "python3 -m venv .venv && .venv/bin/pip install . && .venv/bin/sleepjax run split-mnist --seeds 3"
    assert [argv[3:] for argv in smoke_commands(main_job, tmp_path)] == [
        ["run", "split-mnist", "--seeds", "3", "--smoke"]
    ]
    with pytest.raises(AssertionError, match="cannot check"):
        smoke_commands("curl http://example.com", tmp_path)


def parser_flags() -> dict[str, set[str]]:
    """Every option of every ``sleepjax`` command, by command (``run split-mnist``, ``sweep split-mnist``...)."""
    import argparse

    from sleepjax.app.cli import build_parser

    flags: dict[str, set[str]] = {}

    def walk(parser: argparse.ArgumentParser, command: tuple[str, ...]) -> None:
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    walk(sub, (*command, name))
            elif action.option_strings and action.dest != "help":
                flags.setdefault(" ".join(command), set()).update(action.option_strings)

    walk(build_parser(), ())
    return flags


def test_the_command_line_reference_names_every_flag():
    # Catches a flag added to the command line without a word in the reference page.
    page = (ROOT / "docs" / "reference" / "cli.md").read_text()
    missing = {command: sorted(f for f in flags if f"`{f}" not in page) for command, flags in parser_flags().items()}
    assert {c: m for c, m in missing.items() if m} == {}
    assert {"run split-mnist", "run foraging", "run lca", "sweep split-mnist", "tune split-mnist"} <= set(missing)
