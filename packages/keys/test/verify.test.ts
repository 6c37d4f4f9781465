import { randomBytes } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fromHex, GWEI_PER_ETH, loadNetwork, parseAddress, toHex } from "@poolkeeper/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  bls,
  buildDepositData,
  DepositData,
  type DepositDataJson,
  formatDepositFailure,
  type VerifyDepositDataOptions,
  verifyDepositData,
  verifyDepositDataAsync,
  withdrawalCredentials,
} from "../src/index.js";

const REFERENCE_DIR = join(import.meta.dirname, "../../../test/fixtures/vectors/reference");
const ADDRESS = "0x0f51bb10119727a7e5ea3538074fb341f56b09ad";
const hoodi = loadNetwork("hoodi");
const mainnet = loadNetwork("mainnet");

function readRef(name: string): DepositDataJson[] {
  return JSON.parse(readFileSync(join(REFERENCE_DIR, name), "utf8")) as DepositDataJson[];
}
const HOODI_0X01 = "lighthouse_hoodi_first_0_count_2_prefix_0x01_eth1_true_edc-1.3.0.json";
const HOODI_0X02 = "lighthouse_hoodi_first_0_count_2_prefix_0x02_eth1_true_edc-1.3.0.json";

/** Copy an entry with its deposit_data_root recomputed, so that a tampered field is the only problem. */
function withDataRoot(e: DepositDataJson): DepositDataJson {
  const root = DepositData.hashTreeRoot({
    pubkey: fromHex(e.pubkey, "pubkey"),
    withdrawalCredentials: fromHex(e.withdrawal_credentials, "wc"),
    amount: BigInt(e.amount),
    signature: fromHex(e.signature, "signature"),
  });
  return { ...e, deposit_data_root: toHex(root) };
}

function lines(input: unknown, opts: VerifyDepositDataOptions): string[] {
  return verifyDepositData(input, opts).failures.map(formatDepositFailure);
}

function randomDeposits(n: number, network = hoodi): DepositDataJson[] {
  const wc = withdrawalCredentials({ type: 1, address: parseAddress(ADDRESS, "a") });
  return Array.from({ length: n }, () =>
    buildDepositData({
      secretKey: bls.SecretKey.fromKeygen(randomBytes(32)).toBytes(),
      withdrawalCredentials: wc,
      amountGwei: 32n * GWEI_PER_ETH,
      network,
    }),
  );
}

describe("verifyDepositData on the reference files", () => {
  for (const file of readdirSync(REFERENCE_DIR).filter((f) => f.endsWith(".json"))) {
    it(`passes ${file}`, () => {
      const entries = readRef(file);
      const network = loadNetwork(entries[0]!.network_name);
      const r = verifyDepositData(entries, { network });
      expect(r.failures).toEqual([]);
      expect(r.passed).toBe(entries.length);
      expect(r.failed).toBe(0);
      expect(r.entries.map((e) => toHex(e.pubkey))).toEqual(entries.map((e) => e.pubkey));
      expect(r.entries[0]!.amountGwei).toBe(32n * GWEI_PER_ETH);
      expect(r.entries.map((e) => e.index)).toEqual(entries.map((_, i) => i));
    });
  }

  it("a hoodi file checked against mainnet fails fork version, network name and signature", () => {
    const out = lines(readRef(HOODI_0X01), { network: mainnet });
    expect(out).toContain(
      "entry 0: fork_version: 10000910 is not the genesis fork version of mainnet (00000000)",
    );
    expect(out).toContain('entry 0: network_name: "hoodi" does not match the network mainnet');
    expect(out).toContain("entry 1: signature: does not verify for this pubkey and deposit message");
  });
});

