import { API_CAPS, type ApiRole, LIMITS } from "@poolkeeper/core";
import { type TSchema, Type } from "typebox";
import { envelope, listEnvelope, OperatorId, OperatorIdParam, oneOf, PageLimit, Pubkey } from "./common.js";
import {
  BatchSecuritySchema,
  HeartbeatBody,
  PauseBody,
  PendingBatchesSchema,
  RefusalBody,
  ReleaseBody,
  SecurityStatusSchema,
  UnpauseBody,
} from "./deposit-security.js";
import {
  AllocateBody,
  BatchIdParam,
  DepositBatch,
  DepositBatchSummary,
  DepositDataFile,
  SimulateBody,
  Simulation,
} from "./deposits.js";
import { CreateExitBody, ExitIdParam, ExitProgressBody, ExitRequest, ExitsQuery } from "./exits.js";
import {
  GovernanceHistoryEntry,
  GovernanceParameters,
  Proposal,
  ProposalBody,
  ProposalIdParam,
  ProposalsQuery,
  SignatureBody,
} from "./governance.js";
import { Live, Ready } from "./health.js";
import { DepositDataEntry, Key, KeyDetail, KeysQuery, UploadResult, VetResult } from "./keys.js";
import { CreateOperatorBody, Operator, Reason, UpdateOperatorBody } from "./operators.js";
import {
  FrameContextSchema,
  FrameKey,
  OracleReport,
  OracleSetup,
  PoolIdentity,
  RefSlotParam,
  VoteBody,
  VoteResult,
} from "./oracle.js";
import {
  Alert,
  AlertKindSchema,
  OperatorsPerformance,
  PerformanceHistory,
  ValidatorHistory,
  WINDOWS,
} from "./performance.js";
import {
  Account,
  AddressParam,
  ClaimBody,
  ClaimResult,
  PoolSummary,
  RequestIdParam,
  ShareRatePoint,
  SubmitBody,
  SubmitResult,
  WithdrawalBody,
  WithdrawalResult,
} from "./pool.js";
import {
  PublicConcentration,
  PublicControl,
  PublicFees,
  PublicOperators,
  PublicRisk,
  PublicToken,
  PublicWithdrawals,
} from "./public.js";
import { AuditEntry, AuditTarget, Review } from "./review.js";
import { OperatorRewardsPage } from "./rewards.js";

/**
 * Every route of the admin API, described once: method, path, inputs, answers per status, who
 * may call it. The server registers its routes from this table (services/admin-api) and
 * `createApiClient` calls them from it; neither restates a shape.
 */
export interface RouteSpec {
  readonly method: "GET" | "POST" | "PATCH" | "DELETE";
  /** fastify's form: `:name` for a path parameter. */
  readonly url: string;
  readonly params?: TSchema;
  readonly querystring?: TSchema;
  readonly body?: TSchema;
  /** The success answers by status. */
  readonly response: Readonly<Record<number, TSchema>>;
  /** Error statuses the route may answer besides 400, 401, 403 and 429 (each an `Error` body). */
  readonly errors: readonly number[];
  readonly access: { readonly roles: readonly ApiRole[] | "public"; readonly operatorParam?: string };
  /**
   * How the success body is read: JSON (default), text (a file, Prometheus metrics), or
   * server-sent events (`sse`: the client yields each event as it arrives).
   */
  readonly format?: "json" | "text" | "sse";
  readonly tags: readonly string[];
  readonly summary: string;
  readonly description?: string;
}

const route = <const R extends RouteSpec>(r: R): R => r;

const EVERYONE = ["admin", "dao", "operator"] as const;
const READERS = ["admin", "dao"] as const;
const ADMIN = ["admin"] as const;
/** Oracle members read what they build reports on; admins and the DAO may look too. */
const ORACLE_READERS = ["admin", "dao", "oracle"] as const;
export const FRAME_KEYS_PAGE = 10_000;
const ADMIN_OR_OWNER = ["admin", "operator"] as const;
/** Deposit guardians' processes (their messages are checked by their BLS signatures); admins and the DAO may read. */
const GUARDIAN_READERS = ["admin", "dao", "guardian"] as const;

