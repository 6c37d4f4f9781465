/**
 * The governance store: governed parameters (genesis values from the configuration at the first
 * start, then only executed proposals change them) and proposals — named change, reason, author;
 * approved by a quorum of DAO signatures; executable once its timelock has passed; executed
 * exactly once (the proposal's row locked, the update conditional on `approved`); cancelled by
 * any DAO member's signature before that.
 */
import { ConfigError, PoolkeeperError, ValidationError } from "@poolkeeper/core";
import {
  approvalsOf,
  findProposal,
  type GovernedValueRow,
  governanceHistory,
  governedValues,
  insertApproval,
  insertProposal,
  listProposals,
  lockGovernance,
  markProposalApproved,
  markProposalCancelled,
  markProposalExecuted,
  type ProposalRow,
  type ProposalStatus,
  type Queryable,
  recordGovernedValue,
  type Store,
} from "@poolkeeper/store";
import { canonicalJson } from "./canonical.js";
import type { Catalogue, GovernanceEffects, KindSpec } from "./catalogue.js";
import { GOVERNANCE_ERRORS } from "./errors.js";
import {
  changeHashOf,
  checkSigners,
  type GovernanceSignature,
  governanceSignatureValid,
  type SignedAction,
  type Signer,
} from "./signing.js";

/** Lido's Aragon vote and the default: 48 hours. */
export const DEFAULT_TIMELOCK_SECONDS = 48 * 3600;

export interface GovernanceConfig {
  /** The DAO members who sign approvals and cancellations, and how many approvals make a quorum. */
  members: readonly Signer[];
  quorum: number;
  /** Seconds between the approval that reaches the quorum and the earliest execution. */
  timelockSeconds: number;
  /** `poolIdOf(...)`: what every signature is bound to. */
  poolId: string;
  catalogue: Catalogue;
  /** Runs executed actions (operators, deposits); without it an action cannot be executed. */
  effects?: GovernanceEffects;
  /** The clock (tests). */
  now?: () => Date;
}

/** A proposal with its approvals (signatures are public: they prove the approval) and the quorum. */
export interface ProposalView extends ProposalRow {
  approvals: { memberId: string; signature: string; approvedAt: Date }[];
  quorum: number;
}

export interface ProposalInput {
  kind: string;
  value: unknown;
  reason: string;
}

/** The current values after replaying `history` in order: what `governance_parameters` must hold. */
export function replayHistory(
  history: readonly GovernedValueRow[],
): Map<string, { value: unknown; proposalId: number | null }> {
  const out = new Map<string, { value: unknown; proposalId: number | null }>();
  for (const h of [...history].sort((a, b) => a.seq - b.seq))
    out.set(h.name, { value: h.value, proposalId: h.proposalId });
  return out;
}

export class Governance {
  private readonly members: Map<string, Signer>;
  private readonly now: () => Date;

  constructor(
    private readonly store: Store,
    readonly cfg: GovernanceConfig,
  ) {
    try {
      checkSigners(cfg.members, cfg.quorum, "members");
    } catch (e) {
      throw new ConfigError(`GOVERNANCE_DAO_MEMBERS/GOVERNANCE_QUORUM: ${(e as Error).message}`);
    }
    if (!Number.isSafeInteger(cfg.timelockSeconds) || cfg.timelockSeconds < 0)
      throw new ConfigError("GOVERNANCE_TIMELOCK_SECONDS: must be a whole number of seconds, 0 or more");
    this.members = new Map(cfg.members.map((m) => [m.id, m]));
    this.now = cfg.now ?? (() => new Date());
  }

  /** The parameter kinds of the catalogue (what the genesis must give). */
  parameterKinds(): KindSpec[] {
    return [...this.cfg.catalogue.values()].filter((s) => s.type === "parameter");
  }

