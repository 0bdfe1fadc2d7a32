"""What every command shares: one-line usage errors, argument types, the environment, logging.

A usage mistake raises :class:`UsageError` (or goes through :class:`Parser.error`) and the user
reads one line on stderr, exit status 2, no traceback. Settings come from the same environment
variables as the official CLI (:data:`ENV_API_KEY`, :data:`ENV_KEYPAIR_PATH`, :data:`ENV_RPC_URL`,
:data:`ENV_SEND_TARGET`); secrets are read from the environment, a file or stdin, never from argv
(any user can read another's command line with ``ps``).
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import math
import os
import signal
import sys
import threading
from contextlib import contextmanager
from types import FrameType, ModuleType
from typing import Any, Callable, Iterator, Mapping, NoReturn, Optional, Sequence, TextIO, TypeVar, cast

import attrs

from .._checks import check_pubkey, is_pubkey
from .._redact import safe_url
from ..errors import KeystoreFormatError

__all__ = [
    "ENV_API_KEY",
    "ENV_KEYPAIR_PATH",
    "ENV_RPC_URL",
    "ENV_SEND_TARGET",
    "PROG",
    "USAGE_ERROR",
    "Environment",
    "OutputError",
    "Parser",
    "UsageError",
    "configure_logging",
    "count",
    "discard_stdout",
    "guarded_stdout",
    "needs_api_key",
    "one_line",
    "percent",
    "plain",
    "port",
    "positive",
    "print_error",
    "pubkey",
    "rate",
    "seconds",
    "send_mode",
    "shown_url",
    "simulator_package",
    "simulator_wallet_note",
    "slots",
    "stdout_reader_left",
    "stop_requested",
    "terminate_as_interrupt",
    "wallet_of_keypair_file",
]

PROG = "lasersell-sync"
USAGE_ERROR = 2
ENV_API_KEY = "LASERSELL_API_KEY"
ENV_KEYPAIR_PATH = "LASERSELL_KEYPAIR_PATH"
ENV_RPC_URL = "LASERSELL_RPC_URL"
ENV_SEND_TARGET = "LASERSELL_SEND_TARGET"

_SEND_TARGETS = {"rpc": "rpc", "helius": "helius_sender", "helius_sender": "helius_sender", "astralane": "astralane"}
"""``LASERSELL_SEND_TARGET`` spellings and the ``send_mode`` each asks the server to build for."""

T = TypeVar("T")


class UsageError(Exception):
    """A mistake in the command line or what it names: reported on one line, exit status 2."""


class OutputError(Exception):
    """stdout cannot take what a command prints (a full disk, ``/dev/full``): one line, exit status 2."""


class Parser(argparse.ArgumentParser):
    """argparse whose usage errors are one line (no usage dump), exit status 2."""

    def error(self, message: str) -> NoReturn:
        """One line, so the mistake is the first thing the user reads."""
        self.exit(USAGE_ERROR, f"{PROG}: error: {message}\n")


def one_line(text: object) -> str:
    """``text`` as a single line (an error's message may quote a multi-line server answer)."""
    return " ".join(str(text).split())


def plain(text: str) -> str:
    """Docstring text for ``--help``: without reST's double backquotes (argparse shows text as is)."""
    return text.replace("``", "")


# -- argument types (argparse turns their ArgumentTypeError into a one-line usage error) -------


def _number(text: str, convert: Callable[[str], T], fallback: T) -> T:
    try:
        return convert(text)
    except ValueError:
        return fallback


def positive(text: str) -> float:
    """argparse type: a finite number above zero (a speed or a rate)."""
    value = _number(text, float, math.nan)
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"expected a number greater than 0, got {text!r}")
    return value


def rate(text: str) -> float:
    """argparse type: a probability from 0 (off) to 1 (every transaction)."""
    value = _number(text, float, math.nan)
    if not 0 <= value <= 1:  # also refuses nan
        raise argparse.ArgumentTypeError(f"expected a rate from 0 to 1, got {text!r}")
    return value


def seconds(text: str) -> float:
    """argparse type: a finite number of seconds, 0 or more."""
    value = _number(text, float, math.nan)
    if not (math.isfinite(value) and value >= 0):
        raise argparse.ArgumentTypeError(f"expected a number of seconds >= 0, got {text!r}")
    return value


def percent(text: str) -> float:
    """argparse type: a finite percentage, 0 or more (a strategy threshold; 0 switches it off)."""
    value = _number(text, float, math.nan)
    if not (math.isfinite(value) and value >= 0):
        raise argparse.ArgumentTypeError(f"expected a percentage >= 0, got {text!r}")
    return value


def slots(text: str) -> int:
    """argparse type: a whole number of slots, at least 1."""
    value = _number(text, int, 0)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of slots >= 1, got {text!r}")
    return value


