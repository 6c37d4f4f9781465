import { Counter, Gauge, Histogram, Registry } from "prom-client";

/** An oracle member's Prometheus metrics, on their own registry. */
export class OracleMemberMetrics {
  readonly registry = new Registry();
  readonly finalizedEpoch = new Gauge({
    name: "poolkeeper_oracle_finalized_epoch",
    help: "Finalized epoch last read from the beacon nodes",
    registers: [this.registry],
  });
  readonly lastVotedRefSlot = new Gauge({
    name: "poolkeeper_oracle_last_voted_ref_slot",
    help: "Ref slot of this member's last vote",
    registers: [this.registry],
  });
  readonly reportSeconds = new Histogram({
    name: "poolkeeper_oracle_report_build_seconds",
    help: "Time to build a report (keys, chain, vaults, hash)",
    buckets: [0.5, 1, 2, 5, 10, 30, 60, 120, 300],
    registers: [this.registry],
  });
  readonly votes = new Counter({
    name: "poolkeeper_oracle_votes_total",
    help: "Votes this member submitted, by the outcome the admin API gave",
    labelNames: ["outcome"],
    registers: [this.registry],
  });
  readonly errors = new Counter({
    name: "poolkeeper_oracle_errors_total",
    help: "Rounds that failed (the member retries next round)",
    labelNames: ["code"],
    registers: [this.registry],
  });
}