describe("verifyDepositData names each tampered field", () => {
  const [e0, e1] = readRef(HOODI_0X01) as [DepositDataJson, DepositDataJson];

  it("a bad signature (another key's valid signature)", () => {
    const bad = withDataRoot({ ...e1, signature: e0.signature });
    const r = verifyDepositData([e0, bad], { network: hoodi });
    expect(r.failures.map(formatDepositFailure)).toEqual([
      "entry 1: signature: does not verify for this pubkey and deposit message",
    ]);
    expect(r.passed).toBe(1);
    expect(r.failed).toBe(1);
    expect(r.entries.map((e) => e.index)).toEqual([0]);
  });

  it("a signature that is not a curve point", () => {
    const sig = `${e1.signature.slice(0, 150)}${"0".repeat(42)}`;
    const out = lines([withDataRoot({ ...e1, signature: sig })], { network: hoodi });
    expect(out.some((l) => l.startsWith("entry 0: signature: is not a valid BLS signature"))).toBe(true);
  });

  it("a wrong fork version", () => {
    expect(lines([e0, { ...e1, fork_version: "00000000" }], { network: hoodi })).toEqual([
      "entry 1: fork_version: 00000000 is not the genesis fork version of hoodi (10000910)",
    ]);
  });

  it("a wrong deposit_data_root and a wrong deposit_message_root", () => {
    const out = lines(
      [
        { ...e0, deposit_data_root: e1.deposit_data_root },
        { ...e1, deposit_message_root: e0.deposit_message_root },
      ],
      { network: hoodi },
    );
    expect(out).toEqual([
      `entry 0: deposit_data_root: does not match the entry's deposit data (recomputed ${e0.deposit_data_root})`,
      `entry 1: deposit_message_root: does not match the entry's pubkey, withdrawal_credentials and amount (recomputed ${e1.deposit_message_root})`,
    ]);
  });

  it("a duplicate pubkey", () => {
    const r = verifyDepositData([e0, e1, e0], { network: hoodi });
    expect(r.failures.map(formatDepositFailure)).toEqual(["entry 2: pubkey: duplicate of entry 0"]);
    expect(r.passed).toBe(2);
  });

  it("missing fields, wrong types, 0x prefixes and wrong lengths", () => {
    const { signature: _s, ...noSig } = e0;
    const out = lines(
      [
        noSig,
        { ...e1, amount: "32000000000", pubkey: `0x${e1.pubkey}` },
        { ...e1, withdrawal_credentials: e1.withdrawal_credentials.slice(2), deposit_cli_version: 2 },
        "not an object",
      ],
      { network: hoodi },
    );
    expect(out).toContain("entry 0: signature: is missing");
    expect(out).toContain("entry 1: pubkey: must be hex without the 0x prefix");
    expect(out).toContain("entry 1: amount: must be a whole number of gwei (a JSON number)");
    expect(out).toContain("entry 2: withdrawal_credentials: must be 32 bytes (64 hex digits), got 62");
    expect(out).toContain("entry 2: deposit_cli_version: must be a string");
    expect(out).toContain("entry 3: entry: must be a JSON object");
  });

  it("an amount out of range for 0x01 credentials, and in range for 0x02", () => {
    const out = lines([{ ...e0, amount: 64 * 1e9 }], { network: hoodi });
    expect(out[0]).toBe(
      "entry 0: amount: 64 ETH is out of range for 0x01 withdrawal credentials (must be exactly 32 ETH)",
    );
    // The roots and the signature cover the amount, so they are named too.
    expect(out.some((l) => l.startsWith("entry 0: deposit_message_root:"))).toBe(true);
    expect(out).toContain("entry 0: signature: does not verify for this pubkey and deposit message");

    const wc2 = withdrawalCredentials({ type: 2, address: parseAddress(ADDRESS, "a") });
    const big = buildDepositData({
      secretKey: bls.SecretKey.fromKeygen(randomBytes(32)).toBytes(),
      withdrawalCredentials: wc2,
      amountGwei: 2048n * GWEI_PER_ETH,
      network: hoodi,
    });
    const r = verifyDepositData([big], { network: hoodi });
    expect(r.failures).toEqual([]);
    expect(r.entries[0]!.amountGwei).toBe(2048n * GWEI_PER_ETH);
  });

  it("a deposit_cli_version the launchpad rejects", () => {
    expect(lines([{ ...e0, deposit_cli_version: "0.4.0" }], { network: hoodi })).toEqual([
      'entry 0: deposit_cli_version: "0.4.0" is not a version of at least 1.0.0 (the staking launchpad rejects it)',
    ]);
  });

  it("the pubkey at infinity and a pubkey on the curve outside the G1 subgroup", () => {
    const infinity = `c0${"0".repeat(94)}`;
    expect(lines([{ ...e0, pubkey: infinity }], { network: hoodi })).toContain(
      "entry 0: pubkey: is the point at infinity, which is not a valid public key",
    );
    const outside = toHex(pointOutsideG1Subgroup());
    const out = lines([{ ...e0, pubkey: outside }], { network: hoodi });
    expect(out).toContain("entry 0: pubkey: is not a valid BLS public key (not in the G1 subgroup)");
  });

  it("expected withdrawal credentials and expected withdrawal address", () => {
    const refs = readRef(HOODI_0X01);
    const wc1 = fromHex(refs[0]!.withdrawal_credentials, "wc", 32);
    expect(verifyDepositData(refs, { network: hoodi, expectedWithdrawalCredentials: wc1 }).failed).toBe(0);
    const address = parseAddress(ADDRESS, "a");
    expect(verifyDepositData(refs, { network: hoodi, expectedWithdrawalAddress: address }).failed).toBe(0);
    expect(
      verifyDepositData(readRef(HOODI_0X02), { network: hoodi, expectedWithdrawalAddress: address }).failed,
    ).toBe(0);

    const other = parseAddress("0x00000000219ab540356cbb839cbe05303d7705fa", "a");
    const out = lines(refs, { network: hoodi, expectedWithdrawalAddress: other });
    expect(out).toHaveLength(2);
    expect(out[0]).toMatch(/^entry 0: withdrawal_credentials: do not pay the expected withdrawal address 0x/);
    const out2 = lines(readRef(HOODI_0X02), { network: hoodi, expectedWithdrawalCredentials: wc1 });
    expect(out2[1]).toMatch(/^entry 1: withdrawal_credentials: 0200.* is not the expected 0100/);
  });

  it("file-level problems", () => {
    expect(lines({ pubkey: e0.pubkey }, { network: hoodi })).toEqual([
      "file: must be a JSON array of deposit data entries",
    ]);
    const r = verifyDepositData([], { network: hoodi });
    expect(r.failures.map(formatDepositFailure)).toEqual(["file: contains no deposit data entries"]);
    expect(r.passed).toBe(0);
  });
});

