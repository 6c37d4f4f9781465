/**
 * Issue 13: a deposit batch is released only by a quorum of guardians (too few, stale or repeated
 * signatures never release it), a front-run key refuses the batch whole (evidence kept, its other
 * keys cancelled, the payment back in the buffer, the operator unvetted, alerts raised), a paused
 * pool releases and allocates nothing, a pause replayed after an unpause is refused.
 */
import { WEI_PER_ETH } from "@poolkeeper/core";
import { fundPool } from "@poolkeeper/ledger/testing";
import { Registry } from "@poolkeeper/registry";
import { frontRunKeyCount, listLedgerEntries } from "@poolkeeper/store";
import { createTestStore, TEST_STORE_KINDS, type TestStore } from "@poolkeeper/store/testing";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  DepositSecurity,
  type DepositSecurityConfig,
  generateGuardianKey,
  guardianEvidenceRoot,
  guardianPublicKey,
  type RefusedKey,
  signDepositMessage,
  signPause,
  signRefusal,
} from "../src/index.js";
import { depositData, SETTINGS } from "./fixtures.js";

const REWARD = "0x0f51bb10119727a7e5ea3538074fb341f56b09ad";
const ETH = WEI_PER_ETH;
const KEYS = [1, 2, 3].map((i) => generateGuardianKey(new Uint8Array(32).fill(i)));
const CONFIG: DepositSecurityConfig = {
  guardians: KEYS.map((k, i) => ({ id: `g${i + 1}`, publicKey: guardianPublicKey(k) })),
  quorum: 2,
  maxAgeSlots: 10,
  pauseExpirySlots: 100,
  silentSlots: 50,
};
const BLOCK = `0x${"ab".repeat(32)}`;
const FOREIGN_WC = `0x01${"00".repeat(11)}${"ee".repeat(20)}`;

async function thrown(p: Promise<unknown>): Promise<{ code?: string; message?: string }> {
  try {
    await p;
  } catch (e) {
    return e as { code?: string };
  }
  throw new Error("expected a refusal");
}

