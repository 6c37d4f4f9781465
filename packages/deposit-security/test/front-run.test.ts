/**
 * checkBatchKeys against beacon-sim over HTTP (minimal preset), Deneb and Fulu. One batch holds a
 * key of every kind: clean keys; a key already a validator under other credentials (finalized);
 * a key that is already the pool's validator; a key front-run after the finalized block (Deneb:
 * a validator in the head state only; Fulu: a pending deposit in the head state's queue only);
 * and on Fulu a foreign deposit with an invalid signature (dropped: the key stays clean), a top-up
 * with an invalid signature to the pool's validator (counted, harmless), and a deposit the
 * execution layer has that no block carries yet.
 */
import { BeaconNodePool, loadLodestar } from "@poolkeeper/beacon";
import { toHex0x, ValidationError } from "@poolkeeper/core";
import { pubkeyFromSecret } from "@poolkeeper/keys";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  assertBatchClean,
  type BatchCheck,
  type BatchCheckInput,
  checkBatchKeys,
  finalizedStateCache,
  type KeyCheck,
  simDepositLog,
} from "../src/index.js";

type BeaconSimModule = typeof import("@poolkeeper/beacon-sim");
type Sim = Awaited<ReturnType<BeaconSimModule["startBeaconSim"]>>;
type Chain = Sim["chain"];

const ETH = 1_000_000_000;
const S = 8; // minimal preset
const hex = toHex0x;
const wc = (fill: number): Uint8Array =>
  Uint8Array.from([1, ...new Array<number>(11).fill(0), ...new Array<number>(20).fill(fill)]);
const POOL_WC = wc(0xaa);
const OTHER_WC = wc(0xbb);

let sim: BeaconSimModule;
const closers: Array<() => Promise<void>> = [];
beforeAll(async () => {
  await loadLodestar("minimal");
  sim = await import("@poolkeeper/beacon-sim");
});
afterAll(async () => {
  await Promise.all(closers.map((c) => c()));
});

/** A deposit by interop key `k`; `bad`: its signature is over another amount. */
function deposit(chain: Chain, k: number, credentials: Uint8Array, amount: number, bad = false) {
  return { ...sim.signedDeposit(chain, k, credentials, bad ? amount + ETH : amount), amountGwei: amount };
}
const pubkeyOf = (k: number) => hex(pubkeyFromSecret(sim.secretKeyOf(k)));

/** The interop key number of each key of the batch, by name. */
const KEYS = { clean1: 200, clean2: 201, validator: 100, pool: 101, headOnly: 102, badSig: 103, elOnly: 104 };
type Name = keyof typeof KEYS;

interface Setup {
  s: Sim;
  beacon: BeaconNodePool;
  input: BatchCheckInput;
}

async function chainWith(fork: "deneb" | "fulu"): Promise<Setup> {
  const s = await sim.startBeaconSim({
    validators: 32,
    fork,
    scenario: { withdrawalCredentials: hex(POOL_WC) },
  });
  closers.push(() => s.close());
  const c = s.chain;
  c.advanceTo(S + 1);
  // deposited long ago: a validator under other credentials, and one of the pool's
  if (fork === "deneb") {
    c.addValidators([pubkeyFromSecret(sim.secretKeyOf(KEYS.validator))], OTHER_WC);
    c.addValidators([pubkeyFromSecret(sim.secretKeyOf(KEYS.pool))], POOL_WC);
  } else {
    c.requestDeposit(deposit(c, KEYS.validator, OTHER_WC, 32 * ETH));
    c.requestDeposit(deposit(c, KEYS.pool, POOL_WC, 32 * ETH));
  }
  c.advanceTo(10 * S + 3);
  // after the finalized block: only the head state shows these
  if (fork === "deneb") c.addValidators([pubkeyFromSecret(sim.secretKeyOf(KEYS.headOnly))], OTHER_WC);
  else {
    c.requestDeposit(deposit(c, KEYS.headOnly, OTHER_WC, 1 * ETH));
    c.requestDeposit(deposit(c, KEYS.badSig, OTHER_WC, 1 * ETH, true)); // dropped: invalid signature
    c.requestDeposit(deposit(c, KEYS.pool, OTHER_WC, 1 * ETH, true)); // a top-up: counted whatever its signature
  }
  c.advanceTo(12 * S + 2);
  // the execution layer has it, no block carries it yet
  if (fork === "fulu") c.requestDeposit(deposit(c, KEYS.elOnly, OTHER_WC, 1 * ETH));
  const beacon = await BeaconNodePool.init({
    urls: [s.url],
    preset: "minimal",
    retries: 1,
    retryBaseMs: 10,
    timeoutMs: 5000,
  });
  const input: BatchCheckInput = {
    keys: Object.entries(KEYS).map(([, k], i) => ({
      keyId: 1000 + i,
      pubkey: pubkeyOf(k),
      withdrawalCredentials: hex(POOL_WC),
    })),
    poolWithdrawalCredentials: hex(POOL_WC),
    genesisForkVersion: hex(c.config.GENESIS_FORK_VERSION),
  };
  return { s, beacon, input };
}

