"""Prove wallet ownership, register it with the Exit API, and open a stream session.

Without LASERSELL_API_KEY it runs against the embedded simulator (offline), which, like the
service, refuses a wallet that was not registered. With LASERSELL_API_KEY set it registers your
wallet (--keypair or LASERSELL_KEYPAIR_PATH) with the real service.

    python examples/connect_and_register.py [--keypair id.json] [--events 3]
"""

from __future__ import annotations

import sys
from typing import Any, Optional, Sequence

from _common import parse, parser, run, service

import lasersell_sync as ls


def main(argv: Optional[Sequence[str]] = None) -> int:
    p = parser(__doc__ or "")
    p.add_argument("--events", type=int, default=3, help="print this many events, then close")
    p.add_argument("--timeout", type=float, default=30.0, help="stop after this long without an event")
    args = parse(p, argv)
    with service(p, args, require_registration=True) as svc:
        wallet = str(svc.signer.pubkey())
        strategy = ls.StrategyConfig(target_profit_pct=50, stop_loss_pct=10, trailing_stop_pct=5)
        with ls.ExitApiClient(svc.api_key, base_url=svc.api_url) as api:
            session = ls.StreamSession(svc.api_key, [wallet], strategy, endpoint=svc.stream_url)
            events = session.events(timeout=args.timeout)
            hello = session.register_and_connect([ls.prove_ownership(svc.signer)], exit_api=api)
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
    sys.exit(run(main))
