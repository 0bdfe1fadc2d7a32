"""Build an unsigned buy transaction with the Exit API and print it.

python examples/build_buy.py --api-url URL --mint MINT --wallet WALLET --amount-sol 0.1
"""

from __future__ import annotations

import sys
from typing import Optional, Sequence

from _common import parse, parser

import lasersell_sync as ls


def main(argv: Optional[Sequence[str]] = None) -> int:
    p = parser(__doc__ or "")
    p.add_argument("--mint", required=True)
    p.add_argument("--wallet", required=True, help="the buyer's public key")
    p.add_argument("--amount-sol", type=float, required=True, help="SOL to spend (human units)")
    p.add_argument("--slippage-bps", type=int, default=2000)
    args = parse(p, argv)
    request = ls.BuildBuyTxRequest(
        mint=args.mint, user_pubkey=args.wallet, amount=args.amount_sol, slippage_bps=args.slippage_bps
    )
    with ls.ExitApiClient(args.api_key, base_url=args.api_url) as api:
        response = api.build_buy_tx(request)
    print(f"unsigned buy transaction ({len(response.tx)} base64 chars), route={response.route}")
    print(response.tx)
    return 0


if __name__ == "__main__":
    sys.exit(main())
