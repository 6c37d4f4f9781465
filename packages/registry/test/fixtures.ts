import { createHash } from "node:crypto";
import { fromHex, loadNetwork, type Network } from "@poolkeeper/core";
import { buildDepositData, type DepositDataJson, withdrawalCredentials } from "@poolkeeper/keys";
import type { PoolSettings } from "../src/index.js";

/** BLS12-381 group order r. */
const R = 0x73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001n;

/** Cheap, deterministic test secret keys (like interop keys): sha256(seed ‖ i) mod r, never 0. */
export function testSecretKey(i: number, seed = "poolkeeper-registry-test"): Uint8Array {
  const h = createHash("sha256").update(`${seed}:${i}`).digest("hex");
  const v = (BigInt(`0x${h}`) % (R - 1n)) + 1n;
  return fromHex(v.toString(16).padStart(64, "0"), "secretKey", 32);
}

export const NETWORK: Network = loadNetwork("hoodi");
export const POOL_ADDRESS = fromHex("0f51bb10119727a7e5ea3538074fb341f56b09ad", "address", 20);
export const POOL_WC = withdrawalCredentials({ type: 1, address: POOL_ADDRESS });
export const SETTINGS: PoolSettings = { network: NETWORK, withdrawalCredentials: POOL_WC };

const cache = new Map<string, DepositDataJson>();

/** Deposit data for keys [from, from + count) of the test key sequence, signed for the pool. */
export function depositData(
  from: number,
  count: number,
  opts: { seed?: string; network?: Network; wc?: Uint8Array } = {},
): DepositDataJson[] {
  const out: DepositDataJson[] = [];
  const network = opts.network ?? NETWORK;
  const wc = opts.wc ?? POOL_WC;
  for (let i = from; i < from + count; i++) {
    const id = `${opts.seed ?? ""}|${network.name}|${Buffer.from(wc).toString("hex")}|${i}`;
    let e = cache.get(id);
    if (e === undefined) {
      e = buildDepositData({
        secretKey: testSecretKey(i, opts.seed),
        withdrawalCredentials: wc,
        amountGwei: 32_000_000_000n,
        network,
      });
      cache.set(id, e);
    }
    out.push({ ...e });
  }
  return out;
}