describe("no single-character change of a valid entry passes", () => {
  const [e0, e1] = readRef(HOODI_0X01) as [DepositDataJson, DepositDataJson];
  const fields = [
    "pubkey",
    "withdrawal_credentials",
    "signature",
    "deposit_message_root",
    "deposit_data_root",
    "fork_version",
  ] as const;

  it("for every hex field and position (property)", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...fields),
        fc.nat(),
        fc.constantFrom(..."0123456789abcdef"),
        (field, pos, ch) => {
          const value = e1[field];
          const i = pos % value.length;
          fc.pre(value[i] !== ch);
          const mutated = { ...e1, [field]: value.slice(0, i) + ch + value.slice(i + 1) };
          const r = verifyDepositData([e0, mutated], { network: hoodi });
          expect(r.passed).toBe(1);
          expect(r.failed).toBe(1);
          expect(r.failures.every((f) => f.index === 1)).toBe(true);
        },
      ),
      { numRuns: 150 },
    );
  });

  it("for the amount, one gwei up or down", () => {
    for (const amount of [e1.amount - 1, e1.amount + 1]) {
      const r = verifyDepositData([{ ...e1, amount }], { network: hoodi });
      expect(r.failed).toBe(1);
    }
  });

  it("rejects malformed expectations up front", () => {
    expect(() =>
      verifyDepositData([e0], { network: hoodi, expectedWithdrawalAddress: new Uint8Array(32) }),
    ).toThrow(/^expectedWithdrawalAddress: /);
    expect(() =>
      verifyDepositData([e0], { network: hoodi, expectedWithdrawalCredentials: new Uint8Array(20) }),
    ).toThrow(/^expectedWithdrawalCredentials: /);
  });
});

