"""``smoke``: is LaserSell reachable and is the key accepted? Three timed steps, one verdict line.

Each step has its own deadline and the first that fails is named:

- ``connect`` (5 s): TCP, TLS and the WebSocket upgrade with the API key (a rejected key fails
  here: HTTP 401/403);
- ``hello`` (2 s): ``configure`` sent, ``hello_ok`` back (a server ``error`` such as
  ``wallet_not_registered`` fails here);
- ``sell`` (5 s): the Exit API builds an unsigned sell. Nothing is signed or sent.

Success prints ``SMOKE OK`` on stdout (exit 0); a failure prints ``SMOKE FAIL <step>: <reason>``
on stderr (exit 1). A bad setting is the ``config`` step (exit 2, like every usage error), found
before anything connects: no key but ``--endpoint``/``--api-url``/``--wallet``/``--keypair``, a
URL of the wrong scheme, an unreadable keypair, a bad ``LASERSELL_SEND_TARGET``, a
``REQUESTS_CA_BUNDLE``/``CURL_CA_BUNDLE`` that names no file.

The sell asks for one atomic unit of ``--mint`` (USDC by default) from the wallet. The point is
that the Exit API answers and accepts the key, so its refusals about the token itself (HTTP 400,
404 or 422 with the API's JSON error, e.g. ``no_route`` or ``not_indexed``, or a 2xx envelope such
as ``not_ready``) count as a pass, and ``-v`` shows the answer. HTTP 401/403, 429, 5xx, timeouts,
transport errors and answers that are not the API's (HTML, unparseable 2xx) fail.

Without ``LASERSELL_API_KEY`` the check runs against the embedded simulator: its wallet, and the
mint of the first position its stream announces (a ``LASERSELL_KEYPAIR_PATH`` file is checked, then
noted as unused). Reasons never hold a secret: URLs are shown
through ``safe_url`` and the key and URL secrets are redacted.
"""

from __future__ import annotations

import argparse
import socket
import sys
import time
from typing import Any, Callable, List, Optional, TypeVar

import attrs
import websocket

