"""Transactions: decode, sign, encode, and submit to a send target (PROTOCOL.md 10).

Signing is local (``solders``); a signed exit transaction goes to the chosen target as a
JSON-RPC ``sendTransaction`` over a pooled keep-alive ``requests.Session``. Secret keys never
reach a log line, a repr or an error message: only public keys are ever named.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import threading
from typing import Any, Dict, Optional, Sequence, Union

import attrs
import requests
from solders.keypair import Keypair
from solders.transaction import VersionedTransaction

from ._checks import pooled_session
from ._redact import mask, redact
from .errors import TxSubmitError
from .proto import jsonlib

__all__ = [
    "HELIUS_SENDER_URL",
    "MAINNET_BETA_RPC_URL",
    "SendTarget",
    "SendTargetAstralane",
    "SendTargetHeliusSender",
    "SendTargetRpc",
    "TxSender",
    "decode_unsigned_tx",
    "encode_signed_tx",
    "send_transaction",
    "send_transaction_b64",
    "sign_unsigned_tx",
]

MAINNET_BETA_RPC_URL = "https://solana-rpc.publicnode.com"
"""The public RPC the official SDKs default to: rate-limited, meant for testing."""
HELIUS_SENDER_URL = "https://sender.helius-rpc.com/fast"
ASTRALANE_REGIONS = frozenset({"fr", "fr2", "ams", "ams2", "la", "ny", "jp", "sg", "lim", "lit"})
_BASE64 = re.compile(r"^[A-Za-z0-9+/]*={0,2}$")
_SNIPPET = 220


@attrs.frozen(kw_only=True)
class SendTargetRpc:
    """A Solana RPC endpoint (the public default, or your own)."""

    url: str = MAINNET_BETA_RPC_URL
    max_retries: int = 0
    name = "rpc"

    def config(self) -> Dict[str, Any]:
        return {
            "encoding": "base64",
            "skipPreflight": True,
            "maxRetries": self.max_retries,
            "preflightCommitment": "processed",
        }

    def headers(self) -> Dict[str, str]:
        return {}


@attrs.frozen(kw_only=True)
class SendTargetHeliusSender:
    """Helius Sender (no API key needed)."""

    url: str = HELIUS_SENDER_URL
    name = "helius sender"

    def config(self) -> Dict[str, Any]:
        return {"encoding": "base64", "skipPreflight": True, "maxRetries": 0}

    def headers(self) -> Dict[str, str]:
        return {}


@attrs.frozen(kw_only=True)
class SendTargetAstralane:
    """Astralane Iris; ``api_key`` is your Astralane key (not the LaserSell key)."""

    api_key: str = attrs.field(repr=lambda key: mask(key))
    region: str = "fr"
    endpoint: Optional[str] = None  # overrides the regional URL (a proxy, or a local test server)
    name = "astralane"

    def __attrs_post_init__(self) -> None:
        if self.region not in ASTRALANE_REGIONS:
            raise ValueError(f"unknown Astralane region {self.region!r}; expected one of {sorted(ASTRALANE_REGIONS)}")
        if not self.api_key:
            raise ValueError("Astralane needs its API key")

    @property
    def url(self) -> str:
        return self.endpoint or f"https://{self.region}.gateway.astralane.io/iris"

    def config(self) -> Dict[str, Any]:
        return {"encoding": "base64", "skipPreflight": True, "maxRetries": 0}

    def headers(self) -> Dict[str, str]:
        return {"x-api-key": self.api_key}


SendTarget = Union[SendTargetRpc, SendTargetHeliusSender, SendTargetAstralane]


def decode_unsigned_tx(unsigned_tx_b64: str) -> VersionedTransaction:
    """Strict base64 to ``VersionedTransaction``. Raises TxSubmitError(kind="decode")."""
    if not isinstance(unsigned_tx_b64, str):
        raise TxSubmitError("decode", f"transaction must be base64 text, got {type(unsigned_tx_b64).__name__}")
    text = unsigned_tx_b64.strip()
    if not text:
        raise TxSubmitError("decode", "base64 payload is empty")
    if len(text) % 4 or not _BASE64.match(text):
        raise TxSubmitError("decode", "invalid base64 encoding")
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise TxSubmitError("decode", "invalid base64 encoding") from None
    try:
        return VersionedTransaction.from_bytes(raw)
    except Exception as exc:  # solders raises its own error types
        raise TxSubmitError("decode", f"not a serialized VersionedTransaction ({type(exc).__name__})") from None


def sign_unsigned_tx(unsigned_tx_b64: str, keypairs: Union[Keypair, Sequence[Keypair]]) -> VersionedTransaction:
    """Decode and sign an unsigned transaction with the required signer(s).

    Raises:
        TxSubmitError: kind ``decode`` (bad payload) or ``sign`` (a keypair that is not a
            required signer, or a required signer without a keypair); names public keys only.
    """
    signers = [keypairs] if isinstance(keypairs, Keypair) else list(keypairs)
    if not signers or not all(isinstance(k, Keypair) for k in signers):
        raise TxSubmitError("sign", "give one or more solders Keypair objects to sign with")
    unsigned = decode_unsigned_tx(unsigned_tx_b64)
    message = unsigned.message
    required = list(message.account_keys[: message.header.num_required_signatures])
    expected = ", ".join(str(key) for key in required)
    for keypair in signers:
        if keypair.pubkey() not in required:
            raise TxSubmitError("sign", f"{keypair.pubkey()} is not a required signer; expected {expected}")
    missing = [str(key) for key in required if key not in {k.pubkey() for k in signers}]
    if missing:
        raise TxSubmitError("sign", f"missing keypairs for required signers: {', '.join(missing)}")
    try:
        return VersionedTransaction(message, signers)
    except Exception as exc:
        raise TxSubmitError("sign", f"signing failed ({type(exc).__name__})") from None


def encode_signed_tx(tx: VersionedTransaction) -> str:
    """Standard base64 (padded) of the serialized transaction."""
    return base64.b64encode(bytes(tx)).decode("ascii")


class TxSender:
    """Submits signed transactions over pooled connections; share one per process.

    Example:
        >>> sender = TxSender()
        >>> signature = sender.send(SendTargetHeliusSender(), signed_tx)
    """

    def __init__(self, timeout: float = 10.0, connect_timeout: float = 2.0, pool_maxsize: int = 16) -> None:
        self._timeout = (connect_timeout, timeout)
        self._session = pooled_session(pool_maxsize)

    def close(self) -> None:
        self._session.close()

    def __enter__(self) -> TxSender:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    def send(self, target: SendTarget, tx: VersionedTransaction) -> str:
        """Submit; returns the transaction signature (base58). Raises TxSubmitError."""
        return self.send_b64(target, encode_signed_tx(tx))

    def send_b64(self, target: SendTarget, tx_b64: str) -> str:
        """Submit an already encoded signed transaction; returns its signature."""
        body = {"jsonrpc": "2.0", "id": 1, "method": "sendTransaction", "params": [tx_b64, target.config()]}
        secrets = list(target.headers().values())
        try:
            response = self._session.post(
                target.url,
                data=jsonlib.dumps(body).encode("utf-8"),
                headers=target.headers(),
                timeout=self._timeout,
            )
            text = response.text
        except requests.RequestException as exc:
            raise TxSubmitError("transport", redact(f"request failed: {exc}", secrets), target=target.name) from None
        if not 200 <= response.status_code < 300:
            raise TxSubmitError(
                "http_status",
                f"HTTP {response.status_code}: {text[:_SNIPPET]}",
                target=target.name,
                status=response.status_code,
            )
        return _rpc_result(text, target.name)


def _rpc_result(text: str, target: str) -> str:
    try:
        body = json.loads(text)
    except ValueError:
        raise TxSubmitError("decode", f"response is not JSON: {text[:_SNIPPET]}", target=target) from None
    if not isinstance(body, dict):
        raise TxSubmitError("decode", f"response is not a JSON object: {text[:_SNIPPET]}", target=target)
    if "error" in body:
        raise TxSubmitError("rpc_error", json.dumps(body["error"], separators=(",", ":")), target=target)
    result = body.get("result")
    if isinstance(result, str) and result:
        return result
    shown = result if result is not None else body
    raise TxSubmitError("missing_result", f"no signature in result: {json.dumps(shown)[:_SNIPPET]}", target=target)


_default_sender: Optional[TxSender] = None
_default_lock = threading.Lock()


def _sender() -> TxSender:
    global _default_sender
    with _default_lock:
        if _default_sender is None:
            _default_sender = TxSender()
        return _default_sender


def send_transaction(target: SendTarget, tx: VersionedTransaction) -> str:
    """Submit a signed transaction with the shared pooled sender; returns its signature."""
    return _sender().send(target, tx)


def send_transaction_b64(target: SendTarget, tx_b64: str) -> str:
    """Submit a base64 signed transaction with the shared pooled sender; returns its signature."""
    return _sender().send_b64(target, tx_b64)