  /**
   * The genesis: at the first start every parameter's value from the configuration (checked by
   * its schema) is recorded without a proposal; a parameter added to the catalogue later gets its
   * genesis value at the next start. Afterwards the store is the only source: the answer lists the
   * parameters whose configured value differs from the governed one (the governed one holds).
   */
  async init(
    genesis: Readonly<Record<string, unknown>>,
  ): Promise<{ recorded: string[]; differing: string[] }> {
    const parsed = new Map<string, unknown>();
    for (const spec of this.parameterKinds()) {
      if (!(spec.kind in genesis)) throw new ConfigError(`governance genesis: no value for ${spec.kind}`);
      try {
        parsed.set(spec.kind, spec.parse(genesis[spec.kind]));
      } catch (e) {
        throw new ConfigError(`governance genesis of ${spec.kind}: ${(e as Error).message}`);
      }
    }
    return this.store.transaction(async (tx) => {
      await lockGovernance(tx);
      const current = new Map((await governedValues(tx)).map((v) => [v.name, v]));
      const recorded: string[] = [];
      const differing: string[] = [];
      for (const [name, value] of parsed) {
        const have = current.get(name);
        if (have === undefined) {
          await recordGovernedValue(tx, { name, value, proposalId: null });
          recorded.push(name);
        } else if (canonicalJson(have.value) !== canonicalJson(value)) differing.push(name);
      }
      return { recorded, differing };
    });
  }

  /** Every governed parameter's current value, with the proposal that set it (null: genesis). */
  values(q: Queryable = this.store): Promise<GovernedValueRow[]> {
    return governedValues(q);
  }

  /** One parameter's current value; throws when the genesis has not run. */
  async value(name: string, q: Queryable = this.store): Promise<unknown> {
    const row = (await governedValues(q)).find((v) => v.name === name);
    if (row === undefined)
      throw new PoolkeeperError(GOVERNANCE_ERRORS.NOT_FOUND, `governed parameter ${name} has no value`, {
        name,
      });
    return row.value;
  }

  history(): Promise<GovernedValueRow[]> {
    return governanceHistory(this.store);
  }

  /** A new proposal, pending approvals: the change checked by its kind's schema. */
  async propose(input: ProposalInput, author: string): Promise<ProposalView> {
    if (input === null || typeof input !== "object") throw new ValidationError("body", "must be an object");
    const spec = this.cfg.catalogue.get(input.kind);
    if (spec === undefined)
      throw new ValidationError(
        "kind",
        `${String(input.kind)} is not a governed change (kinds: ${[...this.cfg.catalogue.keys()].join(", ")})`,
      );
    if (typeof input.reason !== "string" || input.reason.trim() === "" || input.reason.length > 1000)
      throw new ValidationError("reason", "must be 1-1000 characters: why the change is proposed");
    const value = spec.parse(input.value);
    if (spec.type === "parameter") {
      const current = (await governedValues(this.store)).find((v) => v.name === spec.kind);
      if (current !== undefined && canonicalJson(current.value) === canonicalJson(value))
        throw new ValidationError("value", `is ${spec.kind}'s current value: nothing would change`);
    }
    const row = await insertProposal(this.store, {
      kind: spec.kind,
      value,
      changeHash: changeHashOf(spec.kind, value),
      reason: input.reason,
      author,
      createdAt: this.now(),
    });
    return this.viewOf(row, []);
  }

  async get(id: number): Promise<ProposalView> {
    const row = await findProposal(this.store, id);
    if (row === null) throw this.notFound(id);
    return this.viewOf(row, (await approvalsOf(this.store, [id])).get(id) ?? []);
  }

  async list(opts: { limit: number; before?: number; status?: ProposalStatus }): Promise<ProposalView[]> {
    const rows = await listProposals(this.store, opts);
    const approvals = await approvalsOf(
      this.store,
      rows.map((r) => r.id),
    );
    return rows.map((r) => this.viewOf(r, approvals.get(r.id) ?? []));
  }

