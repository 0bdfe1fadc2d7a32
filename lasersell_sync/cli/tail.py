"""``tail``: watch a stream. A live table in a terminal; one line (or JSON object) per event otherwise.

In a terminal (stdout is a tty) the positions are a table redrawn in place (token, entry, PnL %, state,
liquidity trend, last event) above the latest events, with shorter labels and fewer columns on a
narrow terminal so no cell wraps; this needs the ``cli`` extra (``rich``),
and without it ``tail`` says so on stderr and prints lines. Otherwise, or with ``--plain``, each
event is one line: local time, type, token, key figures. ``--json`` writes JSON Lines instead:
``{"event", "time", "message"}`` where ``message`` is the wire message as received.

``tail`` only watches: it signs and sends nothing. It opens a session of its own for the wallets
(``--wallet``, or the keypair file's), configured with the ``--take-profit`` / ``--stop-loss`` /
``--trailing-stop`` strategy, so on a plan with one session per API key it competes with a
running bot. Without ``LASERSELL_API_KEY`` it tails the embedded simulator's funded wallet:
``--endpoint``, ``--wallet`` and ``--keypair`` are refused then, and a
``LASERSELL_KEYPAIR_PATH`` file is still checked but noted as unused. ``--seconds``/``--count``
end it for scripts; Ctrl-C (or SIGTERM), or the reader of its output leaving (``| head``), ends
it with a close frame, exit status 0. A stream that
cannot be reached or ends on a fatal error is one line on stderr, exit status 1.
"""

from __future__ import annotations

import argparse
import errno
import queue
import sys
import threading
import time
from typing import Any, List, Optional, Protocol

from .._redact import safe_url
from ..errors import ConnectError, InvalidStrategyError, SessionClosedError
from ..proto import StrategyConfig, ensure_exit_condition, validate_strategy
from ..stream import Event, EventIterator, StreamSession
from ..stream.transport.link import DEFAULT_ENDPOINT, endpoint_url
from .common import (
    ENV_API_KEY,
    ENV_KEYPAIR_PATH,
    Environment,
    UsageError,
    configure_logging,
    count,
    discard_stdout,
    needs_api_key,
    one_line,
    percent,
    plain,
    positive,
    print_error,
    pubkey,
    seconds,
    send_mode,
    simulator_package,
    simulator_wallet_note,
    stdout_reader_left,
    stop_requested,
    terminate_as_interrupt,
    wallet_of_keypair_file,
)
from .simulate import scenario
from .tailfmt import as_json, as_line

__all__ = ["CONNECT_SECONDS", "register"]

CONNECT_SECONDS = 10.0
_SERVICE_FLAGS = (("--endpoint", "endpoint"), ("--wallet", "wallet"), ("--keypair", "keypair"))
_STOP_CHECK = 0.25
"""Longest wait for an event before Ctrl-C/SIGTERM is looked at (they set a flag, not raise)."""
"""Flags (and their argparse names) that cannot apply to the embedded simulator."""


class _View(Protocol):
    """Where events go: lines, JSON Lines or the live table."""

    @property
    def wait(self) -> Optional[float]:
        """Longest wait for an event before the view needs a call (None: as long as it takes)."""
        ...

    def start(self) -> None:
        """Before the first event."""

    def show(self, event: Event[Any]) -> None:
        """One event."""

    def note(self, text: str) -> None:
        """A message that is not an event (an error the session reported)."""

    def refresh(self, force: bool = False) -> None:
        """Called when a wait ended without an event."""

    def stop(self) -> None:
        """After the last event."""


class _Lines:
    """One line per event on stdout (``as_line`` or ``as_json``); notes go to stderr with ``-v``.

    Without ``-v`` the events say what happened (``disconnected`` and ``reconnecting`` carry
    their reasons, and an error that ends the stream is the final line on stderr), so stderr
    stays quiet for scripts.
    """

    wait: Optional[float] = None

    def __init__(self, json_lines: bool, verbose: bool) -> None:
        self._format = as_json if json_lines else as_line
        self._verbose = verbose

    def start(self) -> None:
        """Nothing to draw before the first event."""

    def show(self, event: Event[Any]) -> None:
        """Write the event's line at once (a pipe reader sees it without delay).

        Raises:
            BrokenPipeError: the reader went away (``tail --json | head``): nothing is left to do.
                stdout is discarded from then on, so nothing complains about it at exit.
        """
        try:
            sys.stdout.write(self._format(event) + "\n")
            sys.stdout.flush()
        except BrokenPipeError:  # stdout not guarded by cli.main()
            discard_stdout()
            raise
        if stdout_reader_left():  # guarded: the write was discarded quietly
            raise BrokenPipeError(errno.EPIPE, "the reader of stdout went away")

    def note(self, text: str) -> None:
        """With ``-v``, errors the session reports go to stderr (stdout stays one record per line)."""
        if self._verbose:
            print(f"tail: {one_line(text)}", file=sys.stderr, flush=True)

    def refresh(self, force: bool = False) -> None:
        """Lines need no redraw."""

    def stop(self) -> None:
        """Nothing to finish."""


