"""One exception hierarchy for the whole package.

Every error the library raises on purpose derives from :class:`LaserSellError`, so a bot can
catch the library's failures with one ``except`` clause and still tell them apart by type.
"""

from __future__ import annotations

from typing import Optional, Tuple

__all__ = [
    "AuthenticationError",
    "CommandRejectedError",
    "ConnectError",
    "ExitApiError",
    "InvalidDerivationPathError",
    "InvalidKeyError",
    "InvalidSeedPhraseError",
    "InvalidStrategyError",
    "JournalError",
    "KeyLoadError",
    "KeystoreFormatError",
    "LaserSellError",
    "MissingExtraError",
    "PassphraseRequiredError",
    "ProtocolError",
    "SessionClosedError",
    "StrategyWarning",
    "StreamServerError",
    "TlsPinError",
    "TxSubmitError",
    "WrongPassphraseError",
]


class LaserSellError(Exception):
    """Base class of every error raised by ``lasersell_sync``."""


class ProtocolError(LaserSellError, ValueError):
    """A frame or message that does not follow the LaserSell wire protocol.

    Attributes:
        message_type: the ``type`` of the offending message, when it could be read.
        field: dotted path of the first offending field (``limits.hi_capacity``,
            ``bands[2].slippage_bps``), when the problem is a field.
    """

    def __init__(
        self,
        message: str,
        *,
        message_type: Optional[str] = None,
        field: Optional[str] = None,
    ) -> None:
        super().__init__(message)
        self.message_type = message_type
        self.field = field


class InvalidStrategyError(LaserSellError, ValueError):
    """A strategy (or deadline) that the client refuses to send, with the reason."""


class StrategyWarning(UserWarning):
    """A strategy value that is valid but almost certainly not what was meant (``0.3`` for 30 %)."""


class ConnectError(LaserSellError):
    """The stream could not be (re)established: refused, DNS, TLS, timeout, closed early."""


class AuthenticationError(ConnectError):
    """The API key was rejected (HTTP 401/403 on the upgrade). Never retried.

    Attributes:
        status: the HTTP status, or ``None`` when the server said so with an ``error`` frame.
    """

    def __init__(self, message: str, *, status: Optional[int] = None) -> None:
        super().__init__(message)
        self.status = status


class StreamServerError(ConnectError):
    """The server answered the handshake with an ``error`` message instead of ``hello_ok``.

    Attributes:
        code: the server's machine-readable code (``wallet_not_registered``, ...).
        server_message: the server's human-readable detail.
    """

    def __init__(self, code: str, server_message: str) -> None:
        super().__init__(f"server error [{code}]: {server_message}")
        self.code = code
        self.server_message = server_message


