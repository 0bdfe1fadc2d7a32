"""The trade report: a recording read into per-position data, and the page drawn from it.

Two recordings: one made with ``auto_exit`` on the simulator (a ladder, a failed first sell, a
dropped connection), checked against the recording's own lines; and a hand-built one holding
every server message type, the session's events and lines to skip (``tests/reportdata.py``),
checked against figures worked out by hand. Charts are read back from the SVG: each marker's
position must be the same linear map of (time, price) as every other marker's.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any, Dict, List, Tuple

import pytest

import lasersell_sync as ls
from lasersell_sync.proto.server import SERVER_MESSAGE_TYPES
from lasersell_sync.report import (
    PricePoint,
    describe_strategy,
    read_report,
    render_html,
    report_data,
    write_report,
)
from lasersell_sync.report.series import thinned
from lasersell_sync.report.thresholds import threshold_lines, trailing_steps
from tests.reportdata import (
    ENTRY_PRICE,
    SIGNATURE,
    SKIPPED,
    STRATEGY,
    chart,
    element,
    event,
    fixture,
    frame,
    hline_y,
    marker_xy,
    page_data,
    write_hand_built,
)

pytest.importorskip("matplotlib")

LADDER = ls.StrategyConfig(
    target_profit_pct=0,
    stop_loss_pct=15,
    trailing_stop_pct=8,
    take_profit_levels=(
        ls.TakeProfitLevel(profit_pct=10, sell_pct=50),
        ls.TakeProfitLevel(profit_pct=25, sell_pct=100, trailing_stop_pct=4),
    ),
)


@pytest.fixture(scope="module")
def sim_recording(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A session with ``auto_exit`` on the simulator: ladder sells, one failed on chain, one reconnect."""
    from lasersell_sync.simulator import Simulator

    path = tmp_path_factory.mktemp("report") / "session.jsonl"
    landed: List[ls.ExitLanded] = []
    first, enough, reconnected, retried = threading.Event(), threading.Event(), threading.Event(), threading.Event()

    def on_landed(event: ls.Event[ls.ExitLanded]) -> None:
        landed.append(event.message)
        first.set()
        if len(landed) >= 3:
            enough.set()

    with Simulator(seed=3, scenario="pump", speed=20) as sim:
        sim.faults.fail_transactions(1.0, count=1)  # the first sell fails on chain: a second attempt follows
        session = ls.StreamSession(sim.api_key, [sim.wallet_pubkey], LADDER, endpoint=sim.stream_url, record_to=path)
        session.on(ls.ExitLanded, on_landed)
        session.on("connected", lambda event: event.message.reconnect and reconnected.set())
        session.on(ls.ExitSubmitted, lambda event: event.message.attempt >= 2 and retried.set())
        session.auto_exit(sim.wallet, ls.SendTargetRpc(url=sim.rpc_url))
        with session:
            assert first.wait(20)
            sim.faults.drop_connections()
            assert reconnected.wait(20)
            assert enough.wait(20)
            assert retried.wait(20)
    return path


def recorded(path: Path) -> List[Dict[str, Any]]:
    """Every line of a recording, frames decoded to dicts (what the test checks the report against)."""
    lines = []
    for line in path.read_text().splitlines():
        entry = json.loads(line)
        if "frame" in entry:
            entry["message"] = json.loads(entry["frame"])
        lines.append(entry)
    return lines


def last_price(lines: List[Dict[str, Any]], position_id: int, t: float) -> float:
    """The price of the position last recorded at or before ``t`` (pnl_update, trade_tick or the open)."""
    price = None
    for line in lines:
        message = line.get("message", {})
        if line["t"] > t or message.get("position_id") != position_id:
            continue
        value = message.get("token_price_quote") if message.get("type") != "trade_tick" else message["price_quote"]
        if message.get("type") in ("pnl_update", "trade_tick", "position_opened") and value is not None:
            price = float(value)
    assert price is not None
    return price


def calibrated(points: List[Tuple[float, float, float, float]]) -> Tuple[Any, Any]:
    """The linear maps time -> x and price -> y fitted through two of ``(t, price, x, y)`` points that differ."""
    (t0, _, x0, _), (t1, _, x1, _) = points[0], next(p for p in points if p[0] != points[0][0])
    (pa, ya), (pb, yb) = next(((a[1], a[3]), (b[1], b[3])) for a in points for b in points if a[1] != b[1])
    return (lambda t: x0 + (t - t0) * (x1 - x0) / (t1 - t0)), (lambda p: ya + (p - pa) * (yb - ya) / (pb - pa))