from .._redact import redact, register_secrets, safe_url, url_secrets
from ..backoff import RetryPolicy
from ..errors import ConnectError, ExitApiError
from ..exit_api import BuildSellTxRequest, ExitApiClient
from ..exit_api.client import DEFAULT_BASE_URL
from ..proto import Configure, ErrorMessage, PositionOpened, StrategyConfig, encode_client
from ..stream.transport.link import DEFAULT_ENDPOINT, connect_secrets, endpoint_url, handshake, tls_options, upgrade
from ..stream.transport.wire import PeerClosed, Wire
from .common import (
    ENV_API_KEY,
    ENV_KEYPAIR_PATH,
    ENV_RPC_URL,
    USAGE_ERROR,
    Environment,
    UsageError,
    configure_logging,
    needs_api_key,
    one_line,
    plain,
    pubkey,
    send_mode,
    shown_url,
    simulator_package,
    simulator_wallet_note,
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
_SERVICE_FLAGS = (
    ("--endpoint", "endpoint"),
    ("--api-url", "api_url"),
    ("--wallet", "wallet"),
    ("--keypair", "keypair"),
)
"""Flags (and their argparse names) that cannot apply to the embedded simulator."""
_ANSWERS_ABOUT_THE_TOKEN = (400, 404, 422)

T = TypeVar("T")


class _Failed(Exception):
    """A step failed; ``reason`` is one line without secrets."""

    def __init__(self, step: str, reason: str) -> None:
        super().__init__(f"{step}: {reason}")
        self.step = step
        self.reason = one_line(reason)


@attrs.frozen
class _Plan:
    """What to check: where, with which key, for which wallet and mint; URLs are shown without secrets."""

    api_key: str = attrs.field(repr=False)
    stream_url: str = attrs.field(repr=shown_url)
    api: ExitApiClient  # its repr shows the URL through safe_url and masks the key
    wallet: str
    mint: Optional[str]  # None: the first position the stream announces (the simulator's)
    send_mode: Optional[str]
    secrets: List[str] = attrs.field(init=False, repr=False)
    """What no reason may show: the key, URL secrets, proxy credentials (websocket-client reads those)."""

    @secrets.default
    def _every_secret(self) -> List[str]:
        return [*connect_secrets(self.stream_url, self.api_key), *url_secrets(self.api.base_url)]


def _new_plan(
    api_key: str, stream_url: str, api_url: Optional[str], wallet: str, mint: Optional[str], mode: Optional[str]
) -> _Plan:
    """A plan with the sell step's Exit API client, built now so a bad URL or CA bundle is a config error.

    The client's timeouts are the sell step's whole limit; the step's own check still fails a
    sell that ends past the step's deadline.
    """
    one_try = RetryPolicy(max_attempts=1)
    api = ExitApiClient(api_key, api_url, timeout=SELL_SECONDS, connect_timeout=SELL_SECONDS, retry=one_try)
    return _Plan(api_key, stream_url, api, wallet, mint, mode)


def register(commands: Any) -> None:
    """Add ``smoke`` to the command line (``commands`` is argparse's subparsers object)."""
    smoke = commands.add_parser(
        "smoke",
        help="check that the stream and the Exit API answer and accept the key",
        description=plain((__doc__ or "").split("\n\n")[0]),
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
    wallet.add_argument(
        "--wallet", type=pubkey, help=f"the wallet's public key (nothing is signed); needs {ENV_API_KEY}"
    )
    wallet.add_argument(
        "--keypair",
        metavar="FILE",
        help=f"the wallet's keypair file (default: ${ENV_KEYPAIR_PATH}); needs {ENV_API_KEY}",
    )
    smoke.add_argument("--mint", type=pubkey, help="token of the test sell (default: USDC; simulator: one of its own)")
    smoke.add_argument("-v", "--verbose", action="store_true", help="print each step's time and answer, and logs")


def _smoke(args: argparse.Namespace) -> int:
    """The three steps against the service, or against an embedded simulator without a key."""
    configure_logging(args.verbose)
    env = Environment.read()
    try:
        mode = _configured(lambda: _settings(args, env))
        if env.api_key is None:
            return _smoke_simulator(args, env, mode)
        api_key = env.api_key
        plan = _configured(lambda: _service_plan(args, env, api_key, mode))
    except _Failed as failed:
        return _fail(failed, USAGE_ERROR)
    return _check(plan, args.verbose)


def _configured(build: Callable[[], T]) -> T:
    """``build()``; a ValueError (a bad setting) fails the config step.

    KeyLoadError is a ValueError too: its message names the file, never the key.
    """
    try:
        return build()
    except ValueError as exc:
        failure = _Failed("config", str(exc))
    raise failure  # outside the handler: no __context__


def _settings(args: argparse.Namespace, env: Environment) -> Optional[str]:
    """Check what the service and the simulator share; the ``send_mode`` to ask for."""
    env.check_api_key()
    mode = send_mode(env.send_target)
    if env.rpc_url is not None and not env.rpc_url.startswith(("http://", "https://")):
        raise ValueError(f"{ENV_RPC_URL} must be an http:// or https:// URL, got {safe_url(env.rpc_url)!r}")
    if env.api_key is None:
        needs_api_key([flag for flag, given in _SERVICE_FLAGS if getattr(args, given)])
    return mode


def _service_plan(args: argparse.Namespace, env: Environment, api_key: str, mode: Optional[str]) -> _Plan:
    """The service to check, from the flags and the environment."""
    stream_url = endpoint_url(args.endpoint)
    keypair: Optional[str] = args.keypair or env.keypair_path
    if args.wallet is not None:
        wallet: str = args.wallet
    elif keypair is not None:
        wallet = wallet_of_keypair_file(keypair)
    else:
        raise ValueError(f"which wallet? pass --wallet PUBKEY or --keypair FILE, or set {ENV_KEYPAIR_PATH}")
    return _new_plan(api_key, stream_url, args.api_url, wallet, args.mint or DEFAULT_MINT, mode)


def _smoke_simulator(args: argparse.Namespace, env: Environment, mode: Optional[str]) -> int:
    """The steps against an embedded simulator: its wallet, and ``--mint`` or its first position's."""
    note = _configured(lambda: simulator_wallet_note(env))
    try:
        package = simulator_package()
    except UsageError as exc:
        missing = str(exc)
    else:
        with package.Simulator(scenario="pump", speed=10) as sim:
            plan = _configured(
                lambda: _new_plan(sim.api_key, sim.stream_url, sim.api_url, sim.wallet_pubkey, args.mint, mode)
            )
            shown = f"smoke: {ENV_API_KEY} is not set: checking the embedded simulator{note}, not the service"
            print(shown, file=sys.stderr)
            return _check(plan, args.verbose)
    raise _Failed("config", f"{ENV_API_KEY} is not set, and {missing}")


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
        plan.api.close()
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
        upgrade(wire, plan.stream_url, plan.api_key, CONNECT_SECONDS)  # releases the wire when it fails
    except ConnectError as exc:  # AuthenticationError included; the text is redacted
        reason = str(exc) if shown in str(exc) else f"{exc} ({shown})"
    else:
        wires.append(wire)
        return shown
    raise _Failed("connect", reason)


def _hello(wire: Wire, plan: _Plan, deadline: float) -> str:
    """Send ``configure`` and wait for ``hello_ok``; anything else before it is skipped."""
    configure = Configure(wallet_pubkeys=(plan.wallet,), strategy=_STRATEGY, send_mode=plan.send_mode)
    try:
        link = handshake(wire, encode_client(configure), deadline, HELLO_SECONDS, lambda: plan.secrets)
    except ConnectError as exc:  # a server error (wallet_not_registered, ...), a close, the deadline
        reason = str(exc)
    except (socket.timeout, websocket.WebSocketTimeoutException):
        reason = f"no hello_ok within {HELLO_SECONDS:g} s"
    except Exception as exc:  # EOF, a broken socket, a frame the WebSocket rules forbid
        reason = redact(f"connection lost before hello_ok: {type(exc).__name__}: {exc}", plan.secrets)
    else:
        return f"hello_ok: session {link.hello.session_id}"
    raise _Failed("hello", reason)


def _sell(wire: Wire, plan: _Plan, deadline: float) -> str:
    """Build an unsigned sell and judge the Exit API's answer (see the module docstring)."""
    mint, tokens = plan.mint, 1
    if mint is None:  # the simulator: a position its stream announced for the wallet
        opened = _position_opened(wire, plan, deadline)
        mint, tokens = opened.mint, opened.tokens
    request = BuildSellTxRequest(
        mint=mint, user_pubkey=plan.wallet, amount_tokens=tokens, slippage_bps=_SLIPPAGE_BPS, send_mode=plan.send_mode
    )
    if deadline - time.monotonic() <= 0:
        raise _Failed("sell", f"no time left within {SELL_SECONDS:g} s")
    try:
        built = plan.api.build_sell_tx(request)
    except ExitApiError as exc:
        error = exc
    else:
        return f"unsigned sell of {mint} built ({len(built.tx)} base64 characters)"
    return _judge(error, plan)


def _judge(error: ExitApiError, plan: _Plan) -> str:
    """A refusal about the token proves the API answered and took the key; anything else fails."""
    body = (error.body or "").strip()
    shown = safe_url(plan.api.base_url)
    if error.kind == "envelope_status":
        return f"the Exit API answered status={error.envelope_status} ({body}); the key was accepted"
    if error.kind == "http_status" and error.status in _ANSWERS_ABOUT_THE_TOKEN and body and not body.startswith("<"):
        return f"the Exit API answered HTTP {error.status} ({body}); the key was accepted"
    if error.kind == "http_status" and error.status in (401, 403):
        raise _Failed("sell", f"HTTP {error.status} from the Exit API at {shown}: API key rejected")
    raise _Failed("sell", redact(f"the Exit API at {shown}: {error}", plan.secrets))


def _position_opened(wire: Wire, plan: _Plan, deadline: float) -> PositionOpened:
    """The first ``position_opened`` of the wallet; a server ``error``, a close, a lost link or the deadline fails."""
    what = "a position_opened"
    reason = f"no {what} within {SELL_SECONDS:g} s"
    try:
        item = _receive_until(wire, deadline, lambda item: _opened_for(item, plan.wallet))
    except (socket.timeout, websocket.WebSocketTimeoutException):
        item = None
    except Exception as exc:  # EOF, a broken socket, a frame the WebSocket rules forbid
        item, reason = None, redact(f"connection lost before {what}: {type(exc).__name__}: {exc}", plan.secrets)
    if type(item) is ErrorMessage:
        reason = f"server error [{item.code}]: {redact(item.message, plan.secrets)}"
    elif isinstance(item, PeerClosed):
        reason = f"{item} before {what}"
    elif type(item) is PositionOpened:
        return item
    raise _Failed("sell", reason)


def _opened_for(item: Any, wallet: str) -> bool:
    return type(item) is PositionOpened and item.wallet_pubkey == wallet


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