const OperatorQuery = Type.String({ pattern: "^[0-9]{1,9}$", description: "Operator id" });
const EpochQuery = (description: string) => Type.String({ pattern: "^[0-9]{1,10}$", description });
/** `limit` of the lists read newest first (default LIMITS.listPageDefault). */
const ListLimit = PageLimit(LIMITS.listPage, `Page size (default ${LIMITS.listPageDefault})`);
/** `cursor`: meta.nextCursor of the previous page (an id; the page starts below it). */
const Cursor = (maxDigits: number) =>
  Type.String({ pattern: `^[0-9]{1,${maxDigits}}$`, description: "meta.nextCursor of the previous page" });

/** A public page route: GET, no token, no input, cached by the server (Cache-Control). */
const publicRoute = <const U extends string, const S extends TSchema>(url: U, data: S, summary: string) =>
  route({
    method: "GET",
    url,
    response: { 200: envelope(data) },
    errors: [],
    access: { roles: "public" },
    tags: ["public"],
    summary,
    description:
      "No token. Rate-limited per client address and cached for a few seconds (Cache-Control: public, max-age). Every field is on the public allow-list.",
  });

/** POST /v1/governance/proposals/{id}/approve or /cancel: a DAO member's signature over the proposal. */
const signedProposalRoute = <const A extends "approve" | "cancel">(action: A, summary: string) =>
  route({
    method: "POST",
    url: `/v1/governance/proposals/:id/${action}`,
    params: ProposalIdParam,
    body: SignatureBody,
    response: { 200: envelope(Proposal) },
    errors: [404, 409, 422, 503],
    access: { roles: READERS },
    tags: ["governance"],
    summary,
  });

