/**
 * readClFigures against beacon-sim over HTTP (minimal preset), Deneb and Fulu chains with pool keys
 * of two operators: an exited and a slashed validator, a key front-run under other credentials, a
 * key not deposited, a validator that joins after the frame, and on Fulu pending deposits (a
 * top-up, a new key with a valid signature, one with a bad signature, a key front-run in the
 * queue, a key whose first deposit was dropped). Figures are checked by hand (balances from the
 * sim's own state), the SSZ and JSON paths give the same figures, and a failing node or a node
 * answering a state of another slot is never the source.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { BeaconNodePool, loadLodestar } from "@poolkeeper/beacon";
import { toHex0x, ValidationError } from "@poolkeeper/core";
import { pubkeyFromSecret } from "@poolkeeper/keys";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ClFigures, type ClFiguresInput, type PoolKey, readClFigures } from "../src/index.js";

type BeaconSimModule = typeof import("@poolkeeper/beacon-sim");
type Sim = Awaited<ReturnType<BeaconSimModule["startBeaconSim"]>>;
type Chain = Sim["chain"];

const ETH = 1_000_000_000;
const S = 8; // minimal preset
const hex = toHex0x;
const wc = (prefix: number, fill: number): Uint8Array =>
  Uint8Array.from([prefix, ...new Array<number>(11).fill(0), ...new Array<number>(20).fill(fill)]);
const POOL_WC = wc(1, 0xaa);
const OTHER_WC = wc(1, 0xbb);

let simModule: BeaconSimModule;
const closers: Array<() => Promise<void>> = [];
beforeAll(async () => {
  await loadLodestar("minimal");
  simModule = await import("@poolkeeper/beacon-sim");
});
afterAll(async () => {
  await Promise.all(closers.map((c) => c()));
});

function poolOf(urls: string[]): Promise<BeaconNodePool> {
  return BeaconNodePool.init({ urls, preset: "minimal", retries: 1, retryBaseMs: 10, timeoutMs: 5000 });
}

/** A deposit of `amount` gwei by the interop key `k`; `bad`: its signature is over another amount. */
function deposit(chain: Chain, k: number, credentials: Uint8Array, amount: number, bad = false) {
  return {
    ...simModule.signedDeposit(chain, k, credentials, bad ? amount + ETH : amount),
    amountGwei: amount,
  };
}

interface Setup {
  sim: Sim;
  refSlot: number;
  frame: { firstEpoch: number; lastEpoch: number };
  keys: PoolKey[];
  /** Pool keys by name, for the expectations. */
  key: Record<string, string>;
}

const REF_EPOCH = 7;

/**
 * 32 genesis validators under the pool's credentials; the pool's keys: validators 0-7 (operator 1)
 * and 8-15 (operator 2); 16-31 are not pool keys. Validator 3 exits (epoch 1), 10 is slashed
 * (epoch 1). Extra keys of operator 2: F (front-run: a validator under other credentials), L (a
 * pool validator added after the frame), U (never deposited); on Fulu N1..N4 (pending deposits).
 */
