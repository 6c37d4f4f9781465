import { createHash } from "node:crypto";
import { loadNetwork, type Network } from "@poolkeeper/core";
import { buildDepositData, type DepositDataJson } from "@poolkeeper/keys";

/** BLS12-381 group order r. */
const CURVE_ORDER = 0x73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001n;

/** Interop-style secret key i: sha256(i as 32 bytes little-endian) read little-endian, mod r. */
export function interopSecretKey(i: number): Uint8Array {
  const le = new Uint8Array(32);
  let v = BigInt(i);
  for (let b = 0; b < 32; b++) {
    le[b] = Number(v & 0xffn);
    v >>= 8n;
  }
  const h = createHash("sha256").update(le).digest();
  let n = 0n;
  for (let b = 31; b >= 0; b--) n = (n << 8n) | BigInt(h[b]!);
  n %= CURVE_ORDER;
  const out = new Uint8Array(32);
  for (let b = 31; b >= 0; b--) {
    out[b] = Number(n & 0xffn);
    n >>= 8n;
  }
  return out;
}

export const TEST_NETWORK: Network = loadNetwork("hoodi");
/** 0x01 credentials of the pool in tests. */
export const POOL_WC_HEX = "010000000000000000000000b9d7934878b5fb9610b3fe8a5e441e8fad7e293f";
export const POOL_WC = Uint8Array.from(Buffer.from(POOL_WC_HEX, "hex"));
export const OTHER_WC = Uint8Array.from(Buffer.from(`01${"00".repeat(11)}${"11".repeat(20)}`, "hex"));

const cache = new Map<string, DepositDataJson>();

/** Real, signed deposit data for interop keys [from, from+count). */
export function depositEntries(
  from: number,
  count: number,
  opts: { withdrawalCredentials?: Uint8Array; network?: Network } = {},
): DepositDataJson[] {
  const wc = opts.withdrawalCredentials ?? POOL_WC;
  const network = opts.network ?? TEST_NETWORK;
  const out: DepositDataJson[] = [];
  for (let i = from; i < from + count; i++) {
    const k = `${i}:${Buffer.from(wc).toString("hex")}:${network.name}`;
    let e = cache.get(k);
    if (e === undefined) {
      e = buildDepositData({
        secretKey: interopSecretKey(i),
        withdrawalCredentials: wc,
        amountGwei: 32_000_000_000n,
        network,
      });
      cache.set(k, e);
    }
    out.push({ ...e });
  }
  return out;
}
