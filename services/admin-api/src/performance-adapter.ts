import {
  compareWithNetwork,
  type DutyCounts,
  type ScoreSet,
  scoreSet,
  windowEpochs,
} from "@poolkeeper/beacon";
import type { Duties, Scores, ValidatorEpoch } from "@poolkeeper/contract";
import { toHex0x, ValidationError } from "@poolkeeper/core";
import {
  failedProposalSlots,
  findWatchedValidator,
  lastWatcherEpoch,
  listWatcherAlerts,
  operatorPerformance,
  type PerformanceWindow,
  type Queryable,
  type ValidatorEpochHistoryRow,
  validatorEpochHistory,
  validatorWindowCounts,
  type WatchedValidator,
  watchedValidatorPubkeys,
  windowRange,
} from "@poolkeeper/store";
import type { Static } from "typebox";
import {
  HISTORY_BUCKETS,
  type PerformancePort,
  type ValidatorHistoryView,
  type WatchedValidatorView,
  type Window,
} from "./performance-port.js";

/** Longest epoch range of one validator history request (~44 days on mainnet). */
export const MAX_HISTORY_EPOCHS = 10_000;

export interface PerformanceTiming {
  /** The network name the watcher stores its rows under (Network.name). */
  name: string;
  secondsPerSlot: number;
  slotsPerEpoch: number;
}

export function scoresView(s: ScoreSet): Static<typeof Scores> {
  return {
    attester: s.rated.attester,
    proposer: s.rated.proposer,
    effectiveness: s.rated.effectiveness,
    participation: s.rated.participation,
    correctness: s.rated.correctness,
    inclusionDelayScore: s.rated.inclusionDelayScore,
    csmPerformance: s.csm,
  };
}

export function dutiesView(c: DutyCounts): Static<typeof Duties> {
  return {
    attestations: { assigned: c.attAssigned, included: c.attIncluded, missed: c.attAssigned - c.attIncluded },
    proposals: {
      assigned: c.proposalsAssigned,
      proposed: c.proposalsMade,
      missed: c.proposalsAssigned - c.proposalsMade,
    },
    sync: { assigned: c.syncAssigned, participated: c.syncIncluded, missed: c.syncAssigned - c.syncIncluded },
  };
}

function validatorView(v: WatchedValidator): WatchedValidatorView {
  return {
    pubkey: toHex0x(v.pubkey),
    index: v.validatorIndex,
    operatorId: v.operatorId,
    firstEpoch: v.firstEpoch,
    lastEpoch: v.lastEpoch,
    status: v.status,
  };
}

function epochView(
  e: ValidatorEpochHistoryRow,
  failed: Map<number, "missed" | "orphaned">,
): Static<typeof ValidatorEpoch> {
  const a = e.attestation;
  const slots = e.proposals.slots;
  // Slots not named by a missed-proposal alert were proposed; when the slots were not stored,
  // the counts still say how many of each.
  const proposals =
    slots.length === e.proposals.assigned
      ? slots.map((slot) => ({ slot, result: failed.get(slot) ?? ("proposed" as const) }))
      : [];
  return {
    epoch: e.epoch,
    attestation:
      a === null
        ? null
        : {
            slot: a.slot,
            included: a.included,
            missed: !a.included,
            inclusionDelay: a.included ? a.inclusionDelay : null,
            optimalInclusionDelay: a.included ? a.optimalDelay : null,
            sourceCorrect: a.sourceCorrect,
            targetCorrect: a.targetCorrect,
            headCorrect: a.headCorrect,
            rewardsGwei:
              a.rewardsGwei === null
                ? null
                : {
                    source: a.rewardsGwei.source.toString(),
                    target: a.rewardsGwei.target.toString(),
                    head: a.rewardsGwei.head.toString(),
                  },
          },
    proposals,
    sync:
      e.sync.assigned === 0
        ? null
        : {
            assigned: e.sync.assigned,
            participated: e.sync.included,
            missed: e.sync.assigned - e.sync.included,
          },
    balanceChangeGwei: e.balanceDeltaGwei === null ? null : e.balanceDeltaGwei.toString(),
    status: e.status,
    events: e.events,
  };
}