describe.each(TEST_STORE_KINDS)("deposit batch release through guardians on %s", (kind) => {
  let store: TestStore;
  let slot = 1000;
  beforeEach(async () => {
    store = await createTestStore(kind);
    slot = 1000;
  });
  afterEach(() => store?.dispose());

  async function setup(keys = 6) {
    const ledger = await fundPool(store, 1000n * ETH);
    const registry = new Registry({ store, payer: ledger }, SETTINGS);
    const a = await registry.createOperator({ name: "a", rewardAddress: REWARD }, "t");
    const b = await registry.createOperator({ name: "b", rewardAddress: REWARD }, "t");
    await registry.uploadKeys(a.id, depositData(3000, keys), "t");
    await registry.uploadKeys(b.id, depositData(3100, keys), "t");
    await registry.updateOperator(a.id, { vettedLimit: keys }, "dao");
    await registry.updateOperator(b.id, { vettedLimit: keys }, "dao");
    const security = new DepositSecurity({
      store,
      config: CONFIG,
      refunder: ledger,
      currentSlot: () => slot,
      network: "hoodi",
    });
    return { ledger, registry, security, a, b };
  }

  const sign = (g: number, batchId: number, keysRoot: string, at = slot, block = BLOCK) =>
    signDepositMessage(KEYS[g]!, `g${g + 1}`, { batchId, keysRoot, blockRoot: block, slot: at });

  it("stays pending with one signature, a repeated one or a stale one; a quorum over one block releases it", async () => {
    const { registry, security } = await setup();
    const batch = await registry.allocateDepositBatch(4, "test:admin");
    const [pending] = await security.pendingBatches();
    expect(pending?.id).toBe(batch.id);
    const root = pending!.keysRoot;

    let s = await security.submitSignatures(batch.id, [sign(0, batch.id, root)]);
    expect(s.status).toBe("pending");
    // the same guardian again (the same block): still one signer
    s = await security.submitSignatures(batch.id, [sign(0, batch.id, root)]);
    expect(s.status).toBe("pending");
    // twice in one post: refused whole
    expect(
      (await thrown(security.submitSignatures(batch.id, [sign(1, batch.id, root), sign(1, batch.id, root)])))
        .code,
    ).toBe("ERR_GUARDIAN_REPEATED");
    // a stale one: refused
    expect(
      (await thrown(security.submitSignatures(batch.id, [sign(1, batch.id, root, slot - 11)]))).code,
    ).toBe("ERR_GUARDIAN_MESSAGE_STALE");
    // another block: no quorum over one view
    s = await security.submitSignatures(batch.id, [sign(1, batch.id, root, slot, `0x${"cd".repeat(32)}`)]);
    expect(s.status).toBe("pending");
    // over another keys root: refused
    expect((await thrown(security.submitSignatures(batch.id, [sign(2, batch.id, BLOCK)]))).code).toBe(
      "ERR_GUARDIAN_MESSAGE_MISMATCH",
    );
    // a signature of g1 posted as g2: refused
    const forged = { ...sign(0, batch.id, root), guardianId: "g2" };
    expect((await thrown(security.submitSignatures(batch.id, [forged]))).code).toBe("ERR_INVALID_SIGNATURE");
    expect((await security.batchSecurity(batch.id))?.status).toBe("pending");

    s = await security.submitSignatures(batch.id, [sign(2, batch.id, root)]);
    expect(s.status).toBe("released");
    expect(s.signers.sort()).toEqual(["g1", "g3"]);
    expect(s.releaseBlockRoot).toBe(BLOCK);
    expect(s.messages.filter((m) => m.kind === "release").length).toBe(3);
    await security.assertReleased(batch.id);
    expect(await security.pendingBatches()).toEqual([]);
  });

  it("a stale quorum does not release: signatures older than the limit count for nothing", async () => {
    const { registry, security } = await setup();
    const batch = await registry.allocateDepositBatch(2, "test:admin");
    const [p] = await security.pendingBatches();
    await security.submitSignatures(batch.id, [sign(0, batch.id, p!.keysRoot)]);
    const at = slot;
    slot += 20; // g1's signature is stale now
    expect(
      (await thrown(security.submitSignatures(batch.id, [sign(1, batch.id, p!.keysRoot, at)]))).code,
    ).toBe("ERR_GUARDIAN_MESSAGE_STALE");
    const s = await security.submitSignatures(batch.id, [sign(1, batch.id, p!.keysRoot)]);
    expect(s.status).toBe("pending");
    expect((await thrown(security.assertReleased(batch.id))).code).toBe("ERR_BATCH_NOT_RELEASED");
  });

  it("a front-run key refuses the batch whole: evidence kept, other keys cancelled, payment back, operator unvetted, alerts", async () => {
    const { registry, security, ledger, a } = await setup();
    const before = await ledger.state();
    const batch = await registry.allocateDepositBatch(4, "test:admin");
    const [p] = await security.pendingBatches();
    const victim = p!.keys.find((k) => k.operatorId === a.id)!;
    const keys: RefusedKey[] = [
      {
        keyId: victim.keyId,
        pubkey: victim.pubkey,
        evidence: {
          source: "pending_deposit",
          view: "head",
          slot: slot - 3,
          credentials: FOREIGN_WC,
          amountGwei: "1000000000",
          validatorIndex: null,
          depositIndex: null,
        },
      },
    ];
    const refusal = signRefusal(KEYS[1]!, "g2", {
      batchId: batch.id,
      keysRoot: p!.keysRoot,
      evidenceRoot: guardianEvidenceRoot(keys),
      slot,
    });
    // evidence not bound by the signature: refused
    const other = [{ ...keys[0]!, evidence: { ...keys[0]!.evidence, amountGwei: "2" } }];
    expect((await thrown(security.refuseBatch(batch.id, refusal, other))).code).toBe("ERR_VALIDATION");

    const s = await security.refuseBatch(batch.id, refusal, keys);
    expect(s.status).toBe("refused");
    expect(s.refusedBy).toBe("g2");
    expect(s.evidence).toEqual([
      expect.objectContaining({
        keyId: victim.keyId,
        credentials: FOREIGN_WC,
        amountGwei: "1000000000",
        source: "pending_deposit",
      }),
    ]);
    const states = await store.query<{ key_id: number; state: string }>(
      "SELECT key_id, state FROM key_states WHERE deposit_batch_id = $1 ORDER BY key_id",
      [batch.id],
    );
    expect(states.rows.filter((r) => r.state === "front_run").map((r) => r.key_id)).toEqual([victim.keyId]);
    // the public risk figure counts it
    const caught = await frontRunKeyCount(store);
    expect(caught.count).toBe(1);
    expect(caught.lastAt).toBeInstanceOf(Date);
    expect(states.rows.filter((r) => r.state === "cancelled")).toHaveLength(3);
    // the payment is back in the buffer
    const after = await ledger.state();
    expect(after.bufferedWei).toBe(before.bufferedWei);
    expect(after.depositedValidators).toBe(before.depositedValidators);
    expect((await listLedgerEntries(store)).filter((e) => e.kind === "deposit_refund")).toHaveLength(1);
    await ledger.verify();
    // operator a: nothing vetted any more, its limit cut to its keys ever deposited
    const op = await registry.getOperator(a.id);
    expect(op.keys.vetted).toBe(0);
    const refused = await store.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM key_states WHERE operator_id = $1 AND state IN ('front_run', 'cancelled')",
      [a.id],
    );
    expect(refused.rows[0]!.n).toBeGreaterThan(0);
    expect(op.vettedLimit).toBe(refused.rows[0]!.n);
    const alerts = await store.query<{ kind: string }>("SELECT kind FROM watcher_alerts ORDER BY id");
    expect(alerts.rows.map((r) => r.kind)).toEqual(
      expect.arrayContaining(["deposit_front_run", "keys_unvetted"]),
    );
    // never released, never again pending
    expect((await thrown(security.assertReleased(batch.id))).code).toBe("ERR_BATCH_NOT_RELEASED");
    expect((await thrown(security.submitSignatures(batch.id, [sign(0, batch.id, p!.keysRoot)]))).code).toBe(
      "ERR_BATCH_NOT_PENDING",
    );
  });

  it("a paused pool releases and allocates nothing; previews go on; only an unpause resumes; a replayed pause is refused", async () => {
    const { registry, security } = await setup();
    const batch = await registry.allocateDepositBatch(2, "test:admin");
    const [p] = await security.pendingBatches();
    await security.submitSignatures(batch.id, [sign(0, batch.id, p!.keysRoot)]);
    const pause = signPause(KEYS[2]!, "g3", slot);
    const st = await security.pause(pause);
    expect(st.paused).toBe(true);
    expect(st.pausedBy).toBe("g3");
    expect((await thrown(security.submitSignatures(batch.id, [sign(1, batch.id, p!.keysRoot)]))).code).toBe(
      "ERR_DEPOSITS_PAUSED",
    );
    expect((await thrown(registry.allocateDepositBatch(1, "test:admin"))).code).toBe("ERR_DEPOSITS_PAUSED");
    expect((await registry.simulateAllocation({ count: 1 })).allocated).toBe(1);
    expect((await security.batchSecurity(batch.id))?.status).toBe("pending");

    slot += 5;
    const un = await security.unpause("dao:test", "false alarm: checked by hand");
    expect(un.paused).toBe(false);
    expect(un.unpauseReason).toBe("false alarm: checked by hand");
    expect(un.lastUnpauseSlot).toBe(slot);
    // the same pause message again: a replay
    expect((await thrown(security.pause(pause))).code).toBe("ERR_PAUSE_REPLAYED");
    expect((await security.status()).paused).toBe(false);
    // after the unpause the batch can be released
    const s = await security.submitSignatures(batch.id, [
      sign(0, batch.id, p!.keysRoot),
      sign(1, batch.id, p!.keysRoot),
    ]);
    expect(s.status).toBe("released");
  });

  it("two batches allocated at once never share a key, and each is released on its own keys root", async () => {
    const { registry, security } = await setup();
    const [x, y] = await Promise.all([
      registry.allocateDepositBatch(3, "test:a"),
      registry.allocateDepositBatch(3, "test:b"),
    ]);
    const pending = await security.pendingBatches();
    expect(pending.map((b) => b.id).sort()).toEqual([x.id, y.id].sort());
    const keysOf = (id: number) => new Set(pending.find((b) => b.id === id)!.keys.map((k) => k.pubkey));
    const shared = [...keysOf(x.id)].filter((k) => keysOf(y.id).has(k));
    expect(shared).toEqual([]);
    const rx = pending.find((b) => b.id === x.id)!.keysRoot;
    // x's signatures do not release y
    expect((await thrown(security.submitSignatures(y.id, [sign(0, x.id, rx)]))).code).toBe(
      "ERR_GUARDIAN_MESSAGE_MISMATCH",
    );
    const released = await Promise.all([
      security.submitSignatures(x.id, [sign(0, x.id, rx), sign(1, x.id, rx)]),
      security.submitSignatures(x.id, [sign(2, x.id, rx)]).catch((e: { code?: string }) => e.code),
    ]);
    expect(released[0]).toMatchObject({ status: "released" });
    expect((await security.batchSecurity(y.id))?.status).toBe("pending");
  });
});
