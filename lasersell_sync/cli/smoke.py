"""``smoke``: is LaserSell reachable and is the key accepted? Three timed steps, one verdict line.

Each step has its own deadline and the first that fails is named:

- ``connect`` (5 s): TCP, TLS and the WebSocket upgrade with the API key (a rejected key fails
  here: HTTP 401/403);
- ``hello`` (2 s): ``configure`` sent, ``hello_ok`` back (a server ``error`` such as
  ``wallet_not_registered`` fails here);
- ``sell`` (5 s): the Exit API builds an unsigned sell. Nothing is signed or sent.

Success prints ``SMOKE OK`` on stdout (exit 0); a failure prints ``SMOKE FAIL <step>: <reason>``
on stderr (exit 1). A bad setting is the ``config`` step (exit 2, like every usage error): no key
but ``--endpoint``/``--api-url``, an unreadable keypair, a bad ``LASERSELL_SEND_TARGET``.

The sell asks for one atomic unit of ``--mint`` (USDC by default) from the wallet. The point is
that the Exit API answers and accepts the key, so its refusals about the token itself (HTTP 400,
404 or 422 with the API's JSON error, e.g. ``no_route`` or ``not_indexed``, or a 2xx envelope such
as ``not_ready``) count as a pass, and ``-v`` shows the answer. HTTP 401/403, 429, 5xx, timeouts,
transport errors and answers that are not the API's (HTML, unparseable 2xx) fail.

Without ``LASERSELL_API_KEY`` the check runs against the embedded simulator: its wallet, and the
mint of the first position its stream announces. Reasons never hold a secret: URLs are shown
through ``safe_url`` and the key and URL secrets are redacted.
"""

from __future__ import annotations

import argparse
import os
import socket
import ssl
import sys
import time
from typing import Any, Callable, List, Optional

import attrs
import websocket

from .._redact import redact, register_secrets, safe_url, url_secrets
from ..backoff import RetryPolicy
from ..errors import ExitApiError
from ..exit_api import BuildSellTxRequest, ExitApiClient
from ..exit_api.client import DEFAULT_BASE_URL
from ..proto import Configure, ErrorMessage, HelloOk, PositionOpened, StrategyConfig, encode_client
from ..stream.link import DEFAULT_ENDPOINT, endpoint_url, tls_options
from ..stream.wire import PeerClosed, Wire
from .common import (
    ENV_API_KEY,
    ENV_KEYPAIR_PATH,
    ENV_RPC_URL,
    USAGE_ERROR,
    Environment,
    UsageError,
    configure_logging,
    one_line,
    pubkey,
    send_mode,
    simulator_package,
    wallet_of_keypair_file,
)

__all__ = ["CONNECT_SECONDS", "DEFAULT_MINT", "HELLO_SECONDS", "SELL_SECONDS", "register"]

CONNECT_SECONDS = 5.0
HELLO_SECONDS = 2.0
SELL_SECONDS = 5.0
DEFAULT_MINT = "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v"
"""USDC: a mint every Solana service knows, for a sell the Exit API can at least judge."""

_STRATEGY = StrategyConfig(target_profit_pct=100, stop_loss_pct=50)  # the short session acts on nothing
_SLIPPAGE_BPS = 500
_PROXY_ENV = ("https_proxy", "HTTPS_PROXY", "http_proxy", "HTTP_PROXY")
_ANSWERS_ABOUT_THE_TOKEN = (400, 404, 422)


class _Failed(Exception):
    """A step failed; ``reason`` is one line without secrets."""

    def __init__(self, step: str, reason: str) -> None:
        super().__init__(f"{step}: {reason}")
        self.step = step
        self.reason = one_line(reason)


