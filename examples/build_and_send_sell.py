"""Build a sell with the Exit API, sign it locally, and submit it to an RPC endpoint.

    python examples/build_and_send_sell.py --api-url URL --rpc-url URL --keypair id.json \\
        --mint MINT --amount 1000000
"""

from __future__ import annotations

import sys
from typing import Optional, Sequence

from _common import parse, parser

import lasersell_sync as ls


def main(argv: Optional[Sequence[str]] = None) -> int:
    p = parser(__doc__ or "")
    p.add_argument("--keypair", required=True, help="solana-keygen JSON file of the selling wallet")
    p.add_argument("--rpc-url", default=ls.MAINNET_BETA_RPC_URL)
    p.add_argument("--mint", required=True)
    p.add_argument("--amount", type=int, required=True, help="tokens, in atomic units")
    p.add_argument("--slippage-bps", type=int, default=2000)
    args = parse(p, argv)
    keypair = ls.load_keypair(args.keypair)
    request = ls.BuildSellTxRequest(
        mint=args.mint,
        user_pubkey=str(keypair.pubkey()),
        amount_tokens=args.amount,
        slippage_bps=args.slippage_bps,
        send_mode="rpc",
    )
    with ls.ExitApiClient(args.api_key, base_url=args.api_url) as api, ls.TxSender() as sender:
        unsigned = api.build_sell_tx_b64(request)
        signed = ls.sign_unsigned_tx(unsigned, keypair)
        signature = sender.send(ls.SendTargetRpc(url=args.rpc_url), signed)
    print(f"sent: {signature}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
