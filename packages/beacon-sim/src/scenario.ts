/**
 * The scenario file: a JSON description of a synthetic chain and what its validators and nodes do.
 * Parsed with zod; every error names the field and the reason.
 */
import { ValidationError } from "@poolkeeper/core";
import { z } from "zod";
import { SIM_FORKS } from "./chain-types.js";

/** "5", 5, "48-63", or an array of those. Inclusive ranges of validator indices. */
const selectorItem = z.union([
  z.number().int().nonnegative(),
  z.string().regex(/^\d+(-\d+)?$/, 'expected an index like "7" or a range like "48-63"'),
]);
const selector = z.union([selectorItem, z.array(selectorItem).min(1)]);
const epoch = z.number().int().nonnegative();
const hex = (bytes: number) =>
  z.string().regex(new RegExp(`^0x[0-9a-fA-F]{${bytes * 2}}$`), `expected 0x and ${bytes} bytes of hex`);

export const BEHAVIOURS = [
  "online",
  "offline",
  "late",
  "wrong-head",
  "wrong-target",
  "no-proposals",
  "orphaned-proposals",
] as const;
export type BehaviourKind = (typeof BEHAVIOURS)[number];

const behaviourRule = z
  .object({
    validators: selector,
    from: epoch.default(0),
    /** Exclusive; absent = forever. */
    to: epoch.optional(),
    behaviour: z.enum(BEHAVIOURS),
    /** Inclusion delay in slots for "late" (2..32). */
    delay: z.number().int().min(2).max(32).optional(),
  })
  .strict()
  .refine((r) => r.behaviour !== "late" || r.delay !== undefined, { message: 'delay is required for "late"' })
  .refine((r) => r.to === undefined || r.to > r.from, { message: "to must be greater than from" });

const faultSpec = z
  .object({
    kind: z.enum(["error", "timeout", "slow", "syncing", "stuck"]),
    /** For "error": the HTTP status (500..599). */
    status: z.number().int().min(500).max(599).optional(),
    /** For "slow": added latency in ms. */
    delayMs: z.number().int().nonnegative().optional(),
    /** For "stuck": the node's head stays at this slot (its finality stays behind). */
    atSlot: z.number().int().nonnegative().optional(),
    /** Only requests whose path contains this string (default: all but /eth/v1/events). */
    pathContains: z.string().optional(),
  })
  .strict();

export const scenarioSchema = z
  .object({
    preset: z.enum(["minimal", "mainnet"]).optional(),
    /** The fork the chain starts at (genesis and every state): deneb, electra or fulu (default). */
    fork: z.enum(SIM_FORKS).optional(),
    validators: z.number().int().min(1).max(4_000_000).optional(),
    /** Genesis pubkeys instead of generated keys (then `validators` defaults to their count). */
    pubkeys: z.array(hex(48)).optional(),
    /** One for all genesis validators, default: 0x00 || sha256(pubkey)[1:] (BLS, as interop). */
    withdrawalCredentials: hex(32).optional(),
    seed: z.string().min(1).optional(),
    /** Withdrawal address → fee recipient (see ChainOptions.feeRecipients). */
    feeRecipients: z.record(hex(20), hex(20)).optional(),
    slotsPerEpoch: z.number().int().min(1).max(64).optional(),
    secondsPerSlot: z.number().positive().max(60).optional(),
    genesisTime: z.number().int().nonnegative().optional(),
    behaviours: z.array(behaviourRule).default([]),
    missedSlots: z.array(z.number().int().positive()).default([]),
    /** Slots whose block is produced but orphaned (not canonical; the next block builds on its parent). */
    orphanedSlots: z.array(z.number().int().positive()).default([]),
    slashings: z
      .array(
        z
          .object({
            validator: z.number().int().nonnegative(),
            epoch,
            kind: z.enum(["attester", "proposer"]).default("attester"),
          })
          .strict(),
      )
      .default([]),
    exits: z.array(z.object({ validator: z.number().int().nonnegative(), epoch }).strict()).default([]),
    deposits: z
      .array(
        z
          .object({
            epoch,
            count: z.number().int().positive().optional(),
            pubkeys: z.array(hex(48)).optional(),
            withdrawalCredentials: hex(32).optional(),
            /** Electra and later: gwei per deposit (default 32 ETH); a known pubkey gets a top-up. */
            amount: z.number().int().min(1_000_000_000).max(Number.MAX_SAFE_INTEGER).optional(),
          })
          .strict()
          .refine((d) => d.count !== undefined || d.pubkeys !== undefined, {
            message: "count or pubkeys is required",
          }),
      )
      .default([]),
    /**
     * Electra and later: execution-layer withdrawal requests (EIP-7002) carried by the first block
     * of `epoch`; amount in gwei, 0 (default) = full exit; sourceAddress defaults to the
     * validator's withdrawal address.
     */
    withdrawalRequests: z
      .array(
        z
          .object({
            validator: z.number().int().nonnegative(),
            epoch,
            amount: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER).default(0),
            sourceAddress: hex(20).optional(),
          })
          .strict(),
      )
      .default([]),
    /**
     * Electra and later: execution-layer consolidation requests (EIP-7251) carried from the first
     * block of `epoch`: source into target, or source = target to switch a 0x01 validator to
     * compounding; sourceAddress defaults to the source's withdrawal address.
     */
    consolidationRequests: z
      .array(
        z
          .object({
            source: z.number().int().nonnegative(),
            target: z.number().int().nonnegative(),
            epoch,
            sourceAddress: hex(20).optional(),
          })
          .strict(),
      )
      .default([]),
    finality: z
      .array(z.object({ from: epoch, to: epoch.optional(), mode: z.literal("stall") }).strict())
      .default([]),
    faults: z.array(faultSpec).default([]),
  })
  .strict();

