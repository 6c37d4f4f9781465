import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { deriveKeyFromMaster, deriveKeyFromMnemonic } from "@chainsafe/bls-keygen";
import { fromHex, GWEI_PER_ETH, loadNetwork, parseAddress, toChecksumAddress } from "@poolkeeper/core";
import { describe, expect, it } from "vitest";
import {
  buildDepositData,
  DEFAULT_DEPOSIT_CLI_VERSION,
  type DepositDataJson,
  depositSignaturesValid,
  describeWithdrawalCredentials,
  isValidDepositSignature,
  launchpadAcceptsCliVersion,
  mnemonicToSeed,
  parseWithdrawalCredentials,
  pubkeyFromSecret,
  serializeDepositDataFile,
  ValidatorKeyDeriver,
  withdrawalCredentials,
} from "../src/index.js";

const REFERENCE_DIR = join(import.meta.dirname, "../../../test/fixtures/vectors/reference");
const MNEMONIC = "test test test test test test test test test test test waste";
const ADDRESS = "0x0f51bb10119727a7e5ea3538074fb341f56b09ad";
const deriver = ValidatorKeyDeriver.fromSeed(mnemonicToSeed(MNEMONIC));
const signingKey = (i: number) => deriver.keys(i).signingKey;
const withdrawalKey = (i: number) => deriver.keys(i).withdrawalKey;

interface ReferenceCase {
  file: string;
  network: string;
  first: number;
  count: number;
  prefix: 0 | 1 | 2;
  cliVersion: string;
}

function parseName(file: string): ReferenceCase {
  const m =
    /^lighthouse_([a-z]+)_first_(\d+)_count_(\d+)(?:_prefix_0x0([012]))?_eth1_(true|false)_(?:sdc|edc)-([\d.]+)\.json$/.exec(
      file,
    );
  if (m === null) throw new Error(`unexpected reference file name ${file}`);
  const eth1 = m[5] === "true";
  const prefix = (m[4] === undefined ? (eth1 ? 1 : 0) : Number(m[4])) as 0 | 1 | 2;
  return { file, network: m[1]!, first: Number(m[2]), count: Number(m[3]), prefix, cliVersion: m[6]! };
}

const cases = readdirSync(REFERENCE_DIR)
  .filter((f) => f.endsWith(".json"))
  .sort()
  .map(parseName);

describe("deposit_data.json byte-identical to the reference deposit CLIs", () => {
  it("has reference files to compare with", () => {
    expect(cases.length).toBeGreaterThanOrEqual(10);
  });

  it("derives the same keys as an independent EIP-2333 implementation (@chainsafe/bls-keygen)", () => {
    const master = deriveKeyFromMnemonic(MNEMONIC);
    for (const i of [0, 1, 1024]) {
      expect(signingKey(i)).toEqual(deriveKeyFromMaster(master, `m/12381/3600/${i}/0/0`));
      expect(withdrawalKey(i)).toEqual(deriveKeyFromMaster(master, `m/12381/3600/${i}/0`));
    }
  });

  for (const c of cases) {
    it(c.file, () => {
      const network = loadNetwork(c.network);
      const entries: DepositDataJson[] = [];
      for (let i = c.first; i < c.first + c.count; i++) {
        const wc =
          c.prefix === 0
            ? withdrawalCredentials({ type: 0, withdrawalPubkey: pubkeyFromSecret(withdrawalKey(i)) })
            : withdrawalCredentials({ type: c.prefix, address: parseAddress(ADDRESS, "address") });
        entries.push(
          buildDepositData({
            secretKey: signingKey(i),
            withdrawalCredentials: wc,
            amountGwei: 32n * GWEI_PER_ETH,
            network,
            depositCliVersion: c.cliVersion,
          }),
        );
      }
      const expected = readFileSync(join(REFERENCE_DIR, c.file), "utf8");
      expect(serializeDepositDataFile(entries)).toBe(expected);
    });
  }
});

