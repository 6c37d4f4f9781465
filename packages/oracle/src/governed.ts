/**
 * The oracle's governed parameters (issue 14), each with its schema here, where the rule lives:
 * the fee and its split (`fee`: the ledger's FeeConfig), the oracle members and quorum
 * (`oracle.members`), the sanity-check limits (`oracle.sanityLimits`, as ORACLE_SANITY_LIMITS
 * writes them) and the frame (`oracle.frame`: epochs per frame and the initial epoch). With
 * governance the admin API's consensus and frame source read them from the governance store at
 * each vote and frame (`OracleConfig.parameters`); the configuration only gives their genesis.
 */
import { PoolkeeperError, ValidationError } from "@poolkeeper/core";
import { intOf, type KindSpec, objectOf, signerSetOf } from "@poolkeeper/governance";
import { checkFeeConfig, type FeeConfig } from "@poolkeeper/ledger";
import type { OracleMember } from "./consensus.js";
import { ORACLE_ERRORS } from "./errors.js";
import type { FrameConfig } from "./frames.js";
import type { OracleConfig } from "./oracle-consensus.js";
import { DEFAULT_SANITY_LIMITS, parseSanityLimits, type SanityLimits } from "./sanity.js";

export const FEE_PARAMETER = "fee";
export const ORACLE_MEMBERS_PARAMETER = "oracle.members";
export const SANITY_LIMITS_PARAMETER = "oracle.sanityLimits";
export const FRAME_PARAMETER = "oracle.frame";

/** What the decider and the frame source use of the governed parameters. */
export interface OracleParameters {
  members: OracleMember[];
  quorum: number;
  fees: FeeConfig;
  sanity: SanityLimits;
  epochsPerFrame: number;
  initialEpoch: number;
}

/** A ValidationError of a rule written for the configuration, its field renamed under `value`. */
function asValue<T>(prefix: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof ValidationError) {
      const d = e.details as { field: string; reason: string };
      const field = d.field.startsWith(`${prefix}.`) ? d.field.slice(prefix.length + 1) : d.field;
      throw new ValidationError(field === prefix ? "value" : `value.${field}`, d.reason);
    }
    throw e;
  }
}

export function sanityLimitsToJson(l: SanityLimits): Record<string, unknown> {
  return Object.fromEntries(Object.entries(l).map(([k, v]) => [k, typeof v === "bigint" ? v.toString() : v]));
}

export const ORACLE_KINDS: readonly KindSpec[] = [
  {
    kind: FEE_PARAMETER,
    type: "parameter",
    description:
      "The pool's fee on rewards and its split: totalFeeBP, operatorsFeeBP (the operators' part; the treasury gets the rest), treasury",
    parse(value) {
      const o = objectOf(value, "value", ["totalFeeBP", "operatorsFeeBP", "treasury"]);
      if (typeof o.treasury !== "string") throw new ValidationError("value.treasury", "must be an address");
      const f = asValue("fees", () =>
        checkFeeConfig({
          totalFeeBP: o.totalFeeBP as number,
          operatorsFeeBP: o.operatorsFeeBP as number,
          treasury: o.treasury as string,
        }),
      );
      return { totalFeeBP: f.totalFeeBP, operatorsFeeBP: f.operatorsFeeBP, treasury: f.treasury };
    },
  },
  {
    kind: ORACLE_MEMBERS_PARAMETER,
    type: "parameter",
    description: "The oracle members (id and BLS public key) and the quorum of votes that decides a report",
    parse: (value) => signerSetOf(value, false),
  },
  {
    kind: SANITY_LIMITS_PARAMETER,
    type: "parameter",
    description:
      "The sanity-check limits a report must pass (every field of SanityLimits; ether and maxPositiveTokenRebase as decimal strings)",
    parse(value) {
      objectOf(value, "value", Object.keys(DEFAULT_SANITY_LIMITS));
      const full = Object.keys(DEFAULT_SANITY_LIMITS).filter((k) => !(k in (value as object)));
      if (full.length > 0)
        throw new ValidationError(`value.${full[0]}`, "is missing: a proposal gives every limit");
      return sanityLimitsToJson(asValue("sanity", () => parseSanityLimits(JSON.stringify(value))));
    },
  },
  {
    kind: FRAME_PARAMETER,
    type: "parameter",
    description:
      "The report frame: epochsPerFrame and initialEpoch (choose an initial epoch at a future frame border so that no frame is cut)",
    parse(value) {
      const o = objectOf(value, "value", ["epochsPerFrame", "initialEpoch"]);
      return {
        epochsPerFrame: intOf(o.epochsPerFrame, "value.epochsPerFrame", 1, 1_000_000),
        initialEpoch: intOf(o.initialEpoch, "value.initialEpoch", 0),
      };
    },
  },
];

