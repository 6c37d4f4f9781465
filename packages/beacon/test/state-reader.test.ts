/**
 * BeaconStateReader against a full @lodestar/types decode of the same bytes: SSZ states served by
 * beacon-sim over HTTP on Deneb, Electra and Fulu chains (the Fulu one with a queued deposit, a
 * queued partial withdrawal, an exiting and an exited validator, so the lists are not empty), and
 * bytes that are not a state of the fork named.
 */
import { toHex0x } from "@poolkeeper/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  BeaconStateReader,
  type EffectiveBalanceScan,
  EffectiveBalanceScanner,
  type Lodestar,
  loadLodestar,
} from "../src/index.js";

type BeaconSimModule = typeof import("@poolkeeper/beacon-sim");
type Sim = Awaited<ReturnType<BeaconSimModule["startBeaconSim"]>>;

const ETH = 1_000_000_000;
const hex = toHex0x;
const wc = (prefix: number, fill: number): Uint8Array =>
  Uint8Array.from([prefix, ...new Array<number>(11).fill(0), ...new Array<number>(20).fill(fill)]);

let lodestar: Lodestar;
let simModule: BeaconSimModule;
const sims: Sim[] = [];
beforeAll(async () => {
  lodestar = await loadLodestar("minimal");
  simModule = await import("@poolkeeper/beacon-sim");
});
afterAll(async () => {
  await Promise.all(sims.map((s) => s.close()));
});

async function sszState(sim: Sim, stateId: string): Promise<{ fork: string; bytes: Uint8Array }> {
  const r = await fetch(`${sim.url}/eth/v2/debug/beacon/states/${stateId}`, {
    headers: { accept: "application/octet-stream" },
  });
  expect(r.status).toBe(200);
  return {
    fork: r.headers.get("eth-consensus-version") ?? "",
    bytes: new Uint8Array(await r.arrayBuffer()),
  };
}

/** A chain of `fork` with a top-up, a partial withdrawal, a full exit (exited by the end) and a queued deposit. */
async function busyChain(fork: "deneb" | "electra" | "fulu"): Promise<Sim> {
  const sim = await simModule.startBeaconSim({
    validators: 16,
    fork,
    scenario: { withdrawalCredentials: hex(wc(2, 0xab)), exits: [{ validator: 9, epoch: 2 }] },
  });
  sims.push(sim);
  const c = sim.chain;
  c.advanceTo(19);
  if (fork !== "deneb") {
    c.requestWithdrawal(4); // a full exit asked by the withdrawal address: exit epoch 7
    c.addValidators([c.pubkeyOf(6).slice()], undefined, 10 * ETH); // a top-up above 32 ETH
  }
  c.advanceTo(5 * 8 + 3);
  if (fork !== "deneb") c.requestWithdrawal(6, { amountGwei: 5 * ETH });
  c.advanceTo(8 * 8 + 3);
  c.addValidators(2, wc(1, 0x66)); // queued as pending deposits from Electra on
  c.advanceTo(9 * 8 + 1);
  return sim;
}

