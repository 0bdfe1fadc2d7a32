"""Checked by mypy in CI (not run): handler registration is precisely typed.

A ``# type: ignore[...]`` here marks a mistake mypy must catch; with ``warn_unused_ignores``
(part of ``--strict``) the check fails if mypy stops catching it.
"""

from __future__ import annotations

from typing import Any, Callable, Optional

from typing_extensions import assert_type

import lasersell_sync as ls

session = ls.StreamSession("key", ["1" * 32], ls.StrategyConfig(target_profit_pct=5, stop_loss_pct=1))


@session.on(ls.ExitSignalWithTx)
def on_exit(event: ls.Event[ls.ExitSignalWithTx]) -> None:
    assert_type(event.message, ls.ExitSignalWithTx)
    assert_type(event.handle, Optional[ls.PositionHandle])


@session.on(ls.PnlUpdate)  # type: ignore[arg-type]
def wrong_type(event: ls.Event[ls.ExitSignalWithTx]) -> None: ...


@session.on("connected")
def on_connected(event: ls.Event[ls.Connected]) -> None: ...


@session.on_any
def everything(event: ls.Event[Any]) -> None: ...


@session.on_error
def on_error(error: BaseException, event: Optional[ls.Event[Any]]) -> None: ...


assert_type(on_exit, Callable[[ls.Event[ls.ExitSignalWithTx]], None])  # the decorator keeps the type


def partial_sell(api: ls.ExitApiClient, handle: ls.PositionHandle, ref: ls.PositionRef) -> None:
    """A PositionHandle is a SellablePosition without the Exit API importing the stream."""
    api.build_partial_sell_tx(handle, amount_tokens=1, slippage_bps=100)
    api.build_partial_sell_tx(ref, amount_tokens=1, slippage_bps=100)  # type: ignore[arg-type]
    session.close_position(ref)