@attrs.frozen
class _Plan:
    """What to check: where, with which key, for which wallet and mint."""

    api_key: str = attrs.field(repr=False)
    stream_url: str
    api_url: str
    wallet: str
    mint: Optional[str]  # None: the first position the stream announces (the simulator's)
    send_mode: Optional[str]

    @property
    def secrets(self) -> List[str]:
        """What no reason may show: the key, URL secrets, proxy credentials (websocket-client reads those)."""
        proxies = [os.environ.get(name, "") for name in _PROXY_ENV]
        urls = [self.stream_url, self.api_url, *(p for p in proxies if p)]
        return [self.api_key, *(secret for url in urls for secret in url_secrets(url))]


def register(commands: Any) -> None:
    """Add ``smoke`` to the command line (``commands`` is argparse's subparsers object)."""
    smoke = commands.add_parser(
        "smoke",
        help="check that the stream and the Exit API answer and accept the key",
        description=(__doc__ or "").split("\n\n")[0],
        epilog=f"Settings: {ENV_API_KEY} (without it: the embedded simulator), {ENV_KEYPAIR_PATH} (the wallet), "
        f"{ENV_RPC_URL} (checked for form only) and LASERSELL_SEND_TARGET (rpc, helius or astralane: the "
        "send_mode asked for). Steps and deadlines: connect 5 s, hello 2 s, sell 5 s; a 4xx about the token "
        "(no_route, not_indexed) passes the sell step. Prints SMOKE OK (exit 0) or SMOKE FAIL <step>: <reason> "
        "on stderr (exit 1; a bad setting is step config, exit 2).",
    )
    smoke.set_defaults(run=_smoke)
    smoke.add_argument("--endpoint", help=f"stream URL (default {DEFAULT_ENDPOINT}); needs {ENV_API_KEY}")
    smoke.add_argument("--api-url", help=f"Exit API base URL (default {DEFAULT_BASE_URL}); needs {ENV_API_KEY}")
    wallet = smoke.add_mutually_exclusive_group()
    wallet.add_argument("--wallet", type=pubkey, help="the wallet's public key (no secret needed: nothing is signed)")
    wallet.add_argument("--keypair", metavar="FILE", help=f"the wallet's keypair file (default: ${ENV_KEYPAIR_PATH})")
    smoke.add_argument("--mint", type=pubkey, help="token of the test sell (default: USDC; simulator: one of its own)")
    smoke.add_argument("-v", "--verbose", action="store_true", help="print each step's time and answer, and logs")


def _smoke(args: argparse.Namespace) -> int:
    """The three steps against the service, or against an embedded simulator without a key."""
    configure_logging(args.verbose)
    env = Environment.read()
    try:
        plan = _plan(args, env)
        if plan is not None:
            return _check(plan, args.verbose)
        try:
            package = simulator_package()
        except UsageError as exc:
            raise _Failed("config", f"{ENV_API_KEY} is not set, and {exc}") from None
    except _Failed as failed:
        return _fail(failed, USAGE_ERROR)
    print(f"smoke: {ENV_API_KEY} is not set: checking the embedded simulator, not the service", file=sys.stderr)
    with package.Simulator(scenario="pump", speed=10) as sim:
        mint = args.mint  # a given mint is sold even here; else the simulator's first position
        simulated = _Plan(sim.api_key, sim.stream_url, sim.api_url, sim.wallet_pubkey, mint, send_mode(env.send_target))
        return _check(simulated, args.verbose)