async function chainWith(fork: "deneb" | "fulu"): Promise<Setup> {
  const sim = await simModule.startBeaconSim({
    validators: 32,
    fork,
    scenario: {
      withdrawalCredentials: hex(POOL_WC),
      exits: [{ validator: 3, epoch: 1 }],
      slashings: [{ validator: 10, epoch: 1 }],
    },
  });
  closers.push(() => sim.close());
  const c = sim.chain;
  const keys: PoolKey[] = [];
  const key: Record<string, string> = {};
  const add = (name: string, pubkey: Uint8Array, operatorId: number, depositGwei = 32n * BigInt(ETH)) => {
    key[name] = hex(pubkey);
    keys.push({ pubkey: hex(pubkey), operatorId, depositGwei });
  };
  for (let i = 0; i < 16; i++) add(`v${i}`, c.pubkeyOf(i), i < 8 ? 1 : 2);
  const F = deposit(c, 100, OTHER_WC, 32 * ETH);
  add("F", F.pubkey, 2);
  add("U", pubkeyFromSecret(simModule.secretKeyOf(101)), 2);
  c.advanceTo(S + 1);
  // the front-runner's deposit: on Deneb a validator at once, on Fulu through pending_deposits
  if (fork === "deneb") c.addValidators([F.pubkey], OTHER_WC);
  else c.requestDeposit(F);
  c.advanceTo((REF_EPOCH - 1) * S + 2);
  if (fork === "fulu") {
    // pending at the ref slot (the queue waits for finality)
    c.addValidators([c.pubkeyOf(5).slice()], undefined, 2 * ETH); // top-up of a pool validator: counts
    c.requestDeposit({ ...deposit(c, 100, POOL_WC, 1 * ETH) }); // top-up of the front-run F: not the pool's
    const n1 = deposit(c, 102, POOL_WC, 32 * ETH);
    add("N1", n1.pubkey, 1);
    c.requestDeposit(n1); // a new key, valid: counts
    const n2 = deposit(c, 103, POOL_WC, 32 * ETH, true);
    add("N2", n2.pubkey, 1);
    c.requestDeposit(n2); // bad signature: dropped
    const n3 = deposit(c, 104, OTHER_WC, 1 * ETH);
    add("N3", n3.pubkey, 2);
    c.requestDeposit(n3); // front-run in the queue: valid, other credentials
    c.requestDeposit(deposit(c, 104, POOL_WC, 31 * ETH)); // then a top-up of the front-runner's
    const n4 = deposit(c, 105, POOL_WC, 1 * ETH, true);
    add("N4", n4.pubkey, 2);
    c.requestDeposit(n4); // dropped (bad signature)...
    c.requestDeposit(deposit(c, 105, POOL_WC, 32 * ETH)); // ...then a valid one creates it: 32 counts
  } else {
    // a pool validator in the state from the last epoch of the frame, not active before its end
    const L = pubkeyFromSecret(simModule.secretKeyOf(106));
    add("L", L, 1);
    c.addValidators([L], POOL_WC);
  }
  c.advanceTo((REF_EPOCH + 4) * S);
  return {
    sim,
    refSlot: (REF_EPOCH + 1) * S - 1,
    frame: { firstEpoch: REF_EPOCH - 2, lastEpoch: REF_EPOCH },
    keys,
    key,
  };
}

function inputOf(s: Setup, path: "ssz" | "json", extra: Partial<ClFiguresInput> = {}): ClFiguresInput {
  return {
    refSlot: s.refSlot,
    frame: s.frame,
    keys: s.keys,
    withdrawalCredentials: hex(POOL_WC),
    path,
    genesisForkVersion: hex(s.sim.chain.config.GENESIS_FORK_VERSION),
    chunkSize: 5,
    ...extra,
  };
}

function withoutSource(f: ClFigures): Omit<ClFigures, "source"> {
  const { source: _, ...rest } = f;
  return rest;
}

const range = (a: number, b: number) => Array.from({ length: b - a }, (_, k) => a + k);

