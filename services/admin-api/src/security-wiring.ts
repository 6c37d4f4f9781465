/**
 * Deposit security and governance, wired together once for the server and the tests: with a DAO
 * the guardian set is the governed `guardians` parameter, read from the governance store at each
 * use (every admin-api replica follows an executed proposal at once; DEPOSIT_GUARDIANS is only its
 * genesis), and deposits resume only by an executed `deposits.unpause` proposal, whose execution
 * runs `DepositSecurity.unpauseIn` in its own transaction.
 */
import {
  DepositSecurity,
  type DepositSecurityConfig,
  type DepositSecurityDeps,
  type Guardian,
} from "@poolkeeper/deposit-security";
import { DEPOSITS_UNPAUSE, type GovernanceSetup, governanceRequired } from "@poolkeeper/governance";
import type { GovernanceWiring, GovernanceWiringOpts } from "./governance-adapter.js";
import { wireGovernance } from "./governance-adapter.js";

type Limits = Pick<DepositSecurityConfig, "maxAgeSlots" | "pauseExpirySlots" | "silentSlots">;

/** Governance's genesis `guardians` from the deposit-security setting (none: an empty set). */
export function genesisGuardians(config: DepositSecurityConfig | null): GovernanceSetup["guardians"] {
  return config === null ? { members: [], quorum: 0 } : { members: config.guardians, quorum: config.quorum };
}

/**
 * The deposit security of an admin API and, with `governance`, the governance wiring that owns its
 * guardian set and its unpause.
 */
export async function wireSecurityAndGovernance(
  security: Omit<DepositSecurityDeps, "configNow" | "unpauseRefusal">,
  limits: Limits,
  governance: Omit<GovernanceWiringOpts, "unpauseDeposits"> | null,
): Promise<{ security: DepositSecurity; governed: GovernanceWiring | undefined }> {
  if (governance === null) return { security: new DepositSecurity(security), governed: undefined };
  let governed: GovernanceWiring | undefined;
  const guarded = new DepositSecurity({
    ...security,
    configNow: async () => {
      const g = (await governed?.governance.value("guardians")) as
        | { members: Guardian[]; quorum: number }
        | undefined;
      return g === undefined || g.members.length === 0
        ? null
        : { guardians: g.members, quorum: g.quorum, ...limits };
    },
    unpauseRefusal: () => governanceRequired(DEPOSITS_UNPAUSE, "resuming deposits"),
  });
  governed = await wireGovernance({
    ...governance,
    unpauseDeposits: (tx, ctx) => guarded.unpauseIn(tx, ctx.actor, ctx.reason),
  });
  return { security: guarded, governed };
}
