"""The project's layout rules, read from the source with ast (nothing is imported).

Imports point one way: cli -> commands -> serving/checks/runner/loader -> model. protobuf is imported
only under sigtool/loader/ and sigtool/_proto/, TensorFlow only in sigtool/runner.py, click only by the
CLI itself. And no module is over 500 lines, generated code aside.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import pytest
from conftest import REPO

SIGTOOL = REPO / "sigtool"
MAX_LINES = 500
# Generated: the descriptor modules under sigtool/_proto (make protos), never edited by hand.
GENERATED = ("sigtool/_proto/*_pb2.py",)
LINE_CHECKED = ("sigtool", "tests", "testdata", "tools", "bench")


def rel(path: Path) -> str:
    return path.relative_to(REPO).as_posix()


def module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def is_import_module_call(node: ast.AST) -> bool:
    """importlib.import_module("a.literal.name"), however importlib was imported."""
    return (
        isinstance(node, ast.Call)
        and getattr(node.func, "attr", getattr(node.func, "id", "")) == "import_module"
        and bool(node.args)
        and isinstance(node.args[0], ast.Constant)
        and isinstance(node.args[0].value, str)
    )


def imports(path: Path) -> set[str]:
    """Every module path imports, absolute (relative imports resolved), at any depth (lazy imports too)."""
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                prefix = ".".join(base + ([node.module] if node.module else []))
            else:
                prefix = node.module or ""
            found.add(prefix)
            found.update(f"{prefix}.{alias.name}" for alias in node.names)  # `from sigtool import cli`
        elif is_import_module_call(node):
            found.add(node.args[0].value)
    return found


@cache
def sources() -> dict[str, set[str]]:
    """sigtool/**/*.py (generated descriptor modules aside) -> what each imports."""
    return {
        rel(p): imports(p)
        for p in sorted(SIGTOOL.rglob("*.py"))
        if not any(p.match(g) for g in GENERATED) and "__pycache__" not in p.parts
    }


def within(module: str, *roots: str) -> bool:
    return any(module == r or module.startswith(r + ".") for r in roots)


def importers(of: str, allowed) -> list[str]:
    """The source files that import `of` (or below it) without being allowed to."""
    return sorted(path for path, mods in sources().items() if any(within(m, of) for m in mods) and not allowed(path))


def test_imports_are_read():
    table = sources()
    assert "sigtool/cli/__init__.py" in table and "sigtool/model.py" in table
    assert any(within(m, "click") for m in table["sigtool/cli/__init__.py"])


def test_protobuf_only_under_loader_and_proto():
    assert importers("google.protobuf", lambda p: p.startswith(("sigtool/loader/", "sigtool/_proto/"))) == []


def test_tensorflow_only_in_runner():
    assert importers("tensorflow", lambda p: p == "sigtool/runner.py") == []
    assert importers("keras", lambda p: False) == []


def test_click_only_in_the_cli():
    assert importers("click", lambda p: p.startswith("sigtool/cli/") or p == "sigtool/__main__.py") == []


def test_the_model_imports_only_errors():
    own = sorted(m for m in sources()["sigtool/model.py"] if within(m, "sigtool"))
    assert all(m == "sigtool" or within(m, "sigtool.errors") for m in own), own


@pytest.mark.parametrize(
    "layer",
    [
        "sigtool/loader/",
        "sigtool/checks/",
        "sigtool/serving/",
        "sigtool/runner.py",
        "sigtool/model.py",
        "sigtool/errors.py",
    ],
)
def test_lower_layers_never_import_the_cli_or_commands(layer):
    mine = {p: mods for p, mods in sources().items() if p == layer or p.startswith(layer)}
    assert mine, f"{layer} is gone: update this test"
    upward = {
        p: sorted(m for m in mods if within(m, "sigtool.cli", "sigtool.commands", "sigtool.__main__"))
        for p, mods in mine.items()
    }
    assert {p: m for p, m in upward.items() if m} == {}


def test_only_the_entry_points_import_the_cli():
    assert importers("sigtool.cli", lambda p: p == "sigtool/__main__.py" or p.startswith("sigtool/cli/")) == []


def test_commands_sit_below_the_cli():
    assert importers("sigtool.commands", lambda p: p.startswith(("sigtool/cli/", "sigtool/commands/"))) == []


# --- size -----------------------------------------------------------------------------------------------


def oversized() -> dict[str, int]:
    out = {}
    for top in LINE_CHECKED:
        for path in sorted((REPO / top).rglob("*.py")):
            if "__pycache__" in path.parts or any(path.match(g) for g in GENERATED):
                continue
            lines = len(path.read_text(errors="replace").splitlines())
            if lines > MAX_LINES:
                out[rel(path)] = lines
    return out


def test_no_module_over_500_lines():
    assert oversized() == {}, "split these into modules of one job each"
