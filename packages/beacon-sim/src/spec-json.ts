/** /eth/v1/config/spec as a Lodestar node answers it: chain config, preset values and spec constants. */
import { chainConfigToJson, specValuesToJson } from "@lodestar/config";
import * as params from "@lodestar/params";
import { ACTIVE_PRESET, activePreset } from "@lodestar/params";
import type { SimChain } from "./chain.js";

/** Spec constants a Lodestar node adds to /eth/v1/config/spec (values from @lodestar/params). */
const SPEC_CONSTANTS = [
  "GENESIS_SLOT",
  "GENESIS_EPOCH",
  "FAR_FUTURE_EPOCH",
  "BASE_REWARDS_PER_EPOCH",
  "DEPOSIT_CONTRACT_TREE_DEPTH",
  "JUSTIFICATION_BITS_LENGTH",
  "BLS_WITHDRAWAL_PREFIX",
  "ETH1_ADDRESS_WITHDRAWAL_PREFIX",
  "COMPOUNDING_WITHDRAWAL_PREFIX",
  "DOMAIN_BEACON_PROPOSER",
  "DOMAIN_BEACON_ATTESTER",
  "DOMAIN_RANDAO",
  "DOMAIN_DEPOSIT",
  "DOMAIN_VOLUNTARY_EXIT",
  "DOMAIN_SELECTION_PROOF",
  "DOMAIN_AGGREGATE_AND_PROOF",
  "DOMAIN_APPLICATION_BUILDER",
  "DOMAIN_CONSOLIDATION",
  "TARGET_AGGREGATORS_PER_COMMITTEE",
  "RANDOM_SUBNETS_PER_VALIDATOR",
  "EPOCHS_PER_RANDOM_SUBNET_SUBSCRIPTION",
  "ATTESTATION_SUBNET_COUNT",
  "TIMELY_SOURCE_FLAG_INDEX",
  "TIMELY_TARGET_FLAG_INDEX",
  "TIMELY_HEAD_FLAG_INDEX",
  "TIMELY_SOURCE_WEIGHT",
  "TIMELY_TARGET_WEIGHT",
  "TIMELY_HEAD_WEIGHT",
  "SYNC_REWARD_WEIGHT",
  "PROPOSER_WEIGHT",
  "WEIGHT_DENOMINATOR",
  "DOMAIN_SYNC_COMMITTEE",
  "DOMAIN_SYNC_COMMITTEE_SELECTION_PROOF",
  "DOMAIN_CONTRIBUTION_AND_PROOF",
  "TARGET_AGGREGATORS_PER_SYNC_SUBCOMMITTEE",
  "SYNC_COMMITTEE_SUBNET_COUNT",
  "DOMAIN_BLS_TO_EXECUTION_CHANGE",
  "BLOB_TX_TYPE",
  "VERSIONED_HASH_VERSION_KZG",
  "UNSET_DEPOSIT_REQUESTS_START_INDEX",
  "FULL_EXIT_REQUEST_AMOUNT",
] as const;
const SPEC_CONSTANT_FALLBACKS: Record<string, string> = {
  FAR_FUTURE_EPOCH: "18446744073709551615",
  UNSET_DEPOSIT_REQUESTS_START_INDEX: "18446744073709551615",
  RANDOM_SUBNETS_PER_VALIDATOR: "1",
  DOMAIN_CONSOLIDATION: "0x0b000000",
  EPOCHS_PER_RANDOM_SUBNET_SUBSCRIPTION: "256",
  ENDIANNESS: "little",
};

function specConstants(): Record<string, string> {
  const out: Record<string, string> = { ENDIANNESS: "little" };
  const all = params as unknown as Record<string, unknown>;
  for (const name of SPEC_CONSTANTS) {
    const v = all[name];
    if (name in SPEC_CONSTANT_FALLBACKS && (typeof v !== "number" || !Number.isFinite(v)))
      out[name] = SPEC_CONSTANT_FALLBACKS[name] ?? "";
    else if (typeof v === "number" || typeof v === "bigint") out[name] = v.toString(10);
    else if (v instanceof Uint8Array) out[name] = `0x${Buffer.from(v).toString("hex")}`;
    else if (SPEC_CONSTANT_FALLBACKS[name] !== undefined) out[name] = SPEC_CONSTANT_FALLBACKS[name];
  }
  return out;
}

export function specJson(c: SimChain): Record<string, string> {
  const spec = {
    ...chainConfigToJson(c.config),
    ...specValuesToJson(activePreset as unknown as Record<string, number>),
    ...specConstants(),
  } as Record<string, string>;
  spec.PRESET_BASE = ACTIVE_PRESET;
  spec.CONFIG_NAME = "beacon-sim";
  spec.SLOTS_PER_EPOCH = String(c.slotsPerEpoch);
  spec.SECONDS_PER_SLOT = String(c.secondsPerSlot);
  return spec;
}