def register(commands: Any) -> None:
    """Add ``tail`` to the command line (``commands`` is argparse's subparsers object)."""
    tail = commands.add_parser(
        "tail",
        help="watch a stream: a live table in a terminal, lines or JSON Lines otherwise",
        description=plain((__doc__ or "").split("\n\n")[0]),
        epilog=f"Settings: {ENV_API_KEY} (without it: the embedded simulator), {ENV_KEYPAIR_PATH} (the wallet "
        "to watch) and LASERSELL_SEND_TARGET. Ctrl-C exits with status 0 after a clean close; a stream that "
        "fails is one line on stderr, status 1; usage errors are one line, status 2.",
    )
    tail.set_defaults(run=_tail)
    tail.add_argument("--endpoint", help=f"stream URL (default {DEFAULT_ENDPOINT}); needs {ENV_API_KEY}")
    tail.add_argument(
        "--wallet",
        type=pubkey,
        action="append",
        help=f"a wallet to watch (repeatable; default: ${ENV_KEYPAIR_PATH}'s); needs {ENV_API_KEY}",
    )
    tail.add_argument(
        "--keypair",
        metavar="FILE",
        help=f"watch this keypair file's wallet (default ${ENV_KEYPAIR_PATH}); needs {ENV_API_KEY}",
    )
    output = tail.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="JSON Lines: the wire message of each event")
    output.add_argument("--plain", action="store_true", help="one line per event even in a terminal")
    tail.add_argument("--seconds", type=seconds, help="stop after this many seconds")
    tail.add_argument("--count", type=count, help="stop after this many events")
    tail.add_argument("--take-profit", type=percent, default=30.0, metavar="PCT", help="strategy: take profit %%")
    tail.add_argument("--stop-loss", type=percent, default=15.0, metavar="PCT", help="strategy: stop loss %%")
    tail.add_argument("--trailing-stop", type=percent, default=0.0, metavar="PCT", help="strategy: trailing stop %%")
    # No default through ``type``: argparse would check it, importing the simulator even for the service.
    tail.add_argument("--scenario", type=scenario, help="simulator only: the market's shape (default mixed)")
    tail.add_argument("--seed", type=int, default=1, help="simulator only: same seed, same market")
    tail.add_argument("--speed", type=positive, default=10.0, help="simulator only: simulated seconds per second")
    tail.add_argument("-v", "--verbose", action="store_true", help="library logs and the session's errors on stderr")


def _tail(args: argparse.Namespace) -> int:
    """Check everything, open the view, then watch until a bound, Ctrl-C or the end of the stream."""
    configure_logging(args.verbose)
    env = Environment.read()
    strategy = _strategy(args)
    try:
        env.check_api_key()
        mode = send_mode(env.send_target)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if env.api_key is not None:
        api_key, endpoint, wallets = env.api_key, _endpoint(args), _wallets(args, env)
        session = StreamSession(api_key, wallets, strategy, endpoint=endpoint, send_mode=mode)
        return _watch(session, _view(args, f"tail {safe_url(endpoint)}"), args)
    try:
        needs_api_key([flag for flag, given in _SERVICE_FLAGS if getattr(args, given)])
        note = simulator_wallet_note(env)
    except ValueError as exc:  # KeyLoadError included; the message names the file, never the key
        raise UsageError(str(exc)) from None
    market = args.scenario or "mixed"
    with simulator_package().Simulator(seed=args.seed, scenario=market, speed=args.speed) as sim:
        print(f"tail: {ENV_API_KEY} is not set: tailing the embedded simulator{note}", file=sys.stderr, flush=True)
        session = StreamSession(sim.api_key, [sim.wallet_pubkey], strategy, endpoint=sim.stream_url, send_mode=mode)
        title = f"tail: embedded simulator ({market}, seed {args.seed})"  # stderr said why
        return _watch(session, _view(args, title), args)