describe("chunked verification", () => {
  const deposits = randomDeposits(300);

  it("passes a large file in chunks", () => {
    const r = verifyDepositData(deposits, { network: hoodi, chunkSize: 64 });
    expect(r.failures).toEqual([]);
    expect(r.passed).toBe(300);
  });

  it("finds the one bad signature inside a failing chunk", () => {
    const tampered = deposits.slice();
    tampered[137] = withDataRoot({ ...deposits[137]!, signature: deposits[138]!.signature });
    const r = verifyDepositData(tampered, { network: hoodi, chunkSize: 64 });
    expect(r.failures.map(formatDepositFailure)).toEqual([
      "entry 137: signature: does not verify for this pubkey and deposit message",
    ]);
    expect(r.passed).toBe(299);
    expect(r.entries.some((e) => e.index === 137)).toBe(false);
  });

  it("the async form lets the event loop run between chunks", async () => {
    let ticks = 0;
    let running = true;
    const tick = () => {
      ticks++;
      if (running) setImmediate(tick);
    };
    setImmediate(tick);
    const r = await verifyDepositDataAsync(deposits, { network: hoodi, chunkSize: 32 });
    running = false;
    expect(r.passed).toBe(300);
    expect(ticks).toBeGreaterThanOrEqual(5); // 10 chunks: other work ran in between
  });

  it("the async form gives the same result", async () => {
    const tampered = deposits.slice(0, 100);
    tampered[50] = { ...deposits[50]!, fork_version: "00000000" };
    const sync = verifyDepositData(tampered, { network: hoodi, chunkSize: 16 });
    const async = await verifyDepositDataAsync(tampered, { network: hoodi, chunkSize: 16 });
    expect(async).toEqual(sync);
    expect(async.failed).toBe(1);
  });

  it("the async form (signature worker) gives the sync form's result for every kind of bad key or signature", async () => {
    const [e0, e1] = readRef(HOODI_0X01) as [DepositDataJson, DepositDataJson];
    const input = deposits.slice(0, 60);
    const notOnCurveSig = `${e1.signature.slice(0, 150)}${"0".repeat(42)}`;
    const notOnCurvePk = `8${"0".repeat(94)}1`;
    // Clean fields, bad point: only the signature chunk can find these.
    input[3] = withDataRoot({ ...input[3]!, signature: input[4]!.signature });
    input[10] = withDataRoot({ ...e1, signature: notOnCurveSig });
    input[20] = withDataRoot({ ...input[20]!, pubkey: toHex(pointOutsideG1Subgroup()) });
    input[25] = withDataRoot({ ...input[25]!, pubkey: notOnCurvePk });
    // A bad point and a later failure of the same entry: failures in the sync order.
    input[30] = { ...input[30]!, pubkey: notOnCurvePk, signature: notOnCurveSig };
    input[40] = { ...e0, deposit_data_root: e1.deposit_data_root, signature: notOnCurveSig };
    input[50] = { ...input[51]! }; // duplicate
    const sync = verifyDepositData(input, { network: hoodi, chunkSize: 16 });
    const async = await verifyDepositDataAsync(input, { network: hoodi, chunkSize: 16 });
    expect(async).toEqual(sync);
    expect(async.failed).toBe(7);
    expect(async.failures.map(formatDepositFailure)).toContain(
      "entry 20: pubkey: is not a valid BLS public key (not in the G1 subgroup)",
    );
    expect(async.failures.filter((f) => f.index === 30).map((f) => f.field)).toEqual(
      sync.failures.filter((f) => f.index === 30).map((f) => f.field),
    );
    expect(async.passed).toBe(53);
  });
});

/** A compressed G1 point on the curve y² = x³ + 4 that is not in the prime-order subgroup. */
function pointOutsideG1Subgroup(): Uint8Array {
  const p = BigInt(
    "0x1a0111ea397fe69a4b1ba7b6434bacd764774b84f38512bf6730d2a0f6b0f6241eabfffeb153ffffb9feffffffffaaab",
  );
  const pow = (b: bigint, e: bigint): bigint => {
    let r = 1n;
    let x = b % p;
    let k = e;
    while (k > 0n) {
      if (k & 1n) r = (r * x) % p;
      x = (x * x) % p;
      k >>= 1n;
    }
    return r;
  };
  for (let x = 1n; ; x++) {
    const rhs = (x ** 3n + 4n) % p;
    if (pow(rhs, (p - 1n) / 2n) !== 1n) continue; // not a square: no point with this x
    const bytes = fromHex(x.toString(16).padStart(96, "0"), "x", 48);
    bytes[0]! |= 0x80; // compressed flag
    return bytes;
  }
}
