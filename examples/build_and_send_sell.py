"""Build a sell with the Exit API, sign it locally, and submit it to an RPC endpoint.

Without LASERSELL_API_KEY it runs against the embedded simulator (offline, no funds) and its
test wallet. With LASERSELL_API_KEY set it uses the real service and your wallet (--keypair or
LASERSELL_KEYPAIR_PATH): the sell is real.

    python examples/build_and_send_sell.py [--keypair id.json --mint MINT --amount 1000000]
                                           [--send-target rpc|helius]
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
    p.add_argument("--amount", type=int, default=1_000_000, help="tokens, in atomic units (default: %(default)s)")
    p.add_argument(
        "--slippage-bps", type=int, default=2000, help="slippage tolerance, in basis points (default: %(default)s)"
    )
    args = parse(p, argv)
    with service(p, args) as svc:
        request = ls.BuildSellTxRequest(
            mint=args.mint,
            user_pubkey=str(svc.signer.pubkey()),
            amount_tokens=args.amount,
            slippage_bps=args.slippage_bps,
            send_mode=svc.send_mode,  # shaped for where it goes (--send-target / LASERSELL_SEND_TARGET)
        )
        with ls.ExitApiClient(svc.api_key, base_url=svc.api_url) as api, ls.TxSender() as sender:
            unsigned = api.build_sell_tx_b64(request)
            signed = ls.sign_unsigned_tx(unsigned, svc.signer)
            # The same transaction to every target at once (one target: sent on this thread); it lands once.
            signature = sender.send_many(svc.targets, signed).signature
    print(f"sent: {signature}")
    return 0


if __name__ == "__main__":
    sys.exit(run(main))
