import { Counter, Gauge, Histogram, Registry } from "prom-client";

/** The watcher's Prometheus metrics, on their own registry (one per watcher instance). */
export class WatcherMetrics {
  readonly registry = new Registry();
  readonly finalizedEpoch = new Gauge({
    name: "poolkeeper_watcher_finalized_epoch",
    help: "Finalized epoch last read from the beacon nodes",
    registers: [this.registry],
  });
  readonly checkpointEpoch = new Gauge({
    name: "poolkeeper_watcher_checkpoint_epoch",
    help: "Last epoch up to which every epoch is processed",
    registers: [this.registry],
  });
  readonly lastProcessedEpoch = new Gauge({
    name: "poolkeeper_watcher_last_processed_epoch",
    help: "Highest epoch processed by this process",
    registers: [this.registry],
  });
  readonly epochSeconds = new Histogram({
    name: "poolkeeper_watcher_epoch_processing_seconds",
    help: "Time to process one epoch",
    buckets: [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120],
    registers: [this.registry],
  });
  readonly epochsProcessed = new Counter({
    name: "poolkeeper_watcher_epochs_processed_total",
    help: "Epochs processed (stored) by this process",
    registers: [this.registry],
  });
  readonly poolValidators = new Gauge({
    name: "poolkeeper_watcher_pool_validators",
    help: "Pool validators with duties in the last processed epoch",
    registers: [this.registry],
  });
  readonly missedAttestations = new Counter({
    name: "poolkeeper_watcher_missed_attestations_total",
    help: "Missed attestations of pool validators",
    labelNames: ["operator"],
    registers: [this.registry],
  });
  readonly missedProposals = new Counter({
    name: "poolkeeper_watcher_missed_proposals_total",
    help: "Missed or orphaned proposals of pool validators",
    labelNames: ["operator"],
    registers: [this.registry],
  });
  readonly operatorEffectiveness = new Gauge({
    name: "poolkeeper_watcher_operator_effectiveness",
    help: "Rated-style effectiveness per operator over a window (0..1)",
    labelNames: ["operator", "window"],
    registers: [this.registry],
  });
  readonly operatorCsmPerformance = new Gauge({
    name: "poolkeeper_watcher_operator_csm_performance",
    help: "Lido CSM duty-weighted performance per operator over a window (0..1)",
    labelNames: ["operator", "window"],
    registers: [this.registry],
  });
  readonly networkCsmPerformance = new Gauge({
    name: "poolkeeper_watcher_network_csm_performance",
    help: "The network's CSM duty-weighted performance over a window (0..1)",
    labelNames: ["window"],
    registers: [this.registry],
  });
  readonly beaconNodeUp = new Gauge({
    name: "poolkeeper_watcher_beacon_node_up",
    help: "1 when the beacon node answered its last request",
    labelNames: ["url"],
    registers: [this.registry],
  });
  readonly beaconNodeFinalizedEpoch = new Gauge({
    name: "poolkeeper_watcher_beacon_node_finalized_epoch",
    help: "Finalized epoch of each beacon node at its last health check",
    labelNames: ["url"],
    registers: [this.registry],
  });
  readonly alerts = new Counter({
    name: "poolkeeper_watcher_alerts_total",
    help: "Alerts stored",
    labelNames: ["kind"],
    registers: [this.registry],
  });
  readonly dependencyUp = new Gauge({
    name: "poolkeeper_watcher_dependency_up",
    help: "0 while an outage of the dependency (redis, postgres) is seen by this process, else 1",
    labelNames: ["dependency"],
    registers: [this.registry],
  });
  readonly webhookFailures = new Counter({
    name: "poolkeeper_watcher_webhook_failures_total",
    help: "Failed webhook delivery attempts",
    registers: [this.registry],
  });
}
