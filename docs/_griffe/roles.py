"""A griffe extension for the docs build: Sphinx roles become cross-references, doctests code.

The package's docstrings name other objects the reST way (``:class:`ExitPolicy```,
``:meth:`close_position```, ``:mod:`~lasersell_sync.stream.dispatch.iterator```). mkdocstrings renders
Markdown, where those would show up as literal text. Once the whole package is loaded, each
role is resolved in the scope of the object whose docstring holds it (as Python would resolve
the name there) and replaced by an *optional* autorefs link: it links when the target is
rendered somewhere in the site and stays plain code when it is an internal the reference does
not show. References written in the pages themselves (``[X][lasersell_sync.X]``) are not
optional, so a broken one fails ``mkdocs build --strict``.

Doctest-style examples (``>>>`` and ``...`` lines) are fenced as ``pycon`` code; Markdown would
read ``>>>`` as a nested quote.
"""

from __future__ import annotations

import html
import re
from typing import Any, Iterator, List

import griffe

_ROLE = re.compile(r":(?:py:)?(?:class|meth|func|mod|attr|data|exc|obj|const):`(~?)([\w.]+)(\(\))?`")


def _walk(obj: griffe.Object) -> Iterator[griffe.Object]:
    yield obj
    for member in obj.members.values():
        if not member.is_alias:
            yield from _walk(member)  # type: ignore[arg-type]


def _target(obj: griffe.Object, name: str) -> str:
    """The full path ``name`` means inside ``obj``'s docstring (best effort, like Python's scoping)."""
    if name.startswith("."):  # relative to the enclosing module: :mod:`.chain`
        module = obj if obj.is_module else obj.module
        package = module.path if module.is_package else module.path.rpartition(".")[0]
        return f"{package}.{name.lstrip('.')}"
    head, _, rest = name.partition(".")
    try:
        base = obj.resolve(head)
    except Exception:  # not in scope: a member the enclosing class inherits, or already absolute
        owner = obj if obj.is_class else obj.parent
        while owner is not None and not owner.is_class:
            owner = owner.parent
        if owner is None or head not in owner.all_members:
            return name
        base = f"{owner.path}.{head}"
    return f"{base}.{rest}" if rest else base


def _fence_doctests(text: str) -> str:
    """Wrap each run of ``>>>``/``...`` lines in a ``pycon`` code fence at the run's indentation."""
    out: List[str] = []
    run: List[str] = []

    def flush() -> None:
        if run:
            indent = run[0][: len(run[0]) - len(run[0].lstrip())]
            out.extend([f"{indent}```pycon", *run, f"{indent}```"])
            run.clear()

    for line in text.split("\n"):
        stripped = line.strip()
        starts = stripped.startswith(">>>")
        if starts or (run and (stripped.startswith("... ") or stripped == "...")):
            run.append(line)
            continue
        flush()
        out.append(line)
    flush()
    return "\n".join(out)


def _rewrite(obj: griffe.Object, text: str) -> str:
    def link(match: re.Match[str]) -> str:
        tilde, name, call = match.group(1), match.group(2), match.group(3) or ""
        shown = (name.rsplit(".", 1)[-1] if tilde else name.lstrip(".")) + call
        target = _target(obj, name)
        return f'<autoref identifier="{html.escape(target)}" optional><code>{html.escape(shown)}</code></autoref>'

    return _ROLE.sub(link, _fence_doctests(text))


class SphinxRoles(griffe.Extension):
    """Rewrites ``:role:`name``` in every docstring of a loaded package into autorefs links."""

    def on_package(self, *, pkg: griffe.Module, **kwargs: Any) -> None:
        """The whole package is loaded: every name a docstring mentions can be resolved now."""
        for obj in _walk(pkg):
            if obj.docstring is not None:
                obj.docstring.value = _rewrite(obj, obj.docstring.value)