  /**
   * A DAO member's approval. Refused unless the signer is a current member, the proposal is
   * pending, the signature is the member's over this proposal's id, change hash and the pool, and
   * the member has not approved it already. The approval that reaches the quorum starts the
   * timelock.
   */
  async approve(id: number, sig: GovernanceSignature): Promise<ProposalView> {
    const member = this.memberOf(sig);
    return this.store.transaction(async (tx) => {
      const p = await this.locked(tx, id);
      if (p.status !== "pending")
        throw new PoolkeeperError(
          GOVERNANCE_ERRORS.PROPOSAL_STATE,
          `proposal ${id} is ${p.status}: it takes no more approvals`,
          {
            proposalId: id,
            status: p.status,
          },
        );
      this.verify(sig, member, "approve", p);
      const approvals = (await approvalsOf(tx, [id])).get(id) ?? [];
      if (approvals.some((a) => a.memberId === member.id))
        throw new PoolkeeperError(
          GOVERNANCE_ERRORS.APPROVAL_REPEATED,
          `${member.id} has approved proposal ${id} already`,
          {
            proposalId: id,
            memberId: member.id,
          },
        );
      const at = this.now();
      await insertApproval(tx, {
        proposalId: id,
        memberId: member.id,
        signature: sig.signature,
        approvedAt: at,
      });
      const counted = approvals.filter((a) => this.members.has(a.memberId)).length + 1;
      if (counted >= this.cfg.quorum)
        await markProposalApproved(tx, id, at, new Date(at.getTime() + this.cfg.timelockSeconds * 1000));
      const row = (await findProposal(tx, id))!;
      return this.viewOf(row, (await approvalsOf(tx, [id])).get(id) ?? []);
    });
  }

  /** Any DAO member cancels a pending or approved (not executed) proposal with its signature. */
  async cancel(id: number, sig: GovernanceSignature): Promise<ProposalView> {
    const member = this.memberOf(sig);
    return this.store.transaction(async (tx) => {
      const p = await this.locked(tx, id);
      if (p.status !== "pending" && p.status !== "approved")
        throw new PoolkeeperError(
          GOVERNANCE_ERRORS.PROPOSAL_STATE,
          `proposal ${id} is ${p.status}: it cannot be cancelled`,
          {
            proposalId: id,
            status: p.status,
          },
        );
      this.verify(sig, member, "cancel", p);
      await markProposalCancelled(tx, id, this.now(), `dao:${member.id}`);
      const row = (await findProposal(tx, id))!;
      return this.viewOf(row, (await approvalsOf(tx, [id])).get(id) ?? []);
    });
  }

