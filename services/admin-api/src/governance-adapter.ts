/**
 * Governance in the admin API: the `Governance` store over the catalogue of every governed kind
 * (the pool's: guardians, operators, deposits; the oracle's: fee, members, sanity limits,
 * frame), its genesis from the configuration at the first start, the effects of executed
 * actions (operators through the registry, in the execution's transaction), and the port the
 * routes use.
 */
import { type Logger, PoolkeeperError, ValidationError } from "@poolkeeper/core";
import {
  catalogueOf,
  DEPOSITS_UNPAUSE,
  GOVERNANCE_ERRORS,
  Governance,
  type GovernanceEffects,
  type GovernanceSetup,
  GUARDIANS,
  OPERATOR_ACTIVATE,
  OPERATOR_ADD,
  OPERATOR_DEACTIVATE,
  OPERATOR_LIMITS,
  POOL_KINDS,
  type ProposalView,
} from "@poolkeeper/governance";
import {
  ORACLE_KINDS,
  type OracleConfig,
  type OracleParameters,
  oracleGenesis,
  oracleParametersOf,
} from "@poolkeeper/oracle";
import type { OperatorWithCounts, Registry } from "@poolkeeper/registry";
import type { Queryable, Store } from "@poolkeeper/store";
import type { GovernancePort } from "./governance-port.js";

export interface GovernanceWiringOpts {
  store: Store;
  setup: GovernanceSetup;
  poolId: string;
  /** The oracle's configuration (null: no oracle members, its parameters are not governed here). */
  oracle: OracleConfig | null;
  /** The API's registry: executed operator actions go through it. */
  registry: Registry;
  /**
   * Resume deposits after a pause, in the execution's transaction (deposit security wires it);
   * without it a `deposits.unpause` proposal cannot be executed (503).
   */
  unpauseDeposits?: (
    tx: Queryable,
    ctx: { proposalId: number; actor: string; reason: string },
  ) => Promise<void>;
  logger: Logger;
  /** The clock (tests). */
  now?: () => Date;
}

export interface GovernanceWiring {
  governance: Governance;
  port: GovernancePort;
  /** The oracle's parameters as the governance store holds them now (null without an oracle). */
  oracleParameters: (() => Promise<OracleParameters>) | null;
}

function operatorRecord(op: OperatorWithCounts): Record<string, unknown> {
  return {
    [`operator:${op.id}`]: {
      name: op.name,
      rewardAddress: op.rewardAddress,
      active: op.active,
      vettedLimit: op.vettedLimit,
      targetLimit: op.targetLimit,
    },
  };
}

function effectsOf(opts: GovernanceWiringOpts): GovernanceEffects {
  const r = opts.registry;
  return {
    async apply(tx, kind, value, ctx) {
      const v = value as Record<string, unknown>;
      const id = v.operatorId as number;
      switch (kind) {
        case OPERATOR_ADD:
          return operatorRecord(
            await r.governedCreateOperator(
              tx,
              { ...(v as object), active: true } as never,
              ctx.actor,
              ctx.reason,
              ctx.proposalId,
            ),
          );
        case OPERATOR_ACTIVATE:
        case OPERATOR_DEACTIVATE:
          return operatorRecord(
            await r.governedUpdateOperator(
              tx,
              id,
              { active: kind === OPERATOR_ACTIVATE },
              ctx.actor,
              ctx.reason,
              ctx.proposalId,
            ),
          );
        case OPERATOR_LIMITS: {
          const { operatorId: _, ...patch } = v;
          return operatorRecord(
            await r.governedUpdateOperator(tx, id, patch as never, ctx.actor, ctx.reason, ctx.proposalId),
          );
        }
        case DEPOSITS_UNPAUSE:
          if (opts.unpauseDeposits === undefined)
            throw new PoolkeeperError(
              GOVERNANCE_ERRORS.GOVERNANCE_NOT_CONFIGURED,
              "deposit pausing is not wired in this process: the unpause cannot be executed",
              { kind },
            );
          await opts.unpauseDeposits(tx, ctx);
          return { "deposits.paused": false };
        default:
          throw new ValidationError("kind", `${kind} has no effect here`);
      }
    },
  };
}

