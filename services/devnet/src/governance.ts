/**
 * The devnet's DAO (issue 14): its members' BLS keys and `dao` API tokens written to files
 * (<data-dir>/governance, 0600, never printed), governance switched on in the admin API once the
 * starting operators exist, and the scenario's fee proposal: proposed by the first member,
 * approved with the signatures of the first `quorum` members through the typed client, and
 * executed once its timelock has passed. Every proposal's state change is one line of output.
 *
 * Why the starting operators come first: with a DAO, `POST /v1/operators` is refused (an operator
 * is added by an `operator.add` proposal, which waits out the timelock). A pool launches with its
 * starting operators set up by whoever deploys it, and hands control to the DAO afterwards; the
 * devnet does the same — operators over HTTP on the admin API without a DAO, then the admin API
 * restarted with GOVERNANCE_* (as an operator of the pool restarts it with the new settings), whose
 * first start with a DAO records the configured fee, oracle members and frame as the genesis. Every
 * later change of an operator or a parameter is a proposal, and the start costs no timelock.
 */
import { mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { startAdminApi } from "@poolkeeper/admin-api";
import { type ApiClient, ApiError, createApiClient } from "@poolkeeper/contract";
import { PoolkeeperError } from "@poolkeeper/core";
import { daoPublicKeyOf, generateDaoKey, signGovernance } from "@poolkeeper/governance";
import { createApiToken } from "@poolkeeper/store";
import type { DevnetContext, DevnetDaoMember } from "./context.js";
import { DEVNET_ERRORS } from "./errors.js";
import { apiClockOf } from "./guardians.js";
import { writeSecret } from "./processes.js";
import { feeText, governanceSummary } from "./summary.js";

type Proposal = Awaited<ReturnType<ApiClient["getProposal"]>>["data"];

/** The members' keys and tokens under <data-dir>/governance (0600); the admin API's GOVERNANCE_* settings. */
async function prepareDao(ctx: DevnetContext, members: number): Promise<DevnetDaoMember[]> {
  const dir = join(ctx.dataDir, "governance");
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { mode: 0o700 });
  const dao: DevnetDaoMember[] = [];
  for (let i = 1; i <= members; i++) {
    const id = `dao${i}`;
    const key = generateDaoKey();
    const keyFile = join(dir, `${id}.key`);
    writeSecret(keyFile, `0x${Buffer.from(key).toString("hex")}`);
    const { token } = await createApiToken(ctx.get("store"), { role: "dao", label: `devnet ${id}` });
    const tokenFile = join(dir, `${id}.token`);
    writeSecret(tokenFile, token);
    dao.push({ id, publicKey: daoPublicKeyOf(key), keyFile, tokenFile });
  }
  return dao;
}

/** A member's typed client, with its own token (read from its file). */
function clientOf(ctx: DevnetContext, m: DevnetDaoMember): ApiClient {
  return createApiClient({ baseUrl: ctx.get("apiUrl"), token: readFileSync(m.tokenFile, "utf8").trim() });
}

/** A member's signature of `action` on proposal `p`, with its key read from its file. */
function sign(m: DevnetDaoMember, p: Proposal, poolId: string) {
  const key = Buffer.from(readFileSync(m.keyFile, "utf8").trim().replace(/^0x/, ""), "hex");
  try {
    return signGovernance(key, m.id, "approve", { poolId, proposalId: p.id, changeHash: p.changeHash });
  } finally {
    key.fill(0);
  }
}

/** How far a proposal has come: its status, then its approvals (a stale answer is not news). */
const STATUS_RANK: Record<string, number> = { pending: 0, approved: 1, executed: 2, cancelled: 2 };

/**
 * One line per proposal and state, printed once and in order (the flow's answers and the poll
 * share it: an older answer arriving later prints nothing).
 */
export function proposalAnnouncer(ctx: Pick<DevnetContext, "out">) {
  const seen = new Map<number, number>();
  return (p: Proposal) => {
    const rank = (STATUS_RANK[p.status] ?? 0) * 1000 + p.approvals.length;
    if ((seen.get(p.id) ?? -1) >= rank) return;
    seen.set(p.id, rank);
    const head = `governance  proposal ${p.id} ${p.kind} ${JSON.stringify(p.value)}`;
    const who = p.approvals.map((a) => a.memberId).join(", ");
    switch (p.status) {
      case "pending":
        ctx.out(
          `${head}: pending, ${p.approvals.length}/${p.quorum} approvals${who === "" ? "" : ` (${who})`}`,
        );
        break;
      case "approved":
        ctx.out(`${head}: approved by ${who}, executable at ${p.executableAt} (the timelock)`);
        break;
      case "executed":
        ctx.out(
          `${head}: executed at ${p.executedAt}` +
            (p.kind === "fee" ? "; the oracle's next frame uses it" : ""),
        );
        break;
      default:
        ctx.out(`${head}: ${p.status}`);
    }
  };
}

/**
 * Governance on: the DAO's keys and tokens, the admin API restarted with its settings (same
 * port), the scenario's fee proposal approved by a quorum and executed after its timelock, and a
 * poll that prints every proposal's state changes (also those made by hand while the devnet runs:
 * `poolkeeper governance …` with a member's files). Without `scenario.governance`: nothing.
 */
