"""The Prometheus exporter against the embedded simulator: real scrapes over HTTP on 127.0.0.1.

Every scrape is parsed with ``prometheus_client``'s own parser and checked against what the
session says (``session.stats()`` read just before and just after the scrape, so a counter that
moves in between is still pinned) and against the events the test saw. Nothing waits by
sleeping: the test waits on events, on the simulator's held requests and on the executor's stats.
"""

from __future__ import annotations

import contextlib
import math
import queue
import re
import socket
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from typing import Dict, FrozenSet, Iterator, List, Set, Tuple

import pytest
from solders.keypair import Keypair

import lasersell_sync as ls
from lasersell_sync.metrics import MetricsServer, serve_metrics
from tests.support import ROOT, WAIT, clean_env
from tests.txbuild import foreign_signal

parser = pytest.importorskip("prometheus_client.parser")
pytest.importorskip("websockets")
from lasersell_sync.metrics.collector import LANDED_BUCKETS  # noqa: E402 - after the skips: needs the extras
from lasersell_sync.simulator import Simulator  # noqa: E402

HOLD = ls.StrategyConfig(target_profit_pct=100_000, stop_loss_pct=0)  # never exits by itself
PATIENT = ls.ExitPolicy(
    refresh_timeout=60.0, rebroadcast_interval=0.05, expiry_check_interval=0.05, unresolved_after=60.0
)
Samples = Dict[Tuple[str, FrozenSet[Tuple[str, str]]], float]


@pytest.fixture
def sim() -> Iterator[Simulator]:
    with Simulator(seed=3, scenario="sideways", speed=50, max_positions=1, blockhash_ttl_slots=10_000) as simulator:
        yield simulator


def scrape(server: MetricsServer) -> Samples:
    """One scrape, parsed by prometheus_client: ``(sample name, labels) -> value``."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback, never a proxy
    with opener.open(server.url, timeout=WAIT) as response:
        assert response.status == 200
        text = response.read().decode()
    samples: Samples = {}
    for family in parser.text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples[(name, frozenset(labels.items()))]


def _le(bound: float) -> str:
    """A bucket's ``le`` label as prometheus_client writes it."""
    return "+Inf" if bound == math.inf else repr(float(bound))


def names(samples: Samples) -> Set[str]:
    return {name for name, _ in samples}


class Watched:
    """A session with ``auto_exit`` and the exporter; the events the test sees land in queues."""

    def __init__(self, sim: Simulator) -> None:
        self.session = ls.StreamSession(sim.api_key, [sim.wallet_pubkey], HOLD, endpoint=sim.stream_url)
        self.executor = self.session.auto_exit(
            sim.wallet, ls.SendTargetRpc(url=sim.rpc_url), policy=PATIENT, sender=ls.TxSender(poll_interval=0.02)
        )
        self.server = serve_metrics(self.session, port=0)
        # Registered after the exporter's handlers, so when one of these has run, so has the exporter's.
        self.opened: queue.Queue[ls.PositionOpened] = queue.Queue()
        self.signals: queue.Queue[ls.ExitSignalWithTx] = queue.Queue()
        self.landed: queue.Queue[ls.ExitLanded] = queue.Queue()
        self.failed: queue.Queue[ls.ExitFailed] = queue.Queue()
        for kind, into in (
            (ls.PositionOpened, self.opened),
            (ls.ExitSignalWithTx, self.signals),
            (ls.ExitLanded, self.landed),
            (ls.ExitFailed, self.failed),
        ):
            self.session.on(kind, lambda event, into=into: into.put(event.message))

    def scrape_between_stats(self) -> Tuple[ls.SessionStats, Samples, ls.SessionStats]:
        before = self.session.stats()
        samples = scrape(self.server)
        return before, samples, self.session.stats()


def assert_session_counters_pinned(before: ls.SessionStats, samples: Samples, after: ls.SessionStats) -> None:
    """Each scraped session counter lies between the stats read before and after the scrape."""
    for metric, field in (
        ("lasersell_frames_received_total", "frames_received"),
        ("lasersell_decode_errors_total", "decode_errors"),
        ("lasersell_handler_errors_total", "handler_errors"),
        ("lasersell_reconnects_total", "reconnects"),
        ("lasersell_commands_rejected_total", "commands_rejected"),
    ):
        assert getattr(before, field) <= value(samples, metric) <= getattr(after, field), metric
    for event, count in before.events_dispatched.items():
        assert (
            count <= value(samples, "lasersell_events_dispatched_total", event=event) <= after.events_dispatched[event]
        )
    for queue_name in ("high", "low", "events_iterators"):
        assert value(samples, "lasersell_queue_depth", queue=queue_name) >= 0
    low = (before.low_priority_conflated, after.low_priority_conflated)
    assert low[0] <= value(samples, "lasersell_events_conflated_total", queue="low") <= low[1]
    assert value(samples, "lasersell_events_dropped_total", queue="low") == 0  # no tick backlog this short


