import { createLogger, loadNetwork } from "@poolkeeper/core";
import { fundPool, keysWei } from "@poolkeeper/ledger/testing";
import { createTestStore, TEST_STORE_KINDS, type TestStore } from "@poolkeeper/store/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DepositDataFailure, Registry, toDepositDataJson } from "../src/index.js";
import { depositData, POOL_WC, SETTINGS } from "./fixtures.js";

const REWARD = "0x0f51bb10119727a7e5ea3538074fb341f56b09ad";

async function failuresOf(p: Promise<unknown>): Promise<DepositDataFailure[]> {
  const e = (await p.then(
    () => undefined,
    (err: unknown) => err,
  )) as { code?: string; details?: { failures?: DepositDataFailure[] } } | undefined;
  expect(e?.code).toBe("ERR_INVALID_DEPOSIT_DATA");
  return e?.details?.failures ?? [];
}

describe.each(TEST_STORE_KINDS)("registry on %s", (kind) => {
  let store: TestStore;
  let registry: Registry;
  let seq = 0;
  const nextOperator = (extra: Record<string, unknown> = {}) =>
    registry.createOperator({ name: `op-${kind}-${++seq}`, rewardAddress: REWARD, ...extra }, "test:admin");

  beforeAll(async () => {
    store = await createTestStore(kind);
    // every batch is paid from the pool's buffer: stake enough for all of this file's batches
    registry = new Registry({ store, payer: await fundPool(store, keysWei(100)) }, SETTINGS);
  });
  afterAll(async () => {
    await store?.dispose();
  });

  const keyCount = async () =>
    Number((await store.query<{ n: bigint }>("SELECT count(*) AS n FROM keys")).rows[0]!.n);

  it("creates, lists and updates operators with checked input and an audit trail", async () => {
    const op = await nextOperator({ vettedLimit: 5, targetLimit: { limit: 10, mode: "soft" } });
    expect(op).toMatchObject({
      rewardAddress: "0x0f51bb10119727a7e5eA3538074fb341F56B09Ad",
      active: true,
      vettedLimit: 5,
    });
    expect(op.targetLimit).toEqual({ limit: 10, mode: "soft" });
    expect(op.keys.total).toBe(0);
    await expect(
      nextOperator({ rewardAddress: "0x0F51bB10119727a7e5eA3538074fb341F56B09AD" }),
    ).rejects.toThrow(/rewardAddress: .*EIP-55/);
    await expect(
      registry.createOperator({ name: op.name, rewardAddress: REWARD }, "a"),
    ).rejects.toMatchObject({ code: "ERR_CONFLICT" });
    await expect(nextOperator({ vettedLimit: -1 })).rejects.toThrow(/^vettedLimit:/);
    await expect(nextOperator({ targetLimit: { limit: 1, mode: "firm" } })).rejects.toThrow(
      /targetLimit.mode/,
    );
    await expect(registry.getOperator(999_999)).rejects.toMatchObject({ code: "ERR_NOT_FOUND" });

    const updated = await registry.updateOperator(
      op.id,
      { active: false, targetLimit: null },
      "test:dao",
      "paused",
    );
    expect(updated).toMatchObject({ active: false, targetLimit: null });
    expect((await registry.listOperators()).some((o) => o.id === op.id && !o.active)).toBe(true);
    const audit = await registry.listAudit({ target: `operator:${op.id}` });
    expect(audit.map((a) => a.action)).toEqual(["operator.update", "operator.create"]);
    expect(audit[0]).toMatchObject({ actor: "test:dao", reason: "paused" });
    expect(audit[0]!.before).toMatchObject({ active: true, targetLimit: { limit: 10, mode: "soft" } });
    expect(audit[0]!.after).toMatchObject({ active: false, targetLimit: null });
  });

  it("uploads valid deposit data all at once, in upload order, with history", async () => {
    const op = await nextOperator();
    const data = depositData(0, 5);
    const r = await registry.uploadKeys(op.id, JSON.parse(JSON.stringify(data)), "test:operator");
    expect(r.count).toBe(5);
    expect(r.lastKeyId - r.firstKeyId).toBe(4);
    const keys = [];
    for await (const k of registry.streamKeys({ operatorId: op.id })) keys.push(k);
    expect(keys.map((k) => toDepositDataJson(k.depositData))).toEqual(data);
    expect(keys.every((k) => k.state === "submitted")).toBe(true);
    const one = await registry.getKey(`0x${data[2]!.pubkey}`);
    expect(one.history).toMatchObject([{ fromState: null, toState: "submitted", actor: "test:operator" }]);
  });

  it("refuses a whole upload with every bad entry named, storing nothing", async () => {
    const op = await nextOperator();
    const other = await nextOperator();
    await registry.uploadKeys(other.id, depositData(100, 1), "t");
    const before = await keyCount();

    const good = depositData(110, 2);
    const wrongNetwork = depositData(111, 1, { network: loadNetwork("mainnet") })[0]!;
    const wrongWc = depositData(112, 1, {
      wc: new Uint8Array(32).fill(0).map((_, i) => (i === 0 ? 1 : i === 31 ? 7 : 0)),
    })[0]!;
    const badSig = { ...depositData(113, 1)[0]!, signature: depositData(114, 1)[0]!.signature };
    const badAmount = { ...depositData(115, 1)[0]!, amount: 31_000_000_000 };
    const upload = [
      good[0],
      wrongNetwork,
      wrongWc,
      badSig,
      badAmount,
      good[0], // duplicate in the upload
      depositData(100, 1)[0], // known for another operator
      { ...good[1], pubkey: "zz" },
      { ...depositData(116, 1)[0]!, deposit_data_root: "00".repeat(32) },
      { ...depositData(117, 1)[0]!, signature: undefined },
      42,
      { ...depositData(118, 1)[0]!, deposit_cli_version: "0.9.0" },
    ];
    const failures = await failuresOf(registry.uploadKeys(op.id, upload, "t"));
    const by = (i: number) => failures.filter((f) => f.index === i).map((f) => `${f.field}: ${f.reason}`);
    expect(by(0)).toEqual([]);
    expect(by(1).join("\n")).toMatch(/fork_version/);
    expect(by(2).join("\n")).toMatch(/withdrawal_credentials: .* is not the expected/);
    expect(by(3).join("\n")).toMatch(/signature: does not verify|deposit_data_root/);
    expect(by(4).join("\n")).toMatch(/amount: 31000000000 gwei: the pool deposits exactly 32 ETH/);
    expect(by(5).join("\n")).toMatch(/pubkey: duplicate of entry 0/);
    expect(by(6)).toEqual(["pubkey: is already registered for another operator"]);
    expect(by(7).join("\n")).toMatch(/pubkey: /);
    expect(by(8).join("\n")).toMatch(/deposit_data_root: does not match/);
    expect(by(9)).toContain("signature: is missing");
    expect(by(10)).toEqual(["entry: must be a JSON object"]);
    expect(by(11).join("\n")).toMatch(/deposit_cli_version/);
    expect(await keyCount()).toBe(before);

    await expect(registry.uploadKeys(op.id, { not: "an array" }, "t")).rejects.toMatchObject({
      code: "ERR_INVALID_DEPOSIT_DATA",
      details: { failures: [{ index: -1, field: "file" }] },
    });
    await expect(registry.uploadKeys(op.id, [], "t")).rejects.toMatchObject({
      code: "ERR_INVALID_DEPOSIT_DATA",
    });
    await expect(registry.uploadKeys(999_999, good, "t")).rejects.toMatchObject({ code: "ERR_NOT_FOUND" });
    // Re-upload of own keys is refused too.
    await registry.uploadKeys(op.id, good, "t");
    const again = await failuresOf(registry.uploadKeys(op.id, good, "t"));
    expect(again[0]?.reason).toMatch(/already registered for this operator/);
  });

  it("vets in upload order within the vetted limit, unvets when lowered, refuses below deposited", async () => {
    const op = await nextOperator();
    await registry.uploadKeys(op.id, depositData(200, 6), "t");
    let o = await registry.updateOperator(op.id, { vettedLimit: 4 }, "test:dao", "vote 12");
    expect(o.keys).toMatchObject({ submitted: 2, vetted: 4 });
    const states = async () => {
      const s: string[] = [];
      for await (const k of registry.streamKeys({ operatorId: op.id })) s.push(k.state);
      return s;
    };
    expect(await states()).toEqual(["vetted", "vetted", "vetted", "vetted", "submitted", "submitted"]);
    o = await registry.updateOperator(op.id, { vettedLimit: 2 }, "test:dao");
    expect(await states()).toEqual(["vetted", "vetted", "submitted", "submitted", "submitted", "submitted"]);
    await registry.uploadKeys(op.id, depositData(206, 1), "t");
    o = await registry.updateOperator(op.id, { vettedLimit: 10 }, "test:dao");
    expect(o.keys).toMatchObject({ vetted: 7, submitted: 0 });
    // Deposit 3 of them, then try to lower below 3.
    await registry.updateOperator(op.id, {}, "t");
    const batch = await allocateFrom(op.id, 3);
    expect(batch).toHaveLength(3);
    await expect(registry.updateOperator(op.id, { vettedLimit: 2 }, "test:dao")).rejects.toMatchObject({
      code: "ERR_LIMIT_BELOW_DEPOSITED",
      details: { deposited: 3 },
    });
    o = await registry.updateOperator(op.id, { vettedLimit: 3 }, "test:dao");
    expect(o.keys).toMatchObject({ vetted: 0, deposited: 3, submitted: 4 });
    const audit = await registry.listAudit({ target: `operator:${op.id}` });
    expect(audit.some((a) => a.action === "keys.vet" && a.actor === "test:dao")).toBe(true);
    expect(audit.some((a) => a.action === "keys.unvet")).toBe(true);
    // vetKeys vets keys uploaded after the limit was raised.
    await registry.updateOperator(op.id, { vettedLimit: 5 }, "test:dao");
    expect((await registry.getOperator(op.id)).keys.vetted).toBe(2);
  });

  /** Deactivate every other operator, allocate n from this one, reactivate. */
  async function allocateFrom(operatorId: number, n: number) {
    const others = (await registry.listOperators()).filter((o) => o.id !== operatorId && o.active);
    for (const o of others) await registry.updateOperator(o.id, { active: false }, "t");
    try {
      return (await registry.allocateDepositBatch(n, "test:allocator")).keys;
    } finally {
      for (const o of others) await registry.updateOperator(o.id, { active: true }, "t");
    }
  }

  it("removes only keys never deposited; the watcher moves deposited keys along", async () => {
    const op = await nextOperator({ vettedLimit: 3 });
    const data = depositData(300, 3);
    await registry.uploadKeys(op.id, data, "t");
    await registry.vetKeys(op.id, "test:dao", "within limit");
    const [dep] = await allocateFrom(op.id, 1);
    expect(dep!.depositData.pubkey).toEqual(Uint8Array.from(Buffer.from(data[0]!.pubkey, "hex")));
    await expect(registry.removeKey(op.id, data[0]!.pubkey, "t")).rejects.toMatchObject({
      code: "ERR_INVALID_STATE_TRANSITION",
    });
    const removed = await registry.removeKey(op.id, data[1]!.pubkey, "test:operator", "typo");
    expect(removed.state).toBe("removed");
    await expect(registry.removeKey(op.id, data[1]!.pubkey, "t")).rejects.toMatchObject({
      code: "ERR_INVALID_STATE_TRANSITION",
    });
    const other = await nextOperator();
    await expect(registry.removeKey(other.id, data[2]!.pubkey, "t")).rejects.toMatchObject({
      code: "ERR_NOT_FOUND",
    });

    await expect(
      registry.setKeyStates([{ pubkey: data[2]!.pubkey, to: "active" }], "watcher"),
    ).rejects.toMatchObject({
      code: "ERR_INVALID_STATE_TRANSITION",
    });
    await expect(
      registry.setKeyStates([{ pubkey: data[0]!.pubkey, to: "vetted" }], "watcher"),
    ).rejects.toThrow(/transitions\[0\]\.to/);
    expect(
      await registry.setKeyStates([{ pubkey: data[0]!.pubkey, to: "active", reason: "epoch 10" }], "watcher"),
    ).toEqual({ changed: 1, unchanged: 0 });
    expect(await registry.setKeyStates([{ pubkey: data[0]!.pubkey, to: "active" }], "watcher")).toEqual({
      changed: 0,
      unchanged: 1,
    });
    await registry.setKeyStates([{ pubkey: `0x${data[0]!.pubkey}`, to: "exiting" }], "watcher");
    await registry.setKeyStates([{ pubkey: data[0]!.pubkey, to: "exited", reason: "epoch 99" }], "watcher");
    const k = await registry.getKey(data[0]!.pubkey);
    expect(k.history.map((h) => [h.fromState, h.toState, h.actor])).toEqual([
      [null, "submitted", "t"],
      ["submitted", "vetted", "test:dao"],
      ["vetted", "deposited", "test:allocator"],
      ["deposited", "active", "watcher"],
      ["active", "exiting", "watcher"],
      ["exiting", "exited", "watcher"],
    ]);
    expect(k.history[3]!.reason).toBe("epoch 10");
    await expect(registry.getKey("00".repeat(48))).rejects.toMatchObject({ code: "ERR_NOT_FOUND" });
    await expect(registry.getKey("00")).rejects.toThrow(/pubkey: must be 48 bytes/);
  });

  it("streams keys by keyset pages with filters, cursor and limit", async () => {
    const op = await nextOperator();
    await registry.uploadKeys(op.id, depositData(400, 7), "t");
    const ids: number[] = [];
    for await (const k of registry.streamKeys({ operatorId: op.id, pageSize: 2 })) ids.push(k.id);
    expect(ids).toHaveLength(7);
    expect([...ids].sort((a, b) => a - b)).toEqual(ids);
    const after: number[] = [];
    for await (const k of registry.streamKeys({ operatorId: op.id, cursor: ids[2]!, limit: 3, pageSize: 2 }))
      after.push(k.id);
    expect(after).toEqual(ids.slice(3, 6));
    const vetted: number[] = [];
    for await (const k of registry.streamKeys({ operatorId: op.id, state: "vetted" })) vetted.push(k.id);
    expect(vetted).toEqual([]);
    expect(() => registry.streamKeys({ state: "bogus" as never })).toThrow(/^state:/);
  });

  it("allocates by MinFirst across operators, within target limits, never to inactive ones", async () => {
    // Fresh operators only: deactivate everything existing.
    for (const o of await registry.listOperators())
      if (o.active) await registry.updateOperator(o.id, { active: false }, "t");
    const a = await nextOperator();
    const b = await nextOperator({ targetLimit: { limit: 2, mode: "hard" } });
    const c = await nextOperator();
    const d = await nextOperator({ active: false });
    let i = 500;
    for (const op of [a, b, c, d]) {
      await registry.uploadKeys(op.id, depositData(i, 5), "t");
      i += 5;
      await registry.updateOperator(op.id, { vettedLimit: 5 }, "dao");
    }
    await expect(registry.allocateDepositBatch(13, "alloc")).rejects.toMatchObject({
      code: "ERR_NO_CAPACITY",
      details: { available: 12 },
    });
    const batch = await registry.allocateDepositBatch(7, "alloc");
    expect(batch.perOperator).toEqual([
      { operatorId: a.id, count: 3 },
      { operatorId: b.id, count: 2 },
      { operatorId: c.id, count: 2 },
    ]);
    expect(batch.keys.map((k) => k.position)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    const again = await registry.getDepositBatch(batch.id);
    expect(again.keys.map((k) => k.keyId)).toEqual(batch.keys.map((k) => k.keyId));
    expect((await registry.listDepositBatches())[0]?.id).toBe(batch.id);

    const review = await registry.review();
    const ra = review.operators.find((o) => o.operatorId === a.id)!;
    expect(ra.keys).toMatchObject({ staked: 3, deposited: 3, vetted: 2 });
    expect(ra.capacityLeft).toBe(2);
    expect(review.operators.find((o) => o.operatorId === b.id)!.capacityLeft).toBe(0);
    expect(review.operators.find((o) => o.operatorId === d.id)!.capacityLeft).toBe(0);

    // Dry run: raise b's target, allocate 4 — changes nothing stored.
    const sim = await registry.simulateAllocation({
      count: 4,
      proposedLimits: [{ operatorId: b.id, targetLimit: null }],
    });
    expect(sim.allocated).toBe(4);
    const simB = sim.operators.find((o) => o.operatorId === b.id)!;
    expect(simB.allocated).toBeGreaterThan(0);
    expect(sim.operators.reduce((s, o) => s + o.allocated, 0)).toBe(4);
    expect(sim.after.top1Share).toBeLessThanOrEqual(sim.before.top1Share);
    expect((await registry.review()).totals).toEqual(review.totals);
    await expect(
      registry.simulateAllocation({ count: 1, proposedLimits: [{ operatorId: a.id, vettedLimit: 1 }] }),
    ).rejects.toMatchObject({
      code: "ERR_LIMIT_BELOW_DEPOSITED",
    });

    // The database refuses a deposit to an inactive operator even if code tried.
    await expect(
      store.transaction(async (tx) => {
        await tx.query("SELECT set_config('poolkeeper.actor', 'x', true)");
        await tx.query(
          `INSERT INTO deposit_batches (key_count, actor, key_ids)
           SELECT 1, 'x', ARRAY[min(key_id)] FROM key_states WHERE operator_id = $1 AND state = 'vetted'`,
          [d.id],
        );
      }),
    ).rejects.toThrow(/inactive/);
  });

  it("deposits the oldest vetted keys; a deposit cursor that skips vetted keys costs speed, never a deposit", async () => {
    for (const o of await registry.listOperators())
      if (o.active) await registry.updateOperator(o.id, { active: false }, "t");
    const op = await nextOperator();
    await registry.uploadKeys(op.id, depositData(900, 6), "t");
    await registry.updateOperator(op.id, { vettedLimit: 6 }, "dao");
    const ids = (
      await store.query<{ id: number }>("SELECT id FROM key_data WHERE operator_id = $1 ORDER BY id", [op.id])
    ).rows.map((r) => r.id);
    const first = await registry.allocateDepositBatchRefs(2, "alloc");
    expect(first.keys.map((k) => k.keyId)).toEqual(ids.slice(0, 2));
    // The cursor table is the deposit trigger's own.
    await expect(
      store.query("UPDATE operator_deposit_cursors SET last_key_id = 0 WHERE operator_id = $1", [op.id]),
    ).rejects.toThrow(/written by the key triggers only/);
    // Corrupt it past every key (triggers off, as only a database owner could): the allocation
    // still deposits the oldest vetted keys, in order, each once.
    await store.transaction(async (tx) => {
      await tx.query("SET LOCAL session_replication_role = replica");
      await tx.query("UPDATE operator_deposit_cursors SET last_key_id = 2147483647 WHERE operator_id = $1", [
        op.id,
      ]);
    });
    const second = await registry.allocateDepositBatchRefs(3, "alloc");
    expect(second.keys.map((k) => k.keyId)).toEqual(ids.slice(2, 5));
    const states = await store.query<{ id: number; state: string }>(
      "SELECT id, state FROM keys WHERE operator_id = $1 ORDER BY id",
      [op.id],
    );
    expect(states.rows.map((r) => r.state)).toEqual([
      "deposited",
      "deposited",
      "deposited",
      "deposited",
      "deposited",
      "vetted",
    ]);
  });

  it("review reports shares and concentration of active validators", async () => {
    for (const o of await registry.listOperators())
      if (o.active) await registry.updateOperator(o.id, { active: false }, "t");
    const ops = [await nextOperator(), await nextOperator()];
    let i = 600;
    for (const op of ops) {
      await registry.uploadKeys(op.id, depositData(i, 3), "t");
      i += 3;
      await registry.updateOperator(op.id, { vettedLimit: 3 }, "dao");
    }
    const batch = await registry.allocateDepositBatch(4, "alloc");
    // Activate 3 keys of op0's 2 deposited and op1's 2: 2 + 1 active.
    const pk = batch.keys.map((k) => k.depositData.pubkey);
    await registry.setKeyStates(
      pk.slice(0, 3).map((p) => ({ pubkey: p, to: "active" as const })),
      "watcher",
    );
    const r = await registry.review();
    const mine = r.operators.filter((o) => ops.some((op) => op.id === o.operatorId));
    const actives = mine.map((o) => o.keys.active).sort();
    expect(actives).toEqual([1, 2]);
    const total = r.totals.active;
    for (const o of r.operators)
      expect(o.activeShare).toBeCloseTo(total === 0 ? 0 : o.keys.active / total, 10);
    expect(r.concentration.nakamoto33).toBeGreaterThanOrEqual(1);
    expect(r.concentration.hhi).toBeGreaterThan(0);
  });

  it("never logs or returns secrets: upload errors carry public fields only; logs carry counts, not key material", async () => {
    const lines: string[] = [];
    const logger = createLogger({
      level: "debug",
      destination: { write: (l: string) => void lines.push(l) },
    });
    const logged = new Registry({ store, logger }, SETTINGS);
    const op = await logged.createOperator(
      { name: `logged-${kind}`, rewardAddress: REWARD, vettedLimit: 2 },
      "t",
    );
    const data = depositData(710, 2);
    await logged.uploadKeys(op.id, data, "t");
    expect(lines.join("")).toContain("keys uploaded");
    for (const d of data) {
      expect(lines.join("")).not.toContain(d.pubkey);
      expect(lines.join("")).not.toContain(d.signature);
    }
    const bad = [{ ...depositData(700, 1)[0]!, secretKey: "deadbeef".repeat(8), amount: 1 }];
    const err = (await registry.uploadKeys(op.id, bad, "t").catch((e: unknown) => e)) as Error;
    expect(JSON.stringify(err)).not.toContain("deadbeef");
    expect(err.message).not.toContain("deadbeef");
    expect(POOL_WC).toHaveLength(32);
  });
});
