/** Deposits signed as a depositor signs them (the keys package's signing), for tests on the sim. */
import {
  computeDepositDomain,
  computeSigningRoot,
  DepositMessage,
  pubkeyFromSecret,
  signRoot,
} from "@poolkeeper/keys";
import type { SimChain } from "./chain.js";
import { secretKeyOf } from "./keys.js";

/** A deposit of interop key `keyNumber` over the chain's deposit domain (GENESIS_FORK_VERSION). */
export function signedDeposit(
  chain: SimChain,
  keyNumber: number,
  withdrawalCredentials: Uint8Array,
  amountGwei: number,
): { pubkey: Uint8Array; withdrawalCredentials: Uint8Array; amountGwei: number; signature: Uint8Array } {
  const sk = secretKeyOf(keyNumber);
  const pubkey = pubkeyFromSecret(sk);
  const root = DepositMessage.hashTreeRoot({ pubkey, withdrawalCredentials, amount: BigInt(amountGwei) });
  const signature = signRoot(sk, computeSigningRoot(root, computeDepositDomain(chain.genesisForkVersion)));
  return { pubkey, withdrawalCredentials, amountGwei, signature };
}