def assert_exits_match(samples: Samples, exits: ls.ExitStats) -> None:
    """With the executor quiet, every exit metric equals its ExitStats counter."""
    for metric, field in (
        ("lasersell_exit_signals_total", "signals"),
        ("lasersell_exits_submitted_total", "submitted"),
        ("lasersell_exits_landed_total", "landed"),
        ("lasersell_exits_unresolved_total", "unresolved"),
        ("lasersell_exit_signals_refused_total", "refused"),
        ("lasersell_exit_signals_stale_total", "stale"),
        ("lasersell_exit_rebroadcasts_total", "rebroadcasts"),
        ("lasersell_exits_in_flight", "in_flight"),
        ("lasersell_exits_queued", "queued"),
    ):
        assert value(samples, metric) == getattr(exits, field), metric
    failed = {
        dict(labels)["reason"]: v for (name, labels), v in samples.items() if name == "lasersell_exits_failed_total"
    }
    assert sum(failed.values()) == exits.failed


def test_scrapes_while_a_sell_is_in_flight_and_after_it_landed_agree_with_stats_and_events(sim: Simulator) -> None:
    watched = Watched(sim)
    session, server = watched.session, watched.server
    with session:
        position = watched.opened.get(timeout=WAIT)
        before, samples, after = watched.scrape_between_stats()
        assert value(samples, "lasersell_connected") == 1
        assert value(samples, "lasersell_positions_open") == 1
        assert value(samples, "lasersell_frames_received_total") > 0
        assert_session_counters_pinned(before, samples, after)
        assert value(samples, "lasersell_signal_to_handler_seconds_count") == 0
        assert value(samples, "lasersell_exits_in_flight") == 0

        sim.faults.hang_rpc("sendTransaction")  # the sell stays in flight while we look
        session.request_exit_signal(position.token_account)
        signal = watched.signals.get(timeout=WAIT)
        assert sim.wait_for(lambda: sim.faults.hung_rpc_requests >= 1, WAIT)
        before, samples, after = watched.scrape_between_stats()
        assert_session_counters_pinned(before, samples, after)
        assert value(samples, "lasersell_exits_in_flight") == 1 == after.exits.in_flight  # type: ignore[union-attr]
        assert value(samples, "lasersell_exits_landed_total") == 0
        assert value(samples, "lasersell_signal_to_handler_seconds_count") == 1
        assert 0 < value(samples, "lasersell_signal_to_handler_seconds_sum") < WAIT

        sim.faults.heal_rpc()
        landed = watched.landed.get(timeout=WAIT)
        assert sim.wait_for(lambda: session.stats().exits.in_flight == 0, WAIT)  # type: ignore[union-attr]
        before, samples, after = watched.scrape_between_stats()
        assert_session_counters_pinned(before, samples, after)
        assert after.exits is not None
        assert_exits_match(samples, after.exits)
        assert (value(samples, "lasersell_exits_landed_total"), after.exits.landed) == (1, 1)
        assert value(samples, "lasersell_signal_to_landed_seconds_count") == 1
        assert value(samples, "lasersell_signal_to_landed_seconds_sum") == pytest.approx(landed.latency_ms / 1000)
        bounds = [*LANDED_BUCKETS, math.inf]  # the hold above counts: the landing may fall in any bucket
        first = next(i for i, bound in enumerate(bounds) if bound >= landed.latency_ms / 1000)
        counts = [value(samples, "lasersell_signal_to_landed_seconds_bucket", le=_le(b)) for b in bounds]
        assert counts == [0] * first + [1] * (len(bounds) - first)
        assert value(samples, "lasersell_signal_to_handler_seconds_count") == 1
        assert watched.signals.empty()  # the one signal seen is the one observed
        assert value(samples, "lasersell_events_dispatched_total", event="exit_landed") == 1
        assert value(samples, "lasersell_handler_errors_total") == 0  # the exporter's handlers never raise
        assert signal.position_id == landed.position_id == position.position_id
    assert server.closed
    assert "lasersell-metrics" not in [t.name for t in threading.enumerate()]
    with pytest.raises(urllib.error.URLError):
        scrape(server)


def test_a_refused_signal_is_counted_under_its_reason(sim: Simulator) -> None:
    watched = Watched(sim)
    with watched.session:
        watched.opened.get(timeout=WAIT)
        sim.faults.push_raw([foreign_signal(sim.wallet_pubkey, 424242, Keypair())])
        failed = watched.failed.get(timeout=WAIT)
        samples = scrape(watched.server)
        exits = watched.session.stats().exits
    assert failed.reason == "refused"
    assert exits is not None
    assert_exits_match(samples, exits)
    assert value(samples, "lasersell_exits_failed_total", reason="refused") == 1 == exits.refused
    assert value(samples, "lasersell_exits_failed_total", reason="max_retries") == 0  # known reasons start at 0
    assert value(samples, "lasersell_signal_to_handler_seconds_count") == 1


