"""The package's layout, as docs/architecture.md draws it: subsystems in subpackages, imports flowing one way,
no module too long to read."""

import ast
import re
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import pytest

from scaffold import ROOT

PACKAGE = ROOT / "mnist_app"
FOUNDATION = "foundation"
MAX_LINES = 350


def allowed_imports() -> dict[str, set[str]]:
    """docs/architecture.md's table: subpackage -> the subpackages it may import (itself always)."""
    rows = re.findall(r"^\| `([a-z]+)/?` \|[^|]*\|([^|]*)\|$", (ROOT / "docs" / "architecture.md").read_text(), re.M)
    return {name: {name, *re.findall(r"`([a-z]+)`", may)} for name, may in rows}


def modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "migrations" not in p.parts or p.name != "env.py")


def subsystem(dotted: str) -> str:
    """mnist_app.store.drawings -> store; mnist_app.preprocess -> foundation."""
    parts = dotted.split(".")
    return parts[1] if len(parts) > 1 and (PACKAGE / parts[1]).is_dir() else FOUNDATION


def dotted_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def is_module(dotted: str) -> bool:
    path = ROOT.joinpath(*dotted.split("."))
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


def imported(path: Path) -> set[str]:
    """Every mnist_app module or package the file imports, at its top or inside a function."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = dotted_name(path).rsplit(".", node.level - (path.name == "__init__.py"))[0]
            node_module = f"{base}.{node.module}" if node.module else base
        elif isinstance(node, ast.ImportFrom):
            node_module = node.module or ""
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.startswith("mnist_app")}
            continue
        else:
            continue
        if node_module.startswith("mnist_app"):  # `from package import module` needs the module, not the package
            found |= {
                f"{node_module}.{a.name}" if is_module(f"{node_module}.{a.name}") else node_module for a in node.names
            }
    return found


def test_the_table_names_every_subpackage():
    subpackages = {p.parent.name for p in PACKAGE.glob("*/__init__.py")}
    assert set(allowed_imports()) == subpackages | {FOUNDATION}


def test_the_package_is_subsystems_with_few_modules_at_its_top():
    top = [p for p in PACKAGE.glob("*.py")]
    assert len(top) <= 10 and len(list(PACKAGE.glob("*/__init__.py"))) >= 4


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_module_is_longer_than_350_lines(path):
    assert len(path.read_text().splitlines()) <= MAX_LINES


def test_every_import_flows_the_way_the_table_allows():
    allowed = allowed_imports()
    wrong = [
        f"{dotted_name(path)} imports {target}"
        for path in modules()
        for target in imported(path)
        if subsystem(target) not in allowed[subsystem(dotted_name(path))]
    ]
    assert wrong == []


def module_of(dotted: str) -> str | None:
    """The package module a dotted import names: mnist_app.store.drawings.DrawingStore -> mnist_app.store.drawings."""
    parts = dotted.split(".")
    return next((".".join(parts[:end]) for end in range(len(parts), 0, -1) if is_module(".".join(parts[:end]))), None)


def test_no_two_modules_import_each_other_even_through_others():
    graph = {
        dotted_name(path): {module_of(t) for t in imported(path)} - {None, dotted_name(path)} for path in modules()
    }
    assert circle(graph) == []


def circle(graph: dict[str, set[str]]) -> list[str]:
    """The modules of one import circle in the graph, in order; [] when there is none."""
    try:
        tuple(TopologicalSorter(graph).static_order())
    except CycleError as cycle:
        return cycle.args[1]
    return []


def test_only_the_ui_imports_streamlit():
    importers = {
        dotted_name(path)
        for path in modules()
        if any(
            isinstance(n, ast.Import | ast.ImportFrom)
            and any(
                name.startswith("streamlit")
                for name in ([n.module or ""] if isinstance(n, ast.ImportFrom) else [a.name for a in n.names])
            )
            for n in ast.walk(ast.parse(path.read_text()))
        )
    }
    assert importers and all(name.startswith("mnist_app.ui") for name in importers)


def test_the_test_scaffolding_does_not_ship():
    assert not (PACKAGE / "testing.py").exists() and (ROOT / "tests" / "scaffold.py").exists()


BENCHMARKS = sorted((ROOT / "benchmarks").glob("*.py"))
MAX_BENCHMARKS = 12


def test_benchmarks_are_a_few_measures_not_rounds():
    """Issue 36: a choosing round's script leaves once docs/experiments.md writes it up."""
    assert 0 < len(BENCHMARKS) <= MAX_BENCHMARKS, [p.name for p in BENCHMARKS]


@pytest.mark.parametrize("path", BENCHMARKS, ids=lambda p: p.name)
def test_each_benchmark_has_a_main_with_help_and_runs_as_a_script(path):
    tree = ast.parse(path.read_text())
    functions = {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}
    source = path.read_text()
    assert ast.get_docstring(tree), "its docstring is its --help's description"
    assert "main" in functions and "ArgumentParser(" in source and 'if __name__ == "__main__":' in source