def _strategy(args: argparse.Namespace) -> StrategyConfig:
    strategy = StrategyConfig(
        target_profit_pct=args.take_profit, stop_loss_pct=args.stop_loss, trailing_stop_pct=args.trailing_stop
    )
    try:
        validate_strategy(strategy)
        ensure_exit_condition(strategy)
    except InvalidStrategyError:
        needed = "the strategy needs an exit condition: --take-profit, --stop-loss or --trailing-stop > 0"
        raise UsageError(needed) from None
    return strategy


def _endpoint(args: argparse.Namespace) -> str:
    try:
        return endpoint_url(args.endpoint)
    except ValueError as exc:
        raise UsageError(f"--endpoint: {exc}") from None


def _wallets(args: argparse.Namespace, env: Environment) -> List[str]:
    """The wallets to watch: ``--wallet``, else the keypair file's; a usage error without either."""
    if args.wallet:
        if len(set(args.wallet)) != len(args.wallet):
            raise UsageError("--wallet names the same wallet twice")
        return list(args.wallet)
    path = args.keypair or env.keypair_path
    if path is None:
        raise UsageError(
            f"{ENV_API_KEY} is set, so tail watches the service: name the wallets with --wallet PUBKEY, "
            f"--keypair FILE or {ENV_KEYPAIR_PATH}"
        )
    try:
        return [wallet_of_keypair_file(path)]
    except ValueError as exc:  # KeyLoadError included; the message names the file, never the key
        raise UsageError(str(exc)) from None


def _view(args: argparse.Namespace, title: str) -> _View:
    """The live table in a terminal (unless ``--json``/``--plain``), else lines."""
    if args.json or args.plain or not sys.stdout.isatty():
        return _Lines(args.json, args.verbose)
    try:
        from .live import LiveView
    except ImportError:
        print(
            "tail: the live table needs the 'cli' extra (pip install 'lasersell_sync[cli]'); printing lines",
            file=sys.stderr,
        )
        return _Lines(False, args.verbose)
    return LiveView(title)


def _watch(session: StreamSession, view: _View, args: argparse.Namespace) -> int:
    """Connect, then show events until ``--seconds``/``--count``, Ctrl-C or the end of the session."""
    errors: queue.SimpleQueue[str] = queue.SimpleQueue()
    session.on_error(lambda error, event: errors.put(f"{type(error).__name__}: {error}"))
    events = session.events()  # before connect(), so hello_ok and connected are shown too
    started = False
    try:
        with terminate_as_interrupt():
            try:
                session.connect(CONNECT_SECONDS)
            except ConnectError as exc:  # AuthenticationError and StreamServerError included
                failure: Optional[str] = str(exc)
            else:
                failure = None
            if failure is not None:
                print_error(f"cannot tail the stream: {failure}")
                return 1
            view.start()
            started = True
        with stop_requested() as stop:
            ended = _pump(events, view, errors, args, stop)
    except (KeyboardInterrupt, BrokenPipeError):
        ended = None  # Ctrl-C, SIGTERM or the reader of our output left: a clean stop, status 0
    finally:
        events.close()
        session.close()
        _drain(errors, view)  # before stop(): the live table shows only what it is given while drawn
        if started:
            view.stop()
    if ended is not None:
        print_error(f"the stream ended: {ended}")
        return 1
    return 0


def _pump(
    events: EventIterator,
    view: _View,
    errors: queue.SimpleQueue[str],
    args: argparse.Namespace,
    stop: threading.Event,
) -> Optional[str]:
    """Show events until ``--seconds``/``--count`` or ``stop`` (None), or until the session ends: then why."""
    deadline = time.monotonic() + args.seconds if args.seconds is not None else None
    shown = 0
    while not stop.is_set():
        wait = _STOP_CHECK if view.wait is None else min(view.wait, _STOP_CHECK)
        if deadline is not None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            wait = min(wait, remaining)
        try:
            event = events.get(wait)
        except SessionClosedError:  # nobody called close(): the session ended on its own
            return "the session ended"
        _drain(errors, view)
        if event is None:
            view.refresh()
            continue
        view.show(event)
        if event.type == "closed":  # the transport stopped for good, and not because we closed it
            error = event.message.error
            return one_line(f"{type(error).__name__}: {error}") if error is not None else "the stream was closed"
        shown += 1
        if args.count is not None and shown >= args.count:
            return None
    return None  # Ctrl-C or SIGTERM: a clean stop


def _drain(errors: queue.SimpleQueue[str], view: _View) -> None:
    while True:
        try:
            text = errors.get_nowait()
        except queue.Empty:
            return
        view.note(text)
