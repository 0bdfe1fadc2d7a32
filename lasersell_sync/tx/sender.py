"""``TxSender``: submit signed transactions to one or several targets, then make sure they land.

One sender per process keeps HTTP connections warm (pooled keep-alive ``requests.Session``).
``send`` posts ``sendTransaction``; ``send_many`` fans one signed transaction out to several
targets at once (one signature, so no double-spend risk); ``confirm`` watches a signature with
batched ``getSignatureStatuses`` polling; ``is_blockhash_valid`` tells whether a transaction that
has not landed can still land.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import attrs
from solders.hash import Hash
from solders.transaction import VersionedTransaction

from .._http import AbortableAdapter, HttpSettings, Proxies, Verify, pooled_session
from .._redact import register_secrets, url_secrets
from ..errors import TxSubmitError
from .confirm import COMMITMENTS, MAX_BATCH, Confirmation, SignatureStatus, StatusPoller, parse_statuses
from .rpc import RPC_NAME, JsonRpc, missing_result
from .signing import encode_signed_tx
from .targets import TARGET_TYPES, SendTarget, target_list

__all__ = [
    "Submission",
    "TxSender",
    "confirm_transaction",
    "is_blockhash_valid",
    "send_and_confirm",
    "send_transaction",
    "send_transaction_b64",
]

Targets = Union[SendTarget, Sequence[SendTarget]]


@attrs.frozen(kw_only=True)
class Submission:
    """One signed transaction handed to one or more targets.

    Attributes:
        signature: the transaction's signature (base58), known before anything is sent.
        accepted: names of the targets that accepted it.
        errors: what each refusing target raised, by target name.
    """

    signature: str
    accepted: Tuple[str, ...]
    errors: Dict[str, TxSubmitError] = attrs.field(factory=dict, eq=False)


class TxSender:
    """Submits signed transactions over pooled connections and confirms them; share one per process.

    Args:
        timeout: seconds to wait for an answer.
        connect_timeout: seconds to connect.
        pool_maxsize: keep-alive connections kept per host (and threads for ``send_many``).
        proxies: ``None`` honours ``HTTPS_PROXY``/``HTTP_PROXY``/``NO_PROXY`` (read once per
            target URL); a ``requests``-style map replaces them; ``{}`` connects directly.
        verify: ``None`` honours ``REQUESTS_CA_BUNDLE``/``CURL_CA_BUNDLE`` (read once), else
            certifi; a path names your CA bundle. Verification cannot be turned off.
        poll_interval: seconds between two ``getSignatureStatuses`` polls.

    Example:
        >>> sender = TxSender()
        >>> outcome = sender.send_and_confirm(SendTargetHeliusSender(), signed_tx, rpc_url)
    """

    def __init__(
        self,
        timeout: float = 10.0,
        connect_timeout: float = 2.0,
        pool_maxsize: int = 16,
        *,
        proxies: Proxies = None,
        verify: Verify = None,
        poll_interval: float = 0.2,
    ) -> None:
        if min(timeout, connect_timeout, poll_interval) <= 0 or pool_maxsize < 1:
            raise ValueError("timeouts and poll_interval must be > 0 and pool_maxsize >= 1")
        self._timeout = (connect_timeout, timeout)
        self._http = HttpSettings(proxies, verify)
        self._session = pooled_session(pool_maxsize, self._http)
        self._rpc = JsonRpc(self._session, self._timeout, self._http)
        self._pool_size = pool_maxsize
        self._poll_interval = poll_interval
        self._lock = threading.Lock()
        self._pool: Optional[ThreadPoolExecutor] = None
        self._pollers: Dict[str, StatusPoller] = {}
        self._closed = False

    def __repr__(self) -> str:
        return f"<TxSender timeout={self._timeout[1]:g}s {self._http!r}>"

    @property
    def poll_interval(self) -> float:
        """Seconds between two ``getSignatureStatuses`` polls."""
        return self._poll_interval

    def abort(self) -> None:
        """Fail every request in flight at once (a hung RPC included) and refuse new ones.

        For a bounded shutdown: the threads waiting on HTTP return within milliseconds. Follow
        with :meth:`close`.
        """
        with self._lock:
            self._closed = True
        for adapter in self._session.adapters.values():
            if isinstance(adapter, AbortableAdapter):
                adapter.abort()

    def close(self) -> None:
        """Stop confirmation polling (pending confirmations raise), the send threads and the pool."""
        with self._lock:
            self._closed = True
            pollers, self._pollers = list(self._pollers.values()), {}
            pool, self._pool = self._pool, None
        for poller in pollers:
            poller.stop()
        if pool is not None:
            pool.shutdown(wait=True)
        self._session.close()

    def __enter__(self) -> TxSender:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    # -- sending --------------------------------------------------------------------------

    def send(self, target: SendTarget, tx: VersionedTransaction) -> str:
        """Submit; returns the transaction signature (base58). Raises TxSubmitError."""
        return self.send_b64(target, encode_signed_tx(_check_tx(tx)))

    def send_b64(self, target: SendTarget, tx_b64: str) -> str:
        """Submit an already encoded signed transaction; returns its signature."""
        if not isinstance(target, TARGET_TYPES):
            raise TypeError(f"target must be a SendTarget (SendTargetRpc, ...), got {type(target).__name__}")
        if not isinstance(tx_b64, str):
            raise TypeError(f"tx_b64 must be base64 text (str), got {type(tx_b64).__name__}")
        self._check_open()
        answer = self._rpc.call(
            target.url, "sendTransaction", [tx_b64, target.config()], name=target.name, headers=target.headers()
        )
        result = answer.get("result")
        if isinstance(result, str) and result:
            return result
        raise missing_result(target.name, "signature", answer)

    def send_many(self, targets: Targets, tx: VersionedTransaction) -> Submission:
        """Send one signed transaction to every target at once; returns when all have answered.

        It is one transaction with one signature, so several targets cannot make it sell twice;
        they only raise the odds that a leader sees it soon. The first target is served on the
        calling thread, the others on the sender's pool.

        Raises:
            TxSubmitError: every target refused it (the first target's error, with the others'
                in its message).
        """
        return self.send_many_b64(targets, encode_signed_tx(_check_tx(tx)), str(tx.signatures[0]))

    def send_many_b64(self, targets: Targets, tx_b64: str, signature: str) -> Submission:
        """:meth:`send_many` for a transaction already encoded (e.g. by ``fast_sign``)."""
        chosen = target_list(targets)
        futures: List[Tuple[SendTarget, Future[str]]] = [
            (t, self._executor().submit(self.send_b64, t, tx_b64)) for t in chosen[1:]
        ]
        results: List[Tuple[SendTarget, Optional[TxSubmitError]]] = [
            (chosen[0], _attempt(self.send_b64, chosen[0], tx_b64))
        ]
        for target, future in futures:
            error = future.exception()
            if error is not None and not isinstance(error, TxSubmitError):
                raise error
            results.append((target, error))
        accepted = tuple(target.name for target, error in results if error is None)
        errors = {target.name: error for target, error in results if error is not None}
        if not accepted:
            first = results[0][1]
            assert first is not None
            if len(errors) > 1:
                others = "; ".join(str(error) for error in list(errors.values())[1:])
                raise TxSubmitError(first.kind, f"{first} (also: {others})", status=first.status)
            raise first
        return Submission(signature=signature, accepted=accepted, errors=errors)

    def warm(self, target: SendTarget) -> int:
        """Keep the pooled connection to ``target`` alive with its cheapest call (``warm_call``).

        Providers close idle keep-alive connections (often after 30 to 120 s); a send on a
        cold pool then pays TCP and TLS handshakes first. Any HTTP answer counts: it is the
        connection that matters. Returns the HTTP status.

        Raises:
            TxSubmitError: kind ``transport``: no answer (the target is down or unreachable).
        """
        if not isinstance(target, TARGET_TYPES):
            raise TypeError(f"target must be a SendTarget (SendTargetRpc, ...), got {type(target).__name__}")
        self._check_open()
        verb, url, body = target.warm_call()
        return self._rpc.touch(verb, url, body, name=target.name, headers=target.headers())

    def _executor(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._closed:
                raise TxSubmitError("transport", "the sender was closed")
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self._pool_size, thread_name_prefix="lasersell-send")
            return self._pool

    # -- confirming -------------------------------------------------------------------------

    def signature_statuses(self, rpc_url: str, signatures: Sequence[str]) -> List[Optional[SignatureStatus]]:
        """``getSignatureStatuses`` (one call per 256 signatures); None for a signature not seen (yet)."""
        signatures = list(signatures)
        url = _check_url(rpc_url)
        statuses: List[Optional[SignatureStatus]] = []
        for start in range(0, len(signatures), MAX_BATCH):
            chunk = signatures[start : start + MAX_BATCH]
            self._check_open()
            answer = self._rpc.call(
                url, "getSignatureStatuses", [chunk, {"searchTransactionHistory": True}], name=RPC_NAME
            )
            statuses.extend(parse_statuses(answer.get("result"), len(chunk), RPC_NAME))
        return statuses

    def confirm(
        self, signature: str, rpc_url: str, timeout: float = 10.0, *, commitment: str = "confirmed"
    ) -> Confirmation:
        """Wait until ``signature`` lands, fails on chain, or ``timeout`` passes.

        Polls ``getSignatureStatuses`` every ``poll_interval``; every signature confirmed at the
        same time on the same RPC (from any thread) shares one call per poll.

        Raises:
            TxSubmitError: the RPC failed (transport, http_status, decode_response, rpc_error,
                missing_result).
        """
        if not isinstance(signature, str) or not signature:
            raise TypeError(f"signature must be a base58 string, got {signature!r}")
        done = threading.Event()
        outcome: List[Union[Confirmation, TxSubmitError]] = []

        def finished(result: Union[Confirmation, TxSubmitError]) -> None:
            outcome.append(result)
            done.set()

        self.poller(rpc_url).watch(signature, timeout, finished, commitment=commitment)
        done.wait()
        if isinstance(outcome[0], TxSubmitError):
            raise outcome[0]
        return outcome[0]

    def send_and_confirm(
        self, targets: Targets, tx: VersionedTransaction, rpc_url: str, timeout: float = 10.0
    ) -> Confirmation:
        """:meth:`send_many` then :meth:`confirm`. Raises TxSubmitError."""
        submission = self.send_many(targets, tx)
        return self.confirm(submission.signature, rpc_url, timeout)

    def is_blockhash_valid(self, rpc_url: str, blockhash: Union[str, Hash], *, commitment: str = "confirmed") -> bool:
        """Whether a transaction built on ``blockhash`` can still land (RPC ``isBlockhashValid``).

        False is the only safe proof that a transaction which has not landed never will, and
        only if its status is looked up *after* this answer (it may land until then). Asked at
        ``confirmed`` by default: a blockhash expired for the confirmed bank is expired for every
        block that can still be confirmed, which ``processed`` (one fork's tip) cannot promise.
        """
        if commitment not in COMMITMENTS:
            raise ValueError(f"commitment must be one of {COMMITMENTS}, got {commitment!r}")
        self._check_open()
        answer = self._rpc.call(
            _check_url(rpc_url), "isBlockhashValid", [str(blockhash), {"commitment": commitment}], name=RPC_NAME
        )
        result = answer.get("result")
        value = result.get("value") if isinstance(result, dict) else None
        if not isinstance(value, bool):
            raise missing_result(RPC_NAME, "validity", answer)
        return value

    def _check_open(self) -> None:
        if self._closed:
            raise TxSubmitError("transport", "the sender was closed")

    def poller(self, rpc_url: str) -> StatusPoller:
        """The batched status poller of one RPC (created on first use)."""
        url = _check_url(rpc_url)
        with self._lock:
            if self._closed:
                raise TxSubmitError("transport", "the sender was closed")
            poller = self._pollers.get(url)
            if poller is None:
                register_secrets(url_secrets(url))
                poller = StatusPoller(lambda batch: self.signature_statuses(url, batch), self._poll_interval)
                self._pollers[url] = poller
            return poller


def _attempt(send: Any, target: SendTarget, tx_b64: str) -> Optional[TxSubmitError]:
    try:
        send(target, tx_b64)
    except TxSubmitError as exc:
        return exc
    return None


def _check_url(rpc_url: Any) -> str:
    if not isinstance(rpc_url, str) or not rpc_url.startswith(("http://", "https://")):
        raise ValueError("rpc_url must be an http:// or https:// URL")
    return rpc_url


def _check_tx(tx: Any) -> VersionedTransaction:
    if not isinstance(tx, VersionedTransaction):
        hint = "; use send_transaction_b64 (or TxSender.send_b64) for base64 text" if isinstance(tx, str) else ""
        raise TypeError(f"tx must be a solders VersionedTransaction (got {type(tx).__name__}){hint}")
    return tx


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


def confirm_transaction(signature: str, rpc_url: str, timeout: float = 10.0) -> Confirmation:
    """:meth:`TxSender.confirm` with the shared sender."""
    return _sender().confirm(signature, rpc_url, timeout)


def send_and_confirm(target: SendTarget, tx: VersionedTransaction, rpc_url: str, timeout: float = 10.0) -> Confirmation:
    """Send to one target and wait for the outcome, with the shared sender (one thread, no pool)."""
    sender = _sender()
    signature = sender.send(target, tx)
    return sender.confirm(signature, rpc_url, timeout)


def is_blockhash_valid(rpc_url: str, blockhash: Union[str, Hash], *, commitment: str = "confirmed") -> bool:
    """:meth:`TxSender.is_blockhash_valid` with the shared sender."""
    return _sender().is_blockhash_valid(rpc_url, blockhash, commitment=commitment)
