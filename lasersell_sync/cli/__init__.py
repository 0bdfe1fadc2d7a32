"""The operator command line: ``python -m lasersell_sync`` or the ``lasersell-sync`` console script.

Commands: ``simulate`` (the embedded simulator standalone), ``smoke`` (is the service reachable
and the key accepted), ``tail`` (watch a stream: a live table in a terminal, lines or JSON Lines
otherwise), ``keys`` (show, convert and check keypairs and keystores) and ``report`` (a session
recording as an HTML page of charts). Each lives in its own
module; this one builds the parser and turns failures into exit statuses. A usage mistake (bad
flag, missing file, port in use, ...) prints one line on stderr and exits with status 2, never a
traceback; so does a stdout that is closed or cannot be written (a full disk). A reader that
leaves early (``| head -1``, ``| grep -q``) is no error: the rest of the output goes nowhere,
quietly, and the status is the command's own (``tail`` stops, status 0). Settings come
from the official CLI's environment variables; without ``LASERSELL_API_KEY``, ``smoke`` and
``tail`` run against the embedded simulator.
"""

from __future__ import annotations

import os
import sys
from typing import Callable, Optional, Sequence

from . import keys, report, simulate, smoke, tail
from .common import USAGE_ERROR, OutputError, Parser, UsageError, discard_stdout, guarded_stdout, print_error

__all__ = ["main"]


def _prog() -> str:
    """How the user started us: ``python -m lasersell_sync`` or the console script's name."""
    started = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else ""
    if not started or started in ("__main__.py", "-c") or started.endswith(".py"):
        return "python -m lasersell_sync"
    return started


def build_parser() -> Parser:
    """The command line, with every argument checked by argparse where it can be."""
    parser = Parser(
        prog=_prog(),
        description="lasersell_sync tools. 'COMMAND --help' shows a command's options.",
        epilog="Exit statuses: 0 success, 1 a check or the stream failed, 2 a usage error (one line on stderr).",
    )
    # Not required=True: argparse would then name the missing command before an unknown flag
    # ("--bogus"); main() asks for the command once the flags were accepted.
    commands = parser.add_subparsers(dest="command", metavar="command")
    for module in (simulate, smoke, tail, keys, report):
        module.register(commands)
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run a command; returns the exit status (2 for a usage error, reported on one stderr line)."""
    if sys.stdout is None:  # started with stdout closed (``>&-``): whatever we print would be lost
        print_error("stdout is closed: nothing could be shown (redirect it to a file or /dev/null instead)")
        return USAGE_ERROR
    try:
        with guarded_stdout():
            parser = build_parser()
            args = parser.parse_args(argv)
            if args.command is None:
                parser.error("the following arguments are required: command")
            run: Callable[..., int] = args.run
            status = run(args)
    except UsageError as exc:
        print_error(str(exc))
        return USAGE_ERROR
    except OutputError as exc:  # a full disk or /dev/full
        discard_stdout()  # what is still buffered must not fail again when the interpreter exits
        print_error(str(exc))
        return USAGE_ERROR
    except KeyboardInterrupt:  # Ctrl-C before a command installed its own handling: nothing to clean up
        return 130
    return status