export const API_ROUTES = {
  listOperators: route({
    method: "GET",
    url: "/v1/operators",
    response: { 200: envelope(Type.Array(Operator)) },
    errors: [],
    access: { roles: EVERYONE },
    tags: ["operators"],
    summary: "List operators (an operator token sees its own only)",
  }),
  createOperator: route({
    method: "POST",
    url: "/v1/operators",
    body: CreateOperatorBody,
    response: { 201: envelope(Operator) },
    errors: [409, 422],
    access: { roles: ADMIN },
    tags: ["operators"],
    summary: "Create an operator",
  }),
  getOperator: route({
    method: "GET",
    url: "/v1/operators/:id",
    params: OperatorIdParam,
    response: { 200: envelope(Operator) },
    errors: [404],
    access: { roles: EVERYONE, operatorParam: "id" },
    tags: ["operators"],
    summary: "One operator with its key counts",
  }),
  updateOperator: route({
    method: "PATCH",
    url: "/v1/operators/:id",
    params: OperatorIdParam,
    body: UpdateOperatorBody,
    response: { 200: envelope(Operator) },
    errors: [404, 409, 422],
    access: { roles: READERS },
    tags: ["operators"],
    summary: "Change name, reward address, active flag, vetted limit or target limit",
    description:
      "Admins may change every field; the DAO only the vetted and target limits. Lowering the vetted limit below the deposited count is refused (409).",
  }),
  uploadKeys: route({
    method: "POST",
    url: "/v1/operators/:id/keys",
    params: OperatorIdParam,
    body: Type.Array(DepositDataEntry, { minItems: 1, maxItems: API_CAPS.uploadEntries }),
    response: { 201: envelope(UploadResult) },
    errors: [404, 409, 413, 422, 429],
    access: { roles: ADMIN_OR_OWNER, operatorParam: "id" },
    tags: ["keys"],
    summary: "Upload deposit data (the deposit_data.json array): all or nothing",
    description:
      "Every entry is validated before anything is stored (launchpad checks with batch BLS verification, the pool's withdrawal credentials and network, 32 ETH, no duplicates here or in the registry). Any failure: 422 with `details.failures` listing each bad entry and its reasons.",
  }),
  removeKey: route({
    method: "DELETE",
    url: "/v1/operators/:id/keys/:pubkey",
    params: Type.Object({ id: OperatorId, pubkey: Pubkey }),
    querystring: Type.Object({ reason: Type.Optional(Reason) }, { additionalProperties: false }),
    response: { 204: Type.Null() },
    errors: [404, 409],
    access: { roles: ADMIN_OR_OWNER, operatorParam: "id" },
    tags: ["keys"],
    summary: "Remove a key that was never deposited",
  }),
  vetKeys: route({
    method: "POST",
    url: "/v1/operators/:id/keys/vet",
    params: OperatorIdParam,
    body: Type.Optional(Type.Object({ reason: Type.Optional(Reason) }, { additionalProperties: false })),
    response: { 200: envelope(VetResult) },
    errors: [404, 409],
    access: { roles: READERS },
    tags: ["keys"],
    summary: "Vet submitted keys in upload order, up to the operator's vetted limit",
  }),
  listKeys: route({
    method: "GET",
    url: "/v1/keys",
    querystring: KeysQuery,
    response: { 200: listEnvelope(Key) },
    errors: [],
    access: { roles: EVERYONE },
    tags: ["keys"],
    summary: "List keys, streamed",
    description:
      "Streams `{data: Key[], meta: {count, nextCursor}}` as it reads the database, in constant memory. Without `limit` every matching key is returned; with it, one page and `meta.nextCursor` for the next. An operator token sees its own keys only.",
  }),
  getKey: route({
    method: "GET",
    url: "/v1/keys/:pubkey",
    params: Type.Object({ pubkey: Pubkey }),
    response: { 200: envelope(KeyDetail) },
    errors: [404],
    access: { roles: EVERYONE },
    tags: ["keys"],
    summary: "One key with its state history",
  }),
  simulateAllocation: route({
    method: "POST",
    url: "/v1/allocation/simulate",
    body: SimulateBody,
    response: { 200: envelope(Simulation) },
    errors: [404, 422],
    access: { roles: READERS },
    tags: ["allocation"],
    summary: "Dry run: allocate `count` deposits under proposed limits; nothing changes",
    description: "Returns per-operator figures and the pool's concentration before and after.",
  }),
  allocateDepositBatch: route({
    method: "POST",
    url: "/v1/deposits/batches",
    body: AllocateBody,
    response: { 201: envelope(DepositBatch) },
    errors: [409, 422],
    access: { roles: ADMIN },
    tags: ["deposits"],
    summary:
      "Allocate the next `count` deposits (MinFirst), mark their keys deposited and pay them from the pool's buffer",
    description:
      "One transaction under a pool-wide lock: concurrent calls never receive the same key, and the batch takes each key's deposit amount (32 ETH) from the pool's buffer in the same transaction. Fewer depositable keys than `count`: 409 ERR_NO_CAPACITY. A buffer (less what unfinalized withdrawal requests reserve: `depositableEther` of GET /v1/pool) that cannot pay for all `count` keys: 409 ERR_BUFFER_INSUFFICIENT with `details` neededWei, depositableWei, shortfallWei and payableKeys; the batch is refused, not cut down. Either way nothing changes.",
  }),
  listDepositBatches: route({
    method: "GET",
    url: "/v1/deposits/batches",
    querystring: Type.Object(
      { cursor: Type.Optional(Cursor(9)), limit: Type.Optional(ListLimit) },
      { additionalProperties: false },
    ),
    response: { 200: listEnvelope(DepositBatchSummary) },
    errors: [],
    access: { roles: READERS },
    tags: ["deposits"],
    summary: "Deposit batches, newest first",
    description:
      "Pages with limit (default 100, at most 1000) and cursor (meta.nextCursor of the previous page).",
  }),
  getDepositBatch: route({
    method: "GET",
    url: "/v1/deposits/batches/:id",
    params: BatchIdParam,
    response: { 200: envelope(DepositBatch) },
    errors: [404],
    access: { roles: READERS },
    tags: ["deposits"],
    summary: "One deposit batch with its keys' deposit data",
  }),
  getDepositDataFile: route({
    method: "GET",
    url: "/v1/deposits/batches/:id/deposit_data",
    params: BatchIdParam,
    response: { 200: DepositDataFile },
    errors: [404, 409],
    access: { roles: READERS },
    format: "text",
    tags: ["deposits"],
    summary:
      "One deposit batch as a deposit_data.json file (only once released: 409 ERR_BATCH_NOT_RELEASED before)",
    description:
      "The batch's keys in batch order, in the deposit_data.json format the deposit CLIs write and the staking launchpad reads (`poolkeeper keys verify` checks it).",
  }),
  getDepositSecurity: route({
    method: "GET",
    url: "/v1/deposits/security",
    response: { 200: envelope(SecurityStatusSchema) },
    errors: [],
    access: { roles: GUARDIAN_READERS },
    tags: ["deposits"],
    summary:
      "Deposit security: paused or not, by whom and why, the guardians with their last-seen slot, the quorum",
  }),
  listPendingBatches: route({
    method: "GET",
    url: "/v1/deposits/security/pending",
    response: { 200: envelope(PendingBatchesSchema) },
    errors: [],
    access: { roles: GUARDIAN_READERS },
    tags: ["deposits"],
    summary:
      "Deposit batches awaiting release, with their keys and keys root (what guardians check and sign)",
  }),
  releaseDepositBatch: route({
    method: "POST",
    url: "/v1/deposits/batches/:id/release",
    params: BatchIdParam,
    body: ReleaseBody,
    response: { 200: envelope(BatchSecuritySchema) },
    errors: [403, 404, 409, 422],
    access: { roles: ["admin", "guardian"] },
    tags: ["deposits"],
    summary:
      "Guardians' signatures over (batch, keys root, block root, slot); the batch is released once a quorum of distinct guardians signed one block and slot, fresh",
  }),
  refuseDepositBatch: route({
    method: "POST",
    url: "/v1/deposits/batches/:id/refusal",
    params: BatchIdParam,
    body: RefusalBody,
    response: { 200: envelope(BatchSecuritySchema) },
    errors: [403, 404, 409, 422],
    access: { roles: ["admin", "guardian"] },
    tags: ["deposits"],
    summary:
      "A guardian's signed refusal with front-run keys and evidence: the batch is refused whole, its payment returned to the buffer, the operator unvetted",
  }),
  pauseDeposits: route({
    method: "POST",
    url: "/v1/deposits/pause",
    body: PauseBody,
    response: { 200: envelope(SecurityStatusSchema) },
    errors: [403, 409, 422],
    access: { roles: ["admin", "guardian"] },
    tags: ["deposits"],
    summary: "A guardian's signed pause (slot it was made at; expires; never replayable after an unpause)",
  }),
  unpauseDeposits: route({
    method: "POST",
    url: "/v1/deposits/unpause",
    body: UnpauseBody,
    response: { 200: envelope(SecurityStatusSchema) },
    errors: [409],
    access: { roles: ["dao"] },
    tags: ["deposits"],
    summary: "The DAO resumes deposits, with the reason recorded",
  }),
  guardianHeartbeat: route({
    method: "POST",
    url: "/v1/deposits/guardians/heartbeat",
    body: HeartbeatBody,
    response: { 200: envelope(SecurityStatusSchema) },
    errors: [403, 409, 422],
    access: { roles: ["guardian"] },
    tags: ["deposits"],
    summary: "A guardian's signed heartbeat (its head slot and block): its last-seen slot",
  }),
  getReview: route({
    method: "GET",
    url: "/v1/review",
    response: { 200: envelope(Review) },
    errors: [],
    access: { roles: READERS },
    tags: ["review"],
    summary: "The DAO review: per-operator figures and the pool's concentration",
    description:
      "Per operator: vetted, deposited, active, exited, share of the pool's active validators, capacity left, target. Pool-wide: top-1 and top-5 share, Herfindahl-Hirschman index, Nakamoto coefficient at 1/3.",
  }),
  listAudit: route({
    method: "GET",
    url: "/v1/audit",
    querystring: Type.Object(
      {
        cursor: Type.Optional(Cursor(18)),
        limit: Type.Optional(ListLimit),
        target: Type.Optional(AuditTarget),
      },
      { additionalProperties: false },
    ),
    response: { 200: listEnvelope(AuditEntry) },
    errors: [],
    access: { roles: READERS },
    tags: ["review"],
    summary: "The audit log (limit changes, vetting decisions...), newest first",
    description:
      "Pages with limit (default 100, at most 1000) and cursor (meta.nextCursor of the previous page).",
  }),
  operatorsPerformance: route({
    method: "GET",
    url: "/v1/performance/operators",
    querystring: Type.Object(
      {
        window: Type.Optional(oneOf(WINDOWS, { description: "Default 1d" })),
        operator: Type.Optional(OperatorQuery),
      },
      { additionalProperties: false },
    ),
    response: { 200: envelope(OperatorsPerformance) },
    errors: [],
    access: { roles: EVERYONE },
    tags: ["performance"],
    summary: "Operators' scores and duty counts over a window, with the network's figure",
    description:
      "Per operator with duties in the window: Rated-style effectiveness (attester, proposer, combined 5/8 + 3/8), Lido CSM duty-weighted performance (54/8/2), duty counts and the difference to the network's own figure over the same epochs. The window is the last 1, 7 or 30 days of epochs up to the last processed one; `range` says which epochs that was and how many of them the watcher processed. An operator token sees its own operator only.",
  }),
  performanceHistory: route({
    method: "GET",
    url: "/v1/performance/history",
    querystring: Type.Object(
      {
        window: Type.Optional(oneOf(WINDOWS, { description: "Default 7d" })),
        operator: Type.Optional(OperatorQuery),
      },
      { additionalProperties: false },
    ),
    response: { 200: envelope(PerformanceHistory) },
    errors: [],
    access: { roles: EVERYONE },
    tags: ["performance"],
    summary: "Operators' scores over time against the network's: the window in 24 buckets",
    description:
      "The window (last 1, 7 or 30 days of epochs up to the last processed one) cut into 24 buckets of equal epochs; per bucket the network's Rated effectiveness and CSM performance and each operator's. An operator token sees its own operator only.",
  }),
  validatorHistory: route({
    method: "GET",
    url: "/v1/performance/validators/:pubkey",
    params: Type.Object({ pubkey: Pubkey }),
    querystring: Type.Object(
      {
        from: Type.Optional(EpochQuery("First epoch (inclusive)")),
        to: Type.Optional(EpochQuery("Last epoch (inclusive)")),
      },
      { additionalProperties: false },
    ),
    response: { 200: envelope(ValidatorHistory) },
    errors: [404],
    access: { roles: EVERYONE },
    tags: ["performance"],
    summary: "One validator's epoch history",
    description:
      "Per processed epoch, newest first: attestation (included or missed, inclusion delay, source/target/head correct), proposals (proposed, missed or orphaned), sync participation, balance change, status and events; with totals and scores over the range. Without from/to: the last day of epochs. At most 10000 epochs per request. An operator token may only read its own operator's validators.",
  }),
  getPool: route({
    method: "GET",
    url: "/v1/pool",
    response: { 200: envelope(PoolSummary) },
    errors: [],
    access: { roles: EVERYONE },
    tags: ["pool"],
    summary: "The pool's totals and share rate",
  }),
  poolShareRate: route({
    method: "GET",
    url: "/v1/pool/share-rate",
    querystring: Type.Object(
      {
        from: Type.Optional(Type.String({ pattern: "^[0-9]{1,12}$", description: "First ref slot" })),
        to: Type.Optional(Type.String({ pattern: "^[0-9]{1,12}$", description: "Last ref slot" })),
      },
      { additionalProperties: false },
    ),
    response: { 200: envelope(Type.Array(ShareRatePoint)) },
    errors: [],
    access: { roles: EVERYONE },
    tags: ["pool"],
    summary: "The share rate before and after each applied report, oldest first",
  }),
  getAccount: route({
    method: "GET",
    url: "/v1/accounts/:address",
    params: AddressParam,
    response: { 200: envelope(Account) },
    errors: [],
    access: { roles: READERS },
    tags: ["pool"],
    summary: "An account's shares, balance and withdrawal requests",
  }),
  getOperatorRewards: route({
    method: "GET",
    url: "/v1/operators/:id/rewards",
    params: OperatorIdParam,
    querystring: Type.Object(
      { limit: Type.Optional(ListLimit), cursor: Type.Optional(Cursor(12)) },
      { additionalProperties: false },
    ),
    response: { 200: OperatorRewardsPage },
    errors: [404],
    access: { roles: EVERYONE, operatorParam: "id" },
    tags: ["pool", "operators"],
    summary: "An operator's fee shares per applied report, what its reward address holds now",
    description:
      "Per applied oracle report that lists the operator, newest first and paged by ref slot: its active and rewarded validators, the fee shares minted to it and their worth at the report's share rate. Totals: the shares minted by all reports, and the shares and balance its reward address holds now. An operator token reads its own operator only.",
  }),
  submitToPool: route({
    method: "POST",
    url: "/v1/pool/submit",
    body: SubmitBody,
    response: { 200: envelope(SubmitResult) },
    errors: [],
    access: { roles: ADMIN },
    tags: ["pool"],
    summary:
      "Stake ether for an account (devnet and tests; on a real network submits come from the execution layer)",
  }),
  requestWithdrawal: route({
    method: "POST",
    url: "/v1/withdrawals",
    body: WithdrawalBody,
    response: { 200: envelope(WithdrawalResult) },
    errors: [],
    access: { roles: ADMIN },
    tags: ["pool"],
    summary: "Queue a withdrawal request for an account's stETH (devnet and tests)",
  }),
  claimWithdrawal: route({
    method: "POST",
    url: "/v1/withdrawals/:id/claim",
    params: RequestIdParam,
    body: ClaimBody,
    response: { 200: envelope(ClaimResult) },
    errors: [404, 409],
    access: { roles: ADMIN },
    tags: ["pool"],
    summary: "Pay a finalized withdrawal request to its owner (devnet and tests)",
  }),
  submitOracleVote: route({
    method: "POST",
    url: "/v1/oracle/votes",
    body: VoteBody,
    response: { 200: envelope(VoteResult) },
    errors: [409, 422, 503],
    access: { roles: ["oracle"] },
    tags: ["oracle"],
    summary:
      "An oracle member's signed vote with its report; the vote completing a quorum applies the report",
  }),
  getOracleSetup: route({
    method: "GET",
    url: "/v1/oracle/setup",
    response: { 200: envelope(OracleSetup) },
    errors: [503],
    access: { roles: ORACLE_READERS },
    tags: ["oracle"],
    summary: "The oracle's members, quorum and frames, and the pool's withdrawal credentials",
  }),
  getPoolIdentity: route({
    method: "GET",
    url: "/v1/pool/identity",
    response: { 200: envelope(PoolIdentity) },
    errors: [],
    access: { roles: [...EVERYONE, "oracle"] },
    tags: ["pool"],
    summary:
      "The pool's network, withdrawal credentials and genesis fork version (what deposit data must carry)",
    description:
      "Readable by operator tokens: the operator daemon fetches the credentials at `poolkeeper daemon init` and shows them for confirmation.",
  }),
  getOracleFrame: route({
    method: "GET",
    url: "/v1/oracle/frames/:refSlot",
    params: RefSlotParam,
    response: { 200: envelope(FrameContextSchema) },
    errors: [409, 503],
    access: { roles: ORACLE_READERS },
    tags: ["oracle"],
    summary:
      "What a member builds the frame's report on besides the chain: the ledger and pool keys pinned at the first ask, the fee, the frame's duty performance, the votes",
  }),
  listOracleFrameKeys: route({
    method: "GET",
    url: "/v1/oracle/frames/:refSlot/keys",
    params: RefSlotParam,
    querystring: Type.Object(
      {
        limit: Type.Optional(PageLimit(FRAME_KEYS_PAGE, `Page size (default ${FRAME_KEYS_PAGE})`)),
        cursor: Type.Optional(Cursor(12)),
      },
      { additionalProperties: false },
    ),
    response: { 200: listEnvelope(FrameKey, "The frame's pool keys, by key id") },
    errors: [409, 503],
    access: { roles: ORACLE_READERS },
    tags: ["oracle"],
    summary: "The pool's keys of a frame: those of deposit batches up to the frame's pin",
  }),
  listOracleReports: route({
    method: "GET",
    url: "/v1/oracle/reports",
    querystring: Type.Object(
      { limit: Type.Optional(ListLimit), cursor: Type.Optional(Cursor(12)) },
      { additionalProperties: false },
    ),
    response: { 200: listEnvelope(OracleReport, "Decided reports, newest first") },
    errors: [],
    access: { roles: READERS },
    tags: ["oracle"],
    summary: "The reports a quorum decided (applied or refused), with the votes and sanity checks",
  }),
  getOracleReport: route({
    method: "GET",
    url: "/v1/oracle/reports/:refSlot",
    params: RefSlotParam,
    response: { 200: envelope(OracleReport) },
    errors: [404],
    access: { roles: READERS },
    tags: ["oracle"],
    summary: "One ref slot's report: status, data, sanity checks, each member's vote and its diff",
  }),
  listAlerts: route({
    method: "GET",
    url: "/v1/alerts",
    querystring: Type.Object(
      {
        operator: Type.Optional(OperatorQuery),
        kind: Type.Optional(AlertKindSchema),
        since: Type.Optional(
          Type.String({
            format: "date-time",
            description: "Alerts created at or after, e.g. 2026-11-24T00:00:00Z",
          }),
        ),
        cursor: Type.Optional(Cursor(15)),
        limit: Type.Optional(ListLimit),
      },
      { additionalProperties: false },
    ),
    response: { 200: listEnvelope(Alert) },
    errors: [],
    access: { roles: EVERYONE },
    tags: ["performance"],
    summary: "Alerts stored by the watcher, newest first",
    description:
      "Filters: operator, kind, since (ISO 8601 date-time). Pages with limit (default 100, at most 1000) and cursor (meta.nextCursor of the previous page). An operator token sees its own operator's alerts only.",
  }),
  listExits: route({
    method: "GET",
    url: "/v1/exits",
    querystring: ExitsQuery,
    response: { 200: listEnvelope(ExitRequest, "Exit requests, newest first") },
    errors: [],
    access: { roles: EVERYONE },
    tags: ["exits"],
    summary: "Exit requests, newest first (an operator token sees its own operator's only)",
    description:
      "Filters: operatorId, state. Pages with limit (default 100, at most 1000) and cursor (meta.nextCursor of the previous page). An operator token is held to its own operator: another operatorId is 403.",
  }),
  getExit: route({
    method: "GET",
    url: "/v1/exits/:id",
    params: ExitIdParam,
    response: { 200: envelope(ExitRequest) },
    errors: [404],
    access: { roles: EVERYONE },
    tags: ["exits"],
    summary: "One exit request with its history (an operator reads its own operator's only)",
  }),
  createExit: route({
    method: "POST",
    url: "/v1/exits",
    body: CreateExitBody,
    response: { 201: envelope(ExitRequest) },
    errors: [404, 409],
    access: { roles: READERS },
    tags: ["exits"],
    summary: "Request the exit of one pool validator (a DAO or admin decision, audited with its reason)",
    description:
      "Body: pubkey or validatorIndex, and the reason (recorded in the audit log). The request's reason is `dao` or `admin` by the caller's role; its deadline is EXIT_DEADLINE_EPOCHS after the current epoch. 404: no such pool key; 409 ERR_EXIT_REQUESTED: an open request exists or the validator is already exiting; 409 ERR_NOT_ON_CHAIN: the key is no validator on the chain yet.",
  }),
  streamOperatorExits: route({
    method: "GET",
    url: "/v1/operators/:id/exits/stream",
    params: OperatorIdParam,
    response: { 200: Type.String({ description: "text/event-stream" }) },
    errors: [404],
    access: { roles: ADMIN_OR_OWNER, operatorParam: "id" },
    format: "sse",
    tags: ["exits"],
    summary: "Server-sent events: the operator's open exit requests, then each new one as it is made",
    description:
      "On connect: every open request (requested, signed, submitted, late) with an id above the Last-Event-ID header (all without it), oldest first; then each new request. `event: exit_requested`, `id: <request id>`, `data: <ExitRequest JSON>`; a `: heartbeat` comment every 15 s. Reconnect with Last-Event-ID.",
  }),
  reportExitProgress: route({
    method: "POST",
    url: "/v1/exits/:id/progress",
    params: ExitIdParam,
    body: ExitProgressBody,
    response: { 200: envelope(ExitRequest) },
    errors: [404, 409],
    access: { roles: ["operator"] },
    tags: ["exits"],
    summary: "The operator's daemon reports signing, submitting or a failed attempt (never the exit itself)",
    description:
      "signed and submitted move the request forward (requested → signed → submitted; a late request stays late); failed is recorded in its history. An operator reports on its own operator's requests only (403 otherwise).",
  }),
  publicOperators: publicRoute(
    "/v1/public/operators",
    PublicOperators,
    "Operators: names, validators, share, performance against the network",
  ),
  publicConcentration: publicRoute(
    "/v1/public/concentration",
    PublicConcentration,
    "Concentration: top-1 and top-5 share, HHI, Nakamoto coefficient",
  ),
  publicToken: publicRoute(
    "/v1/public/token",
    PublicToken,
    "The token: share rate, its history, the last reports with their votes",
  ),
  publicFees: publicRoute(
    "/v1/public/fees",
    PublicFees,
    "Fees: the total fee, its split, what the last reports minted",
  ),
  publicWithdrawals: publicRoute(
    "/v1/public/withdrawals",
    PublicWithdrawals,
    "Withdrawals: the queue, the expected wait, bunker mode",
  ),
  publicRisk: publicRoute(
    "/v1/public/risk",
    PublicRisk,
    "Risk: slashings, penalties, late exits, alerts of the last 30 days",
  ),
  publicControl: publicRoute(
    "/v1/public/control",
    PublicControl,
    "Control: the oracle's quorum; deposit pause and governance (placeholders)",
  ),
  live: route({
    method: "GET",
    url: "/health/live",
    response: { 200: Live },
    errors: [],
    access: { roles: "public" },
    tags: ["health"],
    summary: "The process answers",
  }),
  ready: route({
    method: "GET",
    url: "/health/ready",
    response: { 200: Ready },
    errors: [503],
    access: { roles: "public" },
    tags: ["health"],
    summary: "The database answers and every migration is applied",
  }),
  metrics: route({
    method: "GET",
    url: "/metrics",
    response: { 200: Type.String({ description: "Prometheus text format" }) },
    errors: [],
    access: { roles: "public" },
    format: "text",
    tags: ["health"],
    summary: "Prometheus metrics",
  }),
  listProposals: route({
    method: "GET",
    url: "/v1/governance/proposals",
    querystring: ProposalsQuery,
    response: { 200: listEnvelope(Proposal, "Proposals, newest first") },
    errors: [503],
    access: { roles: READERS },
    tags: ["governance"],
    summary: "Governance proposals with their approvals, timelock and execution",
  }),
  createProposal: route({
    method: "POST",
    url: "/v1/governance/proposals",
    body: ProposalBody,
    response: { 201: envelope(Proposal) },
    errors: [503],
    access: { roles: READERS },
    tags: ["governance"],
    summary: "Propose a change of a governed parameter or a governed action; DAO members then approve it",
    description:
      "The value is checked by the kind's own schema (a 400 names the field: `value.totalFeeBP`). The author is the token.",
  }),
  getProposal: route({
    method: "GET",
    url: "/v1/governance/proposals/:id",
    params: ProposalIdParam,
    response: { 200: envelope(Proposal) },
    errors: [404, 503],
    access: { roles: READERS },
    tags: ["governance"],
    summary: "One proposal",
  }),
  approveProposal: signedProposalRoute(
    "approve",
    "A DAO member's signed approval; the one reaching the quorum starts the timelock",
  ),
  cancelProposal: signedProposalRoute("cancel", "A DAO member's signed cancellation, before execution"),
  executeProposal: route({
    method: "POST",
    url: "/v1/governance/proposals/:id/execute",
    params: ProposalIdParam,
    response: { 200: envelope(Proposal) },
    errors: [404, 409, 503],
    access: { roles: READERS },
    tags: ["governance"],
    summary: "Execute an approved proposal whose timelock has passed (once)",
  }),
  getGovernanceParameters: route({
    method: "GET",
    url: "/v1/governance/parameters",
    response: { 200: envelope(GovernanceParameters) },
    errors: [503],
    access: { roles: READERS },
    tags: ["governance"],
    summary:
      "The governed parameters' current values, each with the proposal that set it; the DAO, quorum and timelock",
  }),
  getGovernanceHistory: route({
    method: "GET",
    url: "/v1/governance/history",
    response: {
      200: listEnvelope(GovernanceHistoryEntry, "Every governed value in order, from the genesis"),
    },
    errors: [503],
    access: { roles: READERS },
    tags: ["governance"],
    summary: "The governed parameters' whole history (replaying it gives the current values)",
  }),
} as const;

export type ApiRoutes = typeof API_ROUTES;
export type RouteName = keyof ApiRoutes;
