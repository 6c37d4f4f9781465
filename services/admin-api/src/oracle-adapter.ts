import { defineErrorCodes, PoolkeeperError } from "@poolkeeper/core";
import { toJsonValue } from "@poolkeeper/ledger";
import {
  CONSENSUS_VERSION,
  frameContextToJson,
  framesWith,
  type OracleConfig,
  OracleConsensus,
  OracleFrameSource,
  OracleReportReader,
  type ReportView,
  staticOracleParameters,
} from "@poolkeeper/oracle";
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

function notConfigured(): never {
  throw new PoolkeeperError(
    ADAPTER_ERRORS.ORACLE_NOT_CONFIGURED,
    "no oracle member is configured (ORACLE_MEMBERS): votes are not taken",
  );
}

/**
 * The oracle routes over the store; votes and frames need `config` (null: refused with 503).
 * `pool`: the network the watcher's rows are keyed by, the pool's withdrawal credentials and the
 * network's genesis fork version (the deposit signature domain), 0x-hex.
 */
export function oraclePort(
  store: Store,
  config: OracleConfig | null,
  pool: { network: string; withdrawalCredentials: string; genesisForkVersion: string },
): OraclePort {
  const consensus = config === null ? null : new OracleConsensus(store, config, pool.network);
  const frames = config === null ? null : new OracleFrameSource(store, config, pool.network);
  const reader = consensus?.reader ?? new OracleReportReader(store);
  return {
    async identity() {
      return {
        network: pool.network,
        withdrawalCredentials: pool.withdrawalCredentials,
        genesisForkVersion: pool.genesisForkVersion,
      };
    },
    async setup() {
      if (config === null) notConfigured();
      // with governance: the members, quorum and frame the governance store holds now
      const p = config.parameters === undefined ? staticOracleParameters(config) : await config.parameters();
      return {
        consensusVersion: CONSENSUS_VERSION,
        members: p.members,
        quorum: p.quorum,
        frames: framesWith(config.frames, p),
        withdrawalCredentials: pool.withdrawalCredentials,
        genesisForkVersion: pool.genesisForkVersion,
      };
    },
    async frame(refSlot) {
      if (frames === null) notConfigured();
      return frameContextToJson(await frames.context(refSlot)) as never;
    },
    async frameKeys(refSlot, afterId, limit) {
      if (frames === null) notConfigured();
      return (await frames.keys(refSlot, afterId, limit)).map((k) => ({
        ...k,
        amountGwei: k.amountGwei.toString(),
      }));
    },
    async submitVote(body) {
      if (consensus === null) notConfigured();
      const { report, source, ...vote } = body;
      return consensus.submitVote(vote, new Uint8Array(Buffer.from(report.slice(2), "hex")), source ?? null);
    },
    async reports(limit, before) {
      return (await reader.reports(limit, before)).map(toJson);
    },
    async report(refSlot) {
      return toJson(await reader.report(refSlot));
    },
  };
}