def test_it_listens_on_127_0_0_1_by_default_and_port_0_picks_a_free_port() -> None:
    session = ls.StreamSession("k", [str(Keypair().pubkey())], HOLD, endpoint="ws://127.0.0.1:9/")
    try:
        with serve_metrics(session, port=0) as server:
            assert server.host == "127.0.0.1"
            assert server.port > 0
            assert server.url == f"http://127.0.0.1:{server.port}/metrics"
            samples = scrape(server)
            assert value(samples, "lasersell_connected") == 0
            assert "lasersell_exits_landed_total" not in names(samples)  # no auto_exit, no exit metrics
            with pytest.raises(OSError, match="in use"):  # the port is taken
                serve_metrics(session, port=server.port)
        assert server.closed
        assert server.close()  # idempotent
    finally:
        session.close()


def test_closing_the_server_early_leaves_the_session_running(sim: Simulator) -> None:
    session = ls.StreamSession(sim.api_key, [sim.wallet_pubkey], HOLD, endpoint=sim.stream_url)
    server = serve_metrics(session, port=0, process_metrics=False)
    with session:
        assert scrape(server)[("lasersell_connected", frozenset())] == 1
        assert server.close()
        assert session.connected
        with pytest.raises(urllib.error.URLError):
            scrape(server)
    assert session.closed


def test_a_stalled_client_does_not_hold_up_close() -> None:
    session = ls.StreamSession("k", [str(Keypair().pubkey())], HOLD, endpoint="ws://127.0.0.1:9/")
    server = serve_metrics(session, port=0)
    with socket.create_connection((server.host, server.port)) as stalled:
        stalled.sendall(b"GET /metrics HTTP/1.1\r\n")  # and never the rest
        session.close()  # stops the server through the session's closed event
        assert server.closed
        with contextlib.suppress(ConnectionResetError):  # never accepted, and reset when the server closed
            assert stalled.recv(1) == b""  # or cut off


def test_bad_arguments_are_refused() -> None:
    session = ls.StreamSession("k", [str(Keypair().pubkey())], HOLD, endpoint="ws://127.0.0.1:9/")
    with pytest.raises(ValueError, match="port"):
        serve_metrics(session, port=70_000)
    session.close()
    with pytest.raises(ls.SessionClosedError):
        serve_metrics(session, port=0)


def test_without_the_extra_serving_says_which_extra_to_install() -> None:
    script = (
        "import sys\n"
        "sys.modules['prometheus_client'] = None  # as if not installed\n"
        "import lasersell_sync as ls\n"
        "from lasersell_sync.metrics import serve_metrics\n"
        "session = ls.StreamSession('k', ['1' * 32], ls.StrategyConfig(target_profit_pct=10, stop_loss_pct=5))\n"
        "try:\n"
        "    serve_metrics(session, port=0)\n"
        "except ImportError as error:\n"
        "    print(type(error).__name__, error, sep=': ')\n"
        "finally:\n"
        "    session.close()\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=clean_env(), timeout=30, check=True
    )
    assert (
        result.stdout == "ImportError: serve_metrics needs prometheus_client: pip install 'lasersell_sync[metrics]'\n"
    )


# -- the alert rules of docs/watching.md --------------------------------------------------------


def alert_rules_block() -> str:
    page = (ROOT / "docs" / "watching.md").read_text()
    blocks = re.findall(r"```yaml\n(.*?)```", page[page.index("## Metrics") :], re.S)
    (rules,) = [block for block in blocks if "alert:" in block]
    return rules


def rule_expressions(rules: str) -> List[str]:
    try:
        import yaml
    except ImportError:  # the plain reading: every "expr:" line (the page keeps each on one line)
        return re.findall(r"^\s*expr:\s*(.+)$", rules, re.M)
    document = yaml.safe_load(rules)
    expressions = []
    for group in document["groups"]:
        for rule in group["rules"]:
            assert {"alert", "expr", "labels", "annotations"} <= set(rule), rule
            expressions.append(str(rule["expr"]))
    return expressions


def test_the_documented_alert_rules_use_only_metrics_the_exporter_serves() -> None:
    owner = Keypair()
    session = ls.StreamSession("k", [owner.pubkey()], HOLD, endpoint="ws://127.0.0.1:9/")
    session.auto_exit(owner, ls.SendTargetRpc(url="http://127.0.0.1:9/rpc"), keep_warm=None)
    try:
        with serve_metrics(session, port=0) as server:
            served = names(scrape(server))
    finally:
        session.close()
    expressions = rule_expressions(alert_rules_block())
    assert len(expressions) >= 2
    used = {name for expr in expressions for name in re.findall(r"\blasersell_\w+", expr)}
    assert {"lasersell_exits_landed_total", "lasersell_positions_open", "lasersell_reconnects_total"} <= used
    assert used <= served, used - served