describe("isValidDepositSignature (the spec's is_valid_deposit_signature)", () => {
  it("holds for a reference CLI's deposits and fails for any change to the message, the fork version or the bytes", () => {
    const c = cases.find((x) => x.network === "hoodi") ?? cases[0]!;
    const network = loadNetwork(c.network);
    const entries = JSON.parse(readFileSync(join(REFERENCE_DIR, c.file), "utf8")) as DepositDataJson[];
    const e = entries[0]!;
    const d = {
      pubkey: fromHex(e.pubkey, "pubkey", 48),
      withdrawalCredentials: fromHex(e.withdrawal_credentials, "withdrawal_credentials", 32),
      amount: BigInt(e.amount),
      signature: fromHex(e.signature, "signature", 96),
    };
    const gfv = network.genesisForkVersion;
    expect(isValidDepositSignature(d, gfv)).toBe(true);
    // the network's deposit domain only: another GENESIS_FORK_VERSION does not verify
    expect(isValidDepositSignature(d, Uint8Array.from([0x10, 0x00, 0x00, 0x38]))).toBe(false);
    const otherWc = d.withdrawalCredentials.slice();
    otherWc[31] = (otherWc[31] ?? 0) ^ 1;
    expect(isValidDepositSignature({ ...d, withdrawalCredentials: otherWc }, gfv)).toBe(false);
    expect(isValidDepositSignature({ ...d, amount: d.amount + 1n }, gfv)).toBe(false);
    // another entry's signature, the point at infinity, bytes that are no point: false, no error
    const e1 = entries[1]!;
    expect(isValidDepositSignature({ ...d, signature: fromHex(e1.signature, "signature", 96) }, gfv)).toBe(
      false,
    );
    const infinity = new Uint8Array(96);
    infinity[0] = 0xc0;
    expect(isValidDepositSignature({ ...d, signature: infinity }, gfv)).toBe(false);
    expect(isValidDepositSignature({ ...d, pubkey: new Uint8Array(48).fill(0xff) }, gfv)).toBe(false);
    expect(isValidDepositSignature({ ...d, signature: new Uint8Array(95) }, gfv)).toBe(false);

    // by batches: each answer is isValidDepositSignature's, whether its batch holds or not
    const valid = entries.map((x) => ({
      pubkey: fromHex(x.pubkey, "pubkey", 48),
      withdrawalCredentials: fromHex(x.withdrawal_credentials, "withdrawal_credentials", 32),
      amount: BigInt(x.amount),
      signature: fromHex(x.signature, "signature", 96),
    }));
    const bad = [
      { ...d, amount: d.amount + 1n },
      { ...d, signature: infinity },
      { ...d, pubkey: new Uint8Array(48).fill(0xff) },
      { ...d, signature: new Uint8Array(95) },
    ];
    const good = Array.from({ length: 70 }, (_, k) => valid[k % valid.length]!);
    const mixed = [...good.slice(0, 40), bad[0]!, ...good.slice(40), ...bad.slice(1)];
    expect(depositSignaturesValid(good, gfv)).toEqual(good.map(() => true));
    expect(depositSignaturesValid(mixed, gfv)).toEqual(mixed.map((x) => isValidDepositSignature(x, gfv)));
    expect(depositSignaturesValid(mixed, gfv).filter((v) => !v)).toHaveLength(4);
    expect(depositSignaturesValid([], gfv)).toEqual([]);
  });
});

