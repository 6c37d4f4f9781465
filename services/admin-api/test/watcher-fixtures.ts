import {
  type DutyCountsRow,
  type EpochRecord,
  insertWatcherAlert,
  type NewAlert,
  type Store,
  saveWatcherEpoch,
  type ValidatorEpochInput,
} from "@poolkeeper/store";

/**
 * A small watcher history written with the watcher's own repository functions (saveWatcherEpoch,
 * insertWatcherAlert), epochs 0..69, so that the routes' figures can be checked by hand:
 * - the network: every epoch 1000 attestations assigned, 990 included, correctness 0.9 each,
 *   inclusion delay 1; 32 proposals, 31 made; 16 sync slots, all done.
 * - operator A: validators 10 and 11. 10 is offline from epoch 65 (missed attestations, -12 gwei);
 *   11 has its block at slot 45 orphaned (epoch 5), misses its proposal at slot 243 (epoch 30) and
 *   proposes slot 501 (epoch 62). Balance +10
 *   per validator and epoch otherwise.
 * - operator B: validator 20. Wrong head in epochs 40..49 (+8 gwei), optimal inclusion delay 2
 *   from epoch 60 (+5 gwei), sync committee from epoch 66 (8 slots, 6 done); +10 otherwise.
 * Alerts: orphaned proposal (A, 45), missed proposal (A, 243), offline (A, validator 10, epoch 67), operator B
 * underperforming, one beacon node unreachable (no operator).
 */

export const EPOCHS = 70;
export const SLOTS_PER_EPOCH = 8;

/** 48 bytes, every byte the validator index: `0a0a…` for validator 10. */
export function pubkeyOf(index: number): Uint8Array {
  return new Uint8Array(48).fill(index);
}
export function pubkeyHex(index: number): string {
  return `0x${Buffer.from(pubkeyOf(index)).toString("hex")}`;
}

/** Counts of 32 ETH validators: each attestation duty weighs 1. */
const counts = (c: Partial<DutyCountsRow>): DutyCountsRow => ({
  attAssigned: 0,
  attIncluded: 0,
  attCorrectnessSum: 0,
  attDelayScoreSum: 0,
  attEffectivenessSum: 0,
  proposalsAssigned: 0,
  proposalsMade: 0,
  syncAssigned: 0,
  syncIncluded: 0,
  ...c,
  attWeightAssigned: c.attAssigned ?? 0,
  attWeightIncluded: c.attIncluded ?? 0,
});

const row = (
  v: Partial<ValidatorEpochInput> & { validatorIndex: number; operatorId: number },
): ValidatorEpochInput => ({
  attSlot: null,
  attIncluded: null,
  attDelay: null,
  attOptimalDelay: null,
  attFlags: null,
  rewardSourceGwei: null,
  rewardTargetGwei: null,
  rewardHeadGwei: null,
  proposalsAssigned: 0,
  proposalsMade: 0,
  proposalSlots: [],
  syncAssigned: 0,
  syncIncluded: 0,
  balanceDeltaGwei: null,
  status: null,
  events: [],
  ...v,
});

