/**
 * Content negotiation of the sim's own large-list answers: SSZ only when the Accept header ranks
 * it above JSON (quality values; `*\/*` counts as JSON), as Lodestar's server decides.
 */
import "./env-minimal.js";
import { describe, expect, it } from "vitest";
import { prefersSsz } from "../src/index.js";

describe("prefersSsz", () => {
  it("follows the quality values", () => {
    expect(prefersSsz("application/octet-stream;q=1,application/json;q=0.9")).toBe(true);
    expect(prefersSsz("application/octet-stream")).toBe(true);
    expect(prefersSsz("application/json;q=1,application/octet-stream;q=0.9")).toBe(false);
    expect(prefersSsz("application/json")).toBe(false);
    expect(prefersSsz("*/*")).toBe(false);
    expect(prefersSsz("application/octet-stream;q=0.5, */*")).toBe(false);
    expect(prefersSsz("application/octet-stream;q=0, application/json;q=0.1")).toBe(false);
    expect(prefersSsz(undefined)).toBe(false);
  });
});
