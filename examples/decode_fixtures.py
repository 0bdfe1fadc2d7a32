"""Decode every recorded protocol frame in a folder of fixtures and print the typed messages.

Each ``server_*.json`` file is one frame the service sends, each ``client_*.json`` one frame a
client sends. Every frame is decoded into its typed message and encoded back, so you can see the
wire format next to the Python value. Run from the repository root:

    python examples/decode_fixtures.py [--fixtures tests/fixtures]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, Callable, Optional, Sequence, Tuple

from _common import Parser, run

import lasersell_sync as ls

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures"

CODECS: Tuple[Tuple[str, Callable[[bytes], Any], Callable[[Any], str]], ...] = (
    ("server_", ls.proto.decode_server, ls.proto.encode_server),
    ("client_", ls.proto.decode_client, ls.proto.encode_client),
)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Decode and re-encode every fixture; a folder without any is a usage error (exit 2)."""
    p = Parser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--fixtures", type=Path, default=FIXTURES, help=f"folder of *.json frames (default: {FIXTURES})")
    args = p.parse_args(argv)
    paths = [
        path
        for path in sorted(args.fixtures.glob("*.json"))
        if any(path.name.startswith(prefix) for prefix, _, _ in CODECS)
    ]
    if not paths:
        p.error(f"no server_*.json or client_*.json frames in {args.fixtures}")
    for path in paths:
        for prefix, decode, encode in CODECS:
            if path.name.startswith(prefix):
                try:
                    message = decode(path.read_bytes())
                except (OSError, ls.ProtocolError) as exc:
                    p.error(f"{path}: {exc}")
                print(f"{path.name}\n  {message!r}\n  wire: {encode(message)}")
    # A malformed frame is a typed error that names the message type and the field.
    try:
        ls.proto.decode_server(b'{"type":"pnl_update","position_id":"7"}')
    except ls.ProtocolError as exc:
        print(f"\nrejected a bad frame: {exc}")
    print(f"decoded {len(paths)} frames with the {ls.proto.JSON_BACKEND} JSON backend")
    return 0


if __name__ == "__main__":
    sys.exit(run(main))
