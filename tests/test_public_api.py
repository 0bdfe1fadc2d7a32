"""The public namespace: exactly what users use, all of it documented, nothing private.

``lasersell_sync.__all__`` holds the protocol models and their codec, the session and its
events and types, the Exit API, transactions, wallets, errors and backoff. Codec internals and
response helpers live in their submodules only.
"""

from __future__ import annotations

import importlib
import inspect
import re
import warnings
from pathlib import Path
from types import ModuleType
from typing import Any, Dict, Iterator, List, Set, Tuple

import pytest

import lasersell_sync as ls
from lasersell_sync import proto

ROOT = Path(__file__).resolve().parent.parent
SUBPACKAGES = [
    "lasersell_sync.backoff",
    "lasersell_sync.errors",
    "lasersell_sync.exit_api",
    "lasersell_sync.proto",
    "lasersell_sync.stream",
    "lasersell_sync.tx",
    "lasersell_sync.wallet",
    "lasersell_sync.wallet.keys",
    "lasersell_sync.wallet.keystore",
    "lasersell_sync.wallet.proof",
    "lasersell_sync.wallet.seed_phrase",
]
INTERNALS = [
    "to_wire",  # codec internals: lasersell_sync.proto
    "from_wire",
    "jsonlib",
    "parse_build_tx_response",  # response helpers: lasersell_sync.exit_api.responses
    "summarize_error_body",
    "retry_after_seconds",
    "HttpSettings",  # private helpers
    "pooled_session",
    "check_int",
    "check_pubkey",
    "PositionBook",
    "Dispatcher",
]


def isort_key(name: str) -> Tuple[int, str]:
    """The order of ruff's RUF022: CONSTANTS, then Classes, then everything else."""
    if name.isupper() and len(name) > 1:
        return 0, name
    if name[:1].isupper():
        return 1, name
    return 2, name


def exported(module: ModuleType) -> Iterator[Tuple[str, Any]]:
    for name in module.__all__:
        yield name, getattr(module, name)


def undocumented(qualified: str, obj: Any) -> Iterator[str]:
    """``qualified`` and its public methods and properties that have no docstring of their own."""
    if inspect.isfunction(obj):
        if not (obj.__doc__ or "").strip():
            yield qualified
        return
    if not inspect.isclass(obj) or not obj.__module__.startswith("lasersell_sync"):
        return  # constants, type aliases, and what the package re-exports from elsewhere
    if not (vars(obj).get("__doc__") or "").strip():
        yield qualified
    for name, _ in inspect.getmembers(obj):
        if name.startswith("_"):
            continue  # private, dunder, and every method attrs generates
        owner = next(klass for klass in obj.__mro__ if name in vars(klass))
        if not owner.__module__.startswith("lasersell_sync"):
            continue  # inherited from str, Enum, Exception, ...
        member = vars(owner)[name]
        if isinstance(member, property):
            member = member.fget
        elif isinstance(member, (staticmethod, classmethod)):
            member = member.__func__
        if inspect.isfunction(member) and not (member.__doc__ or "").strip():
            yield f"{qualified}.{name}"


def test_all_is_sorted_and_unique() -> None:
    assert len(set(ls.__all__)) == len(ls.__all__)
    assert ls.__all__ == sorted(ls.__all__, key=isort_key)


@pytest.mark.parametrize("module_name", ["lasersell_sync", *SUBPACKAGES])
def test_every_exported_name_resolves(module_name: str) -> None:
    module = importlib.import_module(module_name)
    for name in module.__all__:
        assert hasattr(module, name), f"{module_name}.{name}"
    namespace: Dict[str, Any] = {}
    exec(f"from {module_name} import *", namespace)  # what a star import gives is exactly __all__
    assert set(namespace) - {"__builtins__"} == set(module.__all__)


def test_every_public_callable_reachable_from_all_has_a_docstring() -> None:
    missing: Set[str] = set()
    for module_name in ["lasersell_sync", *SUBPACKAGES]:
        module = importlib.import_module(module_name)
        for name, obj in exported(module):
            missing.update(undocumented(name, obj))
    assert not missing, sorted(missing)


def test_the_docstring_walk_finds_what_is_missing() -> None:
    class Bare:
        def method(self) -> None: ...

        @property
        def value(self) -> int:
            return 1

    Bare.__module__ = "lasersell_sync.example"
    assert set(undocumented("Bare", Bare)) == {"Bare", "Bare.method", "Bare.value"}
    assert set(undocumented("PositionHandle", ls.PositionHandle)) == set()