def assert_markers_drawn_where_they_happened(page: str, position: Dict[str, Any]) -> int:
    """Every marker with a price is drawn at its (time, price), on one linear map; returns how many were."""
    pid, svg = position["position_id"], chart(page, position["position_id"])
    counts: Dict[str, int] = {}
    points = []
    for marker in position["markers"]:
        n = counts[marker["kind"]] = counts.get(marker["kind"], 0) + 1
        element(svg, f"p{pid}-{marker['kind']}-{n - 1}")  # every marker is drawn, with its own id
        if marker["kind"] not in ("opened", "closed") and marker["price"] is not None:
            x, y = marker_xy(svg, f"p{pid}-{marker['kind']}-{n - 1}")
            points.append((marker["t"], marker["price"], x, y))
    if len({p[0] for p in points}) < 2 or len({p[1] for p in points}) < 2:
        return len(points)
    x_of, y_of = calibrated(points)
    for t, price, x, y in points:
        assert x == pytest.approx(x_of(t), abs=0.01), (t, price)
        assert y == pytest.approx(y_of(price), abs=0.01), (t, price)
    for line in position["thresholds"]:
        gid = f"p{pid}-{line['kind']}" if line["level_index"] is None else f"p{pid}-level-{line['level_index']}"
        assert hline_y(svg, gid) == pytest.approx(y_of(line["price"]), abs=0.01), line
    return len(points)


# -- a simulator recording ------------------------------------------------------------------------


def test_the_report_of_a_simulator_session_shows_every_position_and_exit(sim_recording: Path, tmp_path: Path) -> None:
    lines = recorded(sim_recording)
    out = tmp_path / "report.html"
    report = write_report(sim_recording, out, LADDER)
    page = out.read_text()
    data = page_data(page)

    opened = {
        line["message"]["position_id"] for line in lines if line.get("message", {}).get("type") == "position_opened"
    }
    assert [p["position_id"] for p in data["positions"]] == sorted(opened)
    assert page.count('<section id="position-') == len(opened)
    assert data["skipped"]["total"] == 0
    assert "0 skipped" in page

    by_id = {p["position_id"]: p for p in data["positions"]}
    events = [line for line in lines if line.get("event", "").startswith("exit_")]
    for line in events:  # each exit event is a marker at its time, at the price recorded last before it
        fields, kind = line["fields"], line["event"][len("exit_") :]
        position = by_id[fields["position_id"]]
        (marker,) = [m for m in position["markers"] if m["kind"] == kind and m["t"] == line["t"]]
        assert marker["price"] == last_price(lines, fields["position_id"], line["t"])
        assert marker["level_index"] == fields.get("level_index")
        if kind in ("submitted", "landed"):
            assert marker["attempt"] == fields["attempt"]
            assert marker["slippage_bps"] == fields["slippage_bps"]
    signals = [line for line in lines if line.get("message", {}).get("type") == "exit_signal_with_tx"]
    assert sum(m["kind"] == "signal" for p in data["positions"] for m in p["markers"]) == len(signals)
    landed = [line for line in events if line["event"] == "exit_landed"]
    assert data["totals"]["landed"] == len(landed) >= 3
    assert any(m["attempt"] == 2 for p in data["positions"] for m in p["markers"] if m["kind"] == "submitted")
    assert data["totals"]["reconnects"] == 1
    assert [mark["kind"] for mark in data["session"]].count("reconnected") == 1
    assert report.totals.landed == len(landed)

    drawn = 0
    for position in data["positions"]:
        drawn += assert_markers_drawn_where_they_happened(page, position)
        entry = position["entry_price"]
        levels = [line for line in position["thresholds"] if line["kind"] == "ladder"]
        assert [line["price"] for line in levels] == pytest.approx([entry * 1.10, entry * 1.25])
        assert [line["kind"] for line in position["thresholds"] if line["kind"] != "ladder"] == ["stop_loss"]
    assert drawn >= 2 * len(landed)