function proposalJson(p: ProposalView) {
  const iso = (d: Date | null) => (d === null ? null : d.toISOString());
  return {
    id: p.id,
    kind: p.kind,
    value: p.value,
    changeHash: p.changeHash,
    reason: p.reason,
    author: p.author,
    status: p.status,
    approvals: p.approvals.map((a) => ({
      memberId: a.memberId,
      signature: a.signature,
      approvedAt: a.approvedAt.toISOString(),
    })),
    quorum: p.quorum,
    createdAt: p.createdAt.toISOString(),
    approvedAt: iso(p.approvedAt),
    executableAt: iso(p.executableAt),
    executedAt: iso(p.executedAt),
    executedBy: p.executedBy,
    cancelledAt: iso(p.cancelledAt),
    cancelledBy: p.cancelledBy,
  };
}

/**
 * The governance store of this admin API, its genesis recorded (the first start) or checked
 * (later: a configured value that differs from the governed one is logged, and the governed one
 * holds).
 */
export async function wireGovernance(opts: GovernanceWiringOpts): Promise<GovernanceWiring> {
  const { setup } = opts;
  const catalogue = catalogueOf(POOL_KINDS, opts.oracle === null ? [] : ORACLE_KINDS);
  const governance = new Governance(opts.store, {
    members: setup.members,
    quorum: setup.quorum,
    timelockSeconds: setup.timelockSeconds,
    poolId: opts.poolId,
    catalogue,
    effects: effectsOf(opts),
    ...(opts.now !== undefined ? { now: opts.now } : {}),
  });
  const genesis = {
    [GUARDIANS]: setup.guardians,
    ...(opts.oracle === null ? {} : oracleGenesis(opts.oracle)),
  };
  const { recorded, differing } = await governance.init(genesis);
  if (recorded.length > 0) opts.logger.info({ parameters: recorded }, "governance genesis recorded");
  if (differing.length > 0)
    opts.logger.warn(
      { parameters: differing },
      "configured values differ from the governed ones: the governed values hold (change them by proposal)",
    );
  const values = async () => new Map((await governance.values()).map((v) => [v.name, v.value]));
  const port: GovernancePort = {
    async list(q) {
      return (await governance.list(q)).map(proposalJson);
    },
    async get(id) {
      return proposalJson(await governance.get(id));
    },
    async propose(body, author) {
      return proposalJson(await governance.propose(body, author));
    },
    async approve(id, sig) {
      return proposalJson(await governance.approve(id, sig));
    },
    async cancel(id, sig) {
      return proposalJson(await governance.cancel(id, sig));
    },
    async execute(id, actor) {
      return proposalJson(await governance.execute(id, actor));
    },
    async parameters() {
      return {
        poolId: opts.poolId,
        dao: {
          members: setup.members.map((m) => ({ id: m.id, publicKey: m.publicKey })),
          quorum: setup.quorum,
        },
        timelockSeconds: setup.timelockSeconds,
        limitStep: setup.limitStep,
        parameters: (await governance.values()).map((v) => ({
          name: v.name,
          value: v.value,
          proposalId: v.proposalId,
          setAt: v.at.toISOString(),
        })),
        kinds: [...catalogue.values()].map((k) => ({
          kind: k.kind,
          type: k.type,
          description: k.description,
        })),
      };
    },
    async history() {
      return (await governance.history()).map((h) => ({
        seq: h.seq,
        name: h.name,
        value: h.value,
        proposalId: h.proposalId,
        at: h.at.toISOString(),
      }));
    },
  };
  return {
    governance,
    port,
    oracleParameters: opts.oracle === null ? null : async () => oracleParametersOf(await values()),
  };
}

/** Without a DAO: every governance route answers 503, naming the setting. */
export function noGovernancePort(): GovernancePort {
  const off = (): never => {
    throw new PoolkeeperError(
      GOVERNANCE_ERRORS.GOVERNANCE_NOT_CONFIGURED,
      "no DAO is configured (GOVERNANCE_DAO_MEMBERS): there is no governance",
    );
  };
  return {
    list: async () => off(),
    get: async () => off(),
    propose: async () => off(),
    approve: async () => off(),
    cancel: async () => off(),
    execute: async () => off(),
    parameters: async () => off(),
    history: async () => off(),
  };
}
