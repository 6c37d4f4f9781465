import { defineErrorCodes, PoolkeeperError } from "@poolkeeper/core";
import { toJsonValue } from "@poolkeeper/ledger";
import { type OracleConfig, OracleConsensus, OracleReportReader, type ReportView } from "@poolkeeper/oracle";
import type { Store } from "@poolkeeper/store";
import type { OraclePort } from "./oracle-port.js";

const ADAPTER_ERRORS = defineErrorCodes({
  /** Votes are refused while no oracle member is configured (ORACLE_MEMBERS). */
  ORACLE_NOT_CONFIGURED: { code: "ERR_ORACLE_NOT_CONFIGURED", kind: "unavailable" },
});

function toJson(v: ReportView) {
  return {
    refSlot: v.refSlot,
    status: v.status,
    reportHash: v.reportHash,
    report: v.report === null ? null : (toJsonValue(v.report) as never),
    sanity: v.sanity,
    votes: v.votes.map((x) => ({ ...x, votedAt: x.votedAt.toISOString() })),
    decidedAt: v.decidedAt === null ? null : v.decidedAt.toISOString(),
  };
}

/** The oracle routes over the store; votes need `config` (null: refused with 503). */
export function oraclePort(store: Store, config: OracleConfig | null): OraclePort {
  const consensus = config === null ? null : new OracleConsensus(store, config);
  const reader = consensus?.reader ?? new OracleReportReader(store);
  return {
    async submitVote(body) {
      if (consensus === null)
        throw new PoolkeeperError(
          ADAPTER_ERRORS.ORACLE_NOT_CONFIGURED,
          "no oracle member is configured (ORACLE_MEMBERS): votes are not taken",
        );
      const { report, ...vote } = body;
      return consensus.submitVote(vote, new Uint8Array(Buffer.from(report.slice(2), "hex")));
    },
    async reports(limit, before) {
      return (await reader.reports(limit, before)).map(toJson);
    },
    async report(refSlot) {
      return toJson(await reader.report(refSlot));
    },
  };
}
