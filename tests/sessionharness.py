"""A StreamSession harness against the scripted server, and the frames the session tests send.

Shared by the dispatch, robustness and recording tests, so they build sessions and frames one way.
"""

from __future__ import annotations

import threading
from typing import Any, List

import lasersell_sync as ls
from tests.wsserver import ScriptedServer

KEY = "sk-test-dispatch"
WALLET = "1" * 32
MINT = "3" * 32
STRATEGY = ls.StrategyConfig(target_profit_pct=50, stop_loss_pct=10)
FAST = ls.Backoff(initial=0.01, maximum=0.04)


# -- frames ----------------------------------------------------------------------------------


def pnl(position_id: int, profit: int = 1) -> str:
    return ls.proto.encode_server(
        ls.PnlUpdate(position_id=position_id, profit_units=profit, proceeds_units=2, server_time_ms=3)
    )


def liquidity(position_id: int, seq: int) -> str:
    band = ls.proto.SlippageBand(slippage_bps=100, max_tokens=seq, coverage_pct=1.0)
    return ls.proto.encode_server(
        ls.LiquiditySnapshot(position_id=position_id, bands=(band,), liquidity_trend="stable", server_time_ms=seq)
    )


def tick(position_id: int, seq: int) -> str:
    return ls.proto.encode_server(
        ls.TradeTick(position_id=position_id, time_ms=seq, side="buy", token_amount=1, quote_amount=1, price_quote=1)
    )


def exit_signal(position_id: int, seq: int = 0) -> str:
    return ls.proto.encode_server(
        ls.ExitSignalWithTx(
            session_id=1,
            position_id=position_id,
            wallet_pubkey=WALLET,
            mint=MINT,
            position_tokens=10,
            profit_units=5,
            reason="target_profit",
            triggered_at_ms=seq,
            unsigned_tx_b64="AQ==",
        )
    )


def opened(position_id: int, token_account: str) -> str:
    return ls.proto.encode_server(
        ls.PositionOpened(
            position_id=position_id,
            wallet_pubkey=WALLET,
            mint=MINT,
            token_account=token_account,
            tokens=5,
            entry_quote_units=6,
            slot=7,
        )
    )


def balance(mint: str = MINT) -> str:
    """A high-lane frame used as a marker: once its handler runs, every earlier frame was submitted."""
    return ls.proto.encode_server(ls.BalanceUpdate(wallet_pubkey=WALLET, mint=mint, tokens=1, slot=2))


# -- the harness -----------------------------------------------------------------------------


class Harness:
    """Builds sessions against the server; closes them (releasing every gate first) afterwards."""

    def __init__(self, server: ScriptedServer) -> None:
        self.server = server
        self.sessions: List[ls.StreamSession] = []
        self.gates: List[threading.Event] = []

    def session(self, **options: Any) -> ls.StreamSession:
        options.setdefault("endpoint", self.server.url)
        options.setdefault("backoff", FAST)
        session = ls.StreamSession(KEY, [WALLET], STRATEGY, **options)
        self.sessions.append(session)
        return session

    def gate(self) -> threading.Event:
        """An event handlers block on; always set at teardown so a failed test cannot hang."""
        gate = threading.Event()
        self.gates.append(gate)
        return gate

    def close_all(self) -> None:
        for gate in self.gates:
            gate.set()
        for session in self.sessions:
            session.close()
