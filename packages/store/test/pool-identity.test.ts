/**
 * Issue 9 §2: the pool's identity (network, withdrawal credentials) is recorded at the first
 * start and never changes; a configuration that disagrees is refused with one line naming both
 * values of every field that differs.
 */
import { fromHex, loadNetwork, toHex0x } from "@poolkeeper/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pinPoolIdentity, poolIdentityOf, readPoolIdentity } from "../src/index.js";
import { createTestStore, TEST_STORE_KINDS, type TestStore } from "../src/testing.js";

const WC = fromHex("010000000000000000000000b9d7934878b5fb9610b3fe8a5e441e8fad7e293f", "wc", 32);
const OTHER_WC = fromHex("0100000000000000000000000f51bb10119727a7e5ea3538074fb341f56b09ad", "wc", 32);
const HOODI = loadNetwork("hoodi");
const SEPOLIA = loadNetwork("sepolia");

describe.each(TEST_STORE_KINDS)("pool identity on %s", (kind) => {
  let store: TestStore;
  beforeAll(async () => {
    store = await createTestStore(kind);
  });
  afterAll(async () => {
    await store?.dispose();
  });

  it("is recorded at the first start and accepted again with the same configuration", async () => {
    expect(await readPoolIdentity(store)).toBeUndefined();
    const first = await pinPoolIdentity(store, poolIdentityOf(HOODI, WC));
    expect(first).toMatchObject({
      networkName: "hoodi",
      depositContractAddress: HOODI.depositContractAddress.toLowerCase(),
      chainId: 560048,
    });
    expect(toHex0x(first.genesisForkVersion)).toBe("0x10000910");
    expect(toHex0x(first.genesisValidatorsRoot!)).toBe(toHex0x(HOODI.genesisValidatorsRoot));
    expect(toHex0x(first.withdrawalCredentials)).toBe(toHex0x(WC));
    const again = await pinPoolIdentity(store, poolIdentityOf(HOODI, WC));
    expect(again.recordedAt).toEqual(first.recordedAt);
    expect(await readPoolIdentity(store)).toEqual(first);
  });

  it("refuses another network with one line naming both", async () => {
    // one line ("." does not match a newline)
    await expect(pinPoolIdentity(store, poolIdentityOf(SEPOLIA, WC))).rejects.toMatchObject({
      code: "ERR_POOL_IDENTITY",
      message: expect.stringMatching(
        /^POOLKEEPER_NETWORK: configured sepolia \(fork 0x90000069, genesis validators root 0xd8ea17[0-9a-f]+, deposit contract 0x7f02c3e3c98b133055b8b348b2ac625669ed295d, chain id 11155111\) but this database belongs to hoodi \(fork 0x10000910, genesis validators root 0x212f13[0-9a-f]+, deposit contract 0x00000000219ab540356cbb839cbe05303d7705fa, chain id 560048\); use the database of that network or a new one$/,
      ),
    });
  });

  it("refuses other withdrawal credentials, and both at once in one line", async () => {
    await expect(pinPoolIdentity(store, poolIdentityOf(HOODI, OTHER_WC))).rejects.toThrow(
      `POOLKEEPER_WITHDRAWAL_CREDENTIALS: configured ${toHex0x(OTHER_WC)} but this database belongs to a pool with ${toHex0x(WC)}; use the database of those credentials or a new one`,
    );
    const flags = { network: "--network", withdrawalCredentials: "--withdrawal-credentials" };
    await expect(pinPoolIdentity(store, poolIdentityOf(SEPOLIA, OTHER_WC), flags)).rejects.toMatchObject({
      message: expect.stringMatching(
        /^--network: configured sepolia \(fork 0x90000069.*\) but this database belongs to hoodi \(fork 0x10000910.*\); --withdrawal-credentials: configured 0x0100+0f51bb.* but this database belongs to a pool with 0x0100+b9d79.*; use the database of that pool or a new one$/,
      ),
      details: { fields: ["--network", "--withdrawal-credentials"] },
    });
  });

  it("a custom network with the same name but another genesis is another network", async () => {
    const fake = { ...HOODI, genesisValidatorsRoot: new Uint8Array(32).fill(0xaa) };
    await expect(pinPoolIdentity(store, poolIdentityOf(fake, WC))).rejects.toThrow(
      `POOLKEEPER_NETWORK: configured hoodi (fork 0x10000910, genesis validators root 0x${"aa".repeat(32)}) but this database belongs to hoodi (fork 0x10000910, genesis validators root ${toHex0x(HOODI.genesisValidatorsRoot)}); use the database of that network or a new one`,
    );
  });

  it("cannot be updated, deleted, truncated or recorded twice", async () => {
    const before = await readPoolIdentity(store);
    await expect(store.query("UPDATE pool_identity SET network_name = 'sepolia'")).rejects.toThrow(
      /pool_identity is append-only: UPDATE is not allowed/,
    );
    await expect(
      store.query("UPDATE pool_identity SET withdrawal_credentials = decode(repeat('00', 32), 'hex')"),
    ).rejects.toThrow(/append-only/);
    await expect(store.query("DELETE FROM pool_identity")).rejects.toThrow(/DELETE is not allowed/);
    await expect(store.query("TRUNCATE pool_identity")).rejects.toThrow(/TRUNCATE is not allowed/);
    await expect(
      store.query(
        `INSERT INTO pool_identity (id, network_name, genesis_fork_version, withdrawal_credentials)
         VALUES (true, 'sepolia', decode('90000069', 'hex'), decode(repeat('01', 32), 'hex'))`,
      ),
    ).rejects.toThrow(/duplicate key|unique/);
    await expect(
      store.query(
        `INSERT INTO pool_identity (id, network_name, genesis_fork_version, withdrawal_credentials)
         VALUES (false, 'sepolia', decode('90000069', 'hex'), decode(repeat('01', 32), 'hex'))`,
      ),
    ).rejects.toThrow(/check constraint/);
    expect(await readPoolIdentity(store)).toEqual(before);
  });
});
