"""Build an unsigned buy transaction with the Exit API and print it (nothing is signed or sent).

Without LASERSELL_API_KEY it runs against the embedded simulator (offline); with it, against the
real service, which needs --wallet or your keypair (--keypair or LASERSELL_KEYPAIR_PATH).

    python examples/build_buy.py [--mint MINT --wallet WALLET --amount-sol 0.1]
"""

from __future__ import annotations

import sys
from typing import Optional, Sequence

from _common import parse, parser, run, service

import lasersell_sync as ls

EXAMPLE_MINT = "So11111111111111111111111111111111111111112"


def main(argv: Optional[Sequence[str]] = None) -> int:
    p = parser(__doc__ or "")
    p.add_argument("--mint", default=EXAMPLE_MINT, help="the token to buy (default: %(default)s)")
    p.add_argument("--wallet", help="the buyer's public key (default: the keypair's)")
    p.add_argument("--amount-sol", type=float, default=0.1, help="SOL to spend, in SOL (default: %(default)s)")
    p.add_argument(
        "--slippage-bps", type=int, default=2000, help="slippage tolerance, in basis points (default: %(default)s)"
    )
    args = parse(p, argv)
    with service(p, args, needs_keypair=args.wallet is None, instead="--wallet PUBKEY") as svc:
        wallet = args.wallet or str(svc.signer.pubkey())
        request = ls.BuildBuyTxRequest(
            mint=args.mint, user_pubkey=wallet, amount=args.amount_sol, slippage_bps=args.slippage_bps
        )
        with ls.ExitApiClient(svc.api_key, base_url=svc.api_url) as api:
            response = api.build_buy_tx(request)
    print(f"unsigned buy transaction ({len(response.tx)} base64 chars), route={response.route}")
    print(response.tx)
    return 0


if __name__ == "__main__":
    sys.exit(run(main))