def count(text: str) -> int:
    """argparse type: a whole number, at least 1 (how many events to show)."""
    value = _number(text, int, 0)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text!r}")
    return value


def port(text: str) -> int:
    """argparse type: a TCP port number, 0 meaning any free port."""
    value = _number(text, int, -1)
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"expected a port from 0 to 65535 (0: any free port), got {text!r}")
    return value


def pubkey(text: str) -> str:
    """argparse type: a base58 Solana public key (a wallet or a mint)."""
    try:
        return check_pubkey(text.strip(), "the value")
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a base58 Solana public key, got {text!r}") from None


# -- settings ----------------------------------------------------------------------------------


def shown_url(url: Optional[str]) -> str:
    """A URL for a repr: quoted, with its secrets replaced (:func:`safe_url`)."""
    return "None" if url is None else repr(safe_url(url))


@attrs.frozen
class Environment:
    """The official CLI's settings, as this process found them (empty values count as unset).

    The repr shows whether a key is set, never the key, and the RPC URL without its secrets.
    """

    api_key: Optional[str] = attrs.field(default=None, repr=lambda key: "<set>" if key else "<unset>")
    keypair_path: Optional[str] = None
    rpc_url: Optional[str] = attrs.field(default=None, repr=shown_url)  # ?api-key= is common
    send_target: Optional[str] = None
    api_key_empty: bool = False
    """``LASERSELL_API_KEY`` is set but blank: a failed substitution rather than a wish for the simulator."""

    @classmethod
    def read(cls, environ: Optional[Mapping[str, str]] = None) -> Environment:
        """The four variables from ``environ`` (default ``os.environ``), surrounding spaces removed."""
        env = os.environ if environ is None else environ

        def get(name: str) -> Optional[str]:
            return env.get(name, "").strip() or None

        api_key_empty = ENV_API_KEY in env and get(ENV_API_KEY) is None
        return cls(get(ENV_API_KEY), get(ENV_KEYPAIR_PATH), get(ENV_RPC_URL), get(ENV_SEND_TARGET), api_key_empty)

    def check_api_key(self) -> None:
        """A ValueError when ``LASERSELL_API_KEY`` is set but empty (neither the service nor the simulator)."""
        if self.api_key_empty:
            raise ValueError(
                f"{ENV_API_KEY} is empty: set it to your API key, or unset it to use the embedded simulator"
            )


def send_mode(send_target: Optional[str]) -> Optional[str]:
    """The ``send_mode`` for a ``LASERSELL_SEND_TARGET`` value (None: the server's default).

    Raises:
        ValueError: naming the variable and the accepted values.
    """
    if send_target is None:
        return None
    mode = _SEND_TARGETS.get(send_target.strip().lower())
    if mode is None:
        raise ValueError(f"{ENV_SEND_TARGET} must be one of {', '.join(sorted(_SEND_TARGETS))}, got {send_target!r}")
    return mode


def wallet_of_keypair_file(path: str) -> str:
    """The public key of a keypair file: a solana-keygen array, or a keystore's plain ``pubkey``.

    A keystore is not decrypted: naming a wallet needs its address only, so no passphrase is
    asked for, no 64 MiB key derivation runs and no private key is held in memory.

    Raises:
        ValueError: the file cannot be read or is not a keypair; the message names the file only.
    """
    # The keys layer, loaded only by the commands that need it.
    from ..wallet import load_keypair
    from ..wallet._files import read_key_document

    document = read_key_document(path)
    if not isinstance(document, dict):
        return str(load_keypair(path).pubkey())  # a solana-keygen array, or an error naming the formats
    wallet = document.get("pubkey")
    if is_pubkey(wallet):
        return wallet
    raise KeystoreFormatError(
        f"cannot read the keystore {path}: its pubkey field is not a base58 public key", path=path, field="pubkey"
    )


def needs_api_key(flags: Sequence[str]) -> None:
    """Refuse the service-only ``flags`` that were given, when no API key is set (a ValueError).

    Without a key the embedded simulator runs, with its own URLs and its own funded wallet: an
    endpoint or a wallet named for the service cannot apply, and ignoring it would mislead.
    """
    if not flags:
        return
    names = " and ".join(flags)
    verb = "needs" if len(flags) == 1 else "need"
    raise ValueError(
        f"{names} {verb} an API key: set {ENV_API_KEY} (without it the embedded simulator runs, with its own wallet)"
    )


def simulator_wallet_note(env: Environment) -> str:
    """Without an API key: check ``LASERSELL_KEYPAIR_PATH``'s file anyway, and say it is not used.

    A bad file is a usage error in every mode (a ValueError naming the file); a good one is
    noted, since the simulator watches its own wallet. Returns ``""`` when the variable is unset.
    """
    if env.keypair_path is None:
        return ""
    wallet_of_keypair_file(env.keypair_path)
    return f" (its own wallet, not {ENV_KEYPAIR_PATH}'s)"


