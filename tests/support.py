"""Helpers shared by the tests: fixture files, and the one way tests wait for other threads."""

from __future__ import annotations

import importlib
import json
import os
import sys
import threading
from pathlib import Path
from types import ModuleType
from typing import Any, Callable, Dict, List, Union

FIXTURES = Path(__file__).parent / "fixtures"
ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
PROXIES = ("http_proxy", "https_proxy", "all_proxy", "no_proxy")
"""Proxy variables (any case) that would send a test's loopback traffic elsewhere."""


def is_setting(name: str) -> bool:
    """A LaserSell setting or a proxy variable: what a CLI test must not inherit from the shell."""
    return name.startswith("LASERSELL_") or name.lower() in PROXIES


def clean_env(**extra: str) -> Dict[str, str]:
    """This process's environment without any LaserSell setting or proxy, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not is_setting(k)}
    env["PYTHONPATH"] = str(ROOT)
    env.update(extra)
    return env


WAIT = 10.0
"""How long a test waits for something that is going to happen; only reached when the test fails."""


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def fixture_json(name: str) -> Any:
    return json.loads(fixture_bytes(name))


class Collector:
    """A thread-safe list that tests hand out as a callback and wait on, instead of sleeping.

    Call it (or :meth:`add`) with one item from any thread. :meth:`wait` blocks until a
    predicate over the items holds and returns a snapshot of them; it fails the test after
    ``timeout`` seconds, a bound only a failing test reaches (nothing is decided by it).
    """

    def __init__(self, name: str = "collected") -> None:
        self.name = name
        self.cond = threading.Condition()
        self._items: List[Any] = []

    def __repr__(self) -> str:
        return f"<Collector {self.name}: {self.snapshot()[:20]!r}>"

    def add(self, item: Any) -> None:
        with self.cond:
            self._items.append(item)
            self.cond.notify_all()

    __call__ = add

    def snapshot(self) -> List[Any]:
        """The items so far, in the order they were added."""
        with self.cond:
            return list(self._items)

    def __len__(self) -> int:
        with self.cond:
            return len(self._items)

    def of(self, kind: Union[type, str]) -> List[Any]:
        """The items that are instances of ``kind``, or, given a name, whose ``.type`` is it."""
        return _of(self.snapshot(), kind)

    def reached(self, predicate: Callable[[List[Any]], Any], timeout: float = WAIT) -> bool:
        """Wait until ``predicate(items)`` holds; False if it did not within ``timeout``."""
        with self.cond:
            return bool(self.cond.wait_for(lambda: predicate(self._items), timeout))

    def wait(self, predicate: Callable[[List[Any]], Any], timeout: float = WAIT) -> List[Any]:
        """Wait until ``predicate(items)`` holds; returns the items then (fails the test on timeout)."""
        with self.cond:
            ok = self.cond.wait_for(lambda: predicate(self._items), timeout)
            items = list(self._items)
        assert ok, f"{self.name}: condition not reached within {timeout:g} s; got {items[:20]!r}"
        return items

    def wait_count(self, count: int, timeout: float = WAIT) -> List[Any]:
        """Wait until at least ``count`` items arrived; returns them all."""
        return self.wait(lambda items: len(items) >= count, timeout)

    def wait_of(self, kind: Union[type, str], count: int = 1, timeout: float = WAIT) -> List[Any]:
        """Wait until at least ``count`` items are ``kind`` (see :meth:`of`); returns those items."""
        return _of(self.wait(lambda items: len(_of(items, kind)) >= count, timeout), kind)


def _of(items: List[Any], kind: Union[type, str]) -> List[Any]:
    if isinstance(kind, str):
        return [item for item in items if getattr(item, "type", None) == kind]
    return [item for item in items if isinstance(item, kind)]


Collect = Callable[..., Collector]
"""The ``collect`` fixture: ``collect(name)`` makes a new :class:`Collector`."""


def example(name: str) -> ModuleType:
    """Import ``examples/<name>.py`` as a module (the examples import their ``_common`` as a sibling)."""
    sys.path.insert(0, str(EXAMPLES))
    try:
        return importlib.import_module(name)
    finally:
        sys.path.remove(str(EXAMPLES))
