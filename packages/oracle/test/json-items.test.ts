/**
 * JsonArrayStream: the items of a top-level array field from a byte stream cut anywhere (inside
 * strings, escapes, multi-byte characters), the rest of the object, and text it refuses.
 */
import { describe, expect, it } from "vitest";
import { JsonArrayStream, JsonStreamError } from "../src/json-items.js";

const doc = {
  execution_optimistic: false,
  "x[": 'a "}]" string, with \\ and ü',
  data: [
    { index: "0", validator: { pubkey: "0xab", slashed: false }, note: '[{"' },
    { index: "1", list: [1, [2, { a: "]" }]], s: '€ and \\"' },
    [3, 4],
    { index: "2" },
  ],
  finalized: true,
};

function run(
  bytes: Uint8Array,
  cuts: number[],
): { items: unknown[]; rest: Record<string, unknown>; batches: number } {
  const items: unknown[] = [];
  let batches = 0;
  const s = new JsonArrayStream("data", (b) => {
    batches++;
    items.push(...b);
  });
  let from = 0;
  for (const c of [...cuts, bytes.length]) {
    s.push(bytes.subarray(from, c));
    from = c;
  }
  return { items, rest: s.end(), batches };
}

describe("JsonArrayStream", () => {
  const text = JSON.stringify(doc, null, 1);
  const bytes = new TextEncoder().encode(text);
  const { data, ...rest } = doc;

  it("gives the items and the rest of the object, whole or cut at every byte", () => {
    const whole = run(bytes, []);
    expect(whole.items).toEqual(data);
    expect(whole.rest).toEqual({ ...rest, data: [] });
    expect(whole.batches).toBe(1);
    for (let a = 1; a < bytes.length; a++) {
      const r = run(bytes, [a]);
      expect(r.items).toEqual(data);
      expect(r.rest).toEqual({ ...rest, data: [] });
    }
    // one byte at a time
    expect(
      run(
        bytes,
        Array.from({ length: bytes.length - 1 }, (_, k) => k + 1),
      ).items,
    ).toEqual(data);
  });

  it("refuses a truncated answer, a missing field, trailing bytes and items that are not objects", () => {
    expect(() => run(bytes.subarray(0, bytes.length - 3), [])).toThrow(JsonStreamError);
    expect(() => run(new TextEncoder().encode('{"other":[1]}'), [])).toThrow(/no array field "data"/);
    expect(() => run(new TextEncoder().encode('{"data":[]} x'), [])).toThrow(/after the end/);
    expect(() => run(new TextEncoder().encode('{"data":[1,2]}'), [])).toThrow(/not an object/);
    expect(() => run(new TextEncoder().encode('{"data":[{"a":1},{"a":}]}'), [])).toThrow(JsonStreamError);
  });
});
