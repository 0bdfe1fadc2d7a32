"""The documentation stays true to the code: snippets run, names exist, tables match, pages link.

The longer examples live in ``docs/snippets/*.py``, and each snippet runs here against the
embedded simulator and asserts what it shows. The pages the README says read as they are (the
overview, the quick start, writing a bot) hold a copy of their snippet, checked here to be the
same code; the other pages include theirs when the site is built (pymdownx.snippets). The strict
MkDocs build itself (broken cross-references, missing pages, docstrings) runs in CI and, when
the ``docs`` extra is installed, in the last test.
"""

from __future__ import annotations

import ast
import importlib
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, Iterator, List, Tuple

import pytest

import lasersell_sync as ls
from lasersell_sync.stream.dispatch.registry import CLASS_NAMES
from lasersell_sync.stream.routes import ROUTES, Priority, Route

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
SNIPPETS = sorted((DOCS / "snippets").glob("*.py"))
PAGES = sorted(DOCS.rglob("*.md"))
SUBMODULES = {"simulator", "proto", "stream", "tx", "exit_api", "wallet", "errors", "backoff"}
FENCE = re.compile(r"^```(?:python|py|\{\.python\})\n(.*?)^```", re.M | re.S)


def python_blocks(path: Path) -> Iterator[Tuple[str, str]]:
    """``(where, code)`` of every Python code block of a Markdown file, includes left out."""
    text = path.read_text()
    for match in FENCE.finditer(text):
        code = match.group(1)
        line = text[: match.start()].count("\n") + 1
        if not code.startswith("--8<--"):
            yield f"{path.relative_to(ROOT)}:{line}", code


def section(path: Path, name: str) -> str:
    """The lines between ``--8<-- [start:name]`` and ``--8<-- [end:name]`` of a snippet file."""
    after_start = path.read_text().split(f"# --8<-- [start:{name}]\n", 1)[1]
    return after_start.split(f"# --8<-- [end:{name}]\n", 1)[0]


@pytest.mark.parametrize("snippet", SNIPPETS, ids=[path.stem for path in SNIPPETS])
def test_every_snippet_runs_and_asserts_what_the_page_shows(snippet: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(snippet)], cwd=ROOT, capture_output=True, text=True, timeout=50, check=False
    )
    assert result.returncode == 0, f"{snippet.name} failed:\n{result.stdout}\n{result.stderr}"


def test_every_included_snippet_section_exists() -> None:
    included = 0
    for page in [*PAGES, ROOT / "README.md"]:
        for match in re.finditer(r'^--8<-- "([^":]+)(?::(\w+))?"$', page.read_text(), re.M):
            target = ROOT / match.group(1)
            assert target.is_file(), f"{page.name} includes a missing file {match.group(1)}"
            if match.group(2):
                assert f"--8<-- [start:{match.group(2)}]" in target.read_text(), (page.name, match.group(0))
            included += 1
    assert included, "no include found: is the pattern still pymdownx.snippets' syntax?"


INLINED = [
    ("README.md", "quickstart.py", "bot"),
    ("docs/index.md", "quickstart.py", "bot"),
    ("docs/quickstart.md", "quickstart.py", "bot"),
    ("docs/bots.md", "bot.py", "bot"),
]
"""``(page, snippet, section)``: a page that shows a tested snippet's code itself, not by include."""


@pytest.mark.parametrize(("page", "snippet", "name"), INLINED, ids=[page for page, _, _ in INLINED])
def test_a_page_that_shows_a_snippet_inline_shows_the_tested_code(page: str, snippet: str, name: str) -> None:
    code = section(DOCS / "snippets" / snippet, name)
    assert f"```python\n{code}```" in (ROOT / page).read_text(), f"{page} differs from docs/snippets/{snippet}"


def readable_raw() -> List[str]:
    """The pages the README's Documentation paragraph links: it says they read as they are."""
    readme = (ROOT / "README.md").read_text()
    paragraph = readme.split("**Documentation:**", 1)[1].split("\n\n", 1)[0]
    return sorted(set(re.findall(r"\]\((docs/[\w/-]+\.md)\)", paragraph)))


