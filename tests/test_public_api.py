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
    "lasersell_sync.metrics",
    "lasersell_sync.proto",
    "lasersell_sync.report",
    "lasersell_sync.simulator",
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


MOVED_FROM_THE_TOP_LEVEL = {
    "backoff": (
        "LOW_LATENCY_RETRY_POLICY",
        "RetryPolicy",
    ),
    "errors": (
        "InvalidDerivationPathError",
        "InvalidKeyError",
        "InvalidSeedPhraseError",
        "KeystoreFormatError",
        "PassphraseRequiredError",
        "WrongPassphraseError",
    ),
    "exit_api": (
        "AccountInfo",
        "AccountLimits",
        "BuildTxResponse",
        "BuyInput",
        "HealthStatus",
        "SellOutput",
        "SellablePosition",
        "TradeHistoryPage",
        "TradeRecord",
        "TxMode",
    ),
    "proto": (
        "ClientMessage",
        "ClosePosition",
        "Configure",
        "JSON_BACKEND",
        "Limits",
        "MARKET_TYPES",
        "MarketContext",
        "MarketType",
        "MeteoraDammV2Context",
        "MeteoraDbcContext",
        "MirrorBuyResult",
        "Ping",
        "PumpFunContext",
        "PumpSwapContext",
        "RaydiumCpmmContext",
        "RaydiumLaunchpadContext",
        "RequestExitSignal",
        "ServerMessage",
        "SlippageBand",
        "UpdatePositionStrategy",
        "UpdateStrategy",
        "UpdateWallets",
        "UpdateWatchWallets",
        "WalletProof",
        "decode_client",
        "decode_server",
        "encode_client",
        "encode_server",
        "ensure_exit_condition",
        "validate_strategy",
    ),
    "stream": (
        "BadFrame",
        "CommandRejected",
        "DEFAULT_ENDPOINT",
        "EVENT_NAMES",
        "TransportEvent",
        "TransportStats",
    ),
    "tx": (
        "Confirmation",
        "FastSigned",
        "MAINNET_BETA_RPC_URL",
        "SendTarget",
        "SignatureStatus",
        "Submission",
        "confirm_transaction",
        "decode_unsigned_tx",
        "encode_signed_tx",
        "fast_sign",
        "is_blockhash_valid",
        "send_and_confirm",
        "send_transaction",
        "send_transaction_b64",
    ),
    "wallet": (
        "DEFAULT_DERIVATION_PATH",
        "PASSPHRASE_ENV",
        "keypair_from_base58",
        "keypair_from_seed_phrase",
        "read_keystore",
        "write_keystore",
    ),
}
"""Names that were top-level until the surface was cut to what bots use; aliases warn for one release."""


def test_types_named_by_public_signatures_are_exported_from_their_subpackage() -> None:
    homes = {
        "EventIterator": ls,
        "PositionRef": ls,
        "SellablePosition": ls.exit_api,
        "TransportEvent": ls.stream,
        "TransportStats": ls.stream,
        "CommandRejected": ls.stream,
        "WalletProof": ls.proto,
        "ClientMessage": ls.proto,
        "ServerMessage": ls.proto,
        "AccountInfo": ls.exit_api,  # what ExitApiClient.account/history/iter_history/health return
        "AccountLimits": ls.exit_api,
        "TradeHistoryPage": ls.exit_api,
        "TradeRecord": ls.exit_api,
        "HealthStatus": ls.exit_api,
    }
    for name, home in homes.items():
        assert name in home.__all__, name
    assert ls.proto.WalletProof is ls.exit_api.WalletProof is ls.wallet.WalletProof is proto.WalletProof


def test_the_key_loaders_and_their_errors_are_exported() -> None:
    from lasersell_sync import wallet

    assert "load_keypair" in ls.__all__
    for name in (
        "load_keypair",
        "keypair_from_base58",
        "keypair_from_seed_phrase",
        "read_keystore",
        "write_keystore",
        "DEFAULT_DERIVATION_PATH",
        "PASSPHRASE_ENV",
    ):
        assert name in wallet.__all__, name
    assert "KeyLoadError" in ls.__all__
    for name in (
        "InvalidKeyError",
        "InvalidSeedPhraseError",
        "KeystoreFormatError",
        "WrongPassphraseError",
        "PassphraseRequiredError",
        "InvalidDerivationPathError",
    ):
        assert name in ls.errors.__all__, name
        assert issubclass(getattr(ls.errors, name), ls.KeyLoadError), name


@pytest.mark.parametrize("home", sorted(MOVED_FROM_THE_TOP_LEVEL))
def test_every_moved_name_still_resolves_with_a_warning_naming_its_home(home: str) -> None:
    package = getattr(ls, home)
    for name in MOVED_FROM_THE_TOP_LEVEL[home]:
        assert name not in ls.__all__
        assert name not in dir(ls)
        with pytest.warns(DeprecationWarning, match=rf"lasersell_sync\.{name} moved to lasersell_sync\.{home}\.{name}"):
            value = getattr(ls, name)
        assert value is getattr(package, name)


def test_the_top_level_is_what_a_bot_uses() -> None:
    """Half of the former 135 names: the session, its events, strategy, exits, keys, errors to catch."""
    assert len(ls.__all__) < 70
    assert "__version__" in ls.__all__
    for name in (
        "StreamSession",
        "StrategyConfig",
        "ExitSignalWithTx",
        "ExitLanded",
        "SendTargetRpc",
        "load_keypair",
        "serve_metrics",
        "LaserSellError",
    ):
        assert name in ls.__all__, name


@pytest.mark.parametrize("module_name", ["lasersell_sync", *SUBPACKAGES])
def test_all_is_derived_from_the_imports_of_the_init(module_name: str) -> None:
    """Each package's ``__all__`` is computed from its imports: no second list to keep in step."""
    module = importlib.import_module(module_name)
    if Path(module.__file__ or "").name != "__init__.py":
        return  # a plain module keeps its own literal __all__
    source = Path(module.__file__ or "").read_text()
    assert "__all__ = _public_names(globals())" in source


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