def test_the_trailing_stop_follows_the_best_price_and_takes_a_levels_distance(sim_recording: Path) -> None:
    report = read_report(sim_recording, LADDER)
    moved = [p for p in report.positions if len(p.trailing) > 1]
    assert moved
    for position in moved:
        level_1 = next((m.t for m in position.markers if m.kind == "signal" and m.level_index == 1), None)
        entry = position.entry_price or 0
        best = float("-inf")
        for step in position.trailing:
            best = max(best, *(p.price for p in position.prices if p.t <= step.t))
            distance = 4 if level_1 is not None and step.t >= level_1 else 8
            assert step.pct == pytest.approx((best / entry - 1) * 100 - distance)
            assert step.price == pytest.approx(entry * (1 + step.pct / 100))


def test_the_page_is_the_same_for_the_same_recording(sim_recording: Path) -> None:
    report = read_report(sim_recording, LADDER)
    assert render_html(report) == render_html(read_report(sim_recording, LADDER))


# -- a hand-built recording: every message type, lines to skip ------------------------------------


@pytest.fixture
def hand_built(tmp_path: Path) -> Path:
    return write_hand_built(tmp_path / "hand.jsonl")


def test_the_hand_built_recording_holds_every_server_message_type(hand_built: Path) -> None:
    types = set()
    for line in hand_built.read_text().splitlines()[:-1]:
        entry = json.loads(line) if line.startswith("{") else {}
        if entry.get("frame", "").startswith('{"'):
            types.add(json.loads(entry["frame"]).get("type"))
    assert {cls.TYPE for cls in SERVER_MESSAGE_TYPES} <= types


def test_a_recording_with_every_message_type_and_broken_lines_gives_a_report(hand_built: Path, tmp_path: Path) -> None:
    out = tmp_path / "hand.html"
    write_report(hand_built, out, STRATEGY)
    page = out.read_text()
    data = page_data(page)

    assert data["skipped"] == {**SKIPPED, "total": 7}
    assert "<strong>7 skipped</strong>: 1 cut-off last line, 2 unreadable lines, 2 undecodable frames" in page
    assert [p["position_id"] for p in data["positions"]] == [1, 2]

    first = data["positions"][0]
    assert first["entry_price"] == ENTRY_PRICE
    assert [p[:2] for p in first["prices"]] == [[2.0, 25e6], [3.0, 26e6], [4.0, 27e6], [5.2, 27.5e6], [6.0, 30e6]]
    markers = [(m["t"], m["kind"], m["price"]) for m in first["markers"]]
    assert markers == [
        (1.0, "opened", None),
        (5.0, "signal", 27e6),
        (5.1, "submitted", 27e6),
        (5.4, "landed", 27.5e6),
        (5.5, "closed", 27.5e6),
    ]
    landed = first["markers"][3]
    assert (landed["attempt"], landed["latency_ms"], landed["signature"]) == (1, 400.0, SIGNATURE)
    assert first["markers"][1]["pnl_pct"] == pytest.approx(50.0)
    thresholds = {line["kind"]: line["price"] for line in first["thresholds"]}
    assert thresholds == {"take_profit": pytest.approx(28e6), "stop_loss": pytest.approx(18e6)}
    trailing = [(step["t"], step["price"]) for step in first["trailing"]]
    assert trailing == [(2.0, pytest.approx(24e6)), (3.0, pytest.approx(25e6)), (4.0, pytest.approx(26e6)),
                        (5.2, pytest.approx(26.5e6))]  # fmt: skip
    row = first["row"]
    assert (row["entry_units"], row["exit_units"], row["pnl_pct"]) == (100_000_000, 150_000_000, pytest.approx(50))
    assert (row["reasons"], row["attempts"], row["outcome"], row["signal_to_landed_ms"]) == (
        ["target_profit"], 1, "landed", [400.0]
    )  # fmt: skip
    assert row["after_exit"] == {"t": 6.0, "price": 30e6, "pct_vs_exit": pytest.approx((30 / 27 - 1) * 100)}
    assert assert_markers_drawn_where_they_happened(page, first) == 3
    svg = chart(page, 1)
    assert hline_y(svg, "p1-entry") == pytest.approx(hline_y(svg, "p1-stop_loss") + (hline_y(svg, "p1-take_profit") - hline_y(svg, "p1-stop_loss")) * 0.2)  # fmt: skip
    element(svg, "p1-trailing")

    second = data["positions"][1]
    assert [(m["kind"], m["level_index"], m["price"]) for m in second["markers"]] == [
        ("signal", 0, None), ("failed", 0, None), ("unresolved", None, None)
    ]  # fmt: skip
    assert second["row"]["outcome"] == "failed (max_retries), unresolved"
    assert second["row"]["attempts"] == 4

    session = [(mark["t"], mark["kind"]) for mark in data["session"]]
    assert session == [(0.001, "connected"), (4.3, "error"), (6.9, "error"), (7.0, "error"), (7.1, "error"),
                       (7.2, "error"), (7.3, "disconnected"), (7.4, "reconnecting"), (7.6, "reconnected"),
                       (8.0, "closed")]  # fmt: skip
    timeline = page.split("<h2>Session</h2>", 1)[1].split("<h2>Charts</h2>", 1)[0]
    for kind in ("reconnecting-0", "error-4", "disconnected-0", "closed-0", "connected-1"):
        assert f'id="session-{kind}"' in timeline
    assert "command rejected: invalid_strategy: bad" in timeline
    expected = {"positions": 2, "exited": 1, "landed": 1, "failed": 1, "unresolved": 1, "reconnects": 1, "errors": 5}
    expected.update(entry_units=100_000_000, exit_units=150_000_000, pnl_units=50_000_000, attempts=5)
    assert {name: data["totals"][name] for name in expected} == expected


