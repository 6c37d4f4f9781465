import { fromHex, loadNetwork, toHex } from "@poolkeeper/core";
import { describe, expect, it } from "vitest";
import {
  bls,
  blsImplementation,
  computeDepositDomain,
  computeDomain,
  computeForkDataRoot,
  computeSigningRoot,
  computeVoluntaryExitDomain,
  DepositMessage,
  pubkeyFromSecret,
  signRoot,
  ZERO_ROOT,
} from "../src/index.js";

// Vectors from ethstaker-deposit-cli / staking-deposit-cli tests/test_utils/test_ssz.py.
const FORK_12 = new Uint8Array(4).fill(0x12);

describe("BLS backend", () => {
  it("is the native blst binding", () => {
    expect(blsImplementation()).toBe("blst-native");
    expect(bls.implementation).toBe("blst-native");
  });
});

describe("domains and signing roots (deposit CLI vectors)", () => {
  it("compute_deposit_domain(0x12121212)", () => {
    expect(toHex(computeDepositDomain(FORK_12))).toBe(
      "030000000d66608af557f4fadbfce248ac37f6e7639ce371100c43d15aad05cb",
    );
  });

  it("compute_deposit_fork_data_root(0x12121212)", () => {
    expect(toHex(computeForkDataRoot(FORK_12, ZERO_ROOT))).toBe(
      "0d66608af557f4fadbfce248ac37f6e7639ce371100c43d15aad05cb08ac1dc2",
    );
  });

  it("compute_signing_root(DepositMessage(0x12.., 0x12.., 100), 0x12 * 32)", () => {
    const root = DepositMessage.hashTreeRoot({
      pubkey: new Uint8Array(48).fill(0x12),
      withdrawalCredentials: new Uint8Array(32).fill(0x12),
      amount: 100n,
    });
    expect(toHex(computeSigningRoot(root, new Uint8Array(32).fill(0x12)))).toBe(
      "67a3330ff87bdb46bb7b80ca7a641e398d6ac4e87a6856527cacc829fb61896f",
    );
  });

  it("rejects wrong lengths like the reference (fork version 3 or 5 bytes, domain 31 or 33)", () => {
    expect(() => computeDepositDomain(new Uint8Array(3))).toThrow(/fork_version: must be 4 bytes/);
    expect(() => computeDepositDomain(new Uint8Array(5))).toThrow(/fork_version: must be 4 bytes/);
    expect(() => computeSigningRoot(new Uint8Array(32), new Uint8Array(31))).toThrow(/domain/);
    expect(() => computeSigningRoot(new Uint8Array(32), new Uint8Array(33))).toThrow(/domain/);
  });

  it("the deposit domain depends on the genesis fork version only", () => {
    const mainnet = loadNetwork("mainnet");
    const hoodi = loadNetwork("hoodi");
    expect(toHex(computeDepositDomain(mainnet.genesisForkVersion))).not.toBe(
      toHex(computeDepositDomain(hoodi.genesisForkVersion)),
    );
    expect(computeDepositDomain(mainnet.genesisForkVersion)).toEqual(
      computeDomain(fromHex("03000000", "d"), fromHex("00000000", "f"), new Uint8Array(32)),
    );
  });

  it("the exit domain uses the Capella fork version and the genesis validators root", () => {
    const mainnet = loadNetwork("mainnet");
    const d = computeVoluntaryExitDomain(mainnet.capellaForkVersion, mainnet.genesisValidatorsRoot);
    expect(toHex(d.subarray(0, 4))).toBe("04000000");
    expect(toHex(d)).not.toBe(toHex(computeVoluntaryExitDomain(mainnet.capellaForkVersion, ZERO_ROOT)));
  });
});

describe("secret keys", () => {
  it("derives the public key and signs", () => {
    const sk = fromHex("000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f", "sk", 32);
    const pk = pubkeyFromSecret(sk);
    expect(pk).toHaveLength(48);
    const msg = new Uint8Array(32).fill(7);
    expect(bls.verify(pk, msg, signRoot(sk, msg))).toBe(true);
  });

  it("rejects a zero or too-large secret key without echoing it", () => {
    const big = new Uint8Array(32).fill(0xff);
    for (const sk of [new Uint8Array(32), big, new Uint8Array(31)]) {
      let message = "";
      try {
        pubkeyFromSecret(sk);
      } catch (e) {
        message = (e as Error).message;
      }
      expect(message).toMatch(/^secretKey: /);
      expect(message).not.toContain("ffff");
    }
  });
});
