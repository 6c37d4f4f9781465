/**
 * What the governance routes need, in the contract's shapes: `governancePort(governance)`
 * (governance-adapter.ts) implements it over @poolkeeper/governance; without a DAO
 * (GOVERNANCE_DAO_MEMBERS) `noGovernancePort()` answers 503.
 */
import type {
  GovernanceHistoryEntry,
  GovernanceParameters,
  PROPOSAL_STATUSES,
  Proposal,
  ProposalBody,
  SignatureBody,
} from "@poolkeeper/contract";
import type { Static } from "typebox";

export interface GovernancePort {
  list(q: {
    limit: number;
    before?: number;
    status?: (typeof PROPOSAL_STATUSES)[number];
  }): Promise<Static<typeof Proposal>[]>;
  get(id: number): Promise<Static<typeof Proposal>>;
  propose(body: Static<typeof ProposalBody>, author: string): Promise<Static<typeof Proposal>>;
  approve(id: number, sig: Static<typeof SignatureBody>): Promise<Static<typeof Proposal>>;
  cancel(id: number, sig: Static<typeof SignatureBody>): Promise<Static<typeof Proposal>>;
  execute(id: number, actor: string): Promise<Static<typeof Proposal>>;
  parameters(): Promise<Static<typeof GovernanceParameters>>;
  history(): Promise<Static<typeof GovernanceHistoryEntry>[]>;
}
