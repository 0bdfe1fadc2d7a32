"""Transactions: decode, sign, encode, and submit to a send target (Solana JSON-RPC ``sendTransaction``).

Signing is local (``solders``); a signed exit transaction goes to the chosen target as a
JSON-RPC ``sendTransaction`` over a pooled keep-alive ``requests.Session``. Secret keys never
reach a log line, a repr or an error message: only public keys are ever named. Send target URLs
(which often carry a provider API key) are shown through ``safe_url`` and their secrets are
redacted from every error, including the text of wrapped ``requests`` errors.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import threading
from typing import Any, Callable, Dict, List, Optional, Sequence, Union

import attrs
import requests
from solders.keypair import Keypair
from solders.transaction import VersionedTransaction

from ._checks import HttpSettings, Proxies, Verify, pooled_session
from ._redact import mask, redact, register_secrets, safe_url, url_secrets
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


def _shown_url(url: Optional[str]) -> str:
    return repr(url if url is None else safe_url(url))


@attrs.frozen(kw_only=True)
class SendTargetRpc:
    """A Solana RPC endpoint (the public default, or your own; an ``?api-key=`` in it stays secret)."""

    url: str = attrs.field(default=MAINNET_BETA_RPC_URL, repr=_shown_url, validator=attrs.validators.instance_of(str))
    max_retries: int = 0
    name = "rpc"

    def __attrs_post_init__(self) -> None:
        register_secrets(url_secrets(self.url))

    def config(self) -> Dict[str, Any]:
        """The ``sendTransaction`` options this target wants."""
        return {
            "encoding": "base64",
            "skipPreflight": True,
            "maxRetries": self.max_retries,
            "preflightCommitment": "processed",
        }

    def headers(self) -> Dict[str, str]:
        """Extra HTTP headers: none."""
        return {}


@attrs.frozen(kw_only=True)
class SendTargetHeliusSender:
    """Helius Sender (no API key needed)."""

    url: str = attrs.field(default=HELIUS_SENDER_URL, repr=_shown_url, validator=attrs.validators.instance_of(str))
    name = "helius sender"

    def __attrs_post_init__(self) -> None:
        register_secrets(url_secrets(self.url))

    def config(self) -> Dict[str, Any]:
        """The ``sendTransaction`` options this target wants."""
        return {"encoding": "base64", "skipPreflight": True, "maxRetries": 0}

    def headers(self) -> Dict[str, str]:
        """Extra HTTP headers: none."""
        return {}


@attrs.frozen(kw_only=True)
class SendTargetAstralane:
    """Astralane Iris; ``api_key`` is your Astralane key (not the LaserSell key)."""

    api_key: str = attrs.field(repr=lambda key: mask(key))
    region: str = "fr"
    # overrides the regional URL (a proxy, or a local test server)
    endpoint: Optional[str] = attrs.field(
        default=None, repr=_shown_url, validator=attrs.validators.optional(attrs.validators.instance_of(str))
    )
    name = "astralane"

    def __attrs_post_init__(self) -> None:
        if self.region not in ASTRALANE_REGIONS:
            raise ValueError(f"unknown Astralane region {self.region!r}; expected one of {sorted(ASTRALANE_REGIONS)}")
        if not self.api_key:
            raise ValueError("Astralane needs its API key")
        register_secrets([self.api_key, *url_secrets(self.url)])

    @property
    def url(self) -> str:
        """The endpoint to post to: ``endpoint`` if given, else the region's gateway."""
        return self.endpoint or f"https://{self.region}.gateway.astralane.io/iris"

    def config(self) -> Dict[str, Any]:
        """The ``sendTransaction`` options this target wants."""
        return {"encoding": "base64", "skipPreflight": True, "maxRetries": 0}

    def headers(self) -> Dict[str, str]:
        """Extra HTTP headers: the Astralane key."""
        return {"x-api-key": self.api_key}