def _plan(args: argparse.Namespace, env: Environment) -> Optional[_Plan]:
    """The service to check, from the flags and the environment; None: the simulator."""
    try:
        mode = send_mode(env.send_target)
        if env.rpc_url is not None and not env.rpc_url.startswith(("http://", "https://")):
            raise ValueError(f"{ENV_RPC_URL} must be an http:// or https:// URL, got {safe_url(env.rpc_url)!r}")
        if env.api_key is None:
            if args.endpoint or args.api_url:
                raise ValueError(f"--endpoint and --api-url need an API key: set {ENV_API_KEY}")
            return None
        stream_url = endpoint_url(args.endpoint)
        api_url = (args.api_url or DEFAULT_BASE_URL).strip().rstrip("/")
        if not api_url.startswith(("http://", "https://")):
            raise ValueError(f"--api-url must be an http:// or https:// URL, got {safe_url(api_url)!r}")
        keypair: Optional[str] = args.keypair or env.keypair_path
        if args.wallet is not None:
            wallet: str = args.wallet
        elif keypair is not None:
            wallet = wallet_of_keypair_file(keypair)
        else:
            raise ValueError(f"which wallet? pass --wallet PUBKEY or --keypair FILE, or set {ENV_KEYPAIR_PATH}")
    except ValueError as exc:  # KeyLoadError included: its message names the file, never the key
        failure = _Failed("config", str(exc))
    else:
        return _Plan(env.api_key, stream_url, api_url, wallet, args.mint or DEFAULT_MINT, mode)
    raise failure


def _check(plan: _Plan, verbose: bool) -> int:
    """Run the steps in order; the stream stays open until the sell is judged, then closes cleanly."""
    register_secrets(plan.secrets)  # for websocket-client's and urllib3's own log records (-v)
    wires: List[Wire] = []
    try:
        _step("connect", CONNECT_SECONDS, verbose, lambda deadline: _connect(plan, wires))
        _step("hello", HELLO_SECONDS, verbose, lambda deadline: _hello(wires[0], plan, deadline))
        _step("sell", SELL_SECONDS, verbose, lambda deadline: _sell(wires[0], plan, deadline))
    except _Failed as failed:
        return _fail(failed, 1)
    finally:
        for wire in wires:
            wire.send_close(1000, b"smoke test done")
            wire.release()
    print("SMOKE OK", flush=True)
    return 0


def _step(name: str, limit: float, verbose: bool, action: Callable[[float], str]) -> None:
    """Run one step against its own deadline; with ``verbose``, print its time and what it found."""
    started = time.monotonic()
    found = action(started + limit)
    took = time.monotonic() - started
    if took > limit:  # every wait inside is bounded by the limit; this catches the sum of several
        raise _Failed(name, f"took {took:.1f} s (limit {limit:g} s)")
    if verbose:
        print(f"{name:<8} ok {took * 1000:6.0f} ms  {found}", flush=True)


def _connect(plan: _Plan, wires: List[Wire]) -> str:
    """TCP, TLS and the WebSocket upgrade with the key in ``x-api-key``; the open wire joins ``wires``."""
    shown = safe_url(plan.stream_url)
    wire = Wire(max_payload=4 * 1024 * 1024, sslopt=tls_options(None, None))
    try:
        wire.upgrade(plan.stream_url, [f"x-api-key: {plan.api_key}"], CONNECT_SECONDS)
    except websocket.WebSocketBadStatusException as exc:  # reasons are raised below, outside the handler
        verdict = ": API key rejected" if exc.status_code in (401, 403) else ""
        reason = f"HTTP {exc.status_code} on the WebSocket upgrade of {shown}{verdict}"
    except (websocket.WebSocketTimeoutException, socket.timeout):
        reason = f"no answer from {shown} within {CONNECT_SECONDS:g} s"
    except (ssl.SSLError, websocket.WebSocketException, OSError, ValueError) as exc:
        reason = redact(f"cannot connect to {shown}: {type(exc).__name__}: {exc}", plan.secrets)
    else:
        wires.append(wire)
        return shown
    wire.release()
    raise _Failed("connect", reason)


def _hello(wire: Wire, plan: _Plan, deadline: float) -> str:
    """Send ``configure`` and wait for ``hello_ok``; anything else before it is skipped."""
    configure = Configure(wallet_pubkeys=(plan.wallet,), strategy=_STRATEGY, send_mode=plan.send_mode)
    try:
        wire.send_text(encode_client(configure))
    except OSError as exc:
        reason = redact(f"cannot send configure: {type(exc).__name__}: {exc}", plan.secrets)
    else:
        hello = _read_until(wire, plan, deadline, "hello", lambda item: type(item) is HelloOk)
        return f"hello_ok: session {hello.session_id}"
    raise _Failed("hello", reason)