const keyOf = (r: BatchCheck, name: Name): KeyCheck => {
  const k = r.keys.find((x) => x.pubkey === pubkeyOf(KEYS[name]));
  if (k === undefined) throw new Error(`no ${name}`);
  return k;
};

describe.each(["deneb", "fulu"] as const)("checkBatchKeys on %s", (fork) => {
  let setup: Setup;
  let r: BatchCheck;

  beforeAll(async () => {
    setup = await chainWith(fork);
    r = await checkBatchKeys(setup.beacon, setup.input, simDepositLog(setup.s.url));
  });

  it("reads the finalized block's state and the head's, and says which", () => {
    const c = setup.s.chain;
    const fin = c.currentFinality().finalized;
    expect(r.slot).toBe(c.headSlot);
    expect(r.blockRoot).toBe(hex(c.blockRootAtOrBefore(c.headSlot)));
    expect(r.states.head).toMatchObject({ slot: c.headSlot, blockRoot: r.blockRoot, fork });
    expect(r.states.head.stateRoot).toBe(hex(c.stateRootAt(c.headSlot)));
    expect(r.states.finalized.blockRoot).toBe(hex(fin.root));
    expect(r.states.finalized.slot).toBeLessThanOrEqual(c.startSlot(fin.epoch));
    expect(r.states.finalized.slot).toBeGreaterThan(S);
    // before the head-only deposits (slot 10 × S + 3 on)
    expect(r.states.finalized.slot).toBeLessThanOrEqual(10 * S);
    expect(r.execution?.fromSlot).toBe(r.states.finalized.slot + 1);
    expect(r.keys.map((k) => k.keyId)).toEqual(Object.keys(KEYS).map((_, i) => 1000 + i));
  });

  it("finds nothing for clean keys", () => {
    for (const name of ["clean1", "clean2"] as const) {
      const k = keyOf(r, name);
      expect(k.verdict).toBe("clean");
      expect(k.evidence).toEqual([]);
      expect(k.decisive).toBeNull();
    }
  });

  it("a key already a validator under other credentials: front-run, in both states", () => {
    const k = keyOf(r, "validator");
    expect(k.verdict).toBe("front_run");
    const index = setup.s.chain.indexOfPubkey(Buffer.from(k.pubkey.slice(2), "hex"));
    expect(k.evidence.map((e) => [e.view, e.source, e.effect, e.validatorIndex])).toEqual([
      ["finalized", "validator", "validator", index],
      ["head", "validator", "validator", index],
    ]);
    expect(k.decisive).toMatchObject({
      view: "finalized",
      credentials: hex(OTHER_WC),
      poolCredentials: false,
      slot: r.states.finalized.slot,
      signatureValid: null,
    });
    expect(k.decisive?.amountGwei).toBe(
      BigInt(setup.s.chain.balanceAt(index, setup.s.chain.epochOf(r.states.finalized.slot))),
    );
  });

  it("a key that is the pool's validator already: pool_deposited; a top-up with a bad signature counts", () => {
    const k = keyOf(r, "pool");
    expect(k.verdict).toBe("pool_deposited");
    expect(k.decisive).toMatchObject({ view: "finalized", source: "validator", poolCredentials: true });
    if (fork === "fulu") {
      const topUp = k.evidence.filter((e) => e.source === "pending_deposit");
      expect(topUp.map((e) => [e.view, e.effect, e.signatureValid, e.credentials, e.amountGwei])).toEqual([
        ["head", "top_up", false, hex(OTHER_WC), BigInt(ETH)],
      ]);
    }
  });

  it("a key front-run after the finalized block is caught at head before it is final", () => {
    const k = keyOf(r, "headOnly");
    expect(k.verdict).toBe("front_run");
    expect(k.evidence.every((e) => e.view === "head")).toBe(true);
    if (fork === "deneb")
      expect(k.decisive).toMatchObject({ source: "validator", credentials: hex(OTHER_WC) });
    else {
      expect(k.decisive).toMatchObject({
        source: "pending_deposit",
        effect: "creates_validator",
        signatureValid: true,
        credentials: hex(OTHER_WC),
        poolCredentials: false,
      });
      expect(k.decisive?.amountGwei).toBe(BigInt(ETH));
      expect(k.decisive?.slot).toBeGreaterThan(r.states.finalized.slot);
      expect(k.decisive?.slot).toBeLessThanOrEqual(r.slot);
    }
  });

  it("a foreign deposit with an invalid signature does not count (fulu)", () => {
    const k = keyOf(r, "badSig");
    expect(k.verdict).toBe("clean");
    if (fork === "fulu")
      expect(k.evidence.map((e) => [e.view, e.source, e.effect, e.signatureValid])).toEqual([
        ["head", "pending_deposit", "dropped", false],
      ]);
    else expect(k.evidence).toEqual([]);
  });

  it("an execution-layer deposit no block carries yet is caught (fulu)", () => {
    const k = keyOf(r, "elOnly");
    if (fork === "deneb") {
      expect(k.verdict).toBe("clean");
      expect(r.execution).toEqual({ fromSlot: r.states.finalized.slot + 1, deposits: 0, beyondHead: 0 });
      return;
    }
    expect(k.verdict).toBe("front_run");
    expect(k.evidence).toEqual([
      {
        source: "el_deposit",
        view: "execution",
        slot: null,
        validatorIndex: null,
        depositIndex: null,
        credentials: hex(OTHER_WC),
        poolCredentials: false,
        amountGwei: BigInt(ETH),
        signatureValid: true,
        effect: "creates_validator",
      },
    ]);
    // the log's deposits that the head state holds are not evidence twice
    expect(r.execution?.beyondHead).toBe(1);
    expect(r.execution?.deposits).toBeGreaterThan(1);
  });

  it("without the execution layer's log that key passes: the log is what catches it", async () => {
    const without = await checkBatchKeys(setup.beacon, setup.input);
    expect(without.execution).toBeNull();
    expect(keyOf(without, "elOnly").verdict).toBe("clean");
    expect(without.counts).toEqual({
      ...r.counts,
      ...(fork === "fulu" ? { clean: r.counts.clean + 1, front_run: r.counts.front_run - 1 } : {}),
    });
  });

  it("ok only when every key is clean; assertBatchClean refuses the batch with the evidence", async () => {
    expect(r.ok).toBe(false);
    expect(r.counts).toEqual({
      clean: fork === "fulu" ? 3 : 4,
      front_run: fork === "fulu" ? 3 : 2,
      pool_deposited: 1,
    });
    const e = (() => {
      try {
        assertBatchClean(r);
      } catch (x) {
        return x as {
          code: string;
          details: { keys: Array<{ keyId: number; verdict: string; evidence: { amountGwei: string } }> };
        };
      }
    })();
    expect(e?.code).toBe("ERR_DEPOSIT_KEYS_NOT_CLEAN");
    expect(e?.details.keys.map((k) => k.verdict).sort()).toEqual(
      r.keys
        .filter((k) => k.verdict !== "clean")
        .map((k) => k.verdict)
        .sort(),
    );
    expect(typeof e?.details.keys[0]?.evidence.amountGwei).toBe("string");
    const clean = await checkBatchKeys(
      setup.beacon,
      {
        ...setup.input,
        keys: setup.input.keys.filter((k) =>
          [pubkeyOf(KEYS.clean1), pubkeyOf(KEYS.clean2)].includes(k.pubkey),
        ),
      },
      simDepositLog(setup.s.url),
    );
    expect(clean.ok).toBe(true);
    expect(() => assertBatchClean(clean)).not.toThrow();
  });
});

