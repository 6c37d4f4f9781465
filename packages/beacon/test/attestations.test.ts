import { BitArray } from "@chainsafe/ssz";
import { describe, expect, it } from "vitest";
import { markAttestation } from "../src/duties.js";

const committees = [Uint32Array.of(10, 11, 12), Uint32Array.of(20, 21), Uint32Array.of(30, 31, 32, 33)];
const of = (ci: number) => committees[ci];

function fresh() {
  return { incl: new Int32Array(40).fill(-1), flags: new Uint8Array(40) };
}

describe("markAttestation", () => {
  it("before Electra: one committee named by data.index", () => {
    const { incl, flags } = fresh();
    markAttestation(
      { aggregationBits: BitArray.fromBoolArray([true, false, true]), data: { index: 0 } },
      of,
      41,
      true,
      false,
      incl,
      flags,
      "b",
    );
    expect([incl[10], incl[11], incl[12]]).toEqual([41, -1, 41]);
    expect(flags[10]).toBe(1);
    // a later inclusion does not overwrite the first
    markAttestation(
      { aggregationBits: BitArray.fromBoolArray([true, true, true]), data: { index: 0 } },
      of,
      44,
      true,
      true,
      incl,
      flags,
      "b",
    );
    expect([incl[10], incl[11], incl[12]]).toEqual([41, 44, 41]);
    expect(flags[11]).toBe(3);
  });

  it("Electra: committee_bits name several committees, aggregation bits run over them in order", () => {
    const { incl, flags } = fresh();
    markAttestation(
      {
        committeeBits: BitArray.fromBoolArray([false, true, true, false]),
        aggregationBits: BitArray.fromBoolArray([true, false, false, true, true, false]),
        data: { index: 0 },
      },
      of,
      50,
      true,
      true,
      incl,
      flags,
      "b",
    );
    // committee 1 = [20, 21] → bits 0,1; committee 2 = [30..33] → bits 2..5
    expect([incl[20], incl[21], incl[30], incl[31], incl[32], incl[33]]).toEqual([50, -1, -1, 50, 50, -1]);
    expect(incl[10]).toBe(-1);
  });

  it("refuses committees that do not fit the bits, or an unknown committee", () => {
    const { incl, flags } = fresh();
    expect(() =>
      markAttestation(
        { aggregationBits: BitArray.fromBoolArray([true, true]), data: { index: 0 } },
        of,
        1,
        true,
        true,
        incl,
        flags,
        "block 9",
      ),
    ).toThrow(/block 9.*2 bits, its committees 3 members/);
    expect(() =>
      markAttestation(
        { aggregationBits: BitArray.fromBoolArray([true]), data: { index: 7 } },
        of,
        1,
        true,
        true,
        incl,
        flags,
        "b",
      ),
    ).toThrow(/unknown committee 7/);
    expect([...incl].every((x) => x === -1)).toBe(true); // nothing half-applied
  });
});
