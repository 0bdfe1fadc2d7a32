"""The package's layers (docs/architecture.md): no import goes up, lazy imports included.

CI enforces them with import-linter (the contracts in pyproject.toml, run by ``lint-imports``);
the contracts run here too where import-linter is installed (it needs Python 3.11+). The checks
below cover what the import graph cannot see, on every Python: imports of the package root from
below the facade, spelled in any way, and dynamic imports, which the graph misses.
"""

from __future__ import annotations

import ast
import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from typing import Iterator, List, Optional, Tuple

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "lasersell_sync"
ABOVE_THE_FACADE = ("cli", "simulator", "__main__")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def below_the_facade() -> List[Path]:
    """Every module of the layers under the facade: foundation, proto, exit_api/tx/wallet, stream."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        if parts == ("__init__",) or parts[0] in ABOVE_THE_FACADE:
            continue
        found.append(path)
    return found


def imports_of(path: Path) -> Iterator[Tuple[int, str, Optional[str]]]:
    """(line, module imported from, name) for every import in the file, at any depth."""
    here = module_name(path).split(".")
    package = here if path.name == "__init__.py" else here[:-1]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name, None
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            for alias in node.names:
                yield node.lineno, source, alias.name


def is_submodule(package: str, name: str) -> bool:
    folder = ROOT.joinpath(*package.split("."))
    return (folder / f"{name}.py").exists() or (folder / name / "__init__.py").exists()


def test_the_layer_walk_sees_every_lower_module() -> None:
    names = {module_name(path) for path in below_the_facade()}
    assert {
        "lasersell_sync.errors",
        "lasersell_sync.proto.codec",
        "lasersell_sync.stream.session.stream_session",
    } <= names
    assert not any(name.startswith(("lasersell_sync.simulator", "lasersell_sync.cli")) for name in names)
    assert "lasersell_sync" not in names


@pytest.mark.parametrize("path", below_the_facade(), ids=lambda path: module_name(path))
def test_no_module_below_the_facade_imports_the_package_root(path: Path) -> None:
    offending = []
    for line, source, name in imports_of(path):
        if source == "lasersell_sync" and (name is None or not is_submodule(source, name)):
            offending.append(f"line {line}: {'import lasersell_sync' if name is None else f'from .. import {name}'}")
    assert not offending, f"{module_name(path)} imports the facade: {offending}"


@pytest.mark.parametrize("path", below_the_facade(), ids=lambda path: module_name(path))
def test_no_module_below_the_facade_imports_the_simulator_or_the_cli(path: Path) -> None:
    for line, source, name in imports_of(path):
        target = source if name is None or not is_submodule(source, name) else f"{source}.{name}"
        assert not target.startswith(tuple(f"lasersell_sync.{top}" for top in ABOVE_THE_FACADE)), (
            f"{module_name(path)} line {line} imports {target}"
        )


def test_no_dynamic_imports() -> None:
    """``importlib.import_module`` and ``__import__`` hide an import from the contracts."""
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Call):
                called = ast.unparse(node.func)
                assert called not in ("importlib.import_module", "import_module", "__import__"), (
                    f"{module_name(path)} line {node.lineno}: a dynamic import"
                )


@pytest.mark.skipif(importlib.util.find_spec("importlinter") is None, reason="import-linter needs Python 3.11+")
def test_the_import_linter_contracts_are_kept() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    run = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from importlinter.cli import lint_imports_command; sys.exit(lint_imports_command())",
            "--no-cache",
            "--no-logo",
            str(ROOT / "pyproject.toml"),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "3 kept, 0 broken" in run.stdout


def test_no_test_module_imports_another() -> None:
    """Shared test helpers live in support modules (tests/support.py, tests/sessionharness.py, ...).

    A test file that imports another depends on that file's internals: editing or moving one test
    file then breaks another, and running one file pulls in the other's module-level code.
    """

    def is_a_test_module(dotted: str) -> bool:
        parts = dotted.split(".")
        return parts[0].startswith("test_") or (parts[0] == "tests" and len(parts) > 1 and parts[1].startswith("test_"))

    paths = sorted((ROOT / "tests").glob("test_*.py"))
    assert len(paths) > 10
    assert ROOT / "tests" / "test_layers.py" in paths
    offending = []
    for path in paths:
        for line, source, name in imports_of(path):
            if is_a_test_module(source) or (name is not None and is_a_test_module(f"{source}.{name}")):
                offending.append(f"{path.name} line {line}: {source}" + ("" if name is None else f" {name}"))
    assert not offending, f"test modules import other test modules: {offending}"
