"""The simulator's Exit API and JSON-RPC endpoints (standard-library HTTP/1.1 on 127.0.0.1).

``/v1/sell`` and ``/v1/buy`` build real unsigned transactions for the account of the
``x-api-key``; ``/v1/wallets/register`` checks the ownership proof's signature and timestamp and
``DELETE /v1/wallets`` forgets a wallet again; ``GET /v1/account`` reports the plan the stream
announces and the registered wallets; ``GET /v1/history`` lists the positions the account's
market closed (``limit`` capped at 200, ``offset``, ``mint`` and ``wallet`` filters, ``total``);
``GET /healthz`` needs no key. Every ``/v1/`` path wants an accepted key (401 otherwise).
``/rpc`` is the simulated chain's JSON-RPC (:mod:`.rpc`): transactions sent there land a slot
later and settle simulated exits, which closes the loop on the stream.
"""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Dict, List, Optional, Tuple
from urllib.parse import parse_qs

from solders.pubkey import Pubkey
from solders.signature import Signature

from .._checks import is_pubkey
from ..exit_api.account import MAX_HISTORY_LIMIT
from .accounts import Accounts
from .faults import RpcFaults
from .rpc import parse_error

__all__ = ["BuildBuy", "BuildSell", "HttpEndpoint"]

logger = logging.getLogger(__name__)

Reply = Tuple[int, Any]
BuildSell = Callable[[str, str, str, int, int], Tuple[str, str]]
"""``(api key, user, mint, tokens, slippage bps) -> (unsigned tx, route market type)``."""
BuildBuy = Callable[[str, str, str, int, int], str]
"""``(api key, user, mint, lamports, slippage bps) -> unsigned tx``."""
Trades = Callable[[str], List[Dict[str, Any]]]
"""``(api key) -> the account's trade records, most recent first``."""
_PROOF_WINDOW = 300
_DEFAULT_SLIPPAGE_BPS = 2000
_NOT_JSON: Any = object()


