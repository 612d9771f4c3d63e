"""The library's shape: one flat public namespace, and a library that never imports the application.

Catches a library module importing the command line, records, plots or interruption handling (which
would drag the application into every user's import and tie library errors to command-line flags), and
a public name that is a module, appears twice, or is missing from the API reference; and an import that
starts JAX's backend (a module-level JAX array), after which ``jax.distributed.initialize`` is refused.
"""

import ast
import importlib
import inspect
import re
import subprocess
import sys
import types
from pathlib import Path

import pytest

import sleepjax as sj

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "sleepjax"


def library_modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "app" not in p.relative_to(PACKAGE).parts[:1])


def imported_names(path: Path, root: Path = PACKAGE) -> set[str]:
    """Every module a file under the package directory ``root`` imports, absolute (relative imports
    resolved against the file's package)."""
    tree = ast.parse(path.read_text())
    package = ".".join(("sleepjax", *path.relative_to(root).parent.parts))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parts + ([base] if base else []))
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def test_the_library_never_imports_the_application():
    offenders = {
        str(path.relative_to(ROOT)): sorted(n for n in imported_names(path) if n.startswith("sleepjax.app"))
        for path in library_modules()
    }
    assert {k: v for k, v in offenders.items() if v} == {}


@pytest.mark.parametrize(
    "text", ["from sleepjax.app.records import Record", "from .app import cli", "import sleepjax.app.cli"]
)
def test_the_import_walk_sees_application_imports(text, tmp_path):
    # The walk itself must catch the mistake it guards against, in its absolute and relative forms.
    probe = tmp_path / "sleepjax" / "_sleep" / "probe.py"
    probe.parent.mkdir(parents=True)
    probe.write_text(text.replace("from .app", "from ..app") + "\n")
    assert any(n.startswith("sleepjax.app") for n in imported_names(probe, tmp_path / "sleepjax"))


NAMESPACES = {"foraging", "lca", "spiking"}


def test_the_public_namespace_holds_objects_each_once():
    assert len(sj.__all__) == len(set(sj.__all__))
    for name in sj.__all__:
        obj = getattr(sj, name)
        if name in NAMESPACES:
            assert isinstance(obj, types.ModuleType)
            continue
        assert not isinstance(obj, types.ModuleType), f"sj.{name} is a module, not an object"
    assert callable(sj.sweep) and callable(sj.tune) and callable(sj.sequence) and callable(sj.wake)
    for namespace in NAMESPACES:
        module = getattr(sj, namespace)
        assert sorted(module.__all__) == sorted(set(module.__all__)), namespace
        for name in module.__all__:
            assert not isinstance(getattr(module, name), types.ModuleType), f"sj.{namespace}.{name} is a module"


def api_reference_names() -> set[str]:
    """Every ``::: sleepjax.X`` (or ``sleepjax.ns.X``) entry of the API reference pages."""
    names = set()
    for page in (ROOT / "docs" / "api").glob("*.md"):
        names.update(re.findall(r"^::: sleepjax\.([\w.]+)", page.read_text(), flags=re.M))
    return names


def public_names() -> set[str]:
    names = {n for n in sj.__all__ if n not in NAMESPACES}
    for namespace in NAMESPACES:
        names.update(f"{namespace}.{n}" for n in getattr(sj, namespace).__all__)
    return names


def test_the_api_reference_lists_exactly_the_public_surface():
    assert api_reference_names() == public_names()


@pytest.mark.parametrize("name", sorted(n for n in sj.__all__ if n not in NAMESPACES))
def test_every_public_object_has_a_docstring(name):
    obj = getattr(sj, name)
    if inspect.isfunction(obj) or inspect.isclass(obj):
        assert (obj.__doc__ or "").strip(), f"sj.{name} has no docstring"


def test_typed_package_marker_ships():
    assert (PACKAGE / "py.typed").is_file()
    assert importlib.util.find_spec("sleepjax") is not None


def test_importing_sleepjax_starts_no_jax_backend():
    """``import sleepjax as sj`` before ``jax.distributed.initialize()`` (or a choice of platform) must
    work: no module builds a JAX array when imported. Caught: ``OFFSETS = jnp.array(...)`` at module level."""
    code = "import sleepjax\nfrom jax._src import xla_bridge\nprint(xla_bridge.backends_are_initialized())"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "False"
