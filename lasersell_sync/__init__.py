"""lasersell_sync: a synchronous Python SDK for the LaserSell Exit Intelligence Stream.

The names here are what a bot uses: the session, the events its handlers take, the strategy,
``auto_exit``'s targets and outcomes, the keys, the errors to catch, and ``serve_metrics``.
Everything else lives in its subpackage, each with its own ``__all__``:
``lasersell_sync.proto`` (every wire message, nested types and the codec),
``lasersell_sync.stream`` (transport events and stats), ``lasersell_sync.exit_api`` (request and
response models), ``lasersell_sync.tx`` (signing, sending and confirming by hand),
``lasersell_sync.wallet`` (key formats and keystores), ``lasersell_sync.errors`` and
``lasersell_sync.backoff``. The embedded simulator is imported on its own:
``from lasersell_sync.simulator import Simulator``.

A name that used to be here and moved to a subpackage still resolves, with a
``DeprecationWarning`` naming its new home; the old spelling is removed in the release after 0.1.0.
"""

from __future__ import annotations

import logging as _logging
import sys as _sys
import warnings as _warnings
from typing import TYPE_CHECKING as _TYPE_CHECKING, Any as _Any

from . import (  # the subpackages, for ls.proto.Configure and the like
    backoff as backoff,
    errors as errors,
    exit_api as exit_api,
    proto as proto,
    stream as stream,
    tx as tx,
    wallet as wallet,
)
from ._exports import public_names as _public_names
from .backoff import Backoff as Backoff
from .errors import (
    AuthenticationError as AuthenticationError,
    CommandRejectedError as CommandRejectedError,
    ConnectError as ConnectError,
    ExitApiError as ExitApiError,
    InvalidStrategyError as InvalidStrategyError,
    JournalError as JournalError,
    KeyLoadError as KeyLoadError,
    LaserSellError as LaserSellError,
    MissingExtraError as MissingExtraError,
    ProtocolError as ProtocolError,
    SessionClosedError as SessionClosedError,
    StrategyWarning as StrategyWarning,
    StreamServerError as StreamServerError,
    TlsPinError as TlsPinError,
    TxSubmitError as TxSubmitError,
)
from .exit_api import (
    BuildBuyTxRequest as BuildBuyTxRequest,
    BuildSellTxRequest as BuildSellTxRequest,
    ExitApiClient as ExitApiClient,
)
from .metrics import serve_metrics as serve_metrics
from .proto import (
    AutoBuyConfig as AutoBuyConfig,
    BalanceUpdate as BalanceUpdate,
    ErrorMessage as ErrorMessage,
    ExitSignalWithTx as ExitSignalWithTx,
    HelloOk as HelloOk,
    LiquiditySnapshot as LiquiditySnapshot,
    MirrorBuyFailed as MirrorBuyFailed,
    MirrorBuySignal as MirrorBuySignal,
    MirrorConfig as MirrorConfig,
    MirrorWalletAutoDisabled as MirrorWalletAutoDisabled,
    PnlUpdate as PnlUpdate,
    Pong as Pong,
    PositionClosed as PositionClosed,
    PositionOpened as PositionOpened,
    StrategyConfig as StrategyConfig,
    TakeProfitLevel as TakeProfitLevel,
    TradeTick as TradeTick,
    UnknownMessage as UnknownMessage,
    WatchWalletEntry as WatchWalletEntry,
)
from .stream import (
    Closed as Closed,
    Connected as Connected,
    Disconnected as Disconnected,
    Event as Event,
    EventIterator as EventIterator,
    ExitExecutor as ExitExecutor,
    ExitFailed as ExitFailed,
    ExitLanded as ExitLanded,
    ExitPolicy as ExitPolicy,
    ExitRefusedError as ExitRefusedError,
    ExitStats as ExitStats,
    ExitSubmitted as ExitSubmitted,
    ExitUnresolved as ExitUnresolved,
    PositionHandle as PositionHandle,
    PositionRef as PositionRef,
    Reconnecting as Reconnecting,
    SessionStats as SessionStats,
    StreamConnection as StreamConnection,
    StreamSession as StreamSession,
)
from .tx import (
    SendTargetAstralane as SendTargetAstralane,
    SendTargetHeliusSender as SendTargetHeliusSender,
    SendTargetRpc as SendTargetRpc,
    TxSender as TxSender,
    sign_unsigned_tx as sign_unsigned_tx,
)
from .wallet import load_keypair as load_keypair, prove_ownership as prove_ownership

__version__ = "0.1.0"

_logging.getLogger(__name__).addHandler(_logging.NullHandler())

_HOMES = ("proto", "stream", "exit_api", "tx", "wallet", "errors", "backoff")
"""Where names that left the top level live now, searched in this order."""


if not _TYPE_CHECKING:  # mypy keeps rejecting the old names; at run time old code keeps working

    def __getattr__(name: str) -> _Any:
        """A name that moved to a subpackage still resolves, with a DeprecationWarning saying where."""
        for home in _HOMES:
            module = _sys.modules[f"{__name__}.{home}"]
            if name in module.__all__:
                _warnings.warn(
                    f"lasersell_sync.{name} moved to lasersell_sync.{home}.{name}; the top-level name will be removed",
                    DeprecationWarning,
                    stacklevel=2,
                )
                return getattr(module, name)
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = _public_names(globals())
