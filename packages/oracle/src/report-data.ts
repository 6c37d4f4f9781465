/**
 * What oracle members agree on, after Lido's AccountingOracle ReportData, as an SSZ container:
 * its serialization is the canonical encoding (two members with the same inputs produce the same
 * bytes) and its hash tree root is the report hash they sign and vote for.
 */
import {
  BooleanType,
  ContainerType,
  ListBasicType,
  ListCompositeType,
  UintBigintType,
  UintNumberType,
} from "@chainsafe/ssz";
import { toHex0x } from "@poolkeeper/core";
import { type FeeConfig, MAX_FINALIZATION_BATCHES, type ReportInput } from "@poolkeeper/ledger";

/** Bumped whenever the report's meaning changes: members on another version do not count. */
export const CONSENSUS_VERSION = 2;
/** Validators one report may ask to exit (the ether cap, ORACLE_MAX_EXIT_ETHER_PER_REPORT, is far below). */
export const MAX_REPORT_EXITS = 1 << 16;
/** Operators per report (Lido's node operator registry is far below this). */
export const MAX_REPORT_OPERATORS = 1 << 16;

const Uint64 = new UintNumberType(8);
const Gwei = new UintBigintType(8);
const Uint256 = new UintBigintType(32);

export const OperatorReportType = new ContainerType({
  operatorId: Uint64,
  /** Its validators active at some point of the frame, exited by the ref slot, and those whose performance earns a share. */
  activeValidators: Uint64,
  exitedValidators: Uint64,
  rewardedValidators: Uint64,
  balanceGwei: Gwei,
});

/** A validator the report asks its operator to exit (the ejector rule, ejector.ts). */
export const ValidatorToExitType = new ContainerType({
  operatorId: Uint64,
  validatorIndex: Uint64,
});

export const ReportDataType = new ContainerType({
  consensusVersion: Uint64,
  refSlot: Uint64,
  /** Pool keys the consensus layer knows at the ref slot (validators, or deposits pending), and their deposit amounts. */
  clValidators: Uint64,
  clDepositedGwei: Gwei,
  clBalanceGwei: Gwei,
  clPendingBalanceGwei: Gwei,
  exitedValidators: Uint64,
  operators: new ListCompositeType(OperatorReportType, MAX_REPORT_OPERATORS),
  withdrawalVaultBalanceWei: Uint256,
  elRewardsVaultBalanceWei: Uint256,
  withdrawalFinalizationBatches: new ListBasicType(Uint64, MAX_FINALIZATION_BATCHES),
  simulatedShareRate: Uint256,
  isBunkerMode: new BooleanType(),
  /** Sorted by operator, then validator index (consensus version 2). */
  validatorsToExit: new ListCompositeType(ValidatorToExitType, MAX_REPORT_EXITS),
});

export type ReportData = ReturnType<typeof ReportDataType.defaultValue>;
export type OperatorReport = ReturnType<typeof OperatorReportType.defaultValue>;

export function encodeReport(r: ReportData): Uint8Array {
  return ReportDataType.serialize(r);
}

export function decodeReport(bytes: Uint8Array): ReportData {
  return ReportDataType.deserialize(bytes);
}

/** The hash members vote for: the report's hash tree root, 0x-hex. */
export function reportHash(r: ReportData): string {
  return toHex0x(ReportDataType.hashTreeRoot(r));
}

const GWEI = 1_000_000_000n;

/**
 * The ledger's input for an agreed report: amounts in wei, each operator's reward address from
 * the registry (`rewardAddressOf`), the ref slot's time and the time since the last report.
 */
export function ledgerInputOf(
  r: ReportData,
  ctx: {
    refTimestamp: number;
    /** The previous report's ref slot time; for the first report, the slot before the initial epoch. */
    previousRefTimestamp: number;
    rewardAddressOf: (operatorId: number) => string;
  },
): ReportInput {
  return {
    refSlot: r.refSlot,
    timestamp: ctx.refTimestamp,
    timeElapsed: ctx.refTimestamp - ctx.previousRefTimestamp,
    clValidators: r.clValidators,
    clDepositedWei: r.clDepositedGwei * GWEI,
    clBalanceWei: r.clBalanceGwei * GWEI,
    clPendingWei: r.clPendingBalanceGwei * GWEI,
    withdrawalVaultWei: r.withdrawalVaultBalanceWei,
    elRewardsVaultWei: r.elRewardsVaultBalanceWei,
    finalizationBatches: [...r.withdrawalFinalizationBatches],
    simulatedShareRate: r.simulatedShareRate,
    operators: r.operators.map((o) => ({
      operatorId: String(o.operatorId),
      rewardAddress: ctx.rewardAddressOf(o.operatorId),
      activeValidators: o.activeValidators,
      rewardedValidators: o.rewardedValidators,
    })),
  };
}

export type { FeeConfig };
