import { Counter, Gauge, Registry } from "prom-client";

/** An operator daemon's Prometheus metrics, on their own registry. */
export class OperatorDaemonMetrics {
  readonly registry = new Registry();
  readonly keysUploaded = new Counter({
    name: "poolkeeper_daemon_keys_uploaded_total",
    help: "Keys this daemon uploaded (or found uploaded after a lost answer)",
    registers: [this.registry],
  });
  readonly nextIndex = new Gauge({
    name: "poolkeeper_daemon_next_index",
    help: "The next EIP-2334 index the daemon will derive",
    registers: [this.registry],
  });
  readonly supply = new Gauge({
    name: "poolkeeper_daemon_supply_keys",
    help: "The operator's uploaded, not-yet-deposited keys (submitted + vetted)",
    registers: [this.registry],
  });
  readonly exits = new Counter({
    name: "poolkeeper_daemon_exits_total",
    help: "Exit requests by stage: requested, signed, submitted, completed, late, failed",
    labelNames: ["stage"],
    registers: [this.registry],
  });
  readonly errors = new Counter({
    name: "poolkeeper_daemon_errors_total",
    help: "Rounds that failed (retried), by part and code",
    labelNames: ["part", "code"],
    registers: [this.registry],
  });
}
