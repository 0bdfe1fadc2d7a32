"""Decode every recorded protocol frame in tests/fixtures and print the typed messages.

Run from the repository root:  python examples/decode_fixtures.py
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Callable, Tuple

import lasersell_sync as ls

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures"

CODECS: Tuple[Tuple[str, Callable[[bytes], Any], Callable[[Any], str]], ...] = (
    ("server_", ls.decode_server, ls.encode_server),
    ("client_", ls.decode_client, ls.encode_client),
)


def main() -> int:
    decoded = 0
    for path in sorted(FIXTURES.glob("*.json")):
        for prefix, decode, encode in CODECS:
            if path.name.startswith(prefix):
                message = decode(path.read_bytes())
                print(f"{path.name}\n  {message!r}\n  wire: {encode(message)}")
                decoded += 1
    # A malformed frame is a typed error that names the message type and the field.
    try:
        ls.decode_server(b'{"type":"pnl_update","position_id":"7"}')
    except ls.ProtocolError as exc:
        print(f"\nrejected a bad frame: {exc}")
    print(f"decoded {decoded} frames with the {ls.JSON_BACKEND} JSON backend")
    return 0 if decoded else 1


if __name__ == "__main__":
    sys.exit(main())