export async function startGovernance(ctx: DevnetContext): Promise<void> {
  const g = ctx.options.scenario.governance;
  if (g === null) {
    ctx.set("dao", null);
    return;
  }
  const logger = ctx.get("logger");
  const dao = await prepareDao(ctx, g.members);
  ctx.set("dao", dao);
  await restartAdminApi(ctx, {
    GOVERNANCE_DAO_MEMBERS: dao.map((m) => `${m.id}=${m.publicKey}`).join(","),
    GOVERNANCE_QUORUM: String(g.quorum),
    GOVERNANCE_TIMELOCK_SECONDS: String(g.timelockSeconds),
  });
  ctx.out(
    `governance  ${dao.length} DAO members (quorum ${g.quorum}), timelock ${g.timelockSeconds} s; ` +
      `keys and dao tokens in ${join(ctx.dataDir, "governance")} (0600); the starting operators came before the DAO, later changes are proposals`,
  );

  const announce = proposalAnnouncer(ctx);
  let closing = false;
  const timers = new Set<NodeJS.Timeout>();
  const later = (ms: number, f: () => void) => {
    if (closing) return;
    const t = setTimeout(() => {
      timers.delete(t);
      f();
    }, ms);
    t.unref();
    timers.add(t);
  };
  ctx.onClose(() => {
    closing = true;
    for (const t of timers) clearTimeout(t);
  });

  // every proposal's state changes, and the first report with a new fee, as they happen
  const admin = createApiClient({ baseUrl: ctx.get("apiUrl"), token: ctx.get("token") });
  const reported = new Set<number>();
  const poll = () => {
    Promise.all([admin.listProposals({ query: { limit: 100 } }), governanceSummary(ctx.get("store"))])
      .then(([{ data }, s]) => {
        for (const p of [...data].reverse()) announce(p);
        const f = s.fee;
        if (
          f !== null &&
          f.proposalId !== null &&
          f.firstReportRefSlot !== null &&
          !reported.has(f.proposalId)
        ) {
          reported.add(f.proposalId);
          ctx.out(
            `governance  the report at ref slot ${f.firstReportRefSlot} is the first with the fee of proposal ${f.proposalId}: ${feeText(f.after)} (was ${feeText(f.before)})`,
          );
        }
      })
      .catch((e: unknown) =>
        logger.warn({ err: e instanceof Error ? e.message : String(e) }, "governance poll failed"),
      )
      .finally(() => later(Math.max(ctx.options.pollMs ?? 1000, 1000), poll));
  };
  later(0, poll);

  if (g.fee === null) return;
  const [proposer, ...rest] = dao;
  if (proposer === undefined) return;
  const client = clientOf(ctx, proposer);
  const { data: params } = await client.getGovernanceParameters();
  const { data: created } = await client.createProposal({
    body: {
      kind: "fee",
      value: { ...g.fee, treasury: ctx.options.scenario.oracle.treasury.toLowerCase() },
      reason: "devnet scenario: the DAO changes the pool's fee",
    },
  });
  announce(created);
  let p = created;
  for (const m of [proposer, ...rest].slice(0, g.quorum)) {
    ({ data: p } = await clientOf(ctx, m).approveProposal({
      params: { id: p.id },
      body: sign(m, p, params.poolId),
    }));
    announce(p);
  }
  if (p.status !== "approved")
    throw new PoolkeeperError(
      DEVNET_ERRORS.RUN,
      `governance: proposal ${p.id} is ${p.status} after ${g.quorum} approvals`,
    );
  scheduleExecution(ctx, client, p, announce, later);
}

/**
 * Executes `p` once its timelock has passed: tried at its executableAt, and again at the time an
 * ERR_TIMELOCK answer names (or a second later after any other failure), until it is executed.
 */
function scheduleExecution(
  ctx: DevnetContext,
  client: ApiClient,
  p: Proposal,
  announce: (p: Proposal) => void,
  later: (ms: number, f: () => void) => void,
): void {
  const logger = ctx.get("logger");
  const at = (iso: string | null | undefined) =>
    Math.max(0, (iso == null ? Date.now() : Date.parse(iso)) - Date.now());
  const attempt = () => {
    client
      .executeProposal({ params: { id: p.id } })
      .then(({ data }) => {
        announce(data);
        logger.info({ proposalId: data.id, kind: data.kind }, "governance proposal executed");
      })
      .catch((e: unknown) => {
        if (e instanceof ApiError && e.code === "ERR_TIMELOCK") {
          const d = e.details as { executableAt?: string | null } | undefined;
          later(at(d?.executableAt) + 100, attempt);
          return;
        }
        if (e instanceof ApiError && e.code === "ERR_PROPOSAL_STATE") {
          logger.warn({ proposalId: p.id, err: e.message }, "governance proposal not executable");
          return; // executed or cancelled by someone else: the poll prints it
        }
        logger.warn(
          { proposalId: p.id, err: e instanceof Error ? e.message : String(e) },
          "governance execute failed; retrying",
        );
        later(1000, attempt);
      });
  };
  later(at(p.executableAt) + 100, attempt);
}

/**
 * The admin API stopped and started again on the same port with `extra` over its environment (the
 * governance settings); its URL does not change. The teardown closes whichever one runs.
 */
async function restartAdminApi(ctx: DevnetContext, extra: Record<string, string>): Promise<void> {
  const url = new URL(ctx.get("apiUrl"));
  await ctx.get("api").close();
  const env = { ...ctx.get("apiEnv"), ...extra };
  const api = await startAdminApi(env, {
    port: Number(url.port),
    logger: ctx.get("logger").child({ name: "admin-api" }),
    ...apiClockOf(ctx),
  });
  ctx.set("api", api);
  ctx.set("apiEnv", env);
}