describe.each(["deneb", "fulu"] as const)("readClFigures on %s", (fork) => {
  let s: Setup;
  let pool: BeaconNodePool;
  let ssz: ClFigures;
  let json: ClFigures;

  beforeAll(async () => {
    s = await chainWith(fork);
    pool = await poolOf([s.sim.url]);
    ssz = await readClFigures(pool, inputOf(s, "ssz"));
    json = await readClFigures(pool, inputOf(s, "json"));
  });

  it("counts the pool's validators and nothing else, by hand", () => {
    const c = s.sim.chain;
    const refEpoch = REF_EPOCH;
    const balance = (indices: number[]) => indices.reduce((a, i) => a + BigInt(c.balanceAt(i, refEpoch)), 0n);
    const indexOf = (name: string) => c.indexOfPubkey(Buffer.from((s.key[name] ?? "0x").slice(2), "hex"));
    const lIndex = indexOf("L");
    const fIndex = indexOf("F");
    const inState = (i: number) => i >= 0 && i < c.snapshot(refEpoch)!.n;
    // F is in the state under other credentials (Fulu: its deposit was applied once finalized)
    expect(inState(fIndex)).toBe(true);
    expect(hex(c.withdrawalCredentialsOf(fIndex))).toBe(hex(OTHER_WC));
    expect(ssz.refSlot).toBe(s.refSlot);
    expect(ssz.source).toBe("ssz");
    expect(ssz.fork).toBe(fork);
    // pool validators: 0-15 and L (in the state from the epoch after it was added); F is front-run,
    // U never deposited; on Fulu N1 and N4 are on their way (valid pending deposits)
    const lInState = inState(lIndex);
    expect(lInState).toBe(fork === "deneb");
    const pending = fork === "fulu" ? 2 : 0;
    expect(ssz.clValidators).toBe(16 + (lInState ? 1 : 0) + pending);
    expect(ssz.clDepositedGwei).toBe(BigInt(ssz.clValidators) * 32n * BigInt(ETH));
    const op1 = [...range(0, 8), ...(lInState ? [lIndex] : [])];
    const op2 = range(8, 16);
    expect(ssz.clBalanceGwei).toBe(balance([...op1, ...op2]));
    // the top-up of 5 (2 ETH), N1 (32), N4's valid deposit (32); not F's top-up, N2, N3's two
    expect(ssz.clPendingBalanceGwei).toBe(fork === "fulu" ? 66n * BigInt(ETH) : 0n);
    // 3 exited and 10 was exited by its slashing (exit epoch 1 + 1 + MAX_SEED_LOOKAHEAD = 6 ≤ 7)
    expect(c.validatorAt(3, refEpoch).exitEpoch).toBe(6);
    expect(c.validatorAt(10, refEpoch).exitEpoch).toBe(6);
    expect(ssz.exitedValidators).toBe(2);
    expect(ssz.operators.map((o) => o.operatorId)).toEqual([1, 2]);
    const [o1, o2] = ssz.operators;
    // active in the frame (epochs 5-7): 3 and 10 exit at 6 > 5, so they count; L is not active yet
    expect(o1?.activeIndices).toEqual(range(0, 8));
    expect(o1?.activeValidators).toBe(8);
    expect(o1?.exitedValidators).toBe(1);
    expect(o1?.balanceGwei).toBe(balance(op1));
    expect(o2?.activeIndices).toEqual(range(8, 16));
    expect(o2?.exitedValidators).toBe(1);
    expect(o2?.balanceGwei).toBe(balance(op2));
    expect(ssz.poolSlashed.map((v) => v.index)).toEqual([10]);
    expect(ssz.poolSlashed[0]?.withdrawableEpoch).toBeGreaterThan(refEpoch);
    expect(ssz.poolSlashed[0]?.effectiveBalanceGwei).toBe(
      BigInt(c.validatorAt(10, refEpoch).effectiveBalance),
    );
    // the network: the slashed validator, and every validator active at the ref epoch
    expect(ssz.network.slashedNotWithdrawable.map((v) => v.index)).toEqual([10]);
    let active = 0n;
    for (let i = 0; i < c.snapshot(refEpoch)!.n; i++)
      if (c.isActiveAt(i, refEpoch)) active += BigInt(c.validatorAt(i, refEpoch).effectiveBalance);
    expect(ssz.network.totalActiveBalanceGwei).toBe(active);
    // the pool's active effective balance: 0-15 and L where active at the ref epoch (3 and 10 exited at 6)
    const poolActive = [...op1, ...op2].filter((i) => c.isActiveAt(i, refEpoch));
    expect(poolActive).not.toContain(3);
    expect(ssz.activeEffectiveBalanceGwei).toBe(
      poolActive.reduce((a, i) => a + BigInt(c.validatorAt(i, refEpoch).effectiveBalance), 0n),
    );
    // the ejector's view: 0-15 but 3 and 10 may be asked to exit; 3 and 10 are exiting with their
    // balance still on the consensus layer; L (not active yet) is neither
    expect(ssz.validators.filter((v) => v.exitable).map((v) => v.index)).toEqual(
      range(0, 16).filter((i) => i !== 3 && i !== 10),
    );
    expect(ssz.validators.filter((v) => v.exiting).map((v) => v.index)).toEqual([3, 10]);
    const v9 = ssz.validators.find((v) => v.index === 9);
    expect([v9?.operatorId, v9?.exitable, v9?.exiting]).toEqual([2, true, false]);
    expect(v9?.balanceGwei).toBe(balance([9]));
  });

  it("gives the same figures by the JSON routes", () => {
    expect(json.source).toBe("json");
    expect(withoutSource(json)).toEqual(withoutSource(ssz));
  });

  it("refuses bad input naming the field", async () => {
    const bad: Array<[Partial<ClFiguresInput>, string]> = [
      [{ refSlot: -1 }, "refSlot"],
      [{ withdrawalCredentials: "0x01" }, "withdrawalCredentials"],
      [{ genesisForkVersion: "0x12345678" }, "genesisForkVersion"],
      [{ keys: [...s.keys, s.keys[0]!] }, `keys[${s.keys.length}].pubkey`],
      [{ keys: [{ ...s.keys[0]!, pubkey: s.keys[0]!.pubkey.toUpperCase() }] }, "keys[0].pubkey"],
      [{ keys: [{ ...s.keys[0]!, depositGwei: 32 as unknown as bigint }] }, "keys[0].depositGwei"],
      [{ frame: { firstEpoch: 5, lastEpoch: 4 } }, "frame.lastEpoch"],
    ];
    for (const [patch, field] of bad) {
      const e = await readClFigures(pool, inputOf(s, "ssz", patch)).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(ValidationError);
      expect((e as ValidationError).details?.field).toBe(field);
    }
  });
});

