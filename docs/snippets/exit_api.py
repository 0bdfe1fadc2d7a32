"""Exit API: register a wallet, build a buy, sign it locally, send it and wait for the outcome."""

from __future__ import annotations

from solders.pubkey import Pubkey

import lasersell_sync as ls
from lasersell_sync.simulator import Simulator

# --8<-- [start:flow]
with Simulator(seed=1) as sim:
    keypair, mint = sim.wallet, str(Pubkey.new_unique())  # your wallet; the token to buy
    with ls.ExitApiClient(sim.api_key, base_url=sim.api_url) as api, ls.TxSender() as sender:
        assert api.health().ok
        api.register_wallet(ls.prove_ownership(keypair))  # signed locally; idempotent
        print("plan:", api.account().tier_name)
        request = ls.BuildBuyTxRequest(mint=mint, user_pubkey=str(keypair.pubkey()), amount=0.1, slippage_bps=500)
        unsigned = api.build_buy_tx(request).tx  # base64, unsigned
        signed = ls.sign_unsigned_tx(unsigned, keypair)  # checks the keypair is a required signer
        outcome = sender.send_and_confirm([ls.SendTargetRpc(url=sim.rpc_url)], signed, sim.rpc_url, timeout=10)
        print(outcome.outcome, outcome.signature)
# --8<-- [end:flow]

assert not outcome.timed_out, outcome