describe("refusals", () => {
  let setup: Setup;
  beforeAll(async () => {
    setup = await chainWith("fulu");
  });

  it("bad input: a ValidationError naming the field, before any request", async () => {
    const { input } = setup;
    const k0 = input.keys[0]!;
    const cases: Array<[Partial<BatchCheckInput>, string]> = [
      [{ keys: [] }, "keys"],
      [{ keys: [k0, { ...k0, keyId: 7 }] }, "keys[1].pubkey"],
      [{ keys: [k0, { ...input.keys[1]!, keyId: k0.keyId }] }, "keys[1].keyId"],
      [{ keys: [{ ...k0, pubkey: "0x12" }] }, "keys[0].pubkey"],
      [{ keys: [{ ...k0, withdrawalCredentials: hex(OTHER_WC) }] }, "keys[0].withdrawalCredentials"],
      [{ poolWithdrawalCredentials: "0x01" }, "poolWithdrawalCredentials"],
      [{ genesisForkVersion: "0x12345678" }, "genesisForkVersion"],
    ];
    const sent = () => setup.beacon.stats().sent[setup.beacon.urls[0]!] ?? 0;
    const before = sent();
    for (const [patch, field] of cases) {
      const e = await checkBatchKeys(setup.beacon, { ...input, ...patch }).catch((x: unknown) => x);
      expect(e, field).toBeInstanceOf(ValidationError);
      expect((e as ValidationError).details?.field).toBe(field);
    }
    expect(sent()).toBe(before);
  });

  it("an execution layer that cannot be read fails the check (ERR_DEPOSIT_LOG_UNAVAILABLE), never a pass without it", async () => {
    const dead = simDepositLog("http://127.0.0.1:9", { timeoutMs: 1000 });
    const e = await checkBatchKeys(setup.beacon, setup.input, dead).catch((x: unknown) => x);
    expect((e as { code?: string }).code).toBe("ERR_DEPOSIT_LOG_UNAVAILABLE");
    const lying = {
      depositsFrom: async () => [
        {
          pubkey: "0x12",
          withdrawalCredentials: hex(POOL_WC),
          amountGwei: 1n,
          signature: "0x",
          index: null,
          slot: null,
        },
      ],
    } as unknown as Parameters<typeof checkBatchKeys>[2];
    const e2 = await checkBatchKeys(setup.beacon, setup.input, lying).catch((x: unknown) => x);
    expect((e2 as { code?: string }).code).toBe("ERR_DEPOSIT_LOG_UNAVAILABLE");
    expect((e2 as { details?: { field?: string } }).details?.field).toBe("deposits[0].pubkey");
  });
});