/** A proxy to `target` that answers the state (SSZ) and the state root of `slot` with those of `instead`. */
async function lyingProxy(target: string, slot: number, instead: number): Promise<string> {
  const server: Server = createServer((req, res) => {
    const url = (req.url ?? "/").replace(
      new RegExp(`/states/${slot}(/root)?$`),
      (_m, root: string | undefined) => `/states/${instead}${root ?? ""}`,
    );
    const chunks: Buffer[] = [];
    req.on("data", (d: Buffer) => chunks.push(d));
    req.on("end", () => {
      void fetch(`${target}${url}`, {
        method: req.method,
        headers: Object.fromEntries(
          Object.entries(req.headers).filter(([k]) => k !== "host" && k !== "content-length"),
        ) as Record<string, string>,
        body: chunks.length > 0 ? Buffer.concat(chunks) : undefined,
      }).then(async (r) => {
        res.writeHead(r.status, Object.fromEntries(r.headers));
        res.end(Buffer.from(await r.arrayBuffer()));
      });
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  closers.push(() => new Promise((r) => server.close(() => r())));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe("faults", () => {
  let s: Setup;
  let expected: ClFigures;

  beforeAll(async () => {
    s = await chainWith("fulu");
    expected = await readClFigures(await poolOf([s.sim.url]), inputOf(s, "ssz"));
  });

  it("skips a node answering 5xx and gives the same figures from the next", async () => {
    const second = await simModule.startBeaconSim({ chain: s.sim.chain });
    closers.push(() => second.close());
    // its state and validator reads fail (its health checks pass: it ranks first)
    second.node.addFault({ kind: "error", status: 503, pathContains: "/debug/beacon/states/" });
    second.node.addFault({ kind: "error", status: 503, pathContains: "/validators" });
    const pool = await poolOf([second.url, s.sim.url]);
    for (const path of ["ssz", "json"] as const) {
      const f = await readClFigures(pool, inputOf(s, path));
      expect(withoutSource(f)).toEqual(withoutSource(expected));
    }
    expect(pool.stats().sent[pool.urls[0]!]).toBeGreaterThan(0);
  });

  it("skips a node that never answers (timeout) and gives the same figures from the next", async () => {
    const hung = await simModule.startBeaconSim({ chain: s.sim.chain });
    closers.push(() => hung.close());
    hung.node.addFault({ kind: "timeout", pathContains: "/debug/beacon/states/" });
    hung.node.addFault({ kind: "timeout", pathContains: "/validators" });
    // one node at a time in list order (no hedging): the hung node is asked first every time
    const pool = await BeaconNodePool.init({
      urls: [hung.url, s.sim.url],
      preset: "minimal",
      adaptive: false,
      retries: 1,
      retryBaseMs: 10,
    });
    for (const path of ["ssz", "json"] as const) {
      const f = await readClFigures(pool, inputOf(s, path, { timeoutMs: 300 }));
      expect(withoutSource(f)).toEqual(withoutSource(expected));
    }
    // asked (it ranks first), never the source of an answer to these reads
    const stats = pool.stats();
    const first = pool.urls[0] ?? "";
    expect(stats.sent[first]).toBeGreaterThan(0);
    expect(stats.won[first] ?? 0).toBeLessThan(stats.sent[first] ?? 0);
  });

  it("never takes figures from a state of another slot", async () => {
    const liar = await lyingProxy(s.sim.url, s.refSlot, s.refSlot - S);
    for (const path of ["ssz", "json"] as const) {
      const alone = await readClFigures(await poolOf([liar]), inputOf(s, path)).catch((e: unknown) => e);
      expect(alone).toBeInstanceOf(Error);
      expect(String((alone as Error).message)).toMatch(/slot|state root/);
      // with an honest node beside it, the figures are the honest node's
      const f = await readClFigures(await poolOf([liar, s.sim.url]), inputOf(s, path));
      expect(withoutSource(f)).toEqual(withoutSource(expected));
    }
  });

  it("asks only nodes that finalized the ref slot", async () => {
    const e = await readClFigures(
      await poolOf([s.sim.url]),
      inputOf(s, "ssz", { minFinalizedEpoch: 1000 }),
    ).catch((x: unknown) => x);
    expect((e as { code?: string }).code).toBe("ERR_BEACON_NOT_FINALIZED");
  });
});

describe("a registry the sim streams (more than one network chunk)", () => {
  it("gives the same figures by both paths", async () => {
    const sim = await simModule.startBeaconSim({
      validators: 1200,
      fork: "fulu",
      scenario: { withdrawalCredentials: hex(POOL_WC), slashings: [{ validator: 700, epoch: 1 }] },
    });
    closers.push(() => sim.close());
    sim.chain.advanceTo(6 * S);
    const keys: PoolKey[] = Array.from({ length: 600 }, (_, k) => ({
      pubkey: hex(sim.chain.pubkeyOf(2 * k)),
      operatorId: k % 3,
      depositGwei: 32n * BigInt(ETH),
    }));
    const pool = await poolOf([sim.url]);
    const input = {
      refSlot: 3 * S - 1,
      frame: { firstEpoch: 1, lastEpoch: 2 },
      keys,
      withdrawalCredentials: hex(POOL_WC),
      genesisForkVersion: hex(sim.chain.config.GENESIS_FORK_VERSION),
      chunkSize: 550, // above the sim's STREAM_THRESHOLD: streamed answers too
    };
    const ssz = await readClFigures(pool, { ...input, path: "ssz" });
    const json = await readClFigures(pool, { ...input, path: "json" });
    expect(ssz.clValidators).toBe(600);
    expect(ssz.operators.map((o) => o.activeValidators)).toEqual([200, 200, 200]);
    expect(ssz.poolSlashed.map((v) => v.index)).toEqual([700]);
    expect(withoutSource(json)).toEqual(withoutSource(ssz));
  });
});