class TlsPinError(ConnectError):
    """The server's TLS key matches none of the configured pins (``tls_pins``). Never retried.

    Raised during the TLS handshake, before any request is sent. Attributes:
        presented: the pins (base64 SHA-256 of the SubjectPublicKeyInfo) of the certificates
            the server presented, leaf first.
    """

    def __init__(self, message: str, *, presented: Tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.presented = presented


class CommandRejectedError(LaserSellError):
    """The server refused a command (reported through ``on_error``; nothing raises it).

    The session's intent was rolled back to what the server had accepted, so the refused
    change is not replayed by the next reconnect.

    Attributes:
        command: the refused client message (``UpdateWallets``, ...).
        code: the server's error code (``wallet_not_registered``, ...).
        server_message: the server's detail.
    """

    def __init__(self, command: object, code: str, server_message: str) -> None:
        name = getattr(command, "TYPE", type(command).__name__)
        super().__init__(f"the server rejected {name} [{code}]: {server_message}; the change was rolled back")
        self.command = command
        self.code = code
        self.server_message = server_message


class SessionClosedError(LaserSellError):
    """A command was issued after the stream was closed."""


class ExitApiError(LaserSellError):
    """An Exit API call failed.

    Attributes:
        kind: ``"transport"`` (connect/socket failure), ``"timeout"``, ``"http_status"``
            (non-2xx), ``"envelope_status"`` (2xx with a non-ok ``status``) or ``"parse"``.
        status: the HTTP status, when there was a response.
        body: a short summary of the response body (``error``/``message``/``reason`` or the
            first 220 characters), or the envelope's detail.
        envelope_status: the ``status`` string of a non-ok envelope.
        retry_after: seconds from a ``Retry-After`` header, when given.
    """

    def __init__(
        self,
        kind: str,
        message: str,
        *,
        status: Optional[int] = None,
        body: Optional[str] = None,
        envelope_status: Optional[str] = None,
        retry_after: Optional[float] = None,
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.status = status
        self.body = body
        self.envelope_status = envelope_status
        self.retry_after = retry_after

    @property
    def is_retryable(self) -> bool:
        """Transport failures, timeouts, HTTP 5xx and 429 are worth retrying; nothing else."""
        if self.kind in ("transport", "timeout"):
            return True
        return self.kind == "http_status" and self.status is not None and (self.status >= 500 or self.status == 429)


class TxSubmitError(LaserSellError):
    """Decoding, signing or submitting a transaction failed.

    Attributes:
        kind: ``"decode"`` (the transaction to sign is not base64 of a ``VersionedTransaction``),
            ``"sign"``, ``"transport"``, ``"http_status"``, ``"decode_response"`` (an RPC answer
            that is not a JSON object, or a malformed signature status), ``"rpc_error"`` or
            ``"missing_result"``.
        target: the send target's name (``"rpc"``, ``"helius sender"``, ``"astralane"``), or
            ``None`` before sending.
        status: the HTTP status, when there was a response.
    """

    def __init__(self, kind: str, message: str, *, target: Optional[str] = None, status: Optional[int] = None) -> None:
        super().__init__(f"{target}: {message}" if target else message)
        self.kind = kind
        self.target = target
        self.status = status


class JournalError(LaserSellError):
    """The exit journal cannot be used: unreadable, not a journal, too new, or in use elsewhere.

    Raised by ``auto_exit(journal=...)`` before anything is sent; a journal is never reset
    silently, since it is what proves which sells may still land.

    Attributes:
        path: the journal file.
    """

    def __init__(self, message: str, *, path: Optional[str] = None) -> None:
        super().__init__(message)
        self.path = path


class KeyLoadError(LaserSellError, ValueError):
    """A key could not be loaded (file, base58 string, seed phrase or keystore).

    A ``ValueError`` too, so code written when ``load_keypair`` raised a plain ``ValueError``
    keeps working. Messages name the file and the field, never a secret.

    Attributes:
        path: the file the key came from, when there is one.
        field: the offending field (``kdf.params.m_kib``, ``derivation_path``, ...), when there is one.
    """

    def __init__(self, message: str, *, path: Optional[str] = None, field: Optional[str] = None) -> None:
        super().__init__(message)
        self.path = path
        self.field = field


class InvalidKeyError(KeyLoadError):
    """Not a Solana keypair: unreadable, not base58 or JSON, not 64 bytes, or halves that disagree."""


class InvalidSeedPhraseError(KeyLoadError):
    """A seed phrase with a word count, word or checksum that BIP39 rejects (a typo, not a new wallet)."""


class InvalidDerivationPathError(KeyLoadError):
    """A derivation path that is not ``m/a'/b'/...`` with hardened indexes (all ed25519 allows)."""


class KeystoreFormatError(KeyLoadError):
    """A keystore that is not one: bad JSON, a missing or malformed field, an unsupported version,
    KDF or cipher, parameters out of bounds, or a ``pubkey`` that does not match the decrypted key."""


class WrongPassphraseError(KeyLoadError):
    """The keystore did not decrypt: a wrong passphrase, or a file modified since it was written."""


class PassphraseRequiredError(KeyLoadError):
    """A keystore was read with no passphrase given and none in the environment."""


class MissingExtraError(KeyLoadError):
    """An optional dependency is not installed.

    Attributes:
        extra: the extra that installs it (``pip install 'lasersell_sync[<extra>]'``).
    """

    def __init__(self, message: str, *, extra: str, path: Optional[str] = None) -> None:
        super().__init__(message, path=path)
        self.extra = extra
