"""Derive a package's ``__all__`` from what its ``__init__`` imports, so no name list is kept twice.

Every ``__init__`` re-exports with ``from .module import Name as Name`` (the explicit re-export
that type checkers honour) and ends with ``__all__ = public_names(globals())``: the imports are
the one list.
"""

from __future__ import annotations
import __future__

from types import ModuleType
from typing import Any, List, Mapping, Tuple

__all__ = ["public_names"]


def _order(name: str) -> Tuple[int, str]:
    """ruff's RUF022 order: CONSTANTS, then Classes, then everything else."""
    if name.isupper() and len(name) > 1:
        return 0, name
    if name[:1].isupper():
        return 1, name
    return 2, name


def public_names(namespace: Mapping[str, Any]) -> List[str]:
    """The names of ``namespace`` a star import should give: no private names, submodules or
    ``__future__`` flags (``__version__`` is kept)."""
    return sorted(
        (
            name
            for name, value in namespace.items()
            if (not name.startswith("_") or name == "__version__")
            and not isinstance(value, (ModuleType, __future__._Feature))
        ),
        key=_order,
    )