def simulator_package() -> ModuleType:
    """The simulator package, or a usage error naming the extra it needs."""
    try:
        from .. import simulator
    except ImportError as exc:
        raise UsageError(
            f"the simulator needs the 'simulator' extra (pip install 'lasersell_sync[simulator]'): {exc}"
        ) from None
    return simulator


# -- process ------------------------------------------------------------------------------------


def configure_logging(verbose: bool) -> None:
    """Library log records on stderr with ``--verbose``; otherwise none at all.

    The commands report what matters themselves; a stray warning from a dependency must not
    break the one-line error or the ``SMOKE`` verdict a script reads.
    """
    root = logging.getLogger()
    if verbose:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    elif not root.handlers:
        root.addHandler(logging.NullHandler())  # no "last resort" printing of warnings


@contextmanager
def terminate_as_interrupt() -> Iterator[None]:
    """Within the block, SIGTERM stops the command as Ctrl-C does (``KeyboardInterrupt``)."""

    def interrupt(signum: int, frame: Optional[FrameType]) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextmanager
def stop_requested() -> Iterator[threading.Event]:
    """Within the block, Ctrl-C and SIGTERM set the yielded event instead of raising.

    A ``KeyboardInterrupt`` raised at an arbitrary point can land inside a lock acquisition
    of the session or of rich, and leave it half-done; a loop that checks the event stops at
    a point of its own choosing. A second signal still raises ``KeyboardInterrupt``.
    """
    stop = threading.Event()

    def request(signum: int, frame: Optional[FrameType]) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()

    previous = {signum: signal.signal(signum, request) for signum in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield stop
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


class _GuardedOutput:
    """stdout for a command: a write that fails is one line (:class:`OutputError`), a reader that left is quiet.

    When the reader of a pipe goes away (``| head -1``, ``| grep -q``), the rest of the output is
    pointed at /dev/null and every later write succeeds: the command finishes as it would have,
    with its own exit status, and nothing complains at exit. :attr:`reader_left` tells a command
    whose output is all it does (``tail``) to stop. Everything else (``isatty``, ``fileno``, ...)
    is the wrapped stream's.
    """

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self.reader_left = False

    def write(self, text: str) -> int:
        """Write, or raise :class:`OutputError` naming why the output refused it (a reader that left: quietly)."""
        try:
            return self._stream.write(text)
        except BrokenPipeError:
            self._left()
            return len(text)
        except OSError as exc:
            failure = OutputError(f"cannot write to stdout: {exc.strerror or exc}")
        raise failure  # outside the handler: no traceback chain for the one line

    def flush(self) -> None:
        """Flush, or raise :class:`OutputError` naming why the output refused it (a reader that left: quietly)."""
        try:
            return self._stream.flush()
        except BrokenPipeError:
            self._left()
            return None
        except OSError as exc:
            failure = OutputError(f"cannot write to stdout: {exc.strerror or exc}")
        raise failure

    def _left(self) -> None:
        """The reader went away: what is buffered and what comes next goes to /dev/null."""
        self.reader_left = True
        _discard(self._stream)
        with contextlib.suppress(OSError, ValueError):
            self._stream.flush()  # the buffered rest, into /dev/null now (else it fails again at exit)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


@contextmanager
def guarded_stdout() -> Iterator[None]:
    """Within the block, a write to stdout that fails raises :class:`OutputError`; flushed at the end.

    The final flush is inside the block, so output buffered for a pipe or a file that cannot take
    it fails here, not as an "Exception ignored" complaint when the interpreter exits. That holds
    for argparse's ``--help`` (a SystemExit) too. A reader that left raises nothing: see
    :func:`stdout_reader_left`.
    """
    stream = sys.stdout
    guarded = _GuardedOutput(stream)
    sys.stdout = cast(TextIO, guarded)
    try:
        try:
            yield
        except SystemExit:  # --help, or argparse's own exit: what it printed is flushed here too
            guarded.flush()
            raise
        guarded.flush()
    finally:
        sys.stdout = stream


def stdout_reader_left() -> bool:
    """Whether the reader of stdout went away (``| head -1``) while :func:`guarded_stdout` was on.

    What a command prints after that goes to /dev/null; ``tail``, whose output is all it does,
    asks this to stop.
    """
    return isinstance(sys.stdout, _GuardedOutput) and sys.stdout.reader_left


def _discard(stream: TextIO) -> None:
    with contextlib.suppress(OSError, ValueError):  # stdout without a file descriptor (captured)
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, stream.fileno())
        finally:
            os.close(devnull)


def discard_stdout() -> None:
    """Point stdout's descriptor at /dev/null: what is still buffered for it goes nowhere, quietly."""
    _discard(sys.stdout)


def print_error(message: str) -> None:
    """One usage-error line on stderr."""
    print(f"{PROG}: error: {one_line(message)}", file=sys.stderr)