export type Scenario = z.input<typeof scenarioSchema>;
export type ParsedScenario = z.output<typeof scenarioSchema>;
export type BehaviourRule = ParsedScenario["behaviours"][number];
export type FaultSpec = z.output<typeof faultSpec>;
export type ValidatorSelector = z.input<typeof selector>;

export function parseScenario(input: unknown): ParsedScenario {
  const r = scenarioSchema.safeParse(input);
  if (!r.success) {
    const issue = r.error.issues[0];
    const field =
      issue === undefined || issue.path.length === 0 ? "scenario" : `scenario.${issue.path.join(".")}`;
    throw new ValidationError(field, issue?.message ?? "invalid");
  }
  return r.data;
}

export function parseFault(input: unknown): FaultSpec {
  const r = faultSpec.safeParse(input);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new ValidationError(`fault.${issue?.path.join(".") ?? ""}`, issue?.message ?? "invalid");
  }
  return r.data;
}

/** Expands a selector into inclusive [start, end] ranges. */
export function selectorRanges(sel: ValidatorSelector): Array<[number, number]> {
  const items = Array.isArray(sel) ? sel : [sel];
  return items.map((it) => {
    if (typeof it === "number") return [it, it];
    const [a, b] = it.split("-");
    const start = Number(a);
    const end = b === undefined ? start : Number(b);
    if (end < start) throw new ValidationError("validators", `range ${it} is reversed`);
    return [start, end];
  });
}

/**
 * Behaviour of validators 0..n-1 in `epoch` from the rules (later rules override earlier ones):
 * a code per validator (codes: BEHAVIOUR_CODE order) and the attestation inclusion delay.
 */
export function behaviourCodes(
  rules: readonly BehaviourRule[],
  epoch: number,
  n: number,
  codeOf: Record<BehaviourKind, number>,
): { code: Uint8Array; delay: Uint8Array } {
  const code = new Uint8Array(n);
  const delay = new Uint8Array(n).fill(1);
  for (const r of rules) {
    if (epoch < r.from || (r.to !== undefined && epoch >= r.to)) continue;
    const c = codeOf[r.behaviour];
    for (const [a, b] of selectorRanges(r.validators)) {
      const lo = Math.max(0, a);
      const hi = Math.min(n - 1, b);
      if (hi < lo) continue;
      code.fill(c, lo, hi + 1);
      delay.fill(r.behaviour === "late" ? (r.delay ?? 2) : 1, lo, hi + 1);
    }
  }
  return { code, delay };
}
