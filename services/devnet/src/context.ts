/**
 * The shared context of a devnet run: the options, where lines go, what each step has started
 * (`parts`, filled in step order) and the teardown, run in reverse order of registration.
 */
import type { RunningAdminApi } from "@poolkeeper/admin-api";
import type { BeaconSim } from "@poolkeeper/beacon-sim";
import type { ApiClient } from "@poolkeeper/contract";
import { type Logger, type Network, PoolkeeperError, ServiceParts } from "@poolkeeper/core";
import type { AlertKind, Store } from "@poolkeeper/store";
import type { Watcher } from "@poolkeeper/watcher";
import type { Redis } from "ioredis";
import { DEVNET_ERRORS } from "./errors.js";
import type { DevnetSettings } from "./options.js";

/** The deposit batch as the admin API answers POST /v1/deposits/batches (the contract's shape). */
export type DepositBatchAnswer = Awaited<ReturnType<ApiClient["allocateDepositBatch"]>>["data"];

export interface DevnetOptions extends DevnetSettings {
  /** "wall" (default): the sim follows real time; "manual": the caller moves it (tests). */
  clock?: "wall" | "manual";
  /** Where the summary and the start-up lines go (default: stdout). */
  out?: (line: string) => void;
  /** Log level of devnet.log (default info). */
  logLevel?: string;
  /** How often the devnet looks for news to print (default 1000 ms). */
  pollMs?: number;
}

/** An account that staked into the pool before the deposit batch. */
export interface DevnetStaker {
  /** 0x and 40 hex digits, lower case. */
  account: string;
  wei: bigint;
}

export interface DevnetOperator {
  id: number;
  name: string;
  uploaded: number;
  vetted: number;
  deposited: number;
  /** Beacon-chain indices of its deposited validators. */
  validators: number[];
  /** Its daemon's directory (`poolkeeper daemon init --dir`). */
  daemonDir: string | null;
  /** False: its daemon runs with --exit-signer none (the scenario's exits.ignoredBy). */
  signsExits: boolean;
}

export interface OperatorSummary {
  id: number;
  name: string;
  validators: number;
  /** Its keys deposited by the pool. */
  deposited: number;
  attAssigned: number;
  attIncluded: number;
  /** Lido CSM's duty performance over the watcher's epochs (null before any duty). */
  csmPerformance: number | null;
  alerts: Partial<Record<AlertKind, number>>;
}

export interface DevnetSummary {
  headEpoch: number;
  finalizedEpoch: number;
  /** Last epoch the watcher has processed (null: none yet). */
  watcherEpoch: number | null;
  poolActive: number;
  poolDeposited: number;
  operators: OperatorSummary[];
  oracle: OracleSummary;
  /** The pool's exit requests, oldest first. */
  exits: ExitSummary[];
  /** Governance proposals executed, oldest first (none without a DAO). */
  proposalsExecuted: ExecutedProposal[];
  /** The run's deposit batches and the guardians who signed each. */
  batches: BatchSummary[];
  /** The pool's fee: its genesis value, its value now and the first report that used it (null without a DAO). */
  fee: FeeSummary | null;
}

/** One executed governance proposal (times ISO 8601). */
export interface ExecutedProposal {
  id: number;
  kind: string;
  value: unknown;
  /** The DAO members whose approvals it has, in order. */
  approvals: string[];
  approvedAt: string | null;
  executedAt: string | null;
}

export interface FeeValue {
  totalFeeBP: number;
  operatorsFeeBP: number;
  treasury: string;
}

export interface FeeSummary {
  /** The genesis value (the configuration at governance's first start). */
  before: FeeValue;
  /** The value now, and the proposal that set it (null: still the genesis). */
  after: FeeValue;
  proposalId: number | null;
  /** Ref slot of the first applied report that used `after` once it was set (null: none yet). */
  firstReportRefSlot: number | null;
}

/** A deposit guardian of the devnet: its key and token files (0600, never printed). */
export interface DevnetGuardian {
  id: string;
  publicKey: string;
  keyFile: string;
  tokenFile: string;
}

/** A deposit batch of the run and what the guardians made of it. */
export interface BatchSummary {
  id: number;
  keys: number;
  status: "released" | "refused";
  /** The guardians whose signatures released it (none: refused, or no guardians). */
  signers: string[];
}

/** A DAO member of the devnet: its key and token files (0600, never printed). */
export interface DevnetDaoMember {
  id: string;
  publicKey: string;
  keyFile: string;
  tokenFile: string;
}

/** One exit request as the summary shows it (epochs of the chain). */
export interface ExitSummary {
  validator: { index: number; pubkey: string };
  operator: number;
  /** Why: withdrawals (an oracle report), dao or admin. */
  reason: string;
  state: string;
  /** voluntary: its operator signed it; triggered: the pool's EIP-7002 request; null: not exiting yet. */
  by: "voluntary" | "triggered" | null;
  requestedEpoch: number;
  deadlineEpoch: number;
  /** The validator's exit epoch, once the request is exited (null before). */
  exitedEpoch: number | null;
}