/** The genesis values of the oracle's parameters: today's configuration. */
export function oracleGenesis(cfg: OracleConfig): Record<string, unknown> {
  return {
    [FEE_PARAMETER]: { ...cfg.fees },
    [ORACLE_MEMBERS_PARAMETER]: { members: cfg.members.map((m) => ({ ...m })), quorum: cfg.quorum },
    [SANITY_LIMITS_PARAMETER]: sanityLimitsToJson(cfg.sanity ?? DEFAULT_SANITY_LIMITS),
    [FRAME_PARAMETER]: { epochsPerFrame: cfg.frames.epochsPerFrame, initialEpoch: cfg.frames.initialEpoch },
  };
}

/** The oracle's parameters from the governed values by name (each was checked by its schema when stored). */
export function oracleParametersOf(values: ReadonlyMap<string, unknown>): OracleParameters {
  const get = (name: string) => {
    const v = values.get(name);
    if (v === undefined)
      throw new PoolkeeperError(ORACLE_ERRORS.NOT_FOUND, `governed parameter ${name} has no value`, { name });
    return v as Record<string, unknown>;
  };
  const m = get(ORACLE_MEMBERS_PARAMETER) as { members: OracleMember[]; quorum: number };
  const f = get(FRAME_PARAMETER) as { epochsPerFrame: number; initialEpoch: number };
  return {
    members: m.members,
    quorum: m.quorum,
    fees: get(FEE_PARAMETER) as unknown as FeeConfig,
    sanity: parseSanityLimits(JSON.stringify(get(SANITY_LIMITS_PARAMETER))),
    epochsPerFrame: f.epochsPerFrame,
    initialEpoch: f.initialEpoch,
  };
}

/** The parameters of a configuration without governance (tests, a pool with no DAO). */
export function staticOracleParameters(cfg: OracleConfig): OracleParameters {
  return {
    members: cfg.members,
    quorum: cfg.quorum,
    fees: cfg.fees,
    sanity: cfg.sanity ?? DEFAULT_SANITY_LIMITS,
    epochsPerFrame: cfg.frames.epochsPerFrame,
    initialEpoch: cfg.frames.initialEpoch,
  };
}

/** The governed values a frame's snapshot pins: its report is built and applied with them. */
export const FRAME_PINNED_PARAMETERS = [FEE_PARAMETER, SANITY_LIMITS_PARAMETER] as const;

/**
 * `p` with the fee and sanity limits pinned in a frame's snapshot (`governed`, null: nothing
 * pinned, `p` as it is): a proposal executed while a frame's report is built changes the next
 * frame's.
 */
export function withPinned(
  p: OracleParameters,
  governed: Readonly<Record<string, unknown>> | null,
): OracleParameters {
  if (governed === null) return p;
  const fee = governed[FEE_PARAMETER];
  const sanity = governed[SANITY_LIMITS_PARAMETER];
  return {
    ...p,
    ...(fee !== undefined ? { fees: fee as FeeConfig } : {}),
    ...(sanity !== undefined ? { sanity: parseSanityLimits(JSON.stringify(sanity)) } : {}),
  };
}

export function framesWith(base: FrameConfig, p: OracleParameters): FrameConfig {
  return { ...base, epochsPerFrame: p.epochsPerFrame, initialEpoch: p.initialEpoch };
}