  /**
   * Execute an approved proposal whose timelock has passed, once: its change is applied (a
   * parameter's new value recorded, or the action's effect run and recorded) in the same
   * transaction that marks it executed, under the proposal's row lock; a second execute finds it
   * executed (ERR_PROPOSAL_STATE).
   */
  async execute(id: number, actor: string): Promise<ProposalView> {
    return this.store.transaction(async (tx) => {
      const p = await this.locked(tx, id);
      if (p.status !== "approved")
        throw new PoolkeeperError(
          GOVERNANCE_ERRORS.PROPOSAL_STATE,
          p.status === "executed"
            ? `proposal ${id} was executed already (${p.executedAt?.toISOString()})`
            : `proposal ${id} is ${p.status}: only an approved proposal is executed`,
          { proposalId: id, status: p.status },
        );
      const now = this.now();
      if (p.executableAt === null || now.getTime() < p.executableAt.getTime())
        throw new PoolkeeperError(
          GOVERNANCE_ERRORS.TIMELOCK,
          `proposal ${id} is timelocked until ${p.executableAt?.toISOString()}`,
          { proposalId: id, executableAt: p.executableAt?.toISOString() ?? null },
        );
      const approvals = (await approvalsOf(tx, [id])).get(id) ?? [];
      const current = approvals.filter((a) => {
        const m = this.members.get(a.memberId);
        return m !== undefined && this.signatureValid(a, m, "approve", p);
      }).length;
      if (current < this.cfg.quorum)
        throw new PoolkeeperError(
          GOVERNANCE_ERRORS.PROPOSAL_STATE,
          `proposal ${id} has ${current} approvals of current DAO members, below the quorum of ${this.cfg.quorum} (the DAO changed since)`,
          { proposalId: id, approvals: current, quorum: this.cfg.quorum },
        );
      const spec = this.cfg.catalogue.get(p.kind);
      if (spec === undefined)
        throw new PoolkeeperError(
          GOVERNANCE_ERRORS.PROPOSAL_STATE,
          `proposal ${id}'s kind ${p.kind} is not governed here`,
          {
            proposalId: id,
          },
        );
      if (spec.type === "parameter") {
        await recordGovernedValue(tx, { name: p.kind, value: p.value, proposalId: id });
      } else {
        if (this.cfg.effects === undefined)
          throw new PoolkeeperError(
            GOVERNANCE_ERRORS.GOVERNANCE_NOT_CONFIGURED,
            `no effect of ${p.kind} is wired in this process`,
            { proposalId: id, kind: p.kind },
          );
        const records = await this.cfg.effects.apply(tx, p.kind, p.value, {
          proposalId: id,
          actor,
          reason: `proposal ${id}: ${p.reason}`,
        });
        for (const [name, value] of Object.entries(records))
          await recordGovernedValue(tx, { name, value, proposalId: id });
      }
      if (!(await markProposalExecuted(tx, id, now, actor)))
        throw new PoolkeeperError(GOVERNANCE_ERRORS.PROPOSAL_STATE, `proposal ${id} was executed already`, {
          proposalId: id,
        });
      const row = (await findProposal(tx, id))!;
      return this.viewOf(row, approvals);
    });
  }

  private memberOf(sig: GovernanceSignature): Signer {
    if (sig === null || typeof sig !== "object" || typeof sig.memberId !== "string")
      throw new ValidationError("memberId", "must name the DAO member who signs");
    const member = this.members.get(sig.memberId);
    if (member === undefined)
      throw new PoolkeeperError(GOVERNANCE_ERRORS.NOT_DAO_MEMBER, `${sig.memberId} is not a DAO member`, {
        memberId: sig.memberId,
      });
    if (typeof sig.signature !== "string" || !/^0x[0-9a-f]{192}$/.test(sig.signature))
      throw new ValidationError("signature", "must be a BLS signature: 0x and 192 lower-case hex digits");
    return member;
  }

  private signatureValid(sig: GovernanceSignature, m: Signer, action: SignedAction, p: ProposalRow): boolean {
    return governanceSignatureValid(sig, m, action, {
      poolId: this.cfg.poolId,
      proposalId: p.id,
      changeHash: p.changeHash,
    });
  }

  private verify(sig: GovernanceSignature, m: Signer, action: SignedAction, p: ProposalRow): void {
    if (!this.signatureValid(sig, m, action, p))
      throw new PoolkeeperError(
        GOVERNANCE_ERRORS.INVALID_SIGNATURE,
        `the signature is not ${m.id}'s ${action === "approve" ? "approval" : "cancellation"} of proposal ${p.id} (its id, change hash ${p.changeHash} and this pool)`,
        { proposalId: p.id, memberId: m.id, field: "signature" },
      );
  }

  private async locked(tx: Queryable, id: number): Promise<ProposalRow> {
    const p = await findProposal(tx, id, true);
    if (p === null) throw this.notFound(id);
    return p;
  }

  private notFound(id: number): PoolkeeperError {
    return new PoolkeeperError(GOVERNANCE_ERRORS.NOT_FOUND, `proposal ${id} not found`, { proposalId: id });
  }

  private viewOf(
    row: ProposalRow,
    approvals: { memberId: string; signature: string; approvedAt: Date }[],
  ): ProposalView {
    return {
      ...row,
      approvals: approvals.map((a) => ({
        memberId: a.memberId,
        signature: a.signature,
        approvedAt: a.approvedAt,
      })),
      quorum: this.cfg.quorum,
    };
  }
}
