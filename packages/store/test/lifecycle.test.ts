import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ATT_FLAG,
  ATT_FLAGS_ALL,
  decodeAttFlags,
  EVER_DEPOSITED_STATES,
  encodeAttFlags,
  isKeyTransitionAllowed,
  KEY_STATES,
  KEY_TRANSITIONS,
  STAKED_STATES,
  WATCHER_TRANSITIONS,
} from "../src/index.js";
import { createTestStore, TEST_STORE_KINDS, type TestStore } from "../src/testing.js";

describe.each(TEST_STORE_KINDS)("the key lifecycle table against the database's rule on %s", (kind) => {
  let store: TestStore;
  beforeAll(async () => {
    store = await createTestStore(kind);
  });
  afterAll(() => store.dispose());

  it("allows exactly the transitions pk_key_transition_allowed allows, pair by pair", async () => {
    const r = await store.query<{ f: string; t: string; ok: boolean }>(
      `SELECT f, t, pk_key_transition_allowed(f, t) AS ok
         FROM unnest($1::text[]) AS f CROSS JOIN unnest($1::text[]) AS t`,
      [KEY_STATES],
    );
    expect(r.rows).toHaveLength(KEY_STATES.length ** 2);
    const mismatches = r.rows
      .filter((x) => x.ok !== isKeyTransitionAllowed(x.f as never, x.t as never))
      .map((x) => `${x.f} → ${x.t}: database ${x.ok}`);
    expect(mismatches).toEqual([]);
    // The table is not empty on either side: 15 pairs today.
    expect(r.rows.filter((x) => x.ok)).toHaveLength(Object.values(KEY_TRANSITIONS).flat().length);
  });
});

describe("groups of states and the watcher's transitions", () => {
  it("every state has a row; the groups are made of states", () => {
    expect(Object.keys(KEY_TRANSITIONS).sort()).toEqual([...KEY_STATES].sort());
    for (const s of [...STAKED_STATES, ...EVER_DEPOSITED_STATES]) expect(KEY_STATES).toContain(s);
  });
  it("a deposited key never goes back to a state that could deposit it again", () => {
    for (const from of EVER_DEPOSITED_STATES)
      for (const to of KEY_TRANSITIONS[from]) expect(EVER_DEPOSITED_STATES).toContain(to);
  });
  it("the watcher moves keys only between deposited states, as the database allows", () => {
    expect(WATCHER_TRANSITIONS).toEqual({
      active: ["deposited"],
      exiting: ["deposited", "active"],
      exited: ["deposited", "active", "exiting", "slashed"],
      slashed: ["deposited", "active", "exiting"],
    });
  });
});

describe("attestation flags", () => {
  it("encode and decode are inverse over every combination", () => {
    for (let f = 0; f <= ATT_FLAGS_ALL; f++) expect(encodeAttFlags(decodeAttFlags(f))).toBe(f);
    expect(encodeAttFlags({ sourceCorrect: true, targetCorrect: false, headCorrect: true })).toBe(
      ATT_FLAG.source | ATT_FLAG.head,
    );
  });
});