export function epochRecord(network: string, e: number, a: number, b: number): EpochRecord {
  const offline = e >= 65;
  const headWrong = e >= 40 && e <= 49;
  const late = e >= 60;
  const sync = e >= 66;
  const bCorr = headWrong ? 2 / 3 : 1;
  const bDelay = late ? 0.5 : 1;
  const exceptions: ValidatorEpochInput[] = [];
  if (offline) {
    exceptions.push(
      row({
        validatorIndex: 10,
        operatorId: a,
        attSlot: e * SLOTS_PER_EPOCH + 1,
        attIncluded: false,
        attFlags: 0,
        rewardSourceGwei: -5n,
        rewardTargetGwei: -9n,
        rewardHeadGwei: 0n,
        balanceDeltaGwei: -12n,
      }),
    );
  }
  const proposalSlot = e === 5 ? 45 : e === 30 ? 243 : e === 62 ? 501 : null;
  if (proposalSlot !== null) {
    exceptions.push(
      row({
        validatorIndex: 11,
        operatorId: a,
        attSlot: e * SLOTS_PER_EPOCH + 2,
        attIncluded: true,
        attDelay: 1,
        attOptimalDelay: 1,
        attFlags: 7,
        proposalsAssigned: 1,
        proposalsMade: e === 62 ? 1 : 0,
        proposalSlots: [proposalSlot],
        balanceDeltaGwei: 10n,
      }),
    );
  }
  if (headWrong || late) {
    exceptions.push(
      row({
        validatorIndex: 20,
        operatorId: b,
        attSlot: e * SLOTS_PER_EPOCH + 3,
        attIncluded: true,
        attDelay: late ? 2 : 1,
        attOptimalDelay: late ? 2 : 1,
        attFlags: headWrong ? 3 : 7,
        rewardSourceGwei: 3n,
        rewardTargetGwei: 5n,
        rewardHeadGwei: headWrong ? 0n : 2n,
        ...(sync ? { syncAssigned: 8, syncIncluded: 6 } : {}),
        balanceDeltaGwei: headWrong ? 8n : 5n,
      }),
    );
  }
  const alerts: NewAlert[] = [];
  if (e === 5) {
    alerts.push({
      kind: "missed_proposal",
      dedupKey: "missed_proposal:45",
      operatorId: a,
      validatorIndex: 11,
      epoch: 5,
      message: "validator 11 had its block orphaned at slot 45",
      details: { slot: 45, status: "orphaned" },
    });
  }
  if (e === 30) {
    alerts.push({
      kind: "missed_proposal",
      dedupKey: "missed_proposal:243",
      operatorId: a,
      validatorIndex: 11,
      epoch: 30,
      message: "validator 11 missed its proposal at slot 243",
      details: { slot: 243, status: "missed" },
    });
  }
  if (e === 67) {
    alerts.push({
      kind: "validator_offline",
      dedupKey: "validator_offline:10:65",
      operatorId: a,
      validatorIndex: 10,
      epoch: 67,
      message: "validator 10 missed 3 attestations in a row (epochs 65..67)",
      details: { fromEpoch: 65, toEpoch: 67 },
    });
  }
  const aIncluded = offline ? 1 : 2;
  return {
    network,
    epoch: e,
    networkCounts: counts({
      attAssigned: 1000,
      attIncluded: 990,
      attCorrectnessSum: 891,
      attDelayScoreSum: 990,
      attEffectivenessSum: 891,
      proposalsAssigned: 32,
      proposalsMade: 31,
      syncAssigned: 16,
      syncIncluded: 16,
    }),
    operators: [
      {
        operatorId: a,
        validators: 2,
        counts: counts({
          attAssigned: 2,
          attIncluded: aIncluded,
          attCorrectnessSum: aIncluded,
          attDelayScoreSum: aIncluded,
          attEffectivenessSum: aIncluded,
          proposalsAssigned: proposalSlot !== null ? 1 : 0,
          proposalsMade: e === 62 ? 1 : 0,
        }),
        balanceDeltaGwei: offline ? 10n - 12n : 20n,
      },
      {
        operatorId: b,
        validators: 1,
        counts: counts({
          attAssigned: 1,
          attIncluded: 1,
          attCorrectnessSum: bCorr,
          attDelayScoreSum: bDelay,
          attEffectivenessSum: bCorr * bDelay,
          ...(sync ? { syncAssigned: 8, syncIncluded: 6 } : {}),
        }),
        balanceDeltaGwei: headWrong ? 8n : late ? 5n : 10n,
      },
    ],
    poolValidators: 3,
    dutyIndices: [10, 11, 20],
    newValidators:
      e === 0
        ? [
            { validatorIndex: 10, pubkey: pubkeyOf(10), operatorId: a },
            { validatorIndex: 11, pubkey: pubkeyOf(11), operatorId: a },
            { validatorIndex: 20, pubkey: pubkeyOf(20), operatorId: b },
          ]
        : [],
    statuses: [],
    exceptions,
    alerts,
  };
}

/** Store epochs 0..69 for operators a and b, plus two alerts outside the epochs. */
export async function seedWatcher(store: Store, network: string, a: number, b: number): Promise<void> {
  for (let e = 0; e < EPOCHS; e++) {
    const r = await saveWatcherEpoch(store, epochRecord(network, e, a, b));
    if (!r.saved) throw new Error(`epoch ${e} not saved`);
  }
  await insertWatcherAlert(store, network, {
    kind: "operator_underperforming",
    dedupKey: `operator_underperforming:${b}:7`,
    operatorId: b,
    validatorIndex: null,
    epoch: 69,
    message: `operator ${b}: CSM performance below the network's`,
    details: { window: "1d" },
  });
  await insertWatcherAlert(store, network, {
    kind: "beacon_node_unreachable",
    dedupKey: "beacon_node_unreachable:http://127.0.0.1:1/:1",
    operatorId: null,
    validatorIndex: null,
    epoch: null,
    message: "beacon node http://127.0.0.1:1/ unreachable: ECONNREFUSED",
    details: { url: "http://127.0.0.1:1/" },
  });
}
