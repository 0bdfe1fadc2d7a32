"""Prove wallet ownership, register it with the Exit API, and open a stream session.

python examples/connect_and_register.py --api-url URL --stream-url URL --keypair id.json
"""

from __future__ import annotations

import sys
from typing import Any, Optional, Sequence

from _common import parse, parser

import lasersell_sync as ls


def main(argv: Optional[Sequence[str]] = None) -> int:
    p = parser(__doc__ or "")
    p.add_argument("--keypair", required=True, help="solana-keygen JSON file of the wallet to watch")
    p.add_argument("--stream-url", default=None, help="stream endpoint (default: production)")
    p.add_argument("--events", type=int, default=3, help="print this many events, then close")
    p.add_argument("--timeout", type=float, default=30.0, help="stop after this long without an event")
    args = parse(p, argv)
    keypair = ls.load_keypair(args.keypair)
    wallet = str(keypair.pubkey())
    strategy = ls.StrategyConfig(target_profit_pct=50, stop_loss_pct=10, trailing_stop_pct=5)
    with ls.ExitApiClient(args.api_key, base_url=args.api_url) as api:
        session = ls.StreamSession(args.api_key, [wallet], strategy, endpoint=args.stream_url)
        events = session.events(timeout=args.timeout)
        hello = session.register_and_connect([ls.prove_ownership(keypair)], exit_api=api)
    print(f"registered {wallet}; connected as session {hello.session_id}")
    try:
        for count, event in enumerate(events, start=1):
            message: Any = event.message
            print(f"{event.type}: {message}")
            if count >= args.events:
                break
    finally:
        session.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
