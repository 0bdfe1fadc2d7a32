"""Keys: a solana-keygen file, a base58 export, a seed phrase and a keystore, all the same wallet."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from solders.keypair import Keypair

import lasersell_sync as ls

folder = Path(tempfile.mkdtemp())
original = Keypair()
(folder / "id.json").write_text(json.dumps(list(bytes(original))))  # what solana-keygen writes
exported = str(original)  # the base58 secret key a wallet app exports (never log this)
os.environ["LASERSELL_WALLET_PASSPHRASE"] = "correct horse battery staple"

# --8<-- [start:load]
keypair = ls.load_keypair(folder / "id.json")  # a solana-keygen file
assert ls.wallet.keypair_from_base58(exported).pubkey() == keypair.pubkey()  # a wallet app's export

ls.wallet.write_keystore(folder / "wallet.keystore.json", keypair, "correct horse battery staple")
opened = ls.load_keypair(folder / "wallet.keystore.json")  # passphrase from LASERSELL_WALLET_PASSPHRASE
assert opened.pubkey() == keypair.pubkey()

phrase = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about"
print("first account of that phrase:", ls.wallet.keypair_from_seed_phrase(phrase).pubkey())

try:
    ls.load_keypair(folder / "missing.json")
except ls.KeyLoadError as error:
    print(error)  # names the file, never a key
# --8<-- [end:load]
