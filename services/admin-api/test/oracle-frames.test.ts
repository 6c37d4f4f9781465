/**
 * What oracle members build a frame's report on (GET /v1/oracle/setup, /v1/oracle/frames/{refSlot}
 * and its keys): the ledger and the key set pinned at the first ask and the same at every later
 * one; the frame's underperforming validators from the watcher's rows; not before the ref slot
 * has passed; members read it, operators do not.
 */
import { generateMemberKey } from "@poolkeeper/oracle";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { depositEntries, TEST_NETWORK } from "./deposit-fixtures.js";
import { bearer, createHarness, createOperator, type Harness, testOracleConfig } from "./harness.js";
import { seedWatcher } from "./watcher-fixtures.js";

const KEYS = [generateMemberKey(), generateMemberKey(), generateMemberKey()];
const ETH = 10n ** 18n;
// 8 slots per epoch, 4 epochs per frame: frame 16 is epochs 64..67, its ref slot 543
const FRAMES = {
  slotsPerEpoch: 8,
  secondsPerSlot: 6,
  genesisTime: 1_000,
  epochsPerFrame: 4,
  initialEpoch: 0,
};
const REF = 543;

describe("oracle frames", () => {
  let h: Harness;
  let oracle: string;
  let a: number;
  let b: number;
  beforeAll(async () => {
    h = await createHarness("pglite", {}, { oracle: { ...testOracleConfig(KEYS), frames: FRAMES } });
    oracle = await h.oracleToken();
    a = await createOperator(h);
    b = await createOperator(h);
    await seedWatcher(h.store, TEST_NETWORK.name, a, b);
  });
  afterAll(() => h.close());

  const get = (url: string, token = oracle) => h.app.inject({ method: "GET", url, headers: bearer(token) });
  const submit = (wei: bigint) =>
    h.app.inject({
      method: "POST",
      url: "/v1/pool/submit",
      headers: bearer(h.admin),
      payload: { account: "0x00000000000000000000000000000000000000aa", amount: wei.toString() },
    });

  it("setup names the members, quorum, frames and the pool's credentials", async () => {
    const r = await get("/v1/oracle/setup");
    expect(r.statusCode, r.body).toBe(200);
    expect(r.json().data).toMatchObject({ quorum: 2, frames: FRAMES });
    expect(r.json().data.members.map((m: { id: string }) => m.id)).toEqual(["m1", "m2", "m3"]);
    expect(r.json().data.withdrawalCredentials).toMatch(/^0x01[0-9a-f]{62}$/);
  });

  it("a frame's ledger and keys are pinned at the first ask: later stake and batches do not move them", async () => {
    expect((await submit(100n * ETH)).statusCode).toBe(200);
    await h.app.inject({
      method: "POST",
      url: `/v1/operators/${a}/keys`,
      headers: bearer(h.admin),
      payload: depositEntries(5000, 3),
    });
    await h.app.inject({
      method: "PATCH",
      url: `/v1/operators/${a}`,
      headers: bearer(h.dao),
      payload: { vettedLimit: 3 },
    });
    await h.app.inject({
      method: "POST",
      url: `/v1/operators/${a}/keys/vet`,
      headers: bearer(h.dao),
      payload: {},
    });
    const batch1 = await h.app.inject({
      method: "POST",
      url: "/v1/deposits/batches",
      headers: bearer(h.admin),
      payload: { count: 2 },
    });
    expect(batch1.statusCode, batch1.body).toBe(201);

    const first = await get(`/v1/oracle/frames/${REF}`);
    expect(first.statusCode, first.body).toBe(200);
    const ctx = first.json().data;
    expect(ctx.frame).toMatchObject({ firstEpoch: 64, lastEpoch: 67, refSlot: REF });
    expect(BigInt(ctx.ledger.bufferedWei) + BigInt(ctx.ledger.depositedWei)).toBe(100n * ETH);
    const keys1 = await get(`/v1/oracle/frames/${REF}/keys`);
    expect(keys1.json().data).toHaveLength(2);
    expect(keys1.json().data[0]).toMatchObject({ operatorId: a, amountGwei: "32000000000" });

    // more stake and a third key deposited after the pin
    expect((await submit(5n * ETH)).statusCode).toBe(200);
    const batch2 = await h.app.inject({
      method: "POST",
      url: "/v1/deposits/batches",
      headers: bearer(h.admin),
      payload: { count: 1 },
    });
    expect(batch2.statusCode, batch2.body).toBe(201);
    const again = (await get(`/v1/oracle/frames/${REF}`)).json().data;
    expect(again.ledgerSeq).toBe(ctx.ledgerSeq);
    expect(again.ledger).toEqual(ctx.ledger);
    expect((await get(`/v1/oracle/frames/${REF}/keys`)).json().data).toHaveLength(2);
    // a later frame pins the ledger as it is now
    const later = (await get(`/v1/oracle/frames/${REF + 32}`)).json().data;
    expect(BigInt(later.ledger.bufferedWei) + BigInt(later.ledger.depositedWei)).toBe(105n * ETH);
    expect((await get(`/v1/oracle/frames/${REF + 32}/keys`)).json().data).toHaveLength(3);
    // pages follow the key ids
    const page = await get(`/v1/oracle/frames/${REF + 32}/keys?limit=2`);
    expect(page.json().data).toHaveLength(2);
    const rest = await get(
      `/v1/oracle/frames/${REF + 32}/keys?limit=2&cursor=${page.json().meta.nextCursor}`,
    );
    expect(rest.json().data).toHaveLength(1);
    expect(rest.json().meta.nextCursor).toBeNull();
  });

  it("the frame's performance: validator 10 (offline from epoch 65) is below the bar, the others are not", async () => {
    const p = (await get(`/v1/oracle/frames/${REF}`)).json().data.performance;
    expect(p.complete).toBe(true);
    expect(p.watcherEpoch).toBe(69);
    expect(p.networkPerformance).toBeGreaterThan(0.9);
    expect(p.threshold).toBeCloseTo(p.networkPerformance - 0.05, 10);
    expect(p.underperforming).toEqual([10]);
    // a frame the watcher has not passed is not complete
    const late = (await get(`/v1/oracle/frames/${72 * 8 - 1}`)).json().data.performance;
    expect(late.complete).toBe(false);
  });

  it("refused: a slot that is not a ref slot, a frame not over, a token of another role", async () => {
    const notRef = await get("/v1/oracle/frames/544");
    expect(notRef.statusCode).toBe(400);
    expect(notRef.json().message).toContain("refSlot");
    const future = await get(`/v1/oracle/frames/${32 * 1_000_000_000 - 1}`);
    expect(future.statusCode).toBe(409);
    expect(future.json().code).toBe("ERR_FRAME_NOT_OVER");
    const op = await h.operatorToken(a);
    expect((await get(`/v1/oracle/frames/${REF}`, op)).statusCode).toBe(403);
    expect((await get(`/v1/oracle/frames/${REF}`, h.dao)).statusCode).toBe(200);
  });
});
