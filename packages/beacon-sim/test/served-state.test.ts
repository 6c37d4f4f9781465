/**
 * The SSZ state as served: kept once serialized (`servedStatesKept`, default 2) while the chain has
 * not moved, serialized again once it has, and never kept with `servedStatesKept: 0`.
 */
import "./env-minimal.js";
import { describe, expect, it } from "vitest";
import { SimChain, serializeState, servedState } from "../src/index.js";

describe("servedState", () => {
  it("keeps the last two states served until the chain moves", () => {
    const c = new SimChain({ validators: 32, fork: "fulu" });
    c.advanceTo(4 * 8 + 3);
    const a = servedState(c, 8);
    expect(servedState(c, 8)).toBe(a); // the same bytes, not serialized again
    expect(a).toEqual(serializeState(c, 8));
    const b = servedState(c, 16);
    expect(servedState(c, 8)).toBe(a);
    servedState(c, 24); // a third state: the least recently served one (16) is dropped
    expect(servedState(c, 8)).toBe(a);
    expect(servedState(c, 16)).not.toBe(b);
    expect(servedState(c, 16)).toEqual(b);
    // a new deposit changes what a past state's bytes read (eth1_deposit_index): served anew
    c.addValidators(1, undefined, 32e9);
    expect(servedState(c, 8)).not.toBe(a);
    expect(servedState(c, 8)).toEqual(serializeState(c, 8));
    // the head moves: served anew, equal to a fresh serialization at the new head
    const before = servedState(c, 8);
    c.advanceTo(5 * 8 + 1);
    const after = servedState(c, 8);
    expect(after).not.toBe(before);
    expect(after).toEqual(serializeState(c, 8));
  });

  it("servedStatesKept 0: every request serialized", () => {
    const c = new SimChain({ validators: 32, fork: "deneb", servedStatesKept: 0 });
    c.advanceTo(2 * 8 + 1);
    expect(servedState(c, 8)).not.toBe(servedState(c, 8));
    expect(() => new SimChain({ validators: 32, servedStatesKept: -1 })).toThrow(/servedStatesKept/);
  });
});