def test_without_a_strategy_no_threshold_is_drawn_and_the_page_says_why(hand_built: Path) -> None:
    page = render_html(read_report(hand_built))
    data = page_data(page)
    assert all(not p["thresholds"] and not p["trailing"] for p in data["positions"])
    assert data["strategy"] is None
    assert "p1-take_profit" not in page
    assert "p1-trailing" not in page
    assert describe_strategy(None) in page


def test_a_recording_without_session_events_takes_its_connects_from_hello_ok(tmp_path: Path) -> None:
    path = tmp_path / "old.jsonl"
    hello = (Path(__file__).parent / "fixtures" / "server_hello_ok.json").read_text()
    text = json.dumps(json.loads(hello), separators=(",", ":"))
    path.write_text("".join(json.dumps({"t": t, "frame": text}) + "\n" for t in (0.0, 3.0)))
    report = read_report(path)
    assert [(mark.t, mark.kind) for mark in report.session] == [(0.0, "connected"), (3.0, "reconnected")]
    assert report.totals.reconnects == 1
    assert report.positions == ()


@pytest.mark.parametrize(
    ("content", "message"), [(b"", "is empty"), (b"\x00\xff garbage\n{}\n", "none of its 2 lines")]
)
def test_a_file_that_is_no_recording_is_refused(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=message):
        read_report(path)


# -- the parts ------------------------------------------------------------------------------------


def test_thinning_keeps_every_extreme_and_both_ends() -> None:
    prices = [PricePoint(i / 10, float((i * 37) % 1001), "pnl") for i in range(100_000)]
    prices[51_234] = PricePoint(prices[51_234].t, 5000.0, "tick")  # a spike
    kept = thinned(prices, limit=600)
    assert len(kept) <= 600
    assert kept[0] is prices[0]
    assert kept[-1] is prices[-1]
    assert prices[51_234] in kept
    assert min(p.price for p in kept) == min(p.price for p in prices)
    assert [p.t for p in kept] == sorted(p.t for p in kept)
    assert thinned(prices[:10]) == prices[:10]


def test_the_trailing_stop_arms_in_profit_and_a_level_changes_its_distance() -> None:
    strategy = ls.StrategyConfig(
        target_profit_pct=0,
        stop_loss_pct=0,
        trailing_stop_pct=10,
        take_profit_levels=(ls.TakeProfitLevel(profit_pct=20, sell_pct=50, trailing_stop_pct=5),),
    )
    prices = [
        PricePoint(t, price, "pnl")
        for t, price in [(0, 90.0), (1, 100.0), (2, 110.0), (3, 105.0), (4, 125.0), (5, 130.0)]
    ]
    steps = trailing_steps(strategy, 100.0, prices, {0: 4.0}, until=4.5)
    assert [(s.t, s.pct) for s in steps] == [(2, pytest.approx(0.0)), (4, pytest.approx(20.0))]
    assert [s.price for s in steps] == [pytest.approx(100.0), pytest.approx(120.0)]