/** The staker's withdrawal request that drives the exits (the scenario's exits.withdrawEth). */
export interface DevnetWithdrawal {
  account: string;
  wei: bigint;
  requestId: number;
  epoch: number;
}

/** The oracle's part of the summary (amounts and rates as decimal strings). */
export interface OracleSummary {
  reportsApplied: number;
  /** Decided reports, oldest first: each member's vote (the hash it voted for). */
  reports: {
    refSlot: number;
    status: "applied" | "refused";
    hash: string;
    votes: Record<string, string>;
    failedChecks: string[];
  }[];
  /** Share rate (1e27 precision) before the first applied report and now. */
  shareRate: { before: string; after: string };
  /** Fee shares minted per recipient over the run, and their worth now (wei). */
  feesMinted: { account: string; operatorId: string | null; shares: string; wei: string }[];
  totalPooledEther: string;
  totalShares: string;
  bufferedWei: string;
}

/** An oracle member of the devnet: its key and token files (0600) and how it reads the chain. */
export interface DevnetOracleMember {
  id: string;
  publicKey: string;
  keyFile: string;
  tokenFile: string;
  clSource: "ssz" | "json";
}

/** The operator taken offline and when (epochs [from, to)), once its validators are active. */
export interface DevnetOffline {
  operatorId: number;
  fromEpoch: number | null;
  toEpoch: number | null;
}

/** What the steps start and compute, each part set by one step and read by the later ones. */
export interface DevnetParts {
  redis: Redis;
  /** The Redis the run uses: --redis-url, or a private redis-server's. */
  redisUrl: string;
  /** Prefix of the run's Redis keys (removed at exit). */
  redisPrefix: string;
  /** <data-dir>/db: PGlite's directory (unused with --database-url). */
  dbDir: string;
  /** <data-dir>/operators: each operator's daemon directory, password and mnemonic backup. */
  operatorsDir: string;
  logFile: string;
  /** devnet.log: the devnet's logger writes to it, and the oracle members' lines go to it as they are. */
  logStream: NodeJS.WritableStream;
  logger: Logger;
  sim: BeaconSim;
  network: Network;
  networkFile: string;
  /** The pool's withdrawal address and credentials (0x01). */
  withdrawalAddress: Uint8Array;
  withdrawalCredentials: Uint8Array;
  store: Store;
  /** The admin API's environment as the devnet starts it (no secret in it). */
  apiEnv: Record<string, string>;
  /** The admin API running in this process (restarted once when governance is switched on). */
  api: RunningAdminApi;
  /** The DAO's members (null: the scenario has no governance). */
  dao: DevnetDaoMember[] | null;
  /** The deposit guardians (none: the scenario has none). */
  guardians: DevnetGuardian[];
  /** The run's deposit batches, in order, with their guardians' verdicts. */
  batches: BatchSummary[];
  /** The admin token: only in memory and in `tokenFile` (0600), never printed. */
  token: string;
  tokenFile: string;
  apiUrl: string;
  operators: DevnetOperator[];
  /** The accounts that staked what the batch costs, before it. */
  stakers: DevnetStaker[];
  batch: DepositBatchAnswer;
  /** Beacon-chain indices of the pool's deposited validators. */
  poolIndices: number[];
  offline: DevnetOffline | null;
  /** The staker's withdrawal request once made (the scenario's exits.withdrawEth). */
  withdrawal: { current: DevnetWithdrawal | null };
  watcher: Watcher;
  oracleMembers: DevnetOracleMember[];
  summary: () => Promise<DevnetSummary>;
  printSummary: () => Promise<void>;
}

/** One step of the run: starts something, sets its parts, registers its teardown. */
export interface DevnetStep {
  name: string;
  run(ctx: DevnetContext): Promise<void> | void;
}

export class DevnetContext {
  private readonly parts: Partial<DevnetParts> = {};
  /** The teardown: the service kit's parts, closed in reverse order of registration, once. */
  private readonly teardown = new ServiceParts();

  constructor(
    readonly options: DevnetOptions,
    /** The data directory, absolute. */
    readonly dataDir: string,
    /** Where the start-up lines and the summary go. */
    readonly out: (line: string) => void,
  ) {}

  /** A part an earlier step set; a step run out of order is a bug. */
  get<K extends keyof DevnetParts>(key: K): DevnetParts[K] {
    const v = this.parts[key];
    if (v === undefined)
      throw new PoolkeeperError(
        DEVNET_ERRORS.RUN,
        `devnet step order: "${key}" is read before any step set it`,
      );
    return v as DevnetParts[K];
  }

  set<K extends keyof DevnetParts>(key: K, value: DevnetParts[K]): void {
    this.parts[key] = value;
  }

  /** Registers a teardown step: they run in reverse order of registration. */
  onClose(step: () => Promise<unknown> | unknown): void {
    this.teardown.onClose(`devnet teardown ${this.teardown.names().length + 1}`, step);
  }

  /** Runs the teardown in reverse order; every step runs even if one fails. Once. */
  close(): Promise<void> {
    return this.teardown.close().catch(() => undefined); // each step ran; the devnet reports none
  }
}