def test_the_pages_the_readme_says_read_as_they_are_include_nothing() -> None:
    pages = readable_raw()
    assert {"docs/index.md", "docs/quickstart.md"} <= set(pages)
    for page in pages:
        text = (ROOT / page).read_text()
        assert "--8<--" not in text, f"{page} includes a snippet, but the README says it reads as it is"
        for where, code in python_blocks(ROOT / page):
            assert "snippets/" not in code, where


@pytest.mark.parametrize("path", [ROOT / "README.md", *PAGES], ids=lambda path: path.name)
def test_every_python_block_parses(path: Path) -> None:
    for where, code in python_blocks(path):
        try:
            ast.parse(code)
        except SyntaxError as exc:
            pytest.fail(f"{where}: {exc}")


def test_every_ls_name_in_the_docs_is_public() -> None:
    used: List[Tuple[str, str]] = []
    for path in [*PAGES, *SNIPPETS]:
        for match in re.finditer(r"\bls\.([A-Za-z_]\w*)", path.read_text()):
            if len(match.group(1)) > 1:  # "ls.X" in prose means any name
                used.append((path.name, match.group(1)))
    assert len(used) > 100
    missing = sorted({(where, name) for where, name in used if name not in ls.__all__ and name not in SUBMODULES})
    assert not missing


def api_directives() -> List[str]:
    """The identifiers of every ``::: identifier`` in the API reference pages."""
    return [
        m.group(1) for page in (DOCS / "api").glob("*.md") for m in re.finditer(r"^::: (\S+)", page.read_text(), re.M)
    ]


def test_the_api_reference_renders_every_public_name() -> None:
    rendered = set(api_directives())
    missing = sorted(name for name in ls.__all__ if f"lasersell_sync.{name}" not in rendered)
    assert not missing, f"add these to a page under docs/api/: {missing}"


def test_every_api_directive_names_something_that_exists() -> None:
    directives = api_directives()
    assert len(directives) == len(set(directives)), "an object is rendered twice"
    for identifier in directives:
        module_name, _, name = identifier.rpartition(".")
        assert hasattr(importlib.import_module(module_name), name), identifier


def event_table() -> Dict[str, Tuple[str, str, str]]:
    """``event name -> (class name, lane, ordered by)`` from the table of docs/bots.md."""
    rows: Dict[str, Tuple[str, str, str]] = {}
    for match in re.finditer(
        r"^\| `(\w+)` \| \[`(\w+)`\]\[lasersell_sync\.\w+\] \| ([^|]+?) \| ([^|]+?) \|",
        (DOCS / "bots.md").read_text(),
        re.M,
    ):
        rows[match.group(1)] = (match.group(2), match.group(3), match.group(4))
    return rows


def _lane_column(route: Route) -> str:
    if route.lane is Priority.HIGH:
        return "high"
    return "low (conflated)" if route.conflate else "low (bounded)"


def test_the_event_table_is_the_registry_and_the_routing_table() -> None:
    expected: Dict[str, Any] = {
        name: (cls.__name__, _lane_column(ROUTES[name]), ROUTES[name].order.value) for cls, name in CLASS_NAMES.items()
    }
    assert event_table() == expected
    assert set(event_table()) == set(ls.stream.EVENT_NAMES)


def test_every_page_is_in_the_nav_and_every_nav_entry_exists() -> None:
    config = (ROOT / "mkdocs.yml").read_text()
    nav = config[config.index("\nnav:") : config.index("\ntheme:")]
    listed = set(re.findall(r"([\w/-]+\.md)\s*$", nav, re.M))
    pages = {path.relative_to(DOCS).as_posix() for path in PAGES}
    assert listed == pages


def test_the_readme_links_point_at_files() -> None:
    readme = (ROOT / "README.md").read_text()
    links = re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", readme)
    assert any(link.startswith("docs/") for link in links)
    for link in links:
        assert (ROOT / link).exists(), link


def test_the_strict_docs_build_passes(tmp_path: Path) -> None:
    pytest.importorskip("mkdocs")
    pytest.importorskip("mkdocstrings_handlers.python")
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=50,
        check=False,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    assert result.returncode == 0, result.stderr[-4000:]