def test_report_data_is_json(hand_built: Path) -> None:
    data = report_data(read_report(hand_built, STRATEGY))
    assert json.loads(json.dumps(data, allow_nan=False)) == data
    assert data["strategy"]["target_profit_pct"] == 40


def test_reading_needs_no_chart_library_and_drawing_names_the_extra(hand_built: Path) -> None:
    code = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'matplotlib' or name.startswith('matplotlib.'):\n"
        "            raise ImportError('blocked for the test')\n"
        "sys.meta_path.insert(0, Block())\n"
        "from lasersell_sync.report import read_report, render_html\n"
        f"report = read_report({str(hand_built)!r})\n"
        "print(len(report.positions))\n"
        "try:\n"
        "    render_html(report)\n"
        "except ImportError as exc:\n"
        "    print(exc)\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines() == [
        "2",
        "the trade report needs the 'report' extra: pip install 'lasersell_sync[report]'",
    ]


def test_a_session_records_its_strategy_and_the_report_draws_it_without_being_told(sim_recording: Path) -> None:
    lines = [entry for entry in recorded(sim_recording) if entry.get("event") == "strategy"]
    connects = [entry for entry in recorded(sim_recording) if entry.get("event") == "connected"]
    assert len(lines) == len(connects) == 2  # one per connect: the reconnect sends the intent again
    assert all(ls.proto.from_wire(ls.StrategyConfig, line["fields"]["strategy"]) == LADDER for line in lines)
    report = read_report(sim_recording)  # no strategy given
    assert report.strategy == LADDER
    drawn = [p for p in report.positions if p.entry_price]
    assert drawn
    for position in drawn:
        assert position.thresholds == tuple(threshold_lines(LADDER, position.entry_price or 0.0))


def test_each_position_is_drawn_with_the_strategy_in_force_at_its_signal(tmp_path: Path) -> None:
    """The session's strategy at the connect, a change later, and one position's own strategy."""
    first = ls.StrategyConfig(target_profit_pct=40, stop_loss_pct=10)
    later = ls.StrategyConfig(target_profit_pct=80, stop_loss_pct=20)
    own = ls.StrategyConfig(target_profit_pct=15, stop_loss_pct=5)

    def strategy(t: float, value: ls.StrategyConfig, position_id: Any = None) -> str:
        return event(
            t,
            "strategy",
            strategy=ls.proto.to_wire(value),
            deadline_timeout_sec=0,
            position_id=position_id,
            token_account=None,
        )

    def opened(t: float, position_id: int, account: str) -> str:
        return frame(
            t,
            fixture(
                "server_position_opened",
                position_id=position_id,
                token_account=account,
                token_decimals=6,
                token_symbol=f"P{position_id}",
            ),
        )

    def signal(t: float, position_id: int, account: str) -> str:
        return frame(t, fixture("server_exit_signal_with_tx", position_id=position_id, token_account=account))

    lines = [
        frame(0.0, fixture("server_hello_ok")),
        event(0.001, "connected", reconnect=False),
        strategy(0.001, first),
        opened(1.0, 1, "ACC1"),
        opened(1.1, 2, "ACC2"),
        opened(1.2, 3, "ACC3"),
        strategy(1.5, own, position_id=3),
        signal(2.0, 1, "ACC1"),  # under the first strategy
        strategy(3.0, later),
        signal(4.0, 2, "ACC2"),  # under the later one
        signal(4.5, 3, "ACC3"),  # its own
    ]
    path = tmp_path / "strategies.jsonl"
    path.write_text("\n".join(lines) + "\n")
    report = read_report(path)
    by_id = {p.position_id: p for p in report.positions}
    for position_id, expected in ((1, first), (2, later), (3, own)):
        position = by_id[position_id]
        assert position.entry_price
        assert position.thresholds == tuple(threshold_lines(expected, position.entry_price)), position_id
    assert report.strategy == later  # the session's last
    assert read_report(path, strategy=own).strategy == own  # one given wins
    assert all(
        p.thresholds == tuple(threshold_lines(own, p.entry_price or 0.0)) for p in read_report(path, own).positions
    )
