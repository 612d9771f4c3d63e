"""The hand-made mutants (tests/mutants/run_mutants.py) stay applicable to the current code.

Catches a refactor that moves or rewrites the code a mutant mutates: its ``old`` text no longer occurs
exactly once, so the mutant could not run (or would mutate the wrong place) and the mistake it stands
for would silently stop being checked. Cheap: it reads files, runs no mutant.
"""

import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def load_mutants():
    spec = importlib.util.spec_from_file_location("run_mutants", ROOT / "tests" / "mutants" / "run_mutants.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module.MUTANTS


def test_every_mutant_text_occurs_exactly_once():
    mutants = load_mutants()
    assert len(mutants) > 100
    stale = [(m.name, m.file, (ROOT / m.file).read_text().count(m.old)) for m in mutants]
    assert [s for s in stale if s[2] != 1] == []


def test_every_mutant_names_tests_that_exist():
    for m in load_mutants():
        for test in m.tests:
            path, _, name = test.partition("::")
            assert (ROOT / path).is_file(), (m.name, test)
            assert not name or f"def {name.split('[')[0]}(" in (ROOT / path).read_text(), (m.name, test)
