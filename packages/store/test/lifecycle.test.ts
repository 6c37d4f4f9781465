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
  STATE_GROUPS,
  UNDEPOSITED_STATES,
  VETTED_LIMIT_STATES,
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

  it("every list of states in the live constraints and trigger functions is one of the named groups", async () => {
    // what the database runs after every migration: functions' bodies and tables' CHECK constraints
    const r = await store.query<{ name: string; def: string }>(
      `SELECT p.proname AS name, p.prosrc AS def FROM pg_proc p
         JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'public'
       UNION ALL
       SELECT c.conname, pg_get_constraintdef(c.oid) FROM pg_constraint c
         JOIN pg_namespace n ON n.oid = c.connamespace WHERE n.nspname = 'public' AND c.contype = 'c'`,
    );
    const named = Object.entries(STATE_GROUPS).map(([k, v]) => [k, [...v].sort().join(",")] as const);
    const found: string[] = [];
    const unnamed: string[] = [];
    // `state IN ('a', 'b')`, `NOT IN (...)`, and PostgreSQL's form `= ANY (ARRAY['a'::text, ...])`
    const list =
      /(NOT\s+IN|IN|<>\s*ALL|=\s*ANY)\s*\(\s*(?:ARRAY\[)?((?:'[a-z_]+'(?:::text)?\s*,?\s*)+)\]?\s*\)/gi;
    for (const { name, def } of r.rows) {
      // exit requests have states of their own (some share a key state's name)
      if (name.startsWith("exit_request")) continue;
      for (const m of def.matchAll(list)) {
        const items = [...(m[2] ?? "").matchAll(/'([a-z_]+)'/g)].map((x) => x[1] as string);
        if (!items.every((x) => (KEY_STATES as readonly string[]).includes(x))) continue; // not states
        if (items.length < 2) continue;
        const negated = /NOT|<>/i.test(m[1] ?? "");
        const set = negated ? KEY_STATES.filter((x) => !items.includes(x)) : items;
        const key = [...set].sort().join(",");
        const group = named.find(([, v]) => v === key)?.[0];
        if (group === undefined) unnamed.push(`${name}: ${m[0]}`);
        else found.push(group);
      }
    }
    expect(unnamed).toEqual([]);
    // the check reads real definitions: the constraints use all states, the counts the staked ones
    expect(found).toContain("all");
    expect(found).toContain("staked");
    expect(found).toContain("vettedLimit");
  });
});

describe("groups of states and the watcher's transitions", () => {
  it("every state has a row; the groups are made of states", () => {
    expect(Object.keys(KEY_TRANSITIONS).sort()).toEqual([...KEY_STATES].sort());
    for (const s of [
      ...STAKED_STATES,
      ...EVER_DEPOSITED_STATES,
      ...UNDEPOSITED_STATES,
      ...VETTED_LIMIT_STATES,
    ])
      expect(KEY_STATES).toContain(s);
    // a key is either never deposited or ever deposited, never both
    expect([...UNDEPOSITED_STATES, ...EVER_DEPOSITED_STATES].sort()).toEqual([...KEY_STATES].sort());
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
