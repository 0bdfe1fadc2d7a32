"""Build an unsigned sell transaction with the Exit API and print it (nothing is signed or sent).

Without LASERSELL_API_KEY it runs against the embedded simulator (offline); with it, against the
real service, which needs --wallet or your keypair (--keypair or LASERSELL_KEYPAIR_PATH).

    python examples/build_sell.py [--mint MINT --wallet WALLET --amount 1000000]
"""

from __future__ import annotations

import sys
from typing import Optional, Sequence

from _common import parse, parser, run, service

import lasersell_sync as ls

EXAMPLE_MINT = "So11111111111111111111111111111111111111112"


def main(argv: Optional[Sequence[str]] = None) -> int:
    p = parser(__doc__ or "")
    p.add_argument("--mint", default=EXAMPLE_MINT, help="the token to sell (default: %(default)s)")
    p.add_argument("--wallet", help="the seller's public key (default: the keypair's)")
    p.add_argument("--amount", type=int, default=1_000_000, help="tokens, in atomic units (default: %(default)s)")
    p.add_argument(
        "--slippage-bps", type=int, default=2000, help="slippage tolerance, in basis points (default: %(default)s)"
    )
    p.add_argument("--output", choices=["SOL", "USD1"], default="SOL", help="what to sell for (default: %(default)s)")
    args = parse(p, argv)
    with service(p, args, needs_keypair=args.wallet is None, instead="--wallet PUBKEY") as svc:
        wallet = args.wallet or str(svc.signer.pubkey())
        request = ls.BuildSellTxRequest(
            mint=args.mint,
            user_pubkey=wallet,
            amount_tokens=args.amount,
            output=args.output,
            slippage_bps=args.slippage_bps,
        )
        with ls.ExitApiClient(svc.api_key, base_url=svc.api_url) as api:
            response = api.build_sell_tx(request)
    print(f"unsigned sell transaction ({len(response.tx)} base64 chars), route={response.route}")
    print(response.tx)
    return 0


if __name__ == "__main__":
    sys.exit(run(main))