def test_nothing_private_leaks() -> None:
    for name, obj in exported(ls):
        assert not name.startswith("_") or name == "__version__", name
        assert not inspect.ismodule(obj), f"{name}: a module is not part of the namespace"
        if inspect.isclass(obj) or inspect.isfunction(obj):
            assert not any(part.startswith("_") for part in obj.__module__.split(".")), f"{name}: {obj.__module__}"
    for name in INTERNALS:
        assert name not in ls.__all__
        assert name not in dir(ls), f"{name} is at the top level"
    assert "parse_build_tx_response" not in ls.exit_api.__all__
    assert "summarize_error_body" not in ls.exit_api.__all__


def test_codec_internals_live_in_proto_and_the_old_names_warn() -> None:
    assert proto.to_wire(ls.WatchWalletEntry(pubkey="K"))["pubkey"] == "K"
    for name in ("to_wire", "from_wire"):
        with pytest.warns(DeprecationWarning, match=f"lasersell_sync.proto.{name}"):
            moved = getattr(ls, name)
        assert moved is getattr(proto, name)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an unknown name is an AttributeError, not a warning
        with pytest.raises(AttributeError, match="no_such_name"):
            ls.no_such_name  # noqa: B018


def test_the_simulator_is_imported_on_its_own() -> None:
    assert "simulator" not in ls.__all__
    assert "cli" not in ls.__all__


def test_types_named_by_public_signatures_are_exported() -> None:
    for name in (
        "EventIterator",
        "PositionRef",
        "SellablePosition",
        "TransportEvent",
        "TransportStats",
        "CommandRejected",
        "WalletProof",
        "ClientMessage",
        "ServerMessage",
        "AccountInfo",  # what ExitApiClient.account/history/iter_history/health return
        "AccountLimits",
        "TradeHistoryPage",
        "TradeRecord",
        "HealthStatus",
    ):
        assert name in ls.__all__, name
    assert ls.WalletProof is ls.exit_api.WalletProof is ls.wallet.WalletProof is proto.WalletProof


def test_the_key_loaders_and_their_errors_are_exported() -> None:
    from lasersell_sync import wallet

    for name in (
        "load_keypair",
        "keypair_from_base58",
        "keypair_from_seed_phrase",
        "read_keystore",
        "write_keystore",
        "DEFAULT_DERIVATION_PATH",
        "PASSPHRASE_ENV",
    ):
        assert name in ls.__all__, name
        assert getattr(ls, name) is getattr(wallet, name), name
    for name in ("KeyLoadError", "InvalidKeyError", "InvalidSeedPhraseError", "KeystoreFormatError"):
        assert name in ls.__all__, name
        assert getattr(ls, name) is getattr(ls.errors, name), name
    for name in ("WrongPassphraseError", "PassphraseRequiredError", "MissingExtraError", "InvalidDerivationPathError"):
        assert name in ls.__all__, name
        assert issubclass(getattr(ls, name), ls.KeyLoadError), name


def names_used_by_the_docs_and_examples() -> List[Tuple[str, str]]:
    """``ls.Name`` and ``from lasersell_sync import Name`` in README.md, examples/ and bench/."""
    files = [ROOT / "README.md"]
    for folder in ("examples", "bench", "bench/bots"):
        files.extend(sorted((ROOT / folder).glob("*.py")))
    used = []
    for path in files:
        text = path.read_text()
        for match in re.finditer(r"\bls\.([A-Za-z_]\w*)", text):
            used.append((path.relative_to(ROOT).as_posix(), match.group(1)))
        for match in re.finditer(r"from lasersell_sync import \(?([\w\s,]+)\)?", text):
            for name in re.split(r"[\s,]+", match.group(1).strip()):
                if name:
                    used.append((path.relative_to(ROOT).as_posix(), name))
    return used


def test_every_name_the_readme_examples_and_bench_use_is_exported() -> None:
    used = names_used_by_the_docs_and_examples()
    assert len(used) > 50
    submodules = {"simulator", "proto", "stream", "tx", "exit_api", "wallet", "errors", "backoff"}
    missing = sorted({(where, name) for where, name in used if name not in ls.__all__ and name not in submodules})
    assert not missing
