"""Shared by the report tests: a hand-built recording of every message type, and readers of a report page.

The recording tells one coherent story for position 1 (entry 20,000,000 quote units per whole
token, prices 25, 26, 27, 27.5 and, after the sell, 30 million; an exit signal, an attempt, a
landing, the close) and a partial one for position 2 (an exit signal of an unannounced position,
a failed and an unresolved tranche), around every other server message type, the session's
lifecycle events, and lines a report must skip: a non-JSON line, a line that is neither frame
nor event, an undecodable frame, a frame that is not JSON, an unknown message type, an unknown
event, and a last line cut off mid-way.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any, Dict, List, Tuple

import lasersell_sync as ls

FIXTURES = Path(__file__).resolve().parent / "fixtures"
STRATEGY = ls.StrategyConfig(target_profit_pct=40, stop_loss_pct=10, trailing_stop_pct=5)
ENTRY_PRICE = 20_000_000.0
SIGNATURE = "5" * 64
SVG = "http://www.w3.org/2000/svg"
SKIPPED = {
    "cut_off": 1,
    "unreadable": 2,
    "undecodable": 2,
    "unknown": [["event strategy_changed", 1], ["session_notice", 1]],
}


def fixture(name: str, **changes: Any) -> str:
    """A fixture's message with some fields changed, as one frame's text."""
    message = json.loads((FIXTURES / f"{name}.json").read_text())
    message.update(changes)
    return json.dumps(message, separators=(",", ":"))


def frame(t: float, text: str) -> str:
    return json.dumps({"t": t, "frame": text})


def event(t: float, name: str, **fields: Any) -> str:
    return json.dumps({"t": t, "event": name, "fields": fields})


def exit_fields(position_id: int, **more: Any) -> Dict[str, Any]:
    return {"position_id": position_id, "token_account": "ATA...", "mint": "TokenMint...", **more}


def hand_built_lines() -> List[str]:
    """The recording's lines, the cut-off last one without its newline."""
    landed = exit_fields(1, signature=SIGNATURE, slot=280000050, attempt=1, latency_ms=400.0, slippage_bps=None)
    return [
        frame(0.0, fixture("server_hello_ok")),
        event(0.001, "connected", reconnect=False),
        frame(0.5, fixture("server_balance_update")),
        frame(1.0, fixture("server_position_opened", token_decimals=6, token_symbol="HAND")),
        frame(1.5, fixture("server_liquidity_snapshot")),
        frame(2.0, fixture("server_pnl_update")),  # no token_price_quote: 125,000,000 over 5,000,000 tokens
        frame(3.0, fixture("server_trade_tick", position_id=1, price_quote=26_000_000)),
        "this line is not JSON",
        frame(4.0, fixture("server_pnl_update_extended", position_id=1, token_price_quote=27_000_000)),
        frame(4.2, fixture("server_pong")),
        frame(4.3, fixture("server_error_capacity_exceeded")),
        frame(4.4, '{"type":"pnl_update","position_id":1}'),  # undecodable: fields missing
        frame(4.5, "{not json"),
        frame(4.6, fixture("server_unknown_type")),
        json.dumps({"t": 4.7}),  # neither a frame nor an event
        frame(5.0, fixture("server_exit_signal_with_tx")),
        event(
            5.1, "exit_submitted", **exit_fields(1, signature=SIGNATURE, targets=["rpc"], attempt=1, slippage_bps=None)
        ),
        frame(5.2, fixture("server_trade_tick", position_id=1, price_quote=27_500_000)),
        event(5.4, "exit_landed", **landed),
        frame(5.5, fixture("server_position_closed")),
        frame(6.0, fixture("server_trade_tick", position_id=1, price_quote=30_000_000)),
        frame(6.5, fixture("server_exit_signal_with_tx_partial")),
        event(
            6.6,
            "exit_failed",
            **exit_fields(2, reason="max_retries", attempts=3, error="slippage exceeded", level_index=0),
        ),
        event(6.7, "exit_unresolved", **exit_fields(2, reason="closed", signatures=[SIGNATURE], attempts=1)),
        frame(6.8, fixture("server_mirror_buy_signal_minimal")),
        frame(6.9, fixture("server_mirror_buy_failed")),
        frame(7.0, fixture("server_mirror_wallet_auto_disabled")),
        event(7.1, "bad_frame", error="ProtocolError: invalid JSON"),
        event(7.2, "command_rejected", command="UpdateStrategy(...)", code="invalid_strategy", message="bad"),
        event(7.3, "disconnected", reason="connection reset", error="ConnectionResetError: reset", will_reconnect=True),
        event(7.4, "reconnecting", attempt=1, delay=0.1, last_error=None),
        event(7.6, "connected", reconnect=True),
        event(7.7, "strategy_changed", anything=1),  # an event this release does not know
        frame(7.8, fixture("server_hello_ok")),
        event(8.0, "closed", error=None),
        '{"t": 9.0, "frame": "{\\"type\\":\\"pnl_upd',  # the writer stopped here
    ]


def write_hand_built(path: Path) -> Path:
    path.write_text("\n".join(hand_built_lines()))  # no newline after the last line: it was cut off
    return path


# -- reading a page back ------------------------------------------------------------------------


def page_data(page: str) -> Dict[str, Any]:
    """The JSON the page embeds."""
    match = re.search(r'<script type="application/json" id="report-data">(.*?)</script>', page, re.S)
    assert match is not None, "no embedded data"
    data: Dict[str, Any] = json.loads(match.group(1))
    return data


def chart(page: str, position_id: int) -> str:
    """The SVG of one position's chart."""
    section = page.split(f'<section id="position-{position_id}">', 1)[1].split("</section>", 1)[0]
    return section[section.index("<svg") : section.index("</svg>") + len("</svg>")]


def element(svg: str, gid: str) -> ET.Element:
    """The SVG element with id ``gid`` (the chart's own ids: ``p<position>-<kind>-<n>``)."""
    found = ET.fromstring(svg).find(f".//*[@id='{gid}']")
    assert found is not None, f"nothing drawn with id {gid}"
    return found


def marker_xy(svg: str, gid: str) -> Tuple[float, float]:
    """Where the marker drawn with SVG id ``gid`` sits, in the SVG's coordinates (y grows downwards)."""
    use = element(svg, gid).find(f".//{{{SVG}}}use")
    assert use is not None, f"no marker in {gid}"
    return float(use.attrib["x"]), float(use.attrib["y"])


def hline_y(svg: str, gid: str) -> float:
    """The height of the horizontal line drawn with SVG id ``gid``."""
    path = element(svg, gid).find(f".//{{{SVG}}}path")
    assert path is not None, f"no line in {gid}"
    numbers = [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", path.attrib["d"])]
    heights = set(numbers[1::2])
    assert len(heights) == 1, f"{gid} is not horizontal: {path.attrib['d']}"
    return heights.pop()
