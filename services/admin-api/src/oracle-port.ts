/**
 * What the oracle routes need, in the contract's shapes: `oraclePort(store, config)`
 * (oracle-adapter.ts) implements it over @poolkeeper/oracle.
 */
import type {
  FrameContextSchema,
  FrameKey,
  OracleReport,
  OracleSetup,
  PoolIdentity,
  VoteBody,
  VoteResult,
} from "@poolkeeper/contract";
import type { Static } from "typebox";

export interface OraclePort {
  submitVote(vote: Static<typeof VoteBody>): Promise<Static<typeof VoteResult>>;
  reports(limit: number, before?: number): Promise<Static<typeof OracleReport>[]>;
  report(refSlot: number): Promise<Static<typeof OracleReport>>;
  setup(): Promise<Static<typeof OracleSetup>>;
  /** The pool's network and credentials (known without an oracle configuration). */
  identity(): Promise<Static<typeof PoolIdentity>>;
  frame(refSlot: number): Promise<Static<typeof FrameContextSchema>>;
  frameKeys(refSlot: number, afterId: number, limit: number): Promise<Static<typeof FrameKey>[]>;
}
