import { Counter, Gauge, Histogram, Registry } from "prom-client";

/** A guardian's Prometheus metrics, on their own registry. */
export class GuardianMetrics {
  readonly registry = new Registry();
  readonly headSlot = new Gauge({
    name: "poolkeeper_guardian_head_slot",
    help: "Head slot of the guardian's last check or heartbeat",
    registers: [this.registry],
  });
  readonly checkSeconds = new Histogram({
    name: "poolkeeper_guardian_check_seconds",
    help: "Time to check one batch's keys (finalized and head states, the deposit log)",
    buckets: [0.1, 0.5, 1, 2, 5, 10, 30, 60],
    registers: [this.registry],
  });
  readonly batches = new Counter({
    name: "poolkeeper_guardian_batches_total",
    help: "Batches checked, by outcome (signed, refused, not_clean)",
    labelNames: ["outcome"],
    registers: [this.registry],
  });
  readonly errors = new Counter({
    name: "poolkeeper_guardian_errors_total",
    help: "Rounds that failed (the guardian retries next round)",
    labelNames: ["code"],
    registers: [this.registry],
  });
}