function compare(reader: BeaconStateReader, fork: string, bytes: Uint8Array): void {
  const types = lodestar.types.ssz as unknown as Record<
    string,
    { BeaconState: { deserialize(b: Uint8Array): Record<string, unknown> } }
  >;
  // biome-ignore lint/suspicious/noExplicitAny: the decoded state of a fork, compared field by field
  const full = types[fork]!.BeaconState.deserialize(bytes) as any;
  expect(reader.fork).toBe(fork);
  expect(reader.slot).toBe(full.slot);
  expect(reader.forkVersions()).toEqual(full.fork);
  expect(reader.validatorCount).toBe(full.validators.length);
  full.validators.forEach((v: { pubkey: Uint8Array; effectiveBalance: number }, i: number) => {
    expect(reader.validator(i)).toEqual(v);
    expect(reader.pubkey(i)).toEqual(v.pubkey);
    expect(reader.effectiveBalance(i)).toBe(v.effectiveBalance);
    expect(reader.balance(i)).toBe(full.balances[i]);
    expect(reader.indexOfPubkey(v.pubkey)).toBe(i);
  });
  // the registry read straight from its layout, as one-pass scans do
  const L = reader.registryLayout();
  expect(L.count).toBe(full.validators.length);
  const u64 = (o: number) => L.dataView.getUint32(o, true) + L.dataView.getUint32(o + 4, true) * 2 ** 32;
  full.validators.forEach(
    (v: { pubkey: Uint8Array; effectiveBalance: number; slashed: boolean }, i: number) => {
      const o = L.validatorsStart + i * L.validatorSize;
      expect(L.bytes.subarray(o + L.offset.pubkey, o + L.offset.pubkey + 48)).toEqual(v.pubkey);
      expect(u64(o + L.offset.effectiveBalance)).toBe(v.effectiveBalance);
      expect(L.bytes[o + L.offset.slashed] === 1).toBe(v.slashed);
      expect(u64(L.balancesStart + 8 * i)).toBe(full.balances[i]);
    },
  );
  expect(reader.indexOfPubkey(new Uint8Array(48).fill(7))).toBeUndefined();
  expect(reader.indexOfPubkey(new Uint8Array(47))).toBeUndefined();
  expect(() => reader.validator(full.validators.length)).toThrow(/outside the registry/);
  const epoch = Math.floor(full.slot / 8);
  for (const e of [epoch - 3, epoch, epoch + 1]) {
    const active = full.validators.flatMap((v: { activationEpoch: number; exitEpoch: number }, i: number) =>
      v.activationEpoch <= e && e < v.exitEpoch ? [i] : [],
    );
    expect(Array.from(reader.activeIndices(e))).toEqual(active);
  }
  expect(reader.randaoMixes()).toEqual(full.randaoMixes);
  expect(reader.currentSyncCommittee()).toEqual(full.currentSyncCommittee.pubkeys);
  expect(reader.nextSyncCommittee()).toEqual(full.nextSyncCommittee.pubkeys);
  if (fork === "deneb") {
    expect(reader.pendingDeposits()).toBeNull();
    expect(reader.pendingDepositsLayout()).toBeNull();
    expect(reader.pendingPartialWithdrawals()).toBeNull();
    expect(reader.pendingConsolidations()).toBeNull();
  } else {
    expect(reader.pendingDeposits()).toEqual(
      full.pendingDeposits.map(
        (d: {
          pubkey: Uint8Array;
          withdrawalCredentials: Uint8Array;
          amount: number;
          signature: Uint8Array;
          slot: number;
        }) => ({
          pubkey: hex(d.pubkey),
          withdrawalCredentials: hex(d.withdrawalCredentials),
          amount: BigInt(d.amount),
          signature: hex(d.signature),
          slot: d.slot,
        }),
      ),
    );
    // the same deposits read in place through the layout
    const P = reader.pendingDepositsLayout();
    expect(P?.count).toBe(full.pendingDeposits.length);
    expect(
      Array.from({ length: P?.count ?? 0 }, (_, k) => {
        const o = (P?.start ?? 0) + k * (P?.size ?? 0);
        const at = (f: keyof NonNullable<typeof P>["offset"], n: number) =>
          hex(bytes.subarray(o + (P?.offset[f] ?? 0), o + (P?.offset[f] ?? 0) + n));
        return {
          pubkey: at("pubkey", 48),
          withdrawalCredentials: at("withdrawalCredentials", 32),
          amount: P?.dataView.getBigUint64(o + P.offset.amount, true),
          signature: at("signature", 96),
          slot: Number(P?.dataView.getBigUint64(o + P.offset.slot, true)),
        };
      }),
    ).toEqual(reader.pendingDeposits());
    expect(P?.bytes).toBe(bytes);
    expect(reader.pendingPartialWithdrawals()).toEqual(
      full.pendingPartialWithdrawals.map(
        (w: { validatorIndex: number; amount: bigint; withdrawableEpoch: number }) => ({
          validatorIndex: w.validatorIndex,
          amount: BigInt(w.amount),
          withdrawableEpoch: w.withdrawableEpoch,
        }),
      ),
    );
    expect(reader.pendingConsolidations()).toEqual(full.pendingConsolidations);
  }
  expect(reader.proposerLookahead()).toEqual(fork === "fulu" ? full.proposerLookahead : null);
  // the same effective balances streamed, in chunks that split records and uint64s anywhere
  for (const size of [7, 121, 4096, bytes.length]) {
    const scan = scanInChunks(fork, bytes, size);
    expect(scan.slot).toBe(full.slot);
    expect(scan.validatorCount).toBe(full.validators.length);
    expect([...scan.eth]).toEqual(
      full.validators.map((v: { effectiveBalance: number }) => Math.floor(v.effectiveBalance / ETH)),
    );
  }
}

function scanInChunks(fork: string, bytes: Uint8Array, size: number): EffectiveBalanceScan {
  const s = new EffectiveBalanceScanner(lodestar.types, fork);
  for (let o = 0; o < bytes.length; o += size) s.push(bytes.subarray(o, o + size));
  return s.finish();
}

describe("BeaconStateReader against a full decode", () => {
  for (const fork of ["deneb", "electra", "fulu"] as const) {
    it(`${fork}: every validator, balance, pubkey lookup, mix, sync committee and list of the state`, async () => {
      const sim = await busyChain(fork);
      const { fork: served, bytes } = await sszState(sim, "head");
      expect(served).toBe(fork);
      const reader = new BeaconStateReader(lodestar.types, fork, bytes);
      compare(reader, fork, bytes);
      const c = sim.chain;
      expect(reader.validatorCount).toBe(fork === "deneb" ? 18 : 16); // deneb: deposits applied at once
      // validator 9's voluntary exit has passed: exited at the state's epoch
      expect(reader.validator(9).exitEpoch).toBeLessThanOrEqual(9);
      if (fork !== "deneb") {
        expect(reader.validator(4).exitEpoch).toBe(7);
        expect(reader.effectiveBalance(6)).toBeGreaterThan(32 * ETH);
        expect(reader.pendingDeposits()?.map((d) => d.withdrawalCredentials)).toEqual([
          hex(wc(1, 0x66)),
          hex(wc(1, 0x66)),
        ]);
        expect(reader.pendingPartialWithdrawals()).toEqual([
          {
            validatorIndex: 6,
            amount: 5n * BigInt(ETH),
            withdrawableEpoch: 10 + c.config.MIN_VALIDATOR_WITHDRAWABILITY_DELAY,
          },
        ]);
      }
      if (fork === "fulu")
        expect(reader.proposerLookahead()).toEqual([9, 10].flatMap((e) => Array.from(c.proposersOf(e))));
      // an older state of the same chain
      const old = await sszState(sim, String(3 * 8));
      compare(new BeaconStateReader(lodestar.types, fork, old.bytes), fork, old.bytes);
    });
  }
});

