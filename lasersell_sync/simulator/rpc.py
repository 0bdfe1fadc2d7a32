"""The simulator's Solana JSON-RPC: the methods an exit executor needs, answered like a real node.

``sendTransaction`` (base64 or base58; signatures verified; ``skipPreflight: false`` simulates
first), ``getSignatureStatuses``, ``isBlockhashValid``, ``getLatestBlockhash``, ``getSlot``,
``getBlockHeight`` and ``getHealth``. Batches (a JSON array of requests) are answered in order.
Errors use the JSON-RPC 2.0 shape and the codes a Solana node uses.
"""

from __future__ import annotations

import base64
import binascii
import logging
from typing import Any, Callable, Dict, List, Optional, Tuple

from solders.hash import Hash
from solders.signature import Signature
from solders.transaction import VersionedTransaction

from .chain import RpcError
from .txbuild import b58decode

__all__ = ["MAX_SIGNATURES", "RpcBackend", "answer", "parse_error"]

logger = logging.getLogger(__name__)

MAX_SIGNATURES = 256  # per getSignatureStatuses call, as on a real node

Json = Dict[str, Any]


class RpcBackend:
    """What the RPC needs from the simulator (each call is atomic with respect to the market)."""

    def send_transaction(self, tx: VersionedTransaction, preflight: bool) -> str:
        """Accept a verified transaction; its signature."""
        raise NotImplementedError

    def signature_statuses(self, signatures: List[str], search_history: bool) -> Tuple[int, List[Optional[Json]]]:
        """The current slot and one status (or None) per signature."""
        raise NotImplementedError

    def blockhash_valid(self, blockhash: str) -> Tuple[int, bool]:
        """The current slot and whether the blockhash is still valid."""
        raise NotImplementedError

    def latest_blockhash(self) -> Tuple[int, str, int]:
        """The current slot, its blockhash and the last block height it is valid in."""
        raise NotImplementedError

    def called(self, method: str) -> None:
        """A request for ``method`` arrived (counted, so tests can wait on the client's calls)."""

    def slot(self) -> int:
        """The current slot (no skipped slots: also the block height)."""
        raise NotImplementedError


def parse_error() -> Json:
    """The answer to a body that is not JSON."""
    return _error(None, -32700, "Parse error")


def answer(body: Any, backend: RpcBackend) -> Any:
    """The response to one request, or the list of responses to a batch."""
    if isinstance(body, list):
        return [_one(item, backend) for item in body] if body else _error(None, -32600, "Invalid request")
    return _one(body, backend)


def _error(request_id: Any, code: int, message: str) -> Json:
    return {"jsonrpc": "2.0", "error": {"code": code, "message": message}, "id": request_id}


def _one(request: Any, backend: RpcBackend) -> Json:
    if not isinstance(request, dict):
        return _error(None, -32600, "Invalid request")
    request_id = request.get("id")
    if request.get("jsonrpc") != "2.0" or not isinstance(request.get("method"), str):
        return _error(request_id, -32600, "Invalid request")
    params = request.get("params", [])
    if not isinstance(params, list):
        return _error(request_id, -32602, "Invalid params: expected an array of parameters")
    method = _METHODS.get(request["method"])
    if method is None:
        return _error(request_id, -32601, "Method not found")
    backend.called(request["method"])
    try:
        result = method(backend, params)
    except RpcError as exc:
        return _error(request_id, exc.code, exc.message)
    except Exception:  # a simulator bug: answer like a node would, and say so in the log
        logger.exception("simulated RPC %s failed", request["method"])
        return _error(request_id, -32603, "Internal error")
    return {"jsonrpc": "2.0", "result": result, "id": request_id}


def _config(params: List[Any], index: int) -> Json:
    config = params[index] if len(params) > index else None
    if config is None:
        return {}
    if not isinstance(config, dict):
        raise RpcError(-32602, "Invalid params: the configuration must be an object")
    return config


def _string(params: List[Any], what: str) -> str:
    if not params or not isinstance(params[0], str):
        raise RpcError(-32602, f"Invalid params: expected {what} as the first parameter")
    return params[0]


def _send_transaction(backend: RpcBackend, params: List[Any]) -> str:
    payload = _string(params, "the encoded transaction")
    config = _config(params, 1)
    encoding = config.get("encoding", "base58")
    if encoding not in ("base64", "base58"):
        raise RpcError(-32602, f"Invalid params: unsupported encoding: {encoding}")
    try:
        raw = base64.b64decode(payload, validate=True) if encoding == "base64" else b58decode(payload)
    except (binascii.Error, ValueError) as exc:
        raise RpcError(-32602, f"invalid transaction: failed to decode {encoding}: {exc}") from None
    try:
        tx = VersionedTransaction.from_bytes(raw)
    except Exception:  # solders raises its own error types
        raise RpcError(-32602, "invalid transaction: failed to deserialize VersionedTransaction") from None
    if not tx.signatures or not all(tx.verify_with_results()):
        raise RpcError(-32003, "Transaction signature verification failure")
    return backend.send_transaction(tx, preflight=not config.get("skipPreflight", False))


def _signature_statuses(backend: RpcBackend, params: List[Any]) -> Json:
    signatures = params[0] if params else None
    if not isinstance(signatures, list) or not all(isinstance(s, str) for s in signatures):
        raise RpcError(-32602, "Invalid params: expected an array of signatures as the first parameter")
    if len(signatures) > MAX_SIGNATURES:
        raise RpcError(-32602, f"Too many inputs provided; max {MAX_SIGNATURES}")
    for signature in signatures:
        try:
            Signature.from_string(signature)
        except ValueError:
            raise RpcError(-32602, f"Invalid param: Invalid signature {signature!r}") from None
    search = _config(params, 1).get("searchTransactionHistory", False) is True
    slot, value = backend.signature_statuses(signatures, search)
    return {"context": {"slot": slot}, "value": value}


def _blockhash_valid(backend: RpcBackend, params: List[Any]) -> Json:
    blockhash = _string(params, "a blockhash")
    _config(params, 1)
    try:
        Hash.from_string(blockhash)
    except Exception:  # solders raises ParseHashError, not a ValueError
        raise RpcError(-32602, f"Invalid param: Invalid blockhash {blockhash!r}") from None
    slot, valid = backend.blockhash_valid(blockhash)
    return {"context": {"slot": slot}, "value": valid}


def _latest_blockhash(backend: RpcBackend, params: List[Any]) -> Json:
    _config(params, 0)
    slot, blockhash, last_valid = backend.latest_blockhash()
    return {"context": {"slot": slot}, "value": {"blockhash": blockhash, "lastValidBlockHeight": last_valid}}


def _slot(backend: RpcBackend, params: List[Any]) -> int:
    _config(params, 0)
    return backend.slot()


def _health(backend: RpcBackend, params: List[Any]) -> str:
    return "ok"


_METHODS: Dict[str, Callable[[RpcBackend, List[Any]], Any]] = {
    "sendTransaction": _send_transaction,
    "getSignatureStatuses": _signature_statuses,
    "isBlockhashValid": _blockhash_valid,
    "getLatestBlockhash": _latest_blockhash,
    "getSlot": _slot,
    "getBlockHeight": _slot,
    "getHealth": _health,
}