def _sell(wire: Wire, plan: _Plan, deadline: float) -> str:
    """Build an unsigned sell and judge the Exit API's answer (see the module docstring)."""
    mint, tokens = plan.mint, 1
    if mint is None:  # the simulator: a position its stream announced for the wallet
        opened = _read_until(wire, plan, deadline, "sell", lambda item: _opened_for(item, plan.wallet))
        mint, tokens = opened.mint, opened.tokens
    request = BuildSellTxRequest(
        mint=mint, user_pubkey=plan.wallet, amount_tokens=tokens, slippage_bps=_SLIPPAGE_BPS, send_mode=plan.send_mode
    )
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise _Failed("sell", f"no time left within {SELL_SECONDS:g} s")
    one_try = RetryPolicy(max_attempts=1)
    with ExitApiClient(plan.api_key, plan.api_url, timeout=remaining, connect_timeout=remaining, retry=one_try) as api:
        try:
            built = api.build_sell_tx(request)
        except ExitApiError as exc:
            error = exc
        else:
            return f"unsigned sell of {mint} built ({len(built.tx)} base64 characters)"
    return _judge(error, plan)


def _opened_for(item: Any, wallet: str) -> bool:
    return type(item) is PositionOpened and item.wallet_pubkey == wallet


def _judge(error: ExitApiError, plan: _Plan) -> str:
    """A refusal about the token proves the API answered and took the key; anything else fails."""
    body = (error.body or "").strip()
    if error.kind == "envelope_status":
        return f"the Exit API answered status={error.envelope_status} ({body}); the key was accepted"
    if error.kind == "http_status" and error.status in _ANSWERS_ABOUT_THE_TOKEN and body and not body.startswith("<"):
        return f"the Exit API answered HTTP {error.status} ({body}); the key was accepted"
    if error.kind == "http_status" and error.status in (401, 403):
        raise _Failed("sell", f"HTTP {error.status} from the Exit API at {safe_url(plan.api_url)}: API key rejected")
    raise _Failed("sell", redact(f"the Exit API at {safe_url(plan.api_url)}: {error}", plan.secrets))


def _read_until(wire: Wire, plan: _Plan, deadline: float, step: str, wanted: Callable[[Any], bool]) -> Any:
    """The first frame that is ``wanted``; a server ``error``, a close, a lost link or the deadline fails ``step``."""
    what = "hello_ok" if step == "hello" else "a position_opened"
    limit = HELLO_SECONDS if step == "hello" else SELL_SECONDS
    reason = f"no {what} within {limit:g} s"
    try:
        item = _receive_until(wire, deadline, wanted)
    except (socket.timeout, websocket.WebSocketTimeoutException):
        item = None
    except Exception as exc:  # EOF, a broken socket, a frame the WebSocket rules forbid
        item, reason = None, redact(f"connection lost before {what}: {type(exc).__name__}: {exc}", plan.secrets)
    if type(item) is ErrorMessage:
        reason = f"server error [{item.code}]: {redact(item.message, plan.secrets)}"
    elif isinstance(item, PeerClosed):
        reason = f"{item} before {what}"
    elif item is not None:
        return item
    raise _Failed(step, reason)


def _receive_until(wire: Wire, deadline: float, wanted: Callable[[Any], bool]) -> Any:
    """The first frame that is ``wanted``, a server ``error`` or a close; None at the deadline."""
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return None
        item = wire.receive(remaining)
        if wanted(item) or type(item) is ErrorMessage or isinstance(item, PeerClosed):
            return item


def _fail(failed: _Failed, status: int) -> int:
    print(f"SMOKE FAIL {failed.step}: {failed.reason}", file=sys.stderr, flush=True)
    return status