describe("the finalized state kept between checks", () => {
  it("is downloaded once per finalized block; the verdicts are those of a fresh read, also after finality moves", async () => {
    const setup = await chainWith("fulu");
    const el = simDepositLog(setup.s.url);
    const cache = finalizedStateCache();
    const strip = (r: BatchCheck) => r.keys.map((k) => [k.keyId, k.verdict, k.evidence.length]);
    const fresh1 = await checkBatchKeys(setup.beacon, setup.input, el);
    const a = await checkBatchKeys(setup.beacon, setup.input, el, { finalizedCache: cache });
    // another batch (half the keys) at the same finalized block: no second download
    const half = { ...setup.input, keys: setup.input.keys.slice(0, 4) };
    const b = await checkBatchKeys(setup.beacon, half, el, { finalizedCache: cache });
    expect(cache.reads).toBe(1);
    expect(strip(a)).toEqual(strip(fresh1));
    expect(strip(b)).toEqual(strip(await checkBatchKeys(setup.beacon, half, el)));
    expect(a.states.finalized).toEqual(fresh1.states.finalized);
    // finality moves: the new finalized state is read, and agrees with a fresh read
    setup.s.chain.advanceTo(setup.s.chain.headSlot + 3 * S);
    const c = await checkBatchKeys(setup.beacon, setup.input, el, { finalizedCache: cache });
    expect(cache.reads).toBe(2);
    const fresh2 = await checkBatchKeys(setup.beacon, setup.input, el);
    expect(c.states.finalized.slot).toBeGreaterThan(a.states.finalized.slot);
    expect(strip(c)).toEqual(strip(fresh2));
    expect(c.states.finalized).toEqual(fresh2.states.finalized);
  });
});