/** The performance routes over the watcher's tables of `timing.name`. */
export function performancePort(q: Queryable, timing: PerformanceTiming): PerformancePort {
  const network = timing.name;
  const epochsOf = (w: Window) => windowEpochs(w, timing.secondsPerSlot, timing.slotsPerEpoch);
  /** Per window length: the all-operators figures of the latest range asked for. */
  const windowCache = new Map<number, { key: string; result: Promise<PerformanceWindow> }>();

  return {
    async operators(window, operatorId) {
      const n = epochsOf(window);
      const range = await windowRange(q, network, n);
      let perf: PerformanceWindow;
      if (range === null) {
        perf = await operatorPerformance(q, network, n);
      } else {
        // A window's figures change only when an epoch in it is stored: the range and the number
        // of processed epochs identify them. Concurrent misses share one computation.
        const key = `${range.fromEpoch}:${range.toEpoch}:${range.processedEpochs}`;
        const cached = windowCache.get(n);
        if (cached !== undefined && cached.key === key) {
          perf = await cached.result;
        } else if (operatorId !== undefined) {
          perf = await operatorPerformance(q, network, n, { toEpoch: range.toEpoch, operatorId });
        } else {
          const result = operatorPerformance(q, network, n, { toEpoch: range.toEpoch });
          windowCache.set(n, { key, result });
          result.catch(() => {
            if (windowCache.get(n)?.result === result) windowCache.delete(n);
          });
          perf = await result;
        }
      }
      const net = scoreSet(perf.network);
      const ops =
        operatorId === undefined ? perf.operators : perf.operators.filter((o) => o.operatorId === operatorId);
      return {
        window,
        windowEpochs: n,
        range: perf.range,
        network: { scores: scoresView(net), duties: dutiesView(perf.network) },
        operators: ops.map((o) => {
          const c = compareWithNetwork(o.counts, perf.network);
          return {
            operatorId: o.operatorId,
            validators: o.validators,
            balanceChangeGwei: o.balanceDeltaGwei.toString(),
            scores: scoresView(c.subject),
            duties: dutiesView(o.counts),
            vsNetwork: { effectiveness: c.effectivenessDelta, csmPerformance: c.csmDelta },
          };
        }),
      };
    },

    async history(window, operatorId) {
      const n = epochsOf(window);
      const range = await windowRange(q, network, n);
      const bucketEpochs = Math.max(1, Math.ceil(n / HISTORY_BUCKETS));
      if (range === null) return { window, bucketEpochs, points: [] };
      const ends: number[] = [];
      for (let to = range.toEpoch; to >= range.fromEpoch && ends.length < HISTORY_BUCKETS; to -= bucketEpochs)
        ends.unshift(to);
      const buckets = await Promise.all(
        ends.map((to) =>
          operatorPerformance(q, network, bucketEpochs, {
            toEpoch: to,
            ...(operatorId !== undefined ? { operatorId } : {}),
          }),
        ),
      );
      return {
        window,
        bucketEpochs,
        points: buckets
          .filter((b) => b.range !== null && b.range.processedEpochs > 0)
          .map((b) => {
            const net = scoreSet(b.network);
            return {
              fromEpoch: b.range!.fromEpoch,
              toEpoch: b.range!.toEpoch,
              network: { effectiveness: net.rated.effectiveness, csmPerformance: net.csm },
              operators: b.operators.map((o) => {
                const s = scoreSet(o.counts);
                return {
                  operatorId: o.operatorId,
                  effectiveness: s.rated.effectiveness,
                  csmPerformance: s.csm,
                };
              }),
            };
          }),
      };
    },

    async findValidator(pubkey) {
      const v = await findWatchedValidator(q, network, { pubkey });
      return v === null ? null : validatorView(v);
    },

    async validatorHistory(pubkey, range): Promise<ValidatorHistoryView | null> {
      const v = await findWatchedValidator(q, network, { pubkey });
      if (v === null) return null;
      if (range.from !== undefined && range.to !== undefined && range.from > range.to) {
        throw new ValidationError("querystring.from", `must not be after to (${range.to})`);
      }
      if (
        range.from !== undefined &&
        range.to !== undefined &&
        range.to - range.from + 1 > MAX_HISTORY_EPOCHS
      ) {
        throw new ValidationError("querystring.to", `at most ${MAX_HISTORY_EPOCHS} epochs from from`);
      }
      const last = (await lastWatcherEpoch(q, network)) ?? v.firstEpoch;
      const lifeEnd = Math.min(last, v.lastEpoch ?? last);
      let to: number;
      let from: number;
      if (range.to !== undefined) {
        to = range.to;
        from = range.from ?? Math.max(0, to - epochsOf("1d") + 1);
      } else if (range.from !== undefined) {
        from = range.from;
        to = Math.max(from, Math.min(lifeEnd, from + MAX_HISTORY_EPOCHS - 1));
      } else {
        to = lifeEnd;
        from = Math.max(v.firstEpoch, to - epochsOf("1d") + 1);
      }
      const [hist, counts, failed] = await Promise.all([
        validatorEpochHistory(
          q,
          network,
          { validatorIndex: v.validatorIndex },
          {
            fromEpoch: from,
            toEpoch: to,
            limit: to - from + 1,
          },
        ),
        validatorWindowCounts(q, network, { validatorIndex: v.validatorIndex }, to - from + 1, to),
        failedProposalSlots(q, network, v.validatorIndex, from, to),
      ]);
      if (hist === null || counts === null) return null;
      return {
        validator: validatorView(v),
        range: { fromEpoch: from, toEpoch: to },
        totals: { scores: scoresView(scoreSet(counts.counts)), duties: dutiesView(counts.counts) },
        epochs: hist.epochs.map((e) => epochView(e, failed)),
      };
    },

    async alerts(f) {
      const rows = await listWatcherAlerts(q, network, {
        ...(f.operatorId !== undefined ? { operatorId: f.operatorId } : {}),
        ...(f.kind !== undefined ? { kind: f.kind } : {}),
        ...(f.since !== undefined ? { since: f.since } : {}),
        ...(f.before !== undefined ? { beforeId: f.before } : {}),
        limit: f.limit,
      });
      const pubkeys = await watchedValidatorPubkeys(
        q,
        network,
        rows.flatMap((r) => (r.validatorIndex === null ? [] : [r.validatorIndex])),
      );
      return rows.map((r) => {
        const pk = r.validatorIndex === null ? undefined : pubkeys.get(r.validatorIndex);
        return {
          id: r.id,
          kind: r.kind,
          operatorId: r.operatorId,
          validatorIndex: r.validatorIndex,
          validatorPubkey: pk === undefined ? null : `0x${pk}`,
          epoch: r.epoch,
          message: r.message,
          details: r.details,
          createdAt: r.createdAt.toISOString(),
          webhook: { state: r.webhookState, attempts: r.webhookAttempts },
        };
      });
    },
  };
}
