"""``keys``: show a key's public key, convert a key into an encrypted keystore, check a passphrase.

A key comes from a file (solana-keygen JSON, or a keystore), or from stdin: ``--base58`` (an
exported secret key) or ``--seed-phrase`` (BIP39 words). Secrets never come from the command
line, where ``ps`` shows them to every user: in a terminal they are asked for without echo,
otherwise read from stdin (a pipe or a file). The keystore passphrase comes from
``LASERSELL_WALLET_PASSPHRASE``, else a prompt in a terminal (asked twice when creating a
keystore); ``show`` needs none: a keystore holds its public key in plain text. A BIP39
passphrase (the "25th word"), if any, comes from ``LASERSELL_SEED_PASSPHRASE``.
Nothing secret is printed, logged or put in an error message.

``keys check`` exits 0 when the passphrase opens the keystore and 1 when it does not (one line
on stderr); a file that is missing or not a keystore is a usage error, exit 2.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from pathlib import Path
from typing import Any, Optional

from solders.keypair import Keypair

from ..errors import InvalidDerivationPathError, KeyLoadError, PassphraseRequiredError, WrongPassphraseError
from ..wallet import (
    DEFAULT_DERIVATION_PATH,
    PASSPHRASE_ENV,
    keypair_from_base58,
    keypair_from_seed_phrase,
    load_keypair,
    read_keystore,
    write_keystore,
)
from ..wallet._files import display_path, read_key_document
from ..wallet.keystore import _parse as parse_keystore
from ..wallet.seed_phrase import _checked_path as checked_derivation_path
from .common import UsageError, plain, print_error

__all__ = ["SEED_PASSPHRASE_ENV", "register"]

SEED_PASSPHRASE_ENV = "LASERSELL_SEED_PASSPHRASE"
"""The optional BIP39 passphrase of a seed phrase (not the keystore's passphrase)."""

_MAX_SECRET_CHARS = 4096  # a seed phrase of 24 long words is under 250
_NO_DERIVATION = "none"


def register(commands: Any) -> None:
    """Add ``keys`` and its subcommands (``show``, ``convert``, ``check``) to the command line."""
    keys = commands.add_parser(
        "keys",
        help="show a public key, write an encrypted keystore, check a keystore's passphrase",
        description=plain((__doc__ or "").split("\n\n")[0]),
        epilog=plain((__doc__ or "").split("\n\n", 1)[1]),
    )
    keys.set_defaults(run=_no_action)  # the action's own default replaces it
    actions = keys.add_subparsers(dest="action", metavar="action")  # not required=True: see cli.build_parser
    show = actions.add_parser("show", help="print the public key of a key", description="Print a key's public key.")
    _add_source(show)
    show.set_defaults(run=_show)
    convert = actions.add_parser(
        "convert",
        help="write a key into an encrypted keystore (the official CLI's format)",
        description="Write a key (solana-keygen file, base58 secret or seed phrase) into an encrypted keystore.",
    )
    _add_source(convert)
    convert.add_argument("--out", required=True, metavar="KEYSTORE", help="the keystore file to write (mode 0600)")
    convert.add_argument("--force", action="store_true", help="replace --out if it exists")
    convert.set_defaults(run=_convert)
    check = actions.add_parser(
        "check",
        help="check that a passphrase opens a keystore (exit 0) or not (exit 1)",
        description=f"Check a keystore's passphrase ({PASSPHRASE_ENV}, else asked for in a terminal).",
    )
    check.add_argument("keystore", metavar="KEYSTORE", help="the keystore file")
    check.set_defaults(run=_check)


def _add_source(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", nargs="?", metavar="FILE", help="a solana-keygen JSON file or a keystore")
    parser.add_argument("--base58", action="store_true", help="read a base58 secret key (64 bytes) from stdin")
    parser.add_argument("--seed-phrase", action="store_true", help="read a BIP39 seed phrase from stdin")
    parser.add_argument(
        "--derivation-path",
        type=_derivation_path,
        metavar="PATH",
        help=f"with --seed-phrase (default {DEFAULT_DERIVATION_PATH}; 'none': solana-keygen's, no derivation)",
    )


def _derivation_path(text: str) -> str:
    """argparse type: ``none`` or a hardened path, checked before the seed phrase is asked for."""
    if text.strip().lower() == _NO_DERIVATION:
        return _NO_DERIVATION
    try:
        return checked_derivation_path(text)
    except InvalidDerivationPathError as exc:
        reason = str(exc)
    raise argparse.ArgumentTypeError(reason)


# -- commands ------------------------------------------------------------------------------------


def _no_action(args: argparse.Namespace) -> int:
    raise UsageError("keys: the following arguments are required: action (show, convert or check)")


def _show(args: argparse.Namespace) -> int:
    """Print the public key, and nothing else (scripts read it); a keystore's without its passphrase."""
    print(_public_key(args))
    return 0


def _public_key(args: argparse.Namespace) -> str:
    """The key's public key; a keystore's is read from its plain ``pubkey`` field, never decrypted.

    Naming a wallet needs no secret: no passphrase is asked for, no 64 MiB key derivation runs
    (nor needs the ``keystore`` extra). Every field is still checked, so only a well-formed
    keystore is shown; whether the passphrase opens it, and holds that key, is ``keys check``'s.
    """
    _check_source(args)
    if not args.file:
        return str(_keypair(args).pubkey())
    try:
        document = read_key_document(args.file)
        if isinstance(document, dict):
            return parse_keystore(document, display_path(args.file)).pubkey
    except KeyLoadError as exc:  # the message names the file or the field, never the content
        failure = UsageError(str(exc))
    else:
        return str(_keypair(args).pubkey())  # a solana-keygen file, or the error naming the formats
    raise failure  # outside the handler: no traceback chain


def _convert(args: argparse.Namespace) -> int:
    """Write the key into a keystore, refusing to replace a file unless ``--force``."""
    out = Path(args.out)
    if out.exists() and not args.force:
        raise UsageError(f"{args.out} exists; pass --force to replace it")
    if not out.parent.is_dir():
        raise UsageError(f"cannot write {args.out}: no such directory {out.parent}")
    keypair = _keypair(args)
    passphrase = _passphrase(f"passphrase for the new keystore {args.out}: ", confirm=True)
    try:
        write_keystore(out, keypair, passphrase)
    except (OSError, ValueError) as exc:  # MissingExtraError included (a KeyLoadError, so a ValueError)
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        failure = UsageError(f"cannot write the keystore {args.out}: {reason}")
    else:
        print(f"wrote {args.out} (wallet {keypair.pubkey()})")
        return 0
    raise failure


def _check(args: argparse.Namespace) -> int:
    """Open the keystore with the passphrase: 0 and the wallet when it opens, 1 when it does not.

    The file is checked first: a missing file or one that is not a keystore is a usage error
    before any passphrase is asked for (or missed).
    """
    _check_is_keystore(args.keystore)
    passphrase = _passphrase(f"passphrase of {args.keystore}: ", confirm=False)
    try:
        keypair = read_keystore(args.keystore, passphrase)
    except WrongPassphraseError as exc:
        wrong: Optional[str] = str(exc)
    except KeyLoadError as exc:
        raise UsageError(str(exc)) from None
    else:
        wrong = None
    if wrong is not None:
        print_error(wrong)
        return 1
    print(f"passphrase OK: {args.keystore} holds wallet {keypair.pubkey()}")
    return 0


def _check_is_keystore(path: str) -> None:
    """A usage error unless ``path`` can be read and holds a keystore's form (a JSON object)."""
    try:
        document = read_key_document(path)
    except KeyLoadError as exc:  # the message names the file, never its content
        failure = UsageError(str(exc))
    else:
        if isinstance(document, dict):
            return
        failure = UsageError(
            f"cannot read the keystore {path}: not a keystore (expected a JSON object; a solana-keygen file "
            "has no passphrase to check)"
        )
    raise failure


# -- where keys and passphrases come from ----------------------------------------------------------


def _keypair(args: argparse.Namespace) -> Keypair:
    """The key the arguments name: exactly one of FILE, ``--base58``, ``--seed-phrase``."""
    _check_source(args)
    try:
        return _load(args)
    except KeyLoadError as exc:  # messages name the file or the field, never the secret
        failure = UsageError(str(exc))
    raise failure


def _check_source(args: argparse.Namespace) -> None:
    """A usage error unless exactly one of FILE, ``--base58``, ``--seed-phrase`` names the key."""
    sources = (("FILE", args.file), ("--base58", args.base58), ("--seed-phrase", args.seed_phrase))
    chosen = [name for name, given in sources if given]
    if len(chosen) != 1:
        got = f" (got {' and '.join(chosen)})" if chosen else ""
        raise UsageError(f"name the key with exactly one of FILE, --base58 or --seed-phrase{got}")
    if args.derivation_path is not None and not args.seed_phrase:
        raise UsageError(f"--derivation-path applies to --seed-phrase only, not to {chosen[0]}")


def _load(args: argparse.Namespace) -> Keypair:
    if args.file:
        return _from_file(args.file)
    if args.base58:
        return keypair_from_base58(_secret("base58 secret key: "))
    given = args.derivation_path or DEFAULT_DERIVATION_PATH
    path = None if given == _NO_DERIVATION else given
    seed_passphrase = os.environ.get(SEED_PASSPHRASE_ENV, "")
    return keypair_from_seed_phrase(_secret("seed phrase: "), passphrase=seed_passphrase, derivation_path=path)


def _from_file(path: str) -> Keypair:
    """A key file; a keystore's passphrase is asked for in a terminal when the environment has none."""
    try:
        return load_keypair(path)
    except PassphraseRequiredError:
        pass  # the library's message names its passphrase= argument; the command line has none
    return load_keypair(path, passphrase=_passphrase(f"passphrase of {path}: ", confirm=False))


def _secret(prompt: str) -> str:
    """A secret typed without echo in a terminal, else all of stdin; never empty."""
    what = prompt.rstrip(": ")
    if sys.stdin is None:  # started with stdin closed (``<&-``)
        raise UsageError(f"no {what}: stdin is closed (pipe it in, or run in a terminal to type it)")
    text = _ask(prompt) if sys.stdin.isatty() else sys.stdin.read(_MAX_SECRET_CHARS + 1)
    if len(text) > _MAX_SECRET_CHARS:
        raise UsageError(f"stdin holds more than {_MAX_SECRET_CHARS} characters: not a key")
    text = text.strip()
    if not text:
        raise UsageError(f"no {what} on stdin (pipe it in, or run in a terminal to type it)")
    return text


def _passphrase(prompt: str, *, confirm: bool) -> str:
    """``$LASERSELL_WALLET_PASSPHRASE``, else typed in a terminal (twice with ``confirm``)."""
    from_env = os.environ.get(PASSPHRASE_ENV)
    if from_env:
        return from_env
    if not _in_a_terminal():
        unset = f"{PASSPHRASE_ENV} is empty" if from_env is not None else f"set {PASSPHRASE_ENV}"
        raise UsageError(f"no passphrase: {unset}, or run in a terminal to type it")
    passphrase = _ask(prompt)
    if not passphrase:
        raise UsageError("the passphrase is empty")
    if confirm and _ask("the same passphrase again: ") != passphrase:
        raise UsageError("the two passphrases differ; nothing was written")
    return passphrase


def _in_a_terminal() -> bool:
    """Whether stdin is a terminal (it may be closed altogether: ``sys.stdin`` is then None)."""
    return sys.stdin is not None and sys.stdin.isatty()


def _ask(prompt: str) -> str:
    """Typed in the terminal without echo; Ctrl-D is a usage error, not a traceback."""
    try:
        return getpass.getpass(prompt)
    except EOFError:
        pass
    except KeyboardInterrupt:
        print(file=sys.stderr)  # end the prompt's line before the shell's
        raise
    print(file=sys.stderr)  # the error goes on its own line, not after the prompt
    raise UsageError("no input (end of file at the prompt)")