class HttpEndpoint:
    """REST + RPC for the simulated accounts; the callbacks reach into the market engine."""

    def __init__(
        self,
        *,
        host: str,
        port: int,
        build_sell: BuildSell,
        build_buy: BuildBuy,
        rpc: Callable[[Any], Any],
        accounts: Accounts,
        trades: Trades,
        rpc_faults: Optional[RpcFaults] = None,
        on_call: Optional[Callable[[str], None]] = None,
    ) -> None:
        self._rpc_faults = rpc_faults
        self._on_call = on_call
        self._build_sell = build_sell
        self._build_buy = build_buy
        self._rpc = rpc
        self._accounts = accounts
        self._trades = trades
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                logger.debug("simulator http: %s", format % args)

            def do_GET(self) -> None:
                self._serve()

            def do_POST(self) -> None:
                self._serve()

            def do_DELETE(self) -> None:
                self._serve()

            def _serve(self) -> None:
                # The query is split off the path: providers carry keys there (``?api-key=``).
                path, _, query = self.path.partition("?")
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length) if length else b""
                api_key = self.headers.get("x-api-key") or ""
                self._reply(*owner.answer(self.command, path, query, raw, api_key))

            def _reply(self, status: int, body: Any) -> None:
                payload = json.dumps(body, separators=(",", ":")).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        sockets: List[socket.socket] = []
        self._sockets = sockets

        class Server(ThreadingHTTPServer):
            daemon_threads = False
            block_on_close = True  # stop() joins every handler thread

            def handle_error(self, request: Any, client_address: Any) -> None:
                error = sys.exc_info()[1]
                if isinstance(error, (ConnectionError, TimeoutError)):
                    logger.debug("simulator http: the client at %s went away", client_address)
                else:  # a simulator bug: in the log, not on stderr
                    logger.error("simulator http: request from %s failed: %r", client_address, error)

            def get_request(self) -> Tuple[socket.socket, Any]:
                conn, addr = super().get_request()
                # headers and body are two writes: without this, Nagle's algorithm holds the body
                # back until the client's delayed ACK (up to 40 ms on Linux), as no real RPC does
                conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                sockets.append(conn)
                return conn, addr

        self._stop_lock = threading.Lock()
        self._stopped = False
        self._server = Server((host, port), Handler)
        self.port: int = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.1,), name="lasersell-sim-http", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """End every connection and join the server thread, so nothing outlives the simulator.

        Safe to call more than once; later calls do nothing.
        """
        with self._stop_lock:
            if self._stopped:
                return
            self._stopped = True
        for conn in self._sockets:  # end keep-alive connections so their threads finish
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

    # -- routes ----------------------------------------------------------------------------

    def answer(self, method: str, path: str, query: str, raw: bytes, api_key: str = "") -> Reply:
        """Answer one request as the service would: ``(HTTP status, JSON body)``."""
        if (method, path) == ("GET", "/healthz"):
            return 200, {"status": "ok"}
        if (method, path) == ("GET", "/ping"):  # Helius Sender's warm-up endpoint
            self._rpc_count("ping")
            return 200, "ok"
        try:
            body = json.loads(raw or b"null")
        except ValueError:
            body = _NOT_JSON
        if method == "POST" and (path == "/rpc" or path.startswith("/rpc/")):
            if body is _NOT_JSON:
                return 200, parse_error()
            return self._call_rpc(body, path[len("/rpc/") :])
        refused = self._refuse_key(path, api_key)
        if refused is not None:
            return refused
        if (method, path) == ("GET", "/v1/account"):
            return 200, self._accounts.account()
        if (method, path) == ("GET", "/v1/history"):
            return self._history(api_key, query)
        if body is _NOT_JSON and method != "GET":
            return 400, {"error": "body is not JSON"}
        return self._route(method, path, body, api_key)

    def _rpc_count(self, name: str) -> None:
        if self._on_call is not None:  # counted with the RPC's methods (``sim.rpc_calls``)
            self._on_call(name)

    def _call_rpc(self, body: Any, label: str) -> Reply:
        """A JSON-RPC call, unless a fault refuses it (503) or holds it."""
        faults = self._rpc_faults
        if faults is not None:
            calls = body if isinstance(body, list) else [body]
            methods = [str(call.get("method")) for call in calls if isinstance(call, dict)]
            fault = faults.decide(methods, label)
            if fault == "error" or (fault == "hang" and not faults.hold()):
                return 503, {"error": "service unavailable"}
        return 200, self._rpc(body)

    def _refuse_key(self, path: str, api_key: str) -> Optional[Reply]:
        """The 401 for a ``/v1/`` call without an accepted key; None when the call may proceed."""
        if not path.startswith("/v1/"):
            return None
        if not api_key:
            return 401, {"error": "missing or invalid API key"}
        if not self._accounts.accepts(api_key):
            return 401, {"error": "invalid api key"}
        return None

    def _route(self, method: str, path: str, body: Any, api_key: str = "") -> Reply:
        """Answer one request that carries a JSON body (the POSTs and ``DELETE /v1/wallets``)."""
        handlers: Dict[Tuple[str, str], Callable[[Dict[str, Any]], Reply]] = {
            ("POST", "/v1/sell"): lambda b: self._sell(b, api_key),
            ("POST", "/v1/buy"): lambda b: self._buy(b, api_key),
            ("POST", "/v1/wallets/register"): self._register_wallet,
            ("DELETE", "/v1/wallets"): self._unregister_wallet,
        }
        handler = handlers.get((method, path))
        if handler is None:
            return 404, {"error": "not found"}
        if not isinstance(body, dict):
            return 400, {"error": "body must be a JSON object"}
        return handler(body)

    def _history(self, api_key: str, query: str) -> Reply:
        params = {name: values[-1] for name, values in parse_qs(query, keep_blank_values=True).items()}
        try:
            limit = min(int(params.get("limit") or 50), MAX_HISTORY_LIMIT)  # capped, as documented
            offset = int(params.get("offset") or 0)
        except ValueError:
            return 400, {"error": "limit and offset must be integers"}
        if limit < 1 or offset < 0:
            return 400, {"error": "limit must be at least 1 and offset at least 0"}
        mint, wallet = params.get("mint") or None, params.get("wallet") or None  # ``mint=``: no filter
        for name, value in (("mint", mint), ("wallet", wallet)):
            if value is not None and not is_pubkey(value):
                return 400, {"error": f"invalid {name}"}
        trades = [
            t
            for t in self._trades(api_key)
            if (mint is None or t["mint"] == mint) and (wallet is None or t["wallet_pubkey"] == wallet)
        ]
        return 200, {"trades": trades[offset : offset + limit], "total": len(trades)}

    def _sell(self, body: Dict[str, Any], api_key: str) -> Reply:
        try:
            mint, user, amount = str(body["mint"]), str(body["user_pubkey"]), int(body["amount_tokens"])
        except (KeyError, TypeError, ValueError):
            return 400, {"error": "mint, user_pubkey and amount_tokens are required"}
        try:
            Pubkey.from_string(mint)
            Pubkey.from_string(user)
        except ValueError:
            return 400, {"error": "invalid mint address"}
        if amount <= 0:
            return 400, {"error": "amount_tokens must be positive"}
        slippage = _slippage(body)
        if slippage is None:
            return 400, {"error": "slippage_bps must be an integer from 0 to 10000"}
        tx, market_type = self._build_sell(api_key, user, mint, amount, slippage)
        return 200, {"status": "ok", "tx": tx, "route": {"market_type": market_type}}

    def _buy(self, body: Dict[str, Any], api_key: str) -> Reply:
        try:
            mint, user = str(body["mint"]), str(body["user_pubkey"])
            lamports = int(body.get("amount_in_total") or round(float(body.get("amount") or 0) * 10**9))
            Pubkey.from_string(user)
        except (KeyError, TypeError, ValueError):
            return 400, {"error": "mint, user_pubkey and an amount are required"}
        slippage = _slippage(body)
        if slippage is None:
            return 400, {"error": "slippage_bps must be an integer from 0 to 10000"}
        return 200, {"status": "ok", "tx": self._build_buy(api_key, user, mint, lamports, slippage)}

    def _register_wallet(self, body: Dict[str, Any]) -> Reply:
        try:
            wallet, signature, message = str(body["wallet_pubkey"]), str(body["signature"]), str(body["message"])
            pubkey = Pubkey.from_string(wallet)
            prefix, proved, stamp = message.split(":")
            timestamp = int(stamp)
        except (KeyError, ValueError):
            return 400, {"error": "malformed registration"}
        if prefix != "lasersell-register" or proved != wallet:
            return 400, {"error": "malformed message"}
        if abs(time.time() - timestamp) > _PROOF_WINDOW:
            return 400, {"error": "timestamp older than 5 minutes"}
        try:
            valid = Signature.from_string(signature).verify(pubkey, message.encode())
        except ValueError:
            valid = False
        if not valid:
            return 403, {"error": "signature verification failed"}
        self._accounts.register(wallet)
        return 200, {"wallet_pubkey": wallet, "registered": True}

    def _unregister_wallet(self, body: Dict[str, Any]) -> Reply:
        wallet = body.get("wallet_pubkey")
        if not is_pubkey(wallet):
            return 400, {"error": "invalid wallet_pubkey"}
        return 200, {"wallet_pubkey": wallet, "removed": self._accounts.unregister(wallet)}


def _slippage(body: Dict[str, Any]) -> Optional[int]:
    """``slippage_bps`` of a build request (2000 when absent), or None if it is not valid."""
    value = body.get("slippage_bps", _DEFAULT_SLIPPAGE_BPS)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 10_000:
        return None
    return value
