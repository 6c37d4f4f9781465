import { createHash } from "node:crypto";
import { fromHex, loadNetwork } from "@poolkeeper/core";
import { buildDepositData, type DepositDataJson, withdrawalCredentials } from "@poolkeeper/keys";

/** BLS12-381 group order r. */
const R = 0x73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001n;
const NETWORK = loadNetwork("hoodi");
const POOL_WC = withdrawalCredentials({
  type: 1,
  address: fromHex("0f51bb10119727a7e5ea3538074fb341f56b09ad", "address", 20),
});
/** The registry's settings for these keys. */
export const SETTINGS = { network: NETWORK, withdrawalCredentials: POOL_WC };

/** Deposit data for test keys [from, from + count) (sha256(seed:i) mod r), signed for the pool. */
export function depositData(from: number, count: number): DepositDataJson[] {
  const out: DepositDataJson[] = [];
  for (let i = from; i < from + count; i++) {
    const h = createHash("sha256").update(`poolkeeper-guardian-test:${i}`).digest("hex");
    const sk = fromHex(((BigInt(`0x${h}`) % (R - 1n)) + 1n).toString(16).padStart(64, "0"), "sk", 32);
    out.push(
      buildDepositData({
        secretKey: sk,
        withdrawalCredentials: POOL_WC,
        amountGwei: 32_000_000_000n,
        network: NETWORK,
      }),
    );
  }
  return out;
}
