"""Build an unsigned sell transaction with the Exit API and print it.

python examples/build_sell.py --api-url URL --mint MINT --wallet WALLET --amount 1000000
"""

from __future__ import annotations

import sys
from typing import Optional, Sequence

from _common import parse, parser

import lasersell_sync as ls


def main(argv: Optional[Sequence[str]] = None) -> int:
    p = parser(__doc__ or "")
    p.add_argument("--mint", required=True)
    p.add_argument("--wallet", required=True, help="the seller's public key")
    p.add_argument("--amount", type=int, required=True, help="tokens, in atomic units")
    p.add_argument("--slippage-bps", type=int, default=2000)
    p.add_argument("--output", choices=["SOL", "USD1"], default="SOL")
    args = parse(p, argv)
    request = ls.BuildSellTxRequest(
        mint=args.mint,
        user_pubkey=args.wallet,
        amount_tokens=args.amount,
        output=args.output,
        slippage_bps=args.slippage_bps,
    )
    with ls.ExitApiClient(args.api_key, base_url=args.api_url) as api:
        response = api.build_sell_tx(request)
    print(f"unsigned sell transaction ({len(response.tx)} base64 chars), route={response.route}")
    print(response.tx)
    return 0


if __name__ == "__main__":
    sys.exit(main())
