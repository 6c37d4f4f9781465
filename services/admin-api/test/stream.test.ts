import { Key, KeyDetail } from "@poolkeeper/contract";
import { TEST_STORE_KINDS } from "@poolkeeper/store/testing";
import { Value } from "typebox/value";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closeApp } from "../src/index.js";
import { bearer, createHarness, type Harness } from "./harness.js";

/** Synthetic keys straight into the table (the key_events trigger runs as usual). */
async function seed(h: Harness, keys: number): Promise<number> {
  const op = await h.store.query<{ id: number }>(
    "INSERT INTO operators (name, reward_address, vetted_limit) VALUES ($1, decode(repeat('ab', 20), 'hex'), 0) RETURNING id",
    [`stream-${Date.now()}`],
  );
  const id = op.rows[0]!.id;
  await h.store.transaction(async (tx) => {
    await tx.query("SELECT set_config('poolkeeper.actor', 'test-seed', true)");
    await tx.query(
      `INSERT INTO key_data (operator_id, pubkey, withdrawal_credentials, amount_gwei, signature,
         deposit_message_root, deposit_data_root, fork_version, network_name, deposit_cli_version)
       SELECT $1, decode(lpad(to_hex(i), 96, '0'), 'hex'), decode(repeat('01', 32), 'hex'), 32000000000,
              decode(repeat(lpad(to_hex(i), 8, '0'), 24), 'hex'), sha256(int8send(i)), sha256(int8send(-i)),
              decode('10000910', 'hex'), 'hoodi', '2.7.0'
       FROM generate_series(1, $2::int) AS i`,
      [id, keys],
    );
  });
  return id;
}

describe.each(TEST_STORE_KINDS)("keys stream on %s", (kind) => {
  let h: Harness;
  let url: string;
  const N = 23_456;
  beforeAll(async () => {
    h = await createHarness(kind);
    await seed(h, N);
    url = await h.app.listen({ port: 0, host: "127.0.0.1" });
  });
  afterAll(async () => {
    await h?.close();
  });

  it("streams many pages as one valid JSON document over a real socket", async () => {
    const res = await fetch(`${url}/v1/keys`, { headers: bearer(h.admin) });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/application\/json/);
    const doc = (await res.json()) as {
      data: { id: number; key: string; used: boolean }[];
      meta: { count: number };
    };
    expect(doc.meta.count).toBe(N);
    expect(doc.data).toHaveLength(N);
    const ids = doc.data.map((k) => k.id);
    expect(ids.every((id, i) => i === 0 || id > ids[i - 1]!)).toBe(true);
    expect(doc.data[0]!.key).toMatch(/^0x[0-9a-f]{96}$/);
  });

  it("writes each streamed key as the contract's Key, field for field as GET /v1/keys/{pubkey}", async () => {
    const res = await fetch(`${url}/v1/keys?limit=3`, { headers: bearer(h.admin) });
    const text = await res.text();
    const doc = JSON.parse(text) as { data: Record<string, unknown>[] };
    expect(doc.data).toHaveLength(3);
    for (const k of doc.data) {
      expect(Value.Check(Key, k)).toBe(true);
      const one = await fetch(`${url}/v1/keys/${String(k.key)}`, { headers: bearer(h.admin) });
      const detail = ((await one.json()) as { data: Record<string, unknown> }).data;
      expect(Value.Check(KeyDetail, detail)).toBe(true);
      const same = Object.fromEntries(Object.keys(Key.properties).map((f) => [f, detail[f]]));
      expect(JSON.stringify(k)).toBe(JSON.stringify(same));
    }
  });

  it("survives clients that go away mid-stream, and closes cleanly afterwards", async () => {
    for (let i = 0; i < 5; i++) {
      const ac = new AbortController();
      const res = await fetch(`${url}/v1/keys`, { headers: bearer(h.admin), signal: ac.signal });
      const reader = res.body!.getReader();
      const first = await reader.read();
      expect(first.done).toBe(false);
      ac.abort();
      await reader.read().catch(() => undefined);
    }
    // The database is still usable (no connection left checked out by an abandoned stream).
    const page = await fetch(`${url}/v1/keys?limit=3`, { headers: bearer(h.admin) });
    const body = (await page.json()) as { data: unknown[]; meta: { nextCursor: string | null } };
    expect(body.data).toHaveLength(3);
    expect(body.meta.nextCursor).not.toBeNull();
    const t0 = Date.now();
    await closeApp(h.app, 2000);
    expect(Date.now() - t0).toBeLessThan(10_000);
  });
});