describe("buildDepositData input checks", () => {
  const network = loadNetwork("hoodi");
  const sk = signingKey(0);
  const address = parseAddress(ADDRESS, "address");
  const wc1 = withdrawalCredentials({ type: 1, address });
  const wc2 = withdrawalCredentials({ type: 2, address });

  it("0x01 credentials take exactly 32 ETH, naming the amount field", () => {
    expect(() =>
      buildDepositData({
        secretKey: sk,
        withdrawalCredentials: wc1,
        amountGwei: 33n * GWEI_PER_ETH,
        network,
      }),
    ).toThrow(/^amount: 33 ETH is out of range for 0x01 withdrawal credentials \(must be exactly 32 ETH\)$/);
    expect(() =>
      buildDepositData({
        secretKey: sk,
        withdrawalCredentials: wc1,
        amountGwei: 31n * GWEI_PER_ETH,
        network,
      }),
    ).toThrow(/^amount: /);
  });

  it("0x02 credentials take 32 to 2048 ETH (EIP-7251)", () => {
    for (const eth of [32n, 100n, 2048n]) {
      const e = buildDepositData({
        secretKey: sk,
        withdrawalCredentials: wc2,
        amountGwei: eth * GWEI_PER_ETH,
        network,
      });
      expect(e.amount).toBe(Number(eth * GWEI_PER_ETH));
    }
    for (const eth of [31n, 2049n]) {
      expect(() =>
        buildDepositData({
          secretKey: sk,
          withdrawalCredentials: wc2,
          amountGwei: eth * GWEI_PER_ETH,
          network,
        }),
      ).toThrow(/^amount: .*must be from 32 to 2048 ETH/);
    }
  });

  it("defaults deposit_cli_version to one the launchpad accepts, and refuses older ones", () => {
    const e = buildDepositData({
      secretKey: sk,
      withdrawalCredentials: wc1,
      amountGwei: 32n * GWEI_PER_ETH,
      network,
    });
    expect(e.deposit_cli_version).toBe(DEFAULT_DEPOSIT_CLI_VERSION);
    expect(launchpadAcceptsCliVersion(DEFAULT_DEPOSIT_CLI_VERSION)).toBe(true);
    expect(launchpadAcceptsCliVersion("0.9.9")).toBe(false);
    expect(launchpadAcceptsCliVersion("1.0.0-rc.1")).toBe(false);
    expect(launchpadAcceptsCliVersion("1.0.0")).toBe(true);
    expect(() =>
      buildDepositData({
        secretKey: sk,
        withdrawalCredentials: wc1,
        amountGwei: 32n * GWEI_PER_ETH,
        network,
        depositCliVersion: "0.1.0",
      }),
    ).toThrow(/^depositCliVersion: /);
  });

  it("rejects malformed credentials naming the field", () => {
    const bad = new Uint8Array(32);
    bad[0] = 0x03;
    expect(() =>
      buildDepositData({
        secretKey: sk,
        withdrawalCredentials: bad,
        amountGwei: 32n * GWEI_PER_ETH,
        network,
      }),
    ).toThrow(/^withdrawalCredentials: unknown prefix 0x03/);
  });

  it("serializes non-ASCII like Python's json.dumps (ensure_ascii)", () => {
    const e = buildDepositData({
      secretKey: sk,
      withdrawalCredentials: wc1,
      amountGwei: 32n * GWEI_PER_ETH,
      network,
    });
    const text = serializeDepositDataFile([{ ...e, network_name: "hoodié" }]);
    expect(text).toContain('"network_name": "hoodi\\u00e9"');
    expect(serializeDepositDataFile([])).toBe("[]");
  });
});

describe("withdrawal credentials", () => {
  const address = fromHex(ADDRESS, "address", 20);

  it("0x01 / 0x02: prefix, 11 zero bytes, address", () => {
    expect(Buffer.from(withdrawalCredentials({ type: 1, address })).toString("hex")).toBe(
      "010000000000000000000000" + ADDRESS.slice(2),
    );
    expect(Buffer.from(withdrawalCredentials({ type: 2, address })).toString("hex")).toBe(
      "020000000000000000000000" + ADDRESS.slice(2),
    );
  });

  it("0x00: sha256 of the withdrawal pubkey with the first byte replaced", () => {
    const pk = pubkeyFromSecret(withdrawalKey(0));
    const wc = withdrawalCredentials({ type: 0, withdrawalPubkey: pk });
    expect(wc[0]).toBe(0);
    // first reference entry of the 0x00 files
    expect(Buffer.from(wc).toString("hex").slice(0, 4)).toBe("0049");
  });

  it("parses and describes, rejecting junk padding and unknown prefixes", () => {
    const wc = withdrawalCredentials({ type: 2, address });
    const parsed = parseWithdrawalCredentials(wc);
    expect(parsed.type).toBe(2);
    expect(describeWithdrawalCredentials(wc)).toBe(
      `0x02 (compounding, execution address ${toChecksumAddress(address)})`,
    );
    const padded = wc.slice();
    padded[5] = 1;
    expect(() => parseWithdrawalCredentials(padded)).toThrow(/11 zero bytes/);
    const unknown = wc.slice();
    unknown[0] = 0xff;
    expect(() => parseWithdrawalCredentials(unknown)).toThrow(/unknown prefix 0xff/);
    expect(() => withdrawalCredentials({ type: 1, address: new Uint8Array(19) })).toThrow(
      /withdrawalAddress/,
    );
  });
});