describe("bytes that are not a state of the fork", () => {
  let deneb: Uint8Array;
  let fulu: Uint8Array;
  beforeAll(async () => {
    const d = await simModule.startBeaconSim({ validators: 16, fork: "deneb" });
    const f = await simModule.startBeaconSim({ validators: 16, fork: "fulu" });
    sims.push(d, f);
    d.chain.advanceTo(9);
    f.chain.advanceTo(9);
    deneb = (await sszState(d, "head")).bytes;
    fulu = (await sszState(f, "head")).bytes;
  });

  it("too short for the fork's fixed part", () => {
    expect(() => new BeaconStateReader(lodestar.types, "fulu", fulu.subarray(0, 1000))).toThrow(
      expect.objectContaining({
        code: "ERR_BEACON_INVALID_RESPONSE",
        message: expect.stringMatching(/^fulu state: 1000 bytes, shorter than the fixed part/),
      }),
    );
    expect(() => scanInChunks("fulu", fulu.subarray(0, 1000), 300)).toThrow(
      expect.objectContaining({
        code: "ERR_BEACON_INVALID_RESPONSE",
        message: expect.stringMatching(/^fulu state: 1000 bytes, shorter than the fixed part/),
      }),
    );
  });

  it("streamed: a Deneb state read as Fulu, a truncated one, a registry not of whole records", () => {
    expect(() => scanInChunks("fulu", deneb, 4096)).toThrow(/^fulu state: /);
    expect(() => scanInChunks("deneb", fulu, 4096)).toThrow(/^deneb state: /);
    expect(() => scanInChunks("fulu", fulu.subarray(0, fulu.length - 1), 4096)).toThrow(
      /^fulu state: offsets: \w+ ends past the end/,
    );
    const bytes = fulu.slice();
    const dv = new DataView(bytes.buffer);
    const at = fixedOffsetOf("balances");
    dv.setUint32(at, dv.getUint32(at, true) - 1, true);
    expect(() => scanInChunks("fulu", bytes, 4096)).toThrow(
      /^fulu state: validators: \d+ bytes is not a list of at most \d+ 121-byte records/,
    );
  });

  it("a Deneb state read as Fulu: its offsets do not fit", () => {
    expect(() => new BeaconStateReader(lodestar.types, "fulu", deneb)).toThrow(
      expect.objectContaining({
        code: "ERR_BEACON_INVALID_RESPONSE",
        message: expect.stringMatching(/^fulu state: offsets: /),
      }),
    );
    expect(() => new BeaconStateReader(lodestar.types, "deneb", fulu)).toThrow(/^deneb state: offsets: /);
  });

  it("a truncated state: the last offset points past the end", () => {
    expect(() => new BeaconStateReader(lodestar.types, "fulu", fulu.subarray(0, fulu.length - 1))).toThrow(
      /^fulu state: (offsets|validators|balances)/,
    );
  });

  it("a registry that is not a whole number of validator records", () => {
    // move the balances' offset (the variable field after validators) one byte back
    const bytes = fulu.slice();
    const ssz = lodestar.types.ssz.fulu.BeaconState;
    const names = ssz.fieldsEntries.filter((f) => f.fieldType.fixedSize === null).map((f) => f.fieldName);
    const balancesAt = fixedOffsetOf("balances");
    expect(names.indexOf("balances")).toBe(names.indexOf("validators") + 1);
    const dv = new DataView(bytes.buffer);
    dv.setUint32(balancesAt, dv.getUint32(balancesAt, true) - 1, true);
    expect(() => new BeaconStateReader(lodestar.types, "fulu", bytes)).toThrow(
      /^fulu state: validators: \d+ bytes is not a list of at most \d+ 121-byte records/,
    );
  });

  it("a fork it does not know", () => {
    expect(() => new BeaconStateReader(lodestar.types, "capella", deneb)).toThrow(
      /fork "capella" is not one of deneb, electra, fulu/,
    );
  });
});

/** Where a Fulu state's fixed part holds the offset of variable field `name`. */
function fixedOffsetOf(name: string): number {
  const ssz = lodestar.types.ssz.fulu.BeaconState;
  return ssz.fieldsEntries
    .slice(
      0,
      ssz.fieldsEntries.findIndex((f) => f.fieldName === name),
    )
    .reduce((o, f) => o + (f.fieldType.fixedSize ?? 4), 0);
}