SendTarget = Union[SendTargetRpc, SendTargetHeliusSender, SendTargetAstralane]
_TARGET_TYPES = (SendTargetRpc, SendTargetHeliusSender, SendTargetAstralane)


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

    Args:
        timeout: seconds to wait for an answer; connect_timeout: seconds to connect.
        pool_maxsize: keep-alive connections kept per host.
        proxies: ``None`` honours ``HTTPS_PROXY``/``HTTP_PROXY``/``NO_PROXY`` (read once per
            target URL); a ``requests``-style map replaces them; ``{}`` connects directly.
        verify: ``None`` honours ``REQUESTS_CA_BUNDLE``/``CURL_CA_BUNDLE`` (read once), else
            certifi; a path names your CA bundle. Verification cannot be turned off.

    Example:
        >>> sender = TxSender()
        >>> signature = sender.send(SendTargetHeliusSender(), signed_tx)
    """

    def __init__(
        self,
        timeout: float = 10.0,
        connect_timeout: float = 2.0,
        pool_maxsize: int = 16,
        *,
        proxies: Proxies = None,
        verify: Verify = None,
    ) -> None:
        self._timeout = (connect_timeout, timeout)
        self._http = HttpSettings(proxies, verify)
        self._session = pooled_session(pool_maxsize, self._http)

    def __repr__(self) -> str:
        return f"<TxSender timeout={self._timeout[1]:g}s {self._http!r}>"

    def close(self) -> None:
        """Close pooled connections."""
        self._session.close()

    def __enter__(self) -> TxSender:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    def send(self, target: SendTarget, tx: VersionedTransaction) -> str:
        """Submit; returns the transaction signature (base58). Raises TxSubmitError."""
        return self.send_b64(target, encode_signed_tx(_check_tx(tx)))

    def send_b64(self, target: SendTarget, tx_b64: str) -> str:
        """Submit an already encoded signed transaction; returns its signature."""
        if not isinstance(target, _TARGET_TYPES):
            raise TypeError(f"target must be a SendTarget (SendTargetRpc, ...), got {type(target).__name__}")
        if not isinstance(tx_b64, str):
            raise TypeError(f"tx_b64 must be base64 text (str), got {type(tx_b64).__name__}")
        body = {"jsonrpc": "2.0", "id": 1, "method": "sendTransaction", "params": [tx_b64, target.config()]}
        url = target.url
        try:
            response = self._session.post(
                url,
                data=jsonlib.dumps(body).encode("utf-8"),
                headers=target.headers(),
                timeout=self._timeout,
                proxies=self._http.proxies_for(url),
            )
            text = response.text
        except requests.RequestException as exc:
            # Built here, raised below: outside the handler, so no un-redacted __context__.
            error = TxSubmitError(
                "transport",
                f"POST {safe_url(url)} failed: {type(exc).__name__}: {redact(str(exc), self._secrets(target))}",
                target=target.name,
            )
        else:
            return _rpc_result(response.status_code, text, target.name, lambda: self._secrets(target))
        raise error

    def _secrets(self, target: SendTarget) -> List[str]:
        return [*target.headers().values(), *self._http.secrets_for(target.url)]


def _check_tx(tx: Any) -> VersionedTransaction:
    if not isinstance(tx, VersionedTransaction):
        hint = "; use send_transaction_b64 (or TxSender.send_b64) for base64 text" if isinstance(tx, str) else ""
        raise TypeError(f"tx must be a solders VersionedTransaction (got {type(tx).__name__}){hint}")
    return tx


_NOT_JSON: Any = object()


def _json_or_not(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return _NOT_JSON


def _rpc_result(status: int, text: str, target: str, secrets: Callable[[], List[str]]) -> str:
    """The signature in a JSON-RPC answer; else a TxSubmitError whose text has no secret."""
    body = _json_or_not(text) if 200 <= status < 300 else _NOT_JSON
    if not 200 <= status < 300:
        kind, prefix, detail = "http_status", f"HTTP {status}: ", text
    elif body is _NOT_JSON:
        kind, prefix, detail = "decode", "response is not JSON: ", text
    elif not isinstance(body, dict):
        kind, prefix, detail = "decode", "response is not a JSON object: ", text
    elif "error" in body:
        kind, prefix, detail = "rpc_error", "", json.dumps(body["error"], separators=(",", ":"))
    elif isinstance(body.get("result"), str) and body["result"]:
        return str(body["result"])
    else:
        shown = body.get("result") if body.get("result") is not None else body
        kind, prefix, detail = "missing_result", "no signature in result: ", json.dumps(shown)
    detail = redact(detail, secrets())  # before clipping, so no secret is cut in half and kept
    message = prefix + (detail if kind == "rpc_error" else detail[:_SNIPPET])
    raise TxSubmitError(kind, message, target=target, status=status if kind == "http_status" else None)


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
    return _sender().send(target, _check_tx(tx))


def send_transaction_b64(target: SendTarget, tx_b64: str) -> str:
    """Submit a base64 signed transaction with the shared pooled sender; returns its signature."""
    return _sender().send_b64(target, tx_b64)
